"""A real season's inbox, judged right: coordinator scenarios end to end through the CLI.

Each scenario is a small workspace made by ``nianbao init`` with a five-unit roster;
units fill the form they were issued (copied from forms/, numbers and text typed with
:func:`nianbao.synth.type_into`); the files land in inputs/ as a coordinator receives
them (borrowed forms, zips, LibreOffice copies, odd file names, blanks, aliases, pins).
Then ``nianbao run`` and the test asserts, for every scenario: each unit's state, the
催报名单, the reports made (file names and titles) and the 汇总's members, and that no
command printed a traceback.  The last classes run `nianbao` as a process: two builds
on one output, SIGINT/SIGTERM at random moments, a full disk.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from cyclekit import YEAR, Row, anonymous, county_rows, submission, write_roster_xlsx
from docx import Document
from openpyxl import load_workbook

from nianbao.aggregate import MEMBERS_SHEET
from nianbao.cli import main
from nianbao.intake import write_intake
from nianbao.schema import DEFAULT_FORMAT
from nianbao.synth import type_into
from nianbao.workspace import form_name

_COUNTY = county_rows()
EDU, POL, HR, TRA, TOWN = (_COUNTY[i] for i in (0, 1, 5, 9, 28))  # 人社局 and 交通局 have aliases
ROWS = (EDU, POL, HR, TRA, TOWN)
CODES = tuple(r.code for r in ROWS)
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
OLD = time.time() - 7200  # "received two hours ago"
REPORT = f"{YEAR}年政府信息公开工作年度报告"


def no_traceback(*texts: str | bytes | None) -> None:
    for text in texts:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        assert "Traceback" not in (text or ""), text


@dataclasses.dataclass
class Season:
    """A workspace made by `nianbao init`, and what a command run on it says."""

    ws: Path
    runner: CliRunner = dataclasses.field(default_factory=CliRunner)

    @property
    def inputs(self) -> Path:
        return self.ws / "inputs"

    @property
    def outputs(self) -> Path:
        return self.ws / "outputs"

    def cli(self, *args: object, codes: tuple[int, ...] = (0, 1)):
        result = self.runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        no_traceback(result.stdout, result.stderr)
        assert result.exit_code in codes, (result.exit_code, result.stdout, result.stderr)
        return result

    # --------------------------------------------------------------- what units send

    def issued(self, row: Row) -> Path:
        return self.ws / "forms" / form_name(_unit(row), YEAR)

    def fill(self, row: Row, to: str, *, seed: int = 1, like: Row | None = None,
             edits: dict[str, object] | None = None, mtime: float | None = OLD) -> Path:
        """``row``'s unit fills the form issued to ``like`` (default: its own) and saves it as ``to``."""
        dest = self.inputs / to
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.issued(like or row), dest)
        sub = submission(row, seed)
        typed: dict[str, object] = {k: sub.values[k] for k in DEFAULT_FORMAT.input_keys}
        typed.update(sub.narrative)
        if like is not None:
            typed["agency"] = row.name  # a borrower changes the 单位全称, not the hidden code
        typed.update(edits or {})
        type_into(dest, typed)
        if mtime is not None:
            os.utime(dest, (mtime, mtime))
        return dest

    def pin(self, written: str, code: str) -> None:
        toml = self.ws / "nianbao.toml"
        text = toml.read_text(encoding="utf-8")
        line = f"{json.dumps(written, ensure_ascii=False)} = \"{code}\"\n"
        if "[pins]" in text:
            text = text.replace("[pins]\n", "[pins]\n" + line, 1)
        else:
            text += "\n[pins]\n" + line
        toml.write_text(text, encoding="utf-8")

    # --------------------------------------------------------------- what comes out

    def run(self, *extra: object, codes: tuple[int, ...] = (0, 1)) -> dict:
        result = self.cli("run", "-w", self.ws, "-j", "1", "--json", *extra, codes=codes)
        return json.loads(result.stdout)

    def states(self, data: dict) -> dict[str, str]:
        return {u["code"]: u["state"] for u in data["status"]["units"]}

    def chased(self) -> set[str]:
        """The unit codes on the 催报名单."""
        text = (self.outputs / "催报名单.txt").read_text(encoding="utf-8")
        return {code for code in CODES if f" {code} " in text}

    def reports(self) -> dict[str, str]:
        """Each .docx report made: file name -> the title inside the document."""
        out = {}
        for path in sorted(self.outputs.glob(f"*{REPORT}*.docx")):
            if path.name.startswith("汇总") or "人民政府" in path.name and "镇" not in path.name:
                continue
            paragraphs = [p.text.strip() for p in Document(str(path)).paragraphs if p.text.strip()]
            out[path.name] = "".join(paragraphs[0].split())  # the title may break into lines
        return out

    def members(self, data: dict) -> list[str]:
        """The 汇总's members as its workbook lists them (codes), checked against --json."""
        workbook = self.ws / data["summary"]["workbook"]
        wb = load_workbook(workbook, read_only=True)
        codes = []
        for row in wb[MEMBERS_SHEET].iter_rows(min_row=3, values_only=True):
            if str(row[2] or "").startswith("合计"):
                break
            codes.append(str(row[1]))
        wb.close()
        assert codes == data["summary"]["included"]
        return codes


