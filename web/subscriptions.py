"""GraphQL subscriptions over WebSocket at /graphql (graphql-transport-ws).

Strawberry's own view and protocol handler do the protocol; this module decides who
connects and how much they may hold:
- the handshake: an Origin that CORS would refuse is refused (403), as is a client
  address with CMS_SUBSCRIPTION_MAX_CONNECTIONS_PER_ADDRESS connections open in this
  process (accepted, then closed with 4429 and the reason);
- `connection_init` within CMS_SUBSCRIPTION_INIT_TIMEOUT (else 4408), its payload's
  `Authorization: Bearer <token>` (or the handshake's header) identified as an HTTP
  request's is (web/caller.py): a token that is not valid closes with 4403, the rate
  limit with 4429, both with the reason;
- subscriptions only (queries and mutations go over HTTP, through its cache and
  gate); for callers other than staff, registered ones only when
  CMS_TRUSTED_DOCUMENTS is on; at most CMS_SUBSCRIPTION_MAX_PER_CONNECTION at once on
  a connection (more are answered with a LIMIT_EXCEEDED error); each within the
  operation limits of queries (depth, cost, ...: graphql_schema/limits.py);
- a `ping` every CMS_SUBSCRIPTION_KEEPALIVE seconds keeps proxies from closing a
  quiet connection; before it, a signed-in caller's token is checked again (logged
  out, revoked or expired: closed with 4403).
When a connection closes, its operations are cancelled and their listeners leave the
broker (graphql_schema/subscriptions.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import orjson
from graphql import GraphQLError, get_operation_ast
from graphql import OperationType as GraphQLOperationType
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema
from strawberry.schema.schema import StreamResult
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from cms.errors import Code
from cms.runtime import Runtime
from cms.services import auth, trusted_documents
from cms.services.network import client_address
from cms.services.trusted_documents import document_hash
from cms.services.viewer import Viewer
from graphql_schema.context import Context, Loaders
from graphql_schema.limits import limit_error, parse_within_limits
from web.caller import Refusal, identify_caller

logger = logging.getLogger("cms.subscriptions")

# Close codes: graphql-transport-ws's own (4400, 4401, 4408, ...) and ours.
FORBIDDEN = 4403
TOO_MANY = 4429
_TOKEN_GONE = "Токен недействителен, истёк или отозван. Войдите снова."


@dataclass
class LiveContext(Context):
    """The context of one connection: its caller is known once connection_init came."""

    # Set by Strawberry to connection_init's payload.
    connection_params: dict[str, object] | None = None
    # The handshake's own credentials and the caller's address, for connection_init.
    handshake_authorization: str | None = None
    # The credentials the caller was identified by (checked again with each ping).
    authorization: str | None = None
    peer: str | None = None
    forwarded_for: str | None = None


class InitRefusedError(Exception):
    """connection_init refused: the connection closes with this code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _SubscriptionsOnly:
    """The schema as the protocol handler sees it: it may stream subscriptions only."""

    def __init__(self, schema: BaseSchema) -> None:
        self._schema = schema

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> StreamResult:
        return await self._schema.stream(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            operation_extensions=operation_extensions,
            allowed_operation_types=(OperationType.SUBSCRIPTION,),
        )


