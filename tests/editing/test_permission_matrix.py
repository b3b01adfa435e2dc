"""Who may call what: every content mutation and every staff-only query, called by
each kind of caller, gives exactly the intended result.

ok: done without errors; UNAUTHENTICATED / FORBIDDEN: a top-level GraphQL error
(the role or scope is not enough); OWN: a FORBIDDEN UserError, because authors and
WRITE tokens may change only their own drafts and these items are someone else's.

Types without a publication state (tags, organisations, persons, directions, events,
visits, enterprises) are public the moment they are written: only roles that may
publish write them (UNREVIEWED: AUTHOR and WRITE tokens get a FORBIDDEN UserError,
even for items they own), so nothing reaches the public without review.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from cms.models import Agreement, FeedbackKind, FeedbackMessage, Role, User
from cms.services import editing
from cms.services.appeals import consent
from cms.services.appeals import workflow as appeal_workflow
from cms.services.content_forms import declared_build
from cms.services.content_types import (
    ACTION_PLAN,
    AGREEMENT,
    DIRECTION,
    ENTERPRISE,
    EVENT,
    NEWS,
    ORGANIZATION,
    PERSON,
    TAG,
    VISIT,
)
from cms.services.news_editing import news_form, tag_form
from cms.services.viewer import Viewer
from cms.services.visibility import now
from graphql_schema.relay import global_id
from tests.conftest import GraphQLClient, TestDatabase, make_settings
from tests.editing.helpers import act_as
from tests.seed_content import AGREEMENT_SLUG

CALLERS = [
    "anonymous",
    "token:read",
    "token:read_drafts",
    "token:write",
    "viewer",
    "author",
    "editor",
    "admin",
    "head",  # the head of the office: appeals and their deadlines, no content editing
]
U, F, OK, OWN = "UNAUTHENTICATED", "FORBIDDEN", "ok", "OWN"
# Expected outcome per caller, in the order of CALLERS.
CREATE = (U, F, F, OK, F, OK, OK, OK, F)
# Creating, changing or deleting what is public without publication.
UNREVIEWED = (U, F, F, OWN, F, OWN, OK, OK, F)
CHANGE_OTHERS = (U, F, F, OWN, F, OWN, OK, OK, F)
PUBLISH = (U, F, F, F, F, F, OK, OK, F)
ADMIN_ONLY = (U, F, F, F, F, F, F, OK, F)
HISTORY = (U, F, F, F, OK, OK, OK, OK, OK)
DRAFTS = (U, F, OK, OK, OK, OK, OK, OK, OK)
# Appeals: handled by editors, admins and the head; the extension is the head's (and
# the admin's); consent versions are the admin's; counts are for every staff role.
APPEAL_STEP = (U, F, F, F, F, F, OK, OK, OK)
APPEAL_EXTEND = (U, F, F, F, F, F, F, OK, OK)
APPEAL_READ = (U, F, F, F, F, F, OK, OK, OK)
APPEAL_COUNT = (U, F, F, F, OK, OK, OK, OK, OK)
PUBLIC = (OK,) * 9

Setup = Callable[[Viewer], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    name: str
    document: str
    setup: Setup
    expected: tuple[str, ...]


def _id(type_name: str, row: Any) -> str:
    return global_id(type_name, row.pk)


async def _news(admin: Viewer) -> Any:
    return await editing.create(NEWS, admin, news_form({"title": "Чужая новость"}, admin, ()))


_numbers = itertools.count(1)


async def _tag(admin: Viewer, name: str = "Чужой тег") -> Any:
    name = f"{name} {next(_numbers)}"
    return await editing.create(TAG, admin, tag_form({"name": name}))


async def _organization(admin: Viewer) -> Any:
    return await editing.create(
        ORGANIZATION, admin, declared_build(ORGANIZATION, {"name": "Организация"}, image_hosts=())
    )


async def _agreement(admin: Viewer) -> Any:
    return await editing.create(
        AGREEMENT, admin, declared_build(AGREEMENT, {"title": "Соглашение"}, image_hosts=())
    )


async def _plan(admin: Viewer) -> Any:
    agreement = await Agreement.get(slug=AGREEMENT_SLUG)
    data = {
        "title": "План",
        "agreement": agreement.pk,
        "period_start": date(2024, 1, 1),
        "period_end": date(2024, 12, 31),
    }
    return await editing.create(
        ACTION_PLAN, admin, declared_build(ACTION_PLAN, data, image_hosts=())
    )


async def _visit(admin: Viewer) -> Any:
    data = {
        "title": "Визит",
        "delegation_region": "RU-ALT",
        "host_region": "RU-AMU",
        "starts_on": date(2024, 5, 1),
        "ends_on": date(2024, 5, 2),
    }
    return await editing.create(VISIT, admin, declared_build(VISIT, data, image_hosts=()))


async def _enterprise(admin: Viewer) -> Any:
    return await editing.create(
        ENTERPRISE, admin, declared_build(ENTERPRISE, {"name": "Завод"}, image_hosts=())
    )


async def _person(admin: Viewer) -> Any:
    return await editing.create(
        PERSON, admin, declared_build(PERSON, {"full_name": "Ф"}, image_hosts=())
    )


async def _direction(admin: Viewer) -> Any:
    return await editing.create(
        DIRECTION, admin, declared_build(DIRECTION, {"name": "Направление"}, image_hosts=())
    )


async def _event(admin: Viewer) -> Any:
    return await editing.create(
        EVENT, admin, declared_build(EVENT, {"title": "Событие"}, image_hosts=())
    )


_APPEAL_SETTINGS = make_settings("sqlite://:memory:", CMS_APPEAL_REGISTRATION="manual")


async def _appeal(admin: Viewer, *, registered: bool = True) -> Any:
    async with in_transaction() as connection:
        message = await FeedbackMessage.create(
            ticket=f"M-{next(_numbers)}",
            kind=FeedbackKind.APPEAL,
            name="Гражданин",
            email="citizen@example.ru",
            message="Обращение",
            using_db=connection,
        )
        appeal = await appeal_workflow.receive(connection, message, _APPEAL_SETTINGS, now())
    if registered:
        context = appeal_workflow.StepContext(admin.user_id, _APPEAL_SETTINGS)
        appeal = await appeal_workflow.register(appeal.pk, context)
    return appeal


async def _received_appeal(admin: Viewer) -> Any:
    return await _appeal(admin, registered=False)


async def _consent_draft(admin: Viewer) -> Any:
    return await consent.create_draft("Согласие", "Текст согласия", actor_id=admin.user_id)


def _appeal_case(name: str, input_type: str, fields: str, make: Any, expected: Any) -> Case:
    return Case(
        name,
        f"mutation($id: ID!) {{ {name}(input: {{id: $id{fields}}}) {{ {E} }} }}",
        _target("Appeal", make),
        expected,
    )


def _nothing() -> Setup:
    async def setup(admin: Viewer) -> dict[str, Any]:
        return {}

    return setup


def _target(type_name: str, make: Callable[[Viewer], Awaitable[Any]]) -> Setup:
    async def setup(admin: Viewer) -> dict[str, Any]:
        return {"id": _id(type_name, await make(admin))}

    return setup


def _trashed(type_name: str, make: Callable[[Viewer], Awaitable[Any]], kind: Any) -> Setup:
    async def setup(admin: Viewer) -> dict[str, Any]:
        row = await make(admin)
        await editing.delete(kind, admin, row.pk)
        return {"id": _id(type_name, row)}

    return setup


async def _merge_setup(admin: Viewer) -> dict[str, Any]:
    wrong = await _tag(admin, "Сотрудничесвто")
    return {"from": [wrong.slug], "into": "sotrudnichestvo"}


E = "errors { code field message }"


def _mutation(field: str, arguments: str, selection: str = "") -> str:
    """A mutation document whose variables are the setup's keys."""
    return f"mutation{arguments} {{ {field} {{ {selection} {E} }} }}"


