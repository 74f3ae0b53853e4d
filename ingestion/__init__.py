"""amoCRM into the warehouse, by concern:

- `ingestion.amocrm`: the connector — the dlt source for amoCRM API v4, its HTTP client, rate
  limiter, OAuth2 and the raw contract. Knows nothing of the demo or the pipeline.
- `ingestion.demo`: the embedded demo amoCRM (generator, API server, faults, token endpoint).
- `ingestion.pipeline`: orchestration — ingest, dbt, Great Expectations, publishing, locks.
- `ingestion.cli`: the `amokpi` command line.
"""
