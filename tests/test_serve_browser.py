"""nianbao serve in a real browser: Debian's Chromium driven by Playwright (nothing downloaded).

The agency opens its link, uploads a workbook with mistakes, sees the findings with their
cells, uploads the corrected one and downloads the draft; the coordinator logs in, sees the
board change, returns the submission with a comment, and the agency's page shows it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from servekit import (
    PASSWORD,
    ROWS,
    bad_workbook,
    free_port,
    good_workbook,
    make_workspace,
    start_server,
)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is missing in CI: .ci/run must install Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


PHONE = {"width": 390, "height": 844}


def _width(page, selector: str) -> float:  # type: ignore[no-untyped-def]
    """The rendered width of the first match (``body``: of the whole scrollable page)."""
    if selector == "body":
        return float(page.evaluate("document.documentElement.scrollWidth"))
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return float(box["width"])


def _shot(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("NIANBAO_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def test_browser_agency_uploads_and_coordinator_returns(browser, db_url: str,  # type: ignore[no-untyped-def]
                                                        tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", db_url)
    port = free_port()
    server = start_server(ws.root, port)
    base = f"http://127.0.0.1:{port}"
    unit = ROWS[0]
    try:
        agency = browser.new_context(accept_downloads=True).new_page()
        admin = browser.new_context(accept_downloads=True).new_page()
        admin.goto(f"{base}/admin")
        admin.fill("#password", PASSWORD)
        admin.click("#login-button")
        assert admin.locator("#count-missing b").inner_text() == str(len(ROWS))

        agency.goto(base + ws.links[unit.code])
        assert unit.name in agency.locator("h1").inner_text()
        assert agency.locator("#state").inner_text() == "未报送"
        agency.set_input_files("#file", str(bad_workbook(tmp_path / "填报表.xlsx")))
        agency.click("#upload-button")
        agency.wait_for_selector("#verdict")
        assert "有错误" in agency.locator("#verdict").inner_text()
        cells = agency.locator("td.cell").all_inner_texts()
        assert any(c.startswith("表四 复议诉讼!") for c in cells), cells
        assert agency.locator("tr.error").count() >= 2
        with agency.expect_download() as marked:
            agency.click("#marked-link")
        assert marked.value.suggested_filename.endswith("_批注.xlsx")
        _shot(agency, tmp_path, "agency-findings")

        agency.set_input_files("#file", str(good_workbook(tmp_path / "改好的填报表.xlsx")))
        agency.click("#upload-button")
        agency.wait_for_selector("#verdict")
        assert agency.locator("#state").inner_text() == "待审核"
        assert agency.locator(".preview h1").count() == 1
        with agency.expect_download() as got:
            agency.click("#draft-link")
        draft = tmp_path / "draft.docx"
        got.value.save_as(draft)
        assert draft.read_bytes()[:2] == b"PK" and "草稿" in got.value.suggested_filename
        _shot(agency, tmp_path, "agency-passed")

        admin.goto(f"{base}/admin")
        assert admin.locator("#count-pending b").inner_text() == "1"
        assert admin.locator("#count-missing b").inner_text() == str(len(ROWS) - 1)
        _shot(admin, tmp_path, "board")
        admin.click(f"text={unit.name}")
        admin.fill("#comment", "第五部分请写明具体的改进措施。")
        admin.click("#return")
        assert admin.locator("#unit-state").inner_text() == "退回修改"
        _shot(admin, tmp_path, "unit")

        agency.goto(base + ws.links[unit.code])
        assert agency.locator("#state").inner_text() == "退回修改"
        assert "第五部分请写明具体的改进措施。" in agency.locator("#comment").inner_text()
        _shot(agency, tmp_path, "agency-returned")

        # on a phone: nothing wider than the screen, findings and unit names stay readable
        phone = browser.new_context(viewport=PHONE).new_page()
        phone.goto(base + ws.links[unit.code])
        phone.locator("text=查看").last.click()  # the first upload, with mistakes
        phone.wait_for_selector("tr.error")
        _shot(phone, tmp_path, "phone-agency-findings")
        assert _width(phone, "body") <= PHONE["width"]
        assert _width(phone, "tr.error td:nth-child(3)") >= PHONE["width"] * 0.7
        phone.goto(f"{base}/admin")
        phone.fill("#password", PASSWORD)
        phone.click("#login-button")
        _shot(phone, tmp_path, "phone-board")
        assert _width(phone, "body") <= PHONE["width"]
        assert _width(phone, "#board tbody tr td:nth-child(2)") >= 120
    finally:
        server.terminate()
        server.wait(30)
