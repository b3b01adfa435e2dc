"""submitFeedback: what is stored, what is refused, and that refusals write nothing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from cms.models import FeedbackMessage, FeedbackNotification, FeedbackStatus, FeedbackTicketCounter
from cms.services.phones import normalize_russian_phone
from tests.conftest import GraphQLClient, TestDatabase
from tests.feedback.conftest import SUBMIT, feedback_app, form, submit

TICKET = re.compile(r"^FB-(\d{4})-(\d{6})$")


async def test_a_message_is_stored_cleaned_and_gets_a_ticket(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    payload = await submit(
        writer_client,
        kind="APPEAL",
        name="  Иван\u200b Петров\u2060 ",
        email=" Ivan.Petrov@Example.RU ",
        phone="8 (4162) 12-34-56",
        subject="Тема\u202eс подменой",
        message="Строка один\r\nстрока два\u200d\n\n",
    )
    assert payload["errors"] == []
    match = TICKET.match(payload["ticket"])
    assert match, payload
    assert int(match.group(1)) == datetime.now(UTC).year
    row = await FeedbackMessage.get(ticket=payload["ticket"])
    assert row.kind == "appeal"
    assert row.name == "Иван Петров"
    assert row.email == "ivan.petrov@example.ru"
    assert row.phone == "+74162123456"
    assert row.subject == "Темас подменой"
    assert row.message == "Строка один\nстрока два"
    assert row.feedback_status == FeedbackStatus.NEW
    assert row.consent_at is not None
    # Neither the address nor any unkeyed hash of it is kept.
    assert row.address_hash is not None
    assert row.address_hash != hashlib.sha256(b"127.0.0.1").hexdigest()
    assert "127.0.0.1" not in (row.address_hash or "")
    # No SMTP configured: no notification is queued.
    assert await FeedbackNotification.all().count() == 0


async def test_pasted_control_and_direction_characters_are_cleaned_not_refused(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    payload = await submit(
        writer_client,
        name="Иван\x00 Петров\u2067",
        email="ivan\u200b@example.ru\x00",
        phone="\u202a8 916 123-45-67\u202c",
        subject="\u202eТема\x1b[31m",
        message="Текст\x00 с\u2066 escape\x1b-последовательностью\ufeff",
    )
    assert payload["errors"] == []
    row = await FeedbackMessage.get(ticket=payload["ticket"])
    assert (row.name, row.email, row.phone, row.subject, row.message) == (
        "Иван Петров",
        "ivan@example.ru",
        "+79161234567",
        "Тема[31m",
        "Текст с escape-последовательностью",
    )


async def test_tickets_count_up_within_the_year(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    first = await submit(writer_client, message="Первое")
    second = await submit(writer_client, message="Второе")
    numbers = [int(TICKET.match(p["ticket"]).group(2)) for p in (first, second)]  # type: ignore[union-attr]
    assert numbers == [1, 2]
    counter = await FeedbackTicketCounter.get(year=datetime.now(UTC).year)
    assert counter.last_number == 2


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("+7 916 123-45-67", "+79161234567"),
        ("8 (4162) 12-34-56", "+74162123456"),
        ("79161234567", "+79161234567"),
        ("89161234567", "+79161234567"),
        ("916 123 45 67", "+79161234567"),
        ("+7(800)555-35-35", "+78005553535"),
    ],
)
def test_russian_phone_numbers_are_normalised(raw: str, stored: str) -> None:
    assert normalize_russian_phone(raw) == stored


@pytest.mark.parametrize(
    "raw",
    ["+1 555 123 4567", "+7 716 123 45 67", "12345", "8916123456a", "+7+9161234567", "8 800"],
)
def test_other_phone_numbers_are_refused(raw: str) -> None:
    assert normalize_russian_phone(raw) is None


BAD_INPUTS: list[tuple[str, dict[str, Any], list[str], str, str]] = [
    # (case, changes, field path, code, words of the message)
    (
        "missing consent",
        {"consentToProcessing": False},
        ["input", "consentToProcessing"],
        "REQUIRED",
        "согласия",
    ),
    (
        "no contact",
        {"email": None, "phone": "  "},
        ["input", "email"],
        "REQUIRED",
        "e-mail или телефон",
    ),
    (
        "malformed e-mail",
        {"email": "ivan@@example"},
        ["input", "email"],
        "INVALID",
        "электронной почты",
    ),
    ("malformed phone", {"phone": "+7 123"}, ["input", "phone"], "INVALID", "российский номер"),
    (
        "foreign phone",
        {"phone": "+44 20 7946 0958"},
        ["input", "phone"],
        "INVALID",
        "российский номер",
    ),
    (
        "phone with letters",
        {"phone": "8 916 ABC-45-67"},
        ["input", "phone"],
        "INVALID",
        "российский номер",
    ),
    ("a 1 MB message", {"message": "a" * 1_000_000}, ["input", "message"], "TOO_LONG", "10000"),
    (
        "a message over the limit",
        {"message": "я" * 10_001},
        ["input", "message"],
        "TOO_LONG",
        "10000",
    ),
    ("invisible name", {"name": "\u200b\u200d\ufeff"}, ["input", "name"], "INVALID", "невидимые"),
    ("empty name", {"name": "   "}, ["input", "name"], "REQUIRED", "имя"),
    ("long name", {"name": "И" * 201}, ["input", "name"], "TOO_LONG", "200"),
    ("long subject", {"subject": "Т" * 301}, ["input", "subject"], "TOO_LONG", "300"),
]


@pytest.mark.parametrize(
    ("changes", "field", "code", "words"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
async def test_bad_input_gets_a_clear_user_error_and_writes_nothing(
    writer_client: GraphQLClient,
    db: TestDatabase,
    changes: dict[str, Any],
    field: list[str],
    code: str,
    words: str,
) -> None:
    payload = await submit(writer_client, **changes)
    assert payload["ticket"] is None
    assert [(error["field"], error["code"]) for error in payload["errors"]] == [(field, code)]
    assert words in payload["errors"][0]["message"]
    assert await FeedbackMessage.all().count() == 0
    assert await FeedbackTicketCounter.all().count() == 0


async def test_every_problem_is_reported_at_once(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    payload = await submit(
        writer_client, name="", email="nope", phone="123", message="", consentToProcessing=False
    )
    assert {tuple(error["field"]) for error in payload["errors"]} == {
        ("input", "name"),
        ("input", "email"),
        ("input", "phone"),
        ("input", "message"),
        ("input", "consentToProcessing"),
    }
    assert await FeedbackMessage.all().count() == 0


async def test_an_unknown_kind_is_refused_by_the_schema(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    result = await writer_client.post(SUBMIT, {"input": form(kind="COMPLAINT")})
    (error,) = result["errors"]
    assert "COMPLAINT" in error["message"]
    assert "FeedbackKind" in error["message"]
    assert result.get("data") is None
    assert await FeedbackMessage.all().count() == 0


async def test_a_body_over_the_server_limit_is_refused_with_a_reason(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    # 1 MB of Cyrillic text is 2 MB of UTF-8: over CMS_MAX_BODY_SIZE (1 MiB) before
    # any GraphQL runs. The answer still says what happened, in GraphQL's shape.
    response = await writer_client.http.post(
        "/graphql", json={"query": SUBMIT, "variables": {"input": form(message="я" * 1_000_000)}}
    )
    assert response.status_code == 413
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "1048576 байт" in error["message"]
    assert await FeedbackMessage.all().count() == 0


async def test_a_streamed_body_over_the_limit_is_refused_with_a_reason(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    async def chunks():  # no Content-Length: the limit is counted while reading
        yield b'{"query": "' + b" " * 600_000
        yield b" " * 600_000 + b'"}'

    response = await writer_client.http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_bot_filling_the_honeypot_gets_an_ordinary_answer_and_lands_as_spam(
    db: TestDatabase,
) -> None:
    async with feedback_app(
        db, CMS_SMTP_URL="smtp://127.0.0.1:9", CMS_FEEDBACK_NOTIFY_TO="staff@example.ru"
    ) as app:
        human = await submit(app.client, message="Вопрос человека")
        bot = await submit(
            app.client, email="bot@example.ru", message="Купите", website="https://spam.example"
        )
    assert set(bot) == set(human)
    assert bot["errors"] == []
    assert TICKET.match(bot["ticket"])
    spam = await FeedbackMessage.get(ticket=bot["ticket"])
    assert spam.feedback_status == FeedbackStatus.SPAM
    assert spam.staff_note
    assert "скрытое поле" in spam.staff_note
    # Staff are not notified about spam; the human's message is queued for e-mail.
    queued = await FeedbackNotification.all().values_list("message__ticket", flat=True)
    assert queued == [human["ticket"]]


async def test_a_repeated_submission_gets_the_first_ticket_and_no_new_row(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    first = await submit(writer_client, message="Прошу  сообщить   сроки")
    # A double click, with different spacing and case, even from another address.
    again = await submit(writer_client, peer="198.51.100.7", message="прошу сообщить сроки")
    assert again == first
    other = await submit(writer_client, message="Другой вопрос")
    assert other["ticket"] != first["ticket"]
    assert await FeedbackMessage.all().count() == 2
    counter = await FeedbackTicketCounter.get(year=datetime.now(UTC).year)
    assert counter.last_number == 2


async def test_concurrent_identical_submissions_collapse_into_one_ticket(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    payloads = await asyncio.gather(
        *(submit(writer_client, peer=f"198.51.100.{i}", message="Одно и то же") for i in range(20))
    )
    assert {payload["ticket"] for payload in payloads} == {payloads[0]["ticket"]}
    assert all(payload["errors"] == [] for payload in payloads)
    assert await FeedbackMessage.all().count() == 1


async def test_the_duplicate_window_is_configurable(db: TestDatabase) -> None:
    async with feedback_app(db, CMS_FEEDBACK_DEDUPE_SECONDS="0") as app:
        first = await submit(app.client, message="Повтор")
        second = await submit(app.client, message="Повтор")
    assert first["ticket"] != second["ticket"]
    assert await FeedbackMessage.all().count() == 2


async def test_limits_per_address_say_when_to_retry(db: TestDatabase) -> None:
    async with feedback_app(db, CMS_FEEDBACK_LIMIT_ADDRESS="2/600") as app:
        for n in range(2):
            ok = await submit(
                app.client, email=f"person{n}@example.ru", phone=None, message=f"№{n}"
            )
            assert ok["errors"] == []
        refused = await submit(app.client, email="person9@example.ru", phone=None, message="№9")
        # Another address is not affected.
        other = await submit(app.client, peer="203.0.113.5", email="x@example.ru", phone=None)
    assert refused["ticket"] is None
    (error,) = refused["errors"]
    assert error["code"] == "RATE_LIMITED"
    assert 0 < error["retryAfter"] <= 600
    assert f"Повторите через {error['retryAfter']} с." in error["message"]
    assert other["errors"] == []
    assert await FeedbackMessage.all().count() == 3


async def test_limits_per_contact_hold_across_addresses(db: TestDatabase) -> None:
    async with feedback_app(db, CMS_FEEDBACK_LIMIT_CONTACT="2/600") as app:
        results = [
            await submit(
                app.client,
                peer=f"203.0.113.{n}",
                phone="8 916 000-00-01",
                email=None,
                message=f"№{n}",
            )
            for n in range(3)
        ]
        by_email = await submit(
            app.client, peer="203.0.113.50", phone=None, email="ivan@example.ru"
        )
    assert [bool(result["ticket"]) for result in results] == [True, True, False]
    assert results[2]["errors"][0]["code"] == "RATE_LIMITED"
    assert by_email["errors"] == []


async def test_a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing(
    db: TestDatabase,
) -> None:
    async with feedback_app(db, CMS_FEEDBACK_LIMIT_ADDRESS="2/600") as app:
        payloads = []
        for n in range(3):
            result = await app.client.post(
                SUBMIT,
                {"input": form(email=f"p{n}@example.ru", phone=None, message=f"№{n}")},
                **{"x-forwarded-for": f"192.0.2.{n}"},
            )
            payloads.append(result["data"]["submitFeedback"])
    # Every request counted against the peer itself, whatever the header said.
    assert [payload["ticket"] is not None for payload in payloads] == [True, True, False]
    hashes = set(await FeedbackMessage.all().values_list("address_hash", flat=True))
    assert len(hashes) == 1


async def test_a_trusted_proxy_passes_the_client_address_on(db: TestDatabase) -> None:
    secret = "test-secret-key-not-for-production"
    async with feedback_app(
        db, CMS_FEEDBACK_LIMIT_ADDRESS="2/600", CMS_TRUSTED_PROXIES="127.0.0.1"
    ) as app:
        for n in range(3):
            result = await app.client.post(
                SUBMIT,
                {"input": form(email=f"p{n}@example.ru", phone=None, message=f"№{n}")},
                **{"x-forwarded-for": f"192.0.2.{n}"},
            )
            assert result["data"]["submitFeedback"]["errors"] == []
    expected = {
        hmac.new(secret.encode(), f"address\n192.0.2.{n}".encode(), hashlib.sha256).hexdigest()
        for n in range(3)
    }
    assert set(await FeedbackMessage.all().values_list("address_hash", flat=True)) == expected
