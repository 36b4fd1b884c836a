"""The batch build: every workbook read, checked and rendered, in parallel, repeatably.

* The template is loaded and compiled once per worker process, never per document.
* Each worker reads, checks and renders one agency and writes its files atomically.
* A manifest records each output's input, template and settings hashes, so a
  re-run rebuilds only what changed; ``force`` rebuilds everything.
* PDF conversion (LibreOffice, slow) runs after every .docx/.html is on disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from nianbao import __version__
from nianbao.atomic import clean_leftovers, write_bytes, write_text
from nianbao.check import check_file, collect
from nianbao.model import FileReport, Finding, Severity, Submission
from nianbao.naming import output_path
from nianbao.settings import DEFAULT_SETTINGS, Settings

MANIFEST = ".nianbao-manifest.json"
SUMMARY_TXT = "生成情况.txt"
SUMMARY_JSON = "build-summary.json"


class Status:
    BUILT = "built"
    UNCHANGED = "unchanged"
    DRAFT = "draft"
    REFUSED = "refused"
    FAILED = "failed"


STATUS_ZH = {Status.BUILT: "已生成", Status.UNCHANGED: "未变化", Status.DRAFT: "已生成草稿",
             Status.REFUSED: "未生成", Status.FAILED: "生成失败"}


def default_template() -> Path:
    """The template shipped inside the package (a copy of templates/report.docx)."""
    return Path(str(resources.files("nianbao") / "data" / "report.docx"))


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _settings_key(settings: Settings, options: dict[str, object]) -> str:
    fields = {f.name: str(getattr(settings, f.name)) for f in dataclasses.fields(settings)}
    blob = json.dumps({"v": __version__, "settings": fields, "options": options},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What happened to one input file."""

    file: Path
    status: str
    agency: str = ""
    year: int | None = None
    outputs: tuple[Path, ...] = ()
    reasons: tuple[Finding, ...] = ()  # the errors that refused it (or made it a draft)
    warnings: int = 0
    input_hash: str = ""
    timings: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"file": str(self.file), "status": self.status, "agency": self.agency,
                "year": self.year, "outputs": [str(p) for p in self.outputs],
                "warnings": self.warnings,
                "reasons": [f.to_dict() for f in self.reasons]}


@dataclass(slots=True)
class BuildSummary:
    out_dir: Path
    outcomes: list[Outcome] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, summed
    notes: list[str] = field(default_factory=list)  # e.g. LibreOffice missing
    pdf_failed: bool = False

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return all(o.status in (Status.BUILT, Status.UNCHANGED) for o in self.outcomes)

    def to_dict(self) -> dict[str, object]:
        return {"out_dir": str(self.out_dir),
                "counts": {s: self.count(s) for s in STATUS_ZH},
                "timings": {k: round(v, 4) for k, v in self.timings.items()},
                "notes": self.notes,
                "outcomes": [o.to_dict() for o in self.outcomes]}

    def to_text(self) -> str:
        lines = [f"生成结果（输出目录：{self.out_dir}）"]
        for o in sorted(self.outcomes, key=lambda o: (o.status, o.agency, str(o.file))):
            name = o.agency or o.file.name
            line = f"  [{STATUS_ZH[o.status]}] {name}（{o.file.name}）"
            if o.status in (Status.BUILT, Status.UNCHANGED, Status.DRAFT) and o.warnings:
                line += f"，{o.warnings} 条警告"
            lines.append(line)
            for reason in o.reasons[:20]:
                where = f"{reason.location}：" if reason.location else ""
                lines.append(f"      {where}{reason.message}")
            if len(o.reasons) > 20:
                lines.append(f"      ……另有 {len(o.reasons) - 20} 条错误，请用 nianbao check 查看全部")
        lines.append(
            f"共 {len(self.outcomes)} 个文件：已生成 {self.count(Status.BUILT)}，"
            f"未变化 {self.count(Status.UNCHANGED)}，草稿 {self.count(Status.DRAFT)}，"
            f"未生成 {self.count(Status.REFUSED)}，失败 {self.count(Status.FAILED)}。")
        lines += self.notes
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the manifest

