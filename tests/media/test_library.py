"""updateMedia and deleteMedia: texts, revisions, CONFLICT while used, files removed."""

from typing import Any

import httpx

from cms.models import Agreement, AgreementDocument, Enterprise, MediaAsset, News, Person
from tests.conftest import login_as
from tests.media.conftest import MediaApp, payload, pdf_document, png_image
from tests.seed_content import AGREEMENT_SLUG, NEWS_SLUG, NEWS_TITLE

UPDATE = """
mutation($id: ID!, $input: UpdateMediaInput!) { updateMedia(id: $id, input: $input) {
  asset { alt caption credit revision } errors { field code message } } }
"""
DELETE = "mutation($id: ID!) { deleteMedia(id: $id) { deletedId errors { field code message } } }"


async def fetch(app: MediaApp, url: str) -> httpx.Response:
    """GET a media URL as the client's caller (the files here are used by nothing public)."""
    return await app.http.get(app.local(url), headers=app.client.headers)


async def upload(app: MediaApp, content: bytes, name: str, alt: str | None) -> dict[str, Any]:
    asset = payload(await app.upload_graphql(content, name, alt=alt, fields="id url revision"))[
        "asset"
    ]
    assert asset is not None
    return asset


async def test_update_texts_and_revision(media_app: MediaApp) -> None:
    await login_as(media_app.client, "author")
    asset = await upload(media_app, png_image(), "a.png", "Старый alt")
    assert asset["revision"] == 1
    result = (
        await media_app.client.data(
            UPDATE, {"id": asset["id"], "input": {"alt": " Новый  alt ", "caption": "Подпись"}}
        )
    )["updateMedia"]
    assert result["errors"] == []
    assert result["asset"] == {
        "alt": "Новый alt",
        "caption": "Подпись",
        "credit": None,
        "revision": 2,
    }
    # Absent fields stay; null clears.
    result = (
        await media_app.client.data(
            UPDATE, {"id": asset["id"], "input": {"caption": None, "expectedRevision": 2}}
        )
    )["updateMedia"]
    assert result["asset"]["alt"] == "Новый alt"
    assert result["asset"]["caption"] is None
    assert result["asset"]["revision"] == 3


async def test_update_keeps_alt_required_and_checks_revision(media_app: MediaApp) -> None:
    await login_as(media_app.client, "editor")
    image = await upload(media_app, png_image(), "a.png", "Alt")
    for alt in (None, "", "  "):
        result = (await media_app.client.data(UPDATE, {"id": image["id"], "input": {"alt": alt}}))[
            "updateMedia"
        ]
        assert result["asset"] is None
        assert [(e["field"], e["code"]) for e in result["errors"]] == [
            (["input", "alt"], "REQUIRED")
        ]
    stale = (
        await media_app.client.data(
            UPDATE, {"id": image["id"], "input": {"credit": "ТАСС", "expectedRevision": 7}}
        )
    )["updateMedia"]
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [
        (["input", "expectedRevision"], "CONFLICT")
    ]
    assert (await MediaAsset.get(id=1)).credit is None
    # A document needs no alt.
    document = await upload(media_app, pdf_document(), "d.pdf", None)
    result = (await media_app.client.data(UPDATE, {"id": document["id"], "input": {"alt": None}}))[
        "updateMedia"
    ]
    assert result["errors"] == []


async def test_update_and_delete_need_rights(media_app: MediaApp) -> None:
    await login_as(media_app.client, "editor")
    asset = await upload(media_app, png_image(), "a.png", "Alt")
    media_app.client.headers.clear()
    for query, variables in (
        (UPDATE, {"id": asset["id"], "input": {"alt": "x"}}),
        (DELETE, {"id": asset["id"]}),
    ):
        errors = await media_app.client.errors(query, variables)
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    await login_as(media_app.client, "viewer")
    errors = await media_app.client.errors(DELETE, {"id": asset["id"]})
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert await MediaAsset.exists(id=1)


async def test_delete_is_a_conflict_while_used_and_names_the_places(media_app: MediaApp) -> None:
    await login_as(media_app.client, "editor")
    asset = await upload(media_app, png_image((500, 400)), "a.png", "Alt")
    row = await MediaAsset.get(storage_key=asset["url"].split("/media/", 1)[1])
    person = await Person.all().first()
    enterprise = await Enterprise.all().first()
    agreement = await Agreement.get(slug=AGREEMENT_SLUG)
    assert person is not None
    assert enterprise is not None
    await News.filter(slug=NEWS_SLUG).update(cover_id=row.pk)
    await Person.filter(id=person.pk).update(photo_id=row.pk)
    await Enterprise.filter(id=enterprise.pk).update(logo_id=row.pk)
    await AgreementDocument.create(agreement=agreement, asset=row, position=0)

    result = (await media_app.client.data(DELETE, {"id": asset["id"]}))["deleteMedia"]
    assert result["deletedId"] is None
    (error,) = result["errors"]
    assert (error["field"], error["code"]) == (["id"], "CONFLICT")
    message = error["message"]
    assert f"обложка новости «{NEWS_TITLE}»" in message
    assert f"фото персоны «{person.full_name}»" in message
    assert f"логотип предприятия «{enterprise.name}»" in message
    assert f"документ соглашения «{agreement.title}»" in message
    assert await MediaAsset.exists(id=row.pk)
    assert media_app.originals()


async def test_delete_removes_the_file_and_its_renditions_with_the_last_asset(
    media_app: MediaApp,
) -> None:
    await login_as(media_app.client, "editor")
    content = png_image((700, 500))
    first = await upload(media_app, content, "a.png", "Первый")
    second = await upload(media_app, content, "b.png", "Второй")
    data = await media_app.client.data(
        "query($id: ID!) { node(id: $id) { ... on MediaAsset { rendition(width: 320) { url } } } }",
        {"id": first["id"]},
    )
    rendition_url = data["node"]["rendition"]["url"]
    assert (await fetch(media_app, rendition_url)).status_code == 200
    assert len(media_app.stored_files()) == 2

    result = (await media_app.client.data(DELETE, {"id": first["id"]}))["deleteMedia"]
    assert result == {"deletedId": first["id"], "errors": []}
    # The other asset still shows these bytes.
    assert len(media_app.stored_files()) == 2
    assert (await fetch(media_app, second["url"])).status_code == 200

    result = (await media_app.client.data(DELETE, {"id": second["id"]}))["deleteMedia"]
    assert result["errors"] == []
    assert media_app.stored_files() == []
    assert (await fetch(media_app, second["url"])).status_code == 404
    assert (await fetch(media_app, rendition_url)).status_code == 404
    again = (await media_app.client.data(DELETE, {"id": second["id"]}))["deleteMedia"]
    assert [e["code"] for e in again["errors"]] == ["NOT_FOUND"]
