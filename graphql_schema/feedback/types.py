"""Feedback messages as the API shows them (to staff who may read personal data)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from cms import models
from cms.services.feedback.queue import FeedbackStats as DomainFeedbackStats
from graphql_schema.accounts.types import User
from graphql_schema.appeals.dataloaders import appeal_by_message, consent_by_id
from graphql_schema.context import Info
from graphql_schema.feedback.dataloaders import staff_by_id
from graphql_schema.relay import Node, global_id

if TYPE_CHECKING:
    from graphql_schema.appeals.types import Appeal, ConsentChannel, ConsentDocument

# The appeals area builds on this one: its types are resolved lazily.
_APPEALS = "graphql_schema.appeals.types"

# Domain enums are the GraphQL enums: strawberry.enum registers the class in place
# (a plain alias, so that annotations stay types for mypy).
FeedbackKind = models.FeedbackKind
strawberry.enum(FeedbackKind, name="FeedbackKind", description="APPEAL: to the envoy's office.")
FeedbackStatus = models.FeedbackStatus
strawberry.enum(FeedbackStatus, name="FeedbackStatus")


@strawberry.type(
    description="A message from the public form, with the sender's personal data: "
    "editors and admins only."
)
class FeedbackMessage(Node):
    id: strawberry.ID
    ticket: str = strawberry.field(description='Public reference, e.g. "FB-2026-000042".')
    kind: FeedbackKind
    name: str
    email: str | None
    phone: str | None = strawberry.field(description="+7XXXXXXXXXX")
    subject: str | None
    message: str
    feedback_status: FeedbackStatus
    created_at: datetime
    updated_at: datetime
    staff_note: str | None
    revision: int = strawberry.field(description="Send it back as expectedRevision.")
    consent_at: datetime | None = strawberry.field(
        description="When the sender consented to the processing of personal data."
    )
    anonymized_at: datetime | None = strawberry.field(
        description="When the personal data was removed (retention or erasure)."
    )
    assignee_id: strawberry.Private[int | None]

    @strawberry.field(description="The staff member who handles it.")
    async def assignee(self, info: Info) -> User | None:
        if self.assignee_id is None:
            return None
        row = await info.context.loaders[staff_by_id].load(self.assignee_id)
        return User.from_row(row) if row is not None else None

    @strawberry.field(description="The appeal's registration and history (kind APPEAL).")
    async def appeal(self, info: Info) -> Annotated[Appeal, strawberry.lazy(_APPEALS)] | None:
        from graphql_schema.appeals.types import Appeal  # imports this module

        row = await info.context.loaders[appeal_by_message].load(self.pk)
        return Appeal.from_row(row) if row is not None else None

    @strawberry.field(description="The exact consent version the sender accepted.")
    async def consent_document(
        self, info: Info
    ) -> Annotated[ConsentDocument, strawberry.lazy(_APPEALS)] | None:
        from graphql_schema.appeals.types import ConsentDocument  # imports this module

        if self.consent_document_id is None:
            return None
        row = await info.context.loaders[consent_by_id].load(self.consent_document_id)
        return ConsentDocument.from_row(row) if row is not None else None

    consent_channel: Annotated[ConsentChannel, strawberry.lazy(_APPEALS)] | None = strawberry.field(
        description="Where the consent was given."
    )
    pk: strawberry.Private[int]
    consent_document_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.FeedbackMessage) -> FeedbackMessage:
        return cls(
            id=global_id("FeedbackMessage", row.pk),
            pk=row.pk,
            consent_document_id=row.consent_version_id,  # type: ignore[attr-defined]
            consent_channel=row.consent_channel,
            ticket=row.ticket,
            kind=row.kind,
            name=row.name,
            email=row.email,
            phone=row.phone,
            subject=row.subject,
            message=row.message,
            feedback_status=row.feedback_status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            staff_note=row.staff_note,
            revision=row.revision,
            consent_at=row.consent_at,
            anonymized_at=row.anonymized_at,
            assignee_id=row.assigned_to_id,
        )


@strawberry.type
class FeedbackStatusCount:
    status: FeedbackStatus
    count: int


@strawberry.type
class FeedbackKindCount:
    kind: FeedbackKind
    count: int


@strawberry.type(description="Counts only, no personal data: for every staff role.")
class FeedbackStats:
    total: int
    by_status: list[FeedbackStatusCount]
    by_kind: list[FeedbackKindCount]

    @classmethod
    def from_domain(cls, stats: DomainFeedbackStats) -> FeedbackStats:
        return cls(
            total=stats.total,
            by_status=[
                FeedbackStatusCount(status=status, count=count)
                for status, count in stats.by_status.items()
            ],
            by_kind=[
                FeedbackKindCount(kind=kind, count=count) for kind, count in stats.by_kind.items()
            ],
        )


@strawberry.type(description="Everything stored about one person's e-mail or phone (admin).")
class FeedbackPersonalData:
    email: str | None
    phone: str | None
    messages: list[FeedbackMessage]
