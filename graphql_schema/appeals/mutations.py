"""Mutations of the appeals area: the workflow's steps (staff), the extension (the
head of office), and the consent document's versions (admin)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Protocol

import strawberry

from cms import models
from cms.services.appeals import consent, workflow
from cms.services.permissions import Action
from graphql_schema.appeals.types import Appeal, ConsentDocument, NoAnswerReason
from graphql_schema.context import Info
from graphql_schema.editing import payload
from graphql_schema.payloads import UserError
from graphql_schema.permissions import require
from graphql_schema.relay import parse_typed_id

REVISION = "CONFLICT when someone changed the appeal since."


@strawberry.input
class AppealStepInput:
    id: strawberry.ID
    comment: str | None = None
    expected_revision: int | None = strawberry.field(default=None, description=REVISION)


@strawberry.input
class ExtendAppealDeadlineInput:
    id: strawberry.ID
    days: int = strawberry.field(description="1 to CMS_APPEAL_MAX_EXTENSION_DAYS (30).")
    reason: str
    expected_revision: int | None = strawberry.field(default=None, description=REVISION)


@strawberry.input
class AnswerAppealInput:
    id: strawberry.ID
    text: str = strawberry.field(description="The answer, mailed to the citizen and kept.")
    attachments: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="MediaAsset IDs, linked in the e-mail."
    )
    comment: str | None = None
    expected_revision: int | None = strawberry.field(default=None, description=REVISION)


@strawberry.input
class ForwardAppealInput:
    id: strawberry.ID
    body: str = strawberry.field(description="The body competent to answer.")
    covering_letter: str
    attachments: list[strawberry.ID] = strawberry.field(default_factory=list)
    comment: str | None = None
    expected_revision: int | None = strawberry.field(default=None, description=REVISION)


@strawberry.input
class LeaveAppealWithoutAnswerInput:
    id: strawberry.ID
    reason: NoAnswerReason
    comment: str | None = None
    expected_revision: int | None = strawberry.field(default=None, description=REVISION)


@strawberry.input
class WithdrawAppealInput:
    id: strawberry.ID
    comment: str = strawberry.field(description="How and when the citizen withdrew it.")
    expected_revision: int | None = strawberry.field(default=None, description=REVISION)


@strawberry.type
class AppealPayload:
    appeal: Appeal | None
    errors: list[UserError]


@strawberry.input
class ConsentDocumentInput:
    title: str
    text: str


@strawberry.input
class UpdateConsentDocumentInput:
    id: strawberry.ID
    title: str
    text: str


@strawberry.type
class ConsentDocumentPayload:
    document: ConsentDocument | None
    errors: list[UserError]


class _StepInput(Protocol):
    id: strawberry.ID
    expected_revision: int | None


async def _run(
    info: Info, input: _StepInput, step: Callable[..., Awaitable[models.Appeal]]
) -> AppealPayload:
    """The body every workflow mutation shares, after its permission check: `step` is
    the workflow function with the step's own arguments bound."""
    appeal_id = parse_typed_id(input.id, "Appeal", "input.id")
    context = workflow.StepContext(
        actor_id=info.context.viewer.user_id, settings=info.context.settings
    )
    write = step(appeal_id, context, expected_revision=input.expected_revision)
    result = await payload(AppealPayload, "appeal", Appeal.from_row, write)
    mailer = info.context.runtime.feedback_mailer
    if result.appeal is not None and mailer is not None:
        mailer.wake()  # a notice may be waiting in the outbox
    return result


def _media_ids(ids: list[strawberry.ID]) -> list[int]:
    return [parse_typed_id(value, "MediaAsset", "input.attachments") for value in ids]


def _consent_id(raw_id: strawberry.ID) -> int:
    return parse_typed_id(raw_id, "ConsentDocument", "input.id")


async def _consent_payload(write: Awaitable[models.ConsentDocument]) -> ConsentDocumentPayload:
    return await payload(ConsentDocumentPayload, "document", ConsentDocument.from_row, write)


