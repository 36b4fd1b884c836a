"""Write files so that a killed run leaves either the old file or the new one, never half."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

TMP_PREFIX = ".nianbao-tmp-"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp creates files readable by their owner only; outputs get the usual
# mode (0644 with the common umask) so a web server or shared folder can read them.
FILE_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_write(path: Path, *, sync: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    The temporary file lives in the same folder (so the rename is atomic) and
    starts with :data:`TMP_PREFIX`, so leftovers of a killed run are easy to
    recognise and clean.  ``sync=False`` skips flushing it to the disk first: for
    files every run writes again (a power cut can then leave the old one or an
    empty one, never half of the new one).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=tmp_prefix(), suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if sync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_bytes(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Atomically write ``data`` to ``path`` (``sync``: see :func:`atomic_write`)."""
    with atomic_write(path, sync=sync) as tmp:
        tmp.write_bytes(data)


def write_json(path: Path, data: object, *, sync: bool = True) -> None:
    """Atomically write ``data`` as indented JSON (UTF-8, Chinese as it is), streamed to the
    file rather than made into one string first (a province's manifest is tens of MB).

    A lone surrogate (a file name in undecodable bytes) is written as its JSON escape
    ``\\udcXX``: valid JSON that reads back as the very same string.
    """
    with atomic_write(path, sync=sync) as tmp, tmp.open(
            "w", encoding="utf-8", errors="backslashreplace") as out:
        json.dump(data, out, ensure_ascii=False, indent=1)
        out.write("\n")


def write_text(path: Path, text: str, *, sync: bool = True) -> None:
    write_bytes(path, text.encode("utf-8"), sync=sync)


def flush_files(paths: Iterable[Path]) -> None:
    """Make files written with ``sync=False`` durable before something records them as done.

    One ``sync()`` of the whole system where there is one (Unix): far cheaper than a
    flush per file for a batch of thousands; elsewhere (Windows) each file is flushed.
    A file that is gone or cannot be opened is skipped: whoever records it finds that.
    """
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in paths:
        try:
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())
        except OSError:
            continue


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` unless ``path`` holds it already; whether it was written.

    For the many small files a run makes again each time (one per unit): reading
    is far cheaper than writing, and they need no flush (``sync=False``).
    """
    data = text.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_bytes(path, data, sync=False)
    return True


def tmp_prefix() -> str:
    """``.nianbao-tmp-{pid}-``: a temporary file names the process that writes it."""
    return f"{TMP_PREFIX}{os.getpid()}-"


def _writer_alive(name: str) -> bool:
    """Whether the process named in a temporary file's name is still running (not us)."""
    pid_text = name[len(TMP_PREFIX):].split("-", 1)[0]
    if not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    from nianbao.runner import pid_alive

    return pid_alive(int(pid_text))


def clean_leftovers(folder: Path) -> int:
    """Remove temporary files a killed run left in ``folder``; return how many.

    Files of a process that is still running are never touched.
    """
    removed = 0
    if folder.is_dir():
        for leftover in sorted(folder.rglob(TMP_PREFIX + "*"), reverse=True):
            if _writer_alive(leftover.name):
                continue
            with contextlib.suppress(OSError):
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()
                removed += 1
    return removed


def describe_os_error(exc: OSError) -> str:
    """Why a file operation failed, in Chinese, for messages."""
    import errno

    reasons = {errno.EACCES: "没有权限", errno.EPERM: "没有权限", errno.ENOENT: "文件或文件夹不存在",
               errno.ENOSPC: "磁盘已满", errno.EROFS: "文件系统是只读的",
               errno.EISDIR: "同名的文件夹已存在", errno.ENOTDIR: "路径中有同名文件",
               errno.ENAMETOOLONG: "文件名过长", errno.EEXIST: "文件已存在"}
    return reasons.get(exc.errno or 0, exc.strerror or type(exc).__name__)
