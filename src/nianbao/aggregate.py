"""The 汇总: units' tables summed cell by cell, checked again, and written like a unit's form.

FORMAT.md §2.5: every input cell is summed (万元 as Decimal, never float), the
totals are recomputed from the schema's formulas, and every check runs on the
sum.  The 汇总 workbook is an intake workbook (so it reads back like any other,
e.g. as next year's ``--previous``) plus a sheet listing the included units.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from nianbao.atomic import atomic_write
from nianbao.config import ALL_SCOPE, CycleError
from nianbao.indicator_output import add_indicator_sheets
from nianbao.indicators import Indicators, Subject, compute, sentences
from nianbao.intake import IntakeData, build_workbook
from nianbao.layout import BANNER_ROW, CHECK_SHEET, workbook_layout
from nianbao.model import MEMBERS_SHEET, SUMMARY_CODE, Finding, Submission, Value
from nianbao.packed import PackedValues
from nianbao.previous import SUMMARY_FOLDER, PreviousData, cross_year_findings
from nianbao.roster import Roster, Unit, fold_name
from nianbao.rules import Where, validate
from nianbao.safetext import path_text
from nianbao.schema import DEFAULT_FORMAT, FormatSpec, ValueType
from nianbao.settings import DEFAULT_SETTINGS, Settings
from nianbao.sheetprint import TableSheet
from nianbao.status import Board, display
from nianbao.streambook import copy_sheets, write_only_workbook
from nianbao.workspace import safe_name

# The key figures listed per unit on the members sheet: (heading, keys summed).
KEY_FIGURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("本年新收申请", ("t3.r1.total",)),
    ("上年结转申请", ("t3.r2.total",)),
    ("予以公开", ("t3.r3_1.total",)),
    ("结转下年度", ("t3.r4.total",)),
    ("行政复议", ("t4.rv_total",)),
    ("行政诉讼", ("t4.ld_total", "t4.la_total")),
    ("收费金额（万元）", ("t2_8.fees.amount",)),
)


class ScopeError(CycleError):
    """A scope entry names neither a unit nor a level of the roster."""


def _add(a: Value | None, b: Value | None) -> Value | None:
    if a is None or b is None:
        return None
    return a + b


def recompute(values: dict[str, Value | None], spec: FormatSpec = DEFAULT_FORMAT) -> None:
    """Fill every computed cell from its formula (in place); see :meth:`FormatSpec.recompute`."""
    spec.recompute(values)


def aggregate(subs: Sequence[Submission], *, agency: str = "汇总", code: str = SUMMARY_CODE,
              year: int | None = None, level: str = "",
              spec: FormatSpec = DEFAULT_FORMAT) -> Submission:
    """The cell-by-cell sum of ``subs``; ``members`` lists the units' names in order.

    A cell that could not be read in some member stays ``None`` in the sum (the
    checks then report it) rather than being silently taken as 0.
    """
    values = _sums(subs, spec)
    recompute(values, spec)
    years = {s.year for s in subs if s.year}
    if year is None and len(years) == 1:
        year = years.pop()
    return Submission(agency=agency, code=code, year=year, level=level, format_id=spec.id,
                      values=values, members=tuple(s.agency for s in subs))


def _sums(subs: Sequence[Submission], spec: FormatSpec) -> dict[str, Value | None]:
    """Every input cell summed over ``subs``; None where a member has none.

    Packed values (:class:`~nianbao.packed.PackedValues`, every report of a batch) are
    added a whole array at a time, per shared key order: a province's 50,000 members
    times a few hundred cells would otherwise be millions of lookups.
    """
    columns: dict[int, tuple[tuple[str, ...], list[int]]] = {}  # by key order
    aside: dict[str, list[Value | None]] = {}  # values not summed in the arrays
    for sub in subs:
        vals = sub.values
        if isinstance(vals, PackedValues):
            keys, numbers, others = vals.columns()
            group = columns.get(id(keys))
            if group is None:
                columns[id(keys)] = (keys, list(numbers))
            else:
                group[1][:] = map(operator.add, group[1], numbers)
            for key, value in others.items():  # their place in the array holds 0
                aside.setdefault(key, []).append(value)
        else:
            for key in spec.input_keys:
                aside.setdefault(key, []).append(vals.get(key))
    indexes = [(_key_index(keys), acc) for keys, acc in columns.values()]
    values: dict[str, Value | None] = {}
    for key in spec.input_keys:
        total: Value | None = Decimal(0) if spec.cells[key].type is ValueType.AMOUNT else 0
        for index, acc in indexes:
            i = index.get(key)
            total = _add(total, None if i is None else acc[i])  # a member without the cell
        for value in aside.get(key, ()):
            total = _add(total, value)
        values[key] = total
    return values


def _key_index(keys: tuple[str, ...]) -> dict[str, int]:
    return {k: i for i, k in enumerate(keys)}


def key_figures(sub: Submission) -> list[Value | None]:
    out: list[Value | None] = []
    for _, keys in KEY_FIGURES:
        total: Value | None = 0
        for key in keys:
            total = _add(total, sub.values.get(key))
        out.append(total)
    return out


def layout_where(spec: FormatSpec = DEFAULT_FORMAT) -> Where:
    """Positions of every cell in the intake layout, for findings on a 汇总."""
    layout = workbook_layout(spec)
    info_sheet = spec.sheet_name("info")
    return Where(cells={k: layout.cell(k) for k in spec.cells},
                 info={f: (info_sheet, layout.info_cell(f)) for f in layout.info_rows})


def check_aggregate(sub: Submission, settings: Settings = DEFAULT_SETTINGS,
                    spec: FormatSpec = DEFAULT_FORMAT) -> list[Finding]:
    """Every check of a unit's form, run on the sum (narrative checks included)."""
    return validate(sub, layout_where(spec), settings=settings, spec=spec)


