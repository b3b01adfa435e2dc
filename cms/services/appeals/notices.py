"""The citizen's e-mails about their appeal: one per step that the law says to tell.

They are written to the outbox by the step's own transaction (workflow.py) and
sent by the FeedbackMailer with the staff e-mails, so each leaves once, and only
for a committed step.
"""

from __future__ import annotations

from datetime import date

from cms.models import (
    Appeal,
    AppealAction,
    AppealEvent,
    FeedbackMessage,
    MediaAsset,
    NoAnswerReason,
)
from cms.services.appeals.deadlines import office_date
from cms.services.mail import Mail
from cms.settings import Settings

# What the citizen is told for each art. 11 reason (the notice of p. 1 is never sent:
# there is no address to send it to).
NO_ANSWER_TEXTS = {
    NoAnswerReason.NO_NAME_OR_ADDRESS: (
        "в обращении не указаны фамилия гражданина или адрес, по которому должен быть "
        "направлен ответ (часть 1 статьи 11 Федерального закона № 59-ФЗ)"
    ),
    NoAnswerReason.OFFENSIVE_LANGUAGE: (
        "обращение содержит нецензурные либо оскорбительные выражения (часть 3 статьи 11 "
        "Федерального закона № 59-ФЗ); вам разъясняется недопустимость злоупотребления правом"
    ),
    NoAnswerReason.UNREADABLE: (
        "текст обращения не поддаётся прочтению (часть 4 статьи 11 Федерального закона № 59-ФЗ)"
    ),
    NoAnswerReason.UNCLEAR_ESSENCE: (
        "текст обращения не позволяет определить его суть (часть 4.1 статьи 11 "
        "Федерального закона № 59-ФЗ)"
    ),
    NoAnswerReason.REPEATED_QUESTION: (
        "в обращении содержится вопрос, на который вам многократно давались письменные ответы "
        "по существу, и не приводятся новые доводы или обстоятельства (часть 5 статьи 11 "
        "Федерального закона № 59-ФЗ); переписка по этому вопросу прекращена"
    ),
}


def _day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value is not None else "—"


def _attachments(settings: Settings, assets: list[MediaAsset]) -> str:
    if not assets:
        return ""
    # The public URL of a stored file, as media.service.media_url builds it (cms does
    # not import the media package).
    lines = [
        f"- {asset.file_name}: {settings.public_url}/media/{asset.storage_key}" for asset in assets
    ]
    return "\n\nВложения:\n" + "\n".join(lines)


def compose_notice(
    settings: Settings,
    message: FeedbackMessage,
    appeal: Appeal,
    event: AppealEvent,
    assets: list[MediaAsset],
) -> Mail:
    """The e-mail to the citizen about `event`; `message.email` is its recipient."""
    number = appeal.number or message.ticket
    greeting = f"Здравствуйте, {message.name}!\n\n" if message.name else "Здравствуйте!\n\n"
    received = _day(office_date(settings, appeal.received_at))
    details = event.details
    if event.action is AppealAction.REGISTERED:
        assert appeal.registered_at is not None
        registered = _day(office_date(settings, appeal.registered_at))
        subject = f"Ваше обращение зарегистрировано под номером {number}"
        text = (
            f"Ваше обращение от {received} зарегистрировано.\n\n"
            f"Регистрационный номер: {number}\n"
            f"Дата регистрации: {registered}\n"
            f"Ответ будет дан не позднее {_day(date.fromisoformat(details['due_on']))}.\n\n"
            "Узнать состояние обращения можно на портале по номеру и вашему e-mail или телефону."
        )
    elif event.action is AppealAction.EXTENDED:
        subject = f"Срок рассмотрения обращения {number} продлён"
        text = (
            f"Срок рассмотрения вашего обращения № {number} продлён на {details['days']} дн. "
            f"до {_day(date.fromisoformat(details['due_on']))}.\n\n"
            f"Причина: {event.comment}"
        )
    elif event.action is AppealAction.ANSWERED:
        subject = f"Ответ на обращение {number}"
        text = f"Ответ на ваше обращение № {number} от {received}:\n\n{event.letter}"
        text += _attachments(settings, assets)
    elif event.action is AppealAction.FORWARDED:
        subject = f"Обращение {number} направлено по компетенции"
        text = (
            f"Ваше обращение № {number} от {received} направлено для рассмотрения "
            f"по компетенции в {details['body']} (часть 3 статьи 8 Федерального закона "
            "№ 59-ФЗ). Ответ вам даст этот орган."
        )
    elif event.action is AppealAction.LEFT_WITHOUT_ANSWER:
        subject = f"Обращение {number} оставлено без ответа по существу"
        reason = NO_ANSWER_TEXTS[NoAnswerReason(details["reason"])]
        text = (
            f"Ваше обращение № {number} от {received} оставлено без ответа по существу, "
            f"так как {reason}."
        )
    else:  # no other step queues a notice
        raise ValueError(f"no notice for {event.action}")
    return Mail(
        sender=settings.feedback_notify_from,
        recipients=(message.email or "",),
        subject=subject,
        body=greeting
        + text
        + "\n\nЭто письмо отправлено автоматически, отвечать на него не нужно.\n",
    )
