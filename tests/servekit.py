"""A workspace for the `nianbao serve` tests: roster, forms, password, database, workbooks."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cyclekit import county_rows, submission, write_form, write_roster_xlsx

from nianbao.config import load_config
from nianbao.web.links import open_database, unit_links
from nianbao.workspace import init_workspace

PASSWORD = "coordinator-pass-2025"
ROWS = county_rows()[:6]
BAD_EDITS = {"t4.rv_keep": -1, "t2_5.licensing.decisions": "很多"}


@dataclass(frozen=True)
class Workspace:
    root: Path
    links: dict[str, str]  # code -> /u/token (the path of the unit's link)


def make_workspace(root: Path, db_url: str = "", base_url: str = "", rows=ROWS) -> Workspace:
    roster = write_roster_xlsx(root.parent / f"{root.name}-roster.xlsx", list(rows))
    init_workspace(root, year=2025, roster_file=roster)
    text = (root / "nianbao.toml").read_text("utf-8")
    head = ""
    if db_url:
        head += f'database_url = "{db_url}"\n'
    if base_url:
        head += f'base_url = "{base_url}"\n'
    (root / "nianbao.toml").write_text(head + text, "utf-8")
    from nianbao.web.secrets_store import set_password

    set_password(root, PASSWORD)
    config = load_config(root)
    assert config is not None
    engine = open_database(config)
    links = {link.code: urlsplit(link.url).path
             for link in unit_links(config, engine, config_roster(config))}
    engine.dispose()
    return Workspace(root=root, links=links)


def config_roster(config):  # type: ignore[no-untyped-def]
    from nianbao.roster import read_roster

    return read_roster(config.roster)


def good_workbook(path: Path, index: int = 0, seed: int = 1) -> Path:
    return write_form(path, submission(ROWS[index], seed))


def bad_workbook(path: Path, index: int = 0, seed: int = 1) -> Path:
    return write_form(path, submission(ROWS[index], seed), edits=dict(BAD_EDITS))


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(root: Path, port: int, *extra: str, env: dict[str, str] | None = None,
                 log: Path | None = None) -> subprocess.Popen[bytes]:
    """``nianbao serve`` in its own process; returns once it answers."""
    out = open(log or root.parent / f"serve-{port}.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "nianbao", "serve", "-w", str(root), "--port", str(port), *extra],
        stdout=out, stderr=out, env={**os.environ, **(env or {})})
    out.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {(log or root.parent / f'serve-{port}.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")
