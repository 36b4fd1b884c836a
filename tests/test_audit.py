"""`nianbao audit`: a folder of published reports reviewed into a workbook and a page."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from nianbao.cli import main

HERE = Path(__file__).resolve().parent / "fixtures" / "import"


def test_audit_writes_one_row_per_report_all_findings_and_a_page(tmp_path: Path, runner) -> None:
    src = tmp_path / "已发布"
    src.mkdir()
    for name in ("nianbao-report.docx", "seed-report-2021.txt", "cms-gbk.html"):
        (src / name).write_bytes((HERE / name).read_bytes())
    # a published page whose 表三 does not add up: 予以公开/自然人 printed one too many
    page = (HERE / "nianbao-report-web.html").read_text("utf-8")
    start = page.index("（一）予以公开")
    cell = page.index("<td>", start) + 4
    end = page.index("</td>", cell)
    page = page[:cell] + str(int(page[cell:end]) + 1) + page[end:]
    (src / "错误的报告.html").write_text(page, "utf-8")
    (src / "坏文件.docx").write_bytes(b"not a zip")
    out = tmp_path / "审查结果.xlsx"

    result = runner.invoke(main, ["audit", str(src), "-o", str(out)])

    assert result.exit_code == 1, result.output
    wb = load_workbook(out)
    rows = list(wb["审查结果"].iter_rows(values_only=True))
    assert rows[0][:6] == ("单位", "年度", "结论", "错误数", "警告数", "主要问题")
    by_file = {r[6]: r for r in rows[1:]}
    assert len(by_file) == 5
    wrong = next(r for f, r in by_file.items() if f.endswith("错误的报告.html"))
    assert wrong[0] == "长宁县教育局" and wrong[1] == 2024 and wrong[2] == "不合格（有错误）"
    assert wrong[3] >= 2 and "总计" in wrong[5]
    broken = next(r for f, r in by_file.items() if f.endswith("坏文件.docx"))
    assert broken[2] == "无法读取" and "Word" in broken[5]
    clean = next(r for f, r in by_file.items() if f.endswith("nianbao-report.docx"))
    assert clean[2] == "合格" and clean[3] == clean[4] == 0
    details = list(wb["问题明细"].iter_rows(values_only=True))
    assert sum(r[3] + r[4] for r in rows[1:]) == len(details) - 1
    assert any(r[4] == "t3-result-total" and "第2个表格" in r[5] for r in details[1:])
    html = out.with_suffix(".html").read_text("utf-8")
    assert "<script" not in html and "不合格（有错误）" in html and "长宁县教育局" in html
    assert "共审查 5 份报告" in result.output
