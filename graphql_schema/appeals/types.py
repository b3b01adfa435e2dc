"""Appeals as the API shows them: to staff in full, to the citizen only a status."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import strawberry

from cms import models
from cms.models.appeals import OPEN_STATES
from cms.services.appeals.deadlines import forward_due
from cms.services.appeals.queue import today
from cms.services.appeals.reports import AppealReport as DomainAppealReport
from graphql_schema.accounts.types import User
from graphql_schema.appeals.dataloaders import history_by_appeal
from graphql_schema.context import Info
from graphql_schema.feedback.dataloaders import feedback_by_id, staff_by_id
from graphql_schema.feedback.types import FeedbackMessage
from graphql_schema.media.dataloaders import media_by_id
from graphql_schema.media.types import MediaAsset
from graphql_schema.relay import Node, global_id

AppealState = models.AppealState
strawberry.enum(
    AppealState,
    name="AppealState",
    description="RECEIVED -> REGISTERED -> IN_REVIEW -> ANSWERED, FORWARDED, "
    "LEFT_WITHOUT_ANSWER or WITHDRAWN.",
)
NoAnswerReason = models.NoAnswerReason
strawberry.enum(
    NoAnswerReason,
    name="NoAnswerReason",
    description="The grounds of 59-FZ art. 11 for leaving an appeal without an answer.",
)
AppealAction = models.AppealAction
strawberry.enum(AppealAction, name="AppealAction")
ConsentChannel = models.ConsentChannel
strawberry.enum(ConsentChannel, name="ConsentChannel")


@strawberry.enum(description="The order of the appeals queue.")
class AppealOrder(StrEnum):
    DEADLINE = "deadline"  # the nearest running deadline first
    RECEIVED_DESC = "received_desc"  # the newest first


@strawberry.type(description="One step in an appeal's history: who, when, what and why.")
class AppealEvent:
    id: strawberry.ID
    at: datetime
    action: AppealAction
    from_state: AppealState | None
    to_state: AppealState
    comment: str | None
    letter: str | None = strawberry.field(
        description="The answer, or the covering letter of a forwarding."
    )
    due_on: date | None = strawberry.field(description="The due date set by this step.")
    extension_days: int | None
    forwarded_to: str | None
    no_answer_reason: NoAnswerReason | None
    notice_queued: bool | None = strawberry.field(
        description="Whether the citizen's e-mail notice went to the outbox; null for steps "
        "without a notice."
    )
    actor_id: strawberry.Private[int | None]
    attachment_ids: strawberry.Private[list[int]]

    @strawberry.field(description="The staff member; null for automatic steps.")
    async def actor(self, info: Info) -> User | None:
        if self.actor_id is None:
            return None
        row = await info.context.loaders[staff_by_id].load(self.actor_id)
        return User.from_row(row) if row is not None else None

    @strawberry.field(description="Files of the answer or letter, from the media library.")
    async def attachments(self, info: Info) -> list[MediaAsset]:
        rows = await info.context.loaders[media_by_id].load_many(self.attachment_ids)
        return [MediaAsset.from_row(row) for row in rows if row is not None]

    @classmethod
    def from_row(cls, row: models.AppealEvent) -> AppealEvent:
        details = row.details
        notice = details.get("notice")
        return cls(
            id=global_id("AppealEvent", row.pk),
            at=row.at,
            action=row.action,
            from_state=row.from_state,
            to_state=row.to_state,
            comment=row.comment,
            letter=row.letter,
            due_on=date.fromisoformat(details["due_on"]) if "due_on" in details else None,
            extension_days=details.get("days"),
            forwarded_to=details.get("body"),
            no_answer_reason=models.NoAnswerReason(details["reason"])
            if "reason" in details
            else None,
            notice_queued=None if notice is None else notice == "queued",
            actor_id=row.actor_id,  # type: ignore[attr-defined]
            attachment_ids=list(row.attachment_ids),
        )


@strawberry.type(description="A citizen's appeal (59-FZ): staff who may read feedback only.")
class Appeal(Node):
    id: strawberry.ID
    number: str | None = strawberry.field(
        description="The registration number; null until registered."
    )
    state: AppealState
    received_at: datetime
    registration_due_on: date
    registered_at: datetime | None
    due_on: date | None = strawberry.field(description="The answer's due date, once registered.")
    deadline_on: date = strawberry.field(
        description="The deadline running now: registration's, then the answer's."
    )
    extended_days: int | None
    extension_reason: str | None
    extended_at: datetime | None
    closed_at: datetime | None
    no_answer_reason: NoAnswerReason | None
    forwarded_to: str | None
    revision: int = strawberry.field(description="Send it back as expectedRevision.")
    pk: strawberry.Private[int]
    message_id: strawberry.Private[int]

    @strawberry.field(
        description="The last day to forward it to a competent body (7 days from registration)."
    )
    def forward_due_on(self, info: Info) -> date | None:
        if self.registered_at is None:
            return None
        return forward_due(info.context.settings, self.registered_at)

    @strawberry.field(description="Open and past its running deadline (the office's date).")
    def overdue(self, info: Info) -> bool:
        return self.state in OPEN_STATES and self.deadline_on < today(info.context.settings)

    @strawberry.field(description="The message: the citizen's name, contacts and text.")
    async def message(self, info: Info) -> FeedbackMessage | None:
        row = await info.context.loaders[feedback_by_id].load(self.message_id)
        return FeedbackMessage.from_row(row) if row is not None else None

    @strawberry.field(description="Every step, oldest first.")
    async def history(self, info: Info) -> list[AppealEvent]:
        rows = await info.context.loaders[history_by_appeal].load(self.pk)
        return [AppealEvent.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: models.Appeal) -> Appeal:
        return cls(
            id=global_id("Appeal", row.pk),
            pk=row.pk,
            number=row.number,
            state=row.state,
            received_at=row.received_at,
            registration_due_on=row.registration_due_on,
            registered_at=row.registered_at,
            due_on=row.due_on,
            deadline_on=row.deadline_on,
            extended_days=row.extended_days,
            extension_reason=row.extension_reason,
            extended_at=row.extended_at,
            closed_at=row.closed_at,
            no_answer_reason=row.no_answer_reason,
            forwarded_to=row.forwarded_to,
            revision=row.revision,
            message_id=row.message_id,  # type: ignore[attr-defined]
        )


@strawberry.type(description="What the citizen may learn about their appeal: nothing else.")
class AppealStatus:
    state: AppealState
    due_on: date | None


@strawberry.type(description="A version of the consent to the processing of personal data.")
class ConsentDocument:
    id: strawberry.ID
    version: int = strawberry.field(description="Send it with the form as consentVersion.")
    title: str
    text: str
    created_at: datetime
    published_at: datetime | None = strawberry.field(description="Null for a draft.")

    @classmethod
    def from_row(cls, row: models.ConsentDocument) -> ConsentDocument:
        return cls(
            id=global_id("ConsentDocument", row.pk),
            version=row.version,
            title=row.title,
            text=row.text,
            created_at=row.created_at,
            published_at=row.published_at,
        )


@strawberry.type
class AppealStateCount:
    state: AppealState
    count: int


@strawberry.type
class AppealMonthCount:
    month: str = strawberry.field(description='"2026-03": appeals received that month.')
    received: int
    answered: int = strawberry.field(description="Of those received, answered by now.")


@strawberry.type(description="Counts only, no personal data.")
class AppealReport:
    total: int
    by_state: list[AppealStateCount]
    by_month: list[AppealMonthCount]
    overdue: int = strawberry.field(description="Open now and past their running deadline.")
    answered_late: int
    average_days_to_answer: float | None = strawberry.field(
        description="From registration to the answer, in calendar days."
    )

    @classmethod
    def from_domain(cls, report: DomainAppealReport) -> AppealReport:
        return cls(
            total=report.total,
            by_state=[
                AppealStateCount(state=state, count=count)
                for state, count in report.by_state.items()
            ],
            by_month=[
                AppealMonthCount(month=m.month, received=m.received, answered=m.answered)
                for m in report.by_month
            ],
            overdue=report.overdue,
            answered_late=report.answered_late,
            average_days_to_answer=report.average_days_to_answer,
        )
