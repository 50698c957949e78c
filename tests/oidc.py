"""A real OpenID Connect provider on a free port: `oidc-provider` from the npm registry,
run by Node (tests/oidc_provider.mjs), standing in for every sign-in provider through the
same settings a deployment uses (`<PROVIDER>_ISSUER`, `_AUTHORIZE_URL`, …).

The npm package is installed once into a cache folder outside the repository
(`LIVE_SEOUL_NPM_CACHE`, default `~/.cache/live-seoul/oidc-provider`); `scripts/test`
installs Node and npm from Debian when they are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx

from tests.support import ROOT, TIMEOUT, free_port, wait_for

OIDC_PROVIDER_VERSION = "9.13.3"
CACHE = Path(
    os.environ.get("LIVE_SEOUL_NPM_CACHE", Path.home() / ".cache" / "live-seoul" / "oidc-provider")
)
PROVIDERS = ("kakao", "naver", "google", "x", "facebook")
AUTH_METHODS = {
    "kakao": "client_secret_post",
    "naver": "client_secret_post",
    "google": "client_secret_basic",
    "x": "client_secret_basic",
    "facebook": "client_secret_post",
}


def install() -> Path:
    """The cache folder with `oidc-provider` installed (npm install on first use)."""
    marker = CACHE / "node_modules" / "oidc-provider" / "package.json"
    if marker.exists() and json.loads(marker.read_text())["version"] == OIDC_PROVIDER_VERSION:
        return CACHE
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeError(
            "node and npm are needed (apt-get install nodejs npm; scripts/test does this)"
        )
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "package.json").write_text('{"private": true, "type": "module"}\n')
    subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"oidc-provider@{OIDC_PROVIDER_VERSION}",
        ],
        cwd=CACHE,
        check=True,
        timeout=600,
    )
    return CACHE


class OidcProvider:
    """One `oidc-provider` process; every stand-in provider is a client of it."""

    def __init__(self, app_bases: list[str]) -> None:
        self.port = free_port()
        self.app_bases = app_bases
        self.secrets = {p: f"{p}-secret-{os.urandom(4).hex()}" for p in PROVIDERS}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.mkstemp(prefix="ls-oidc-", suffix=".log")[1])

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        folder = install()
        script = folder / "provider.mjs"
        shutil.copyfile(ROOT / "tests" / "oidc_provider.mjs", script)
        clients = [
            {
                "client_id": f"{p}-client",
                "client_secret": self.secrets[p],
                "redirect_uris": [f"{base}/auth/{p}/callback" for base in self.app_bases],
                "token_endpoint_auth_method": AUTH_METHODS[p],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }
            for p in PROVIDERS
        ]
        env = {**os.environ, "OIDC_CONFIG": json.dumps({"port": self.port, "clients": clients})}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [shutil.which("node") or "node", str(script)],
                cwd=folder,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._ready, timeout=TIMEOUT * 3, what="oidc-provider")

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"oidc-provider exited: {self.log.read_text()[-3000:]}")
        try:
            return (
                httpx.get(
                    self.issuer + "/.well-known/openid-configuration", timeout=0.5
                ).status_code
                == 200
            )
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(TIMEOUT)
        self.proc = None

    def env(self, *providers: str) -> dict[str, str]:
        """The settings that point `providers` (default: all) at this stand-in, exactly the
        variables a deployment sets."""
        env: dict[str, str] = {}
        for p in providers or PROVIDERS:
            name = p.upper()
            env[f"{name}_CLIENT_ID"] = f"{p}-client"
            env[f"{name}_CLIENT_SECRET"] = self.secrets[p]
            if p in ("kakao", "google"):
                env[f"{name}_ISSUER"] = self.issuer
            else:
                env[f"{name}_AUTHORIZE_URL"] = self.issuer + "/auth"
                env[f"{name}_TOKEN_URL"] = self.issuer + "/token"
                env[f"{name}_USERINFO_URL"] = f"{self.issuer}/{p}/me"
        return env

    def settings(self, *providers: str) -> dict[str, Any]:
        """`env()` as `Settings` field names."""
        return {k.lower(): v for k, v in self.env(*providers).items()}

    def next_login(self, account: str | None = None, *, deny: bool = False) -> None:
        body: dict[str, Any] = {"deny": True} if deny else {"account": account}
        httpx.post(self.issuer + "/_test/next", json=body, timeout=TIMEOUT).raise_for_status()

    def tamper(self, **claims: Any) -> None:
        httpx.post(self.issuer + "/_test/tamper", json=claims, timeout=TIMEOUT).raise_for_status()