def _read_manifest(out_dir: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text("utf-8"))
        entries = data.get("entries", {})
        return entries if isinstance(entries, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}  # a missing or damaged manifest only means "rebuild"


def _write_manifest(out_dir: Path, entries: dict[str, dict[str, object]]) -> None:
    text = json.dumps({"version": 1, "entries": dict(sorted(entries.items()))},
                      ensure_ascii=False, indent=1)
    write_text(out_dir / MANIFEST, text + "\n")


def _entry_key(path: Path) -> str:
    return str(path.resolve())


def _fresh(entry: dict[str, object] | None, input_hash: str, build_key: str,
           out_dir: Path) -> bool:
    if not entry or entry.get("input") != input_hash or entry.get("build") != build_key:
        return False
    outputs = entry.get("outputs")
    return isinstance(outputs, list) and all((out_dir / str(n)).is_file() for n in outputs)


# ------------------------------------------------------------------- rendering

class Renderer:
    """The compiled template plus the settings; one per worker process."""

    def __init__(self, template: Path, settings: Settings) -> None:
        from nianbao.engine import Template

        self.template = Template.load(template)
        self.settings = settings

    def docx(self, sub: Submission, *, draft: bool) -> bytes:
        from nianbao.context import build_context

        context = build_context(sub, fee_decimals=self.settings.fee_decimals, draft=draft)
        return self.template.render(context)

    def html(self, sub: Submission, *, draft: bool) -> str:
        from nianbao.context import build_context
        from nianbao.html import render_html

        return render_html(build_context(sub, fee_decimals=self.settings.fee_decimals,
                                         draft=draft))


def render_report(sub: Submission, out_path: Path, template: Path | None = None, *,
                  draft: bool = False, settings: Settings = DEFAULT_SETTINGS) -> Path:
    """Render one report (e.g. the 汇总) to ``out_path`` atomically."""
    renderer = Renderer(template or default_template(), settings)
    if out_path.suffix.lower() == ".html":
        write_text(out_path, renderer.html(sub, draft=draft))
    else:
        write_bytes(out_path, renderer.docx(sub, draft=draft))
    return out_path


@dataclass(frozen=True, slots=True)
class _Job:
    file: Path
    out_dir: Path
    build_key: str
    entry: dict[str, object] | None
    force: bool
    drafts: bool
    html: bool
    # the report, once read (phase 2), or read beforehand by `nianbao run`
    report: FileReport | None = None
    input_hash: str = ""


_WORKER: dict[str, object] = {}


def _init_worker(template: Path, settings: Settings) -> None:
    _WORKER["renderer"] = Renderer(template, settings)
    _WORKER["settings"] = settings


def _inspect(job: _Job) -> tuple[_Job, Outcome | None, float]:
    """Phase 1 (in a worker): skip an unchanged input, else read and check it."""
    settings = _WORKER["settings"]
    assert isinstance(settings, Settings)
    t0 = time.perf_counter()
    try:
        input_hash = file_hash(job.file)
    except OSError:
        input_hash = ""
    if not job.force and _fresh(job.entry, input_hash, job.build_key, job.out_dir):
        entry = job.entry or {}
        names = entry.get("outputs")
        outs = tuple(job.out_dir / str(n) for n in names) if isinstance(names, list) else ()
        year = entry.get("year")
        warnings = entry.get("warnings")
        return job, Outcome(file=job.file, status=Status.UNCHANGED,
                            agency=str(entry.get("agency", "")),
                            year=year if isinstance(year, int) else None, outputs=outs,
                            warnings=warnings if isinstance(warnings, int) else 0,
                            input_hash=input_hash), 0.0
    report = job.report or check_file(job.file, settings)
    return (dataclasses.replace(job, report=report, input_hash=input_hash), None,
            time.perf_counter() - t0)


