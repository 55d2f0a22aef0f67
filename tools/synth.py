"""A synthetic raw directory with N bureau trade rows, for benchmarks (`make synth SCALE=N`).

The output is a complete raw directory that the real ingest accepts: every file of ``raw/``
(the paper tables, their sidecars, ``_schema/``) copied unchanged, and synthetic bureau releases,
one file per release ``bureau/foreign_trade_by_partner_<release>.csv`` in the bureau's exact
12-column format (:data:`pipelines.ingest.specs.TRADE`), each with a sidecar derived from the latest
real release's. The synthetic releases end with the latest real release (read from the raw files).

How the N rows are laid out (what each of the 12 columns means stays what it means in the
bureau's releases):

- a *sheet* is one partner table: a ``Всего`` (total) row followed by up to 204 partner
  countries (the countries of the real file's latest sheet, in its printed order; one spelling
  per ISO code, all known to ``dbt_project/seeds/partner_names.csv``);
- sheets are the grid vintages × periods × commodity chapters: releases (``release``) each
  carrying the reported year and the year before, as the real releases do; cumulative periods
  January–December, January–November … January (``period`` "за январь-март 2021 года",
  ``sheet`` ``03_2021``); all commodities (``sheet`` ``12_2021``, exactly the real naming) and the
  HS chapters 01–97 (``sheet`` ``12_2021_hs27``). The grid is filled all-commodities-annual
  first, vintages fastest, so every scale has several releases per year (revisions) and
  1e3 rows look like the real file;
- values are plausible and consistent: each partner's exports and imports are the real latest
  values' shares of the total (two neighbouring partners swap profiles per sheet, pseudo-randomly)
  times a per-sheet total (per year, a cumulative month fraction, a chapter weight; a release
  revises by less than 0.1 %); ``turnover = exports + imports`` exactly (integer arithmetic in
  units of 0.00001 thousand USD), shares are ``value / sheet total × 100`` and sum to ~100 per
  sheet; a partner without exports in the real file has an empty exports cell, as there;
- keys are unique: ``(release, sheet, row_no)`` and ``(release, sheet, name)``;
- the other trade sources (the processed bureau figures, the UN Comtrade responses) keep only the
  years the synthetic releases do not cover: made-up bureau values would disagree with their real
  figures, and the reconciliation would rightly block publishing. The years outside still go
  through the whole pipeline (a response keeps its structure; its sidecar records the new sha256).

Everything is a pure function of the row's position (and ``--seed``), so the file is generated in
one streaming DuckDB ``COPY`` without holding the rows in memory: 10^7 rows (about 1.1 GB) take
seconds.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import shutil
import sys
import time
from pathlib import Path

import yaml

from pipelines.ingest.specs import RAW_FILES, TRADE, RawFile
from pipelines.ingest.validate import sidecar_path
from pipelines.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings
from tools.synth_csv import TABLES_PER_VINTAGE, Layout, Partner, write_trade_csvs

FIRST_POSSIBLE_RELEASE = 1000  # a release is a four-digit year in its file's name
MIN_RELEASES = 5


def parse_scale(text: str, real_rows: int | None = None) -> int:
    """``"1e6"``, ``"1000000"``, ``"1_000_000"`` → rows; ``"1000x"`` → 1000 × the real file's rows."""
    t = text.strip().lower().replace("_", "").replace(",", "")
    if t.endswith(("x", "×")):
        if real_rows is None:
            real_rows = trade_rows(PROJECT_ROOT / "raw")
        factor = float(t[:-1])
        n = round(factor * real_rows)
    else:
        try:
            value = float(t)
        except ValueError:
            raise ValueError(f"not a scale: {text!r} (e.g. 1e6, 250000 or 1000x)") from None
        if value != int(value):
            raise ValueError(f"not a whole number of rows: {text!r}")
        n = int(value)
    if n < 1:
        raise ValueError(f"the scale must be at least one row, got {text!r}")
    return n


def format_scale(n: int) -> str:
    """10**6 → ``"1e6"``; 250000 → ``"250000"`` (labels for directories and tables)."""
    if n >= 10 and n % 10 == 0:
        e = 0
        m = n
        while m % 10 == 0:
            m //= 10
            e += 1
        if m < 10:
            return f"{m}e{e}"
    return str(n)


def count_rows(csv_path: Path) -> int:
    with csv_path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def release_files(raw_dir: Path) -> list[RawFile]:
    """The bureau's release files in ``raw_dir``, by release; at least one."""
    files = [f for f in TRADE.files(raw_dir) if f.release is not None]
    if not files:
        raise FileNotFoundError(f"no release file {TRADE.label} in {raw_dir}")
    return files


