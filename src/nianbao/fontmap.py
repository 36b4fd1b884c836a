"""The fonts LibreOffice uses for the PDF copies: the mapping, and SC faces named SC.

``data/fonts.conf`` maps the fonts a 公文 asks for (仿宋_GB2312, 方正小标宋简体,
黑体, 楷体_GB2312, 宋体, Times New Roman) to free faces of the same kind when the
official ones are not installed (see that file).

Debian's Noto CJK (``fonts-noto-cjk``) is one .ttc per weight holding the JP, KR,
SC, TC and HK faces.  They share one CFF table whose font names all say "jp", so
a PDF that uses the SC face names it ``NotoSerifCJKjp-Regular``: a reader cannot
tell it from the Japanese face.  :func:`fontconfig_file` therefore gives
LibreOffice a fontconfig file under the user's cache folder that

* adds standalone copies of the SC Regular and Bold faces whose CFF names say
  "sc" (made once from the installed .ttc with fontTools: the tables are copied
  as they are, only the names inside the CFF table change, same length),
* hides the .ttc files they were made from, so no JP or KR face can be chosen,
* and then includes ``data/fonts.conf``.

Where the copies cannot be made (no Noto CJK .ttc, a cache folder that cannot be
written) LibreOffice gets ``data/fonts.conf`` alone: same glyphs, "jp" names.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

from nianbao.atomic import atomic_write, clean_leftovers, write_text

STYLES = ("Regular", "Bold")  # the weights a report uses
_SC_FACE = re.compile(r"^Noto(Serif|Sans)CJKsc-(\w+)$")
CONF_NAME = "fonts.conf"


def mapping_file() -> Path:
    """nianbao's font mapping (aliases of the official fonts)."""
    return Path(str(resources.files("nianbao") / "data" / "fonts.conf"))


def cache_dir() -> Path:
    """Where the SC copies and the generated fontconfig file live."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nianbao" / "fonts"


def sc_sources() -> list[tuple[Path, int, str]]:
    """(collection file, face index, PostScript name) of the installed Noto CJK SC faces
    that live in a .ttc, Regular and Bold only."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        out = subprocess.run([fc_list, "-f", r"%{file}\t%{index}\t%{postscriptname}\n"],
                             capture_output=True, text=True, timeout=60, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    found: dict[str, tuple[Path, int, str]] = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0].lower().endswith(".ttc"):
            continue
        match = _SC_FACE.match(parts[2])
        if match and match.group(2) in STYLES and parts[1].isdigit():
            found.setdefault(parts[2], (Path(parts[0]), int(parts[1]), parts[2]))
    return sorted(found.values(), key=lambda s: s[2])


def sc_copy(source: Path, index: int, psname: str, folder: Path) -> Path:
    """A standalone .otf of face ``index`` of ``source`` whose CFF names say "sc".

    Made once per source file (its size and time are in the copy's name);
    written atomically, so concurrent runs never see half a font.  Raises
    OSError, ValueError or fontTools' TTLibError when it cannot be made.
    """
    from fontTools.ttLib import TTFont  # only the PDF step needs it
    from fontTools.ttLib.tables.DefaultTable import DefaultTable

    stat = source.stat()
    target = folder / f"{psname}-{stat.st_size}-{int(stat.st_mtime)}.otf"
    if target.is_file():
        return target
    font = TTFont(str(source), fontNumber=index, lazy=True, recalcBBoxes=False,
                  recalcTimestamp=False)
    try:
        if "CFF " not in font.reader:
            raise ValueError(f"{source.name} has no CFF table")
        raw = font.reader["CFF "]
        table = DefaultTable("CFF ")  # copied as bytes: no decompiling 65,000 glyphs
        table.data = raw.replace(b"CJKjp", b"CJKsc").replace(b"CJK JP", b"CJK SC")
        font["CFF "] = table
        with atomic_write(target) as tmp:
            font.save(str(tmp), reorderTables=False)
    finally:
        font.close()
    for old in folder.glob(f"{psname}-*.otf"):  # copies of an older package version
        if old != target:
            with contextlib.suppress(OSError):
                old.unlink()
    return target


def _conf_text(fonts: Path, hidden: list[Path]) -> str:
    rejects = "".join(f"<glob>{escape(str(p))}</glob>" for p in hidden)
    return ("<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"urn:fontconfig:fonts.dtd\">\n"
            "<!-- Made by nianbao for its PDF step (see nianbao/fontmap.py). -->\n<fontconfig>\n"
            f"  <dir>{escape(str(fonts))}</dir>\n"
            f"  <selectfont><rejectfont>{rejects}</rejectfont></selectfont>\n"
            f"  <include ignore_missing=\"no\">{escape(str(mapping_file()))}</include>\n"
            "</fontconfig>\n")


@functools.cache
def fontconfig_file() -> Path:
    """The fontconfig file soffice runs with (see the module's docstring)."""
    sources = sc_sources()
    if not sources:
        return mapping_file()
    folder = cache_dir()
    try:
        from fontTools.ttLib import TTLibError
    except ImportError:
        return mapping_file()
    try:
        clean_leftovers(folder)  # half a font from a killed run
        for source, index, psname in sources:
            sc_copy(source, index, psname, folder)
        conf = folder / CONF_NAME
        text = _conf_text(folder, sorted({source for source, _i, _n in sources}))
        if not conf.is_file() or conf.read_text(encoding="utf-8") != text:
            write_text(conf, text)
        return conf
    except (OSError, ValueError, TTLibError):  # no copies: same glyphs, "jp" names
        return mapping_file()