def _render(job: _Job) -> Outcome:
    """Phase 2 (in a worker): render and write one agency's report."""
    renderer = _WORKER["renderer"]
    assert isinstance(renderer, Renderer) and job.report is not None
    report = job.report
    sub = report.submission
    assert sub is not None
    draft = not report.valid
    t1 = time.perf_counter()
    try:
        docx = renderer.docx(sub, draft=draft)
        page = renderer.html(sub, draft=draft) if job.html else None
    except Exception as exc:  # noqa: BLE001 - one agency's failure must not stop the batch
        reason = Finding(code="render-failed", severity=Severity.ERROR,
                         message=f"报告生成失败：{exc}")
        return Outcome(file=job.file, status=Status.FAILED, agency=sub.agency, year=sub.year,
                       reasons=(reason,), input_hash=job.input_hash)
    t2 = time.perf_counter()
    outs = [output_path(job.out_dir, sub.agency, sub.year, ".docx", draft=draft)]
    write_bytes(outs[0], docx)
    if page is not None:
        outs.append(output_path(job.out_dir, sub.agency, sub.year, ".html", draft=draft))
        write_text(outs[1], page)
    t3 = time.perf_counter()
    return Outcome(file=job.file, status=Status.DRAFT if draft else Status.BUILT,
                   agency=sub.agency, year=sub.year, outputs=tuple(outs),
                   reasons=report.errors if draft else (), warnings=len(report.warnings),
                   input_hash=job.input_hash,
                   timings=(("render", t2 - t1), ("write", t3 - t2)))


Progress = Callable[[int, int, Outcome], None]


