"""Live checks inside the intake workbook, generated from the schema's rules.

The agency sees a broken 勾稽 while typing, not days later.  :func:`plan` turns
the format (``spec.balances``, ``spec.sums``, the 表二 现行有效 rule, the cell
types) into :class:`LiveCheck` s: a formula per check giving ``"✓"`` or
``"✗ …"``.  :func:`add_live_checks` writes them: a locked check row under 表三
and 表四, a check column right of 表二, conditional formatting (a failing check
red, a blank input amber, an input that is not a valid number red), and the
``校验结果`` sheet after 填报说明 listing every check with one verdict on top:
"可以报送" or "还有 N 处需要修改".  The wording comes from the catalogue
(:mod:`nianbao.kinds`); coordinates from :mod:`nianbao.layout`.

Only functions every client evaluates (Excel, WPS, LibreOffice): SUM, IF, ABS,
ROUND, COUNTBLANK, ISNUMBER, AND, OR, LEN; conditional formatting refers only to
cells of its own sheet.  The reader finds data by label, so it never reads these
cells; forms made before them read as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet.worksheet import Worksheet

from nianbao import kinds
from nianbao.layout import (
    CHECK_FIRST_ROW,
    CHECK_SHEET,
    CHECK_VERDICT_ROW,
    WorkbookLayout,
    a1,
    workbook_layout,
)
from nianbao.schema import DEFAULT_FORMAT, CellKind, FormatSpec, ValueType
from nianbao.values import MAX_COUNT

OK = "✓"
BAD_INPUT = "✗ 填写有误"
RED, AMBER, GREEN = "FFC7CE", "FFE699", "C6EFCE"
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FONT = Font(name="宋体", size=10)
_BOLD = Font(name="宋体", size=10, bold=True)


@dataclass(frozen=True, slots=True)
class LiveCheck:
    """One check: a formula whose value is ``"✓"`` or ``"✗ …"``.

    ``sheet_id``/``address``: the cell on a table sheet that shows it (None for a
    check shown only on 校验结果, where ``formula`` uses sheet-qualified refs).
    ``count``: how many places need changing when it fails (default 1).
    ``counted``: False when it does not add to "还有 N 处需要修改": a 提示 (a warning,
    ``red=False``), or a detail another counted check already covers.
    """

    kind_id: str
    where: str  # 基本信息, 表三“自然人”列 …: what part of the form it looks at
    formula: str
    inputs: tuple[str, ...]
    sheet_id: str | None = None
    address: str = ""
    count: str = ""
    counted: bool = True
    red: bool = True  # a failure is an error (red), or a 提示 (amber)
    anchor: str = ""  # the key nianbao's finding of this rule names (empty: not cell-bound)

    @property
    def problem(self) -> str:
        """The problem it looks for, in the catalogue's words."""
        return kinds.kind(self.kind_id).summary


def _fill(color: str) -> PatternFill:
    # start and end colour both set: Excel/WPS read bgColor of a dxf fill, LibreOffice fgColor
    return PatternFill(start_color=color, end_color=color, fill_type="solid")


def quoted(sheet: str, address: str) -> str:
    return f"'{sheet}'!{address}"


def bad(ref: str, kind: ValueType, fee_decimals: int, fee_max: Decimal) -> str:
    """1 when the cell holds something nianbao would not read cleanly as a number, else 0."""
    if kind is ValueType.AMOUNT:
        ok = f"AND({ref}>=0,ROUND({ref},{fee_decimals})={ref},{ref}<={fee_max})"
    else:
        ok = f"AND({ref}>=0,ROUND({ref},0)={ref},{ref}<={MAX_COUNT})"
    return f"IF(ISNUMBER({ref}),IF({ok},0,1),IF(LEN({ref})=0,0,1))"


