"""build_context: display strings for every cell, headings from the schema, clean text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from word_helpers import full_submission

from nianbao.context import (
    build_context,
    clean_paragraphs,
    clean_text,
    context_value,
    format_value,
    sample_submission,
)
from nianbao.schema import GB2021


def test_build_context_has_every_cell_as_its_display_string():
    sub = full_submission(3)

    context = build_context(sub)

    for key, _cell in GB2021.cells.items():
        assert context_value(context, key) == format_value(sub.values[key]), key
    assert context_value(context, "t4.rv_total") == str(sub.values["t4.rv_total"])


def test_build_context_tables_are_nested_by_schema_key():
    context = build_context(full_submission(1))

    assert set(context["t3"]) == {r.id for r in GB2021.table("t3").data_rows}  # type: ignore[arg-type]
    assert set(context["t2_8"]["fees"]) == {"amount"}  # type: ignore[index]
    assert "rv_total" in context["t4"]  # type: ignore[operator]


def test_build_context_keys_do_not_shadow_dict_methods():
    # Jinja resolves t3.r1.items to dict.items before the key: no schema id may be one
    shadowed = set(dir(dict))
    parts = {part for key in GB2021.cells for part in key.split(".")}

    assert not parts & shadowed


def test_build_context_title_period_and_headings():
    context = build_context(full_submission(1, agency="获嘉县民政局", year=2021))

    assert context["title"] == "获嘉县民政局2021年政府信息公开工作年度报告"
    assert context["period"] == "本报告中所列数据统计期限为2021年1月1日至12月31日。"
    assert [context[f"h{i}"] for i in range(1, 7)] == [s.heading for s in GB2021.sections]
    assert context["h1"] == "一、总体情况"
    assert context["sections"]["s3"] == "三、收到和处理政府信息公开申请情况"  # type: ignore[index]
    assert context["draft"] is False
    assert context["members"] == []


def test_build_context_draft_and_members():
    context = build_context(full_submission(1, members=("甲局", " 乙局\n", "")), draft=True)

    assert context["draft"] is True
    assert context["members"] == ["甲局", "乙局"]


@pytest.mark.parametrize(("value", "shown"), [
    (None, ""),
    (0, "0"),
    (12, "12"),
    (1234567, "1234567"),
    (Decimal("0"), "0"),
    (Decimal("0.0000"), "0"),
    (Decimal("1.2500"), "1.25"),
    (Decimal("12.3456"), "12.3456"),
    (Decimal("1E+2"), "100"),
    (Decimal("0.00005"), "0.0001"),
    (Decimal("-0"), "0"),
    (Decimal("NaN"), ""),
], ids=repr)
def test_format_value_examples(value, shown):
    assert format_value(value) == shown


def test_format_value_rounds_to_fee_decimals():
    assert format_value(Decimal("1.23456"), fee_decimals=2) == "1.23"
    assert format_value(Decimal("1.2"), fee_decimals=2) == "1.2"


def test_build_context_never_shows_none():
    values = dict(full_submission(1).values)
    values["t3.r1.natural"] = None
    values["t2_8.fees.amount"] = None

    context = build_context(full_submission(1, values=values))

    assert context_value(context, "t3.r1.natural") == ""
    assert context_value(context, "t2_8.fees.amount") == ""
    assert "None" not in repr(context)


def test_clean_text_removes_xml_invalid_characters_and_line_breaks():
    assert clean_text("A\x0bB\x00C\x1fD\tE\n F\uffff") == "ABCD\tE F"
    assert clean_text(None) == ""


def test_clean_paragraphs_splits_lines_and_drops_indent_and_empties():
    paragraphs = ["　　第一段。\n第二段。\x0b第三段。", "", None, "  \r\n ", "第四段\x07。"]

    assert clean_paragraphs(paragraphs) == ["第一段。", "第二段。", "第三段。", "第四段。"]


def test_build_context_cleans_every_string():
    sub = full_submission(1, agency="A&B\x0b<局>", narrative={"s1": ("甲\x0c乙",), "s6": ("丙\x00",)})

    context = build_context(sub)

    assert context["agency"] == "A&B<局>"  # escaping is the renderer's job
    assert context["s1"] == ["甲", "乙"]
    assert context["s5"] == []
    assert context["s6"] == ["丙"]


def test_build_context_is_pure_and_all_strings():
    sub = full_submission(2)

    first, second = build_context(sub), build_context(sub)

    assert first == second

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        else:
            assert isinstance(node, str | bool), node

    walk(first)


def test_sample_submission_covers_every_cell():
    context = build_context(sample_submission())

    assert all(context_value(context, key) == "0" for key in GB2021.cells)
