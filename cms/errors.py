"""Errors the domain raises for bad input; the API layer turns them into its own form."""

from __future__ import annotations


class InvalidArgumentError(ValueError):
    """An argument of a read (page size, cursor, id, filter) that cannot be used.

    `message` is for the person who wrote the query, in Russian; `code` is what a
    client branches on (BAD_USER_INPUT unless the case needs its own)."""

    def __init__(self, argument: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument
        self.message = message
        self.code = code or Code.BAD_USER_INPUT


class Code:
    """Every error code the API answers with (`extensions.code` of GraphQL errors and of
    the answers given before execution, `code` of UserError): clients branch on them,
    so they never change. The one place they are defined."""

    # Input of a mutation (UserError) and of the media upload route.
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_SHORT = "TOO_SHORT"
    TOO_LARGE = "TOO_LARGE"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    # Who may do what.
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    # GraphQL errors of a read.
    BAD_USER_INPUT = "BAD_USER_INPUT"
    SYNC_TOKEN_EXPIRED = "SYNC_TOKEN_EXPIRED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    # The HTTP request itself, answered before execution.
    BAD_REQUEST = "BAD_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    CSRF_HEADER_REQUIRED = "CSRF_HEADER_REQUIRED"
    CORS_NOT_ALLOWED = "CORS_NOT_ALLOWED"
    BATCHING_NOT_SUPPORTED = "BATCHING_NOT_SUPPORTED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    OPERATION_NOT_TRUSTED = "OPERATION_NOT_TRUSTED"
    RENDITION_FAILED = "RENDITION_FAILED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


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
