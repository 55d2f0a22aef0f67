"""The verdict rules and tolerances of the claims registry (pipelines/audit/claims/).

Every rule has a case for each verdict it can give (a rule that can only say one thing would be a
check that cannot fail). The tolerances are the registry header's, fixed in advance: the rounding a
stated figure implies, one balance limit for both directions, the rapid growth rate; each verdict
records where it would flip and whether that is within a factor 1.5 of its tolerance (sensitive).
"""

from collections.abc import Mapping
from typing import Any

import pytest

from pipelines.audit.claims import default_registry
from pipelines.audit.claims.outcome import CONTRADICTED as X
from pipelines.audit.claims.outcome import NOT_CHECKABLE as N
from pipelines.audit.claims.outcome import SUPPORTED as S
from pipelines.audit.claims.outcome import VERDICTS, EvidenceError, Outcome
from pipelines.audit.claims.rules import RULES
from pipelines.audit.claims.tolerances import GROWTH, RATIO, RELATIVE, Flip

TOL = default_registry().tolerances


def run(rule: str, rows: list[dict[str, Any]], **params: Any) -> Outcome:
    return RULES[rule].fn(rows, params, TOL)


def series(name: str, points: Mapping[int, float | None]) -> list[dict[str, Any]]:
    return [{"series": name, "x": x, "value": v} for x, v in points.items()]


def pairs(points: Mapping[int, tuple[float | None, float | None]]) -> list[dict[str, Any]]:
    return [{"label": k, "a": a, "b": b} for k, (a, b) in points.items()]


