"""Generate tests/fixtures/bad/: one broken workbook per way a user can break one.

Run from the repository root::

    .venv/bin/python tests/make_bad_corpus.py            # rewrite the corpus
    .venv/bin/python tests/make_bad_corpus.py --out DIR  # write elsewhere (the tests do)

Every case starts from one valid synthetic agency (seed 11, year 2025), breaks it in
one way and records the finding it must give in ``expected.json``: the rule code and,
where the problem has one, the sheet and cell (taken from :mod:`nianbao.layout`, never
typed here).  The corpus is checked with ``--year 2025``.

Output is byte-for-byte deterministic (fixed zip timestamps and document dates),
except the cases marked ``external``: the real .xls and .et come from LibreOffice and
the encrypted file from msoffcrypto-tool (random salt).  Those are regenerated only
when the tool is available, and otherwise kept as committed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.workbook.workbook import Workbook as WorkbookType

from nianbao.intake import IntakeData, intake_from, write_intake
from nianbao.layout import META_SHEET, WorkbookLayout, workbook_layout
from nianbao.synth import random_submission

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "fixtures" / "bad"
YEAR = 2025
SEED = 11
FIXED = (2025, 1, 1, 0, 0, 0)
T2, T3, T4, INFO = "表二 主动公开", "表三 依申请公开", "表四 复议诉讼", "基本信息"


@dataclass(frozen=True, slots=True)
class Expect:
    code: str
    sheet: str | None = None
    cell: str | None = None


@dataclass(slots=True)
class Case:
    name: str  # file name, with its suffix
    kind: str  # value / structure / file / metadata / tolerated
    what: str  # one line: what the user did
    build: Callable[[Path], None]
    expect: list[Expect]
    valid: bool  # whether the file still passes (warnings only)
    external: bool = False  # made by an outside tool: bytes not reproducible
    notes: dict[str, str] = field(default_factory=dict)


def _layout() -> WorkbookLayout:
    return workbook_layout()


def at(key: str) -> tuple[str, str]:
    """(sheet, A1) of a table cell, from the layout."""
    return _layout().cell(key)


def info_at(field_id: str) -> tuple[str, str]:
    return INFO, _layout().info_cell(field_id)


# ------------------------------------------------------------------ building blocks

def _base_submission():  # noqa: ANN202 - a Submission
    return random_submission(random.Random(SEED), index=SEED, year=YEAR)


def write_base(path: Path, data: IntakeData | None = None) -> None:
    # The corpus is of forms made before the live checks (issue 10): they must keep reading.
    write_intake(path, data or intake_from(_base_submission()), legacy=True)
    normalize(path)


def normalize(path: Path) -> None:
    """Fixed timestamps inside and on the zip, so a rerun gives identical bytes."""
    with zipfile.ZipFile(path) as zf:
        items = [(info, zf.read(info.filename)) for info in zf.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                              rb"\g<1>2025-01-01T00:00:00Z", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            out.writestr(fixed, data)
    path.write_bytes(buf.getvalue())


def with_openpyxl(change: Callable[[WorkbookType], None],
                  data: Callable[[], IntakeData] | None = None) -> Callable[[Path], None]:
    """A case built by editing the filled form with openpyxl."""

    def build(path: Path) -> None:
        write_base(path, data() if data else None)
        wb = load_workbook(path)
        change(wb)
        wb.save(path)
        normalize(path)

    return build


def set_key(key: str, value: object) -> Callable[[WorkbookType], None]:
    def change(wb: WorkbookType) -> None:
        sheet, cell = at(key)
        wb[sheet][cell] = value

    return change


def set_info(field_id: str, value: object) -> Callable[[WorkbookType], None]:
    def change(wb: WorkbookType) -> None:
        sheet, cell = info_at(field_id)
        wb[sheet][cell] = value

    return change


def both(*changes: Callable[[WorkbookType], None]) -> Callable[[WorkbookType], None]:
    def change(wb: WorkbookType) -> None:
        for one in changes:
            one(wb)

    return change


def patch_part(part: str, change: Callable[[bytes], bytes],
               extra: dict[str, bytes] | None = None) -> Callable[[Path], None]:
    """A case built by editing the XML of one part of the filled form (and adding parts)."""

    def build(path: Path) -> None:
        write_base(path)
        with zipfile.ZipFile(path) as zf:
            items = [(info.filename, zf.read(info.filename)) for info in zf.infolist()]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            for name, data in items:
                out.writestr(zipfile.ZipInfo(name, date_time=FIXED),
                             change(data) if name == part else data,
                             compress_type=zipfile.ZIP_DEFLATED)
            for name, data in (extra or {}).items():
                out.writestr(zipfile.ZipInfo(name, date_time=FIXED), data,
                             compress_type=zipfile.ZIP_DEFLATED)
        path.write_bytes(buf.getvalue())

    return build


def sheet_part(sheet: str) -> str:
    """The XML part of a sheet of the intake form (openpyxl numbers them in order)."""
    names = ["填报说明", INFO, T2, T3, T4, META_SHEET]
    return f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"


def replace_cell(key: str, xml: bytes) -> Callable[[bytes], bytes]:
    """Replace the ``<c>`` element of a table cell with ``xml`` (``{r}`` = its address)."""
    _, address = at(key)

    def change(data: bytes) -> bytes:
        pattern = rb'<c r="' + address.encode() + rb'"[^>]*?(?:/>|>.*?</c>)'
        new, n = re.subn(pattern, xml.replace(b"{r}", address.encode()), data, count=1,
                         flags=re.S)
        assert n == 1, (key, address)
        return new

    return change


def raw_bytes(data: bytes) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        path.write_bytes(data)

    return build


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in files.items():
            out.writestr(zipfile.ZipInfo(name, date_time=FIXED), data,
                         compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def truncated(path: Path) -> None:
    write_base(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def zip_bomb(path: Path) -> None:
    """A well-formed xlsx whose 表三 sheet unpacks to 120 MB (it compresses ~1000:1)."""

    def build_xml(data: bytes) -> bytes:
        return data.replace(b"</sheetData>", b"</sheetData>" + b" " * (120 * 1024 * 1024), 1)

    patch_part(sheet_part(T3), build_xml)(path)


def plain_workbook(rows: list[list[object]], title: str = "Sheet1") -> Callable[[Path], None]:
    def build(path: Path) -> None:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = title
        for row in rows:
            ws.append(row)
        wb.save(path)
        normalize(path)

    return build


def soffice_convert(target: str) -> Callable[[Path], None]:
    """A real file in an old format, saved by LibreOffice from the filled form."""

    def build(path: Path) -> None:
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        if soffice is None:
            raise RuntimeError("LibreOffice (soffice) is needed to make this case")
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "form.xlsx"
            write_base(src)
            subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                            "--norestore", "--convert-to", target, "--outdir", tmp, str(src)],
                           check=True, capture_output=True, timeout=180)
            made = Path(tmp) / f"form.{target.split(':')[0]}"
            shutil.copyfile(made, path)

    return build


def encrypted(path: Path) -> None:
    """The filled form with an opening password (Agile encryption, as Excel writes it)."""
    from msoffcrypto.format.ooxml import OOXMLFile  # only needed to regenerate this case

    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.xlsx"
        write_base(plain)
        with plain.open("rb") as src, path.open("wb") as out:
            OOXMLFile(src).encrypt("123456", out)


def from_existing(name: str) -> Callable[[Path], None]:
    """Copy another case's file (e.g. the .xls renamed to .et)."""

    def build(path: Path) -> None:
        shutil.copyfile(path.parent / name, path)

    return build


