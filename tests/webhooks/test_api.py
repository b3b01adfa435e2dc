"""The admin API of webhooks: who may use it, the secret shown once, addresses
refused, the delivery log, redelivery and the test ping."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from cms.db import count_statements
from cms.services.webhooks.delivery import WebhookSender
from graphql_schema.relay import global_id
from tests.conftest import TestDatabase, client_with
from tests.editing.helpers import act_as
from tests.webhooks.conftest import (
    FAST,
    Answer,
    Receiver,
    add_endpoint,
    fast_settings,
    rounds_until,
)

ERRORS = "errors { field code message }"
ENDPOINT = (
    "id url description eventTypes contentTypes active disabledAt disabledReason "
    "consecutiveFailures previousSecretExpiresAt"
)
CREATE = f"""
mutation($input: CreateWebhookEndpointInput!) {{
  createWebhookEndpoint(input: $input) {{ secret endpoint {{ {ENDPOINT} }} {ERRORS} }}
}}
"""
UPDATE = f"""
mutation($id: ID!, $input: UpdateWebhookEndpointInput!) {{
  updateWebhookEndpoint(id: $id, input: $input) {{ endpoint {{ {ENDPOINT} }} {ERRORS} }}
}}
"""
DELETE = f"mutation($id: ID!) {{ deleteWebhookEndpoint(id: $id) {{ deletedId {ERRORS} }} }}"
ROTATE = f"""
mutation($id: ID!) {{
  rotateWebhookSecret(id: $id, graceHours: 2) {{ secret endpoint {{ {ENDPOINT} }} {ERRORS} }}
}}
"""
DELIVERY = (
    "id messageId eventType attempts deliveredAt failedAt lastStatus lastError "
    "attemptLog { startedAt durationMs statusCode responseBody error }"
)
PING = f"""
mutation($id: ID!) {{ pingWebhookEndpoint(id: $id) {{ delivery {{ {DELIVERY} }} {ERRORS} }} }}
"""
REDELIVER = f"""
mutation($id: ID!) {{ redeliverWebhook(id: $id) {{ delivery {{ {DELIVERY} }} {ERRORS} }} }}
"""
LIST = f"{{ webhookEndpoints {{ {ENDPOINT} }} }}"
LOG = f"""
query($id: ID!) {{
  webhookDeliveries(endpointId: $id, first: 10) {{ totalCount edges {{ node {{ {DELIVERY} }} }} }}
}}
"""


def endpoint_input(url: str, **changes: Any) -> dict[str, Any]:
    return {"url": url, "eventTypes": ["CONTENT_PUBLISHED"], **changes}


async def test_only_admins_manage_webhooks(db: TestDatabase) -> None:
    async with client_with(db, **FAST) as client:
        await act_as(client, "admin")
        created = await client.data(CREATE, {"input": endpoint_input("https://hooks.example/a")})
        endpoint_id = created["createWebhookEndpoint"]["endpoint"]["id"]
        for who, code in (
            ("anonymous", "UNAUTHENTICATED"),
            ("token:write", "FORBIDDEN"),
            ("editor", "FORBIDDEN"),
        ):
            await act_as(client, who)
            for document, variables in (
                (LIST, None),
                (LOG, {"id": endpoint_id}),
                (CREATE, {"input": endpoint_input("https://hooks.example/b")}),
                (UPDATE, {"id": endpoint_id, "input": {"active": False}}),
                (ROTATE, {"id": endpoint_id}),
                (PING, {"id": endpoint_id}),
                (DELETE, {"id": endpoint_id}),
            ):
                errors = await client.errors(document, variables)
                assert errors[0]["extensions"]["code"] == code, (who, document)
        await act_as(client, "admin")
        listed = (await client.data(LIST))["webhookEndpoints"]
    assert [item["url"] for item in listed] == ["https://hooks.example/a"]
    assert listed[0]["active"] is True


async def test_the_secret_is_shown_once_and_never_listed(
    db: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with client_with(db, **FAST) as client:
        await act_as(client, "admin")
        created = (
            await client.data(
                CREATE,
                {
                    "input": endpoint_input(
                        "https://hooks.example/news",
                        contentTypes=["News"],
                        description="Пересборка сайта",
                    )
                },
            )
        )["createWebhookEndpoint"]
        secret = created["secret"]
        assert secret.startswith("whsec_")
        assert created["endpoint"]["contentTypes"] == ["News"]
        listed = await client.post(LIST)
        rotated = (await client.data(ROTATE, {"id": created["endpoint"]["id"]}))[
            "rotateWebhookSecret"
        ]
        after = await client.post(LIST)
    assert secret not in str(listed)
    assert rotated["secret"] != secret
    assert rotated["endpoint"]["previousSecretExpiresAt"] is not None
    assert secret not in str(after)
    assert rotated["secret"] not in str(after)
    # Neither the access log, the audit log nor the SQL log (DEBUG) shows them.
    for shown in (secret, rotated["secret"]):
        assert shown.removeprefix("whsec_") not in caplog.text


REFUSED_URLS = (
    "ftp://hooks.example/x",
    "hooks.example/x",
    "http://127.0.0.1:9000/hook",
    "http://localhost/hook",
    "http://10.1.2.3/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://user:password@hooks.example/",
)


async def test_bad_and_private_urls_are_refused(db: TestDatabase) -> None:
    async with client_with(db) as client:  # CMS_WEBHOOK_ALLOW_PRIVATE off
        await act_as(client, "admin")
        for url in REFUSED_URLS:
            payload = (await client.data(CREATE, {"input": endpoint_input(url)}))[
                "createWebhookEndpoint"
            ]
            assert payload["endpoint"] is None, url
            assert payload["secret"] is None
            assert [(e["field"], e["code"]) for e in payload["errors"]] == [
                (["input", "url"], "INVALID")
            ], url
        listed = (await client.data(LIST))["webhookEndpoints"]
    assert listed == []


async def test_unknown_content_types_and_no_events_are_refused(db: TestDatabase) -> None:
    async with client_with(db) as client:
        await act_as(client, "admin")
        payload = (
            await client.data(
                CREATE,
                {"input": endpoint_input("https://a.example", eventTypes=[], contentTypes=["X"])},
            )
        )["createWebhookEndpoint"]
    assert {(tuple(e["field"]), e["code"]) for e in payload["errors"]} == {
        (("input", "eventTypes"), "REQUIRED"),
        (("input", "contentTypes"), "INVALID"),
    }


async def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery(
    db: TestDatabase, receiver: Receiver
) -> None:
    # Created while private addresses were allowed; the sender of a production
    # configuration refuses to connect, and the log says why.
    allowed = fast_settings(db)
    port = receiver.url.split(":")[2].split("/")[0]
    _, endpoint = await add_endpoint(allowed, f"http://localhost:{port}/hook")
    async with client_with(db, **FAST) as client:
        await act_as(client, "admin")
        endpoint_id = global_id("WebhookEndpoint", endpoint.pk)
        await client.data(PING, {"id": endpoint_id})
        sender = WebhookSender(fast_settings(db, CMS_WEBHOOK_ALLOW_PRIVATE="off"))
        await sender.run_once()
        await sender.close()
        log = (await client.data(LOG, {"id": endpoint_id}))["webhookDeliveries"]
    assert receiver.requests == []
    (attempt,) = log["edges"][0]["node"]["attemptLog"]
    assert attempt["statusCode"] is None
    assert "не публичный" in attempt["error"]


async def test_ping_log_and_redeliver(db: TestDatabase, receiver: Receiver) -> None:
    receiver.script = [Answer(500, body=b"x" * 5000)]
    async with client_with(db, **FAST) as client:
        await act_as(client, "admin")
        created = (await client.data(CREATE, {"input": endpoint_input(receiver.url)}))[
            "createWebhookEndpoint"
        ]
        endpoint_id = created["endpoint"]["id"]
        ping = (await client.data(PING, {"id": endpoint_id}))["pingWebhookEndpoint"]
        assert ping["delivery"]["eventType"] == "PING"
        sender = WebhookSender(fast_settings(db))
        await rounds_until(sender, lambda: len(receiver.requests) >= 2)
        log = (await client.data(LOG, {"id": endpoint_id}))["webhookDeliveries"]
        delivery = log["edges"][0]["node"]
        assert log["totalCount"] == 1
        assert delivery["deliveredAt"] is not None
        assert [a["statusCode"] for a in delivery["attemptLog"]] == [200, 500]  # newest first
        assert len(delivery["attemptLog"][1]["responseBody"]) == 1024
        again = (await client.data(REDELIVER, {"id": delivery["id"]}))["redeliverWebhook"]
        assert again["delivery"]["deliveredAt"] is None
        await rounds_until(sender, lambda: len(receiver.requests) >= 3)
        await sender.close()
        # Turned off and on again.
        off = await client.data(UPDATE, {"id": endpoint_id, "input": {"active": False}})
        assert off["updateWebhookEndpoint"]["endpoint"]["active"] is False
        deleted = (await client.data(DELETE, {"id": endpoint_id}))["deleteWebhookEndpoint"]
        assert deleted["deletedId"] == endpoint_id
        assert (await client.data(LIST))["webhookEndpoints"] == []
    first, _, third = receiver.requests
    assert first.json()["type"] == "webhook.ping"
    assert first.headers["webhook-id"] == third.headers["webhook-id"] == delivery["messageId"]
    Webhook(created["secret"]).verify(third.body, third.headers)


def test_what_counts_as_a_public_address() -> None:
    import ipaddress

    from cms.services.webhooks.addresses import is_public

    for address in (
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fd00:ec2::254",
        "fe80::1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
    ):
        assert not is_public(ipaddress.ip_address(address)), address
    for address in ("93.184.216.34", "2606:2800:220:1::1", "::ffff:93.184.216.34"):
        assert is_public(ipaddress.ip_address(address)), address


async def test_the_delivery_log_costs_the_same_statements_for_any_page(db: TestDatabase) -> None:
    async with client_with(db, **FAST) as client:
        await act_as(client, "admin")
        await client.data("{ me { email } }")  # the session's first use is recorded once
        created = (await client.data(CREATE, {"input": endpoint_input("https://a.example")}))[
            "createWebhookEndpoint"
        ]
        endpoint_id = created["endpoint"]["id"]
        counts = []
        for pings in (1, 5):
            for _ in range(pings):
                await client.data(PING, {"id": endpoint_id})
            with count_statements() as statements:
                log = (await client.data(LOG, {"id": endpoint_id}))["webhookDeliveries"]
            counts.append((len(log["edges"]), len(statements)))
    # The session, the page, its count, the events, the attempts.
    assert counts == [(1, 5), (6, 5)]


async def test_the_request_goes_to_the_checked_address_under_the_urls_name() -> None:
    import ipaddress

    from cms.services.webhooks.addresses import RefusedAddressError, Target, connect_url, resolve

    target = await resolve("http://127.0.0.1:8080/hook?x=1", allow_private=True)
    assert target == Target("http", "127.0.0.1", 8080, ipaddress.ip_address("127.0.0.1"))
    v6 = Target("https", "hooks.example", 443, ipaddress.ip_address("2001:db8::1"))
    assert connect_url("https://hooks.example/a?b=c", v6) == "https://[2001:db8::1]:443/a?b=c"
    with pytest.raises(RefusedAddressError, match="не публичный"):
        await resolve("http://localhost:8080/", allow_private=False)
    with pytest.raises(RefusedAddressError, match="не найдено"):
        await resolve("http://no-such-host.invalid/", allow_private=False)
