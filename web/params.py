"""The parameters of a GraphQL request (query, variables, operationName, extensions),
read strictly from a GET query string, a JSON body or a multipart upload. Anything
that is not a well-formed request is a `Problem` (answered 400 in the one error
shape), never an exception: a body of any JSON value, members of the wrong type,
bad escapes and unpaired surrogates, nesting beyond what can be encoded again,
numbers beyond a double, empty bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from cms.errors import Code
from web.response_cache import Stamp

# How deeply variables and extensions may nest. orjson reads up to 1024 levels but
# writes only 254 (the cache key encodes variables again); no real input nests
# deeper than a few levels.
MAX_NESTING = 64


@dataclass(frozen=True, slots=True)
class Problem:
    """Why the request cannot be read: answered 400 with this message and code."""

    message: str
    code: str = Code.BAD_REQUEST


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


# Where the fast lane leaves what it computed for a request it could not answer.
PREPARED = "cms.prepared"


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request the fast lane read, parsed and hashed, and looked up in the response
    cache without a hit: the view goes on from here instead of doing it again."""

    params: GraphQLParams
    digest: str | None  # the document's hash (of `query`, or the persisted query's)
    key: str | None  # its response cache key; None: not cacheable or not looked up
    stamp: Stamp  # what the lookup read: an entry stored under it holds nothing older


_NOT_AN_OBJECT = (
    "Тело запроса должно быть JSON-объектом вида "
    '{"query": "...", "variables": {...}, "operationName": "..."}.'
)


def from_mapping(data: object) -> GraphQLParams | Problem:
    """The parameters of a decoded JSON body (or multipart `operations`)."""
    if isinstance(data, list):
        return Problem(
            "Пакетные запросы (массив операций) не поддерживаются: отправляйте одну "
            f"операцию в запросе (получено операций: {len(data)}).",
            Code.BATCHING_NOT_SUPPORTED,
        )
    if not isinstance(data, dict):
        return Problem(_NOT_AN_OBJECT)
    query = data.get("query")
    variables = data.get("variables")
    operation_name = data.get("operationName")
    extensions = data.get("extensions")
    if query is not None and not isinstance(query, str):
        return Problem("Поле query должно быть строкой с текстом GraphQL-запроса.")
    if variables is not None and not isinstance(variables, dict):
        return Problem("Поле variables должно быть JSON-объектом (или отсутствовать).")
    if operation_name is not None and not isinstance(operation_name, str):
        return Problem("Поле operationName должно быть строкой (или отсутствовать).")
    if extensions is not None and not isinstance(extensions, dict):
        return Problem("Поле extensions должно быть JSON-объектом (или отсутствовать).")
    if _too_deep(variables) or _too_deep(extensions):
        return Problem(
            f"Переменные запроса вложены слишком глубоко: допускается не более {MAX_NESTING} "
            "уровней."
        )
    return GraphQLParams(query, variables, operation_name, extensions)


def from_json(body: bytes) -> GraphQLParams | Problem:
    if not body.strip():
        return Problem("Пустое тело запроса: отправьте JSON-объект с полем query.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        return Problem(f"Тело запроса не является корректным JSON: {_reason(error)}.")
    return from_mapping(data)


def from_query_string(raw: bytes) -> GraphQLParams | Problem:
    """A GET's parameters; `variables` and `extensions` are JSON texts. Decoded as
    Starlette decodes query strings, so both sides of the fast lane see the same text."""
    params: dict[str, Any] = dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    for name in ("variables", "extensions"):
        text = params.get(name)
        if text is None:
            continue
        if text == "":
            params[name] = None
            continue
        try:
            params[name] = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            return Problem(f"Параметр {name} не является корректным JSON: {_reason(error)}.")
    if params.get("query") == "":
        params["query"] = None
    if params.get("operationName") == "":
        params["operationName"] = None
    return from_mapping(params)


def _reason(error: orjson.JSONDecodeError) -> str:
    # orjson explains in English; its position is what a person looks for.
    return f"ошибка в позиции {error.pos} ({error.msg})"


def _too_deep(value: object) -> bool:
    """Whether containers nest deeper than MAX_NESTING (level by level, no recursion)."""
    level: list[dict[str, Any] | list[Any]] = [value] if isinstance(value, dict | list) else []
    for _ in range(MAX_NESTING):
        if not level:
            return False
        children: list[dict[str, Any] | list[Any]] = []
        for item in level:
            members = item.values() if isinstance(item, dict) else item
            children.extend(child for child in members if isinstance(child, dict | list))
        level = children
    return bool(level)
