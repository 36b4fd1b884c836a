"""Compact forms of what a batch keeps for every unit until its 汇总 and status are written.

A checked workbook arrives from a worker process as a plain :class:`FileReport`
of about 50 KB (every key string, every position tuple unpickled anew).  A
season of 50,000 units cannot keep that, so the main process keeps each report
packed (:func:`pack_report`), about 1.5 KB:

* ``values`` (and ``claims``, the totals a saved workbook shows): a
  :class:`PackedValues` mapping, the numbers in the smallest array type that
  holds them, written to a temporary file and read back (the last few hundred
  kept decoded), the keys shared by every report of the same format;
* ``narrative``: a :class:`PackedNarrative` mapping, the text compressed into a
  temporary file and decompressed on each read (it is read a few times a batch,
  not per cell);
* ``positions``: one shared mapping for every report whose cells sit where the
  standard form puts them.

Both mappings are read-only drop-ins for the dicts they replace: the checks,
the 汇总 and the renderer read them the same way.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import pickle
import sys
import tempfile
import threading
import zlib
from array import array
from collections.abc import ItemsView, Iterator, Mapping, Sequence, ValuesView
from pathlib import Path
from typing import BinaryIO, cast

from nianbao.model import FileReport, Submission, Value

_TYPECODES = (("b", 7), ("h", 15), ("i", 31), ("q", 63))  # signed width in bits


class PackedValues(Mapping[str, Value | None]):
    """``key -> count``: the counts an array in this process's spill file (:class:`_Spill`),
    ``None`` and the few non-integers (amounts) kept aside with them.

    In memory only where it is (two numbers) and the key order every report of a format
    shares; the recently read are kept decoded (:data:`_RECENT`), as the 汇总, the
    indicators and the renderer read one unit's values many times, then the next unit's.
    """

    __slots__ = ("_index", "_keys", "_length", "_offset")

    def __init__(self, values: Mapping[str, Value | None]) -> None:
        keys = tuple(values)
        self._keys = _intern_keys(keys)
        self._index = _INDEXES[self._keys]
        others: dict[str, Value | None] = {}
        numbers = []
        for key, value in values.items():
            if type(value) is int:
                numbers.append(value)
            else:  # None, a Decimal amount, a bool: kept as it is
                others[key] = value
                numbers.append(0)
        low, high = min(numbers, default=0), max(numbers, default=0)
        code = next((c for c, bits in _TYPECODES if -(1 << bits) <= low and high < (1 << bits)),
                    None)
        # typecode, then the array (or, for counts past 64 bits, everything pickled)
        blob = (code.encode() + array(code, numbers).tobytes() + (
                    pickle.dumps(others, pickle.HIGHEST_PROTOCOL) if others else b"")
                if code else b"*" + pickle.dumps((numbers, others), pickle.HIGHEST_PROTOCOL))
        if code and others:  # where the array ends and the values aside begin
            blob = b"+" + len(numbers).to_bytes(4, "little") + blob
        self._offset, self._length = _SPILL.put(blob)

    def _columns(self) -> _Decoded:
        got = _RECENT.get(self._offset)
        if got is None:
            got = _decode(_SPILL.get(self._offset, self._length))
            with _RECENT_LOCK:  # a thread may be reading values alongside (the status)
                while len(_RECENT) >= _RECENT_MAX:
                    del _RECENT[next(iter(_RECENT))]  # the oldest
                _RECENT[self._offset] = got
        return got

    def __getitem__(self, key: str) -> Value | None:
        i = self._index[key]  # KeyError for a key this format has not
        numbers, others = _RECENT.get(self._offset) or self._columns()
        if others is not None and key in others:
            return others[key]
        return numbers[i]

    def get(self, key: str, default: Value | None = None) -> Value | None:  # type: ignore[override]
        # Mapping.get goes through __getitem__ and a try: the 汇总 and the indicators
        # call this a few hundred times a unit
        i = self._index.get(key)
        if i is None:
            return default
        numbers, others = _RECENT.get(self._offset) or self._columns()
        if others is not None and key in others:
            return others[key]
        return numbers[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def columns(self) -> tuple[tuple[str, ...], Sequence[int], Mapping[str, Value | None]]:
        """The shared key tuple, the counts in its order (0 where a value is kept aside), and
        the values kept aside (None, amounts): for sums over many units, column by column."""
        numbers, others = self._columns()
        return self._keys, numbers, others or {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __repr__(self) -> str:
        return f"PackedValues({dict(self.items())!r})"

    def __reduce__(self) -> tuple[object, tuple[dict[str, Value | None]]]:
        # to another process (a worker) as what it holds: the spill file is this process's
        return PackedValues, (dict(self.items()),)


_Decoded = tuple[Sequence[int], dict[str, Value | None] | None]
_RECENT: dict[int, _Decoded] = {}  # spill offset -> decoded, oldest first
_RECENT_MAX = 256
_RECENT_LOCK = threading.Lock()


def _decode(blob: bytes) -> _Decoded:
    if blob[:1] == b"*":
        numbers, others = pickle.loads(blob[1:])  # noqa: S301 - this process's own spill
        return tuple(numbers), others or None
    count = None
    if blob[:1] == b"+":
        count, blob = int.from_bytes(blob[1:5], "little"), blob[5:]
    code = blob[:1].decode()
    numbers = array(code)
    if count is None:
        numbers.frombytes(blob[1:])
        return numbers, None
    end = 1 + count * numbers.itemsize
    numbers.frombytes(blob[1:end])
    return numbers, pickle.loads(blob[end:])  # noqa: S301 - this process's own spill


_KEYS: dict[tuple[str, ...], tuple[str, ...]] = {}
_INDEXES: dict[tuple[str, ...], dict[str, int]] = {}


def _intern_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """One shared key tuple (and index) per distinct key order."""
    shared = _KEYS.get(keys)
    if shared is None:
        shared = tuple(sys.intern(k) for k in keys)
        _KEYS[shared] = shared
        _INDEXES[shared] = {k: i for i, k in enumerate(shared)}
    return shared


class PackedNarrative(Mapping[str, tuple[str, ...]]):
    """``section -> paragraphs``, compressed into this process's spill file (:class:`_Spill`):
    in memory only where it is (two numbers); each read decompresses (a few µs)."""

    __slots__ = ("_keys", "_length", "_offset")

    def __init__(self, narrative: Mapping[str, tuple[str, ...]]) -> None:
        self._keys = tuple(sys.intern(k) for k in narrative)
        data = json.dumps([list(narrative[k]) for k in self._keys], ensure_ascii=False)
        self._offset, self._length = _SPILL.put(zlib.compress(
            data.encode("utf-8", "surrogatepass"), 6))

    def _all(self) -> dict[str, tuple[str, ...]]:
        blob = _SPILL.get(self._offset, self._length)
        lists = json.loads(zlib.decompress(blob).decode("utf-8", "surrogatepass"))
        return {k: tuple(v) for k, v in zip(self._keys, lists, strict=True)}

    def __getitem__(self, key: str) -> tuple[str, ...]:
        if key not in self._keys:
            raise KeyError(key)
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def items(self) -> ItemsView[str, tuple[str, ...]]:  # one decompression, not one per key
        return self._all().items()

    def values(self) -> ValuesView[tuple[str, ...]]:
        return self._all().values()

    def __repr__(self) -> str:
        return f"PackedNarrative({self._all()!r})"

    def __reduce__(self) -> tuple[object, tuple[dict[str, tuple[str, ...]]]]:
        # to another process (a worker) as a plain dict: the spill file is this process's
        return dict, (self._all(),)


class _Spill:
    """An anonymous temporary file the narratives and values of a batch are appended to.

    A unit's sections are some 1.5 KB even compressed, its counts about 800 bytes:
    115 MB for 50,000 units, read a few times a run.  The file has no name (removed by the
    system when the process ends, however it ends) and is opened on first use.
    A child made by ``fork`` reads what it inherited from its parent's file and
    appends to a file of its own (offsets past the inherited part).
    """

    def __init__(self) -> None:
        self._file: BinaryIO | None = None
        self._pid = 0
        self._base = 0  # offsets below this are in the inherited file
        self._size = 0  # the next offset
        self._inherited: BinaryIO | None = None
        self._lock = threading.Lock()

    def put(self, blob: bytes) -> tuple[int, int]:
        with self._lock:
            handle = self._handle()
            offset = self._size
            os.pwrite(handle.fileno(), blob, offset - self._base)
            self._size += len(blob)
            return offset, len(blob)

    def get(self, offset: int, length: int) -> bytes:
        with self._lock:
            handle = self._handle()
            if offset < self._base and self._inherited is not None:
                return os.pread(self._inherited.fileno(), length, offset)
            return os.pread(handle.fileno(), length, offset - self._base)

    def _handle(self) -> BinaryIO:
        if self._file is None or self._pid != os.getpid():
            if self._file is not None:  # forked: the parent's file stays readable
                self._inherited, self._base = self._file, self._size
            self._file = tempfile.TemporaryFile(prefix="nianbao-reports-")
            atexit.register(self._file.close)  # closed, not left to the interpreter's end
            self._pid = os.getpid()
        return self._file


_SPILL = _Spill()


# shared, so never to be changed (nothing changes a report's positions once read)
_POSITIONS: dict[tuple[tuple[str, tuple[str, str]], ...], Mapping[str, tuple[str, str]]] = {}
_POSITIONS_MAX = 64  # distinct layouts kept shared; beyond that each report keeps its own


def _shared_positions(positions: Mapping[str, tuple[str, str]]) -> Mapping[str, tuple[str, str]]:
    key = tuple(positions.items())
    shared = _POSITIONS.get(key)
    if shared is not None:
        return shared
    frozen = {sys.intern(k): (sys.intern(s), sys.intern(c)) for k, (s, c) in positions.items()}
    if len(_POSITIONS) < _POSITIONS_MAX:
        _POSITIONS[key] = frozen
    return frozen


def pack_submission(sub: Submission) -> Submission:
    """The same submission with its values and narrative packed (idempotent)."""
    values = sub.values if isinstance(sub.values, PackedValues) else PackedValues(sub.values)
    # the totals a saved workbook shows (34 cached formulas in the form): a dict each
    claims = (sub.claims if isinstance(sub.claims, PackedValues) or not sub.claims
              else cast("Mapping[str, Value]", PackedValues(sub.claims)))  # never None in it
    narrative = (sub.narrative if isinstance(sub.narrative, PackedNarrative)
                 else PackedNarrative(sub.narrative))
    return dataclasses.replace(
        sub, values=values, claims=claims, narrative=narrative,
        level=_intern(sub.level), format_id=_intern(sub.format_id),
        source=shared_path(sub.source) if sub.source is not None else None)


def pack_report(report: FileReport) -> FileReport:
    """The same report, packed to be kept for a whole batch (see the module's text)."""
    sub = report.submission
    file = shared_path(report.file)
    packed = pack_submission(sub) if sub is not None else None
    if packed is not None and packed.source == file:
        packed = dataclasses.replace(packed, source=file)  # one path object, not two
    return dataclasses.replace(report, file=file, submission=packed,
                               positions=_shared_positions(report.positions),
                               form_version=_intern(report.form_version))


_FOLDERS: dict[str, Path] = {}  # a folder's path, shared by the files in it
_FOLDERS_MAX = 1 << 16


def shared_path(path: Path) -> Path:
    """``path`` made from its folder's shared path object: the folder's parts are stored
    once for all its files, not once per file (a path unpickled from a worker has its own)."""
    parent = str(path.parent)
    folder = _FOLDERS.get(parent)
    if folder is None:
        folder = path.parent
        if len(_FOLDERS) < _FOLDERS_MAX:
            _FOLDERS[parent] = folder
    return folder / path.name


def _intern(text: str) -> str:
    return sys.intern(text) if type(text) is str else text