def trade_rows(raw_dir: Path) -> int:
    """Trade rows of all release files."""
    return sum(count_rows(raw_dir / f.filename) for f in release_files(raw_dir))


def load_partners(raw_dir: Path, seed_csv: Path | None = None) -> list[Partner]:
    """The countries of the latest real release's last sheet, in printed order, one name per ISO code."""
    seed_csv = seed_csv or DBT_PROJECT_DIR / "seeds" / "partner_names.csv"
    with seed_csv.open(encoding="utf-8", newline="") as fh:
        seed = {r["name_ru"]: r for r in csv.DictReader(fh)}
    latest = raw_dir / release_files(raw_dir)[-1].filename
    with latest.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{latest} has no rows to take partners from")
    last = (rows[-1]["release"], rows[-1]["sheet"])
    partners: list[Partner] = []
    seen: set[str] = set()
    for r in rows:
        if (r["release"], r["sheet"]) != last:
            continue
        s = seed.get(r["name"])
        if s is None or s["is_aggregate"].strip().lower() == "true" or not s["iso3"]:
            continue
        exports = float(r["exports_kusd"] or 0)
        imports = float(r["imports_kusd"] or 0)
        if s["iso3"] in seen or exports + imports <= 0:
            continue
        seen.add(s["iso3"])
        partners.append(Partner(r["name"], exports, imports))
    totals = [r for r in rows if (r["release"], r["sheet"]) == last and r["name"] == "Всего"]
    if "Всего" not in seed or not totals or not partners:
        raise ValueError("the real trade file's last sheet has no 'Всего' row or no partner countries")
    return partners


