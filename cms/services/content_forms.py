"""Checking one content input against the item it changes, field by field.

A Form turns input values into column values and links (editing.Changes) and
collects every problem on its Checker, with paths like ("input", "title").
Absent values (None) leave a field unchanged; names in the input's `clear`
list empty it. References are looked up one statement per referenced type.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from tortoise.models import Model

from cms.db import flat_values
from cms.errors import Code
from cms.models import ContentModel, Region
from cms.services.columns import fits as fits_column
from cms.services.content_types import ContentType
from cms.services.editing import Changes
from cms.services.sanitizing import BodyFormat, render_body
from cms.services.slug_history import free_slug, slug_owner
from cms.services.slugs import slugify
from cms.services.validation import Checker, clean_text

MAX_BODY_LENGTH = 500_000
MAX_LIST_LENGTH = 200
MAX_URL_LENGTH = 500


def path(*parts: str | int) -> tuple[str, ...]:
    return ("input", *(str(part) for part in parts))


class Form:
    def __init__(
        self,
        check: Checker,
        item: ContentModel | None,
        clear: Iterable[str] = (),
        clearable: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.check = check
        self.item = item
        self.fields: dict[str, Any] = {}
        self.links: dict[str, list[Any]] = {}
        clearable = clearable or {}
        self.cleared: set[str] = set()
        for name in clear:
            if name not in clearable:
                allowed = ", ".join(sorted(clearable)) or "нет"
                check.fail(
                    path("clear"),
                    Code.INVALID,
                    f"Поле «{name}» нельзя очистить; можно: {allowed}.",
                )
                continue
            self.cleared.add(name)
            for column in clearable[name]:
                self.fields[column] = None

    @property
    def creating(self) -> bool:
        return self.item is None

    def current(self, column: str) -> Any:
        """The value a column will have: the new one, else the stored one."""
        if column in self.fields:
            return self.fields[column]
        return getattr(self.item, column, None) if self.item is not None else None

    def changes(self) -> Changes:
        return Changes(fields=self.fields, links=self.links)

    # ------------------------------------------------------------ plain values

    def text(
        self,
        name: str,
        column: str,
        value: str | None,
        *,
        max_length: int,
        required: bool = False,
        multiline: bool = False,
    ) -> str | None:
        if name in self.cleared or value is None:
            if value is None and required and self.creating:
                self.check.fail(path(name), Code.REQUIRED, f"Поле «{name}» обязательно.")
            return None
        cleaned = self.check.text(
            value, path(name), required=required, max_length=max_length, multiline=multiline
        )
        if cleaned is not None or not required:
            self.fields[column] = cleaned
        return cleaned

    def value(self, name: str, column: str, value: Any, *, required: bool = False) -> None:
        """A typed value (a date, an enum) that needs no cleaning."""
        if name in self.cleared:
            return
        if value is None:
            if required and self.creating:
                self.check.fail(path(name), Code.REQUIRED, f"Поле «{name}» обязательно.")
            return
        self.fields[column] = value

    def not_before(self, start: str, end: str, end_name: str, message: str) -> None:
        first: date | None = self.current(start)
        last: date | None = self.current(end)
        if first is not None and last is not None and last < first:
            self.check.fail(path(end_name), Code.INVALID, message)

    def url(self, name: str, column: str, value: str | None) -> None:
        url = self.text(name, column, value, max_length=MAX_URL_LENGTH)
        if url is None:
            return
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
            self.check.fail(path(name), Code.INVALID, "Нужен адрес сайта вида https://example.ru.")

    def location(self, name: str, lat: float | None, lon: float | None) -> None:
        if name in self.cleared or (lat is None and lon is None):
            return
        if lat is None or lon is None:
            self.check.fail(path(name), Code.REQUIRED, "Укажите и широту (lat), и долготу (lon).")
            return
        if not -90 <= lat <= 90:
            self.check.fail(
                path(name, "lat"), Code.INVALID, "Широта должна быть от -90 до 90 градусов."
            )
        if not -180 <= lon <= 180:
            self.check.fail(
                path(name, "lon"), Code.INVALID, "Долгота должна быть от -180 до 180 градусов."
            )
        self.fields["latitude"] = lat
        self.fields["longitude"] = lon

    def body(
        self, value: str | None, body_format: BodyFormat | None, image_hosts: Collection[str]
    ) -> None:
        """An HTML or Markdown body, stored sanitised with its plain text; images only
        from `image_hosts` (settings.richtext_image_hosts) or the site."""
        if "body" in self.cleared or value is None:
            return
        if len(value) > MAX_BODY_LENGTH:
            self.check.fail(
                path("body"), Code.TOO_LONG, f"Текст длиннее {MAX_BODY_LENGTH} символов."
            )
            return
        html, text = render_body(value, body_format or BodyFormat.HTML, image_hosts)
        self.fields["body_html"] = html
        self.fields["body_text"] = text

    def strings(
        self, name: str, values: Sequence[str] | None, *, max_length: int
    ) -> list[str] | None:
        """A list of short texts without blanks and repeats (industries)."""
        if values is None:
            return None
        if len(values) > MAX_LIST_LENGTH:
            self.check.fail(path(name), Code.TOO_LONG, f"Не больше {MAX_LIST_LENGTH} значений.")
            return None
        result: list[str] = []
        for index, value in enumerate(values):
            cleaned = self.check.text(
                value, path(name, index), required=True, max_length=max_length, label=name
            )
            if cleaned is not None and cleaned not in result:
                result.append(cleaned)
        self.links[name] = result
        return result

    # ------------------------------------------------------------ slugs

    async def slug(self, kind: ContentType, requested: str | None, source: str | None) -> None:
        """An editor's slug (normalised; CONFLICT when another item has or had it), or on
        creation one made from the title, suffixed -2, -3 ... when taken. A later
        title change keeps the slug: published URLs stay stable."""
        if requested is not None:
            slug = slugify(clean_text(requested))
            if not slug:
                self.check.fail(
                    path("slug"),
                    Code.INVALID,
                    "Адрес (slug) должен содержать латинские буквы или цифры.",
                )
                return
            if self.item is not None and slug == self.item.slug:  # type: ignore[attr-defined]
                return
            owner = await slug_owner(kind, slug)
            if owner is not None and (self.item is None or owner != self.item.pk):
                self.check.fail(
                    path("slug"), Code.CONFLICT, f"Адрес «{slug}» уже занят другой записью."
                )
                return
            self.fields["slug"] = slug
        elif self.creating and source:
            base = slugify(source) or kind.name.lower()
            self.fields["slug"] = await free_slug(kind, base)

    # ------------------------------------------------------------ references

    async def reference(
        self, name: str, column: str, model: type[Model], pk: int | None, label: str
    ) -> None:
        if name in self.cleared or pk is None:
            return
        found = await existing_ids(model, {pk})
        if pk not in found:
            self.check.fail(path(name), Code.NOT_FOUND, f"{label} не найден(а).")
            return
        self.fields[column] = pk

    async def references(
        self,
        name: str,
        model: type[Model],
        ids: Sequence[int] | None,
        label: str,
        *,
        required: bool = False,
    ) -> list[int] | None:
        """A list of ids, in order, without repeats; each must exist."""
        if ids is None:
            return None
        if len(ids) > MAX_LIST_LENGTH:
            self.check.fail(path(name), Code.TOO_LONG, f"Не больше {MAX_LIST_LENGTH} значений.")
            return None
        unique = list(dict.fromkeys(ids))
        found = await existing_ids(model, set(unique))
        for index, pk in enumerate(ids):
            if pk not in found:
                self.check.fail(path(name, index), Code.NOT_FOUND, f"{label} не найден(а).")
        self.links[name] = [pk for pk in unique if pk in found]
        return unique

    async def region(
        self, name: str, column: str, code: str | None, *, required: bool = False
    ) -> None:
        if name in self.cleared:
            return
        if code is None:
            if required and self.creating:
                self.check.fail(path(name), Code.REQUIRED, f"Поле «{name}» обязательно.")
            return
        found = await regions_by_code([code])
        if code.strip().upper() not in found:
            self.check.fail(path(name), Code.NOT_FOUND, f"Регион с кодом «{code}» не найден.")
            return
        self.fields[column] = found[code.strip().upper()]

    async def regions(self, name: str, codes: Sequence[str] | None) -> None:
        if codes is None:
            return
        found = await regions_by_code(codes)
        ids: list[int] = []
        for index, code in enumerate(codes):
            pk = found.get(code.strip().upper())
            if pk is None:
                self.check.fail(
                    path(name, index), Code.NOT_FOUND, f"Регион с кодом «{code}» не найден."
                )
            elif pk not in ids:
                ids.append(pk)
        self.links[name] = ids


async def existing_ids(model: type[Model], ids: set[int]) -> set[int]:
    """Which of `ids` exist (and, for content, are not in the trash): one statement."""
    wanted = {pk for pk in ids if pk > 0}
    if not wanted:
        return set()
    queryset = model.filter(id__in=wanted)
    if issubclass(model, ContentModel):
        queryset = queryset.filter(deleted_at__isnull=True)
    return set(await flat_values(queryset, "id"))


async def regions_by_code(codes: Iterable[str]) -> dict[str, int]:
    # A code longer than the column is no region's: not asked for.
    wanted = {code.strip().upper() for code in codes}
    wanted = {code for code in wanted if fits_column(Region, "code", code)}
    if not wanted:
        return {}
    return dict(await Region.filter(code__in=wanted).values_list("code", "id"))
