"""SQL text of a compiled read, per dialect, with its parameters named.

A statement is built as text holding markers (`\\x01<n>\\x01`) where values go;
each marker has a `Source`: a constant of the plan, the moment of the request, or a
value of the request's arguments. `Statement.bind` puts numbered placeholders
(`?n` on SQLite, `$n` on PostgreSQL) in the markers' places, once per plan, and the
values in that order, once per request.

Conditions of visibility, filters, keyset pages and counters are never written
here: they are Tortoise querysets built by the services that own them
(cms/services/visibility.py, news.py, pagination.py), turned into SQL by Tortoise
with marker values (`Sentinels`) that are then swapped for markers.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.queryset import AwaitableQuery

from cms.services.richtext import WORDS_PER_MINUTE

_MARK = "\x01"
# PostgreSQL functions take at most 100 arguments (SQLite's at most 127): a JSON
# object of more fields than this is left to Strawberry.
_MAX_PAIRS = 50
# What `str.split()` splits at, as the body of a PostgreSQL regular expression class.
_SPACE_CLASS = "".join(f"\\u{code:04x}" for code in range(0x10000) if chr(code).isspace())
# A word as Python's `str.split()` finds them: a run of anything but its spaces.
_WORD = f"[^{_SPACE_CLASS}]+"
_SPACES = f"[{_SPACE_CLASS}]+"
_MARKER = re.compile("\x01(\\d+)\x01")


@dataclass(frozen=True, slots=True)
class Const:
    value: Any


@dataclass(frozen=True, slots=True)
class Now:
    """The moment of the request, as visibility.py's conditions compare it: a
    datetime parameter, or (`text`) the literal it writes into raw SQL."""

    text: bool = False


@dataclass(frozen=True, slots=True)
class Arg:
    name: str  # a value the plan computes per request from the operation's arguments


Source = Const | Now | Arg


@dataclass
class Sources:
    """The markers of one statement being built."""

    items: list[Source] = field(default_factory=list)

    def mark(self, source: Source) -> str:
        self.items.append(source)
        return f"{_MARK}{len(self.items) - 1}{_MARK}"


# Values no request sends, put where the services' querysets take a value that the
# plan binds per request; each is recognised in Tortoise's parameters.
NOW = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
ID_SENTINEL = 1918273645  # - 1000 n: a parent's id, replaced by a reference to its row
INT_BASE = 1718293000  # + n: the n-th integer argument
# + n + "\x02": the n-th text argument (short: the services check that it fits a
# column, a region code of 16 characters among them).
TEXT_BASE = "\x02cms-"
DATETIME_BASE = datetime(1902, 3, 4, 5, 6, 7, tzinfo=UTC)  # + n microseconds
DATE_BASE = date(1903, 4, 5)  # + n days


@dataclass
class Sentinels:
    """Stand-ins for the per-request values of one statement."""

    values: dict[Any, Source | str] = field(default_factory=dict)

    def integer(self, name: str) -> int:
        value = INT_BASE + len(self.values)
        self.values[value] = Arg(name)
        return value

    def text(self, name: str) -> str:
        value = f"{TEXT_BASE}{len(self.values)}\x02"
        self.values[value] = Arg(name)
        return value

    def moment(self, name: str) -> datetime:
        value = DATETIME_BASE.replace(microsecond=len(self.values) + 1)
        self.values[value] = Arg(name)
        return value

    def day(self, name: str) -> date:
        value = DATE_BASE + timedelta(days=len(self.values))
        self.values[value] = Arg(name)
        return value

    def reference(self, sql: str) -> int:
        """An id whose place takes `sql` (a column of the enclosing row)."""
        value = ID_SENTINEL - 1000 * len(self.values)
        self.values[value] = sql
        return value


def queryset_sql(
    queryset: AwaitableQuery[Any], dialect: str, sources: Sources, sentinels: Sentinels
) -> str:
    """The queryset's SQL with its values as markers: sentinels become their sources
    (or the SQL they stand for), `visibility.NOW` the request's moment, anything else a
    constant of the plan."""
    queryset._choose_db_if_not_chosen()
    queryset._make_query()
    sql, params = queryset.query.get_parameterized_sql()
    now_literal = f"'{NOW.isoformat(sep=' ')}'"
    sql = sql.replace(now_literal, sources.mark(Now(text=True)))

    def source_of(value: Any) -> str:
        if isinstance(value, datetime) and value == NOW:
            return sources.mark(Now())
        if isinstance(value, int | str | date) and not isinstance(value, bool):
            found = sentinels.values.get(value)
            if isinstance(found, str):
                return found
            if found is not None:
                return sources.mark(found)
        return sources.mark(Const(value))

    if dialect == "postgres":
        return re.sub(r"\$(\d+)", lambda m: source_of(params[int(m.group(1)) - 1]), sql)
    pieces = sql.split("?")
    if len(pieces) != len(params) + 1:
        raise Unsupported("a question mark in the SQL text")
    out = [pieces[0]]
    for value, piece in zip(params, pieces[1:], strict=True):
        out.append(source_of(value))
        out.append(piece)
    return "".join(out)


def check_parses(sql: str, dialect: str) -> None:
    """SQLite's parser has a stack of fixed depth (YYSTACKDEPTH, 100): a statement
    nesting lists in lists deeply enough overflows it, whatever the tables. The text
    is parsed once here, with no schema: any error but that one is not this check's."""
    if dialect == "postgres":
        return
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(sql)
    except sqlite3.Error as error:
        if "parser stack overflow" in str(error):
            raise Unsupported("a statement too deep for SQLite's parser") from error
    finally:
        connection.close()


