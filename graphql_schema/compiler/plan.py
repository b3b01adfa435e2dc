"""From a GraphQL operation to one SQL statement that builds its `data` as JSON.

What compiles (anything else raises `Unsupported`, and the whole operation runs
through Strawberry):

- the root lists `news` (`first`/`after` or `last`/`before`, every order but
  RELEVANCE, `filter: {tag, region, publishedAfter, publishedBefore}`), `tags` (no
  search), `agreements(filter: {region, agreementStatus})`, `actionPlans(agreement)`,
  `enterprises(filter: {region, locality, industry})` and `events`, each read through
  the service that owns it (lists.py); the lookups `newsItem`, `agreement`,
  `actionPlan`, `enterprise` (by id or slug) and `tag` (by slug); `node(id)` for the
  public types (content, regions, media; an id of another type falls back); and
  `__typename`;
- on a connection: `totalCount` (news: the maintained counters; else the COUNT that
  `paginate` runs), `edges { cursor node }`, `pageInfo`, `__typename`;
- the connections of items `Agreement.news`, `Visit.news`, `Tag.news` and
  `Region.enterprises` (`first`, `after`), as their loaders page and count them, in
  the same statement;
- on a declared content type (cms/models/declare.py, read through
  cms/services/content_types.py): `id`, `__typename`, its public text fields,
  `publishedAt`, `updatedAt`, `revision`, dates, enums, points, rich text
  `{ html text excerpt }`, `url` (the URL template of the type), `Tag.newsCount`,
  single references and regions, lists of tags, regions, references, strings and
  parts (plan items, quotes), the reverse relations `Agreement.actionPlans` and
  `ActionPlan.visits`, and `ActionPlan.visitedEnterprises`, nested to any depth;
- aliases, fragments, inline fragments, `@include` / `@skip`, variables.

Rows and their visibility come from the services' querysets (visibility.py,
news.py, pagination.py) turned into SQL by Tortoise (sql.py); the JSON around them
is built here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
)
from tortoise.expressions import Q
from tortoise.queryset import ValuesQuery

from cms import models
from cms.errors import InvalidArgumentError
from cms.models.declare import Field, Kind, camel
from cms.services import surrogate_keys
from cms.services.columns import fits as fits_column
from cms.services.content_types import CONTENT_TYPES, ContentType
from cms.services.news import tag_news_count_query
from cms.services.pagination import Ordering, after_q, check_cursor_fits, window
from cms.services.viewer import Viewer
from cms.services.visibility import rules_at, visible, visible_q
from cms.settings import Settings
from graphql_schema.common import MAX_EXCERPT_LENGTH
from graphql_schema.compiler.lists import ITEM_LISTS, ROOT_LISTS, Listed, Listing, utc
from graphql_schema.compiler.sql import (
    NOW,
    Arg,
    Dialect,
    Fallback,
    Sentinels,
    Sources,
    Statement,
    Unsupported,
    check_parses,
    queryset_sql,
)
from graphql_schema.cooperation.dataloaders import ACTION_PLANS_ORDER, VISITS_ORDER
from graphql_schema.media.dataloaders import unrecorded_uses
from graphql_schema.node import NODE_PERMISSIONS, NODE_TYPES
from graphql_schema.relay import parse_global_id, parse_typed_id
from media.service import media_url

Variables = VariableValues  # graphql-core 3.3: coerced values and their sources
Binder = Callable[[Variables, dict[str, Any]], None]


# The key of the hidden member of each object of a keyed plan's answer (no GraphQL
# name): what Strawberry would record for that object, see `Plan.surrogate_keys`.
MARK = "#"


@dataclass(frozen=True, slots=True)
class Plan:
    statement: Statement
    binders: tuple[Binder, ...]  # fill the request's argument values, or Fallback
    checks: int  # columns after the JSON that must all be true, else Fallback
    # Keyed plans (built for an answer to be stored) name what their answer holds.
    keyed: bool = False
    keys: frozenset[str] = frozenset()  # recorded by every answer: the root fields' lists
    sites: tuple[frozenset[str], ...] = ()  # recorded by the answers that read site `#n`

    def arguments(self, variables: Variables) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for binder in self.binders:
            binder(variables, args)
        return args

    def surrogate_keys(self, data: str) -> tuple[bytes, set[str]]:
        """The JSON of a keyed plan's answer without its marks, and the surrogate keys
        Strawberry records computing it: the item key of every object it makes (relay's
        `global_id`) and the lists of every loader it calls (`visibility.visible_q`),
        which it calls only for the objects that reach them (`#n`: site n)."""
        keys = set(self.keys)
        sites = self.sites

        def unmark(value: Any) -> None:
            if isinstance(value, dict):
                mark = value.pop(MARK, None)
                for token in mark.split() if mark else ():
                    if token[0] == "#":
                        keys.update(sites[int(token[1:])])
                    else:
                        keys.add(token)
                for inner in value.values():
                    unmark(inner)
            elif isinstance(value, list):
                for inner in value:
                    unmark(inner)

        answer = orjson.loads(data)
        unmark(answer)
        return orjson.dumps(answer), keys


_TEXT_KINDS = frozenset({Kind.TEXT, Kind.URL, Kind.SLUG})


@dataclass
class _Builder:
    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    variables: Variables
    viewer: Viewer
    settings: Settings
    dialect: Dialect
    sources: Sources = field(default_factory=Sources)
    ctes: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    binders: list[Binder] = field(default_factory=list)
    aliases: int = 0
    keyed: bool = False
    keys: set[str] = field(default_factory=set)
    sites: list[_Site] = field(default_factory=list)

    def alias(self) -> str:
        self.aliases += 1
        return f"r{self.aliases}"

    # ------------------------------------------------------------ surrogate keys

    @contextmanager
    def site(self, parent: str, loads_when: str | None = None) -> Iterator[None]:
        """The rows a field of the object at row `parent` reads: the list keys that
        building their queryset records are recorded by an answer only when one of
        its objects reaches them (Strawberry calls the field's loader only then, and
        a reference's only for a foreign key that is set: `loads_when`)."""
        keys: set[str] = set()
        with surrogate_keys.recording(keys):
            yield
        if keys:
            self.sites.append(_Site(parent, loads_when, frozenset(keys)))

    def mark(
        self,
        pairs: list[tuple[str, str]],
        named: GraphQLObjectType,
        alias: str,
        columns: set[str],
    ) -> None:
        """In a keyed plan, an object's hidden member: its item key (a node's: relay's
        `global_id` records it) and the sites it reaches (`Plan.surrogate_keys`).
        Called once the object's fields are built."""
        if not self.keyed:
            return
        text = self.dialect.text
        parts = []
        if any(interface.name == "Node" for interface in named.interfaces):
            columns.add("id")
            parts.append(f'{text(named.name + ":")} || CAST({alias}."id" AS TEXT)')
        for index, site in enumerate(self.sites):
            if site.parent == alias:
                token = text(f" #{index}")
                parts.append(
                    token
                    if site.loads_when is None
                    else f"(CASE WHEN {site.loads_when} THEN {token} ELSE '' END)"
                )
        if parts:
            pairs.append((MARK, " || ".join(parts)))

    # ------------------------------------------------------------ selections

    def collect(
        self, parent: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """The fields of the selection sets by response key, in order, merged (as
        graphql-core's CollectFields does)."""
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def walk(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self.included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = (selection.alias or selection.name).value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    if condition is None or self.applies(condition.name.value, parent):
                        walk(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if name in visited or fragment is None:
                        continue
                    visited.add(name)
                    if self.applies(fragment.type_condition.name.value, parent):
                        walk(fragment.selection_set)

        for selection_set in selection_sets:
            walk(selection_set)
        return fields

    def included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include is not None and include.get("if") is False)

    def applies(self, condition: str, parent: GraphQLObjectType) -> bool:
        if condition == parent.name:
            return True
        abstract = self.schema.get_type(condition)
        return abstract is not None and self.schema.is_sub_type(abstract, parent)  # type: ignore[arg-type]

    def subselection(self, nodes: list[FieldNode]) -> list[SelectionSetNode]:
        return [node.selection_set for node in nodes if node.selection_set is not None]

    def field_type(self, parent: GraphQLObjectType, name: str) -> tuple[GraphQLField, Any]:
        definition = parent.fields.get(name)
        if definition is None:
            raise Unsupported(f"{parent.name}.{name}")
        return definition, get_named_type(definition.type)

    # ------------------------------------------------------------ the root

    def root(self) -> str:
        query = self.schema.query_type
        assert query is not None
        pairs: list[tuple[str, str]] = []
        for key, nodes in self.collect(query, [self.operation.selection_set]).items():
            node = nodes[0]
            name = node.name.value
            if name == "__typename":
                pairs.append((key, self.dialect.text(query.name)))
                continue
            definition, named = self.field_type(query, name)
            if name in ROOT_LISTS:
                listing = ROOT_LISTS[name]
                pairs.append((key, self.connection(definition, named, nodes, key, listing)))
            elif name == "node":
                pairs.append((key, self.node(definition, nodes, key)))
            elif name in _LOOKUPS:
                pairs.append((key, self.lookup(_LOOKUPS[name], definition, named, nodes, key)))
            else:
                raise Unsupported(f"Query.{name}")
        self.mark(pairs, query, _ROOT, set())
        return self.dialect.obj(pairs)

    def arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        return get_argument_values(definition, node, self.variables)

    # ------------------------------------------------------------ newsItem

    def lookup(
        self,
        type_name: str,
        definition: GraphQLField,
        named: GraphQLObjectType,
        nodes: list[FieldNode],
        key: str,
    ) -> str:
        """One item by id or slug (graphql_schema/lookups.py): null when none is
        visible; then the plan falls back, for Strawberry follows old slugs."""
        node = nodes[0]
        if any(other.arguments != node.arguments for other in nodes[1:]):
            raise Unsupported("the same key with other arguments")
        given = self.arguments(definition, node)
        kind = CONTENT_TYPES[type_name]
        model = kind.model
        sentinels = Sentinels()
        prefix = f"{key}."
        if given.get("id") is not None and given.get("slug") is None:
            condition: dict[str, Any] = {"id": sentinels.integer(prefix + "id")}
        elif given.get("slug") is not None and given.get("id") is None:
            condition = {"slug": sentinels.text(prefix + "slug")}
        else:
            raise Unsupported("a lookup needs exactly one of id and slug")

        def bind(variables: Variables, args: dict[str, Any]) -> None:
            values = get_argument_values(definition, node, variables)
            if "id" in condition:
                try:
                    args[prefix + "id"] = parse_typed_id(values["id"], type_name)
                except Exception as error:
                    raise Fallback from error
            else:
                slug = values["slug"]
                if not fits_column(model, "slug", slug):
                    raise Fallback
                args[prefix + "slug"] = slug

        self.binders.append(bind)
        alias = self.alias()
        columns: set[str] = set()
        element = self.content_object(kind, named, self.subselection(nodes), alias, columns)
        with rules_at(NOW):
            queryset = visible(model, self.viewer).filter(**condition)
            rows = queryset_sql(
                queryset.values(*sorted(columns)), self.dialect.name, self.sources, sentinels
            )
        # Read twice (the answer and the check): computed once.
        cte = f"c{len(self.ctes)}"
        self.ctes.append(f"{cte} AS MATERIALIZED (SELECT {element} AS j FROM ({rows}) AS {alias})")
        # None found: perhaps an old slug, which Strawberry's lookup follows.
        self.checks.append(f"EXISTS (SELECT 1 FROM {cte})")
        return self.dialect.nested(f"SELECT j FROM {cte}")

    # ------------------------------------------------------------ node

    def node(self, definition: GraphQLField, nodes: list[FieldNode], key: str) -> str:
        """`node(id)` (graphql_schema/node.py): the item of the id's type, null when
        none is visible, as the by-id loaders read it. One branch per public type whose
        selection compiles; an id of another type (accounts, feedback...), or one that
        does not parse, is left to Strawberry."""
        node = nodes[0]
        if any(other.arguments != node.arguments for other in nodes[1:]):
            raise Unsupported("the same key with other arguments")
        prefix = f"{key}.{self.alias()}."
        sentinels = Sentinels()
        selection = self.subselection(nodes)
        branches: list[tuple[str, str]] = []
        for type_name in NODE_TYPES:
            named = self.schema.get_type(type_name)
            if type_name in NODE_PERMISSIONS or not isinstance(named, GraphQLObjectType):
                continue
            # A branch that does not compile leaves nothing behind: its type falls back.
            saved = (len(self.binders), len(self.ctes), len(self.checks), len(self.sites))
            # Strawberry calls the loader of the id's type only: its lists are recorded
            # by the answers for an id of that type (a site of the root, `root`).
            of_type = f"{self.sources.mark(Arg(prefix + 'type'))} = {self.dialect.text(type_name)}"
            try:
                with self.site(_ROOT, of_type):
                    sql = self.node_of(named, selection, prefix, sentinels)
                branches.append((type_name, sql))
            except Unsupported:
                del self.binders[saved[0] :], self.ctes[saved[1] :], self.checks[saved[2] :]
                del self.sites[saved[3] :]
        compiled = frozenset(name for name, _ in branches)
        if not compiled:
            raise Unsupported("node of no compiled type")

        def bind(variables: Variables, args: dict[str, Any]) -> None:
            values = get_argument_values(definition, node, variables)
            try:
                type_name, pk = parse_global_id(values["id"])
            except Exception as error:
                raise Fallback from error
            if type_name not in compiled:
                raise Fallback
            args[prefix + "type"] = type_name
            args[prefix + "pk"] = pk

        self.binders.append(bind)
        dialect = self.dialect
        type_arg = self.sources.mark(Arg(prefix + "type"))
        cases = " ".join(f"WHEN {dialect.text(name)} THEN ({sql})" for name, sql in branches)
        return dialect.nested(f"SELECT CASE {type_arg} {cases} END")

    def node_of(
        self,
        named: GraphQLObjectType,
        selection: list[SelectionSetNode],
        prefix: str,
        sentinels: Sentinels,
    ) -> str:
        """The JSON of one row of `named` by the id's key (a subquery)."""
        alias = self.alias()
        columns: set[str] = {"id"}
        kind = CONTENT_TYPES.get(named.name)
        if kind is not None:
            model: Any = kind.model
            element = self.content_object(kind, named, selection, alias, columns)
        elif named.name == "Region":
            model, element = models.Region, self.region_object(named, selection, alias, columns)
        elif named.name == "MediaAsset":
            model = models.MediaAsset
            element = self.media_object(named, selection, alias, columns)
        else:
            raise Unsupported(f"node of {named.name}")
        pk = sentinels.integer(prefix + "pk")
        with rules_at(NOW):
            queryset = visible(model, self.viewer).filter(id=pk).values(*sorted(columns))
            rows = queryset_sql(queryset, self.dialect.name, self.sources, sentinels)
        return f"SELECT {element} FROM ({rows}) AS {alias}"

    # ------------------------------------------------------------ connections

    def connection(
        self,
        definition: GraphQLField,
        named: GraphQLObjectType,
        nodes: list[FieldNode],
        key: str,
        listing: Listing,
        parent_alias: str | None = None,
    ) -> str:
        """A page of a list (`first`/`after` or `last`/`before`) as `paginate` and
        `paginate_per_parent` read it, with its total; the rows and the total come
        from the service that owns the list (`listing`), under the row `parent_alias`
        for a list of an item."""
        node = nodes[0]
        if any(other.arguments != node.arguments for other in nodes[1:]):
            raise Unsupported("the same key with other arguments")
        given = self.arguments(definition, node)
        prefix = f"{key}.{self.alias()}."
        sentinels = Sentinels()
        backward = given.get("last") is not None or given.get("before") is not None
        has_cursor = given.get("before" if backward else "after") is not None
        # An item's list is read (its loader called) only for the items shown.
        read = nullcontext() if parent_alias is None else self.site(parent_alias)
        with rules_at(NOW), read:
            parent = None
            if parent_alias is not None:
                parent = sentinels.reference(f'{parent_alias}."id"')
            listed = listing(self.viewer, given, sentinels, prefix, parent)
        ordering = listed.ordering
        effective = ordering.reversed() if backward else ordering
        cursor_values = (
            [
                _key_sentinel(sentinels, f"{prefix}k{i}", sort_key.kind)
                for i, sort_key in enumerate(ordering.keys)
            ]
            if has_cursor
            else []
        )
        limit1 = sentinels.integer(prefix + "limit1")
        limit_value = sentinels.integer(prefix + "limit")
        model = listed.kind.model
        settings = self.settings

        def bind(variables: Variables, args: dict[str, Any]) -> None:
            values = get_argument_values(definition, node, variables)
            try:
                request = window(
                    ordering,
                    first=values.get("first"),
                    after=values.get("after"),
                    last=values.get("last"),
                    before=values.get("before"),
                    default_size=settings.page_size_default,
                    max_size=settings.page_size_max,
                )
                if request.cursor is not None:
                    check_cursor_fits(model, ordering, request)
            except InvalidArgumentError as error:
                raise Fallback from error
            if (
                request.limit == 0
                or request.backward != backward
                or (request.cursor is not None) != has_cursor
            ):
                raise Fallback
            args[prefix + "limit"] = request.limit
            args[prefix + "limit1"] = request.limit + 1
            for i, value in enumerate(request.cursor or ()):
                args[f"{prefix}k{i}"] = utc(value) if isinstance(value, datetime) else value
            listed.bind(values, args)

        self.binders.append(bind)
        edge_alias = self.alias()
        columns: set[str] = {sort_key.field for sort_key in ordering.keys}
        pairs: list[tuple[str, str]] = []
        limit = self.sources.mark(Arg(prefix + "limit"))
        dialect = self.dialect
        cursor = self.cursor(ordering, edge_alias)
        # The page in the order asked for: a backward page is read from its end.
        order = f"{edge_alias}._rn DESC" if backward else f"{edge_alias}._rn"
        # A CTE at the root; under a parent, marks for the page's subqueries (known last).
        page = f"c{len(self.ctes)}" if parent_alias is None else f"\x03{self.alias()}\x03"
        page_rows = f"{page}\x03rows"
        for field_key, field_nodes in self.collect(named, self.subselection(nodes)).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((field_key, dialect.text(named.name)))
            elif name == "totalCount":
                pairs.append((field_key, self.total(listed, sentinels)))
            elif name == "edges":
                _, edge_type = self.field_type(named, "edges")
                element = self.edge(
                    listed.kind,
                    edge_type,
                    self.subselection(field_nodes),
                    edge_alias,
                    columns,
                    cursor,
                )
                source = f"SELECT * FROM {page} AS {edge_alias} WHERE _rn <= {limit}"
                if parent_alias is not None:
                    # The rows of the page as they come, forwards (an item's lists have
                    # no last/before): SQLite parses only so many nested subqueries.
                    array = dialect.array(element, page_rows, edge_alias)
                elif dialect.postgres:
                    array = (
                        f"SELECT COALESCE(json_agg({element} ORDER BY {order}), '[]'::json) "
                        f"FROM ({source}) AS {edge_alias}"
                    )
                else:
                    array = dialect.array(element, f"{source} ORDER BY {order}", edge_alias)
                pairs.append((field_key, dialect.nested(array)))
            elif name == "pageInfo":
                _, info_type = self.field_type(named, "pageInfo")
                pairs.append(
                    (
                        field_key,
                        self.page_info(
                            info_type,
                            self.subselection(field_nodes),
                            page,
                            limit,
                            has_cursor,
                            backward,
                            ordering,
                        ),
                    )
                )
            else:
                raise Unsupported(f"{named.name}.{name}")
        if self.keyed:
            # Strawberry makes a node of every row of the page, shown or not.
            columns.add("id")
            concat = "string_agg" if dialect.postgres else "group_concat"
            item = f'{dialect.text(listed.kind.name + ":")} || CAST(m."id" AS TEXT)'
            pairs.append(
                (MARK, f"(SELECT {concat}({item}, ' ') FROM {page} AS m WHERE m._rn <= {limit})")
            )
        with rules_at(NOW):
            queryset = listed.rows
            if has_cursor:
                queryset = queryset.filter(after_q(effective.keys, cursor_values))
            rows_qs = (
                queryset.order_by(*effective.order_by()).limit(limit1).values(*sorted(columns))
            )
            rows = queryset_sql(rows_qs, dialect.name, self.sources, sentinels)
        numbered = f"SELECT p.*, ROW_NUMBER() OVER () AS _rn FROM ({rows}) AS p"
        if parent_alias is not None:
            # Under a parent row, where a CTE cannot look: each reading repeats it.
            with rules_at(NOW):
                edges_qs = (
                    queryset.order_by(*effective.order_by())
                    .limit(limit_value)
                    .values(*sorted(columns))
                )
                edge_rows = queryset_sql(edges_qs, dialect.name, self.sources, sentinels)
            built = dialect.obj(pairs).replace(page_rows, edge_rows)
            return built.replace(page, f"({numbered})")
        # Read by the edges, the page info and the cursors: the page is computed once.
        self.ctes.append(f"{page} AS MATERIALIZED ({numbered})")
        return dialect.obj(pairs)

    def cursor(self, ordering: Ordering, alias: str) -> str:
        """The SQL of `pagination.encode_cursor` for a row: base64url of the JSON
        array [ordering name, key values...]."""
        dialect = self.dialect
        parts = [dialect.text(f'["{ordering.name}"')]
        for sort_key in ordering.keys:
            column = f'{alias}."{sort_key.field}"'
            if sort_key.kind == "datetime":
                parts.append(f"""',"' || {dialect.datetime(column)} || '"'""")
            elif sort_key.kind == "date":
                parts.append(f"""',"' || {dialect.date(column)} || '"'""")
            elif sort_key.kind == "int":
                parts.append(f"',' || CAST({column} AS TEXT)")
            elif sort_key.kind == "str":
                parts.append(f"',' || {dialect.json_string(column)}")
            else:
                raise Unsupported(f"a cursor over {sort_key.kind}")
        parts.append("']'")
        return dialect.base64url(" || ".join(parts))

    def total(self, listed: Listed, sentinels: Sentinels) -> str:
        """`totalCount`: the maintained counters when the list has them (news), else
        the COUNT(*) of its rows that `paginate` runs."""
        with rules_at(NOW):
            if listed.counter is None:
                query = listed.rows.count() if listed.count is None else listed.count
                sql = queryset_sql(query, self.dialect.name, self.sources, sentinels)
                # No row for an item with none (a count grouped by the item): 0.
                return f"COALESCE(({sql}), 0)"
        return self.counted(listed.counter, sentinels)

    def counted(self, counter: ValuesQuery[Literal[False]], sentinels: Sentinels) -> str:
        """A maintained counter's total less its scheduled news (`tag_news_counts`)."""
        with rules_at(NOW):
            sql = queryset_sql(counter, self.dialect.name, self.sources, sentinels)
        return (
            f"COALESCE((SELECT COALESCE(t.total, 0) - COALESCE(t.scheduled, 0) "
            f"FROM ({sql}) AS t), 0)"
        )

    def news_count(self, alias: str) -> str:
        """`Tag.newsCount` of the tag at row `alias`, as its loader counts it (the
        maintained counters, read for the tags shown)."""
        sentinels = Sentinels()
        with rules_at(NOW), self.site(alias):
            counter = tag_news_count_query(sentinels.reference(f'{alias}."id"'))
        return self.counted(counter, sentinels)

    def edge(
        self,
        kind: ContentType,
        edge_type: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        alias: str,
        columns: set[str],
        cursor: str,
    ) -> str:
        pairs: list[tuple[str, str]] = []
        for key, nodes in self.collect(edge_type, selection_sets).items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, self.dialect.text(edge_type.name)))
            elif name == "cursor":
                pairs.append((key, cursor))
            elif name == "node":
                _, node_type = self.field_type(edge_type, "node")
                pairs.append(
                    (
                        key,
                        self.content_object(
                            kind, node_type, self.subselection(nodes), alias, columns
                        ),
                    )
                )
            else:
                raise Unsupported(f"{edge_type.name}.{name}")
        return self.dialect.obj(pairs)

    def page_info(
        self,
        info_type: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        page: str,
        limit: str,
        has_cursor: bool,
        backward: bool,
        ordering: Ordering,
    ) -> str:
        """As `paginate` answers: the side read from has more rows when the page
        read one beyond its size; the other side has some when a cursor was given."""
        dialect = self.dialect
        more = f"EXISTS (SELECT 1 FROM {page} AS m WHERE m._rn > {limit})"
        first = "_rn = 1"
        last = f"_rn <= {limit} ORDER BY _rn DESC LIMIT 1"
        pairs: list[tuple[str, str]] = []
        for key, nodes in self.collect(info_type, selection_sets).items():
            name = nodes[0].name.value
            alias = self.alias()
            cursor = self.cursor(ordering, alias)
            if name == "__typename":
                pairs.append((key, dialect.text(info_type.name)))
            elif name in ("hasNextPage", "hasPreviousPage"):
                if (name == "hasNextPage") != backward:
                    pairs.append((key, dialect.boolean(more)))
                else:
                    pairs.append((key, dialect.literal_bool(has_cursor)))
            elif name in ("startCursor", "endCursor"):
                where = first if (name == "startCursor") != backward else last
                pairs.append((key, f"(SELECT {cursor} FROM {page} AS {alias} WHERE {where})"))
            else:
                raise Unsupported(f"{info_type.name}.{name}")
        return dialect.obj(pairs)

    # ------------------------------------------------------------ content types

    def content_object(
        self,
        kind: ContentType | _Part,
        named: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        alias: str,
        columns: set[str],
    ) -> str:
        """A JSON object of a declared type (or of a part of one) over the row
        `alias`; adds the columns it reads to `columns`."""
        if isinstance(kind, _Part):
            fields, parent, publishable = kind.field.parts, kind.parent, False
        else:
            assert kind.declaration is not None
            fields = kind.declaration.fields
            parent, publishable = kind.declaration.parent, kind.publishable
        dialect = self.dialect
        declared = {camel(item.name): item for item in fields if item.public}
        pairs: list[tuple[str, str]] = []
        for key, nodes in self.collect(named, selection_sets).items():
            name = nodes[0].name.value
            if (named.name, name) in ITEM_LISTS:
                pairs.append((key, self.item_list(named, name, nodes, key, alias, columns)))
                continue
            if nodes[0].arguments:
                raise Unsupported(f"{named.name}.{name} with arguments")
            item = declared.get(name)
            if name == "__typename":
                pairs.append((key, dialect.text(named.name)))
            elif name == "id":
                columns.add("id")
                pairs.append((key, dialect.global_id(named.name, f'{alias}."id"')))
            elif name == "revision" and "revision" in named.fields:
                columns.add("revision")
                pairs.append((key, f'{alias}."revision"'))
            elif name in ("publishedAt", "updatedAt") and publishable:
                column = "published_at" if name == "publishedAt" else "updated_at"
                columns.add(column)
                pairs.append((key, dialect.datetime(f'{alias}."{column}"')))
            elif name == "url" and "url" in named.fields and isinstance(kind, ContentType):
                pairs.append((key, self.url(kind, alias, columns)))
            elif (named.name, name) in _CHILDREN:
                _, target = self.field_type(named, name)
                columns.add("id")
                pairs.append((key, self.children(named.name, name, target, nodes, alias)))
            elif (named.name, name) == ("Tag", "newsCount"):
                columns.add("id")
                pairs.append((key, self.news_count(alias)))
            elif name == "readingTimeMinutes" and "readingTimeMinutes" in named.fields:
                body = next(item for item in fields if item.kind is Kind.RICH_TEXT)
                columns.add(body.columns[1])
                pairs.append((key, dialect.reading_time(f'{alias}."{body.columns[1]}"')))
            elif (named.name, name) == ("ActionPlan", "visitedEnterprises"):
                _, target = self.field_type(named, name)
                columns.add("id")
                pairs.append((key, self.visited_enterprises(target, nodes, alias)))
            elif item is not None and item.kind in _TEXT_KINDS:
                columns.add(item.column)
                pairs.append((key, f'{alias}."{item.column}"'))
            elif item is not None and item.kind is Kind.DATE:
                columns.add(item.column)
                pairs.append((key, dialect.date(f'{alias}."{item.column}"')))
            elif item is not None and item.kind is Kind.ENUM and item.enum is not None:
                # The API shows an enum by its member's name; the column holds its value.
                columns.add(item.column)
                cases = " ".join(
                    f"WHEN {dialect.text(member.value)} THEN {dialect.text(member.name)}"
                    for member in item.enum
                )
                pairs.append((key, f'(CASE {alias}."{item.column}" {cases} END)'))
            elif item is not None and item.kind in (Kind.REFERENCE, Kind.REGION):
                _, target = self.field_type(named, name)
                columns.add(item.column)
                pairs.append((key, self.referenced(item, target, nodes, alias)))
            elif item is not None and item.kind is Kind.RICH_TEXT:
                pairs.append((key, self.rich_text(named, name, nodes, item, alias, columns)))
            elif item is not None and item.kind in (Kind.TAGS, Kind.REFERENCES, Kind.REGIONS):
                _, target = self.field_type(named, name)
                columns.add("id")
                pairs.append((key, self.linked(parent, item, target, nodes, alias)))
            elif item is not None and item.kind is Kind.STRINGS:
                columns.add("id")
                pairs.append((key, self.strings(parent, item, alias)))
            elif item is not None and item.kind is Kind.PARTS:
                _, target = self.field_type(named, name)
                columns.add("id")
                pairs.append((key, self.parts(parent, item, target, nodes, alias)))
            elif item is not None and item.kind is Kind.GEO_POINT:
                columns.update(item.columns)
                pairs.append((key, self.geo_point(named, name, nodes, alias)))
            else:
                raise Unsupported(f"{named.name}.{name}")
        self.mark(pairs, named, alias, columns)
        return dialect.obj(pairs)

    def item_list(
        self,
        named: GraphQLObjectType,
        name: str,
        nodes: list[FieldNode],
        key: str,
        alias: str,
        columns: set[str],
    ) -> str:
        """A connection of an item (`Tag.news`, `Region.enterprises`...)."""
        definition, target = self.field_type(named, name)
        columns.add("id")
        listing = ITEM_LISTS[(named.name, name)]
        return self.connection(definition, target, nodes, key, listing, alias)

    def url(self, kind: ContentType, alias: str, columns: set[str]) -> str:
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in kind.name).lstrip("_")
        template = getattr(self.settings.url_templates, snake, None)
        if not isinstance(template, str) or template.count("{slug}") != 1:
            raise Unsupported(f"the URL of {kind.name}")
        # Slugs are transliterated Latin, digits and hyphens: quote() leaves them as
        # they are (cms/services/urls.py quotes them).
        head, tail = (
            template.replace("{slug}", "\x00").format(site=self.settings.site_url).split("\x00")
        )
        columns.add("slug")
        return f'{self.dialect.text(head)} || {alias}."slug" || {self.dialect.text(tail)}'

    def rich_text(
        self,
        parent: GraphQLObjectType,
        name: str,
        nodes: list[FieldNode],
        item: Field,
        alias: str,
        columns: set[str],
    ) -> str:
        _, rich = self.field_type(parent, name)
        html, text = item.columns
        pairs: list[tuple[str, str]] = []
        for key, subnodes in self.collect(rich, self.subselection(nodes)).items():
            sub = subnodes[0].name.value
            if sub == "__typename":
                pairs.append((key, self.dialect.text(rich.name)))
            elif sub in ("html", "text") and not subnodes[0].arguments:
                column = html if sub == "html" else text
                columns.add(column)
                pairs.append((key, f'{alias}."{column}"'))
            elif sub == "excerpt":
                columns.add(text)
                length = self.sources.mark(Arg(self.excerpt_length(rich, subnodes[0])))
                pairs.append((key, self.dialect.excerpt(f'{alias}."{text}"', length)))
            else:
                raise Unsupported(f"{rich.name}.{sub}")
        return self.dialect.obj(pairs)

    def excerpt_length(self, rich: GraphQLObjectType, node: FieldNode) -> str:
        """The name of the request's `length` of an excerpt; one out of the range that
        RichText.excerpt accepts falls back, for Strawberry to refuse it."""
        definition = rich.fields["excerpt"]
        name = f"excerpt.{self.alias()}"

        def bind(variables: Variables, args: dict[str, Any]) -> None:
            length = get_argument_values(definition, node, variables)["length"]
            if not 0 <= length <= MAX_EXCERPT_LENGTH:
                raise Fallback
            args[name] = length

        self.binders.append(bind)
        return name

    def linked(
        self,
        parent_field: str,
        item: Field,
        target: GraphQLObjectType,
        nodes: list[FieldNode],
        parent_alias: str,
    ) -> str:
        """A list through a link table in link order, visible rows only (as
        cms/services/batches.linked and the tags loader read it)."""
        link_model = getattr(models, item.link or "")
        child_field = (item.link_column or "").removesuffix("_id")
        alias = self.alias()
        columns: set[str] = set()
        if item.target == "MediaAsset":
            raise Unsupported("a list of MediaAsset")
        child_model, element = self.target_object(item, target, nodes, alias, columns, "a list of")
        sentinels = Sentinels()
        parent_id = sentinels.reference(f'{parent_alias}."id"')
        with rules_at(NOW), self.site(parent_alias):
            queryset = (
                link_model.filter(
                    visible_q(child_model, self.viewer, prefix=f"{child_field}__", via=link_model),
                    **{f"{parent_field}_id": parent_id},
                )
                .order_by("position", "id")
                .values(**{column: f"{child_field}__{column}" for column in sorted(columns)})
            )
            rows = queryset_sql(queryset, self.dialect.name, self.sources, sentinels)
        return self.dialect.nested(self.dialect.array(element, rows, alias))

    def children(
        self,
        type_name: str,
        name: str,
        target: GraphQLObjectType,
        nodes: list[FieldNode],
        parent_alias: str,
    ) -> str:
        """Rows pointing at the item by a foreign key, visible ones, in the order the
        loader reads them (cms/services/batches.children)."""
        model, parent_field, order = _CHILDREN[(type_name, name)]
        kind = CONTENT_TYPES[target.name]
        alias = self.alias()
        columns: set[str] = set()
        element = self.content_object(kind, target, self.subselection(nodes), alias, columns)
        sentinels = Sentinels()
        parent_id = sentinels.reference(f'{parent_alias}."id"')
        with rules_at(NOW), self.site(parent_alias):
            queryset = (
                visible(model, self.viewer)
                .filter(**{f"{parent_field}_id": parent_id})
                .order_by(*order)
                .values(*sorted(columns | {"id"}))
            )
            rows = queryset_sql(queryset, self.dialect.name, self.sources, sentinels)
        return self.dialect.nested(self.dialect.array(element, rows, alias))

    def parts(
        self,
        parent_field: str,
        item: Field,
        target: GraphQLObjectType,
        nodes: list[FieldNode],
        parent_alias: str,
    ) -> str:
        """The item's parts (plan items, quotes) in order; a part whose required
        reference is hidden is left out, as the loaders read them."""
        model = getattr(models, item.link or "")
        alias = self.alias()
        columns: set[str] = set()
        element = self.content_object(
            _Part(item, parent_field), target, self.subselection(nodes), alias, columns
        )
        sentinels = Sentinels()
        parent_id = sentinels.reference(f'{parent_alias}."id"')
        with rules_at(NOW), self.site(parent_alias):
            # Read as their loaders read them: plan items through their own visibility
            # (hidden with their plan), quotes by their person's only (quotes_of_news).
            rows_of = model.all() if model is models.Quote else visible(model, self.viewer)
            required = Q()
            for part in item.parts:
                if part.kind is Kind.REFERENCE and part.required:
                    referenced = CONTENT_TYPES.get(part.target or "")
                    if referenced is None:
                        raise Unsupported(f"a part referring to {part.target}")
                    required &= visible_q(referenced.model, self.viewer, prefix=f"{part.name}__")
            queryset = (
                rows_of.filter(required, **{f"{parent_field}_id": parent_id})
                .order_by("position", "id")
                .values(*sorted(columns | {"id"}))
            )
            rows = queryset_sql(queryset, self.dialect.name, self.sources, sentinels)
        return self.dialect.nested(self.dialect.array(element, rows, alias))

    def strings(self, parent_field: str, item: Field, parent_alias: str) -> str:
        """A list of short texts in order (industries), as its loader reads them."""
        model = getattr(models, item.link or "")
        column = item.link_column or ""
        alias = self.alias()
        sentinels = Sentinels()
        parent_id = sentinels.reference(f'{parent_alias}."id"')
        queryset = (
            model.filter(**{f"{parent_field}_id": parent_id})
            .order_by("position", "id")
            .values(column)
        )
        rows = queryset_sql(queryset, self.dialect.name, self.sources, sentinels)
        return self.dialect.nested(self.dialect.array(f'{alias}."{column}"', rows, alias))

    def visited_enterprises(
        self, target: GraphQLObjectType, nodes: list[FieldNode], parent_alias: str
    ) -> str:
        """Every enterprise of a plan's visits once, in the order first visited (as
        `visited_enterprises_of_plans` reads them)."""
        alias = self.alias()
        columns: set[str] = set()
        kind = CONTENT_TYPES["Enterprise"]
        element = self.content_object(kind, target, self.subselection(nodes), alias, columns)
        sentinels = Sentinels()
        plan_id = sentinels.reference(f'{parent_alias}."id"')
        viewer = self.viewer
        with rules_at(NOW), self.site(parent_alias):
            queryset = (
                models.VisitEnterprise.filter(
                    visible_q(models.Visit, viewer, prefix="visit__"),
                    visible_q(models.Enterprise, viewer, prefix="enterprise__"),
                    visit__action_plan_id=plan_id,
                )
                .order_by("visit__starts_on", "visit_id", "position", "id")
                .values(
                    _eid="enterprise_id",
                    **{column: f"enterprise__{column}" for column in sorted(columns)},
                )
            )
            rows = queryset_sql(queryset, self.dialect.name, self.sources, sentinels)
        picked = ", ".join(f'MIN(s."{column}") AS "{column}"' for column in sorted(columns))
        picked = f"{picked}, " if picked else ""
        first = (
            f"SELECT {picked}MIN(s._rn) AS _first FROM (SELECT v.*, ROW_NUMBER() OVER () AS _rn "
            f"FROM ({rows}) AS v) AS s GROUP BY s._eid ORDER BY _first"
        )
        if self.dialect.postgres:
            return (
                f"(SELECT COALESCE(json_agg({element} ORDER BY {alias}._first), '[]'::json) "
                f"FROM ({first}) AS {alias})"
            )
        return self.dialect.nested(self.dialect.array(element, first, alias))

    def geo_point(
        self, parent: GraphQLObjectType, name: str, nodes: list[FieldNode], alias: str
    ) -> str:
        _, point = self.field_type(parent, name)
        pairs: list[tuple[str, str]] = []
        for key, subnodes in self.collect(point, self.subselection(nodes)).items():
            sub = subnodes[0].name.value
            if sub == "__typename":
                pairs.append((key, self.dialect.text(point.name)))
            elif sub in ("lat", "lon"):
                column = "latitude" if sub == "lat" else "longitude"
                pairs.append((key, self.dialect.float(f'{alias}."{column}"')))
            else:
                raise Unsupported(f"{point.name}.{sub}")
        both = f'{alias}."latitude" IS NULL OR {alias}."longitude" IS NULL'
        return f"(CASE WHEN {both} THEN NULL ELSE {self.dialect.obj(pairs)} END)"

    def target_object(
        self,
        item: Field,
        target: GraphQLObjectType,
        nodes: list[FieldNode],
        alias: str,
        columns: set[str],
        what: str,
    ) -> tuple[Any, str]:
        """The model a field of `item` points at, and the JSON of one of its rows: a
        region, a media asset or a declared content type."""
        selection = self.subselection(nodes)
        if item.kind in (Kind.REGION, Kind.REGIONS):
            return models.Region, self.region_object(target, selection, alias, columns)
        if item.target == "MediaAsset":
            return models.MediaAsset, self.media_object(target, selection, alias, columns)
        kind = CONTENT_TYPES.get(item.target or "")
        if kind is None:
            raise Unsupported(f"{what} {item.target}")
        return kind.model, self.content_object(kind, target, selection, alias, columns)

    def referenced(
        self, item: Field, target: GraphQLObjectType, nodes: list[FieldNode], parent_alias: str
    ) -> str:
        """One item by a foreign key, null when absent or hidden (as the by-id loaders,
        cms/services/batches.by_ids, read it)."""
        alias = self.alias()
        columns: set[str] = set()
        model, element = self.target_object(item, target, nodes, alias, columns, "a reference to")
        sentinels = Sentinels()
        reference = sentinels.reference(f'{parent_alias}."{item.column}"')
        loads_when = f'{parent_alias}."{item.column}" IS NOT NULL'
        # Media reached from a row are recorded as its loader records them.
        uses = unrecorded_uses() if model is models.MediaAsset else nullcontext()
        with rules_at(NOW), self.site(parent_alias, loads_when), uses:
            queryset = visible(model, self.viewer).filter(id=reference)
            rows = queryset_sql(
                queryset.values(*sorted(columns | {"id"})),
                self.dialect.name,
                self.sources,
                sentinels,
            )
        return self.dialect.nested(f"SELECT {element} FROM ({rows}) AS {alias}")

    def media_object(
        self,
        named: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        alias: str,
        columns: set[str],
    ) -> str:
        """A media asset's plain fields and its URL (graphql_schema/media/types.py)."""
        pairs: list[tuple[str, str]] = []
        for key, nodes in self.collect(named, selection_sets).items():
            name = nodes[0].name.value
            if nodes[0].arguments:
                raise Unsupported(f"{named.name}.{name} with arguments")
            if name == "__typename":
                pairs.append((key, self.dialect.text(named.name)))
            elif name == "id":
                columns.add("id")
                pairs.append((key, self.dialect.global_id(named.name, f'{alias}."id"')))
            elif name == "url":
                head, tail = media_url(self.settings, "\x00").split("\x00")
                columns.add("storage_key")
                text = self.dialect.text
                pairs.append((key, f'{text(head)} || {alias}."storage_key" || {text(tail)}'))
            elif name in _MEDIA_COLUMNS:
                column = _MEDIA_COLUMNS[name]
                columns.add(column)
                pairs.append((key, f'{alias}."{column}"'))
            else:
                raise Unsupported(f"{named.name}.{name}")
        self.mark(pairs, named, alias, columns)
        return self.dialect.obj(pairs)

    def region_object(
        self,
        named: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        alias: str,
        columns: set[str],
    ) -> str:
        """Regions are reference data with a type of their own (content/types.py)."""
        pairs: list[tuple[str, str]] = []
        for key, nodes in self.collect(named, selection_sets).items():
            name = nodes[0].name.value
            if (named.name, name) in ITEM_LISTS:
                pairs.append((key, self.item_list(named, name, nodes, key, alias, columns)))
            elif name == "__typename":
                pairs.append((key, self.dialect.text(named.name)))
            elif name == "id":
                columns.add("id")
                pairs.append((key, self.dialect.global_id(named.name, f'{alias}."id"')))
            elif name in ("code", "name"):
                columns.add(name)
                pairs.append((key, f'{alias}."{name}"'))
            else:
                raise Unsupported(f"{named.name}.{name}")
        self.mark(pairs, named, alias, columns)
        return self.dialect.obj(pairs)