class _Planner:
    def __init__(self, spec: FormatSpec, fee_decimals: int, fee_max: Decimal) -> None:
        self.spec, self.fee_decimals, self.fee_max = spec, fee_decimals, fee_max
        self.layout: WorkbookLayout = workbook_layout(spec)

    def addr(self, key: str) -> str:
        return self.layout.cell(key)[1]

    def qref(self, key: str) -> str:
        return quoted(*self.layout.cell(key))

    def inputs_of(self, keys: tuple[str, ...]) -> tuple[str, ...]:
        """The input cells a rule depends on, through the totals' formulas."""
        out: list[str] = []
        for key in keys:
            if self.spec.cells[key].kind is CellKind.INPUT:
                out.append(key)
            else:
                out += self.inputs_of(self.spec.formulas[key].parts)
        return tuple(dict.fromkeys(out))

    def bad_sum(self, keys: tuple[str, ...], qualified: bool = False) -> str:
        refer = self.qref if qualified else self.addr
        return "+".join(bad(refer(k), self.spec.cells[k].type, self.fee_decimals, self.fee_max)
                        for k in keys)

    def below(self, key: str) -> str:
        sheet_id = self.spec.cells[key].table.sheet
        _, col = coordinate_to_tuple(self.addr(key))
        return a1(self.layout.check_row(sheet_id), col)

    def right_of(self, key: str) -> str:
        sheet_id = self.spec.cells[key].table.sheet
        row, _ = coordinate_to_tuple(self.addr(key))
        return a1(row, self.layout.check_column(sheet_id))


def _difference(left: str, right: str, label: str = "差") -> str:
    return f'IF({left}={right},"{OK}","✗ {label} "&({left}-({right})))'


def plan(spec: FormatSpec = DEFAULT_FORMAT, *, fee_decimals: int = 4,
         fee_max: Decimal = Decimal("10000")) -> list[LiveCheck]:
    """Every live check of the format, in the order 校验结果 lists them."""
    return list(_plan(_Planner(spec, fee_decimals, fee_max)))


def _plan(p: _Planner) -> Iterator[LiveCheck]:
    spec = p.spec
    yield from _header_checks(p)
    checked: dict[str, str] = {}
    for rule in spec.balances:
        anchor = rule.right[-1]
        column = spec.cells[anchor].column
        inputs = p.inputs_of((*rule.left, *rule.right))
        left, right = (f"SUM({','.join(p.addr(k) for k in side)})" for side in (rule.left, rule.right))
        if column.computed:  # the total column: its parts are the other columns' checks
            guard = "OR(" + ",".join(f'{cell}="{BAD_INPUT}"' for cell in checked.values()) + ")"
        else:
            guard = f"{p.bad_sum(inputs)}>0"
        address = p.below(anchor)
        checked[column.id] = address
        yield LiveCheck("t3-balance", f"表三“{column.label}”列",
                        f'=IF({guard},"{BAD_INPUT}",{_difference(left, right)})', inputs,
                        spec.cells[anchor].table.sheet, address, anchor=anchor)
    for total in spec.sums:
        table = spec.cells[total.target].table
        if table.sheet == "t3":
            continue  # 表三's totals are formulas; its check row holds the balance
        inputs = p.inputs_of(total.parts)
        parts = f"SUM({','.join(p.addr(k) for k in total.parts)})"
        yield LiveCheck(total.code, f"{spec.sheet_name(table.sheet).split(' ')[0]}“"
                        f"{spec.cells[total.target].label}”",
                        f'=IF({p.bad_sum(inputs)}>0,"{BAD_INPUT}",'
                        f'{_difference(p.addr(total.target), parts)})',
                        inputs, table.sheet, p.below(total.target), anchor=total.target)
    yield from _table2_checks(p)
    yield from _cell_checks(p)


def _header_checks(p: _Planner) -> Iterator[LiveCheck]:
    layout, spec = p.layout, p.spec
    info = spec.sheet_name("info")
    for field_id, kind_id in (("agency", "agency-missing"), ("year", "year-missing")):
        ref = quoted(info, layout.info_cell(field_id))
        yield LiveCheck(kind_id, "基本信息",
                        f'=IF(LEN({ref})=0,"✗ 未填写","{OK}")', ())
    t21 = spec.table("t2_1")
    rules = tuple(t21.key("rules", c.id) for c in t21.columns)
    level = quoted(info, layout.info_cell("level"))
    allowed = ",".join(f'{level}="{name}"' for name in spec.rule_making_levels)
    yield LiveCheck("rules-authority", "表二“规章”与单位层级",
                    f'=IF(AND(SUM({",".join(p.qref(k) for k in rules)})>0,'
                    f'IF(OR({allowed}),0,1)=1),"✗ 请核实","{OK}")', rules, counted=False, red=False)


