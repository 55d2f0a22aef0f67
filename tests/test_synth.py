"""The synthetic raw directory (``make synth``, tools/synth.py) and the benchmark's pure functions (``make bench``).

Synthetic output at small scales must pass the real ingest validation, have exactly the requested
number of trade rows, unique keys, ``turnover = exports + imports`` to the last digit, plausible
shares, and only partner names the dbt seed knows. No timing is asserted anywhere here.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from pipelines.ingest import sdmx
from pipelines.ingest.specs import RAW_FILES, TRADE, RawFile
from pipelines.ingest.validate import (
    RawInputError,
    connect,
    known_partner_names,
    load_table,
    project_root,
    sidecar_path,
    validate_all,
    validate_and_load,
)
from tools import synth
from tools.bench import phases, report

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "raw"
LATEST = synth.release_files(RAW)[-1].release or 0  # the latest real release: the synthetic ones end there


def _rows(raw_dir: Path) -> list[dict[str, str]]:
    """The rows of every release file, by release; each file holds its own release only."""
    rows: list[dict[str, str]] = []
    for f in TRADE.files(raw_dir):
        with (raw_dir / f.filename).open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            assert reader.fieldnames == TRADE.header
            part = list(reader)
        assert part and {r["release"] for r in part} == {str(f.release)}, f.filename
        rows += part
    return rows


def _dec(cell: str) -> Decimal:
    return Decimal(cell) if cell else Decimal(0)


def _check_trade_rows(rows: list[dict[str, str]], n: int, known: set[str]) -> None:
    assert len(rows) == n
    keys = Counter((r["release"], r["sheet"], r["row_no"]) for r in rows)
    assert max(keys.values()) == 1, "duplicate (release, sheet, row_no)"
    names = Counter((r["release"], r["sheet"], r["name"]) for r in rows)
    assert max(names.values()) == 1, "a partner twice on a sheet"
    sheets: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        assert r["name"] in known, r["name"]
        turnover, exports, imports = (_dec(r[c]) for c in ("turnover_kusd", "exports_kusd", "imports_kusd"))
        assert r["turnover_kusd"], "turnover is never empty"
        assert turnover == exports + imports, r
        for c in ("turnover_share_pct", "exports_share_pct", "imports_share_pct"):
            assert Decimal(0) <= _dec(r[c]) <= Decimal(100), (c, r)
        assert bool(r["exports_kusd"]) == bool(r["exports_share_pct"])
        year = int(r["period"].split()[-2])
        assert year in (int(r["release"]) - 1, int(r["release"])), (
            "a release carries its year and the one before"
        )
        assert str(year) in r["sheet"]
        sheets[(r["release"], r["sheet"])].append(r)
    for (_, _), sheet_rows in sheets.items():
        total = sheet_rows[0]
        assert total["name"] == "Всего" and total["turnover_share_pct"] == "100.00000"
        countries = sheet_rows[1:]
        if countries:
            # the countries add up to the total (to the rounding of each value)
            for c in ("exports_kusd", "imports_kusd"):
                diff = abs(sum(_dec(r[c]) for r in countries) - _dec(total[c]))
                assert diff <= Decimal("0.00001") * len(countries), (c, diff)
            share = sum(_dec(r["turnover_share_pct"]) for r in countries)
            assert abs(share - 100) < Decimal("0.01") * len(countries)


@pytest.fixture(scope="module")
def known() -> set[str]:
    return known_partner_names(project_root())


@pytest.mark.parametrize("n", [1, 2, 1000, 12_345])
def test_synth_passes_ingest_with_requested_rows(tmp_path: Path, n: int, known: set[str]) -> None:
    out = tmp_path / "raw"
    layout = synth.synthesize(out, n)
    assert layout.rows == n
    rows = Counter[str]()
    for r in validate_all(out):  # the real validation, every raw file
        rows[r.name] += r.rows
    assert set(rows) == {f.name for f in RAW_FILES}
    assert rows[TRADE.name] == n
    _check_trade_rows(_rows(out), n, known)


def test_synth_copies_paper_tables_and_the_trade_sidecar(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    layout = synth.synthesize(out, 10)
    for f in RAW_FILES:
        if f.group != "paper":  # the other trade sources: the next test
            continue
        side = f.filename.removesuffix(".csv").removesuffix(".json") + ".meta.yml"
        assert (out / side).read_bytes() == (RAW / side).read_bytes()
        assert (out / f.filename).read_bytes() == (RAW / f.filename).read_bytes()
    real = yaml.safe_load(sidecar_path(RAW / synth.release_files(RAW)[-1].filename).read_text("utf-8"))
    made = TRADE.files(out)
    assert made and all(layout.first_release <= (f.release or 0) <= LATEST for f in made)
    for f in made:
        side = yaml.safe_load(sidecar_path(out / f.filename).read_text("utf-8"))
        assert side["file"] == Path(f.filename).name and side["columns"] == real["columns"]
        assert "SYNTHETIC" in side["title"]


def _source_years(raw_dir: Path, spec: RawFile) -> Counter[tuple[int, str]]:
    """(year, what) of one of the other trade sources' files, as the ingest reads them."""
    path = raw_dir / spec.filename
    if spec.group == "un_comtrade":
        resp = sdmx.parse(path.read_bytes(), spec.filename)
        return Counter((o.year, f"{o.partner_code}={o.value_printed}") for o in resp.observations)
    with path.open(encoding="utf-8", newline="") as fh:
        return Counter((int(r["date"][:4]), f"{r['item_code']}={r['value']}") for r in csv.DictReader(fh))