class Unsupported(Exception):  # noqa: N818 — a refusal to compile, not a failure
    """What the compiler does not handle: the operation runs through Strawberry."""


class Fallback(Exception):  # noqa: N818 — a decision, not a failure
    """This request's arguments need Strawberry (an error to report, a redirect)."""


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str  # with numbered placeholders
    sources: tuple[Source, ...]  # in placeholder order

    @staticmethod
    def bind(text: str, sources: Sources, dialect: str) -> Statement:
        order: list[Source] = []
        mark = "$" if dialect == "postgres" else "?"

        def place(match: re.Match[str]) -> str:
            source = sources.items[int(match.group(1))]
            if dialect == "postgres" and isinstance(source, Now):
                source = Now()  # a timestamptz parameter takes the datetime itself
            order.append(source)
            return f"{mark}{len(order)}"

        return Statement(_MARKER.sub(place, text), tuple(order))

    def values(self, args: Mapping[str, Any], now: Callable[[], datetime]) -> list[Any]:
        moment = now()
        out: list[Any] = []
        for source in self.sources:
            if isinstance(source, Const):
                out.append(source.value)
            elif isinstance(source, Now):
                out.append(moment.isoformat(sep=" ") if source.text else moment)
            else:
                out.append(args[source.name])
        return out


# ---------------------------------------------------------------- JSON per dialect


