"""What an operation may ask for, decided before it runs: size, tokens, depth,
aliases, directives, fragments, cost, introspection; and while and after it runs,
how many expensive operations run at once and how large an answer may be.

`OperationLimits` is a schema extension. The schema is built once for the process,
while the limits come from the settings of the app serving the request and the
introspection policy from its caller, so every decision reads the request's
context. A refused operation never reaches execution (no SQL is run) and is
answered with a GraphQL error whose `extensions` say which limit, its value and
what the operation asked for:

    {"code": "LIMIT_EXCEEDED", "limit": "depth", "max": 15, "actual": 40}

The order is the order of the work each check saves: the size of the text before
parsing it, the tokens while parsing, the counts and the cost before validating
(validation itself can be slow on a hostile document), validation last. The cost
of every operation that got as far as being measured is reported to the caller in
`extensions.cost` of the response: {"requested": N, "limit": M}.

Cost is the largest number of objects the response can hold: every field of an
object type counts 1, times the size of each list around it, plus the weights of
fields that cost more than a plain one (WEIGHTS: rich text, counts, reverse
relations) and of searches (SEARCH_WEIGHT). A list's size is its
`first`/`last` argument; without one, a connection counts at the page cap
(CMS_PAGE_SIZE_MAX; a larger `first` is refused by the field itself, with its own
error) and applies to its `edges` and `nodes`, and a plain list (relations such as
`tags`, `actionPlans`, `visitedEnterprises`, and the small taxonomies `regions` and
`directions`) counts at CMS_COST_LIST_SIZE, its expected length: counting those at
the page cap would make every ordinary nested query look like millions of objects
and leave no useful limit. Other scalars are free (they come with their row),
and so is introspection, which is answered from memory and bounded by
graphql-core's MaxIntrospectionDepthRule.

Within the cost limit, two bounds hold while and after an operation runs: those
costing more than CMS_EXPENSIVE_COST run at most CMS_EXPENSIVE_CONCURRENCY at once per
process (others wait up to CMS_EXPENSIVE_WAIT_MS for a slot, then get a 503 with
Retry-After), and an answer larger than CMS_MAX_RESPONSE_BYTES is replaced by a
LIMIT_EXCEEDED error (never cut short).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    Lexer,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    TokenKind,
    ValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
    parse,
    specified_rules,
    validate,
    value_from_ast_untyped,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.validation import ASTValidationRule, MaxIntrospectionDepthRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.graphql import OperationType

from cms.errors import Code
from cms.services.viewer import Viewer
from cms.settings import Settings

# What each limit is called in `extensions.limit`, and how the message names it.
_MESSAGES: dict[str, str] = {
    "querySize": "Текст запроса слишком большой: {actual} байт, допускается не более {max}.",
    "tokens": "Запрос слишком длинный: {actual} лексем, допускается не более {max}.",
    "depth": "Запрос вложен слишком глубоко: глубина {actual}, допускается не более {max}.",
    "aliases": "Слишком много псевдонимов (alias) в запросе: {actual}, допускается не более {max}.",
    "directives": "Слишком много директив в запросе: {actual}, допускается не более {max}.",
    "fragments": "Слишком много фрагментов в запросе: {actual}, допускается не более {max}.",
    "cost": (
        "Запрос слишком дорогой: стоимость {actual}, допускается не более {max}. "
        "Уменьшите first/last или вложенность списков."
    ),
    "subscriptions": (
        "Слишком много подписок на одном соединении: эта была бы {actual}-й, допускается "
        "не более {max}. Завершите ненужные (complete) или откройте другое соединение."
    ),
    "responseSize": (
        "Ответ слишком большой: {actual} байт, допускается не более {max}. "
        "Запросите меньше записей (first/last) или меньше полей."
    ),
    "expensiveOperations": (
        "Сервер занят: запросов стоимостью больше {expensiveCost} одновременно выполняется "
        "не более {max}, этот был бы {actual}-м. Повторите через {retryAfter} с "
        "или уменьшите запрос."
    ),
}

# Connections (Relay): their page size applies to these lists inside them.
_PAGE_LISTS = frozenset({"edges", "nodes"})


def limit_error(limit: str, maximum: int, actual: int, **details: int) -> GraphQLError:
    return GraphQLError(
        _MESSAGES[limit].format(actual=actual, max=maximum, **details),
        extensions={
            "code": Code.LIMIT_EXCEEDED,
            "limit": limit,
            "max": maximum,
            "actual": actual,
            **details,
        },
    )


# ---------------------------------------------------------------- text and tokens


def check_size(query: str, settings: Settings) -> None:
    size = len(query.encode("utf-8"))
    if size > settings.max_query_bytes:
        raise limit_error("querySize", settings.max_query_bytes, size)


def parse_within_limits(query: str, settings: Settings) -> DocumentNode:
    """The parsed document; LIMIT_EXCEEDED for too many tokens or too deep a nesting
    (the parser gives up on both before building the whole tree)."""
    check_size(query, settings)
    try:
        return _parse(query, settings.max_tokens)
    except GraphQLSyntaxError as error:
        # graphql-core says which of its limits it hit only in the message.
        if error.message.endswith(f"more than {settings.max_tokens} tokens. Parsing aborted."):
            raise limit_error("tokens", settings.max_tokens, _count_tokens(query)) from None
        if error.message.endswith("nested too deeply. Parsing aborted."):
            raise limit_error("depth", settings.max_depth, _nesting(query)) from None
        raise


@functools.lru_cache(maxsize=1024)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    """Parsing costs more than running a small query: the documents of the last 1024
    texts are kept (a refused text raises and is not kept). Documents are never
    changed after parsing, so requests can share them."""
    return parse(query, max_lexical_tokens=max_tokens)


_K = TypeVar("_K")
_V = TypeVar("_V")


class _PerText(Generic[_K, _V]):
    """What is found in a document, per text (the document is the parse of the text,
    and the schema and the rules are the same for every request): an LRU of the last
    1024. Values are never changed by their users."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self.results: OrderedDict[_K, _V] = OrderedDict()

    def get(self, key: _K, compute: Callable[[], _V]) -> _V:
        found = self.results.get(key)
        if found is not None:
            self.results.move_to_end(key)
            return found
        result = compute()
        self.results[key] = result
        if len(self.results) > self.size:
            self.results.popitem(last=False)
        return result


