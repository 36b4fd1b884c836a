"""Output file names that are safe on every OS and can never leave the output folder."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

MAX_NAME_BYTES = 240  # leaves room below the usual 255-byte limit for a temporary suffix
_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                       *(f"LPT{i}" for i in range(1, 10))})


def safe_filename(stem: str, suffix: str) -> str:
    """``stem + suffix`` made safe: no separators, reserved names or control characters.

    Unsafe characters become full-width look-alikes or ``_``; a name too long for
    the file system is cut (on a character boundary) and given a short hash so
    two long names that share a beginning stay distinct.
    """
    text = unicodedata.normalize("NFC", stem)
    text = text.replace("/", "／").replace("\\", "＼").replace(":", "：").replace("*", "＊")
    text = text.replace("?", "？").replace('"', "＂").replace("<", "＜").replace(">", "＞")
    text = text.replace("|", "｜")
    text = _FORBIDDEN.sub("_", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    text = text.strip(" .") or "未命名单位"
    if text.split(".")[0].upper() in _RESERVED:
        text = "_" + text
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    if len(text.encode("utf-8")) > budget:
        digest = hashlib.sha256(stem.encode("utf-8")).hexdigest()[:8]
        keep = budget - len(digest) - 1
        cut = text.encode("utf-8")[:keep].decode("utf-8", errors="ignore")
        text = f"{cut}-{digest}"
    return text + suffix


def report_stem(agency: str, year: int | None, *, draft: bool = False) -> str:
    stem = f"{agency}{year or ''}年政府信息公开工作年度报告"
    return stem + ("（草稿）" if draft else "")


def output_path(out_dir: Path, agency: str, year: int | None, suffix: str, *,
                draft: bool = False) -> Path:
    """Where an agency's report goes; always a direct child of ``out_dir``."""
    name = safe_filename(report_stem(agency, year, draft=draft), suffix)
    path = out_dir / name
    if path.parent != out_dir or path.name != name:  # defence in depth
        raise ValueError(f"unsafe output name: {name!r}")
    return path
