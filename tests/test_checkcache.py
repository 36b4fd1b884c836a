"""The reports kept between runs: reused only for the very same file, code and settings."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from cyclekit import YEAR, county_rows, submission, write_form, write_roster_xlsx

from nianbao import checkcache
from nianbao.check import check_files
from nianbao.checkcache import CACHE_NAME, CheckCache
from nianbao.cli import main
from nianbao.config import Config, load_config
from nianbao.kinds import finding
from nianbao.model import FileReport
from nianbao.runner import gather
from nianbao.settings import DEFAULT_SETTINGS


def _workspace(tmp_path: Path, count: int = 3) -> tuple[Config, list]:
    rows = county_rows()[:count]
    ws = tmp_path / "ws"
    made = CliRunner().invoke(main, ["init", str(ws), "--year", str(YEAR), "--roster",
                                     str(write_roster_xlsx(tmp_path / "名单.xlsx", rows))])
    assert made.exit_code == 0, made.output
    for i, row in enumerate(rows):
        write_form(ws / "inputs" / f"{row.short}.xlsx", submission(row, seed=i),
                   edits={"t3.r4.natural": 999} if i == 0 else None)
    config = load_config(ws)
    assert config is not None
    return config, rows


def _by_file(config: Config, log: list[str] | None = None) -> dict[str, dict[str, object]]:
    gathered = gather(config, jobs=1, log=log.append if log is not None else None)
    return {m.report.file.name: m.report.to_dict() for ms in gathered.matching.by_unit.values()
            for m in ms}


def test_a_second_run_reuses_every_unchanged_files_report_and_finds_the_same(
        tmp_path: Path) -> None:
    config, rows = _workspace(tmp_path)
    first = _by_file(config)
    assert (config.outputs / CACHE_NAME).is_file()

    log: list[str] = []
    second = _by_file(config, log)

    assert second == first  # values, narrative and findings (the error of the first unit)
    assert f"其中 {len(rows)} 个文件自上次运行以来没有变化，沿用上次的校验结果。" in log


def test_a_file_changed_since_is_read_again_even_with_its_old_time_and_size(
        tmp_path: Path) -> None:
    """Copying another version over a file (its old modification time kept, as copy tools
    do) is seen by the file's change time."""
    config, rows = _workspace(tmp_path)
    path = config.inputs / f"{rows[1].short}.xlsx"
    _by_file(config)
    before = os.stat(path)
    write_form(path, submission(rows[1], seed=1), edits={"t3.r1.natural": 4321})
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    log: list[str] = []
    again = _by_file(config, log)

    values = again[path.name]["values"]
    assert isinstance(values, dict) and values["t3.r1.natural"] == 4321
    assert f"其中 {len(rows) - 1} 个文件自上次运行以来没有变化，沿用上次的校验结果。" in log


def test_other_settings_or_other_code_read_everything_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config, _ = _workspace(tmp_path)
    files = sorted(config.inputs.iterdir())
    cache_path = config.outputs / CACHE_NAME
    with CheckCache(cache_path, DEFAULT_SETTINGS) as cache:
        check_files(files, DEFAULT_SETTINGS, jobs=1, cache=cache)

    other = dataclasses.replace(DEFAULT_SETTINGS, text_similar=not DEFAULT_SETTINGS.text_similar)
    with CheckCache(cache_path, other) as cache:
        check_files(files, other, jobs=1, cache=cache)
        assert cache.hits == 0
    monkeypatch.setattr(checkcache, "code_digest", lambda: "another-version")
    with CheckCache(cache_path, other) as cache:
        check_files(files, other, jobs=1, cache=cache)
        assert cache.hits == 0
    with CheckCache(cache_path, other) as cache:  # the same code and settings again
        check_files(files, other, jobs=1, cache=cache)
        assert cache.hits == len(files)


def test_a_file_that_could_not_be_opened_is_tried_again_next_time(tmp_path: Path) -> None:
    path = tmp_path / "表.xlsx"
    path.write_bytes(b"PK\x03\x04")
    locked = FileReport(file=path, submission=None,
                        findings=(finding("file-unreadable", reason="文件被其他程序占用"),))
    corrupt = FileReport(file=path, submission=None, findings=(finding("file-corrupt"),))

    with CheckCache(tmp_path / CACHE_NAME, DEFAULT_SETTINGS) as cache:
        assert cache.get(path) is None  # looked up before it is read
        cache.put(path, locked)
        assert cache.get(path) is None
        cache.put(path, corrupt)
        assert cache.get(path) == corrupt


def test_a_file_changed_while_it_was_being_read_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "表.xlsx"
    path.write_bytes(b"PK\x03\x04")
    report = FileReport(file=path, submission=None, findings=(finding("file-corrupt"),))

    with CheckCache(tmp_path / CACHE_NAME, DEFAULT_SETTINGS) as cache:
        assert cache.get(path) is None
        path.write_bytes(b"PK\x03\x04, saved again by the agency meanwhile")
        cache.put(path, report)  # made from what the file held before
        assert cache.get(path) is None


def test_files_no_longer_there_are_forgotten_and_odd_names_are_kept(tmp_path: Path) -> None:
    config, rows = _workspace(tmp_path)
    odd = config.inputs / os.fsdecode(b"\xbd\xcc\xd3\xfd.xlsx")  # GBK bytes, not UTF-8
    (config.inputs / f"{rows[2].short}.xlsx").rename(odd)
    _by_file(config)
    gone = config.inputs / f"{rows[1].short}.xlsx"
    gone.unlink()

    log: list[str] = []
    _by_file(config, log)

    assert "其中 2 个文件自上次运行以来没有变化，沿用上次的校验结果。" in log
    with sqlite3.connect(config.outputs / CACHE_NAME) as db:
        kept = {os.fsdecode(bytes(p)) for (p,) in db.execute("SELECT path FROM reports")}
    assert kept == {str(config.inputs / f"{rows[0].short}.xlsx"), str(odd)}


def test_a_damaged_cache_is_replaced_and_a_busy_one_is_left_alone(tmp_path: Path) -> None:
    config, rows = _workspace(tmp_path)
    cache_path = config.outputs / CACHE_NAME
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache_path.write_bytes(b"not a database at all" * 100)
    first = _by_file(config)  # the run goes on; the cache is made anew
    log: list[str] = []
    assert _by_file(config, log) == first
    assert f"其中 {len(rows)} 个文件自上次运行以来没有变化，沿用上次的校验结果。" in log

    holder = sqlite3.connect(cache_path)  # another process writing to it
    holder.execute("BEGIN EXCLUSIVE")
    try:
        log = []
        assert _by_file(config, log) == first  # read again: the cache is off for this run
        assert not any("沿用上次的校验结果" in line for line in log)
    finally:
        holder.rollback()
        holder.close()
    assert cache_path.stat().st_size > 0  # not deleted as if damaged
