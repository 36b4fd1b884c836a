"""The ASGI application of ``nianbao serve`` (Starlette), and its start-up.

Starlette rather than FastAPI or Litestar: the pages are server-rendered forms, so
request models and generated API docs buy nothing, while every extra compiled
dependency (pydantic-core, msgspec) is one more wheel to carry into an offline
intranet for each platform.  Starlette is pure Python and small.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nianbao.config import Config, load_config
from nianbao.roster import read_roster
from nianbao.web import admin, agency
from nianbao.web.common import HERE, Service, not_found, page, plain_error
from nianbao.web.links import open_database
from nianbao.web.sandbox import Limits, Sandbox
from nianbao.web.secrets_store import server_key
from nianbao.web.uploads import MAX_UPLOAD_BYTES, recover

log = logging.getLogger("nianbao.serve")
ENV_WORKSPACE = "NIANBAO_WORKSPACE"
ENV_MAX_MB = "NIANBAO_MAX_UPLOAD_MB"
ENV_SANDBOX = "NIANBAO_SANDBOX_WORKERS"
ENV_TIMEOUT = "NIANBAO_SANDBOX_TIMEOUT"
ENV_MEMORY = "NIANBAO_SANDBOX_MEMORY_MB"
_TOKEN_PATH = re.compile(r"/u/[^/?#]+")
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields
HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
     b"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
     b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def redact(path: str) -> str:
    """A path fit for a log: unit tokens replaced."""
    return _TOKEN_PATH.sub("/u/***", path)


class _TooLarge(Exception):
    pass


class Guard:
    """Security headers, the body size limit (413), error pages and a token-free access log."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        status = 0
        begin = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await self._too_large(send_with_headers)
            await self._drain(receive)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send_with_headers)
        except _TooLarge:
            if not started:
                await self._too_large(send_with_headers)
        except Exception as exc:  # noqa: BLE001 - a Chinese page, a one-line log, no traceback
            log.error("内部错误 %s %s：%s", scope.get("method"), redact(scope["path"]),
                      type(exc).__name__)
            log.debug("traceback", exc_info=True)
            if not started:
                await plain_error(500, "服务器内部错误", "处理请求时出错，请稍后重试；如仍有问题请联系政务公开办。")(
                    scope, receive, send_with_headers)
        log.info("%s %s %s %.0fms", scope.get("method"), redact(scope["path"]), status,
                 (time.perf_counter() - begin) * 1000)

    async def _too_large(self, send: Send) -> None:
        mb = (self.max_body - FORM_OVERHEAD) // (1024 * 1024)
        response = plain_error(413, "文件太大", f"上传的文件超过 {mb} MB 的上限。填报表正常只有几十 KB，"
                                               "请确认上传的是本单位的填报表。")
        response.headers["connection"] = "close"
        await response({"type": "http"}, _no_body, send)

    @staticmethod
    async def _drain(receive: Receive) -> None:
        return None  # the connection is closed; the body is never read


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


async def home(request: Request) -> Response:
    return page(request, "message.html", {
        "title": "网上报送", "back": "",
        "message": "请使用政务公开办发给本单位的专用报送链接。协调人请从 /admin 登录。"})


async def _not_found(request: Request, _exc: Exception) -> Response:
    return not_found(request)


def prepare(config: Config, sandbox: Sandbox) -> Service:
    """Migrate, sync the roster, recover uploads a crash left unrecorded; the worker's state."""
    roster = read_roster(config.roster)
    engine = open_database(config, roster)
    try:
        for rel in recover(config, engine, sandbox):
            log.warning("已补记崩溃前收到的文件 %s", rel)
    except IntegrityError:
        pass  # another worker recorded it first
    except BaseException:
        engine.dispose()
        raise
    max_mb = int(os.environ.get(ENV_MAX_MB, "0") or 0)
    return Service(config=config, engine=engine, sandbox=sandbox, roster=roster,
                   key=server_key(config.root),
                   max_upload=max_mb * 1024 * 1024 if max_mb else MAX_UPLOAD_BYTES)


def create_app(config: Config, *, sandbox_workers: int = 2, limits: Limits | None = None) -> Starlette:
    max_mb = int(os.environ.get(ENV_MAX_MB, "0") or 0)
    max_body = (max_mb * 1024 * 1024 if max_mb else MAX_UPLOAD_BYTES) + FORM_OVERHEAD

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sandbox = Sandbox(config.settings, config.template, size=sandbox_workers,
                          limits=limits or Limits())
        try:
            app.state.service = prepare(config, sandbox)
            yield
        finally:
            sandbox.close()
            if hasattr(app.state, "service"):
                app.state.service.engine.dispose()

    routes: list[Any] = [Route("/", home), *agency.ROUTES, *admin.ROUTES,
                         Mount("/static", StaticFiles(directory=str(HERE / "static")),
                               name="static")]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        404: _not_found, 405: _not_found})
    app.add_middleware(Guard, max_body=max_body)
    return app


def app_from_env() -> Starlette:
    """The factory uvicorn calls in each worker: the workspace comes from NIANBAO_WORKSPACE."""
    config = load_config(Path(os.environ.get(ENV_WORKSPACE, ".")))
    if config is None:
        raise RuntimeError("NIANBAO_WORKSPACE is not a nianbao workspace")
    limits = Limits(timeout=float(os.environ.get(ENV_TIMEOUT) or 0) or Limits().timeout,
                    memory_mb=int(os.environ.get(ENV_MEMORY) or 0) or Limits().memory_mb)
    return create_app(config, sandbox_workers=int(os.environ.get(ENV_SANDBOX) or 0) or 2,
                      limits=limits)
