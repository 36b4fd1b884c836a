"""What keeps a season of tens of thousands of units flat in memory and parallel:
packed reports, the parallel check, the sketch-indexed 雷同 check, the kept marked-up copies.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import random
import time
import tracemalloc
import zipfile
import zlib
from decimal import Decimal
from itertools import combinations
from pathlib import Path

import pytest
from click.testing import CliRunner
from cyclekit import YEAR, county_rows, submission, write_form, write_roster_xlsx

from nianbao import indicators, textchecks
from nianbao import packed as packed_module
from nianbao.check import check_file, check_files
from nianbao.cli import main
from nianbao.model import FileReport, Submission
from nianbao.packed import PackedNarrative, PackedValues, from_wire, pack_report, to_wire
from nianbao.schema import GB2021
from nianbao.settings import Settings
from nianbao.textchecks import Unit, shingles, similar_sections, similarity


@pytest.mark.parametrize("values", [
    {"a": 0, "b": 5, "c": None},
    {"a": 300, "b": -2, "c": 70_000},
    {"a": 2**40, "b": Decimal("1.25"), "c": 0},
    {"a": True, "b": 2**70, "c": -1},
    {},
])
def test_packed_values_read_back_exactly(values: dict[str, object]) -> None:
    packed = PackedValues(values)  # type: ignore[arg-type]
    assert dict(packed) == values and packed == values
    assert [type(v) for v in packed.values()] == [type(v) for v in values.values()]
    assert list(packed) == list(values) and len(packed) == len(values)
    assert packed.get("zz") is None and "zz" not in packed and packed.get("zz", 7) == 7
    assert {k: packed.get(k, "x") for k in values} == values
    with pytest.raises(KeyError):
        packed["zz"]
    assert pickle.loads(pickle.dumps(packed)) == values


def test_packed_values_read_back_in_any_order_and_in_a_forked_child() -> None:
    """Many more units than are kept decoded, read key-major and unit-major, and read in a
    child process made by ``fork`` (which appends to a spill file of its own)."""
    rng = random.Random(3)
    plain = [{f"k{j}": rng.choice([rng.randrange(-5, 200), None, Decimal("0.5"), 2**40])
              for j in range(40)} for _ in range(packed_module._RECENT_MAX * 3)]
    packed = [PackedValues(v) for v in plain]  # type: ignore[arg-type]
    for key in ("k0", "k17", "k39"):  # key by key: every unit decoded again each time
        assert [p.get(key) for p in packed] == [v[key] for v in plain]
    assert all(dict(p) == v for p, v in zip(packed, plain, strict=True))
    assert len(packed_module._RECENT) <= packed_module._RECENT_MAX
    if not hasattr(os, "fork"):
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: reads what it inherited, adds and reads its own
        ok = (all(dict(p) == v for p, v in zip(packed, plain, strict=True))
              and dict(PackedValues({"x": 1, "y": None})) == {"x": 1, "y": None}
              and dict(packed[5]) == plain[5])
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.close(read)
    os.waitpid(pid, 0)
    assert dict(packed[-1]) == plain[-1]  # the parent's file is untouched by the child


def test_a_report_crosses_processes_as_bytes_and_arrives_packed() -> None:
    """A worker sends :func:`to_wire`'s bytes; :func:`from_wire` makes the report a batch
    keeps, equal to the packed report in every part (a workbook saved by LibreOffice, with
    its cached totals; an odd sheet name; amounts and unknowns; a file not read at all)."""
    saved = check_file(Path(__file__).parent / "fixtures" / "libreoffice-saved.xlsx")
    assert saved.submission is not None and len(saved.submission.claims) > 30
    sub = dataclasses.replace(saved.submission, values={
        **saved.submission.values, "t2_8.fees.amount": Decimal("12.5"), "t3.r1.natural": None})
    odd = dataclasses.replace(saved, submission=sub, sketches={"s1": b"\x00\x01"},
                              positions={k: ("表三 \"引号\"\x1f", c)
                                         for k, (_, c) in saved.positions.items()})
    unread = FileReport(file=Path("坏文件.xlsx"), submission=None, findings=saved.findings)
    for report in (saved, odd, unread):
        arrived = from_wire(to_wire(report))
        assert arrived == pack_report(report)
        assert arrived.positions == report.positions and arrived.sketches == report.sketches
        if report.submission is not None:
            got = arrived.submission
            assert got is not None and isinstance(got.values, PackedValues)
            assert dict(got.values) == dict(report.submission.values)
            assert dict(got.claims) == dict(report.submission.claims)
            assert dict(got.narrative) == dict(report.submission.narrative)
            assert got.source is arrived.file  # one path object
    with pytest.raises(ValueError):
        from_wire(b"not a report")
    with pytest.raises(ValueError):
        from_wire(zlib.compress(pickle.dumps(("another", "tuple"))))


def test_packed_narrative_reads_back_exactly() -> None:
    narrative = {"s1": ("第一段。", "第二段，含“引号”和\t制表符。"), "s5": (), "s6": ("\ud800",)}
    packed = PackedNarrative(narrative)
    assert dict(packed) == narrative and dict(packed.items()) == narrative
    assert packed["s1"] == narrative["s1"] and packed.get("s2", ()) == ()
    assert pickle.loads(pickle.dumps(packed)) == narrative


def _forms(folder: Path, count: int) -> list[Path]:
    rows = county_rows()
    paths = []
    for i in range(count):
        row = rows[i % len(rows)]
        edits = {"t3.r4.natural": 999} if i % 3 == 0 else None  # a sum that does not add up
        paths.append(write_form(folder / f"{i:02d}_{row.name}.xlsx", submission(row, i),
                                edits=edits))
    (folder / "说明.docx").write_bytes(b"not a workbook")
    paths.append(folder / "说明.docx")
    return paths


def test_parallel_check_gives_what_the_sequential_check_gives(tmp_path: Path) -> None:
    paths = _forms(tmp_path, 7)
    alone = [check_file(p) for p in paths]
    seen: list[tuple[int, int]] = []

    pooled = check_files(paths, jobs=2, parallel_from=1, keep=pack_report,
                         progress=lambda done, total: seen.append((done, total)))

    assert [r.file for r in pooled] == paths  # the order given, not the order of completion
    assert [r.findings for r in pooled] == [r.findings for r in alone]
    assert [r.positions for r in pooled] == [r.positions for r in alone]
    assert [r.submission for r in pooled] == [r.submission for r in alone]
    assert any(r.findings for r in pooled) and any(r.valid for r in pooled)
    assert seen[-1] == (len(paths), len(paths)) and len(seen) == len(paths)
    packed = [r.submission for r in pooled if r.submission is not None]
    assert all(isinstance(s.values, PackedValues) for s in packed)
    assert len({id(r.positions) for r in pooled if r.positions}) == 1  # one shared layout


def test_a_stuck_worker_makes_the_file_a_finding_not_a_hang(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    t0 = time.monotonic()
    got = _checked_by(_sleep_job, tmp_path, monkeypatch, stall_seconds=2)

    assert time.monotonic() - t0 < 60
    assert [r.findings[0].code for r in got] == ["file-unreadable"] * 2
    assert all("2 秒没有任何进展" in r.findings[0].message for r in got)


def _garbled_job(path: Path) -> bytes:
    return b"garbled"


def test_bytes_from_a_worker_that_are_not_a_report_make_a_finding(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    got = _checked_by(_garbled_job, tmp_path, monkeypatch)

    assert [f.code for r in got for f in r.findings] == ["file-unreadable"] * 2
    assert all(r.submission is None and "意外错误" in r.findings[0].message for r in got)


def _checked_by(job: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                **options: float) -> list[FileReport]:
    """Two forms checked in two workers that run ``job`` in place of the real one."""
    paths = _forms(tmp_path, 2)[:2]
    monkeypatch.setattr("nianbao.check._check_job", job)
    monkeypatch.setenv("NIANBAO_START_METHOD", "fork")  # the workers see the patched job
    return check_files(paths, jobs=2, parallel_from=1, **options)


def _sleep_job(path: Path) -> object:
    time.sleep(3600)
    return None


def test_packed_reports_stay_small() -> None:
    """The record a batch keeps for a unit: a few KB, not the 50 KB of the report as read."""
    row = county_rows()[0]
    sub = submission(row, 1)
    from nianbao.model import FileReport

    # a workbook saved by Excel, WPS or LibreOffice shows its 34 totals: the claims
    sub = dataclasses.replace(sub, claims={k: sub.values[k] for k, c in GB2021.cells.items()
                                           if c.kind == "computed"})
    assert len(sub.claims) > 30
    report = FileReport(file=Path("x.xlsx"), submission=sub, findings=(),
                        positions={k: ("表三", f"B{i}") for i, k in enumerate(sub.values)})
    pack_report(report)  # the layout is shared from the first report on
    blobs = [pickle.dumps(report) for _ in range(200)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        plain = [pickle.loads(b) for b in blobs]
        middle = tracemalloc.get_traced_memory()[0]
        packed = [pack_report(pickle.loads(b)) for b in blobs]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    per_plain, per_packed = (middle - before) / 200, (after - middle) / 200
    # the counts are in the spill file, not in memory: some 1.5 KB, against 2.3 KB in an array
    assert per_packed < 2_000 < 4_000 < per_plain, (per_plain, per_packed)
    assert packed[0].submission == plain[0].submission


def _paragraph(rng: random.Random) -> str:
    pool = "政府信息公开工作年度报告本单位坚持以人民为中心深化政务公开推进决策执行管理服务结果公开"
    return "".join(rng.choice(pool) for _ in range(260))


def test_similar_sections_finds_what_comparing_every_pair_finds() -> None:
    rng = random.Random(5)
    texts = [_paragraph(rng) for _ in range(40)]
    narratives = []
    for i in range(120):
        base = texts[i % 40] if i % 4 else texts[rng.randrange(40)]
        if i % 5 == 0:  # a few words changed: still 雷同 or just under, both must agree
            cut = rng.randrange(200)
            base = base[:cut] + "加强" * (i % 7) + base[cut + 10:]
        narratives.append({"s1": (base,), "s5": (texts[(i * 7) % 40],)})
    units = [Unit(agency=f"单位{i}", names=(), narrative=n, file=f"{i}.xlsx", anchors={})
             for i, n in enumerate(narratives)]
    settings = Settings()

    got = {(p.section, p.first, p.second) for p in similar_sections(units, settings)}

    every = set()
    for section in ("s1", "s5"):
        grams = [shingles("".join(n.get(section, ()))) for n in narratives]
        for i, j in combinations(range(len(units)), 2):
            if similarity(grams[i], grams[j]) >= settings.similar_threshold:
                every.add((section, i, j))
    assert got == every and len(every) > 100


def test_boilerplate_hashes_do_not_make_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts that share only common phrases are never compared pair by pair."""
    rng = random.Random(9)
    units = [Unit(agency=f"单位{i}", names=(), narrative={"s1": (_paragraph(rng),)},
                  file="", anchors={}) for i in range(300)]
    compared = []
    real = textchecks.similarity
    monkeypatch.setattr(textchecks, "similarity",
                        lambda a, b: compared.append(1) or real(a, b))
    assert similar_sections(units, Settings()) == []
    assert len(compared) < 300  # not the 44,850 pairs


