"""Benchmark of the PDF step: docs/s of ``nianbao.pdf.convert`` over N rendered reports.

    .venv/bin/python bench/bench_pdf.py [--n 200] [--jobs 2] [--template T.docx]

Renders N synthetic reports (nianbao.synth, mixed sizes) with the default template
into a fresh temporary folder, then converts them all with the same call
``build --pdf --jobs J`` makes, and prints wall time, docs/s and the PDF fonts of
one document (pdffonts), so a run also shows which faces were embedded.
"""

from __future__ import annotations

import argparse
import random
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
    args = parser.parse_args()
    if pdf.find_soffice() is None:
        print("soffice not found", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="nianbao-bench-pdf-"))
    try:
        docs = render(args.n, folder, args.template or default_template())
        t0 = time.perf_counter()
        failed = pdf.convert(docs, args.jobs)
        wall = time.perf_counter() - t0
        done = args.n - len(failed)
        print(f"{done}/{args.n} PDFs with --jobs {args.jobs} in {wall:.1f} s: "
              f"{done / wall:.2f} docs/s ({1000 * wall / max(done, 1):.0f} ms/doc)")
        first = docs[0].with_suffix(".pdf")
        if first.is_file() and shutil.which("pdffonts"):
            print(subprocess.run(["pdffonts", str(first)], capture_output=True, text=True).stdout)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
