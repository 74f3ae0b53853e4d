"""Several dbt commands in one dbt process: `python -m ingestion.pipeline.dbt_session '<json>'`.

Every `dbt` command line imports dbt, loads the profile and the project and reads the manifest before it runs
anything: 7-9 s of a small machine's CPU, which `amokpi run` paid twice back to back (source freshness, then
build). Here dbt's programmatic API (dbtRunner) parses once (writing target/manifest.json, as the command
line does) and runs each command on that manifest. The argument is a JSON object:
`{"common": [flags every command takes], "commands": [[command and its own flags], ...], "gate": true|false}`.
The exit code is the last command's: 0 passed, 1 failed (a test, a model), 2 dbt could not run. The commands
before it only leave their results (source freshness reports a stale source by failing: a result, not an error).

With `"gate": true` the session parses quietly, then waits for a line on its standard input: `go` runs the
commands, anything else (or the end of the input) ends it with exit 3 and nothing run. Parsing reads the project
and writes the target folder, never the warehouse, so `amokpi run` starts dbt this way before it validates the
raw data: dbt's imports and parse (~4 s of one core) run beside GX's on the other core."""

from __future__ import annotations

import json
import sys

NOT_RUN = 3  # gated, and told not to run (or its caller went away)


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    plan = json.loads(argv[0])
    gated = bool(plan.get("gate"))
    # gated: quiet (errors only), so nothing is printed among the lines of the step that runs meanwhile
    parsed = dbtRunner().invoke(["parse", *plan["common"], *(["--quiet"] if gated else [])])
    if not parsed.success:
        print(f"dbt parse failed: {parsed.exception}", file=sys.stderr)
        return 2
    if gated and sys.stdin.readline().strip() != "go":
        return NOT_RUN
    runner = dbtRunner(manifest=parsed.result)
    for command in plan["commands"]:
        result = runner.invoke([*command, *plan["common"]])
        if result.exception is not None:
            print(f"dbt {' '.join(command)}: {result.exception}", file=sys.stderr)
    return 0 if result.success else 2 if result.exception is not None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
