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

from nianbao.check import is_blank
from nianbao.matching import Match, Matching
from nianbao.model import FileReport
from nianbao.report import display_path
from nianbao.roster import Roster, Unit
from nianbao.safetext import path_text


class State(enum.StrEnum):
    """A unit's state, in the order a unit moves through them."""

    MISSING = "未报送"
    BLANK = "空表"  # a blank form came back: an error, still to be chased
    UNREADABLE = "无法读取"
    CONFLICT = "归属冲突"  # only a file whose evidence disagrees: waits for a pin
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
    if is_blank(report):
        return State.BLANK
    if not report.valid:
        return State.ERRORS
    if built:
        return State.BUILT
    return State.WARNINGS if report.warnings else State.PASSED


def display(path: Path, base: Path | None) -> str:
    """``path`` relative to ``base`` (absolute when there is no base), safe to print."""
    return display_path(path, base) if base is not None else path_text(path)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitStatus:
    """One roster unit, the file that counts for it (newest) and the older ones."""

    unit: Unit
    state: State
    match: Match | None = None  # the file that counts (for 归属冲突: the conflicting file)
    others: tuple[Match, ...] = ()  # 另有文件: the unit's other files
    conflicts: tuple[Match, ...] = ()  # files that point at this unit and another one

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
            listed = "、".join(f"{path_text(m.file.name)}（{state_of(m.report).value}）"
                              for m in self.others)
            out.append(f"另有文件：{listed}；以{'可读取的' if self.match and self.match.readable else ''}"
                       f"最新文件 {path_text(self.match.file.name) if self.match else ''} 为准。")
        for m in self.conflicts:
            if m is not self.match:
                out.append(f"另有文件 {path_text(m.file.name)} 归属冲突，未计入：{m.conflict}")
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
            "other_files": [{"file": display(m.file, base), "state": str(state_of(m.report))}
                            for m in self.others],
            "conflict_files": [display(m.file, base) for m in self.conflicts],
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
        m = self.matching
        extra = ""
        if m.unmatched or m.off_roster or m.conflicts:
            extra = (f"；另有未识别文件 {len(m.unmatched)} 个、名单外单位文件 {len(m.off_roster)} 个、"
                     f"归属冲突文件 {len(m.conflicts)} 个")
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
            "conflicts": [{"file": display(x.file, base),
                           "codes": [u.code for u in x.conflict_units],
                           "message": x.conflict} for x in m.conflicts],
            "unused_pins": list(m.unused_pins),
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
        conflicts = matching.conflicts_of(unit.code)
        match = files[0] if files else (conflicts[0] if conflicts else None)
        report = match.report if files and match else None
        state = state_of(report) if files or not conflicts else State.CONFLICT
        if state.done and is_built is not None and report is not None and is_built(report):
            state = State.BUILT
        units.append(UnitStatus(unit=unit, state=state, match=match, others=tuple(files[1:]),
                                conflicts=conflicts))
    return Board(year=year, units=tuple(units), matching=matching, dates=dict(dates or {}))