# Validation errors (a tuple: callers get their own list), and whether suggestions
# are hidden.
_validated: _PerText[tuple[str, bool], tuple[GraphQLError, ...]] = _PerText()
# The counts of the limits (aliases, directives, fragments, introspection).
_counted: _PerText[str, Counts] = _PerText()


def _tokens(query: str) -> Iterator[TokenKind]:
    """The kinds of the document's tokens, up to the first lexical error."""
    lexer = Lexer(Source(query))
    try:
        while (token := lexer.advance()).kind is not TokenKind.EOF:
            yield token.kind
    except GraphQLSyntaxError:
        return


def _count_tokens(query: str) -> int:
    """Only for the error message: the text is within the size limit, so this is bounded."""
    return sum(1 for _ in _tokens(query))


def _nesting(query: str) -> int:
    """How deep the braces and brackets go: the depth of a document too deep to parse."""
    depth = deepest = 0
    for kind in _tokens(query):
        if kind in (TokenKind.BRACE_L, TokenKind.BRACKET_L):
            depth += 1
            deepest = max(deepest, depth)
        elif kind in (TokenKind.BRACE_R, TokenKind.BRACKET_R):
            depth -= 1
    return deepest


# ---------------------------------------------------------------- counts


@dataclass
class Counts:
    aliases: int = 0
    directives: int = 0
    fragments: int = 0  # definitions, spreads and inline fragments
    introspection: bool = False  # asks for __schema or __type