def resolve_scope(roster: Roster, scope: Sequence[str]) -> tuple[Unit, ...]:
    """The units a scope names: codes, full names or levels; empty or 全部/全县: every unit."""
    tokens = [t.strip() for t in scope if t.strip()]
    if not tokens or any(t in ALL_SCOPE for t in tokens):
        return roster.units
    chosen: dict[str, Unit] = {}
    unknown: list[str] = []
    for token in tokens:
        hits = [u for u in roster if fold_name(u.level) == fold_name(token)
                or fold_name(u.level).startswith(fold_name(token))]
        unit = roster.by_code(token) or roster.by_name(token)
        if unit is not None:
            hits.append(unit)
        if not hits:
            unknown.append(token)
        for u in hits:
            chosen[u.code] = u
    if unknown:
        levels = "、".join(roster.levels) or "（名单中没有填写层级）"
        raise ScopeError(f"汇总范围中的“{'、'.join(unknown)}”既不是名单中的单位编码或名称，也不是层级。"
                         f"名单中的层级有：{levels}。")
    return tuple(u for u in roster if u.code in chosen)


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberRow:
    """One line of the members sheet: an included unit, or an excluded one with the reason."""

    unit: Unit
    submission: Submission | None = None
    file: str = ""
    reason: str = ""  # why it is not included (empty: included)


def write_summary_workbook(path: Path, sub: Submission, rows: Sequence[MemberRow], *,
                           fee_decimals: int = 4, spec: FormatSpec = DEFAULT_FORMAT,
                           indicators: Indicators | None = None) -> Path:
    """The 汇总 as an intake workbook, after the 汇总单位 sheet and the indicators with
    their charts (:mod:`nianbao.indicator_output`); written atomically.

    The members and indicator sheets (a row per unit: a province's are long) stream
    through a write-only workbook; the small form sheets are built in memory and
    copied after them (:mod:`nianbao.streambook`).
    """
    form = build_workbook(IntakeData(agency=sub.agency, code=sub.code, year=sub.year,
                                     level=sub.level, values=dict(sub.values),
                                     narrative=dict(sub.narrative)),
                          spec=spec, fee_decimals=fee_decimals)
    _as_summary(form, sub, rows, spec)
    with write_only_workbook() as wb:
        _members_sheet(wb.create_sheet(MEMBERS_SHEET), sub, rows)
        if indicators is not None:
            add_indicator_sheets(wb, indicators)
        copy_sheets(form, wb)
        with atomic_write(path) as tmp:
            wb.save(tmp)
    return path


def _as_summary(wb: Workbook, sub: Submission, rows: Sequence[MemberRow],
                spec: FormatSpec) -> None:
    """An agency's form turned into a 汇总's: no 填报说明, no 编码 in sight.

    The hidden metadata keeps the 汇总 code, so the workbook reads back as a 汇总
    (e.g. as next year's ``--previous``).
    """
    del wb[spec.sheet_name("guide")]
    del wb[CHECK_SHEET]  # its verdict ("可以报送") speaks to an agency
    included = sum(1 for r in rows if not r.reason and r.submission is not None)
    banner = (f"{sub.agency}{f'{sub.year}年度' if sub.year else ''}政府信息公开工作年度报告汇总数据"
              f"（纳入汇总 {included} 个单位，见“{MEMBERS_SHEET}”表）")
    for sheet in wb.worksheets:
        cell = sheet.cell(row=BANNER_ROW, column=1)
        if isinstance(cell.value, str) and cell.value.startswith("填报单位："):
            cell.value = banner
    info = wb[spec.sheet_name("info")]
    info[workbook_layout(spec).info_cell("code")].value = None
    for sheet in wb.worksheets:  # the 汇总单位 sheet comes first and is the one open
        sheet.sheet_view.tabSelected = False


