"""Who is asking: the caller of a request or a job, as the domain sees it."""

from __future__ import annotations

from dataclasses import dataclass, field

from cms.models.accounts import Role, TokenScope

STAFF_ROLES = frozenset({Role.ADMIN, Role.EDITOR, Role.AUTHOR, Role.VIEWER, Role.HEAD})


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int | None = None
    role: Role | None = None
    email: str | None = None
    session_id: int | None = None
    token_id: int | None = None
    token_name: str | None = None
    scopes: frozenset[TokenScope] = field(default_factory=frozenset)
    address: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None and self.token_id is None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def sees_drafts(self) -> bool:
        """Staff and read-drafts (or write) tokens see unpublished and scheduled content."""
        return self.is_staff or bool(self.scopes & {TokenScope.READ_DRAFTS, TokenScope.WRITE})

    @property
    def principal(self) -> str:
        """A stable key for the caller: "user:5", "token:3" or "anonymous"."""
        if self.token_id is not None:
            return f"token:{self.token_id}"
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return "anonymous"

    @property
    def actor(self) -> str:
        """How the audit log names the caller: an e-mail or a token's name."""
        if self.email:
            return self.email
        if self.token_name:
            return f"token:{self.token_name}"
        return "anonymous"

    @property
    def visibility_scope(self) -> str:
        """What this caller may see, as a cache-key component: equal scopes see equal data."""
        return "drafts" if self.sees_drafts else "public"


# Feeds, sitemaps and sync read public content as a caller with no rights.
ANONYMOUS = Viewer()