def plan(rows: int, partners_per_sheet: int, last_release: int) -> Layout:
    """Sheets and releases for ``rows`` rows with at most ``partners_per_sheet`` countries a sheet,
    the releases ending with ``last_release`` (the latest real one)."""
    per_sheet = partners_per_sheet + 1  # + the 'Всего' row
    sheets = math.ceil(rows / per_sheet)
    releases = max(MIN_RELEASES, math.ceil(sheets / (2 * TABLES_PER_VINTAGE)))
    max_releases = last_release - FIRST_POSSIBLE_RELEASE + 1
    if releases > max_releases:
        cap = 2 * max_releases * TABLES_PER_VINTAGE * per_sheet
        raise ValueError(
            f"at most {cap} rows fit the bureau's format (releases {FIRST_POSSIBLE_RELEASE}–{last_release})"
        )
    return Layout(rows, sheets, rows // sheets, rows % sheets, releases, last_release - releases + 1)


def synthesize(out_dir: Path, rows: int, *, raw_dir: Path | None = None, seed: int = 0) -> Layout:
    """Write a raw directory with ``rows`` synthetic trade rows into ``out_dir``."""
    raw_dir = (raw_dir or PROJECT_ROOT / "raw").absolute()
    out_dir = out_dir.absolute()
    if out_dir == raw_dir:
        raise ValueError("refusing to overwrite the real raw directory")
    real = release_files(raw_dir)
    latest = raw_dir / real[-1].filename
    if not sidecar_path(latest).exists():
        raise FileNotFoundError(f"{sidecar_path(latest)} is missing")
    partners = load_partners(raw_dir)
    layout = plan(rows, len(partners), last_release=real[-1].release or 0)
    out_dir.mkdir(parents=True, exist_ok=True)
    skip = {raw_dir / f.filename for f in TRADE.files(raw_dir)}
    skip |= {sidecar_path(p) for p in skip}
    for src in sorted(raw_dir.rglob("*")):
        if not src.is_file() or src in skip:
            continue
        dst = out_dir / src.relative_to(raw_dir)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    template = yaml.safe_load(sidecar_path(latest).read_text(encoding="utf-8"))
    for path in write_trade_csvs(out_dir, layout, partners, seed=seed):
        write_sidecar(path, template)
    drop_other_sources(out_dir, layout.years)
    return layout


def drop_other_sources(out_dir: Path, years: set[int]) -> None:
    """Keep only the other trade sources' figures for years outside ``years`` (see the module's text)."""
    for spec in RAW_FILES:
        path = out_dir / spec.filename
        if not path.exists():
            continue
        if spec.group == "bureau_processed":
            _drop_csv_years(path, years)
        elif spec.group == "un_comtrade":
            _drop_response_years(path, years)


def _note(path: Path, text: str, sha256: str | None = None) -> None:
    """Mark a trimmed source's sidecar as synthetic: its title, description and notes say what was
    dropped (the rest still describes the real file the figures come from)."""
    side = sidecar_path(path)
    meta = yaml.safe_load(side.read_text(encoding="utf-8"))
    for key in ("title", "description"):
        meta[key] = f"SYNTHETIC benchmark directory (kzkr synth), trimmed copy of: {meta.get(key, '')}"
    meta["notes"] = (
        f"SYNTHETIC benchmark directory (kzkr synth): {text} Not the source as received: the title, "
        f"description, row counts and known issues above describe the real file. {meta.get('notes', '')}"
    ).strip()
    if sha256 is not None:
        meta["sha256"] = sha256
    side.write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")


def _span(years: set[int]) -> str:
    return f"{min(years)}–{max(years)}"


def _drop_csv_years(path: Path, years: set[int]) -> None:
    """A processed-figures CSV (``date`` = the year's last day) without the rows of ``years``."""
    with path.open(encoding="utf-8", newline="") as fh:
        lines = fh.read().splitlines(keepends=True)
    keep = [lines[0]] + [ln for ln in lines[1:] if int(ln[:4]) not in years]
    path.write_text("".join(keep), encoding="utf-8", newline="")
    _note(path, f"the rows of {_span(years)} were dropped.")


def _drop_response_years(path: Path, years: set[int]) -> None:
    """An SDMX-JSON response without the observations of ``years`` (series left empty are dropped;
    at least one observation must remain, or the response would not be a response)."""
    doc = json.loads(path.read_bytes())
    periods = doc["structure"]["dimensions"]["observation"][0]["values"]
    drop = {str(i) for i, p in enumerate(periods) if int(p["id"]) in years}
    series = doc["dataSets"][0]["series"]
    for key in list(series):
        obs = series[key]["observations"]
        for i in drop & obs.keys():
            del obs[i]
        if not obs:
            del series[key]
    if not series:
        raise ValueError(f"{path.name}: every year it has is synthetic ({_span(years)}); use a smaller scale")
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    path.write_bytes(data)
    _note(path, f"the observations of {_span(years)} were dropped.", hashlib.sha256(data).hexdigest())


def write_sidecar(csv_path: Path, template: dict[str, object]) -> Path:
    """A synthetic release file's sidecar: the latest real release's, naming this file and saying
    that its figures are synthetic."""
    side = {
        **template,
        "file": csv_path.name,
        "title": f"SYNTHETIC benchmark data (kzkr synth) in the format of: {template.get('title', '')}",
        "notes": "Synthetic rows written by kzkr synth for benchmarks; not the bureau's figures.",
    }
    path = sidecar_path(csv_path)
    path.write_text(yaml.safe_dump(side, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")
    return path


def default_out_dir(rows: int) -> Path:
    return Settings.from_env().warehouse_dir / "synth" / f"raw-{format_scale(rows)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.synth",
        description="Write a synthetic raw directory: the paper tables of raw/ and N bureau trade rows.",
    )
    parser.add_argument(
        "--scale",
        required=True,
        help="trade rows: 1e6, 250000, or 1000x (times the rows of the real release files)",
    )
    parser.add_argument("--out", type=Path, help="output directory (default: <warehouse>/synth/raw-<scale>)")
    parser.add_argument("--raw-dir", type=Path, default=PROJECT_ROOT / "raw", help="the real raw directory")
    parser.add_argument("--seed", type=int, default=0, help="varies the pseudo-random values")
    args = parser.parse_args(argv)
    try:
        rows = parse_scale(args.scale, trade_rows(args.raw_dir))
        out = args.out or default_out_dir(rows)
        t0 = time.monotonic()
        layout = synthesize(out, rows, raw_dir=args.raw_dir, seed=args.seed)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    files = release_files(out)
    size = sum((out / f.filename).stat().st_size for f in files)
    print(
        f"wrote {len(files)} release files {out}/{TRADE.label.removeprefix('raw/')}: "
        f"{layout.rows} rows, {layout.sheets} sheets, releases {files[0].release}–{files[-1].release}, "
        f"{size / 1e6:.1f} MB in {time.monotonic() - t0:.1f} s"
    )
    kzkr = Path(sys.executable).with_name("kzkr")
    print(f"build it: KZKR_RAW_DIR={out} KZKR_WAREHOUSE_DIR=<dir> {kzkr} build")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
