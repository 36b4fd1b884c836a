"""Where a returned file's bytes come from: a file on disk, or a member of a .zip attachment.

Units often send their workbook inside a .zip (with a cover letter or scans).
Such members are read in place, never extracted: a member has the *virtual*
path ``inputs/附件.zip/成员.xlsx`` (a zip inside a zip: ``a.zip/b.zip/c.xlsx``),
which every command shows and matches like a real path, and whose bytes
:func:`read_bytes` fetches from the archive.

Opening is bounded: at most :data:`MAX_MEMBERS` members, :data:`MAX_DEPTH`
levels of zip in zip, each member no larger than the workbook size limit and
all of them together no larger than the unzip limit, and no member whose
compression ratio betrays a zip bomb.  Member names are decoded from UTF-8 or
GBK whatever flag the zip carries, ``..`` and absolute parts are dropped, so a
name can neither escape the folder (nothing is written anyway) nor garble a
message.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path

from nianbao.settings import DEFAULT_SETTINGS, Settings

ZIP_SUFFIXES = frozenset({".zip"})
MAX_MEMBERS = 500
MAX_DEPTH = 2  # a zip in a zip is opened; a zip in a zip in a zip is not
MAX_RATIO = 200  # uncompressed / compressed beyond this (for a large member) is a zip bomb
_SKIP_PARTS = ("__MACOSX",)


class ZipProblem(Exception):
    """A .zip attachment that cannot be opened safely; the message is Chinese, for the unit."""


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it (UTF-8 or GBK), normalised and safe."""
    name = info.filename
    if not info.flag_bits & 0x800:  # zipfile decoded the raw bytes as cp437
        raw = name.encode("cp437", "replace")
        for encoding in ("utf-8", "gb18030"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(p.rstrip(" .") or "_" for p in parts)


@dataclass(frozen=True, slots=True)
class Member:
    name: str  # normalised, as in the virtual path
    info: zipfile.ZipInfo


def _members(zf: zipfile.ZipFile, settings: Settings) -> list[Member]:
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > MAX_MEMBERS:
        raise ZipProblem(f"压缩包中有 {len(infos)} 个文件（上限 {MAX_MEMBERS} 个），不像是报送的附件，未打开。")
    total = sum(i.file_size for i in infos)
    if total > settings.max_unzipped_bytes:
        raise ZipProblem(f"压缩包解压后过大（{total / 1048576:.0f} MB），未打开。请只发送填报表。")
    out = []
    for info in infos:
        if (info.file_size > 1048576 and info.compress_size
                and info.file_size / info.compress_size > MAX_RATIO):
            raise ZipProblem("压缩包的压缩比异常（可能是“压缩炸弹”），未打开。请直接发送填报表文件。")
        name = member_name(info)
        if not name or any(p.startswith((".", "~$")) or p in _SKIP_PARTS
                           for p in name.split("/")):
            continue
        out.append(Member(name, info))
    return out


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ZipProblem("压缩包已损坏或不完整，无法打开，请重新打包发送。") from exc


def _read_member(zf: zipfile.ZipFile, member: Member, settings: Settings) -> bytes:
    if member.info.flag_bits & 0x1:
        raise ZipProblem(f"压缩包中的“{member.name}”设置了密码，无法读取。请不加密码重新打包，或直接发送填报表。")
    if member.info.file_size > settings.max_file_bytes:
        raise ZipProblem(f"压缩包中的“{member.name}”过大（{member.info.file_size / 1048576:.1f} MB），未读取。")
    try:
        with zf.open(member.info) as fh:
            data = fh.read(settings.max_file_bytes + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise ZipProblem(f"压缩包中的“{member.name}”已损坏，无法解压。请重新打包发送。") from exc
    if len(data) > settings.max_file_bytes:
        raise ZipProblem(f"压缩包中的“{member.name}”过大，未读取。")
    return data


def list_zip(path: Path, settings: Settings = DEFAULT_SETTINGS, *, data: bytes | None = None,
             depth: int = 1) -> list[Path]:
    """The virtual paths of the files inside a .zip (zips inside it opened too, bounded).

    Raises :class:`ZipProblem` if the archive cannot be opened safely.
    """
    if data is None:
        data = read_bytes(path, settings)
    with _open_zip(data) as zf:
        out: list[Path] = []
        for member in _members(zf, settings):
            inner = path / member.name
            if posixpath.splitext(member.name)[1].lower() in ZIP_SUFFIXES and depth < MAX_DEPTH:
                try:
                    out += list_zip(inner, settings, data=_read_member(zf, member, settings),
                                    depth=depth + 1)
                except ZipProblem:
                    out.append(inner)  # listed, and reading it says why
            else:
                out.append(inner)
        return out


def container(path: Path) -> tuple[Path, tuple[str, ...]] | None:
    """For a virtual path, the real .zip file and the member names down to the file."""
    parts: list[str] = []
    current = path
    while current != current.parent:
        if current.suffix.lower() in ZIP_SUFFIXES and current.is_file():
            if not parts:
                return None  # the zip itself
            return current, _nested(parts)
        parts.insert(0, current.name)
        current = current.parent
    return None


def _nested(parts: list[str]) -> tuple[str, ...]:
    """``['b.zip', 'c.xlsx']`` -> ``('b.zip', 'c.xlsx')``; ``['x', 'y.xlsx']`` -> ``('x/y.xlsx',)``."""
    names: list[str] = []
    current: list[str] = []
    for part in parts:
        current.append(part)
        if posixpath.splitext(part)[1].lower() in ZIP_SUFFIXES:
            names.append("/".join(current))
            current = []
    if current:
        names.append("/".join(current))
    return tuple(names)


def is_member(path: Path) -> bool:
    return not path.exists() and container(path) is not None


def read_bytes(path: Path, settings: Settings = DEFAULT_SETTINGS) -> bytes:
    """The bytes of a real file or of a zip member (raises OSError or :class:`ZipProblem`)."""
    found = None if path.exists() else container(path)
    if found is None:
        return path.read_bytes()
    archive, names = found
    data = archive.read_bytes()
    for name in names:
        with _open_zip(data) as zf:
            member = next((m for m in _members(zf, settings) if m.name == name), None)
            if member is None:
                raise FileNotFoundError(2, "压缩包中没有这个文件", str(path))
            data = _read_member(zf, member, settings)
    return data


def mtime(path: Path) -> float:
    """When the file arrived: its own time, or for a zip member the zip file's time."""
    found = None if path.exists() else container(path)
    try:
        return (found[0] if found else path).stat().st_mtime
    except OSError:
        return 0.0


def size(path: Path) -> int:
    """The size in bytes of a file or zip member (-1 if unknown)."""
    try:
        if path.exists():
            return path.stat().st_size
        return len(read_bytes(path))
    except (OSError, ZipProblem):
        return -1
