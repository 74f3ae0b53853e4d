"""Orchestration: ingest (the dlt source into DuckDB), dbt build, Great Expectations, the quality
gate and publishing (`runner`, `publish`), and what keeps unattended runs safe: locks, the
warehouse preflight, child processes that end with their parent."""
