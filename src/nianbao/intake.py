"""The intake workbook each agency fills: written with openpyxl from the schema and layout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from nianbao.atomic import atomic_write
from nianbao.layout import (
    BANNER_ROW,
    FIRST_TABLE_ROW,
    INFO_VALUE_WIDTH,
    META_KEYS,
    META_SHEET,
    TITLE_ROW,
    Role,
    a1,
    workbook_layout,
)
from nianbao.livechecks import add_live_checks
from nianbao.model import Submission, Value
from nianbao.schema import DEFAULT_FORMAT, FORM_ID, FormatSpec, ValueType
from nianbao.sheetprint import fit_to_width

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
TOTAL_FILL = PatternFill("solid", fgColor="D9D9D9")
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FONT = Font(name="宋体", size=10)
BOLD = Font(name="宋体", size=10, bold=True)
TITLE_FONT = Font(name="黑体", size=14)
UNLOCKED = Protection(locked=False)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
TOP_LEFT = Alignment(horizontal="left", vertical="top", wrap_text=True)

TEXT_WIDTH = 84  # characters: 基本信息 column B, where each text area is one cell
TEXT_HELP = "每段之间换行（Alt+Enter），可直接粘贴。"
# Column widths (characters) of the table sheets: label columns, then value columns.
LABEL_WIDTHS = {1: (26,), 3: (10, 12, 34), 0: ()}
VALUE_WIDTH = 11


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeData:
    """What to put in a form: the agency header and, optionally, filled-in answers."""

    agency: str = ""
    code: str = ""
    year: int | None = None
    level: str = ""
    contact: str = ""
    phone: str = ""
    values: Mapping[str, Value | str | None] = field(default_factory=dict)
    narrative: Mapping[str, Sequence[str]] = field(default_factory=dict)


def guide_lines(spec: FormatSpec = DEFAULT_FORMAT, fee_decimals: int = 4) -> list[str]:
    """The 填报说明 text, including every 勾稽关系 of the format in words."""
    rules = dict.fromkeys([s.description for s in spec.sums]
                          + [b.description for b in spec.balances])
    lines = [
        "政府信息公开工作年度报告 数据填报表 填报说明",
        "",
        f"本表依据《{spec.name}》（{spec.document}）制作，用于报送年度报告的统计数据和文字内容。",
        "一、只填写浅黄色单元格；灰色单元格为自动计算的合计，已锁定，无需填写。",
        "二、所有数值单元格必须填写，没有数据的填 0，不要留空，不要填“/”“-”“无”。",
        "三、件数只能填写非负整数；收费金额单位为万元，"
        f"最多保留{fee_decimals}位小数（例如 3250 元填 0.325）。",
        "四、统计期限为报告年度的 1月1日至12月31日。",
        "五、不要增删行、列或工作表，不要修改表头文字，不要改动工作表名称。",
        "六、“基本信息”工作表中填写联系人，以及报告第一、五、六部分的文字；"
        "每段之间用换行分隔（单元格内换行：Alt+Enter）。",
        "七、表中数据须满足以下勾稽关系，报送后系统将逐项校验：",
        *[f"    {i}. {text}。" for i, text in enumerate(rules, 1)],
        "八、填报完成后请保存为 .xlsx 格式（不要另存为 .xls 或 WPS 的 .et 格式）报送。",
    ]
    return lines


def write_intake(path: Path, data: IntakeData, *, spec: FormatSpec = DEFAULT_FORMAT,
                 fee_decimals: int = 4, legacy: bool = False) -> Path:
    """Write the intake workbook to ``path`` atomically and return the path.

    ``legacy=True`` writes the form as issued before issue 10 (no live checks, fixed-height
    text areas): the tests' corpus of old forms, which must keep reading.
    """
    wb = build_workbook(data, spec=spec, fee_decimals=fee_decimals, legacy=legacy)
    with atomic_write(path) as tmp:
        wb.save(tmp)
    return path


def build_workbook(data: IntakeData, *, spec: FormatSpec = DEFAULT_FORMAT,
                   fee_decimals: int = 4, legacy: bool = False) -> Workbook:
    """The intake workbook as an openpyxl object (not saved)."""
    wb = Workbook()
    default = wb.active
    assert default is not None
    wb.remove(default)
    banner = _banner(data)
    for sheet_id, name in spec.sheets:
        ws = wb.create_sheet(name)
        if sheet_id == "guide":
            _write_guide(ws, spec, fee_decimals, legacy)
        elif sheet_id == "info":
            _write_info(ws, data, spec, banner, legacy)
        else:
            _write_table_sheet(ws, sheet_id, data, spec, banner, fee_decimals, legacy)
    if not legacy:
        add_live_checks(wb, spec, fee_decimals=fee_decimals)
    _write_meta(wb, data, spec)
    wb.security = WorkbookProtection(lockStructure=True)
    wb.active = wb.sheetnames.index(spec.sheet_name("info"))
    return wb


def _banner(data: IntakeData) -> str:
    code = f"（编码：{data.code}）" if data.code else ""
    year = f"    报告年度：{data.year}" if data.year else ""
    return f"填报单位：{data.agency or '（请在“基本信息”中填写）'}{code}{year}"


def _protect(ws: Worksheet) -> None:
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


GUIDE_WIDTH = 88  # characters of column A on 填报说明
GUIDE_SCALE = 80  # per cent: column A then fits an A4 portrait page


def _wrapped_lines(text: str, width: int) -> int:
    """How many lines ``text`` takes in a column ``width`` characters wide (a CJK
    character is two), so that a wrapped instruction is printed whole."""
    units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    return max(1, -(-units * 11 // (width * 10)))  # 10 % spare: fonts are not monospaced


def _write_guide(ws: Worksheet, spec: FormatSpec, fee_decimals: int, legacy: bool) -> None:
    ws.column_dimensions["A"].width = GUIDE_WIDTH
    for i, line in enumerate(guide_lines(spec, fee_decimals), 1):
        cell = ws.cell(row=i, column=1, value=line)
        cell.font = TITLE_FONT if i == 1 else FONT
        cell.alignment = LEFT
        wrapped = _wrapped_lines(line, GUIDE_WIDTH)
        if i > 1 and wrapped > 1:  # LibreOffice does not grow a row on opening: say how high
            ws.row_dimensions[i].height = 14 * wrapped
    if not legacy:
        fit_to_width(ws, landscape=False, title_rows="1:1")
        # LibreOffice clips a wrapped column wider than the page instead of fitting it
        # to the width: print at a fixed scale at which column A fits A4 portrait.
        ws.sheet_properties.pageSetUpPr.fitToPage = False
        ws.page_setup.scale = GUIDE_SCALE
    _protect(ws)


def _write_info(ws: Worksheet, data: IntakeData, spec: FormatSpec, banner: str,
                legacy: bool) -> None:
    layout = workbook_layout(spec)
    last = 1 + INFO_VALUE_WIDTH
    ws.merge_cells(start_row=BANNER_ROW, start_column=1, end_row=BANNER_ROW, end_column=last)
    ws.cell(row=BANNER_ROW, column=1, value=banner).font = BOLD
    ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=last)
    title = ws.cell(row=TITLE_ROW, column=1, value="基本信息及报告文字部分")
    title.font = TITLE_FONT
    ws.column_dimensions["A"].width = 26
    for col in range(2, last + 1):  # new forms: one wide column B holds each text area
        width = 12 if legacy else TEXT_WIDTH if col == 2 else 2
        ws.column_dimensions[a1(1, col)[:-1]].width = width
    given = {"agency": data.agency, "code": data.code, "year": data.year, "level": data.level,
             "contact": data.contact, "phone": data.phone}
    for info in spec.info_fields:
        row = layout.info_rows[info.id]
        _label(ws, row, 1, info.label)
        ws.merge_cells(layout.info_range(info.id))
        cell = ws.cell(row=row, column=2, value=given.get(info.id) or None)
        locked = info.prefilled and bool(given.get(info.id))
        _style_range(ws, layout.info_range(info.id), TOTAL_FILL if locked else INPUT_FILL)
        cell.alignment = LEFT
        if not locked:
            cell.protection = UNLOCKED
        if info.choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(info.choices) + '"',
                                allow_blank=True, showInputMessage=True, showErrorMessage=True,
                                promptTitle=info.label, prompt=info.prompt,
                                errorTitle="输入错误", error="请从下拉列表中选择")
            ws.add_data_validation(dv)
            dv.add(cell.coordinate)
    for section in spec.sections:
        if not section.narrative:
            continue
        row = layout.info_rows[section.id]
        _label(ws, row, 1, section.heading)
        if legacy:
            ws.merge_cells(layout.info_range(section.id))
        text = "\n".join(data.narrative.get(section.id, ()))
        cell = ws.cell(row=row, column=2, value=text or None)
        cell.alignment = TOP_LEFT
        cell.protection = UNLOCKED
        if legacy:
            _style_range(ws, layout.info_range(section.id), INPUT_FILL)
            ws.row_dimensions[row].height = 220
            cell.comment = Comment(f"填写报告“{section.heading}”部分的文字，分段处按 Alt+Enter 换行。",
                                   "nianbao")
        else:  # one unmerged cell: a blank row grows as the agency types (Excel, WPS, LibreOffice)
            _style_range(ws, cell.coordinate, INPUT_FILL)
            if text:  # no client measures text when opening a file: size a prefilled one
                ws.row_dimensions[row].height = _text_height(text)
            cell.comment = Comment(f"填写报告“{section.heading}”部分的文字。{TEXT_HELP}", "nianbao")
            help_ = DataValidation(allow_blank=True, showInputMessage=True,
                                   promptTitle=section.heading, prompt=TEXT_HELP)
            ws.add_data_validation(help_)
            help_.add(cell.coordinate)
    if not legacy:
        _text_counts(ws, spec, last)
    ws.freeze_panes = a1(FIRST_TABLE_ROW, 1)
    fit_to_width(ws, landscape=False, title_rows="1:2")
    _protect(ws)


def _text_height(text: str) -> float:
    """Points needed to show ``text`` wrapped in column B (a CJK character is two widths)."""
    per_line = TEXT_WIDTH // 2 - 6
    lines = sum(max(1, -(-len(para) // per_line)) for para in text.split("\n"))
    return min(409.0, 14.0 * lines + 6)  # 409 points: the largest row height Excel allows


def _text_counts(ws: Worksheet, spec: FormatSpec, last: int) -> None:
    """A line under the text areas: the instruction and each area's character count."""
    layout = workbook_layout(spec)
    sections = [s for s in spec.sections if s.narrative]
    row = max(layout.info_rows[s.id] for s in sections) + 1
    counts = "&\"；\"&".join(f'"{s.heading} "&LEN({layout.info_cell(s.id)})&" 字"'
                               for s in sections)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
    cell = ws.cell(row=row, column=1, value=f'="{TEXT_HELP}已填字数："&{counts}')
    cell.font, cell.alignment = FONT, LEFT
    ws.row_dimensions[row].height = 30


