"""Several dbt commands in one dbt process: `python -m ingestion.pipeline.dbt_session '<json>'`.

Every `dbt` command line imports dbt, loads the profile and the project and reads the manifest before it runs
anything: 7-9 s of a small machine's CPU, which `amokpi run` paid twice back to back (source freshness, then
build). Here dbt's programmatic API (dbtRunner) parses once (writing target/manifest.json, as the command
line does) and runs each command on that manifest. The argument is a JSON object:
`{"common": [flags every command takes], "commands": [[command and its own flags], ...], "may_fail": [indexes]}`.
Exit code: 0 when every command not in `may_fail` passed (source freshness reports a stale source by failing:
a result, not an error), 1 when one failed (a test, a model), 2 when dbt could not run at all."""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    plan = json.loads(argv[0])
    parsed = dbtRunner().invoke(["parse", *plan["common"]])
    if not parsed.success:
        print(f"dbt parse failed: {parsed.exception}", file=sys.stderr)
        return 2
    runner = dbtRunner(manifest=parsed.result)
    code = 0
    for index, command in enumerate(plan["commands"]):
        result = runner.invoke([*command, *plan["common"]])
        if result.exception is not None:
            print(f"dbt {' '.join(command)}: {result.exception}", file=sys.stderr)
        if not result.success and index not in plan.get("may_fail", []):
            code = max(code, 2 if result.exception is not None else 1)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