_BOLD = Font(name="宋体", size=10, bold=True)
_MEMBER_WIDTHS = (6, 10, 28, 10, 26, *(10,) * (len(KEY_FIGURES) - 1), 12)


def _members_sheet(ws: WriteOnlyWorksheet, sub: Submission, rows: Sequence[MemberRow]) -> None:
    """纳入汇总的单位 with their key figures and the 合计, then those left out and why;
    printed on A4 landscape, one page wide, boxed, its head repeated on every page."""
    table = TableSheet(ws, _MEMBER_WIDTHS, freeze="A3")
    year = f"{sub.year}年度" if sub.year else ""
    table.line([f"{sub.agency} {sub.year or ''}年度 纳入汇总的单位及主要数据"],
               font=Font(name="黑体", size=12))
    table.head(["序号", "单位编码", "单位名称", "层级", "报送文件", *(h for h, _ in KEY_FIGURES)],
               font=_BOLD)
    included = [r for r in rows if not r.reason and r.submission is not None]
    for i, row in enumerate(included, 1):
        assert row.submission is not None
        table.row([i, row.unit.code, row.unit.name, row.unit.level, row.file,
                   *(_cell(v) for v in key_figures(row.submission))])
    table.row(["", "", f"合计（{len(included)} 个单位）", "", "",
               *(_cell(v) for v in key_figures(sub))], font=_BOLD)
    excluded = [r for r in rows if r.reason]
    if excluded:
        table.line()
        table.line([f"未纳入汇总的单位（{len(excluded)} 个）"])
        table.head(["序号", "单位编码", "单位名称", "层级", "原因"], columns=5, font=_BOLD)
        for i, row in enumerate(excluded, 1):
            table.row([i, row.unit.code, row.unit.name, row.unit.level, row.reason], columns=5)
    table.close(f"{sub.agency}{year}政府信息公开工作年度报告汇总：纳入汇总的单位",
                auto_filter=False)


def _cell(value: Value | None) -> int | float | str | None:
    if isinstance(value, Decimal):
        return float(value)  # openpyxl stores numbers as floats; the digits are kept
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryResult:
    """The 汇总 made by :func:`make_summary` and where it was written."""

    submission: Submission
    rows: tuple[MemberRow, ...]
    findings: tuple[Finding, ...]
    workbook: Path
    report: Path | None = None
    note: str = ""  # why no Word report was written, or what the report still needs
    indicators: Indicators | None = None

    @property
    def included(self) -> tuple[MemberRow, ...]:
        return tuple(r for r in self.rows if not r.reason)

    @property
    def excluded(self) -> tuple[MemberRow, ...]:
        return tuple(r for r in self.rows if r.reason)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    def to_dict(self, base: Path | None = None) -> dict[str, object]:
        return {
            "name": self.submission.agency, "year": self.submission.year,
            "included": [r.unit.code for r in self.included],
            "excluded": [{"code": r.unit.code, "name": r.unit.name, "reason": r.reason}
                         for r in self.excluded],
            "findings": [f.to_dict() for f in self.findings],
            "workbook": display(self.workbook, base),
            "report": display(self.report, base) if self.report else None,
            "note": self.note,
            "figures": {h: (str(v) if isinstance(v, Decimal) else v) for (h, _), v
                        in zip(KEY_FIGURES, key_figures(self.submission), strict=True)},
            "indicators": None if self.indicators is None else {
                "disclosure_rate": _ratio(self.indicators.total.disclosure.value),
                "review_correction_rate": _ratio(self.indicators.total.review.value),
                "litigation_correction_rate": _ratio(self.indicators.total.litigation.value),
                "warnings": [{"code": u.code, "name": u.name, "rule": f.code,
                              "message": f.message} for u, f in self.indicators.findings]},
        }


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else str(round(value, 4))


# (summary, out_path, draft, last year's 汇总 or None)
Renderer = Callable[[Submission, Path, bool, Submission | None], None]

# What the coordinator writes in the 汇总 report (sections 一/五/六); shown until written.
TO_WRITE = {
    "s1": "（请补写：本地区政府信息公开工作的总体情况，包括主动公开、依申请公开、政府信息管理、"
          "平台建设、监督保障等方面的主要做法和成效。）",
    "s5": "（请补写：本地区政府信息公开工作存在的主要问题及改进情况。）",
    "s6": "（请补写：其他需要报告的事项；没有的，写明“本年度无其他需要报告的事项。”，"
          "并说明信息处理费的收取情况。）",
}
NOTE_TO_WRITE = "汇总报告第一、五、六部分的文字需补写（已用“请补写”标出），补写并核对后再发布；此前按草稿生成。"