def build_all(inputs: Sequence[Path] | Sequence[FileReport], out_dir: Path, *,
              template: Path | None = None, jobs: int | None = None, force: bool = False,
              drafts: bool = False, html: bool = False, pdf: bool = False,
              settings: Settings = DEFAULT_SETTINGS, progress: Progress | None = None,
              ) -> BuildSummary:
    """Build every agency's report from workbooks (paths or folders) or ready FileReports.

    Raises :class:`nianbao.errors.TemplateError` only when the template itself
    cannot be loaded; every problem with an input is an :class:`Outcome`.
    Phase 1 reads and checks every workbook in parallel; duplicates (two files
    for one agency and year) are settled in favour of the newest file; phase 2
    renders and writes in parallel.
    """
    template = template or default_template()
    out_dir.mkdir(parents=True, exist_ok=True)
    clean_leftovers(out_dir)
    summary = BuildSummary(out_dir=out_dir)
    t_start = time.perf_counter()
    # Compile here first: a broken template fails before any worker starts.
    main_renderer = Renderer(template, settings)
    build_key = _settings_key(settings, {"template": file_hash(template), "html": html,
                                         "drafts": drafts})
    ready = {r.file: r for r in inputs if isinstance(r, FileReport)}
    files = list(ready) + collect(p for p in inputs if isinstance(p, Path))
    manifest = _read_manifest(out_dir)
    jobs_1 = [_Job(f, out_dir, build_key, manifest.get(_entry_key(f)), force, drafts, html,
                   ready.get(f)) for f in files]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(jobs_1) or 1))
    total = len(jobs_1)
    done = 0

    def tick(outcome: Outcome) -> None:
        nonlocal done
        done += 1
        summary.outcomes.append(outcome)
        for stage, seconds in outcome.timings:
            summary.timings[stage] = summary.timings.get(stage, 0.0) + seconds
        if progress:
            progress(done, total, outcome)

    def run(pool_map: Callable[..., Iterable[object]]) -> None:
        to_render: list[_Job] = []
        read_time = 0.0
        for job, outcome, seconds in pool_map(_inspect, jobs_1):  # type: ignore[misc]
            read_time += seconds
            if outcome is not None:
                tick(outcome)
                continue
            report = job.report
            assert report is not None
            if report.submission is None or (not report.valid and not drafts):
                tick(Outcome(file=job.file, status=Status.REFUSED, agency=report.agency,
                             year=report.year, reasons=report.errors,
                             warnings=len(report.warnings), input_hash=job.input_hash))
            else:
                to_render.append(job)
        summary.timings["read+check"] = read_time
        _settle_duplicates(to_render, summary.outcomes, out_dir, tick)
        for outcome in pool_map(_render, to_render):
            tick(outcome)  # type: ignore[arg-type]

    if workers == 1:
        _WORKER["renderer"], _WORKER["settings"] = main_renderer, settings
        run(map)
    else:
        ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        chunk = max(1, min(16, total // (workers * 8) or 1))
        with ctx.Pool(workers, initializer=_init_worker, initargs=(template, settings)) as pool:
            run(lambda fn, items: pool.imap_unordered(fn, items, chunk))
    _update_manifest(out_dir, manifest, summary.outcomes, build_key)
    summary.timings["wall"] = time.perf_counter() - t_start
    if pdf:
        from nianbao.pdf import convert_outcomes

        t_pdf = time.perf_counter()
        convert_outcomes(summary, workers, force=force)
        summary.timings["pdf"] = time.perf_counter() - t_pdf
    write_text(out_dir / SUMMARY_TXT, summary.to_text())
    write_text(out_dir / SUMMARY_JSON,
               json.dumps(summary.to_dict(), ensure_ascii=False, indent=1) + "\n")
    return summary


def _settle_duplicates(to_render: list[_Job], settled: list[Outcome], out_dir: Path,
                       tick: Callable[[Outcome], None]) -> list[_Job]:
    """Two files for one agency and year: the newest file counts, the others are refused.

    Removes the losers from ``to_render`` (in place) and reports them via ``tick``.
    """
    claims: dict[str, list[tuple[float, Path, _Job | None]]] = {}
    for job in to_render:
        sub = job.report.submission if job.report else None
        assert sub is not None
        name = output_path(out_dir, sub.agency, sub.year, ".docx").name
        claims.setdefault(name, []).append((_mtime(job.file), job.file, job))
    for outcome in settled:
        if outcome.status == Status.UNCHANGED and outcome.outputs:
            name = outcome.outputs[0].name.replace("（草稿）", "")
            claims.setdefault(name, []).append((_mtime(outcome.file), outcome.file, None))
    losers: list[_Job] = []
    for entries in claims.values():
        if len(entries) < 2:
            continue
        entries.sort(key=lambda e: (e[0], str(e[1])), reverse=True)
        winner = entries[0][1]
        for _, _, job in entries[1:]:
            if job is None:
                continue
            losers.append(job)
            reason = Finding(code="duplicate-agency", severity=Severity.ERROR,
                             message=f"与较新的文件“{winner.name}”是同一单位、同一年度的报表，"
                                     "已以较新的文件为准；请确认哪一份是最终报送的数据。")
            sub = job.report.submission if job.report else None
            tick(Outcome(file=job.file, status=Status.REFUSED,
                         agency=sub.agency if sub else "", year=sub.year if sub else None,
                         reasons=(reason,), input_hash=job.input_hash))
    for job in losers:
        to_render.remove(job)
    return to_render


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _update_manifest(out_dir: Path, manifest: dict[str, dict[str, object]],
                     outcomes: Iterable[Outcome], build_key: str) -> None:
    for o in outcomes:
        key = _entry_key(o.file)
        if o.status in (Status.BUILT, Status.DRAFT):
            manifest[key] = {"input": o.input_hash, "build": build_key, "status": o.status,
                             "agency": o.agency, "year": o.year, "warnings": o.warnings,
                             "outputs": [p.name for p in o.outputs]}
        elif o.status in (Status.REFUSED, Status.FAILED):
            manifest.pop(key, None)
    _write_manifest(out_dir, manifest)


def up_to_date(report: FileReport, out_dir: Path, template: Path | None = None,
               settings: Settings = DEFAULT_SETTINGS, *, html: bool = False,
               drafts: bool = False) -> bool:
    """Whether the report for this workbook exists and was built from exactly these inputs."""
    template = template or default_template()
    try:
        build_key = _settings_key(settings, {"template": file_hash(template), "html": html,
                                             "drafts": drafts})
        input_hash = file_hash(report.file)
    except OSError:
        return False
    entry = _read_manifest(out_dir).get(_entry_key(report.file))
    return _fresh(entry, input_hash, build_key, out_dir)
