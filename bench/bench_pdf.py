"""Benchmark of the PDF step: docs/s of ``nianbao.pdf.convert`` over N rendered reports.

    .venv/bin/python bench/bench_pdf.py [--n 200] [--jobs 2] [--template T.docx] [--plain]

Renders N synthetic reports (nianbao.synth, mixed sizes) with the default template
into a fresh temporary folder, then converts them all with the same call
``build --pdf --jobs J`` makes, and prints wall time, docs/s, the CPU time of the
LibreOffice processes per document (on a shared machine the CPU figure is the
steadier one: docs/s on J idle cores is about J / CPU-seconds-per-doc) and the
PDF fonts of one document (pdffonts).  ``--plain`` converts with plain
``soffice --convert-to pdf`` calls instead of nianbao's macro (the route before).
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nianbao import pdf
from nianbao.build import default_template
from nianbao.context import build_context
from nianbao.engine import Template
from nianbao.synth import random_submission


def render(n: int, folder: Path, template: Path) -> list[Path]:
    compiled = Template.load(template)
    rng = random.Random(1)
    docs = []
    for i in range(n):
        sub = random_submission(rng, index=i)
        path = folder / f"r{i:04d}.docx"
        path.write_bytes(compiled.render(build_context(sub)))
        docs.append(path)
    return docs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--template", type=Path, default=None)
    parser.add_argument("--plain", action="store_true")
    args = parser.parse_args()
    if pdf.find_soffice() is None:
        print("soffice not found", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="nianbao-bench-pdf-"))
    try:
        docs = render(args.n, folder, args.template or default_template())
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        failed = pdf.convert(docs, args.jobs, macro=not args.plain)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
        done = args.n - len(failed)
        route = "plain --convert-to" if args.plain else "macro"
        print(f"{done}/{args.n} PDFs ({route}) with --jobs {args.jobs} in {wall:.1f} s: "
              f"{done / wall:.2f} docs/s ({1000 * wall / max(done, 1):.0f} ms/doc wall); "
              f"LibreOffice CPU {1000 * cpu / max(done, 1):.0f} ms/doc, "
              f"{args.jobs * max(done, 1) / cpu:.1f} docs/s on {args.jobs} idle cores")
        first = docs[0].with_suffix(".pdf")
        if first.is_file() and shutil.which("pdffonts"):
            print(subprocess.run(["pdffonts", str(first)], capture_output=True, text=True).stdout)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