W = {"from": 2018, "to": 2019}
RULE_CASES: list[tuple[str, str, list[dict[str, Any]], dict[str, Any], str]] = [
    ("equals-supported", "equals", [{"value": 3}], {"stated": 3}, S),
    ("equals-contradicted", "equals", [{"value": 4}], {"stated": 3}, X),
    ("equals-null", "equals", [{"value": None}], {"stated": 3}, N),
    ("equals-no-rows", "equals", [], {"stated": 3}, N),
    ("equals-rounded", "equals", [{"value": 33}], {"stated": 30, "rounded": True}, S),
    ("equals-rounded-outside", "equals", [{"value": 36}], {"stated": 30, "rounded": True}, X),
    ("equals-text", "equals", [{"value": "abc"}], {"stated": "abd"}, X),
    (
        "approx-supported",
        "approx",
        [{"label": 2018, "value": 52}, {"label": 2019, "value": 55}],
        {"stated": 50},
        S,
    ),
    (
        "approx-one-outside",
        "approx",
        [{"label": 2016, "value": 21}, {"label": 2017, "value": 11}],
        {"stated": 10},
        X,
    ),
    ("approx-all-null", "approx", [{"label": 2019, "value": None}], {"stated": 10}, N),
    (
        "approx-window",
        "approx",
        [{"label": 2016, "value": 99}, {"label": 2018, "value": 10}],
        {"stated": 10, "window": W},
        S,
    ),
    ("approx-window-empty", "approx", [{"label": 2016, "value": 10}], {"stated": 10, "window": W}, N),
    ("ratio-supported", "ratio_approx", [{"numerator": 7762, "denominator": 551}], {"stated": 14}, S),
    ("ratio-contradicted", "ratio_approx", [{"numerator": 1460, "denominator": 100}], {"stated": 14}, X),
    ("ratio-zero-denominator", "ratio_approx", [{"numerator": 1, "denominator": 0}], {"stated": 3}, N),
    ("ratio-null", "ratio_approx", [{"numerator": None, "denominator": 5}], {"stated": 3}, N),
    (
        "values-supported",
        "values_match",
        [{"key": 2010, "value": 232}, {"key": 2019, "value": 969}],
        {"values": {2010: 232, 2019: 969}},
        S,
    ),
    (
        "values-absent-year",
        "values_match",
        [{"key": 2010, "value": 6854}, {"key": 2019, "value": 56011}],
        {"values": {2021: 6854, 2019: 56011}},
        X,
    ),
    ("values-wrong-value", "values_match", [{"key": 2010, "value": 231}], {"values": {2010: 232}}, X),
    ("values-printed-dash", "values_match", [{"key": 2019, "value": None}], {"values": {2019: 5}}, X),
    (
        "values-text",
        "values_match",
        [{"key": "name", "value": "Dept. A"}],
        {"values": {"name": "Dept. A"}},
        S,
    ),
    ("values-no-rows", "values_match", [], {"values": {2010: 232}}, N),
    ("increasing-overall", "increasing", series("s", {2010: 1, 2011: 0.5, 2012: 2}), {"mode": "overall"}, S),
    (
        "increasing-every-step-fails",
        "increasing",
        series("s", {2010: 1, 2011: 0.5, 2012: 2}),
        {"mode": "every_step"},
        X,
    ),
    (
        "increasing-every-step",
        "increasing",
        series("s", {2010: 1, 2011: 2, 2012: 3}),
        {"mode": "every_step"},
        S,
    ),
    ("increasing-steady-needs-3", "increasing", series("s", {2018: 1, 2019: 2}), {"mode": "every_step"}, N),
    ("increasing-one-point", "increasing", series("s", {2018: 1, 2019: None}), {"mode": "overall"}, N),
    ("increasing-flat", "increasing", series("s", {1: 11, 4: 11}), {"mode": "overall"}, X),
    (
        "increasing-rapid",
        "increasing",
        series("s", {2017: 100, 2018: 120, 2019: 150}),
        {"mode": "overall", "rapid": True},
        S,
    ),
    (
        "increasing-not-rapid",
        "increasing",
        series("s", {2017: 100, 2018: 101, 2019: 103.5}),
        {"mode": "overall", "rapid": True},
        X,
    ),
    (
        "increasing-rapid-needs-3",
        "increasing",
        series("s", {2018: 100, 2019: 150}),
        {"mode": "overall", "rapid": True},
        N,
    ),
    (
        "increasing-one-series-falls",
        "increasing",
        series("in", {2016: 25, 2019: 55}) + series("out", {2016: 21, 2019: 8}),
        {"mode": "overall"},
        X,
    ),
    (
        "increasing-window",
        "increasing",
        series("s", {2018: 1, 2019: 2, 2020: 0}),
        {"mode": "overall", "window": W},
        S,
    ),
    ("decreasing-supported", "decreasing", series("s", {2019: 55, 2020: 2}), {"mode": "overall"}, S),
    ("decreasing-contradicted", "decreasing", series("s", {2019: 5, 2020: 6}), {"mode": "overall"}, X),
    ("decreasing-no-rows", "decreasing", [], {"mode": "overall"}, N),
    ("greater-supported", "greater_than", pairs({2010: (143, 89)}), {}, S),
    ("greater-contradicted", "greater_than", pairs({2010: (89, 143)}), {}, X),
    ("greater-null", "greater_than", pairs({2019: (None, 5)}), {}, N),
    ("balanced-supported", "balanced", pairs({2016: (1014, 838)}), {}, S),
    ("balanced-contradicted", "balanced", pairs({2010: (8, 187)}), {}, X),
    ("balanced-other-direction", "balanced", pairs({2010: (187, 8)}), {}, X),
    ("balanced-null", "balanced", pairs({2019: (None, None)}), {}, N),
    ("imbalanced-supported", "imbalanced", pairs({2020: (4907, 1004)}), {}, S),
    ("imbalanced-either-direction", "imbalanced", pairs({2018: (921, 2976)}), {}, S),
    ("imbalanced-contradicted", "imbalanced", pairs({2019: (3465, 3080)}), {}, X),
    ("imbalanced-null", "imbalanced", pairs({2019: (None, 3080)}), {}, N),
    (
        "rank-supported",
        "rank_at_most",
        [{"label": 2010, "rank": 8}, {"label": 2020, "rank": 10}],
        {"max_rank": 10},
        S,
    ),
    ("rank-contradicted", "rank_at_most", [{"label": 2020, "rank": 11}], {"max_rank": 10}, X),
    ("rank-vacuous", "rank_at_most", [{"label": 2020, "rank": 10, "n_ranked": 10}], {"max_rank": 10}, N),
    ("rank-not-vacuous", "rank_at_most", [{"label": 2020, "rank": 10, "n_ranked": 12}], {"max_rank": 10}, S),
    ("rank-no-rows", "rank_at_most", [], {"max_rank": 10}, N),
    ("span-supported", "year_span", [{"first_year": 2010, "last_year": 2019}], {"from": 2010, "to": 2019}, S),
    (
        "span-contradicted",
        "year_span",
        [{"first_year": 2010, "last_year": 2020}],
        {"from": 2010, "to": 2019},
        X,
    ),
    ("span-null", "year_span", [{"first_year": None, "last_year": None}], {"from": 2010, "to": 2019}, N),
    ("not-checkable", "not_checkable", [{"year": 2018, "rank": 6}], {}, N),
]


