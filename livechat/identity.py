"""Who wrote a comment, as plain data (livechat knows nothing of cookies or accounts)."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("viewer", "official", "operator", "moderator", "admin")
STAFF = frozenset({"official", "operator", "moderator", "admin"})


@dataclass(frozen=True)
class Identity:
    key: str  # stable author key: "g:<guest session id>", "m:<member id>" or "u:<account id>"
    name: str
    role: str = "viewer"
    department: str = ""
    mark: str = ""  # the sign-in provider shown beside the name ("kakao", …); "" for none

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def is_member(self) -> bool:
        """Signed in with a provider (its account can be deleted at any moment)."""
        return self.key.startswith("m:")

    @property
    def is_guest(self) -> bool:
        """A nickname on a cookie: neither a signed-in member nor staff."""
        return self.key.startswith("g:")

    def public(self) -> dict[str, str]:
        you = {"name": self.name, "role": self.role, "department": self.department}
        if self.mark:
            you["mark"] = self.mark
        return you
