"""Nothing lost: a server killed with SIGKILL mid-upload leaves files and rows consistent.

After every kill the server is restarted; then each file under inputs/online has exactly one
row with its SHA-256, each row has its file, every acknowledged upload is there, and no
half-written file is left.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from servekit import ROWS, csrf_of, free_port, good_workbook, make_workspace, start_server

from nianbao.atomic import TMP_PREFIX
from nianbao.config import load_config
from nianbao.db import engine_for, store

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")


def _consistent(root: Path, acknowledged: list[str]) -> int:
    config = load_config(root)
    assert config is not None
    engine = engine_for(config)
    with engine.connect() as conn:
        rows = [r for unit in ROWS for r in store.history(conn, unit.code)]
    engine.dispose()
    online = root / "inputs" / "online"
    files = {p.relative_to(root).as_posix(): p for p in online.rglob("*") if p.is_file()}
    assert not [f for f in files if Path(f).name.startswith(TMP_PREFIX)]
    assert {r.stored_path for r in rows} == set(files)
    assert len(rows) == len(files)
    for r in rows:
        assert hashlib.sha256(files[r.stored_path].read_bytes()).hexdigest() == r.sha256
        assert r.stored_path.split("/")[2] == r.unit_code  # never another unit's folder
    assert set(acknowledged) <= {r.stored_path for r in rows}
    return len(rows)


def _post(port: int, link: str, data: bytes, acknowledged: list[str], root: Path) -> None:
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            csrf = csrf_of(client.get(link).text)
            response = client.post(f"{link}/upload", data={"csrf": csrf},
                                   files={"file": ("a.xlsx", data)})
            if response.status_code == 303:
                sid = int(response.headers["location"].split("s=")[1].split("#")[0])
                config = load_config(root)
                assert config is not None
                engine = engine_for(config)
                with engine.connect() as conn:
                    row = store.submission(conn, sid)
                engine.dispose()
                assert row is not None
                acknowledged.append(row.stored_path)
    except httpx.HTTPError:
        pass  # the server died under us: this upload was never acknowledged


def _kill(server) -> None:  # type: ignore[no-untyped-def]
    os.kill(server.pid, signal.SIGKILL)
    server.wait(10)


def test_crash_sigkill_during_uploads_leaves_both_or_neither(db_url: str, tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", db_url)
    data = [good_workbook(tmp_path / f"g{i}.xlsx", i % len(ROWS), seed=i).read_bytes()
            for i in range(len(ROWS))]
    acknowledged: list[str] = []
    port = free_port()
    for delay in (0.05, 0.2, 0.5, 1.0, 2.0, None):  # None: the last round is not killed
        server = start_server(ws.root, port)
        threads = [threading.Thread(target=_post, args=(port, ws.links[ROWS[i].code], data[i],
                                                        acknowledged, ws.root))
                   for i in range(len(ROWS))]
        for t in threads:
            t.start()
        if delay is not None:
            time.sleep(delay)
            _kill(server)
        for t in threads:
            t.join(120)
        if delay is not None:
            server = start_server(ws.root, port)  # restart: recovery runs at start-up
        try:
            rows = _consistent(ws.root, acknowledged)
        finally:
            server.terminate()
            server.wait(30)
    assert len(acknowledged) >= len(ROWS) and rows >= len(acknowledged)


def test_crash_half_sent_body_and_unrecorded_file_after_restart(db_url: str,
                                                                tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", db_url)
    port = free_port()
    server = start_server(ws.root, port)
    link = ws.links[ROWS[0].code]
    body = good_workbook(tmp_path / "g.xlsx").read_bytes()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        page = client.get(link)
        csrf, cookie = csrf_of(page.text), page.cookies["nb_csrf"]
    boundary = "nianbaoboundary"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + body + \
        f"\r\n--{boundary}--\r\n".encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall((f"POST {link}/upload HTTP/1.1\r\nHost: x\r\nCookie: nb_csrf={cookie}\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      f"Content-Length: {len(form)}\r\n\r\n").encode() + form[: len(form) // 2])
        time.sleep(0.5)
        _kill(server)
    # a file linked into place just before a kill, and a half-written temporary file
    folder = ws.root / "inputs" / "online" / ROWS[1].code
    folder.mkdir(parents=True)
    shutil.copy(tmp_path / "g.xlsx", folder / "20260105-101010-000_0123abcd.xlsx")
    (folder / f"{TMP_PREFIX}123-half").write_bytes(body[:100])

    server = start_server(ws.root, port)
    try:
        assert _consistent(ws.root, []) == 1
        config = load_config(ws.root)
        assert config is not None
        engine = engine_for(config)
        with engine.connect() as conn:
            (row,) = store.history(conn, ROWS[1].code)
        engine.dispose()
        assert row.verdict.accepted and row.stored_path.endswith("0123abcd.xlsx")
        assert httpx.get(f"http://127.0.0.1:{port}{ws.links[ROWS[1].code]}").status_code == 200
    finally:
        server.terminate()
        server.wait(30)