def _crud(
    name: str, type_name: str, make: Any, kind: Any, create_input: str, *, public: bool = False
) -> list[Case]:
    """`public`: the type has no publication state (writing it publishes it)."""
    return [
        Case(
            f"create{name}",
            f"mutation {{ create{name}(input: {create_input}) {{ {E} }} }}",
            _nothing(),
            UNREVIEWED if public else CREATE,
        ),
        Case(
            f"update{name}",
            f"mutation($id: ID!) {{ update{name}(id: $id, input: {{}}) {{ {E} }} }}",
            _target(type_name, make),
            UNREVIEWED if public else CHANGE_OTHERS,
        ),
        Case(
            f"delete{name}",
            f"mutation($id: ID!) {{ delete{name}(id: $id) {{ deletedId {E} }} }}",
            _target(type_name, make),
            UNREVIEWED if public else CHANGE_OTHERS,
        ),
    ]


def _publication(name: str, type_name: str, make: Any) -> list[Case]:
    return [
        Case(
            f"publish{name}",
            f"mutation($id: ID!) {{ publish{name}(id: $id) {{ {E} }} }}",
            _target(type_name, make),
            PUBLISH,
        ),
        Case(
            f"unpublish{name}",
            f"mutation($id: ID!) {{ unpublish{name}(id: $id) {{ {E} }} }}",
            _target(type_name, make),
            PUBLISH,
        ),
    ]


