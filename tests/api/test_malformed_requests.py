"""No request can make the API answer 5xx: the whole class of malformed requests,
generated, gets a 4xx (or, for a document that reaches GraphQL, a 200 with a coded
error) in one shape, {"errors": [{"message": "<Russian>", "extensions": {"code"}}]},
in development (response cache off) and in production (response cache and fast
lane on)."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

from tests.conftest import GraphQLClient, TestDatabase, make_settings, use_api_token

CYRILLIC = re.compile("[А-Яа-яЁё]")
QUERY = "{ news(first: 1) { totalCount } }"
INT_QUERY = "query($n: Int) { news(first: $n) { totalCount } }"
SEARCH_QUERY = "query($s: String) { news(filter: {search: $s}) { totalCount } }"


@dataclass(frozen=True)
class Case:
    name: str
    method: str = "POST"
    body: bytes | None = None
    content_type: str | None = "application/json"
    query_string: str = ""
    path: str = "/graphql"
    headers: dict[str, str] = field(default_factory=dict)
    # Statuses the request may get; 200 only for documents answered by GraphQL itself.
    statuses: tuple[int, ...] = (400,)
    codes: tuple[str, ...] = ("BAD_REQUEST",)


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _nested(kind: str, levels: int) -> bytes:
    if kind == "array":
        return b"[" * levels + b"]" * levels
    return b'{"a":' * levels + b"1" + b"}" * levels


def _cases() -> Iterator[Case]:
    # Any JSON value but an object, as the whole body.
    for value in (b"null", b"123", b"-1.5e3", b'"x"', b"true", b"false", b"[]", b"{}", b"[[]]"):
        codes = ("BATCHING_NOT_SUPPORTED",) if value.startswith(b"[") else ("BAD_REQUEST",)
        yield Case(f"body {value.decode()}", body=value, codes=codes)
    yield Case(
        "a batch",
        body=_json([{"query": QUERY}, {"query": QUERY}]),
        codes=("BATCHING_NOT_SUPPORTED",),
    )
    # Every member with every wrong type.
    wrong: dict[str, list[Any]] = {
        "query": [123, 1.5, True, [], {}, [QUERY]],
        "variables": [123, "x", True, [], [{}], '{"n": 1}'],
        "operationName": [123, True, [], {}],
        "extensions": [123, "x", True, []],
    }
    for member, values in wrong.items():
        for value in values:
            body = {"query": QUERY, member: value}
            yield Case(f"{member}={value!r}", body=_json(body))
    # Persisted queries that cannot be: wrong version, wrong hash, a hash of another text.
    for persisted in (
        {"version": 2, "sha256Hash": "0" * 64},
        {"version": 1, "sha256Hash": 123},
        {"version": 1, "sha256Hash": "not a hash!"},
        "x",
        [],
    ):
        yield Case(
            f"persistedQuery={persisted!r}",
            body=_json({"extensions": {"persistedQuery": persisted}}),
            codes=("BAD_USER_INPUT",),
        )
    yield Case(
        "persisted hash mismatch",
        body=_json(
            {
                "query": QUERY,
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}},
            }
        ),
        codes=("PERSISTED_QUERY_HASH_MISMATCH",),
    )
    # Broken JSON: escapes, surrogates, bytes that are not UTF-8, numbers beyond a double.
    for label, raw in (
        ("invalid escape", rb'{"query": "\x"}'),
        ("short unicode escape", rb'{"query": "\u12"}'),
        ("lone high surrogate ud800", rb'{"query": "\ud800"}'),
        ("lone low surrogate udc00", rb'{"query": "{ news { totalCount } }\udc00"}'),
        ("high surrogate before a letter", rb'{"query": "\ud800\u0041"}'),
        ("bytes not UTF-8", b'{"query": "\xff\xfe"}'),
        ("UTF-8 of a surrogate", b'{"query": "\xed\xa0\x80"}'),
        ("number 1e400", b'{"query": "' + QUERY.encode() + b'", "variables": {"n": 1e400}}'),
        ("number -1e999", b'{"query": "' + QUERY.encode() + b'", "variables": {"n": -1e999}}'),
        ("NaN", b'{"query": NaN}'),
        ("Infinity", b'{"query": Infinity}'),
        ("trailing comma", b'{"query": "x",}'),
        ("unterminated", b'{"query": "x"'),
        ("single quotes", b"{'query': 'x'}"),
        ("a NUL byte", b"\x00"),
        ("a byte order mark", b"\xef\xbb\xbf{}"),
    ):
        yield Case(f"broken JSON: {label}", body=raw)
    # Very deep variables and extensions.
    for kind, levels in itertools.product(("array", "object"), (65, 300, 2000, 100_000)):
        for member in ("variables", "extensions"):
            body = b'{"query": "' + QUERY.encode() + b'", "' + member.encode() + b'": {"a": '
            yield Case(f"{member} {kind} x{levels}", body=body + _nested(kind, levels) + b"}}")
    # Empty bodies and odd content types.
    for body in (b"", b" ", b"\n\t"):
        yield Case(f"empty body {body!r}", body=body)
    yield Case(
        "no content type",
        body=_json({"query": QUERY}),
        content_type=None,
        statuses=(415,),
        codes=("UNSUPPORTED_MEDIA_TYPE",),
    )
    for content_type in (
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "application/graphql",
        "application/jsonx",
        "application/xml",
        "image/png",
        "*/*",
        ";;;",
        "application/json\x7f",
    ):
        yield Case(
            f"content type {content_type!r}",
            body=_json({"query": QUERY}),
            content_type=content_type,
            statuses=(415,),
            codes=("UNSUPPORTED_MEDIA_TYPE",),
        )
    yield Case(
        "multipart without the CSRF header",
        body=b"--x\r\n\r\n--x--\r\n",
        content_type="multipart/form-data; boundary=x",
        codes=("CSRF_HEADER_REQUIRED",),
    )
    yield Case(
        "multipart from an anonymous caller",
        body=b"--x\r\n\r\n--x--\r\n",
        content_type="multipart/form-data",
        headers={"graphql-require-preflight": "1"},
        statuses=(401,),
        codes=("UNAUTHENTICATED",),
    )
    # Documents: none, several operations without a name, a name that is not there.
    yield Case("no query", body=_json({"variables": {}}))
    yield Case("an empty query", body=_json({"query": ""}))
    two = "query A { news { totalCount } } query B { tags { totalCount } }"
    yield Case(
        "two operations, no name", body=_json({"query": two}), codes=("GRAPHQL_VALIDATION_FAILED",)
    )
    yield Case(
        "an unknown operation name",
        body=_json({"query": two, "operationName": "C"}),
        codes=("GRAPHQL_VALIDATION_FAILED",),
    )
    yield Case(
        "only a fragment",
        body=_json({"query": "fragment F on Query { __typename }"}),
        codes=("GRAPHQL_VALIDATION_FAILED",),
    )
    # Documents that GraphQL refuses itself: 200 with a coded error.
    graphql_refusals: list[tuple[str, dict[str, Any], str]] = [
        ("syntax", {"query": "{ news("}, "GRAPHQL_PARSE_FAILED"),
        ("NUL in the document", {"query": "{ news\x00 { totalCount } }"}, "GRAPHQL_PARSE_FAILED"),
        ("unknown field", {"query": "{ nonsense }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            "huge Int variable",
            {"query": INT_QUERY, "variables": {"n": 12345678901234567890}},
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "float Int variable",
            {"query": INT_QUERY, "variables": {"n": 1e308}},
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "string Int variable",
            {"query": INT_QUERY, "variables": {"n": "ten"}},
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "object Int variable",
            {"query": INT_QUERY, "variables": {"n": {"a": [1]}}},
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "list String variable",
            {"query": SEARCH_QUERY, "variables": {"s": [[["x"]]]}},
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ]
    # Documents nested or repeated beyond the limits, in every place a document nests.
    deep_list = "{ news(filter: {search: " + "[" * 50_000 + "]" * 50_000 + "}) { totalCount } }"
    deep_object = "{ news(filter: " + "{a: " * 20_000 + "1" + "}" * 20_000 + ") { totalCount } }"
    deep_selection = "{ " + "news { " * 3_000 + "}" * 3_000 + " }"
    directives = "{ __typename " + "@skip(if: false) " * 5_000 + "}"
    for name, query in (
        ("a list literal 50000 deep", deep_list),
        ("an object literal 20000 deep", deep_object),
        ("selections 3000 deep", deep_selection),
        ("5000 directives", directives),
    ):
        graphql_refusals.append((name, {"query": query}, "LIMIT_EXCEEDED"))
    for name, body, code in graphql_refusals:
        yield Case(name, body=_json(body), statuses=(200,), codes=(code,))
    # GET query strings.
    for query_string, statuses, codes in (
        ("variables=notjson&query=" + quote(QUERY), (400,), ("BAD_REQUEST",)),
        ("variables=%5B%5D&query=" + quote(QUERY), (400,), ("BAD_REQUEST",)),
        ("variables=123&query=" + quote(QUERY), (400,), ("BAD_REQUEST",)),
        ("variables=%22%5Cud800%22&query=" + quote(QUERY), (400,), ("BAD_REQUEST",)),
        ("extensions=x&query=" + quote(QUERY), (400,), ("BAD_REQUEST",)),
        ("extensions=%7B%22persistedQuery%22%3A1%7D", (400,), ("BAD_USER_INPUT",)),
        ("query=", (400,), ("BAD_REQUEST",)),
        ("query=%ZZ%", (200,), ("GRAPHQL_PARSE_FAILED",)),
        ("query=%ED%A0%80", (200,), ("GRAPHQL_PARSE_FAILED",)),
        ("query=%00", (200,), ("GRAPHQL_PARSE_FAILED",)),
        ("query=" + quote(two), (400,), ("GRAPHQL_VALIDATION_FAILED",)),
        ("query=" + quote("mutation { logout }"), (405,), ("METHOD_NOT_ALLOWED",)),
        (
            "operationName=A&query=" + quote("mutation A { logout }"),
            (405,),
            ("METHOD_NOT_ALLOWED",),
        ),
        (
            "variables=" + quote("[" * 5000 + "]" * 5000) + "&query=" + quote(QUERY),
            (400,),
            ("BAD_REQUEST",),
        ),
        ("&&&=&==", (400,), ("BAD_REQUEST",)),
    ):
        yield Case(
            f"GET ?{query_string[:50]}",
            method="GET",
            body=None,
            content_type=None,
            query_string=query_string,
            headers={"accept": "application/json"},
            statuses=statuses,
            codes=codes,
        )
    # Methods and routes that do not exist.
    for method in ("PUT", "DELETE", "PATCH"):
        yield Case(
            f"{method} /graphql",
            method=method,
            body=_json({"query": QUERY}),
            statuses=(405,),
            codes=("METHOD_NOT_ALLOWED",),
        )
    yield Case(
        "unknown route",
        path="/nowhere",
        statuses=(404,),
        codes=("NOT_FOUND",),
        method="GET",
        body=None,
    )
    yield Case(
        "GET /media",
        path="/media",
        method="GET",
        body=None,
        statuses=(405,),
        codes=("METHOD_NOT_ALLOWED",),
    )
    yield Case(
        "too large",
        body=b'{"query": "' + b"x" * 1_100_000 + b'"}',
        statuses=(413,),
        codes=("PAYLOAD_TOO_LARGE",),
    )
    yield Case(
        "a bad token",
        body=_json({"query": QUERY}),
        headers={"authorization": "Bearer nope"},
        statuses=(401,),
        codes=("UNAUTHENTICATED",),
    )


CASES = list(_cases())


@pytest.fixture(
    scope="module",
    params=[
        pytest.param({"CMS_ENV": "development", "CMS_RESPONSE_CACHE": "off"}, id="development"),
        pytest.param({"CMS_ENV": "production", "CMS_RESPONSE_CACHE": "on"}, id="production"),
    ],
)
async def http(
    request: pytest.FixtureRequest, seeded_db: TestDatabase
) -> AsyncIterator[httpx.AsyncClient]:
    from web.app import create_app

    settings = make_settings(seeded_db.url, CMS_RATE_LIMIT_ANONYMOUS="1000000/60", **request.param)
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.runtime.close()


def assert_one_shape(response: httpx.Response, case: Case) -> None:
    assert response.status_code < 500, (case.name, response.status_code, response.text[:300])
    assert response.status_code in case.statuses, (
        case.name,
        response.status_code,
        response.text[:300],
    )
    assert response.headers["content-type"].startswith("application/json"), case.name
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) <= {"data", "errors", "extensions"}, body
    (error, *_) = body["errors"]
    assert isinstance(error["message"], str)
    assert CYRILLIC.search(error["message"]), (case.name, error["message"])
    assert error["extensions"]["code"] in case.codes, (case.name, error)
    assert "Traceback" not in response.text


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_malformed_requests_get_a_coded_russian_error_never_a_5xx(
    http: httpx.AsyncClient, case: Case
) -> None:
    headers = dict(case.headers)
    if case.content_type is not None:
        headers["content-type"] = case.content_type
    url = case.path + ("?" + case.query_string if case.query_string else "")
    response = await http.request(case.method, url, content=case.body, headers=headers)
    assert_one_shape(response, case)
    # The same bytes again: the fast lane's memo of what they parse to answers the same.
    again = await http.request(case.method, url, content=case.body, headers=headers)
    assert (again.status_code, again.json()["errors"][0]["extensions"]["code"]) == (
        response.status_code,
        response.json()["errors"][0]["extensions"]["code"],
    )


async def test_the_case_generator_covers_every_kind(http: httpx.AsyncClient) -> None:
    names = " ".join(case.name for case in CASES)
    for kind in (
        "body null",
        "body 123",
        'body "x"',
        "body true",
        "query=123",
        "variables='{\"n\": 1}'",
        "operationName=123",
        "extensions=123",
        "ud800",
        "x100000",
        "number 1e400",
        "empty body",
        "content type",
        "GET ?",
        "two operations",
    ):
        assert kind in names, kind


async def test_rate_limited_callers_get_the_same_shape(seeded_db: TestDatabase) -> None:
    from web.app import create_app

    for env in ("development", "production"):
        app = create_app(
            make_settings(seeded_db.url, CMS_ENV=env, CMS_RATE_LIMIT_ANONYMOUS="1/60"),
            manage_database=False,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            first = await client.post("/graphql", json={"query": QUERY})
            assert first.status_code == 200
            limited = await client.post("/graphql", json={"query": QUERY})
        case = Case("rate limited", statuses=(429,), codes=("RATE_LIMITED",))
        assert_one_shape(limited, case)
        assert int(limited.headers["retry-after"]) > 0


async def test_nul_and_lone_surrogates_in_variables_never_fail_the_database(
    http: httpx.AsyncClient,
) -> None:
    """Strings the database cannot store or compare (NUL in PostgreSQL text, lone
    surrogates from GraphQL escapes) are answered as bad input, never as a failure."""
    requests = [
        {"query": SEARCH_QUERY, "variables": {"s": value}}
        for value in ("\x00", "а\x00б", "\u202e\u200b", "'; DROP TABLE news; --")
    ]
    requests += [
        {"query": '{ newsItem(slug: "\\u0000") { id } }'},
        {"query": '{ newsItem(slug: "\\ud800") { id } }'},
        {"query": '{ tag(slug: "a\\udc00") { id } }'},
        {"query": '{ news(filter: {search: "\\u0000"}) { totalCount } }'},
    ]
    for body in requests:
        response = await http.post("/graphql", json=body)
        assert response.status_code == 200, response.text
        result = response.json()
        for error in result.get("errors", []):
            assert error["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED"), body


async def test_an_unforeseen_failure_is_answered_with_an_error_id_in_the_same_shape(
    seeded_db: TestDatabase, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a malformed request but a bug: still JSON in the one shape, with the id
    that is also in the server log with the traceback."""
    from web import view
    from web.app import create_app

    def broken(result: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(view, "process_result", broken)
    # Strawberry's path (a compiled read never calls process_result).
    settings = make_settings(seeded_db.url, CMS_ENV="production", CMS_QUERY_COMPILER="off")
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post("/graphql", json={"query": QUERY})
    assert response.status_code == 500
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["errorId"] in error["message"]
    assert "secret internals" not in response.text
    assert any(error["extensions"]["errorId"] in record.getMessage() for record in caplog.records)


def _multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> bytes:
    chunks = []
    for name, file_name, content in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{file_name}"' if file_name else ""
        )
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode())
        chunks.append(content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


UPLOAD = 'mutation($f: Upload!) { uploadMedia(input: {file: $f, alt: "x"}) { errors { code } } }'


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        ("multipart/form-data", b"--x\r\n\r\n--x--\r\n", "BAD_REQUEST"),  # no boundary
        ("multipart/form-data; boundary=b0undary", b"garbage", "BAD_REQUEST"),
        (
            "multipart/form-data; boundary=b0undary",
            _multipart([("operations", None, b"{")]),
            "BAD_REQUEST",
        ),
        (
            "multipart/form-data; boundary=b0undary",
            _multipart([("operations", None, _json({"query": UPLOAD, "variables": {"f": None}}))]),
            "BAD_REQUEST",
        ),
        (
            "multipart/form-data; boundary=b0undary",
            _multipart(
                [
                    ("operations", None, _json({"query": UPLOAD, "variables": {"f": None}})),
                    ("map", None, _json({"0": ["variables.f"]})),
                ]
            ),
            "BAD_REQUEST",
        ),
        (
            "multipart/form-data; boundary=b0undary",
            _multipart(
                [
                    ("operations", None, _json({"query": UPLOAD, "variables": {"f": None}})),
                    ("map", None, _json({"0": "variables.f"})),
                    ("0", "x.png", b"x"),
                ]
            ),
            "BAD_REQUEST",
        ),
        (
            "multipart/form-data; boundary=b0undary",
            _multipart(
                [
                    ("operations", None, _json([{"query": UPLOAD}, {"query": UPLOAD}])),
                    ("map", None, _json({})),
                ]
            ),
            "BATCHING_NOT_SUPPORTED",
        ),
    ],
    ids=[
        "no boundary",
        "garbage",
        "operations not JSON",
        "no map",
        "a missing file",
        "a map of strings",
        "a batch",
    ],
)
async def test_malformed_uploads_from_a_caller_who_may_upload(
    writer_client: GraphQLClient, content_type: str, body: bytes, code: str
) -> None:
    await use_api_token(writer_client, "write")
    headers = {
        **writer_client.headers,
        "content-type": content_type,
        "graphql-require-preflight": "1",
    }
    response = await writer_client.http.post("/graphql", content=body, headers=headers)
    assert_one_shape(response, Case("upload", statuses=(400,), codes=(code,)))
