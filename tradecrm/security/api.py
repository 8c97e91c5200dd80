"""JSON API of security, mounted at /api/v1/api-tokens: the caller's own API tokens.

List (keyset paged, newest first), create (the raw token is in the answer once), revoke by id.
Another user's token is 404, as if missing. Scoped tokens need admin:read / admin:write here,
so a narrow token cannot mint itself a wider one."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from tradecrm.accounts.models import ApiToken
from tradecrm.core.api import DELETE, LIST, WRITE, Id, Text, json_response, page_response
from tradecrm.core.paging import Sort, keyset_page

from . import selectors, services
from .scopes import ALL_SCOPES

tokens = Router(tags=["API tokens"])

ROUTERS: list[tuple[str, Router]] = [("/api-tokens", tokens)]

FIELDS = ("id", "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at")
SORT = Sort("created_at", descending=True, kind="datetime")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str] = Field(description="Empty: all the rights of its user.")
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The raw token. Shown only in this answer; only its hash is stored.")


class TokenPage(Schema):
    items: list[TokenOut]
    next_cursor: str | None
    prev_cursor: str | None


class TokenIn(Schema):
    name: Text = Field("", max_length=100)
    scopes: list[Text] = Field(
        default_factory=list,
        max_length=len(ALL_SCOPES),
        description="area:read or area:write, e.g. customers:read. Empty: all your rights.",
    )
    expires_in_days: int | None = Field(None, ge=1, le=services.MAX_TOKEN_DAYS,
                                        description="Days until it expires; null: never.")  # fmt: skip


class PageQuery(Schema):
    cursor: Text | None = Field(None, max_length=1000)
    limit: int = Field(50, ge=1, le=200)


def _out(token: ApiToken | dict) -> dict:
    get = token.get if isinstance(token, dict) else lambda f: getattr(token, f)
    return {f: get(f) for f in FIELDS}


@tokens.get("", response={200: TokenPage, **LIST}, summary="Your API tokens")
def token_list(request: HttpRequest, q: Query[PageQuery]) -> HttpResponse:
    rows, nxt, prev = keyset_page(
        selectors.api_token_list_for_user(request.auth), SORT, q.cursor, q.limit, FIELDS
    )
    return page_response([_out(r) for r in rows], nxt, prev)


@tokens.post("", response={201: TokenCreated, **WRITE}, summary="Create an API token")
def token_create(request: HttpRequest, payload: TokenIn) -> HttpResponse:
    token, raw = services.api_token_create(actor=request.auth, user=request.auth, name=payload.name,
                                           scopes=payload.scopes, days=payload.expires_in_days)  # fmt: skip
    return json_response({**_out(token), "token": raw}, status=201)


@tokens.delete("/{token_id}", response={204: None, **DELETE}, summary="Revoke one of your API tokens")
def token_revoke(request: HttpRequest, token_id: Id) -> HttpResponse:
    token = selectors.api_token_get_for_user(request.auth, token_id)
    services.api_token_revoke(actor=request.auth, token=token)
    return HttpResponse(status=204)