@pytest.mark.parametrize(
    ("rule", "rows", "params", "expected"),
    [pytest.param(r, rows, p, e, id=i) for i, r, rows, p, e in RULE_CASES],
)
def test_rule_verdicts(rule: str, rows: list[dict[str, Any]], params: dict[str, Any], expected: str) -> None:
    outcome = run(rule, rows, **params)
    assert outcome.verdict == expected, outcome
    assert outcome.verdict in VERDICTS


def test_every_rule_has_a_case_for_each_outcome() -> None:
    seen: dict[str, set[str]] = {}
    for _, rule, _, _, verdict in RULE_CASES:
        seen.setdefault(rule, set()).add(verdict)
    for rule in RULES:
        expected = {N} if rule == "not_checkable" else {S, X, N}
        assert seen.get(rule, set()) >= expected, (
            f"rule {rule} lacks cases for {expected - seen.get(rule, set())}"
        )


def test_rule_reasons_explain_the_verdict() -> None:
    out = run(
        "values_match",
        [{"key": 2010, "value": 6854}, {"key": 2019, "value": 56011}],
        values={2021: 6854, 2019: 56011},
    )
    assert "2021 is not in the cited table (it covers 2010-2019)" in out.reason
    assert "6,854 is the value printed for 2010" in out.reason
    out = run(
        "approx",
        [{"label": y, "value": v} for y, v in ((2016, 21), (2017, 11), (2018, 14), (2019, 8))],
        stated=10,
    )
    assert "2016: 21" in out.reason and "2018: 14" not in out.reason and "5 to 15" in out.reason
    out = run("increasing", series("s", {2017: 100, 2018: 101, 2019: 103.5}), mode="overall", rapid=True)
    assert "+1.7 %/yr is below the rapid threshold of +10.0 %/yr" in out.reason
    out = run("increasing", series("s", {2018: 100, 2019: 150}), mode="overall", rapid=True)
    assert "at least three" in out.reason
    out = run("rank_at_most", [{"label": 2020, "rank": 10, "n_ranked": 10}], max_rank=10)
    assert out.reason.startswith("vacuous: only 10 items are ranked")
    out = run("imbalanced", pairs({2018: (921, 2976), 2019: (3465, 3080)}))
    assert out.verdict == X and "2019: x1.12" in out.reason and "2018" not in out.reason


def test_evidence_with_wrong_columns_is_an_error() -> None:
    with pytest.raises(EvidenceError, match="column 'value'"):
        run("equals", [{"n": 3}], stated=3)
    with pytest.raises(EvidenceError, match="exactly one row"):
        run("ratio_approx", [{"numerator": 1, "denominator": 1}] * 2, stated=1)


def test_trend_outcomes_name_the_years_they_rest_on() -> None:
    out = run("increasing", series("s", {2016: 1, 2018: 2, 2019: 3, 2020: 0}), mode="overall", window=W)
    assert out.years == (2018, 2019)
    assert run("increasing", series("s", {2018: 1, 2019: 2}), mode="overall", rapid=True).years == (
        2018,
        2019,
    )


