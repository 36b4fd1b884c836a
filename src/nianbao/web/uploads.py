"""Uploaded workbooks: sniffed by content, written durably, recorded, recovered after a crash.

An upload is written to ``inputs/online/{编码}/{时间}_{sha8}.xlsx`` (the name is
made here; nothing the browser sends is ever used as a path), fsynced, linked into
place without ever replacing a file, and only then checked and recorded.  A
server killed in between leaves a complete file without a row: :func:`recover`
(run at start-up) records it, and removes half-written temporary files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from nianbao.annotate import SUFFIX
from nianbao.atomic import TMP_PREFIX, clean_leftovers, write_bytes, write_text
from nianbao.config import Config
from nianbao.db import store
from nianbao.matching import ONLINE
from nianbao.status import Board
from nianbao.web.sandbox import Sandbox

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a filled form is ~30 KB; 10 MB leaves room for WPS files
_SAFE_CODE = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff]{1,64}")


class Rejected(Exception):
    """The upload is not a workbook we can take; the message is for the agency."""


def sniff(data: bytes) -> None:
    """Accept an Office Open XML workbook by its content, whatever its name says."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Rejected("这是旧版 Excel（.xls）或 WPS（.et）文件，或者文件设置了打开密码。"
                       "请用 Excel 或 WPS“另存为”Excel 工作簿（.xlsx），取消密码后重新上传。")
    if not data.startswith(b"PK\x03\x04"):
        raise Rejected("上传的文件不是 Excel 工作簿（.xlsx）。请上传下发的填报表。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise Rejected("上传的文件已损坏，无法打开。请用 Excel 或 WPS 重新保存后上传。") from exc
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise Rejected("上传的文件不是 Excel 工作簿（可能是 Word 文档或其他压缩包）。请上传下发的填报表。")


def unit_folder(config: Config, code: str) -> Path:
    """``inputs/online/{编码}``; a code that is not a plain name is never used as a path."""
    if not _SAFE_CODE.fullmatch(code):
        code = "u" + hashlib.sha256(code.encode()).hexdigest()[:16]
    return config.inputs / ONLINE / code


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new(folder: Path, stem: str, data: bytes) -> Path:
    """Write ``data`` as ``{stem}.xlsx`` (or ``{stem}-2.xlsx`` …), durably, never replacing."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{TMP_PREFIX}{os.getpid()}-{stem}"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        for n in range(1, 1000):
            final = folder / (f"{stem}.xlsx" if n == 1 else f"{stem}-{n}.xlsx")
            try:
                os.link(tmp, final)  # fails if the name exists: nothing is overwritten
            except FileExistsError:
                continue
            _fsync_dir(folder)
            return final
        raise FileExistsError(folder / stem)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    id: int
    path: Path


def relative(config: Config, path: Path) -> str:
    return path.resolve().relative_to(config.root.resolve()).as_posix()


def receive(config: Config, engine: Engine, sandbox: Sandbox, *, code: str, data: bytes,
            original_name: str, ip: str = "", source: str = "web") -> Received:
    """Store, check and record one upload; returns only after the row is committed.

    Raises :class:`Rejected` for content that is not a workbook (nothing stored).
    """
    sniff(data)
    received = store.now()
    sha = hashlib.sha256(data).hexdigest()
    stamp = received.astimezone().strftime("%Y%m%d-%H%M%S-%f")[:-3]
    path = write_new(unit_folder(config, code), f"{stamp}_{sha[:8]}", data)
    checked = sandbox.check(path)
    save_preview(config, path, checked.preview)
    with engine.begin() as conn:
        sid = store.add_submission(conn, store.NewSubmission(
            unit_code=code, received_at=received, sha256=sha, size=len(data),
            original_name=original_name, stored_path=relative(config, path),
            report=checked.report, source=source))
        store.audit(conn, f"unit:{code}", "upload", unit_code=code, ip=ip,
                    detail=f"#{sid} {len(data)} 字节 {sha[:8]} {store.Verdict.of(checked.report).zh}")
    return Received(id=sid, path=path)


def preview_path(config: Config, stored: Path) -> Path:
    """Where the HTML preview of a stored upload is kept (under outputs/, not inputs/)."""
    return config.outputs / ONLINE / stored.parent.name / (stored.stem + ".html")


def save_preview(config: Config, stored: Path, preview: str | None) -> None:
    if preview is not None:
        write_text(preview_path(config, stored), preview)


def marked_path(config: Config, stored: Path) -> Path:
    """Where the marked-up copy of a stored upload is kept once made (beside its preview)."""
    return config.outputs / ONLINE / stored.parent.name / (stored.stem + SUFFIX)


def marked_copy(config: Config, sandbox: Sandbox, stored: Path) -> bytes | None:
    """The marked-up copy of a stored upload, made on first request by a worker, then kept."""
    path = marked_path(config, stored)
    if path.is_file():
        return path.read_bytes()
    data = sandbox.marked(stored)
    if data is not None:
        write_bytes(path, data)
    return data


def recover(config: Config, engine: Engine, sandbox: Sandbox) -> list[str]:
    """After a crash: drop half-written files, record complete files that have no row."""
    online = config.inputs / ONLINE
    if not online.is_dir():
        return []
    clean_leftovers(online)
    with engine.connect() as conn:
        known = store.stored_paths(conn)
        codes = {row.code for row in store.board(conn)}
    recovered = []
    for path in sorted(online.glob("*/*.xlsx")):
        rel = relative(config, path)
        code = path.parent.name
        if rel in known or code not in codes:
            continue
        data = path.read_bytes()
        checked = sandbox.check(path)
        save_preview(config, path, checked.preview)
        mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        with engine.begin() as conn:
            store.add_submission(conn, store.NewSubmission(
                unit_code=code, received_at=mtime, sha256=hashlib.sha256(data).hexdigest(),
                size=len(data), original_name=path.name, stored_path=rel,
                report=checked.report, source="web"))
            store.audit(conn, "system", "recovered", unit_code=code, detail=rel)
        recovered.append(rel)
    return recovered


def record_folder(config: Config, engine: Engine, board: Board) -> int:
    """Record the files the coordinator put in inputs/ by hand (source ``folder``).

    Each unit's chosen file outside ``inputs/online`` gets a row the first time it is
    seen, so the board shows returns that came by e-mail too.  Returns how many.
    """
    online = (config.inputs / ONLINE).resolve()
    added = 0
    with engine.begin() as conn:
        known = store.stored_paths(conn)
        for status in board.units:
            match = status.match
            if match is None or match.file.resolve().is_relative_to(online):
                continue
            try:
                rel = relative(config, match.file)
                data = match.file.read_bytes()
            except (ValueError, OSError):
                continue  # outside the workspace, or gone since
            if rel in known:
                continue
            store.add_submission(conn, store.NewSubmission(
                unit_code=status.unit.code, sha256=hashlib.sha256(data).hexdigest(),
                received_at=dt.datetime.fromtimestamp(match.mtime, dt.UTC), size=len(data),
                original_name=match.file.name, stored_path=rel, report=match.report,
                source="folder"))
            added += 1
    return added
