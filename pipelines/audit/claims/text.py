"""The paper's prose, split into sentences, and the candidates for the claims registry in it.

A candidate is a number, a number word, a comparative or a trend word, or a sentence citing a table
or a figure; tests/test_claims_text.py requires each to be quoted by a claim or by a `skipped`
entry of the registry. Dagster-free; reads nothing at import time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

FOOTNOTE_RE = re.compile(r"^[¹²³⁴⁵⁶⁷⁸⁹]+\s+")
CAPTION_RE = re.compile(r"^(Table \d+\.|Figure \d+\.|Source:)")
SUP = "¹²³⁴⁵⁶⁷⁸⁹"
END_RE = re.compile(rf"[.!?:;”\"][{SUP}]*\s*$")
SPLIT_RE = re.compile(rf"(?:(?<=[.!?])|(?<=[.!?][{SUP}]))\s+(?=[A-Z“\"(\u0400-\u04FF])")
ABBREV_RE = re.compile(r"(\b[A-Z]\.|\bDept\.|\bi\.e\.|\be\.g\.|\bГ\.Н\.|\bvs\.)$")
# Not claims: references to tables and figures, citations "(Oh 2007)", names with digits.
# Not quantities: references to tables and figures (a sentence citing one must be registered as a
# whole, see REFERENCE_RE), citations "(Oh 2007)", names with digits, "the two countries" (Korea and
# Kazakhstan).
REFERENCE_RE = re.compile(r"\b(?:Tables?|Figures?) \d+(?: and \d+)?")
NOT_CLAIM_RE = re.compile(
    r"\b(?:Tables?|Figures?) \d+(?: and \d+)?|\((?=[^()]*[^\W\d_])[^()]*\b\d{4}\)|\b[A-Z]-\d+\b|COVID-19"
    r"|\bthe two (?:countries|nations|counties)\b"
)
# Number words and comparatives (with their inflections) that make a sentence a candidate.
NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?"
    r"|thousands?|millions?|billions?|dozens?|half|twice|doubled?|triple|fold|first|second|third"
)
COMPARATIVES = (
    r"more|less|fewer|most|least|many|several|numerous|majority|largest|biggest|oldest|greatest|richest"
    r"|highest|lowest|leading|top|increas(?:e|ed|es|ing)|decreas(?:e|ed)|declined?|grow(?:s|n|ing|th)?"
    r"|ris(?:e|ing)|rapid(?:ly)?|steady|steadily|exponential(?:ly)?|than"
)
CANDIDATE_RE = re.compile(rf"\d[\d,.]*\d|\d|\b(?:{NUMBER_WORDS}|{COMPARATIVES})\b|-fold\b", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    sentence: str
    token: str
    start: int  # offset of the token in the sentence


def prose_paragraphs(text: str) -> list[str]:
    """The prose (abstract, body, footnotes, conclusion) as paragraphs, without tables and captions."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("Abstract:"))
    end = next(i for i, ln in enumerate(lines) if ln.strip() == "Acknowledgements")
    body, notes, skipping = [], [], False
    for raw in lines[start:end]:
        line = raw.strip()
        if raw.startswith("Keywords:"):
            skipping = True  # keywords and the Turkish title, abstract and keywords
        if line == "Introduction":
            skipping = False
        if skipping or not line or "\t" in raw or CAPTION_RE.match(line):
            continue
        if len(line.split()) <= 4 and not END_RE.search(line):
            continue  # a heading
        m = FOOTNOTE_RE.match(line)
        if m:
            notes.append(line[m.end() :])
            continue
        if body and not END_RE.search(body[-1]):
            body[-1] = f"{body[-1]} {line}"  # a sentence broken by a page or a footnote
        else:
            body.append(line)
    return body + notes


def sentences(paragraph: str) -> list[str]:
    out: list[str] = []
    for piece in SPLIT_RE.split(paragraph):
        if out and ABBREV_RE.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def candidates(sentence: str) -> Iterator[Candidate]:
    masked = NOT_CLAIM_RE.sub(lambda m: " " * len(m.group()), sentence)
    for m in CANDIDATE_RE.finditer(masked):
        yield Candidate(sentence, m.group(), m.start())


def uncovered(text: str, quotes: Iterable[str]) -> list[Candidate]:
    """Candidates not covered by ``quotes`` (registered claims and deliberately skipped passages).

    A number, number word or comparative must lie inside a quote; a sentence citing a table or a
    figure must overlap at least one quote."""
    quotes = [q for q in quotes if q]
    out = []
    for para in prose_paragraphs(text):
        spans = [(m.start(), m.start() + len(q)) for q in quotes for m in re.finditer(re.escape(q), para)]
        offset = 0
        for sentence in sentences(para):
            start = para.index(sentence, offset)
            end = offset = start + len(sentence)
            for c in candidates(sentence):
                if not any(a <= start + c.start < b for a, b in spans):
                    out.append(c)
            ref = REFERENCE_RE.search(sentence)
            if ref and not any(a < end and start < b for a, b in spans):
                out.append(Candidate(sentence, ref.group(), ref.start()))
    return out