class _Counter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.counts = Counts()

    def enter_field(self, node: FieldNode, *_: object) -> None:
        if node.alias is not None:
            self.counts.aliases += 1
        if node.name.value in ("__schema", "__type"):
            self.counts.introspection = True

    def enter_directive(self, *_: object) -> None:
        self.counts.directives += 1

    def enter_fragment_definition(self, *_: object) -> None:
        self.counts.fragments += 1

    def enter_fragment_spread(self, *_: object) -> None:
        self.counts.fragments += 1

    def enter_inline_fragment(self, *_: object) -> None:
        self.counts.fragments += 1


def count(document: DocumentNode) -> Counts:
    counter = _Counter()
    visit(document, counter)  # graphql-core's visit is iterative: no recursion limit
    return counter.counts


# ---------------------------------------------------------------- weights

# Every connection type, in WEIGHTS.
CONNECTIONS = "*Connection"
# A body's HTML or plain text: the largest strings of the API, read and sent whole.
RICH_TEXT_WEIGHT = 20
# A COUNT over the whole list, whatever the page asked for.
COUNT_WEIGHT = 10
# A relation read from the other side (a tag's news, an agreement's news): a ranked
# list query per batch of parents, cut per parent, on top of its items.
REVERSE_WEIGHT = 10
# A full-text search (`search:` or `filter: {search:}` with a non-empty text): ranked
# over every matching row, whatever the page; an outside test measured fifty searches
# of 100 news at 5.2 s, about 0.1 s each. At 500, a search page may hold three with
# room to spare (tests/api/test_cost.py) and twenty are refused.
SEARCH_WEIGHT = 500
# Where a search is asked for, in the arguments of any field.
# (`query` is the text of the root `search` field.)
_SEARCH_ARGUMENTS = (("search",), ("filter", "search"), ("query",))

# What a field costs beyond an ordinary one (a scalar 0, an object 1), by type and
# field: the one place weights are declared. tests/api/test_cost.py checks that every
# entry names a real field and that every connection below the root is weighed.
WEIGHTS: Mapping[tuple[str, str], int] = {
    ("RichText", "html"): RICH_TEXT_WEIGHT,
    ("RichText", "text"): RICH_TEXT_WEIGHT,
    # A cut of the plain text, but the whole text is read for it.
    ("RichText", "excerpt"): 2,
    # The item as it was, body included (staff only).
    ("Revision", "snapshot"): RICH_TEXT_WEIGHT,
    (CONNECTIONS, "totalCount"): COUNT_WEIGHT,
    ("Tag", "newsCount"): COUNT_WEIGHT,
    ("Tag", "news"): REVERSE_WEIGHT,
    ("Agreement", "news"): REVERSE_WEIGHT,
    ("Visit", "news"): REVERSE_WEIGHT,
    ("Region", "enterprises"): REVERSE_WEIGHT,
}


# Per field of the schema (a bounded set: only fields the schema defines are weighed),
# as is_connection per type: both are asked for every field of every request.
@functools.cache
def field_weight(parent: GraphQLNamedType, name: str) -> int:
    weight = WEIGHTS.get((parent.name, name))
    if weight is None and is_connection(parent):
        weight = WEIGHTS.get((CONNECTIONS, name))
    return weight or 0


# ---------------------------------------------------------------- depth and cost


@dataclass(frozen=True)
class Measure:
    depth: int
    cost: int


