"""User-supplied text made safe to show: file names in any bytes, control characters, huge values.

A file name that is not valid UTF-8 (a Windows zip unpacked on Linux keeps its
GBK bytes) reaches Python as a string with lone surrogates; printing or saving
it raises UnicodeEncodeError.  :func:`readable` recovers the intended text
(GB18030 covers GBK and GB2312) or replaces what cannot be recovered.
:func:`clean` also neutralises control characters (terminal escapes, bidi
overrides) and cuts very long values, so a unit's name or a cell's text can
never take over a terminal or a log.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

MAX_SHOWN = 120  # characters of one quoted user value in a message


def readable(text: str) -> str:
    """``text`` with lone surrogates (undecodable file-name bytes) decoded as GB18030."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    raw = text.encode("utf-8", "surrogateescape")
    for encoding in ("gb18030", "big5"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def clean(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` safe for a terminal, a log or a spreadsheet: one line, no control characters.

    Control and format characters (escape sequences, bidi overrides, NUL) become
    ``�``; newlines and tabs become spaces; a text longer than ``limit``
    characters is cut and marked with ``…（共 N 字）``.
    """
    text = readable(text)
    if text.isprintable():  # no control, format, private-use or line-breaking character
        shown = text
    else:
        shown = "".join(" " if ch in "\r\n\t"
                        else "\ufffd" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co")
                        else ch for ch in text)
    if limit and len(shown) > limit:
        return f"{shown[:limit]}…（共 {len(shown)} 字）"
    return shown


def path_text(path: Path | str) -> str:
    """A path for people: decoded, control characters neutralised, never truncated to nothing."""
    return clean(str(path), limit=0)


def relative_posix(path: Path, base: Path) -> str | None:
    """``path`` under ``base`` with ``/`` (``inputs/a.xlsx``), or None when it is not under it.

    Lexically when both are absolute and plain (no ``..``): a run asks this for
    tens of thousands of files, and resolve() costs a system call per component.
    Otherwise (a relative path, ``..``) both are resolved first.
    """
    if path.is_absolute() and base.is_absolute() and ".." not in path.parts \
            and ".." not in base.parts and path.is_relative_to(base):
        return path.relative_to(base).as_posix()
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return None
