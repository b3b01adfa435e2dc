"""The HTTP endpoint of the schema, as a plain ASGI app over `schema.execute`.

A request goes through, in this order, each step answering it or handing on:
1. the gate (web/gate.py): method, content type, CSRF header of uploads;
2. GraphiQL, for a browser asking for the page;
3. the caller's preamble (web/caller.py): 401, 429, the right to upload;
4. the parameters (web/params.py), strictly typed, or taken from the fast lane,
   which already read, parsed and hashed them (web/fast_lane.py);
5. persisted queries and trusted documents (web/persisted.py);
6. the operation: exactly one, chosen by operationName; a GET only reads;
7. the response cache, for the public scope (one lookup per request: skipped
   when the fast lane looked up and missed);
8. execution (the read compiler when it supports the read, else Strawberry), then
   the caching headers and the store of a public read, with its surrogate keys.
Every answer before execution is made by web/responses.py, in one shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import process_result
from strawberry.schema import BaseSchema
from strawberry.types.graphql import OperationType as StrawberryOperationType

from cms.errors import Code
from cms.runtime import Runtime
from cms.services.viewer import Viewer
from graphql_schema.compiler.executor import ReadCompiler
from graphql_schema.context import Context
from graphql_schema.limits import parse_within_limits, within_response_size
from web import gate, http_cache, params
from web.caller import admit
from web.graphiql.page import GraphiQLPage
from web.params import PREPARED, GraphQLParams, Prepared, Problem
from web.persisted import PersistedQueries
from web.request_id import CACHE, OPERATION
from web.requests import is_multipart
from web.response_cache import (
    PUBLIC_SCOPE,
    UNKNOWN_STAMP,
    CachedResponse,
    ResponseCache,
    cache_key,
    canonical_variables,
)
from web.responses import JSON, bad_request, error_response, not_found

logger = logging.getLogger("cms.cache")
compiler_logger = logging.getLogger("cms.compiler")
_PRIVATE = http_cache.PRIVATE.decode()
_READS = frozenset({StrawberryOperationType.QUERY})
_ALL = frozenset(StrawberryOperationType) - {StrawberryOperationType.SUBSCRIPTION}
# Says that the read compiler answered (tests compare it with Strawberry's answer).
EXECUTOR_HEADER = "x-cms-executor"


class GraphQLView:
    def __init__(self, schema: BaseSchema, runtime: Runtime, cache: ResponseCache) -> None:
        self.schema = schema
        self.runtime = runtime
        self.settings = runtime.settings
        self.cache = cache
        self.persisted = PersistedQueries(cache, runtime.settings)
        self.graphiql = GraphiQLPage()
        self.compiler = (
            ReadCompiler(schema._schema, runtime.settings)  # type: ignore[attr-defined]
            if runtime.settings.query_compiler
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        if (refusal := gate.check_request(request)) is not None:
            return refusal
        if self._wants_graphiql(request):
            return self.graphiql.response() if self.settings.graphiql else not_found()
        upload = request.method == "POST" and is_multipart(request.headers.get("content-type"))
        caller = await admit(request, self.runtime, upload=upload)
        if isinstance(caller, Response):
            return caller
        prepared: Prepared | None = request.scope.get(PREPARED)
        if prepared is not None:
            read: GraphQLParams | Problem | Response = prepared.params
        elif upload:
            read = await _read_multipart(request)
        elif request.method == "GET":
            read = params.from_query_string(request.scope["query_string"])
        else:
            read = await _read_json(request)
        if isinstance(read, Response):
            return read
        if isinstance(read, Problem):
            return bad_request(read.message, read.code)
        return await self._run(request, caller, read, prepared, upload)

    async def _run(
        self,
        request: Request,
        viewer: Viewer,
        data: GraphQLParams,
        prepared: Prepared | None,
        upload: bool,
    ) -> Response:
        resolved = await self.persisted.resolve(
            data.query, data.extensions, viewer, prepared.digest if prepared else None
        )
        if isinstance(resolved, Response):
            return resolved
        query = resolved.query
        if not query:
            return bad_request(
                "В запросе нет текста GraphQL-операции: передайте его в поле query "
                "(или хеш сохранённого запроса в extensions.persistedQuery)."
            )
        operation = self._operation(query, data.operation_name)
        if isinstance(operation, Response):
            return operation
        if operation is not None and operation.name is not None:
            request.scope[OPERATION] = operation.name.value
        is_get = request.method == "GET"
        is_read = operation is None or operation.operation is OperationType.QUERY
        if is_get and not is_read:
            return gate.get_only_reads()
        # Public reads are cached: in the response cache (when on) and by HTTP caches.
        cacheable = (
            viewer.visibility_scope == PUBLIC_SCOPE
            and not upload
            and operation is not None
            and is_read
            and resolved.doc_hash is not None
        )
        key: str | None = None
        stamp = UNKNOWN_STAMP
        if cacheable and prepared is not None and prepared.digest == resolved.doc_hash:
            # The fast lane looked this key up and missed (None: it could not look up).
            key, stamp = prepared.key, prepared.stamp
            cacheable = key is not None
        elif cacheable and resolved.doc_hash is not None:
            key = cache_key(
                resolved.doc_hash, canonical_variables(data.variables), data.operation_name
            )
            try:
                entry, stamp = await self.cache.lookup(key)
            except Exception:
                # Redis unreachable: answer uncached rather than fail the read.
                logger.exception("response cache lookup failed; answering without the cache")
                cacheable = False
            else:
                request.scope[CACHE] = "miss" if entry is None else "hit"
                if entry is not None:
                    return self._public_response(entry, is_get, viewer, request.headers)
        if not self.cache.enabled:
            key = None
        # Without the response cache, anonymous GETs still get ETags and public headers.
        collect = cacheable and (key is not None or (is_get and viewer.is_anonymous))
        compiled = None
        if self.compiler is not None and is_read and not upload:
            try:
                compiled = await self.compiler.execute(
                    query, data.variables, data.operation_name, viewer, collect
                )
            except Exception:
                # Strawberry answers instead, and reports a fault in its own way.
                compiler_logger.exception("the read compiler failed; answering through Strawberry")
        if compiled is not None:
            refusal = within_response_size(
                compiled.body, {"extensions": compiled.extensions}, self.settings
            )
            if refusal is not None or not collect:
                answer = _private(refusal or compiled.body)
                answer.headers[EXECUTOR_HEADER] = "compiled"
                return answer
            body, surrogate_keys = compiled.body, compiled.surrogate_keys
        else:
            answered = await self._execute(query, data, viewer, collect, is_get)
            if isinstance(answered, Response):
                return answered
            body, surrogate_keys = answered
        keys = " ".join(sorted(surrogate_keys or ()))
        try:
            entry = await self.cache.entry_for(body, keys, stamp)
            if key is not None:
                await self.cache.put(key, entry)
        except Exception:
            logger.exception("response cache write failed; answered without caching")
            answer = _private(body)
        else:
            answer = self._public_response(entry, is_get, viewer, request.headers)
        if compiled is not None:
            answer.headers[EXECUTOR_HEADER] = "compiled"
        return answer

    async def _execute(
        self, query: str, data: GraphQLParams, viewer: Viewer, collect: bool, is_get: bool
    ) -> Response | tuple[bytes, set[str] | None]:
        """Strawberry's answer: the response, or the body of a public read to store and
        the surrogate keys it recorded."""
        # What execution may add to the answer: a status (507 for a full media disk, 503
        # when no slot for an expensive operation is free) and headers.
        sub_response = Response()
        context = Context(
            runtime=self.runtime,
            viewer=viewer,
            surrogate_keys=set() if collect else None,
            response=sub_response,
        )
        result = await self.schema.execute(
            query,
            variable_values=data.variables,
            context_value=context,
            operation_name=data.operation_name,
            allowed_operation_types=_READS if is_get else _ALL,
        )
        processed = process_result(result)
        body = orjson.dumps(processed)
        refusal = within_response_size(body, processed, self.settings)
        if refusal is not None or context.private or sub_response.status_code != 200:
            # Too large, or for this caller only (introspection), or a server-side fault.
            answer = _private(refusal or body)
            answer.status_code = sub_response.status_code
            answer.headers.update(
                {
                    k: v
                    for k, v in sub_response.headers.items()
                    if k not in ("content-length", "content-type")
                }
            )
            return answer
        succeeded = not result.errors and result.data is not None
        if not (collect and succeeded):
            return _private(body)
        return body, context.surrogate_keys

    def _operation(
        self, query: str, operation_name: str | None
    ) -> OperationDefinitionNode | Response | None:
        """The operation to run. None when the document cannot be parsed: execution
        answers that with its own error (GRAPHQL_PARSE_FAILED, LIMIT_EXCEEDED). The
        parse is cached, so execution's own parse of the same text is free."""
        try:
            document = parse_within_limits(query, self.settings)
        except GraphQLError:
            return None
        operations = [
            node for node in document.definitions if isinstance(node, OperationDefinitionNode)
        ]
        if operation_name is not None:
            for node in operations:
                if node.name is not None and node.name.value == operation_name:
                    return node
            return error_response(
                400,
                f"В документе нет операции с именем «{operation_name}» (operationName).",
                Code.GRAPHQL_VALIDATION_FAILED,
            )
        if len(operations) == 1:
            return operations[0]
        if not operations:
            return error_response(
                400,
                "В документе нет ни одной операции (query или mutation).",
                Code.GRAPHQL_VALIDATION_FAILED,
            )
        return error_response(
            400,
            f"В документе несколько операций ({len(operations)}): укажите в operationName, "
            "какую выполнить.",
            Code.GRAPHQL_VALIDATION_FAILED,
        )

    def _public_response(
        self, entry: CachedResponse, is_get: bool, viewer: Viewer, headers: Mapping[str, str]
    ) -> Response:
        if not is_get or not viewer.is_anonymous:
            return _private(entry.body)
        raw = http_cache.public_headers(entry, self.settings)
        if http_cache.not_modified(headers.get("if-none-match"), entry.etag):
            response = Response(status_code=304)
        else:
            response = Response(entry.body, media_type=JSON)
        response.headers.raw.extend(raw)
        return response

    # ------------------------------------------------------------ GraphiQL

    @staticmethod
    def _wants_graphiql(request: Request) -> bool:
        """A browser opening /graphql: a GET with neither a query nor a persisted
        query's hash, accepting HTML."""
        if request.method != "GET":
            return False
        query_params = request.query_params
        if "query" in query_params or "extensions" in query_params:
            return False
        accept = request.headers.get("accept", "")
        return "text/html" in accept or "*/*" in accept