class TransportHandler(BaseGraphQLTransportWSHandler[LiveContext, None]):
    """Strawberry's graphql-transport-ws handler with our refusals and keep-alive pings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = cast(BaseSchema, _SubscriptionsOnly(self.schema))
        self._keepalive: asyncio.Task[None] | None = None

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        self._keepalive = asyncio.create_task(self._ping())

    async def shutdown(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
        await super().shutdown()

    async def _ping(self) -> None:
        """Pings the client (the protocol's ping, answered with pong): traffic on a quiet
        connection, and a failed send when the peer is gone. A signed-in caller's token
        is checked again each time: one logged out, revoked or expired since
        connection_init closes the connection (it would go on seeing drafts)."""
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(self.context.settings.subscription_keepalive)
                if not self.connection_acknowledged:
                    continue
                if not self.context.viewer.is_anonymous and not await self._still_valid():
                    await self.websocket.close(code=FORBIDDEN, reason=_TOKEN_GONE)
                    return
                await self.send_message({"type": "ping"})

    async def _still_valid(self) -> bool:
        context = self.context
        try:
            viewer = await auth.identify(
                context.authorization, context.peer, context.forwarded_for, context.settings
            )
        except Exception:
            # The database away: checked again at the next ping.
            logger.exception("subscriptions: checking a connection's token failed")
            return True
        return (
            viewer is not None
            and viewer.principal == context.viewer.principal
            and viewer.visibility_scope == context.viewer.visibility_scope
        )

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except InitRefusedError as refusal:
            await self.websocket.close(code=refusal.code, reason=refusal.reason)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message["id"] not in self.operations:
            refusal = await self._refusal(message)
            if refusal is not None:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refusal.formatted]}
                )
                return
        await super().handle_subscribe(message)

    async def _refusal(self, message: SubscribeMessage) -> GraphQLError | None:
        """Why the operation may not start, or None. A document that does not parse
        (or names no operation) is left to Strawberry, which answers it."""
        limit = self.max_subscriptions_per_connection
        if limit is not None and len(self.operations) >= limit:
            return limit_error("subscriptions", limit, len(self.operations) + 1)
        payload = message.get("payload") or {}
        query = payload.get("query")
        if not isinstance(query, str):
            return None
        settings, viewer = self.context.settings, self.context.viewer
        try:
            document = parse_within_limits(query, settings)
        except GraphQLError:
            return None
        operation = get_operation_ast(document, payload.get("operationName"))
        if operation is not None and operation.operation is not GraphQLOperationType.SUBSCRIPTION:
            return GraphQLError(
                "По WebSocket выполняются только подписки (subscription); запросы и мутации "
                "отправляйте по HTTP.",
                extensions={"code": Code.BAD_REQUEST},
            )
        if (
            settings.trusted_documents
            and viewer.user_id is None
            and await trusted_documents.find_by_sha256(document_hash(query)) is None
        ):
            return GraphQLError(
                "Разрешены только зарегистрированные операции (CMS_TRUSTED_DOCUMENTS): "
                "эта подписка не зарегистрирована.",
                extensions={"code": Code.OPERATION_NOT_TRUSTED},
            )
        return None


class SubscriptionEndpoint(GraphQL[LiveContext, None]):
    """The WebSocket side of /graphql (the HTTP side is web/view.py)."""

    graphql_transport_ws_handler_class = TransportHandler

    def __init__(self, schema: BaseSchema, runtime: Runtime) -> None:
        settings = runtime.settings
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.subscription_init_timeout),
            max_subscriptions_per_connection=settings.subscription_max_per_connection,
            allowed_origins=settings.cors_allowed_origins,
        )
        self.runtime = runtime
        # Open connections per client address, in this process.
        self.connections: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        settings = self.runtime.settings
        address = client_address(
            websocket.client.host if websocket.client else None,
            websocket.headers.get("x-forwarded-for"),
            settings.trusted_proxies,
        )
        if self.connections[address] >= settings.subscription_max_connections_per_address:
            logger.warning("WebSocket connection from %s refused: too many open", address)
            await websocket.accept(subprotocol=await self.pick_websocket_subprotocol(websocket))
            await websocket.close(
                code=TOO_MANY,
                reason=f"Слишком много соединений с адреса (не более "
                f"{settings.subscription_max_connections_per_address}).",
            )
            return
        self.connections[address] += 1
        try:
            await self.run(websocket)
        finally:
            self.connections[address] -= 1
            if self.connections[address] <= 0:
                del self.connections[address]

    @property
    def open_connections(self) -> int:
        return sum(self.connections.values())

    async def get_context(self, request: Any, response: Any) -> LiveContext:
        websocket = cast(WebSocket, request)
        headers = websocket.headers
        peer = websocket.client.host if websocket.client else None
        forwarded_for = headers.get("x-forwarded-for")
        address = client_address(peer, forwarded_for, self.runtime.settings.trusted_proxies)
        return LiveContext(
            runtime=self.runtime,
            viewer=Viewer(address=address),
            handshake_authorization=headers.get("authorization"),
            peer=peer,
            forwarded_for=forwarded_for,
        )

    async def on_ws_connect(self, context: LiveContext) -> UnsetType | dict[str, object] | None:
        """The caller of the connection, from connection_init's payload
        ({"Authorization": "Bearer <token>"}) or the handshake's header; anonymous
        without either."""
        params = context.connection_params or {}
        authorization = next(
            (value for key, value in params.items() if key.lower() == "authorization"), None
        )
        if authorization is not None and not isinstance(authorization, str):
            raise InitRefusedError(FORBIDDEN, "Authorization должен быть строкой.")
        context.authorization = authorization or context.handshake_authorization
        caller = await identify_caller(
            context.authorization,
            context.peer,
            context.forwarded_for,
            self.runtime,
        )
        if isinstance(caller, Refusal):
            if caller.status == 401:
                raise InitRefusedError(FORBIDDEN, _TOKEN_GONE)
            raise InitRefusedError(
                TOO_MANY, f"Слишком много запросов. Повторите через {caller.retry_after} с."
            )
        context.viewer = caller
        context.loaders = Loaders(caller)
        return cast(UnsetType, UNSET)

    def encode_json(self, data: object) -> str:
        # Text frames, as the protocol wants.
        return orjson.dumps(data).decode()
