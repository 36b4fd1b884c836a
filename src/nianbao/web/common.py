"""What every page handler shares: the service state, templates, CSRF, errors, times."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

from nianbao.config import Config
from nianbao.roster import Roster
from nianbao.web.sandbox import Sandbox
from nianbao.web.secrets_store import sign

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
CSRF_COOKIE = "nb_csrf"


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    """Everything a request needs; one per web worker process."""

    config: Config
    engine: Engine
    sandbox: Sandbox
    roster: Roster
    key: bytes
    max_upload: int


def service(request: Request) -> Service:
    found = request.app.state.service
    assert isinstance(found, Service)
    return found


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def local_time(value: dt.datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else ""


# -- CSRF: a random cookie, and its HMAC in every form (signed double submit) -----------

def csrf_pair(request: Request) -> tuple[str, str | None]:
    """(the form token, a new cookie value to set or None)."""
    key = service(request).key
    cookie = request.cookies.get(CSRF_COOKIE, "")
    new = None
    if len(cookie) != 43:
        cookie = new = secrets.token_urlsafe(32)
    return sign(key, "csrf", cookie), new


def csrf_ok(request: Request, form: Mapping[str, Any]) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    given = form.get("csrf")
    if not cookie or not isinstance(given, str):
        return False
    return hmac.compare_digest(given, sign(service(request).key, "csrf", cookie))


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A rendered page with its CSRF token (and cookie, the first time)."""
    token, new_cookie = csrf_pair(request)
    response = TEMPLATES.TemplateResponse(request, name, {"csrf": token, **context},
                                          status_code=status)
    if new_cookie:
        response.set_cookie(CSRF_COOKIE, new_cookie, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
    return response


def message(request: Request, title: str, text: str, status: int,
            back: str = "") -> Response:
    return page(request, "message.html", {"title": title, "message": text, "back": back}, status)


NOT_FOUND_TEXT = "您访问的页面不存在。如果这是本单位的报送链接，请向政务公开办索取新的链接。"


def not_found(request: Request) -> Response:
    """The one 404: unknown pages and unknown or revoked tokens look exactly the same."""
    return HTMLResponse(_plain_page("页面不存在", NOT_FOUND_TEXT), status_code=404)


def _plain_page(title: str, text: str) -> str:
    return TEMPLATES.get_template("message.html").render(title=title, message=text, back="")


def plain_error(status: int, title: str, text: str) -> HTMLResponse:
    """An error page that needs no request (middleware): no cookies, no tokens."""
    return HTMLResponse(_plain_page(title, text), status_code=status)


def group_findings(findings: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[dict[str, str]]]]:
    """Findings grouped by table (sheet), each with ``sheet!cell``, message and how to fix."""
    groups: dict[str, list[dict[str, str]]] = {}
    for f in findings:
        sheet = str(f.get("sheet") or "整个文件")
        cell = f.get("cell")
        groups.setdefault(sheet, []).append({
            "severity": str(f.get("severity", "")),
            "where": f"{sheet}!{cell}" if f.get("sheet") and cell else (str(f.get("sheet") or "—")),
            "message": str(f.get("message", "")), "hint": str(f.get("hint") or "")})
    return list(groups.items())
