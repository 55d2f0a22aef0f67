"""The benchmark's figures as Markdown tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tools.bench.phases import (
    PHASES,
    TARGET_DBT_RATIO,
    TARGET_INCREMENTAL,
    TARGET_NOOP_RATIO,
    TARGET_PEAK_BYTES,
    TARGET_ROWS_PER_SECOND,
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
    """The Markdown report of a benchmark's results (as :func:`tools.bench.__main__.main` collects them)."""
    parts = [machine_table(results["machine"])]
    if results.get("full"):
        parts += full_build_tables(results["full"])
    if results.get("scales"):
        parts += scale_tables(results["scales"])
    return "\n\n".join(parts)


def machine_table(m: Mapping[str, str]) -> str:
    return markdown_table(
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


def median_build(full_sec: Mapping[str, Any]) -> Mapping[str, Any]:
    """The build of median wall time among the rounds (the first build when there is one)."""
    builds = sorted(full_sec.get("builds") or [full_sec["full"]], key=lambda b: b["wall"])
    return builds[(len(builds) - 1) // 2]


def breakdown_table(build: Mapping[str, Any]) -> str:
    total = build["wall"]
    rows = [
        [
            name,
            desc,
            fmt_seconds(build["phases"].get(name, 0.0)),
            fmt_pct(ratio(build["phases"].get(name, 0.0), total)),
        ]
        for name, desc in PHASES
    ]
    failed = "" if build["published"] else " — the build FAILED"
    what = f"`kzkr build --force`, {fmt_rows(build['rows'])} trade rows{failed}"
    rows.append(["**total**", what, f"**{fmt_seconds(total)}**", "100 %"])
    text = f"### Full build, by step ({build['label']})\n\n" + markdown_table(
        ["phase", "what", "time", "share"], rows, "llrr"
    )
    if build.get("dbt_elapsed") is not None:
        text += (
            f"\n\nInside the dbt step, dbt's own node execution (run_results.json `elapsed_time`) took "
            f"{fmt_seconds(build['dbt_elapsed'])}; the rest of the step is dbt's start-up and parse and "
            "dagster-dbt's event handling."
        )
    return text


def _median(values: Sequence[float | None]) -> float | None:
    known = sorted(v for v in values if v is not None)
    if not known:
        return None
    mid = len(known) // 2
    return known[mid] if len(known) % 2 else (known[mid - 1] + known[mid]) / 2


def pair_table(full_sec: Mapping[str, Any]) -> str:
    """Each round's ``kzkr build --force`` against the warm plain ``dbt build`` right after it."""
    plain = full_sec["plain"]
    builds = full_sec.get("builds") or [full_sec["full"]]
    rows, wall_ratios, cpu_ratios = [], [], []
    for i, b in enumerate(builds):
        warm_walls, warm_cpus = plain.get("warm_wall") or [], plain.get("warm_cpu") or []
        dw = warm_walls[i] if i < len(warm_walls) else None
        dc = warm_cpus[i] if i < len(warm_cpus) else None
        rw, rc = ratio(b["wall"], dw or 0.0), ratio(b.get("cpu") or 0.0, dc or 0.0)
        wall_ratios.append(rw)
        cpu_ratios.append(rc)
        walls = [fmt_seconds(b["wall"]), fmt_seconds(dw), fmt_ratio(rw)]
        rows.append([str(i + 1), *walls, fmt_seconds(b.get("cpu")), fmt_seconds(dc), fmt_ratio(rc)])
    mw, mc = _median(wall_ratios), _median(cpu_ratios)
    target = f"≤ {TARGET_DBT_RATIO:g}×"
    rows.append(["**median**", "", "", f"**{fmt_ratio(mw)}**", "", "", f"**{fmt_ratio(mc)}**"])
    rows.append(
        [
            "target",
            "",
            "",
            f"{target}: {verdict(mw, TARGET_DBT_RATIO)}",
            "",
            "",
            verdict(mc, TARGET_DBT_RATIO),
        ]
    )
    head = [
        "round",
        "`kzkr build --force`",
        "plain `dbt build`",
        "ratio",
        "build CPU",
        "dbt CPU",
        "CPU ratio",
    ]
    return (
        "### A build against plain dbt (pairs, alternating)\n\n"
        + markdown_table(head, rows, "lrrrrrr")
        + "\n\nplain `dbt build`: the same project on a copy of a database holding only the raw schema, "
        "warm (dbt's partial parse), right after each build. CPU: user + system seconds of the whole "
        "process tree (dbt included)."
    )


def other_runs_table(full_sec: Mapping[str, Any]) -> str:
    plain, noop = full_sec["plain"], full_sec["noop"]
    typical = median_build(full_sec)["wall"]
    warm = _median(plain.get("warm_wall") or [])
    r_noop = ratio(noop["wall"], typical)
    rows = [
        [
            "plain `dbt build`, cold (full parse: fresh clone, CI)",
            fmt_seconds(plain.get("cold_wall")),
            "",
            "",
        ],
        ["plain ingest", fmt_seconds(plain.get("ingest_wall")), "", ""],
        [
            "plain ingest + warm plain `dbt build`",
            fmt_seconds((plain.get("ingest_wall") or 0.0) + (warm or 0.0)),
            fmt_ratio(ratio(typical, (plain.get("ingest_wall") or 0.0) + (warm or 0.0))),
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
            "`kzkr build --force` each round",
            "",
            "",
            "rebuilt and published" if full_sec["force_rebuilt"] else "did NOT rebuild",
        ],
    ]
    if plain.get("dbt_elapsed") is not None:
        label = "plain `dbt build`, warm: dbt node execution (last run)"
        rows.insert(1, [label, fmt_seconds(plain["dbt_elapsed"]), "", ""])
    return "### Other runs\n\n" + markdown_table(
        ["run", "time", "median build ÷ run (no-op: run ÷ median build)", "target"], rows, "lrrl"
    )


def full_build_tables(full_sec: Mapping[str, Any]) -> list[str]:
    return [breakdown_table(median_build(full_sec)), pair_table(full_sec), other_runs_table(full_sec)]


SCALE_PHASES = ("validate", "ingest", "dbt", "checks")


def scale_tables(scales: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = []
    for s in scales:
        ph = s["phases"]
        rest = sum(v for k, v in ph.items() if k not in SCALE_PHASES)
        rows.append(
            [
                fmt_rows(s["rows"]),
                fmt_bytes(s["csv_bytes"]),
                fmt_seconds(s["wall"]) + ("" if s["published"] else " (failed)"),
                fmt_rows(s["rows"] / s["wall"]) if s["wall"] > 0 else "–",
                fmt_bytes(s["peak_rss"]),
                *(fmt_seconds(ph.get(k, 0.0)) for k in SCALE_PHASES),
                fmt_seconds(rest),
                fmt_seconds(s["noop_wall"]),
                fmt_seconds(s["synth_seconds"]),
            ]
        )
    head = ["trade rows", "CSV", "build", "rows/s", "peak RSS", *SCALE_PHASES, "other", "no-op", "synth"]
    table = (
        "### Scale (synthetic trade rows, `kzkr build --force`)\n\n"
        + markdown_table(head, rows, "r" * len(head))
        + "\n\n*other*: start-up, definitions, planning, publish, summary; *no-op*: `kzkr build` "
        "right after; *synth*: writing the synthetic raw directory (not part of the build)."
    )
    return [table, scale_notes(scales), *add_release_notes(scales)]


def add_release_notes(scales: Sequence[Mapping[str, Any]]) -> list[str]:
    """The new-release rebuild at the largest scale, against that scale's full build."""
    out = []
    for s in scales:
        add = s.get("add_release")
        if not add:
            continue
        ratio = add["wall"] / s["wall"] if s["wall"] > 0 else None
        ph = add["phases"]
        out.append(
            f"**A new release on top of {fmt_rows(s['rows'])} rows** (`{add['release_file']}` added to a "
            f"warehouse published without it, then `kzkr build`): {fmt_seconds(add['wall'])}"
            + ("" if add["published"] else " (failed)")
            + f" against the full build's {fmt_seconds(s['wall'])} = **{fmt_pct(ratio)}** "
            f"(target ≤ {fmt_pct(TARGET_INCREMENTAL)}: {verdict(ratio, TARGET_INCREMENTAL)}); "
            f"{add['files_copied']} release files copied from the published build; "
            + ", ".join(f"{k} {fmt_seconds(ph.get(k, 0.0))}" for k in SCALE_PHASES)
            + f"; peak RSS {fmt_bytes(add['peak_rss'])}."
        )
    return out


def scale_notes(scales: Sequence[Mapping[str, Any]]) -> str:
    ok = [s for s in scales if s["published"]]
    notes = []
    if len(ok) >= 2:
        xs, ys = [s["rows"] for s in ok], [s["wall"] for s in ok]
        fit, marg = fit_line(xs, ys), marginal_slopes(xs, ys)
        notes.append(
            f"Least-squares line: time ≈ {fit.intercept:.1f} s + {fit.slope * 1e6:.2f} s per million rows "
            f"(R² = {fit.r2:.4f}); between consecutive scales: "
            + ", ".join(f"{m * 1e6:.2f} s per million rows" for m in marg)
            + "."
        )
    big = max(scales, key=lambda s: s["rows"])
    rate = big["rows"] / big["wall"] if big["wall"] > 0 else None
    rate_verdict = verdict(rate, TARGET_ROWS_PER_SECOND, lower_is_better=False)
    notes.append(
        f"At {fmt_rows(big['rows'])} rows: {fmt_rows(rate or 0)} rows/s "
        f"(target ≥ {fmt_rows(TARGET_ROWS_PER_SECOND)}: {rate_verdict}); "
        f"peak RSS {fmt_bytes(big['peak_rss'])} "
        + (f"(during {big['peak_phase']}) " if big.get("peak_phase") else "")
        + f"(target < {fmt_bytes(TARGET_PEAK_BYTES)}: {verdict(big['peak_rss'], TARGET_PEAK_BYTES)})."
    )
    return " ".join(notes)