async def _plan_input(admin: Viewer) -> dict[str, Any]:
    agreement = await Agreement.get(slug=AGREEMENT_SLUG)
    return {"agreement": global_id("Agreement", agreement.pk)}


CASES: list[Case] = [
    *_crud("News", "News", _news, NEWS, '{title: "Новость"}'),
    *_publication("News", "News", _news),
    *_crud("Tag", "Tag", _tag, TAG, '{name: "Новый тег"}', public=True),
    Case(
        "mergeTags",
        "mutation($from: [String!]!, $into: String!) "
        f"{{ mergeTags(input: {{from: $from, into: $into}}) {{ {E} }} }}",
        _merge_setup,
        PUBLISH,
    ),
    *_crud(
        "Organization", "Organization", _organization, ORGANIZATION, '{name: "Орг"}', public=True
    ),
    *_crud("Person", "Person", _person, PERSON, '{fullName: "Иван Иванов"}', public=True),
    *_crud(
        "CooperationDirection",
        "CooperationDirection",
        _direction,
        DIRECTION,
        '{name: "Новое направление"}',
        public=True,
    ),
    *_crud("Event", "Event", _event, EVENT, '{title: "Форум"}', public=True),
    *_crud("Agreement", "Agreement", _agreement, AGREEMENT, '{title: "Соглашение"}'),
    *_publication("Agreement", "Agreement", _agreement),
    Case(
        "createActionPlan",
        'mutation($agreement: ID!) { createActionPlan(input: {title: "План", '
        'agreement: $agreement, periodStart: "2024-01-01", periodEnd: "2024-12-31"}) '
        f"{{ {E} }} }}",
        _plan_input,
        CREATE,
    ),
    *_crud("ActionPlan", "ActionPlan", _plan, ACTION_PLAN, "{}")[1:],
    *_publication("ActionPlan", "ActionPlan", _plan),
    Case(
        "createVisit",
        'mutation { createVisit(input: {title: "Визит", delegationRegion: "RU-ALT", '
        f'hostRegion: "RU-AMU", startsOn: "2024-05-01", endsOn: "2024-05-02"}}) {{ {E} }} }}',
        _nothing(),
        UNREVIEWED,
    ),
    *_crud("Visit", "Visit", _visit, VISIT, "{}", public=True)[1:],
    *_crud("Enterprise", "Enterprise", _enterprise, ENTERPRISE, '{name: "Завод"}', public=True),
    Case(
        "restoreRevision",
        f"mutation($id: ID!) {{ restoreRevision(id: $id, revision: 1) {{ {E} }} }}",
        _target("News", _news),
        CHANGE_OTHERS,
    ),
    Case(
        "restoreFromTrash",
        f"mutation($id: ID!) {{ restoreFromTrash(id: $id) {{ node {{ id }} {E} }} }}",
        _trashed("News", _news, NEWS),
        ADMIN_ONLY,
    ),
    Case(
        "revisions",
        "query($id: ID!) { revisions(id: $id) { totalCount } }",
        _target("News", _news),
        HISTORY,
    ),
    Case("trash", "{ trash { totalCount } }", _nothing(), ADMIN_ONLY),
    Case("auditLog", "{ auditLog { totalCount } }", _nothing(), HISTORY),
    Case("apiTokens", "{ apiTokens { id } }", _nothing(), ADMIN_ONLY),
    Case(
        "news(filter: {status})",
        "{ news(filter: {status: DRAFT}) { totalCount } }",
        _nothing(),
        DRAFTS,
    ),
    Case(
        "newsItem(id) of a draft",
        "query($id: ID!) { newsItem(id: $id) { id } }",
        _target("News", _news),
        # Lookups never fail: callers who may not read drafts get null, checked below.
        (OK,) * len(CALLERS),
    ),
    _appeal_case("registerAppeal", "AppealStepInput", "", _received_appeal, APPEAL_STEP),
    _appeal_case("startAppealReview", "AppealStepInput", "", _appeal, APPEAL_STEP),
    _appeal_case(
        "extendAppealDeadline",
        "ExtendAppealDeadlineInput",
        ', days: 10, reason: "Запрос в министерство"',
        _appeal,
        APPEAL_EXTEND,
    ),
    _appeal_case("answerAppeal", "AnswerAppealInput", ', text: "Ответ"', _appeal, APPEAL_STEP),
    _appeal_case(
        "forwardAppeal",
        "ForwardAppealInput",
        ', body: "Минвостокразвития", coveringLetter: "Направляем"',
        _appeal,
        APPEAL_STEP,
    ),
    _appeal_case(
        "leaveAppealWithoutAnswer",
        "LeaveAppealWithoutAnswerInput",
        ", reason: UNREADABLE",
        _appeal,
        APPEAL_STEP,
    ),
    _appeal_case(
        "withdrawAppeal", "WithdrawAppealInput", ', comment: "Заявление"', _appeal, APPEAL_STEP
    ),
    Case("appeals", "{ appeals { totalCount } }", _nothing(), APPEAL_READ),
    Case("appealReport", "{ appealReport { total } }", _nothing(), APPEAL_COUNT),
    Case(
        "appealStatus",
        '{ appealStatus(number: "ОГ-2026-00001", contact: "a@example.ru") { state } }',
        _nothing(),
        PUBLIC,
    ),
    Case("consentDocument", "{ consentDocument { version } }", _nothing(), PUBLIC),
    Case("consentDocuments", "{ consentDocuments { version } }", _nothing(), ADMIN_ONLY),
    Case(
        "createConsentDocument",
        f'mutation {{ createConsentDocument(input: {{title: "С", text: "Т"}}) {{ {E} }} }}',
        _nothing(),
        ADMIN_ONLY,
    ),
    Case(
        "updateConsentDocument",
        "mutation($id: ID!) "
        f'{{ updateConsentDocument(input: {{id: $id, title: "С", text: "Т2"}}) {{ {E} }} }}',
        _target("ConsentDocument", _consent_draft),
        ADMIN_ONLY,
    ),
    Case(
        "publishConsentDocument",
        f"mutation($id: ID!) {{ publishConsentDocument(id: $id) {{ {E} }} }}",
        _target("ConsentDocument", _consent_draft),
        ADMIN_ONLY,
    ),
]


