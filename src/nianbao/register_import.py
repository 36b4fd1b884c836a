"""Import an office's own register (.xlsx, .xls or .csv) into the intake workbook.

``nianbao register import FILE --into FORM.xlsx``: the header row is found among
the first ten rows by the labels and the common variants declared in
:mod:`nianbao.register` (序号/编号/申请编号, 申请日期/收到日期/受理日期, 申请人类别,
答复时间, 处理结果 …); every value is mapped to the form's dropdown labels, with the
common wordings of :data:`nianbao.register.RESULT_WORDING`.  A value that maps to
nothing is a finding naming the file, row and column, and then nothing is written:
the form is written whole (to ``-o`` or atomically in place) or not at all.  The
imported file is only read.

What an office's register often lacks is filled in, and said: without a 来源 column,
an application received last year is 上年结转; without a 结转 column, one with no
result and no reply date (or a result like 办理中) is 结转下年度.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

from nianbao.atomic import atomic_write
from nianbao.check import check_file
from nianbao.kinds import finding
from nianbao.layout import META_SHEET
from nianbao.model import FileReport, Finding, Severity, Value
from nianbao.reader import read_workbook
from nianbao.register import (
    CARRIED_IN,
    NEW,
    UNFINISHED_WORDING,
    YES,
    FieldKind,
    RegisterSpec,
    application_cells,
    case_cells,
    cell_text,
    find_header,
    parse_choice,
    parse_date,
    parse_yesno,
    registers,
)
from nianbao.register_checks import expected_text
from nianbao.register_form import DATE_FORMAT, RegisterRows, add_registers
from nianbao.roster import csv_rows
from nianbao.safetext import clean, path_text
from nianbao.schema import DEFAULT_FORMAT, FormatSpec, normalize_label

# Columns an office's register must have (来源 and the 结转 mark are derived when absent).
IMPORT_REQUIRED = {"applications": frozenset({"no", "received", "applicant_type"}),
                   "cases": frozenset({"no", "kind", "result"})}
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")
_FOOTER = ("合计", "总计", "小计", "备注", "说明", "填表人", "制表人", "审核人")
_UNFINISHED = frozenset(normalize_label(t) for t in UNFINISHED_WORDING)
BLANK_RUN = 1000  # consecutive blank rows that end a sheet (a stray far-away cell is not a row)


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """One register found in the imported file: its rows in the form's terms."""

    spec: RegisterSpec
    sheet: str  # sheet of the imported file ('' for a CSV)
    header_row: int  # 1-based
    columns: Mapping[str, str]  # field label in the form -> header text in the file
    rows: tuple[Mapping[str, object], ...]
    derived: Mapping[str, int] = field(default_factory=dict)  # what was filled in -> rows


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    """What ``register import`` did: ``written`` is None when the findings stopped it."""

    source: Path
    form: Path
    tables: tuple[Table, ...] = ()
    findings: tuple[Finding, ...] = ()
    written: Path | None = None
    replaced: int = 0  # register rows of the form that were replaced
    changed: tuple[tuple[str, Value | None, int], ...] = ()  # (cell label, before, counted)
    report: FileReport | None = None  # the check of the written form

    @property
    def ok(self) -> bool:
        return self.written is not None


# ------------------------------------------------------------------ reading the file

def read_rows(path: Path) -> dict[str, list[list[object]]] | Finding:
    """Every sheet of ``path`` as rows of cell values (a CSV is one sheet named '')."""
    name = path_text(path.name)
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        from nianbao.atomic import describe_os_error

        return finding("reg-import-unreadable", file=name, reason=describe_os_error(exc))
    if suffix in (".csv", ".txt"):
        return {"": [list(r) for r in csv_rows(data)]}
    if suffix not in SPREADSHEETS:
        return finding("reg-import-unreadable", file=name,
                       reason="只能导入 .xlsx、.xls 或 .csv 文件")
    try:
        return _workbook_rows(path) if suffix in (".xlsx", ".xlsm") else _calamine_rows(data)
    except Exception as exc:  # noqa: BLE001 - spreadsheet libraries raise many types
        return finding("reg-import-unreadable", file=name,
                       reason=f"文件已损坏或不是表格文件（{type(exc).__name__}）")


def _workbook_rows(path: Path) -> dict[str, list[list[object]]]:
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        return {ws.title: _until_blank_run(ws.iter_rows(max_col=80, values_only=True))
                for ws in wb.worksheets}
    finally:
        wb.close()


def _calamine_rows(data: bytes) -> dict[str, list[list[object]]]:
    import io

    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        return {name: _until_blank_run(wb.get_sheet_by_name(name).iter_rows())
                for name in wb.sheet_names}
    finally:
        wb.close()


