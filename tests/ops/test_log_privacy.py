"""Personal data never reaches the log, even at DEBUG with SQL statements printed: a
realistic sequence (a login, an API token, feedback and an appeal with contacts) is
run with everything logged, and the log is searched for the test's own secrets."""

from __future__ import annotations

import json
import logging
import uuid

from tests.conftest import LOGIN, TestDatabase, client_with, make_settings
from tests.feedback.conftest import SUBMIT
from tests.ops.conftest import captured_log

CREATE_TOKEN = """
mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { token errors { field code message } }
}
"""


async def test_no_password_token_or_contact_in_a_debug_log(db: TestDatabase) -> None:
    from cms.services.auth import create_user

    marker = uuid.uuid4().hex[:10]
    password = f"pw-{marker}-Zebra"
    staff_email = f"admin-{marker}@example.org"
    citizen_email = f"citizen.{marker}@example.ru"
    appellant_email = f"appellant.{marker}@example.ru"
    digits = str(int(marker, 16))[-7:].rjust(7, "1")
    phone = f"+7 916 {digits[:3]}-{digits[3:5]}-{digits[5:]}"
    normalized_phone = f"+7916{digits}"
    name = f"Секретий {marker}"
    text = f"Прошу помочь с участком, мой паспорт {marker}77"
    settings = make_settings(db.url, CMS_LOG_FORMAT="json")
    with captured_log(settings) as output:
        from cms.models import Role

        await create_user(email=staff_email, password=password, role=Role("admin"))
        async with client_with(db, CMS_LOG_FORMAT="json") as client:
            login = await client.data(LOGIN, {"email": staff_email, "password": password})
            session = login["login"]["token"]
            # A failed login too: the wrong password is a secret as well.
            await client.post(LOGIN, {"email": staff_email, "password": password + "x"})
            client.headers["authorization"] = f"Bearer {session}"
            created = await client.data(
                CREATE_TOKEN, {"input": {"name": f"integrator-{marker}", "scopes": ["READ"]}}
            )
            api_token = created["createApiToken"]["token"]
            assert api_token
            client.headers["authorization"] = f"Bearer {api_token}"
            await client.data("{ regions { code } }")
            client.headers.pop("authorization")
            for kind, email in (("QUESTION", citizen_email), ("APPEAL", appellant_email)):
                result = await client.data(
                    SUBMIT,
                    {
                        "input": {
                            "kind": kind,
                            "name": name,
                            "email": email,
                            "phone": phone,
                            "message": text,
                            "consentToProcessing": True,
                        }
                    },
                )
                assert result["submitFeedback"]["ticket"], result
    log = output.getvalue()
    lines = [json.loads(line) for line in log.splitlines()]
    # The capture did see the sequence, SQL included.
    assert any(line["logger"] == "tortoise.db_client" for line in lines)
    assert any("INSERT" in line["message"] for line in lines)
    access = [line for line in lines if line["logger"] == "cms.access"]
    assert len(access) >= 6
    assert all(line["request_id"] != "-" and line["path"] == "/graphql" for line in access)
    for secret in (
        password,
        session,
        api_token,
        staff_email,
        citizen_email,
        appellant_email,
        phone,
        normalized_phone,
        digits,
        name,
        marker + "77",
    ):
        assert secret not in log, secret
    assert logging.getLogger("aiosqlite").getEffectiveLevel() >= logging.INFO
