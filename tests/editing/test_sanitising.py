"""Hostile HTML in bodies is stored and served sanitised, whatever the disguise."""

from __future__ import annotations

import pytest

from cms.models import Agreement, News
from cms.settings import SettingsError, load_settings
from graphql_schema.relay import parse_global_id
from tests.conftest import GraphQLClient, TestDatabase, client_with
from tests.editing.helpers import create_news, mutate, sign_in

# (hostile body, what must not survive, text that must)
HOSTILE = [
    ("<p>До<script>alert('x')</script>после</p>", "<script", "Допосле"),
    ('<img src="x.png" onerror="alert(1)">Картинка', "onerror", "Картинка"),
    ('<a href="javascript:alert(1)">ссылка</a>', "javascript:", "ссылка"),
    ('<a href="JaVaScRiPt&#58;alert(1)">кодированная</a>', "alert", "кодированная"),
    ('<a href=" java\tscript:alert(1)">с табуляцией</a>', "script:", "с табуляцией"),
    ('<svg onload="alert(1)"><script>alert(2)</script></svg>текст', "svg", "текст"),
    ('<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>ok', "javascript", "ok"),
    ('<p style="background:url(javascript:alert(1))">стиль</p>', "style", "стиль"),
    ("<style>body{display:none}</style><p>без стилей</p>", "display", "без стилей"),
    ("<scr<script>ipt>alert(1)</scr</script>ipt>вложенный", "<script", "вложенный"),
    ('<iframe src="https://evil.example"></iframe>рамка', "iframe", "рамка"),
    ('<img src="data:text/html;base64,PHNjcmlwdD4=">данные', "data:", "данные"),
    ('<div onclick="steal()" onmouseover="steal()">обработчики</div>', "steal", "обработчики"),
    ('<form action="https://evil"><input name="p"></form>форма', "form", "форма"),
    ("<math><mtext><img src=x onerror=alert(1)></mtext></math>формула", "onerror", "формула"),
]


@pytest.mark.parametrize(("body", "forbidden", "kept"), HOSTILE)
async def test_hostile_html_is_stored_and_served_sanitised(
    writer_client: GraphQLClient, db: TestDatabase, body: str, forbidden: str, kept: str
) -> None:
    await sign_in(writer_client, "author")
    news = await create_news(writer_client, title="Проверка", body=body)
    served = news["body"]["html"]
    _, pk = parse_global_id(news["id"])
    stored = (await News.get(id=pk)).body_html
    assert stored == served
    assert forbidden.lower() not in stored.lower()
    assert kept in news["body"]["text"]