def delete_row_of(key: str) -> Callable[[WorkbookType], None]:
    def change(wb: WorkbookType) -> None:
        sheet, cell = at(key)
        row = int(re.sub(r"[A-Z]", "", cell))
        ws = wb[sheet]
        for merged in list(ws.merged_cells.ranges):
            if merged.min_row <= row <= merged.max_row:
                ws.unmerge_cells(str(merged))
        ws.delete_rows(row)

    return change


def find_cell(wb: WorkbookType, sheet: str, text: str) -> str:
    for row in wb[sheet].iter_rows():
        for cell in row:
            if cell.value == text:
                return cell.coordinate
    raise KeyError(text)


def relabel(sheet: str, old: str, new: str) -> Callable[[WorkbookType], None]:
    def change(wb: WorkbookType) -> None:
        wb[sheet][find_cell(wb, sheet, old)] = new

    return change


def unmerge_headers(wb: WorkbookType) -> None:
    ws = wb[T3]
    for merged in list(ws.merged_cells.ranges):
        top = ws.cell(merged.min_row, merged.min_col).value
        if top in ("申请人情况", "法人或其他组织"):
            ws.unmerge_cells(str(merged))


def merge_values(wb: WorkbookType) -> None:
    """Two input cells merged into one: the right one's number is lost."""
    _, left = at("t3.r1.natural")
    _, right = at("t3.r1.commercial")
    wb[T3].merge_cells(f"{left}:{right}")


