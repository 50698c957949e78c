"""The sign-in providers as plain data: settings, profile shapes, kept subjects."""

from __future__ import annotations

import pytest

from livechat import CommentAccess, Identity
from livechat.access import check_post, check_vote
from livechat.text import CommentRejected
from web.identity.providers import BY_NAME, enabled_providers, subject_key
from web.settings import Settings


def test_a_provider_is_enabled_only_with_id_and_secret() -> None:
    """None is enabled by default; an id without a secret enables nothing; overrides win."""
    assert enabled_providers(Settings()) == ()
    assert enabled_providers(Settings(kakao_client_id="k")) == ()
    found = enabled_providers(
        Settings(
            kakao_client_id="k",
            kakao_client_secret="s",
            x_client_id="x",
            x_client_secret="t",
            kakao_jwks_url="http://keys",
        )
    )
    assert [p.name for p in found] == ["kakao", "x"]
    kakao, x = found
    assert kakao.metadata_url == "https://kauth.kakao.com/.well-known/openid-configuration"
    assert kakao.overrides() == {"jwks_uri": "http://keys"}
    assert x.metadata_url == "" and x.authorize_url == "https://x.com/i/oauth2/authorize"


def test_profiles_read_each_providers_shape() -> None:
    """Nicknames are suggested; real names are only offered; subjects are strings."""
    assert BY_NAME["naver"].profile({"response": {"id": "n1", "nickname": "별"}}).nickname == "별"
    x = BY_NAME["x"].profile({"data": {"id": 7, "username": "seoul", "name": "Kim"}})
    assert (x.subject, x.nickname, x.real_name) == ("7", "seoul", "Kim")
    google = BY_NAME["google"].profile({"sub": "g", "name": "홍길동", "email": "a@b.c"})
    assert (google.nickname, google.real_name) == ("", "홍길동")
    with pytest.raises(KeyError):
        BY_NAME["facebook"].profile({"name": "no id"})


def test_subjects_are_kept_keyed() -> None:
    """The kept subject is an HMAC: provider-specific, secret-specific, not the subject."""
    key = subject_key("s", "kakao", "123")
    assert len(key) == 64 and "123" not in key
    assert key != subject_key("s", "google", "123") != subject_key("t", "kakao", "123")


def test_access_rules_refuse_only_guests() -> None:
    """Accounts-only refuses guests' comments; questions and votes separately; members and
    staff always pass."""
    guest, member = Identity("g:1", "손님"), Identity("m:1", "회원", mark="kakao")
    staff = Identity("u:1", "직원", role="official")
    rules = CommentAccess(accounts_only=True)
    with pytest.raises(CommentRejected) as info:
        check_post(rules, guest, question=False)
    assert info.value.code == "sign_in_required"
    for who in (member, staff):
        check_post(rules, who, question=True)
    check_post(CommentAccess(questions_need_account=True), guest, question=False)
    with pytest.raises(CommentRejected):
        check_post(CommentAccess(questions_need_account=True), guest, question=True)
    with pytest.raises(CommentRejected):
        check_vote(CommentAccess(votes_need_account=True), guest)
    check_vote(CommentAccess(votes_need_account=True), member)
