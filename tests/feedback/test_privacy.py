"""Personal data: export and erasure for one person, retention, and no trace in logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cms.models import FeedbackMessage, FeedbackNotification
from cms.services.feedback.privacy import apply_retention
from tests.conftest import GraphQLClient, TestDatabase, login_as, make_settings
from tests.feedback.conftest import SmtpServer, feedback_app, running, submit, until
from tests.feedback.test_queue import QUEUE, UPDATE

ROOT = Path(__file__).resolve().parents[2]
ERASE = """
mutation($input: EraseFeedbackPersonalDataInput!) {
  eraseFeedbackPersonalData(input: $input) { tickets errors { field code message } }
}
"""
PERSONAL_DATA = """
query($email: String, $phone: String) { feedbackPersonalData(email: $email, phone: $phone) {
  email phone messages { ticket name email phone message consentAt anonymizedAt } } }
"""


def cms_command(database: TestDatabase, *args: str, **environ: str) -> str:
    """Runs `python -m cms ...` against the test database; its standard output."""
    env = {
        **os.environ,
        "CMS_DATABASE_URL": database.url,
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        **environ,
    }
    done = subprocess.run(
        [sys.executable, "-m", "cms", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def two_people(client: GraphQLClient) -> tuple[list[str], str]:
    """Ivan's two messages (by e-mail, then by phone only) and Olga's one."""
    first = await submit(client, message="Первый вопрос Ивана")
    second = await submit(
        client, peer="198.51.100.2", email=None, phone="8 916 123 45 67", message="Второй"
    )
    olga = await submit(
        client, peer="198.51.100.3", name="Ольга", email="olga@example.ru", phone=None
    )
    return [first["ticket"], second["ticket"]], olga["ticket"]


async def test_export_prints_everything_stored_about_an_e_mail_or_phone(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    ivan, _ = await two_people(writer_client)
    by_email = json.loads(cms_command(db, "feedback-export", "--email", "IVAN.PETROV@example.ru"))
    assert by_email["contact"] == {"email": "ivan.petrov@example.ru", "phone": None}
    (message,) = by_email["messages"]
    assert message["ticket"] == ivan[0]
    assert message["name"] == "Иван Петров"
    assert message["phone"] == "+79161234567"
    assert message["message"] == "Первый вопрос Ивана"
    assert message["kind"] == "QUESTION"
    assert message["status"] == "NEW"
    assert message["consent_at"]
    assert message["address_hash"]
    by_phone = json.loads(cms_command(db, "feedback-export", "--phone", "+7 (916) 123-45-67"))
    assert [item["ticket"] for item in by_phone["messages"]] == ivan
    both = json.loads(
        cms_command(db, "feedback-export", "--email", "olga@example.ru", "--phone", "89161234567")
    )
    assert len(both["messages"]) == 3


async def test_admins_export_and_erase_a_persons_data_through_the_api(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    ivan, olga = await two_people(writer_client)
    await login_as(writer_client, "admin")
    exported = (await writer_client.data(PERSONAL_DATA, {"phone": "8 916 123-45-67"}))[
        "feedbackPersonalData"
    ]
    assert exported["phone"] == "+79161234567"
    assert [message["ticket"] for message in exported["messages"]] == ivan
    bad = await writer_client.errors(PERSONAL_DATA, {"phone": "123"})
    assert bad[0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "phone"}

    erased = (
        await writer_client.data(
            ERASE, {"input": {"email": "ivan.petrov@example.ru", "phone": "+79161234567"}}
        )
    )["eraseFeedbackPersonalData"]
    assert erased == {"tickets": ivan, "errors": []}
    for ticket in ivan:
        row = await FeedbackMessage.get(ticket=ticket)
        assert (row.name, row.email, row.phone, row.subject, row.message) == (
            "",
            None,
            None,
            None,
            "",
        )
        assert (row.address_hash, row.fingerprint, row.staff_note) == (None, None, None)
        assert row.search_text == ticket.lower()
        assert row.anonymized_at is not None
    # Nothing is left to find by the contact; the tickets remain for statistics.
    again = (await writer_client.data(PERSONAL_DATA, {"email": "ivan.petrov@example.ru"}))[
        "feedbackPersonalData"
    ]
    assert again["messages"] == []
    found = (await writer_client.data(QUEUE, {"search": ivan[0]}))["feedbackMessages"]
    assert [edge["node"]["name"] for edge in found["edges"]] == [""]
    assert (await FeedbackMessage.get(ticket=olga)).email == "olga@example.ru"
    nothing = (await writer_client.data(ERASE, {"input": {}}))["eraseFeedbackPersonalData"]
    assert nothing["errors"][0]["code"] == "REQUIRED"
    assert nothing["errors"][0]["field"] == ["input", "email"]


async def test_erasure_from_the_command_line(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    ivan, olga = await two_people(writer_client)
    output = cms_command(db, "feedback-erase", "--phone", "8 (916) 123-45-67")
    assert ivan[0] in output
    assert ivan[1] in output
    assert await FeedbackMessage.filter(anonymized_at__isnull=False).count() == 2
    assert (await FeedbackMessage.get(ticket=olga)).anonymized_at is None


async def test_retention_anonymises_old_messages(db: TestDatabase) -> None:
    environ = {"CMS_SMTP_URL": "smtp://127.0.0.1:9", "CMS_FEEDBACK_NOTIFY_TO": "staff@x.ru"}
    async with feedback_app(db, **environ) as app:  # notifications queued, never sent
        ivan, olga = await two_people(app.client)
    long_ago = datetime.now(UTC) - timedelta(days=40)
    await FeedbackMessage.filter(ticket__in=ivan).update(created_at=long_ago)
    await FeedbackNotification.filter(message__ticket=ivan[0]).update(sent_at=long_ago)
    settings = make_settings(db.url, CMS_FEEDBACK_RETENTION_DAYS="30")
    report = await apply_retention(settings)
    assert (report.mode, report.affected) == ("anonymize", 2)
    assert set(
        await FeedbackMessage.filter(anonymized_at__isnull=False).values_list("ticket", flat=True)
    ) == set(ivan)
    assert (await FeedbackMessage.get(ticket=olga)).message
    assert (await apply_retention(settings)).affected == 0  # already done
    # The finished notification of an old message is dropped; pending ones stay.
    assert set(await FeedbackNotification.all().values_list("message__ticket", flat=True)) == {
        ivan[1],
        olga,
    }


async def test_retention_can_delete_instead(db: TestDatabase, smtp_server: SmtpServer) -> None:
    environ = {"CMS_SMTP_URL": smtp_server.url, "CMS_FEEDBACK_NOTIFY_TO": "staff@example.ru"}
    async with feedback_app(db, **environ) as app:
        ivan, olga = await two_people(app.client)
    await FeedbackMessage.filter(ticket__in=ivan).update(
        created_at=datetime.now(UTC) - timedelta(days=400)
    )
    retention = {"CMS_FEEDBACK_RETENTION_DAYS": "365", "CMS_FEEDBACK_RETENTION_MODE": "delete"}
    assert "2 messages" in cms_command(db, "feedback-retention", "--dry-run", **retention)
    assert await FeedbackMessage.all().count() == 3
    assert "2 messages" in cms_command(db, "feedback-retention", **retention)
    assert await FeedbackMessage.all().values_list("ticket", flat=True) == [olga]
    # Their pending staff notifications go with them.
    assert await FeedbackNotification.all().values_list("message__ticket", flat=True) == [olga]


async def test_personal_data_never_reaches_the_logs(
    db: TestDatabase, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # every logger, INFO and above, as in production
    email, phone, text, name = (
        "secret.person@example.ru",
        "+7 914 555-66-77",
        "Совершенно секретный текст обращения",
        "Секретов Секрет",
    )
    environ = {"CMS_SMTP_URL": smtp_server.url, "CMS_FEEDBACK_NOTIFY_TO": "staff@example.ru"}
    async with feedback_app(db, **environ) as app, running(app):
        payload = await submit(app.client, name=name, email=email, phone=phone, message=text)
        await submit(app.client, name=name, email=email, phone="+7 123", message=text)  # refused
        await until(lambda: FeedbackNotification.filter(sent_at__isnull=False).exists())
        await login_as(app.client, "admin")
        queue = (await app.client.data(QUEUE))["feedbackMessages"]
        assert queue["edges"][0]["node"]["email"] == email
        message_id = queue["edges"][0]["node"]["id"]
        await app.client.data(UPDATE, {"input": {"id": message_id, "status": "ANSWERED"}})
        await app.client.data(PERSONAL_DATA, {"email": email})
        await app.client.data(ERASE, {"input": {"email": email}})
    logged = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    # The logs did record the work: requests and the e-mail by ticket...
    assert "POST /graphql 200" in logged
    assert f"notification of {payload['ticket']} sent" in logged
    # ...and nothing about the person.
    for secret in (email, "secret.person", "79145556677", "914 555", text, "Секретов"):
        assert secret not in logged
