"""The embedded demo amoCRM: a generated account (`account`), served over real HTTP as amoCRM
serves it (`api`), with the faults a live account produces (`faults`) and amoCRM's OAuth2 token
endpoint (`oauth`). A test instrument: it must behave like documented amoCRM
(docs/demo_api.md); nothing in the connector or the pipeline imports it."""
