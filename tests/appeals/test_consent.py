"""The consent to the processing of personal data as a versioned document: admins
write and publish versions; every submission records the version, time and channel."""

from __future__ import annotations

from cms.models import ConsentChannel, FeedbackMessage
from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import sign_in
from tests.feedback.conftest import feedback_app, form

E = "errors { field code message }"
DOCUMENT = "id version title text publishedAt"
CREATE = f"""
mutation($input: ConsentDocumentInput!) {{
  createConsentDocument(input: $input) {{ document {{ {DOCUMENT} }} {E} }}
}}
"""
UPDATE = f"""
mutation($input: UpdateConsentDocumentInput!) {{
  updateConsentDocument(input: $input) {{ document {{ {DOCUMENT} }} {E} }}
}}
"""
PUBLISH = f"""
mutation($id: ID!) {{ publishConsentDocument(id: $id) {{ document {{ {DOCUMENT} }} {E} }} }}
"""
CURRENT = f"{{ consentDocument {{ {DOCUMENT} }} }}"
SUBMIT = """
mutation($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { ticket errors { field code message } }
}
"""


async def _publish(client: GraphQLClient, title: str, text: str) -> dict[str, object]:
    created = (await client.data(CREATE, {"input": {"title": title, "text": text}}))[
        "createConsentDocument"
    ]
    assert created["errors"] == []
    published = (await client.data(PUBLISH, {"id": created["document"]["id"]}))[
        "publishConsentDocument"
    ]
    assert published["errors"] == []
    return published["document"]


async def test_versions_are_drafted_published_and_kept(writer_client: GraphQLClient) -> None:
    assert (await writer_client.data(CURRENT))["consentDocument"] is None
    await sign_in(writer_client, "admin")
    draft = (
        await writer_client.data(
            CREATE, {"input": {"title": "Согласие", "text": "Я даю согласие..."}}
        )
    )["createConsentDocument"]["document"]
    assert draft["version"] == 1
    assert draft["publishedAt"] is None
    # A draft is not in force yet, and can be edited.
    assert (await writer_client.data(CURRENT))["consentDocument"] is None
    edited = (
        await writer_client.data(
            UPDATE,
            {"input": {"id": draft["id"], "title": "Согласие", "text": "Я даю согласие (ред.)"}},
        )
    )["updateConsentDocument"]
    assert edited["document"]["text"] == "Я даю согласие (ред.)"
    published = (await writer_client.data(PUBLISH, {"id": draft["id"]}))["publishConsentDocument"][
        "document"
    ]
    assert published["publishedAt"] is not None
    assert (await writer_client.data(CURRENT))["consentDocument"]["version"] == 1
    # A published version never changes.
    refused = (
        await writer_client.data(
            UPDATE, {"input": {"id": draft["id"], "title": "Другое", "text": "Другое"}}
        )
    )["updateConsentDocument"]
    assert [error["code"] for error in refused["errors"]] == ["INVALID"]
    again = (await writer_client.data(PUBLISH, {"id": draft["id"]}))["publishConsentDocument"]
    assert [error["code"] for error in again["errors"]] == ["INVALID"]
    second = await _publish(writer_client, "Согласие", "Новая редакция")
    assert second["version"] == 2
    assert (await writer_client.data(CURRENT))["consentDocument"]["text"] == "Новая редакция"
    versions = await writer_client.data("{ consentDocuments { version text } }")
    assert versions["consentDocuments"] == [
        {"version": 2, "text": "Новая редакция"},
        {"version": 1, "text": "Я даю согласие (ред.)"},
    ]
    empty = (await writer_client.data(CREATE, {"input": {"title": " ", "text": ""}}))[
        "createConsentDocument"
    ]
    assert sorted(error["field"][-1] for error in empty["errors"]) == ["text", "title"]


async def test_each_submission_records_the_exact_version_time_and_channel(
    db: TestDatabase,
) -> None:
    async with feedback_app(db) as app:
        before = await app.client.post(SUBMIT, {"input": form(message="До согласия")})
        await sign_in(app.client, "admin")
        first = await _publish(app.client, "Согласие", "Редакция 1")
        app.client.headers.pop("authorization")
        on_first = await app.client.post(
            SUBMIT, {"input": form(message="По первой редакции", consentVersion=1)}
        )
        by_app = await app.client.post(
            SUBMIT,
            {"input": form(message="Из приложения", email="olga@example.ru", channel="MOBILE_APP")},
        )
        await sign_in(app.client, "admin")
        await _publish(app.client, "Согласие", "Редакция 2")
        app.client.headers.pop("authorization")
        # A form that still shows the first version is refused: its sender has not
        # seen the text in force.
        stale = await app.client.post(
            SUBMIT,
            {"input": form(message="Старая форма", email="petr@example.ru", consentVersion=1)},
        )
        on_second = await app.client.post(
            SUBMIT,
            {"input": form(message="По второй", email="anna@example.ru", consentVersion=2)},
        )
    assert before["data"]["submitFeedback"]["errors"] == []
    assert [error["code"] for error in stale["data"]["submitFeedback"]["errors"]] == ["CONFLICT"]
    assert stale["data"]["submitFeedback"]["errors"][0]["field"] == ["input", "consentVersion"]
    rows = {
        row.message: row for row in await FeedbackMessage.all().prefetch_related("consent_version")
    }
    assert rows["До согласия"].consent_version is None
    assert rows["По первой редакции"].consent_version.version == 1  # type: ignore[union-attr]
    assert rows["По первой редакции"].consent_channel is ConsentChannel.WEB_FORM
    assert rows["По первой редакции"].consent_at is not None
    assert rows["Из приложения"].consent_version.version == 1  # type: ignore[union-attr]
    # Staff see them with the message.
    async with feedback_app(db) as app:
        await sign_in(app.client, "editor")
        listed = await app.client.data(
            "{ feedbackMessages { edges { node { message consentChannel "
            "consentDocument { version text } } } } }"
        )
    seen = {edge["node"]["message"]: edge["node"] for edge in listed["feedbackMessages"]["edges"]}
    assert seen["Из приложения"]["consentChannel"] == "MOBILE_APP"
    assert seen["По первой редакции"]["consentDocument"] == {"version": 1, "text": "Редакция 1"}
    assert seen["До согласия"]["consentDocument"] is None
    assert rows["Из приложения"].consent_channel is ConsentChannel.MOBILE_APP
    assert rows["По второй"].consent_version.version == 2  # type: ignore[union-attr]
    assert "Старая форма" not in rows
    # What past submissions agreed to did not change with the new version.
    assert rows["По первой редакции"].consent_version.text == "Редакция 1"  # type: ignore[union-attr]
    assert on_first["data"]["submitFeedback"]["errors"] == []
    assert by_app["data"]["submitFeedback"]["errors"] == []
    assert on_second["data"]["submitFeedback"]["errors"] == []
    assert first["version"] == 1
