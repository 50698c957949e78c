"""The sign-in providers' OAuth clients (Authlib), built once per process from the
settings; `web.accounts.signin` runs the flow with them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.integrations.starlette_client import OAuth
from authlib.integrations.starlette_client.apps import StarletteOAuth2App
from itsdangerous import URLSafeTimedSerializer
from starlette.requests import HTTPConnection

from web.http.errors import ApiError
from web.identity.providers import ProviderConfig, enabled_providers
from web.settings import Settings

HTTP_TIMEOUT = 10.0


@dataclass(frozen=True)
class SignIn:
    """The enabled providers and their Authlib clients (one per process)."""

    providers: tuple[ProviderConfig, ...]
    oauth: OAuth
    public_origin: str
    secret: str

    def client(self, name: str) -> tuple[ProviderConfig, StarletteOAuth2App]:
        for config in self.providers:
            if config.name == name:
                app: StarletteOAuth2App = self.oauth.create_client(name)
                return config, app
        raise ApiError(404, "provider", f"sign-in with {name!r} is not enabled")

    def redirect_uri(self, name: str) -> str:
        return f"{self.public_origin}/auth/{name}/callback"

    def staff_links(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt="live-seoul.staff-link")


def build_signin(settings: Settings) -> SignIn:
    oauth = OAuth()
    providers = enabled_providers(settings)
    for config in providers:
        spec = config.spec
        client_kwargs: dict[str, Any] = {
            "token_endpoint_auth_method": spec.token_auth,
            "timeout": HTTP_TIMEOUT,
        }
        if spec.scope:
            client_kwargs["scope"] = spec.scope
        if spec.pkce:
            client_kwargs["code_challenge_method"] = "S256"
        extra: dict[str, Any] = {}
        if config.metadata_url:
            extra["server_metadata_url"] = config.metadata_url
        else:
            extra["userinfo_endpoint"] = config.userinfo_url
        oauth.register(
            spec.name,
            client_id=config.client_id,
            client_secret=config.client_secret,
            authorize_url=config.authorize_url or None,
            access_token_url=config.token_url or None,
            client_kwargs=client_kwargs,
            **extra,
        )
    return SignIn(providers, oauth, settings.public_origin, settings.secret_key)


def sign_in_config(conn: HTTPConnection) -> SignIn:
    """This process's `SignIn` (kept by the lifespan in the app's state)."""
    found: SignIn = conn.state.sign_in
    return found
