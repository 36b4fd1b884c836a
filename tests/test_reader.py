"""The reader finds data by labels: inserted rows and columns, renamed sheets, variants, re-typed layouts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.cell_range import CellRange

from nianbao.check import check_file
from nianbao.layout import workbook_layout
from nianbao.reader import paragraphs
from nianbao.schema import GB2021

INPUTS = Path(__file__).resolve().parent.parent / "inputs"


def _same(report, sub) -> list[str]:
    assert report.submission is not None, report.findings
    return [k for k in GB2021.cells if report.submission.values.get(k) != sub.values[k]]


def _insert(ws, *, row: int | None = None, col: int | None = None) -> None:
    """Insert a row or column the way Excel does: merged ranges move or widen with it."""
    merges = [CellRange(r.coord) for r in ws.merged_cells.ranges]
    for rng in merges:
        ws.unmerge_cells(rng.coord)
    if row:
        ws.insert_rows(row)
    if col:
        ws.insert_cols(col)
    for rng in merges:
        if row:
            if rng.min_row >= row:
                rng.shift(row_shift=1)
            elif rng.max_row >= row:
                rng.expand(down=1)
        if col:
            if rng.min_col >= col:
                rng.shift(col_shift=1)
            elif rng.max_col >= col:
                rng.expand(right=1)
        ws.merge_cells(rng.coord)


def test_reader_inserted_rows_and_columns(make_submission, make_workbook) -> None:
    sub = make_submission(31, scale=300)
    path = make_workbook(sub)
    wb = load_workbook(path)
    _insert(wb["表三 依申请公开"], row=9)
    _insert(wb["表三 依申请公开"], col=6)
    _insert(wb["表二 主动公开"], row=4)
    _insert(wb["表四 复议诉讼"], col=1)
    _insert(wb["基本信息"], row=4)
    wb["表三 依申请公开"]["F9"] = "（本单位备注）"
    wb.save(path)

    report = check_file(path)

    assert _same(report, sub) == []
    assert report.valid
    # the finding points at where the cell is now, not where the form put it
    assert report.submission.narrative == sub.narrative


def test_reader_inserted_column_reports_moved_cell(make_submission, make_workbook) -> None:
    sub = make_submission(32, scale=100)
    path = make_workbook(sub)
    wb = load_workbook(path)
    ws = wb["表三 依申请公开"]
    _insert(ws, col=5)
    ws["D6"] = "abc"  # 自然人 stays in D; 商业企业 moved from E to F
    ws["F6"] = -1
    wb.save(path)

    found = {(f.code, f.cell) for f in check_file(path).findings}

    assert ("not-a-number", "D6") in found
    assert ("negative-value", "F6") in found


def test_reader_renamed_and_reordered_sheets(make_submission, make_workbook) -> None:
    sub = make_submission(33)
    path = make_workbook(sub)
    wb = load_workbook(path)
    wb["表三 依申请公开"].title = "Sheet3"
    wb["表二 主动公开"].title = "主动公开情况"
    wb.move_sheet("Sheet3", offset=-3)
    wb.save(path)

    report = check_file(path)

    assert _same(report, sub) == []
    assert {f.sheet for f in report.findings} <= {"Sheet3", "主动公开情况", "基本信息", None}


def test_reader_label_variants_are_read_with_a_warning(make_submission, make_workbook) -> None:
    sub = make_submission(34, scale=100)
    path = make_workbook(sub)
    wb = load_workbook(path)
    layout = workbook_layout()
    replace = {"社会公益组织": "社会组织", "2.其他法律行政法规禁止公开": "2.其他法律法规禁止公开",
               "本年废止件数": "本年度废止件数", "（一）予以公开": "(一) 予以公开",
               "3.危及“三安全一稳定”": '3.危及"三安全一稳定"',
               "本年收费金额（单位：万元）": "本年收费金额（单位：万元，保留4位小数）"}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in replace:
                    cell.value = replace[cell.value]
    wb.save(path)

    report = check_file(path)

    assert _same(report, sub) == []
    assert report.valid
    assert "label-variant" in {f.code for f in report.warnings}
    assert layout  # layout untouched by reading


def test_reader_retyped_layout_with_official_labels(make_submission, tmp_path: Path) -> None:
    sub = make_submission(35, scale=200)
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    t3 = GB2021.table("t3")
    ws.append(["单位全称", sub.agency])
    ws.append(["报告年度", f"{sub.year}年"])
    ws.append([])
    ws.append(["项目", *[c.label for c in t3.columns]])
    for row in t3.data_rows:  # one label column, no groups, ASCII parentheses, typed totals
        ws.append([row.label.replace("（", "(").replace("）", ")"),
                   *[sub.values[t3.key(row.id, c.id)] for c in t3.columns]])
    ws.append([])
    for table_id in ("t2_1", "t2_5", "t2_6", "t2_8"):
        table = GB2021.table(table_id)
        ws.append(["信息内容", *[c.label for c in table.columns]])
        for row in table.data_rows:
            ws.append([row.label, *[float(sub.values[table.key(row.id, c.id)])
                                    for c in table.columns]])
    t4 = wb.create_sheet("复议诉讼")
    t4.append(["行政复议", None, None, None, None, "未经复议直接起诉", None, None, None, None,
               "复议后起诉"])
    t4.append(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3)
    t4.append([sub.values[f"t4.{c.id}"] for c in GB2021.table("t4").columns])
    text = wb.create_sheet("文字")
    for section in ("一、总体情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"):
        text.append([section, "\n".join(sub.narrative["s" + {"一": "1", "五": "5", "六": "6"}[
            section[0]]])])
    path = tmp_path / "自制表格.xlsx"
    wb.save(path)

    report = check_file(path)

    assert _same(report, sub) == []
    assert report.valid, report.errors
    assert (report.submission.agency, report.submission.year) == (sub.agency, sub.year)
    assert report.submission.narrative == sub.narrative
    assert report.submission.claims["t3.r1.total"] == sub.values["t3.r1.total"]


def test_reader_typed_total_is_a_claim_not_a_value(make_submission, make_workbook) -> None:
    sub = make_submission(36, scale=100)
    wrong = sub.values["t3.r4.total"] + 1
    report = check_file(make_workbook(sub, edits={"t3.r4.total": wrong}))

    assert report.submission.values["t3.r4.total"] == sub.values["t3.r4.total"]
    assert report.submission.claims["t3.r4.total"] == wrong
    assert [f.code for f in report.errors] == ["t3-row-total"]


def test_reader_values_normalised(make_submission, make_workbook) -> None:
    sub = make_submission(37)
    edits = {"t2_5.licensing.decisions": "１２", "t2_6.penalty.decisions": "\u00a07 ",
             "t2_6.coercion.decisions": "3.0", "t2_8.fees.amount": "0.5000"}

    report = check_file(make_workbook(sub, edits=edits))
    values = report.submission.values

    assert (values["t2_5.licensing.decisions"], values["t2_6.penalty.decisions"],
            values["t2_6.coercion.decisions"]) == (12, 7, 3)
    assert values["t2_8.fees.amount"] == Decimal("0.5")
    assert [f.code for f in report.findings].count("number-as-text") == 4


def test_reader_narrative_is_a_list_of_paragraphs() -> None:
    assert paragraphs("第一段。\r\n\n  第二段。\n第三段。  ") == ("第一段。", "第二段。", "第三段。")
    assert paragraphs(None) == ()


def test_reader_seed_sample_has_no_errors() -> None:
    report = check_file(INPUTS / "获嘉县政务服务和大数据管理局2021年报数据.xlsx")

    assert report.valid, report.errors
    assert report.findings == ()
    assert report.submission.agency == "获嘉县政务服务和大数据管理局"
    assert report.submission.year == 2021
    assert all(v == 0 for v in report.submission.values.values())
    assert report.submission.narrative["s1"][-1].endswith("2021年，我局未收到信息公开的申请。")


def test_a_cell_inside_a_merged_range_names_the_range_small_or_whole_sheet() -> None:
    from nianbao.reader import SheetGrid, _merged_into

    grid = SheetGrid("表三", [["x"] * 3] * 3, [((0, 0), (1, 1)), ((5, 0), (1999, 99))], True)

    assert _merged_into(grid, 1, 1) == "A1:B2"
    assert _merged_into(grid, 0, 0) is None  # where it starts: the cell that shows it
    assert _merged_into(grid, 2, 2) is None
    assert _merged_into(grid, 1500, 50) == "A6:CV2000"  # too large to list cell by cell
    assert _merged_into(grid, 5, 0) is None
