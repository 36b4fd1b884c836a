"""Benchmark of the coordinator's season at scale: `nianbao init`, then `nianbao run` and `build`.

    .venv/bin/python bench/bench_cycle.py [--init 2000] [--run 50000] [--jobs 2] [--build]

1. ``--init N``: a roster of N units; `nianbao init` in a child process: wall time and
   peak RSS of the process tree (target: 2,000 forms in ≤ 20 s).
2. ``--run N``: a workspace whose roster has N units and whose inputs/ holds one
   filled workbook per unit (cached under $TMPDIR/nianbao-cycle3-N); `nianbao run -j J
   --quiet` in a child process: wall time, peak RSS of the whole process tree and of its
   largest process, sampled every 50 ms (target for 50,000 units on 2 cores: ≤ 5 min,
   ≤ 300 MB).  With ``--build``, `nianbao build` of the same inputs folder too.
   ``--sizes 2000,10000`` runs several sizes to show that memory stays flat.
   The first run is the season's first (no outputs, no archive); a second run follows,
   as a nightly run finds the inbox: nothing changed since (its reports, the check
   results in outputs/.nianbao-check-cache.sqlite3 and the archive are reused).

Workbooks are made fast: a few filled workbooks are written by openpyxl with
placeholder names and saved by LibreOffice (cached totals, as a returned workbook
has them), and each unit's file is one of them with its name and code
swapped into the XML (the same trick `nianbao init` uses for blank forms), and a
paragraph of its own in sections 一, 五 and 六, so that units are not 雷同 with each other.
One unit in ten has an error (a negative count), as a real season has.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import run_sampled, tree_pss  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from nianbao.intake import intake_from, write_intake  # noqa: E402
from nianbao.synth import UNITS, narrative_for, random_submission  # noqa: E402

CHARS = "青白临东安长永清平和新兴宁远河山阳城南北"
TOWNS = ("城关", "河口", "石桥", "柳林", "新集", "马庄", "白沙", "东岗", "西湖", "南塘", "北店",
         "高桥", "张湾", "李集", "王营", "黄土", "青石", "清河", "双塔", "五里", "龙门", "凤凰")
NAME, CODE, TEXT = "NBBENCHNAMEQ", "NBBENCHCODEQ", "NBBENCHTEXTQ"
WORDS = ("依申请公开", "政务新媒体", "办理", "答复", "制度建设", "政策解读", "公开目录", "主动公开",
         "信息发布", "工作人员", "培训", "考核", "监督", "平台", "栏目", "更新", "年度", "本单位", "群众",
         "企业", "审批", "许可", "处罚", "强制", "收费", "复议", "诉讼", "纠错", "建议", "提案")


def units(n: int) -> list[tuple[str, str, str]]:
    """(code, full name, level) of ``n`` distinct units: counties x departments and towns."""
    places = [f"{a}{b}{kind}" for kind in "县市区" for a in CHARS for b in CHARS if a != b]
    out = []
    for place in places:
        out += [(f"{place}{u}", "县级部门") for u in UNITS]
        out += [(f"{place}{t}镇人民政府", "乡镇") for t in TOWNS]
        if len(out) >= n:
            break
    return [(f"B{i:06d}", name, level) for i, (name, level) in enumerate(out[:n], 1)]


def write_roster(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("名单")
    ws.append(["单位编码", "单位全称", "层级"])
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def _bases(count: int) -> list[list[tuple[zipfile.ZipInfo, bytes]]]:
    rng = random.Random(7)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            sub = random_submission(rng, index=i, year=2025)
            # written for the placeholder name, which becomes each unit's own
            base_text = narrative_for(NAME, 2025, dict(sub.values), rng)
            narrative = {k: (f"{TEXT}{k}。", *v) if k in ("s1", "s5", "s6") else v
                         for k, v in base_text.items()}
            values = dict(sub.values)
            if i % 10 == 9:  # one unit in ten returns a negative count: an error to mark up
                values[next(k for k in sorted(values) if k.startswith("t3.r1."))] = -1
            sub = sub.__class__(**{**{f: getattr(sub, f) for f in sub.__slots__},
                                   "agency": NAME, "code": CODE, "narrative": narrative,
                                   "values": values})
            write_intake(Path(tmp) / f"{i}.xlsx", intake_from(sub))
        written = sorted(Path(tmp).glob("*.xlsx"), key=lambda p: int(p.stem))
        for path in _saved_by_office(written, Path(tmp) / "saved"):
            with zipfile.ZipFile(path) as zf:
                out.append([(info, zf.read(info)) for info in zf.infolist()])
    return out


def _saved_by_office(paths: list[Path], out: Path) -> list[Path]:
    """The workbooks as an agency returns them: opened and saved by an office program
    (LibreOffice here), so that they carry the cached values of the form's 34 totals and
    an office program's XML; openpyxl's own files have neither.  Without soffice, as written."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("soffice not found: the workbooks are openpyxl's, without cached totals",
              flush=True)
        return paths
    out.mkdir()
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out),
                        *map(str, paths)], check=True, capture_output=True, timeout=600)
    return [out / p.name for p in paths]


def own_text(rng: random.Random) -> str:
    """A paragraph of this unit's own (so that units are not 雷同 with each other)."""
    return "".join(rng.choice(WORDS) for _ in range(60))