def _season(tmp_path: Path, count: int) -> tuple[Path, list, CliRunner]:
    """A workspace of the first ``count`` county units, initialised; its roster rows."""
    rows = county_rows()[:count]
    roster = write_roster_xlsx(tmp_path / "名单.xlsx", rows)
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(ws), "--year", str(YEAR), "--roster",
                                str(roster)]).exit_code == 0
    return ws, rows, runner


def test_status_keeps_marked_up_copies_that_have_not_changed(tmp_path: Path) -> None:
    ws, rows, runner = _season(tmp_path, 2)
    write_form(ws / "inputs" / "a.xlsx", submission(rows[0], 1), edits={"t3.r4.natural": 999})
    write_form(ws / "inputs" / "b.xlsx", submission(rows[1], 2), edits={"t3.r4.natural": 998})
    feedback = ws / "outputs" / "feedback"
    assert runner.invoke(main, ["status", "-w", str(ws), "-q"]).exit_code == 1
    copies = {p.name: p.stat().st_mtime_ns for p in feedback.glob("*_批注.xlsx")}
    assert len(copies) == 2

    time.sleep(0.05)
    assert runner.invoke(main, ["status", "-w", str(ws), "-q"]).exit_code == 1
    assert {p.name: p.stat().st_mtime_ns for p in feedback.glob("*_批注.xlsx")} == copies

    write_form(ws / "inputs" / "b.xlsx", submission(rows[1], 2), edits={"t3.r4.natural": 997})
    os.utime(ws / "inputs" / "b.xlsx", ns=(time.time_ns(), time.time_ns() + 10**9))
    assert runner.invoke(main, ["status", "-w", str(ws), "-q"]).exit_code == 1
    again = {p.name: p.stat().st_mtime_ns for p in feedback.glob("*_批注.xlsx")}
    name_a = f"{rows[0].code}_{rows[0].name}_批注.xlsx"
    name_b = f"{rows[1].code}_{rows[1].name}_批注.xlsx"
    assert again[name_a] == copies[name_a] and again[name_b] != copies[name_b]
    (feedback / name_a).unlink()  # a copy somebody deleted is made again
    assert runner.invoke(main, ["status", "-w", str(ws), "-q"]).exit_code == 1
    assert (feedback / name_a).is_file()


