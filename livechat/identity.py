"""Who wrote a comment, as plain data (livechat knows nothing of cookies or accounts)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Who a comment's author or an action's actor is. The one home of the role set:
    `web.identity.roles` grants powers to these, the livechat rules check them."""

    VIEWER = "viewer"  # a guest with a nickname, or a member signed in with a provider
    OFFICIAL = "official"
    OPERATOR = "operator"  # the schedule desk (web migration 6)
    MODERATOR = "moderator"
    ADMIN = "admin"
    SYSTEM = "system"  # not a person: the actor of automatic moderation (audit log)

    @classmethod
    def stored(cls, value: str) -> Role:
        """A comment author's role as read from a row: one this code never wrote reads as a
        viewer (no staff powers, no staff badge) instead of failing the whole room."""
        try:
            return cls(value)
        except ValueError:
            return cls.VIEWER


# Staff roles, as stored in accounts.role, in the order pages list them.
STAFF_ROLES: tuple[Role, ...] = (Role.OFFICIAL, Role.OPERATOR, Role.MODERATOR, Role.ADMIN)
STAFF = frozenset(STAFF_ROLES)
# Who moderates: sees held comments, acts in the console.
MODERATORS = frozenset({Role.MODERATOR, Role.ADMIN})


@dataclass(frozen=True)
class Identity:
    key: str  # stable author key: "g:<guest session id>", "m:<member id>" or "u:<account id>"
    name: str
    role: Role = Role.VIEWER
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