async def test_links_get_rel_and_markdown_is_sanitised_too(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    news = await create_news(
        writer_client,
        title="Ссылки",
        body='<a href="https://amurobl.ru" target="_blank">портал</a>'
        ' <a href="/x" target="top">t</a>',
    )
    html = news["body"]["html"]
    assert '<a href="https://amurobl.ru" target="_blank" rel="noopener noreferrer">' in html
    assert 'target="top"' not in html
    markdown = await create_news(
        writer_client,
        title="Markdown",
        bodyFormat="MARKDOWN",
        body="## Итоги\n\n**Важно**: [ссылка](javascript:alert(1)) <script>alert(1)</script>\n\n"
        "<img src=x onerror=alert(1)>",
    )
    html = markdown["body"]["html"]
    assert "<h2>Итоги</h2>" in html
    assert "<strong>Важно</strong>" in html
    for hostile in ("<script", "onerror", 'href="javascript'):
        assert hostile not in html
    assert markdown["body"]["text"].startswith("Итоги")


async def test_agreement_bodies_are_sanitised_and_plain_fields_cleaned(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    payload = await mutate(
        writer_client,
        "mutation($input: AgreementInput!) { createAgreement(input: $input) { agreement { id "
        "title summary body { html text } } errors { code } } }",
        {
            "input": {
                "title": "  Соглашение\u200b о\nсотрудничестве ",
                "summary": "Кратко\u202e",
                "body": '<p onclick="x()">Текст<script>alert(1)</script></p>',
            }
        },
    )
    agreement = payload["agreement"]
    assert agreement["title"] == "Соглашение о сотрудничестве"
    assert agreement["summary"] == "Кратко"
    assert agreement["body"] == {"html": "<p>Текст</p>", "text": "Текст"}
    _, pk = parse_global_id(agreement["id"])
    assert (await Agreement.get(id=pk)).body_html == "<p>Текст</p>"


# Images a body may show: the CMS's own media (CMS_PUBLIC_URL, https://api.invest.example
# in tests) and the site (CMS_SITE_URL, https://invest.example) by default.
IMAGES = (
    '<p>Фото<img src="https://api.invest.example/media/ab/photo.webp" alt="своё"></p>'
    '<p><img src="https://invest.example/static/map.png" alt="сайт"></p>'
    '<p><img src="/media/cd/relative.png" alt="относительный"></p>'
    '<p>Пиксель<img src="https://tracker.example/pixel.gif?id=42" width="1" height="1"></p>'
    '<p><img src="//tracker.example/p.gif" alt="без схемы"></p>'
    '<p><img src="https://API.INVEST.EXAMPLE.tracker.example/x.gif" alt="похожий"></p>'
    '<p><img src="https://cdn.example/x.png" alt="cdn"></p>'
    '<p><img alt="без адреса"></p>'
)


async def test_images_from_other_hosts_are_dropped(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    news = await create_news(writer_client, title="Картинки", body=IMAGES)
    html = news["body"]["html"]
    assert 'src="https://api.invest.example/media/ab/photo.webp"' in html
    assert 'src="https://invest.example/static/map.png"' in html
    assert 'src="/media/cd/relative.png"' in html
    for dropped in ("tracker", "cdn.example", "без адреса", "без схемы"):
        assert dropped not in html
    assert html.count("<img") == 3
    assert "Пиксель" in html  # the text around them stays
    assert "Фото" in html
    markdown = await create_news(
        writer_client,
        title="Markdown",
        bodyFormat="MARKDOWN",
        body="![пиксель](https://tracker.example/p.gif) ![своё](https://invest.example/a.png)",
    )
    assert "tracker" not in markdown["body"]["html"]
    assert 'src="https://invest.example/a.png"' in markdown["body"]["html"]


async def test_allowed_image_hosts_come_from_settings(db: TestDatabase) -> None:
    async with client_with(db, CMS_RICHTEXT_IMAGE_HOSTS="cdn.example, Img.Example.RU") as app:
        await sign_in(app, "editor")
        news = await create_news(
            app,
            title="Картинки",
            body=IMAGES + '<img src="https://img.example.ru/a.png" alt="второй">',
        )
    html = news["body"]["html"]
    assert 'src="https://cdn.example/x.png"' in html
    assert 'src="https://img.example.ru/a.png"' in html
    # The CMS's own media are always allowed; the site only by default.
    assert 'src="https://api.invest.example/media/ab/photo.webp"' in html
    assert "https://invest.example/static" not in html
    assert "tracker" not in html


def test_image_hosts_setting() -> None:
    base = {"CMS_SECRET_KEY": "x", "CMS_DATABASE_URL": "sqlite://:memory:"}
    defaults = load_settings(
        {**base, "CMS_PUBLIC_URL": "https://api.a.ru:8443", "CMS_SITE_URL": "https://A.ru"}
    )
    assert defaults.richtext_image_hosts == ("api.a.ru", "a.ru")
    configured = load_settings({**base, "CMS_RICHTEXT_IMAGE_HOSTS": "cdn.a.ru,img.b.ru"})
    assert configured.richtext_image_hosts == ("127.0.0.1", "cdn.a.ru", "img.b.ru")
    for wrong in ("https://cdn.a.ru", "cdn.a.ru/images", "cdn a.ru"):
        with pytest.raises(SettingsError, match="CMS_RICHTEXT_IMAGE_HOSTS"):
            load_settings({**base, "CMS_RICHTEXT_IMAGE_HOSTS": wrong})
