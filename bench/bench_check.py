"""Median time to read and check one workbook (issue: schema, reader and checks).

    .venv/bin/python bench/bench_check.py [N]

Writes N varied valid workbooks (openpyxl, no cached values) plus, when
LibreOffice is installed, the same workbooks saved by LibreOffice (shared
strings and cached totals), then times ``check_file`` on each, 5 rounds.
"""

from __future__ import annotations

import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nianbao.check import check_file
from nianbao.intake import intake_from, write_intake
from nianbao.synth import random_submission


def time_files(files: list[Path], rounds: int = 5) -> list[float]:
    samples = []
    for _ in range(rounds):
        for path in files:
            t0 = time.perf_counter()
            report = check_file(path)
            samples.append(time.perf_counter() - t0)
            assert report.valid, report.errors
    return samples


def main(n: int = 40) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-"))
    rng = random.Random(1)
    files = []
    for i in range(n):
        path = tmp / f"wb{i:03d}.xlsx"
        write_intake(path, intake_from(random_submission(rng, index=i)))
        files.append(path)
    check_file(files[0])  # warm imports
    rows = [("openpyxl-written", time_files(files))]
    soffice = shutil.which("soffice")
    if soffice:
        out = tmp / "lo"
        subprocess.run([soffice, "--headless", "--norestore",
                        f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
                        "--convert-to", "xlsx", "--outdir", str(out), *map(str, files)],
                       capture_output=True, check=True)
        rows.append(("LibreOffice-saved", time_files(sorted(out.glob("*.xlsx")))))
    print(f"read + check one workbook, {n} workbooks x 5 rounds (ms):")
    for name, samples in rows:
        ms = sorted(s * 1000 for s in samples)
        print(f"  {name:18s} median {statistics.median(ms):6.2f}  p10 {ms[len(ms) // 10]:6.2f}"
              f"  p90 {ms[len(ms) * 9 // 10]:6.2f}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