class _Measurer:
    """Depth and cost of an operation, fragments expanded. Each fragment is measured
    once per page size around it, so that fragments spread many times cannot make
    the measuring itself expensive. The document is not validated yet: unknown
    fields and types count as leaves, and a fragment cycle stops (validation then
    refuses the document)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        defaults: Mapping[str, ValueNode],
        page_cap: int,
        list_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.variables = variables
        self.defaults = defaults
        # The values the operation runs with: the variables given, else their defaults.
        self.values = {
            **{name: value_from_ast_untyped(node) for name, node in defaults.items()},
            **variables,
        }
        self.page_cap = page_cap
        self.list_size = list_size
        self.measured: dict[tuple[str, int | None], Measure] = {}
        self.measuring: set[str] = set()

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        page: int | None,
    ) -> Measure:
        depth = cost = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                measure = self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                measure = self.selections(selection.selection_set, inner, page)
            else:
                measure = self.spread(selection, page)  # type: ignore[arg-type]
            depth = max(depth, measure.depth)
            cost += measure.cost
        return Measure(depth, cost)

    def spread(self, spread: FragmentSpreadNode, page: int | None) -> Measure:
        name = spread.name.value
        key = (name, page)
        if key in self.measured:
            return self.measured[key]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.measuring:
            return Measure(0, 0)
        self.measuring.add(name)
        parent = self.schema.get_type(fragment.type_condition.name.value)
        measure = self.selections(fragment.selection_set, parent, page)
        self.measuring.discard(name)
        self.measured[key] = measure
        return measure

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, page: int | None) -> Measure:
        name = node.name.value
        if name.startswith("__"):
            return Measure(0, 0)
        definition = (
            parent.fields.get(name)
            if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
            else None
        )
        if definition is None:
            inner = self.selections(node.selection_set, None, None)
            return Measure(inner.depth + 1, inner.cost)
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        named = get_named_type(field_type)
        weight = field_weight(parent, name)
        if is_leaf_type(named):
            return Measure(1, weight)
        size, inner_page = 1, None
        if is_connection(named):
            inner_page = self.page_size(node)
        elif isinstance(field_type, GraphQLList):
            size = (
                page
                if name in _PAGE_LISTS and page is not None
                else self.page_size(node, absent=self.list_size)
            )
        inner = self.selections(node.selection_set, named, inner_page)
        search = SEARCH_WEIGHT if self.searches(node) else 0
        return Measure(inner.depth + 1, size * (1 + weight + inner.cost) + search)

    def searches(self, node: FieldNode) -> bool:
        """Whether the field is asked to search: a non-empty text at one of
        _SEARCH_ARGUMENTS, given inline or in variables."""
        if not node.arguments:
            return False
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        for first, *rest in _SEARCH_ARGUMENTS:
            if first not in arguments:
                continue
            value = value_from_ast_untyped(arguments[first], self.values)
            for key in rest:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, str) and value.strip():
                return True
        return False

    def page_size(self, node: FieldNode, absent: int | None = None) -> int:
        """`first`/`last` (the smaller when both), within the page cap; without them,
        `absent` (plain lists) or the cap (connections)."""
        sizes = [
            value
            for argument in node.arguments or ()
            if argument.name.value in ("first", "last")
            and isinstance(value := self.int_value(argument.value), int)
        ]
        if not sizes:
            return self.page_cap if absent is None else absent
        return max(0, min(min(sizes), self.page_cap))

    def int_value(self, node: ValueNode) -> int | None:
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in self.variables:
                value = self.variables[name]
                return value if isinstance(value, int) and not isinstance(value, bool) else None
            default = self.defaults.get(name)
            return self.int_value(default) if default is not None else None
        if isinstance(node, IntValueNode):
            try:
                return int(node.value)
            except ValueError:
                return None
        return None


@functools.cache
def is_connection(named: GraphQLNamedType) -> bool:
    return isinstance(named, GraphQLObjectType) and {"edges", "pageInfo"} <= named.fields.keys()


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    page_cap: int,
    list_size: int,
) -> Measure:
    """Depth and cost of the operation that would run (the largest of all of them when
    the document does not say which one: execution then refuses it anyway)."""
    operation = get_operation_ast(document, operation_name)
    operations = (
        [operation]
        if operation is not None
        else [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    )
    depth = cost = 0
    for candidate in operations:
        defaults = {
            definition.variable.name.value: definition.default_value
            for definition in candidate.variable_definitions or ()
            if definition.default_value is not None
        }
        measurer = _Measurer(schema, document, variables or {}, defaults, page_cap, list_size)
        root = schema.get_root_type(candidate.operation)
        found = measurer.selections(candidate.selection_set, root, None)
        depth, cost = max(depth, found.depth), max(cost, found.cost)
    return Measure(depth, cost)


# ---------------------------------------------------------------- introspection


def introspection_allowed(settings: Settings, viewer: Viewer) -> bool:
    """CMS_INTROSPECTION: on, off, or auto: everyone in development, in production
    every authenticated caller (staff and API tokens) but not anonymous ones."""
    if settings.introspection != "auto":
        return settings.introspection == "on"
    return not settings.is_production or not viewer.is_anonymous


def introspection_error(settings: Settings) -> GraphQLError:
    message = (
        "Интроспекция схемы отключена на этом сервере."
        if settings.introspection == "off"
        else "Интроспекция схемы доступна только после входа или с API-токеном."
    )
    return GraphQLError(message, extensions={"code": Code.INTROSPECTION_DISABLED})


@dataclass
class Checked:
    """What the limits and validation found in an operation: its refusals (none for
    one that may run), its cost (once measured) and whether it introspects."""

    errors: list[GraphQLError]
    cost: int | None = None
    introspection: bool = False  # asks for __schema or __type, and may


def check_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    query: str | None,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    settings: Settings,
    viewer: Viewer,
    validation_rules: tuple[type[ASTValidationRule], ...] = tuple(specified_rules),
) -> Checked:
    """The limits of the request's settings, then validation (cached per text): the
    same checks for Strawberry's execution (OperationLimits) and the read compiler."""
    counts = count(document) if query is None else _counted.get(query, lambda: count(document))
    for limit, actual, maximum in (
        ("aliases", counts.aliases, settings.max_aliases),
        ("directives", counts.directives, settings.max_directives),
        ("fragments", counts.fragments, settings.max_fragments),
    ):
        if actual > maximum:
            return Checked([limit_error(limit, maximum, actual)])
    if counts.introspection and not introspection_allowed(settings, viewer):
        return Checked([introspection_error(settings)])
    try:
        found = measure(
            schema,
            document,
            operation_name,
            variables,
            settings.page_size_max,
            settings.cost_list_size,
        )
    except RecursionError:  # fragments nested in fragments beyond the interpreter
        return Checked(
            [limit_error("depth", settings.max_depth, settings.max_depth + 1)],
            introspection=counts.introspection,
        )
    if found.depth > settings.max_depth:
        return Checked(
            [limit_error("depth", settings.max_depth, found.depth)],
            introspection=counts.introspection,
        )
    checked = Checked([], found.cost, counts.introspection)
    if found.cost > settings.max_cost:
        checked.errors = [limit_error("cost", settings.max_cost, found.cost)]
        return checked
    rules = (
        *validation_rules,
        MaxIntrospectionDepthRule,
        # Strawberry's own rules, which its validation would have added.
        MaybeNullValidationRule,
        OneOfInputValidationRule,
    )

    def run_validation() -> list[GraphQLError]:
        # "Did you mean …" would show the schema to callers who may not see it.
        return validate(schema, document, rules, hide_suggestions=settings.is_production)

    checked.errors = (
        run_validation()
        if query is None
        else list(_validated.get((query, settings.is_production), lambda: tuple(run_validation())))
    )
    return checked


