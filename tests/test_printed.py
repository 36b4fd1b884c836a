"""What a coordinator prints and publishes: status.xlsx, the 汇总 workbook and report.

A 50-unit county (the workspace of test_cycle_cli): print settings read back with
openpyxl, then the real files converted by LibreOffice and their PDF pages counted.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from test_cycle_cli import ROWS, county, invoke  # noqa: F401 - the 50-unit workspace fixture
from test_serve_browser import browser  # noqa: F401 - Debian's chromium through playwright

from nianbao.aggregate import MEMBERS_SHEET, TO_WRITE
from nianbao.check import check_file
from nianbao.layout import CHECK_SHEET
from nianbao.model import SUMMARY_CODE
from nianbao.reader import read_workbook

HAS_OFFICE = bool(shutil.which("soffice") and shutil.which("pdftotext") and shutil.which("pdfinfo"))


@pytest.fixture(scope="module")
def outputs(county) -> dict[str, Path]:  # noqa: F811
    runner = CliRunner()
    invoke(runner, "status", "-w", county, "-q")
    data = json.loads(invoke(runner, "summary", "-w", county, "--json").stdout)
    return {"status": county / "outputs" / "status.xlsx", "workbook": county / data["workbook"],
            "report": county / data["report"]}


@pytest.fixture(scope="module")
def pdfs(outputs, tmp_path_factory) -> dict[str, Path]:
    if not HAS_OFFICE:
        pytest.skip("LibreOffice (soffice) or poppler-utils not installed")
    out = tmp_path_factory.mktemp("pdf")
    subprocess.run(["soffice", "--headless", "--norestore",
                    f"-env:UserInstallation={(out / 'profile').as_uri()}", "--convert-to", "pdf",
                    "--outdir", str(out), *map(str, outputs.values())],
                   capture_output=True, check=True, timeout=300)
    return {k: out / (p.stem + ".pdf") for k, p in outputs.items()}


def _pages(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    count = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    size = next(line for line in info.splitlines() if line.startswith("Page size:")).split()
    assert float(size[2]) > float(size[4]), "landscape"  # "Page size: 841.89 x 595.28 pts"
    return [subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
            for i in range(1, count + 1)]


def _assert_prints_one_page_wide(ws, header_rows: str) -> None:
    setup = ws.page_setup
    assert (int(setup.paperSize), setup.orientation) == (9, "landscape"), ws.title  # 9: A4
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    assert ws.print_title_rows.replace("$", "") == header_rows, ws.title
    assert ws.oddHeader.center.text and "&P" in ws.oddFooter.center.text


def test_status_xlsx_prints_on_a4_landscape_with_title_borders_and_wrapping(outputs):
    wb = load_workbook(outputs["status"])

    for ws in (wb["各单位状态"], wb["问题明细"], wb["未识别文件"]):
        _assert_prints_one_page_wide(ws, "1:1")
        assert "报送情况" in ws.oddHeader.center.text
    units = wb["各单位状态"]
    assert units["B2"].border.left.style == "thin" and units["J51"].border.bottom.style == "thin"
    assert units["J2"].alignment.wrap_text
    tall = [r for r in range(2, 52) if (units.row_dimensions[r].height or 0) > 20]
    assert tall and all("\n" in str(units.cell(r, 10).value or "") or
                        len(str(units.cell(r, 10).value or units.cell(r, 5).value)) > 14
                        for r in tall)  # only rows with long text are made taller


def test_status_xlsx_for_50_units_prints_one_page_wide(pdfs):
    pages = _pages(pdfs["status"])
    units = [p for p in pages if "各单位状态" in p]

    assert 1 <= len(units) <= 6
    for page in units:  # every page carries the whole header row: nothing cut to another page
        assert all(head in page for head in ("单位编码", "单位名称", "报送文件", "识别方式", "备注"))
    assert "QS050" in "".join(units)


def test_summary_workbook_is_a_summary_not_an_agency_form(outputs):
    wb = load_workbook(outputs["workbook"])
    visible = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
    texts = [str(c.value) for ws in visible for row in ws.iter_rows() for c in row if c.value]

    assert wb.sheetnames[0] == MEMBERS_SHEET and wb.active.title == MEMBERS_SHEET
    assert "填报说明" not in wb.sheetnames and CHECK_SHEET not in wb.sheetnames
    assert not any(SUMMARY_CODE in t or "填报单位：" in t or "可以报送" in t for t in texts)
    assert any("纳入汇总 36 个单位" in t for t in texts)


def test_summary_workbook_reads_back_as_a_summary_without_agency_warnings(outputs):
    read = read_workbook(outputs["workbook"])
    report = check_file(outputs["workbook"])

    assert read.submission.code == SUMMARY_CODE and read.submission.agency == "青山县人民政府"
    assert report.valid
    assert not [f for f in report.findings if f.code in ("narrative-empty", "fee-notice-text")]


def test_summary_unit_sheet_prints_one_page_wide(outputs, pdfs):
    ws = load_workbook(outputs["workbook"])[MEMBERS_SHEET]
    _assert_prints_one_page_wide(ws, "1:2")
    assert ws["C3"].border.left.style == "thin" and ws["E3"].alignment.wrap_text

    pages = [p for p in _pages(pdfs["workbook"]) if "纳入汇总的单位及主要数据" in p]
    assert 1 <= len(pages) <= 3
    assert all("收费金额（万元）" in p and "报送文件" in p for p in pages)  # the head repeats
    assert "未纳入汇总的单位（14 个）" in pages[-1]


def test_summary_report_has_placeholders_and_an_annex(outputs, pdfs):
    doc = docx.Document(str(outputs["report"]))
    texts = [p.text for p in doc.paragraphs]
    heads = {t: i for i, t in enumerate(texts) if t[:2] in ("一、", "五、", "六、")}

    assert outputs["report"].stem.endswith("（草稿）")
    for head, sid in zip(sorted(heads, key=heads.get), ("s1", "s5", "s6"), strict=True):
        following = texts[heads[head] + 1:heads[head] + 4]  # after the generated sentences
        assert TO_WRITE[sid] in following, head  # a visible placeholder, not a bare heading
    assert sum("青山县教育局" in t for t in texts) == 0  # the members only in the 附表
    included, excluded = ([[c.text for c in r.cells] for r in t.rows] for t in doc.tables[-2:])
    assert len(included) == 1 + 36 and included[1] == ["1", "青山县教育局"]
    assert len(excluded) == 1 + 14 and ["1", "青山县水利局", "数据有误（2 个错误）"] in excluded

    pdf = subprocess.run(["pdftotext", "-layout", str(pdfs["report"]), "-"], capture_output=True,
                         text=True, check=True).stdout
    assert "附表" in pdf and "纳入汇总的单位（36 个）" in pdf and "未纳入汇总的单位（14 个）" in pdf
    assert "青山县凤凰镇人民政府" in pdf and "请补写" in pdf



# ------------------------------------------------------------------ status.html

class _Page(HTMLParser):
    """The status page's meta tags, headings and the cells of each unit row by data-label."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.rows: list[dict[str, str]] = []
        self.html_of: dict[str, list[str]] = {}
        self._label: str | None = None
        self._raw: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and "name" in attrs:
            self.meta[attrs["name"]] = attrs.get("content", "")
        if tag == "tr":
            self.rows.append({})
        if tag == "td" and attrs.get("data-label"):
            self._label = attrs["data-label"]
            self.rows[-1][self._label] = ""
        if self._label:
            self._raw.append(tag)

    def handle_endtag(self, tag):
        if tag == "td" and self._label:
            self.html_of.setdefault(self.rows[-1].get("编码", ""), []).extend(self._raw)
            self._label, self._raw = None, []

    def handle_data(self, data):
        if self._label:
            self.rows[-1][self._label] += data


