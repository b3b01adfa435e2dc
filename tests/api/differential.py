"""Documents for the differential test of the read compiler (tests/api/test_compiler.py
and bench/differential.py): every query document the suite holds that is cheap to
collect, and random ones over the subset the compiler supports."""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    OperationType,
    parse,
)

from cms import models
from cms.services.ids import encode_global_id
from tests.seed_content import AGREEMENT_SLUG, NEWS_SLUG

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Document:
    origin: str
    query: str
    variables: dict[str, Any]
    operation_name: str | None = None


_GUESSES: dict[str, Any] = {
    "first": 3,
    "slug": NEWS_SLUG,
    "tag": "sotrudnichestvo",
    "agreement": AGREEMENT_SLUG,
}


def _variables(operation: OperationDefinitionNode) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in _GUESSES:
            found[name] = _GUESSES[name]
    return found


def _queries_of(text: str, origin: str) -> list[Document]:
    try:
        document = parse(text)
    except Exception:
        return []
    operations = [
        node
        for node in document.definitions
        if isinstance(node, OperationDefinitionNode) and node.operation is OperationType.QUERY
    ]
    return [
        Document(
            origin,
            text,
            _variables(operation),
            operation.name.value if operation.name and len(operations) > 1 else None,
        )
        for operation in operations
    ]


_STRING = re.compile(r'"""(.*?)"""', re.S)
# One-line documents in calls: "{ news(first: 2) { ... } }", 'query($id: ID!) { ... }'.
_LINE = re.compile(r"""(?<![\w"'])(["'])((?:query\b|\{)[^"'\\\n]*)\1""")


def collected() -> list[Document]:
    """The bench's queries, GraphiQL's examples and the query documents of tests/api."""
    documents: list[Document] = []
    spec = importlib.util.spec_from_file_location("bench_harness", ROOT / "bench" / "harness.py")
    assert spec is not None
    assert spec.loader is not None
    harness = sys.modules.get("bench_harness") or importlib.util.module_from_spec(spec)
    if "bench_harness" not in sys.modules:
        sys.modules["bench_harness"] = harness  # its dataclasses look themselves up there
        spec.loader.exec_module(harness)
    for operation in harness.OPERATIONS.values():
        if not operation.mutation:
            documents.append(
                Document(f"bench:{operation.name}", operation.query, dict(operation.variables))
            )
    examples = (ROOT / "web" / "graphiql_default.graphql").read_text()
    documents += _queries_of(examples, "graphiql")
    for path in sorted((ROOT / "tests" / "api").glob("test_*.py")):
        source = path.read_text()
        texts = [match.group(1) for match in _STRING.finditer(source)]
        texts += [match.group(2) for match in _LINE.finditer(source)]
        for text in texts:
            if "{" in text and "mutation" not in text:
                documents += _queries_of(text, f"{path.name}")
    return documents


# ---------------------------------------------------------------- generated

_NEWS_SCALARS = [
    "id",
    "slug",
    "title",
    "lead",
    "seoTitle",
    "seoDescription",
    "publishedAt",
    "updatedAt",
    "revision",
    "url",
    "__typename",
]
_TAG = ["id", "slug", "name", "revision", "__typename", "newsCount"]
_REGION = ["id", "code", "name", "__typename"]
_EVENT = ["id", "slug", "title", "place", "startsOn", "endsOn", "__typename"]
_AGREEMENT = [
    "id",
    "slug",
    "title",
    "number",
    "url",
    "signedOn",
    "inForceSince",
    "agreementStatus",
    "parties { name kind region { code name } }",
    "__typename",
]
_VISIT = ["id", "title", "startsOn", "delegationRegion { name }", "organizer { name }"]


_MEDIA = ["id", "url", "fileName", "mimeType", "width", "alt", "__typename"]
_ENTERPRISE = [
    "id",
    "name",
    "locality",
    "industries",
    "location { lat lon }",
    "url",
    "kind",
    "region { code }",
    "__typename",
]
_PLAN = [
    "id",
    "title",
    "periodStart",
    "periodEnd",
    "url",
    "directions { name }",
    "signatories { fullName organization { name } }",
    "items { id title itemStatus dueOn direction { name } event { title } }",
    "visits { title organizer { name } delegationRegion { name } enterprises { name } }",
    "visitedEnterprises { name locality }",
    "agreement { title }",
]


