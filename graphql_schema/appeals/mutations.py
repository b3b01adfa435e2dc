"""Mutations of the appeals area: the workflow's steps (staff), the extension (the
head of office), and the consent document's versions (admin)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from cms import models
from cms.errors import ValidationFailedError
from cms.services.appeals import consent, workflow
from cms.services.permissions import Action
from graphql_schema.appeals.types import Appeal, ConsentDocument, NoAnswerReason
from graphql_schema.context import Info
from graphql_schema.payloads import UserError, user_errors
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


Step = Callable[[int, workflow.StepContext], Awaitable[models.Appeal]]


async def _run(info: Info, raw_id: strawberry.ID, step: Step) -> AppealPayload:
    appeal_id = parse_typed_id(raw_id, "Appeal", "input.id")
    context = workflow.StepContext(
        actor_id=info.context.viewer.user_id, settings=info.context.settings
    )
    try:
        row = await step(appeal_id, context)
    except ValidationFailedError as error:
        return AppealPayload(appeal=None, errors=user_errors(error))
    mailer = info.context.runtime.feedback_mailer
    if mailer is not None:
        mailer.wake()  # a notice may be waiting in the outbox
    return AppealPayload(appeal=Appeal.from_row(row), errors=[])


def _media_ids(ids: list[strawberry.ID]) -> list[int]:
    return [parse_typed_id(value, "MediaAsset", "input.attachments") for value in ids]


def _consent_id(raw_id: strawberry.ID) -> int:
    return parse_typed_id(raw_id, "ConsentDocument", "input.id")


@strawberry.type
class AppealMutations:
    @strawberry.mutation(
        description="Registers a received appeal (CMS_APPEAL_REGISTRATION=manual): its number "
        "and due date; the citizen gets the acknowledgement."
    )
    async def register_appeal(self, info: Info, input: AppealStepInput) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Регистрация обращений")
        return await _run(
            info,
            input.id,
            lambda pk, ctx: workflow.register(
                pk, ctx, comment=input.comment, expected_revision=input.expected_revision
            ),
        )

    @strawberry.mutation(description="Takes a registered appeal into review.")
    async def start_appeal_review(self, info: Info, input: AppealStepInput) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Рассмотрение обращений")
        return await _run(
            info,
            input.id,
            lambda pk, ctx: workflow.start_review(
                pk, ctx, comment=input.comment, expected_revision=input.expected_revision
            ),
        )

    @strawberry.mutation(
        description="Extends the answer's deadline once, with a reason (the head of office); "
        "the citizen is told."
    )
    async def extend_appeal_deadline(
        self, info: Info, input: ExtendAppealDeadlineInput
    ) -> AppealPayload:
        require(info.context.viewer, Action.EXTEND_APPEAL_DEADLINE, "Продление срока")
        return await _run(
            info,
            input.id,
            lambda pk, ctx: workflow.extend(
                pk,
                ctx,
                days=input.days,
                reason=input.reason,
                expected_revision=input.expected_revision,
            ),
        )

    @strawberry.mutation(description="Answers the appeal; the answer is mailed and kept.")
    async def answer_appeal(self, info: Info, input: AnswerAppealInput) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Ответ на обращение")
        attachments = _media_ids(input.attachments)
        return await _run(
            info,
            input.id,
            lambda pk, ctx: workflow.answer(
                pk,
                ctx,
                text=input.text,
                attachment_ids=attachments,
                comment=input.comment,
                expected_revision=input.expected_revision,
            ),
        )

    @strawberry.mutation(
        description="Forwards the appeal to the competent body with a covering letter; the "
        "citizen is told where it went."
    )
    async def forward_appeal(self, info: Info, input: ForwardAppealInput) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Переадресация обращения")
        attachments = _media_ids(input.attachments)
        return await _run(
            info,
            input.id,
            lambda pk, ctx: workflow.forward(
                pk,
                ctx,
                body=input.body,
                covering_letter=input.covering_letter,
                attachment_ids=attachments,
                comment=input.comment,
                expected_revision=input.expected_revision,
            ),
        )

    @strawberry.mutation(
        description="Leaves the appeal without an answer on the merits for an art. 11 reason; "
        "the citizen is told (unless there is no address)."
    )
    async def leave_appeal_without_answer(
        self, info: Info, input: LeaveAppealWithoutAnswerInput
    ) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Обращение без ответа")
        return await _run(
            info,
            input.id,
            lambda pk, ctx: workflow.leave_without_answer(
                pk,
                ctx,
                reason=input.reason,
                comment=input.comment,
                expected_revision=input.expected_revision,
            ),
        )

    @strawberry.mutation(description="Records that the citizen withdrew the appeal.")
    async def withdraw_appeal(self, info: Info, input: WithdrawAppealInput) -> AppealPayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Отзыв обращения")
        return await _run(
            info,
            input.id,
            lambda pk, ctx: workflow.withdraw(
                pk, ctx, comment=input.comment, expected_revision=input.expected_revision
            ),
        )

    @strawberry.mutation(description="A new version of the consent document, as a draft (admin).")
    async def create_consent_document(
        self, info: Info, input: ConsentDocumentInput
    ) -> ConsentDocumentPayload:
        require(info.context.viewer, Action.MANAGE_CONSENT_DOCUMENTS, "Версии согласия")
        try:
            row = await consent.create_draft(
                input.title, input.text, actor_id=info.context.viewer.user_id
            )
        except ValidationFailedError as error:
            return ConsentDocumentPayload(document=None, errors=user_errors(error))
        return ConsentDocumentPayload(document=ConsentDocument.from_row(row), errors=[])

    @strawberry.mutation(
        description="Changes a draft version (admin); published ones never change."
    )
    async def update_consent_document(
        self, info: Info, input: UpdateConsentDocumentInput
    ) -> ConsentDocumentPayload:
        require(info.context.viewer, Action.MANAGE_CONSENT_DOCUMENTS, "Версии согласия")
        try:
            row = await consent.update_draft(_consent_id(input.id), input.title, input.text)
        except ValidationFailedError as error:
            return ConsentDocumentPayload(document=None, errors=user_errors(error))
        return ConsentDocumentPayload(document=ConsentDocument.from_row(row), errors=[])

    @strawberry.mutation(description="Puts a draft version in force (admin).")
    async def publish_consent_document(
        self, info: Info, id: strawberry.ID
    ) -> ConsentDocumentPayload:
        require(info.context.viewer, Action.MANAGE_CONSENT_DOCUMENTS, "Версии согласия")
        try:
            row = await consent.publish(_consent_id(id))
        except ValidationFailedError as error:
            return ConsentDocumentPayload(document=None, errors=user_errors(error))
        return ConsentDocumentPayload(document=ConsentDocument.from_row(row), errors=[])
