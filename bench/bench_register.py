"""Time to count and check a register of 10,000 applications (issue 13).

    .venv/bin/python bench/bench_register.py [ROWS]

Writes one intake workbook whose 依申请公开登记台账 holds ROWS applications (a few
late replies, so the deadline checks have work) and times, 3 rounds each:

* ``check_file`` on it: read the workbook, count 表三/表四 from the register, run
  every register check (deadlines on China's calendar) and the table rules;
* counting and checking alone, on the rows already read;
* ``register import`` of the same register as an office's own CSV into a blank form.

When LibreOffice is installed, the workbook is also saved by it once (the live
COUNTIFS computed) and checked, as a file an agency returns would be.
"""

from __future__ import annotations

import csv
import io
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from python_calamine import CalamineWorkbook

from nianbao.check import check_file
from nianbao.intake import IntakeData, write_intake
from nianbao.register import application_cells, application_register, count, read_register
from nianbao.register_checks import application_findings
from nianbao.register_form import write_register_form
from nianbao.register_import import import_register
from nianbao.register_synth import random_register


def timed(label: str, fn: Callable[[], object], rounds: int = 3) -> float:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    median = statistics.median(samples)
    print(f"  {label:48s} median {median:7.2f} s  (min {min(samples):.2f}, max {max(samples):.2f})")
    return median


def office_csv(rows: list[dict[str, object]], path: Path) -> None:
    """The same register as an office keeps it: its own headers, GBK, no 来源/结转 columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["序号", "申请编号", "申请人", "申请人类别", "申请日期", "申请内容", "答复时间",
                     "处理结果"])
    for i, r in enumerate(rows, 1):
        writer.writerow([i, r["no"], r["applicant"], r["applicant_type"], r["received"],
                         r["summary"], r.get("replied", ""),
                         str(r.get("result", "办理中")).split("：")[-1]])
    path.write_bytes(buffer.getvalue().encode("gb18030"))


def main(n: int = 10_000) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-register-"))
    syn = random_register(random.Random(10), 2025, n, late=0.02, cases=50)
    form = tmp / "台账.xlsx"
    t0 = time.perf_counter()
    write_register_form(form, IntakeData(agency="基准单位", code="B1", year=2025), syn.rows)
    print(f"{n} applications, {len(syn.rows.cases)} cases; workbook written in "
          f"{time.perf_counter() - t0:.1f} s ({form.stat().st_size // 1024} KB)")
    report = check_file(form)
    late = sum(1 for f in report.findings if f.code == "reg-reply-late")
    assert report.submission and report.submission.values["t3.r1.total"] == n
    print(f"  findings: {len(report.findings)} (reg-reply-late {late}), "
          f"errors {len(report.errors)}")

    timed("check_file (read + count + every check)", lambda: check_file(form))
    reg = application_register()
    wb = CalamineWorkbook.from_path(str(form))
    rows = wb.get_sheet_by_name(reg.sheet).to_python(skip_empty_area=False)
    register = read_register(reg, reg.sheet, rows)
    assert register is not None
    cells = application_cells()
    timed("parse rows + count 表三 + register checks", lambda: (
        count(read_register(reg, reg.sheet, rows) or register, cells),
        list(application_findings(register, 2025))))
    timed("register checks alone (deadlines on the calendar)",
          lambda: list(application_findings(register, 2025)))
    timed("count 表三 alone (rows already parsed)", lambda: count(register, cells))

    source = tmp / "office.csv"
    office_csv(list(syn.rows.applications), source)
    blank = tmp / "blank.xlsx"
    write_intake(blank, IntakeData(agency="基准单位", code="B1", year=2025))
    out = tmp / "imported.xlsx"
    imported = import_register(source, blank, out)
    assert imported.ok, imported.findings[:3]
    timed("register import (GBK CSV -> form, then check)", lambda: import_register(
        source, blank, out), rounds=1)

    soffice = shutil.which("soffice")
    if soffice:
        t0 = time.perf_counter()
        subprocess.run([soffice, "--headless", "--norestore",
                        f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
                        "--convert-to", "xlsx", "--outdir", str(tmp / "lo"), str(form)],
                       capture_output=True, check=True, timeout=1800)
        print(f"  LibreOffice open + recalculate + save: {time.perf_counter() - t0:.1f} s")
        saved = tmp / "lo" / form.name
        again = check_file(saved)
        assert not [f for f in again.findings if f.code == "reg-count-mismatch"]
        timed("check_file on the LibreOffice-saved workbook", lambda: check_file(saved))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