class Generator:
    """Random documents over the compiled subset (and a little beyond it, which must
    then fall back): aliases, fragments, @include/@skip, first/after."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.aliases = 0
        self.cursors: dict[str, list[str]] = {}

    def pick(self, names: list[str], least: int = 1) -> list[str]:
        count = self.random.randint(least, len(names))
        return self.random.sample(names, count)

    def field(self, name: str, inner: str = "") -> str:
        text = name + (f" {{ {inner} }}" if inner else "")
        if self.random.random() < 0.15:
            self.aliases += 1
            text = f"a{self.aliases}: {text}"
        if self.random.random() < 0.1:
            text = text.replace(name, f"{name} @include(if: $yes)", 1) if ":" not in text else text
        if self.random.random() < 0.1:
            text = text.replace(name, f"{name} @skip(if: $yes)", 1) if ":" not in text else text
        return text

    def news_fields(self) -> str:
        parts = [self.field(name) for name in self.pick(_NEWS_SCALARS)]
        if self.random.random() < 0.5:
            parts.append(self.field("tags", " ".join(self.pick(_TAG))))
        if self.random.random() < 0.3:
            parts.append(self.field("regions", " ".join(self.pick(_REGION))))
        if self.random.random() < 0.2:
            parts.append(self.field("events", " ".join(self.pick(_EVENT))))
        if self.random.random() < 0.2:
            parts.append(self.field("agreements", " ".join(self.pick(_AGREEMENT))))
        if self.random.random() < 0.15:
            parts.append(self.field("quotes", "text person { fullName organization { name } }"))
        if self.random.random() < 0.2:
            parts.append(self.field("visit", " ".join(self.pick(_VISIT))))
        if self.random.random() < 0.2:
            parts.append(self.field("body", " ".join(self.pick(["html", "text", "__typename"]))))
        if self.random.random() < 0.1:
            parts.append(self.field("readingTimeMinutes"))
        if self.random.random() < 0.15:
            parts.append(self.field("cover", " ".join(self.pick(_MEDIA))))
        if self.random.random() < 0.1:
            # 0 and the cut's edge cases; -1 and 5001 are refused (the whole falls back).
            length = self.random.choice([0, 1, 2, 7, 40, 200, 5000, -1, 5001])
            excerpt = self.random.choice([f"excerpt(length: {length})", "excerpt"])
            parts.append(self.field("body", excerpt))
        if self.random.random() < 0.1:
            enterprises = self.nested("enterprises", "name locality", "enterprises")
            parts.append(self.field("regions", f"code {enterprises}"))
        if self.random.random() < 0.1:
            parts.append(self.field("visit", f"title {self.nested('news', 'slug', 'news')}"))
        self.random.shuffle(parts)
        return " ".join(parts)

    def nested(self, name: str, node: str, pool: str) -> str:
        """A connection of an item, from a cursor of the root list of the same order."""
        arguments = []
        if self.random.random() < 0.8:
            arguments.append(f"first: {self.random.choice([1, 1, 2, 3, 3, 0, 1000])}")
        found = self.cursors.get(pool) or []
        if found and self.random.random() < 0.4:
            arguments.append(f'after: "{self.random.choice(found)}"')
        elif self.random.random() < 0.05:
            arguments.append('after: "not-a-cursor"')
        return self.field(f"{name}{self.arguments(arguments)}", self.connection(node))

    def document(self, cursors: dict[str, list[str]]) -> Document:
        self.aliases = 0
        self.cursors = cursors
        fragment = ""
        node = self.news_fields()
        if self.random.random() < 0.3:
            fragment = f" fragment F on News {{ {self.news_fields()} }}"
            node += " ...F"
        if self.random.random() < 0.2:
            node += f" ... on Node {{ id }} ... on News {{ {self.news_fields()} }}"
        variables: dict[str, Any] = {"yes": self.random.random() < 0.5}
        if self.random.random() < 0.15:
            plan = " ".join(self.pick(_PLAN))
            enterprise = " ".join(self.pick(_ENTERPRISE))
            agreement = " ".join(self.pick(_AGREEMENT))
            if self.random.random() < 0.3:
                agreement += " " + self.nested("news", "slug", "news")
            body = (
                f"agreement(slug: $slug) {{ {agreement} actionPlans {{ {plan} "
                f"visits {{ enterprises {{ {enterprise} }} }} }} }}"
            )
            query = f"query Q{self.declarations(['$slug: String'], body)} {{ {body} }}"
            variables["slug"] = AGREEMENT_SLUG
            return Document("generated", query, variables)
        if self.random.random() < 0.05:
            tag = self.random.choice(["sotrudnichestvo", "no-such-tag"])
            fields = " ".join(self.pick(_TAG))
            if self.random.random() < 0.6:
                fields += " " + self.nested("news", "slug title publishedAt", "news")
            body = f'tag(slug: "{tag}") {{ {fields} }}'
            query = f"query Q{self.declarations([], body)} {{ {body} }}"
            return Document("generated", query, variables)
        if self.random.random() < 0.25:
            lookup = "slug: $slug" if self.random.random() < 0.8 else 'slug: "no-such-news"'
            body = f"newsItem({lookup}) {{ {node} }} __typename"
            declared = []
            if "$slug" in lookup:
                declared.append("$slug: String")
                variables["slug"] = NEWS_SLUG
            query = f"query Q{self.declarations(declared, body + fragment)} {{ {body} }}{fragment}"
            return Document("generated", query, variables)
        if self.random.random() < 0.1:
            return self.node_document(node, fragment, variables)
        if self.random.random() < 0.4:
            return self.list_document(cursors, variables)
        arguments, declared = self.page("news", cursors, variables)
        if self.random.random() < 0.5:
            chosen = self.random.choice(_NEWS_ARGUMENTS)
            arguments.append(chosen)
            if "$filter" in chosen:
                declared.append("$filter: NewsFilter")
                variables["filter"] = self.random.choice(
                    [
                        {"tag": "sotrudnichestvo"},
                        {"region": "RU-ALT"},
                        {"publishedAfter": "2024-01-01T03:00:00+03:00", "tag": "sotrudnichestvo"},
                        {"tag": " sotrudnichestvo"},
                    ]
                )
        body = f"news{self.arguments(arguments)} {{ {self.connection(node)} }}"
        query = f"query Q{self.declarations(declared, body + fragment)} {{ {body} }}{fragment}"
        return Document("generated", query, variables)

    def declarations(self, declared: list[str], body: str) -> str:
        """The variables' declarations: `$yes` only when used (unused ones are invalid)."""
        if "$yes" in body:
            declared = ["$yes: Boolean!", *declared]
        return f"({', '.join(declared)})" if declared else ""

    def arguments(self, arguments: list[str]) -> str:
        return f"({', '.join(arguments)})" if arguments else ""

    def connection(self, node: str) -> str:
        connection = []
        if self.random.random() < 0.6:
            connection.append(self.field("totalCount"))
        connection.append(
            self.field(
                "edges", f"{'cursor ' if self.random.random() < 0.5 else ''}node {{ {node} }}"
            )
        )
        if self.random.random() < 0.6:
            info = self.pick(
                ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]
            )
            connection.append(self.field("pageInfo", " ".join(info)))
        return " ".join(connection)

    def page(
        self, root: str, cursors: dict[str, list[str]], variables: dict[str, Any]
    ) -> tuple[list[str], list[str]]:
        """Page arguments, forward or backward, with cursors of this list (mostly),
        of another list or made up; and the declarations of their variables."""
        arguments: list[str] = []
        declared: list[str] = []
        size, cursor = ("last", "before") if self.random.random() < 0.35 else ("first", "after")
        if self.random.random() < 0.8:
            arguments.append(f"{size}: ${size}")
            declared.append(f"${size}: Int")
            variables[size] = self.random.choice([1, 2, 3, 5, 10, 20])
            if self.random.random() < 0.04:
                variables[size] = self.random.choice([1000, 0, -1])  # errors, or nothing
        own = cursors.get(root) or []
        others = [found for name, listed in cursors.items() if name != root for found in listed]
        roll = self.random.random()
        if own and roll < 0.5:
            arguments.append(f"{cursor}: ${cursor}")
            declared.append(f"${cursor}: String")
            variables[cursor] = self.random.choice(own)
        elif others and roll < 0.53:
            arguments.append(f"{cursor}: ${cursor}")
            declared.append(f"${cursor}: String")
            variables[cursor] = self.random.choice(others)
        elif roll < 0.6:
            arguments.append(f'{cursor}: "not-a-cursor"')
        if self.random.random() < 0.03:
            # Both sizes, or a size against the cursor's direction: errors.
            arguments = [argument for argument in arguments if not argument.startswith(size)]
            declared = [item for item in declared if not item.startswith(f"${size}")]
            arguments.append("first: 1, last: 1" if size == "last" else "last: 2")
        return arguments, declared

    def node_document(self, news: str, fragment: str, variables: dict[str, Any]) -> Document:
        """`node` by ids of every kind: visible, hidden or missing rows, types the
        compiler leaves to Strawberry (accounts, plan items), ids that do not parse."""
        kind = self.random.choice(_NODE_KINDS)
        variables["id"] = encode_global_id(kind, self.random.randint(1, 30)) if kind else "bm9wZQ"
        parts = ["id __typename", f"... on News {{ {news} }}"]
        for name, fields in _NODE_FRAGMENTS.items():
            if self.random.random() < 0.5:
                parts.append(f"... on {name} {{ {' '.join(self.pick(fields))} }}")
        if self.random.random() < 0.3:
            parts.append(f"... on Tag {{ {self.nested('news', 'slug', 'news')} }}")
        body = f"node(id: $id) {{ {' '.join(parts)} }}"
        query = f"query Q{self.declarations(['$id: ID!'], body + fragment)} {{ {body} }}{fragment}"
        return Document("generated", query, variables)

    def list_document(self, cursors: dict[str, list[str]], variables: dict[str, Any]) -> Document:
        root = self.random.choice(list(_LISTS))
        fields, extra = _LISTS[root]
        arguments, declared = self.page(root, cursors, variables)
        if extra and self.random.random() < 0.5:
            chosen = self.random.choice(extra)
            arguments.append(chosen)
            if "$agreement" in chosen:
                declared.append("$agreement: ID")
                variables["agreement"] = encode_global_id(
                    self.random.choice(["Agreement", "News"]), self.random.choice([1, 2, 99])
                )
        node = " ".join(self.field(name) for name in self.pick(fields))
        if root in ("tags", "agreements") and self.random.random() < 0.4:
            node += " " + self.nested("news", "slug tags { slug }", "news")
        body = f"{root}{self.arguments(arguments)} {{ {self.connection(node)} }}"
        query = f"query Q{self.declarations(declared, body)} {{ {body} }}"
        return Document("generated", query, variables)


