"""Write N synthetic, valid, varied agency workbooks.

    .venv/bin/python bench/generate.py N FOLDER [--year 2025] [--seed 1]

Each agency gets realistic numbers that pass every rule (表三 balanced per
column, 21 dispositions, 表四 groups) and a narrative of realistic length
whose numbers agree with its tables.  Scales vary from a township (a handful of
applications) to a busy city office (hundreds).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from nianbao.intake import intake_from, write_intake
from nianbao.naming import safe_filename
from nianbao.synth import random_submission


def generate(n: int, folder: Path, *, year: int = 2025, seed: int = 1) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        sub = random_submission(rng, index=i, year=year)
        path = folder / safe_filename(f"{i:05d}_{sub.agency}", ".xlsx")
        write_intake(path, intake_from(sub))
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    made = generate(args.n, args.folder, year=args.year, seed=args.seed)
    print(f"wrote {len(made)} workbooks to {args.folder}")
