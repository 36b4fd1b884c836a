"""The catalogue of finding kinds is the only place that spells a code, severity or message."""

from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from nianbao import kinds
from nianbao.check import check_file
from nianbao.cli import main
from nianbao.intake import IntakeData, write_intake
from nianbao.kinds import KINDS, Kind, Stage
from nianbao.model import Severity
from nianbao.schema import FORMATS
from nianbao.settings import Settings
from nianbao.values import Issue

SRC = Path(__file__).resolve().parent.parent / "src" / "nianbao"
README = SRC.parent.parent / "README.md"
BUILDERS = {"finding", "_finding", "_problem"}  # take a kind id first, as do kinds.text/kind


def _calls(path: Path) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(path.read_text("utf-8"))) if isinstance(n, ast.Call)]


def _name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""


def test_kinds_no_finding_is_built_outside_the_catalogue() -> None:
    offenders = [f"{p.name}:{c.lineno}" for p in SRC.rglob("*.py") if p.name != "kinds.py"
                 for c in _calls(p) if _name(c) == "Finding"]

    assert offenders == [], "build findings with nianbao.kinds.finding(...)"


def test_kinds_template_problems_take_their_wording_from_the_catalogue() -> None:
    offenders = [f"{p.name}:{c.lineno}" for p in SRC.rglob("*.py")
                 for c in _calls(p) if _name(c) == "TemplateProblem"
                 and not any(k.arg == "message" and isinstance(k.value, ast.Call)
                             and _name(k.value) == "text" for k in c.keywords)]

    assert offenders == []


def test_kinds_every_literal_kind_id_in_the_code_is_declared() -> None:
    used = {(p.name, c.args[0].value) for p in SRC.rglob("*.py") for c in _calls(p)
            if (_name(c) in BUILDERS or isinstance(c.func, ast.Attribute) and isinstance(
                c.func.value, ast.Name) and c.func.value.id == "kinds") and c.args and isinstance(c.args[0], ast.Constant)
            and isinstance(c.args[0].value, str) and (":" in c.args[0].value
                                                      or c.args[0].value in kinds.CODES)}

    assert len(used) > 50
    assert [u for u in used if u[1] not in kinds.CATALOGUE] == []


def test_kinds_schema_rules_and_cell_issues_all_have_a_kind() -> None:
    codes = {str(i) for i in Issue}
    for spec in FORMATS.values():
        codes |= {s.code for s in spec.sums} | {b.code for b in spec.balances}

    assert sorted(codes - set(kinds.CATALOGUE)) == []


def test_kinds_are_well_formed() -> None:
    for k in KINDS:
        fields = {f for _, f, _, _ in string.Formatter().parse(k.message) if f}
        message = k.message.format(**{f.split(":")[0].split(".")[0]: 1 for f in fields})
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message + k.hint) or not message.strip(
            "{}"), k.id
        assert k.hint and any("\u4e00" <= ch <= "\u9fff" for ch in k.hint), k.id
        assert k.code.replace("-", "").isalnum() and k.code == k.code.lower(), k.id
        assert not fields & {"sheet", "cell", "key", "related", "expected", "actual",
                             "settings"}, k.id
        for flag in (k.escalate, k.switch):
            assert flag is None or hasattr(Settings(), flag), (k.id, flag)
    for code in kinds.CODES:
        group = [k for k in KINDS if k.code == code]
        assert sum(1 for k in group if k.summary) == 1, code
        assert len({k.stage for k in group}) == 1 or code in {"render-failed", "unreadable"}


def test_kinds_readme_rule_table_is_the_catalogue() -> None:
    readme = README.read_text("utf-8")

    assert kinds.README_BEGIN in readme and kinds.README_END in readme
    assert kinds.sync_readme(readme) == readme, "run: python -m nianbao.kinds README.md"
    for code in kinds.CODES:
        assert f"| `{code}` |" in readme


def test_kinds_escalation_comes_from_the_settings_named_in_the_catalogue() -> None:
    kind = kinds.kind("blank-as-zero")

    assert kind.escalate == "blank_is_error"
    assert kinds.finding("blank-as-zero", what="“x”").severity is Severity.WARNING
    assert kinds.finding("blank-as-zero", settings=Settings(blank_is_error=True),
                         what="“x”").severity is Severity.ERROR
    assert kinds.kind("xyear-carryover").severity_for(
        Settings(carryover_error=True)) is Severity.ERROR


def test_kinds_a_switched_off_kind_is_dropped() -> None:
    switched = Kind("x-demo", Severity.WARNING, Stage.TEXT, "示例", "示例", switch="blank_is_error")

    assert switched.enabled(Settings(blank_is_error=True))
    assert not switched.enabled(Settings(blank_is_error=False))


def test_kinds_findings_carry_the_hint_into_check_json(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    write_intake(path, IntakeData(agency="某某县财政局", code="F01", year=2025))
    wb = load_workbook(path)
    ws = wb["表三 依申请公开"]
    cell = next(c for row in ws.iter_rows() for c in row
                if c.value is None and c.protection.locked is False)
    cell.value = "十二"
    wb.save(path)

    report = check_file(path)
    result = CliRunner().invoke(main, ["check", "--json", str(path)])

    bad = next(f for f in report.findings if f.code == "not-a-number")
    assert bad.hint == kinds.kind("not-a-number").hint
    assert bad.message == kinds.text("not-a-number", what=f"“{bad.message[1:].split('”')[0]}”",
                                     got="“十二”")
    got = json.loads(result.output)
    entry = next(f for f in got[0]["findings"] if f["code"] == "not-a-number")
    assert entry["hint"] == bad.hint and entry["cell"] == cell.coordinate


@pytest.mark.parametrize("kind_id", ["file-not-xlsx:html", "table-duplicate:same"])
def test_kinds_variants_share_their_code(kind_id: str) -> None:
    assert kinds.kind(kind_id).code == kind_id.split(":")[0]
    assert kinds.kind(kind_id).code in kinds.CODES
