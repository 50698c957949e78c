"""The installable app in real Chromium: installability, offline pages, updates on next load."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM_ARGS
from tests.e2e.pagekit import live_broadcast
from tests.support import TIMEOUT, AppServer

pytestmark = pytest.mark.e2e
MS = TIMEOUT * 1000

CONTROLLED = "() => navigator.serviceWorker.controller !== null"
VERSION = """() => new Promise((resolve) => {
  const channel = new MessageChannel();
  channel.port1.onmessage = (event) => resolve(event.data.version);
  navigator.serviceWorker.controller.postMessage({type: "version"}, [channel.port2]);
})"""
WAITING = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  return Boolean(registration && registration.waiting);
}"""
# The controller's version once the waiting worker has taken over, or null after `ms`.
# The outgoing worker is never asked anything (every event it handles holds back the new
# version's activation, and once replaced it may never answer): the controller is asked
# only when it is the registration's active worker and none is waiting any more, each
# question with its own 2 s limit. Between looks the page waits for controllerchange (or
# 0.5 s, in case the change came before the listener).
NEXT_VERSION = """async ([old, ms]) => {
  const deadline = Date.now() + ms;
  const ask = (worker) => new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data.version);
    worker.postMessage({type: "version"}, [channel.port2]);
    setTimeout(() => resolve(null), 2000);
  });
  while (Date.now() < deadline) {
    const registration = await navigator.serviceWorker.getRegistration();
    const controller = navigator.serviceWorker.controller;
    const replaced = registration.waiting === null && registration.active === controller;
    if (controller !== null && replaced) {
      const version = await ask(controller);
      if (version !== null && version !== old) return version;
    }
    await new Promise((resolve) => {
      navigator.serviceWorker.addEventListener("controllerchange", resolve, {once: true});
      setTimeout(resolve, 500);
    });
  }
  return null;
}"""
# What the waiting worker says of itself: {version, askedToTakeOver}.
WAITING_STATE = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data);
    registration.waiting.postMessage({type: "version"}, [channel.port2]);
  });
}"""
ASKED_OR_ACTIVE = """(old) => {
  if (window.__asked === undefined) {
    window.__asked = false;
    navigator.serviceWorker.getRegistration().then((registration) => {
      const worker = registration.waiting || registration.active;
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => {
        window.__asked = event.data.askedToTakeOver || event.data.version !== old;
        if (!window.__asked) window.__asked = undefined;  // ask again on the next poll
      };
      worker.postMessage({type: "version"}, [channel.port2]);
      // A worker being replaced may never answer: ask again after 2 s.
      setTimeout(() => { if (window.__asked === false) window.__asked = undefined; }, 2000);
    });
  }
  return window.__asked === true;
}"""
OFFLINE_NOTICE = "인터넷에 연결되어 있지 않습니다. 저장해 둔 화면을 보여 드립니다."


def browser_executable() -> str:
    return os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AppServer]:
    """The demo channel on a free port (one release of the app)."""
    app = AppServer(tmp_path / "pwa.db", env={"LIVE_SEOUL_DEMO": "1", "PWA_RELEASE": "one"})
    app.start()
    try:
        yield app
    finally:
        app.stop()


def controlled_page(browser: Any, url: str, **options: Any) -> Any:
    """A fresh context whose page at `url` is controlled by the service worker."""
    context = browser.new_context(locale="ko-KR", **options)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function(CONTROLLED, timeout=MS)
    return page


def test_manifest_is_installable_by_chromiums_own_check(
    browser: Any, server: AppServer, tmp_path: Path
) -> None:
    """DevTools' installability check and manifest parser report no error for the site.

    A persistent profile: Chromium never installs from an incognito context, which is what
    `browser.new_context()` makes."""
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=browser_executable(),
        args=CHROMIUM_ARGS,
        locale="ko-KR",
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        errors_seen: list[str] = []
        page.on("pageerror", lambda exc: errors_seen.append(str(exc)))
        page.goto(server.base + "/")
        page.wait_for_function(CONTROLLED, timeout=MS)
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"] == server.base + "/manifest.webmanifest"
        assert manifest["errors"] == []
        data = json.loads(manifest["data"])
        assert (data["short_name"], data["display"], data["start_url"]) == (
            "라이브서울",
            "standalone",
            "/",
        )
        assert [s["name"] for s in data["shortcuts"]] == ["지금 방송", "편성표", "다시보기"]
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors
        assert errors_seen == []
    finally:
        context.close()


def test_schedule_and_replays_open_offline_with_a_notice(browser: Any, server: AppServer) -> None:
    """After one visit, with the network cut and the server gone, /schedule and the last
    replay page render from the cache with the offline notice; a live page is never stale."""
    page = controlled_page(browser, server.base + "/schedule")
    title = page.locator("h1").first.inner_text()
    page.goto(server.base + "/replays")
    replay_titles = page.locator("main h2, main h3").all_inner_texts()
    assert replay_titles
    broadcast_id = live_broadcast(server)
    page.context.set_offline(True)
    server.stop()

    page.goto(server.base + "/schedule")
    notice = page.locator('[data-pwa-notice="offline"]')
    notice.wait_for(state="visible", timeout=MS)
    assert OFFLINE_NOTICE in notice.inner_text()
    assert page.locator("h1").first.inner_text() == title

    page.goto(server.base + "/replays")
    page.locator('[data-pwa-notice="offline"]').wait_for(state="visible", timeout=MS)
    assert page.locator("main h2, main h3").all_inner_texts() == replay_titles

    page.goto(f"{server.base}/live/{broadcast_id}")
    assert page.locator("#offline-title").inner_text() == "인터넷에 연결되어 있지 않습니다"
    assert page.locator("#chat").count() == 0
    assert page.errors == []
    page.context.close()


def test_a_new_release_takes_over_only_on_the_next_load(browser: Any, tmp_path: Path) -> None:
    """Release two installs while release one keeps serving the open page (which says an
    update is ready, and does not ask it to take over); the next page load asks it to, and
    it becomes the page's worker."""
    first = AppServer(tmp_path / "up.db", env={"LIVE_SEOUL_DEMO": "1", "PWA_RELEASE": "one"})
    first.start()
    try:
        page = controlled_page(browser, first.base + "/schedule")
        old = page.evaluate(VERSION)
    finally:
        first.stop()
    second = AppServer(
        tmp_path / "up.db", port=first.port, env={"LIVE_SEOUL_DEMO": "1", "PWA_RELEASE": "two"}
    )
    second.start()
    try:
        page.reload()
        page.wait_for_function(WAITING, timeout=MS)
        notice = page.locator('[data-pwa-notice="update"]')
        notice.wait_for(state="visible", timeout=MS)
        assert "다음에 열 때 적용됩니다" in notice.inner_text()
        assert page.evaluate(VERSION) == old  # still the release that served this page
        waiting = page.evaluate(WAITING_STATE)
        assert waiting["version"] != old and waiting["askedToTakeOver"] is False

        # The workers' states as DevTools sees them: {versionId: (runningStatus, status)}.
        cdp = page.context.new_cdp_session(page)
        workers: dict[str, tuple[str, str]] = {}
        cdp.on(
            "ServiceWorker.workerVersionUpdated",
            lambda event: workers.update(
                {v["versionId"]: (v["runningStatus"], v["status"]) for v in event["versions"]}
            ),
        )
        cdp.send("ServiceWorker.enable")

        page.reload()
        # The page load asks at once (or the reload itself already activated the new worker:
        # Chromium does so when the navigation finds the old one without a page).
        page.wait_for_function(ASKED_OR_ACTIVE, arg=old, timeout=MS)
        # Chromium activates it once the old worker is idle and stopped. Playwright keeps
        # DevTools attached to every worker, and Chromium never stops an idle worker that
        # DevTools is attached to unless it was told to terminate while running: when the
        # reload restarted the old worker in the middle of that, it would stay up until
        # Chromium's 5-minute lame-duck limit. So if it has not happened in a few seconds,
        # the old worker is stopped as an idle one would be without DevTools (that alone
        # activates nothing while it controls the page: only a skipWaiting() does).
        version = page.evaluate(NEXT_VERSION, [old, MS // 2])
        if version is None:
            for version_id, (running, status) in list(workers.items()):
                if status == "activated" and running == "running":
                    cdp.send("ServiceWorker.stopWorker", {"versionId": version_id})
            version = page.evaluate(NEXT_VERSION, [old, MS])
        assert version == waiting["version"], f"still not the new worker; workers: {workers}"
        assert page.errors == []
        page.context.close()
    finally:
        second.stop()


PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Mobile Safari/537.36"
)
# A test double for the Web Share API: records what the page asks to share.
SHARE_SHIM = """
window.__shared = [];
Object.defineProperty(navigator, "share", {
  configurable: true,
  value: (data) => { window.__shared.push(data); return Promise.resolve(); },
});
"""


def test_phones_get_the_native_share_sheet_first(browser: Any, server: AppServer) -> None:
    """On a phone with the Web Share API, "공유하기…" is the first share button and opens
    the native sheet with the page's link; the network buttons stay after it."""
    context = browser.new_context(
        locale="ko-KR",
        user_agent=PHONE_UA,
        is_mobile=True,
        has_touch=True,
        viewport={"width": 390, "height": 844},
    )
    context.add_init_script(SHARE_SHIM)
    page = context.new_page()
    broadcast_id = live_broadcast(server)
    page.goto(f"{server.base}/broadcasts/{broadcast_id}")
    first = page.locator(".share__list li:not([hidden])").first
    first.wait_for(state="visible", timeout=MS)
    assert first.inner_text() == "공유하기…"
    first.locator("button").click()
    page.wait_for_function("() => window.__shared.length === 1", timeout=MS)
    shared = page.evaluate("() => window.__shared[0]")
    assert shared["url"].startswith(f"{server.base}/live/{broadcast_id}?")
    assert page.locator('[data-network="x"]').is_visible()
    context.close()
