"""The consent to the processing of personal data as a document of its own (152-FZ).

Admins write a version (a draft, editable), then publish it; a published version
never changes, and the newest published one is what the form shows. Each
submission stores the id of the version its sender accepted (submission.py), so
a new version changes nothing that past submissions agreed to.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from cms.errors import Code, ValidationFailedError
from cms.models import ConsentDocument
from cms.services.validation import Checker
from cms.services.visibility import now

MAX_TITLE_LENGTH = 300
MAX_TEXT_LENGTH = 100_000


def _clean(title: str | None, text: str | None) -> tuple[str, str]:
    check = Checker()
    clean_title = check.text(
        title, ("input", "title"), required=True, max_length=MAX_TITLE_LENGTH, label="заголовок"
    )
    clean_body = check.text(
        text,
        ("input", "text"),
        required=True,
        max_length=MAX_TEXT_LENGTH,
        multiline=True,
        label="текст согласия",
    )
    check.raise_if_any()
    assert clean_title is not None
    assert clean_body is not None
    return clean_title, clean_body


async def current() -> ConsentDocument | None:
    """The version in force: the newest published one."""
    return await ConsentDocument.filter(published_at__isnull=False).order_by("-version").first()


async def create_draft(
    title: str | None, text: str | None, *, actor_id: int | None
) -> ConsentDocument:
    """A new version, not yet in force; its number follows the last one."""
    clean_title, clean_body = _clean(title, text)
    for _ in range(3):  # two admins at once: the unique version makes one retry
        try:
            async with in_transaction():
                last = await ConsentDocument.annotate(top=Max("version")).first().values("top")
                version = (last["top"] if last and last["top"] else 0) + 1
                return await ConsentDocument.create(
                    version=version, title=clean_title, text=clean_body, created_by_id=actor_id
                )
        except IntegrityError:
            continue
    raise ValidationFailedError.one(
        None, Code.CONFLICT, "Версию одновременно создал кто-то другой. Повторите."
    )


async def _draft(document_id: int) -> ConsentDocument:
    row = await ConsentDocument.get_or_none(id=document_id)
    if row is None:
        raise ValidationFailedError.one(
            ("input", "id"), Code.NOT_FOUND, "Версия согласия не найдена."
        )
    if row.published_at is not None:
        raise ValidationFailedError.one(
            ("input", "id"),
            Code.INVALID,
            "Опубликованная версия согласия не меняется: создайте новую версию.",
        )
    return row


async def update_draft(document_id: int, title: str | None, text: str | None) -> ConsentDocument:
    clean_title, clean_body = _clean(title, text)
    row = await _draft(document_id)
    # Only while unpublished: the condition keeps a concurrent publication intact.
    changed = await ConsentDocument.filter(id=row.pk, published_at__isnull=True).update(
        title=clean_title, text=clean_body
    )
    if not changed:
        await _draft(document_id)  # raises: published meanwhile
    return await ConsentDocument.get(id=row.pk)


async def publish(document_id: int) -> ConsentDocument:
    """Puts the version in force; the form shows it from now on."""
    row = await _draft(document_id)
    await ConsentDocument.filter(id=row.pk, published_at__isnull=True).update(published_at=now())
    return await ConsentDocument.get(id=row.pk)


async def versions() -> list[ConsentDocument]:
    """Every version, newest first."""
    return await ConsentDocument.all().order_by("-version")
