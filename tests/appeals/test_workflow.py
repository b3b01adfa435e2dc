"""The workflow: each step with its history, its notice (once, through the outbox),
refusals from the wrong state, optimistic locking, and no trace of a rolled-back step."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from cms.errors import ValidationFailedError
from cms.models import (
    Appeal,
    AppealEvent,
    AppealState,
    FeedbackNotification,
    MediaAsset,
    NoAnswerReason,
)
from cms.services.appeals import workflow
from cms.services.feedback.notifications import FeedbackMailer
from graphql_schema.relay import global_id
from tests.appeals.conftest import FixedClock, at, make_appeal, step
from tests.conftest import GraphQLClient, TestDatabase, make_settings
from tests.editing.helpers import sign_in
from tests.feedback.conftest import SmtpServer, feedback_app


def _environ(smtp: SmtpServer) -> dict[str, str]:
    return {"CMS_SMTP_URL": smtp.url, "CMS_FEEDBACK_NOTIFY_FROM": "portal@example.ru"}


async def _deliver(db: TestDatabase, smtp: SmtpServer) -> int:
    mailer = FeedbackMailer(
        make_settings(db.url, **_environ(smtp)), clock=FixedClock(at("2100-01-01"))
    )
    return (await mailer.deliver_due()).sent


async def test_review_then_answer_with_an_attachment(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    environ = _environ(smtp_server)
    appeal = await make_appeal(make_settings(db.url, **environ), at("2026-03-02T01:00"))
    assert await _deliver(db, smtp_server) == 1  # the acknowledgement
    asset = await MediaAsset.create(
        storage_key="2026/03/razyasnenie.pdf",
        sha256="0" * 64,
        file_name="razyasnenie.pdf",
        mime_type="application/pdf",
        size=1000,
    )
    async with feedback_app(db, **environ) as app:
        editor = await sign_in(app.client, "editor")
        appeal_id = str(global_id("Appeal", appeal.pk))
        review = await step(
            app.client,
            "startAppealReview",
            "AppealStepInput",
            {"id": appeal_id, "comment": "Исполнитель — отдел инвестиций", "expectedRevision": 1},
        )
        assert review["errors"] == []
        assert review["appeal"]["state"] == "IN_REVIEW"
        assert review["appeal"]["revision"] == 2
        answered = await step(
            app.client,
            "answerAppeal",
            "AnswerAppealInput",
            {
                "id": appeal_id,
                "text": "Участки в ТОР «Амурская» предоставляются по заявке резидента.",
                "attachments": [str(global_id("MediaAsset", asset.pk))],
                "expectedRevision": 2,
            },
        )
    assert answered["errors"] == []
    result = answered["appeal"]
    assert result["state"] == "ANSWERED"
    assert result["closedAt"] is not None
    history = result["history"]
    assert [event["action"] for event in history] == [
        "RECEIVED",
        "REGISTERED",
        "REVIEW_STARTED",
        "ANSWERED",
    ]
    assert [(event["fromState"], event["toState"]) for event in history] == [
        (None, "RECEIVED"),
        ("RECEIVED", "REGISTERED"),
        ("REGISTERED", "IN_REVIEW"),
        ("IN_REVIEW", "ANSWERED"),
    ]
    assert history[0]["actor"] is None  # automatic
    assert history[2]["actor"] == {"email": editor.email}
    assert history[2]["comment"] == "Исполнитель — отдел инвестиций"
    assert history[2]["noticeQueued"] is None  # no notice for taking into review
    assert history[3]["letter"].startswith("Участки в ТОР")
    assert history[3]["attachments"] == [
        {"id": str(global_id("MediaAsset", asset.pk)), "fileName": "razyasnenie.pdf"}
    ]
    assert history[3]["noticeQueued"] is True
    # The answer is mailed once, with the link to the attachment.
    assert await _deliver(db, smtp_server) == 1
    assert await _deliver(db, smtp_server) == 0
    answer_mail = smtp_server.recorder.messages()[-1]
    body = answer_mail.get_content()
    assert "Участки в ТОР «Амурская»" in body
    assert "https://api.invest.example/media/2026/03/razyasnenie.pdf" in body
    assert smtp_server.recorder.received[-1].rcpt_tos == ["ivan.petrov@example.ru"]


async def test_forwarding_keeps_the_body_and_the_covering_letter(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    settings = make_settings(db.url, **_environ(smtp_server))
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    context = workflow.StepContext(None, settings, FixedClock(at("2026-03-04T01:00")))
    forwarded = await workflow.forward(
        appeal.pk,
        context,
        body="Министерство по развитию Дальнего Востока и Арктики",
        covering_letter="Направляем обращение для рассмотрения по компетенции.",
    )
    assert forwarded.state is AppealState.FORWARDED
    assert forwarded.forwarded_to == "Министерство по развитию Дальнего Востока и Арктики"
    assert forwarded.closed_at == at("2026-03-04T01:00")
    event = await AppealEvent.filter(appeal_id=appeal.pk).order_by("-id").first()
    assert event is not None
    assert event.letter == "Направляем обращение для рассмотрения по компетенции."
    assert await _deliver(db, smtp_server) == 2
    notice = smtp_server.recorder.messages()[-1].get_content()
    assert "Министерство по развитию Дальнего Востока и Арктики" in notice
    assert "Направляем обращение" not in notice  # the covering letter goes to the body


@pytest.mark.parametrize("reason", list(NoAnswerReason))
async def test_left_without_answer_for_each_article_11_reason(
    db: TestDatabase, smtp_server: SmtpServer, reason: NoAnswerReason
) -> None:
    settings = make_settings(db.url, **_environ(smtp_server))
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    context = workflow.StepContext(None, settings, FixedClock(at("2026-03-04T01:00")))
    left = await workflow.leave_without_answer(appeal.pk, context, reason=reason)
    assert left.state is AppealState.LEFT_WITHOUT_ANSWER
    assert left.no_answer_reason is reason
    notices = await FeedbackNotification.filter(event__action="left_without_answer").count()
    # No notice when the law's reason is that there is no address to send it to.
    assert notices == (0 if reason is NoAnswerReason.NO_NAME_OR_ADDRESS else 1)


async def test_withdrawal_from_received_without_a_notice(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    settings = make_settings(db.url, CMS_APPEAL_REGISTRATION="manual", **_environ(smtp_server))
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    context = workflow.StepContext(None, settings)
    with pytest.raises(ValidationFailedError) as refused:
        await workflow.withdraw(appeal.pk, context, comment=None)
    assert [error.code for error in refused.value.errors] == ["REQUIRED"]
    withdrawn = await workflow.withdraw(appeal.pk, context, comment="Заявление от 03.03.2026")
    assert withdrawn.state is AppealState.WITHDRAWN
    assert await FeedbackNotification.all().count() == 0


async def test_steps_from_the_wrong_state_are_refused(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    settings = make_settings(db.url)
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    await workflow.answer(appeal.pk, workflow.StepContext(None, settings), text="Ответ.")
    await sign_in(writer_client, "head")
    appeal_id = str(global_id("Appeal", appeal.pk))
    for mutation, input_type, values in [
        ("startAppealReview", "AppealStepInput", {}),
        ("answerAppeal", "AnswerAppealInput", {"text": "Второй ответ"}),
        ("withdrawAppeal", "WithdrawAppealInput", {"comment": "Отозвано"}),
        ("registerAppeal", "AppealStepInput", {}),
    ]:
        payload = await step(writer_client, mutation, input_type, {"id": appeal_id, **values})
        assert payload["appeal"] is None
        ((error),) = payload["errors"]
        assert error["code"] == "INVALID", mutation
        assert "дан ответ" in error["message"]
    assert await AppealEvent.filter(appeal_id=appeal.pk).count() == 3


async def test_bad_input_is_refused_whole(writer_client: GraphQLClient, db: TestDatabase) -> None:
    appeal = await make_appeal(make_settings(db.url), at("2026-03-02T01:00"))
    await sign_in(writer_client, "editor")
    payload = await step(
        writer_client,
        "answerAppeal",
        "AnswerAppealInput",
        {
            "id": str(global_id("Appeal", appeal.pk)),
            "text": "   ",
            "attachments": [str(global_id("MediaAsset", 999_999))],
        },
    )
    assert sorted((error["field"][-1], error["code"]) for error in payload["errors"]) == [
        ("attachments", "NOT_FOUND"),
        ("text", "REQUIRED"),
    ]
    missing = await step(
        writer_client,
        "startAppealReview",
        "AppealStepInput",
        {"id": str(global_id("Appeal", 999_999))},
    )
    assert [error["code"] for error in missing["errors"]] == ["NOT_FOUND"]
    assert (await Appeal.get(id=appeal.pk)).state is AppealState.REGISTERED


async def test_a_stale_revision_is_a_conflict(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    appeal = await make_appeal(make_settings(db.url), at("2026-03-02T01:00"))
    await sign_in(writer_client, "editor")
    appeal_id = str(global_id("Appeal", appeal.pk))
    first = await step(
        writer_client,
        "startAppealReview",
        "AppealStepInput",
        {"id": appeal_id, "expectedRevision": 1},
    )
    assert first["errors"] == []
    stale = await step(
        writer_client,
        "answerAppeal",
        "AnswerAppealInput",
        {"id": appeal_id, "text": "Ответ", "expectedRevision": 1},
    )
    assert [error["code"] for error in stale["errors"]] == ["CONFLICT"]
    assert (await Appeal.get(id=appeal.pk)).state is AppealState.IN_REVIEW


async def test_concurrent_answers_one_wins_one_notice(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    settings = make_settings(db.url, **_environ(smtp_server))
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    context = workflow.StepContext(None, settings)
    results = await asyncio.gather(
        *(
            workflow.answer(appeal.pk, context, text=f"Ответ {n}", expected_revision=1)
            for n in range(5)
        ),
        return_exceptions=True,
    )
    winners = [result for result in results if isinstance(result, Appeal)]
    assert len(winners) == 1
    assert all(
        isinstance(result, ValidationFailedError)
        and result.errors[0].code in ("CONFLICT", "INVALID")
        for result in results
        if not isinstance(result, Appeal)
    )
    assert await AppealEvent.filter(appeal_id=appeal.pk, action="answered").count() == 1
    assert await FeedbackNotification.filter(event__action="answered").count() == 1


class _AbortError(Exception):
    pass


async def _answer_then_fail(appeal_id: int, settings: object) -> None:
    async with in_transaction():
        await workflow.answer(appeal_id, workflow.StepContext(None, settings), text="Ответ")  # type: ignore[arg-type]
        raise _AbortError


async def test_a_rolled_back_step_leaves_no_event_and_no_notice(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    settings = make_settings(db.url, **_environ(smtp_server))
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    before = await FeedbackNotification.all().count()
    # The step runs inside a larger transaction that fails after it: everything it
    # wrote, the outbox row included, goes with it.
    with pytest.raises(_AbortError):
        await _answer_then_fail(appeal.pk, settings)
    row = await Appeal.get(id=appeal.pk)
    assert row.state is AppealState.REGISTERED
    assert row.revision == appeal.revision
    assert await AppealEvent.filter(appeal_id=appeal.pk, action="answered").count() == 0
    assert await FeedbackNotification.all().count() == before
    assert await _deliver(db, smtp_server) == 1  # only the acknowledgement
    assert "Ответ на" not in str(smtp_server.recorder.messages()[-1]["Subject"])
