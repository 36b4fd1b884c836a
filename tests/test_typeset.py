"""Title line breaking and number fitting (nianbao.typeset), without LibreOffice."""

from __future__ import annotations

import pytest
from lxml import etree

from nianbao.typeset import (
    TITLE_LINE_EMS,
    TITLE_TAIL,
    agency_words,
    ems,
    fit_table_numbers,
    safe_length,
    title_lines,
)

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"


def test_widths_in_ems():
    assert ems("政府") == 2 and ems("2024") == 2 and ems("12.5") == 1.75 and ems("（）") == 2


@pytest.mark.parametrize(("agency", "lines"), [
    ("河南省", ["河南省2024年政府信息公开工作年度报告"]),
    ("青山县民政局", ["青山县民政局2024年", TITLE_TAIL]),
    ("郑州市人民政府办公厅", ["郑州市人民政府办公厅2024年", TITLE_TAIL]),
    ("新疆维吾尔自治区伊犁哈萨克自治州察布查尔锡伯自治县人民政府办公室",
     ["新疆维吾尔自治区伊犁哈萨克自治州", "察布查尔锡伯自治县人民政府办公室2024年", TITLE_TAIL]),
    ("中华人民共和国国家发展和改革委员会办公厅",
     ["中华人民共和国", "国家发展和改革委员会办公厅2024年", TITLE_TAIL]),
    ("广西壮族自治区百色市田林县住房和城乡建设局",
     ["广西壮族自治区百色市田林县", "住房和城乡建设局2024年", TITLE_TAIL]),
])
def test_title_breaks_after_the_year_and_between_words(agency, lines):
    assert title_lines(agency, "2024") == lines


@pytest.mark.parametrize("agency", [
    "内蒙古自治区锡林郭勒盟正镶白旗人民政府", "河南省郑州市金水区人民政府经三路街道办事处",
    "郑州市市场监督管理局", "A&B<局>" + "很长的单位名称" * 12, "某市委办公室",
])
def test_title_lines_fit_and_keep_the_title(agency):
    lines = title_lines(agency, "2021")
    assert "".join(lines) == f"{agency}2021年{TITLE_TAIL}"
    assert all(ems(line) <= TITLE_LINE_EMS for line in lines)
    assert lines[-1] == TITLE_TAIL and lines[-2].endswith("2021年")
    assert not any(line.startswith(("2021", "年")) for line in lines)


def test_agency_words_keep_place_names_and_organs_whole():
    assert agency_words("郑州市市场监督管理局") == ["郑州市", "市场监督管理局"]
    assert agency_words("郑州市人民政府办公厅") == ["郑州市", "人民政府", "办公厅"]
    assert not any(w.startswith(("级", "场", "委")) for w in
                   agency_words("某县县级机关事务管理局某市市委办公室某区市场监管局"))
    assert title_lines("", "2024") == [f"2024年{TITLE_TAIL}"]
    assert title_lines("某局", "") == [f"某局{TITLE_TAIL}"]


def _table(*cells: tuple[int, str]) -> etree._Element:
    rpr = '<w:rPr><w:rFonts w:ascii="X"/><w:lang w:val="zh-CN"/></w:rPr>'
    tcs = "".join(
        f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr><w:p><w:pPr>'
        f'<w:pStyle w:val="Small"/></w:pPr><w:r>{rpr}<w:t>{text}</w:t></w:r></w:p></w:tc>'
        for w, text in cells)
    return etree.fromstring(
        f'<w:body xmlns:w="{W_NS}"><w:tbl><w:tblPr><w:tblCellMar><w:left w:w="57" w:type="dxa"/>'
        f'<w:right w:w="57" w:type="dxa"/></w:tblCellMar></w:tblPr><w:tr>{tcs}</w:tr></w:tbl>'
        "</w:body>")


SIZES = {"Small": 18, "": 32}


def test_fit_shrinks_the_whole_table_only_when_a_number_would_wrap():
    fits = _table((700, "12345"), (700, "123456"), (700, "标签"))
    assert not fit_table_numbers(fits, SIZES)
    assert not list(fits.iter(f"{W}sz"))

    wide = _table((700, "12345"), (700, "1234567890"), (700, "标签"))
    assert fit_table_numbers(wide, SIZES)
    sizes = [int(s.get(f"{W}val")) for s in wide.iter(f"{W}sz")]
    assert len(sizes) == 2 and len(set(sizes)) == 1 and sizes[0] < 18
    assert 10 * ems("1234567890") * sizes[0] <= 700 - 114  # now fits its cell
    for run in wide.iter(f"{W}r"):  # sz/szCs in schema order: after rFonts, before lang
        names = [etree.QName(c).localname for c in run.find(f"{W}rPr")]
        number = run.findtext(f"{W}t").isdigit()
        assert names == (["rFonts", "sz", "szCs", "lang"] if number else ["rFonts", "lang"])


def test_safe_length_counts_value_cells_only():
    template = _table((597, "{{ t4.rv_keep }}"), (300, "标签"), (700, "{{ t3.r1.total }}"))
    assert safe_length(template, SIZES) == 5  # 483 twips of room at 9 pt
    assert safe_length(etree.fromstring(f'<w:body xmlns:w="{W_NS}"/>'), SIZES) > 100
