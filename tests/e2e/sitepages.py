"""Every page of the site a running server has, for the whole-site checks (axe, vnu).

Some pages are built by other parts of the project; whichever exist are found here: the
fixed ones by path, the others by following links (a replay, a broadcast) and by trying
the moderator console's likely paths with a moderator's session.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx

from tests.e2e.pagekit import live_broadcast
from tests.support import ROOT, TIMEOUT, AppServer
from tests.web.pagekit import guest, post_comment

# name -> path; {b} is the live broadcast, {r} a replay found on /replays.
PUBLIC = {
    "home": "/",
    "schedule": "/schedule",
    "live": "/live/{b}",
    "broadcast": "/broadcasts/{b}",
    "questions": "/broadcasts/{b}/questions",
    "transparency": "/broadcasts/{b}/transparency",
    "all-questions": "/questions",
    "replays": "/replays",
    "replay": "/replays/{r}",
    "embed-live": "/embed/broadcasts/{b}",
    "embed-replay": "/embed/replays/{r}",
    "staff-login": "/login?next=/operator",
    "account": "/account",
}
# Staff pages, fetched with an admin's session (admins may see every one of them).
STAFF = {
    "console": "/moderate/{b}",
    "audit": "/moderate/audit",
    "operator": "/operator",
    "operator-status": "/operator/status",
    "operator-shares": "/operator/shares",
    "accounts": "/admin/accounts",
}
REPLAY_LINK = re.compile(r'href="/replays/(\d+)[?"]')
MODERATOR = ("a11y_admin", "admin-password-1", "admin")
OFFICIAL = ("a11y_official", "official-password-1", "official")


def create_account(
    server: AppServer, username: str, password: str, role: str, department: str = ""
) -> None:
    """`live-seoul create-user`, the real CLI, against the server's database."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{server.db_path}",
        "LIVE_SEOUL_PASSWORD": password,
        "SECRET_KEY": "test-secret-key-for-e2e",
    }
    args = [
        sys.executable,
        "-m",
        "web.cli",
        "create-user",
        username,
        "--role",
        role,
        "--display-name",
        username,
    ]
    if department:
        args += ["--department", department]
    subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True, timeout=TIMEOUT * 3)


def login(client: httpx.Client, username: str, password: str) -> None:
    response = client.post("/api/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text


class Probe:
    """GETs that record pages which fail (5xx or a dropped connection) instead of raising."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.broken: dict[str, str] = {}

    def page(self, path: str) -> httpx.Response | None:
        """The response if `path` is an HTML page (200), else None."""
        try:
            response = self.client.get(path)
        except httpx.HTTPError as exc:
            self.broken[path] = repr(exc)
            return None
        if response.status_code >= 500:
            self.broken[path] = f"HTTP {response.status_code}"
        if response.status_code == 200 and "text/html" in response.headers.get("content-type", ""):
            return response
        return None


def prepare(server: AppServer) -> int:
    """A live broadcast with a citizen's comment, a question and a city official's reply."""
    broadcast_id = live_broadcast(server)
    create_account(server, *MODERATOR)
    create_account(server, *OFFICIAL, department="교통정책과")
    with httpx.Client(base_url=server.base, timeout=TIMEOUT) as api:
        csrf = guest(api, nickname="시민")
        post_comment(api, csrf, broadcast_id, "버스 노선 개편은 언제부터인가요?", question=True)
    with httpx.Client(base_url=server.base, timeout=TIMEOUT) as api:
        login(api, OFFICIAL[0], OFFICIAL[1])
        csrf = api.get("/api/session").json()["csrf_token"]
        post_comment(api, csrf, broadcast_id, "다음 달 1일부터 시행합니다.")
    return broadcast_id


def site_pages(server: AppServer, broadcast_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """(name -> path of every page this server has, path -> failure of pages that broke)."""
    pages: dict[str, str] = {}
    with httpx.Client(
        base_url=server.base, timeout=TIMEOUT, headers={"accept": "text/html"}
    ) as web:
        probe = Probe(web)
        listing = probe.page("/replays")
        found = REPLAY_LINK.search(listing.text) if listing else None
        ids = {"b": str(broadcast_id), "r": found.group(1) if found else "0"}
        for name, path in PUBLIC.items():
            if probe.page(path.format(**ids)):
                pages[name] = path.format(**ids)
        pages["live"] = f"/live/{broadcast_id}"
        login(web, MODERATOR[0], MODERATOR[1])
        for name, path in STAFF.items():
            if probe.page(path.format(**ids)):
                pages[name] = path.format(**ids)
    return pages, probe.broken
