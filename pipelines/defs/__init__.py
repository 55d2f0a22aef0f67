"""Dagster objects per stage, each area built by a cached factory ``defs()`` that
:mod:`pipelines.definitions` composes. Importing these modules builds nothing."""