def _until_blank_run(rows: Iterable[Sequence[object]]) -> list[list[object]]:
    out: list[list[object]] = []
    blank = 0
    for row in rows:
        values = list(row)
        if any(cell_text(v) for v in values):
            out.extend([] for _ in range(blank))
            blank = 0
            out.append(values)
        else:
            blank += 1
            if blank >= BLANK_RUN:
                break
    return out


def read_foreign(path: Path, year: int | None, spec: FormatSpec = DEFAULT_FORMAT
                 ) -> tuple[list[Table], list[Finding]]:
    """The registers in an office's file, in the form's terms, and what could not be read."""
    got = read_rows(path)
    if isinstance(got, Finding):
        return [], [got]
    name = path_text(path.name)
    tables: list[Table] = []
    findings: list[Finding] = []
    for reg in registers(spec):
        for sheet, rows in got.items():
            found = find_header(reg, rows, required=IMPORT_REQUIRED[reg.id])
            if found is None:
                continue
            header, columns = found
            table, problems = _convert(reg, name, sheet, rows, header, columns, year)
            tables.append(table)
            findings += problems
            break
    if not tables:
        app = registers(spec)[0]
        need = [app.field(f).label for f in ("no", "received", "applicant_type")]
        variants = "、".join(("序号", "申请编号", "申请日期", "受理日期", "申请人类别"))
        findings.append(finding("reg-import-no-header", file=name, required="、".join(need),
                                variants=variants))
    return tables, findings


def _convert(reg: RegisterSpec, name: str, sheet: str, rows: list[list[object]], header: int,
             columns: dict[str, int], year: int | None) -> tuple[Table, list[Finding]]:
    out: list[dict[str, object]] = []
    findings: list[Finding] = []
    derived: Counter[str] = Counter()
    labels = {fid: cell_text(rows[header][c]) for fid, c in columns.items()}
    required = IMPORT_REQUIRED[reg.id]
    where = f"{name}" + (f"（工作表“{clean(sheet)}”）" if sheet else "")
    for r in range(header + 1, len(rows)):
        row = rows[r]
        raw = {fid: (row[c] if c < len(row) else None) for fid, c in columns.items()}
        if not any(cell_text(v) for v in raw.values()):
            continue
        first = normalize_label(cell_text(raw.get("no")))
        if first.startswith(_FOOTER) and not cell_text(raw.get("received") or raw.get("kind")):
            continue  # a total or a signature line under the table
        values: dict[str, object] = {}
        unfinished = False
        for f in reg.fields:
            if f.id not in columns:
                continue
            value = raw[f.id]
            text = cell_text(value)
            place = {"file": where, "row": r + 1, "column": get_column_letter(columns[f.id] + 1),
                     "header": clean(labels[f.id], 30)}
            if not text:
                if f.id in required:
                    findings.append(finding("reg-import-unknown:missing", sheet=sheet or name,
                                            cell=f"{place['column']}{r + 1}", **place))
                continue
            if f.kind is FieldKind.PRIVATE or f.kind is FieldKind.TEXT:
                values[f.id] = text
                continue
            got: object
            if f.kind is FieldKind.DATE:
                got = parse_date(value)
            elif f.kind is FieldKind.YESNO:
                yes = parse_yesno(value, strict=False)
                got = None if yes is None else (YES if yes else "")
            else:
                code = parse_choice(reg, f.id, value, strict=False)
                if code is None and f.id == "result" and normalize_label(text) in _UNFINISHED:
                    unfinished, got = True, ""
                else:
                    got = None if code is None else reg.label_of(f.id, code)
            if got is None:
                allowed = expected_text(reg, f.id)
                if f.id == "result":
                    allowed += "；也认常见说法，如“予以公开”“部分公开”“信息不存在”“重复申请”“办理中”"
                findings.append(finding(
                    "reg-import-unknown", sheet=sheet or name, cell=f"{place['column']}{r + 1}",
                    value=clean(text, 40), allowed=allowed, **place))
            elif got != "":
                values[f.id] = got
        if reg.id == "applications":
            _derive(values, columns, unfinished, year, derived)
        out.append(values)
    shown = {reg.field(fid).label: labels[fid] for fid in columns}
    return Table(spec=reg, sheet=sheet, header_row=header + 1, columns=shown, rows=tuple(out),
                 derived=dict(derived)), findings


def _derive(values: dict[str, object], columns: Mapping[str, int], unfinished: bool,
            year: int | None, derived: Counter[str]) -> None:
    """来源 from the date and 结转下年度 from an unfinished row, when the file has no such column."""
    received = values.get("received")
    if "source" not in columns and isinstance(received, dt.date) and year is not None:
        values["source"] = CARRIED_IN if received.year < year else NEW
        derived["source"] += 1
    done = "result" in values or "replied" in values
    if unfinished or ("carried" not in columns and not done):
        if values.get("carried") != YES:
            values["carried"] = YES
            derived["carried"] += 1


