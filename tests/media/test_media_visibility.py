"""Who sees a media asset: outside the staff, only what something public uses, or what
an editor marked public; node, relations and the file URLs agree."""

from typing import Any

import pytest

from cms.db import count_statements
from cms.models import Agreement, AgreementDocument, MediaAsset
from cms.services.visibility import MEDIA_USES
from tests.conftest import GraphQLClient, use_api_token
from tests.editing.helpers import PUBLISH_NEWS, act_as, create_news, mutate, sign_in
from tests.media.conftest import MediaApp, payload, pdf_document, png_image
from tests.seed_content import AGREEMENT_SLUG

NODE = """query($id: ID!) { node(id: $id) { ... on MediaAsset { id url caption
  rendition(width: 160) { url } } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateMediaInput!) { updateMedia(id: $id, input: $input) {
  asset { id public } errors { field code message } } }"""
OUTSIDERS = ["anonymous", "token:read"]


async def upload(app: MediaApp, content: bytes, name: str, **texts: Any) -> dict[str, Any]:
    await sign_in(app.client, "editor")
    fields = "id url public caption"
    result = payload(await app.upload_graphql(content, name, fields=fields, **texts))
    assert result["errors"] == [], result["errors"]
    return result["asset"]


async def node(client: GraphQLClient, asset_id: str) -> dict[str, Any] | None:
    return (await client.data(NODE, {"id": asset_id}))["node"]


async def draft_cover(app: MediaApp) -> tuple[dict[str, Any], dict[str, Any]]:
    """An image used only as the cover of a draft news item: (asset, news)."""
    asset = await upload(app, png_image((300, 200)), "cover.png", caption="Тайная подпись")
    news = await create_news(app.client, title="Черновик", cover=asset["id"])
    assert news["status"] == "DRAFT"
    return asset, news


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_a_draft_cover_is_missing_for_outsiders(media_app: MediaApp, who: str) -> None:
    asset, _ = await draft_cover(media_app)
    staff_view = await node(media_app.client, asset["id"])
    assert staff_view is not None
    rendition_path = media_app.local(staff_view["rendition"]["url"])
    await act_as(media_app.client, who)
    assert await node(media_app.client, asset["id"]) is None
    for path in (media_app.local(asset["url"]), rendition_path):
        response = await media_app.http.get(path, headers=media_app.client.headers)
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        # A shared cache must not keep the refusal: the file may become public.
        assert "public" not in response.headers.get("cache-control", "public")
    assert await MediaAsset.all().count() == 1  # it exists: hidden, not missing


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_an_unused_upload_is_missing_for_outsiders(media_app: MediaApp, who: str) -> None:
    asset = await upload(media_app, pdf_document(), "plan.pdf")
    await act_as(media_app.client, who)
    assert await node(media_app.client, asset["id"]) is None
    response = await media_app.http.get(
        media_app.local(asset["url"]), headers=media_app.client.headers
    )
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["editor", "author", "viewer", "token:read_drafts"])
async def test_staff_and_draft_readers_see_everything_privately(
    media_app: MediaApp, who: str
) -> None:
    asset, _ = await draft_cover(media_app)
    await act_as(media_app.client, who)
    assert (await node(media_app.client, asset["id"]))["caption"] == "Тайная подпись"
    response = await media_app.http.get(
        media_app.local(asset["url"]), headers=media_app.client.headers
    )
    assert response.status_code == 200
    # Seen through the caller's rights: no shared cache may keep it.
    assert response.headers["cache-control"].startswith("private")


async def test_publishing_the_news_makes_its_cover_public(media_app: MediaApp) -> None:
    asset, news = await draft_cover(media_app)
    published = await mutate(media_app.client, PUBLISH_NEWS, {"id": news["id"]})
    assert published["errors"] == []
    await act_as(media_app.client, "anonymous")
    assert (await node(media_app.client, asset["id"]))["caption"] == "Тайная подпись"
    response = await media_app.http.get(media_app.local(asset["url"]))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_a_document_of_a_published_agreement_is_public(media_app: MediaApp) -> None:
    asset = await upload(media_app, pdf_document(), "plan.pdf")
    agreement = await Agreement.get(slug=AGREEMENT_SLUG)
    row = await MediaAsset.get(storage_key=asset["url"].split("/media/", 1)[1])
    await AgreementDocument.create(agreement=agreement, asset=row, position=0)
    await act_as(media_app.client, "anonymous")
    assert await node(media_app.client, asset["id"]) is not None
    documents = await media_app.client.data(
        "query($slug: String) { agreement(slug: $slug) { documents { id } } }",
        {"slug": AGREEMENT_SLUG},
    )
    assert {"id": asset["id"]} in documents["agreement"]["documents"]
    response = await media_app.http.get(media_app.local(asset["url"]))
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")


async def test_editors_mark_an_asset_public_and_authors_may_not(media_app: MediaApp) -> None:
    asset = await upload(media_app, png_image(), "body-image.png")
    assert asset["public"] is False
    await act_as(media_app.client, "author")
    refused = await mutate(media_app.client, UPDATE, {"id": asset["id"], "input": {"public": True}})
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [
        (["input", "public"], "FORBIDDEN")
    ]
    await act_as(media_app.client, "editor")
    done = await mutate(media_app.client, UPDATE, {"id": asset["id"], "input": {"public": True}})
    assert done == {"asset": {"id": asset["id"], "public": True}, "errors": []}
    await act_as(media_app.client, "anonymous")
    assert await node(media_app.client, asset["id"]) is not None
    assert (await media_app.http.get(media_app.local(asset["url"]))).status_code == 200


async def test_uploading_as_public_needs_the_right_to_publish(media_app: MediaApp) -> None:
    await use_api_token(media_app.client, "write")
    refused = payload(await media_app.upload_graphql(png_image(), "a.png", public=True))
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [
        (["input", "public"], "FORBIDDEN")
    ]
    assert media_app.originals() == []
    await sign_in(media_app.client, "editor")
    done = payload(await media_app.upload_graphql(png_image(), "a.png", public=True))
    await act_as(media_app.client, "anonymous")
    assert await node(media_app.client, done["asset"]["id"]) is not None


async def test_the_file_route_adds_at_most_one_query(media_app: MediaApp) -> None:
    asset = await upload(media_app, png_image(), "a.png")
    await act_as(media_app.client, "editor")
    await mutate(media_app.client, UPDATE, {"id": asset["id"], "input": {"public": True}})
    rendition = (await node(media_app.client, asset["id"]))["rendition"]["url"]
    assert (await media_app.http.get(media_app.local(rendition))).status_code == 200  # made
    for path in (asset["url"], rendition):
        with count_statements() as statements:
            response = await media_app.http.get(media_app.local(path))
        assert response.status_code == 200
        assert len(statements) == 1, statements


def test_every_reference_to_media_decides_its_visibility() -> None:
    """A new model pointing at MediaAsset must say whether it makes assets public."""
    meta = MediaAsset._meta
    references = set()
    for name in meta.backward_fk_fields:
        field = meta.fields_map[name]
        references.add((field.related_model, field.relation_source_field))
    assert references == set(MEDIA_USES)
    assert not meta.backward_o2o_fields
    assert not meta.m2m_fields
