"""The intake workbook read back with openpyxl: locks, validations, formulas, metadata."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from nianbao.check import check_file
from nianbao.cli import main
from nianbao.layout import CHECK_SHEET, META_SHEET, workbook_layout
from nianbao.model import Severity
from nianbao.schema import GB2021, CellKind, ValueType


def _form(tmp_path: Path) -> Path:
    out = tmp_path / "form.xlsx"
    result = CliRunner().invoke(main, ["form", "-o", str(out), "--agency", "青山县民政局",
                                       "--code", "D017", "--year", "2025"])
    assert result.exit_code == 0, result.output
    return out


def _validations(ws) -> dict[str, object]:
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[rng.coord] = dv
    return out


def test_intake_sheets_metadata_and_header(tmp_path: Path) -> None:
    wb = load_workbook(_form(tmp_path))

    names = [name for _, name in GB2021.sheets]
    assert wb.sheetnames == [names[0], CHECK_SHEET, *names[1:], META_SHEET]
    assert wb[META_SHEET].sheet_state == "veryHidden"
    meta = {row[0]: row[1] for row in wb[META_SHEET].iter_rows(values_only=True)}
    assert meta["form_version"] == GB2021.form_version and meta["agency_code"] == "D017"
    assert meta["year"] == 2025
    assert wb.defined_names["NB_FORM_VERSION"].attr_text == f"{META_SHEET}!$B$2"
    for name in ("表二 主动公开", "表三 依申请公开", "表四 复议诉讼"):
        ws = wb[name]
        assert ws["A1"].value.startswith("填报单位：青山县民政局（编码：D017）")
        assert ws["A1"].protection.locked
        assert ws.protection.sheet
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 == "9"
        assert ws.freeze_panes is not None
    assert wb.security.lockStructure


def test_intake_every_cell_locked_validated_or_formula(tmp_path: Path) -> None:
    wb = load_workbook(_form(tmp_path))
    layout = workbook_layout()

    for key, cell in GB2021.cells.items():
        sheet, address = layout.cell(key)
        ws = wb[sheet]
        target = ws[address]
        if cell.kind is CellKind.COMPUTED:
            assert target.protection.locked, key
            assert str(target.value).startswith("=SUM("), key
            parts = [layout.cell(p)[1] for p in GB2021.formulas[key].parts]
            assert target.value == f"=SUM({','.join(parts)})"
        else:
            assert not target.protection.locked, key
            assert target.value is None, key
            dv = _validations(ws)[address]
            if cell.type is ValueType.AMOUNT:
                assert dv.type == "custom" and "ROUND" in dv.formula1
                assert target.number_format == "0.0000"
            else:
                assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0")
            assert dv.prompt and dv.error and dv.errorStyle == "stop"


def test_intake_info_sheet_prefilled_fields_locked(tmp_path: Path) -> None:
    wb = load_workbook(_form(tmp_path))
    ws = wb["基本信息"]
    layout = workbook_layout()

    assert ws[layout.info_cell("agency")].value == "青山县民政局"
    assert ws[layout.info_cell("agency")].protection.locked
    assert ws[layout.info_cell("year")].value == 2025
    assert not ws[layout.info_cell("contact")].protection.locked
    assert not ws[layout.info_cell("s1")].protection.locked
    assert ws[layout.info_cell("s1")].alignment.wrap_text


def test_intake_blank_form_is_one_error_not_170_warnings(tmp_path: Path) -> None:
    report = check_file(_form(tmp_path))

    assert not report.valid
    assert [(f.code, f.severity) for f in report.findings] == [("form-blank", Severity.ERROR)]
    assert "空表" in report.findings[0].message


def test_intake_typed_zeros_are_not_blank(tmp_path: Path) -> None:
    from nianbao.synth import type_into

    path = _form(tmp_path)
    type_into(path, dict.fromkeys(GB2021.input_keys, 0))

    report = check_file(path)

    assert report.valid and "form-blank" not in {f.code for f in report.findings}


def test_intake_filled_form_round_trips(make_submission, make_workbook) -> None:
    sub = make_submission(11)

    report = check_file(make_workbook(sub))

    assert report.valid, report.errors
    assert dict(report.submission.values) == dict(sub.values)
    assert report.submission.narrative == sub.narrative
    assert (report.submission.agency, report.submission.code, report.submission.year) == (
        sub.agency, sub.code, sub.year)


def test_form_command_rejects_other_suffix(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["form", "-o", str(tmp_path / "a.xls"), "--agency", "甲",
                                       "--year", "2025"])

    assert result.exit_code == 2
    assert ".xlsx" in result.output


def test_form_command_never_overwrites_without_force(tmp_path: Path) -> None:
    out = _form(tmp_path)
    received = out.read_bytes()
    runner = CliRunner()
    args = ["form", "-o", str(out), "--agency", "另一个局", "--year", "2025"]

    refused = runner.invoke(main, args)

    assert refused.exit_code == 2 and "已存在" in refused.output
    assert out.read_bytes() == received
    assert runner.invoke(main, [*args, "--force"]).exit_code == 0
    assert out.read_bytes() != received


def test_form_command_usage_errors_are_chinese(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["form", "-o", str(tmp_path / "a.xlsx"), "--agency", " ",
                                       "--year", "2025"])

    assert result.exit_code == 2
    assert result.output.startswith("用法错误：") and "单位全称不能为空" in result.output
