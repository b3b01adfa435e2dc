"""GraphQL errors with the codes clients branch on (`extensions.code`, from cms.errors.Code)."""

from __future__ import annotations

from graphql import GraphQLError

from cms.errors import Code


def bad_input(argument: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": Code.BAD_USER_INPUT, "argument": argument})
