"""Which roster unit each returned file belongs to.

Order (CONVENTIONS §5.2): a pin in nianbao.toml; the unit code in the
workbook's metadata; the unit name in the workbook (exact or alias, then
fuzzy); the file name, fuzzily.  Otherwise the file is 未识别 and waits for a
pin.  Conflicts (the file name points at one unit, the workbook at another:
usually a copied form), duplicates (newest file counts) and workbooks of units
not on the roster are reported, never silently resolved.

Fuzzy matching uses :mod:`difflib` from the standard library: names are short
and the roster has ~50 units, so a faster matcher (rapidfuzz) buys nothing.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from nianbao.check import newest_first
from nianbao.model import FileReport
from nianbao.roster import Roster, Unit
from nianbao.workspace import place_prefix


class How(enum.StrEnum):
    """How a file was matched to its unit."""

    PIN = "pin"
    CODE = "code"
    NAME = "name"
    FUZZY_NAME = "fuzzy-name"
    FILE_NAME = "file-name"
    NONE = "none"

    @property
    def zh(self) -> str:
        return {"pin": "按指定", "code": "按表内编码", "name": "按表内单位名称",
                "fuzzy-name": "按表内单位名称（近似）", "file-name": "按文件名",
                "none": "未识别"}[self.value]


ACCEPT = 0.75  # a fuzzy score at least this high is a match …
MARGIN = 0.1  # … when the runner-up is this far behind
CONFLICT = 0.85  # a file name this close to another unit is reported as a conflict

_NOISE_PATTERNS = (
    r"[(（\[【]\s*\d*\s*[)）\]】]",  # (1) （2） [3]
    r"copy\s*of|副本|复件|拷贝",
    r"(?:19|20)\d{2}\s*年?度?",  # years
    r"政府信息公开|信息公开|工作|年度报告|年报|填报表|报表|统计表|数据|附件|最终版|终稿|定稿|修改版?"
    r"|新版|模板|表格|报送|上报|提交|的|年度",
)
_NOISE = re.compile("|".join(f"(?:{p})" for p in _NOISE_PATTERNS), re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W\d_]+")
_SUFFIXES = ("人民政府", "办事处", "管理委员会", "委员会", "局", "委")


@dataclass(frozen=True, slots=True)
class NameIndex:
    """Roster names reduced to their distinctive core (``青山县交通运输局`` -> ``交通运输``)."""

    cores: tuple[tuple[Unit, str], ...]
    places: tuple[str, ...]

    @classmethod
    def of(cls, roster: Roster) -> NameIndex:
        prefix = place_prefix(roster)
        places = tuple(p for p in (prefix, prefix[:-1], prefix[-1:]) if p)
        cores = tuple((unit, c) for unit in roster for n in unit.names
                      if (c := core(n, places)))
        return cls(cores, places)

    def best(self, text: str) -> tuple[Unit | None, float, tuple[Unit, ...]]:
        """The unit ``text`` most likely names, its score, and the close candidates."""
        wanted = core(text, self.places)
        scores: dict[str, tuple[float, Unit]] = {}
        for unit, c in self.cores:
            s = similarity(wanted, c)
            if s > scores.get(unit.code, (-1.0, unit))[0]:
                scores[unit.code] = (s, unit)
        ranked = sorted(scores.values(), key=lambda x: -x[0])
        if not ranked:
            return None, 0.0, ()
        top, unit = ranked[0]
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        close = tuple(u for s, u in ranked[:3] if s >= ACCEPT - 0.2)
        if top >= ACCEPT and top - second >= MARGIN:
            return unit, top, close
        return None, top, close


def core(text: str, places: Sequence[str] = ()) -> str:
    """The distinctive part of a unit or file name: no place, years, (1), 副本, 年报, 局…"""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _NOISE.sub("", text)
    text = _NOT_WORD.sub("", text)
    changed = True
    while changed:
        changed = False
        for place in places:
            if place and text.startswith(place) and len(text) > len(place) + 1:
                text = text[len(place):]
                changed = True
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
            break
    return text


def similarity(a: str, b: str) -> float:
    """1.0 for equal cores, high for containment (交通 / 交通运输), else difflib's ratio."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 2 and short in long_:
        return 0.8 + 0.2 * len(short) / len(long_)
    return SequenceMatcher(None, a, b).ratio()


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """One returned file and the unit it was assigned to (``unit`` None: not assigned)."""

    report: FileReport
    unit: Unit | None
    how: How
    mtime: float = 0.0
    conflict: str = ""  # the file name points elsewhere, or code and name disagree
    off_roster: str = ""  # the workbook names a unit that is not on the roster
    candidates: tuple[Unit, ...] = ()  # for 未识别: the closest units, for the message

    @property
    def file(self) -> Path:
        return self.report.file


