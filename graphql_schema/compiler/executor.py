"""Running a read through its compiled plan, or saying that Strawberry must.

`ReadCompiler.execute` answers the body of a response (bytes) or None; asked to
`collect`, also the surrogate keys Strawberry would have recorded computing it (for
the response cache and HTTP caches), from a keyed plan of its own. None means
the whole operation goes to Strawberry: a refusal of the limits or of validation
(Strawberry reports it, in the same words), variables that do not coerce, an
operation above the expensive-operation cost (it needs a slot), anything the
compiler does not support, and arguments that need an error or a redirect
(a bad cursor, `first` over the cap, an item not found by its slug).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import orjson
from graphql import FragmentDefinitionNode, GraphQLError, GraphQLSchema, OperationDefinitionNode
from graphql.execution.values import VariableValues, get_variable_values
from tortoise.connection import get_connection

from cms.services.viewer import Viewer
from cms.settings import Settings
from graphql_schema.compiler.plan import Plan, build_plan
from graphql_schema.compiler.sql import Fallback, Unsupported
from graphql_schema.limits import check_operation, parse_within_limits

logger = logging.getLogger("cms.compiler")

# A plan per (text, operation name, visibility scope, dialect, shape of variables,
# keyed).
_Key = tuple[str, str | None, str, str, tuple[tuple[str, object], ...], bool]


@dataclass(frozen=True, slots=True)
class Compiled:
    body: bytes
    extensions: dict[str, Any]
    surrogate_keys: set[str] | None = None  # when collected


class ReadCompiler:
    def __init__(self, schema: GraphQLSchema, settings: Settings, size: int = 1024) -> None:
        self.schema = schema
        self.settings = settings
        self.size = size
        self.plans: OrderedDict[_Key, Plan] = OrderedDict()
        # Documents that did not compile: without variables they go to Strawberry
        # before any work here; with them, for the shape of values that refused.
        self.refused: OrderedDict[tuple[object, ...], None] = OrderedDict()

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        viewer: Viewer,
        collect: bool = False,
    ) -> Compiled | None:
        settings = self.settings
        refused_key: tuple[object, ...] = (query, operation_name, viewer.visibility_scope, collect)
        if refused_key in self.refused:
            return None
        try:
            document = parse_within_limits(query, settings)
        except GraphQLError:
            return None
        checked = check_operation(
            self.schema,
            document,
            query,
            operation_name,
            variables,
            settings,
            viewer,
        )
        if checked.errors or checked.introspection or checked.cost is None:
            return None
        if checked.cost > settings.expensive_cost:
            return None
        operation: OperationDefinitionNode | None = None
        fragments: dict[str, FragmentDefinitionNode] = {}
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
            elif isinstance(definition, OperationDefinitionNode) and (
                operation_name is None
                or (definition.name is not None and definition.name.value == operation_name)
            ):
                operation = definition
        if operation is None or operation.operation.value != "query":
            return None
        coerced = get_variable_values(
            self.schema, operation.variable_definitions or (), variables or {}
        )
        if not isinstance(coerced, VariableValues):  # errors: Strawberry reports them
            return None
        shape = _shape(coerced.coerced)
        if operation.variable_definitions:
            # A refusal may depend on the values (an order that does not compile):
            # it holds for this shape of them only.
            refused_key = (*refused_key, shape)
            if refused_key in self.refused:
                return None
        dialect = get_connection("default").capabilities.dialect
        key: _Key = (query, operation_name, viewer.visibility_scope, dialect, shape, collect)
        plan = self.plans.get(key)
        if plan is not None:
            self.plans.move_to_end(key)
        else:
            try:
                plan = build_plan(
                    self.schema,
                    operation,
                    fragments,
                    coerced,
                    viewer,
                    settings,
                    dialect,
                    keyed=collect,
                )
            except Unsupported as reason:
                logger.debug("not compiled: %s", reason)
                _remember(self.refused, refused_key, self.size)
                return None
            _remember(self.plans, key, self.size, plan)
        try:
            args = plan.arguments(coerced)
        except Fallback:
            return None
        statement = plan.statement
        _, rows = await get_connection("default").execute_query(
            statement.sql, statement.values(args, _now)
        )
        row = rows[0]
        if not all(row[1 + i] for i in range(plan.checks)):
            return None
        data: str = row[0]
        keys: set[str] | None = None
        if plan.keyed:
            json, keys = plan.surrogate_keys(data)
        else:
            json = data.encode()
        extensions = {"cost": {"requested": checked.cost, "limit": settings.max_cost}}
        body = b"".join((b'{"data":', json, b',"extensions":', orjson.dumps(extensions), b"}"))
        return Compiled(body, extensions, keys)


def _remember(cache: OrderedDict[Any, Any], key: Any, size: int, value: Any = None) -> None:
    cache[key] = value
    if len(cache) > size:
        cache.popitem(last=False)


def _now() -> datetime:
    return datetime.now(UTC)


def _shape(variables: dict[str, Any]) -> tuple[tuple[str, object], ...]:
    """What of the variables decides the SQL: which are null, the booleans (for
    @include and @skip), the enum values (an order, a status) and, inside input
    objects (a filter), which fields are given. Values of another kind are bound as
    parameters: a plan serves every value of them."""
    return tuple((name, _shape_of(value)) for name, value in sorted(variables.items()))


def _shape_of(value: Any) -> object:
    if isinstance(value, bool | Enum):
        return value
    if isinstance(value, dict):
        return _shape(value)
    if isinstance(value, list):
        return tuple(_shape_of(item) for item in value)
    return value is None
