"""A form saved by a real spreadsheet program (LibreOffice) reads back exactly.

A form filled by openpyxl has formulas with no cached results; once a real client
saves it, every 总计 carries a cached value.  The reader must read the same inputs,
recompute the same totals, and treat the cached totals as claims that agree.

tests/fixtures/libreoffice-saved.xlsx is one such file, committed so the check runs
without LibreOffice; regenerate it with ``.venv/bin/python tests/test_libreoffice_forms.py``.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from nianbao.check import check_file
from nianbao.intake import intake_from, write_intake
from nianbao.layout import workbook_layout
from nianbao.model import Submission
from nianbao.reader import read_workbook
from nianbao.schema import DEFAULT_FORMAT
from nianbao.synth import random_submission

SAVED = Path(__file__).resolve().parent / "fixtures" / "libreoffice-saved.xlsx"
SAVED_SEED = 6  # an agency with a fee, so the 万元 cell round-trips too
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def convert(src: Path, out_dir: Path) -> Path:
    """Open ``src`` in LibreOffice and save it again as .xlsx into ``out_dir``."""
    assert SOFFICE is not None
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--norestore", "--convert-to", "xlsx", "--outdir", str(out_dir),
                        str(src)], check=True, capture_output=True, timeout=180)
    return out_dir / src.name


def filled_form(folder: Path, seed: int) -> tuple[Submission, Path]:
    sub = random_submission(random.Random(seed), index=seed)
    path = folder / f"{sub.agency}.xlsx"
    write_intake(path, intake_from(sub))
    return sub, path


def assert_reads_back(path: Path, sub: Submission) -> None:
    result = read_workbook(path)
    report = check_file(path)

    assert result.submission is not None
    assert report.errors == (), report.errors
    assert dict(result.submission.values) == dict(sub.values)
    assert result.submission.agency == sub.agency and result.submission.year == sub.year
    computed = set(DEFAULT_FORMAT.computed_keys)
    assert set(result.submission.claims) == computed  # every 总计 cached by the client
    assert all(result.submission.claims[k] == sub.values[k] for k in computed)


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("seed", [11, 3])
def test_libreoffice_forms_saved_form_reads_back(tmp_path: Path, seed: int) -> None:
    sub, form = filled_form(tmp_path / "filled", seed)

    saved = convert(form, tmp_path / "saved")

    assert_reads_back(saved, sub)


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_forms_stale_claim_detected_after_edit(tmp_path: Path) -> None:
    """Edit an input of a client-saved file without recalculating: the claim disagrees.

    The cached 总计 stays as LibreOffice computed it, as with manual recalculation.
    (Re-saving with openpyxl would drop every cached value, so the XML is patched.)
    """
    sub, form = filled_form(tmp_path / "filled", 11)
    saved = convert(form, tmp_path / "saved")
    sheet, cell = workbook_layout().cell("t4.rv_keep")
    wb = load_workbook(saved, read_only=True)
    part = f"xl/worksheets/sheet{wb.sheetnames.index(sheet) + 1}.xml"
    wb.close()
    typed = str(int(sub.value("t4.rv_keep")) + 3).encode()
    edited = tmp_path / "edited.xlsx"
    with zipfile.ZipFile(saved) as zin, zipfile.ZipFile(edited, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                data, n = re.subn(rb'(<c r="' + cell.encode() + rb'"[^>]*>)<v>[^<]*</v>',
                                  rb"\g<1><v>" + typed + b"</v>", data)
                assert n == 1
            zout.writestr(info, data)

    report = check_file(edited)

    assert [(f.code, f.key) for f in report.errors] == [("t4-total", "t4.rv_total")]


def test_libreoffice_forms_committed_file_reads_with_zero_errors() -> None:
    sub = random_submission(random.Random(SAVED_SEED), index=SAVED_SEED)

    assert_reads_back(SAVED, sub)
    assert check_file(SAVED).findings == ()


def main() -> int:
    if SOFFICE is None:
        print("LibreOffice (soffice) is needed", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        _, form = filled_form(Path(tmp) / "filled", SAVED_SEED)
        saved = convert(form, Path(tmp) / "saved")
        shutil.copyfile(saved, SAVED)
    print(f"wrote {SAVED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_forms_guide_prints_every_instruction_whole(tmp_path: Path) -> None:
    from nianbao.intake import IntakeData, guide_lines

    form = write_intake(tmp_path / "form.xlsx", IntakeData(agency="获嘉县民政局", year=2025))
    assert SOFFICE is not None
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--norestore", "--convert-to", "pdf", "--outdir", str(tmp_path),
                        str(form)], check=True, capture_output=True, timeout=180)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(tmp_path / "form.pdf"), "-"],
                          check=True, capture_output=True, text=True).stdout
    printed = re.sub(r"\s+", "", text)

    for line in guide_lines():
        assert re.sub(r"\s+", "", line) in printed, line
