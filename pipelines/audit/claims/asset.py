"""The Dagster asset ``quality/claims``: judges the claims on the run's build file before publishing.

:func:`build_claims_asset` is the factory the definitions call (nothing is read at import time). The
asset depends on every mart the evidence queries read and is upstream of ``warehouse/published``, so
it always writes ``quality.claims`` (and the text contradictions of ``quality.paper_discrepancies``)
into the build file that is then published. It carries one non-blocking check per claim: a
contradicted claim is a finding about the paper, not a failed check; a check fails only when its
evidence query fails.
"""

# No `from __future__ import annotations`: Dagster inspects the context annotation at runtime.

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from pipelines.audit.claims.evaluation import ClaimResult, evaluate_claims, verdict_counts
from pipelines.audit.claims.outcome import CONTRADICTED, NOT_CHECKABLE, SUPPORTED
from pipelines.audit.claims.registry import REGISTRY_PATH, Registry, load_registry
from pipelines.audit.claims.report import Line, html_section, markdown_section
from pipelines.audit.claims.store import write_claims_table, write_text_discrepancies
from pipelines.lib.progress import progress
from pipelines.lib.text import cut

CLAIMS_KEY = dg.AssetKey(["quality", "claims"])
_MARKER = "<!-- kzkr:claims -->"


def mart_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(name.split("."))


def _metadata(r: ClaimResult) -> dict[str, Any]:
    return {
        "verdict": dg.MetadataValue.text(r.verdict),
        "coverage": dg.MetadataValue.text(r.coverage),
        "checkable_part": dg.MetadataValue.text(r.checkable_part),
        "flip_at": dg.MetadataValue.text(r.flip.text() if r.flip else "-"),
        "sensitive": dg.MetadataValue.bool(r.sensitive),
        "quote": dg.MetadataValue.text(r.quote),
        "section": dg.MetadataValue.text(r.section),
        "rule": dg.MetadataValue.text(r.rule),
        "stated": dg.MetadataValue.text(r.stated),
        "computed": dg.MetadataValue.text(r.computed),
        "evidence": dg.MetadataValue.text(r.evidence),
        "reason": dg.MetadataValue.text(r.reason),
        "cites": dg.MetadataValue.text(", ".join(r.cites) or "-"),
        "evidence_asset": dg.MetadataValue.text(r.asset),
    }


def _with_section(text: str, section: str, html_doc: bool) -> str:
    """``text`` with the claims section (replacing one added before)."""
    end = "</body></html>"
    if _MARKER in text:
        text = text[: text.index(_MARKER)] + (end + "\n" if html_doc else "")
    if html_doc:
        head, _, tail = text.rpartition(end)
        return f"{head}{_MARKER}{section}{end}{tail}" if head else text + _MARKER + section
    return text.rstrip("\n") + f"\n\n{_MARKER}\n{section}"


def _attach_to_reports(reports_dir: Path, run_id: str, lines: list[Line], reg: Registry) -> list[Path]:
    """Add the claims section to this run's data-quality report (and latest.*), if the gate wrote one."""
    written = []
    texts = reg.text_discrepancies
    for suffix, section in ((".md", markdown_section(lines, texts)), (".html", html_section(lines, texts))):
        path = reports_dir / f"quality-{run_id}{suffix}"
        if not path.exists():
            continue
        text = _with_section(path.read_text(encoding="utf-8"), section, suffix == ".html")
        for target in (path, reports_dir / f"latest{suffix}"):
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
        written.append(path)
    return written


def _specs(reg: Registry) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            name=c.check_name,
            asset=CLAIMS_KEY,
            description=f'{c.section}: "{cut(c.quote, 200, one_line=True)}" (rule {c.check.rule})',
            blocking=False,
            metadata={"quote": c.quote, "rule": c.check.rule, "evidence_asset": c.asset},
        )
        for c in reg.claims
    ]


def judge_build(settings: Any, run_id: str, reg: Registry) -> Iterator[Any]:
    """Evaluate the claims on the run's build file, write the tables and the report section, and
    yield the asset's materialization and one check result per claim."""
    build_db = Path(settings.build_db(run_id))
    if not build_db.exists():
        raise dg.Failure(description=f"the build file {build_db} does not exist (run the marts first)")
    with duckdb.connect(str(build_db)) as con:
        results = evaluate_claims(con, reg)
        write_claims_table(con, results)
        n_text = write_text_discrepancies(con, reg.text_discrepancies, run_id)
        con.execute("checkpoint")
    lines = sorted((Line.of(r) for r in results), key=lambda r: r.claim_id)
    reports = _attach_to_reports(Path(settings.reports_dir), run_id, lines, reg)
    counts = verdict_counts(results)
    progress(
        f"  claims   {len(results)} claims: {counts[SUPPORTED]} supported, {counts[CONTRADICTED]} "
        f"contradicted, {counts[NOT_CHECKABLE]} not checkable; {sum(r.sensitive for r in results)} "
        f"sensitive; {n_text} text contradictions"
    )
    yield dg.MaterializeResult(
        metadata={
            "claims": dg.MetadataValue.int(len(results)),
            **{k: dg.MetadataValue.int(v) for k, v in counts.items()},
            "sensitive": dg.MetadataValue.json([r.claim_id for r in results if r.sensitive]),
            "text_contradictions": dg.MetadataValue.int(n_text),
            **({"report": dg.MetadataValue.path(str(reports[0]))} if reports else {}),
        }
    )
    for r in results:
        yield dg.AssetCheckResult(
            asset_key=CLAIMS_KEY,
            check_name=f"claim_{r.claim_id}",
            passed=r.passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=cut(
                f"{r.verdict} ({r.coverage}: {r.checkable_part}): {r.reason}", 1000, one_line=True
            ),
            metadata=_metadata(r),
        )


def build_claims_asset(registry: Registry | Path | None = None) -> dg.AssetsDefinition:
    """The asset ``quality/claims`` with one check per claim of ``registry`` (default: the project's)."""
    reg = registry if isinstance(registry, Registry) else load_registry(registry or REGISTRY_PATH)

    @dg.asset(
        key=CLAIMS_KEY,
        group_name="audit",
        deps=[mart_key(m) for m in reg.marts],
        check_specs=_specs(reg),
        required_resource_keys={"warehouse"},
        kinds={"duckdb"},
        description="Judges each quantitative claim of the paper's prose (expectations/claims.yml) against "
        "this run's build file and writes quality.claims (verdict, coverage, checkable part, flip point) "
        "and the text contradictions of quality.paper_discrepancies (rule = 'text'). Verdicts are findings: "
        "the checks are non-blocking and fail only when a claim's evidence cannot be evaluated.",
    )
    def claims(context: dg.AssetExecutionContext) -> Iterator[Any]:
        context.resources.warehouse.build_file(context)  # a partial run's starts from the published build
        yield from judge_build(context.resources.warehouse.settings(), context.run.run_id, reg)

    return claims
