"""Import accuracy and time per report over the import test set (issue: every year on record).

    .venv/bin/python bench/bench_import.py [N]

The test set: every document of tests/fixtures/import (with its source values in
NAME.json) plus N random submissions (default 6) rendered by nianbao to .docx and
.html and converted by LibreOffice to .pdf and .html, as the property test does.
For each format group (docx, html, pdf, txt, 2019) it prints:

- cells: numbers of 表二/表三/表四 the source has (a 2019 report's cells that do
  not exist in its format are not counted);
- exact: read equal to the source;
- flagged: not read with certainty and named by a finding (table, row, column),
  with how many of those were in fact read right;
- wrong: read differently from the source *without* a finding (must be 0);
- time per report: median of 3 imports of each document, and the slowest.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from nianbao.build import render_report
from nianbao.importer import import_file
from nianbao.schema import GB2021
from nianbao.synth import random_submission

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "import"
ROUNDS = 3


@dataclass
class Tally:
    reports: int = 0
    cells: int = 0
    exact: int = 0
    flagged: int = 0
    flagged_right: int = 0
    wrong: int = 0
    findings: int = 0  # import findings naming a cell
    seconds: list[float] = field(default_factory=list)


def _same(got: object, want: object) -> bool:
    return got is not None and Decimal(str(got)) == Decimal(str(want))


def group_of(path: Path) -> str:
    if "2019" in path.stem:
        return "2019"
    return {".htm": "html"}.get(path.suffix, path.suffix.lstrip("."))


def measure(path: Path, want: dict[str, object], tally: Tally) -> None:
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        result = import_file(path)
        times.append(time.perf_counter() - t0)
    tally.seconds.append(statistics.median(times))
    tally.reports += 1
    sub = result.submission
    got = sub.values if sub is not None else {}
    flagged = {f.key for f in result.report.findings if f.key and f.code.startswith("import-")}
    tally.findings += len(flagged)
    for key, value in want.items():
        if value is None:
            continue  # not a number of the document's format
        tally.cells += 1
        right = _same(got.get(key), value)
        if key in flagged:
            tally.flagged += 1
            tally.flagged_right += right
        elif right:
            tally.exact += 1
        else:
            tally.wrong += 1
            print(f"  WRONG {path.name} {key}: {got.get(key)} != {value}")


def generated(n: int, folder: Path) -> list[tuple[Path, dict[str, object]]]:
    """N random submissions as nianbao .docx/.html and LibreOffice .pdf/.html."""
    rng = random.Random(12)
    out: list[tuple[Path, dict[str, object]]] = []
    docs = []
    for i in range(n):
        sub = random_submission(rng, index=i, year=2024, scale=rng.choice((3, 40, 500, 5000)))
        want: dict[str, object] = {k: sub.values[k] for k in GB2021.input_keys}
        doc = render_report(sub, folder / f"g{i}.docx")
        page = render_report(sub, folder / f"g{i}-web.html")
        out += [(doc, want), (page, want)]
        docs.append((doc, want))
    if shutil.which("soffice") and docs:
        profile = (folder / "profile").as_uri()
        for target in ("pdf", "html"):
            subprocess.run(["soffice", "--headless", "--norestore",
                            f"-env:UserInstallation={profile}", "--convert-to", target,
                            "--outdir", str(folder), *(str(d) for d, _ in docs)],
                           check=True, capture_output=True, timeout=600)
        for doc, want in docs:
            out += [(doc.with_suffix(".pdf"), want), (doc.with_suffix(".html"), want)]
    else:
        print("LibreOffice (soffice) not found: no generated .pdf / converted .html")
    return out


def main(n: int = 6) -> None:
    tallies: dict[str, Tally] = defaultdict(Tally)
    documents = sorted(p for p in FIXTURES.iterdir()
                       if p.suffix != ".json" and p.name != "official-template-30.docx")
    print(f"fixtures: {len(documents)} documents in tests/fixtures/import")
    for path in documents:
        data = json.loads((FIXTURES / f"{path.stem}.json").read_text("utf-8"))
        measure(path, data["values"], tallies[group_of(path)])
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-import-") as tmp:
        made = generated(n, Path(tmp))
        print(f"generated: {len(made)} documents from {n} random submissions")
        for path, want in made:
            measure(path, want, tallies[group_of(path)])
    print()
    print(f"{'format':<6} {'reports':>7} {'cells':>7} {'exact':>7} {'flagged':>8} "
          f"{'(right)':>8} {'wrong':>6} {'exact %':>8} {'median s':>9} {'max s':>7}")
    total = Tally()
    for name in ("docx", "html", "pdf", "txt", "2019"):
        t = tallies.get(name)
        if t is None:
            continue
        _row(name, t)
        total.reports += t.reports
        total.cells += t.cells
        total.exact += t.exact
        total.flagged += t.flagged
        total.flagged_right += t.flagged_right
        total.wrong += t.wrong
        total.seconds += t.seconds
    _row("all", total)


def _row(name: str, t: Tally) -> None:
    share = 100 * t.exact / t.cells if t.cells else 0.0
    print(f"{name:<6} {t.reports:>7} {t.cells:>7} {t.exact:>7} {t.flagged:>8} "
          f"{t.flagged_right:>8} {t.wrong:>6} {share:>7.2f}% "
          f"{statistics.median(t.seconds):>9.3f} {max(t.seconds):>7.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
