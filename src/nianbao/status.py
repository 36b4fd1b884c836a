"""Where every unit stands: 未报送 / 无法读取 / 数据有误 / 有警告 / 已通过 / 已生成.

:func:`make_board` turns the matching into one :class:`UnitStatus` per roster
unit; :mod:`nianbao.status_output` writes it for people (xlsx, html, feedback
texts, the 催报 list).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.matching import Match, Matching
from nianbao.model import FileReport
from nianbao.report import display_path
from nianbao.roster import Roster, Unit


class State(enum.StrEnum):
    """A unit's state, in the order a unit moves through them."""

    MISSING = "未报送"
    UNREADABLE = "无法读取"
    ERRORS = "数据有误"
    WARNINGS = "有警告"
    PASSED = "已通过"
    BUILT = "已生成"

    @property
    def done(self) -> bool:
        """Nothing more is needed from the unit."""
        return self in (State.WARNINGS, State.PASSED, State.BUILT)


def state_of(report: FileReport | None, built: bool = False) -> State:
    if report is None:
        return State.MISSING
    if report.submission is None:
        return State.UNREADABLE
    if not report.valid:
        return State.ERRORS
    if built:
        return State.BUILT
    return State.WARNINGS if report.warnings else State.PASSED


def display(path: Path, base: Path | None) -> str:
    """``path`` relative to ``base`` (absolute when there is no base)."""
    return display_path(path, base) if base is not None else str(path)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitStatus:
    """One roster unit, the file that counts for it (newest) and the older ones."""

    unit: Unit
    state: State
    match: Match | None = None
    others: tuple[Match, ...] = ()

    @property
    def report(self) -> FileReport | None:
        return self.match.report if self.match else None

    @property
    def errors(self) -> int:
        return len(self.report.errors) if self.report else 0

    @property
    def warnings(self) -> int:
        return len(self.report.warnings) if self.report else 0

    @property
    def received(self) -> dt.datetime | None:
        if self.match is None or not self.match.mtime:
            return None
        return dt.datetime.fromtimestamp(self.match.mtime).replace(microsecond=0)

    @property
    def label(self) -> str:
        """The state as a coordinator reads it, e.g. ``数据有误（3 个错误）``."""
        if self.state is State.ERRORS:
            return f"数据有误（{self.errors} 个错误）"
        if self.state is State.WARNINGS:
            return f"有警告（{self.warnings} 条）"
        if self.state is State.BUILT and self.warnings:
            return f"已生成（{self.warnings} 条警告）"
        return str(self.state)

    @property
    def notes(self) -> tuple[str, ...]:
        out: list[str] = []
        if self.match is not None and self.match.conflict:
            out.append(self.match.conflict)
        if self.others:
            older = "、".join(m.file.name for m in self.others)
            newest = self.match.file.name if self.match else ""
            out.append(f"共收到 {1 + len(self.others)} 个文件，采用最新的 {newest}；较早的：{older}。")
        return tuple(out)

    def to_dict(self, base: Path | None = None) -> dict[str, object]:
        return {
            "code": self.unit.code, "name": self.unit.name, "level": self.unit.level,
            "state": str(self.state), "label": self.label,
            "file": display(self.match.file, base) if self.match else None,
            "matched_by": str(self.match.how) if self.match else None,
            "received": self.received.isoformat(sep=" ") if self.received else None,
            "errors": self.errors, "warnings": self.warnings,
            "older_files": [display(m.file, base) for m in self.others],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Board:
    """The status of every unit of the roster, plus the files no unit claimed."""

    year: int | None
    units: tuple[UnitStatus, ...]
    matching: Matching
    dates: Mapping[str, dt.date] = field(default_factory=dict)
    made: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))

    def counts(self) -> dict[State, int]:
        out = dict.fromkeys(State, 0)
        for status in self.units:
            out[status.state] += 1
        return out

    def of(self, state: State) -> tuple[UnitStatus, ...]:
        return tuple(s for s in self.units if s.state is state)

    @property
    def all_good(self) -> bool:
        """Every unit has reported and nothing blocks its report."""
        return all(s.state.done for s in self.units)

    def totals_line(self) -> str:
        counts = self.counts()
        parts = "，".join(f"{state} {n}" for state, n in counts.items())
        extra = ""
        if self.matching.unmatched or self.matching.off_roster:
            extra = (f"；另有未识别文件 {len(self.matching.unmatched)} 个、"
                     f"名单外单位文件 {len(self.matching.off_roster)} 个")
        return f"共 {len(self.units)} 个单位：{parts}{extra}。"

    def to_dict(self, base: Path | None = None) -> dict[str, object]:
        m = self.matching
        return {
            "year": self.year,
            "made": self.made.isoformat(sep=" "),
            "counts": {str(k): v for k, v in self.counts().items()},
            "all_good": self.all_good,
            "units": [s.to_dict(base) for s in self.units],
            "unmatched": [{"file": display(x.file, base),
                           "candidates": [u.name for u in x.candidates]} for x in m.unmatched],
            "off_roster": [{"file": display(x.file, base), "reason": x.off_roster}
                           for x in m.off_roster],
            "conflicts": [{"file": display(x.file, base), "code": x.unit.code if x.unit else None,
                           "message": x.conflict} for x in m.conflicts],
            "duplicates": {code: [display(x.file, base) for x in ms]
                           for code, ms in m.duplicates.items()},
        }


def make_board(roster: Roster, matching: Matching, *, year: int | None = None,
               is_built: Callable[[FileReport], bool] | None = None,
               dates: Mapping[str, dt.date] | None = None) -> Board:
    """One status per roster unit, in roster order.

    ``is_built(report)`` says whether the unit's report is up to date (only asked
    for files that passed the checks).
    """
    units: list[UnitStatus] = []
    for unit in roster:
        files = matching.by_unit.get(unit.code, ())
        match = files[0] if files else None
        report = match.report if match else None
        state = state_of(report)
        if state.done and is_built is not None and report is not None and is_built(report):
            state = State.BUILT
        units.append(UnitStatus(unit=unit, state=state, match=match, others=tuple(files[1:])))
    return Board(year=year, units=tuple(units), matching=matching, dates=dict(dates or {}))