def test_status_html_reads_on_a_phone_with_deadline_contacts_and_open_problems(outputs):
    text = (outputs["status"].parent / "status.html").read_text("utf-8")
    page = _Page()
    page.feed(text)
    units = {r["编码"]: r for r in page.rows if "编码" in r}
    missing = [r for r in page.rows if "联系人" in r]

    assert page.meta["viewport"].startswith("width=device-width")
    assert "报送截止：2026-01-31" in text and re.search(r"(还有|已超过报送截止) \d+ 天", text)
    assert [r["单位"] for r in missing] == [row.name for row in ROWS[42:]]
    assert missing[0]["联系人"] == "联系人43" and missing[0]["联系电话"] == "0373-5500043"
    assert 'href="tel:0373-5500043"' in text
    # errors open, the rule named in Chinese with its code small beside it
    assert "details" not in page.html_of["QS012"] and "details" in page.html_of["QS014"]
    assert "数值单元格中不是数字" in units["QS012"]["问题"]
    assert "<code>not-a-number</code>" in text
    # the file's own name, not its path (the path is in the tooltip)
    assert units["QS012"]["文件"] == "QS012_青山县农业农村局_2025年政府信息公开年报填报表.xlsx"
    assert not any(r["文件"].startswith("inputs/") for r in units.values())


def test_status_html_has_no_horizontal_scroll_on_a_phone(outputs, browser, tmp_path):  # noqa: F811
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto((outputs["status"].parent / "status.html").as_uri())
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    error = page.get_by_text("应填写数字，实际为").first

    assert width <= 390
    assert error.is_visible()  # shown open, not behind a fold
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
