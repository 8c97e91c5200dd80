"""Plumbing shared by every app's JSON API: the NinjaAPI class, JSON in and out through orjson,
input types that cannot reach the database as garbage, and the mapping of errors to responses.

Responses are built as plain dicts and written with orjson (`json_response`) instead of being
validated through ninja's response schemas: for a 50-row page that costs ~20 µs instead of ~1.2 ms,
which is the difference between meeting the list endpoint's 1,000 req/s target and missing it.
The `response=` schemas still document every endpoint in OpenAPI, and the tests validate real
responses against them so the two cannot drift apart.
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.renderers import BaseRenderer
from pydantic import AfterValidator, Field, WithJsonSchema

from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.paging import BadCursor

# The largest id SQLite and PostgreSQL bigint accept; larger numbers would crash the query.
MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; refuse it here rather than with a 500 there.
    if "\x00" in value:
        raise ValueError(_("Null characters are not allowed."))
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_VERSION, description="The `version` you last read.")]
Text = Annotated[str, AfterValidator(_no_nul)]


def text(fmt: str | None = None, enum: list[str] | None = None, description: str | None = None) -> Any:
    """A JSON string whose meaning the service layer validates (so the message is the service's,
    translated); `fmt`/`enum` only document it in OpenAPI."""
    schema: dict[str, Any] = {"type": "string"}
    if fmt:
        schema["format"] = fmt
    if enum is not None:
        schema["enum"] = enum
    if description:
        schema["description"] = description
    return Annotated[str, AfterValidator(_no_nul), WithJsonSchema(schema)]


# --- JSON out -----------------------------------------------------------------------------------


def _default(obj: Any) -> Any:
    if isinstance(obj, Promise):
        return str(obj)
    if isinstance(obj, decimal.Decimal):
        return str(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


_ORJSON_OPTIONS = orjson.OPT_UTC_Z


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, default=_default, option=_ORJSON_OPTIONS)


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return dumps(data)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(dumps(data), status=status, content_type="application/json", headers=headers)


def etag(version: int) -> str:
    return f'"{version}"'


# --- JSON in ------------------------------------------------------------------------------------


class BodyParseError(ValueError):
    pass


class ORJSONParser(Parser):
    """orjson refuses invalid UTF-8, lone surrogates and nesting deeper than 1,024 levels with an
    error instead of a RecursionError, so bad bodies end as 400, never 500."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise BodyParseError(str(exc)) from exc


# --- errors -------------------------------------------------------------------------------------


def _field_name(loc: tuple) -> str | None:
    # ("body", "payload", "tags", 2) -> "tags.2"; ("query", "limit") -> "limit"
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        source = parts.pop(0)
        if source == "body" and parts:
            parts.pop(0)  # the view's argument name
    return ".".join(str(p) for p in parts) or None


def pydantic_message(err: dict) -> str:
    """A translated message for a pydantic error (pydantic's own messages are English only)."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind == "string_type":
        return _("Enter text.")
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return _("Enter a whole number.")
    if kind in ("bool_type", "bool_parsing"):
        return _("Enter true or false.")
    if kind in ("list_type", "tuple_type", "set_type"):
        return _("Enter a list.")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _("Enter a JSON object.")
    if kind == "greater_than_equal":
        return _("Enter a number of at least %(limit)s.") % {"limit": ctx.get("ge")}
    if kind == "less_than_equal":
        return _("Enter a number of at most %(limit)s.") % {"limit": ctx.get("le")}
    if kind == "string_too_long":
        length = len(value) if isinstance(value, str) else 0
        return _("At most %(limit)d characters (this has %(length)d).") % {
            "limit": ctx.get("max_length", 0),
            "length": length,
        }
    if kind in ("literal_error", "enum"):
        return _("“%(value)s” is not one of the available choices.") % {"value": value}
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])
    return _("Enter a valid value.")


class TradeCRMAPI(NinjaAPI):
    """The API, with its OpenAPI document built once per process, URL prefix and language.

    Building the document walks 100+ paths and their schemas (~1.5 s); the routes do not change
    while a process runs, so /api/v1/openapi.json and `export_openapi` reuse the first build.
    It is kept per language because descriptions may be translated. Callers get their own copy
    (~35 ms), so nothing they do to it can leak into the next request's document.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._openapi_cache: dict[tuple[str, str | None], dict[str, Any]] = {}
        super().__init__(*args, **kwargs)

    def add_router(self, prefix: str, router: Router | str, *args: Any, **kwargs: Any) -> None:
        super().add_router(prefix, router, *args, **kwargs)
        self._openapi_cache.clear()  # a new route changes the document

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        key = (path_prefix, translation.get_language())
        document = self._openapi_cache.get(key)
        if document is None:
            built = super().get_openapi_schema(path_prefix=path_prefix)
            document = self._openapi_cache[key] = copy.deepcopy(dict(built))
        return copy.deepcopy(document)

    def validation_error_from_error_contexts(self, error_contexts) -> NinjaValidationError:
        errors = []
        for context in error_contexts:
            model = context.model
            for err in context.pydantic_validation_error.errors(include_url=False):
                loc = (model.__ninja_param_source__,) + model.__ninja_flatten_map_reverse__.get(
                    err["loc"], err["loc"]
                )
                errors.append({"field": _field_name(loc), "message": pydantic_message(err)})
        return NinjaValidationError(errors)


def _detail(request: HttpRequest, message: str, status: int, headers: dict[str, str] | None = None, **extra):
    return json_response({"detail": message, **extra}, status=status, headers=headers)


