"""A workbook part prepared in memory, part streamed: the 汇总 workbook of a province.

openpyxl holds every cell of an ordinary workbook in memory (some 300 bytes a
cell); a write-only workbook writes rows to disk as they come but cannot be
edited.  The 汇总 workbook is both: a few small sheets built as a form (merged
cells, validations, conditional formats, comments, protection), and tables with
a row per member unit, which for a province are hundreds of thousands of rows.
:func:`copy_sheet` copies a finished small sheet into a write-only workbook, with
everything the form uses, so that the large tables can then be streamed after it.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet.worksheet import Worksheet


@contextlib.contextmanager
def write_only_workbook() -> Iterator[Workbook]:
    """A write-only workbook, given up cleanly if anything stops the writing.

    Each write-only sheet streams into a temporary file through an open XML
    writer; a workbook abandoned half-way (a full disk, Ctrl+C, a termination
    signal) would leave those files behind and print internal errors when the
    writers are collected.  Here they are closed quietly and the files removed.
    """
    wb = Workbook(write_only=True)
    try:
        yield wb
    except BaseException:
        _abandon(wb)
        raise


def _abandon(wb: Workbook) -> None:
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        for stream in (getattr(ws, "_rows", None), getattr(writer, "xf", None)):
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
        out = getattr(writer, "out", None)
        if isinstance(out, str):
            with contextlib.suppress(OSError, ValueError):
                writer.cleanup()  # type: ignore[union-attr]


_STYLE_ATTRS = ("font", "fill", "border", "alignment", "number_format", "protection")


def copy_sheets(source: Workbook, out: Workbook) -> None:
    """Copy every sheet of ``source``, in order, after those of write-only ``out``, with the
    workbook's defined names, structure protection and calculation settings."""
    for ws in source.worksheets:
        copy_sheet(ws, out)
    for name, defined in source.defined_names.items():
        out.defined_names[name] = copy.copy(defined)
    out.security = copy.copy(source.security)
    out.calculation = copy.copy(source.calculation)


def copy_sheet(src: Worksheet, out: Workbook) -> None:
    """Copy ``src`` (values, styles, comments, sizes, merges, validations, conditional
    formats, protection, view and print setup) as a new sheet of write-only ``out``."""
    dst = out.create_sheet(src.title)
    # what a write-only sheet writes before its first row
    dst.sheet_properties = copy.copy(src.sheet_properties)
    dst.views = copy.deepcopy(src.views)
    dst.sheet_format = copy.copy(src.sheet_format)
    for key, dim in src.column_dimensions.items():
        target = dst.column_dimensions[key]
        target.width, target.hidden = dim.width, dim.hidden
        target.min, target.max = dim.min, dim.max
    for key, dim in src.row_dimensions.items():
        if dim.height is not None or dim.hidden:
            dst.row_dimensions[key].height = dim.height
            dst.row_dimensions[key].hidden = dim.hidden
    dst.sheet_state = src.sheet_state
    for row in src.iter_rows(min_row=1, max_row=src.max_row, max_col=src.max_column):
        cells: list[object] = []
        for cell in row:
            if cell.value is None and not cell.has_style and cell.comment is None:
                cells.append(None)
                continue
            new = WriteOnlyCell(dst, cell.value)
            if cell.has_style:
                for attr in _STYLE_ATTRS:
                    setattr(new, attr, copy.copy(getattr(cell, attr)))
            if cell.comment is not None:
                new.comment = copy.copy(cell.comment)
            cells.append(new)
        dst.append(cells)
    # what it writes after its rows
    for merged in src.merged_cells.ranges:
        dst.merged_cells.add(merged.coord)
    for validation in src.data_validations.dataValidation:
        dst.data_validations.append(copy.copy(validation))
    for formatting in src.conditional_formatting:
        for rule in formatting.rules:
            dst.conditional_formatting.add(str(formatting.sqref), copy.copy(rule))
    dst.protection = copy.copy(src.protection)
    for attr in ("orientation", "paperSize", "fitToWidth", "fitToHeight", "scale"):
        setattr(dst.page_setup, attr, getattr(src.page_setup, attr))
    dst.print_options = copy.copy(src.print_options)
    dst.page_margins = copy.copy(src.page_margins)
    dst.HeaderFooter = copy.copy(src.HeaderFooter)
    if src.print_title_rows:
        dst.print_title_rows = src.print_title_rows
    if src.print_title_cols:
        dst.print_title_cols = src.print_title_cols
    if src.print_area:  # 'sheet'!$A$1:$D$9 -> $A$1:$D$9
        dst.print_area = [part.rsplit("!", 1)[-1] for part in src.print_area.split(",")]
    dst.auto_filter = copy.copy(src.auto_filter)
