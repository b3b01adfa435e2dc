"""Schema extensions: how errors leave the API, and the surrogate keys of a response."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from cms.errors import Code, InvalidArgumentError
from cms.observability import report_unexpected, request_id
from cms.services import surrogate_keys
from cms.settings import Settings

logger = logging.getLogger("cms.graphql")

# graphql-core ends some messages with a guess at what was meant, naming fields,
# arguments, types and enum values; in production that shows the schema to callers
# who may not introspect it. Validation is told to leave them out (limits.py); the
# variables' coercion at the start of execution cannot be, so they are cut here.
_SUGGESTION = " Did you mean "
# Strawberry answers these itself with an HTTP 400; they are not ours to mask.
_HTTP_REFUSALS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


class ErrorPolicy(SchemaExtension):
    """Expected errors keep their message and code; anything else becomes a generic
    message with an error id that is also in the server log, with the traceback."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except _HTTP_REFUSALS:
            raise
        except GraphQLError as error:
            # A refusal while parsing (a syntax error, a limit) leaves the operation
            # as an exception; Strawberry answers it as it is.
            raise self._present(error) from None
        except Exception as error:
            # An extension failed outside any resolver: Strawberry would answer
            # str(error), which may hold internal details.
            raise self._present(GraphQLError(str(error), original_error=error)) from None
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._present(error) for error in result.errors]

    def _hides_suggestions(self) -> bool:
        settings = getattr(self.execution_context.context, "settings", None)
        return isinstance(settings, Settings) and settings.is_production

    def _present(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            message, extensions = error.message, error.extensions
            if _SUGGESTION in message and self._hides_suggestions():
                message = message.split(_SUGGESTION, 1)[0]
            if not (extensions or {}).get("code") and error.path is None:
                # graphql-core's own refusals of the document (syntax, validation,
                # variables' coercion) come in English without a code.
                message, extensions = _refused_document(error, message)
            if message is error.message and extensions is error.extensions:
                return error
            return GraphQLError(message, nodes=error.nodes, path=error.path, extensions=extensions)
        if isinstance(original, InvalidArgumentError):
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": original.code, "argument": original.argument},
            )
        if _unstorable_text(original):
            return GraphQLError(
                "Строка в запросе содержит символ, который нельзя сохранить или искать "
                "(U+0000 или одиночный суррогат): уберите его.",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": Code.BAD_USER_INPUT},
            )
        error_id = secrets.token_hex(8)
        report_unexpected(original)
        logger.error(
            "unexpected error %s in %s",
            error_id,
            ".".join(map(str, error.path or ())),
            exc_info=(type(original), original, original.__traceback__),
        )
        return GraphQLError(
            f"Внутренняя ошибка сервера. Код ошибки: {error_id}.",
            nodes=error.nodes,
            path=error.path,
            extensions={
                "code": Code.INTERNAL_SERVER_ERROR,
                "errorId": error_id,
                "requestId": request_id.get(),
            },
        )


# PostgreSQL's "character not in repertoire": a NUL in text, which it cannot hold.
_CHARACTER_NOT_IN_REPERTOIRE = "22021"


def _unstorable_text(error: BaseException) -> bool:
    """A string argument the database cannot take (a NUL for PostgreSQL, a lone
    surrogate for any driver encoding UTF-8): bad input, not a server failure. Every
    string argument reaches SQL in its own way, so it is recognised here, once."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, UnicodeEncodeError):
            return True
        if getattr(seen, "sqlstate", None) == _CHARACTER_NOT_IN_REPERTOIRE:
            return True
        seen = seen.__cause__
    return False


def _refused_document(error: GraphQLError, message: str) -> tuple[str, dict[str, object]]:
    """A Russian message keeping graphql-core's detail, and the code clients branch on."""
    if isinstance(error, GraphQLSyntaxError):
        detail = message.removeprefix("Syntax Error: ")
        return f"Синтаксическая ошибка в запросе: {detail}", {"code": Code.GRAPHQL_PARSE_FAILED}
    return f"Запрос не прошёл проверку по схеме: {message}", {
        "code": Code.GRAPHQL_VALIDATION_FAILED
    }


class SurrogateKeys(SchemaExtension):
    """Makes the request's `Context.surrogate_keys` the set that `global_id` and
    `connection` record into while the operation runs (see relay.py)."""

    def on_operation(self) -> Iterator[None]:
        keys = getattr(self.execution_context.context, "surrogate_keys", None)
        with surrogate_keys.recording(keys):
            yield
