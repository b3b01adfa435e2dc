"""Schema extensions: how errors leave the API, and what the response cache may keep."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from cms.errors import InvalidArgumentError
from cms.settings import Settings
from graphql_schema.errors import INTERNAL_SERVER_ERROR
from web.http_cache import current_state

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
        except (GraphQLError, *_HTTP_REFUSALS):
            raise
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
            if _SUGGESTION in error.message and self._hides_suggestions():
                return GraphQLError(
                    error.message.split(_SUGGESTION, 1)[0],
                    nodes=error.nodes,
                    path=error.path,
                    extensions=error.extensions,
                )
            return error
        if isinstance(original, InvalidArgumentError):
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": original.code, "argument": original.argument},
            )
        error_id = secrets.token_hex(8)
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
            extensions={"code": INTERNAL_SERVER_ERROR, "errorId": error_id},
        )


class CachePolicy(SchemaExtension):
    """Tells the response cache whether the operation was a query that succeeded:
    only those are stored or cached by HTTP. Runs once per operation, not per field."""

    def on_operation(self) -> Iterator[None]:
        yield
        state = current_state.get()
        if state is None:
            return
        context = self.execution_context
        result = context.result
        try:
            state.is_query = context.operation_type is OperationType.QUERY
        except RuntimeError:  # no document: nothing ran
            state.is_query = False
        state.succeeded = result is not None and not result.errors and result.data is not None
