"""A small corpus of Russian sentences for the search tests (after the seed news and
the demo generator's phrasing), with the items each query must and must not find."""

from __future__ import annotations

from datetime import timedelta

from tortoise.models import Model

from cms.models import Enterprise, Event, News, Organization, Person, PublicationState, Tag
from cms.services.visibility import now

PUBLISHED = PublicationState.PUBLISHED

# key -> (model, fields); news are published a day apart (later keys are newer).
NEWS: dict[str, dict[str, str]] = {
    "agreement": {
        "title": "Подписано соглашение о сотрудничестве",
        "lead": "Амурская область и Алтайский край договорились о встречах.",
        "body_text": "Стороны обсудили торговлю, туризм и образование.",
    },
    "enterprises": {
        "title": "Предприятия Алтайского края на выставке в Благовещенске",
        "lead": "Делегация привезла продукцию.",
        "body_text": "Двенадцать предприятий показали сыры, муку и технику.",
    },
    "cosmodrome": {
        "title": "Космодром «Восточный» принял делегацию",
        "lead": "Гости осмотрели стартовый комплекс.",
        "body_text": "Запуск ракеты запланирован на осень.",
    },
    "cosmodrome_body": {
        "title": "Итоги визита делегации",
        "lead": "Визит продлился три дня.",
        "body_text": "Делегация побывала на заводах и на космодроме.",
    },
    "space": {
        "title": "Космос и наука: лекция для школьников",
        "lead": "В библиотеке прошла встреча с учёными.",
        "body_text": "Школьники узнали о спутниках.",
    },
    "tree": {
        "title": "Новогодняя ЁЛКА на площади Ленина",
        "lead": "Ёлку украсили жители города.",
        "body_text": "Праздник начнётся вечером.",
    },
    "red": {
        "title": "Красная площадь и красные флаги",
        "lead": "Фотографии с парада.",
        "body_text": "Кран на стройке у площади.",
    },
    "english": {
        "title": "Investment forum AmurExpo",
        "lead": "Investors met the governor.",
        "body_text": "Сыроварня и investments.",
    },
}

# Hidden from anonymous callers; each mentions «космодром» and «тайное».
HIDDEN_NEWS: dict[str, dict[str, object]] = {
    "draft": {"title": "Черновик: космодром и тайное совещание", "status": PublicationState.DRAFT},
    "scheduled": {"title": "Запланировано: космодром и тайное решение", "future": True},
    "trashed": {"title": "В корзине: космодром и тайное письмо", "trashed": True},
    "archived": {"title": "Архив: космодром и тайное прошлое", "status": PublicationState.ARCHIVED},
}

OTHERS: dict[str, tuple[type[Model], dict[str, str]]] = {
    "tag": (Tag, {"slug": "sotrudnichestvo-t", "name": "сотрудничество"}),
    "cheese": (
        Enterprise,
        {"slug": "syrovarnya-t", "name": "Сыроварня Агрипины", "description": "Сыры из молока"},
    ),
    "government": (Organization, {"name": "Правительство Алтайского края", "short_name": "ПАК"}),
    "governor": (Person, {"full_name": "Пётр Иванов", "position": "губернатор области"}),
    "forum": (Event, {"slug": "forum-t", "title": "Форум АмурЭкспо", "place": "Благовещенск"}),
}

# query -> (must find, must not find): keys of NEWS, HIDDEN_NEWS and OTHERS.
QUERIES: list[tuple[str, set[str], set[str]]] = [
    ("сотрудничества", {"agreement", "tag"}, {"enterprises", "red"}),
    ("сотрудничестве", {"agreement", "tag"}, {"enterprises"}),
    ("Сотрудничество!", {"agreement", "tag"}, set()),
    ("предприятий Алтайского края", {"enterprises"}, {"agreement", "red", "government"}),
    ("предприятия", {"enterprises"}, {"agreement"}),
    ("Алтайского края", {"enterprises", "agreement", "government"}, {"red"}),
    ("края", {"enterprises", "agreement", "government"}, {"red"}),
    ("космодром", {"cosmodrome", "cosmodrome_body"}, {"space"} | set(HIDDEN_NEWS)),
    # (Not «космодрома»: Snowball stems «космодром» as «космодр» but «космодрома» as
    # «космодром», on both databases; the prefix of the last word covers «космодром».)
    ("космодроме", {"cosmodrome_body"}, {"space"}),
    ("косм", {"cosmodrome", "cosmodrome_body", "space"}, {"red"} | set(HIDDEN_NEWS)),
    ("елка", {"tree"}, set()),
    ("ёлки", {"tree"}, set()),
    ("ЕЛКУ", {"tree"}, set()),
    ('"соглашение о сотрудничестве"', {"agreement"}, {"tag"}),
    ('"сотрудничестве соглашение"', set(), {"agreement"}),
    ("космодром -ракеты", {"cosmodrome_body"}, {"cosmodrome"}),
    ('космодром -"запуск ракеты"', {"cosmodrome_body"}, {"cosmodrome"}),
    ("делегация космодром", {"cosmodrome", "cosmodrome_body"}, {"enterprises", "space"}),
    ("сыры", {"enterprises", "cheese"}, set()),
    ("губернатора", {"governor"}, set()),
    ("Петр", {"governor"}, set()),
    ("пак", {"government"}, set()),
    ("Благовещенск", {"forum"}, set()),
    ("investors", {"english"}, set()),
    ("и", set(), set(NEWS)),
    ("тайное", set(), set(HIDDEN_NEWS)),
]

# Queries whose first hit is fixed: a title outweighs a body.
TOP_HITS: list[tuple[str, str]] = [
    ("космодром", "cosmodrome"),
    ("сыры", "cheese"),
]


async def build() -> dict[str, tuple[str, int]]:
    """Create the corpus; key -> (kind, id)."""
    made: dict[str, tuple[str, int]] = {}
    moment = now() - timedelta(days=30)
    for number, (key, fields) in enumerate(NEWS.items()):
        item = await News.create(
            slug=f"corpus-{key}",
            status=PUBLISHED,
            published_at=moment + timedelta(days=number),
            **fields,
        )
        made[key] = ("News", item.pk)
    for key, spec in HIDDEN_NEWS.items():
        status = spec.get("status", PUBLISHED)
        published_at = now() + timedelta(days=3) if spec.get("future") else moment
        item = await News.create(
            slug=f"corpus-{key}",
            title=str(spec["title"]),
            status=status,
            published_at=published_at,
            deleted_at=now() if spec.get("trashed") else None,
        )
        made[key] = ("News", item.pk)
    for key, (model, fields) in OTHERS.items():
        other = await model.create(**fields)
        made[key] = (model.__name__, other.pk)
    # The tag is public once a published news uses it.
    from cms.models import NewsTag

    await NewsTag.create(news_id=made["agreement"][1], tag_id=made["tag"][1])
    return made
