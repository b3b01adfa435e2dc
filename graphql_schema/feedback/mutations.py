"""Mutations of the feedback area: the public form, and the staff's handling of messages."""

from __future__ import annotations

import strawberry

from cms.errors import ValidationFailedError
from cms.models import ConsentChannel as DomainConsentChannel
from cms.models import FeedbackKind as DomainFeedbackKind
from cms.services.feedback import privacy, queue
from cms.services.feedback.submission import Submission, submit_feedback
from cms.services.permissions import Action
from graphql_schema.appeals.types import ConsentChannel
from graphql_schema.context import Info
from graphql_schema.feedback.types import FeedbackKind, FeedbackMessage, FeedbackStatus
from graphql_schema.payloads import UserError, user_errors
from graphql_schema.permissions import require
from graphql_schema.relay import parse_typed_id


@strawberry.input
class SubmitFeedbackInput:
    kind: FeedbackKind = DomainFeedbackKind.QUESTION
    name: str
    email: str | None = strawberry.field(default=None, description="At least one of email, phone.")
    phone: str | None = strawberry.field(
        default=None, description="A Russian number in any usual form; stored as +7XXXXXXXXXX."
    )
    subject: str | None = None
    message: str
    consent_to_processing: bool = strawberry.field(
        description="Consent to the processing of personal data; must be true."
    )
    website: str | None = strawberry.field(
        default=None, description="Leave empty: a field hidden from people, filled by bots."
    )
    consent_version: int | None = strawberry.field(
        default=None,
        description="The version of consentDocument the form showed; CONFLICT when a newer "
        "one is in force. Null: the one in force.",
    )
    channel: ConsentChannel = strawberry.field(
        default=DomainConsentChannel.WEB_FORM, description="Where the consent was given."
    )


@strawberry.type
class SubmitFeedbackPayload:
    ticket: str | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[UserError]
    registration_number: str | None = strawberry.field(
        default=None,
        description="An appeal's registration number, when registered on receipt.",
    )


@strawberry.input
class UpdateFeedbackStatusInput:
    id: strawberry.ID
    status: FeedbackStatus
    staff_note: str | None = strawberry.field(
        default=None, description="Replaces the note; null keeps it, an empty string clears it."
    )
    expected_revision: int | None = strawberry.field(
        default=None, description="CONFLICT when someone changed the message since."
    )


@strawberry.input
class AssignFeedbackInput:
    id: strawberry.ID
    assignee: strawberry.ID | None = strawberry.field(
        default=None, description="An editor or admin; null takes the message back."
    )
    expected_revision: int | None = None


@strawberry.type
class FeedbackMessagePayload:
    message: FeedbackMessage | None
    errors: list[UserError]


@strawberry.input
class EraseFeedbackPersonalDataInput:
    email: str | None = None
    phone: str | None = None


@strawberry.type
class EraseFeedbackPersonalDataPayload:
    tickets: list[str] = strawberry.field(
        description="The messages whose personal data is now removed."
    )
    errors: list[UserError]


@strawberry.type
class FeedbackMutations:
    @strawberry.mutation(
        description="Sends a question, appeal or proposal; the answer carries its ticket "
        "once the message is stored. Public."
    )
    async def submit_feedback(
        self, info: Info, input: SubmitFeedbackInput
    ) -> SubmitFeedbackPayload:
        context = info.context
        submission = Submission(
            kind=input.kind,
            name=input.name,
            email=input.email,
            phone=input.phone,
            subject=input.subject,
            message=input.message,
            consent_to_processing=input.consent_to_processing,
            website=input.website,
            consent_version=input.consent_version,
            channel=input.channel,
        )
        try:
            receipt = await submit_feedback(
                submission,
                address=context.viewer.address or "unknown",
                settings=context.settings,
                limiter=context.runtime.limiter,
            )
        except ValidationFailedError as error:
            return SubmitFeedbackPayload(ticket=None, errors=user_errors(error))
        if receipt.created and context.runtime.feedback_mailer is not None:
            context.runtime.feedback_mailer.wake()
        return SubmitFeedbackPayload(
            ticket=receipt.ticket, errors=[], registration_number=receipt.appeal_number
        )

    @strawberry.mutation(description="Moves a message along the queue, with a staff note.")
    async def update_feedback_status(
        self, info: Info, input: UpdateFeedbackStatusInput
    ) -> FeedbackMessagePayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Обработка обращений")
        message_id = parse_typed_id(input.id, "FeedbackMessage", "input.id")
        try:
            row = await queue.update_status(
                message_id,
                input.status,
                staff_note=input.staff_note,
                expected_revision=input.expected_revision,
            )
        except ValidationFailedError as error:
            return FeedbackMessagePayload(message=None, errors=user_errors(error))
        return FeedbackMessagePayload(message=FeedbackMessage.from_row(row), errors=[])

    @strawberry.mutation(description="Gives a message to an editor or admin, or takes it back.")
    async def assign_feedback(
        self, info: Info, input: AssignFeedbackInput
    ) -> FeedbackMessagePayload:
        require(info.context.viewer, Action.MANAGE_FEEDBACK, "Обработка обращений")
        message_id = parse_typed_id(input.id, "FeedbackMessage", "input.id")
        assignee_id = (
            parse_typed_id(input.assignee, "User", "input.assignee") if input.assignee else None
        )
        try:
            row = await queue.assign(
                message_id, assignee_id, expected_revision=input.expected_revision
            )
        except ValidationFailedError as error:
            return FeedbackMessagePayload(message=None, errors=user_errors(error))
        return FeedbackMessagePayload(message=FeedbackMessage.from_row(row), errors=[])

    @strawberry.mutation(
        description="Removes a person's personal data from every message with this e-mail "
        "or phone, on their request (admin). Tickets, kinds and dates stay for statistics."
    )
    async def erase_feedback_personal_data(
        self, info: Info, input: EraseFeedbackPersonalDataInput
    ) -> EraseFeedbackPersonalDataPayload:
        require(info.context.viewer, Action.MANAGE_PERSONAL_DATA, "Удаление персональных данных")
        try:
            contact = privacy.parse_contact(input.email, input.phone, path=("input",))
        except ValidationFailedError as error:
            return EraseFeedbackPersonalDataPayload(tickets=[], errors=user_errors(error))
        tickets = await privacy.erase_personal_data(contact)
        return EraseFeedbackPersonalDataPayload(tickets=tickets, errors=[])
