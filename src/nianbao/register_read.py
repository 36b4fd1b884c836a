"""Count 表三 and 表四 from the registers of a workbook just read (hooked into the reader).

When the workbook has a 依申请公开登记台账 sheet, every input cell of 表三 is the
register's count; a number the table itself shows (typed, or a spreadsheet's
cached COUNTIFS result) is a claim checked against it.  The same for 表四 and
the 复议诉讼案件登记 sheet.  The register checks run here too, since they need
the report year read from 基本信息.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nianbao.kinds import finding
from nianbao.layout import a1
from nianbao.model import Finding, RegisterIds, Value
from nianbao.register import (
    Entry,
    Register,
    RegisterSpec,
    application_cells,
    application_register,
    case_cells,
    case_register,
    count,
    may_hold,
    read_register,
)
from nianbao.register_checks import application_findings, case_findings, count_findings
from nianbao.schema import FormatSpec
from nianbao.settings import Settings
from nianbao.values import Issue

if TYPE_CHECKING:
    from nianbao.reader import ReadResult, SheetGrid

_VALUE_CODES = frozenset(str(i) for i in Issue)


def find_register(spec: RegisterSpec, grids: Sequence[SheetGrid]) -> Register | None:
    """The register on its own sheet, or on any sheet whose header row has its columns."""
    ordered = sorted(grids, key=lambda g: g.name != spec.sheet)
    for grid in ordered:
        if not may_hold(spec, grid.top_texts):
            continue  # most sheets: not a register (one look at their first rows, not two)
        register = read_register(spec, grid.name, grid.rows)
        if register is not None:
            return register
    return None


def apply_registers(result: ReadResult, grids: Sequence[SheetGrid], spec: FormatSpec) -> None:
    """Replace 表三/表四's inputs by the registers' counts, in place; add the findings."""
    sub = result.submission
    if sub is None:
        return
    applications = find_register(application_register(spec), grids)
    cases = find_register(case_register(spec), grids)
    if applications is None and cases is None:
        return
    values: dict[str, Value | None] = dict(sub.values)
    findings: list[Finding] = []
    counted: dict[str, list[Entry]] = {}
    for register, cells in ((applications, application_cells(spec)), (cases, case_cells(spec))):
        if register is None:
            continue
        got = count(register, cells)
        labels = {k: spec.cells[k].label for k in got}
        findings += count_findings(got, sub.values, result.positions, labels, register)
        counted |= got
    for key, entries in counted.items():
        values[key] = len(entries)
    spec.recompute(values)
    if applications is not None:
        findings += application_findings(applications, sub.year)
    if cases is not None:
        findings += case_findings(cases, applications)
    replaced = {result.positions[k] for k in counted if k in result.positions}
    result.findings[:] = [f for f in result.findings
                          if not (f.code in _VALUE_CODES and (f.sheet, f.cell) in replaced)]
    result.findings += findings
    ids = carried_ids(applications) if applications is not None else None
    result.submission = dataclasses.replace(sub, values=values, register=ids)


def carried_ids(register: Register) -> RegisterIds:
    carried_in: dict[str, int] = {}
    carried_out: dict[str, int] = {}
    for e in register.entries:
        if e.no and e.codes.get("source") == "carried":
            carried_in.setdefault(e.no, e.row)
        if e.no and "carried" in e.flags:
            carried_out.setdefault(e.no, e.row)
    return RegisterIds(sheet=register.sheet, no_column=register.columns.get("no", 1),
                       carried_in=carried_in, carried_out=carried_out)


def cross_year_register(ids: RegisterIds, last: RegisterIds | None, *, this_file: str,
                        last_file: str, settings: Settings) -> list[Finding]:
    """Last year's 结转下年度 编号 must be this year's 上年结转 编号: missing and unexpected."""
    if last is None:
        return []
    missing = [no for no in last.carried_out if no not in ids.carried_in]
    unexpected = [no for no in ids.carried_in if no not in last.carried_out]
    out: list[Finding] = []
    if missing:
        out.append(finding("reg-xyear-missing", settings=settings, sheet=ids.sheet,
                           expected=len(last.carried_out), actual=len(ids.carried_in),
                           register=ids.sheet, last_file=last_file, this_file=this_file,
                           n=len(missing), nos=_ids(missing)))
    for no in unexpected:
        row = ids.carried_in[no]
        out.append(finding("reg-xyear-unexpected", settings=settings, sheet=ids.sheet,
                           cell=a1(row, ids.no_column), register=ids.sheet, row=row, no=no,
                           last_file=last_file))
    return out


def _ids(nos: Sequence[str], limit: int = 30) -> str:
    return "、".join(nos[:limit]) + (f" 等 {len(nos)} 件" if len(nos) > limit else "")
