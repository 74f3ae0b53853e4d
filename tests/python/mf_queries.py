"""Run several MetricFlow queries in one process, as `mf query` does each (dbt-metricflow's CLI configuration:
the dbt project and profile, the semantic manifest in <project>/target, MetricFlow's engine on dbt's adapter),
paying MetricFlow's few seconds of start-up once. Usage: python mf_queries.py PROJECT_DIR QUERIES.json OUT.json,
QUERIES being {name: {"saved_query_name": ...} or {"metric_names": [...], "group_by_names": [...]}}; OUT gets
{name: {"columns": [...], "rows": [[...], ...]}} (dates as ISO text)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(project: Path, queries: Path, out: Path) -> None:
    from dbt_metricflow.cli.cli_configuration import CLIConfiguration
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    config = CLIConfiguration()
    config.setup(dbt_project_path=project, configure_file_logging=False)
    answers = {}
    for name, request in json.loads(queries.read_text()).items():
        table = config.mf.query(MetricFlowQueryRequest.create(**request)).result_df
        assert table is not None, name
        answers[name] = {"columns": list(table.column_names), "rows": [list(row) for row in table.rows]}
    out.write_text(json.dumps(answers, default=str))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
