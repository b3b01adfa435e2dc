"""What mutations answer: a payload with `errors: [UserError!]!` beside the result."""

from __future__ import annotations

import strawberry

from cms.errors import ValidationFailedError


@strawberry.type(description="A problem with a mutation's input; nothing was written.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path into the input, e.g. ["input", "email"].'
    )
    code: str = strawberry.field(
        description="REQUIRED, INVALID, TOO_LONG, NOT_FOUND, CONFLICT, RATE_LIMITED, ..."
    )
    message: str = strawberry.field(description="For people, in Russian.")
    retry_after: int | None = strawberry.field(
        default=None, description="For RATE_LIMITED: seconds to wait before trying again."
    )


def user_errors(error: ValidationFailedError) -> list[UserError]:
    return [
        UserError(
            field=list(item.field) if item.field is not None else None,
            code=item.code,
            message=item.message,
            retry_after=item.retry_after,
        )
        for item in error.errors
    ]


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None
    errors: list[UserError]
