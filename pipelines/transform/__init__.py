"""Stage 2, transform: the dbt project as Dagster sees it."""