def test_submission_with_packed_parts_renders_like_the_plain_one(tmp_path: Path) -> None:
    from word_helpers import docx_text

    from nianbao.build import render_report
    from nianbao.packed import pack_submission

    sub: Submission = submission(county_rows()[0], 3)
    render_report(sub, tmp_path / "plain.docx")
    render_report(pack_submission(sub), tmp_path / "packed.docx")
    plain = docx_text((tmp_path / "plain.docx").read_bytes())
    assert plain == docx_text((tmp_path / "packed.docx").read_bytes())
    assert sub.narrative["s1"][0][:20] in plain


def _naive_peer_zero(unit, peers, settings):  # type: ignore[no-untyped-def]
    """The check as first written: every unit scans every other (quadratic), the reference."""
    import statistics

    same = [p for p in peers if p is not unit and p.level == unit.level]
    if len(same) < indicators.PEERS_MIN:
        same = [p for p in peers if p is not unit]
    out = []
    for i, change in enumerate(unit.changes):
        if change.now != 0:
            continue
        theirs = [c for p in same if (c := p.changes[i].now) is not None]
        if len(theirs) < indicators.PEERS_MIN:
            continue
        median = Decimal(statistics.median(theirs))
        if median >= settings.trend_min_sample:
            out.append((change.measure.key, len(theirs), str(median)))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_peer_medians_from_sorted_values_equal_the_scan_of_every_unit(seed: int) -> None:
    from word_helpers import full_values

    rng = random.Random(seed)
    subjects = []
    for i in range(rng.randrange(12, 40)):
        values = full_values(seed * 100 + i)
        for key in values:  # many zeros, some of them where the peers are high
            if rng.random() < 0.3 and isinstance(values[key], int):
                values[key] = 0
        level = rng.choice(("县级部门", "乡镇", "乡镇", ""))
        subjects.append(indicators.Subject(
            code=f"U{i}", name=f"单位{i}", level=level,
            submission=Submission(agency=f"单位{i}", year=2025, values=values)))
    settings = Settings()

    got = indicators.compute(subjects, [], year=2025, settings=settings)

    plain = [dataclasses.replace(u, findings=()) for u in got.units]
    found = 0
    for unit, bare in zip(got.units, plain, strict=True):
        mine = [(f.key, f.message) for f in unit.findings if f.code == "trend-zero-peer"]
        ref = _naive_peer_zero(bare, plain, settings)
        assert [k for k, _ in mine] == [k for k, _, _ in ref]
        for (_, message), (_, count, median) in zip(mine, ref, strict=True):
            shown = indicators._fixed(Decimal(median), 1)
            assert f" {count} 个单位的中位数为 {shown} 件" in message, (message, count, median)
        found += len(ref)
    assert found > 0


