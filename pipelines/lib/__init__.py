"""Dagster-free helpers shared by every stage: number formatting, Markdown escaping, build
progress lines, tree hashing, DuckDB connections."""
