"""Property tests: what the error rules can and cannot see.

Setting: a :class:`Submission` as the reader builds it — every computed cell
(表三 总计 column and （七）总计 row, 表四 总计) recomputed from the inputs — checked
with :func:`nianbao.rules.validate`.  The error rules that look at numbers are then:

* ``t3-balance``: per 表三 column (6 applicant columns and 总计),
  一 + 二 = 三（七）总计 + 四.  Every 表三 input is on exactly one side of its
  column's equation (一/二 on the left; the 21 result rows through （七）总计, and 四,
  on the right), so changing ONE 表三 input to another number always breaks its
  column and the 总计 column.  (Changing it to "unreadable" (None) switches the
  balance off for that column: the reader reports the unreadable cell itself.)
* ``t3-row-total`` / ``t3-result-total`` / ``t4-total``: only when the file showed a
  total (a typed value or a client's cached formula result, kept as a *claim*).
  With recomputed totals and no claims they cannot fire.

Hence, honestly:

* 表二 has no rule at all: any change there is invisible to the error rules.
* 表四's only rule compares a claimed 总计 with the recomputed one: without claims
  a change to a 表四 input is invisible; with the original totals claimed it is caught.
* Linear rules cannot see changes that keep every equation: moving applications
  between two result rows of one column, or between 一 and 二 of one column, or adding
  the same number to 一 and to a result row.  With claimed row totals the first two
  are caught by ``t3-row-total`` (the rows' 总计 change); a 2×2 "swap" (one fewer in
  row A/column X and row B/column Y, one more in row A/column Y and row B/column X)
  keeps every row and column sum and is invisible even then.

Plausibility and narrative rules are warnings; they may fire on changed data and are
not asserted here.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from nianbao.model import Severity, Submission, Value
from nianbao.rules import Where, validate
from nianbao.schema import DEFAULT_FORMAT, GB2021, ValueType
from nianbao.synth import random_submission
from nianbao.values import Issue, parse_cell

SPEC = DEFAULT_FORMAT
T3_COLUMNS = ("natural", "commercial", "research", "social", "legal", "other")
RESULT_ROWS = tuple(r.id for r in SPEC.table("t3").data_rows
                    if r.id.startswith("r3_") and not r.computed)
T3_INPUTS = tuple(k for k in SPEC.input_keys if k.startswith("t3."))
T2_INPUTS = tuple(k for k in SPEC.input_keys if k.startswith("t2"))
T4_INPUTS = tuple(k for k in SPEC.input_keys if k.startswith("t4."))
T4_TOTALS = tuple(k for k in SPEC.computed_keys if k.startswith("t4."))

seeds = st.integers(min_value=0, max_value=2**32 - 1)
scales = st.sampled_from((0, 1, 5, 20, 60, 300))
deltas = st.integers(min_value=-50, max_value=50).filter(bool)
PROPERTY = settings(max_examples=60, deadline=None)


def valid_submission(seed: int, scale: int) -> Submission:
    return random_submission(random.Random(seed), index=seed % 1000, scale=scale)


def changed(sub: Submission, edits: dict[str, int], *, claims: bool = False) -> Submission:
    """``sub`` with inputs changed by ``edits`` (key -> delta), totals recomputed.

    With ``claims`` the file is taken to show the ORIGINAL totals (as a client's
    cached formulas would until recalculated), so the claim rules can compare.
    """
    values: dict[str, Value | None] = dict(sub.values)
    for key, delta in edits.items():
        values[key] = (values[key] or 0) + delta
    GB2021.recompute(values)
    shown = {k: v for k, v in sub.values.items()
             if claims and k in SPEC.computed_keys and v is not None}
    return replace(sub, values=values, claims=shown)


def errors(sub: Submission) -> list[tuple[str, str | None]]:
    return [(f.code, f.key) for f in validate(sub, Where(), spec=SPEC)
            if f.severity is Severity.ERROR]


@PROPERTY
@given(seeds, scales)
def test_properties_valid_tables_pass_every_error_rule(seed: int, scale: int) -> None:
    sub = valid_submission(seed, scale)

    assert errors(sub) == []
    assert errors(changed(sub, {}, claims=True)) == []


@PROPERTY
@given(seeds, scales, st.sampled_from(T3_INPUTS), deltas)
def test_properties_single_t3_change_breaks_its_column(seed: int, scale: int, key: str,
                                                       delta: int) -> None:
    sub = valid_submission(seed, scale)
    delta = max(delta, -int(sub.value(key)))  # counts stay >= 0
    if delta == 0:
        delta = 1

    found = errors(changed(sub, {key: delta}))

    column = key.rsplit(".", 1)[1]
    assert ("t3-balance", f"t3.r4.{column}") in found
    assert ("t3-balance", "t3.r4.total") in found


@PROPERTY
@given(seeds, scales, st.sampled_from(T2_INPUTS + T4_INPUTS), deltas)
def test_properties_single_t2_t4_change_is_invisible_without_claims(
        seed: int, scale: int, key: str, delta: int) -> None:
    """No rule covers 表二; 表四's only rule needs a claimed total."""
    sub = valid_submission(seed, scale)
    delta = max(delta, -int(sub.value(key))) or 1

    assert errors(changed(sub, {key: delta})) == []


@PROPERTY
@given(seeds, scales, st.sampled_from(T4_INPUTS), deltas)
def test_properties_single_t4_change_caught_when_total_claimed(seed: int, scale: int, key: str,
                                                                delta: int) -> None:
    sub = valid_submission(seed, scale)
    delta = max(delta, -int(sub.value(key))) or 1

    found = errors(changed(sub, {key: delta}, claims=True))

    group = key.split(".")[1].split("_")[0]
    assert found == [("t4-total", f"t4.{group}_total")]


