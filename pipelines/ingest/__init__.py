"""Stage 1, ingest: raw/ files validated and loaded into the build file (raw.* tables)."""
