"""The coordinator's pages behind a password: the board, a unit's uploads, reviews, downloads."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import zipfile
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import delete, insert, select
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from nianbao.atomic import TMP_PREFIX
from nianbao.db import store
from nianbao.db.tables import sessions
from nianbao.web import jobs
from nianbao.web.agency import XLSX
from nianbao.web.common import (
    client_ip,
    csrf_ok,
    group_findings,
    local_time,
    message,
    not_found,
    page,
    service,
)
from nianbao.web.secrets_store import stored_password, verify_password

SESSION_COOKIE = "nb_session"
SESSION_HOURS = 12
LOGIN_WINDOW = dt.timedelta(minutes=15)
LOGIN_TRIES = 5  # failed logins per address within the window
ADMIN = "协调人"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _who(request: Request) -> str | None:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not cookie:
        return None
    with service(request).engine.connect() as conn:
        row = conn.execute(select(sessions).where(sessions.c.id_hash == _hash(cookie))).first()
    if row is None or store.aware(row.expires_at) < store.now():
        return None
    return str(row.who)


async def _require(request: Request) -> str | None:
    return await run_in_threadpool(_who, request)


def _to_login() -> Response:
    return RedirectResponse("/admin/login", status_code=303)


async def login_page(request: Request) -> Response:
    return page(request, "login.html", {"title": "协调人登录", "error": ""})


def _login(request: Request, password: str) -> tuple[str | None, str]:
    """(a new session cookie or None, the error)."""
    svc = service(request)
    ip = client_ip(request)
    with svc.engine.begin() as conn:
        if store.recent_count(conn, "login-failed", ip, store.now() - LOGIN_WINDOW) >= LOGIN_TRIES:
            return None, "登录失败次数过多，请 15 分钟后再试。"
    stored = stored_password(svc.config.root)
    if stored is None:
        return None, "尚未设置协调人密码。请在服务器上运行 nianbao password 设置。"
    ok = verify_password(stored, password)
    with svc.engine.begin() as conn:
        if not ok:
            store.audit(conn, "anonymous", "login-failed", ip=ip)
            return None, "密码不正确。"
        cookie = secrets.token_urlsafe(32)
        stamp = store.now()
        conn.execute(delete(sessions).where(sessions.c.expires_at < stamp))
        conn.execute(insert(sessions).values(
            id_hash=_hash(cookie), who=ADMIN, csrf="", created_at=stamp,
            expires_at=stamp + dt.timedelta(hours=SESSION_HOURS)))
        store.audit(conn, ADMIN, "login", ip=ip)
    return cookie, ""


async def login(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=4) as form:
        if not csrf_ok(request, form):
            return message(request, "页面已过期", "页面已过期，请刷新后重新登录。", 403, "/admin/login")
        password = str(form.get("password", ""))
    cookie, error = await run_in_threadpool(_login, request, password)
    if cookie is None:
        status = 429 if "次数过多" in error else 401
        return page(request, "login.html", {"title": "协调人登录", "error": error}, status)
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https", max_age=SESSION_HOURS * 3600)
    return response


async def logout(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=2) as form:
        if not csrf_ok(request, form):
            return message(request, "页面已过期", "页面已过期，请刷新后重试。", 403, "/admin")
    cookie = request.cookies.get(SESSION_COOKIE, "")

    def drop() -> None:
        with service(request).engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id_hash == _hash(cookie)))

    await run_in_threadpool(drop)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _board_data(request: Request) -> dict[str, object]:
    svc = service(request)
    with svc.engine.connect() as conn:
        rows = store.board(conn)
        job = jobs.latest(conn)
    wanted = request.query_params.get("state", "")
    current = store.UnitState(wanted) if wanted in set(store.UnitState) else None
    counts = [(s, sum(1 for r in rows if r.state is s)) for s in store.UnitState]
    shown = [r for r in rows if current is None or r.state is current]
    return {"title": "报送情况", "year": svc.config.year, "total": len(rows), "counts": counts,
            "current": current, "job": jobs.describe(job) if job else None,
            "rows": [{"code": r.code, "name": r.name, "level": r.level, "state": r.state,
                      "latest": r.latest, "count": r.count,
                      "when": local_time(r.latest.received_at) if r.latest else ""}
                     for r in shown]}


async def board(request: Request) -> Response:
    if await _require(request) is None:
        return _to_login()
    return page(request, "board.html", await run_in_threadpool(_board_data, request))


def _unit_data(request: Request, code: str) -> dict[str, object] | None:
    with service(request).engine.connect() as conn:
        unit = store.unit(conn, code)
        rows = store.history(conn, code)
    if unit is None:
        return None
    return {"title": unit["name"], "unit": unit, "state": store.state_of(rows[0] if rows else None),
            "subs": [{"row": r, "when": local_time(r.received_at),
                      "reviewed": local_time(r.reviewed_at),
                      "groups": group_findings(r.findings)} for r in rows]}


async def unit_page(request: Request) -> Response:
    if await _require(request) is None:
        return _to_login()
    data = await run_in_threadpool(_unit_data, request, request.path_params["code"])
    return not_found(request) if data is None else page(request, "unit.html", data)


async def review(request: Request) -> Response:
    who = await _require(request)
    if who is None:
        return _to_login()
    sid = int(request.path_params["sid"])
    async with request.form(max_files=0, max_fields=4) as form:
        if not csrf_ok(request, form):
            return message(request, "页面已过期", "页面已过期，请刷新后重试。", 403, "/admin")
        action, comment = str(form.get("action", "")), str(form.get("comment", "")).strip()
    state = {"approve": store.Review.APPROVED, "return": store.Review.RETURNED}.get(action)
    if state is None:
        return message(request, "操作无效", "请选择“通过”或“退回修改”。", 400, "/admin")
    if state is store.Review.RETURNED and not comment:
        return message(request, "请填写退回意见", "退回修改时请写明需要修改的内容，单位会在报送页面上看到。", 400,
                       "/admin")

    def save() -> str | None:
        with service(request).engine.begin() as conn:
            row = store.submission(conn, sid)
            if row is None:
                return None
            store.add_review(conn, sid, state, comment=comment[:2000], reviewer=who)
            store.audit(conn, who, f"review-{state}", unit_code=row.unit_code,
                        detail=f"#{sid} {comment[:200]}", ip=client_ip(request))
            return row.unit_code

    code = await run_in_threadpool(save)
    if code is None:
        return not_found(request)
    return RedirectResponse(f"/admin/unit/{quote(code)}", status_code=303)


async def submission_file(request: Request) -> Response:
    if await _require(request) is None:
        return _to_login()
    svc = service(request)
    with svc.engine.connect() as conn:
        row = store.submission(conn, int(request.path_params["sid"]))
    if row is None:
        return not_found(request)
    return FileResponse(svc.config.root / row.stored_path, media_type=XLSX,
                        filename=f"{row.unit_code}_{Path(row.stored_path).name}")


async def download_status(request: Request) -> Response:
    if await _require(request) is None:
        return _to_login()
    path = service(request).config.outputs / "status.xlsx"
    if not path.is_file():
        return message(request, "还没有状态表", "请先点击“更新状态表”，完成后再下载。", 404, "/admin")
    return FileResponse(path, media_type=XLSX, filename="status.xlsx")


def _zip_reports(outputs: Path) -> Path | None:
    files = sorted(p for p in outputs.rglob("*") if p.is_file()
                   and p.suffix.lower() in (".docx", ".pdf", ".html")
                   and not p.name.startswith((".", "~$"))
                   and not {"online", "logs", "feedback"} & set(p.relative_to(outputs).parts))
    if not files:
        return None
    tmp = outputs / f"{TMP_PREFIX}reports-{secrets.token_hex(4)}.zip"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            archive.write(f, f.relative_to(outputs).as_posix())
    return tmp


async def download_reports(request: Request) -> Response:
    if await _require(request) is None:
        return _to_login()
    outputs = service(request).config.outputs
    tmp = await run_in_threadpool(_zip_reports, outputs)
    if tmp is None:
        return message(request, "还没有报告", "还没有生成任何报告。请先点击“生成各单位报告”。", 404, "/admin")
    return FileResponse(tmp, media_type="application/zip", filename="reports.zip",
                        background=BackgroundTask(tmp.unlink, missing_ok=True))


async def start_job(request: Request) -> Response:
    who = await _require(request)
    if who is None:
        return _to_login()
    async with request.form(max_files=0, max_fields=4) as form:
        if not csrf_ok(request, form):
            return message(request, "页面已过期", "页面已过期，请刷新后重试。", 403, "/admin")
        kind = str(form.get("kind", ""))
    if kind not in jobs.KINDS:
        return message(request, "操作无效", "不认识的任务。", 400, "/admin")
    started = await run_in_threadpool(jobs.start, service(request).config,
                                      service(request).engine, kind, who)
    if started is None:
        return message(request, "已有任务在运行", "已有生成任务正在运行，请等它完成后再试。", 409, "/admin")
    return RedirectResponse("/admin", status_code=303)


async def job_state(request: Request) -> Response:
    if await _require(request) is None:
        return JSONResponse({"state": "failed", "text": "请重新登录"}, status_code=403)

    def read() -> dict[str, object] | None:
        with service(request).engine.connect() as conn:
            row = jobs.get(conn, int(request.path_params["jid"]))
        return jobs.describe(row) if row else None

    data = await run_in_threadpool(read)
    return JSONResponse(data or {"state": "failed", "text": "没有这个任务"})


ROUTES = [
    Route("/admin/login", login_page, methods=["GET"]),
    Route("/admin/login", login, methods=["POST"]),
    Route("/admin/logout", logout, methods=["POST"]),
    Route("/admin", board, methods=["GET"]),
    Route("/admin/unit/{code}", unit_page, methods=["GET"]),
    Route("/admin/review/{sid:int}", review, methods=["POST"]),
    Route("/admin/submission/{sid:int}/file.xlsx", submission_file, methods=["GET"]),
    Route("/admin/download/status.xlsx", download_status, methods=["GET"]),
    Route("/admin/download/reports.zip", download_reports, methods=["GET"]),
    Route("/admin/jobs", start_job, methods=["POST"]),
    Route("/admin/jobs/{jid:int}", job_state, methods=["GET"]),
]
