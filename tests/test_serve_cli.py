"""`nianbao links` / `password`, links in feedback texts, online returns seen by status."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook
from servekit import ROWS, Workspace, bad_workbook, good_workbook, make_workspace

from nianbao.cli import main
from nianbao.web.secrets_store import stored_password, verify_password


def _ws(tmp_path: Path, db_url: str) -> Workspace:
    return make_workspace(tmp_path / "ws", db_url, base_url="https://nb.example.gov.cn")


def test_links_are_stable_exported_and_rotated(db_url: str, tmp_path: Path) -> None:
    ws = _ws(tmp_path, db_url)
    runner = CliRunner()

    listed = runner.invoke(main, ["links", "-w", str(ws.root)])
    again = runner.invoke(main, ["links", "-w", str(ws.root)])
    exported = runner.invoke(main, ["links", "-w", str(ws.root), "-o", str(tmp_path / "l.xlsx")])
    rotated = runner.invoke(main, ["links", "-w", str(ws.root), "--rotate", ROWS[0].code])
    after = runner.invoke(main, ["links", "-w", str(ws.root)])
    unknown = runner.invoke(main, ["links", "-w", str(ws.root), "--rotate", "NOPE"])

    assert listed.exit_code == 0 and listed.output == again.output
    first = listed.output.splitlines()[0].split("\t")
    assert first[:2] == [ROWS[0].code, ROWS[0].name]
    assert first[2] == "https://nb.example.gov.cn" + ws.links[ROWS[0].code]
    assert len(first[2].rsplit("/", 1)[1]) >= 22  # ≥ 128 bits in base64url
    sheet = load_workbook(tmp_path / "l.xlsx").active
    assert [c.value for c in sheet[1]] == ["编码", "单位", "链接"]
    assert sheet.max_row == len(ROWS) + 1 and exported.exit_code == 0
    assert rotated.exit_code == 0 and "旧链接已失效" in rotated.output
    new_first = after.output.splitlines()[0].split("\t")[2]
    assert new_first != first[2] and new_first in rotated.output
    assert after.output.splitlines()[1:] == listed.output.splitlines()[1:]
    assert unknown.exit_code == 2


def test_password_is_stored_hashed(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    result = CliRunner().invoke(main, ["password", "-w", str(ws.root), "--stdin"],
                                input="a-long-new-password\n")

    stored = stored_password(ws.root)
    assert result.exit_code == 0 and stored is not None
    assert "a-long-new-password" not in stored and verify_password(stored, "a-long-new-password")
    short = CliRunner().invoke(main, ["password", "-w", str(ws.root), "--stdin"], input="short\n")
    assert short.exit_code == 2


def test_online_returns_are_seen_by_status_without_pins_and_feedback_has_links(
        db_url: str, tmp_path: Path) -> None:
    ws = _ws(tmp_path, db_url)
    online = ws.root / "inputs" / "online"
    # a unit's own link pins its files, even a form copied from another unit
    good_workbook(online / ROWS[0].code / "20260110-090000-000_aaaaaaaa.xlsx", index=1)
    bad_workbook(online / ROWS[2].code / "20260110-090000-000_bbbbbbbb.xlsx", index=2)

    result = CliRunner().invoke(main, ["status", "-w", str(ws.root), "--json"])

    assert result.exit_code == 1, result.output
    import json

    states = {u["code"]: u["state"] for u in json.loads(result.output)["units"]}
    assert states[ROWS[0].code] in ("有警告", "已通过")
    assert states[ROWS[1].code] == "未报送"
    assert states[ROWS[2].code] == "数据有误"
    feedback = next((ws.root / "outputs" / "feedback").glob(f"{ROWS[2].code}_*.txt"))
    link = "https://nb.example.gov.cn" + ws.links[ROWS[2].code]
    assert link in feedback.read_text("utf-8")
    reminder = (ws.root / "outputs" / "催报名单.txt").read_text("utf-8")
    assert "https://nb.example.gov.cn" + ws.links[ROWS[1].code] in reminder


def test_links_survive_a_gbk_console(tmp_path: Path) -> None:
    """A Windows console in GBK cannot show 𠮷 (a real place-name character): it becomes ?."""
    import dataclasses
    import os
    import subprocess
    import sys

    rows = [dataclasses.replace(ROWS[0], name="𠮷安县教育局"), *ROWS[1:3]]
    ws = make_workspace(tmp_path / "ws", base_url="https://nb.example.gov.cn", rows=rows)

    done = subprocess.run([sys.executable, "-m", "nianbao", "links", "-w", str(ws.root)],
                          capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "gbk", "PYTHONUTF8": "0"})

    assert done.returncode == 0, done.stderr.decode("gbk", "replace")
    out = done.stdout.decode("gbk")
    assert "?安县教育局" in out and ws.links[ROWS[0].code] in out
    assert ROWS[1].name in out and b"Traceback" not in done.stderr
