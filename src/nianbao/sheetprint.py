"""How a worksheet prints: A4, fit to the page's width, repeated header rows, a title.

Used by the intake form (:func:`fit_to_width` alone) and by the coordinator's
tables (status.xlsx, the 汇总 workbook's unit sheet: :func:`print_table`, which
also draws borders, wraps text and puts the title and page numbers in the page
header and footer, so every printed page says what it is).
"""

from __future__ import annotations

import math
import unicodedata

from openpyxl.styles import Alignment, Border, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(vertical="top", wrap_text=True)
PAGE_FOOTER = "第 &P 页，共 &N 页"
LINE_POINTS = 14.5  # one line of 11 pt text


SHEET_ROWS = 1_048_576  # the last row of a sheet in Excel, WPS and LibreOffice


def rows_left_out(total: int, shown: int, where: str) -> list[str]:
    """The row that ends a sheet cut at :data:`SHEET_ROWS`: how many rows it could not hold."""
    return [f"……其余 {total - shown} 行超出了电子表格的行数上限（{SHEET_ROWS} 行），未列出；"
            f"全部内容见{where}。"]


def text_width(text: str) -> float:
    """Width in column units: a CJK (wide or full-width) character counts two, others 0.9."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0.9 for ch in text)


def lines_needed(text: str, width: float) -> int:
    """Lines ``text`` takes wrapped in a column ``width`` units wide (a slight overestimate)."""
    usable = max(1.0, width - 0.5)
    return sum(max(1, math.ceil(text_width(part) / usable)) for part in text.split("\n"))


def fit_to_width(ws: Worksheet, *, landscape: bool, title_rows: str) -> None:
    """A4, as many pages down as needed but one page across; ``title_rows`` repeat."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows


def box(ws: Worksheet, first_row: int, last_row: int, columns: int, *,
        wrap_from: int | None = None) -> None:
    """Borders on the non-empty rows of a block; text from ``wrap_from`` on wraps, and each
    row is made tall enough for it (no spreadsheet measures wrapped text on opening)."""
    start_wrap = first_row if wrap_from is None else wrap_from
    widths = [ws.column_dimensions[get_column_letter(i)].width or 8.43
              for i in range(1, columns + 1)]
    for row in ws.iter_rows(min_row=first_row, max_row=last_row, max_col=columns):
        if all(c.value is None or c.value == "" for c in row):
            continue
        lines = 1
        for cell, width in zip(row, widths, strict=True):
            cell.border = BORDER
            if cell.row >= start_wrap:
                cell.alignment = Alignment(horizontal=cell.alignment.horizontal,
                                           vertical="top", wrap_text=True)
                if isinstance(cell.value, str) and not cell.value.startswith("="):
                    lines = max(lines, lines_needed(cell.value, width))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = min(409.0, LINE_POINTS * lines + 3)


def print_table(ws: Worksheet, *, title: str, header_row: int, first_row: int = 1,
                last_row: int | None = None, columns: int | None = None,
                wrap_from: int | None = None) -> None:
    """Print ``ws`` as a bordered table on A4 landscape, one page wide.

    Rows ``first_row``..``last_row`` (default: to the last one; every row prints)
    and the first ``columns`` columns get borders; empty rows are left without (they separate
    blocks).  Cells from ``wrap_from`` (default: the row after ``header_row``)
    wrap their text at the top of the cell.  Rows ``header_row`` and above
    repeat on every page; ``title`` is the page header, page numbers the footer.
    """
    last_row = ws.max_row if last_row is None else last_row
    columns = ws.max_column if columns is None else columns
    box(ws, first_row, last_row, columns, wrap_from=header_row + 1 if wrap_from is None
        else wrap_from)
    fit_to_width(ws, landscape=True, title_rows=f"1:{header_row}")
    ws.print_area = f"A1:{get_column_letter(columns)}{max(ws.max_row, 1)}"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.25
    ws.print_options.horizontalCentered = True
    ws.oddHeader.center.text = title
    ws.oddHeader.center.size = 12
    ws.oddHeader.center.font = "黑体,Regular"
    ws.oddFooter.center.text = PAGE_FOOTER
    ws.oddFooter.center.size = 9
