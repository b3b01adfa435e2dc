"""Who is asking: the caller of a request or a job, as the domain sees it."""

from __future__ import annotations

from dataclasses import dataclass, field

from cms.models.accounts import Role

STAFF_ROLES = frozenset({Role.ADMIN, Role.EDITOR, Role.AUTHOR, Role.VIEWER})
SCOPE_READ = "read"
SCOPE_READ_DRAFTS = "read_drafts"
SCOPE_WRITE = "write"


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int | None = None
    role: Role | None = None
    email: str | None = None
    token_id: int | None = None
    token_name: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None and self.token_id is None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def sees_drafts(self) -> bool:
        """Staff and read-drafts tokens see unpublished and scheduled content."""
        return self.is_staff or SCOPE_READ_DRAFTS in self.scopes

    @property
    def visibility_scope(self) -> str:
        """What this caller may see, as a cache-key component: equal scopes see equal data."""
        return "drafts" if self.sees_drafts else "public"


ANONYMOUS = Viewer()
