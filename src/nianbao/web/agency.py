"""The agency's pages, reached only through its own link ``/u/{token}``."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from nianbao.annotate import annotated_name
from nianbao.db import store
from nianbao.intake import IntakeData, write_intake
from nianbao.roster import intake_level
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
from nianbao.web.uploads import Rejected, marked_copy, preview_path, receive
from nianbao.workspace import form_name

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _unit_code(request: Request) -> str | None:
    svc = service(request)
    token = request.path_params["token"]
    if not 16 <= len(token) <= 64:
        return None
    with svc.engine.connect() as conn:
        return store.unit_for_token(conn, token)


def _download(data: bytes, filename: str, media: str) -> Response:
    return Response(data, media_type=media, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store"})


def _page_data(request: Request, code: str, selected_id: int | None) -> dict[str, object]:
    base = f"/u/{request.path_params['token']}"
    svc = service(request)
    config = svc.config
    with svc.engine.connect() as conn:
        unit = store.unit(conn, code)
        rows = store.history(conn, code)
    assert unit is not None
    latest = rows[0] if rows else None
    commented = next((r for r in rows if r.comment), None)
    selected = next((r for r in rows if r.id == selected_id), latest)
    deadline = config.dates.get("deadline")
    chosen = None
    if selected is not None:
        preview = preview_path(config, config.root / selected.stored_path)
        chosen = {"row": selected, "when": local_time(selected.received_at),
                  "groups": group_findings(selected.findings),
                  "preview": preview.read_text("utf-8") if preview.is_file() else None,
                  "marked": selected.verdict in (store.Verdict.ERRORS, store.Verdict.WARNINGS)}
    return {
        "title": unit["name"], "unit": unit, "year": config.year, "base": base,
        "deadline": deadline.isoformat() if deadline else "",
        "days_left": (deadline - dt.date.today()).days if deadline else None,
        "state": store.state_of(latest),
        "comment": {"text": commented.comment, "review": commented.review,
                    "when": local_time(commented.reviewed_at)} if commented else None,
        "history": [{"row": r, "when": local_time(r.received_at),
                     "review": r.review.zh if r.verdict.accepted else "—"} for r in rows],
        "selected": chosen, "max_mb": svc.max_upload // (1024 * 1024)}


async def agency_page(request: Request) -> Response:
    code = await run_in_threadpool(_unit_code, request)
    if code is None:
        return not_found(request)
    raw = request.query_params.get("s", "")
    selected = int(raw) if raw.isdigit() and len(raw) < 12 else None
    data = await run_in_threadpool(_page_data, request, code, selected)
    response = page(request, "agency.html", data)
    response.headers["Cache-Control"] = "no-store"
    return response


async def upload(request: Request) -> Response:
    code = await run_in_threadpool(_unit_code, request)
    if code is None:
        return not_found(request)
    svc = service(request)
    base = f"/u/{request.path_params['token']}"
    async with request.form(max_files=1, max_fields=4) as form:
        if not csrf_ok(request, form):
            return message(request, "页面已过期", "页面已过期或来源不明，请刷新本页后重新上传。", 403, base)
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return message(request, "没有选择文件", "请先选择要上传的填报表（.xlsx）。", 400, base)
        data = await file.read()
        name = file.filename
    try:
        received = await run_in_threadpool(
            receive, svc.config, svc.engine, svc.sandbox, code=code, data=data,
            original_name=Path(name.replace("\\", "/")).name, ip=client_ip(request))
    except Rejected as exc:
        await run_in_threadpool(_audit_rejected, request, code, str(exc))
        return message(request, "文件类型不对", str(exc), 415, base)
    return RedirectResponse(f"{base}?s={received.id}#result", status_code=303)


def _audit_rejected(request: Request, code: str, why: str) -> None:
    with service(request).engine.begin() as conn:
        store.audit(conn, f"unit:{code}", "upload-rejected", unit_code=code, detail=why,
                    ip=client_ip(request))


async def blank_form(request: Request) -> Response:
    code = await run_in_threadpool(_unit_code, request)
    if code is None:
        return not_found(request)
    svc = service(request)
    unit = svc.roster.by_code(code)
    if unit is None:
        return not_found(request)
    name = form_name(unit, svc.config.year)
    path = svc.config.forms / name
    if path.is_file():
        data = await run_in_threadpool(path.read_bytes)
    else:
        data = await run_in_threadpool(_make_form, unit, svc.config.year)
    return _download(data, name, XLSX)


def _make_form(unit: object, year: int) -> bytes:
    from nianbao.roster import Unit

    assert isinstance(unit, Unit)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "form.xlsx"
        write_intake(path, IntakeData(agency=unit.name, code=unit.code, year=year,
                                      level=intake_level(unit.level), contact=unit.contact,
                                      phone=unit.phone))
        return path.read_bytes()


def _own_submission(request: Request) -> store.SubmissionRow | None:
    """The submission in the URL, if it belongs to the unit whose link this is."""
    code = _unit_code(request)
    if code is None:
        return None
    with service(request).engine.connect() as conn:
        row = store.submission(conn, int(request.path_params["sid"]))
    return row if row is not None and row.unit_code == code else None


async def draft(request: Request) -> Response:
    row = await run_in_threadpool(_own_submission, request)
    if row is None:
        return not_found(request)
    code = row.unit_code
    svc = service(request)
    data = await run_in_threadpool(svc.sandbox.draft, svc.config.root / row.stored_path)
    if data is None:
        return message(request, "无法生成草稿", "这份填报表无法读取，不能生成报告草稿。请按校验结果修改后重新上传。",
                       422, f"/u/{request.path_params['token']}")
    unit = svc.roster.by_code(code)
    name = f"{unit.name if unit else code}_{svc.config.year}年政府信息公开工作年度报告（草稿）.docx"
    return _download(data, name, DOCX)


async def marked(request: Request) -> Response:
    """The marked-up copy of the unit's own workbook: every finding on its cell."""
    row = await run_in_threadpool(_own_submission, request)
    if row is None:
        return not_found(request)
    svc = service(request)
    data = await run_in_threadpool(marked_copy, svc.config, svc.sandbox,
                                   svc.config.root / row.stored_path)
    if data is None:
        return message(request, "没有标注版", "这份填报表没有可以标注的问题，或者无法读取。请按校验结果修改后重新上传。",
                       404, f"/u/{request.path_params['token']}")
    unit = svc.roster.by_code(row.unit_code)
    return _download(data, annotated_name(row.unit_code, unit.name if unit else ""), XLSX)


ROUTES = [
    Route("/u/{token}", agency_page, methods=["GET"]),
    Route("/u/{token}/upload", upload, methods=["POST"]),
    Route("/u/{token}/form", blank_form, methods=["GET"]),
    Route("/u/{token}/s/{sid:int}/draft.docx", draft, methods=["GET"]),
    Route("/u/{token}/s/{sid:int}/marked.xlsx", marked, methods=["GET"]),
]
