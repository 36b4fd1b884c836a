"""Import of real report documents kept in tests/fixtures/import (made by make_import_fixtures.py).

For every document, every number of 表二/表三/表四 equals the source, or the cell
that could not be read is a finding naming it.
"""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from nianbao.check import check_file
from nianbao.cli import main
from nianbao.importer import import_file
from nianbao.importer.html_source import decode
from nianbao.model import Severity
from nianbao.schema import GB2021

HERE = Path(__file__).resolve().parent / "fixtures" / "import"
DOCUMENTS = sorted(p for p in HERE.iterdir()
                   if p.suffix != ".json" and p.name != "official-template-30.docx")


def expected(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((HERE / f"{path.stem}.json").read_text("utf-8"))
    return data


def _same(got: object, want: object) -> bool:
    return got is not None and Decimal(str(got)) == Decimal(str(want))


def test_import_fixture_set_covers_every_kind_of_source() -> None:
    kinds = {p.suffix for p in DOCUMENTS}

    assert kinds == {".docx", ".html", ".pdf", ".txt"}
    assert {"official-30-filled.pdf", "official-30-filled.html", "nianbao-report.pdf",
            "cms-gbk.html", "report-2019.html", "seed-report-2021.txt"} <= {
        p.name for p in DOCUMENTS}


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_import_reads_every_number_or_names_the_cell(path: Path) -> None:
    want = expected(path)

    result = import_file(path)

    sub = result.submission
    assert sub is not None, result.report.findings
    assert (sub.agency, sub.year) == (want["agency"], want["year"])
    flagged = {f.key for f in result.report.findings if f.key}
    values = want["values"]
    assert isinstance(values, dict)
    wrong = [(k, v, sub.values.get(k)) for k, v in values.items()
             if v is not None and not _same(sub.values.get(k), v) and k not in flagged]
    assert wrong == []
    assert result.report.valid, [f.message for f in result.report.errors]


@pytest.mark.parametrize("name", ["nianbao-report.docx", "nianbao-report.pdf",
                                  "nianbao-report.html", "official-30-filled.pdf"])
def test_import_of_ruled_tables_is_certain(name: str) -> None:
    result = import_file(HERE / name)

    assert all(t.confidence == 1.0 for t in result.tables), result.tables
    assert not [f for f in result.report.findings if f.code.startswith("import-")]


def test_import_seed_text_repairs_lost_rows_from_printed_totals_and_says_so() -> None:
    result = import_file(HERE / "seed-report-2021.txt")

    repaired = [f for f in result.report.findings if f.code == "import-repaired"]
    assert {f.key for f in repaired} == {f"t3.{r}.{c}" for r in ("r3_1", "r3_2") for c in (
        "natural", "commercial", "research", "social", "legal", "other")}
    first = next(f for f in repaired if f.key == "t3.r3_1.natural")
    assert first.sheet == "三、收到和处理政府信息公开申请情况" and first.cell == "第47行"
    assert "（一）予以公开 / 自然人" in first.message and "推算为 0" in first.message
    t3 = next(t for t in result.tables if t.table == "t3")
    assert t3.guessed and t3.repaired == 18 and t3.unreadable == 0 and t3.confidence < 0.9
    assert result.submission is not None
    assert result.submission.narrative["s6"] == ("本报告年度无其它需报告的事项。",)
    assert "未收到信息公开的申请" in "".join(result.submission.narrative["s1"])


def test_import_2019_format_reads_what_maps_and_says_what_does_not() -> None:
    result = import_file(HERE / "report-2019.html")

    assert result.format_id == "gb2019"
    codes = {f.code for f in result.report.findings}
    assert {"import-format-2019", "import-not-converted"} <= codes
    sub = result.submission
    assert sub is not None and sub.format_id == "gb2021"
    assert sub.values["t2_1.normative.issued"] is None and sub.values["t2_8.fees.amount"] is None
    note = next(f for f in result.report.findings if f.code == "import-not-converted")
    assert "本年新制作数量" in note.message and "政府集中采购" in note.message


def test_import_gbk_page_with_label_variants() -> None:
    raw = (HERE / "cms-gbk.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")

    result = import_file(HERE / "cms-gbk.html")

    assert "临河县住房和城乡建设局" in decode(raw)
    assert "label-variant" in {f.code for f in result.report.findings}
    assert result.submission is not None and len(result.submission.narrative["s1"]) >= 3


def _page(rows: str) -> bytes:
    head = "<html><head><meta charset='utf-8'></head><body><h1>青山县审计局2024年政府信息公开工作年度报告</h1>"
    return (head + rows + "</body></html>").encode("utf-8")


def _garble(html: str, label: str, column: int, text: str, *, blank_total: bool = False) -> str:
    """The page with one value cell of the row labelled ``label`` replaced by ``text``."""
    start = html.index(label)
    row_end = html.index("</tr>", start)
    cells = html[start:row_end].split("<td>")
    cells[column] = f"{text}</td>"
    if blank_total:
        cells[-1] = "</td>"
    return html[:start] + "<td>".join(cells) + html[row_end:]


def test_import_unreadable_cell_without_totals_is_an_error_naming_table_row_column(
        tmp_path: Path) -> None:
    # 予以公开 and 部分公开 / 自然人 both unreadable and both rows' 总计 left empty: no
    # printed total can give either of them back for sure
    html = (HERE / "nianbao-report-web.html").read_text("utf-8")
    html = _garble(html, "（一）予以公开", 1, "八十八", blank_total=True)
    html = _garble(html, "（二）部分公开", 1, "十二", blank_total=True)
    page = tmp_path / "bad.html"
    page.write_text(html, "utf-8")

    result = import_file(page)

    hits = [f for f in result.report.findings if f.key == "t3.r3_1.natural"]
    assert hits and hits[0].severity is Severity.ERROR
    assert hits[0].sheet == "第2个表格" and hits[0].cell == "第6行第4列"
    assert "（一）予以公开 / 自然人" in hits[0].message and "八十八" in (hits[0].actual or "")
    assert result.submission is not None and result.submission.values["t3.r3_1.natural"] is None
    assert not result.report.valid


def test_import_unreadable_cell_is_repaired_from_the_printed_total(tmp_path: Path) -> None:
    good = (HERE / "nianbao-report-web.html").read_text("utf-8")
    want = expected(HERE / "nianbao-report-web.html")["values"]
    assert isinstance(want, dict)
    page = tmp_path / "repair.html"
    page.write_text(_garble(good, "一、本年新收政府信息公开申请数量", 2, "四十几"), "utf-8")

    result = import_file(page)

    assert result.submission is not None
    assert result.submission.values["t3.r1.commercial"] == want["t3.r1.commercial"]
    note = next(f for f in result.report.findings if f.key == "t3.r1.commercial")
    assert note.code == "import-repaired" and "四十几" in note.message
    assert result.report.valid


@pytest.mark.parametrize(("name", "data", "words"), [
    ("broken.docx", b"PK\x03\x04 not a zip", "不是有效的 Word"),
    ("empty.pdf", b"%PDF-1.4\n%%EOF\n", "PDF"),
    ("old.doc", b"\xd0\xcf\x11\xe0", "不支持的文件类型"),
])
def test_import_unreadable_file_is_one_chinese_finding(tmp_path: Path, name: str, data: bytes,
                                                       words: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)

    result = import_file(path)

    assert result.submission is None
    assert [f.code for f in result.report.findings] == ["file-unreadable"]
    assert words in result.report.findings[0].message


def test_import_docx_without_document_xml_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "x.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/other.xml", "<x/>")

    result = import_file(path)

    assert result.report.findings[0].code == "file-unreadable"


def test_import_cli_writes_one_filled_workbook_per_report(tmp_path: Path, runner) -> None:
    src = tmp_path / "reports"
    src.mkdir()
    for name in ("nianbao-report.pdf", "official-30-filled.docx", "seed-report-2021.txt"):
        (src / name).write_bytes((HERE / name).read_bytes())
    out = tmp_path / "out"

    result = runner.invoke(main, ["import", str(src), "-o", str(out)])

    assert result.exit_code == 0, result.output
    books = sorted(out.glob("*.xlsx"))
    assert len(books) == 3
    assert "可信度" in result.output and "共导入 3 个文件" in result.output
    for book in books:
        report = check_file(book)
        assert report.submission is not None and report.valid
        source = next(p for p in src.iterdir()
                      if expected(p)["agency"] == report.submission.agency)
        want = expected(source)["values"]
        assert isinstance(want, dict)
        assert all(_same(report.submission.values[k], v) for k, v in want.items()
                   if v is not None and k in GB2021.input_keys)
