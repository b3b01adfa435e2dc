"""Hostile HTML in bodies is stored and served sanitised, whatever the disguise."""

from __future__ import annotations

import pytest

from cms.models import Agreement, News
from graphql_schema.relay import parse_global_id
from tests.conftest import GraphQLClient, TestDatabase
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
