"""Frozen data passed between the reader, the checks, the renderers and the CLI."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

Value = int | Decimal
SUMMARY_CODE = "SUMMARY"  # the code of a 汇总 (in its workbook's hidden metadata)
MEMBERS_SHEET = "汇总单位"  # the 汇总 workbook's sheet listing every unit, in or left out


class Severity(enum.StrEnum):
    ERROR = "error"  # blocks the agency's report
    WARNING = "warning"  # shown, does not block

    @property
    def zh(self) -> str:
        return "错误" if self is Severity.ERROR else "警告"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem found in one file.

    ``sheet``/``cell`` name the cell to fix first (None for a file-level
    problem); ``related`` lists the other cells of the rule as ``sheet!A1``.
    """

    code: str
    severity: Severity
    message: str
    sheet: str | None = None
    cell: str | None = None
    key: str | None = None
    related: tuple[str, ...] = ()
    expected: Value | str | None = None
    actual: Value | str | None = None
    hint: str = ""  # how to fix it, in one short sentence (from the catalogue, nianbao.kinds)

    @property
    def location(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": str(self.severity),
            "code": self.code,
            "sheet": self.sheet,
            "cell": self.cell,
            "message": self.message,
            "expected": _jsonable(self.expected),
            "actual": _jsonable(self.actual),
            "related": list(self.related),
            "hint": self.hint,
        }


def _jsonable(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterIds:
    """What the cross-year check needs of a register of applications: 编号 and rows only."""

    sheet: str
    no_column: int = 1  # 1-based column of 编号, for messages
    carried_in: Mapping[str, int] = field(default_factory=dict)  # 上年结转 编号 -> row
    carried_out: Mapping[str, int] = field(default_factory=dict)  # 结转下年度 编号 -> row


@dataclass(frozen=True, slots=True, kw_only=True)
class Submission:
    """What one agency reported, as read from its workbook (or summed, for a 汇总).

    ``values`` holds every cell of the format: inputs as read (``None`` where the
    cell could not be read as a number) and computed cells recomputed from the
    inputs (``None`` if any part is ``None``).  ``claims`` holds the totals the
    file itself showed (typed or cached), which the checks compare.
    """

    agency: str = ""
    code: str = ""
    year: int | None = None
    level: str = ""
    contact: str = ""
    phone: str = ""
    format_id: str = "gb2021"
    values: Mapping[str, Value | None] = field(default_factory=dict)
    claims: Mapping[str, Value] = field(default_factory=dict)
    narrative: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: Path | None = None
    members: tuple[str, ...] = ()  # for a 汇总: the units included
    # for a 汇总: the units in its scope left out, as (name, why), for the report's 附表
    excluded: tuple[tuple[str, str], ...] = ()
    register: RegisterIds | None = None  # when 表三 was counted from a register

    @property
    def is_summary(self) -> bool:
        """A 汇总 of several units (its narrative is written by the coordinator, not a unit)."""
        return self.code == SUMMARY_CODE or bool(self.members)

    def value(self, key: str) -> Value:
        """The value of a cell, 0 when it could not be read."""
        got = self.values.get(key)
        return 0 if got is None else got


@dataclass(frozen=True, slots=True, kw_only=True)
class FileReport:
    """The outcome of reading and checking one workbook."""

    file: Path
    submission: Submission | None
    findings: tuple[Finding, ...]
    form_code: str = ""  # the agency code found in the workbook's metadata
    form_version: str = ""
    # where the reader found each key: key -> (sheet, A1); findings added later
    # (e.g. the cross-year checks) point at the cell the agency actually used
    positions: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # the narrative sections' 雷同 sketches, made where the file was read (a worker) so the
    # batch check only compares them (:func:`nianbao.textchecks.section_sketches`)
    sketches: Mapping[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def valid(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def agency(self) -> str:
        return self.submission.agency if self.submission else ""

    @property
    def year(self) -> int | None:
        return self.submission.year if self.submission else None

    def to_dict(self) -> dict[str, object]:
        values: dict[str, object] = {}
        if self.submission:
            values = {k: _jsonable(v) for k, v in self.submission.values.items()}
        return {
            "file": str(self.file),
            "agency": self.agency,
            "year": self.year,
            "valid": self.valid,
            "findings": [f.to_dict() for f in self.findings],
            "values": values,
        }

    def flatten(self, fields: Iterable[str]) -> list[tuple[object, ...]]:
        names = tuple(fields)
        return [tuple(getattr(f, n) for n in names) for f in self.findings]
