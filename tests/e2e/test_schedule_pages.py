"""Home, schedule day and operator pages in real Chromium against the demo server."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.pagekit import new_page
from tests.e2e.sitepages import create_account
from tests.support import TIMEOUT, AppServer
from web.rendering.i18n import SEOUL

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000


def test_home_shows_what_is_on_now_on_a_phone(
    browser: Any, demo_server: AppServer, artifacts: Any
) -> None:
    """On a 360-px phone the home page shows the slot /api/now names, with a way to watch
    it, and nothing overflows sideways."""
    state = httpx.get(demo_server.base + "/api/now", timeout=TIMEOUT).json()
    assert state["live"], "the demo always has a live broadcast"
    page = new_page(browser, width=360, height=740)
    page.goto(demo_server.base + "/")
    title = page.locator('[data-now="title"]')
    on_now = state["on_now"]
    expected = "다음 방송 안내" if on_now["kind"] == "card" else on_now["title"]
    assert title.inner_text(timeout=MS) == expected
    watch = page.locator('[data-now="watch"]')
    assert watch.get_attribute("href") == (on_now["watch_url"] or "/schedule")
    assert page.locator("#today-heading").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    page.screenshot(path=str(artifacts / "schedule-home-360.png"), full_page=True)
    assert page.errors == []


def test_schedule_day_navigates_by_keyboard(browser: Any, demo_server: AppServer) -> None:
    """Today's grid marks the slot on now; Tab/Enter reach the next day, arrow keys walk
    the week bar and the slots; the date form goes to any day."""
    page = new_page(browser)
    page.goto(demo_server.base + "/schedule")
    now_slot = page.locator("#slot-now")
    assert now_slot.get_attribute("aria-current") == "time"
    assert now_slot.locator("[data-now-label]").is_visible()
    today = date.fromisoformat(page.locator("#schedule").get_attribute("data-day") or "")

    page.focus("#prev-day")
    page.keyboard.press("Tab")  # into the week bar: first day
    first = page.evaluate("document.activeElement.getAttribute('href')")
    page.keyboard.press("ArrowRight")
    second = page.evaluate("document.activeElement.getAttribute('href')")
    assert first == f"/schedule?date={today - timedelta(days=3)}"
    assert second == f"/schedule?date={today - timedelta(days=2)}"

    page.focus("#next-day")
    with page.expect_navigation(timeout=MS):
        page.keyboard.press("Enter")
    tomorrow = today + timedelta(days=1)
    assert page.locator("#schedule").get_attribute("data-day") == tomorrow.isoformat()
    assert page.locator("#slot-now").count() == 0
    assert (
        page.locator('#day-week a[aria-current="date"]').get_attribute("href")
        == f"/schedule?date={tomorrow}"
    )

    links = page.locator("#slots .slot__title a")
    links.first.focus()
    page.keyboard.press("ArrowDown")
    assert (
        page.evaluate("document.activeElement.textContent.trim()")
        == links.nth(1).inner_text().strip()
    )

    page.fill("#day-input", (today + timedelta(days=3)).isoformat())
    with page.expect_navigation(timeout=MS):
        page.press("#day-input", "Enter")
    assert page.locator("#schedule").get_attribute("data-day") == str(today + timedelta(days=3))
    assert page.errors == []


def test_a_shared_slot_link_opens_at_that_slot(browser: Any, demo_server: AppServer) -> None:
    """A slot of the 24-hour channel shared through /api/share (`…#at-HHMM`, after the
    UTM parameters) opens the day scrolled to that slot, which is marked as the target."""
    tomorrow = seoul_today() + timedelta(days=1)
    slots = httpx.get(f"{demo_server.base}/api/schedule?date={tomorrow}", timeout=TIMEOUT).json()[
        "slots"
    ]
    anchors: list[str] = []
    for slot in slots:  # the page's rule: HHMM in Seoul, seconds added on a clash
        start = datetime.fromisoformat(slot["start"]).astimezone(SEOUL)
        anchor = f"at-{start:%H%M}"
        anchors.append(anchor if anchor not in anchors else f"at-{start:%H%M%S}")
    anchor = anchors[len(anchors) * 3 // 4]  # far below the first screen
    shared = httpx.get(
        f"{demo_server.base}/api/share",
        timeout=TIMEOUT,
        params={"url": f"/schedule?date={tomorrow}#{anchor}", "network": "copy"},
    ).json()
    url = shared["links"][0]["url"]
    assert url.startswith(demo_server.base + "/schedule?") and url.endswith("#" + anchor)

    page = new_page(browser, width=360, height=740)
    page.goto(url)
    target = page.locator(":target")
    assert target.get_attribute("id") == anchor
    assert target.evaluate(
        "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }"
    )
    assert page.evaluate("scrollY") > 0
    assert target.locator("xpath=..").evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    assert page.errors == []


def test_a_slot_copy_button_copies_the_link_to_that_slot(
    browser: Any, demo_server: AppServer
) -> None:
    """Each slot's 링크 복사 button copies the same link /api/share makes for that slot
    (UTM, then `#at-HHMM`), says so in the share bar's live region, and the link opens
    the day at that slot."""
    tomorrow = seoul_today() + timedelta(days=1)
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ko-KR")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo_server.base)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{demo_server.base}/schedule?date={tomorrow}")
        buttons = page.locator("[data-share-fragment]")
        button = buttons.nth(buttons.count() // 2)
        anchor = button.get_attribute("data-share-fragment") or ""
        slot_time = button.locator("xpath=ancestor::li[1]").locator(".slot__time")
        assert slot_time.get_attribute("id") == anchor
        button.click()
        page.wait_for_function(
            "() => document.querySelector('[data-share-status]').textContent !== ''", timeout=MS
        )
        assert page.inner_text("[data-share-status]") == "링크를 복사했습니다."
        copied = page.evaluate("navigator.clipboard.readText()")
        shared = httpx.get(
            f"{demo_server.base}/api/share",
            timeout=TIMEOUT,
            params={"url": f"/schedule?date={tomorrow}#{anchor}", "network": "copy"},
        ).json()
        assert copied == shared["links"][0]["url"]
        page.goto(copied)
        assert page.locator(":target").get_attribute("id") == anchor
        assert errors == []
    finally:
        context.close()


def seoul_today() -> date:
    return datetime.now(SEOUL).date()


def test_operator_logs_in_and_creates_a_broadcast(browser: Any, demo_server: AppServer) -> None:
    """An operator logs in on /operator (the login form in place, back there after),
    creates a broadcast with Seoul times, sees it in the list; an overlapping one is
    refused in words, with the broadcast it overlaps and the field focused."""
    create_account(demo_server, "op_desk", "operator-password-1", "operator")
    page = new_page(browser)
    page.goto(demo_server.base + "/operator")
    page.fill("#login-username", "op_desk")
    page.fill("#login-password", "operator-password-1")
    with page.expect_navigation(timeout=MS):
        page.click("#login-form button[type=submit]")
    page.wait_for_selector("#broadcast-form", timeout=MS)
    day = date.today() + timedelta(days=10)  # the list shows yesterday + 14 days
    page.fill("#f-title", "서울 도시철도 안전 점검 현장")
    page.fill("#f-category", "시정현장")
    page.fill("#f-starts", f"{day}T10:00")
    page.fill("#f-ends", f"{day}T11:00")
    page.fill("#f-staff", "서울시장, 도시교통실장")
    with page.expect_navigation(timeout=MS):  # saved: the page reloads with the new row
        page.click("#broadcast-form button[type=submit]")
    assert page.locator("tbody th a", has_text="서울 도시철도 안전 점검 현장").count() == 1
    items = httpx.get(
        f"{demo_server.base}/api/broadcasts?from={day}&to={day}", timeout=TIMEOUT
    ).json()["broadcasts"]
    created = [b for b in items if b["title"] == "서울 도시철도 안전 점검 현장"]
    assert len(created) == 1
    assert created[0]["starts_at"] == f"{day}T10:00:00+09:00"
    assert created[0]["staff"] == ["서울시장", "도시교통실장"]

    page.fill("#f-title", "겹치는 방송")
    page.fill("#f-category", "회의")
    page.fill("#f-starts", f"{day}T10:30")
    page.fill("#f-ends", f"{day}T11:30")
    page.click("#broadcast-form button[type=submit]")
    error = page.locator("#op-error")
    error.wait_for(state="visible", timeout=MS)
    assert error.inner_text().startswith(
        "다른 방송과 시간이 겹칩니다: 서울 도시철도 안전 점검 현장"
    )
    assert "10:00–11:00, 서울 시각" in error.inner_text()
    assert page.evaluate("document.activeElement.id") == "f-starts"
    assert page.errors == []
