"""The national format as data: every official label exactly once, keys stable."""

from __future__ import annotations

from collections import Counter

from nianbao.layout import Role, section_grid
from nianbao.schema import GB2021, CellKind, normalize_label

# The official labels of 国办公开办函〔2021〕30号, typed here once as the test oracle.
OFFICIAL_ROWS_T3 = [
    "一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "三、本年度办理结果",
    "（一）予以公开", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "（三）不予公开",
    "1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”", "4.保护第三方合法权益",
    "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项",
    "（四）无法提供", "1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作",
    "3.补正后申请内容仍不明确", "（五）不予处理", "1.信访举报投诉类申请", "2.重复申请",
    "3.要求提供公开出版物", "4.无正当理由大量反复申请", "5.要求行政机关确认或重新出具已获取信息",
    "（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "3.其他",
    "（七）总计", "四、结转下年度继续办理",
]
OFFICIAL_HEADERS_T3 = ["申请人情况", "自然人", "法人或其他组织", "商业企业", "科研机构",
                       "社会公益组织", "法律服务机构", "其他", "总计"]
OFFICIAL_T2 = ["第二十条第（一）项", "第二十条第（五）项", "第二十条第（六）项", "第二十条第（八）项",
               "本年制发件数", "本年废止件数", "现行有效件数", "规章", "行政规范性文件",
               "本年处理决定数量", "行政许可", "行政处罚", "行政强制", "本年收费金额（单位：万元）",
               "行政事业性收费"]
OFFICIAL_T4 = ["行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉"]
CORNER = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def _texts(section_id: str) -> Counter[str]:
    return Counter(b.text for b in section_grid(GB2021.section(section_id)).blocks
                   if b.role is not Role.VALUE)


def test_schema_table3_every_official_label_exactly_once() -> None:
    texts = _texts("s3")

    assert [label for label in OFFICIAL_ROWS_T3 if texts[label] != 1] == []
    assert [label for label in OFFICIAL_HEADERS_T3 if texts[label] != 1] == []
    assert texts[CORNER] == 1


def test_schema_table2_and_table4_labels() -> None:
    t2, t4 = _texts("s2"), _texts("s4")

    assert t2["本年处理决定数量"] == 2  # 第（五）项 and 第（六）项 each print it
    assert [x for x in OFFICIAL_T2 if x != "本年处理决定数量" and t2[x] != 1] == []
    assert [x for x in OFFICIAL_T4 if t4[x] != 1] == []
    assert t4["结果维持"] == 3 and t4["总计"] == 3


def test_schema_cell_counts_match_the_format() -> None:
    t3 = [c for c in GB2021.cells.values() if c.table.id == "t3"]
    t4 = [c for c in GB2021.cells.values() if c.table.id == "t4"]

    assert len(t3) == 25 * 7
    assert sum(c.kind is CellKind.INPUT for c in t3) == 144
    assert sum(c.kind is CellKind.COMPUTED for c in t3) == 31
    assert sum(c.kind is CellKind.INPUT for c in t4) == 12
    assert len(GB2021.input_keys) == 144 + 12 + 10


def test_schema_every_computed_cell_has_one_formula_of_inputs_or_totals() -> None:
    formulas = GB2021.formulas

    assert set(formulas) == set(GB2021.computed_keys)
    assert len(formulas["t3.r3_7.natural"].parts) == 21
    assert formulas["t4.rv_total"].parts == ("t4.rv_keep", "t4.rv_correct", "t4.rv_other",
                                            "t4.rv_pending")


def test_schema_variants_normalise_to_the_same_label() -> None:
    assert normalize_label("(一) 予以公开") == normalize_label("（一）予以公开")
    assert normalize_label('3.危及"三安全一稳定"') == normalize_label("3.危及“三安全一稳定”")
    assert normalize_label("本年收费金额（单位:万元）") == normalize_label("本年收费金额（单位：万元）")
    t3 = GB2021.table("t3")
    assert "社会组织" in t3.column("social").aliases
    assert "2.其他法律法规禁止公开" in t3.row("r3_3_2").aliases


def test_schema_table3_grid_spans_follow_the_official_layout() -> None:
    grid = section_grid(GB2021.section("s3"))
    spans = {b.text: (b.rowspan, b.colspan) for b in grid.blocks if b.role is not Role.VALUE}

    assert grid.width == 10 and grid.label_columns == 3
    assert spans[CORNER] == (3, 3)
    assert spans["申请人情况"] == (1, 7)
    assert spans["自然人"] == (2, 1) and spans["总计"] == (2, 1)
    assert spans["法人或其他组织"] == (1, 5)
    assert spans["三、本年度办理结果"] == (22, 1)
    assert spans["（三）不予公开"] == (8, 1)
    assert spans["（七）总计"] == (1, 2)
    assert spans["四、结转下年度继续办理"] == (1, 3)
