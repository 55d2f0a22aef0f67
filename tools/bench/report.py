"""The benchmark's figures as Markdown tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tools.bench.phases import (
    PHASES,
    TARGET_DBT_RATIO,
    TARGET_NOOP_RATIO,
    TARGET_PEAK_BYTES,
    fit_line,
    marginal_slopes,
    ratio,
)


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "–"
    if s < 10:
        return f"{s:.2f} s"
    if s < 600:
        return f"{s:.1f} s"
    return f"{s / 60:.1f} min"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "–"
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}" if unit == "GB" else f"{n / size:.0f} {unit}"
    return f"{n:.0f} B"


def fmt_rows(n: float) -> str:
    """Thousands separated by thin commas: 10000000 → ``10,000,000``."""
    return f"{round(n):,}"


def fmt_ratio(r: float | None) -> str:
    return "–" if r is None else f"{r:.2f}×"


def fmt_pct(r: float | None) -> str:
    return "–" if r is None else f"{100 * r:.1f} %"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str = "") -> str:
    """A GitHub Markdown table. ``align``: one letter per column, ``l`` or ``r`` (default ``l``)."""
    body = [[str(c) for c in r] for r in rows]
    cols = len(headers)
    if any(len(r) != cols for r in body):
        raise ValueError("every row needs one cell per header")
    align = (align or "l" * cols).ljust(cols, "l")
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    widths = [max(w, 3) for w in widths]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(cells, widths, align, strict=True)
            )
            + " |"
        )

    sep = "|" + "|".join(
        ("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2)) for w, a in zip(widths, align, strict=True)
    )
    return "\n".join([line(list(headers)), sep + "|", *(line(r) for r in body)])


def verdict(value: float | None, target: float, *, lower_is_better: bool = True) -> str:
    if value is None:
        return "?"
    ok = value <= target if lower_is_better else value >= target
    return "meets target" if ok else "MISSES target"


def report(results: Mapping[str, Any]) -> str:
    """The Markdown report of a benchmark's results (as :func:`main` collects them)."""
    parts: list[str] = []
    m = results["machine"]
    parts.append(
        markdown_table(
            ["machine", ""],
            [
                ["cores", m["cores"]],
                ["memory", m["memory"]],
                ["OS", m["os"]],
                ["Python", m["python"]],
                ["DuckDB", m["duckdb"]],
                ["dbt-core / dbt-duckdb", f"{m['dbt-core']} / {m['dbt-duckdb']}"],
                ["Dagster / dagster-dbt", f"{m['dagster']} / {m['dagster-dbt']}"],
            ],
        )
    )
    full_sec = results.get("full")
    if full_sec:
        full, plain = full_sec["full"], full_sec["plain"]
        total = full["wall"]
        rows = [
            [
                name,
                desc,
                fmt_seconds(full["phases"].get(name, 0.0)),
                fmt_pct(ratio(full["phases"].get(name, 0.0), total)),
            ]
            for name, desc in PHASES
        ]
        rows.append(
            [
                "**total**",
                f"`kzkr build --force`, {fmt_rows(full['rows'])} trade rows"
                + ("" if full["published"] else " — the build FAILED"),
                f"**{fmt_seconds(total)}**",
                "100 %",
            ]
        )
        parts.append(
            "### Full build, by step\n\n" + markdown_table(["phase", "what", "time", "share"], rows, "llrr")
        )
        if full.get("dbt_elapsed") is not None:
            parts.append(
                f"Inside the dbt step, dbt's own node execution (run_results.json `elapsed_time`) took "
                f"{fmt_seconds(full['dbt_elapsed'])}; the rest of the step is dbt's start-up and parse and "
                "dagster-dbt's event handling."
            )
        r_dbt = ratio(total, plain["dbt_wall"])
        r_pipe = ratio(total, plain["dbt_wall"] + plain["ingest_wall"])
        noop = full_sec["noop"]
        r_noop = ratio(noop["wall"], total)
        cmp_rows = [
            [
                "plain `dbt build` (warm partial parse)",
                fmt_seconds(plain["dbt_wall"]),
                fmt_ratio(r_dbt),
                f"≤ {TARGET_DBT_RATIO:g}×: {verdict(r_dbt, TARGET_DBT_RATIO)}",
            ],
            [
                "plain ingest + plain `dbt build`",
                fmt_seconds(plain["ingest_wall"] + plain["dbt_wall"]),
                fmt_ratio(r_pipe),
                "",
            ],
            [
                "no-op `kzkr build` (nothing changed)",
                fmt_seconds(noop["wall"]),
                fmt_pct(r_noop),
                f"≤ {TARGET_NOOP_RATIO:.0%}: {verdict(r_noop, TARGET_NOOP_RATIO)}"
                + ("" if noop["skipped"] else " — but it did NOT skip"),
            ],
            [
                "`kzkr build --force` again",
                fmt_seconds(full_sec["forced"]["wall"]),
                fmt_ratio(ratio(full_sec["forced"]["wall"], total)),
                "rebuilt and published" if full_sec["force_rebuilt"] else "did NOT rebuild",
            ],
        ]
        if plain.get("dbt_elapsed") is not None:
            cmp_rows.insert(1, ["  of which dbt node execution", fmt_seconds(plain["dbt_elapsed"]), "", ""])
        if plain.get("cold_wall"):
            cmp_rows.insert(
                2,
                [
                    "plain `dbt build`, cold (full parse: fresh clone, CI)",
                    fmt_seconds(plain["cold_wall"]),
                    fmt_ratio(ratio(total, plain["cold_wall"])),
                    "",
                ],
            )
        parts.append(
            "### Compared with plain dbt, and a no-op rebuild\n\n"
            + markdown_table(
                ["run", "time", "full build ÷ run (no-op: run ÷ full build)", "target"], cmp_rows, "lrrl"
            )
        )
    scales = results.get("scales") or []
    if scales:
        rows = []
        main_phases = ("validate", "ingest", "dbt", "checks")
        for s in scales:
            ph = s["phases"]
            rest = sum(v for k, v in ph.items() if k not in main_phases)
            rows.append(
                [
                    fmt_rows(s["rows"]),
                    fmt_bytes(s["csv_bytes"]),
                    fmt_seconds(s["wall"]) + ("" if s["published"] else " (failed)"),
                    fmt_rows(s["rows"] / s["wall"]) if s["wall"] > 0 else "–",
                    fmt_bytes(s["peak_rss"]),
                    *(fmt_seconds(ph.get(k, 0.0)) for k in main_phases),
                    fmt_seconds(rest),
                    fmt_seconds(s["noop_wall"]),
                    fmt_seconds(s["synth_seconds"]),
                ]
            )
        parts.append(
            "### Scale (synthetic trade rows, `kzkr build --force`)\n\n"
            + markdown_table(
                [
                    "trade rows",
                    "CSV",
                    "build",
                    "rows/s",
                    "peak RSS",
                    "validate",
                    "ingest",
                    "dbt",
                    "checks",
                    "other",
                    "no-op",
                    "synth",
                ],
                rows,
                "r" * 12,
            )
            + "\n\n*other*: start-up, definitions, planning, publish, summary; *no-op*: `kzkr build` "
            "right after; *synth*: writing the synthetic raw directory (not part of the build)."
        )
        ok = [s for s in scales if s["published"]]
        notes = []
        if len(ok) >= 2:
            fit = fit_line([s["rows"] for s in ok], [s["wall"] for s in ok])
            marg = marginal_slopes([s["rows"] for s in ok], [s["wall"] for s in ok])
            notes.append(
                f"Least-squares line: time ≈ {fit.intercept:.1f} s + {fit.slope * 1e6:.2f} s "
                "per million rows "
                f"(R² = {fit.r2:.4f}); between consecutive scales: "
                + ", ".join(f"{m * 1e6:.2f} s per million rows" for m in marg)
                + "."
            )
        biggest = max(scales, key=lambda s: s["rows"])
        notes.append(
            f"Peak RSS at {fmt_rows(biggest['rows'])} rows: {fmt_bytes(biggest['peak_rss'])} "
            + (f"(during {biggest['peak_phase']}) " if biggest.get("peak_phase") else "")
            + f"(target < {fmt_bytes(TARGET_PEAK_BYTES)}: {verdict(biggest['peak_rss'], TARGET_PEAK_BYTES)})."
        )
        parts.append(" ".join(notes))
    return "\n\n".join(parts)
