"""Every kind of document nianbao writes converts with LibreOffice, and the PDF holds the numbers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from cyclekit import YEAR, county_rows, submission, write_form, write_roster_xlsx

from nianbao.cli import main

pytestmark = pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdftotext"),
                                reason="LibreOffice (soffice) or pdftotext not installed")


def _pdf_text(files: list[Path], out: Path) -> dict[str, str]:
    out.mkdir()
    subprocess.run(["soffice", "--headless", "--norestore",
                    f"-env:UserInstallation={(out / 'profile').as_uri()}", "--convert-to", "pdf",
                    "--outdir", str(out), *map(str, files)], capture_output=True, check=True,
                   timeout=300)
    texts = {}
    for file in files:
        pdf = out / (file.stem + ".pdf")
        assert pdf.is_file() and pdf.stat().st_size > 0, file.name
        texts[file.name] = subprocess.run(["pdftotext", "-layout", str(pdf), "-"],
                                          capture_output=True, text=True, check=True).stdout
    return texts


def test_libreoffice_converts_reports_status_and_summary(tmp_path: Path) -> None:
    rows = county_rows()[:4]
    roster = write_roster_xlsx(tmp_path / "名单.xlsx", rows)
    ws = tmp_path / "ws"
    assert CliRunner().invoke(main, ["init", str(ws), "--year", str(YEAR), "--roster",
                                     str(roster)]).exit_code == 0
    subs = [submission(row, i) for i, row in enumerate(rows[:3])]
    for row, sub in zip(rows, subs, strict=False):
        write_form(ws / "inputs" / f"{row.short}.xlsx", sub)

    result = CliRunner().invoke(main, ["run", "-w", str(ws), "--quiet"])

    assert result.exit_code == 1, result.output  # one unit has not reported
    out = ws / "outputs"
    reports = sorted(out.glob("*.docx"))
    summary_docs = sorted((out / "汇总").glob("*"))
    assert len(reports) == 3 and len(summary_docs) == 2
    files = [*reports, out / "status.xlsx", *summary_docs]
    texts = _pdf_text(files, tmp_path / "pdf")
    for report, sub in zip(reports, sorted(subs, key=lambda s: s.agency), strict=True):
        words = texts[report.name].split()
        assert str(sub.values["t3.r1.total"]) in words
        assert str(sub.values["t2_5.licensing.decisions"]) in words
    status = texts["status.xlsx"]
    assert rows[3].name in status and "未报送" in status
    total_new = sum(s.values["t3.r1.total"] for s in subs)
    for doc in summary_docs:
        assert str(total_new) in texts[doc.name].split(), doc.name