# Plain fields of a media asset and their columns (graphql_schema/media/types.py).
_MEDIA_COLUMNS = {
    "fileName": "file_name",
    "mimeType": "mime_type",
    "size": "size",
    "width": "width",
    "height": "height",
    "alt": "alt",
    "caption": "caption",
    "credit": "credit",
    "placeholder": "placeholder",
}

# Root fields that find one item by id or slug, and the type they find.
_LOOKUPS = {
    "newsItem": "News",
    "agreement": "Agreement",
    "actionPlan": "ActionPlan",
    "enterprise": "Enterprise",
    "tag": "Tag",  # by slug only
}


# The row alias of the root object, for sites read by the root's fields (`node`).
_ROOT = "root"


@dataclass(frozen=True, slots=True)
class _Site:
    """Rows read for a field of the objects at row alias `parent` (`_Builder.site`)."""

    parent: str
    loads_when: str | None  # SQL over the parent's row; None: always
    keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Part:
    """The parts of a declared type (plan items, quotes) as a type of their own."""

    field: Field
    parent: str


# Reverse relations: the rows that point at an item, with the model, the foreign key
# and the order their loaders read them in (graphql_schema/cooperation/dataloaders.py).
_CHILDREN: dict[tuple[str, str], tuple[Any, str, tuple[str, ...]]] = {
    ("Agreement", "actionPlans"): (models.ActionPlan, "agreement", ACTION_PLANS_ORDER),
    ("ActionPlan", "visits"): (models.Visit, "action_plan", VISITS_ORDER),
}


