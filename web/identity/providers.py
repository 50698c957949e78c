"""The sign-in providers, as plain data: what each needs and how to read who signed in.

Kakao and Google speak OpenID Connect (discovery from the issuer, an ID token checked
against the provider's keys, a nonce); Naver, X and Facebook speak OAuth 2.0 and answer a
profile endpoint in their own shape. PKCE (S256) is sent wherever the provider takes it.
Endpoints come from `Settings` (`<PROVIDER>_*`), so a test provider stands in through
the same settings a deployment uses. Pure: no I/O here (the flow is `web.accounts.signin`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from web.settings import Settings


@dataclass(frozen=True)
class Profile:
    """Who signed in, as the provider says. `nickname` is a chosen public name (Kakao and
    Naver nicknames, an X handle); `real_name` is offered to the person, never kept unless
    they choose it as their display name."""

    subject: str
    nickname: str = ""
    real_name: str = ""


def _text(value: object) -> str:
    return value.strip()[:40] if isinstance(value, str) else ""


def _kakao(claims: Mapping[str, Any]) -> Profile:
    return Profile(str(claims["sub"]), nickname=_text(claims.get("nickname")))


def _google(claims: Mapping[str, Any]) -> Profile:
    return Profile(str(claims["sub"]), real_name=_text(claims.get("name")))


def _naver(data: Mapping[str, Any]) -> Profile:
    body = data["response"]
    return Profile(str(body["id"]), nickname=_text(body.get("nickname")))


def _x(data: Mapping[str, Any]) -> Profile:
    body = data["data"]
    return Profile(
        str(body["id"]), nickname=_text(body.get("username")), real_name=_text(body.get("name"))
    )


def _facebook(data: Mapping[str, Any]) -> Profile:
    return Profile(str(data["id"]), real_name=_text(data.get("name")))


@dataclass(frozen=True)
class ProviderSpec:
    name: str  # "kakao": the setting prefix, the URL segment and the comment mark
    label: str  # the brand name on the button (not translated)
    openid: bool
    scope: str
    pkce: bool
    token_auth: str  # how the client authenticates at the token endpoint
    profile: Callable[[Mapping[str, Any]], Profile]  # from ID-token claims or userinfo


PROVIDERS: tuple[ProviderSpec, ...] = (
    ProviderSpec(
        "kakao", "Kakao", True, "openid profile_nickname", True, "client_secret_post", _kakao
    ),
    ProviderSpec("naver", "NAVER", False, "", False, "client_secret_post", _naver),
    ProviderSpec("google", "Google", True, "openid profile", True, "client_secret_basic", _google),
    ProviderSpec("x", "X", False, "users.read tweet.read", True, "client_secret_basic", _x),
    ProviderSpec(
        "facebook", "Facebook", False, "public_profile", True, "client_secret_post", _facebook
    ),
)
BY_NAME = {p.name: p for p in PROVIDERS}


@dataclass(frozen=True)
class ProviderConfig:
    spec: ProviderSpec
    client_id: str
    client_secret: str
    issuer: str  # "" for OAuth 2.0 providers
    authorize_url: str
    token_url: str
    userinfo_url: str
    jwks_url: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration" if self.issuer else ""

    def overrides(self) -> dict[str, str]:
        """Endpoints set explicitly, which win over what discovery says."""
        found = {
            "authorization_endpoint": self.authorize_url,
            "token_endpoint": self.token_url,
            "userinfo_endpoint": self.userinfo_url,
            "jwks_uri": self.jwks_url,
        }
        return {k: v for k, v in found.items() if v}


def enabled_providers(settings: Settings) -> tuple[ProviderConfig, ...]:
    """The providers whose client id and secret are both set, in button order."""
    found = []
    for spec in PROVIDERS:

        def value(field: str, name: str = spec.name) -> str:
            raw: str = getattr(settings, f"{name}_{field}", "")
            return raw.strip()

        if not (value("client_id") and value("client_secret")):
            continue
        found.append(
            ProviderConfig(
                spec,
                value("client_id"),
                value("client_secret"),
                value("issuer") if spec.openid else "",
                value("authorize_url"),
                value("token_url"),
                value("userinfo_url"),
                value("jwks_url"),
            )
        )
    return tuple(found)


def subject_key(secret: str, provider: str, subject: str) -> str:
    """The provider's subject as kept: an HMAC under SECRET_KEY, so the table alone does not
    say which Kakao or Google user is which (rotating SECRET_KEY unlinks every account)."""
    return hmac.new(
        f"subject:{secret}".encode(), f"{provider}:{subject}".encode(), hashlib.sha256
    ).hexdigest()
