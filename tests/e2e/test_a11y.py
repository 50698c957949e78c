"""axe-core in Chromium on every page, light and dark, plus a 360-px screenshot of each.

axe-core (MPL-2.0) is vendored in tests/e2e/vendor/ from the npm registry
(`npm pack axe-core`); it is injected into the page only for the audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.sitepages import MODERATOR, STAFF, prepare, site_pages
from tests.support import TIMEOUT, AppServer

pytestmark = pytest.mark.e2e
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
MS = TIMEOUT * 1000
BLOCKING = ("serious", "critical")


def audit(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
    ]


def browse(browser: Any, server: AppServer, *, width: int, scheme: str, staff: bool) -> Any:
    # bypass_csp: only so that the audit script can be injected; the pages' own CSP is
    # checked by tests/web/test_pages_live.py and the security-header tests.
    context = browser.new_context(
        viewport={"width": width, "height": 800},
        color_scheme=scheme,
        locale="ko-KR",
        bypass_csp=True,
    )
    if staff:
        response = context.request.post(
            server.base + "/api/login", data={"username": MODERATOR[0], "password": MODERATOR[1]}
        )
        assert response.ok, response.text()
    return context


def test_every_page_passes_axe_and_is_photographed(
    browser: Any, demo_server: AppServer, artifacts: Path
) -> None:
    """No serious or critical axe violation on any page, on a phone (light) and desktop (dark)."""
    broadcast_id = prepare(demo_server)
    pages, broken = site_pages(demo_server, broadcast_id)
    print("pages audited:", pages)
    failures: dict[str, list[dict[str, Any]]] = {}
    for width, scheme in ((360, "light"), (1280, "dark")):
        for staff in (False, True):
            names = [n for n in pages if (n in STAFF) == staff]
            if not names:
                continue
            context = browse(browser, demo_server, width=width, scheme=scheme, staff=staff)
            page = context.new_page()
            for name in names:
                page.goto(demo_server.base + pages[name])
                page.wait_for_load_state("load")
                if name == "live":
                    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
                    page.wait_for_selector("#chat-list .badge--official", timeout=MS)
                if width == 360:
                    page.screenshot(path=str(artifacts / f"page-{name}-360.png"), full_page=True)
                elif name == "live":
                    page.screenshot(path=str(artifacts / f"page-{name}-1280-dark.png"))
                blocking = [v for v in audit(page) if v["impact"] in BLOCKING]
                if blocking:
                    failures[f"{name}@{width}/{scheme}"] = blocking
            context.close()
    assert failures == {}
    assert broken == {}, "pages that fail to render"


def test_live_page_dialog_and_keyboard_path(
    browser: Any, demo_server: AppServer, artifacts: Path
) -> None:
    """Keyboard alone reaches the comment box; the nickname dialog opens, passes axe, closes."""
    broadcast_id = prepare(demo_server)
    context = browse(browser, demo_server, width=360, scheme="light", staff=False)
    page = context.new_page()
    page.goto(f"{demo_server.base}/live/{broadcast_id}")
    page.wait_for_selector("#chat[data-connection=open]", timeout=MS)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    reached = False
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "chat-text":
            reached = True
            break
    assert reached, "the comment box is not reachable with Tab"
    page.keyboard.type("키보드로 쓴 댓글")
    page.keyboard.press("Enter")
    page.wait_for_selector("#nickname-dialog[open]", timeout=MS)
    assert page.evaluate("document.activeElement.id") == "nickname-input"
    page.screenshot(path=str(artifacts / "page-live-nickname-360.png"))
    blocking = [v for v in audit(page) if v["impact"] in BLOCKING]
    assert blocking == []
    page.keyboard.type("키보드시민")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chat-list .comment__text')]"
        ".some(e => e.textContent === '키보드로 쓴 댓글')",
        timeout=MS,
    )
    assert page.evaluate("document.activeElement.id") == "chat-text"
    context.close()
