"""The citizen's status check: the state and due date of an appeal, nothing else.

Both the registration number and the sender's e-mail or phone must match; a wrong
number and a wrong contact get the same answer (none), from the same single
query, so the check tells nobody whether a number exists. Each check counts
against limits per address and per number (CMS_APPEAL_STATUS_LIMIT), so that
neither numbers nor contacts can be guessed in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cms.errors import Code, ValidationFailedError
from cms.models import Appeal, AppealState
from cms.services.feedback.submission import check_limits
from cms.services.phones import normalize_russian_phone
from cms.services.ratelimit import RateLimiter
from cms.services.validation import clean_text, normalize_email
from cms.settings import Settings

MAX_NUMBER_LENGTH = 64
MAX_CONTACT_LENGTH = 254


@dataclass(frozen=True, slots=True)
class PublicStatus:
    state: AppealState
    due_on: date | None


def _contact_condition(contact: str) -> dict[str, str]:
    cleaned = clean_text(contact)
    if "@" in cleaned:
        return {"message__email": normalize_email(cleaned)}
    phone = normalize_russian_phone(cleaned) if len(cleaned) <= 40 else None
    if phone is None:
        raise ValidationFailedError.one(
            ("contact",),
            Code.INVALID,
            "Укажите e-mail или российский номер телефона, указанные в обращении.",
        )
    return {"message__phone": phone}


async def appeal_status(
    number: str, contact: str, *, address: str, settings: Settings, limiter: RateLimiter
) -> PublicStatus | None:
    """The state and due date when both match; None otherwise (whichever is wrong)."""
    clean_number = clean_text(number)[:MAX_NUMBER_LENGTH]
    keys = [f"appeal-status:address:{address}", f"appeal-status:number:{clean_number}"]
    await check_limits(limiter, [(key, settings.appeal_status_limit) for key in keys], "проверок")
    if len(contact) > MAX_CONTACT_LENGTH:
        return None
    condition = _contact_condition(contact)
    row = await Appeal.filter(number=clean_number, **condition).first().values("state", "due_on")
    if row is None:
        return None
    return PublicStatus(state=AppealState(row["state"]), due_on=row["due_on"])