def _key_sentinel(sentinels: Sentinels, name: str, kind: str) -> Any:
    """The stand-in of a cursor's sort-key value."""
    if kind == "datetime":
        return sentinels.moment(name)
    if kind == "date":
        return sentinels.day(name)
    if kind == "int":
        return sentinels.integer(name)
    if kind == "str":
        return sentinels.text(name)
    raise Unsupported(f"a cursor over {kind}")


def build_plan(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: Variables,
    viewer: Viewer,
    settings: Settings,
    dialect: str,
    *,
    keyed: bool = False,
) -> Plan:
    """The plan of an operation for the shape of these variables (which of them are
    null, what the booleans are); raises Unsupported. A keyed plan's answer also says
    which surrogate keys it holds (`Plan.surrogate_keys`), for the response cache."""
    builder = _Builder(
        schema, operation, fragments, variables, viewer, settings, Dialect(dialect), keyed=keyed
    )
    # What the querysets record outside a site (the root fields') every answer records.
    with surrogate_keys.recording(builder.keys):
        data = builder.root()
    head = f"WITH {', '.join(builder.ctes)} " if builder.ctes else ""
    body = builder.dialect.result(data)
    checks = "".join(f", {check}" for check in builder.checks)
    text = f"{head}{body}{checks}"
    statement = Statement.bind(text, builder.sources, dialect)
    check_parses(statement.sql, dialect)
    return Plan(
        statement,
        tuple(builder.binders),
        len(builder.checks),
        keyed,
        frozenset(builder.keys),
        tuple(site.keys for site in builder.sites),
    )