def test_synth_keeps_the_other_sources_only_outside_its_years(tmp_path: Path) -> None:
    """Made-up bureau values would disagree with the real processed and UN Comtrade figures, and the
    reconciliation would block publishing: those sources keep exactly their years the synthetic
    releases do not carry, still valid for the real ingest (a response's sidecar: its new sha256)."""
    out = tmp_path / "raw"
    synth.synthesize(out, 1000)
    synthetic = {int(r["period"].split()[-2]) for r in _rows(out)}
    others = [f for f in RAW_FILES if f.group not in ("paper", TRADE.group)]
    assert {f.group for f in others} == {"bureau_processed", "un_comtrade"}
    for spec in others:
        real, made = _source_years(RAW, spec), _source_years(out, spec)
        assert {y for y, _ in real} & synthetic, f"{spec.filename}: the test needs overlapping years"
        assert made == Counter({k: n for k, n in real.items() if k[0] not in synthetic}), spec.filename
        assert made, spec.filename
        side = yaml.safe_load(sidecar_path(out / spec.filename).read_text("utf-8"))
        assert all("SYNTHETIC" in side[k] for k in ("title", "description", "notes")), side
    rows = Counter[str]()
    for r in validate_all(out):
        rows[r.name] += r.rows
    assert all(rows[f.name] == sum(_source_years(out, f).values()) for f in others), rows


def test_synth_is_deterministic_and_seeded(tmp_path: Path) -> None:
    a, b, c = (tmp_path / x for x in "abc")
    synth.synthesize(a, 3000)
    synth.synthesize(b, 3000)
    synth.synthesize(c, 3000, seed=1)
    data = [b"".join((p / f.filename).read_bytes() for f in TRADE.files(p)) for p in (a, b, c)]
    assert data[0] == data[1]
    assert data[0] != data[2]


def test_synth_grid_covers_months_and_chapters(tmp_path: Path, known: set[str]) -> None:
    """With three partners a sheet has four rows, so a few thousand rows span periods and chapters."""
    partners = synth.load_partners(RAW)[:3]
    n = 12_000
    layout = synth.plan(n, len(partners), last_release=LATEST)
    raw = tmp_path / "raw"
    raw.mkdir()
    template = yaml.safe_load(sidecar_path(RAW / synth.release_files(RAW)[-1].filename).read_text("utf-8"))
    for path in synth.write_trade_csvs(raw, layout, partners):
        synth.write_sidecar(path, template)
    with connect() as con:
        assert sum(r.rows for r in load_table(con, TRADE, raw)) == n
    rows = _rows(raw)
    _check_trade_rows(rows, n, known)
    sheets = {r["sheet"] for r in rows}
    assert any("_hs" in s for s in sheets), "commodity-chapter sheets"
    assert any(s.startswith("11_") for s in sheets), "January–November periods"
    assert {r["period"] for r in rows if r["sheet"].startswith("12_")} >= {f"за январь-декабрь {LATEST} года"}
    assert any(r["period"].startswith("за январь-ноябрь") for r in rows)