def _outcome(result: dict[str, Any]) -> str:
    if result.get("errors"):
        return result["errors"][0]["extensions"]["code"]
    (value,) = result["data"].values()
    errors = value.get("errors") if isinstance(value, dict) else None
    if errors:
        codes = {error["code"] for error in errors}
        return OWN if codes == {"FORBIDDEN"} else f"errors {errors}"
    return OK


@pytest.mark.parametrize("caller", CALLERS)
async def test_permission_matrix(
    writer_client: GraphQLClient, db: TestDatabase, caller: str
) -> None:
    admin_user = await User.create(
        email="matrix-admin@example.com", display_name="A", role=Role.ADMIN
    )
    admin = Viewer(user_id=admin_user.pk, role=Role.ADMIN, email=admin_user.email)
    await act_as(writer_client, caller)
    column = CALLERS.index(caller)
    mismatches = []
    for case in CASES:
        variables = await case.setup(admin)
        result = await writer_client.post(case.document, variables)
        outcome = _outcome(result)
        if outcome != case.expected[column]:
            mismatches.append(f"{case.name}: expected {case.expected[column]}, got {outcome}")
        if case.name == "newsItem(id) of a draft":
            sees = result["data"]["newsItem"] is not None
            if sees != (DRAFTS[column] == OK):
                mismatches.append(f"{case.name}: draft visible = {sees}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("caller", ["author", "token:write"])
async def test_unreviewed_types_stay_closed_even_for_their_owner(
    writer_client: GraphQLClient, db: TestDatabase, caller: str
) -> None:
    """An enterprise an author owns (made before this rule) is still not theirs to change:
    the change would be public at once."""
    admin_user = await User.create(
        email="owner-admin@example.com", display_name="A", role=Role.ADMIN
    )
    admin = Viewer(user_id=admin_user.pk, role=Role.ADMIN, email=admin_user.email)
    await act_as(writer_client, caller)
    enterprise = await _enterprise(admin)
    if caller == "author":
        owner = await User.get(email__startswith="author-")
        await type(enterprise).filter(id=enterprise.pk).update(created_by_id=owner.pk)
    result = await writer_client.post(
        'mutation($id: ID!) { updateEnterprise(id: $id, input: {name: "Ссылка на что угодно"}) '
        f"{{ {E} }} }}",
        {"id": _id("Enterprise", enterprise)},
    )
    (error,) = result["data"]["updateEnterprise"]["errors"]
    assert error["code"] == "FORBIDDEN"
    assert "только редактор" in error["message"]
    assert (await type(enterprise).get(id=enterprise.pk)).name == "Завод"