@dataclass(frozen=True, slots=True, kw_only=True)
class Matching:
    """All returned files, grouped by unit; newest file first within a unit."""

    by_unit: Mapping[str, tuple[Match, ...]] = field(default_factory=dict)
    unmatched: tuple[Match, ...] = ()  # 未识别
    off_roster: tuple[Match, ...] = ()  # workbooks of units not on the roster

    def chosen(self, code: str) -> Match | None:
        got = self.by_unit.get(code, ())
        return got[0] if got else None

    @property
    def duplicates(self) -> dict[str, tuple[Match, ...]]:
        return {code: ms for code, ms in self.by_unit.items() if len(ms) > 1}

    @property
    def conflicts(self) -> tuple[Match, ...]:
        return tuple(m for ms in self.by_unit.values() for m in ms if m.conflict)

    @property
    def matches(self) -> tuple[Match, ...]:
        return (*(m for ms in self.by_unit.values() for m in ms), *self.unmatched,
                *self.off_roster)


ONLINE = "online"  # inputs/online/{编码}/…: handed in through `nianbao serve`, pinned by folder


def pin_for(path: Path, pins: Mapping[str, str], base: Path | None) -> str | None:
    """The unit code pinned for ``path``: by path relative to ``base``, else by file name.

    A file under ``inputs/online/{编码}/`` came through that unit's own link: the
    folder pins it, like an entry in ``[pins]``.
    """
    if base is not None:
        try:
            rel = path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            rel = None
        if rel is not None and rel in pins:
            return pins[rel]
        parts = rel.split("/") if rel is not None else []
        if len(parts) == 3 and parts[0] == ONLINE:
            return parts[1]
    return pins.get(path.name)


def _describe(unit: Unit) -> str:
    return f"{unit.code}（{unit.name}）"


def match_one(report: FileReport, roster: Roster, index: NameIndex, *,
              pins: Mapping[str, str] | None = None, base: Path | None = None) -> Match:
    """Assign one checked file to a unit (see the module docstring for the order)."""
    try:
        mtime = report.file.stat().st_mtime
    except OSError:
        mtime = 0.0
    sub = report.submission
    pinned = pin_for(report.file, pins or {}, base)
    if pinned is not None:
        unit = roster.by_code(pinned)
        if unit is None:
            return Match(report=report, unit=None, how=How.PIN, mtime=mtime,
                         off_roster=f"[pins] 指定的单位编码“{pinned}”不在名单中。")
        return Match(report=report, unit=unit, how=How.PIN, mtime=mtime)
    codes = [c for c in dict.fromkeys((report.form_code, sub.code if sub else "")) if c]
    agency = sub.agency if sub else ""
    by_code = next((u for c in codes if (u := roster.by_code(c))), None)
    by_name = roster.by_name(agency) if agency else None
    from_file, file_score, close = index.best(report.file.stem)
    conflict = ""
    if by_code is not None:
        unit, how = by_code, How.CODE
        if agency and by_name is not unit:
            conflict = (f"表内编码为 {_describe(unit)}，但表内单位名称填的是“{agency}”，"
                        "可能是复制了其他单位的填报表。")
    elif codes:
        return Match(report=report, unit=None, how=How.NONE, mtime=mtime,
                     off_roster=f"表内单位编码“{codes[0]}”（{agency or '未填写单位名称'}）不在名单中。")
    elif by_name is not None:
        unit, how = by_name, How.NAME
    elif agency:
        fuzzy, _, _ = index.best(agency)
        if fuzzy is None:
            return Match(report=report, unit=None, how=How.NONE, mtime=mtime,
                         off_roster=f"表内单位名称“{agency}”不在名单中。")
        unit, how = fuzzy, How.FUZZY_NAME
    elif from_file is not None:
        return Match(report=report, unit=from_file, how=How.FILE_NAME, mtime=mtime)
    else:
        return Match(report=report, unit=None, how=How.NONE, mtime=mtime, candidates=close)
    if (not conflict and from_file is not None and from_file is not unit
            and file_score >= CONFLICT):
        what = "编码" if how is How.CODE else "单位名称"
        conflict = (f"文件名像“{from_file.name}”，但表内{what}为 {_describe(unit)}；"
                    "可能是复制了其他单位的填报表，请核实。")
    return Match(report=report, unit=unit, how=how, mtime=mtime, conflict=conflict)


def match_reports(reports: Sequence[FileReport], roster: Roster, *,
                  pins: Mapping[str, str] | None = None, base: Path | None = None) -> Matching:
    """Assign every file; several files for one unit are kept, newest first."""
    index = NameIndex.of(roster)
    grouped: dict[str, list[Match]] = {}
    unmatched: list[Match] = []
    off: list[Match] = []
    for report in reports:
        match = match_one(report, roster, index, pins=pins, base=base)
        if match.unit is not None:
            grouped.setdefault(match.unit.code, []).append(match)
        elif match.off_roster:
            off.append(match)
        else:
            unmatched.append(match)
    by_unit = {code: tuple(sorted(ms, key=lambda m: newest_first(m.file)))
               for code, ms in grouped.items()}
    return Matching(by_unit=by_unit, unmatched=tuple(unmatched), off_roster=tuple(off))
