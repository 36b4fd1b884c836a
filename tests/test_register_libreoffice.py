"""Property: for random registers, the workbook's live COUNTIFS, recalculated by LibreOffice,
equal nianbao's counts, and the counted 表三 satisfies every 勾稽 rule."""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from nianbao.check import check_file
from nianbao.intake import IntakeData
from nianbao.layout import workbook_layout
from nianbao.model import Severity
from nianbao.register import application_cells, case_cells
from nianbao.register_form import write_register_form
from nianbao.register_synth import random_register
from nianbao.schema import DEFAULT_FORMAT

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
SEEDS = (11, 12, 13)


def recalculated(files: list[Path], out_dir: Path) -> list[Path]:
    """Open every file in LibreOffice (headless, one run) and save it again as .xlsx."""
    assert SOFFICE is not None
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--norestore", "--convert-to", "xlsx", "--outdir", str(out_dir),
                        *map(str, files)], check=True, capture_output=True, timeout=600)
    return [out_dir / f.name for f in files]


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_countifs_equal_nianbaos_counts_for_random_registers(tmp_path: Path) -> None:
    written = []
    for seed in SEEDS:
        rng = random.Random(seed)
        carried = tuple(f"2024-{i:04d}" for i in range(rng.randint(0, 6)))
        syn = random_register(rng, 2025, rng.randint(40, 250), carried_in=carried,
                              late=0.1, cases=rng.randint(0, 12))
        path = tmp_path / "in" / f"r{seed}.xlsx"
        write_register_form(path, IntakeData(agency=f"随机单位{seed}", code=f"R{seed}", year=2025),
                            syn.rows)
        written.append(path)

    saved = recalculated(written, tmp_path / "saved")

    layout = workbook_layout()
    keys = [*application_cells(), *case_cells()]
    for original, resaved in zip(written, saved, strict=True):
        ours = check_file(original)
        assert ours.submission is not None
        counts = ours.submission.values
        wb = load_workbook(resaved, data_only=True)
        live = {key: wb[layout.cell(key)[0]][layout.cell(key)[1]].value for key in keys}
        assert {k: live[k] for k in keys} == {k: counts[k] for k in keys}, original.name
        assert sum(counts[k] or 0 for k in keys) > 0
        for rule in DEFAULT_FORMAT.balances:  # the counted table balances by construction
            assert (sum(counts[k] or 0 for k in rule.left)
                    == sum(counts[k] or 0 for k in rule.right)), rule
        theirs = check_file(resaved)  # cached counts are claims that agree with the count
        assert [f.code for f in theirs.findings if f.code == "reg-count-mismatch"] == []
        assert theirs.submission is not None and {k: theirs.submission.values[k] for k in keys} \
            == {k: counts[k] for k in keys}
        assert not [f for f in ours.findings
                    if f.severity is Severity.ERROR and f.code.startswith("reg-")]
