"""What the pipeline and the report share without depending on each other: where things live
(`amokpi.settings`)."""
