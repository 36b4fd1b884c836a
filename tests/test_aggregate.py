"""The 汇总: exact sums (Decimal for 万元), recomputed totals, checks, scope."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal

import pytest

from nianbao.aggregate import ScopeError, aggregate, check_aggregate, key_figures, resolve_scope
from nianbao.model import Severity
from nianbao.packed import PackedValues
from nianbao.roster import Roster, Unit
from nianbao.schema import GB2021
from nianbao.synth import random_submission


def subs(n=5):
    return [random_submission(random.Random(i), index=i) for i in range(n)]


def test_aggregate_sums_every_cell_and_recomputes_totals():
    members = subs()

    total = aggregate(members, agency="青山县人民政府", year=2025)

    for key in GB2021.cells:
        assert total.values[key] == sum(m.values[key] for m in members), key
    assert total.members == tuple(m.agency for m in members)
    assert total.year == 2025 and total.code == "SUMMARY"


def test_aggregate_adds_fees_as_decimal_exactly():
    base = subs(3)
    fees = [Decimal("0.1"), Decimal("0.2"), Decimal("1234.5678")]
    members = [dataclasses.replace(s, values={**s.values, "t2_8.fees.amount": f})
               for s, f in zip(base, fees, strict=True)]

    total = aggregate(members)

    assert total.values["t2_8.fees.amount"] == Decimal("1234.8678")
    assert isinstance(total.values["t2_8.fees.amount"], Decimal)


def test_aggregate_of_valid_units_passes_every_error_check():
    total = aggregate(subs(8), agency="青山县人民政府", year=2025)

    findings = check_aggregate(total)

    assert [f for f in findings if f.severity is Severity.ERROR] == []


def test_an_unreadable_member_cell_stays_unknown_and_is_reported():
    members = subs(2)
    members[1] = dataclasses.replace(members[1], values={**members[1].values, "t3.r1.natural": None})

    total = aggregate(members, agency="x", year=2025)

    assert total.values["t3.r1.natural"] is None and total.values["t3.r1.total"] is None


def test_packed_members_sum_as_their_plain_values_do():
    """The batch's packed values are added array by array: the same sums as cell by cell,
    with amounts, unreadable cells, large counts, two key orders and plain members mixed."""
    members = subs(12)
    members[1] = dataclasses.replace(members[1], values={**members[1].values,
                                                          "t3.r1.natural": None})
    members[2] = dataclasses.replace(members[2], values={**members[2].values,
                                                          "t2_8.fees.amount": Decimal("12.34")})
    members[3] = dataclasses.replace(members[3], values={**members[3].values,
                                                          "t2_1.rules.issued": 3_000_000_000})
    members[4] = dataclasses.replace(members[4], values=dict(reversed(members[4].values.items())))
    less = dict(members[5].values)
    del less["t4.rv_keep"]  # a member without a cell: that cell's sum is unknown
    members[5] = dataclasses.replace(members[5], values=less)
    packed = [dataclasses.replace(m, values=PackedValues(m.values)) if i % 3 else m
              for i, m in enumerate(members)]
    assert any(isinstance(m.values, PackedValues) for m in packed)

    assert aggregate(packed).values == aggregate(members).values
    total = aggregate(packed).values
    assert total["t3.r1.natural"] is None and total["t4.rv_keep"] is None
    assert total["t2_1.rules.issued"] >= 3_000_000_000
    assert isinstance(total["t2_8.fees.amount"], Decimal)
    clean = subs(6)
    assert aggregate([dataclasses.replace(m, values=PackedValues(m.values)) for m in clean]
                     ).values == aggregate(clean).values


def test_key_figures_follow_the_tables():
    sub = subs(1)[0]

    figures = key_figures(sub)

    assert figures[0] == sub.values["t3.r1.total"]
    assert figures[5] == sub.values["t4.ld_total"] + sub.values["t4.la_total"]


ROSTER = Roster(units=(Unit(code="D1", name="教育局", level="县级部门"),
                       Unit(code="D2", name="公安局", level="县级部门"),
                       Unit(code="T1", name="城关镇人民政府", level="乡镇（街道）")))


@pytest.mark.parametrize(("scope", "codes"), [
    ((), ["D1", "D2", "T1"]), (("全县",), ["D1", "D2", "T1"]), (("县级部门",), ["D1", "D2"]),
    (("乡镇",), ["T1"]), (("T1", "D2"), ["D2", "T1"]), (("教育局",), ["D1"]),
])
def test_resolve_scope(scope, codes):
    assert [u.code for u in resolve_scope(ROSTER, scope)] == codes


def test_unknown_scope_names_the_levels():
    with pytest.raises(ScopeError, match="名单中的层级有：县级部门、乡镇（街道）"):
        resolve_scope(ROSTER, ("本级",))