def _label(ws: Worksheet, row: int, col: int, text: str) -> None:
    cell = ws.cell(row=row, column=col, value=text)
    cell.font = BOLD
    cell.alignment = LEFT
    cell.border = BORDER
    cell.fill = HEAD_FILL


def _style_range(ws: Worksheet, ref: str, fill: PatternFill) -> None:
    min_col, min_row, max_col, max_row = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
    for row in range(min_row, max_row + 1):
        for col in range(min_col, max_col + 1):
            cell = ws.cell(row=row, column=col)
            cell.border = BORDER
            cell.fill = fill


def _write_table_sheet(ws: Worksheet, sheet_id: str, data: IntakeData, spec: FormatSpec,
                       banner: str, fee_decimals: int, legacy: bool) -> None:
    layout = workbook_layout(spec)
    placed = layout.grids[sheet_id]
    grid = placed.grid
    width = grid.width
    ws.merge_cells(start_row=BANNER_ROW, start_column=1, end_row=BANNER_ROW, end_column=width)
    ws.cell(row=BANNER_ROW, column=1, value=banner).font = BOLD
    section = next(s for s in spec.sections
                   if s.tables and spec.table(s.tables[0]).sheet == sheet_id)
    ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=width)
    ws.cell(row=TITLE_ROW, column=1, value=section.heading).font = TITLE_FONT
    widths = LABEL_WIDTHS.get(grid.label_columns, (16,) * grid.label_columns)
    for col in range(1, width + 1):
        w = widths[col - 1] if col <= len(widths) else VALUE_WIDTH
        ws.column_dimensions[a1(1, col)[:-1]].width = w
    counts: list[str] = []
    amounts: list[str] = []
    header_bottom = 0
    for block in grid.blocks:
        ref = placed.range(block)
        if ref != placed.address(block):
            ws.merge_cells(ref)
        top = ws[placed.address(block)]
        if block.role is not Role.VALUE:
            top.value = block.text
            top.font = BOLD if block.role in (Role.CAPTION, Role.HEADER) else FONT
            top.alignment = CENTER if block.role is not Role.LABEL else LEFT
            _style_range(ws, ref, HEAD_FILL if block.role is not Role.LABEL else PatternFill())
            if block.role in (Role.HEADER, Role.CORNER):
                header_bottom = max(header_bottom, placed.top + block.row + block.rowspan - 1)
            continue
        assert block.key is not None
        cell = spec.cells[block.key]
        amount = cell.type is ValueType.AMOUNT
        top.number_format = ("0." + "0" * fee_decimals) if amount and fee_decimals else "0"
        top.alignment = Alignment(horizontal="right", vertical="center")
        top.font = FONT
        if block.computed:
            parts = [layout.cell(p)[1] for p in spec.formulas[block.key].parts]
            top.value = f"=SUM({','.join(parts)})"
            _style_range(ws, ref, TOTAL_FILL)
        else:
            top.value = _cell_value(data.values.get(block.key))
            top.protection = UNLOCKED
            _style_range(ws, ref, INPUT_FILL)
            (amounts if amount else counts).append(placed.address(block))
    _add_validations(ws, counts, amounts, fee_decimals)
    if sheet_id == "t3" or sheet_id == "t4":
        ws.freeze_panes = a1(header_bottom + 1, grid.label_columns + 1)
        for row in range(placed.top, placed.top + grid.height):
            ws.row_dimensions[row].height = 30 if sheet_id == "t3" else 24
    else:
        ws.freeze_panes = a1(FIRST_TABLE_ROW, 1)
    fit_to_width(ws, landscape=sheet_id != "t2", title_rows=f"1:{max(header_bottom, 2)}")
    if sheet_id == "t3" and not legacy:
        ws.page_setup.fitToHeight = 1  # 表三 on one landscape page
    _protect(ws)


