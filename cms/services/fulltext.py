"""Full-text search that understands Russian, on PostgreSQL and on SQLite.

One engine for the `search` root field and every `filter.search` of a list.

- PostgreSQL: each searchable table has a `search_vector tsvector` column, the
  fields weighted A (titles, names), B (leads, summaries) or C (bodies), kept by a
  BEFORE INSERT/UPDATE trigger, with a GIN index. Each term of a query goes through
  `websearch_to_tsquery('russian', …)` (it never raises on user input); ranked by
  `ts_rank_cd` with the weights of RANK_WEIGHTS.
- SQLite: each searchable table has an FTS5 table `<table>_fts` (rowid = the row's
  id, columns a, b, c by weight) over text stemmed by the Russian Snowball stemmer
  (PyStemmer, the algorithm of PostgreSQL's `russian` configuration), kept by
  triggers that call `cms_search_text()`, a function every SQLite connection of the
  app registers (cms/sqlite_engine.py). Queries are parsed here into an FTS5
  expression of stems (never the user's text: no FTS5 syntax error is possible),
  ranked by `cms_search_rank()`: the same column weights as PostgreSQL, and, like
  ts_rank_cd, no inverse document frequency (bm25() gives ~0 to every row of a small
  table whose rows mostly hold the word, so hits of different types could not be
  ranked together).

Both: case and ё/е folded, punctuation ignored, stop words dropped, "quoted
phrases", `-word` excluded, every word wanted (no `or`), word forms that Snowball
stems apart reach each other (Term.alternatives), and the last word also matches as
a prefix while typing (`косм` → «космодром»). Visibility is never decided here:
every statement takes the caller's rows from cms/services/visibility.py. Snippets
(highlights) are cut in Python from the items returned, by the same analysis on
both databases (rather than ts_headline and snippet(), which differ between them,
and of which ts_headline does not escape HTML): the text HTML-escaped, `<mark>`
around matched words.

Which fields of a type are searched, and with what weight, is read from the
model: its declaration (cms/models/declare.py, `searchable=SearchWeight.…`) sets
`search_weights`; feedback messages, which have no declaration, state theirs.

Typos: every word of the content's searched fields (folded, letters only, stop words
dropped) goes into a lexicon, `search_lexicon`, kept by triggers, with a trigram
index (pg_trgm's GIN on PostgreSQL, an FTS5 `trigram` table on SQLite). When a
search finds nothing, the words of the query that the lexicon does not hold are
replaced by the nearest words it holds (trigram similarity for the candidates, edit
distance to choose, the same in Python on both databases), and the corrected query
is offered ("Возможно, вы искали …") only if it finds something for the same caller:
a word of a draft never reaches a caller who may not see the draft. The lexicon
grows only (a word of a deleted item stays): that is what the check is for.

Feedback messages are indexed by the same engine (`feedback_q`): staff with
READ_FEEDBACK search them, names and contacts included; nobody else finds any.
Their words never enter the lexicon. On SQLite a new message is indexed after its
commit (INDEXED_LATER): its insert only notes its id, and `index_waiting` indexes
what waits in one transaction, before every search of feedback and every few
seconds in the background (`keep_indexed`), so a search still finds every message
committed before it.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import Stemmer
from tortoise import connections
from tortoise.expressions import Q, RawSQL
from tortoise.models import Model
from tortoise.transactions import in_transaction

from cms import db
from cms.errors import InvalidArgumentError
from cms.models.base import PublishableModel, fold_for_search
from cms.models.cooperation import ActionPlan, Agreement, Enterprise, Event, Organization, Person
from cms.models.feedback import FeedbackMessage
from cms.models.news import News, Tag
from cms.observability import report_unexpected
from cms.services.permissions import Action, allowed
from cms.services.viewer import Viewer
from cms.services.visibility import visible

# Searchable types by their GraphQL name (the names of ContentKind), in the order
# ties of equal score and time are broken.
SEARCH_MODELS: dict[str, type[Model]] = {
    "News": News,
    "Agreement": Agreement,
    "ActionPlan": ActionPlan,
    "Event": Event,
    "Enterprise": Enterprise,
    "Tag": Tag,
    "Organization": Organization,
    "Person": Person,
}

# Every indexed type: the searchable content, and feedback messages (staff only,
# through feedback_q; never in `search`, never in the lexicon).
INDEXED_MODELS: tuple[type[Model], ...] = (*SEARCH_MODELS.values(), FeedbackMessage)
# Types whose new rows SQLite indexes after the commit, in batches: feedback comes
# from the public form, and FTS5 writes a segment, its structure record and a row of
# sizes for every transaction that inserts: 8 pages of WAL per message instead of 2,
# and a tenth of a submission's CPU (bench/LADDER.md). Their insert trigger only
# notes the id in `<table>_fts_waiting`. (PostgreSQL computes the vector in the row
# itself: nothing waits there.)
INDEXED_LATER: tuple[type[Model], ...] = (FeedbackMessage,)
# How often the background indexes what waits (`keep_indexed`).
INDEX_LATER_SECONDS = 2.0
# Rows indexed per statement when catching up: the statements of a transaction run
# on the event loop's thread (cms/sqlite_engine.py).
INDEX_LATER_BATCH = 100

logger = logging.getLogger(__name__)
WEIGHT_CLASSES = ("A", "B", "C")
# The weights of A, B and C in the score: PostgreSQL's ts_rank_cd takes them as
# {D, C, B, A}; SQLite's cms_search_rank() (below) uses the same. Neither divides by
# how common a word is (bm25() does, and gives ~0 to every row of a table where a
# word is in most rows, such as the one agreement: hits of different types could
# not be ranked together).
RANK_WEIGHTS = (1.0, 0.4, 0.1)
_PG_WEIGHTS = "'{0.1, 0.1, 0.4, 1.0}'"

MAX_QUERY_LENGTH = 200
# A prefix shorter than this would match too many words to be useful.
MIN_PREFIX_LENGTH = 3
MIN_RESTEM_LENGTH = 5
DEFAULT_SNIPPET_LENGTH = 160
MAX_SNIPPET_LENGTH = 1000

# PostgreSQL's russian.stop (the Snowball project's list), so that both databases
# drop the same words.
_STOP_LIST = """и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по
    только ее мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже
    или ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей может
    они тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе
    под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой
    тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть
    после над больше тот через эти нас про всего них какая много разве три эту моя впрочем
    хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю
    между"""
STOP_WORDS = frozenset(_STOP_LIST.split())

_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[а-я]")

# ---------------------------------------------------------------- text analysis

# PyStemmer's stemmers are not thread-safe; SQLite calls cms_search_text() from the
# thread of its connection, so each thread has its own.
_stemmers = threading.local()


def _stemmer(language: str) -> Any:
    stemmer = getattr(_stemmers, language, None)
    if stemmer is None:
        stemmer = Stemmer.Stemmer(language)
        setattr(_stemmers, language, stemmer)
    return stemmer


def words(text: str) -> list[str]:
    """The folded words of a text (lower case, ё as е), punctuation dropped."""
    return _WORD.findall(fold_for_search(text))


def stem(word: str) -> str:
    """The stem of a folded word: Russian Snowball for Cyrillic, English otherwise
    (PostgreSQL's `russian` configuration stems ASCII words as English)."""
    language = "russian" if _CYRILLIC.search(word) else "english"
    stemmed: str = _stemmer(language).stemWord(word)
    return stemmed


def index_text(text: str | None) -> str:
    """What SQLite's FTS5 stores for a text: its stems, stop words dropped."""
    if not text:
        return ""
    return " ".join(stem(word) for word in words(text) if word not in STOP_WORDS)


def search_rank(a: str | None, b: str | None, c: str | None, stems: str, prefix: str) -> float:
    """SQLite's score of a matched row from its stemmed columns: each occurrence of a
    wanted token (or of a word beginning with the prefix) counts its column's weight.
    Counted by substring search (C speed): it runs for every matching row."""
    tokens = stems.split()
    within = [token for token in tokens if prefix and token.startswith(prefix)]
    score = 0.0
    for weight, text in zip(RANK_WEIGHTS, (a, b, c), strict=True):
        if not text:
            continue
        padded = f" {text} "
        found = sum(padded.count(f" {token} ") for token in tokens)
        if prefix:
            # Words that begin with the prefix, less those counted already.
            found += padded.count(f" {prefix}") - sum(padded.count(f" {t} ") for t in within)
        score += weight * found
    return score


# ---------------------------------------------------------------- fields


def _weights(model: type[Model]) -> dict[str, str]:
    declared: dict[str, str] = getattr(model, "search_weights", {})
    columns = model._meta.fields_db_projection
    return {name: str(weight) for name, weight in declared.items() if name in columns}


def search_fields(model: type[Model]) -> tuple[str, ...]:
    """The text columns a type is searched by, as its model declares them."""
    return tuple(_weights(model))


def weighted_fields(model: type[Model]) -> dict[str, list[str]]:
    """The model's searched columns grouped by weight class (A, B, C)."""
    groups: dict[str, list[str]] = {weight: [] for weight in WEIGHT_CLASSES}
    projection = model._meta.fields_db_projection
    for name, weight in _weights(model).items():
        groups[weight].append(projection[name])
    return groups


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class Term:
    """A word or a quoted phrase: its folded words and their stems (stop words
    dropped), excluded (`-word`) or wanted."""

    words: tuple[str, ...]
    stems: tuple[str, ...]
    negated: bool = False
    quoted: bool = False
    # The folded word, matched also as the beginning of a word (the last word typed).
    prefix: str | None = None

    @property
    def alternatives(self) -> tuple[str, ...]:
        """Index tokens a single word matches besides its stem: the word itself and
        its stem stemmed again. Snowball stems some forms apart («космодром» →
        «космодр», «космодроме» → «космодром», «космодрома» → «космодром»): each
        reaches the others through one of these."""
        if len(self.words) != 1 or not self.stems:
            return ()
        word, first = self.words[0], self.stems[0]
        again = stem(first)
        # A short stem of a stem reaches unrelated words («готов» → «гот»).
        options = (word, again) if len(again) >= MIN_RESTEM_LENGTH else (word,)
        return tuple(dict.fromkeys(t for t in options if t != first))

    def websearch(self) -> str:
        text = " ".join(self.words)
        if self.quoted or len(self.words) > 1:
            text = f'"{text}"'
        return f"-{text}" if self.negated else text


@dataclass(frozen=True)
class ParsedQuery:
    """Every wanted term AND none of the excluded ones. Words and stems hold only
    letters and digits, so that the texts made from them here can carry no syntax
    of FTS5 or SQL, whatever the user typed."""

    terms: tuple[Term, ...]

    @property
    def wanted(self) -> list[Term]:
        return [term for term in self.terms if not term.negated and (term.stems or term.prefix)]

    @property
    def excluded(self) -> list[Term]:
        return [term for term in self.terms if term.negated and term.stems]

    @property
    def searchable(self) -> bool:
        """Whether anything can match: a query of stop words or exclusions only
        matches nothing (on both databases)."""
        return bool(self.wanted)

    @property
    def tokens(self) -> frozenset[str]:
        """The index tokens wanted terms match (stems and alternatives)."""
        return frozenset(t for term in self.wanted for t in (*term.stems, *term.alternatives))

    @property
    def prefix(self) -> str | None:
        return next((term.prefix for term in self.terms if term.prefix), None)


# A "phrase" (an unbalanced quote runs to the end, as in websearch_to_tsquery), or
# anything up to a space or a quote.
_TOKEN = re.compile(r'(-?)"([^"]*)(?:"|$)|([^\s"]+)')


def parse_query(query: str, argument: str = "query") -> ParsedQuery:
    """Words (all wanted), "phrases", -exclusions; the last plain word also matches
    as a prefix. InvalidArgumentError for an empty or too long text."""
    text = " ".join(query.split())
    if not text:
        raise InvalidArgumentError(argument, "Строка поиска пуста: введите слово для поиска.")
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidArgumentError(argument, f"Строка поиска длиннее {MAX_QUERY_LENGTH} символов.")
    terms: list[Term] = []
    for match in _TOKEN.finditer(fold_for_search(text)):
        negated_mark, phrase, bare = match.groups()
        if bare is not None:
            negated, quoted, found = bare.startswith("-"), False, words(bare)
        else:
            negated, quoted, found = negated_mark == "-", True, words(phrase)
        # `or` is websearch's operator, which this search has not: not a word either.
        found = [word for word in found if word != "or"]
        if not found:
            continue
        if not quoted and not negated:
            # Words joined by punctuation (`NEAR(космодром`, `Алтай-Кузбасс`): each
            # is wanted, as websearch_to_tsquery reads them.
            for word in found:
                terms.append(Term((word,), (stem(word),) if word not in STOP_WORDS else ()))
            continue
        stems: tuple[str, ...] = tuple(stem(word) for word in found if word not in STOP_WORDS)
        terms.append(Term(tuple(found), stems, negated, quoted))
    last = terms[-1] if terms else None
    if (
        last is not None
        and not last.negated
        and not last.quoted
        and len(last.words) == 1
        and len(last.words[0]) >= MIN_PREFIX_LENGTH
    ):
        terms[-1] = Term(last.words, last.stems, prefix=last.words[0])
    return ParsedQuery(tuple(terms))


def _fts5_term(term: Term) -> str:
    # Stems, words and prefixes hold only letters and digits: quoted, each is a plain
    # FTS5 string. One quoted string of several stems is an FTS5 phrase (stop words
    # are not in the index, so the phrase's words are next to each other there).
    options = [f'"{" ".join(term.stems)}"'] if term.stems else []
    options += [f'"{token}"' for token in term.alternatives]
    if term.prefix:
        options.append(f'"{term.prefix}"*')
    return options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"


def fts5_expression(parsed: ParsedQuery) -> str:
    expression = " AND ".join(_fts5_term(term) for term in parsed.wanted)
    for term in parsed.excluded:
        expression = f"({expression}) NOT {_fts5_term(term)}"
    return expression


def _pg_term(term: Term, value: Callable[[str], str]) -> str:
    """A term as a tsquery; `value` turns a text into SQL (a parameter or a literal)."""
    options = [f"websearch_to_tsquery('russian', {value(term.websearch().lstrip('-'))})"]
    # The alternative tokens are stems already: the `simple` configuration (no
    # stemming, no stop words) matches them as they are, like the prefix.
    options += [f"to_tsquery('simple', {value(token)})" for token in term.alternatives]
    if term.prefix:
        options.append(f"to_tsquery('simple', {value(term.prefix + ':*')})")
    query = options[0] if len(options) == 1 else "(" + " || ".join(options) + ")"
    return f"!!{query}" if term.negated else query


def pg_tsquery(parsed: ParsedQuery, value: Callable[[str], str]) -> str:
    """The tsquery of a parsed query: every wanted term AND NOT every excluded one.
    Built from the terms' own words (letters and digits), each parsed by
    websearch_to_tsquery or to_tsquery('simple') of a single token: none can fail."""
    return "(" + " && ".join(_pg_term(t, value) for t in parsed.wanted + parsed.excluded) + ")"


def _literal(text: str) -> str:
    # Only for texts made by ParsedQuery (letters, digits, spaces, `"`, `-`, `*`,
    # parentheses): a quote cannot be among them; checked all the same.
    if "'" in text or "\\" in text:
        raise ValueError("a search text with a quote")
    return f"'{text}'"


# ---------------------------------------------------------------- hits


@dataclass(frozen=True)
class Highlight:
    field: str
    snippet: str  # HTML: escaped text with <mark> around matched words


@dataclass
class Hit:
    kind: str
    item: Model
    score: float
    highlights: list[Highlight] = field(default_factory=list)


@dataclass
class SearchPage:
    hits: list[Hit]
    offset: int
    has_next_page: bool
    count: Callable[[], Any]  # awaitable factory of the total number of hits
    # A corrected query that finds something, when this one found nothing.
    suggestion: str | None = None

    async def total_count(self) -> int:
        total: int = await self.count()
        return total


class _Statement:
    """Hand-written SQL with its parameters, in the placeholders of the dialect:
    numbered on PostgreSQL, positional (`?`, in order of appearance) on SQLite."""

    def __init__(self) -> None:
        self.postgres = db.dialect() == "postgres"
        self.params: list[Any] = []
        self.sql = ""

    def mark(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.postgres else "?"

    def visible_ids(self, model: type[Model], viewer: Viewer, row: str) -> str:
        """The ids of the caller's rows of `model`, as the visibility layer decides
        them: its query, with its own parameters, as a subquery. On SQLite it is tied
        to the matched row (`id = <row>`: one primary-key probe per match), as SQLite
        would otherwise list every visible id of the table for each search;
        PostgreSQL plans the plain subquery as a semi-join."""
        rows = visible(model, viewer)
        if not self.postgres:
            rows = rows.filter(id=RawSQL(row))
        ids = rows.values_list("id", flat=True)
        ids._choose_db_if_not_chosen()
        ids._make_query()
        sql, values = ids.query.get_parameterized_sql()
        if self.postgres:
            base = len(self.params)
            sql = _PG_MARK.sub(lambda m: f"${int(m.group(1)) + base}", sql)
        self.params.extend(values)
        return str(sql)


_PG_MARK = re.compile(r"\$(\d+)")


def _moment_column(model: type[Model]) -> str:
    return "published_at" if issubclass(model, PublishableModel) else "created_at"


def _kind_select(
    kind: str,
    viewer: Viewer,
    statement: _Statement,
    parsed: ParsedQuery,
    tsquery: str,
    *,
    scored: bool = True,
) -> str:
    """The hits of one kind: (kind, id, score, moment) of the caller's matching rows
    (a score of 0 when not `scored`: a count needs none)."""
    model = SEARCH_MODELS[kind]
    table = model._meta.db_table
    moment = f"t.{_moment_column(model)}"
    if statement.postgres:
        score = f"ts_rank_cd({_PG_WEIGHTS}, t.search_vector, {tsquery})" if scored else "0"
        return (
            f"SELECT '{kind}' AS kind, t.id AS id, {score} AS score, {moment} AS moment "
            f'FROM "{table}" t WHERE t.search_vector @@ {tsquery} '
            f"AND t.id IN ({statement.visible_ids(model, viewer, 't.id')})"
        )
    # Positional parameters: marked in the order they appear in the text.
    fts = f"{table}_fts"
    score = "0"
    if scored:
        stems = statement.mark(" ".join(sorted(parsed.tokens)))
        prefix = statement.mark(parsed.prefix or "")
        score = f"cms_search_rank({fts}.a, {fts}.b, {fts}.c, {stems}, {prefix})"
    match = statement.mark(fts5_expression(parsed))
    return (
        f"SELECT '{kind}' AS kind, t.id AS id, {score} AS score, {moment} AS moment "
        f'FROM {fts} JOIN "{table}" t ON t.id = {fts}.rowid '
        f"WHERE {fts} MATCH {match} AND t.id IN ({statement.visible_ids(model, viewer, 't.id')})"
    )


def _hits_sql(
    kinds: Sequence[str], viewer: Viewer, parsed: ParsedQuery, *, scored: bool = True
) -> _Statement:
    statement = _Statement()
    # Numbered parameters on PostgreSQL: the query's texts once, for every kind.
    tsquery = pg_tsquery(parsed, statement.mark) if statement.postgres else ""
    statement.sql = " UNION ALL ".join(
        _kind_select(kind, viewer, statement, parsed, tsquery, scored=scored) for kind in kinds
    )
    return statement


def _literal_query(parsed: ParsedQuery) -> tuple[str, str]:
    """(tsquery, FTS5 expression) with the query inlined (for a filter's subquery)."""
    if db.dialect() == "postgres":
        return pg_tsquery(parsed, _literal), ""
    return "", _literal(fts5_expression(parsed))


# Ties of equal score: newer first (drafts without a date last), then by type in the
# order of SEARCH_MODELS.
_KIND_ORDER = " ".join(f"WHEN '{kind}' THEN {i}" for i, kind in enumerate(SEARCH_MODELS))
_ORDER = f"ORDER BY score DESC, moment DESC NULLS LAST, CASE kind {_KIND_ORDER} END, id DESC"


async def search(
    viewer: Viewer,
    query: str,
    *,
    kinds: Sequence[str] | None = None,
    offset: int = 0,
    limit: int = 20,
    snippet_length: int = DEFAULT_SNIPPET_LENGTH,
    argument: str = "query",
) -> SearchPage:
    """One page of hits over the given kinds (all by default), best first; each hit
    a row the viewer may see, loaded through the visibility layer. One statement for
    the ranked page and the total, then one per kind on the page."""
    parsed = parse_query(query, argument)
    chosen = [kind for kind in SEARCH_MODELS if kinds is None or kind in kinds]
    if not parsed.searchable or not chosen:
        return SearchPage([], offset, False, _zero)
    statement = _hits_sql(chosen, viewer, parsed)
    union, params = statement.sql, statement.params
    connection = connections.get("default")
    page = f"LIMIT {int(limit) + 1} OFFSET {int(offset)}"
    # The total comes with the page (every match is ranked for the order anyway).
    total = "COUNT(*) OVER () AS total"
    sql = f"SELECT kind, id, score, {total} FROM ({union}) hits {_ORDER} {page}"
    _, rows = await connection.execute_query(sql, params)
    found = [(str(row["kind"]), int(row["id"]), float(row["score"])) for row in rows]
    has_next = len(found) > limit
    found = found[:limit]
    suggestion = await suggest(viewer, query, chosen) if not rows and offset == 0 else None
    items = await _load(viewer, found)
    hits = [
        Hit(kind, items[(kind, pk)], score, highlights(items[(kind, pk)], parsed, snippet_length))
        for kind, pk, score in found
        if (kind, pk) in items
    ]

    async def count() -> int:
        if rows:
            return int(rows[0]["total"])
        if offset == 0:
            return 0
        # A page past the end: counted on its own.
        counting = _hits_sql(chosen, viewer, parsed, scored=False)
        _, counted = await connection.execute_query(
            f"SELECT COUNT(*) AS n FROM ({counting.sql}) hits", counting.params
        )
        return int(counted[0]["n"])

    return SearchPage(hits, offset, has_next, count, suggestion)


async def _zero() -> int:
    return 0


async def _load(
    viewer: Viewer, found: Iterable[tuple[str, int, float]]
) -> dict[tuple[str, int], Model]:
    by_kind: dict[str, list[int]] = {}
    for kind, pk, _ in found:
        by_kind.setdefault(kind, []).append(pk)
    items: dict[tuple[str, int], Model] = {}
    for kind, ids in by_kind.items():
        for item in await visible(SEARCH_MODELS[kind], viewer).filter(id__in=ids):
            items[(kind, item.pk)] = item
    return items


# ---------------------------------------------------------------- filter.search


def matching_q(model: type[Model], search_text: str, argument: str) -> Q:
    """The rows of `model` that match `search_text`, for a list's `filter.search`
    (a blank text filters nothing, as before). The list applies visibility itself."""
    if not search_text.strip():
        return Q()
    parsed = parse_query(search_text, argument)
    if not parsed.searchable:
        return Q(id__in=[])
    table = model._meta.db_table
    tsquery, fts5 = _literal_query(parsed)
    if db.dialect() == "postgres":
        sql = f'SELECT id FROM "{table}" WHERE search_vector @@ {tsquery}'
    else:
        sql = f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH {fts5}"
    # (Tortoise puts a RawSQL after IN as it is: the parentheses are ours.)
    return Q(id__in=RawSQL(f"({sql})"))


def feedback_q(viewer: Viewer, search_text: str, argument: str) -> Q:
    """The feedback messages that match `search_text` (ticket, subject, text, and the
    sender's name and contacts) for staff with READ_FEEDBACK; none for anyone else,
    so that personal data is never found by who may not read it."""
    if not allowed(viewer, Action.READ_FEEDBACK):
        return Q(id__in=[])
    return matching_q(FeedbackMessage, search_text, argument)


# The name of the score of a row in a list ordered by relevance.
RELEVANCE_KEY = "search_score"


def relevance(model: type[Model], search_text: str, argument: str) -> RawSQL:
    """A row's score for `search_text`, as `search` ranks it (0 for a row that does
    not match), to order a filtered list by relevance. The query is inlined: its
    texts hold only letters and digits (see ParsedQuery)."""
    parsed = parse_query(search_text, argument)
    table = model._meta.db_table
    if db.dialect() == "postgres":
        tsquery = pg_tsquery(parsed, _literal)
        return RawSQL(f'ts_rank_cd({_PG_WEIGHTS}, "{table}".search_vector, {tsquery})')
    stems = _literal(" ".join(sorted(parsed.tokens)))
    prefix = _literal(parsed.prefix or "")
    fts = f"{table}_fts"
    return RawSQL(
        f"coalesce((SELECT cms_search_rank(a, b, c, {stems}, {prefix}) FROM {fts} "
        f'WHERE {fts}.rowid = "{table}"."id"), 0)'
    )


# ---------------------------------------------------------------- highlights


def _matches(word: str, stems: frozenset[str], prefix: str | None) -> bool:
    if prefix is not None and word.startswith(prefix):
        return True
    return word not in STOP_WORDS and stem(word) in stems


def highlight(text: str, parsed: ParsedQuery, length: int = DEFAULT_SNIPPET_LENGTH) -> str | None:
    """The part of `text` around its first matched word, at most about `length`
    characters, HTML-escaped with <mark> around every matched word; None when no
    word of the text matches."""
    stems = parsed.tokens
    prefix = parsed.prefix
    spans = [
        (m.start(), m.end())
        for m in _WORD.finditer(text)
        if _matches(fold_for_search(m.group()), stems, prefix)
    ]
    if not spans:
        return None
    start = 0
    if len(text) > length:
        # Some context before the first match, cut at a word boundary.
        start = max(0, spans[0][0] - length // 4)
        while start > 0 and not text[start - 1].isspace():
            start -= 1
    end = min(len(text), start + length)
    while end < len(text) and not text[end].isspace() and end - start < length + 30:
        end += 1
    parts: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for begin, finish in spans:
        if begin < start or finish > end:
            continue
        parts.append(html.escape(text[cursor:begin]))
        parts.append(f"<mark>{html.escape(text[begin:finish])}</mark>")
        cursor = finish
    parts.append(html.escape(text[cursor:end]))
    if end < len(text):
        parts.append("…")
    return "".join(parts)


def highlights(item: Model, parsed: ParsedQuery, length: int) -> list[Highlight]:
    found = []
    for name in search_fields(type(item)):
        value = getattr(item, name, None)
        if not isinstance(value, str) or not value:
            continue
        snippet = highlight(value, parsed, length)
        if snippet is not None:
            found.append(Highlight(name, snippet))
    return found


# ---------------------------------------------------------------- the index


def _pg_vector_sql(model: type[Model], row: str) -> str:
    parts = []
    for weight, columns in weighted_fields(model).items():
        for column in columns:
            # ё folded like the SQLite side (PostgreSQL's stemmer folds it only in
            # the words it stems); punctuation made a space, as SQLite's tokenizer
            # reads it, so that the parser sees no signed numbers («+74162550011»,
            # «2023-2025»), e-mails or hyphenated compounds: each part is a word.
            folded = f"replace(replace(coalesce({row}.\"{column}\", ''), 'ё', 'е'), 'Ё', 'Е')"
            text = f"regexp_replace({folded}, '[^[:alnum:]]+', ' ', 'g')"
            parts.append(f"setweight(to_tsvector('russian', {text}), '{weight}')")
    return " || ".join(parts) if parts else "''::tsvector"


def _sqlite_columns_sql(model: type[Model], row: str) -> list[str]:
    values = []
    for columns in weighted_fields(model).values():
        joined = " || ' ' || ".join(f"coalesce({row}.\"{c}\", '')" for c in columns)
        values.append(f"cms_search_text({joined})" if columns else "''")
    return values


def install_statements(
    dialect: str,
    models: Iterable[type[Model]] = tuple(SEARCH_MODELS.values()),
    indexed_later: Iterable[type[Model]] = INDEXED_LATER,
) -> list[str]:
    """Create (or re-create, with the current searched fields) what keeps the index
    of each of `models` (by default the content types that migration 0013 indexed),
    those of `indexed_later` after the commit on SQLite: run by the migrations and by
    `python -m cms reindex`."""
    later = tuple(indexed_later)
    statements: list[str] = []
    for model in models:
        table = model._meta.db_table
        projection = model._meta.fields_db_projection
        watched = ", ".join(f'"{projection[name]}"' for name in search_fields(model))
        if dialect == "postgres":
            statements += [
                f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS search_vector tsvector',
                f'CREATE INDEX IF NOT EXISTS "{table}_search_vector_idx" ON "{table}" '
                "USING GIN (search_vector)",
                f"CREATE OR REPLACE FUNCTION {table}_search_vector() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN NEW.search_vector := "
                f"{_pg_vector_sql(model, 'NEW')}; RETURN NEW; END $$",
                f'DROP TRIGGER IF EXISTS {table}_search_vector ON "{table}"',
                f"CREATE TRIGGER {table}_search_vector BEFORE INSERT OR UPDATE OF {watched} "
                f'ON "{table}" FOR EACH ROW EXECUTE FUNCTION {table}_search_vector()',
            ]
            continue
        a, b, c = _sqlite_columns_sql(model, "NEW")
        insert = f"INSERT INTO {table}_fts (rowid, a, b, c) VALUES (NEW.id, {a}, {b}, {c});"
        delete = f"DELETE FROM {table}_fts WHERE rowid = OLD.id;"
        on_insert = insert
        if model in later:
            # An update indexes the row at once (a waiting one is indexed again when
            # its turn comes: the same text); a deleted row stops waiting.
            on_insert = f"INSERT OR IGNORE INTO {table}_fts_waiting (id) VALUES (NEW.id);"
            delete += f" DELETE FROM {table}_fts_waiting WHERE id = OLD.id;"
            statements.append(
                f"CREATE TABLE IF NOT EXISTS {table}_fts_waiting (id INTEGER PRIMARY KEY)"
            )
        statements += [
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {table}_fts USING fts5(a, b, c, "
            "tokenize = 'unicode61 remove_diacritics 0')",
            f"DROP TRIGGER IF EXISTS {table}_fts_insert",
            f"DROP TRIGGER IF EXISTS {table}_fts_update",
            f"DROP TRIGGER IF EXISTS {table}_fts_delete",
            f'CREATE TRIGGER {table}_fts_insert AFTER INSERT ON "{table}" BEGIN {on_insert} END',
            f'CREATE TRIGGER {table}_fts_update AFTER UPDATE OF {watched}, id ON "{table}" '
            f"BEGIN DELETE FROM {table}_fts WHERE rowid = OLD.id; {insert} END",
            f'CREATE TRIGGER {table}_fts_delete AFTER DELETE ON "{table}" BEGIN {delete} END',
        ]
    return statements


def drop_statements(
    dialect: str, models: Iterable[type[Model]] = tuple(SEARCH_MODELS.values())
) -> list[str]:
    statements: list[str] = []
    for model in models:
        table = model._meta.db_table
        if dialect == "postgres":
            statements += [
                f'DROP TRIGGER IF EXISTS {table}_search_vector ON "{table}"',
                f"DROP FUNCTION IF EXISTS {table}_search_vector()",
                f'DROP INDEX IF EXISTS "{table}_search_vector_idx"',
                f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS search_vector',
            ]
        else:
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_fts_{event}"
                for event in ("insert", "update", "delete")
            ]
            statements.append(f"DROP TABLE IF EXISTS {table}_fts")
            if model in INDEXED_LATER:
                statements.append(f"DROP TABLE IF EXISTS {table}_fts_waiting")
    return statements


REINDEX_BATCH = 500


def rebuild_statements(dialect: str, model: type[Model], low: int, high: int) -> list[str]:
    """(Re)index the rows with low <= id < high."""
    table = model._meta.db_table
    where = f"id >= {int(low)} AND id < {int(high)}"
    if dialect == "postgres":
        return [
            f'UPDATE "{table}" t SET search_vector = {_pg_vector_sql(model, "t")} WHERE {where}'
        ]
    a, b, c = _sqlite_columns_sql(model, "t")
    statements = [
        f"DELETE FROM {table}_fts WHERE rowid >= {int(low)} AND rowid < {int(high)}",
        f'INSERT INTO {table}_fts (rowid, a, b, c) SELECT t.id, {a}, {b}, {c} FROM "{table}" t '
        f"WHERE t.{where}",
    ]
    if model in INDEXED_LATER:
        statements.append(f"DELETE FROM {table}_fts_waiting WHERE {where}")
    return statements


async def index_waiting(model: type[Model]) -> int:
    """Index the rows of `model` that wait for it (INDEXED_LATER, SQLite), in one
    transaction: after it, a search finds every row committed before it began.
    Returns how many were indexed; one cheap read when none waits."""
    if model not in INDEXED_LATER or db.dialect() != "sqlite":
        return 0
    table = model._meta.db_table
    waiting = f"{table}_fts_waiting"
    connection = connections.get("default")
    _, rows = await connection.execute_query(f"SELECT 1 FROM {waiting} LIMIT 1")
    if not rows:
        return 0
    a, b, c = _sqlite_columns_sql(model, "t")
    batch = f"SELECT id FROM {waiting} ORDER BY id LIMIT {INDEX_LATER_BATCH}"
    indexed = 0
    # The one writer (BEGIN IMMEDIATE): no row starts or stops waiting meanwhile.
    async with in_transaction() as transaction:
        while True:
            await transaction.execute_query(f"DELETE FROM {table}_fts WHERE rowid IN ({batch})")
            await transaction.execute_query(
                f"INSERT INTO {table}_fts (rowid, a, b, c) SELECT t.id, {a}, {b}, {c} "
                f'FROM "{table}" t WHERE t.id IN ({batch})'
            )
            removed, _ = await transaction.execute_query(
                f"DELETE FROM {waiting} WHERE id IN ({batch})"
            )
            indexed += removed
            if removed < INDEX_LATER_BATCH:
                return indexed


async def keep_indexed() -> None:
    """The background's part (cms/runtime.py): index what waits every
    INDEX_LATER_SECONDS, so that a search rarely has a backlog to index first."""
    if db.dialect() != "sqlite":
        return
    while True:
        await asyncio.sleep(INDEX_LATER_SECONDS)
        for model in INDEXED_LATER:
            try:
                await index_waiting(model)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                report_unexpected(error)
                logger.exception("search: indexing %s failed", model.__name__)


async def reindex(progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Re-create the index of every searchable type from its rows, in batches of ids
    (each in its own transaction), reporting (type, done, total)."""
    from tortoise.transactions import in_transaction

    dialect = db.dialect()
    connection = connections.get("default")
    for statement in install_statements(dialect, INDEXED_MODELS) + lexicon_statements(dialect):
        await connection.execute_script(statement)
    indexed: dict[str, int] = {}
    for model in INDEXED_MODELS:
        kind = model.__name__
        total = await model.all().count()
        ids = await db.flat_values(model.all().order_by("-id").limit(1), "id")
        top = int(ids[0]) if ids else 0
        for low in range(0, top + 1, REINDEX_BATCH):
            high = low + REINDEX_BATCH
            async with in_transaction() as transaction:
                for statement in rebuild_statements(dialect, model, low, high):
                    await transaction.execute_query(statement)
                if model in SEARCH_MODELS.values():
                    for statement in lexicon_fill_statements(dialect, model, low, high):
                        await transaction.execute_query(statement)
            done = await model.filter(id__lt=high).count()
            if progress is not None:
                progress(kind, min(done, total), total)
        if dialect == "sqlite":
            fts = f"{model._meta.db_table}_fts"
            await connection.execute_script(f"INSERT INTO {fts}({fts}) VALUES ('optimize')")
        indexed[kind] = total
    return indexed


# ---------------------------------------------------------------- the lexicon

LEXICON = "search_lexicon"
# A lexicon word: folded letters only (numbers and codes are not corrected).
_LEXICON_SPLIT = "[^0-9a-zа-я]+"
_LEXICON_WORD = re.compile(r"[a-zа-я]+")
MIN_LEXICON_WORD = 3
MAX_LEXICON_WORD = 40


def lexicon_words(text: str | None) -> list[str]:
    """The words of a text the lexicon holds, each once: the same on both databases
    (PostgreSQL splits with _LEXICON_SPLIT and keeps the same words)."""
    if not text:
        return []
    found = re.split(_LEXICON_SPLIT, fold_for_search(text))
    return list(
        dict.fromkeys(
            word
            for word in found
            if MIN_LEXICON_WORD <= len(word) <= MAX_LEXICON_WORD
            and _LEXICON_WORD.fullmatch(word)
            and word not in STOP_WORDS
        )
    )


def lexicon_json(text: str | None) -> str:
    """SQLite's cms_search_words(): the lexicon words of a text as a JSON array."""
    return json.dumps(lexicon_words(text), ensure_ascii=False)


def _pg_lexicon_select(model: type[Model], row: str) -> str:
    columns = [column for group in weighted_fields(model).values() for column in group]
    text = " || ' ' || ".join(f"coalesce({row}.\"{c}\", '')" for c in columns) or "''"
    stop = "{" + ",".join(sorted(STOP_WORDS)) + "}"
    # Sorted: two writers insert shared words in the same order (no deadlock).
    return (
        f"SELECT DISTINCT w FROM regexp_split_to_table(replace(lower({text}), 'ё', 'е'), "
        f"'{_LEXICON_SPLIT}') AS w WHERE length(w) BETWEEN {MIN_LEXICON_WORD} AND "
        f"{MAX_LEXICON_WORD} AND w ~ '^[a-zа-я]+$' AND w <> ALL ('{stop}'::text[]) ORDER BY w"
    )


def _sqlite_lexicon_insert(model: type[Model], row: str, source: str = "") -> str:
    columns = [column for group in weighted_fields(model).values() for column in group]
    text = " || ' ' || ".join(f"coalesce({row}.\"{c}\", '')" for c in columns) or "''"
    return (
        f"INSERT OR IGNORE INTO {LEXICON} (word) SELECT value FROM {source}"
        f"json_each(cms_search_words({text}))"
    )


def lexicon_statements(dialect: str) -> list[str]:
    """Create (or re-create) the lexicon and the triggers that add the words of every
    searchable content type to it: run by migration 0014 and by reindex."""
    statements: list[str] = []
    if dialect == "postgres":
        statements += [
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            f"CREATE TABLE IF NOT EXISTS {LEXICON} (word text PRIMARY KEY)",
            f"CREATE INDEX IF NOT EXISTS {LEXICON}_trigram_idx ON {LEXICON} "
            "USING GIN (word gin_trgm_ops)",
        ]
    else:
        statements += [
            f"CREATE TABLE IF NOT EXISTS {LEXICON} (word TEXT PRIMARY KEY)",
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {LEXICON}_trigrams USING fts5(word, "
            "tokenize = 'trigram')",
            f"CREATE TRIGGER IF NOT EXISTS {LEXICON}_insert AFTER INSERT ON {LEXICON} BEGIN "
            f"INSERT INTO {LEXICON}_trigrams (rowid, word) VALUES (NEW.rowid, NEW.word); END",
        ]
    for model in SEARCH_MODELS.values():
        table = model._meta.db_table
        projection = model._meta.fields_db_projection
        watched = ", ".join(f'"{projection[name]}"' for name in search_fields(model))
        if dialect == "postgres":
            statements += [
                f"CREATE OR REPLACE FUNCTION {table}_lexicon() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN INSERT INTO {LEXICON} (word) "
                f"{_pg_lexicon_select(model, 'NEW')} ON CONFLICT DO NOTHING; "
                "RETURN NULL; END $$",
                f'DROP TRIGGER IF EXISTS {table}_lexicon ON "{table}"',
                f"CREATE TRIGGER {table}_lexicon AFTER INSERT OR UPDATE OF {watched} "
                f'ON "{table}" FOR EACH ROW EXECUTE FUNCTION {table}_lexicon()',
            ]
            continue
        insert = _sqlite_lexicon_insert(model, "NEW")
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_lexicon_insert",
            f"DROP TRIGGER IF EXISTS {table}_lexicon_update",
            f'CREATE TRIGGER {table}_lexicon_insert AFTER INSERT ON "{table}" BEGIN {insert}; END',
            f'CREATE TRIGGER {table}_lexicon_update AFTER UPDATE OF {watched} ON "{table}" '
            f"BEGIN {insert}; END",
        ]
    return statements


def lexicon_fill_statements(dialect: str, model: type[Model], low: int, high: int) -> list[str]:
    """Add the words of the rows with low <= id < high to the lexicon."""
    table = model._meta.db_table
    where = f"t.id >= {int(low)} AND t.id < {int(high)}"
    if dialect == "postgres":
        select = _pg_lexicon_select(model, "t").replace(
            "SELECT DISTINCT w FROM ", f'SELECT DISTINCT w FROM "{table}" t, ', 1
        )
        select = select.replace(" ORDER BY w", f" AND {where} ORDER BY w")
        return [f"INSERT INTO {LEXICON} (word) {select} ON CONFLICT DO NOTHING"]
    return [f"{_sqlite_lexicon_insert(model, 't', f'{table} t, ')} WHERE {where}"]


def lexicon_drop_statements(dialect: str) -> list[str]:
    statements: list[str] = []
    for model in SEARCH_MODELS.values():
        table = model._meta.db_table
        if dialect == "postgres":
            statements += [
                f'DROP TRIGGER IF EXISTS {table}_lexicon ON "{table}"',
                f"DROP FUNCTION IF EXISTS {table}_lexicon()",
            ]
        else:
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_lexicon_insert",
                f"DROP TRIGGER IF EXISTS {table}_lexicon_update",
            ]
    if dialect == "postgres":
        statements.append(f"DROP TABLE IF EXISTS {LEXICON}")
    else:
        statements += [
            f"DROP TABLE IF EXISTS {LEXICON}_trigrams",
            f"DROP TABLE IF EXISTS {LEXICON}",
        ]
    return statements


# ---------------------------------------------------------------- suggestions

# pg_trgm's default similarity threshold (`%`), applied on both databases.
SIMILARITY_THRESHOLD = 0.3
MAX_CANDIDATES = 50
MAX_CORRECTED_WORDS = 3
MAX_SUGGESTION_TRIES = 3


def trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of a word: padded with two spaces before and one after."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(a: str, b: str) -> float:
    """pg_trgm's similarity(): shared trigrams over all trigrams of both."""
    first, second = trigrams(a), trigrams(b)
    return len(first & second) / len(first | second) if first | second else 0.0


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, 1):
        current = [i]
        for j, right in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left != right))
            )
        previous = current
    return previous[-1]


