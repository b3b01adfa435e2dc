"""Errors the domain raises for bad input; the API layer turns them into its own form."""

from __future__ import annotations


class InvalidArgumentError(ValueError):
    """An argument of a read (page size, cursor, id, filter) that cannot be used.

    `message` is for the person who wrote the query, in Russian; `code` is what a
    client branches on (BAD_USER_INPUT unless the case needs its own)."""

    def __init__(self, argument: str, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message)
        self.argument = argument
        self.message = message
        self.code = code


class Code:
    """UserError codes, as clients branch on them."""

    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_SHORT = "TOO_SHORT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    FORBIDDEN = "FORBIDDEN"


class FieldError:
    """One problem with a mutation's input: where (a path into the input), what, why."""

    __slots__ = ("code", "field", "message", "retry_after")

    def __init__(
        self,
        field: tuple[str, ...] | None,
        code: str,
        message: str,
        *,
        retry_after: int | None = None,
    ) -> None:
        self.field = field
        self.code = code
        self.message = message
        self.retry_after = retry_after  # seconds, for RATE_LIMITED

    def __repr__(self) -> str:
        return f"FieldError({self.field!r}, {self.code!r}, {self.message!r})"


class ValidationFailedError(Exception):
    """A mutation's input cannot be applied; nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: tuple[str, ...] | None, code: str, message: str) -> ValidationFailedError:
        return cls([FieldError(field, code, message)])