def test_plan() -> None:
    last = 3000  # any release year: the layout ends at the one it is given
    lay = synth.plan(1000, 204, last_release=last)
    assert (lay.sheets, lay.releases, lay.first_release, lay.last_release) == (5, 5, last - 4, last)
    assert lay.rows_per_sheet * lay.sheets + lay.extra == 1000
    assert lay.rows_per_sheet + (1 if lay.extra else 0) <= 205
    big = synth.plan(10**7, 204, last_release=last)
    assert big.last_release == last and big.releases > synth.MIN_RELEASES
    assert big.sheets <= big.vintages * synth.TABLES_PER_VINTAGE
    huge = synth.plan(30 * 10**6, 204, last_release=last)
    assert huge.last_release == last and huge.first_release >= synth.FIRST_POSSIBLE_RELEASE
    with pytest.raises(ValueError, match="at most"):
        synth.plan(10**9, 204, last_release=last)


def test_parse_and_format_scale() -> None:
    assert synth.parse_scale("1e5") == 100_000
    assert synth.parse_scale("1_000_000") == 10**6
    assert synth.parse_scale(" 250000 ") == 250_000
    assert synth.parse_scale("1000x", real_rows=2041) == 2_041_000
    assert synth.parse_scale("0.5x", real_rows=2041) == 1020
    for bad in ("", "abc", "0", "-5", "1.5"):
        with pytest.raises(ValueError):
            synth.parse_scale(bad, real_rows=2041)
    assert [synth.format_scale(n) for n in (10**5, 10**6, 3 * 10**7, 250_000, 7, 10)] == [
        "1e5",
        "1e6",
        "3e7",
        "250000",
        "7",
        "1e1",
    ]


def test_synth_main_refuses_the_real_raw_dir(capsys: pytest.CaptureFixture[str]) -> None:
    assert synth.main(["--scale", "10", "--out", str(RAW)]) == 2
    assert "refusing" in capsys.readouterr().err


def test_synth_main_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synth.main(["--scale", "1e2", "--out", str(tmp_path / "r")]) == 0
    assert "100 rows" in capsys.readouterr().out
    assert len(_rows(tmp_path / "r")) == 100


# ---------------------------------------------------------------------------------------------
# bench: pure functions
# ---------------------------------------------------------------------------------------------


def test_parse_scales() -> None:
    assert phases.parse_scales("1e5,1e6, 1e7") == [10**5, 10**6, 10**7]
    assert phases.parse_scales("1e6,1e5,1e6") == [10**5, 10**6]
    assert (
        phases.parse_scales("") == [] and phases.parse_scales(None) == [] and phases.parse_scales(" ") == []
    )
    with pytest.raises(ValueError):
        phases.parse_scales("1e5,lots")


def test_step_category() -> None:
    assert phases.step_category("raw__bureau_foreign_trade_by_partner") == "ingest"
    assert phases.step_category("kzkr_dbt") == "dbt"
    assert phases.step_category("warehouse__published") == "publish"
    assert phases.step_category("quality_checks_trade") == "checks"


def _events() -> list[phases.Event]:
    E = phases.Event
    return [
        E(100.0, "ASSET_MATERIALIZATION_PLANNED", "kzkr_dbt"),
        E(102.0, "RUN_START"),
        E(102.5, "STEP_START", "raw__a"),
        E(103.0, "STEP_SUCCESS", "raw__a"),
        E(103.1, "STEP_START", "raw__b"),
        E(103.6, "STEP_SUCCESS", "raw__b"),
        E(104.0, "STEP_START", "kzkr_dbt"),
        E(110.0, "STEP_OUTPUT", "kzkr_dbt"),
        E(114.0, "STEP_SUCCESS", "kzkr_dbt"),
        E(114.0, "STEP_START", "quality_checks"),
        E(116.0, "STEP_FAILURE", "quality_checks"),
        E(116.5, "STEP_START", "warehouse__published"),
        E(117.0, "STEP_SUCCESS", "warehouse__published"),
        E(118.0, "RUN_SUCCESS"),
    ]


