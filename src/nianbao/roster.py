"""The coordinator's list of reporting units (单位名单), read from CSV or XLSX.

Columns are found by their header text, so ``单位名称`` works as well as
``单位全称`` and a title row above the header is skipped.  Every bad row is
reported (file and row number) in one :class:`RosterError`, so the coordinator
can fix the whole list at once.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.config import CycleError
from nianbao.schema import normalize_label


class RosterError(CycleError):
    """The roster cannot be used; ``problems`` holds one Chinese sentence per problem."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(f"单位名单 {path} 有 {len(self.problems)} 处问题：\n"
                         + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True, slots=True, kw_only=True)
class Unit:
    """One reporting unit of the roster."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()
    level: str = ""
    contact: str = ""
    phone: str = ""
    row: int = 0  # the row in the roster file, for messages

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "aliases": list(self.aliases),
                "level": self.level, "contact": self.contact, "phone": self.phone}


@dataclass(frozen=True, slots=True, kw_only=True)
class Roster:
    units: tuple[Unit, ...]
    source: Path | None = None
    # folded code / name -> the first unit that has it: a lookup, not a scan (50,000 units)
    _codes: dict[str, Unit] = field(default_factory=dict, init=False, repr=False, compare=False)
    _names: dict[str, Unit] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for unit in self.units:
            self._codes.setdefault(_fold_code(unit.code), unit)
            for name in unit.names:
                self._names.setdefault(fold_name(name), unit)

    def __iter__(self) -> Iterator[Unit]:
        return iter(self.units)

    def __len__(self) -> int:
        return len(self.units)

    def by_code(self, code: str) -> Unit | None:
        wanted = _fold_code(code)
        return self._codes.get(wanted) if wanted else None

    def by_name(self, name: str) -> Unit | None:
        """The unit whose full name or one of whose aliases is ``name`` (spacing/width folded)."""
        wanted = fold_name(name)
        return self._names.get(wanted) if wanted else None

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(u.level for u in self.units if u.level))


def fold_name(name: str) -> str:
    """A name for comparison: NFKC, no whitespace, same brackets."""
    return normalize_label(name or "")


def _fold_code(code: str) -> str:
    return unicodedata.normalize("NFKC", code or "").strip().upper()


# Header spellings seen in coordinators' lists; compared after normalize_label.
HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("单位编码", "编码", "单位代码", "代码", "机构代码", "统一社会信用代码", "code"),
    "name": ("单位全称", "单位名称", "名称", "单位", "机构名称", "name"),
    "aliases": ("别名", "简称", "别称", "其他名称", "曾用名", "aliases", "alias"),
    "level": ("层级", "单位层级", "级别", "类别", "单位类别", "类型", "level"),
    "contact": ("联系人", "负责人", "contact"),
    "phone": ("联系电话", "电话", "手机", "联系方式", "phone"),
}
REQUIRED = ("code", "name")
ALIAS_SPLIT = re.compile(r"[;；、，,/|\n]+")
CODE_OK = re.compile(r"^[0-9A-Za-z_.\-]+$")


def _header_key(text: object) -> str | None:
    label = normalize_label(str(text or "")).lower()
    label = re.sub(r"[*＊]|[(（](必填|选填|可选)[)）]", "", label)
    for key, names in HEADERS.items():
        if label in (normalize_label(n).lower() for n in names):
            return key
    return None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows_csv(path: Path) -> list[list[str]]:
    return csv_rows(path.read_bytes())


def csv_rows(data: bytes) -> list[list[str]]:
    """The rows of a CSV file as text: UTF-8 (with or without BOM) or GBK, comma, tab or
    semicolon separated.  (Also used to import an office's register.)"""
    # Excel on a Chinese Windows saves "CSV" in GBK; everything else is UTF-8.
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")  # GB18030 covers GBK and GB2312
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",\t;")
    except csv.Error:
        dialect = csv.excel
    return [list(r) for r in csv.reader(io.StringIO(text), dialect)]


ROSTER_MAX_ROWS = 200_000  # a province's units, with room to spare


def _rows_xlsx(path: Path) -> list[list[str]]:
    """The first sheet's rows as text, read by calamine: a province's 50,000-row roster in
    about a second, where openpyxl took half a minute and 80 MB."""
    from nianbao.atomic import describe_os_error
    from nianbao.layout import a1
    from nianbao.package import FIRST_SHEET_MAX_BYTES, MAX_COLS, SheetTooLarge, first_sheet_rows

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError(path, [f"无法读取名单文件：{describe_os_error(exc)}。"]) from exc
    try:
        rows, far = first_sheet_rows(data, ROSTER_MAX_ROWS)
    except SheetTooLarge as exc:
        raise RosterError(path, [f"第一张工作表解压后超过 {FIRST_SHEET_MAX_BYTES >> 20} MB，"
                                 "不像是单位名单；请只保留名单本身后再试。"]) from exc
    except Exception as exc:  # noqa: BLE001 - zipfile, the XML scan and calamine raise many types
        raise RosterError(path, ["无法打开名单文件：文件已损坏或不是 Excel 工作簿，"
                                 "请确认是 .xlsx 格式（可用 Excel 或 WPS 另存为 .xlsx）。"]) from exc
    if far:
        row, col = far[0]
        raise RosterError(path, [f"第一张工作表的 {a1(row + 1, col + 1)} 单元格有内容，超出名单的范围"
                                 f"（最多 {ROSTER_MAX_ROWS} 行、{MAX_COLS} 列）；"
                                 "请删除名单以外的内容后再试。"])
    return [[_cell_text(v) for v in row] for row in rows]


