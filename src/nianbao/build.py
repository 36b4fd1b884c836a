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
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from nianbao import __version__, sources
from nianbao.atomic import (
    clean_leftovers,
    describe_os_error,
    flush_files,
    tmp_prefix,
    write_bytes,
    write_json,
    write_text,
)
from nianbao.check import check_file, collect, is_blank, newest_first
from nianbao.errors import NianbaoError, OutputError
from nianbao.kinds import finding
from nianbao.model import FileReport, Finding, Submission
from nianbao.naming import output_path
from nianbao.packed import pack_submission, shared_path
from nianbao.pool import STALL_SECONDS
from nianbao.previous import PreviousData, with_cross_year
from nianbao.safetext import path_text
from nianbao.settings import DEFAULT_SETTINGS, Settings, settings_fields

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
    blob = json.dumps({"v": __version__, "settings": settings_fields(settings), "options": options},
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
    staged: tuple[Path, ...] = ()  # written by a worker, renamed to ``outputs`` by build_all
    # what was read, for the archive (None when the file was not read: unchanged, refused)
    submission: Submission | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, object]:
        return {"file": path_text(self.file), "status": self.status, "agency": self.agency,
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

    def read(self) -> list[tuple[Submission, bool]]:
        """(submission, valid) of every agency read and rendered in this run."""
        return [(o.submission, o.status == Status.BUILT) for o in self.outcomes
                if o.submission is not None]

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

    def to_text(self, *, unchanged: bool = True) -> str:
        """The outcome of every file; ``unchanged=False`` (a terminal) leaves out the
        reports that were already up to date and only counts them."""
        lines = [f"生成结果（输出目录：{self.out_dir}）"]
        shown = [o for o in self.outcomes if unchanged or o.status != Status.UNCHANGED]
        for o in sorted(shown, key=lambda o: (o.status, o.agency, str(o.file))):
            name = o.agency or o.file.name
            line = f"  [{STATUS_ZH[o.status]}] {path_text(name)}（{path_text(o.file.name)}）"
            if o.status in (Status.BUILT, Status.UNCHANGED, Status.DRAFT) and o.warnings:
                line += f"，{o.warnings} 条警告"
            lines.append(line)
            for reason in o.reasons[:20]:
                where = f"{reason.location}：" if reason.location else ""
                lines.append(f"      {where}{reason.message}")
            if len(o.reasons) > 20:
                lines.append(f"      ……另有 {len(o.reasons) - 20} 条错误，请用 nianbao check 查看全部")
        if len(shown) < len(self.outcomes):
            lines.append(f"  另有 {len(self.outcomes) - len(shown)} 个单位的报告未变化，"
                         f"未重新生成（逐个列在 {SUMMARY_TXT}）。")
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
    # a path in undecodable bytes (lone surrogates) is kept as a JSON \udcXX escape
    write_json(out_dir / MANIFEST, {"version": 1, "entries": dict(sorted(entries.items()))})


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

    def render(self, sub: Submission, *, draft: bool, html: bool,
               last: Submission | None = None) -> tuple[bytes, str | None]:
        """The .docx bytes and, if asked, the HTML page, from one template context.

        ``last``: the unit's last-year submission, for the 同比 sentences (``stats``).
        """
        from nianbao.context import build_context
        from nianbao.html import render_html

        context = build_context(sub, fee_decimals=self.settings.fee_decimals, draft=draft,
                                last=last.values if last is not None else None)
        return self.template.render(context), render_html(context) if html else None


def render_report(sub: Submission, out_path: Path, template: Path | None = None, *,
                  draft: bool = False, settings: Settings = DEFAULT_SETTINGS,
                  last: Submission | None = None) -> Path:
    """Render one report (e.g. the 汇总) to ``out_path`` atomically."""
    renderer = Renderer(template or default_template(), settings)
    as_html = out_path.suffix.lower() == ".html"
    docx, page = renderer.render(sub, draft=draft, html=as_html, last=last)
    if page is not None:
        write_text(out_path, page)
    else:
        write_bytes(out_path, docx)
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
    report: FileReport | None = None  # read beforehand (by `nianbao run`): not read again


_WORKER: dict[str, object] = {}


def _init_worker(template: Path, settings: Settings, previous: PreviousData | None) -> None:
    _WORKER.update(renderer=Renderer(template, settings), settings=settings, previous=previous)


def _unchanged(job: _Job, input_hash: str) -> Outcome:
    entry = job.entry or {}
    names = entry.get("outputs")
    year = entry.get("year")
    warnings = entry.get("warnings")
    return Outcome(file=job.file, status=Status.UNCHANGED, agency=str(entry.get("agency", "")),
                   year=year if isinstance(year, int) else None,
                   outputs=tuple(job.out_dir / str(n) for n in names) if isinstance(names, list)
                   else (), warnings=warnings if isinstance(warnings, int) else 0,
                   input_hash=input_hash)


def _kept(outcome: Outcome, read: FileReport | None) -> Outcome:
    """What the batch keeps of an outcome to its end: its submission packed (or, for a report
    read beforehand, that report's own), its paths sharing their folders' parts, its texts
    shared with the submission's, and no timings (the summary has added them up)."""
    sub = outcome.submission
    if sub is not None:
        sub = pack_submission(sub)
    elif read is not None and outcome.status in (Status.BUILT, Status.DRAFT):
        sub = read.submission
    agency = sub.agency if sub is not None and sub.agency == outcome.agency else outcome.agency
    return dataclasses.replace(
        outcome, file=read.file if read is not None else shared_path(outcome.file),
        status=_STATUSES.get(outcome.status, outcome.status), agency=agency,
        outputs=tuple(shared_path(p) for p in outcome.outputs),
        staged=tuple(shared_path(p) for p in outcome.staged), submission=sub,
        timings=())  # already added to the summary's


_STATUSES = {s: s for s in STATUS_ZH}  # one string object per status, not one per unit


def _input(file: Path, settings: Settings) -> tuple[str, bytes | None]:
    """The hash that says whether ``file`` changed since its last build, and its bytes
    (None: not read); read once, so the bytes hashed are the bytes checked."""
    try:
        if sources.is_member(file):  # inside a .zip: bounded by the zip limits
            data = sources.read_bytes(file, settings)
            return hashlib.sha256(data).hexdigest(), data
        if (stat := file.stat()).st_size <= settings.max_file_bytes:
            data = file.read_bytes()
            return hashlib.sha256(data).hexdigest(), data
        return f"large-{stat.st_size}-{stat.st_mtime_ns}", None  # refused unread: never hash GBs
    except (OSError, sources.ZipProblem):
        return "", None


def _settled_here(job: _Job, settings: Settings) -> Outcome | None:
    """A report checked beforehand (`nianbao run`) that needs no rendering: refused, or its
    file and outputs as the last build left them.  Settled in this process, the report
    never sent to a worker (a nightly run of 50,000 unchanged units pickled every report
    for nothing)."""
    report = job.report
    if report is None or sources.is_member(job.file):
        return None
    refuses = _refuses(job, report)
    if not (refuses or (not job.force and report.valid and job.entry)):
        return None  # to be rendered: the worker reads and hashes the file
    input_hash, _ = _input(job.file, settings)
    if refuses:
        return _refused(job, report, input_hash)
    if _fresh(job.entry, input_hash, job.build_key, job.out_dir):
        return _unchanged(job, input_hash)
    return None


def _refuses(job: _Job, report: FileReport) -> bool:
    """No report is made from it: unread, blank, or with errors (unless drafts are asked for)."""
    return (report.submission is None or is_blank(report)
            or (not report.valid and not job.drafts))


def _refused(job: _Job, report: FileReport, input_hash: str,
             timings: tuple[tuple[str, float], ...] = ()) -> Outcome:
    """The outcome of a report :func:`_refuses` refuses."""
    return Outcome(file=job.file, agency=report.agency, year=report.year,
                   warnings=len(report.warnings), input_hash=input_hash,
                   status=Status.REFUSED, reasons=report.errors, timings=timings)


def _process(job: _Job) -> Outcome:
    """Read, check, render one agency (in a worker); its files go to staging names.

    The main process moves staged files to their final names once duplicates
    are settled, so a worker never overwrites another agency's report and the
    main process never holds more than a small :class:`Outcome` per agency.
    """
    renderer = _WORKER["renderer"]
    settings = _WORKER["settings"]
    assert isinstance(renderer, Renderer) and isinstance(settings, Settings)
    t0 = time.perf_counter()
    input_hash, data = _input(job.file, settings)  # the same bytes are then checked
    # A report checked beforehand (by `nianbao run`) may carry findings the file
    # alone does not show (last year's data): an invalid one is never "unchanged".
    if (not job.force and (job.report is None or job.report.valid)
            and _fresh(job.entry, input_hash, job.build_key, job.out_dir)):
        return _unchanged(job, input_hash)
    report = job.report or check_file(job.file, settings, data=data)
    previous = _WORKER.get("previous")
    if isinstance(previous, PreviousData) and job.report is None:
        report = with_cross_year(report, previous, settings)
    t1 = time.perf_counter()
    if _refuses(job, report):
        return _refused(job, report, input_hash, (("read+check", t1 - t0),))
    sub = report.submission
    assert sub is not None
    base = dict(file=job.file, agency=report.agency, year=report.year,
                warnings=len(report.warnings), input_hash=input_hash)
    draft = not report.valid
    last = (previous.find(report.form_code or sub.code, (sub.agency,))
            if isinstance(previous, PreviousData) else None)
    try:
        docx, page = renderer.render(sub, draft=draft, html=job.html, last=last)
    except Exception as exc:  # noqa: BLE001 - one agency's failure must not stop the batch
        # a template error is Chinese already; anything else is a bug, named not quoted
        error = str(exc) if isinstance(exc, NianbaoError) else f"程序内部错误（{type(exc).__name__}）"
        reason = finding("render-failed", error=error)
        return Outcome(status=Status.FAILED, reasons=(reason,), **base)  # type: ignore[arg-type]
    t2 = time.perf_counter()
    finals = [output_path(job.out_dir, sub.agency, sub.year, ".docx", draft=draft)]
    staged = [_staging(job.out_dir, job.file, input_hash, ".docx")]
    try:  # not flushed one by one: build_all flushes the batch before naming it done
        write_bytes(staged[0], docx, sync=False)
        if page is not None:
            finals.append(output_path(job.out_dir, sub.agency, sub.year, ".html", draft=draft))
            staged.append(_staging(job.out_dir, job.file, input_hash, ".html"))
            write_text(staged[1], page, sync=False)
    except OSError as exc:
        for path in staged:
            path.unlink(missing_ok=True)
        return Outcome(status=Status.FAILED, reasons=(_write_failed(job.out_dir, exc),),
                       **base)  # type: ignore[arg-type]
    t3 = time.perf_counter()
    # a report read beforehand stays with the main process: not sent back (build_all adds it)
    return Outcome(status=Status.DRAFT if draft else Status.BUILT, outputs=tuple(finals),
                   staged=tuple(staged), reasons=report.errors if draft else (),
                   submission=sub if job.report is None else None,
                   timings=(("read+check", t1 - t0), ("render", t2 - t1), ("write", t3 - t2)),
                   **base)  # type: ignore[arg-type]


def _stalled(job: _Job, seconds: float) -> Outcome:
    return Outcome(file=job.file, status=Status.FAILED,
                   reasons=(finding("render-failed:stalled", seconds=round(seconds)),))


def _staging(out_dir: Path, source: Path, input_hash: str, suffix: str) -> Path:
    """A temporary name unique to this input file (identical copies included) and process."""
    where = hashlib.sha256(os.fsencode(source.resolve())).hexdigest()[:12]
    return out_dir / f"{tmp_prefix()}staged-{input_hash[:16]}-{where}{suffix}"


def _write_failed(out_dir: Path, exc: OSError) -> Finding:
    return finding("write-failed", out_dir=out_dir, reason=describe_os_error(exc))


Progress = Callable[[int, int, Outcome], None]


def build_all(inputs: Sequence[Path] | Sequence[FileReport], out_dir: Path, *,
              template: Path | None = None, jobs: int | None = None, force: bool = False,
              drafts: bool = False, html: bool = False, pdf: bool = False,
              settings: Settings = DEFAULT_SETTINGS, progress: Progress | None = None,
              previous: PreviousData | None = None, start_method: str | None = None,
              stall_seconds: float = STALL_SECONDS) -> BuildSummary:
    """Build every agency's report from workbooks (paths or folders) or ready FileReports.

    ``start_method`` (``fork``/``spawn``/``forkserver``; default: the
    platform's, or ``NIANBAO_START_METHOD``) starts the worker processes; when no
    worker finishes a job for ``stall_seconds`` they are killed and the jobs not
    done fail (:mod:`nianbao.pool`).

    ``previous`` (last year's data) adds the cross-year checks to workbooks read
    here; ready FileReports are expected to carry them already.

    Raises :class:`nianbao.errors.TemplateError` only when the template itself
    cannot be loaded; every problem with an input is an :class:`Outcome`.
    Workers read, check, render and stage each agency's files; then duplicates
    (two files for one agency and year) are settled in favour of the newest
    file and the staged files are renamed into place.
    """
    template = template or default_template()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        clean_leftovers(out_dir)
        probe = out_dir / f"{tmp_prefix()}probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"无法使用输出目录 {out_dir}：{describe_os_error(exc)}。") from exc
    summary = BuildSummary(out_dir=out_dir)
    t_start = time.perf_counter()
    # Compile here first: a broken template fails before any worker starts.
    main_renderer = Renderer(template, settings)
    options: dict[str, object] = {"template": file_hash(template), "html": html,
                                   "drafts": drafts}
    if previous is not None:
        options["previous"] = previous.fingerprint()
    build_key = _settings_key(settings, options)
    ready = {r.file: r for r in inputs if isinstance(r, FileReport)}
    files = list(ready) + collect((p for p in inputs if isinstance(p, Path)), settings)
    manifest = _read_manifest(out_dir)
    job_list = [_Job(f, out_dir, build_key, manifest.get(_entry_key(f)), force, drafts, html,
                     ready.get(f)) for f in files]
    outcomes: list[Outcome] = []
    for stage in ("read+check", "render", "write"):
        summary.timings[stage] = 0.0

    def collect_outcomes(results: Iterable[Outcome]) -> None:
        for outcome in results:
            outcomes.append(_kept(outcome, ready.get(outcome.file)))
            for stage, seconds in outcome.timings:
                summary.timings[stage] += seconds
            if progress:
                progress(len(outcomes), len(job_list), outcome)

    _WORKER.update(renderer=main_renderer, settings=settings, previous=previous)
    try:
        todo: list[_Job] = []
        for job in job_list:
            here = _settled_here(job, settings)
            if here is None:
                todo.append(job)
            else:
                collect_outcomes((here,))
        workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
        if workers == 1:
            collect_outcomes(map(_process, todo))
        else:  # each worker compiles the template once, in its initializer (any start method)
            from nianbao.pool import run_jobs

            chunk = max(1, min(16, len(todo) // (workers * 8) or 1))
            done = run_jobs(_process, todo, workers=workers, setup=_init_worker,
                            setup_args=(template, settings, previous), chunk=chunk,
                            method=start_method, stall_seconds=stall_seconds)
            collect_outcomes(outcome or _stalled(job, stall_seconds) for job, outcome in done)
    except BaseException:  # interrupted (Ctrl+C, SIGTERM) or failed: no staged file is left
        for outcome in outcomes:
            for staged in outcome.staged:
                staged.unlink(missing_ok=True)
        clean_leftovers(out_dir)  # what the killed workers were writing
        raise
    # every staged report on the disk (one flush of the batch, not one a file) before it
    # gets its name and the manifest says it is done: a power cut never leaves a report
    # that the manifest calls up to date but the disk holds only in part
    if any(o.staged for o in outcomes):
        flush_files(p for o in outcomes for p in o.staged)
    summary.outcomes = [_place(o) for o in _settle_duplicates(outcomes)]
    failure: OSError | None = None
    try:
        _update_manifest(out_dir, manifest, summary.outcomes, build_key,
                         {k: v for k, v in options.items() if k != "template"})
    except OSError as exc:  # the old manifest stays: those reports are rebuilt next time
        failure = exc
        summary.notes.append(f"生成记录（{MANIFEST}）未能更新（{describe_os_error(exc)}），"
                             "下次运行会重新生成这些报告。")
    summary.timings["wall"] = time.perf_counter() - t_start
    if pdf and failure is None:
        from nianbao.pdf import convert_outcomes

        t_pdf = time.perf_counter()
        convert_outcomes(summary, max(1, min(jobs or os.cpu_count() or 1, len(job_list) or 1)),
                         force=force)
        summary.timings["pdf"] = time.perf_counter() - t_pdf
    _write_summary(summary, failure)
    return summary


def _write_summary(summary: BuildSummary, failure: OSError | None) -> None:
    """生成情况.txt and build-summary.json; a write failure (full disk) is an OutputError.

    The text is small and written first, so on a nearly full disk it is the
    file most likely to say what was done.
    """
    out_dir = summary.out_dir
    try:
        write_text(out_dir / SUMMARY_TXT, summary.to_text())
        write_json(out_dir / SUMMARY_JSON, summary.to_dict())
    except OSError as exc:
        failure = failure or exc
    if failure is not None:
        done = summary.count(Status.BUILT) + summary.count(Status.DRAFT)
        raise OutputError(
            f"输出目录 {path_text(out_dir)} 无法写入（{describe_os_error(failure)}）。"
            f"本次已完整生成 {done} 份报告，未完成的没有留下半个文件；"
            f"详见 {SUMMARY_TXT}（如也未能写入，请先腾出空间）。腾出空间后重新运行即可继续。")


def _place(outcome: Outcome) -> Outcome:
    """Rename an outcome's staged files to their final names; remove the other variant.

    A final report replaces the agency's earlier draft and a draft replaces the
    earlier final report (its data is no longer valid), so the output folder
    never holds both.
    """
    if not outcome.staged:
        return outcome
    try:
        for staged, final in zip(outcome.staged, outcome.outputs, strict=True):
            os.replace(staged, final)
            if outcome.status == Status.DRAFT:
                other = final.with_name(final.name.replace("（草稿）", ""))
            else:
                other = final.with_name(final.stem + "（草稿）" + final.suffix)
            if other != final:
                other.unlink(missing_ok=True)
                other.with_suffix(".pdf").unlink(missing_ok=True)
    except OSError as exc:
        for staged in outcome.staged:
            staged.unlink(missing_ok=True)
        return dataclasses.replace(outcome, status=Status.FAILED, outputs=(), staged=(),
                                   reasons=(_write_failed(outcome.outputs[0].parent, exc),))
    return dataclasses.replace(outcome, staged=())


def _settle_duplicates(outcomes: list[Outcome]) -> list[Outcome]:
    """Two files for one agency and year: the newest file counts, the others are refused."""
    claims: dict[str, list[int]] = {}
    for i, o in enumerate(outcomes):
        if o.outputs and o.status in (Status.BUILT, Status.DRAFT, Status.UNCHANGED):
            claims.setdefault(o.outputs[0].name.replace("（草稿）", ""), []).append(i)
    result = list(outcomes)
    for indexes in claims.values():
        if len(indexes) < 2:
            continue
        indexes.sort(key=lambda i: newest_first(outcomes[i].file))
        winner = outcomes[indexes[0]]
        for i in indexes[1:]:
            loser = outcomes[i]
            for staged in loser.staged:
                staged.unlink(missing_ok=True)
            reason = finding("duplicate-agency", winner=winner.file.name)
            result[i] = dataclasses.replace(loser, status=Status.REFUSED, outputs=(), staged=(),
                                            reasons=(reason,))
    return result


def _update_manifest(out_dir: Path, manifest: dict[str, dict[str, object]],
                     outcomes: Iterable[Outcome], build_key: str,
                     options: dict[str, object]) -> None:
    for o in outcomes:
        key = _entry_key(o.file)
        if o.status in (Status.BUILT, Status.DRAFT):
            manifest[key] = {"input": o.input_hash, "build": build_key, "status": o.status,
                             "agency": o.agency, "year": o.year, "warnings": o.warnings,
                             "options": options, "outputs": [p.name for p in o.outputs]}
        elif o.status in (Status.REFUSED, Status.FAILED):
            manifest.pop(key, None)
    _write_manifest(out_dir, manifest)


_SEEN: dict[tuple[str, Path], tuple[tuple[int, int, int], object]] = {}


def _by_stat(kind: str, path: Path, load: Callable[[Path], object]) -> object:
    """``load(path)``, read again only when the file changed (size, time or inode).

    :func:`up_to_date` asks once per unit; reading a 50,000-entry manifest or
    hashing the template each time would make a season's status quadratic.
    """
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        return load(path)
    seen = _SEEN.get((kind, path))
    if seen is not None and seen[0] == stamp:
        return seen[1]
    value = load(path)
    if len(_SEEN) > 64:
        _SEEN.clear()
    _SEEN[(kind, path)] = (stamp, value)
    return value


def up_to_date(report: FileReport, out_dir: Path, template: Path | None = None,
               settings: Settings = DEFAULT_SETTINGS, *, html: bool | None = None,
               drafts: bool | None = None) -> bool:
    """Whether the report for this workbook exists and was built from exactly these inputs.

    ``html``/``drafts`` default to the options of the build that made the report,
    so `nianbao status` after `nianbao build --html` still says 已生成.
    """
    template = template or default_template()
    manifest = _by_stat("manifest", out_dir / MANIFEST, lambda p: _read_manifest(p.parent))
    assert isinstance(manifest, dict)
    entry = manifest.get(_entry_key(report.file))
    stored = entry.get("options") if entry else None
    options: dict[str, object] = dict(stored) if isinstance(stored, dict) else {}
    options["html"] = bool(options.get("html", False)) if html is None else html
    options["drafts"] = bool(options.get("drafts", False)) if drafts is None else drafts
    try:
        options["template"] = _by_stat("hash", template, file_hash)
        build_key = _settings_key(settings, options)
        input_hash = hashlib.sha256(sources.read_bytes(report.file, settings)).hexdigest()
    except (OSError, sources.ZipProblem):
        return False
    return report.valid and _fresh(entry, input_hash, build_key, out_dir)