# --------------------------------------------------------------------------- tolerances


@pytest.mark.parametrize(
    ("stated", "observed", "ok"),
    [
        (14, 14.087, True),
        (14, 13.5, True),  # ties accepted: a writer may round a half either way
        (14, 14.5, True),
        (14, 14.51, False),
        (14, 14.171, True),  # "almost 14": the polarity of "almost" is not scored
        (3, 1.125, False),
        (30, 25, True),
        (30, 24.9, False),
        (50, 55, True),
        (50, 56, False),
        (300, 291, True),
        (300, 249, False),
        (10, 14, True),
        (10, 21, False),
        (0.62, 0.6243, True),
        (0.62, 0.6251, False),
    ],
)
def test_rounding_tolerance(stated: float, observed: float, ok: bool) -> None:
    assert TOL.rounding.accepts(observed, stated) is ok


def test_one_tolerance_per_kind_the_same_for_every_claim() -> None:
    assert TOL.rounding.relative(50) == pytest.approx(0.10)
    assert TOL.rounding.relative(30) == pytest.approx(0.5 / 3)
    assert TOL.rounding.relative(14) == pytest.approx(0.5 / 14)
    assert TOL.balance.max_ratio == 1.5 and TOL.rapid.min_annual_growth == pytest.approx(0.10)
    # no claim may bring its own tolerance: the rules take none as a param
    for rule in RULES.values():
        assert not {"hedge", "tolerance", "min_ratio", "min_annual_growth"} & set(rule.params.optional)


@pytest.mark.parametrize(
    ("flip", "sensitive"),
    [
        (Flip(0.10, 0.10, RELATIVE), True),  # at the tolerance
        (Flip(0.10, 0.149, RELATIVE), True),
        (Flip(0.10, 0.151, RELATIVE), False),
        (Flip(0.10, 0.067, RELATIVE), True),
        (Flip(0.10, 0.066, RELATIVE), False),
        (Flip(1.5, 1.21, RATIO), False),  # excess 0.21 of 0.5
        (Flip(1.5, 1.40, RATIO), True),
        (Flip(0.10, 0.111, GROWTH), True),
        (Flip(0.0, 0.001, GROWTH), False),  # no tolerance, nothing to be sensitive to
        (Flip(0.10, None, RELATIVE), False),
    ],
)
def test_sensitivity_is_a_factor_of_1_5_of_the_tolerance(flip: Flip, sensitive: bool) -> None:
    assert flip.sensitive is sensitive


def test_each_tolerance_rule_records_where_it_flips() -> None:
    out = run("approx", [{"label": 2018, "value": 52}, {"label": 2019, "value": 55}], stated=50)
    assert out.flip == Flip(pytest.approx(0.1), pytest.approx(0.1), RELATIVE) and out.flip.sensitive
    out = run("ratio_approx", [{"numerator": 7762, "denominator": 551}], stated=14)
    assert (
        out.flip is not None
        and out.flip.flip_at == pytest.approx(7762 / 551 / 14 - 1)
        and not out.flip.sensitive
    )
    out = run("balanced", pairs({2016: (1014, 838), 2010: (191, 177)}))
    assert out.flip is not None and out.flip.flip_at == pytest.approx(1014 / 838)
    out = run("increasing", series("s", {2016: 46, 2017: 29, 2018: 66, 2019: 63}), mode="overall", rapid=True)
    assert out.flip is not None and out.flip.flip_at == pytest.approx((63 / 46) ** (1 / 3) - 1)
    out = run("decreasing", series("s", {2019: 55, 2020: 2}), mode="overall")
    assert out.flip is not None and out.flip.flip_at == pytest.approx(2 / 55 - 1)  # signed, as observed
    assert run("values_match", [{"key": 2010, "value": 1}], values={2010: 1}).flip is None
