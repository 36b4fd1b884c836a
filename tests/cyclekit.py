"""Builders for the coordinator-cycle tests: a 50-unit county, its roster and returned files."""

from __future__ import annotations

import dataclasses
import os
import random
from pathlib import Path

from openpyxl import Workbook

from nianbao.intake import IntakeData, intake_from, write_intake
from nianbao.model import Submission
from nianbao.synth import UNITS, narrative_for, random_values, type_into

PLACE = "青山县"
TOWNS = ("城关", "河口", "石桥", "柳林", "新集", "马庄", "白沙", "东岗", "西湖", "南塘", "北店",
         "高桥", "张湾", "李集", "王营", "黄土", "青石", "清河", "双塔", "五里", "龙门", "凤凰")
YEAR = 2025
ALIASES = {"交通运输局": "交通局;县交通局", "人力资源和社会保障局": "人社局、县人社局",
           "住房和城乡建设局": "住建局", "卫生健康委员会": "卫健委"}


@dataclasses.dataclass(frozen=True)
class Row:
    code: str
    name: str
    short: str  # what people call it: 教育局 / 城关镇
    level: str
    aliases: str = ""


def county_rows() -> list[Row]:
    """28 县直部门 + 22 乡镇 = 50 units."""
    rows = [Row(f"QS{i + 1:03d}", f"{PLACE}{unit}", unit, "县级部门", ALIASES.get(unit, ""))
            for i, unit in enumerate(UNITS)]
    rows += [Row(f"QS{len(UNITS) + i + 1:03d}", f"{PLACE}{town}镇人民政府", f"{town}镇", "乡镇",
                 f"{town}镇")
             for i, town in enumerate(TOWNS)]
    return rows


def write_roster_xlsx(path: Path, rows: list[Row]) -> Path:
    """The roster with header variants (单位名称, 简称, 单位层级) below a title row."""
    wb = Workbook()
    ws = wb.active
    ws.append([f"{PLACE}政府信息公开年报报送单位名单"])
    ws.append(["序号", "单位编码", "单位名称", "简称", "单位层级", "联系人", "联系电话"])
    for i, r in enumerate(rows, 1):
        ws.append([i, r.code, r.name, r.aliases, r.level, f"联系人{i}", f"0373-55{i:05d}"])
    wb.save(path)
    return path


def submission(row: Row, seed: int, year: int = YEAR) -> Submission:
    rng = random.Random(seed)
    values = random_values(rng, scale=20)
    return Submission(agency=row.name, code=row.code, year=year, level=row.level, contact="张三",
                      phone="0373-1234567", values=values,
                      narrative=narrative_for(row.name, year, values, rng))


def write_form(path: Path, sub: Submission, *, edits: dict[str, object] | None = None,
               mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_intake(path, intake_from(sub))
    if edits:
        type_into(path, edits)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def anonymous(sub: Submission) -> IntakeData:
    data = intake_from(sub)
    return dataclasses.replace(data, agency="", code="")
