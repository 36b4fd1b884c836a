"""Benchmark of `nianbao build`: stages, the naive docxtpl ratio, end-to-end time and memory.

    .venv/bin/python bench/bench_build.py [--n 1000] [--jobs 2] [--naive 200] [--memory 100,2000]

1. Generates N synthetic valid workbooks (cached under $TMPDIR/nianbao-bench-N).
2. Runs `nianbao build --force --jobs J` on them in a child process, sampling the
   RSS of the whole process tree every 20 ms; reports wall time, per-stage CPU
   seconds (read+check, render, write, summed over workers) and peak RSS (largest
   single process, and the tree's sum).
3. In this process, on the same template and the same contexts: the naive docxtpl
   loop (`DocxTemplate(path)`, `render`, `save` per agency) against nianbao's
   compiled engine, one core each, and their ratio.
4. With --memory, the peak RSS of builds of each size, to show it stays flat.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402

from nianbao.build import default_template  # noqa: E402
from nianbao.context import build_context  # noqa: E402
from nianbao.engine import Template, make_environment  # noqa: E402
from nianbao.synth import random_submission  # noqa: E402


def workbooks(n: int) -> Path:
    folder = Path(tempfile.gettempdir()) / f"nianbao-bench-{n}"
    if len(list(folder.glob("*.xlsx"))) != n:
        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        generate(n, folder)
        print(f"generated {n} workbooks in {time.perf_counter() - t0:.1f} s", flush=True)
    return folder


def _tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    todo, seen = [root], []
    while todo:
        pid = todo.pop()
        seen.append(pid)
        todo += children.get(pid, [])
    return seen


def tree_pss(root: int) -> int:
    """The proportional set size (bytes) of ``root`` and its descendants: each shared page
    (the interpreter, the libraries a fork server's workers share) counted once, not once
    per process as a sum of RSS counts it."""
    total = 0
    for pid in _tree_pids(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError):
            continue
    return total


def _tree_rss(root: int) -> tuple[int, int]:
    """(sum, max) RSS in bytes of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE")
    todo, seen = [root], []
    while todo:
        pid = todo.pop()
        seen.append(pid)
        todo += children.get(pid, [])
    values = [rss.get(p, 0) for p in seen]
    return sum(values), max(values, default=0)



def run_sampled(cmd: list[str], interval: float
                ) -> tuple[subprocess.Popen[str], str, str, float, int, int]:
    """Run ``cmd``: the process, its output, wall time and peak RSS (tree sum, largest)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_sum = peak_max = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_sum, peak_max
        while not done.is_set():
            total, largest = _tree_rss(proc.pid)
            peak_sum, peak_max = max(peak_sum, total), max(peak_max, largest)
            time.sleep(interval)

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    return proc, stdout, stderr, wall, peak_sum, peak_max


def run_build(folder: Path, jobs: int, *, html: bool = False) -> dict[str, object]:
    out = Path(tempfile.mkdtemp(prefix="nianbao-bench-out-"))
    cmd = [sys.executable, "-m", "nianbao", "build", str(folder), "-o", str(out), "--force",
           "--jobs", str(jobs), "--json"] + (["--html"] if html else [])
    proc, stdout, stderr, wall, peak_sum, peak_max = run_sampled(cmd, 0.02)
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({proc.returncode}): {stderr[-2000:]}")
    result = json.loads(stdout)
    shutil.rmtree(out, ignore_errors=True)
    return {"wall": wall, "timings": result["timings"], "counts": result["counts"],
            "peak_sum_mb": peak_sum / 2**20, "peak_max_mb": peak_max / 2**20}


def naive_vs_compiled(n: int) -> tuple[float, float]:
    """Median ms per document: naive docxtpl loop, and nianbao's compiled engine."""
    from docxtpl import DocxTemplate

    rng = random.Random(3)
    contexts = [build_context(random_submission(rng, index=i)) for i in range(n)]
    path = default_template()
    naive, compiled = [], []
    engine = Template.load(path)
    for context in contexts:  # interleaved, so both see the same machine state
        t0 = time.perf_counter()
        tpl = DocxTemplate(str(path))
        tpl.render(context, jinja_env=make_environment())
        tpl.save(io.BytesIO())
        t1 = time.perf_counter()
        engine.render(context)
        t2 = time.perf_counter()
        naive.append(t1 - t0)
        compiled.append(t2 - t1)
    return statistics.median(naive) * 1000, statistics.median(compiled) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--naive", type=int, default=200, help="documents for the ratio")
    parser.add_argument("--memory", default="", help="sizes for the memory check, e.g. 100,2000")
    args = parser.parse_args()

    folder = workbooks(args.n)
    run_build(folder, args.jobs)  # warm the file cache
    result = run_build(folder, args.jobs)
    t = result["timings"]
    assert isinstance(t, dict)
    print(f"build of {args.n} agencies, --jobs {args.jobs} (read + check + render + write):")
    print(f"  wall {result['wall']:.2f} s end to end (process start included), "
          f"counts {result['counts']}")
    print("  stage CPU seconds summed over workers: "
          + ", ".join(f"{k} {v:.2f}" for k, v in t.items()))
    print(f"  peak RSS: largest process {result['peak_max_mb']:.0f} MB, "
          f"whole process tree {result['peak_sum_mb']:.0f} MB")
    if args.naive:
        naive, compiled = naive_vs_compiled(args.naive)
        print(f"render one document, same template and contexts, {args.naive} documents, 1 core:")
        print(f"  naive docxtpl {naive:.1f} ms, nianbao compiled {compiled:.2f} ms, "
              f"ratio x{naive / compiled:.1f}")
    for size in [int(s) for s in args.memory.split(",") if s]:
        r = run_build(workbooks(size), args.jobs)
        print(f"memory, {size} agencies: largest process {r['peak_max_mb']:.0f} MB, "
              f"tree {r['peak_sum_mb']:.0f} MB, wall {r['wall']:.1f} s")


if __name__ == "__main__":
    main()