def _table2_checks(p: _Planner) -> Iterator[LiveCheck]:
    t21 = p.spec.table("t2_1")
    for row in t21.data_rows:
        issued, repealed, in_force = (t21.key(row.id, c) for c in ("issued", "repealed", "in_force"))
        keys = (issued, repealed, in_force)
        yield LiveCheck(
            "in-force-lower-bound", f"表二“{row.label}”",
            f'=IF({p.bad_sum(keys)}>0,"{BAD_INPUT}",IF({p.addr(in_force)}>={p.addr(issued)}-'
            f'{p.addr(repealed)},"{OK}","✗ 少 "&({p.addr(issued)}-{p.addr(repealed)}-'
            f'{p.addr(in_force)})))', keys, "t2", p.right_of(in_force), counted=False,
            red=False, anchor=in_force)
    for table in p.spec.tables:
        if table.sheet != "t2" or table.id == "t2_1":
            continue
        for row in table.data_rows:
            cells = tuple(table.key(row.id, c.id) for c in table.columns)
            yield LiveCheck("not-a-number", f"表二“{row.label}”",
                            f'=IF({p.bad_sum(cells)}>0,"{BAD_INPUT}","{OK}")', cells, "t2",
                            p.right_of(cells[-1]), counted=False, anchor=cells[-1])


def _cell_checks(p: _Planner) -> Iterator[LiveCheck]:
    """Per sheet: inputs that are not valid numbers, and blank inputs."""
    for sheet_id in p.layout.grids:
        name = p.spec.sheet_name(sheet_id)
        keys = tuple(k for k in p.spec.input_keys if p.spec.cells[k].table.sheet == sheet_id)
        short = name.split(" ")[0]
        if sheet_id != "t3":  # 表三's check row already says which column has a bad cell
            count = p.bad_sum(keys, qualified=True)
            yield LiveCheck("not-a-number", f"{short}全部填报单元格",
                            f'=IF({count}=0,"{OK}","✗ "&({count})&" 处")', keys, count=count)
        blanks = "+".join(f"COUNTBLANK({quoted(name, run)})" for run in _runs(p, keys))
        yield LiveCheck("blank-as-zero", f"{short}全部填报单元格",
                        f'=IF({blanks}=0,"{OK}","✗ "&({blanks})&" 处空白")', keys, count=blanks)


def _runs(p: _Planner, keys: tuple[str, ...]) -> list[str]:
    """The input cells as ranges of adjacent cells within a row (B5:G5)."""
    cells = sorted(coordinate_to_tuple(p.addr(k)) for k in keys)
    runs: list[list[tuple[int, int]]] = []
    for row, col in cells:
        if runs and runs[-1][-1] == (row, col - 1):
            runs[-1].append((row, col))
        else:
            runs.append([(row, col)])
    return [a1(*run[0]) if len(run) == 1 else f"{a1(*run[0])}:{a1(*run[-1])}" for run in runs]


# ----------------------------------------------------------------------- writing


def add_live_checks(wb: Workbook, spec: FormatSpec = DEFAULT_FORMAT, *, fee_decimals: int = 4,
                    fee_max: Decimal = Decimal("10000")) -> list[LiveCheck]:
    """Write the checks into a freshly built intake workbook; returns what was written."""
    checks = plan(spec, fee_decimals=fee_decimals, fee_max=fee_max)
    p = _Planner(spec, fee_decimals, fee_max)
    for check in checks:
        if check.sheet_id is None:
            continue
        ws = wb[spec.sheet_name(check.sheet_id)]
        cell = ws[check.address]
        cell.value = check.formula
        cell.font, cell.border = _FONT, _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.conditional_formatting.add(check.address, FormulaRule(
            formula=[f'{check.address}<>"{OK}"'], fill=_fill(RED if check.red else AMBER)))
    for sheet_id in p.layout.grids:
        _label_checks(wb[spec.sheet_name(sheet_id)], p, sheet_id)
        _input_formatting(wb[spec.sheet_name(sheet_id)], p, sheet_id)
    _write_summary(wb, spec, checks)
    wb.calculation.fullCalcOnLoad = True  # Excel and WPS compute every check on opening
    return checks