def on_ninja_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return json_response({"detail": exc.errors}, status=422)


def on_service_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        detail = [
            {"field": None if field == "__all__" else field, "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        detail = [{"field": None, "message": message} for message in exc.messages]
    return json_response({"detail": detail}, status=422)


def _user_time(request: HttpRequest, at: dt.datetime) -> str:
    tz_name = getattr(getattr(request, "auth", None), "timezone", "") or "UTC"
    try:
        tz = ZoneInfo(tz_name)
    except (ValueError, KeyError):
        tz = dt.UTC
    return timezone.localtime(at, tz).strftime("%Y-%m-%d %H:%M %Z")


def on_conflict(request: HttpRequest, exc: ConcurrentEditError) -> HttpResponse:
    when = _user_time(request, exc.at)
    if exc.by and exc.by != "?":
        message = _(
            "%(user)s changed this record at %(time)s, after you loaded it. Reload it and apply your change again."
        ) % {"user": exc.by, "time": when}
    else:
        message = _(
            "Someone changed this record at %(time)s, after you loaded it. Reload it and apply your change again."
        ) % {"time": when}
    return _detail(
        request,
        message,
        409,
        headers={"ETag": etag(exc.current_version)},
        changed_by=exc.by,
        changed_at=exc.at,
        current_version=exc.current_version,
    )


def api_not_found(request: HttpRequest, path: str) -> HttpResponse:
    """Unknown paths under /api/v1/ answer in JSON too, not with the web UI's HTML page."""
    return _detail(request, _("Not found."), 404)


def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _detail(request, _("Not found."), 404)


def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _detail(request, str(exc) or _("You are not allowed to do this."), 403)


def on_bad_cursor(request: HttpRequest, exc: BadCursor) -> HttpResponse:
    return _detail(request, _("The cursor is not valid; start again from the first page."), 400)


def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _detail(
        request, _("The request body is too large (at most %(limit)s bytes).") % {"limit": limit}, 413
    )


def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # e.g. more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS
    return _detail(request, _("The request was refused as malformed."), 400)


class InvalidToken(AuthenticationError):
    """A bearer token was sent but does not match a live token."""


def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, BodyParseError):
        return _detail(request, _("The request body is not valid JSON."), 400)
    if isinstance(exc, AuthenticationError):
        if isinstance(exc, InvalidToken):
            return _detail(
                request,
                _("The API token is not valid or has been revoked."),
                401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return _detail(
            request,
            _("Sign in first: send the header “Authorization: Bearer <token>”."),
            401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return _detail(request, str(exc), exc.status_code)


class Error(Schema):
    detail: str


class FieldError(Schema):
    field: str | None = Field(
        description="The field at fault (dotted for list items); null for the whole body."
    )
    message: str


class ValidationErrors(Schema):
    detail: list[FieldError]


class Conflict(Schema):
    detail: str
    changed_by: str
    changed_at: dt.datetime
    current_version: int


# --- what every endpoint module shares ------------------------------------------------------

READ = {401: Error, 404: Error}
LIST = {400: Error, 401: Error, 404: Error, 422: ValidationErrors}
WRITE = {400: Error, 401: Error, 403: Error, 404: Error, 413: Error, 422: ValidationErrors}
PATCH = {**WRITE, 409: Conflict, 428: Error}
DELETE = {401: Error, 403: Error, 404: Error, 409: Conflict}


def person_name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def user_ref(user) -> dict | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "username": user.username,
        "name": person_name(user.first_name, user.last_name, user.username),
    }


def page_response(items: list[dict], next_cursor: str | None, prev_cursor: str | None) -> HttpResponse:
    return json_response({"items": items, "next_cursor": next_cursor, "prev_cursor": prev_cursor})


def object_response(data: dict, status: int = 200) -> HttpResponse:
    return json_response(data, status=status, headers={"ETag": etag(data["version"])})


def created_response(data: dict, collection: str) -> HttpResponse:
    response = object_response(data, status=201)
    response["Location"] = f"/api/v1/{collection}/{data['id']}"
    return response


def if_match(request: HttpRequest) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        raise HttpError(400, _('If-Match must hold the ETag you received, e.g. “"3"”.'))
    return int(value)


def required_version(request: HttpRequest, body_version: int | None) -> int:
    """The version the client last read: `version` in the body or If-Match. Without one the
    change could silently overwrite someone else's, so it is refused (428)."""
    header_version = if_match(request)
    if body_version is not None and header_version is not None and body_version != header_version:
        raise HttpError(400, _("The version in the body and the one in If-Match differ."))
    version = body_version if body_version is not None else header_version
    if version is None:
        raise HttpError(
            428,
            _(
                "Send the version you last read, as “version” in the body or in an If-Match "
                "header, so that nobody's changes are overwritten."
            ),
        )
    return version


def not_modified(request: HttpRequest, version: int) -> HttpResponse | None:
    tags_sent = request.headers.get("If-None-Match")
    if tags_sent and etag(version) in [t.strip().removeprefix("W/") for t in tags_sent.split(",")]:
        return HttpResponse(status=304, headers={"ETag": etag(version)})
    return None


def check_delete_version(request: HttpRequest, obj) -> None:
    """DELETE is unconditional unless the client sends If-Match; then a stale one is refused."""
    version = if_match(request)
    if version is not None and version != obj.version:
        by = getattr(obj, "updated_by", None)
        raise ConcurrentEditError(by=str(by or "?"), at=obj.updated_at, current_version=obj.version)
