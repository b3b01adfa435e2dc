"""Root query fields of the feedback area: the staff's work queue and its counts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from cms import models
from cms.errors import ValidationFailedError
from cms.services.feedback import privacy
from cms.services.feedback.queue import (
    QUEUE_ORDER,
    QueueFilter,
    feedback_stats,
    queue_queryset,
)
from cms.services.pagination import paginate
from cms.services.permissions import Action
from graphql_schema.context import Info
from graphql_schema.errors import bad_input
from graphql_schema.feedback.types import (
    FeedbackKind,
    FeedbackMessage,
    FeedbackPersonalData,
    FeedbackStats,
    FeedbackStatus,
)
from graphql_schema.permissions import require
from graphql_schema.relay import Connection, connection, page_window, parse_typed_id


@strawberry.type
class FeedbackQueries:
    @strawberry.field(
        description="Messages from the public form, newest first (editors and admins). "
        "Without `status`, every message but SPAM."
    )
    async def feedback_messages(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        status: FeedbackStatus | None = None,
        statuses: Annotated[
            list[FeedbackStatus] | None,
            strawberry.argument(
                description="Several statuses at once, e.g. [NEW, IN_PROGRESS]; "
                "instead of `status`, not with it."
            ),
        ] = None,
        kind: FeedbackKind | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words of the ticket, name, contacts, subject or text: Russian "
                "word forms match, the last word also as the beginning of a word."
            ),
        ] = None,
        assignee: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only messages assigned to them.")
        ] = None,
        unassigned: Annotated[
            bool, strawberry.argument(description="Only messages assigned to nobody.")
        ] = False,
    ) -> Connection[FeedbackMessage]:
        require(info.context.viewer, Action.READ_FEEDBACK, "Обращения граждан")
        window = page_window(info, QUEUE_ORDER, first=first, after=after, last=last, before=before)
        # `status` stays as it was for the clients that use it; `statuses` came later.
        if status is not None and statuses is not None:
            raise bad_input("statuses", "Укажите либо status, либо statuses, но не оба.")
        if statuses is not None:
            chosen: tuple[FeedbackStatus, ...] | None = tuple(statuses)
        else:
            chosen = (status,) if status is not None else None
        queue_filter = QueueFilter(
            statuses=chosen,
            kind=kind,
            created_after=created_after,
            created_before=created_before,
            search=search,
            assignee_id=parse_typed_id(assignee, "User", "assignee") if assignee else None,
            unassigned=unassigned,
        )
        queryset = await queue_queryset(info.context.viewer, queue_filter)
        return connection(await paginate(queryset, QUEUE_ORDER, window), FeedbackMessage.from_row)

    @strawberry.field(description="How many messages there are, by status and kind (staff).")
    async def feedback_stats(
        self,
        info: Info,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> FeedbackStats:
        require(info.context.viewer, Action.COUNT_FEEDBACK, "Статистика обращений")
        stats = await feedback_stats(created_after, created_before)
        return FeedbackStats.from_domain(stats)

    @strawberry.field(
        description="Every message stored with this e-mail or phone: a person's request "
        "for their data (admin)."
    )
    async def feedback_personal_data(
        self, info: Info, email: str | None = None, phone: str | None = None
    ) -> FeedbackPersonalData:
        require(info.context.viewer, Action.MANAGE_PERSONAL_DATA, "Персональные данные")
        try:
            contact = privacy.parse_contact(email, phone)
        except ValidationFailedError as error:
            problem = error.errors[0]
            raise bad_input(
                problem.field[-1] if problem.field else "email", problem.message
            ) from None
        rows: list[models.FeedbackMessage] = await privacy.messages_of(contact).order_by(
            "created_at", "id"
        )
        return FeedbackPersonalData(
            email=contact.email,
            phone=contact.phone,
            messages=[FeedbackMessage.from_row(row) for row in rows],
        )
