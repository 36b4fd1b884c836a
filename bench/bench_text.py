"""What the marked-up copy and the text checks cost (issue 10).

    .venv/bin/python bench/bench_text.py [N]

1. ``check --annotate``: N varied workbooks, each with one broken 表三 column and a
   narrative number that contradicts the tables (so every one gets a copy); the
   time of ``check_file`` alone and of ``annotate`` on its report, per workbook.
2. The text checks per report: ``textchecks.check_text`` on N synthetic
   submissions (narrative of realistic length), and the batch checks
   (``with_batch_text``: another unit named, 雷同 within the batch) on all N.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nianbao.annotate import annotate
from nianbao.check import check_file
from nianbao.intake import intake_from, write_intake
from nianbao.model import FileReport
from nianbao.rules import Where
from nianbao.settings import Settings
from nianbao.synth import random_submission, type_into
from nianbao.textchecks import check_text, with_batch_text


def _ms(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    return (f"median {statistics.median(ms):7.2f}  p10 {ms[len(ms) // 10]:7.2f}"
            f"  p90 {ms[len(ms) * 9 // 10]:7.2f}")


def bench_annotate(n: int, tmp: Path) -> None:
    rng = random.Random(7)
    files = []
    for i in range(n):
        sub = random_submission(rng, index=i)
        data = intake_from(sub)
        s1 = list(data.narrative.get("s1", ()))
        s1.append(f"全年共收到政府信息公开申请{int(sub.value('t3.r1.total')) + 9}件。")
        data = dataclasses.replace(data, narrative={**data.narrative, "s1": s1})
        path = tmp / f"wb{i:03d}.xlsx"
        write_intake(path, data)
        type_into(path, {"t3.r4.natural": 999})
        files.append(path)
    check_file(files[0])  # warm imports
    checks, marks = [], []
    out = tmp / "out"
    out.mkdir()
    for path in files:
        t0 = time.perf_counter()
        report = check_file(path)
        t1 = time.perf_counter()
        written = annotate(report, out / f"{path.stem}_批注.xlsx")
        t2 = time.perf_counter()
        assert written is not None and report.findings
        checks.append(t1 - t0)
        marks.append(t2 - t1)
    print(f"check --annotate, {n} workbooks with findings (ms per workbook):")
    print(f"  check_file           {_ms(checks)}")
    print(f"  annotate (added)     {_ms(marks)}")


def bench_text(n: int, tmp: Path) -> None:
    rng = random.Random(11)
    subs = [random_submission(rng, index=i) for i in range(n)]
    chars = statistics.median(sum(len(p) for ps in s.narrative.values() for p in ps) for s in subs)
    settings = Settings()
    where = Where()
    for sub in subs[:5]:
        list(check_text(sub, where, settings=settings))  # warm the regular expressions
    samples = []
    for _ in range(3):
        for sub in subs:
            t0 = time.perf_counter()
            list(check_text(sub, where, settings=settings))
            samples.append(time.perf_counter() - t0)
    reports = [FileReport(file=tmp / f"u{i}.xlsx", submission=s, findings=(), form_code=s.code)
               for i, s in enumerate(subs)]
    t0 = time.perf_counter()
    with_batch_text(reports, settings, roster_names=[(s.agency,) for s in subs])
    batch = time.perf_counter() - t0
    print(f"text checks, {n} reports (narrative median {chars:.0f} characters):")
    print(f"  per report (ms)      {_ms(samples)}")
    print(f"  batch checks on all {n}: {batch * 1000:.0f} ms ({batch * 1000 / n:.2f} ms per report)")


def main(n: int = 40) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-text-"))
    try:
        bench_annotate(n, tmp)
        bench_text(max(n * 5, 200), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