@strawberry.type
class AppealMutations:
    @strawberry.mutation(
        description="Registers a received appeal (CMS_APPEAL_REGISTRATION=manual): its number "
        "and due date; the citizen gets the acknowledgement."
    )
    async def register_appeal(self, info: Info, input: AppealStepInput) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Регистрация обращений")
        return await _run(info, input, partial(workflow.register, comment=input.comment))

    @strawberry.mutation(description="Takes a registered appeal into review.")
    async def start_appeal_review(self, info: Info, input: AppealStepInput) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Рассмотрение обращений")
        return await _run(info, input, partial(workflow.start_review, comment=input.comment))

    @strawberry.mutation(
        description="Extends the answer's deadline once, with a reason (the head of office); "
        "the citizen is told."
    )
    async def extend_appeal_deadline(
        self, info: Info, input: ExtendAppealDeadlineInput
    ) -> AppealPayload:
        require(info.context.viewer, Action.EXTEND_APPEAL_DEADLINE, "Продление срока")
        step = partial(workflow.extend, days=input.days, reason=input.reason)
        return await _run(info, input, step)

    @strawberry.mutation(description="Answers the appeal; the answer is mailed and kept.")
    async def answer_appeal(self, info: Info, input: AnswerAppealInput) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Ответ на обращение")
        attachments = _media_ids(input.attachments)
        step = partial(
            workflow.answer, text=input.text, attachment_ids=attachments, comment=input.comment
        )
        return await _run(info, input, step)

    @strawberry.mutation(
        description="Forwards the appeal to the competent body with a covering letter; the "
        "citizen is told where it went."
    )
    async def forward_appeal(self, info: Info, input: ForwardAppealInput) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Переадресация обращения")
        step = partial(
            workflow.forward,
            body=input.body,
            covering_letter=input.covering_letter,
            attachment_ids=_media_ids(input.attachments),
            comment=input.comment,
        )
        return await _run(info, input, step)

    @strawberry.mutation(
        description="Leaves the appeal without an answer on the merits for an art. 11 reason; "
        "the citizen is told (unless there is no address)."
    )
    async def leave_appeal_without_answer(
        self, info: Info, input: LeaveAppealWithoutAnswerInput
    ) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Обращение без ответа")
        step = partial(workflow.leave_without_answer, reason=input.reason, comment=input.comment)
        return await _run(info, input, step)

    @strawberry.mutation(description="Records that the citizen withdrew the appeal.")
    async def withdraw_appeal(self, info: Info, input: WithdrawAppealInput) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Отзыв обращения")
        return await _run(info, input, partial(workflow.withdraw, comment=input.comment))

    @strawberry.mutation(description="A new version of the consent document, as a draft (admin).")
    async def create_consent_document(
        self, info: Info, input: ConsentDocumentInput
    ) -> ConsentDocumentPayload:
        require(info.context.viewer, Action.MANAGE_CONSENT_DOCUMENTS, "Версии согласия")
        actor_id = info.context.viewer.user_id
        return await _consent_payload(
            consent.create_draft(input.title, input.text, actor_id=actor_id)
        )

    @strawberry.mutation(
        description="Changes a draft version (admin); published ones never change."
    )
    async def update_consent_document(
        self, info: Info, input: UpdateConsentDocumentInput
    ) -> ConsentDocumentPayload:
        require(info.context.viewer, Action.MANAGE_CONSENT_DOCUMENTS, "Версии согласия")
        document_id = _consent_id(input.id)
        return await _consent_payload(consent.update_draft(document_id, input.title, input.text))

    @strawberry.mutation(description="Puts a draft version in force (admin).")
    async def publish_consent_document(
        self, info: Info, id: strawberry.ID
    ) -> ConsentDocumentPayload:
        require(info.context.viewer, Action.MANAGE_CONSENT_DOCUMENTS, "Версии согласия")
        return await _consent_payload(consent.publish(_consent_id(id)))
