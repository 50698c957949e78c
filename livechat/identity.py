"""Who wrote a comment, as plain data (livechat knows nothing of cookies or accounts)."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("viewer", "official", "operator", "moderator", "admin")
STAFF = frozenset({"official", "operator", "moderator", "admin"})


@dataclass(frozen=True)
class Identity:
    key: str  # stable author key: "g:<guest session id>" or "u:<account id>"
    name: str
    role: str = "viewer"
    department: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def public(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role, "department": self.department}