# ---------------------------------------------------------------- the extension


class OperationLimits(SchemaExtension):
    """Parses and validates the operation itself, within the limits of the request's
    settings; Strawberry skips its own parsing and validation when these are done."""

    requested: int | None = None
    max_cost: int | None = None

    def _request(self) -> tuple[Settings, Viewer] | None:
        """The settings and caller of an HTTP request; None for the schema's own calls
        (Strawberry introspects itself at start-up, without a context)."""
        context = self.execution_context.context
        settings, viewer = getattr(context, "settings", None), getattr(context, "viewer", None)
        if isinstance(settings, Settings) and isinstance(viewer, Viewer):
            return settings, viewer
        return None

    def on_parse(self) -> Iterator[None]:
        context, request = self.execution_context, self._request()
        if request is not None and context.graphql_document is None and context.query:
            # A refusal raised here is answered as a pre-execution error.
            context.graphql_document = parse_within_limits(context.query, request[0])
        yield

    def on_validate(self) -> Iterator[None]:
        context, request = self.execution_context, self._request()
        if (
            request is not None
            and context.pre_execution_errors is None
            and context.graphql_document is not None
        ):
            context.pre_execution_errors = self._check(context.graphql_document, *request)
        yield

    def _check(
        self, document: DocumentNode, settings: Settings, viewer: Viewer
    ) -> list[GraphQLError]:
        checked = check_operation(
            self.execution_context.schema._schema,  # graphql-core's own schema
            document,
            self.execution_context.query,
            self.execution_context.operation_name,
            self.execution_context.variables,
            settings,
            viewer,
            self.execution_context.validation_rules,
        )
        if checked.introspection:
            # Who may introspect differs within a visibility scope (read tokens may,
            # anonymous callers in production may not): no shared cache keeps it.
            context = self.execution_context.context
            if context is not None:
                context.private = True
        if checked.cost is not None:
            self.requested, self.max_cost = checked.cost, settings.max_cost
        return checked.errors

    async def on_execute(self) -> AsyncIterator[None]:
        """Operations above CMS_EXPENSIVE_COST run with a slot of the process's gate;
        without one in time, the operation is answered with a 503 instead of running."""
        request, context = self._request(), self.execution_context.context
        runtime = getattr(context, "runtime", None)
        if (
            # A subscription would hold its slot for as long as it stays open; its
            # work is per event, bounded by the same cost.
            self.execution_context.operation_type is OperationType.SUBSCRIPTION
            or request is None
            or runtime is None
            or self.requested is None
            or self.requested <= request[0].expensive_cost
        ):
            yield
            return
        gate = runtime.expensive_operations
        async with gate.slot() as admitted:
            if not admitted:
                # A result set here is answered as it is: nothing runs.
                self.execution_context.result = GraphQLExecutionResult(
                    data=None, errors=[_busy_error(request[0], gate.slots)]
                )
                http_response = getattr(context, "response", None)
                if http_response is not None:
                    http_response.status_code = 503
                    http_response.headers["retry-after"] = str(_BUSY_RETRY_AFTER)
            yield

    def get_results(self) -> dict[str, Any]:
        if self.requested is None:
            return {}
        return {"cost": {"requested": self.requested, "limit": self.max_cost}}


# Seconds a caller refused for want of a slot is told to wait: expensive operations
# take a second or less, so a slot is likely free by then.
_BUSY_RETRY_AFTER = 1


def _busy_error(settings: Settings, slots: int) -> GraphQLError:
    return limit_error(
        "expensiveOperations",
        slots,
        slots + 1,
        expensiveCost=settings.expensive_cost,
        retryAfter=_BUSY_RETRY_AFTER,
    )


# ---------------------------------------------------------------- the size of an answer


def within_response_size(body: bytes, result: object, settings: Settings) -> bytes | None:
    """None when the encoded answer is within CMS_MAX_RESPONSE_BYTES; else the answer
    that says so (keeping the original's `extensions`, e.g. its cost), which no cache
    may keep: a client never gets a truncated body."""
    if len(body) <= settings.max_response_bytes:
        return None
    error = limit_error("responseSize", settings.max_response_bytes, len(body))
    answer: dict[str, Any] = {"data": None, "errors": [error.formatted]}
    if isinstance(result, dict) and result.get("extensions"):
        answer["extensions"] = result["extensions"]
    return orjson.dumps(answer)
