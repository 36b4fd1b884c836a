"""`nianbao build`: one report per valid agency, safe names, incremental, repeatable, parallel."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import docx
import pytest
from word_helpers import table_rows

from nianbao.build import MANIFEST, Status, build_all
from nianbao.check import check_file
from nianbao.cli import main
from nianbao.context import format_value
from nianbao.layout import Role, section_grid
from nianbao.naming import safe_filename
from nianbao.schema import GB2021

INPUTS = Path(__file__).resolve().parent.parent / "inputs"
REPORT = "{}{}年政府信息公开工作年度报告.docx"


def _numbers_equal_input(path: Path, values) -> int:
    document = docx.Document(str(path))
    sections = [s for s in GB2021.sections if s.tables]
    checked = 0
    for section, table in zip(sections, document.tables, strict=True):
        cells = {(r, c): text for r, row in enumerate(table_rows(table)) for c, text in row}
        for block in section_grid(section).blocks:
            if block.role is Role.VALUE:
                assert cells[(block.row, block.col)] == format_value(values[block.key]), block.key
                checked += 1
    return checked


@pytest.fixture
def folder(tmp_path, make_submission, make_workbook) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("获嘉县政务服务和大数据管理局2021年报数据.xlsx", "清源市人民政府办公室.xlsx",
                 "交通局年报(1).xlsx"):
        shutil.copy(INPUTS / name, src / name)
    for seed in (41, 42):
        shutil.copy(make_workbook(make_submission(seed, scale=300)), src / f"r{seed}.xlsx")
    return src


def test_build_every_report_opens_and_numbers_equal_input(folder, tmp_path) -> None:
    out = tmp_path / "out"

    summary = build_all([folder], out, jobs=2)

    built = [o for o in summary.outcomes if o.status == Status.BUILT]
    assert len(built) == 4
    for outcome in built:
        report = check_file(outcome.file)
        assert outcome.outputs[0].name == REPORT.format(report.agency, report.year)
        assert _numbers_equal_input(outcome.outputs[0], report.submission.values) == 200
    refused = [o for o in summary.outcomes if o.status == Status.REFUSED]
    assert [o.file.name for o in refused] == ["交通局年报(1).xlsx"]
    assert {f.code for f in refused[0].reasons} >= {"t3-balance", "not-an-integer"}
    assert "未生成 1" in (out / "生成情况.txt").read_text("utf-8")
    assert json.loads((out / "build-summary.json").read_text("utf-8"))["counts"]["built"] == 4


def test_build_rerun_rebuilds_nothing_then_exactly_the_changed_one(folder, tmp_path,
                                                                   make_submission,
                                                                   make_workbook) -> None:
    out = tmp_path / "out"
    first = build_all([folder], out, jobs=1)
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*.docx")}

    second = build_all([folder], out, jobs=1)

    assert second.count(Status.BUILT) == 0 and second.count(Status.UNCHANGED) == 4
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.docx")} == stamps
    changed = folder / "r41.xlsx"
    sub = make_submission(41, scale=300)
    shutil.copy(make_workbook(sub, edits={"t2_5.licensing.decisions": 123456}), changed)

    third = build_all([folder], out, jobs=2)

    assert [o.file.name for o in third.outcomes if o.status == Status.BUILT] == ["r41.xlsx"]
    assert third.count(Status.UNCHANGED) == 3
    assert first.count(Status.BUILT) == 4


def test_a_rerun_of_checked_reports_settles_the_unchanged_without_a_worker(
        folder, tmp_path, monkeypatch, make_submission, make_workbook) -> None:
    """`nianbao run` hands the build reports checked beforehand: an unchanged one and one
    with errors are settled in this process (the report is never sent to a worker); a
    changed one, and every valid one with ``force``, go to the worker."""
    import nianbao.build as build

    out = tmp_path / "out"
    reports = [check_file(p) for p in sorted(folder.glob("*.xlsx"))]
    invalid = [r.file.name for r in reports if not r.valid]
    assert build_all(reports, out, jobs=1).count(Status.BUILT) == 4 and len(invalid) == 1
    sent: list[str] = []
    real = build._process

    def recording(job):  # in this process (jobs=1): the jobs that reach a worker
        sent.append(job.file.name)
        return real(job)

    monkeypatch.setattr(build, "_process", recording)
    again = build_all(reports, out, jobs=1)
    assert again.count(Status.UNCHANGED) == 4 and sent == []
    assert [o.file.name for o in again.outcomes if o.status == Status.REFUSED] == invalid
    refused = next(o for o in again.outcomes if o.status == Status.REFUSED)
    assert refused.reasons and all(f.severity == "error" for f in refused.reasons)

    changed = folder / "r41.xlsx"
    shutil.copy(make_workbook(make_submission(41, scale=300),
                              edits={"t2_5.licensing.decisions": 123456}), changed)
    sent.clear()
    third = build_all([check_file(p) for p in sorted(folder.glob("*.xlsx"))], out, jobs=1)
    assert sent == ["r41.xlsx"]
    assert [o.file.name for o in third.outcomes if o.status == Status.BUILT] == ["r41.xlsx"]
    assert third.count(Status.UNCHANGED) == 3

    sent.clear()
    assert build_all(reports, out, jobs=1, force=True).count(Status.BUILT) == 4
    assert len(sent) == 4


def test_build_force_gives_byte_identical_outputs(folder, tmp_path) -> None:
    out = tmp_path / "out"
    build_all([folder], out, jobs=2, html=True)
    before = {p.name: p.read_bytes() for p in out.glob("*.*ml")} | {
        p.name: p.read_bytes() for p in out.glob("*.docx")}

    again = build_all([folder], out, jobs=1, html=True, force=True)

    assert again.count(Status.BUILT) == 4
    after = {p.name: p.read_bytes() for p in out.glob("*.*ml")} | {
        p.name: p.read_bytes() for p in out.glob("*.docx")}
    assert after == before
    assert len([n for n in after if n.endswith(".html")]) == 4


def test_build_template_change_rebuilds_all(folder, tmp_path) -> None:
    from nianbao.build import default_template

    out = tmp_path / "out"
    template = tmp_path / "my.docx"
    template.write_bytes(default_template().read_bytes())
    build_all([folder], out, template=template)
    assert build_all([folder], out, template=template).count(Status.UNCHANGED) == 4
    document = docx.Document(str(template))
    document.add_paragraph("（本报告由青山县政务公开办统一编印）")
    document.save(str(template))

    changed = build_all([folder], out, template=template)

    assert changed.count(Status.BUILT) == 4 and changed.count(Status.UNCHANGED) == 0
    built = next(o for o in changed.outcomes if o.status == Status.BUILT)
    text = [p.text for p in docx.Document(str(built.outputs[0])).paragraphs]
    assert "（本报告由青山县政务公开办统一编印）" in text


def test_build_drafts_marks_invalid_agencies(folder, tmp_path) -> None:
    out = tmp_path / "out"

    summary = build_all([folder], out, drafts=True)

    drafts = [o for o in summary.outcomes if o.status == Status.DRAFT]
    assert [o.outputs[0].name for o in drafts] == [
        "白水县交通运输局2025年政府信息公开工作年度报告（草稿）.docx"]
    text = "\n".join(p.text for p in docx.Document(str(drafts[0].outputs[0])).paragraphs)
    assert "草稿" in text


def test_build_duplicate_files_newest_counts(tmp_path, make_submission, make_workbook) -> None:
    import os

    src = tmp_path / "in"
    src.mkdir()
    sub = make_submission(43)
    old, new = src / "教育局.xlsx", src / "教育局(1).xlsx"
    shutil.copy(make_workbook(sub), old)
    shutil.copy(make_workbook(sub, edits={"t2_5.licensing.decisions": 77}), new)
    os.utime(old, (1_700_000_000, 1_700_000_000))

    summary = build_all([src], tmp_path / "out", jobs=2)

    status = {o.file.name: o for o in summary.outcomes}
    assert status["教育局(1).xlsx"].status == Status.BUILT
    assert status["教育局.xlsx"].status == Status.REFUSED
    assert status["教育局.xlsx"].reasons[0].code == "duplicate-agency"
    document = docx.Document(str(status["教育局(1).xlsx"].outputs[0]))
    assert "77" in [c.text for c in document.tables[0]._cells]


@pytest.mark.parametrize("name", [
    "../../etc/passwd", "a/b\\c:d*e?f\"g<h>i|j", "CON", "nul.txt", "…" + "很长的单位名称" * 60,
    "  .隐藏. ", "单位\x00\x1f名称\u202e",
])
def test_build_file_names_are_safe(tmp_path, name) -> None:
    safe = safe_filename(name, ".docx")

    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert len(safe.encode("utf-8")) <= 255
    assert safe.split(".")[0].upper() not in {"CON", "NUL", "PRN", "AUX"}
    assert (tmp_path / safe).parent == tmp_path
    (tmp_path / safe).write_bytes(b"x")  # the OS accepts it


def test_build_nasty_agency_name_stays_inside_output(tmp_path, make_submission,
                                                     make_workbook) -> None:
    import dataclasses

    from nianbao.intake import intake_from

    sub = make_submission(44)
    data = dataclasses.replace(intake_from(sub), agency="../../逃逸<局>&{{ agency }}" + "长" * 120)
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(make_workbook(data=data), src / "x.xlsx")
    out = tmp_path / "out"

    summary = build_all([src], out)

    (outcome,) = summary.outcomes
    assert outcome.status == Status.BUILT
    assert outcome.outputs[0].parent == out
    assert list(tmp_path.glob("*.docx")) == []
    title = docx.Document(str(outcome.outputs[0])).paragraphs[0].text
    assert title.startswith("../../逃逸<局>&{{ agency }}")


def test_build_cli_summary_and_exit_codes(runner, folder, tmp_path) -> None:
    out = tmp_path / "out"

    result = runner.invoke(main, ["build", str(folder), "-o", str(out), "--jobs", "2"])

    assert result.exit_code == 1  # one agency refused
    assert "[未生成] 白水县交通运输局（交通局年报(1).xlsx）" in result.stdout
    assert "共 5 个文件：已生成 4，未变化 0，草稿 0，未生成 1，失败 0。" in result.stdout
    assert "Traceback" not in result.output
    (folder / "交通局年报(1).xlsx").unlink()
    again = runner.invoke(main, ["build", str(folder), "-o", str(out), "--json"])
    assert again.exit_code == 0
    assert json.loads(again.stdout)["counts"]["unchanged"] == 4
    assert (out / MANIFEST).is_file()


def test_build_cli_bad_template_is_a_tool_error(runner, folder, tmp_path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"not a docx")

    result = runner.invoke(main, ["build", str(folder), "-o", str(tmp_path / "o"),
                                  "--template", str(bad)])

    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert result.output.startswith("错误：")


def test_template_check_cli(runner, tmp_path) -> None:
    from docx import Document

    from nianbao.build import default_template

    assert runner.invoke(main, ["template", "check", str(default_template())]).exit_code == 0
    for text, expected in (("{{ agency_name }}", "agency_name"), ("{% if draft %}", "endif")):
        doc = Document()
        doc.add_paragraph(text)
        path = tmp_path / "t.docx"
        doc.save(str(path))

        result = runner.invoke(main, ["template", "check", str(path)])

        assert result.exit_code == 1
        assert expected in result.stdout and "Traceback" not in result.output


def test_build_pdf_holds_the_numbers(tmp_path, make_submission, make_workbook) -> None:
    if not shutil.which("soffice") or not shutil.which("pdftotext"):
        pytest.skip("LibreOffice (soffice) or pdftotext not installed")
    import subprocess

    src = tmp_path / "in"
    src.mkdir()
    sub = make_submission(45, scale=300)
    shutil.copy(make_workbook(sub, edits={"t2_5.licensing.decisions": 98765}), src / "a.xlsx")
    out = tmp_path / "out"

    summary = build_all([src], out, pdf=True, jobs=1)

    pdf = out / REPORT.format(sub.agency, sub.year).replace(".docx", ".pdf")
    assert pdf.is_file() and not summary.pdf_failed
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "98765" in text
    assert str(sub.values["t3.r1.total"]) in text.split()
    assert "工作年度报告" in text and "行政事业性收费" in text
    again = build_all([src], out, pdf=True)
    assert "已是最新跳过 1 个" in again.notes[-1]


def test_build_compiles_the_template_once_per_worker(folder, tmp_path, monkeypatch) -> None:
    """Once in the main process (a broken template fails before any worker starts), then
    once per worker in its initializer: no per-document compile, no reliance on fork."""
    from nianbao import engine

    calls = tmp_path / "loads.txt"
    original = engine.Template.load.__func__

    def counting(cls, path):
        with calls.open("a") as fh:  # appended from any process, workers included
            fh.write("x")
        return original(cls, path)

    monkeypatch.setattr(engine.Template, "load", classmethod(counting))

    summary = build_all([folder], tmp_path / "out", jobs=2, start_method="fork")

    assert summary.count(Status.BUILT) == 4
    assert calls.read_text() == "xxx"


def test_build_with_spawned_workers_matches_a_single_process_build(folder, tmp_path) -> None:
    """The Windows start method: workers share nothing with the main process."""
    one = build_all([folder], tmp_path / "one", jobs=1)
    spawned = build_all([folder], tmp_path / "spawn", jobs=2, start_method="spawn")

    assert spawned.count(Status.BUILT) == one.count(Status.BUILT) == 4
    names = sorted(p.name for p in (tmp_path / "one").glob("*.docx"))
    assert names == sorted(p.name for p in (tmp_path / "spawn").glob("*.docx"))
    for name in names:
        assert (_document_text(tmp_path / "one" / name)
                == _document_text(tmp_path / "spawn" / name))


def test_build_stalled_workers_are_killed_and_their_jobs_fail(folder, tmp_path) -> None:
    summary = build_all([folder], tmp_path / "out", jobs=2, stall_seconds=0.001)

    stalled = [o for o in summary.outcomes if o.status == Status.FAILED]
    assert stalled and all(o.reasons[0].code == "render-failed" for o in stalled)
    assert "没有任何进展" in stalled[0].reasons[0].message
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert sorted(o.file for o in summary.outcomes) == sorted(files)  # every job answered once


def _document_text(path):
    from docx import Document

    return "\n".join(p.text for p in Document(str(path)).paragraphs)


def test_build_identical_copies_one_report(tmp_path, make_submission, make_workbook) -> None:
    src = tmp_path / "in"
    src.mkdir()
    one = make_workbook(make_submission(50))
    for name in ("a.xlsx", "b.xlsx", "c.xlsx"):
        shutil.copy(one, src / name)

    for jobs in (1, 2):
        summary = build_all([src], tmp_path / f"out{jobs}", jobs=jobs, force=True)

        assert sorted(o.status for o in summary.outcomes) == [
            Status.BUILT, Status.REFUSED, Status.REFUSED]
        assert len(list((tmp_path / f"out{jobs}").glob("*.docx"))) == 1
        assert not list((tmp_path / f"out{jobs}").glob(".nianbao-tmp-*"))


def test_build_outputs_are_readable_by_others(folder, tmp_path) -> None:
    out = tmp_path / "out"

    build_all([folder], out, html=True)

    for path in [*out.glob("*.docx"), *out.glob("*.html"), out / "生成情况.txt"]:
        assert path.stat().st_mode & 0o044 == 0o044, path


def test_build_unwritable_output_is_a_clear_tool_error(runner, folder, tmp_path) -> None:
    blocker = tmp_path / "报告"
    blocker.write_text("a file where the output folder should be")
    outs = [blocker / "2025"]
    if os.geteuid() != 0:  # root writes into read-only folders anyway
        read_only = tmp_path / "ro"
        read_only.mkdir()
        read_only.chmod(0o555)
        outs.append(read_only)

    for out in outs:
        result = runner.invoke(main, ["build", str(folder), "-o", str(out)])

        assert result.exit_code == 3, result.output
        assert "无法使用输出目录" in result.output and "Traceback" not in result.output


def test_build_output_name_taken_by_a_folder_fails_that_agency_only(folder, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    report = check_file(folder / "清源市人民政府办公室.xlsx")
    (out / REPORT.format(report.agency, report.year)).mkdir()

    summary = build_all([folder], out)

    status = {o.file.name: o for o in summary.outcomes}
    assert status["清源市人民政府办公室.xlsx"].status == Status.FAILED
    assert status["清源市人民政府办公室.xlsx"].reasons[0].code == "write-failed"
    assert "同名的文件夹已存在" in status["清源市人民政府办公室.xlsx"].reasons[0].message
    assert summary.count(Status.BUILT) == 3
    assert not list(out.glob(".nianbao-tmp-*"))


def test_build_draft_and_final_never_both_present(folder, tmp_path, make_submission,
                                                  make_workbook) -> None:
    out = tmp_path / "out"
    sub = make_submission(41, scale=300)
    bad = make_workbook(sub, edits={"t4.rv_keep": -1})
    good = make_workbook(sub)
    shutil.copy(bad, folder / "r41.xlsx")
    build_all([folder], out, drafts=True)
    draft = out / REPORT.format(sub.agency, sub.year).replace(".docx", "（草稿）.docx")
    assert draft.exists()

    shutil.copy(good, folder / "r41.xlsx")
    build_all([folder], out, drafts=True)

    assert not draft.exists() and (out / REPORT.format(sub.agency, sub.year)).exists()


def test_build_reads_each_workbook_once(folder, tmp_path, monkeypatch) -> None:
    reads: list[str] = []
    original = Path.read_bytes

    def counting(self: Path) -> bytes:
        if self.suffix == ".xlsx":
            reads.append(self.name)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", counting)

    summary = build_all([folder], tmp_path / "out", jobs=1)

    assert len(summary.outcomes) == 5
    assert sorted(reads) == sorted(p.name for p in folder.glob("*.xlsx"))


def test_build_flushes_the_batch_once_before_the_manifest_names_it(folder, tmp_path,
                                                                     monkeypatch) -> None:
    """Reports are not flushed one by one (an fsync each was a tenth of a 50,000-unit build);
    one flush of the whole batch comes after the last report and before the manifest."""
    import nianbao.atomic
    import nianbao.build

    events: list[str] = []
    real_fsync, real_manifest = os.fsync, nianbao.build._update_manifest
    monkeypatch.setattr(nianbao.atomic.os, "fsync", lambda fd: (events.append("fsync"),
                                                                real_fsync(fd))[1])
    monkeypatch.setattr(nianbao.build.os, "sync", lambda: events.append("sync"))
    monkeypatch.setattr(nianbao.build, "_update_manifest",
                        lambda *a, **k: (events.append("manifest"), real_manifest(*a, **k))[1])

    summary = build_all([folder], tmp_path / "out", jobs=1)

    built = summary.count(Status.BUILT)
    assert built >= 3
    assert events.count("sync") == 1
    assert events.index("sync") < events.index("manifest")
    assert events.count("fsync") < built  # only the manifest and summaries, not each report


def test_where_there_is_no_system_sync_each_file_is_flushed(tmp_path, monkeypatch) -> None:
    """Windows has no sync(): the batch's files are then flushed one by one (a file gone
    meanwhile is skipped)."""
    from nianbao.atomic import flush_files

    flushed: list[int] = []
    monkeypatch.delattr(os, "sync", raising=False)
    monkeypatch.setattr(os, "fsync", lambda fd: flushed.append(fd))
    files = [tmp_path / f"{i}.docx" for i in range(3)]
    for path in files:
        path.write_bytes(b"x")

    flush_files([*files, tmp_path / "gone.docx"])

    assert len(flushed) == 3
