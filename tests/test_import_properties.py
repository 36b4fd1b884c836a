"""Property: any valid submission rendered by nianbao and imported back gives the same values."""

from __future__ import annotations

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
