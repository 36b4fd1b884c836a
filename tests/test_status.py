"""Unit states, feedback texts, the 催报 list, the configuration and the run lock."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from nianbao.config import ConfigError, load_config, render_config
from nianbao.matching import How, Match, Matching
from nianbao.model import FileReport, Finding, Severity, Submission
from nianbao.roster import Roster, Unit
from nianbao.runner import LockHeld, pid_alive, run_lock
from nianbao.status import State, make_board, state_of
from nianbao.status_output import feedback_text, reminder_text

UNIT = Unit(code="D1", name="青山县教育局", contact="张三", phone="123")
ERR = Finding(code="t3-balance", severity=Severity.ERROR, message="一加二不等于三加四。",
              sheet="表三 依申请公开", cell="D30")
WARN = Finding(code="blank-as-zero", severity=Severity.WARNING, message="未填写，已按 0 处理。",
               sheet="表二 主动公开", cell="C8")
FILE_ERR = Finding(code="file-old-format", severity=Severity.ERROR, message="旧版 Excel。")


def fr(tmp_path, findings=(), readable=True):
    path = tmp_path / "教育局.xlsx"
    path.write_bytes(b"")
    return FileReport(file=path, submission=Submission(agency=UNIT.name) if readable else None,
                      findings=tuple(findings))


def test_state_of(tmp_path):
    assert state_of(None) is State.MISSING
    assert state_of(fr(tmp_path, [FILE_ERR], readable=False)) is State.UNREADABLE
    assert state_of(fr(tmp_path, [ERR, WARN])) is State.ERRORS
    assert state_of(fr(tmp_path, [WARN])) is State.WARNINGS
    assert state_of(fr(tmp_path)) is State.PASSED
    assert state_of(fr(tmp_path, [WARN]), built=True) is State.BUILT


def board(tmp_path, report, built=False):
    roster = Roster(units=(UNIT, Unit(code="D2", name="青山县公安局")))
    matching = Matching(by_unit={"D1": (Match(report=report, unit=UNIT, how=How.CODE,
                                              mtime=1.7e9),)} if report else {})
    return make_board(roster, matching, year=2025, is_built=lambda r: built,
                      dates={"deadline": dt.date(2026, 1, 20)})


def test_board_marks_built_only_units_that_passed(tmp_path):
    good = board(tmp_path, fr(tmp_path, [WARN]), built=True)
    bad = board(tmp_path, fr(tmp_path, [ERR]), built=True)

    assert good.units[0].state is State.BUILT and good.units[0].label == "已生成（1 条警告）"
    assert bad.units[0].label == "数据有误（1 个错误）"
    assert good.units[1].state is State.MISSING and not good.all_good


def test_feedback_lists_cells_to_fix(tmp_path):
    status = board(tmp_path, fr(tmp_path, [ERR, WARN])).units[0]

    text = feedback_text(status, 2025)

    assert text.startswith("青山县教育局：\n贵单位报送的《教育局.xlsx》")
    assert "有 1 处错误需要修改，1 处提示请核实" in text
    assert "1. 【表三 依申请公开 D30】一加二不等于三加四。" in text
    assert "1. 【表二 主动公开 C8】未填写，已按 0 处理。" in text


def test_feedback_for_missing_unreadable_and_clean_units(tmp_path):
    missing = board(tmp_path, None).units[0]
    unreadable = board(tmp_path, fr(tmp_path, [FILE_ERR], readable=False)).units[0]
    clean = board(tmp_path, fr(tmp_path)).units[0]

    assert "尚未收到贵单位的2025年度" in feedback_text(missing, 2025)
    assert "无法读取：\n1. 旧版 Excel。" in feedback_text(unreadable)
    assert "已通过校验，无需修改" in feedback_text(clean)


def test_reminder_lists_missing_units_with_contacts_and_deadline(tmp_path):
    text = reminder_text(board(tmp_path, None), today=dt.date(2026, 1, 15))

    assert "报送截止：2026-01-20" in text and "距报送截止还有 5 天。" in text
    assert "1. D1 青山县教育局（张三，123）" in text and "2. D2 青山县公安局" in text
    assert "于 1月20日前" in text


def test_config_round_trips_and_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "nianbao.toml").write_text(render_config(
        year=2025, roster="名单.csv", summary_name="青山县人民政府", template=None,
        scope=("县级部门",), previous="../2024"), encoding="utf-8")
    (tmp_path / "sub").mkdir()

    config = load_config(tmp_path / "sub")

    assert config.year == 2025 and config.roster == tmp_path.resolve() / "名单.csv"
    assert config.previous == tmp_path.resolve().parent / "2024"
    assert config.template is None and config.scope == ("县级部门",)
    assert config.settings.expected_year == 2025 and config.dates["deadline"] == dt.date(2026, 1, 31)
    assert config.override(carryover_error=True, jobs=None).settings.carryover_error is True


@pytest.mark.parametrize(("text", "message"), [
    ("year = ", "格式有误"), ('year = "2025"\nroster = "a.csv"', "报告年度"),
    ('year = 2025\nroster = "a.csv"\n[pins]\n"a.xlsx" = 3', "[pins]"),
    ('year = 2025\nroster = "a.csv"\n[dates]\ndeadline = "明天"', "应为日期"),
])
def test_bad_config_is_a_clear_error(tmp_path, text, message):
    (tmp_path / "nianbao.toml").write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(tmp_path)


def test_no_config_outside_a_workspace(tmp_path):
    assert load_config(tmp_path) is None


def test_lock_is_exclusive_and_removed_after(tmp_path):
    lock = tmp_path / "outputs" / ".nianbao.lock"

    with run_lock(lock) as stale:
        held = json.loads(lock.read_text(encoding="utf-8"))
        with pytest.raises(LockHeld) as info, run_lock(lock):
            pass

    assert stale is None and held["pid"] == os.getpid()
    assert info.value.holder.pid == os.getpid()
    assert not lock.exists()


def test_lock_from_another_machine_is_never_taken_over(tmp_path):
    lock = tmp_path / ".nianbao.lock"
    lock.write_text(json.dumps({"pid": 999999999, "started": "x", "host": "other-host"}))

    with pytest.raises(LockHeld, match="other-host"), run_lock(lock):
        pass


def test_empty_lock_file_is_stale_only_when_old(tmp_path):
    lock = tmp_path / ".nianbao.lock"
    lock.write_text("")
    with pytest.raises(LockHeld), run_lock(lock):
        pass
    os.utime(lock, (1, 1))

    with run_lock(lock) as stale:
        assert stale is None

    assert not Path(lock).exists()


def test_pid_alive():
    assert pid_alive(os.getpid()) and not pid_alive(0)
