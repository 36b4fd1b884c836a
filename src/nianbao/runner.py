"""One pass of the yearly cycle: check, match, status, build, 汇总; with a run lock and a log.

``nianbao run`` (cron/systemd) and ``nianbao status``/``summary`` go through
:func:`gather`; :func:`run_cycle` adds the build.  :func:`run_lock` keeps two
runs from writing ``outputs/`` at the same time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import socket
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.aggregate import SummaryResult, make_summary
from nianbao.archive import archive_reports_of, history_for, previous_for
from nianbao.atomic import describe_os_error
from nianbao.check import check_files, collect, sort_findings
from nianbao.checkcache import CACHE_NAME, CheckCache
from nianbao.config import Config, CycleError
from nianbao.errors import OutputError
from nianbao.matching import Matching, match_reports
from nianbao.memory import give_back
from nianbao.model import FileReport, Submission
from nianbao.packed import pack_report
from nianbao.pool import alongside
from nianbao.previous import PreviousData, cross_year_findings, load_previous
from nianbao.roster import Roster, read_roster
from nianbao.safetext import path_text
from nianbao.status import Board, make_board
from nianbao.status_output import write_status_outputs
from nianbao.textchecks import with_batch_text

Progress = Callable[[str, int, int], None]  # (stage, done, total)

LOCK_STALE_EMPTY_SECONDS = 60  # a lock file still empty after this long was left by a crash


# ------------------------------------------------------------------------ the lock

@dataclass(frozen=True, slots=True, kw_only=True)
class LockInfo:
    pid: int
    started: str
    host: str

    @classmethod
    def mine(cls) -> LockInfo:
        return cls(pid=os.getpid(), started=dt.datetime.now().isoformat(timespec="seconds"),
                   host=socket.gethostname())


class LockHeld(CycleError):
    """Another run holds the lock (exit code 4)."""

    def __init__(self, path: Path, holder: LockInfo | None) -> None:
        self.path = path
        self.holder = holder
        who = (f"进程 {holder.pid}（{holder.host}，{holder.started} 开始）" if holder
               else "另一个进程（刚刚开始）")
        super().__init__(f"另一个 nianbao 任务正在运行：{who}。请等它结束后再试。"
                         f"如确认没有任务在运行，可删除锁文件 {path}。")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(kernel32.GetLastError() == 5)  # access denied: exists
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OSError:
        return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed process nobody reaped (common in containers) exists but is not running."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def read_lock(path: Path) -> LockInfo | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LockInfo(pid=int(data["pid"]), started=str(data["started"]),
                        host=str(data.get("host", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _stale(path: Path, holder: LockInfo | None) -> bool:
    if holder is None:  # being written right now, or garbage left by a crash
        try:
            return time.time() - path.stat().st_mtime > LOCK_STALE_EMPTY_SECONDS
        except OSError:
            return True
    if holder.host and holder.host != socket.gethostname():
        return False  # cannot see another machine's processes: never steal
    return not pid_alive(holder.pid)


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[LockInfo | None]:
    """Hold ``path`` for this process; yields the stale holder taken over, if any.

    Raises :class:`LockHeld` if a live process holds it.  The lock file is
    created with O_EXCL, so two runs starting together cannot both get it.
    """
    me = LockInfo.mine()
    # A signal between creating the file and entering ``try`` would leave it behind:
    # signals wait until the lock is held and its release is certain.
    masked = _block_signals()
    try:
        taken_over = _acquire(path, me)
    except BaseException:
        _restore_signals(masked)
        raise
    try:
        _restore_signals(masked)  # a pending Ctrl+C or SIGTERM is raised here, inside ``try``
        yield taken_over
    finally:
        current = read_lock(path)
        if current is not None and current.pid == me.pid and current.started == me.started:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _block_signals() -> set[int | signal.Signals] | None:
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)


def _restore_signals(masked: set[int | signal.Signals] | None) -> None:
    if masked is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, masked)


def _acquire(path: Path, me: LockInfo) -> LockInfo | None:
    taken_over: LockInfo | None = None
    for _ in range(3):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = read_lock(path)
            if not _stale(path, holder):
                raise LockHeld(path, holder) from None
            taken_over = holder
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            continue
        except OSError as exc:
            raise OutputError(f"无法使用输出目录 {path_text(path.parent)}：{describe_os_error(exc)}。") \
                from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(dataclasses.asdict(me), fh, ensure_ascii=False)
        except OSError as exc:  # a full disk: no empty lock file left behind
            with contextlib.suppress(OSError):
                path.unlink()
            raise OutputError(f"无法使用输出目录 {path_text(path.parent)}：{describe_os_error(exc)}。") \
                from exc
        return taken_over
    raise LockHeld(path, read_lock(path))


LOCK_NAME = ".nianbao.lock"


def lock_for(out_dir: Path) -> contextlib.AbstractContextManager[LockInfo | None]:
    """The one lock of an output folder (a workspace's outputs/ or a bare ``-o`` folder).

    Every command that writes outputs (build, status, summary, run) holds it.
    """
    return run_lock(out_dir / LOCK_NAME)


# ------------------------------------------------------------------------- the log

@dataclass(slots=True)
class RunLog:
    """Timestamped lines of one run, saved (atomically) under outputs/logs/."""

    path: Path
    lines: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, folder: Path) -> RunLog:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]  # sorts by time
        path = folder / f"run-{stamp}.log"
        if path.exists():
            path = folder / f"run-{stamp}-{os.getpid()}.log"
        return cls(path)

    def __call__(self, message: str, level: str = "信息") -> None:
        now = dt.datetime.now().isoformat(sep=" ", timespec="seconds")
        self.lines.append(f"{now} [{level}] {message}")

    def save(self) -> Path:
        from nianbao.atomic import write_text

        write_text(self.path, "\n".join(self.lines) + "\n")
        return self.path


# ---------------------------------------------------------------- gather and run

@dataclass(frozen=True, slots=True, kw_only=True)
class Gathered:
    """Every returned file checked and matched; cross-year findings already added."""

    config: Config
    roster: Roster
    matching: Matching
    previous: PreviousData | None = None

    def chosen_reports(self) -> list[FileReport]:
        """The file that counts for each unit (newest), in roster order."""
        out = []
        for unit in self.roster:
            match = self.matching.chosen(unit.code)
            if match is not None:
                out.append(match.report)
        return out


def with_previous(matching: Matching, roster: Roster, previous: PreviousData,
                  config: Config) -> Matching:
    """Add the cross-year findings to every matched file (last year's unit by code, then name)."""
    by_unit = {}
    for code, matches in matching.by_unit.items():
        unit = roster.by_code(code)
        assert unit is not None
        updated = []
        for match in matches:
            sub = match.report.submission
            names = (*unit.names, sub.agency if sub else "")
            last = previous.find(unit.code, names)
            if sub is not None and last is not None:
                extra = cross_year_findings(sub, last, settings=config.settings,
                                            positions=match.report.positions)
                if extra:
                    report = dataclasses.replace(
                        match.report, findings=sort_findings([*match.report.findings, *extra]))
                    match = dataclasses.replace(match, report=report)
            updated.append(match)
        by_unit[code] = tuple(updated)
    return dataclasses.replace(matching, by_unit=by_unit)


def with_text_batch(matching: Matching, roster: Roster, previous: PreviousData | None,
                    config: Config) -> Matching:
    """Add the batch text checks (another unit named as the subject, 雷同 with last year
    and between units) to the file that counts for each unit."""
    units = [u for u in roster if matching.chosen(u.code) is not None]
    reports = [m.report for u in units if (m := matching.chosen(u.code)) is not None]
    unit_of = {id(r): u for r, u in zip(reports, units, strict=True)}

    def last_of(report: FileReport) -> Submission | None:
        unit = unit_of[id(report)]
        return previous.find(unit.code, (*unit.names, report.agency)) if previous else None

    checked = with_batch_text(reports, config.settings, roster_names=[u.names for u in roster],
                              last_of=last_of)
    by_unit = dict(matching.by_unit)
    for unit, old, new in zip(units, reports, checked, strict=True):
        if new.sketches:  # compared: no longer needed for the rest of the run
            new = dataclasses.replace(new, sketches={})
        if new is not old:
            by_unit[unit.code] = tuple(dataclasses.replace(m, report=new) if m.report is old else m
                                       for m in by_unit[unit.code])
    return dataclasses.replace(matching, by_unit=by_unit)


def gather(config: Config, *, progress: Progress | None = None,
           log: Callable[[str], None] | None = None, jobs: int | None = None) -> Gathered:
    """Read the roster, check every file under inputs/ (in ``jobs`` worker processes),
    match, add cross-year checks.  Each report is kept packed (:mod:`nianbao.packed`)."""
    say = log or (lambda _msg: None)
    roster = read_roster(config.roster)
    files = collect([config.inputs], config.settings) if config.inputs.is_dir() else []
    say(f"名单 {len(roster)} 个单位；inputs 中有 {len(files)} 个文件。")
    with CheckCache(config.outputs / CACHE_NAME, config.settings) as cache:
        reports = check_files(files, config.settings, jobs=jobs or config.jobs, keep=pack_report,
                              progress=(lambda done, total: progress("校验", done, total))
                              if progress else None, cache=cache)
        if cache.hits:
            say(f"其中 {cache.hits} 个文件自上次运行以来没有变化，沿用上次的校验结果。")
        cache.close(files)
    matching = match_reports(reports, roster, pins=config.pins, base=config.inputs)
    previous = None
    if config.previous is not None:
        previous = load_previous(config.previous, config.settings)
        say(f"上年数据：{config.previous}（{len(previous.by_code)} 个单位"
            + ("，含汇总" if previous.summary else "") + "）。")
    else:
        previous = previous_for(config)  # last year from the archive, when it holds it
        if previous is not None:
            say(f"上年数据：{previous.source}（{len(previous.by_name)} 个单位）。")
    if previous is not None:
        matching = with_previous(matching, roster, previous, config)
    matching = with_text_batch(matching, roster, previous, config)
    give_back()  # what reading, matching and comparing let go of: not carried into the build
    return Gathered(config=config, roster=roster, matching=matching, previous=previous)


def board_for(gathered: Gathered, *, html: bool | None = None,
              drafts: bool | None = None, built: Collection[Path] | None = None) -> Board:
    """The status board; 已生成 where the unit's report is up to date (same build options).

    ``built``: the files whose reports this very run built or found unchanged (``run``):
    then that is known without reading the manifest and hashing every file again.
    """
    from nianbao.build import up_to_date

    config = gathered.config

    def is_built(report: FileReport) -> bool:
        if built is not None:
            return report.valid and report.file in built
        return up_to_date(report, config.outputs, config.template, config.settings,
                          html=html, drafts=drafts)

    return make_board(gathered.roster, gathered.matching, year=config.year, is_built=is_built,
                      dates=config.dates)


def output_links(gathered: Gathered) -> dict[str, str]:
    """Each unit's 网上报送 link for the feedback texts, when ``base_url`` is configured."""
    if not gathered.config.base_url:
        return {}
    from nianbao.web.links import links_for_outputs

    return links_for_outputs(gathered.config, gathered.roster)


def write_status(gathered: Gathered, board: Board, *, jobs: int | None = None) -> dict[str, Path]:
    """status.xlsx/.html (with the reviewer indicators over the archived years), feedback, 催报."""
    config = gathered.config
    return write_status_outputs(board, config.outputs, base=config.root,
                                links=output_links(gathered), history=history_for(config),
                                settings=config.settings, jobs=jobs or config.jobs)


def summarize(gathered: Gathered, board: Board, *, scope: tuple[str, ...] | None = None,
              render: bool = True) -> SummaryResult:
    """The 汇总 of the configured (or given) scope, rendered through the Word template."""
    from nianbao.build import render_report

    config = gathered.config

    def renderer(sub: Submission, out: Path, draft: bool, last: Submission | None) -> None:
        render_report(sub, out, config.template, draft=draft, settings=config.settings,
                      last=last)

    return make_summary(board, gathered.roster, outputs=config.outputs,
                        name=config.summary_name or "汇总", year=config.year,
                        scope=config.scope if scope is None else scope,
                        settings=config.settings, previous=gathered.previous,
                        render=renderer if render else None, history=history_for(config))


def build_counts_text(build: dict[str, object]) -> str:
    """``已生成 3，未变化 40，…`` from ``BuildSummary.to_dict()``."""
    from nianbao.build import STATUS_ZH

    counts = build.get("counts")
    if not isinstance(counts, dict):
        return ""
    return "，".join(f"{STATUS_ZH.get(k, k)} {v}" for k, v in counts.items())


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    board: Board
    summary: SummaryResult | None
    build: dict[str, object] | None  # BuildSummary.to_dict(), None when skipped
    build_failed: int = 0  # reports not rendered or PDFs not converted (a tool failure)
    log: Path | None = None

    @property
    def exit_code(self) -> int:
        """0 every unit done; 1 some unit is missing or has errors; 3 a report failed to render."""
        if self.build_failed:
            return 3
        return 0 if self.board.all_good else 1

    def to_dict(self, base: Path | None = None) -> dict[str, object]:
        return {"exit_code": self.exit_code, "status": self.board.to_dict(base),
                "build": self.build,
                "summary": self.summary.to_dict(base) if self.summary else None,
                "log": str(self.log) if self.log else None}


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    force: bool = False
    jobs: int | None = None
    drafts: bool = False
    html: bool = False
    pdf: bool = False
    skip_build: bool = False
    skip_summary: bool = False


def run_cycle(config: Config, options: RunOptions = RunOptions(), *,
              progress: Progress | None = None, log: RunLog | None = None) -> RunResult:
    """Check, build, status and 汇总 in one pass (the caller holds the lock).

    Raises :class:`~nianbao.config.CycleError` (or anything the build raises)
    when the run cannot complete: a tool failure.
    """
    say = log or (lambda _msg, _level="信息": None)
    gathered = gather(config, progress=progress, log=say, jobs=options.jobs)
    build_dict: dict[str, object] | None = None
    built: set[Path] | None = None
    failed = 0
    if not options.skip_build:
        from nianbao.build import Status, build_all

        if config.template is not None and not config.template.is_file():
            raise CycleError(f"找不到 Word 模板：{config.template}（见 nianbao.toml 的 template）。")
        reports = gathered.chosen_reports()
        say(f"生成报告：{len(reports)} 个单位。")
        # the archive is written while the workers render (this process mostly waits)
        with alongside(lambda stop: archive_reports_of(config, reports, "run", stop=stop)) \
                as archived:
            summary = build_all(
                reports, config.outputs, template=config.template,
                jobs=options.jobs or config.jobs, force=options.force, drafts=options.drafts,
                html=options.html, pdf=options.pdf, settings=config.settings,
                progress=(lambda done, total, _o: progress("生成报告", done, total)) if progress
                else None, previous=gathered.previous)
            note = archived()
        build_dict = summary.to_dict()
        built = {o.file for o in summary.outcomes if o.status in (Status.BUILT, Status.UNCHANGED)}
        if note:
            say(note)
        failed = summary.count(Status.FAILED) + int(summary.pdf_failed)
        say("报告：" + build_counts_text(build_dict))
        for note in summary.notes:
            say(note, "注意")
        del summary  # the outcomes: what the status needs of them is in ``built``
        give_back()
    board = board_for(gathered, html=options.html, drafts=options.drafts, built=built)
    write_status(gathered, board, jobs=options.jobs)
    give_back()
    say(board.totals_line())
    for status in board.units:
        if not status.state.done:
            say(f"{status.unit.code} {status.unit.name}：{status.label}", "注意")
    result_summary = None
    if not options.skip_summary:
        result_summary = summarize(gathered, board, render=not options.skip_build)
        say(f"汇总：纳入 {len(result_summary.included)} 个单位，"
            f"未纳入 {len(result_summary.excluded)} 个；{result_summary.workbook.name}。")
        if result_summary.note:
            say(result_summary.note, "注意")
    return RunResult(board=board, summary=result_summary, build=build_dict, build_failed=failed,
                     log=log.path if log else None)
