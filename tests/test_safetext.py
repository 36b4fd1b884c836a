"""User text and paths made safe to show (nianbao.safetext, report.display_path)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nianbao.report import display_path
from nianbao.safetext import clean, path_text, relative_posix


@pytest.mark.parametrize(("raw", "shown"), [
    ("交通运输局", "交通运输局"),
    ("交通\x1b[31m局", "交通\ufffd[31m局"),  # a terminal escape
    ("交通\u202e局", "交通\ufffd局"),  # a bidi override
    ("第一行\r\n第二行\t完", "第一行  第二行 完"),
    ("名\x00称", "名\ufffd称"),
    ("私\ue000用", "私\ufffd用"),  # private use
    ("全角\u3000空格 and space", "全角\u3000空格 and space"),  # printable separators stay
])
def test_clean_neutralises_control_characters_only(raw: str, shown: str) -> None:
    assert clean(raw) == shown


def test_clean_cuts_long_values_printable_or_not() -> None:
    assert clean("局" * 200, limit=10) == "局" * 10 + "…（共 200 字）"
    assert clean("\x07" * 200, limit=10) == "\ufffd" * 10 + "…（共 200 字）"
    assert clean("局" * 200, limit=0) == "局" * 200


def test_clean_decodes_gbk_file_name_bytes() -> None:
    name = "交通局.xlsx".encode("gbk").decode("utf-8", "surrogateescape")
    assert clean(name) == "交通局.xlsx"


def test_display_path_inside_outside_and_through_dotdot(tmp_path: Path) -> None:
    base = tmp_path / "ws"
    (base / "inputs").mkdir(parents=True)
    assert display_path(base / "inputs" / "a.xlsx", base) == "inputs/a.xlsx"
    assert display_path(tmp_path / "other.xlsx", base) == str(tmp_path / "other.xlsx")
    # lexically under the base but not really: resolved before it is shown
    sneaky = base / "inputs" / ".." / ".." / "x.xlsx"
    assert display_path(sneaky, base) == str(sneaky)
    assert display_path(base / "inputs" / ".." / "b.xlsx", base) == "b.xlsx"


def test_display_path_relative_to_the_current_folder(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inputs").mkdir()
    assert display_path(Path("inputs") / "a.xlsx") == "inputs/a.xlsx"
    assert display_path(tmp_path / "inputs" / "a.xlsx") == "inputs/a.xlsx"


def test_display_path_of_a_gbk_name_is_printable(tmp_path: Path) -> None:
    name = os.fsdecode("交通局.xlsx".encode("gbk"))
    assert display_path(tmp_path / name, tmp_path) == "交通局.xlsx"
    assert path_text(tmp_path / name).endswith("交通局.xlsx")


def test_relative_posix_lexical_resolved_and_outside(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "ws" / "inputs"
    (base / "sub").mkdir(parents=True)
    assert relative_posix(base / "sub" / "a.xlsx", base) == "sub/a.xlsx"
    assert relative_posix(tmp_path / "a.xlsx", base) is None
    assert relative_posix(base / ".." / "a.xlsx", base) is None  # resolved: outside
    monkeypatch.chdir(tmp_path / "ws")
    assert relative_posix(Path("inputs/sub/a.xlsx"), base) == "sub/a.xlsx"
    assert relative_posix(base / "sub" / "a.xlsx", Path("inputs")) == "sub/a.xlsx"
