"""Quality checks on the marts (Great Expectations suites run as Dagster asset checks).

Filled in by the quality-gate work; until then the only checks are dbt's tests.
"""

from __future__ import annotations

import dagster as dg

QUALITY_CHECKS: list[dg.AssetChecksDefinition] = []