def test_step_durations_and_run_window() -> None:
    d = phases.step_durations(_events())
    assert d == pytest.approx(
        {"raw__a": 0.5, "raw__b": 0.5, "kzkr_dbt": 10.0, "quality_checks": 2.0, "warehouse__published": 0.5}
    )
    assert phases.run_window(_events()) == (102.0, 118.0)
    assert phases.step_durations([phases.Event(1.0, "STEP_START", "x")]) == {}  # never ended
    assert phases.run_window([]) == (None, None)


def test_breakdown_adds_up_to_the_wall_time() -> None:
    marks = {"build": 91.0, "validated": 92.0, "loading": 92.0}
    b = phases.breakdown(process_start=90.0, process_end=119.0, marks=marks, events=_events())
    assert list(b) == [p for p, _ in phases.PHASES]
    assert b["startup"] == pytest.approx(1.0)
    assert b["validate"] == pytest.approx(1.0)
    assert b["definitions"] == pytest.approx(8.0)  # 92 → the first (planned) event at 100
    assert b["planning"] == pytest.approx(2.0)  # planned events, 100 → run start at 102
    assert b["ingest"] == pytest.approx(1.0)
    assert b["dbt"] == pytest.approx(10.0)
    assert b["checks"] == pytest.approx(2.0)
    assert b["publish"] == pytest.approx(0.5)
    assert b["dagster"] == pytest.approx(16.0 - 13.5)
    assert b["summary"] == pytest.approx(1.0)
    assert sum(b.values()) == pytest.approx(29.0)
    # no marks, no events (the run never started): everything is start-up
    b = phases.breakdown(process_start=0.0, process_end=5.0, marks={}, events=[])
    assert b["definitions"] == pytest.approx(5.0) and sum(b.values()) == pytest.approx(5.0)


def test_phase_at() -> None:
    marks = {"build": 91.0, "validated": 92.0}
    at = [90.5, 91.5, 95.0, 101.0, 102.6, 110.0, 115.0, 116.2, 116.8, 117.5, 118.5]
    assert [phases.phase_at(t, marks=marks, events=_events()) for t in at] == [
        "startup",
        "validate",
        "definitions",
        "planning",
        "ingest",
        "dbt",
        "checks",
        "dagster",  # between two steps
        "publish",
        "dagster",
        "summary",
    ]


def test_ratio() -> None:
    assert phases.ratio(30.0, 15.0) == 2.0
    assert phases.ratio(1.0, 0.0) is None
    assert report.fmt_ratio(phases.ratio(3.0, 2.0)) == "1.50×"
    assert report.fmt_ratio(None) == "–"
    assert report.fmt_pct(0.0412) == "4.1 %"


