"""Background runs started from the board: status, build, 汇总, each in its own process.

The web worker only inserts a ``jobs`` row and starts ``python -m nianbao.web.jobs``;
that process takes the workspace's run lock (so a cron ``nianbao run`` and the
board never write ``outputs/`` at once), reports progress into the row, and ends.
Any web worker can show the progress, and none is ever blocked by a build.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, select, update

from nianbao.config import Config, load_config
from nianbao.db import engine_for, store
from nianbao.db.tables import jobs
from nianbao.runner import pid_alive

KINDS = {"status": "更新状态表", "build": "生成各单位报告", "summary": "生成汇总"}
STATE_ZH = {"running": "运行中", "done": "已完成", "failed": "失败"}


def latest(conn: Connection) -> Row[Any] | None:
    return conn.execute(select(jobs).order_by(jobs.c.id.desc()).limit(1)).first()


def get(conn: Connection, job_id: int) -> Row[Any] | None:
    return conn.execute(select(jobs).where(jobs.c.id == job_id)).first()


def describe(row: Row[Any]) -> dict[str, object]:
    text = row.progress or STATE_ZH.get(row.state, row.state)
    if row.state != "running":
        text = f"{STATE_ZH.get(row.state, row.state)}。{row.progress}"
    return {"id": row.id, "kind": row.kind, "kind_zh": KINDS.get(row.kind, row.kind),
            "state": row.state, "text": text, "started": store.aware(row.started_at)
            .astimezone().strftime("%H:%M:%S")}


def start(config: Config, engine: Engine, kind: str, who: str) -> int | None:
    """Start a background run; None when one is already running."""
    with engine.begin() as conn:
        running = conn.execute(select(jobs).where(jobs.c.state == "running")).all()
        for row in running:
            if row.pid and pid_alive(int(row.pid)):
                return None
            conn.execute(update(jobs).where(jobs.c.id == row.id)
                         .values(state="failed", finished_at=store.now(),
                                 progress="进程意外退出。"))
        job_id = int(conn.execute(insert(jobs).values(
            kind=kind, state="running", progress="正在启动……",
            started_at=store.now())).inserted_primary_key[0])  # type: ignore[index]
        store.audit(conn, who, f"job-{kind}", detail=f"#{job_id}")
    config.logs.mkdir(parents=True, exist_ok=True)
    log = open(config.logs / f"serve-job-{job_id}.log", "ab")  # noqa: SIM115 - owned by the child
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "nianbao.web.jobs", str(config.path or config.root), str(job_id),
             kind], stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=config.root,
            start_new_session=True)
    finally:
        log.close()
    # reap the child when it ends (no zombie), whichever request started it
    threading.Thread(target=process.wait, name=f"nianbao-job-{job_id}", daemon=True).start()
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(pid=process.pid))
    return job_id


def _run(config: Config, engine: Engine, job_id: int, kind: str) -> str:
    from nianbao.runner import (
        RunOptions,
        board_for,
        gather,
        run_cycle,
        run_lock,
        summarize,
        write_status,
    )
    from nianbao.web.uploads import record_folder

    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 0.5 or done == total:
            last[0] = now
            with engine.begin() as conn:
                conn.execute(update(jobs).where(jobs.c.id == job_id)
                             .values(progress=f"{stage}：{done}/{total}"))

    with run_lock(config.lock_file):
        if kind == "build":
            result = run_cycle(config, RunOptions(skip_summary=True), progress=progress)
            record_folder(config, engine, result.board)
            return result.board.totals_line()
        gathered = gather(config, progress=progress)
        board = board_for(gathered)
        record_folder(config, engine, board)
        write_status(gathered, board)
        if kind == "summary":
            summary = summarize(gathered, board)
            return (f"汇总纳入 {len(summary.included)} 个单位，未纳入 {len(summary.excluded)} 个。"
                    + (summary.note or ""))
        return board.totals_line()


def main(argv: list[str]) -> int:
    where, job_id, kind = Path(argv[0]), int(argv[1]), argv[2]
    config = load_config(where)
    assert config is not None
    engine = engine_for(config)
    try:
        try:
            text, state, code = _run(config, engine, job_id, kind), "done", 0
        except Exception as exc:  # noqa: BLE001 - recorded for the board, in Chinese
            text, state, code = f"{exc}" if str(exc) else type(exc).__name__, "failed", 1
        with engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(
                state=state, progress=text[:2000], exit_code=code, finished_at=store.now()))
    finally:
        engine.dispose()
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