@PROPERTY
@given(seeds, scales, st.sampled_from(T2_INPUTS), deltas)
def test_properties_t2_change_invisible_even_with_claims(seed: int, scale: int, key: str,
                                                          delta: int) -> None:
    sub = valid_submission(seed, scale)
    if SPEC.cells[key].type is ValueType.COUNT:
        delta = max(delta, -int(sub.value(key))) or 1
        edit: dict[str, int] = {key: delta}
    else:  # the fee: any non-negative amount
        edit = {key: abs(delta)}

    assert errors(changed(sub, edit, claims=True)) == []


@st.composite
def move_between_result_rows(draw: st.DrawFn, sub: Submission) -> dict[str, int]:
    column = draw(st.sampled_from(T3_COLUMNS))
    source, target = draw(st.lists(st.sampled_from(RESULT_ROWS), min_size=2, max_size=2,
                                   unique=True))
    have = int(sub.value(f"t3.{source}.{column}"))
    moved = draw(st.integers(min_value=1, max_value=max(have, 1)))
    if have == 0:  # nothing to move from: add to both ends' neighbours instead
        return {f"t3.{target}.{column}": moved, f"t3.r1.{column}": moved}
    return {f"t3.{source}.{column}": -moved, f"t3.{target}.{column}": moved}


@PROPERTY
@given(seeds, scales, st.data())
def test_properties_moves_within_a_column_are_invisible(seed: int, scale: int,
                                                        data: st.DataObject) -> None:
    """Linear rules see sums, not where inside a column's side the numbers are."""
    sub = valid_submission(seed, scale)
    edit = data.draw(move_between_result_rows(sub))

    assert errors(changed(sub, edit)) == []


@PROPERTY
@given(seeds, scales, st.sampled_from(T3_COLUMNS), st.integers(1, 20))
def test_properties_new_carried_swap_invisible_without_claims(seed: int, scale: int,
                                                              column: str, k: int) -> None:
    sub = valid_submission(seed, scale)
    moved = min(k, int(sub.value(f"t3.r2.{column}")))
    edit = ({f"t3.r1.{column}": moved, f"t3.r2.{column}": -moved} if moved
            else {f"t3.r1.{column}": k, f"t3.r3_1.{column}": k})  # same number on both sides

    assert errors(changed(sub, edit)) == []


@PROPERTY
@given(seeds, st.sampled_from((20, 60, 300)), st.data())
def test_properties_claimed_row_totals_catch_a_move_between_rows(seed: int, scale: int,
                                                                 data: st.DataObject) -> None:
    sub = valid_submission(seed, scale)
    column = data.draw(st.sampled_from(T3_COLUMNS))
    sources = [r for r in RESULT_ROWS if sub.value(f"t3.{r}.{column}")]
    if not sources:
        return
    source = data.draw(st.sampled_from(sources))
    target = data.draw(st.sampled_from([r for r in RESULT_ROWS if r != source]))

    found = errors(changed(sub, {f"t3.{source}.{column}": -1, f"t3.{target}.{column}": 1},
                           claims=True))

    assert ("t3-row-total", f"t3.{source}.total") in found
    assert ("t3-row-total", f"t3.{target}.total") in found


@PROPERTY
@given(seeds, st.sampled_from((20, 60, 300)), st.data())
def test_properties_two_by_two_swap_is_invisible_even_with_claims(seed: int, scale: int,
                                                                  data: st.DataObject) -> None:
    sub = valid_submission(seed, scale)
    x, y = data.draw(st.lists(st.sampled_from(T3_COLUMNS), min_size=2, max_size=2, unique=True))
    a, b = data.draw(st.lists(st.sampled_from(RESULT_ROWS), min_size=2, max_size=2, unique=True))
    if not (sub.value(f"t3.{a}.{x}") and sub.value(f"t3.{b}.{y}")):
        return
    edit = {f"t3.{a}.{x}": -1, f"t3.{b}.{y}": -1, f"t3.{a}.{y}": 1, f"t3.{b}.{x}": 1}

    assert errors(changed(sub, edit, claims=True)) == []


# ------------------------------------------------------------------- one cell's content

cell_contents = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True), st.text(max_size=60), st.datetimes(),
    st.from_regex(r"\s*[-+]?[0-9０-９,]{0,25}([.．][0-9]{0,25})?([eE][-+]?[0-9]{1,4})?\s*(件|万元)?",
                  fullmatch=True),
)
ERROR_ISSUES = {Issue.NOT_NUMBER, Issue.BOOLEAN, Issue.DATE, Issue.FORMULA_ERROR,
                Issue.FORMULA_NO_VALUE, Issue.NEGATIVE, Issue.NOT_INTEGER, Issue.TOO_LARGE}


@settings(max_examples=500, deadline=None)
@given(cell_contents, st.sampled_from(list(ValueType)))
def test_properties_parse_cell_never_raises_and_explains_every_none(raw: object,
                                                                    kind: ValueType) -> None:
    parsed = parse_cell(raw, kind)

    if parsed.value is None:
        assert set(parsed.issues) & ERROR_ISSUES
    else:
        assert not set(parsed.issues) & ERROR_ISSUES
        assert parsed.value >= 0
        if kind is ValueType.COUNT:
            assert isinstance(parsed.value, int)
        else:
            assert isinstance(parsed.value, Decimal) and parsed.value.is_finite()
