"""Root query fields of the appeals area: the staff queue, reports, the consent
document, and the citizen's status check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError

from cms.errors import ValidationFailedError
from cms.services.appeals import consent
from cms.services.appeals.queue import BY_DEADLINE, BY_RECEIVED, AppealFilter, appeals_queryset
from cms.services.appeals.reports import appeal_report
from cms.services.appeals.status import appeal_status
from cms.services.pagination import paginate
from cms.services.permissions import Action
from graphql_schema.appeals.types import (
    Appeal,
    AppealOrder,
    AppealReport,
    AppealState,
    AppealStatus,
    ConsentDocument,
)
from graphql_schema.context import Info
from graphql_schema.errors import bad_input
from graphql_schema.permissions import require
from graphql_schema.relay import Connection, connection, page_window


@strawberry.type
class AppealQueries:
    @strawberry.field(
        description="Citizens' appeals (staff who may read feedback), by the nearest "
        "deadline first unless orderBy says otherwise."
    )
    async def appeals(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        state: AppealState | None = None,
        overdue: Annotated[
            bool,
            strawberry.argument(description="Only open appeals past their running deadline."),
        ] = False,
        due_within_days: Annotated[
            int | None,
            strawberry.argument(
                description="Only open appeals due today or within this many days."
            ),
        ] = None,
        number: str | None = None,
        order_by: AppealOrder = AppealOrder.DEADLINE,
    ) -> Connection[Appeal]:
        require(info.context.viewer, Action.READ_FEEDBACK, "Обращения граждан")
        ordering = BY_DEADLINE if order_by == AppealOrder.DEADLINE else BY_RECEIVED
        window = page_window(info, ordering, first=first, after=after, last=last, before=before)
        queryset = appeals_queryset(
            info.context.viewer,
            AppealFilter(
                state=state, overdue=overdue, due_within_days=due_within_days, number=number
            ),
            info.context.settings,
        )
        return connection(await paginate(queryset, ordering, window), Appeal.from_row)

    @strawberry.field(
        description="Counts of appeals received in a period: by state, by month, overdue, "
        "the average time to answer (staff)."
    )
    async def appeal_report(
        self,
        info: Info,
        received_after: datetime | None = None,
        received_before: datetime | None = None,
    ) -> AppealReport:
        require(info.context.viewer, Action.COUNT_FEEDBACK, "Отчёт по обращениям")
        report = await appeal_report(info.context.settings, received_after, received_before)
        return AppealReport.from_domain(report)

    @strawberry.field(
        description="The state and due date of an appeal, when its registration number and "
        "the e-mail or phone given in it match; null otherwise. Public, rate-limited."
    )
    async def appeal_status(
        self,
        info: Info,
        number: str,
        contact: Annotated[
            str, strawberry.argument(description="The e-mail or phone given in the appeal.")
        ],
    ) -> AppealStatus | None:
        info.context.private = True  # per caller and rate-limited: never from a cache
        context = info.context
        try:
            found = await appeal_status(
                number,
                contact,
                address=context.viewer.address or "unknown",
                settings=context.settings,
                limiter=context.runtime.limiter,
            )
        except ValidationFailedError as error:
            problem = error.errors[0]
            if problem.retry_after is not None:
                raise GraphQLError(
                    problem.message,
                    extensions={"code": problem.code, "retryAfter": problem.retry_after},
                ) from None
            raise bad_input("contact", problem.message) from None
        if found is None:
            return None
        return AppealStatus(state=found.state, due_on=found.due_on)

    @strawberry.field(
        description="The consent to the processing of personal data in force: show it with "
        "the form and send its version back. Public."
    )
    async def consent_document(self) -> ConsentDocument | None:
        row = await consent.current()
        return ConsentDocument.from_row(row) if row is not None else None

    @strawberry.field(description="Every version of the consent document, newest first (admin).")
    async def consent_documents(self, info: Info) -> list[ConsentDocument]:
        require(info.context.viewer, Action.MANAGE_CONSENT_DOCUMENTS, "Версии согласия")
        return [ConsentDocument.from_row(row) for row in await consent.versions()]
