"""The `amokpi` command line (`main`)."""

from ingestion.cli.main import main

__all__ = ["main"]
