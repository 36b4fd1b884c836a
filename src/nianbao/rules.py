"""The checks: the format's 勾稽关系 (from the schema) and the soft plausibility rules.

Each check returns findings; none raises for bad data.  Rule codes are stable
and kebab-case; the table in README.md lists them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from nianbao import kinds
from nianbao.model import Finding, Submission, Value
from nianbao.schema import DEFAULT_FORMAT, FormatSpec
from nianbao.settings import DEFAULT_SETTINGS, Settings
from nianbao.textchecks import TextDocument, check_text


@dataclass(frozen=True, slots=True, kw_only=True)
class Where:
    """Where each key and each 基本信息 field was found (sheet, A1); from the reader or layout."""

    cells: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    info: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def of(self, key: str) -> tuple[str | None, str | None]:
        sheet, cell = self.cells.get(key) or self.info.get(key) or (None, None)
        return sheet or None, cell or None

    def ref(self, key: str) -> str:
        sheet, cell = self.of(key)
        return f"{sheet}!{cell}" if sheet and cell else key


def _fmt(value: Value | None) -> str:
    return "?" if value is None else str(value)


def _finding(kind_id: str, where: Where, anchor: str, related: tuple[str, ...] = (),
             expected: Value | None = None, actual: Value | None = None,
             settings: Settings = DEFAULT_SETTINGS, **fields: object) -> Finding:
    """A finding of the catalogue's ``kind_id`` at the cell where ``anchor`` was read."""
    sheet, cell = where.of(anchor)
    return kinds.finding(kind_id, settings=settings, sheet=sheet, cell=cell,
                         key=anchor if "." in anchor else None,
                         related=tuple(where.ref(k) for k in related), expected=expected,
                         actual=actual, **fields)


def check_totals(sub: Submission, where: Where, spec: FormatSpec) -> Iterator[Finding]:
    """A total present in the file (typed or cached) must equal the recomputed one."""
    for rule in spec.sums:
        claim = sub.claims.get(rule.target)
        computed = sub.values.get(rule.target)
        if claim is None or computed is None or claim == computed:
            continue
        label = spec.cells[rule.target].label
        yield _finding(rule.code, where, rule.target, rule.parts, expected=computed, actual=claim,
                       description=rule.description, label=label, computed=computed,
                       claim=claim, diff=claim - computed)


def check_balances(sub: Submission, where: Where, spec: FormatSpec) -> Iterator[Finding]:
    """表三's printed rule, per column: 一 + 二 = 三（七）总计 + 四."""
    for rule in spec.balances:
        left = [sub.values.get(k) for k in rule.left]
        right = [sub.values.get(k) for k in rule.right]
        if any(v is None for v in (*left, *right)):
            continue
        lsum = sum(v for v in left if v is not None)
        rsum = sum(v for v in right if v is not None)
        if lsum == rsum:
            continue
        anchor = rule.right[-1]  # 四、结转下年度继续办理: the input that closes the balance
        column = spec.cells[anchor].column.label
        parts = "，".join(f"{_row_label(spec, k)} {_fmt(sub.values.get(k))}"
                         for k in (*rule.left, *rule.right))
        yield _finding(rule.code, where, anchor,
                       tuple(k for k in (*rule.left, *rule.right) if k != anchor),
                       expected=lsum, actual=rsum, column=column, description=rule.description,
                       left=lsum, right=rsum, diff=lsum - rsum, parts=parts)


def _row_label(spec: FormatSpec, key: str) -> str:
    row = spec.cells[key].row
    return row.label if row is not None else key


def check_header(sub: Submission, where: Where, settings: Settings,
                 year_text: str = "") -> Iterator[Finding]:
    if not sub.agency.strip():
        yield _finding("agency-missing", where, "agency")
    if sub.year is None:
        yield _finding("year-missing:shown" if year_text else "year-missing", where, "year",
                       shown=year_text)
    elif settings.expected_year and sub.year != settings.expected_year:
        yield _finding("year-mismatch", where, "year", expected=settings.expected_year,
                       actual=sub.year, year=sub.year, wanted=settings.expected_year)


def check_plausibility(sub: Submission, where: Where, spec: FormatSpec) -> Iterator[Finding]:
    """Soft rules on the tables: 规章 authority, 现行有效 lower bound."""
    t21 = spec.table("t2_1")
    rules_keys = [t21.key("rules", c.id) for c in t21.columns]
    if any(sub.value(k) for k in rules_keys) and sub.level not in spec.rule_making_levels:
        yield _finding("rules-authority" if sub.level else "rules-authority:no-level", where,
                       rules_keys[0], level=sub.level)
    for row in t21.data_rows:
        issued, repealed, in_force = (sub.values.get(t21.key(row.id, c.id)) for c in t21.columns)
        if None in (issued, repealed, in_force):
            continue
        assert issued is not None and repealed is not None and in_force is not None
        if in_force < issued - repealed:
            yield _finding(
                "in-force-lower-bound", where, t21.key(row.id, "in_force"),
                (t21.key(row.id, "issued"), t21.key(row.id, "repealed")),
                expected=issued - repealed, actual=in_force, row=row.label, in_force=in_force,
                issued=issued, repealed=repealed)


def validate(sub: Submission, where: Where, *, settings: Settings = DEFAULT_SETTINGS,
             spec: FormatSpec = DEFAULT_FORMAT, year_text: str = "",
             document: TextDocument | None = None) -> list[Finding]:
    """Every check on one submission; collects all findings (never stops at the first).

    The narrative's checks are in :mod:`nianbao.textchecks`; ``document`` adds what an
    imported report has beyond the narrative (its preface, the sections present).
    """
    findings: list[Finding] = []
    findings += check_header(sub, where, settings, year_text)
    findings += check_totals(sub, where, spec)
    findings += check_balances(sub, where, spec)
    findings += check_plausibility(sub, where, spec)
    findings += check_text(sub, where, settings=settings, spec=spec, document=document)
    return findings