def report_submission(summary: Submission, rows: Sequence[MemberRow]) -> Submission:
    """What the 汇总 report is rendered from: the sum, the sections still to write marked,
    and the units left out with why (for the 附表)."""
    narrative = {sid: (*summary.narrative.get(sid, ()), text) for sid, text in TO_WRITE.items()}
    return replace(summary, narrative={**summary.narrative, **narrative},
                   excluded=tuple((r.unit.name, r.reason) for r in rows if r.reason))


def make_summary(board: Board, roster: Roster, *, outputs: Path, name: str, year: int,
                 scope: Sequence[str] = (), settings: Settings = DEFAULT_SETTINGS,
                 previous: PreviousData | None = None, render: Renderer | None = None,
                 history: Iterable[Submission] = (),
                 spec: FormatSpec = DEFAULT_FORMAT) -> SummaryResult:
    """Sum the units in ``scope`` that passed, check the sum, write the workbook and report.

    Units in scope that have not reported or have errors are left out and listed
    with the reason in the report's 附表; the report is always a draft, its sections
    一/五/六 marked for the coordinator to write (:data:`TO_WRITE`).  ``history`` (the
    archived years) gives the indicators and the 同比 of the standard sentences.
    """
    units = resolve_scope(roster, scope)
    status_of = {s.unit.code: s for s in board.units}
    rows: list[MemberRow] = []
    for unit in units:
        status = status_of[unit.code]
        report = status.report
        if status.state.done and report is not None and report.submission is not None:
            rows.append(MemberRow(unit=unit, submission=report.submission, file=path_text(report.file.name)))
        else:
            rows.append(MemberRow(unit=unit, reason=status.label))
    members = [r.submission for r in rows if r.submission is not None]
    summary = aggregate(members, agency=name, year=year, spec=spec)
    indicators, last = _indicators(rows, history, name, year, previous, settings, spec)
    stats = sentences(summary.values, last.values if last is not None else None, spec)
    summary = replace(summary, narrative={"s1": tuple(p for p in (
        f"本报告汇总了{name}{len(members)}个单位{year}年度政府信息公开工作的统计数据，"
        "纳入汇总的单位见附表。", stats["summary"]) if p), "s5": (), "s6": ()})
    findings = check_aggregate(summary, settings, spec)
    if previous is not None and previous.summary is not None:
        findings += cross_year_findings(summary, previous.summary, settings=settings, spec=spec)
    label = "" if not scope or any(t in ALL_SCOPE for t in scope) else "（" + "、".join(scope) + "）"
    folder = outputs / SUMMARY_FOLDER
    stem = f"{name}{label}{year}年政府信息公开工作年度报告"
    workbook = write_summary_workbook(folder / safe_name(f"{stem}汇总数据", ".xlsx"), summary, rows,
                                      fee_decimals=settings.fee_decimals, spec=spec,
                                      indicators=indicators)
    report_path: Path | None = None
    note = ""
    if not members:
        note = "没有可汇总的单位（范围内的单位都未报送或数据有误），未生成汇总报告。"
    elif render is None:
        note = "未生成汇总报告（报告生成模块不可用）。"
    else:
        # sections 一/五/六 are the coordinator's to write: the report is always a draft
        report_path = folder / safe_name(stem + "（草稿）", ".docx")
        render(report_submission(summary, rows), report_path, True, last)
        note = NOTE_TO_WRITE
    return SummaryResult(submission=summary, rows=tuple(rows), findings=tuple(findings),
                         workbook=workbook, report=report_path, note=note,
                         indicators=indicators)


def _indicators(rows: Sequence[MemberRow], history: Iterable[Submission], name: str, year: int,
                previous: PreviousData | None, settings: Settings,
                spec: FormatSpec) -> tuple[Indicators | None, Submission | None]:
    """The members' indicators, and last year's 汇总 (same units from the archive, else
    the ``--previous`` 汇总) for the 同比 sentences."""
    subjects = [Subject(code=r.unit.code, name=r.unit.name, level=r.unit.level,
                        names=r.unit.names, submission=r.submission)
                for r in rows if not r.reason and r.submission is not None]
    if not subjects:
        return None, None
    ind = compute(subjects, history, year=year, total_name=name, settings=settings, spec=spec)
    last_values = ind.total.last_values
    if last_values is None and previous is not None and previous.summary is not None:
        last_values = previous.summary.values
    last = None if last_values is None else Submission(agency=name, year=year - 1,
                                                         values=last_values)
    return ind, last