def test_fit_line_and_slopes() -> None:
    xs = [1e5, 1e6, 1e7]
    ys = [10 + 2e-6 * x for x in xs]
    fit = phases.fit_line(xs, ys)
    assert fit.slope == pytest.approx(2e-6)
    assert fit.intercept == pytest.approx(10.0)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.predict(5e6) == pytest.approx(20.0)
    assert phases.marginal_slopes(xs, ys) == pytest.approx([2e-6, 2e-6])
    noisy = phases.fit_line([0, 1, 2, 3], [0, 1.1, 1.9, 3.2])
    assert 0.9 < noisy.r2 < 1.0
    assert phases.marginal_slopes([3, 1, 2], [30, 10, 20]) == pytest.approx([10, 10])  # sorted by x
    with pytest.raises(ValueError):
        phases.fit_line([1.0], [1.0])
    with pytest.raises(ValueError):
        phases.fit_line([1.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        phases.fit_line([1.0, 2.0], [1.0])


def test_formatting() -> None:
    assert report.fmt_seconds(1.234) == "1.23 s"
    assert report.fmt_seconds(61.26) == "61.3 s"
    assert report.fmt_seconds(900) == "15.0 min"
    assert report.fmt_seconds(None) == "–"
    assert report.fmt_bytes(1536 * 1024**2) == "1.50 GB"
    assert report.fmt_bytes(300 * 1024**2) == "300 MB"
    assert report.fmt_bytes(512) == "512 B"
    assert report.fmt_rows(10**7) == "10,000,000"
    assert report.verdict(1.5, 2.0) == "meets target"
    assert report.verdict(2.5, 2.0) == "MISSES target"
    assert report.verdict(None, 2.0) == "?"


def test_markdown_table() -> None:
    t = report.markdown_table(["phase", "time"], [["dbt", "1.0 s"], ["ingest", "10.25 s"]], "lr")
    assert t.splitlines() == [
        "| phase  |    time |",
        "|--------|--------:|",
        "| dbt    |   1.0 s |",
        "| ingest | 10.25 s |",
    ]
    with pytest.raises(ValueError):
        report.markdown_table(["a", "b"], [["only one"]])


def test_report_renders_all_sections() -> None:
    times = dict.fromkeys((p for p, _ in phases.PHASES), 1.0)
    build = {"rows": 2041, "wall": 9.0, "phases": times, "published": True, "dbt_elapsed": 3.0}
    builds = [
        {**build, "label": f"build {i}", "wall": wall, "cpu": cpu}
        for i, (wall, cpu) in enumerate([(9.0, 12.0), (12.0, 16.0), (10.0, 14.0)], 1)
    ]
    results = {
        "machine": {
            "cores": "2",
            "memory": "23.4 GB",
            "os": "Linux",
            "python": "3.11.7",
            "duckdb": "1.4",
            "dbt-core": "1.11",
            "dbt-duckdb": "1.11",
            "dagster": "1.13",
            "dagster-dbt": "0.29",
        },
        "full": {
            "full": builds[0],
            "builds": builds,
            "plain": {
                "ingest_wall": 1.0,
                "warm_wall": [6.0, 8.0, 5.0],
                "warm_cpu": [6.0, 8.0, 7.0],
                "dbt_elapsed": 4.0,
                "peak_rss": 1,
                "ok": True,
                "cold_wall": 12.0,
            },
            "noop": {"wall": 1.0, "skipped": True},
            "force_rebuilt": True,
        },
        "scales": [
            {
                **build,
                "rows": r,
                "wall": 10 + r * 1e-6,
                "peak_rss": 10**8,
                "csv_bytes": r * 140,
                "synth_seconds": 1.0,
                "noop_wall": 1.0,
                "add_release": None
                if r < 10**6
                else {
                    **build,
                    "wall": 4.4,
                    "peak_rss": 10**8,
                    "files_copied": 20,
                    "release_file": "foreign_trade_by_partner_2023.csv",
                },
            }
            for r in (10**5, 10**6)
        ],
    }
    text = report.report(results)
    # the breakdown is the median build's (10 s, round 3)
    assert "Full build, by step (build 3)" in text and "**10.0 s**" in text
    # ratios pair each build with the plain dbt build right after it: 1.5, 1.5, 2.0 -> median 1.5
    # (not the ratio of the medians, 10 / 6 = 1.67)
    assert "**1.50×**" in text and "1.67×" not in text
    assert "**2.00×**" in text  # CPU: 12/6, 16/8, 14/7
    assert "10.0 %" in text  # no-op 1 s of the median build's 10 s
    assert "1.00 s per million rows" in text and "R² = 1.0000" in text
    assert "meets target" in text and "MISSES target" in text  # wall 1.5× meets, CPU 2.0× misses
    # the new release at the largest scale: 4.4 s of that scale's 11 s full build
    assert "A new release on top of 1,000,000 rows" in text and "**40.0 %**" in text
    assert "20 release files copied" in text


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_line_numbers_hold_in_a_large_release_file(tmp_path: Path, where: str) -> None:
    """The ingest numbers rows by their place in the table DuckDB's (parallel) CSV scan fills; in a
    file of hundreds of thousands of rows, a bad cell is still reported on its own line."""
    out = tmp_path / "raw"
    synth.synthesize(out, 300_000)
    spec = max(TRADE.files(out), key=lambda f: (out / f.filename).stat().st_size)
    path = out / spec.filename
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = {"first": 2, "middle": len(lines) // 2 + 7, "last": len(lines)}[where]
    cells = lines[line - 1].split(",")
    col = TRADE.header.index("row_no")
    cells[col] = "7x"
    lines[line - 1] = ",".join(cells)
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(RawInputError) as err, connect() as con:
        validate_and_load(con, spec, out)
    assert (err.value.line, err.value.column) == (line, f'"row_no" ({col + 1})'), str(err.value)
