"""The paper's quantitative claims, judged against the warehouse (``expectations/claims.yml``).

- :mod:`.registry` loads and validates the registry (claims, skipped passages, text contradictions);
- :mod:`.tolerances` the tolerances fixed in advance, and where a verdict would flip;
- :mod:`.rules` (with :mod:`.trend` and :mod:`.pairs`) the verdict rules;
- :mod:`.evaluation` evaluates the claims, with their coverage; :mod:`.store` writes ``quality.claims``;
- :mod:`.report` prints them for ``kzkr report`` and renders the report section;
- :mod:`.asset` is the Dagster asset ``quality/claims`` (factory :func:`build_claims_asset`).

Importing this package reads nothing: the registry is read when first used.
"""

from pipelines.audit.claims.evaluation import ClaimResult, evaluate_claim, evaluate_claims, verdict_counts
from pipelines.audit.claims.outcome import CONTRADICTED, NOT_CHECKABLE, SUPPORTED, VERDICTS, Outcome
from pipelines.audit.claims.registry import (
    COVERAGES,
    REGISTRY_PATH,
    Registry,
    RegistryError,
    default_registry,
    load_registry,
)
from pipelines.audit.claims.report import claims_counts, claims_summary_line, print_claims
from pipelines.audit.claims.store import write_claims_table, write_text_discrepancies

__all__ = [
    "CONTRADICTED",
    "COVERAGES",
    "NOT_CHECKABLE",
    "REGISTRY_PATH",
    "SUPPORTED",
    "VERDICTS",
    "ClaimResult",
    "Outcome",
    "Registry",
    "RegistryError",
    "claims_counts",
    "claims_summary_line",
    "default_registry",
    "evaluate_claim",
    "evaluate_claims",
    "load_registry",
    "print_claims",
    "verdict_counts",
    "write_claims_table",
    "write_text_discrepancies",
]
