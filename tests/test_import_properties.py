"""Property: any valid submission rendered by nianbao and imported back gives the same values."""

from __future__ import annotations

import dataclasses
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nianbao.build import render_report
from nianbao.importer import import_file
from nianbao.model import Submission
from nianbao.schema import GB2021
from nianbao.synth import random_submission

submissions = st.builds(
    lambda seed, index, scale: random_submission(random.Random(seed), index=index, year=2024,
                                                 scale=scale),
    st.integers(0, 10**6), st.integers(0, 400), st.sampled_from((0, 3, 40, 500, 5000)))


def _assert_same(sub: Submission, path: Path, *, narrative: bool) -> None:
    result = import_file(path)
    got = result.submission
    assert got is not None, result.report.findings
    assert (got.agency, got.year) == (sub.agency, sub.year)
    assert {k: got.values[k] for k in GB2021.input_keys} == {
        k: sub.values[k] for k in GB2021.input_keys}, path.name
    assert result.report.valid, [f.message for f in result.report.errors]
    assert all(t.confidence == 1.0 for t in result.tables)
    if narrative:
        assert {s: tuple(got.narrative[s]) for s in ("s1", "s5", "s6")} == {
            s: tuple(sub.narrative[s]) for s in ("s1", "s5", "s6")}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(submissions)
def test_import_round_trip_docx_and_html(sub: Submission) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".docx", ".html"):
            path = render_report(sub, Path(tmp) / f"report{suffix}")
            _assert_same(sub, path, narrative=True)


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) not installed")
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(submissions, min_size=3, max_size=3,
                unique_by=lambda s: s.agency))
def test_import_round_trip_pdf_and_libreoffice_html(subs: list[Submission]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        docs = [render_report(sub, Path(tmp) / f"r{i}.docx") for i, sub in enumerate(subs)]
        profile = (Path(tmp) / "profile").as_uri()
        for target in ("pdf", "html"):  # one soffice call per format for the whole batch
            subprocess.run(["soffice", "--headless", "--norestore",
                            f"-env:UserInstallation={profile}", "--convert-to", target,
                            "--outdir", tmp, *map(str, docs)],
                           check=True, capture_output=True, timeout=300)
        for doc, sub in zip(docs, subs, strict=True):
            _assert_same(sub, doc.with_suffix(".pdf"), narrative=False)
            _assert_same(sub, doc.with_suffix(".html"), narrative=False)


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) not installed")
@pytest.mark.parametrize("agency", ["青山县政务服务和大数据管理局第2分局",
                                    "临河县人民政府办公室（县政务服务和大数据管理局）第十一分中心"])
def test_import_pdf_title_wrapped_over_three_lines(tmp_path: Path, agency: str) -> None:
    """A long name wraps the centred title into three lines; the unit is all of them,
    not the "第2分局" fragment before the year (a Hypothesis find)."""
    sub = dataclasses.replace(random_submission(random.Random(7), index=2, year=2024, scale=3),
                              agency=agency)
    doc = render_report(sub, tmp_path / "r.docx")
    subprocess.run(["soffice", "--headless", "--norestore",
                    f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(doc)],
                   check=True, capture_output=True, timeout=300)
    _assert_same(sub, doc.with_suffix(".pdf"), narrative=False)


def test_pdf_title_lines_joined_only_when_centred() -> None:
    from nianbao.importer.pdf_source import _Line, _paragraphs

    def line(top: float, x0: float, x1: float, text: str, size: float = 22.0) -> _Line:
        return _Line(top, x0, x1, text, size)

    body = [line(300, 90, 505, "本报告中所列数据统计期限为2024年1月1日至12月31日。本报告",
                 16.0),
            line(330, 90, 300, "电子版可在本机关网站下载。", 16.0)]
    title = [line(100, 143, 452, "青山县政务服务和大数据管理局"),
             line(130, 187, 408, "第2分局2024年"),
             line(160, 165, 430, "政府信息公开工作年度报告")]
    got = [text for _, text in _paragraphs([line(60, 90, 130, "附件", 16.0), *title, *body],
                                           first_page=True)]
    assert got == ["附件", "青山县政务服务和大数据管理局第2分局2024年政府信息公开工作年度报告",
                   "本报告中所列数据统计期限为2024年1月1日至12月31日。本报告电子版可在本机关网站下载。"]
    # the same centred lines on a later page are separate paragraphs (table titles, signatures)
    assert len(_paragraphs([*title, *body], first_page=False)) == 4
