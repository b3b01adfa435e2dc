"""Documents for the differential test of the read compiler (tests/api/test_compiler.py
and bench/differential.py): every query document the suite holds that is cheap to
collect, and random ones over the subset the compiler supports."""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode, OperationType, parse

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
_TAG = ["id", "slug", "name", "revision", "__typename"]
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
        if self.random.random() < 0.05:
            parts.append("body { excerpt(length: 40) }")  # not compiled: the whole falls back
        self.random.shuffle(parts)
        return " ".join(parts)

    def document(self, cursor: str | None) -> Document:
        self.aliases = 0
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
            query = (
                "query Q($yes: Boolean!, $slug: String) { agreement(slug: $slug) { "
                f"{agreement} actionPlans {{ {plan} visits {{ enterprises {{ {enterprise} }} }} "
                "} } }"
            )
            variables["slug"] = AGREEMENT_SLUG
            return Document("generated", query, variables)
        if self.random.random() < 0.05:
            tag = self.random.choice(["sotrudnichestvo", "no-such-tag"])
            fields = " ".join(self.pick(_TAG))
            return Document("generated", f'{{ tag(slug: "{tag}") {{ {fields} }} }}', variables)
        if self.random.random() < 0.25:
            lookup = "slug: $slug" if self.random.random() < 0.8 else 'slug: "no-such-news"'
            variables["slug"] = NEWS_SLUG
            query = (
                f"query Q($yes: Boolean!, $slug: String) {{ newsItem({lookup}) {{ {node} }} "
                f"__typename }}{fragment}"
            )
            return Document("generated", query, variables)
        arguments = ["first: $first"]
        variables["first"] = self.random.choice([1, 2, 3, 5, 20, 100])
        if cursor is not None and self.random.random() < 0.4:
            arguments.append("after: $after")
            variables["after"] = cursor
        elif self.random.random() < 0.1:
            arguments.append('after: "not-a-cursor"')
        if self.random.random() < 0.3:
            arguments.append('filter: {tag: "sotrudnichestvo"}')
        if self.random.random() < 0.03:
            variables["first"] = 1000  # over the cap: an error, through Strawberry
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
        declared = "$yes: Boolean!, $first: Int" + (
            ", $after: String" if "after" in variables else ""
        )
        query = (
            f"query Q({declared}) {{ news({', '.join(arguments)}) {{ {' '.join(connection)} }} }}"
            f"{fragment}"
        )
        return Document("generated", query, variables)