def _allowed_distance(word: str) -> int:
    return 1 if len(word) <= 5 else 2


async def _known(words_: Sequence[str]) -> set[str]:
    statement = _Statement()
    marks = ", ".join(statement.mark(word) for word in words_)
    rows = await connections.get("default").execute_query_dict(
        f"SELECT word FROM {LEXICON} WHERE word IN ({marks})", statement.params
    )
    return {str(row["word"]) for row in rows}


async def _candidates(word: str) -> list[str]:
    """Lexicon words like `word`, nearest first: trigram candidates from the index,
    chosen by edit distance (then similarity) in Python, the same on both databases."""
    statement = _Statement()
    shortest, longest = len(word) - 2, len(word) + 2
    if statement.postgres:
        sql = (
            f"SELECT word FROM {LEXICON} WHERE word % {statement.mark(word)} "
            f"AND length(word) BETWEEN {shortest} AND {longest} "
            f"ORDER BY similarity(word, {statement.mark(word)}) DESC, word LIMIT {MAX_CANDIDATES}"
        )
    else:
        # The trigram tokenizer matches substrings of three letters or more.
        inner = [t for t in trigrams(word) if " " not in t]
        if not inner:
            return []
        expression = " OR ".join(f'"{t}"' for t in sorted(inner))
        sql = (
            f"SELECT word FROM {LEXICON}_trigrams WHERE {LEXICON}_trigrams MATCH "
            f"{statement.mark(expression)} AND length(word) BETWEEN {shortest} AND {longest} "
            f"ORDER BY rank LIMIT {4 * MAX_CANDIDATES}"
        )
    rows = await connections.get("default").execute_query_dict(sql, statement.params)
    limit = _allowed_distance(word)
    scored = []
    for row in rows:
        candidate = str(row["word"])
        closeness = similarity(word, candidate)
        distance = edit_distance(word, candidate)
        # A candidate of the same stem is the same word in another form.
        if (
            closeness >= SIMILARITY_THRESHOLD
            and distance <= limit
            and stem(candidate) != stem(word)
        ):
            scored.append((distance, -closeness, candidate))
    return [candidate for _, _, candidate in sorted(scored)][:MAX_SUGGESTION_TRIES]


