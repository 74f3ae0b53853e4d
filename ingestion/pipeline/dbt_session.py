"""Several dbt commands in one dbt process: `python -m ingestion.pipeline.dbt_session '<json>'`.

Every `dbt` command line imports dbt, loads the profile and the project and reads the manifest before it runs
anything: 7-9 s of a small machine's CPU, which `amokpi run` paid twice back to back (source freshness, then
build). Here dbt's programmatic API (dbtRunner) parses once (writing target/manifest.json, as the command
line does) and runs each command on that manifest. The argument is a JSON object:
`{"common": [flags every command takes], "commands": [[command and its own flags], ...]}`. The exit code is the
last command's: 0 passed, 1 failed (a test, a model), 2 dbt could not run. The commands before it only leave
their results (source freshness reports a stale source by failing: a result, not an error)."""

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
    for command in plan["commands"]:
        result = runner.invoke([*command, *plan["common"]])
        if result.exception is not None:
            print(f"dbt {' '.join(command)}: {result.exception}", file=sys.stderr)
    return 0 if result.success else 2 if result.exception is not None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
