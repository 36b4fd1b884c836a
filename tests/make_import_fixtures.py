"""Generate tests/fixtures/import/: real report documents to import, with the source values.

Run from the repository root (LibreOffice needed for the .pdf and the converted .html)::

    .venv/bin/python tests/make_import_fixtures.py

Each document ``NAME.ext`` has its source values in ``NAME.json`` (shared by the
conversions of one document): what the import must give for every number of
表二/表三/表四, in the 2021 format's keys (``null`` where the document's format has
no such number).  The documents:

- ``seed-report-2021.txt``: the real published report (../shared/examples), all zeros;
- ``nianbao-report.docx``: rendered by nianbao's own template; ``.pdf`` and ``.html``
  converted from it by LibreOffice; ``nianbao-report-web.html``: nianbao's HTML output;
- ``official-30-filled.docx``: the empty official 30号 template (official-template-30.docx)
  typed into with python-docx the way an office does (full-width digits, stray
  spaces, “/” and blank cells for 0, a typed title over the template's); ``.pdf`` and
  ``.html`` converted by LibreOffice;
- ``cms-gbk.html``: a page as a 政府信息公开专栏 publishes it: GBK, a layout table
  around the article, rowspan/colspan, local label variants, &nbsp; in cells;
- ``report-2019.html``: a 2019-format (国办公开办函〔2019〕60号) report.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
from decimal import Decimal
from html import escape
from pathlib import Path

import docx

from nianbao.build import render_report
from nianbao.html import render_html
from nianbao.layout import Role, section_grid
from nianbao.model import Value
from nianbao.schema import GB2019, GB2019_TO_GB2021, GB2021, FormatSpec
from nianbao.synth import narrative_for, random_submission, random_values

HERE = Path(__file__).resolve().parent / "fixtures" / "import"


def _json(values: dict[str, Value | None]) -> dict[str, object]:
    keys = [k for k in GB2021.input_keys]
    return {k: (str(values[k]) if isinstance(values.get(k), Decimal) else values.get(k))
            for k in keys}


def save_expected(name: str, values: dict[str, Value | None], agency: str, year: int) -> None:
    data = {"agency": agency, "year": year, "values": _json(values)}
    (HERE / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n",
                                       "utf-8")


def seed() -> None:
    values: dict[str, Value | None] = {k: 0 for k in GB2021.input_keys}
    values["t2_8.fees.amount"] = Decimal(0)
    save_expected("seed-report-2021", values, "政务服务和大数据管理局", 2021)


def nianbao_report() -> Path:
    sub = random_submission(random.Random(101), index=5, year=2024, scale=300)
    render_report(sub, HERE / "nianbao-report.docx")
    (HERE / "nianbao-report-web.html").write_text(render_html(sub), "utf-8")
    for name in ("nianbao-report", "nianbao-report-web"):
        save_expected(name, dict(sub.values), sub.agency, 2024)
    return HERE / "nianbao-report.docx"


def _typed(value: Value, rng: random.Random) -> str:
    """A number as an office types it into Word."""
    text = str(value)
    if value == 0:
        return rng.choice(("0", "0", "/", "", "—", "０"))
    style = rng.random()
    if style < 0.2:
        return text.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    if style < 0.35:
        return f" {text} "
    if style < 0.45 and len(text) > 3:
        return f"{int(value):,}"
    return text


def _put(cell: docx.table._Cell, text: str) -> None:
    cell.paragraphs[0].add_run(text)  # after the template's full-width spaces, as typed


def official_filled() -> Path:
    rng = random.Random(303)
    values = random_values(rng, scale=80)
    agency, year = "白水县市场监督管理局", 2023
    narrative = narrative_for(agency, year, values, rng)
    doc = docx.Document(str(HERE / "official-template-30.docx"))
    body = [p for p in doc.paragraphs]
    for p in body:
        if p.text.strip() == "政府信息公开工作年度报告格式模板":
            for run in p.runs[1:]:
                run.text = ""
            p.runs[0].text = f"{agency}{year}年政府信息公开工作年度报告"
    placeholders = [p for p in body if p.text.strip().startswith("（文字描述")]
    for p, section in zip(placeholders, ("s1", "s5", "s6"), strict=True):
        for run in p.runs[1:]:
            run.text = ""
        p.runs[0].text = narrative[section][0]
        following = body[body.index(p) + 1]
        for extra in narrative[section][1:]:
            following.insert_paragraph_before(extra)
    t2, t3, t4 = doc.tables
    rows2 = {r.cells[0].text.strip(): r for r in t2.rows}
    t21 = GB2021.table("t2_1")
    for row_id, label in (("rules", "规章"), ("normative", "行政规范性文件")):
        for i, column in enumerate(t21.columns, 1):
            _put(rows2[label].cells[i], _typed(values[t21.key(row_id, column.id)] or 0, rng))
    for label, key in (("行政许可", "t2_5.licensing.decisions"),
                       ("行政处罚", "t2_6.penalty.decisions"),
                       ("行政强制", "t2_6.coercion.decisions"),
                       ("行政事业性收费", "t2_8.fees.amount")):
        _put(rows2[label].cells[1], _typed(values[key] or 0, rng))
    t3spec = GB2021.table("t3")
    for row, data_row in zip(t3.rows[3:], t3spec.data_rows, strict=True):
        for cell, column in zip(row.cells[-7:], t3spec.columns, strict=True):
            _put(cell, _typed(values[t3spec.key(data_row.id, column.id)] or 0, rng))
    t4spec = GB2021.table("t4")
    for cell, column in zip(t4.rows[3].cells, t4spec.columns, strict=True):
        _put(cell, _typed(values[t4spec.key(None, column.id)] or 0, rng))
    path = HERE / "official-30-filled.docx"
    doc.save(str(path))
    save_expected("official-30-filled", values, agency, year)
    return path


def _table_html(spec: FormatSpec, section_id: str, values: dict[str, Value | None],
                rng: random.Random, labels: dict[str, str]) -> str:
    grid = section_grid(spec.section(section_id), spec)
    out = ['<table width="100%" border="1" cellspacing="0" style="border-collapse:collapse">']
    for blocks in grid.rows():
        cells = []
        for block in blocks:
            span = (f' rowspan="{block.rowspan}"' if block.rowspan > 1 else "") + (
                f" colspan={block.colspan}" if block.colspan > 1 else "")
            if block.role is Role.VALUE and block.key:
                value = values.get(block.key)
                text = "" if value is None else str(value)
                if value == 0 and rng.random() < 0.2:
                    text = "&nbsp;"
                cells.append(f'<td{span} align="center"><span style="font-size:14px">'
                             f"{text}</span></td>")
            else:
                text = escape(labels.get(block.text, block.text))
                cells.append(f'<td{span}><p style="text-align:center"><b>{text}</b></p></td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _page(spec: FormatSpec, agency: str, year: int, values: dict[str, Value | None],
          narrative: dict[str, tuple[str, ...]], rng: random.Random,
          labels: dict[str, str], charset: str) -> str:
    parts = [f'<div class="title"><h2>{escape(agency)}{year}年政府信息公开工作年度报告</h2></div>',
             '<div class="info">发布时间：' + f"{year + 1}-01-20　来源：本站</div>",
             f"<p>本报告中所列数据统计期限为{year}年1月1日至12月31日。</p>"]
    for section in spec.sections:
        parts.append(f"<p><strong>{section.heading}</strong></p>")
        if section.narrative:
            parts += [f"<p>　　{escape(t)}</p>" for t in narrative[section.id]]
        else:
            parts.append(_table_html(spec, section.id, values, rng, labels))
    article = "\n".join(parts)
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>{escape(agency)}</title><script>var a = '<table>';</script></head><body>"
            '<table width="1000" align="center"><tr><td class="nav">首页 &gt; 政府信息公开 &gt; '
            f'年度报告</td></tr><tr><td id="article">{article}</td></tr></table>'
            "</body></html>")


def cms_gbk() -> None:
    rng = random.Random(404)
    values = random_values(rng, scale=40)
    agency, year = "临河县住房和城乡建设局", 2022
    narrative = narrative_for(agency, year, values, rng)
    labels = {"社会公益组织": "社会组织", "本年废止件数": "本年度废止件数",
              "2.其他法律行政法规禁止公开": "2.其他法律法规禁止公开"}
    page = _page(GB2021, agency, year, values, narrative, rng, labels, "gb2312")
    (HERE / "cms-gbk.html").write_bytes(page.encode("gbk"))
    save_expected("cms-gbk", values, agency, year)


def report_2019() -> None:
    rng = random.Random(505)
    base = random_values(rng, scale=60)
    values: dict[str, Value | None] = {}
    for key in GB2019.input_keys:
        sources = [k for k, v in GB2019_TO_GB2021.items() if v == (key,)]
        if key.startswith("t3.r3_6."):
            column = key.split(".")[2]
            values[key] = sum(base[f"t3.r3_6_{i}.{column}"] or 0 for i in (1, 2, 3))
        elif sources:
            values[key] = base[sources[0]]
        else:
            values[key] = rng.randint(0, 40) if "delta" not in key else rng.randint(-5, 5)
    GB2019.recompute(values)
    agency, year = "东平县人民政府办公室", 2020
    narrative = narrative_for(agency, year, base, rng)
    page = _page(GB2019, agency, year, values, narrative, rng, {}, "utf-8")
    (HERE / "report-2019.html").write_text(page, "utf-8")
    expected = dict(base)
    for key in GB2021.input_keys:
        if key not in GB2019_TO_GB2021:
            expected[key] = None
    for column in ("natural", "commercial", "research", "social", "legal", "other"):
        expected[f"t3.r3_6_3.{column}"] = values[f"t3.r3_6.{column}"]
        expected[f"t3.r3_6_1.{column}"] = expected[f"t3.r3_6_2.{column}"] = 0
    save_expected("report-2019", expected, agency, year)


def convert(docs: list[Path]) -> None:
    """One soffice call per target format for all documents."""
    with tempfile.TemporaryDirectory() as profile:
        for target in ("pdf", "html"):
            subprocess.run(["soffice", "--headless", "--norestore",
                            f"-env:UserInstallation={Path(profile).as_uri()}",
                            "--convert-to", target, "--outdir", str(HERE), *map(str, docs)],
                           check=True, capture_output=True, timeout=300)


def main() -> None:
    seed()
    docs = [nianbao_report(), official_filled()]
    cms_gbk()
    report_2019()
    if shutil.which("soffice"):
        convert(docs)


if __name__ == "__main__":
    main()