def _label_checks(ws: Worksheet, p: _Planner, sheet_id: str) -> None:
    placed = p.layout.grids[sheet_id]
    text = f"自动校验（{OK} 为通过）"
    if sheet_id == "t2":
        cell = ws.cell(row=placed.top + 1, column=p.layout.check_column(sheet_id), value=text)
        ws.column_dimensions[a1(1, cell.column)[:-1]].width = 14
    elif placed.grid.label_columns == 0:  # 表四: one row, no stub; label right of the checks
        cell = ws.cell(row=p.layout.check_row(sheet_id), column=p.layout.check_column(sheet_id),
                       value=text)
        ws.column_dimensions[a1(1, cell.column)[:-1]].width = 14
    else:
        row = p.layout.check_row(sheet_id)
        if placed.grid.label_columns > 1:
            ws.merge_cells(start_row=row, start_column=1, end_row=row,
                           end_column=placed.grid.label_columns)
        cell = ws.cell(row=row, column=1, value=text)
        ws.row_dimensions[row].height = 30
    cell.font, cell.border = _BOLD, _BORDER
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _input_formatting(ws: Worksheet, p: _Planner, sheet_id: str) -> None:
    keys = tuple(k for k in p.spec.input_keys if p.spec.cells[k].table.sheet == sheet_id)
    for run in _runs(p, keys):
        first = run.split(":")[0]
        kind = p.spec.cells[next(k for k in keys if p.addr(k) == first)].type
        ws.conditional_formatting.add(run, FormulaRule(
            formula=[f"{bad(first, kind, p.fee_decimals, p.fee_max)}=1"], fill=_fill(RED)))
        ws.conditional_formatting.add(run, FormulaRule(formula=[f"LEN({first})=0"],
                                                       fill=_fill(AMBER)))


def _write_summary(wb: Workbook, spec: FormatSpec, checks: list[LiveCheck]) -> None:
    ws = wb.create_sheet(CHECK_SHEET, index=1)
    for letter, width in zip("ABCDEF", (6, 28, 52, 14, 8, 50), strict=True):
        ws.column_dimensions[letter].width = width
    ws.cell(row=1, column=1, value="自动校验结果（随填写自动更新；以报送后系统校验为准）").font = Font(
        name="黑体", size=14)
    last = CHECK_FIRST_ROW + len(checks) - 1
    todo = f"SUM({a1(CHECK_FIRST_ROW, 5)}:{a1(last, 5)})"
    verdict = ws.cell(row=CHECK_VERDICT_ROW, column=1,
                      value=f'=IF({todo}=0,"可以报送","还有 "&{todo}&" 处需要修改")')
    ws.merge_cells(start_row=CHECK_VERDICT_ROW, start_column=1, end_row=CHECK_VERDICT_ROW,
                   end_column=6)
    verdict.font = Font(name="黑体", size=14, bold=True)
    verdict.alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[CHECK_VERDICT_ROW].height = 28
    place = verdict.coordinate
    ws.conditional_formatting.add(place, FormulaRule(formula=[f'{place}="可以报送"'],
                                                     fill=_fill(GREEN)))
    ws.conditional_formatting.add(place, FormulaRule(formula=[f'{place}<>"可以报送"'],
                                                     fill=_fill(RED)))
    for col, head in enumerate(("序号", "位置", "检查的问题", "结果", "需修改", "怎样修改"), 1):
        cell = ws.cell(row=CHECK_FIRST_ROW - 1, column=col, value=head)
        cell.font, cell.border = _BOLD, _BORDER
    for i, check in enumerate(checks):
        row = CHECK_FIRST_ROW + i
        result = a1(row, 4)
        shown = (f"={quoted(spec.sheet_name(check.sheet_id), check.address)}"
                 if check.sheet_id else check.formula)
        todo_cell: str | int = f'=IF({result}="{OK}",0,{check.count or 1})' if check.counted else 0
        problem = check.problem + ("" if check.red else "（提示，不影响报送）")
        values: tuple[object, ...] = (i + 1, check.where, problem, shown, todo_cell,
                                      kinds.kind(check.kind_id).hint)
        for col, value in enumerate(values, 1):
            cell = ws.cell(row=row, column=col, value=value)
            cell.font, cell.border = _FONT, _BORDER
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        ws.row_dimensions[row].height = 30  # two lines: no client grows rows for formulas
        ws.conditional_formatting.add(result, FormulaRule(
            formula=[f'{result}<>"{OK}"'], fill=_fill(RED if check.red else AMBER)))
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.protection.sheet = True
