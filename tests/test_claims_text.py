"""Coverage of the paper's text by the claims registry, and the text's own contradictions.

Every passage of the prose with a number, a number word, a comparative or trend word, or a reference
to a table or a figure must be quoted by a registered claim or listed under ``skipped`` with a reason
(expectations/claims.yml). The candidates are found in ../shared/paper/ itself, so a sentence the
registry forgot fails the test. Fails on the old registry (raw/claims.yml): it missed, among others,
the Table 5 sentence on Kazakhstani studies and the life dates of the cultural section.
"""

import re
from pathlib import Path

import pytest

from pipelines.audit.claims import default_registry
from pipelines.audit.claims.text import candidates, prose_paragraphs, sentences, uncovered

REPO = Path(__file__).resolve().parents[1]
PAPER_DIR = next(
    (p / "shared" / "paper" for p in REPO.parents if (p / "shared" / "paper").is_dir()), REPO / "paper"
)
REG = default_registry()


@pytest.fixture(scope="module")
def paper() -> str:
    papers = sorted(PAPER_DIR.glob("*.txt")) if PAPER_DIR.is_dir() else []
    if not papers:
        pytest.skip(f"the paper text is not available under {PAPER_DIR}")
    return "\n".join(p.read_text(encoding="utf-8") for p in papers)


def test_every_candidate_is_registered_or_deliberately_skipped(paper: str) -> None:
    quotes = [c.quote for c in REG.claims] + [s.quote for s in REG.skipped]
    missing = uncovered(paper, quotes)
    listing = "\n".join(f"  {c.token!r} in: {c.sentence}" for c in missing)
    assert not missing, f"{len(missing)} candidates neither registered nor skipped:\n{listing}"


def test_every_skipped_passage_is_verbatim_needed_and_has_a_reason(paper: str) -> None:
    left = uncovered(paper, [c.quote for c in REG.claims])  # what the claims alone leave uncovered
    for skip in REG.skipped:
        assert skip.quote in paper, f"skipped passage not verbatim in the paper: {skip.quote!r}"
        assert len(skip.reason) > 10, skip.quote
        covers = [
            c
            for c in left
            for m in re.finditer(re.escape(skip.quote), c.sentence)
            if m.start() <= c.start < m.end()
        ]
        assert covers, f"skipped passage covers no candidate (remove it, or register it): {skip.quote!r}"


def test_the_detector_finds_what_a_reader_would(paper: str) -> None:
    """The detector itself: breaking the registry (dropping a claim) makes its sentence a candidate."""
    without = [c.quote for c in REG.claims if c.id != "culture_life_dates_gye_hwang"] + [
        s.quote for s in REG.skipped
    ]
    tokens = {c.token for c in uncovered(paper, without)}
    assert {"1880", "1956", "1899", "1989"} <= tokens
    without = [c.quote for c in REG.claims if c.id != "edu_table5_kazakhstani_studies_included"] + [
        s.quote for s in REG.skipped
    ]
    assert any(c.token == "Table 5" for c in uncovered(paper, without)), (
        "a sentence citing a table is a candidate"
    )
    sentence = (
        "Immigrant workers also account for many Kazakhstani citizens, with a 14-fold increase (Table 3)."
    )
    assert [c.token for c in candidates(sentence)] == ["many", "14", "-fold", "increase"]
    assert [c.token for c in candidates("the two countries signed it (Oh 2007) in COVID-19 times")] == []


def test_the_prose_excludes_tables_captions_and_the_turkish_abstract(paper: str) -> None:
    prose = " ".join(prose_paragraphs(paper))
    assert "10,292,242" not in prose and "Source: Korea Immigration Service" not in prose
    assert "Öz:" not in prose and "Acknowledgements" not in prose and "Hwang, Balbina" not in prose
    # a sentence broken by a page and a footnote is joined again
    assert "According to statistical data, more female students come to Korea than male students" in prose
    split = [s for p in prose_paragraphs(paper) for s in sentences(p)]
    assert any(
        s.startswith("Other universities") or "L. N. Gumilyov Eurasian National University" in s
        for s in split
    )
    assert not any(re.fullmatch(r"[A-Z]\.", s.split()[-1]) for s in split), "split after an initial"


def test_text_contradictions_quote_the_paper_verbatim(paper: str) -> None:
    ids = {d.id for d in REG.text_discrepancies}
    assert {
        "table5_source_predates_its_content",
        "first_korean_cultural_center",
        "no_turkic_center_vs_yunus_emre",
    } <= ids
    for d in REG.text_discrepancies:
        assert d.passage_a in paper and d.passage_b in paper, d.id
        assert d.passage_a != d.passage_b and len(d.note) > 30, d.id