def copy_sheet(sheet: str, change_key: str | None = None) -> Callable[[WorkbookType], None]:
    def change(wb: WorkbookType) -> None:
        copy = wb.copy_worksheet(wb[sheet])
        copy.title = sheet + " (2)"
        if change_key:
            _, cell = at(change_key)
            copy[cell] = (copy[cell].value or 0) + 5

    return change


def hide(sheet: str) -> Callable[[WorkbookType], None]:
    def change(wb: WorkbookType) -> None:
        wb[sheet].sheet_state = "hidden"

    return change


def set_meta(name: str, value: object) -> Callable[[WorkbookType], None]:
    def change(wb: WorkbookType) -> None:
        wb[META_SHEET][WorkbookLayout.meta_cell(name)] = value

    return change


def bumped(key: str, by: int) -> Callable[[WorkbookType], None]:
    def change(wb: WorkbookType) -> None:
        sheet, cell = at(key)
        wb[sheet][cell] = (wb[sheet][cell].value or 0) + by

    return change


def external_link(path: Path) -> None:
    link = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            b'<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
            b'<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>3</v></cell></row>'
            b'</sheetData></sheetDataSet></externalBook></externalLink>')
    rels = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/externalLinkPath" Target="file:///C:/%E6%B1%87%E6%80%BB.xlsx" '
            b'TargetMode="External"/></Relationships>')
    # The input cell keeps its number as the cached value of a formula into the other file.
    sub = _base_submission()
    cached = str(sub.values["t3.r1.natural"]).encode()
    patch = replace_cell("t3.r1.natural",
                         b'<c r="{r}"><f>[1]Sheet1!A1</f><v>' + cached + b"</v></c>")
    parts = {"xl/externalLinks/externalLink1.xml": link,
             "xl/externalLinks/_rels/externalLink1.xml.rels": rels}
    patch_part(sheet_part(T3), patch, parts)(path)


def with_macros(path: Path) -> None:
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + b"Attribute VB_Name = \"Module1\""
    patch_part("[Content_Types].xml", lambda d: d.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
        {"xl/vbaProject.bin": vba})(path)


def docx_renamed(path: Path) -> None:
    path.write_bytes(zip_of({
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.'
                               b'openxmlformats.org/package/2006/content-types"/>',
        "word/document.xml": '<w:document xmlns:w="http://schemas.openxmlformats.org/'
                             'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>年度报告</w:t>'
                             '</w:r></w:p></w:body></w:document>'.encode(),
    }))


def ods_renamed(path: Path) -> None:
    zf_bytes = io.BytesIO()
    with zipfile.ZipFile(zf_bytes, "w") as out:
        out.writestr(zipfile.ZipInfo("mimetype", date_time=FIXED),
                     b"application/vnd.oasis.opendocument.spreadsheet")
        out.writestr(zipfile.ZipInfo("content.xml", date_time=FIXED),
                     b'<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:'
                     b'names:tc:opendocument:xmlns:office:1.0"/>')
    path.write_bytes(zf_bytes.getvalue())


def old_2019_form(path: Path) -> None:
    plain_workbook([
        ["第二十条第（一）项"],
        ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"],
        ["规章", 0, 0, 0],
        ["规范性文件", 2, 2, 15],
    ], title="表二")(path)


