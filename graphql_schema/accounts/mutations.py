"""Mutations of the accounts area: logging in and out, API tokens."""

from __future__ import annotations

import strawberry

from cms.errors import ValidationFailedError
from cms.services import auth
from cms.services.permissions import Action
from graphql_schema.accounts.types import ApiToken, Role, TokenScope, User
from graphql_schema.context import Info
from graphql_schema.payloads import DeletePayload, UserError, user_errors
from graphql_schema.permissions import denied, require
from graphql_schema.relay import parse_typed_id


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(description="Send it as `Authorization: Bearer ...`.")
    user: User | None
    errors: list[UserError]


@strawberry.input
class CreateApiTokenInput:
    name: str
    scopes: list[TokenScope]


@strawberry.type
class ApiTokenPayload:
    token: str | None = strawberry.field(description="The secret, shown only in this answer.")
    api_token: ApiToken | None
    errors: list[UserError]


@strawberry.input
class CreateUserInput:
    email: str
    role: Role
    password: str = strawberry.field(description="At least 10 characters.")
    display_name: str | None = None


@strawberry.input
class UpdateUserInput:
    display_name: str | None = None
    role: Role | None = None
    is_active: bool | None = strawberry.field(
        default=None, description="false ends every session of the account at once."
    )
    password: str | None = strawberry.field(
        default=None, description="A new password; ends the account's sessions."
    )


@strawberry.type
class UserPayload:
    user: User | None
    errors: list[UserError]


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="A bearer token for valid credentials.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        context = info.context
        try:
            token, user = await auth.login(
                input.email,
                input.password,
                address=context.viewer.address or "unknown",
                limiter=context.runtime.limiter,
                passwords=context.runtime.passwords,
                settings=context.settings,
            )
        except ValidationFailedError as error:
            return LoginPayload(token=None, user=None, errors=user_errors(error))
        return LoginPayload(token=token, user=User.from_row(user), errors=[])

    @strawberry.mutation(description="Revokes the token this call was made with.")
    async def logout(self, info: Info) -> bool:
        viewer = info.context.viewer
        if viewer.is_anonymous:
            raise denied(viewer, "Выход")
        return await auth.logout(viewer)

    @strawberry.mutation(description="A named token for integrators (admin).")
    async def create_api_token(self, info: Info, input: CreateApiTokenInput) -> ApiTokenPayload:
        viewer = info.context.viewer
        require(viewer, Action.MANAGE_TOKENS, "Создание API-токена")
        try:
            secret, row = await auth.create_api_token(
                name=input.name, scopes=input.scopes, created_by=viewer.user_id
            )
        except ValidationFailedError as error:
            return ApiTokenPayload(token=None, api_token=None, errors=user_errors(error))
        return ApiTokenPayload(token=secret, api_token=ApiToken.from_row(row), errors=[])

    @strawberry.mutation(description="Revokes an API token at once (admin).")
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> DeletePayload:
        require(info.context.viewer, Action.MANAGE_TOKENS, "Отзыв API-токена")
        try:
            await auth.revoke_api_token(parse_typed_id(id, "ApiToken"))
        except ValidationFailedError as error:
            return DeletePayload(deleted_id=None, errors=user_errors(error))
        return DeletePayload(deleted_id=id, errors=[])

    @strawberry.mutation(description="A new staff account (admin).")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        require(info.context.viewer, Action.MANAGE_USERS, "Создание пользователя")
        try:
            row = await auth.create_user(
                email=input.email,
                password=input.password,
                role=input.role,
                display_name=input.display_name,
            )
        except ValidationFailedError as error:
            return UserPayload(user=None, errors=user_errors(error))
        return UserPayload(user=User.from_row(row), errors=[])

    @strawberry.mutation(
        description="Ends the login lockouts of an account, from every address (admin)."
    )
    async def unlock_user(self, info: Info, id: strawberry.ID) -> UserPayload:
        require(info.context.viewer, Action.MANAGE_USERS, "Разблокировка входа")
        try:
            row = await auth.unlock_user(parse_typed_id(id, "User"))
        except ValidationFailedError as error:
            return UserPayload(user=None, errors=user_errors(error))
        return UserPayload(user=User.from_row(row), errors=[])

    @strawberry.mutation(description="Changes an account: name, role, access, password (admin).")
    async def update_user(
        self, info: Info, id: strawberry.ID, input: UpdateUserInput
    ) -> UserPayload:
        viewer = info.context.viewer
        require(viewer, Action.MANAGE_USERS, "Изменение пользователя")
        try:
            row = await auth.update_user(
                parse_typed_id(id, "User"),
                actor_id=viewer.user_id,
                display_name=input.display_name,
                role=input.role,
                is_active=input.is_active,
                password=input.password,
            )
        except ValidationFailedError as error:
            return UserPayload(user=None, errors=user_errors(error))
        return UserPayload(user=User.from_row(row), errors=[])