# Connections of items (not root lists), by field name.
_ITEM_CONNECTIONS = frozenset({"news", "enterprises"})


def features(document: Document) -> set[str]:
    """What a document reads: its root fields (lists, lookups, `node`), backward pages
    (`last`), the connections of items; the differential test shows by them that each
    feature was answered, and keyed, by the compiler."""
    found: set[str] = set()
    parsed = parse(document.query)

    def walk(selections: Any, depth: int) -> None:
        for selection in selections:
            inner = getattr(selection, "selection_set", None)
            name = getattr(getattr(selection, "name", None), "value", None)
            if isinstance(selection, FieldNode):
                if depth == 0:
                    found.add(name or "")
                elif name in _ITEM_CONNECTIONS and inner is not None:
                    paged = {getattr(s.name, "value", "") for s in inner.selections}
                    if paged & {"edges", "totalCount", "pageInfo"}:
                        found.add(f"item {name}")
                if any(argument.name.value == "last" for argument in selection.arguments or ()):
                    found.add("last")
            elif isinstance(selection, FragmentSpreadNode):
                walk(fragments[selection.name.value].selection_set.selections, depth)
                continue
            if inner is not None:
                walk(inner.selections, depth + (1 if isinstance(selection, FieldNode) else 0))

    fragments = {
        definition.name.value: definition
        for definition in parsed.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    for definition in parsed.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walk(definition.selection_set.selections, 0)
    return found


# ---------------------------------------------------------------- content and lists


async def more_content() -> None:
    """Enough rows beyond the seed for lists to page: news with ties in their time (only
    the id breaks them), scheduled and draft ones, in a tag and a region; tags, events
    and enterprises whose sort keys tie or need escaping in a cursor."""
    tag = await models.Tag.get(slug="sotrudnichestvo")
    region = await models.Region.get(code="RU-ALT")
    agreement = await models.Agreement.get(slug=AGREEMENT_SLUG)
    visit = await models.Visit.first()
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(14):
        moment = base + timedelta(hours=i - (1 if i % 3 == 2 else 0))
        status = models.PublicationState.PUBLISHED
        if i == 11:
            moment = datetime(2100, 1, 1, tzinfo=UTC)  # scheduled, in the tag
        if i == 13:
            status = models.PublicationState.DRAFT
        news = await models.News.create(
            slug=f"differentsial-{i:02d}",
            title=f'Новость {i % 5} "{i}" \\ {i}',
            status=status,
            published_at=moment,
            visit=visit if i % 4 == 1 else None,
        )
        if i % 4 == 0:
            await models.NewsAgreement.create(news=news, agreement=agreement)
        if i % 2:
            await models.NewsTag.create(news=news, tag=tag)
        if i % 3:
            await models.NewsRegion.create(news=news, region=region)
    for i, name in enumerate(['Кавычки "и" \\', "Ёж", "ёж", "Ёж", "Zebra", "a\tb"]):
        await models.Tag.create(slug=f"differentsial-{i}", name=name)
    for i, starts_on in enumerate(
        [None, date(2030, 1, 1), date(2001, 1, 1), None, date(2001, 1, 1)]
    ):
        await models.Event.create(
            slug=f"differentsial-{i}", title=f"Событие {i}", starts_on=starts_on
        )
    for i in range(3):
        await models.Enterprise.create(
            slug=f"differentsial-{i}", name="Амурский ГХК", locality=" Свободный" if i else None
        )


# Root lists besides `news`, with fields of their nodes and filters (some not compiled:
# the whole document then falls back).
_LISTS: dict[str, tuple[list[str], list[str]]] = {
    "tags": (_TAG, ['search: "сотр"']),
    "agreements": (
        _AGREEMENT,
        [
            "filter: {agreementStatus: ACTIVE}",
            "filter: {agreementStatus: DRAFTING}",
            'filter: {region: "RU-AMU"}',
            'filter: {region: "RU-AMU ", agreementStatus: ACTIVE}',
            'filter: {search: "амур"}',
        ],
    ),
    "actionPlans": (_PLAN, ["agreement: $agreement", 'agreement: "bm9wZTox"']),
    "enterprises": (
        _ENTERPRISE,
        [
            'filter: {region: "RU-AMU"}',
            'filter: {region: "RU-ALT"}',
            'filter: {locality: "Благовещенск"}',
            'filter: {locality: " Свободный"}',
            'filter: {industry: "судостроение", region: "RU-AMU"}',
            'filter: {region: "RU-AMU-TOO-LONG-FOR-A-CODE"}',
            "filter: {within: {south: 0, west: 0, north: 90, east: 180}}",
        ],
    ),
    "events": (_EVENT, []),
}
# Types of node ids: public content, reference data, the staff's and nothing (None).
_NODE_KINDS = [
    "News",
    "News",
    "Tag",
    "Agreement",
    "ActionPlan",
    "Enterprise",
    "Event",
    "Region",
    "MediaAsset",
    "Person",
    "Visit",
    "User",
    "ActionPlanItem",
    None,
]
_NODE_FRAGMENTS = {
    "Tag": _TAG,
    "Region": _REGION,
    "Event": _EVENT,
    "Agreement": _AGREEMENT,
    "ActionPlan": _PLAN,
    "Enterprise": _ENTERPRISE,
    "MediaAsset": _MEDIA,
    "User": ["email"],
}
_NEWS_ARGUMENTS = [
    'filter: {tag: "sotrudnichestvo"}',
    'filter: {region: "RU-ALT"}',
    'filter: {region: "RU-ALT", tag: "sotrudnichestvo"}',
    'filter: {publishedAfter: "2024-01-01T05:00:00+03:00"}',
    'filter: {publishedBefore: "2024-01-01T06:00:00Z", tag: "sotrudnichestvo"}',
    'filter: {tag: "no-such-tag"}',
    'filter: {search: "амур"}',
    "orderBy: TITLE_ASC",
    "orderBy: PUBLISHED_AT_ASC",
    "orderBy: UPDATED_AT_DESC",
    'orderBy: TITLE_ASC, filter: {tag: "sotrudnichestvo"}',
    "filter: $filter",
]
