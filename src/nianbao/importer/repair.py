"""The totals printed in a report confirm a reading, or fill in a cell that could not be read.

Every total of the format (row totals, （七）总计, 表四's 总计) and 表三's
balance is one linear equation.  With the printed totals as the known side, an
equation with one unreadable cell gives that cell; an equation whose unreadable
cells must add up to 0 gives 0 for each (counts are never negative).  Repeated
until nothing changes, so a whole lost row is recovered from the column totals.
Totals that disagree with their parts are left to the ordinary checks
(``t3-row-total``, ``t3-result-total``, ``t4-total``), which report them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from nianbao.model import Value
from nianbao.schema import FormatSpec

Term = tuple[str, int]  # (key, sign)


def _equations(spec: FormatSpec) -> list[list[Term]]:
    out: list[list[Term]] = []
    for rule in spec.sums:
        out.append([(rule.target, 1), *((p, -1) for p in rule.parts)])
    for balance in spec.balances:
        out.append([*((k, 1) for k in balance.left), *((k, -1) for k in balance.right)])
    return out


def repair(spec: FormatSpec, values: Mapping[str, Value | None],
           claims: Mapping[str, Value]) -> dict[str, Value]:
    """The input cells that the printed totals determine: key -> value.

    ``values`` holds the inputs as read (None: unreadable); ``claims`` the printed totals.
    """
    inputs = set(spec.input_keys)
    known: dict[str, Value] = {k: v for k, v in values.items() if k in inputs and v is not None}
    known |= {k: v for k, v in claims.items() if k not in inputs}
    solved: dict[str, Value] = {}
    equations = _equations(spec)
    changed = True
    while changed:
        changed = False
        for terms in equations:
            residual: Value = 0
            unknown: list[Term] = []
            for key, sign in terms:
                if key in known:
                    residual += sign * known[key]
                else:
                    unknown.append((key, sign))
            if not unknown:
                continue
            if len(unknown) == 1:
                key, sign = unknown[0]
                value = -residual * sign  # sign is ±1
                if value < 0 or (isinstance(value, Decimal) and value != value.to_integral()):
                    continue
                known[key] = int(value)
                if key in inputs:
                    solved[key] = int(value)
                changed = True
            elif residual == 0 and len({s for _, s in unknown}) == 1 and all(
                    k in inputs for k, _ in unknown):
                for key, _ in unknown:
                    known[key] = solved[key] = 0
                changed = True
    return solved