def test_files_made_again_each_run_are_left_alone_when_unchanged(tmp_path: Path) -> None:
    from nianbao.atomic import write_if_changed

    path = tmp_path / "反馈.txt"
    assert write_if_changed(path, "第一版")
    before = path.stat().st_mtime_ns
    time.sleep(0.02)
    assert not write_if_changed(path, "第一版") and path.stat().st_mtime_ns == before
    assert write_if_changed(path, "第二版") and path.read_text(encoding="utf-8") == "第二版"
    assert [p.name for p in tmp_path.iterdir()] == ["反馈.txt"]  # no temporary file left


def test_worker_processes_start_from_a_fork_server_not_from_the_main_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from nianbao.pool import start_method

    monkeypatch.delenv("NIANBAO_START_METHOD", raising=False)
    if "forkserver" in multiprocessing.get_all_start_methods():
        assert start_method() == "forkserver"
    monkeypatch.setenv("NIANBAO_START_METHOD", "spawn")
    assert start_method() == "spawn"


def test_a_file_named_for_its_own_unit_is_not_searched_for_among_all_names(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from nianbao import matching
    from nianbao.model import FileReport
    from nianbao.roster import Roster
    from nianbao.roster import Unit as RosterUnit

    units = [RosterUnit(code="B000001", name="青白县教育局"),
             RosterUnit(code="B000002", name="青白县教育局直属幼儿园"),
             RosterUnit(code="B000003", name="青白县民政局")]
    roster = Roster(units=tuple(units))
    index = matching.NameIndex.of(roster)
    searched: list[str] = []
    real = matching.NameIndex.best
    monkeypatch.setattr(matching.NameIndex, "best",
                        lambda self, text: searched.append(text) or real(self, text))

    def match(file: str, code: str, agency: str) -> matching.Match:
        sub = Submission(agency=agency, code=code, year=2025)
        report = FileReport(file=Path(file), submission=sub, findings=(), form_code=code)
        return matching.match_one(report, roster, index)

    own = match("B000001_青白县教育局_2025年报.xlsx", "B000001", "青白县教育局")
    assert own.unit is units[0] and searched == []
    assert matching.core("B000001_青白县教育局_2025年报") == "b青白县教育"  # 年报 left no 报
    # a borrowed form: the file name is another unit's, so it is compared and conflicts
    borrowed = match("青白县教育局直属幼儿园2025年报.xlsx", "B000001", "青白县教育局")
    assert borrowed.unit is None and borrowed.conflict and searched
    assert {u.code for u in borrowed.conflict_units} == {"B000001", "B000002"}


def test_sheets_longer_than_a_spreadsheet_allows_end_with_what_was_left_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A province's 同比变化 has a row per unit and measure: more than the 1,048,576 rows a
    sheet can hold.  The sheet is cut and says so, instead of the run failing."""
    from openpyxl import load_workbook

    from nianbao import indicator_output, status_output
    from nianbao.archive import Entry, open_archive, store
    from nianbao.config import load_config

    ws, rows, runner = _season(tmp_path, 4)
    for i, row in enumerate(rows):  # the first valid: the total (units without errors) has rows
        write_form(ws / "inputs" / f"{i}.xlsx", submission(row, i),
                   edits={"t3.r1.natural": -1, "t3.r1.legal": -2, "t3.r1.other": -3} if i else None)
    config = load_config(ws / "nianbao.toml")
    assert config is not None
    engine = open_archive(config)  # last year archived: each unit has its 同比 rows
    store(engine, [Entry(submission=submission(row, 10 + i, year=YEAR - 1), origin="import",
                         valid=True) for i, row in enumerate(rows)])
    engine.dispose()
    for module in (indicator_output, status_output):
        monkeypatch.setattr(module, "SHEET_ROWS", 6)
    monkeypatch.setattr("nianbao.sheetprint.SHEET_ROWS", 6)

    result = runner.invoke(main, ["status", "-w", str(ws), "-q"])

    assert result.exit_code == 1, result.output
    wb = load_workbook(ws / "outputs" / "status.xlsx")
    for name in ("同比变化", "问题明细"):
        sheet = wb[name]
        assert sheet.max_row == 6, name
        last = str(sheet.cell(6, 1).value)
        assert last.startswith("……其余 ") and "超出了电子表格的行数上限（6 行）" in last, last
    detail = wb["问题明细"]
    shown = detail.max_row - 2  # the heading and the closing line
    total = int(str(detail.cell(6, 1).value).split("其余 ")[1].split(" 行")[0]) + shown
    assert total > shown >= 1
    assert len(list(wb["各单位状态"].iter_rows())) >= len(rows) + 1  # one row a unit: never cut


def test_a_provinces_summary_renders_its_annex_within_the_render_limits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The limits that stop a runaway template grow with the data: a 汇总 of many units
    (its 附表 names the first ANNEX_ROWS of each list and says where the rest are)
    renders, a template that makes text up does not."""
    from word_helpers import docx_text

    from nianbao import engine
    from nianbao.build import render_report

    monkeypatch.setattr(engine, "MAX_RENDER_CHARS", 200_000)
    sub = dataclasses.replace(submission(county_rows()[0], 4), agency="某某省汇总",
                              code="__summary__",
                              members=tuple(f"某某县第{i}单位" for i in range(3000)),
                              excluded=tuple((f"某某县未报{i}单位", "未报送") for i in range(500)))

    render_report(sub, tmp_path / "汇总.docx")

    text = docx_text((tmp_path / "汇总.docx").read_bytes())
    from nianbao.context import ANNEX_ROWS

    assert ANNEX_ROWS < 3000
    assert f"某某县第{ANNEX_ROWS - 1}单位" in text and f"某某县第{ANNEX_ROWS}单位" not in text
    assert "全部3000个单位见同时生成的汇总数据表" in text and "某某县未报499单位" in text
    with zipfile.ZipFile(tmp_path / "汇总.docx") as zf:  # more than the base limit alone allows
        assert len(zf.read("word/document.xml").decode("utf-8")) > engine.MAX_RENDER_CHARS
    with pytest.raises(engine.RenderLimit):
        engine.render_bounded(engine.make_environment().from_string(
            "{% for i in range(100000) %}<w:t>{{ 'x' * 1000 }}</w:t>{% endfor %}"),
            {"members": sub.members})


def test_the_summary_workbook_keeps_the_forms_features_when_streamed(tmp_path: Path) -> None:
    """The 汇总 workbook is written through a write-only workbook (its member and indicator
    sheets are a row per unit); its form sheets are copied in with all the form has."""
    from openpyxl import load_workbook

    from nianbao.aggregate import MEMBERS_SHEET, MemberRow, aggregate, write_summary_workbook
    from nianbao.intake import IntakeData, build_workbook
    from nianbao.layout import CHECK_SHEET, workbook_layout
    from nianbao.roster import Unit as RosterUnit
    from nianbao.schema import DEFAULT_FORMAT

    rows = county_rows()[:3]
    subs = [submission(r, i) for i, r in enumerate(rows)]
    total = aggregate(subs, agency="青山县人民政府", year=YEAR)
    members = [MemberRow(unit=RosterUnit(code=r.code, name=r.name, level=r.level),
                         submission=s, file=f"{i}.xlsx")
               for i, (r, s) in enumerate(zip(rows, subs, strict=True))]
    path = write_summary_workbook(tmp_path / "汇总.xlsx", total, members)

    made = load_workbook(path)
    form = build_workbook(IntakeData(agency=total.agency, code=total.code, year=total.year,
                                     level=total.level, values=dict(total.values),
                                     narrative=dict(total.narrative)))
    form.save(tmp_path / "form.xlsx")  # the form as a spreadsheet program sees it
    form = load_workbook(tmp_path / "form.xlsx")
    code_cell = workbook_layout().info_cell("code")
    assert made.sheetnames[0] == MEMBERS_SHEET
    copied = [n for n in form.sheetnames
              if n not in (DEFAULT_FORMAT.sheet_name("guide"), CHECK_SHEET)]
    assert made.sheetnames[-len(copied):] == copied
    for name in copied:
        a, b = form[name], made[name]
        assert {str(r) for r in a.merged_cells.ranges} == {str(r) for r in b.merged_cells.ranges}
        assert ([str(v.sqref) for v in a.data_validations.dataValidation]
                == [str(v.sqref) for v in b.data_validations.dataValidation]), name
        assert ({str(c.sqref) for c in a.conditional_formatting}
                == {str(c.sqref) for c in b.conditional_formatting}), name
        assert a.protection.sheet == b.protection.sheet and a.sheet_state == b.sheet_state
        assert a.freeze_panes == b.freeze_panes
        widths = {k: d.width for k, d in a.column_dimensions.items() if d.width}
        assert widths == {k: b.column_dimensions[k].width for k in widths}, name
        comments = {c.coordinate for row in a.iter_rows() for c in row if c.comment}
        assert comments == {c.coordinate for row in b.iter_rows() for c in row if c.comment}
        for row_a, row_b in zip(a.iter_rows(), b.iter_rows(), strict=False):
            for x, y in zip(row_a, row_b, strict=False):
                if x.coordinate == "A1" or (isinstance(x.value, str)
                                             and x.value.startswith("填报单位：")):
                    continue  # the banner says 汇总; the rest is the form as built
                if x.coordinate == code_cell and name == DEFAULT_FORMAT.sheet_name("info"):
                    continue  # a 汇总 shows no 编码
                assert x.value == y.value, (name, x.coordinate)
                for attr in ("font", "fill", "border", "alignment", "number_format",
                             "protection"):  # style proxies compare by identity: repr
                    assert repr(getattr(x, attr)) == repr(getattr(y, attr)), \
                        (name, x.coordinate, attr)
    assert set(form.defined_names) <= set(made.defined_names)
    assert made.security is not None and made.security.lockStructure


ABANDONED = """
import sys
from nianbao.streambook import write_only_workbook

try:
    with write_only_workbook() as wb:
        for name in ("a", "b"):
            ws = wb.create_sheet(name)
            for i in range(1000):
                ws.append([i, "x" * 20])
        raise OSError(28, "No space left on device")
except OSError:
    print("stopped", flush=True)
"""


def test_a_write_only_workbook_given_up_half_way_leaves_nothing(tmp_path: Path) -> None:
    """A full disk or a signal while status.xlsx streams: no temporary files left and no
    internal errors printed when the half-written sheets are collected."""
    import subprocess
    import sys

    script = tmp_path / "abandon.py"
    script.write_text(ABANDONED, encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "TMPDIR": str(temp)})
    assert done.stdout.strip() == "stopped", done.stderr
    assert done.stderr == ""
    assert not list(temp.glob("openpyxl*"))


