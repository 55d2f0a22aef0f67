"""The README's "Adding a year of data" recipe, followed step by step with a synthetic release.

A copy of the project's raw directory gets a new bureau release derived from the latest real one (the
release after it: its reported year is new, the year before is carried again, as every real release
does), exactly as the README says: a new file ``raw/bureau/foreign_trade_by_partner_<release>.csv``
and its sidecar, nothing else edited. Then ``kzkr build`` must publish the new year in the trade
marts, and the checks of ``make test`` that read the raw data must pass on that directory too (they
run in a separate pytest with ``KZKR_RAW_DIR`` pointing at it). Nothing here names a year: the new
release is the latest present plus one.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import PUBLISHED_NAME, REPO, copy_raw, kzkr_env, run_kzkr

from pipelines.ingest.specs import TRADE

pytestmark = pytest.mark.e2e

README = REPO / "README.md"
PYTEST = str(Path(sys.executable).with_name("pytest"))
# The checks of `make test` that are parametrised on the raw data (the rest test code paths with
# fixed inputs). Run on the new raw directory, they must pass as they do on raw/.
DATA_TESTS = (
    "tests/test_raw_sidecars.py",
    "tests/test_raw_columns.py",
    "tests/test_warehouse_e2e.py",
    "tests/test_quality_mutations.py",
)
VALUE_COLUMNS = ("turnover_kusd", "exports_kusd", "imports_kusd")


def _recipe() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Adding a year of data\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README.md has no section 'Adding a year of data'"
    return match.group(1)


def _double(value: str) -> str:
    """Twice a printed decimal, printed with no more decimals than it had (exact: shares and the
    bureau's identities stay what they were)."""
    if not value:
        return value
    places = len(value.split(".")[1]) if "." in value else 0
    return f"{Decimal(value) * 2:.{places}f}"


def _year_of(period: str) -> int:
    return int(re.search(r"\d{4}", period).group())  # type: ignore[union-attr]


def write_next_release(raw: Path) -> tuple[int, int]:
    """Step 1 and 3 of the recipe: the next release's CSV and sidecar, derived from the latest one.
    Returns (latest real release, new release)."""
    files = TRADE.files(raw)
    latest = files[-1]
    assert latest.release is not None
    new = latest.release + 1
    data = (raw / latest.filename).read_bytes()
    newline = "\r\n" if data.split(b"\n", 1)[0].endswith(b"\r") else "\n"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    reported = max(_year_of(r["period"]) for r in rows)
    carried = [r for r in rows if _year_of(r["period"]) == reported]
    out: list[dict[str, str]] = []
    for r in carried:  # the year before, carried again (unrevised) ...
        out.append({**r, "release": str(new), "release_published": _next_date(r["release_published"])})
    for r in carried:  # ... and the new reported year: the same partners, every value doubled
        out.append(
            {
                **r,
                "release": str(new),
                "release_published": _next_date(r["release_published"]),
                "sheet": r["sheet"].replace(str(reported), str(reported + 1)),
                "period": r["period"].replace(str(reported), str(reported + 1)),
                **{c: _double(r[c]) for c in VALUE_COLUMNS},
            }
        )
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=TRADE.header, lineterminator=newline)
    writer.writeheader()
    writer.writerows(out)
    target = raw / TRADE.for_release(new).filename
    target.write_bytes(buf.getvalue().encode("utf-8"))

    side = yaml.safe_load((raw / latest.filename).with_suffix("").with_suffix(".meta.yml").read_text("utf-8"))
    side.update(
        file=target.name,
        title=f"SYNTHETIC test release {new} (years {reported} and {reported + 1}), derived from release "
        f"{latest.release}",
        description=f"A synthetic release {new} written by tests/test_add_release.py: the year {reported} "
        f"of release {latest.release} carried again, and {reported + 1} with every value doubled.",
        source_table=f"release {new} (synthetic)",
        date_published="synthetic, never published",
        known_issues=[],
        notes="Test data only; never in the project's raw/.",
    )
    for field in ("url", "source_file"):
        side.pop(field, None)
    target.with_suffix("").with_suffix(".meta.yml").write_text(
        yaml.safe_dump(side, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return latest.release, new


def hold_back_later_years(raw: Path, last_year: int) -> None:
    """The processed bureau figures (raw/bureau_processed/) already print years that the bureau's next
    release will carry, and a synthetic release with made-up values rightly disagrees with them (the
    reconciliation blocks it). Take the day the new release comes out before those figures: keep their
    rows up to ``last_year``; the years both sources have are still reconciled."""
    for path in sorted((raw / "bureau_processed").glob("*.csv")):
        header, *rows = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join([header, *(r for r in rows if int(r[:4]) <= last_year)]))


def _next_date(dmy: str) -> str:
    if not dmy:
        return dmy
    d, m, y = dmy.split(".")
    return f"{d}.{m}.{int(y) + 1}"


def test_readme_names_the_steps_this_test_takes() -> None:
    recipe = _recipe()
    for step in (
        "raw/bureau/foreign_trade_by_partner_<release>.csv",
        "foreign_trade_by_partner_<release>.meta.yml",
        "dbt_project/seeds/partner_names.csv",
        "make run",
        "make test",
    ):
        assert step in recipe, f"the README's recipe does not say {step!r}"
    assert not re.search(r"\b(19|20)\d\d\b", recipe), "the recipe names a year"


def test_adding_a_release_publishes_its_year_and_make_test_checks_pass(tmp_path: Path) -> None:
    raw = copy_raw(tmp_path / "raw")
    wh = tmp_path / "warehouse"
    latest, new = write_next_release(raw)
    hold_back_later_years(raw, new - 1)
    proc = run_kzkr("build", raw_dir=raw, warehouse_dir=wh)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert f"raw/{TRADE.for_release(new).filename}" in proc.stdout

    with duckdb.connect(str(wh / PUBLISHED_NAME), read_only=True) as con:
        korea = dict(
            con.execute(
                "select year, (release, exports_to_korea_kusd, imports_from_korea_kusd) "
                "from trade.kazakhstan_korea_trade"
            ).fetchall()
        )
        years = sorted(korea)
        assert years[-1] == new and years == list(range(years[0], new + 1)), years
        # the new year: the new release's doubled values; the year before: now from the new release too
        rel, exp, imp = korea[new]
        rel_prev, exp_prev, imp_prev = korea[new - 1]
        assert rel == rel_prev == new
        assert (exp, imp) == (2 * exp_prev, 2 * imp_prev)
        revised = con.execute(
            "select count(*) from trade.kazakhstan_trade_revisions where year = ? and earlier_release = ? "
            "and latest_release = ?",
            [new - 1, latest, new],
        ).fetchone()
        assert revised and revised[0] > 100, "the earlier vintage of the carried year is not kept"
        by_partner = con.execute(
            "select count(*) from trade.kazakhstan_trade_by_partner where year = ? and release = ?",
            [new, new],
        ).fetchone()
        assert by_partner and by_partner[0] > 100
        overview = con.execute(
            "select korea_turnover_kusd from analytics.yearly_overview where year = ?", [new]
        ).fetchone()
        assert overview and overview[0] is not None

    env = kzkr_env(raw, tmp_path / "unused")
    env.pop("KZKR_WAREHOUSE_DIR")
    env["KZKR_DOCS_READONLY"] = "1"
    tests = subprocess.run(
        # its own basetemp: a second session in the shared one would prune the outer session's tmp dirs
        [PYTEST, "-q", "-x", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'nested'}", *DATA_TESTS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert tests.returncode == 0, f"make test's data checks fail with release {new}:\n{tests.stdout[-4000:]}"
    assert "passed" in tests.stdout and os.path.isdir(raw)