def read_roster(path: Path) -> Roster:
    """Read and check a roster.  Raises :class:`RosterError` listing every problem."""
    if not path.is_file():
        raise RosterError(path, ["找不到名单文件。"])
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        rows = _rows_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _rows_xlsx(path)
    else:
        raise RosterError(path, ["名单须为 .csv 或 .xlsx 文件（.xls 请另存为 .xlsx）。"])
    return parse_rows(rows, path)


def parse_rows(rows: Sequence[Sequence[str]], path: Path) -> Roster:
    """Units from a table of strings (the header row is found among the first ten)."""
    header_at, columns = _find_header(rows)
    if header_at is None:
        raise RosterError(path, ["找不到表头：第一行应包含“单位编码”和“单位全称”两列"
                                 "（可选：别名、层级、联系人、联系电话）。"])
    problems: list[str] = []
    units: list[Unit] = []
    for i, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        fields = {key: (row[c].strip() if c < len(row) and row[c] else "")
                  for key, c in columns.items()}
        if not any(fields.values()):
            continue  # blank line
        unit, bad = _unit(fields, i)
        problems += [f"第 {i} 行：{p}" for p in bad]
        if unit:
            units.append(unit)
    problems += _duplicates(units)
    if not units and not problems:
        problems.append("名单中没有任何单位。")
    if problems:
        raise RosterError(path, problems)
    return Roster(units=tuple(units), source=path)


def _find_header(rows: Sequence[Sequence[str]]) -> tuple[int | None, dict[str, int]]:
    for r, row in enumerate(rows[:10]):
        columns: dict[str, int] = {}
        for c, text in enumerate(row):
            key = _header_key(text)
            if key and key not in columns:
                columns[key] = c
        if all(k in columns for k in REQUIRED):
            return r, columns
    return None, {}


def _unit(fields: dict[str, str], row: int) -> tuple[Unit | None, list[str]]:
    bad: list[str] = []
    code = unicodedata.normalize("NFKC", fields.get("code", "")).strip()
    name = " ".join(fields.get("name", "").split())
    if not code:
        bad.append(f"缺少单位编码（单位：{name or '未填写'}）。")
    elif not CODE_OK.match(code):
        bad.append(f"单位编码“{code}”只能由字母、数字和 - _ . 组成（编码会用在文件名中）。")
    if not name:
        bad.append(f"缺少单位全称（编码：{code or '未填写'}）。")
    if bad:
        return None, bad
    aliases = tuple(dict.fromkeys(
        a.strip() for a in ALIAS_SPLIT.split(fields.get("aliases", "")) if a.strip()
        and fold_name(a) != fold_name(name)))
    return Unit(code=code, name=name, aliases=aliases, level=fields.get("level", ""),
                contact=fields.get("contact", ""), phone=fields.get("phone", ""), row=row), []


def _duplicates(units: Iterable[Unit]) -> list[str]:
    problems: list[str] = []
    codes: dict[str, Unit] = {}
    names: dict[str, Unit] = {}
    for unit in units:
        first = codes.setdefault(_fold_code(unit.code), unit)
        if first is not unit:
            problems.append(f"第 {unit.row} 行：单位编码“{unit.code}”与第 {first.row} 行"
                            f"（{first.name}）重复。")
        for n in unit.names:
            owner = names.setdefault(fold_name(n), unit)
            if owner is not unit:
                problems.append(f"第 {unit.row} 行：名称“{n}”与第 {owner.row} 行（{owner.name}）"
                                "的名称或别名重复，无法区分这两个单位。")
    return problems


INTAKE_LEVELS = {"乡镇": "乡镇（街道）", "街道": "乡镇（街道）", "乡镇街道": "乡镇（街道）",
                 "县直部门": "县级部门", "县直单位": "县级部门", "县政府": "县级人民政府",
                 "市直部门": "市级部门", "市直单位": "市级部门"}


def intake_level(level: str) -> str:
    """The roster's 层级 as one of the intake form's choices where there is an obvious one."""
    folded = fold_name(level)
    for raw, choice in INTAKE_LEVELS.items():
        if folded == fold_name(raw):
            return choice
    return level