def test_packed_narratives_live_in_a_file_and_survive_a_fork() -> None:
    """The sections of 50,000 units are not kept in memory: each is two numbers there."""
    import multiprocessing

    from nianbao import packed as packing

    texts = [{"s1": (f"第{i}段。" * 50,), "s5": (), "s6": ("结尾。",)} for i in range(50)]
    _KEPT[:] = [PackedNarrative(t) for t in texts]
    assert not any(hasattr(k, "__dict__") for k in _KEPT)  # slots only: the keys and a place
    assert [dict(k) for k in _KEPT] == texts
    assert packing._SPILL._size > 0

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:  # a forked child reads the inherited ones and adds its own
        got = pool.apply(_read_in_child)
    assert got == (texts[-1]["s1"], ("子进程。",))
    assert dict(_KEPT[-1]) == texts[-1]  # the parent's, untouched by the child's
    assert dict(PackedNarrative({"s1": ("又一段。",)})) == {"s1": ("又一段。",)}


_KEPT: list[PackedNarrative] = []


def _read_in_child() -> tuple[tuple[str, ...], tuple[str, ...]]:
    own = PackedNarrative({"s1": ("子进程。",)})
    return _KEPT[-1]["s1"], own["s1"]


def test_run_knows_what_it_built_without_hashing_every_file_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run` has just built the reports: its board says 已生成 from the build's own outcomes,
    without reading the manifest and every workbook again (50,000 files)."""
    import json

    from nianbao import build

    ws, rows, runner = _season(tmp_path, 3)
    for i, row in enumerate(rows):
        write_form(ws / "inputs" / f"{i}.xlsx", submission(row, i),
                   edits={"t3.r4.natural": 999} if i == 2 else None)

    def no_second_look(*_args: object, **_kwargs: object) -> bool:
        raise AssertionError("up_to_date called during run")

    monkeypatch.setattr(build, "up_to_date", no_second_look)
    result = runner.invoke(main, ["run", "-w", str(ws), "-q", "-j", "1"])
    assert result.exit_code == 1, result.output
    monkeypatch.undo()
    states = json.loads(runner.invoke(main, ["status", "-w", str(ws), "--json"]).output)
    assert states["counts"]["已生成"] == 2 and states["counts"]["数据有误"] == 1
