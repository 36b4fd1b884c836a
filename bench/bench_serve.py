"""nianbao serve under load: 50 concurrent clients on loopback, 4 uploads each.

    .venv/bin/python bench/bench_serve.py [--db sqlite|postgresql|both] [--clients 50]
        [--uploads 4] [--workers 2] [--pg-url postgresql://…]

Each client is one unit using its own link: it uploads 4 different workbooks (every
other one with mistakes) and reads its findings page after each.  Measured: latency
of upload-to-findings (POST until the 303, plus the findings page), p50/p95, and
uploads per second; first, on the idle server, one more unit uploads its 4 workbooks
one after another (the agency's "findings within 2 seconds").  Checked afterwards: every upload has exactly one row and one file
with its SHA-256, in its own unit's folder (none lost, none mixed).
PostgreSQL: ``--pg-url`` or NIANBAO_TEST_PG_URL (the role must be allowed CREATEDB).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from nianbao.config import load_config
from nianbao.db import engine_for, make_engine, store
from nianbao.db.engine import normalize_url
from nianbao.intake import intake_from, write_intake
from nianbao.synth import random_submission, type_into
from nianbao.web.links import open_database, unit_links
from nianbao.web.secrets_store import set_password
from nianbao.workspace import init_workspace

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def workspace(root: Path, clients: int, uploads: int, db_url: str) -> dict[str, list[bytes]]:
    rng = random.Random(7)
    subs = [random_submission(rng, index=i) for i in range(clients)]
    roster = root.parent / f"{root.name}-roster.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["单位编码", "单位全称"])
        for i, sub in enumerate(subs):
            writer.writerow([f"B{i:03d}", sub.agency])
    init_workspace(root, year=2025, roster_file=roster)
    if db_url:
        config_file = root / "nianbao.toml"
        config_file.write_text(f'database_url = "{db_url}"\n' + config_file.read_text("utf-8"),
                               "utf-8")
    set_password(root, "bench-password-123")
    books: dict[str, list[bytes]] = {}
    tmp = root.parent / f"{root.name}-books"
    tmp.mkdir()
    for i, sub in enumerate(subs):
        code = f"B{i:03d}"
        for j in range(uploads):
            path = tmp / f"{code}-{j}.xlsx"
            write_intake(path, intake_from(sub))
            edits: dict[str, object] = {"t2_5.licensing.decisions": 1000 + j}
            if j % 2 == 0:
                edits["t4.rv_keep"] = -1
            type_into(path, edits)
            books.setdefault(code, []).append(path.read_bytes())
    return books


async def client_run(http: httpx.AsyncClient, link: str, books: list[bytes],
                     latencies: list[float], acked: dict[str, list[int]], code: str) -> None:
    csrf = CSRF.search((await http.get(link)).text)
    assert csrf
    for data in books:
        t0 = time.perf_counter()
        response = await http.post(f"{link}/upload", data={"csrf": csrf.group(1)},
                                   files={"file": ("填报表.xlsx", data)})
        assert response.status_code == 303, response.status_code
        page = await http.get(response.headers["location"].split("#")[0])
        latencies.append(time.perf_counter() - t0)
        assert "校验结果" in page.text
        acked.setdefault(code, []).append(int(response.headers["location"].split("s=")[1]
                                              .split("#")[0]))


async def alone(port: int, code: str, link: str, books: dict[str, list[bytes]],
                acked: dict[str, list[int]]) -> list[float]:
    """One unit uploading its workbooks one after another on an idle server."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=300) as http:
        await client_run(http, link, books[code], latencies, acked, code)
    return latencies


async def load(port: int, links: dict[str, str], books: dict[str, list[bytes]],
               acked: dict[str, list[int]]) -> tuple[list[float], float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=len(links) * 2)
    t0 = time.perf_counter()
    clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=300, limits=limits)
               for _ in links]
    try:
        await asyncio.gather(*(client_run(c, link, books[code], latencies, acked, code)
                               for c, (code, link) in zip(clients, links.items(), strict=True)))
    finally:
        for c in clients:
            await c.aclose()
    return latencies, time.perf_counter() - t0


def verify(root: Path, books: dict[str, list[bytes]], acked: dict[str, list[int]]) -> None:
    config = load_config(root)
    assert config is not None
    engine = engine_for(config)
    with engine.connect() as conn:
        for code, datas in books.items():
            rows = store.history(conn, code)
            assert len(rows) == len(datas), (code, len(rows))
            assert sorted(r.id for r in rows) == sorted(acked[code])
            assert {r.sha256 for r in rows} == {hashlib.sha256(d).hexdigest() for d in datas}
            for r in rows:
                path = root / r.stored_path
                assert path.parent.name == code, (code, r.stored_path)
                assert hashlib.sha256(path.read_bytes()).hexdigest() == r.sha256
    engine.dispose()
    files = list((root / "inputs" / "online").rglob("*.xlsx"))
    assert len(files) == sum(len(d) for d in books.values())


def run(kind: str, args: argparse.Namespace, pg_url: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"nianbao-bench-serve-{kind}-"))
    db_url, admin, name = "", None, ""
    if kind == "postgresql":
        admin = make_engine(normalize_url(pg_url), isolation_level="AUTOCOMMIT")
        name = f"nianbao_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        db_url = make_url(normalize_url(pg_url)).set(database=name).render_as_string(
            hide_password=False)
    root = tmp / "ws"
    books = workspace(root, args.clients + 1, args.uploads, db_url)  # +1: the solo unit
    config = load_config(root)
    assert config is not None
    engine = open_database(config)
    from nianbao.roster import read_roster

    links = {link.code: link.url for link in unit_links(config, engine, read_roster(config.roster))}
    engine.dispose()
    port = 8931 if kind == "sqlite" else 8932
    log = open(tmp / "serve.log", "ab")  # noqa: SIM115
    server = subprocess.Popen([sys.executable, "-m", "nianbao", "serve", "-w", str(root),
                               "--port", str(port), "--workers", str(args.workers)],
                              stdout=log, stderr=log, env={**os.environ,
                                                           "NIANBAO_SANDBOX_WORKERS": "2"})
    try:
        for _ in range(240):
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        solo = sorted(links)[-1]
        acked: dict[str, list[int]] = {}
        single = asyncio.run(alone(port, solo, links[solo], books, acked))
        crowd = {code: link for code, link in links.items() if code != solo}
        latencies, wall = asyncio.run(load(port, crowd, books, acked))
        verify(root, books, acked)
    finally:
        server.terminate()
        server.wait(60)
        log.close()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    n = len(latencies)
    q = statistics.quantiles(latencies, n=20)
    print(f"{kind:10s} {args.clients} clients × {args.uploads} uploads = {n}, "
          f"{args.workers} web workers × 2 check workers: none lost or mixed; "
          f"upload-to-findings p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {q[18] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
          f"{n / wall:.1f} uploads/s ({wall:.1f} s); one upload on an idle server: "
          f"median {statistics.median(single) * 1000:.0f} ms, max {max(single) * 1000:.0f} ms")
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--uploads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg-url", default=os.environ.get("NIANBAO_TEST_PG_URL", ""))
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        if kind == "postgresql" and not args.pg_url:
            print("postgresql: skipped (no --pg-url / NIANBAO_TEST_PG_URL)")
            continue
        run(kind, args, args.pg_url)


if __name__ == "__main__":
    main()
