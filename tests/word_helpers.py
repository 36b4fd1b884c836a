"""Helpers for the Word/HTML tests: complete submissions and text read back with python-docx."""

from __future__ import annotations

import io
import random
from decimal import Decimal

import docx
from docx.oxml.ns import qn

from nianbao.model import Submission, Value
from nianbao.schema import GB2021, ValueType

NARRATIVE = {
    "s1": ("总体情况第一段。", "（一）主动公开情况。"),
    "s5": ("（一）存在的问题。",),
    "s6": ("本年度无其他需要报告的事项。",),
}


def full_values(seed: int) -> dict[str, Value | None]:
    """A value for every key of GB2021.cells: random inputs, totals per GB2021.formulas.

    Inputs are large and varied so a value in the wrong cell shows; 表三 keeps its
    balance (一 + 二 = 三（七）+ 四) by deriving 一 from the others.
    """
    rng = random.Random(seed)
    values: dict[str, Value | None] = {}
    for key in GB2021.input_keys:
        if GB2021.cells[key].type is ValueType.AMOUNT:
            values[key] = Decimal(rng.randint(0, 9_999_999)) / Decimal(10000)
        else:
            values[key] = rng.randint(0, 9999)
    formulas = GB2021.formulas
    for column in ("natural", "commercial", "research", "social", "legal", "other"):
        results = sum(int(values[k] or 0) for k in formulas[f"t3.r3_7.{column}"].parts)
        carried = rng.randint(0, results)
        values[f"t3.r2.{column}"] = carried
        values[f"t3.r1.{column}"] = results + int(values[f"t3.r4.{column}"] or 0) - carried
    for _ in range(3):  # totals of totals
        for key in GB2021.computed_keys:
            values[key] = sum(int(values[p] or 0) for p in formulas[key].parts)
    assert set(values) == set(GB2021.cells)
    return values


def full_submission(seed: int = 1, **changes: object) -> Submission:
    fields: dict[str, object] = {
        "agency": "青山县民政局", "code": "410724-001", "year": 2024,
        "values": full_values(seed), "narrative": NARRATIVE,
    }
    fields.update(changes)
    return Submission(**fields)  # type: ignore[arg-type]


def open_docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def table_rows(table: docx.table.Table) -> list[list[tuple[int, str]]]:
    """Each row as (grid column, text) per ``w:tc``, vertical-merge continuations left out."""
    rows = []
    for tr in table._tbl.tr_lst:
        col = 0
        row = []
        for tc in tr.tc_lst:
            span = tc.grid_span
            v_merge = tc.tcPr.find(qn("w:vMerge")) if tc.tcPr is not None else None
            continued = v_merge is not None and v_merge.get(qn("w:val")) in (None, "continue")
            if not continued:
                row.append((col, "".join(t.text or "" for t in tc.iter(qn("w:t")))))
            col += span
        rows.append(row)
    return rows


def docx_text(data: bytes) -> str:
    """Paragraph texts (empty ones skipped), then each table's cells row by row."""
    document = open_docx(data)
    lines = ["# 段落"]
    lines += [p.text for p in document.paragraphs if p.text.strip()]
    for number, table in enumerate(document.tables, start=1):
        lines.append(f"# 表格 {number}")
        for row in table_rows(table):
            lines.append("\t".join(text for _, text in row))
    return "\n".join(lines) + "\n"
