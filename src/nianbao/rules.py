"""The checks: the format's 勾稽关系 (from the schema) and the soft plausibility rules.

Each check returns findings; none raises for bad data.  Rule codes are stable
and kebab-case; the table in README.md lists them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from nianbao.model import Finding, Severity, Submission, Value
from nianbao.schema import DEFAULT_FORMAT, FormatSpec
from nianbao.settings import DEFAULT_SETTINGS, Settings


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


def _finding(code: str, severity: Severity, message: str, where: Where, anchor: str,
             related: tuple[str, ...] = (), expected: Value | None = None,
             actual: Value | None = None) -> Finding:
    sheet, cell = where.of(anchor)
    return Finding(code=code, severity=severity, message=message, sheet=sheet, cell=cell,
                   key=anchor if "." in anchor else None,
                   related=tuple(where.ref(k) for k in related), expected=expected,
                   actual=actual)


def check_totals(sub: Submission, where: Where, spec: FormatSpec) -> Iterator[Finding]:
    """A total present in the file (typed or cached) must equal the recomputed one."""
    for rule in spec.sums:
        claim = sub.claims.get(rule.target)
        computed = sub.values.get(rule.target)
        if claim is None or computed is None or claim == computed:
            continue
        label = spec.cells[rule.target].label
        yield _finding(
            rule.code, Severity.ERROR,
            f"{rule.description}。“{label}”按各项计算应为 {computed}，表中为 {claim}"
            f"（差 {claim - computed}）。请核对各分项数字。",
            where, rule.target, rule.parts, expected=computed, actual=claim)


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
        yield _finding(
            rule.code, Severity.ERROR,
            f"表三“{column}”列：{rule.description}。一+二 = {lsum}，三（七）总计+四 = {rsum}"
            f"（差 {lsum - rsum}）。本列各项为：{parts}。",
            where, anchor, tuple(k for k in (*rule.left, *rule.right) if k != anchor),
            expected=lsum, actual=rsum)


def _row_label(spec: FormatSpec, key: str) -> str:
    row = spec.cells[key].row
    return row.label if row is not None else key


def check_header(sub: Submission, where: Where, settings: Settings,
                 year_text: str = "") -> Iterator[Finding]:
    if not sub.agency.strip():
        yield _finding("agency-missing", Severity.ERROR,
                       "未填写单位全称，无法生成报告。请在“基本信息”中填写单位全称。", where, "agency")
    if sub.year is None:
        shown = f"（填写的是“{year_text}”）" if year_text else ""
        yield _finding("year-missing", Severity.ERROR,
                       f"未填写报告年度{shown}，请在“基本信息”中填写四位数年份，如 2025。",
                       where, "year")
    elif settings.expected_year and sub.year != settings.expected_year:
        yield _finding("year-mismatch", Severity.ERROR,
                       f"报告年度为 {sub.year} 年，本次汇总的是 {settings.expected_year} 年的数据。"
                       "可能误报了往年的表，请核对。", where, "year",
                       expected=settings.expected_year, actual=sub.year)


def check_plausibility(sub: Submission, where: Where, spec: FormatSpec) -> Iterator[Finding]:
    """Soft rules on the tables: 规章 authority, 现行有效 lower bound."""
    t21 = spec.table("t2_1")
    rules_keys = [t21.key("rules", c.id) for c in t21.columns]
    if any(sub.value(k) for k in rules_keys) and sub.level not in spec.rule_making_levels:
        level = f"单位层级为“{sub.level}”" if sub.level else "未填写单位层级"
        yield _finding(
            "rules-authority", Severity.WARNING,
            f"“规章”一行填有数字，但{level}。只有国务院部门和省、设区的市人民政府可以制定规章，"
            "县级部门、乡镇的文件应计入“行政规范性文件”。请核实。", where, rules_keys[0])
    for row in t21.data_rows:
        issued, repealed, in_force = (sub.values.get(t21.key(row.id, c.id)) for c in t21.columns)
        if None in (issued, repealed, in_force):
            continue
        assert issued is not None and repealed is not None and in_force is not None
        if in_force < issued - repealed:
            yield _finding(
                "in-force-lower-bound", Severity.WARNING,
                f"“{row.label}”现行有效件数 {in_force} 小于本年制发 {issued} 减本年废止 {repealed}，"
                "请核对。", where, t21.key(row.id, "in_force"),
                (t21.key(row.id, "issued"), t21.key(row.id, "repealed")),
                expected=issued - repealed, actual=in_force)


# --- narrative against the tables

_NUM = r"(\d+)\s*(?:件|个|起|宗)"
_RECEIVED = re.compile(r"(?:收到|受理|接收|新收)[^。；;，,]{0,20}?申请[^。；;，,\d]{0,8}?" + _NUM)
_RECEIVED2 = re.compile(r"(?:收到|受理|接收|新收)[^。；;，,\d]{0,12}?" + _NUM
                        + r"[^。；;，,]{0,10}?申请")
_NONE_RECEIVED = re.compile(r"未(?:收到|受理|接到|接收|发生)[^。；;]{0,20}?(?:信息公开|公开)?申请")
_REVIEW = re.compile(r"行政复议(?:案件|申请)?[^。；;，,\d诉]{0,8}?" + _NUM)
_LITIGATION = re.compile(r"行政诉讼(?:案件)?[^。；;，,\d复]{0,8}?" + _NUM)
_NONE_DISPUTE = re.compile(r"未(?:发生|出现|收到|有)[^。；;]{0,12}?(?:行政复议|行政诉讼)")


def check_narrative(sub: Submission, where: Where) -> Iterator[Finding]:
    """Empty sections, and sentences that contradict the tables."""
    s1 = sub.narrative.get("s1", ())
    s5 = sub.narrative.get("s5", ())
    s6 = sub.narrative.get("s6", ())
    if not s1:
        yield _finding("narrative-empty", Severity.WARNING,
                       "报告第一部分“总体情况”没有填写文字。", where, "s1")
    if not s5 or "".join(s5).strip("。 ") in ("无", "暂无", "没有"):
        yield _finding("narrative-empty", Severity.WARNING,
                       "报告第五部分“存在的主要问题及改进情况”为空或只写了“无”，"
                       "请写明存在的问题和改进措施。", where, "s5")
    if not s6:
        yield _finding("narrative-empty", Severity.WARNING,
                       "报告第六部分“其他需要报告的事项”为空。没有其他事项的，请写明"
                       "“本年度无其他需要报告的事项。”，并说明信息处理费收取情况。", where, "s6")
    text = "".join(s1)
    new = sub.values.get("t3.r1.total")
    carried = sub.values.get("t3.r2.total")
    if new is not None and new > 0 and _NONE_RECEIVED.search(text):
        sentence = _NONE_RECEIVED.search(text)
        assert sentence is not None
        yield _finding("text-zero-claim", Severity.WARNING,
                       f"“总体情况”中写有“{sentence.group(0)}”，但表三本年新收申请为 {new} 件，"
                       "文字与表格不一致。", where, "s1", ("t3.r1.total",), expected=new)
    if new is not None and carried is not None:
        readings = {int(new), int(new + carried)}
        for match in (*_RECEIVED.finditer(text), *_RECEIVED2.finditer(text)):
            stated = int(match.group(1))
            if stated not in readings:
                yield _finding(
                    "text-number-mismatch", Severity.WARNING,
                    f"“总体情况”中写有“{match.group(0)}”，但表三本年新收 {new} 件"
                    f"（含上年结转共 {new + carried} 件），与文字不符。", where, "s1",
                    ("t3.r1.total", "t3.r2.total"), expected=new, actual=stated)
                break
    totals = [sub.values.get(k) for k in ("t4.rv_total", "t4.ld_total", "t4.la_total")]
    if None not in totals:
        review, direct, after = (int(v or 0) for v in totals)
        none = _NONE_DISPUTE.search(text)
        if none and review + direct + after > 0:
            yield _finding("text-zero-claim", Severity.WARNING,
                           f"“总体情况”中写有“{none.group(0)}”，但表四行政复议 {review} 件、"
                           f"行政诉讼 {direct + after} 件，文字与表格不一致。", where, "s1",
                           ("t4.rv_total", "t4.ld_total", "t4.la_total"))
        for pattern, readings_, what in (
                (_REVIEW, {review}, f"表四行政复议总计 {review} 件"),
                (_LITIGATION, {direct + after, direct, after},
                 f"表四行政诉讼共 {direct + after} 件（未经复议直接起诉 {direct} 件、复议后起诉 {after} 件）")):
            for match in pattern.finditer(text):
                if int(match.group(1)) not in readings_:
                    yield _finding("text-number-mismatch", Severity.WARNING,
                                   f"“总体情况”中写有“{match.group(0)}”，但{what}，与文字不符。",
                                   where, "s1", actual=int(match.group(1)))
                    break
    fee_cases = sub.values.get("t3.r3_6_2.total")
    if fee_cases and not re.search(r"信息处理费|收费通知", "".join(s6) + text):
        yield _finding("fee-notice-text", Severity.WARNING,
                       f"表三有 {fee_cases} 件申请因逾期未缴费不再处理，说明发出过收费通知；"
                       "请在第六部分说明信息处理费的收取情况。", where, "s6",
                       ("t3.r3_6_2.total",))


def validate(sub: Submission, where: Where, *, settings: Settings = DEFAULT_SETTINGS,
             spec: FormatSpec = DEFAULT_FORMAT, year_text: str = "") -> list[Finding]:
    """Every check on one submission; collects all findings (never stops at the first)."""
    findings: list[Finding] = []
    findings += check_header(sub, where, settings, year_text)
    findings += check_totals(sub, where, spec)
    findings += check_balances(sub, where, spec)
    findings += check_plausibility(sub, where, spec)
    findings += check_narrative(sub, where)
    return findings