def _cell_value(value: Value | str | None) -> int | float | str | None:
    if isinstance(value, Decimal):
        # openpyxl writes floats; repr round-trips the Decimal's digits exactly
        return float(value)
    return value


def _add_validations(ws: Worksheet, counts: list[str], amounts: list[str],
                     fee_decimals: int) -> None:
    if counts:
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0",
                            allow_blank=True, showInputMessage=True, showErrorMessage=True,
                            promptTitle="填写提示", prompt="请填写非负整数，没有数据填0",
                            errorTitle="输入错误", error="只能填写大于或等于0的整数（件数）",
                            errorStyle="stop")
        ws.add_data_validation(dv)
        for ref in counts:
            dv.add(ref)
    for ref in amounts:
        rule = f"AND(ISNUMBER({ref}),{ref}>=0,ROUND({ref},{fee_decimals})={ref})"
        dv = DataValidation(type="custom", formula1=rule, allow_blank=True,
                            showInputMessage=True, showErrorMessage=True,
                            promptTitle="单位：万元",
                            prompt=f"请填写金额，单位万元，最多{fee_decimals}位小数；没有收费填0",
                            errorTitle="输入错误",
                            error=f"金额须为大于或等于0的数，单位万元，最多{fee_decimals}位小数",
                            errorStyle="stop")
        ws.add_data_validation(dv)
        dv.add(ref)


def _write_meta(wb: Workbook, data: IntakeData, spec: FormatSpec) -> None:
    ws = wb.create_sheet(META_SHEET)
    values = {"form_id": FORM_ID, "form_version": spec.form_version, "format": spec.id,
              "year": data.year, "agency_code": data.code, "agency_name": data.agency}
    for i, key in enumerate(META_KEYS, 1):
        ws.cell(row=i, column=1, value=key)
        ws.cell(row=i, column=2, value=values[key])
        name = f"NB_{key.upper()}"
        wb.defined_names[name] = DefinedName(name, attr_text=f"{META_SHEET}!$B${i}")
    ws.sheet_state = "veryHidden"
    _protect(ws)


def intake_from(sub: Submission) -> IntakeData:
    """The form contents that reproduce a submission (inputs only; totals stay formulas)."""
    return IntakeData(agency=sub.agency, code=sub.code, year=sub.year, level=sub.level,
                      contact=sub.contact, phone=sub.phone,
                      values={k: v for k, v in sub.values.items()},
                      narrative={k: tuple(v) for k, v in sub.narrative.items()})