# ------------------------------------------------------------------ writing the form

def import_register(source: Path, form: Path, output: Path | None = None, *,
                    replace: bool = False, spec: FormatSpec = DEFAULT_FORMAT) -> ImportResult:
    """Import ``source`` into the register sheets of ``form``; write ``output`` (default: the
    form itself, atomically).  Nothing is written when there is any error finding."""
    target = output or form
    before = read_workbook(form, spec=spec)
    form_name = path_text(form.name)
    sub = before.submission
    year = sub.year if sub is not None else None
    tables, findings = read_foreign(source, year, spec)
    result = ImportResult(source=source, form=form, tables=tuple(tables),
                          findings=tuple(findings))
    try:
        wb = load_workbook(form)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for bad files
        return dataclasses.replace(result, findings=(*findings, finding(
            "reg-import-form", form=form_name,
            reason=f"无法打开这个填报表（{type(exc).__name__}）")))
    problem = _form_problem(wb, spec, tables, replace)
    if problem:
        findings.append(finding("reg-import-form", form=form_name, reason=problem))
    if any(f.severity is Severity.ERROR for f in findings):
        return dataclasses.replace(result, findings=tuple(findings))
    replaced = _write(wb, tables, spec)
    with atomic_write(target) as tmp:
        wb.save(tmp)
    report = check_file(target)
    changed: list[tuple[str, Value | None, int]] = []
    counted = report.submission.values if report.submission else {}
    keys = (*application_cells(spec), *case_cells(spec))
    if sub is not None and sub.register is None and any(sub.values.get(k) for k in keys):
        for key in keys:  # the tables were typed until now: say what the count changed
            typed, now = sub.values.get(key), counted.get(key)
            if isinstance(now, int) and (typed or 0) != now:
                changed.append((spec.cells[key].label, typed, now))
    return dataclasses.replace(result, findings=tuple(findings), written=target,
                               replaced=replaced, changed=tuple(changed), report=report)


def _form_problem(wb: Workbook, spec: FormatSpec, tables: Sequence[Table], replace: bool) -> str:
    if META_SHEET not in wb.sheetnames or spec.sheet_name("guide") not in wb.sheetnames:
        return "不是 nianbao 生成的填报表（可用 nianbao form 生成），登记台账只能导入到填报表中。"
    present = [reg.sheet for reg in registers(spec) if reg.sheet in wb.sheetnames]
    if present and len(present) < len(registers(spec)):
        return f"只有工作表“{present[0]}”，缺少另一个登记工作表（填报表不完整），请用新版填报表。"
    for table in tables:
        if table.spec.sheet not in wb.sheetnames:
            continue
        rows = [list(r) for r in wb[table.spec.sheet].iter_rows(values_only=True)]
        found = find_header(table.spec, rows)
        if found is None:
            return f"工作表“{table.spec.sheet}”的表头被改动，无法写入。"
        missing = [f.label for f in table.spec.fields if f.id not in found[1]]
        if missing:
            return f"工作表“{table.spec.sheet}”缺少“{'、'.join(missing)}”列（填报表版本较旧），请用新版填报表。"
        filled = sum(1 for row in rows[found[0] + 1:] if any(cell_text(v) for v in row))
        if filled and not replace:
            return (f"工作表“{table.spec.sheet}”中已经登记了 {filled} 行，未导入；"
                    "确需用导入的台账替换这些行，请加 --replace。")
    return ""


def _write(wb: Workbook, tables: Sequence[Table], spec: FormatSpec) -> int:
    """Write the tables into the register sheets (added when missing); rows replaced."""
    by_id = {t.spec.id: t for t in tables}
    if not any(reg.sheet in wb.sheetnames for reg in registers(spec)):
        add_registers(wb, RegisterRows(
            applications=by_id["applications"].rows if "applications" in by_id else (),
            cases=by_id["cases"].rows if "cases" in by_id else ()), spec)
        return 0
    replaced = 0
    for table in tables:
        ws = wb[table.spec.sheet]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        found = find_header(table.spec, rows)
        assert found is not None  # checked by _form_problem
        header, columns = found
        for r in range(header + 2, ws.max_row + 1):
            if any(cell_text(ws.cell(row=r, column=c + 1).value) for c in columns.values()):
                replaced += 1
            for c in columns.values():
                ws.cell(row=r, column=c + 1).value = None
        for i, values in enumerate(table.rows, header + 2):
            for fid, c in columns.items():
                value = values.get(fid)
                if value is None or value == "":
                    continue
                cell = ws.cell(row=i, column=c + 1, value=value)
                if isinstance(value, dt.date):
                    cell.number_format = DATE_FORMAT
    return replaced
