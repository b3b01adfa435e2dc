"""Synthetic Russian news for benchmarks and demos (`python -m cms demo N`).

Texts are composed from phrase banks of a regional investment portal; the same
`seed` gives the same texts. Rows go in with `bulk_create`, one transaction per
batch; ids of the new news are read back by slug, which works the same on
SQLite and PostgreSQL and leaves PostgreSQL's id sequences in step.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from string import Formatter

from tortoise.transactions import in_transaction

from cms.db import flat_values
from cms.models import ContentModel, News, NewsRegion, NewsTag, PublicationState, Region, Tag
from cms.services import revisions
from cms.services.content_types import NEWS, TAG, ContentType
from cms.services.richtext import html_to_text
from cms.services.slugs import slugify
from cms.services.viewer import Viewer

DEFAULT_BATCH_SIZE = 1000
MAX_SCHEDULED = 20
_SLUG_BASE_LENGTH = 80

DEFAULT_REGIONS = (("RU-AMU", "Амурская область"), ("RU-ALT", "Алтайский край"))

TAG_NAMES = (
    "сотрудничество",
    "инвестиции",
    "экономика",
    "сельское хозяйство",
    "соя",
    "животноводство",
    "логистика",
    "экспорт",
    "Китай",
    "Центральная Азия",
    "АмурЭкспо",
    "выставки",
    "форумы",
    "ВЭФ",
    "ТОР «Свободный»",
    "ТОР «Белогорск»",
    "Свободный порт Владивосток",
    "малый и средний бизнес",
    "поддержка бизнеса",
    "туризм",
    "цифровая трансформация",
    "информационные технологии",
    "промышленность",
    "машиностроение",
    "энергетика",
    "газохимия",
    "строительство",
    "транспорт",
    "мост Благовещенск — Хэйхэ",
    "космодром «Восточный»",
    "образование",
    "наука",
    "здравоохранение",
    "спорт",
    "культура",
    "Амурская область",
    "Алтайский край",
    "Дальний Восток",
    "импортозамещение",
    "кадры",
    "гранты",
    "экология",
)

# (subject, grammatical form of the past-tense verb: "m", "f", "n" or "pl")
_SUBJECTS = (
    ("Амурская область", "f"),
    ("Алтайский край", "m"),
    ("Приамурье", "n"),
    ("Правительство Амурской области", "n"),
    ("Правительство Алтайского края", "n"),
    ("Министерство экономического развития и внешних связей", "n"),
    ("Агентство по привлечению инвестиций", "n"),
    ("Корпорация развития Дальнего Востока и Арктики", "f"),
    ("Благовещенск", "m"),
    ("Белогорск", "m"),
    ("Свободный", "m"),
    ("Амурские аграрии", "pl"),
    ("Алтайские предприниматели", "pl"),
    ("Резиденты ТОР «Свободный»", "pl"),
    ("Резиденты ТОР «Белогорск»", "pl"),
    ("Инвесторы из Китая", "pl"),
    ("Амурские экспортёры", "pl"),
    ("Делегация Алтайского края", "f"),
    ("Региональный фонд развития промышленности", "m"),
    ("Дальневосточный аграрный университет", "m"),
)

_COMMON_FIRST_WORDS = frozenset(
    {
        "Министерство",
        "Агентство",
        "Амурские",
        "Алтайские",
        "Резиденты",
        "Инвесторы",
        "Делегация",
        "Региональный",
    }
)
_ENDINGS = {"m": "", "f": "а", "n": "о", "pl": "и"}

# (past-tense stem, object)
_PREDICATES = (
    ("подписал", "соглашение о сотрудничестве"),
    ("представил", "инвестиционные проекты"),
    ("обсудил", "развитие логистики"),
    ("увеличил", "экспорт сои в Китай"),
    ("запустил", "новое производство"),
    ("открыл", "площадку для B2B-переговоров"),
    ("определил", "перспективные направления сотрудничества"),
    ("утвердил", "план мероприятий"),
    ("заинтересовал", "новых инвесторов"),
    ("расширил", "меры поддержки бизнеса"),
    ("нарастил", "объемы переработки сельхозпродукции"),
    ("подвел", "итоги инвестиционного года"),
    ("представил", "экспортный потенциал региона"),
    ("обсудил", "совместные туристические маршруты"),
    ("предложил", "новые транспортные коридоры"),
    ("получил", "статус резидента территории опережающего развития"),
    ("завершил", "строительство логистического центра"),
    ("провел", "бизнес-миссию в Китай"),
    ("поддержал", "проекты цифровой трансформации"),
    ("выделил", "гранты начинающим фермерам"),
    ("обновил", "инвестиционную карту"),
    ("создал", "новые рабочие места"),
    ("модернизировал", "животноводческие комплексы"),
    ("подготовил", "кадры для промышленности"),
    ("принял", "участие в выставке «АмурЭкспо»"),
)

_CIRCUMSTANCES = (
    "",
    "в 2024 году",
    "в 2025 году",
    "до 2030 года",
    "на «АмурЭкспо»",
    "на Восточном экономическом форуме",
    "по итогам первого полугодия",
    "по итогам года",
    "с партнерами из Китая",
    "с компаниями Центральной Азии",
    "при поддержке Минвостокразвития",
    "в рамках национального проекта",
    "на полях форума",
    "в Благовещенске",
    "в Барнауле",
)

_LEAD_OPENERS = (
    "По информации министерства экономического развития и внешних связей области,",
    "Как сообщили в региональном правительстве,",
    "На заседании инвестиционного совета",
    "В ходе рабочей встречи",
    "По итогам переговоров",
    "На площадке «Точки кипения»",
)

_SENTENCES = (
    "Объем заявленных инвестиций составляет {money} млрд рублей.",
    "Количество новых рабочих мест по проекту — {jobs}.",
    "Производство выйдет на проектную мощность в {year} году.",
    "Доля переработки сои в регионе выросла до {pct} %.",
    "Грузооборот через мостовой переход Благовещенск — Хэйхэ увеличился на {pct} %.",
    "Стороны договорились о взаимном участии в выставках и деловых миссиях.",
    "Особое внимание уделено развитию транзитного потенциала регионов.",
    "Предприятия представили продукцию машиностроения, пищевой промышленности и сельского "
    "хозяйства.",
    "Для инвесторов действуют налоговые льготы и упрощенные административные процедуры.",
    "Проект реализуется на территории опережающего развития «{tor}».",
    "Инвестор получит поддержку в виде льготного кредита по ставке {pct_small} %.",
    "Работы по проекту планируется завершить к концу {year} года.",
    "В переговорах приняли участие более {people} представителей бизнеса.",
    "Экспорт сельскохозяйственной продукции региона вырос на {pct} % по сравнению с прошлым годом.",
    "Свободных площадок для новых производств на инвестиционной карте области — {sites}.",
    "Соглашение предусматривает обмен опытом в медицине, образовании и информационных технологиях.",
    "Участники обсудили развитие туристических маршрутов между регионами.",
    "Число проектов малого и среднего бизнеса, получивших поддержку регионального фонда, "
    "достигло {projects}.",
    "Сельхозпроизводители получили субсидии на {money_small} млн рублей.",
    "Новая линия позволит выпускать до {tons} тыс. тонн продукции в год.",
    "В программе визита — посещение предприятий {place}.",
    "Проект включен в план социально-экономического развития {place_gen}.",
    "Стороны отметили высокий потенциал сотрудничества в сфере цифровой трансформации.",
    "На встрече обсудили подготовку кадров для предприятий газохимии и машиностроения.",
)

_QUOTES = (
    "Для нас важно, чтобы каждый инвестор получал поддержку на всех этапах реализации проекта",
    "Мы видим большой интерес партнеров к нашей продукции и готовы наращивать поставки",
    "Логистика остается одним из главных приоритетов нашего сотрудничества",
    "Совместные проекты позволят создать новые рабочие места и увеличить налоговые поступления",
    "Мы рассчитываем, что договоренности будут реализованы в ближайшие два года",
    "Регион открыт для бизнеса, и мы готовы предложить инвесторам лучшие условия",
)

_SPEAKERS = (
    "отметили в министерстве экономического развития и внешних связей Амурской области",
    "подчеркнули в правительстве Алтайского края",
    "рассказали в агентстве по привлечению инвестиций",
    "отметили в региональном фонде развития",
    "сообщили в пресс-службе правительства области",
)

_PLACES = ("Благовещенска", "Белогорска", "Свободного", "Серышево", "Ивановки", "Циолковского")
_PLACES_GEN = ("Амурской области", "Алтайского края", "Благовещенска", "Дальнего Востока")
_TORS = ("Свободный", "Белогорск", "Приамурская")


@dataclass(frozen=True, slots=True)
class _Item:
    title: str
    lead: str
    body_html: str
    status: PublicationState
    published_at: datetime | None
    created_at: datetime
    tag_positions: tuple[int, ...]
    region_ids: tuple[int, ...]


async def generate_demo(
    news_count: int,
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Add `news_count` synthetic news (with tags and regions); returns how many were added.

    About 10 % are drafts, 3 % archived, up to 20 scheduled in the next weeks, the rest
    published over the past three years. Texts depend only on `seed` (and times on the
    current day); slugs carry a running number, unique against the rows already stored.
    """
    if news_count < 0:
        raise ValueError("news_count must not be negative")
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    if news_count == 0:
        return 0
    rng = random.Random(seed)
    region_ids = await _ensure_regions()
    tag_ids = await _ensure_tags()
    anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    scheduled = set(rng.sample(range(news_count), k=min(MAX_SCHEDULED, news_count // 100)))
    last_ids = await flat_values(News.all().order_by("-id").limit(1), "id")
    number = (last_ids[0] if last_ids else 0) + 1

    done = 0
    while done < news_count:
        size = min(batch_size, news_count - done)
        items = [
            _compose(rng, anchor, index in scheduled, region_ids, len(tag_ids))
            for index in range(done, done + size)
        ]
        async with in_transaction():
            slugs = await _unique_slugs([item.title for item in items], number)
            await News.bulk_create(
                [_news_row(item, slug) for item, slug in zip(items, slugs, strict=True)],
                batch_size=size,
            )
            ids = dict(await News.filter(slug__in=slugs).values_list("slug", "id"))
            tag_links: list[NewsTag] = []
            region_links: list[NewsRegion] = []
            for item, slug in zip(items, slugs, strict=True):
                news_id = ids[slug]
                tag_links.extend(
                    NewsTag(news_id=news_id, tag_id=tag_ids[tag], position=position)
                    for position, tag in enumerate(item.tag_positions)
                )
                region_links.extend(
                    NewsRegion(news_id=news_id, region_id=region_id, position=position)
                    for position, region_id in enumerate(item.region_ids)
                )
            await NewsTag.bulk_create(tag_links, batch_size=len(tag_links))
            await NewsRegion.bulk_create(region_links, batch_size=len(region_links))
            await _first_revisions(NEWS, await News.filter(id__in=list(ids.values())))
        number += size
        done += size
        if progress is not None:
            progress(done, news_count)
    return done


async def _first_revisions(kind: ContentType, items: Sequence[ContentModel]) -> None:
    """Revision 1 of items written in bulk, as editing records it for each item."""
    links = await revisions.read_links(kind, [item.pk for item in items])
    await revisions.record_many(
        kind,
        ((item.pk, 1, revisions.snapshot(kind, item, links[item.pk])) for item in items),
        Viewer(),
        [],
    )


async def _ensure_regions() -> list[int]:
    """Ids of all regions, Amur first when present; creates the two default ones in an
    empty table."""
    async with in_transaction():
        if not await Region.exists():
            for code, name in DEFAULT_REGIONS:
                await Region.create(code=code, name=name)
        rows = await Region.all().order_by("id").values_list("id", "code")
    return [region_id for region_id, code in sorted(rows, key=lambda row: row[1] != "RU-AMU")]


async def _ensure_tags() -> list[int]:
    """Ids of the tag pool in TAG_NAMES order, reusing stored tags by slug."""
    slugs = [slugify(name) for name in TAG_NAMES]
    async with in_transaction():
        existing = dict(await Tag.filter(slug__in=slugs).values_list("slug", "id"))
        missing = []
        for name, slug in zip(TAG_NAMES, slugs, strict=True):
            if slug not in existing:
                tag = Tag(slug=slug, name=name)
                tag.fill_search_text()
                missing.append(tag)
        if missing:
            await Tag.bulk_create(missing)
            await _first_revisions(TAG, await Tag.filter(slug__in=[tag.slug for tag in missing]))
            existing = dict(await Tag.filter(slug__in=slugs).values_list("slug", "id"))
    return [existing[slug] for slug in slugs]


async def _unique_slugs(titles: Sequence[str], first_number: int) -> list[str]:
    """`<slug of title>-<running number>`, with a further suffix in the rare case that
    such a slug is already stored."""
    slugs = [
        f"{slugify(title, max_length=_SLUG_BASE_LENGTH)}-{first_number + offset}"
        for offset, title in enumerate(titles)
    ]
    taken = set(await flat_values(News.filter(slug__in=slugs), "slug"))
    while taken:
        used = set(slugs)
        for index, slug in enumerate(slugs):
            if slug in taken:
                suffix = 2
                while f"{slug}-{suffix}" in used:
                    suffix += 1
                slugs[index] = f"{slug}-{suffix}"
                used.add(slugs[index])
        taken = set(await flat_values(News.filter(slug__in=slugs), "slug"))
    return slugs


def _news_row(item: _Item, slug: str) -> News:
    news = News(
        slug=slug,
        title=item.title,
        lead=item.lead,
        body_html=item.body_html,
        body_text=html_to_text(item.body_html),
        status=item.status,
        published_at=item.published_at,
        created_at=item.created_at,
    )
    news.fill_search_text()
    return news


# ---------------------------------------------------------------- composing texts


def _compose(
    rng: random.Random,
    anchor: datetime,
    is_scheduled: bool,
    region_ids: Sequence[int],
    tag_count: int,
) -> _Item:
    subject, form = rng.choice(_SUBJECTS)
    stem, obj = rng.choice(_PREDICATES)
    circumstance = rng.choice(_CIRCUMSTANCES)
    verb = stem + _ENDINGS[form]
    title = " ".join(part for part in (subject, verb, obj, circumstance) if part)
    paragraph_sizes = [rng.randint(2, 3) for _ in range(rng.randint(3, 5))]
    # distinct sentence templates for the lead and the whole body: no repeated sentence
    templates = iter(rng.sample(_SENTENCES, k=1 + sum(paragraph_sizes)))
    opener = rng.choice(_LEAD_OPENERS)
    lead = f"{opener} {_in_sentence(subject)} {verb} {obj}. {_sentence(rng, next(templates))}"

    blocks = []
    for size in paragraph_sizes:
        paragraph = " ".join(_sentence(rng, next(templates)) for _ in range(size))
        blocks.append(f"<p>{escape(paragraph, quote=False)}</p>")
    if rng.random() < 0.35:
        quote = f"«{rng.choice(_QUOTES)}», — {rng.choice(_SPEAKERS)}."
        block = f"<blockquote><p>{escape(quote, quote=False)}</p></blockquote>"
        blocks.insert(rng.randint(1, len(blocks)), block)

    roll = rng.random()
    if is_scheduled:
        status = PublicationState.PUBLISHED
        published_at: datetime | None = anchor + timedelta(
            days=rng.randint(2, 60), minutes=rng.randint(8 * 60, 19 * 60)
        )
        created_at = anchor - timedelta(days=rng.randint(0, 3))
    elif roll < 0.10:
        status = PublicationState.DRAFT
        published_at = None
        created_at = anchor - timedelta(minutes=rng.randint(60, 90 * 24 * 60))
    else:
        status = PublicationState.ARCHIVED if roll < 0.13 else PublicationState.PUBLISHED
        published_at = anchor - timedelta(minutes=rng.randint(60, 3 * 365 * 24 * 60))
        created_at = published_at - timedelta(minutes=rng.randint(5, 3 * 24 * 60))

    tag_positions = tuple(rng.sample(range(tag_count), k=min(tag_count, rng.randint(1, 4))))
    first_region = region_ids[0] if rng.random() < 0.6 else rng.choice(region_ids)
    regions = [first_region]
    if len(region_ids) > 1 and rng.random() < 0.35:
        regions.append(rng.choice([r for r in region_ids if r != first_region]))
    return _Item(
        title=title,
        lead=lead,
        body_html="\n".join(blocks),
        status=status,
        published_at=published_at,
        created_at=created_at,
        tag_positions=tag_positions,
        region_ids=tuple(regions),
    )


def _in_sentence(subject: str) -> str:
    """The subject inside a sentence: common nouns lose their capital letter."""
    first, _, rest = subject.partition(" ")
    if first in _COMMON_FIRST_WORDS:
        return f"{first.lower()} {rest}"
    return subject


def _sentence(rng: random.Random, template: str) -> str:
    names = _TEMPLATE_FIELDS[template]
    if not names:
        return template
    return template.format(**{name: _FIELDS[name](rng) for name in names})


# How each placeholder of _SENTENCES is filled (only the ones a template uses are drawn).
_FIELDS: dict[str, Callable[[random.Random], object]] = {
    "money": lambda rng: f"{rng.randint(1, 120)},{rng.randint(0, 9)}",
    "money_small": lambda rng: rng.randint(15, 900),
    "jobs": lambda rng: rng.randint(20, 1500),
    "year": lambda rng: rng.randint(2024, 2030),
    "pct": lambda rng: rng.randint(3, 65),
    "pct_small": lambda rng: rng.randint(1, 5),
    "tor": lambda rng: rng.choice(_TORS),
    "people": lambda rng: rng.randrange(20, 300, 10),
    "sites": lambda rng: rng.randint(12, 140),
    "projects": lambda rng: rng.randint(5, 80),
    "tons": lambda rng: rng.randint(5, 250),
    "place": lambda rng: rng.choice(_PLACES),
    "place_gen": lambda rng: rng.choice(_PLACES_GEN),
}
_TEMPLATE_FIELDS: dict[str, tuple[str, ...]] = {
    template: tuple(name for _, name, _, _ in Formatter().parse(template) if name)
    for template in _SENTENCES
}
