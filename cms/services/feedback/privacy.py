"""Personal data in feedback: export for one person, erasure on request, retention.

A message is anonymised by emptying every field that may hold personal data
(name, contacts, subject, text, staff note, the address and duplicate hashes,
the search copy); its ticket, kind, status and dates stay for statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Lower
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from cms.db import flat_values
from cms.errors import Code
from cms.models import (
    Appeal,
    AppealEvent,
    ConsentDocument,
    FeedbackMessage,
    FeedbackNotification,
)
from cms.services.phones import normalize_russian_phone
from cms.services.validation import Checker
from cms.services.visibility import now
from cms.settings import Settings


@dataclass(frozen=True, slots=True)
class Contact:
    email: str | None
    phone: str | None


def parse_contact(email: str | None, phone: str | None, *, path: tuple[str, ...] = ()) -> Contact:
    """The person's e-mail and/or phone in their stored form; `path` prefixes the
    field paths of errors (("input",) in the API)."""
    check = Checker()
    clean_email = check.email(email, (*path, "email"))
    clean_phone = None
    if phone is not None and phone.strip():
        clean_phone = normalize_russian_phone(phone)
        if clean_phone is None:
            check.fail((*path, "phone"), Code.INVALID, "Некорректный российский номер телефона.")
    if clean_email is None and clean_phone is None and not check.errors:
        check.fail((*path, "email"), Code.REQUIRED, "Укажите e-mail или телефон.")
    check.raise_if_any()
    return Contact(clean_email, clean_phone)


def messages_of(contact: Contact) -> QuerySet[FeedbackMessage]:
    condition = Q()
    if contact.email is not None:
        condition |= Q(email=contact.email)
    if contact.phone is not None:
        condition |= Q(phone=contact.phone)
    return FeedbackMessage.filter(condition)


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_personal_data(contact: Contact) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready data."""
    rows = await messages_of(contact).order_by("created_at", "id")
    notifications = await FeedbackNotification.filter(
        message_id__in=[row.pk for row in rows]
    ).order_by("id")
    by_message: dict[int, list[dict[str, Any]]] = {}
    for item in notifications:
        by_message.setdefault(item.message_id, []).append(
            {
                "created_at": _moment(item.created_at),
                "sent_at": _moment(item.sent_at),
                "attempts": item.attempts,
            }
        )
    versions: dict[int, Any] = dict(
        await ConsentDocument.filter(
            id__in={row.consent_version_id for row in rows}  # type: ignore[attr-defined]
        ).values_list("id", "version")
    )
    appeals = {
        appeal.message_id: appeal  # type: ignore[attr-defined]
        for appeal in await Appeal.filter(message_id__in=[row.pk for row in rows])
    }
    events: dict[int, list[dict[str, Any]]] = {}
    for event in await AppealEvent.filter(
        appeal_id__in=[appeal.pk for appeal in appeals.values()]
    ).order_by("id"):
        events.setdefault(event.appeal_id, []).append(  # type: ignore[attr-defined]
            {
                "at": _moment(event.at),
                "action": event.action.name,
                "comment": event.comment,
                "letter": event.letter,
            }
        )
    return {
        "contact": {"email": contact.email, "phone": contact.phone},
        "exported_at": now().isoformat(),
        "messages": [
            {
                "ticket": row.ticket,
                "kind": row.kind.name,
                "status": row.feedback_status.name,
                "name": row.name,
                "email": row.email,
                "phone": row.phone,
                "subject": row.subject,
                "message": row.message,
                "staff_note": row.staff_note,
                "created_at": _moment(row.created_at),
                "updated_at": _moment(row.updated_at),
                "consent_at": _moment(row.consent_at),
                "consent_version": versions.get(row.consent_version_id),  # type: ignore[attr-defined]
                "consent_channel": row.consent_channel.name if row.consent_channel else None,
                "appeal": _appeal_data(appeals.get(row.pk), events),
                "anonymized_at": _moment(row.anonymized_at),
                "assigned_to_id": row.assigned_to_id,
                # Keyed hashes (HMAC with the server's secret) of the sender's
                # address and of contact + text, kept to spot abuse and duplicates.
                "address_hash": row.address_hash,
                "duplicate_fingerprint": row.fingerprint,
                "staff_notifications": by_message.get(row.pk, []),
            }
            for row in rows
        ],
    }


def _appeal_data(appeal: Appeal | None, events: dict[int, list[dict[str, Any]]]) -> Any:
    if appeal is None:
        return None
    return {
        "number": appeal.number,
        "state": appeal.state.name,
        "received_at": _moment(appeal.received_at),
        "registered_at": _moment(appeal.registered_at),
        "due_on": appeal.due_on.isoformat() if appeal.due_on else None,
        "history": events.get(appeal.pk, []),
    }


async def anonymize(queryset: QuerySet[FeedbackMessage], moment: datetime) -> int:
    """Empties the personal data of the matching messages not anonymised yet, and
    the texts of their appeals' history (comments, letters). An appeal's registration
    data (number, dates, state, the reason or body of its ending) stays: the office
    must keep it."""
    async with in_transaction():
        count = await _anonymize_messages(queryset, moment)
        touched = Appeal.filter(message__anonymized_at=moment).values_list("id", flat=True)
        await AppealEvent.filter(appeal_id__in=Subquery(touched)).update(comment=None, letter=None)
    return count


async def _anonymize_messages(queryset: QuerySet[FeedbackMessage], moment: datetime) -> int:
    return await queryset.filter(anonymized_at__isnull=True).update(
        name="",
        email=None,
        phone=None,
        subject=None,
        message="",
        staff_note=None,
        address_hash=None,
        fingerprint=None,
        # The ticket stays findable in the staff search; it is ASCII, so lower()
        # folds it the way fold_for_search does on both databases.
        search_text=Lower("ticket"),
        anonymized_at=moment,
        updated_at=moment,
    )


async def erase_personal_data(contact: Contact) -> list[str]:
    """Anonymises every message of the person; their tickets (already anonymised
    ones included, so that a repeated request answers the same)."""
    async with in_transaction():
        tickets = await flat_values(messages_of(contact).order_by("id"), "ticket")
        await anonymize(messages_of(contact), now())
    return [str(ticket) for ticket in tickets]


@dataclass(frozen=True, slots=True)
class RetentionReport:
    cutoff: datetime
    mode: str
    affected: int


def retention_cutoff(settings: Settings, moment: datetime | None = None) -> datetime:
    """Messages received before this moment are past CMS_FEEDBACK_RETENTION_DAYS."""
    return (moment or now()) - timedelta(days=settings.feedback_retention_days)


async def apply_retention(settings: Settings, moment: datetime | None = None) -> RetentionReport:
    """Anonymises (or deletes, by CMS_FEEDBACK_RETENTION_MODE) the messages older
    than CMS_FEEDBACK_RETENTION_DAYS."""
    moment = moment or now()
    cutoff = retention_cutoff(settings, moment)
    old = FeedbackMessage.filter(created_at__lt=cutoff)
    if settings.feedback_retention_mode == "delete":
        # Counted apart: the count delete() answers includes cascaded outbox rows.
        async with in_transaction():
            affected = await old.count()
            await old.delete()
    else:
        affected = await anonymize(old, moment)
    # Finished outbox rows of old messages are of no further use.
    await FeedbackNotification.filter(
        Q(sent_at__isnull=False) | Q(failed_at__isnull=False), message__created_at__lt=cutoff
    ).delete()
    return RetentionReport(cutoff=cutoff, mode=settings.feedback_retention_mode, affected=affected)
