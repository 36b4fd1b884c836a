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
        keys, blob = _encode_values(values)
        self._keys = _intern_keys(keys)
        self._index = _INDEXES[self._keys]
        self._offset, self._length = _SPILL.put(blob)

    @classmethod
    def _from_blob(cls, keys: tuple[str, ...], blob: bytes) -> PackedValues:
        """Values encoded elsewhere (:func:`_encode_values`, in a worker): spilled as they are."""
        packed = cls.__new__(cls)
        packed._keys = keys  # noqa: SLF001 - shared already (_keys_from_text)
        packed._index = _INDEXES[keys]  # noqa: SLF001
        packed._offset, packed._length = _SPILL.put(blob)  # noqa: SLF001
        return packed

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


def _encode_values(values: Mapping[str, Value | None]) -> tuple[tuple[str, ...], bytes]:
    """The keys, and the spill record :func:`_decode` reads: the counts as an array of the
    smallest type that holds them, the other values (None, amounts, booleans) aside."""
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
    return tuple(values), blob


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


def _encode_narrative(narrative: Mapping[str, tuple[str, ...]]) -> bytes:
    data = json.dumps([list(v) for v in narrative.values()], ensure_ascii=False)
    return zlib.compress(data.encode("utf-8", "surrogatepass"), 6)


class PackedNarrative(Mapping[str, tuple[str, ...]]):
    """``section -> paragraphs``, compressed into this process's spill file (:class:`_Spill`):
    in memory only where it is (two numbers); each read decompresses (a few µs)."""

    __slots__ = ("_keys", "_length", "_offset")

    def __init__(self, narrative: Mapping[str, tuple[str, ...]]) -> None:
        self._keys = _intern_keys(tuple(narrative))  # the sections: one tuple for all
        self._offset, self._length = _SPILL.put(_encode_narrative(narrative))

    @classmethod
    def _from_blob(cls, keys: tuple[str, ...], blob: bytes) -> PackedNarrative:
        packed = cls.__new__(cls)
        packed._keys = keys  # noqa: SLF001 - shared already (_keys_from_text)
        packed._offset, packed._length = _SPILL.put(blob)  # noqa: SLF001
        return packed

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


# ------------------------------------------------------------------ between processes
#
# A report crosses from a worker to the main process, and to the check cache, in its
# wire form (:func:`to_wire`): one compressed string of bytes holding the packed
# parts as they will be spilled (the counts' array, the compressed narrative) and the
# key orders and cell positions as one text each.  The main process then makes the
# packed report straight from it (:func:`from_wire`), never the full report of
# thousands of small objects, which cost it time and left its memory fragmented.

_WIRE_VERSION = 1
_TEXTS_MAX = 256  # distinct key orders and layouts remembered by their text
_KEYS_BY_TEXT: dict[str, tuple[str, ...]] = {}
_POSITIONS_BY_TEXT: dict[str, Mapping[str, tuple[str, str]]] = {}


def to_wire(report: FileReport) -> bytes:
    """``report`` as bytes for :func:`from_wire` (in another process, or a later run)."""
    sub = report.submission
    packed_sub = None
    if sub is not None:
        fields = {f.name: getattr(sub, f.name) for f in dataclasses.fields(sub)
                  if f.name not in ("values", "claims", "narrative")}
        keys, blob = _encode_values(sub.values)
        claims = _encode_values(sub.claims) if sub.claims else ((), b"")
        packed_sub = (fields, _keys_text(keys), blob, _keys_text(claims[0]), claims[1],
                      _keys_text(tuple(sub.narrative)), _encode_narrative(sub.narrative))
    positions = json.dumps([[k, s, c] for k, (s, c) in report.positions.items()],
                           ensure_ascii=False)
    rest = {f.name: getattr(report, f.name) for f in dataclasses.fields(report)
            if f.name not in ("file", "submission", "positions")}  # findings, form code, …
    wire = (_WIRE_VERSION, report.file, rest, positions, packed_sub)
    return zlib.compress(pickle.dumps(wire, pickle.HIGHEST_PROTOCOL), 1)


def from_wire(blob: bytes) -> FileReport:
    """The packed report (as :func:`pack_report` makes it) of :func:`to_wire`'s bytes.

    Raises ValueError for bytes that are not a report of this version.
    """
    try:
        wire = pickle.loads(zlib.decompress(blob))  # noqa: S301 - our own workers and cache
    except Exception as exc:  # noqa: BLE001 - damaged bytes: whatever unpickling raised
        raise ValueError("not a report") from exc
    if not (isinstance(wire, tuple) and len(wire) == 5 and wire[0] == _WIRE_VERSION):
        raise ValueError("not a report of this version")
    _, file, rest, positions, packed_sub = wire
    file = shared_path(file)
    sub = None
    if packed_sub is not None:
        fields, vkeys, vblob, ckeys, cblob, nkeys, nblob = packed_sub
        source = fields.pop("source", None)
        fields["level"] = _intern(fields.get("level", ""))
        fields["format_id"] = _intern(fields.get("format_id", "gb2021"))
        sub = Submission(
            **fields, values=PackedValues._from_blob(_keys_from_text(vkeys), vblob),  # noqa: SLF001
            claims=(cast("Mapping[str, Value]",
                         PackedValues._from_blob(_keys_from_text(ckeys), cblob))  # noqa: SLF001
                    if cblob else {}),
            narrative=PackedNarrative._from_blob(_keys_from_text(nkeys), nblob),  # noqa: SLF001
            source=file if source == file else (shared_path(source) if source else None))
    rest["form_version"] = _intern(rest.get("form_version", ""))
    return FileReport(file=file, submission=sub, positions=_positions_from_text(positions),
                      **rest)


def _keys_text(keys: tuple[str, ...]) -> str:
    return json.dumps(keys, ensure_ascii=False)


def _keys_from_text(text: str) -> tuple[str, ...]:
    keys = _KEYS_BY_TEXT.get(text)
    if keys is None:
        keys = _intern_keys(tuple(json.loads(text)))
        if len(_KEYS_BY_TEXT) < _TEXTS_MAX:
            _KEYS_BY_TEXT[text] = keys
    return keys


def _positions_from_text(text: str) -> Mapping[str, tuple[str, str]]:
    positions = _POSITIONS_BY_TEXT.get(text)
    if positions is None:
        positions = _shared_positions({k: (s, c) for k, s, c in json.loads(text)})
        if len(_POSITIONS_BY_TEXT) < _TEXTS_MAX:
            _POSITIONS_BY_TEXT[text] = positions
    return positions