async def _finds_any(viewer: Viewer, kinds: Sequence[str], parsed: ParsedQuery) -> bool:
    statement = _hits_sql(kinds, viewer, parsed, scored=False)
    _, rows = await connections.get("default").execute_query(
        f"SELECT 1 AS found FROM ({statement.sql}) hits LIMIT 1", statement.params
    )
    return bool(rows)


def _replace_words(text: str, fixes: dict[str, str]) -> str:
    return re.sub("[0-9a-zа-я]+", lambda m: fixes.get(m.group(), m.group()), text)


async def suggest(viewer: Viewer, query: str, kinds: Sequence[str]) -> str | None:
    """A corrected query ("Возможно, вы искали …") for a query that found nothing:
    its words the lexicon lacks replaced by the nearest ones it holds, offered only if
    the corrected query finds something for this caller. Folded (lower case, ё as
    е); None when there is nothing better to offer."""
    parsed = parse_query(query)
    checked = list(
        dict.fromkeys(
            word
            for term in parsed.wanted
            for word in term.words
            if MIN_LEXICON_WORD <= len(word) <= MAX_LEXICON_WORD
            and _LEXICON_WORD.fullmatch(word)
            and word not in STOP_WORDS
        )
    )
    if not checked or not kinds:
        return None
    known = await _known(checked)
    unknown = [word for word in checked if word not in known][:MAX_CORRECTED_WORDS]
    options: dict[str, list[str]] = {}
    for word in unknown:
        found = await _candidates(word)
        if found:
            options[word] = found
    if not options:
        return None
    folded = fold_for_search(" ".join(query.split()))
    combinations = sorted(
        itertools.product(*options.values()),
        key=lambda chosen: sum(
            edit_distance(word, fix) for word, fix in zip(options, chosen, strict=True)
        ),
    )
    for chosen in combinations[:MAX_SUGGESTION_TRIES]:
        corrected = _replace_words(folded, dict(zip(options, chosen, strict=True)))
        try:
            fixed = parse_query(corrected)
        except InvalidArgumentError:  # grown past the longest query
            continue
        if fixed.searchable and await _finds_any(viewer, kinds, fixed):
            return corrected
    return None
