import base64
import json
from datetime import UTC, datetime

import pytest

from cms.errors import InvalidArgumentError
from cms.services.pagination import Ordering, SortKey, decode_cursor, encode_cursor, window
from cms.services.richtext import excerpt, html_to_text, reading_time_minutes
from cms.services.slugs import slugify

ORDERING = Ordering("test:order", (SortKey("at", "datetime", True), SortKey("id", "int", True)))


class Row:
    def __init__(self, at: datetime, id: int) -> None:
        self.at = at
        self.id = id


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("сотрудничество", "sotrudnichestvo"),
        ("АмурЭкпоФорум2023", "amurekpoforum2023"),
        ("Щука, ёж и Юля!", "shchuka-ezh-i-yulya"),
        ("  IT-куб  ", "it-kub"),
        ("«Точка кипения»", "tochka-kipeniya"),
    ],
)
def test_slugify_transliterates_russian(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_slugify_cuts_long_titles_at_a_word() -> None:
    slug = slugify("очень " * 40)
    assert len(slug) <= 100
    assert not slug.endswith("-")
    assert slug.startswith("ochen-ochen")


def test_html_to_text_keeps_paragraphs_and_drops_scripts() -> None:
    html = "<p>Первый &laquo;абзац&raquo;</p><script>alert(1)</script><p>Второй<br>строка</p>"
    assert html_to_text(html) == "Первый «абзац»\n\nВторой\nстрока"


def test_excerpt_cuts_at_a_word_boundary() -> None:
    text = "Амурская область и Алтайский край определили направления"
    assert excerpt(text, 25) == "Амурская область и…"
    assert excerpt(text, 500) == text
    assert excerpt(text, 0) == ""


def test_reading_time_is_at_least_a_minute() -> None:
    assert reading_time_minutes("") == 1
    assert reading_time_minutes("слово " * 181) == 2


def test_cursor_round_trip() -> None:
    row = Row(datetime(2023, 3, 27, 1, 2, 3, tzinfo=UTC), 42)
    cursor = encode_cursor(ORDERING, row)
    assert decode_cursor(ORDERING, cursor, "after") == (row.at, 42)


def forge(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "",
        forge([]),
        forge({"o": "test:order"}),
        forge(["other:order", "2023-03-27T01:02:03+00:00", 42]),
        forge(["test:order", "not a date", 42]),
        forge(["test:order", "2023-03-27T01:02:03", 42]),  # a naive time
        forge(["test:order", "2023-03-27T01:02:03+00:00", "42"]),  # id as a string
        forge(["test:order", "2023-03-27T01:02:03+00:00", True]),
        forge(["test:order", "2023-03-27T01:02:03+00:00"]),
        "x" * 2000,
    ],
)
def test_forged_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        decode_cursor(ORDERING, cursor, "after")
    assert caught.value.argument == "after"


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ({"first": 101}, "first"),
        ({"last": 500}, "last"),
        ({"first": -1}, "first"),
        ({"first": 5, "last": 5}, "first"),
        ({"first": 5, "before": "x"}, "before"),
        ({"last": 5, "after": "x"}, "after"),
    ],
)
def test_page_size_and_direction_are_validated(arguments: dict, argument: str) -> None:
    request = {"first": None, "after": None, "last": None, "before": None, **arguments}
    with pytest.raises(InvalidArgumentError) as caught:
        window(ORDERING, default_size=20, max_size=100, **request)
    assert caught.value.argument == argument


def test_page_size_defaults_and_backward_paging() -> None:
    assert window(ORDERING, first=None, after=None, default_size=20, max_size=100).limit == 20
    backward = window(ORDERING, first=None, after=None, last=3, default_size=20, max_size=100)
    assert (backward.limit, backward.backward) == (3, True)
