"""What reading and checking each workbook found, kept between runs.

A scheduled run reads every returned workbook again each night although most of
them have not changed since the night before: at 50,000 units that is more than
five minutes of its time.  :class:`CheckCache` keeps each file's report in
``outputs/.nianbao-check-cache.sqlite3`` and gives it back, instead of reading the
file again, when all of this is as it was:

* the file: its path, size, modification and change times and inode (copying an
  older version over it, touching it or changing its permissions changes one of
  them);
* the code that checked it: a digest of nianbao's own source files, so a new
  version (or a local fix) reads everything again;
* the settings: every field of :class:`~nianbao.settings.Settings`.

Only what depends on nothing but the file is kept: matching, the cross-year and
the batch text checks run on every run.  A report that says the file could not
be opened (locked, or a worker that stalled or crashed) is never kept, so the
file is tried again.  Files inside a .zip are not kept either (read each time).

Reports are kept in the form a worker sends them in (:func:`nianbao.packed.to_wire`),
and given back packed, as a run keeps them.

The cache is a convenience: any problem with it (a read-only folder, a damaged
file, another process holding it) turns it off for the run, never fails it, and
deleting the file only costs the next run its time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import sqlite3
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from nianbao.model import FileReport
from nianbao.packed import from_wire, to_wire
from nianbao.settings import Settings, settings_fields

CACHE_NAME = ".nianbao-check-cache.sqlite3"
COMMIT_EVERY = 512  # reports written between two commits (an interrupted run keeps them)
NOT_KEPT = frozenset({"file-unreadable", "file-unreadable:crash", "file-unreadable:stalled"})


@cache
def code_digest() -> str:
    """A digest of nianbao's source files: a report made by other code is not reused."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        with contextlib.suppress(OSError):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def _settings_digest(settings: Settings) -> str:
    blob = json.dumps(settings_fields(settings), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def _file_stamp(path: Path) -> str | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # gone, a zip member, or a name the system refuses
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _key(path: Path) -> bytes:
    """The path as bytes: any file name (GBK bytes from a zip included) is a key."""
    return os.fsencode(path)


class CheckCache:
    """The reports of the last runs, by file; see the module's text."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self._prefix = f"{code_digest()}:{_settings_digest(settings)}:"
        self._pending = 0
        self.hits = 0
        self._stamps: dict[bytes, str] = {}  # files looked up and not found: their stamp then
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = self._open()
        except sqlite3.OperationalError:  # locked by another process, read-only, …: none now
            self._db = None
        except sqlite3.DatabaseError:  # not a database (damaged): start a new one
            try:
                path.unlink(missing_ok=True)
                self._db = self._open()
            except (OSError, sqlite3.Error):
                self._db = None
        except (OSError, sqlite3.Error):
            self._db = None  # no cache this run

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5.0)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS reports "
                       "(path BLOB PRIMARY KEY, stamp TEXT NOT NULL, report BLOB NOT NULL)")
            db.commit()
        except sqlite3.Error:
            db.close()
            raise
        return db

    def get(self, file: Path) -> FileReport | None:
        """The report kept for this file, if it was made from the file as it is now.

        On a miss the file's stamp is noted: :meth:`put` keeps the report under the
        stamp the file had *before* it was read, so a file changed while it was being
        read is read again next time.
        """
        stamp = _file_stamp(file)
        if self._db is None or stamp is None:
            return None
        try:
            row = self._db.execute("SELECT stamp, report FROM reports WHERE path = ?",
                                   (_key(file),)).fetchone()
        except sqlite3.Error:
            self._off()
            return None
        if row is None or row[0] != self._prefix + stamp:
            self._stamps[_key(file)] = stamp
            return None
        try:
            report = from_wire(row[1])
        except ValueError:  # a damaged entry: read the file again
            return None
        if report.file != file:
            return None
        self.hits += 1
        return report

    def put(self, file: Path, report: FileReport, wire: bytes | None = None) -> None:
        """Keep ``report``, made from a file :meth:`get` did not find, for the next run;
        ``wire``: the report's :func:`~nianbao.packed.to_wire` bytes, when made already."""
        stamp = self._stamps.pop(_key(file), None)  # as it was when looked up, before reading
        if (self._db is None or stamp is None
                or any(f.code in NOT_KEPT for f in report.findings)):
            return
        try:
            blob = to_wire(report) if wire is None else wire
            self._db.execute("INSERT OR REPLACE INTO reports (path, stamp, report) "
                             "VALUES (?, ?, ?)", (_key(file), self._prefix + stamp, blob))
            self._pending += 1
            if self._pending >= COMMIT_EVERY:
                self._db.commit()
                self._pending = 0
        except (sqlite3.Error, pickle.PicklingError, TypeError, AttributeError):
            self._off()

    def close(self, files: Iterable[Path] | None = None) -> None:
        """Write what is pending; with ``files`` (every file of a whole run), forget the
        files no longer there."""
        if self._db is None:
            return
        db, self._db = self._db, None
        try:
            if files is not None:
                db.execute("CREATE TEMP TABLE present (path BLOB PRIMARY KEY)")
                db.executemany("INSERT OR IGNORE INTO present VALUES (?)",
                               ((_key(f),) for f in files))
                db.execute("DELETE FROM reports WHERE path NOT IN (SELECT path FROM present)")
            db.commit()
        except sqlite3.Error:
            pass
        finally:
            db.close()

    def _off(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.rollback()
                self._db.close()
            self._db = None

    def __enter__(self) -> CheckCache:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._db is not None:  # left early (an exception): keep what was made, no pruning
            self.close()