def _unit(row: Row):
    from nianbao.roster import Unit

    return Unit(code=row.code, name=row.name)


def title_of(row: Row) -> str:
    return f"{row.name}{REPORT}"


@pytest.fixture
def season(tmp_path: Path) -> Season:
    roster = write_roster_xlsx(tmp_path / "名单.xlsx", list(ROWS))
    result = CliRunner().invoke(main, ["init", str(tmp_path / "ws"), "--year", str(YEAR),
                                       "--roster", str(roster)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    no_traceback(result.output)
    return Season(tmp_path / "ws")


@dataclasses.dataclass(frozen=True)
class Expect:
    """What the season looks like after `nianbao run` (codes not listed: 未报送)."""

    states: dict[str, str]
    extra: Callable[[Season, dict], None] | None = None

    def check(self, season: Season, data: dict) -> None:
        states = {code: self.states.get(code, "未报送") for code in CODES}
        assert season.states(data) == states
        done = {c for c, s in states.items() if s in ("已生成", "有警告", "已通过")}
        assert season.chased() == {c for c, s in states.items() if s in ("未报送", "空表")}
        reports = season.reports()
        by_code = {r.code: r for r in ROWS}
        assert reports == {f"{by_code[c].name}{REPORT}.docx": title_of(by_code[c])
                           for c in done}
        assert season.members(data) == [c for c in CODES if c in done]
        if self.extra is not None:
            self.extra(season, data)


# ------------------------------------------------------------------ scenario inboxes

def status_of(data: dict, code: str) -> dict:
    return next(u for u in data["status"]["units"] if u["code"] == code)


def zip_bytes(members: dict[str, bytes], *, utf8_names: bool = True) -> bytes:
    """A zip as Windows makes it: with ``utf8_names=False`` the names are stored in GBK."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = (zipfile.ZipInfo if utf8_names else _GbkName)(name,
                                                                 date_time=(2026, 1, 10, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


class _GbkName(zipfile.ZipInfo):
    """A member whose name is stored in GBK without the UTF-8 flag (Windows' own zip)."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - zipfile's hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def everyone(season: Season) -> None:
    for i, row in enumerate(ROWS):
        season.fill(row, f"{row.short}年报.xlsx", seed=i)


def s_everyone(season: Season) -> Expect:
    everyone(season)
    return Expect(dict.fromkeys(CODES, "已生成"))


def s_borrowed_form_with_owner_file(season: Season) -> Expect:
    """公安局 fills 教育局's form (hidden code QS001) and types its own name; 教育局 sent its own."""
    season.fill(EDU, "教育局年报.xlsx", seed=1)
    season.fill(POL, "微信/年报最终版.xlsx", like=EDU, seed=2, mtime=time.time())  # newer

    def extra(season: Season, data: dict) -> None:
        conflict = data["status"]["conflicts"][0]
        assert conflict["file"] == "inputs/微信/年报最终版.xlsx"
        assert set(conflict["codes"]) == {EDU.code, POL.code}
        assert "QS001（青山县教育局）" in conflict["message"] and "[pins]" in conflict["message"]
        assert status_of(data, EDU.code)["file"] == "inputs/教育局年报.xlsx"

    return Expect({EDU.code: "已生成", POL.code: "归属冲突"}, extra)


def s_borrowed_form_alone(season: Season) -> Expect:
    """The borrowed form is the only file: it counts for neither unit."""
    season.fill(POL, "年报.xlsx", like=EDU, seed=2)
    return Expect({EDU.code: "归属冲突", POL.code: "归属冲突"})


def s_borrowed_form_named_for_the_borrower(season: Season) -> Expect:
    """File name and 单位全称 say 公安局, the hidden code says 教育局: still a conflict."""
    season.fill(POL, "公安局年报.xlsx", like=EDU, seed=2)
    season.fill(HR, "人社局.xlsx", seed=3)
    return Expect({EDU.code: "归属冲突", POL.code: "归属冲突", HR.code: "已生成"})


def s_borrowed_form_settled_by_a_pin(season: Season) -> Expect:
    season.fill(EDU, "教育局年报.xlsx", seed=1)
    season.fill(POL, "微信/年报最终版.xlsx", like=EDU, seed=2, mtime=time.time())
    season.pin("微信/年报最终版.xlsx", POL.code)

    def extra(season: Season, data: dict) -> None:
        assert status_of(data, POL.code)["matched_by"] == "pin"
        assert data["status"]["conflicts"] == []

    return Expect({EDU.code: "已生成", POL.code: "已生成"}, extra)


def s_file_name_of_another_unit(season: Season) -> Expect:
    """教育局's own form saved under 公安局's name (a copied file): a conflict, 公安局 untouched."""
    season.fill(EDU, "公安局年报.xlsx", seed=1)
    season.fill(POL, "县公安局.xlsx", seed=2)
    return Expect({EDU.code: "归属冲突", POL.code: "已生成"})


def s_off_roster_unit(season: Season) -> Expect:
    path = season.fill(EDU, "白水县审计局.xlsx", seed=1)
    type_into(path, {"agency": "白水县审计局"})
    _set_code(path, "BS017")

    def extra(season: Season, data: dict) -> None:
        off = data["status"]["off_roster"]
        assert [x["file"] for x in off] == ["inputs/白水县审计局.xlsx"] and "BS017" in off[0]["reason"]

    return Expect({}, extra)


def _set_code(path: Path, code: str) -> None:
    """Both places a form holds its unit code: the hidden sheet and 基本信息's 单位编码."""
    from nianbao.intake import META_SHEET
    from nianbao.layout import WorkbookLayout

    wb = load_workbook(path)
    wb[META_SHEET][WorkbookLayout.meta_cell("agency_code")] = code
    wb.save(path)
    type_into(path, {"code": code or None})


def generic(season: Season, row: Row, to: str, *, seed: int) -> Path:
    """A form from the website (no unit's name or code), filled without a 单位全称."""
    path = season.inputs / to
    path.parent.mkdir(parents=True, exist_ok=True)
    write_intake(path, anonymous(submission(row, seed)))
    os.utime(path, (OLD, OLD))
    return path


def s_anonymous_form_by_file_name(season: Season) -> Expect:
    generic(season, TRA, "县交通运输局2025年报.xlsx", seed=4)

    def extra(season: Season, data: dict) -> None:
        assert status_of(data, TRA.code)["matched_by"] == "file-name"

    return Expect({TRA.code: "数据有误"}, extra)  # the 单位全称 is required: a finding


def s_unidentified_file(season: Season) -> Expect:
    generic(season, TOWN, "附件3.xlsx", seed=5)

    def extra(season: Season, data: dict) -> None:
        assert [x["file"] for x in data["status"]["unmatched"]] == ["inputs/附件3.xlsx"]

    return Expect({}, extra)


def s_zip_with_cover_letter(season: Season) -> Expect:
    form = season.fill(EDU, "tmp.xlsx", seed=1)
    data = zip_bytes({"教育局年报.xlsx": form.read_bytes(), "报送函.pdf": b"%PDF-1.4 cover"})
    form.unlink()
    (season.inputs / "教育局报送材料.zip").write_bytes(data)

    def extra(season: Season, data: dict) -> None:
        assert status_of(data, EDU.code)["file"] == "inputs/教育局报送材料.zip/教育局年报.xlsx"
        assert status_of(data, EDU.code)["other_files"] == [
            {"file": "inputs/教育局报送材料.zip/报送函.pdf", "state": "无法读取"}]

    return Expect({EDU.code: "已生成"}, extra)


def s_nested_zip_with_gbk_names(season: Season) -> Expect:
    """A Windows zip (GBK names) inside a zip: the workbook is read where it lies."""
    form = season.fill(HR, "tmp.xlsx", seed=3)
    inner = zip_bytes({"人社局年报/人力资源和社会保障局年报.xlsx": form.read_bytes()},
                      utf8_names=False)
    form.unlink()
    (season.inputs / "邮件附件.zip").write_bytes(zip_bytes({"附件/人社局.zip": inner}))

    def extra(season: Season, data: dict) -> None:
        assert status_of(data, HR.code)["file"] == (
            "inputs/邮件附件.zip/附件/人社局.zip/人社局年报/人力资源和社会保障局年报.xlsx")

    return Expect({HR.code: "已生成"}, extra)


def s_zip_with_path_escape(season: Season) -> Expect:
    form = season.fill(TRA, "tmp.xlsx", seed=4)
    raw = zip_bytes({"../../../etc/交通局.xlsx": form.read_bytes(), "/abs/说明.txt": b"x"})
    form.unlink()
    (season.inputs / "交通局.zip").write_bytes(raw)
    before = sorted(p.name for p in season.ws.parent.rglob("*"))

    def extra(season: Season, data: dict) -> None:
        assert status_of(data, TRA.code)["file"] == "inputs/交通局.zip/etc/交通局.xlsx"
        # named after no unit, but inside 交通局.zip: listed as that unit's other file
        assert status_of(data, TRA.code)["other_files"] == [
            {"file": "inputs/交通局.zip/abs/说明.txt", "state": "无法读取"}]
        after = sorted(p.name for p in season.ws.parent.rglob("*"))
        assert not [p for p in after if p not in before and p.startswith("交通局")]
        assert not (season.ws.parent / "etc").exists()

    return Expect({TRA.code: "已生成"}, extra)


def s_zip_bomb_and_corrupt_zip(season: Season) -> Expect:
    """A bomb (one member of zeros, ratio ≫ 200) and a truncated zip: 无法读取, named."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("公安局年报.xlsx", b"\0" * (8 * 2**20))
    (season.inputs / "公安局.zip").write_bytes(buf.getvalue())
    form = season.fill(TOWN, "tmp.xlsx", seed=5)
    whole = zip_bytes({"城关镇年报.xlsx": form.read_bytes()})
    form.unlink()
    (season.inputs / "城关镇.zip").write_bytes(whole[: len(whole) // 2])

    def extra(season: Season, data: dict) -> None:
        assert status_of(data, POL.code)["file"] == "inputs/公安局.zip"
        assert status_of(data, TOWN.code)["file"] == "inputs/城关镇.zip"
        feedback = (season.outputs / "feedback" / f"{POL.code}_{POL.name}.txt").read_text("utf-8")
        assert "压缩炸弹" in feedback
        feedback = (season.outputs / "feedback" / f"{TOWN.code}_{TOWN.name}.txt").read_text("utf-8")
        assert "已损坏" in feedback

    return Expect({POL.code: "无法读取", TOWN.code: "无法读取"}, extra)


def s_too_deep_zip(season: Season) -> Expect:
    form = season.fill(EDU, "tmp.xlsx", seed=1)
    deepest = zip_bytes({"教育局.xlsx": form.read_bytes()})
    form.unlink()
    middle = zip_bytes({"b.zip": deepest})
    (season.inputs / "教育局.zip").write_bytes(zip_bytes({"a.zip": middle}))
    return Expect({EDU.code: "无法读取"})


def s_libreoffice_ods_and_xls(season: Season, copies: dict[str, bytes]) -> Expect:
    (season.inputs / "教育局年报.ods").write_bytes(copies["ods"])
    (season.inputs / "教育局年报.xls").write_bytes(copies["xls"])
    os.utime(season.inputs / "教育局年报.xls", (OLD - 60, OLD - 60))

    def extra(season: Season, data: dict) -> None:
        unit = status_of(data, EDU.code)
        assert unit["file"] == "inputs/教育局年报.ods"
        assert unit["other_files"] == [{"file": "inputs/教育局年报.xls", "state": "有警告"}]  # 另存为 .xlsx

    return Expect({EDU.code: "已生成"}, extra)


def s_unreadable_newer_copy(season: Season) -> Expect:
    """A "另存为 .xls" that is not a workbook, newer than the valid .xlsx: the .xlsx counts."""
    season.fill(TRA, "交通局年报.xlsx", seed=4)
    (season.inputs / "交通局年报.xls").write_bytes(b"\xd0\xcf\x11\xe0 broken")

    def extra(season: Season, data: dict) -> None:
        unit = status_of(data, TRA.code)
        assert unit["file"] == "inputs/交通局年报.xlsx"
        assert unit["other_files"] == [{"file": "inputs/交通局年报.xls", "state": "无法读取"}]

    return Expect({TRA.code: "已生成"}, extra)


def s_et_file_only(season: Season) -> Expect:
    (season.inputs / "城关镇年报.et").write_bytes(b"WPS et file")
    (season.inputs / "公安局年报.docx").write_bytes(b"PK\3\4 not really")

    def extra(season: Season, data: dict) -> None:
        feedback = (season.outputs / "feedback" / f"{TOWN.code}_{TOWN.name}.txt").read_text("utf-8")
        assert "城关镇年报.et" in feedback and ".xlsx" in feedback

    return Expect({TOWN.code: "无法读取", POL.code: "无法读取"}, extra)


def s_gbk_file_names(season: Season) -> Expect:
    """File names in GBK bytes (a Windows zip unpacked on Linux): shown safely, matched by content."""
    form = season.fill(POL, "tmp.xlsx", seed=2)
    raw = os.fsencode(season.inputs) + b"/" + "公安局年报.xlsx".encode("gbk")
    os.rename(form, raw)
    anon = generic(season, TOWN, "tmp2.xlsx", seed=5)
    os.rename(anon, os.fsencode(season.inputs) + b"/\xff\xfe\x1b[31m.xlsx")

    def extra(season: Season, data: dict) -> None:
        unit = status_of(data, POL.code)
        assert unit["matched_by"] == "code" and "\\udc" not in json.dumps(unit)
        assert len(data["status"]["unmatched"]) == 1
        text = season.cli("status", "-w", season.ws).stdout
        assert "\x1b" not in text

    return Expect({POL.code: "已生成"}, extra)


def s_blank_return(season: Season) -> Expect:
    """The issued form sent back untouched: 空表, chased again, no report, not in the 汇总."""
    shutil.copyfile(season.issued(HR), season.inputs / "人社局.xlsx")
    season.fill(EDU, "教育局.xlsx", seed=1)

    def extra(season: Season, data: dict) -> None:
        reminder = (season.outputs / "催报名单.txt").read_text(encoding="utf-8")
        assert f"{HR.code} {HR.name}【交回的是空表】" in reminder
        feedback = (season.outputs / "feedback" / f"{HR.code}_{HR.name}.txt").read_text("utf-8")
        assert "空表" in feedback

    return Expect({HR.code: "空表", EDU.code: "已生成"}, extra)


def s_typed_zeros(season: Season) -> Expect:
    """A report of real zeros is typed zeros and a text: valid, reported, in the 汇总."""
    zeros = {k: 0 for k in DEFAULT_FORMAT.input_keys}
    season.fill(TOWN, "城关镇.xlsx", seed=5, edits={**zeros, "t2_8.fees.amount": 0})
    return Expect({TOWN.code: "已生成"})


def s_blank_numbers_with_text(season: Season) -> Expect:
    """Text typed, no number: not a 空表 (the unit wrote something); the blanks are warned of."""
    path = season.inputs / "城关镇.xlsx"
    shutil.copyfile(season.issued(TOWN), path)
    type_into(path, dict(submission(TOWN, 5).narrative))

    def extra(season: Season, data: dict) -> None:
        assert status_of(data, TOWN.code)["warnings"] >= 1

    return Expect({TOWN.code: "已生成"}, extra)


def s_alias_in_the_form(season: Season) -> Expect:
    """单位全称 typed as the alias 交通局: the report carries the roster's full name."""
    season.fill(TRA, "交通局.xlsx", seed=4, edits={"agency": "交通局"})
    season.fill(HR, "人社局年报.xlsx", seed=3, edits={"agency": "县人社局"})

    def extra(season: Season, data: dict) -> None:
        assert status_of(data, TRA.code)["warnings"] >= 1
        assert "交通局2025年" not in " ".join(p.name for p in season.outputs.iterdir())

    return Expect({TRA.code: "已生成", HR.code: "已生成"}, extra)


def s_pin_with_backslash(season: Season) -> Expect:
    path = generic(season, TOWN, "邮件/附件.xlsx", seed=5)
    type_into(path, {"agency": TOWN.name})
    season.pin("inputs\\邮件\\附件.xlsx", TOWN.code)

    def extra(season: Season, data: dict) -> None:
        assert status_of(data, TOWN.code)["matched_by"] == "pin"
        assert data["status"]["unused_pins"] == []

    return Expect({TOWN.code: "已生成"}, extra)


def s_pin_case_and_unmatched(season: Season) -> Expect:
    """A pin whose case differs works where the file system ignores case; an unused pin is named."""
    from nianbao.matching import case_insensitive

    path = generic(season, POL, "FuJian.xlsx", seed=2)
    type_into(path, {"agency": POL.name})
    season.pin("fujian.XLSX", POL.code)
    season.pin("没有这个文件.xlsx", EDU.code)
    folds = case_insensitive(season.inputs)

    def extra(season: Season, data: dict) -> None:
        unused = data["status"]["unused_pins"]
        assert "没有这个文件.xlsx" in unused
        assert ("fujian.XLSX" in unused) is not folds
        text = season.cli("status", "-w", season.ws).stdout
        assert "没有这个文件.xlsx" in text

    # 单位全称 still names 公安局: matched by name when the pin does not apply
    return Expect({POL.code: "已生成"}, extra)


def s_newest_of_two_valid_files(season: Season) -> Expect:
    season.fill(EDU, "教育局年报.xlsx", seed=1)
    season.fill(EDU, "教育局年报（修改）.xlsx", seed=11, mtime=time.time())

    def extra(season: Season, data: dict) -> None:
        unit = status_of(data, EDU.code)
        assert unit["file"] == "inputs/教育局年报（修改）.xlsx"
        assert unit["other_files"] == [{"file": "inputs/教育局年报.xlsx", "state": "已通过"}]

    return Expect({EDU.code: "已生成"}, extra)


def s_data_errors(season: Season) -> Expect:
    season.fill(POL, "公安局.xlsx", seed=2, edits={"t3.r4.natural": 999})
    season.fill(EDU, "教育局.xlsx", seed=1)
    return Expect({POL.code: "数据有误", EDU.code: "已生成"})


def s_hidden_rows_read_with_a_warning(season: Season) -> Expect:
    path = season.fill(TOWN, "城关镇.xlsx", seed=5)
    _hide(path)

    def extra(season: Season, data: dict) -> None:
        from nianbao.layout import workbook_layout

        feedback = (season.outputs / "feedback" / f"{TOWN.code}_{TOWN.name}.txt").read_text("utf-8")
        assert feedback.count("被隐藏的行或列") == 2
        t3_row = "".join(ch for ch in workbook_layout().cell("t3.r1.natural")[1] if ch.isdigit())
        assert f"D{t3_row}" in feedback

    return Expect({TOWN.code: "已生成"}, extra)


def _hide(path: Path) -> None:
    """Hide 表三's 本年新收 row and 表四's first column of numbers."""
    from nianbao.layout import workbook_layout

    sheet, cell = workbook_layout().cell("t3.r1.natural")
    wb = load_workbook(path)
    row = int("".join(ch for ch in cell if ch.isdigit()))
    wb[sheet].row_dimensions[row].hidden = True
    sheet4, cell4 = workbook_layout().cell("t4.rv_keep")
    letter = "".join(ch for ch in cell4 if ch.isalpha())
    wb[sheet4].column_dimensions[letter].hidden = True
    wb.save(path)


def s_mixed_inbox(season: Season, copies: dict[str, bytes]) -> Expect:
    """Everything at once, the way a season's inbox really looks."""
    season.fill(EDU, "微信/教育局年报(1).xlsx", seed=1)
    season.fill(POL, "微信/年报.xlsx", like=EDU, seed=2, mtime=time.time())
    shutil.copyfile(season.issued(HR), season.inputs / "人社局.xlsx")
    season.fill(TRA, "交通局.xlsx", seed=4, edits={"agency": "县交通局"})
    (season.inputs / "交通局.xls").write_bytes(b"garbage")
    (season.inputs / "城关镇.ods").write_bytes(copies["ods_town"])
    return Expect({EDU.code: "已生成", POL.code: "归属冲突", HR.code: "空表", TRA.code: "已生成",
                   TOWN.code: "已生成"})


def s_nothing_received(season: Season) -> Expect:
    return Expect({})


def s_only_lock_files_and_hidden_files(season: Season) -> Expect:
    (season.inputs / "~$教育局.xlsx").write_bytes(b"owner")
    (season.inputs / ".DS_Store").write_bytes(b"mac")
    return Expect({})


def s_same_file_twice(season: Season) -> Expect:
    """The same workbook arrives twice (two mails): one report, the copy listed."""
    first = season.fill(EDU, "教育局.xlsx", seed=1)
    shutil.copy2(first, season.inputs / "教育局(2).xlsx")
    return Expect({EDU.code: "已生成"})


def s_run_twice_is_stable(season: Season) -> Expect:
    everyone(season)
    season.run()  # the second run (the checked one) finds everything up to date

    def extra(season: Season, data: dict) -> None:
        assert data["build"]["counts"]["unchanged"] == 5 and data["build"]["counts"]["built"] == 0

    return Expect(dict.fromkeys(CODES, "已生成"), extra)


def s_changed_file_replaces_report(season: Season) -> Expect:
    """A unit sends a corrected file after its report was made: rebuilt from the new file."""
    season.fill(EDU, "教育局.xlsx", seed=1)
    season.run()
    season.fill(EDU, "教育局（更正）.xlsx", seed=12, mtime=time.time())

    def extra(season: Season, data: dict) -> None:
        assert data["build"]["counts"]["built"] == 1
        assert status_of(data, EDU.code)["file"] == "inputs/教育局（更正）.xlsx"

    return Expect({EDU.code: "已生成"}, extra)


def s_retyped_numbering(season: Season) -> Expect:
    """表三 re-typed with its items numbered “1、” (and “（1）”): read as the national labels."""
    path = season.fill(POL, "公安局.xlsx", seed=2)
    _renumber(path)
    return Expect({POL.code: "已生成"})


def _t3_sheet() -> str:
    from nianbao.layout import workbook_layout

    return workbook_layout().cell("t3.r1.natural")[0]


def _renumber(path: Path) -> None:
    import re

    wb = load_workbook(path)
    for row in wb[_t3_sheet()].iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and re.match(r"\d\.", cell.value):
                number, _, rest = cell.value.partition(".")
                cell.value = f"{number}、{rest}" if int(number) % 2 else f"（{number}）{rest}"
    wb.save(path)


def s_table_missing_names_labels(season: Season) -> Expect:
    """表三's labels typed over: the table is missing, and the feedback says which labels."""
    path = season.fill(POL, "公安局.xlsx", seed=2)
    wb = load_workbook(path)
    for row in wb[_t3_sheet()].iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(("（", "1.", "2.", "3.")):
                cell.value = "项目" + cell.value[-2:]
            elif cell.value in ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构"):
                cell.value = "申请人"
    wb.save(path)

    def extra(season: Season, data: dict) -> None:
        feedback = (season.outputs / "feedback" / f"{POL.code}_{POL.name}.txt").read_text("utf-8")
        assert "没有找到栏目“（一）予以公开”" in feedback and "等 20 个" in feedback

    return Expect({POL.code: "数据有误"}, extra)


def s_hostile_text_in_the_form(season: Season) -> Expect:
    """A 单位全称 with a bidi override and 1 MB of text: neutralised, cut, never a wall of text."""
    season.fill(EDU, "教育局.xlsx", seed=1, edits={"agency": "\u202e局育教\u200b" + "很长" * 500_000})

    def extra(season: Season, data: dict) -> None:
        text = season.cli("status", "-w", season.ws).stdout
        assert "\u202e" not in text and "\u200b" not in text
        assert max(len(line) for line in text.splitlines()) < 2000
        assert all(len(n) < 2000 for u in data["status"]["units"] for n in u["notes"])
        conflicts = data["status"]["conflicts"]
        assert conflicts and len(conflicts[0]["message"]) < 2000

    return Expect({EDU.code: "归属冲突"}, extra)


def s_workbook_with_a_duplicated_part(season: Season) -> Expect:
    """An .xlsx whose zip holds two copies of one part is refused as corrupt, not guessed."""
    form = season.fill(TOWN, "tmp.xlsx", seed=5)
    buf = io.BytesIO()
    with zipfile.ZipFile(form) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        sheet = next(n for n in src.namelist() if n.startswith("xl/worksheets/"))
        with pytest.warns(UserWarning, match="Duplicate name"):
            dst.writestr(sheet, src.read(sheet).replace(b"<v>", b"<v>9"))
    form.unlink()
    (season.inputs / "城关镇.xlsx").write_bytes(buf.getvalue())

    def extra(season: Season, data: dict) -> None:
        feedback = (season.outputs / "feedback" / f"{TOWN.code}_{TOWN.name}.txt").read_text("utf-8")
        assert "损坏" in feedback

    return Expect({TOWN.code: "无法读取"}, extra)


SCENARIOS: dict[str, Callable[..., Expect]] = {
    f.__name__[2:]: f for f in (
        s_everyone, s_borrowed_form_with_owner_file, s_borrowed_form_alone,
        s_borrowed_form_named_for_the_borrower, s_borrowed_form_settled_by_a_pin,
        s_file_name_of_another_unit, s_off_roster_unit, s_anonymous_form_by_file_name,
        s_unidentified_file, s_zip_with_cover_letter, s_nested_zip_with_gbk_names,
        s_zip_with_path_escape, s_zip_bomb_and_corrupt_zip, s_too_deep_zip,
        s_libreoffice_ods_and_xls, s_unreadable_newer_copy, s_et_file_only, s_gbk_file_names,
        s_blank_return, s_typed_zeros, s_blank_numbers_with_text, s_alias_in_the_form,
        s_pin_with_backslash, s_pin_case_and_unmatched, s_newest_of_two_valid_files,
        s_data_errors, s_hidden_rows_read_with_a_warning, s_mixed_inbox, s_nothing_received,
        s_only_lock_files_and_hidden_files, s_same_file_twice, s_run_twice_is_stable,
        s_changed_file_replaces_report, s_retyped_numbering, s_table_missing_names_labels,
        s_hostile_text_in_the_form, s_workbook_with_a_duplicated_part)}


@pytest.fixture(scope="module")
def libreoffice_copies(tmp_path_factory) -> dict[str, bytes]:
    """.ods and .xls copies made by LibreOffice from filled .xlsx forms."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    base = tmp_path_factory.mktemp("lo")
    roster = write_roster_xlsx(base / "名单.xlsx", list(ROWS))
    CliRunner().invoke(main, ["init", str(base / "ws"), "--year", str(YEAR), "--roster",
                              str(roster)], catch_exceptions=False)
    season = Season(base / "ws")
    edu = season.fill(EDU, "教育局年报.xlsx", seed=1)
    town = season.fill(TOWN, "城关镇.xlsx", seed=5)
    out = {}
    for key, src, fmt in (("ods", edu, "ods"), ("xls", edu, "xls"), ("ods_town", town, "ods")):
        folder = base / key
        folder.mkdir()
        profile = base / f"profile-{key}"
        subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--norestore", "--convert-to", fmt, "--outdir", str(folder), str(src)],
                       check=True, capture_output=True, timeout=180)
        out[key] = next(folder.iterdir()).read_bytes()
    return out


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name: str, season: Season, request: pytest.FixtureRequest) -> None:
    make = SCENARIOS[name]
    args = ()
    if "copies" in make.__code__.co_varnames[: make.__code__.co_argcount]:
        args = (request.getfixturevalue("libreoffice_copies"),)
    expect = make(season, *args)

    data = season.run()

    expect.check(season, data)


# ------------------------------------------------------- templates that never finish

def _template_with(season: Season, tag: str) -> Path:
    """The workspace's Word template with a last paragraph holding ``tag``."""
    template = season.ws / "templates" / "report.docx"
    doc = Document(str(template))
    doc.add_paragraph(tag)
    doc.save(str(template))
    return template


@pytest.mark.parametrize("tag,said", [
    ("{{ '很长' * 100000000 }}", "内容过大"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
     "内容过大"),
    ("{{ 1 / 0 }}", "除以了零"),
])
def test_template_limits_in_check_and_run(season: Season, monkeypatch, tag: str,
                                          said: str) -> None:
    import nianbao.engine

    monkeypatch.setattr(nianbao.engine, "MAX_RENDER_CHARS", 200_000)  # fails fast either way
    season.fill(EDU, "教育局.xlsx")
    template = _template_with(season, tag)

    checked = season.cli("template", "check", template, codes=(1, 3))
    ran = season.cli("run", "-w", season.ws, "-j", "1", codes=(3,))

    assert said in checked.stdout + checked.stderr
    assert said in ran.stderr and len(ran.stderr.strip().splitlines()) == 1
    built = json.loads((season.outputs / "build-summary.json").read_text(encoding="utf-8"))
    assert built["counts"]["failed"] == 1
    assert all(said in r["message"] for o in built["outcomes"] for r in o["reasons"])
    assert not season.reports()


def test_template_time_limit(season: Season, monkeypatch) -> None:
    import nianbao.engine

    monkeypatch.setattr(nianbao.engine, "MAX_RENDER_SECONDS", 0.5)
    template = _template_with(season, "{% for i in range(100000) %}{% for j in range(100000) %}"
                                      "{% endfor %}{{ i }}{% endfor %}")

    checked = season.cli("template", "check", template, codes=(1, 3))

    assert "超过 0 秒仍未完成" in checked.stdout + checked.stderr or "秒仍未完成" in checked.stdout


# --------------------------------------------------------- processes: locks, signals, disk

NIANBAO = str(Path(sys.executable).with_name("nianbao"))


def nianbao(*args: object, **kw) -> subprocess.Popen:
    return subprocess.Popen([NIANBAO, *(str(a) for a in args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def consistent(out: Path) -> dict:
    """The output folder after any ending: no lock, no temporary file, a manifest that tells the truth."""
    assert not (out / ".nianbao.lock").exists()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".nianbao-tmp-")]
    manifest = out / ".nianbao-manifest.json"
    if not manifest.exists():
        return {}
    entries = json.loads(manifest.read_text(encoding="utf-8"))["entries"]
    for entry in entries.values():
        for name in entry["outputs"]:
            assert (out / name).is_file(), name
            assert zipfile.ZipFile(out / name).testzip() is None
    return entries


def test_two_builds_on_one_output(season: Season) -> None:
    """Two `nianbao build` on the same output: one builds, the other waits or says why; no file lost."""
    everyone(season)
    out = season.ws / "报告"
    first = nianbao("build", season.inputs, "-o", out, "-j", "1", "--force")
    second = nianbao("build", season.inputs, "-o", out, "-j", "1", "--force")
    results = []
    for proc in (first, second):
        said, err = proc.communicate(timeout=300)
        results.append((proc.returncode, said, err))

    no_traceback(*(text for r in results for text in r[1:]))
    codes = sorted(r[0] for r in results)
    assert codes in ([0, 0], [0, 4]), results
    if codes == [0, 4]:
        refused = next(r for r in results if r[0] == 4)
        assert "另一个 nianbao 任务正在运行" in refused[2] and len(refused[2].splitlines()) == 1
    entries = consistent(out)
    assert sorted(n for e in entries.values() for n in e["outputs"]) == sorted(
        f"{r.name}{REPORT}.docx" for r in ROWS)
    again = nianbao("build", season.inputs, "-o", out, "-j", "1")
    stdout, _ = again.communicate(timeout=300)
    assert again.returncode == 0 and "未变化 5" in stdout


@pytest.fixture
def busy_season(tmp_path: Path) -> Season:
    """Twelve units who all reported (a run of a few seconds, long enough to interrupt)."""
    rows = county_rows()[:12]
    roster = write_roster_xlsx(tmp_path / "名单.xlsx", rows)
    CliRunner().invoke(main, ["init", str(tmp_path / "ws"), "--year", str(YEAR), "--roster",
                              str(roster)], catch_exceptions=False)
    season = Season(tmp_path / "ws")
    for i, row in enumerate(rows):
        season.fill(row, f"{row.short}.xlsx", seed=i)
    return season


def test_interrupted_runs_end_cleanly(busy_season: Season) -> None:
    """SIGINT or SIGTERM at a random moment of `nianbao run -j 2`, 20 times.

    Each run exits 130 or 143 within 15 s with one line and no traceback, leaves
    no lock and no temporary file and a manifest whose reports all exist; the
    next run, not interrupted, finishes.
    """
    season = busy_season
    rng = random.Random(8)
    t0 = time.monotonic()
    plain = nianbao("run", "-w", season.ws, "-j", "2", "--force", "--quiet")
    out, err = plain.communicate(timeout=300)
    assert plain.returncode == 0, (out, err)
    length = time.monotonic() - t0
    outcomes = []
    for i in range(20):
        signum = (signal.SIGINT, signal.SIGTERM)[i % 2]
        delay = rng.uniform(0.2, max(0.5, length * 0.9))
        logs = set((season.outputs / "logs").glob("run-*.log"))
        proc = nianbao("run", "-w", season.ws, "-j", "2", "--force", start_new_session=True)
        time.sleep(delay)
        sent = time.monotonic()
        os.killpg(proc.pid, signum) if signum == signal.SIGINT else proc.send_signal(signum)
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"run did not end within 15 s of {signum.name}: {outcomes}")
        took = time.monotonic() - sent
        stdout, stderr = proc.communicate()
        no_traceback(stdout, stderr)
        outcomes.append((signum.name, round(delay, 2), code, round(took, 2)))
        new_logs = set((season.outputs / "logs").glob("run-*.log")) - logs
        finished = any("结束，退出码" in log.read_text(encoding="utf-8") for log in new_logs)
        if code in (0, 1) or (code == -signum and finished):
            # finished before the signal came, or it came while Python was exiting
            # (the work done and saved; a shell shows 128 + signal for this too)
            consistent(season.outputs)
            continue
        assert code == 128 + signum, outcomes
        assert stderr.strip().startswith("已中断") and len(stderr.strip().splitlines()) == 1
        consistent(season.outputs)
        if "强制结束" in stderr:  # the watchdog ended a stuck unwinding: the next run tidies
            continue
        assert not [p for p in season.outputs.rglob(".nianbao-tmp-*")]
        for log in new_logs:  # if it got that far
            assert "已中断" in log.read_text(encoding="utf-8")
    print("\ninterrupt loop (signal, delay s, exit, seconds to exit):", outcomes)
    interrupted = [o for o in outcomes if o[2] in (130, 143)]
    assert len(interrupted) >= 15, outcomes
    final = nianbao("run", "-w", season.ws, "-j", "2", "--json")
    stdout, stderr = final.communicate(timeout=300)
    no_traceback(stdout, stderr)
    assert final.returncode == 0
    assert json.loads(stdout)["status"]["counts"]["已生成"] == 12
    consistent(season.outputs)
    assert not [p for p in season.outputs.rglob(".nianbao-tmp-*")]
    assert not (season.outputs / ".nianbao.lock").exists()


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 120 KB tmpfs, where the test may mount one (root on Linux); skipped elsewhere."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=120k", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace')[:200]}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_full_disk_during_run(season: Season, small_disk: Path) -> None:
    """outputs/ on a disk that fills up mid-build: exit 3, a Chinese line, nothing half-written."""
    everyone(season)
    shutil.rmtree(season.outputs)
    (small_disk / "outputs").mkdir()
    season.outputs.symlink_to(small_disk / "outputs")

    proc = nianbao("run", "-w", season.ws, "-j", "1")
    stdout, stderr = proc.communicate(timeout=300)

    no_traceback(stdout, stderr)
    assert proc.returncode == 3, (stdout, stderr)
    assert "磁盘" in stderr or "空间" in stderr
    out = small_disk / "outputs"
    consistent(out)
    for docx in out.glob("*.docx"):
        assert zipfile.ZipFile(docx).testzip() is None
    shutil.rmtree(out)  # room again: the next run completes
    out.mkdir()
    again = nianbao("run", "-w", season.ws, "-j", "1", "--skip-summary")
    stdout, stderr = again.communicate(timeout=300)
    no_traceback(stdout, stderr)
