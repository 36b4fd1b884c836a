"""nianbao serve over HTTP (Starlette's TestClient, real worker processes, both databases)."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from servekit import PASSWORD, ROWS, Workspace, bad_workbook, csrf_of, good_workbook, make_workspace
from sqlalchemy import select
from starlette.testclient import TestClient

from nianbao.config import load_config
from nianbao.db import engine_for, store
from nianbao.db.tables import audit_log, submissions
from nianbao.web.app import create_app
from nianbao.web.links import rotate
from nianbao.web.sandbox import Limits

A, B, C = (r.code for r in ROWS[:3])


@pytest.fixture
def ws(db_url: str, tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws", db_url)


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    config = load_config(ws.root)
    assert config is not None
    with TestClient(create_app(config, sandbox_workers=1, limits=Limits(timeout=20)),
                    follow_redirects=False) as client:
        yield client


def _upload(client: TestClient, link: str, data: bytes, name: str = "年报.xlsx",
            csrf: bool = True):  # type: ignore[no-untyped-def]
    fields = {"csrf": csrf_of(client.get(link).text)} if csrf else {}
    return client.post(f"{link}/upload", data=fields, files={"file": (name, data, "application/octet-stream")})


def _rows(ws: Workspace) -> list[store.SubmissionRow]:
    config = load_config(ws.root)
    assert config is not None
    engine = engine_for(config)
    with engine.connect() as conn:
        rows = [r for code in (A, B, C) for r in store.history(conn, code)]
    engine.dispose()
    return rows


def _online_files(ws: Workspace) -> list[Path]:
    return sorted((ws.root / "inputs" / "online").rglob("*.xlsx"))


def test_serve_upload_with_mistakes_shows_findings_by_cell_and_is_kept(
        client: TestClient, ws: Workspace, tmp_path: Path) -> None:
    link = ws.links[A]
    response = _upload(client, link, bad_workbook(tmp_path / "bad.xlsx").read_bytes())

    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "有错误" in page and "表四 复议诉讼!" in page
    assert "怎么改" in page
    rows = _rows(ws)
    assert [(r.unit_code, r.verdict, r.source) for r in rows] == [(A, "errors", "web")]
    stored = ws.root / rows[0].stored_path
    assert stored.parent == ws.root / "inputs" / "online" / A
    assert stored.read_bytes() == (tmp_path / "bad.xlsx").read_bytes()
    # the marked-up copy: its own workbook with the wrong cells filled and commented
    sid = rows[0].id
    assert f'href="{link}/s/{sid}/marked.xlsx"' in page
    marked = client.get(f"{link}/s/{sid}/marked.xlsx")
    assert marked.status_code == 200 and "attachment" in marked.headers["content-disposition"]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(marked.content))
    assert book.sheetnames[0] == "问题清单"
    t4 = next(f for f in rows[0].findings if str(f.get("sheet", "")).startswith("表四"))
    cell = book[str(t4["sheet"])][str(t4["cell"])]
    assert cell.comment is not None and str(t4["message"]) in cell.comment.text
    assert stored.read_bytes() == (tmp_path / "bad.xlsx").read_bytes()  # the input untouched
    assert client.get(f"{ws.links[B]}/s/{sid}/marked.xlsx").status_code == 404  # not B's


def test_serve_corrected_upload_passes_and_offers_the_draft(
        client: TestClient, ws: Workspace, tmp_path: Path) -> None:
    link = ws.links[B]
    _upload(client, link, bad_workbook(tmp_path / "bad.xlsx", 1).read_bytes())
    response = _upload(client, link, good_workbook(tmp_path / "good.xlsx", 1).read_bytes())
    page = client.get(response.headers["location"]).text

    assert "待审核" in page and "报告草稿预览" in page and ROWS[1].name in page
    sid = response.headers["location"].split("s=")[1].split("#")[0]
    draft = client.get(f"{link}/s/{sid}/draft.docx")
    assert draft.status_code == 200 and draft.content[:2] == b"PK"
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(draft.content)).paragraphs)
    assert ROWS[1].name in text
    assert len(_online_files(ws)) == 2  # the invalid upload is kept too
    assert "marked-link" not in page  # nothing to mark on a clean workbook
    assert client.get(f"{link}/s/{sid}/marked.xlsx").status_code == 404


def test_serve_same_file_twice_is_two_files_never_overwritten(
        client: TestClient, ws: Workspace, tmp_path: Path) -> None:
    data = good_workbook(tmp_path / "g.xlsx").read_bytes()
    _upload(client, ws.links[A], data)
    _upload(client, ws.links[A], data)

    files = _online_files(ws)
    assert len(files) == 2 and all(f.read_bytes() == data for f in files)


def test_serve_unknown_and_rotated_tokens_get_the_same_404_as_unknown_pages(
        client: TestClient, ws: Workspace) -> None:
    unknown_page = client.get("/no/such/page")
    wrong_token = client.get("/u/" + "A" * 32)
    short_token = client.get("/u/x")
    config = load_config(ws.root)
    assert config is not None
    engine = engine_for(config)
    new = rotate(config, engine, A)
    engine.dispose()
    assert new is not None
    old = client.get(ws.links[A])

    assert unknown_page.status_code == wrong_token.status_code == old.status_code == 404
    assert unknown_page.text == wrong_token.text == short_token.text == old.text
    assert client.get(new.url).status_code == 200
    assert client.post(ws.links[A] + "/upload").status_code == 404


def test_serve_oversize_upload_is_413_in_chinese_and_nothing_stored(
        client: TestClient, ws: Workspace) -> None:
    csrf = csrf_of(client.get(ws.links[A]).text)
    big = b"PK\x03\x04" + b"\0" * (11 * 1024 * 1024)

    response = client.post(f"{ws.links[A]}/upload", data={"csrf": csrf},
                           files={"file": ("big.xlsx", big)})

    assert response.status_code == 413
    assert "超过 10 MB" in response.text
    assert _online_files(ws) == [] and _rows(ws) == []


@pytest.mark.parametrize(("name", "data", "says"), [
    ("年报.xlsx", b"%PDF-1.7 not a workbook", "不是 Excel 工作簿"),
    ("年报.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 Excel"),
    ("年报.xlsx", None, "Word 文档"),  # a .docx renamed .xlsx
])
def test_serve_wrong_type_is_sniffed_by_content(client: TestClient, ws: Workspace, name: str,
                                                data: bytes | None, says: str) -> None:
    if data is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("word/document.xml", "<w:document/>")
        data = buffer.getvalue()

    response = _upload(client, ws.links[A], data, name)

    assert response.status_code == 415 and says in response.text
    assert _online_files(ws) == []


def test_serve_upload_without_csrf_is_refused(client: TestClient, ws: Workspace,
                                              tmp_path: Path) -> None:
    data = good_workbook(tmp_path / "g.xlsx").read_bytes()
    client.get(ws.links[A])

    response = _upload(client, ws.links[A], data, csrf=False)
    forged = client.post(f"{ws.links[A]}/upload", data={"csrf": "0" * 64},
                         files={"file": ("a.xlsx", data)})

    assert response.status_code == forged.status_code == 403
    assert _online_files(ws) == []


def test_serve_path_like_file_names_are_never_paths(client: TestClient, ws: Workspace,
                                                    tmp_path: Path) -> None:
    data = good_workbook(tmp_path / "g.xlsx").read_bytes()
    for name in ("../../../nianbao.toml", "..\\..\\evil.xlsx", "/etc/passwd", "a/../../b.xlsx"):
        assert _upload(client, ws.links[A], data, name).status_code == 303

    files = _online_files(ws)
    assert len(files) == 4 and {f.parent for f in files} == {ws.root / "inputs" / "online" / A}
    assert all(f.name.endswith(".xlsx") and "_" in f.name for f in files)
    assert {r.original_name for r in _rows(ws)} == {"nianbao.toml", "evil.xlsx", "passwd", "b.xlsx"}
    assert "year = 2025" in (ws.root / "nianbao.toml").read_text("utf-8")


def test_serve_zip_bomb_is_refused_and_the_server_stays_up(client: TestClient, ws: Workspace,
                                                           tmp_path: Path) -> None:
    source = good_workbook(tmp_path / "g.xlsx")
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            out.writestr(item, src.read(item.filename))
        out.writestr("xl/media/zeros.bin", b"\0" * (600 * 1024 * 1024))  # ~600 KB zipped

    response = _upload(client, ws.links[A], bomb.read_bytes())

    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "解压后过大" in page or "无法处理" in page
    assert client.get(ws.links[B]).status_code == 200


def test_serve_ten_thousand_sheets_hit_the_worker_limits_not_the_server(
        ws: Workspace, tmp_path: Path) -> None:
    config = load_config(ws.root)
    assert config is not None
    path = tmp_path / "sheets.xlsx"
    _many_sheets(path, 10_000)
    with TestClient(create_app(config, sandbox_workers=1, limits=Limits(timeout=1.0)),
                    follow_redirects=False) as client:
        response = _upload(client, ws.links[A], path.read_bytes())
        page = client.get(response.headers["location"]).text
        assert response.status_code == 303 and ("无法处理" in page or "无法读取" in page)
        assert client.get(ws.links[B]).status_code == 200  # a fresh worker took over


def _many_sheets(path: Path, n: int) -> None:
    sheets = "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, n + 1))
    rels = "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/'
                   f'officeDocument/2006/relationships/worksheet" Target="worksheets/s{i}.xml"/>'
                   for i in range(1, n + 1))
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
             '</sheetData></worksheet>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="xml" '
                   'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                   'sheet.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="'
                   'http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                   'officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.'
                   'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
                   f'openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}'
                   '</sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="'
                   f'http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
                   '</Relationships>')
        for i in range(1, n + 1):
            z.writestr(f"xl/worksheets/s{i}.xml", sheet)


def test_serve_security_headers_on_every_page(client: TestClient, ws: Workspace) -> None:
    for path in ("/", ws.links[A], "/admin/login", "/nothing", "/static/style.css"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"


def test_serve_errors_show_no_traceback_and_logs_hold_no_token(
        client: TestClient, ws: Workspace, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_a: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(store, "history", broken)
    with caplog.at_level(logging.INFO, logger="nianbao.serve"):
        response = client.get(ws.links[A])

    assert response.status_code == 500 and "服务器内部错误" in response.text
    assert "Traceback" not in response.text and "secret internals" not in response.text
    token = ws.links[A].rsplit("/", 1)[1]
    assert caplog.records and all(token not in r.getMessage() for r in caplog.records)
    assert all(r.exc_info is None for r in caplog.records if r.levelno >= logging.INFO)


def _login(client: TestClient, password: str):  # type: ignore[no-untyped-def]
    csrf = csrf_of(client.get("/admin/login").text)
    return client.post("/admin/login", data={"csrf": csrf, "password": password})


def test_serve_admin_pages_need_a_login(client: TestClient) -> None:
    for path in ("/admin", f"/admin/unit/{A}", "/admin/download/status.xlsx",
                 "/admin/download/reports.zip"):
        assert client.get(path).headers.get("location") == "/admin/login", path
    assert client.post("/admin/review/1", data={"action": "approve"}).status_code == 303


def test_serve_login_is_rate_limited(client: TestClient) -> None:
    for _ in range(5):
        assert _login(client, "wrong password").status_code == 401

    blocked = _login(client, PASSWORD)

    assert blocked.status_code == 429 and "次数过多" in blocked.text


def test_serve_login_without_csrf_is_refused(client: TestClient) -> None:
    client.get("/admin/login")
    assert client.post("/admin/login", data={"password": PASSWORD}).status_code == 403


def test_serve_review_return_reaches_the_agency_page(client: TestClient, ws: Workspace,
                                                     tmp_path: Path) -> None:
    response = _upload(client, ws.links[C], good_workbook(tmp_path / "g.xlsx", 2).read_bytes())
    sid = int(response.headers["location"].split("s=")[1].split("#")[0])
    assert _login(client, PASSWORD).headers["location"] == "/admin"
    board = client.get("/admin?state=pending").text
    assert ROWS[2].name in board and ROWS[0].name not in board
    csrf = csrf_of(client.get(f"/admin/unit/{C}").text)

    no_csrf = client.post(f"/admin/review/{sid}", data={"action": "return", "comment": "x"})
    done = client.post(f"/admin/review/{sid}", data={"csrf": csrf, "action": "return",
                                                     "comment": "请补充第五部分的改进措施"})

    assert no_csrf.status_code == 403 and done.status_code == 303
    page = client.get(ws.links[C]).text
    assert "退回修改" in page and "请补充第五部分的改进措施" in page
    assert "退回修改" in client.get("/admin?state=returned").text
    config = load_config(ws.root)
    assert config is not None
    engine = engine_for(config)
    with engine.connect() as conn:
        actions = set(conn.execute(select(audit_log.c.action)).scalars())
        count = len(conn.execute(select(submissions.c.id)).all())
    engine.dispose()
    assert {"upload", "login", "review-returned"} <= actions and count == 1


def _wait_job(client: TestClient, timeout: float = 240) -> dict[str, object]:
    import re
    import time

    found = re.search(r'data-job="(\d+)"', client.get("/admin").text)
    assert found
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/admin/jobs/{found.group(1)}").json()
        if state["state"] != "running":
            return dict(state)
        time.sleep(0.5)
    raise AssertionError("job did not finish")


def test_serve_background_build_and_downloads(client: TestClient, ws: Workspace,
                                              tmp_path: Path) -> None:
    _upload(client, ws.links[A], good_workbook(tmp_path / "a.xlsx", 0).read_bytes())
    # a return that came by e-mail, put into inputs/ by hand
    good_workbook(ws.root / "inputs" / "邮件" / f"{ROWS[1].name}.xlsx", 1)
    _login(client, PASSWORD)
    assert "还没有状态表" in client.get("/admin/download/status.xlsx").text
    csrf = csrf_of(client.get("/admin").text)

    assert client.post("/admin/jobs", data={"csrf": csrf, "kind": "build"}).status_code == 303
    busy = client.post("/admin/jobs", data={"csrf": csrf, "kind": "summary"})
    job = _wait_job(client)

    assert job["state"] == "done", job
    assert busy.status_code in (303, 409)
    status = client.get("/admin/download/status.xlsx")
    assert status.status_code == 200 and status.content[:2] == b"PK"
    reports = client.get("/admin/download/reports.zip")
    names = zipfile.ZipFile(io.BytesIO(reports.content)).namelist()
    assert any(ROWS[0].name in n and n.endswith(".docx") for n in names), names
    assert any(ROWS[1].name in n and n.endswith(".docx") for n in names), names
    sources = {(r.unit_code, r.source) for r in _rows(ws)}
    assert {(A, "web"), (B, "folder")} <= sources
    board = client.get("/admin").text
    assert board.count("待审核") >= 3  # the count box and both units