class Dialect:
    """How JSON is built in the database: json_object / json_group_array on SQLite
    (3.38 or newer), json_build_object / json_agg on PostgreSQL."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.postgres = name == "postgres"

    def obj(self, pairs: list[tuple[str, str]]) -> str:
        if len(pairs) > _MAX_PAIRS:
            raise Unsupported(f"an object of {len(pairs)} fields")
        function = "json_build_object" if self.postgres else "json_object"
        inner = ", ".join(f"'{key}', {value}" for key, value in pairs)
        return f"{function}({inner})"

    def nested(self, subquery: str) -> str:
        """A subquery's JSON as a value of an enclosing object."""
        return f"({subquery})" if self.postgres else f"json(({subquery}))"

    def array(self, element: str, source: str, alias: str) -> str:
        """A JSON array of `element` over the rows of `source`, in its order."""
        if self.postgres:
            return f"SELECT COALESCE(json_agg({element}), '[]'::json) FROM ({source}) AS {alias}"
        return f"SELECT json_group_array({element}) FROM ({source}) AS {alias}"

    def boolean(self, condition: str) -> str:
        if self.postgres:
            return f"({condition})"
        return f"(CASE WHEN {condition} THEN json('true') ELSE json('false') END)"

    def literal_bool(self, value: bool) -> str:
        word = "true" if value else "false"
        return word if self.postgres else f"json('{word}')"

    def text(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def datetime(self, column: str) -> str:
        """A timestamp as `datetime.isoformat()` writes it (the API's DateTime): UTC,
        microseconds only when there are some."""
        if not self.postgres:
            # Stored as the text of isoformat(sep=" ") in UTC (models/base.py).
            return f"replace({column}, ' ', 'T')"
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"CASE WHEN {column} IS NULL THEN NULL ELSE "
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            f"CASE WHEN date_part('microseconds', {utc})::bigint % 1000000 = 0 THEN '' "
            f"ELSE to_char({utc}, '.US') END || '+00:00' END"
        )

    def json_string(self, column: str) -> str:
        """A text as a JSON string, escaped as `json.dumps(ensure_ascii=False)` does."""
        return f"CAST(to_json({column}) AS text)" if self.postgres else f"json_quote({column})"

    def float(self, column: str) -> str:
        """A float as the API writes it (orjson: shortest form, `50.0` for a whole
        number); PostgreSQL's JSON writes a whole float8 without the `.0`."""
        if not self.postgres:
            return column
        return (
            f"(CASE WHEN {column} = trunc({column}) AND abs({column}) < 1e15 "
            f"THEN (trunc({column})::bigint::text || '.0')::json ELSE to_json({column}) END)"
        )

    def reading_time(self, column: str) -> str:
        """`richtext.reading_time_minutes` of a text column: its own function on
        SQLite; on PostgreSQL the words counted between exactly the characters
        Python's `str.split()` splits at (regexp_count: half the time of splitting
        the text into rows to count them)."""
        if not self.postgres:
            return f"cms_reading_time({column})"
        words = f"regexp_count({column}, '{_WORD}')"
        return f"GREATEST(1, CEIL({words} / {WORDS_PER_MINUTE}.0))::int"

    def excerpt(self, column: str, length: str) -> str:
        """`richtext.excerpt(text, length)` of a text column, `length` an integer
        parameter: its own function on SQLite; on PostgreSQL the same steps (spaces
        collapsed as `" ".join(text.split())`, the cut at the last space past half
        the length, the trailing punctuation trimmed, an ellipsis)."""
        if not self.postgres:
            return f"cms_excerpt({column}, {length})"
        flat = f"btrim(regexp_replace({column}, '{_SPACES}', ' ', 'g'), ' ')"
        before_space = "substring(e.cut from '^(.*) ')"
        return (
            "(SELECT CASE WHEN e.n <= 0 THEN '' "
            "WHEN char_length(e.flat) <= e.n THEN e.flat "
            f"ELSE rtrim(CASE WHEN char_length({before_space}) > e.n / 2 "
            f"THEN {before_space} ELSE e.cut END, ' ,;:—-') || '…' END "
            "FROM (SELECT d.n, d.flat, left(d.flat, d.n - 1) AS cut "
            f"FROM (SELECT {length}::int AS n, {flat} AS flat) AS d) AS e)"
        )

    def date(self, column: str) -> str:
        """A date as `date.isoformat()` writes it (SQLite stores that text). asyncpg
        sends `date.min` and `date.max` as -infinity and infinity, and reads them back
        (the sort key of undated events is `date.min`)."""
        if not self.postgres:
            return column
        return (
            f"(CASE WHEN {column} = '-infinity' THEN '0001-01-01' "
            f"WHEN {column} = 'infinity' THEN '9999-12-31' "
            f"ELSE to_char({column}, 'YYYY-MM-DD') END)"
        )

    def global_id(self, type_name: str, column: str) -> str:
        if not self.postgres:
            return f"cms_global_id('{type_name}', {column})"
        raw = f"convert_to('{type_name}:' || {column}, 'UTF8')"
        return f"translate(encode({raw}, 'base64'), E'+/\\n', '-_')"

    def base64url(self, text: str) -> str:
        if not self.postgres:
            return f"cms_base64url({text})"
        raw = f"convert_to({text}, 'UTF8')"
        return f"rtrim(translate(encode({raw}, 'base64'), E'+/\\n', '-_'), '=')"

    def result(self, expression: str) -> str:
        """The statement's one column: the JSON text."""
        return f"SELECT ({expression})::text" if self.postgres else f"SELECT {expression}"