def _private(body: bytes) -> Response:
    return Response(body, media_type=JSON, headers={"cache-control": _PRIVATE})


async def _read_json(request: Request) -> GraphQLParams | Problem | Response:
    try:
        body = await request.body()
    except ClientDisconnect:
        return bad_request("Соединение прервалось до конца запроса.")
    return params.from_json(body)


async def _read_multipart(request: Request) -> GraphQLParams | Problem | Response:
    """A GraphQL multipart request (uploadMedia): `operations` with null where files
    go, `map` from file parts to those places, then the files."""
    try:
        form = await request.form()
    except (MultiPartException, HTTPException) as error:
        detail = getattr(error, "message", None) or getattr(error, "detail", "")
        return bad_request(f"Не удалось разобрать multipart-запрос: {detail}.")
    except ClientDisconnect:
        return bad_request("Соединение прервалось до конца загрузки.")
    operations = _form_json(form.get("operations"))
    files_map = _form_json(form.get("map"))
    if isinstance(operations, list):
        return params.from_mapping(operations)  # a batch: refused as in a JSON body
    if not isinstance(operations, dict) or not isinstance(files_map, dict):
        return bad_request(
            "Multipart-запрос должен содержать поля operations (JSON-объект операции) и map "
            "(JSON-объект: какой файл в какую переменную), как в GraphQL multipart request."
        )
    files = {name: value for name, value in form.multi_items() if isinstance(value, UploadFile)}
    if not all(
        isinstance(paths, list) and all(isinstance(path, str) for path in paths)
        for paths in files_map.values()
    ):
        return bad_request("Поле map должно сопоставлять имени файла список путей-строк.")
    try:
        filled = replace_placeholders_with_files(operations, files_map, files)
    except (KeyError, IndexError, TypeError, ValueError):
        return bad_request("Файлы, названные в поле map, отсутствуют в запросе или не на месте.")
    return params.from_mapping(filled)


def _form_json(value: Any) -> object:
    if not isinstance(value, str):
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
