"""kzkr-warehouse: Dagster code location, ingest, checks and CLI."""
