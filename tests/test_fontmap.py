"""The PDF step's fonts: SC copies of Debian's Noto CJK faces whose PDF names say "sc"."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from nianbao import fontmap

SOURCES = fontmap.sc_sources()
needs_noto = pytest.mark.skipif(not SOURCES and not os.environ.get("CI"),
                                reason="Noto CJK (fonts-noto-cjk) is not installed")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fontmap.fontconfig_file.cache_clear()
    yield tmp_path / "cache" / "nianbao" / "fonts"
    fontmap.fontconfig_file.cache_clear()


@needs_noto
def test_the_installed_sc_faces_are_found():
    names = {name for _file, _index, name in SOURCES}
    assert {"NotoSerifCJKsc-Regular", "NotoSansCJKsc-Regular"} <= names
    assert all(file.suffix.lower() == ".ttc" for file, _index, _name in SOURCES)


@needs_noto
def test_the_copy_is_the_sc_face_with_sc_names(tmp_path):
    from fontTools.ttLib import TTFont

    source, index, name = next(s for s in SOURCES if s[2] == "NotoSerifCJKsc-Regular")
    copy = fontmap.sc_copy(source, index, name, tmp_path)
    font = TTFont(str(copy))
    cff = font["CFF "].cff
    assert cff.fontNames == ["NotoSerifCJKsc-Regular"]
    fd_names = [fd.FontName for fd in cff.topDictIndex[0].FDArray]
    assert fd_names and all(n.startswith("NotoSerifCJKsc-Regular-") for n in fd_names)
    original = TTFont(str(source), fontNumber=index)
    assert font.getBestCmap() == original.getBestCmap()  # the SC face's characters
    assert font["name"].getDebugName(1) == "Noto Serif CJK SC"
    assert len(font.getGlyphOrder()) == len(original.getGlyphOrder())
    stamp = copy.stat().st_mtime_ns
    assert fontmap.sc_copy(source, index, name, tmp_path) == copy  # made once
    assert copy.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [copy.name]  # no temporary left


@needs_noto
def test_libreoffice_sees_only_the_sc_copies(fresh_cache):
    conf = fontmap.fontconfig_file()
    assert conf == fresh_cache / "fonts.conf"
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    for request, expected in (("仿宋_GB2312", "NotoSerifCJKsc-Regular"),
                              ("黑体", "NotoSansCJKsc-Regular"),
                              ("Noto Serif CJK JP", None)):
        found = subprocess.run([shutil.which("fc-match") or "fc-match", "-f",
                                "%{file}|%{postscriptname}", f"{request}:lang=zh-cn"],
                               capture_output=True, text=True, env=env, check=True).stdout
        file, psname = found.split("|")
        assert not file.endswith(".ttc") or "Noto" not in file, found  # the collections hidden
        assert "jp" not in psname.lower(), found
        if expected:
            assert psname == expected and file.startswith(str(fresh_cache)), found


def test_without_a_writable_cache_the_mapping_alone_is_used(tmp_path, monkeypatch):
    (tmp_path / "cache").write_text("a file, not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fontmap.fontconfig_file.cache_clear()
    try:
        assert fontmap.fontconfig_file() == fontmap.mapping_file()
    finally:
        fontmap.fontconfig_file.cache_clear()


@needs_noto
def test_half_a_font_left_by_a_killed_run_is_removed(fresh_cache):
    fresh_cache.mkdir(parents=True)
    leftover = fresh_cache / ".nianbao-tmp-999999999-abc.otf"
    leftover.write_bytes(b"OTTO half")
    fontmap.fontconfig_file()
    assert not leftover.exists()
    assert not [p for p in fresh_cache.iterdir() if p.name.startswith(".nianbao-tmp-")]