def broken_sheet_xml(path: Path) -> None:
    patch_part(sheet_part(T3), lambda d: d[: len(d) // 2] + b"<row><c r=")(path)


def missing_sheet_part(path: Path) -> None:
    write_base(path)
    with zipfile.ZipFile(path) as zf:
        items = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    del items[sheet_part(T3)]
    path.write_bytes(zip_of(items))


def blank_form_data() -> IntakeData:
    sub = _base_submission()
    return IntakeData(agency=sub.agency, code=sub.code, year=YEAR)


def no_agency_data() -> IntakeData:
    data = intake_from(_base_submission())
    return IntakeData(code=data.code, year=data.year, level=data.level, contact=data.contact,
                      phone=data.phone, values=data.values, narrative=data.narrative)


# ------------------------------------------------------------------------ the cases

def cases() -> list[Case]:
    k_nat = "t3.r1.natural"  # 表三 一、本年新收 / 自然人
    lic = "t2_5.licensing.decisions"
    pen = "t2_6.penalty.decisions"
    coe = "t2_6.coercion.decisions"
    fee = "t2_8.fees.amount"
    norm = "t2_1.normative.issued"

    def e(code: str, key: str | None = None) -> Expect:
        if key is None:
            return Expect(code)
        sheet, cell = at(key)
        return Expect(code, sheet, cell)

    def ei(code: str, field_id: str) -> Expect:
        sheet, cell = info_at(field_id)
        return Expect(code, sheet, cell)

    out: list[Case] = []

    def add(name: str, kind: str, what: str, build: Callable[[Path], None],
            expect: list[Expect], valid: bool, **kw: object) -> None:
        out.append(Case(name, kind, what, build, expect, valid, **kw))  # type: ignore[arg-type]

    # -- wrong values -------------------------------------------------------------
    add("v01-text-in-count.xlsx", "value", "件数栏填了文字“约十件”",
        with_openpyxl(set_key(k_nat, "约十件")), [e("not-a-number", k_nat)], False)
    add("v02-date-in-count.xlsx", "value", "件数栏是日期（单元格格式被设成日期）",
        with_openpyxl(set_key(lic, dt.datetime(2025, 3, 1))), [e("date-value", lic)], False)
    add("v03-time-in-count.xlsx", "value", "件数栏是时间",
        with_openpyxl(set_key(pen, dt.time(8, 30))), [e("date-value", pen)], False)
    add("v04-boolean.xlsx", "value", "件数栏是逻辑值 TRUE",
        with_openpyxl(set_key(coe, True)), [e("boolean-value", coe)], False)
    add("v05-ref-error.xlsx", "value", "件数栏是错误值 #REF!（真正的错误单元格）",
        with_openpyxl(set_key(lic, "#REF!")), [e("formula-error", lic)], False)
    add("v06-div0-formula.xlsx", "value", "件数栏是公式 =B9/0，缓存结果为 #DIV/0!",
        patch_part(sheet_part(T2), replace_cell(lic, b'<c r="{r}" t="e"><f>B9/0</f>'
                                                     b"<v>#DIV/0!</v></c>")),
        [e("formula-error", lic)], False)
    add("v07-negative.xlsx", "value", "件数为负数 -3",
        with_openpyxl(set_key(pen, -3)), [e("negative-value", pen)], False)
    add("v08-decimal-count.xlsx", "value", "件数带小数 2.5",
        with_openpyxl(set_key(pen, 2.5)), [e("not-an-integer", pen)], False)
    add("v09-huge-count.xlsx", "value", "件数大得离谱（10^12）",
        with_openpyxl(set_key(lic, 10**12)), [e("value-too-large", lic)], False)
    add("v10-scientific-text.xlsx", "value", "件数以文本“1E3”填写",
        with_openpyxl(set_key(lic, "1E3")), [e("number-as-text", lic)], True)
    add("v11-fullwidth-digits.xlsx", "value", "全角数字“１２”",
        with_openpyxl(set_key(pen, "１２")), [e("number-as-text", pen)], True)
    add("v12-nbsp-around-number.xlsx", "value", "数字两边有不间断空格",
        with_openpyxl(set_key(pen, "\u00a012\u00a0")), [e("number-as-text", pen)], True)
    add("v13-thousands-separator.xlsx", "value", "文本“1,234”（千分位）",
        with_openpyxl(set_key(lic, "1,234")), [e("number-as-text", lic)], True)
    add("v14-number-with-unit.xlsx", "value", "文本“12件”（带单位）",
        with_openpyxl(set_key(pen, "12件")), [e("number-as-text", pen)], True)
    add("v15-slash.xlsx", "value", "填了“/”", with_openpyxl(set_key(coe, "/")),
        [e("blank-as-zero", coe)], True)
    add("v16-wu.xlsx", "value", "填了“无”", with_openpyxl(set_key(coe, "无")),
        [e("blank-as-zero", coe)], True)
    add("v17-empty-cell.xlsx", "value", "留空", with_openpyxl(set_key(coe, None)),
        [e("blank-as-zero", coe)], True)
    add("v18-fee-too-many-decimals.xlsx", "value", "收费金额 6 位小数",
        with_openpyxl(set_key(fee, 1.234567)), [e("fee-precision", fee)], True)
    add("v19-fee-in-yuan.xlsx", "value", "收费金额疑似按“元”填写（50000 万元）",
        with_openpyxl(set_key(fee, 50000)), [e("fee-too-large", fee)], True)
    add("v20-fee-text.xlsx", "value", "收费金额填了文字“约5万元”",
        with_openpyxl(set_key(fee, "约5万元")), [e("not-a-number", fee)], False)
    add("v21-fee-negative.xlsx", "value", "收费金额为负",
        with_openpyxl(set_key(fee, -0.5)), [e("negative-value", fee)], False)
    add("v22-fee-absurd-float.xlsx", "value", "收费金额 1e20（曾导致读取崩溃）",
        with_openpyxl(set_key(fee, 1e20)), [e("value-too-large", fee)], False)
    add("v23-fee-absurd-text.xlsx", "value", "收费金额文本“1e400”（曾导致读取崩溃）",
        with_openpyxl(set_key(fee, "1e400")), [e("value-too-large", fee)], False)
    add("v24-claim-typed-total.xlsx", "value", "合计单元格被改成手填的 999，与各项之和不符",
        with_openpyxl(set_key("t3.r1.total", 999)), [e("t3-row-total", "t3.r1.total")], False)
    add("v25-claim-stale-cached-total.xlsx", "value",
        "合计公式的缓存值 999 与各项之和不符（如关闭了自动重算）",
        patch_part(sheet_part(T4), replace_cell("t4.rv_total",
                                                b'<c r="{r}"><f>SUM(A6:D6)</f><v>999</v></c>')),
        [e("t4-total", "t4.rv_total")], False)
    add("v26-balance-broken.xlsx", "value", "结转下年度多填 1 件，勾稽关系不平",
        with_openpyxl(bumped("t3.r4.natural", 1)),
        [e("t3-balance", "t3.r4.natural"), e("t3-balance", "t3.r4.total")], False)
    add("v27-formula-never-calculated.xlsx", "value", "输入栏是公式 =1+2 但文件里没有计算结果",
        with_openpyxl(set_key(lic, "=1+2")), [e("formula-no-value", lic)], False)
    add("v28-very-long-text.xlsx", "value", "件数栏粘贴了 5000 字的文字",
        with_openpyxl(set_key(pen, "说明" * 2500)), [e("not-a-number", pen)], False)
    add("v29-percent-text.xlsx", "value", "填了“50%”", with_openpyxl(set_key(coe, "50%")),
        [e("not-a-number", coe)], False)
    add("v30-total-formula-broken.xlsx", "value", "合计公式被改坏，显示 #REF!",
        patch_part(sheet_part(T3), replace_cell("t3.r1.total", b'<c r="{r}" t="e">'
                                                               b"<f>#REF!+1</f><v>#REF!</v></c>")),
        [e("total-unreadable", "t3.r1.total")], True)
    add("v31-fullwidth-decimal-count.xlsx", "value", "全角小数“１．５”填入件数",
        with_openpyxl(set_key(norm, "１．５")), [e("not-an-integer", norm)], False)

    # -- structural damage --------------------------------------------------------
    add("s01-row-deleted.xlsx", "structure", "表三删除了“1.属于国家秘密”一行",
        with_openpyxl(delete_row_of("t3.r3_3_1.natural")), [Expect("label-missing", T3)], False)
    add("s02-column-label-edited.xlsx", "structure", "表三列标题“自然人”改成了“个人”",
        with_openpyxl(relabel(T3, "自然人", "个人")), [Expect("label-missing", T3)], False)
    add("s03-row-label-edited.xlsx", "structure", "表四以外：表二“行政许可”改成“许可”",
        with_openpyxl(relabel(T2, "行政许可", "许可")), [Expect("label-missing", T2)], False)
    add("s04-sheet-deleted.xlsx", "structure", "删除了“表四 复议诉讼”工作表",
        with_openpyxl(lambda wb: wb.remove(wb[T4])), [Expect("table-missing")], False)
    add("s05-sheet-hidden.xlsx", "structure", "表三工作表被隐藏",
        with_openpyxl(hide(T3)), [Expect("sheet-hidden", T3)], True)
    add("s06-sheet-duplicated-different.xlsx", "structure",
        "复制了一份表三并改了其中一个数（两张表数字不同）",
        with_openpyxl(copy_sheet(T3, "t3.r1.natural")),
        [Expect("table-duplicate", T3 + " (2)")], False)
    add("s07-sheet-duplicated-same.xlsx", "structure", "复制了一份完全相同的表三",
        with_openpyxl(copy_sheet(T3)), [Expect("table-duplicate", T3 + " (2)")], True)
    add("s08-value-cells-merged.xlsx", "structure", "两个输入单元格被合并，右边的数丢失",
        with_openpyxl(merge_values), [e("input-merged", "t3.r1.commercial")], False)
    add("s09-stray-far-cell.xlsx", "structure",
        "在 XFD1048576 误输入了内容（曾使读取进程因内存不足直接崩溃）",
        with_openpyxl(lambda wb: wb[T3].cell(row=1048576, column=16384, value="x")),
        [Expect("stray-far-cells", T3, "XFD1048576")], True)
    add("s10-unrelated-workbook.xlsx", "structure", "报送了一个无关的 Excel 表",
        plain_workbook([["姓名", "电话"], ["张三", "123"]]), [Expect("tables-missing")], False)
    add("s11-old-2019-format.xlsx", "structure", "用了 2019 年旧版格式",
        old_2019_form, [Expect("format-version", "表二")], False)
    add("s12-blank-form.xlsx", "structure", "下发的空表原样交回，没有填写",
        with_openpyxl(lambda wb: None, blank_form_data), [Expect("form-blank")], False)

    # -- file level -----------------------------------------------------------------
    add("f01-truncated-zip.xlsx", "file", "文件传输中被截断了一半", truncated,
        [Expect("file-corrupt")], False)
    add("f02-random-bytes.xlsx", "file", "不是 zip 的随机内容",
        raw_bytes(bytes(random.Random(1).randrange(256) for _ in range(4096))),
        [Expect("file-not-xlsx")], False)
    add("f03-real-xls.xls", "file", "另存为了旧版 .xls（由 LibreOffice 真实生成）：照常读取并提示",
        soffice_convert("xls"), [Expect("file-old-format")], True, external=True)
    add("f04-wps-et.et", "file", "WPS 的 .et 文件（OLE2 格式）",
        from_existing("f03-real-xls.xls"), [Expect("file-old-format")], False, external=True)
    add("f05-csv-renamed.xlsx", "file", "CSV 文件改了扩展名",
        raw_bytes("单位,件数\n民政局,3\n".encode("gbk")), [Expect("file-not-xlsx")], False)
    add("f06-encrypted.xlsx", "file", "设置了打开密码（msoffcrypto-tool 真实加密）",
        encrypted, [Expect("file-encrypted")], False, external=True)
    add("f07-empty.xlsx", "file", "0 字节", raw_bytes(b""), [Expect("file-empty")], False)
    add("f08-zip-bomb.xlsx", "file", "解压后 120 MB 的 zip 炸弹", zip_bomb,
        [Expect("file-too-large")], False)
    add("f09-external-links.xlsx", "file", "输入栏引用了另一个工作簿（外部链接）",
        external_link, [Expect("external-links-ignored")], True)
    add("f10-macros.xlsm", "file", "带宏的 .xlsm（含 vbaProject.bin）", with_macros,
        [Expect("macros-ignored")], True)
    add("f11-docx-renamed.xlsx", "file", "Word 文档改了扩展名", docx_renamed,
        [Expect("file-not-xlsx")], False)
    add("f12-ods-renamed.xlsx", "file", "ODS 表格改了扩展名", ods_renamed,
        [Expect("file-not-xlsx")], False)
    add("f13-html-as-xls.xls", "file", "网页系统导出的“xls”（其实是 HTML）",
        raw_bytes("<html><body><table><tr><td>件数</td></tr></table></body></html>".encode()),
        [Expect("file-not-xlsx")], False)
    add("f14-broken-sheet-xml.xlsx", "file", "表三的 XML 残缺", broken_sheet_xml,
        [Expect("file-corrupt")], False)
    add("f15-missing-sheet-part.xlsx", "file", "zip 中缺少表三的工作表部件", missing_sheet_part,
        [Expect("file-corrupt")], False)
    add("f16-zip-without-workbook.xlsx", "file", "一个普通 zip 压缩包改了扩展名",
        raw_bytes(zip_of({"附件/说明.txt": "见附件".encode()})), [Expect("file-not-xlsx")], False)

    # -- metadata -------------------------------------------------------------------
    add("m01-wrong-year.xlsx", "metadata", "报的是 2024 年的表（本次为 2025 年）",
        with_openpyxl(both(set_info("year", 2024), set_meta("year", 2024))),
        [ei("year-mismatch", "year")], False)
    add("m02-wrong-form-version.xlsx", "metadata", "_meta 中的填报表版本是旧版",
        with_openpyxl(set_meta("form_version", "gb2021-0")), [Expect("form-version")], False)
    add("m03-other-units-form.xlsx", "metadata",
        "用了下发给其他单位的表，只把基本信息改成了本单位（单位编码不同）",
        with_openpyxl(both(set_info("agency", "东平县民政局"), set_info("code", "SYN-00099"))),
        [ei("agency-mismatch", "code")], True)
    add("m04-agency-missing.xlsx", "metadata", "没有单位名称（表头、基本信息、元数据都空）",
        with_openpyxl(lambda wb: None, no_agency_data), [ei("agency-missing", "agency")], False)
    add("m05-year-unreadable.xlsx", "metadata", "报告年度写成“今年”",
        with_openpyxl(both(set_info("year", "今年"), set_meta("year", None),
                           lambda wb: _clear_banner_year(wb))),
        [ei("year-missing", "year")], False)

    # -- tolerated: damage the reader reads through (no error expected) ---------------
    add("t01-sheet-renamed.xlsx", "tolerated", "表二工作表改名为“Sheet1”（按标题读取，无影响）",
        with_openpyxl(lambda wb: setattr(wb[T2], "title", "Sheet1")), [], True)
    add("t02-extra-sheet.xlsx", "tolerated", "多了一个写草稿的工作表",
        with_openpyxl(lambda wb: wb.create_sheet("草稿").append(["备注", "明天再改"])), [], True)
    add("t03-header-merges-removed.xlsx", "tolerated", "表三列标题的合并单元格被取消",
        with_openpyxl(unmerge_headers), [], True)
    add("t04-meta-sheet-deleted.xlsx", "tolerated", "隐藏的 _meta 工作表被删除",
        with_openpyxl(lambda wb: wb.remove(wb[META_SHEET])), [], True)
    return out


def _clear_banner_year(wb: WorkbookType) -> None:
    for ws in wb.worksheets:
        value = ws["A1"].value
        if isinstance(value, str) and "报告年度" in value:
            ws["A1"] = re.sub(r"\s*报告年度[:：]\s*\d{4}", "", value)


# --------------------------------------------------------------------------- driver

def generate(out: Path, *, only_reproducible: bool = False) -> list[Case]:
    """Write every case into ``out`` and ``expected.json``; return the cases."""
    out.mkdir(parents=True, exist_ok=True)
    made = cases()
    for case in made:
        if case.external and only_reproducible:
            continue
        target = out / case.name
        try:
            case.build(target)
        except (RuntimeError, ImportError, OSError, subprocess.SubprocessError) as exc:
            if case.external and (CORPUS / case.name).exists() and out != CORPUS:
                shutil.copyfile(CORPUS / case.name, target)
            elif case.external and target.exists():
                print(f"kept committed {case.name}: {exc}", file=sys.stderr)
            else:
                raise
    (out / "expected.json").write_text(expected_json(made), encoding="utf-8")
    return made


def expected_json(made: list[Case]) -> str:
    rows = [{"file": c.name, "kind": c.kind, "what": c.what, "valid": c.valid,
             "external": c.external,
             "expect": [{"code": x.code, "sheet": x.sheet, "cell": x.cell} for x in c.expect]}
            for c in made]
    return json.dumps({"year": YEAR, "cases": rows}, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    with contextlib.suppress(FileNotFoundError):
        for stale in args.out.glob("*"):
            if stale.is_file() and not any(stale.name == c.name for c in cases()) \
                    and stale.name != "expected.json":
                stale.unlink()
    made = generate(args.out)
    print(f"{len(made)} cases written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