def stamped(base: list[tuple[zipfile.ZipInfo, bytes]], code: str, name: str,
            rng: random.Random) -> bytes:
    buf = io.BytesIO()
    swaps = ((NAME.encode(), escape(name).encode()), (CODE.encode(), code.encode()))
    swaps += tuple((f"{TEXT}{s}".encode(), own_text(rng).encode()) for s in ("s1", "s5", "s6"))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info, content in base:
            for token, value in swaps:
                content = content.replace(token, value)
            out.writestr(info, content)
    return buf.getvalue()


def workspace(n: int) -> Path:
    """A workspace of ``n`` units with one filled workbook each (cached)."""
    root = Path(tempfile.gettempdir()) / f"nianbao-cycle3-{n}"
    done = root / ".complete"
    if done.exists():
        return root / "ws"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    t0 = time.perf_counter()
    rows = units(n)
    small = write_roster(root / "small.xlsx", rows[:2])
    subprocess.run([sys.executable, "-m", "nianbao", "init", str(root / "ws"), "--year", "2025",
                    "--roster", str(small)], check=True, capture_output=True)
    ws = root / "ws"
    write_roster(ws / "单位名单.xlsx", rows)  # the same file name init copied the roster to
    for form in (ws / "forms").iterdir():
        form.unlink()
    bases = _bases(20)
    rng = random.Random(11)
    for i, (code, name, _level) in enumerate(rows):
        folder = ws / "inputs" / f"{i // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{code}_{name}_2025年报.xlsx").write_bytes(
            stamped(bases[i % len(bases)], code, name, rng))
    done.write_text("ok")
    print(f"made a workspace of {n} units in {time.perf_counter() - t0:.0f} s", flush=True)
    return ws


def measure(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd``; wall time, peak RSS (tree sum, largest process) sampled every 50 ms, and
    the peak PSS of the tree (shared pages counted once) sampled every second."""
    import threading

    peak_pss = 0
    stop = threading.Event()

    def sample_pss() -> None:  # the command's process is the newest child of this one
        nonlocal peak_pss
        while not stop.is_set():
            kids = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == os.getpid()]
            peak_pss = max([peak_pss] + [tree_pss(k) for k in kids])
            stop.wait(1.0)

    sampler = threading.Thread(target=sample_pss, daemon=True)
    sampler.start()
    try:
        proc, stdout, stderr, wall, peak_sum, peak_max = run_sampled(cmd, 0.05)
    finally:
        stop.set()
        sampler.join()
    if proc.returncode not in (0, 1) or "Traceback" in stderr:
        raise SystemExit(f"{cmd[3]} failed ({proc.returncode}): {stderr[-3000:]}")
    return {"wall": wall, "tree_mb": peak_sum / 2**20, "largest_mb": peak_max / 2**20,
            "pss_mb": peak_pss / 2**20, "exit": proc.returncode}


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def bench_init(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        roster = write_roster(Path(tmp) / "名单.xlsx", units(n))
        r = measure([sys.executable, "-m", "nianbao", "init", str(Path(tmp) / "ws"), "--year",
                     "2025", "--roster", str(roster)])
        forms = len(list((Path(tmp) / "ws" / "forms").glob("*.xlsx")))
    print(f"init of {n} units: {forms} forms in {r['wall']:.1f} s, "
          f"peak RSS tree {r['tree_mb']:.0f} MB")


def bench_run(n: int, jobs: int, build: bool) -> None:
    ws = workspace(n)
    shutil.rmtree(ws / "outputs", ignore_errors=True)
    for archive in ws.glob("nianbao.sqlite3*"):  # the season's first run: nothing archived
        archive.unlink()
    for label in ("run", "re-run (nothing changed)"):
        r = measure([sys.executable, "-m", "nianbao", "run", "-w", str(ws), "-j", str(jobs),
                     "--quiet"])
        reports = len(list((ws / "outputs").glob("*.docx")))
        print(f"{label} of {n} units, -j {jobs}: {r['wall']:.0f} s, exit {r['exit']}, "
              f"{reports} .docx, peak RSS tree {r['tree_mb']:.0f} MB "
              f"(largest process {r['largest_mb']:.0f} MB), peak PSS tree {r['pss_mb']:.0f} MB",
              flush=True)
    if build:
        out = Path(tempfile.mkdtemp(prefix="nianbao-cycle-out-"))
        r = measure([sys.executable, "-m", "nianbao", "build", str(ws / "inputs"), "-o", str(out),
                     "-j", str(jobs), "--json"])
        reports = len(list(out.glob("*.docx")))
        shutil.rmtree(out, ignore_errors=True)
        print(f"build of {n} workbooks, -j {jobs}: {r['wall']:.0f} s, {reports} .docx, "
              f"peak RSS tree {r['tree_mb']:.0f} MB (largest process {r['largest_mb']:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--init", type=int, default=2000, help="units for init (0: skip)")
    parser.add_argument("--run", type=int, default=0, help="units for run (e.g. 50000)")
    parser.add_argument("--sizes", default="", help="several run sizes, e.g. 1000,5000")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--build", action="store_true", help="also `nianbao build` the inputs")
    args = parser.parse_args()
    if args.init:
        bench_init(args.init)
    for size in [int(s) for s in args.sizes.split(",") if s] + ([args.run] if args.run else []):
        bench_run(size, args.jobs, args.build)


if __name__ == "__main__":
    main()
