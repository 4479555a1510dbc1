"""One error shape for the whole API: RFC 9457 problem details, with `errors` mapping each field
path (e.g. `items.0.amount`) to its messages, in the language the client asked for."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from tracker.changelog.entries import UntrackedWriteError
from tracker.errors import Conflict, DomainError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class DomainProblem(exceptions.APIException):
    """A service's domain error (tracker.errors) as an API exception: its status, message and extra
    members of the problem document."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.detail)
        self.status_code = error.status
        self.extra = error.extra
        retry_after = getattr(error, "retry_after", None)
        self.wait = retry_after


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is larger than the server accepts.")
    default_code = "request_too_large"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The resource has changed since you read it (If-Match does not match the ETag).")
    default_code = "precondition_failed"


class DatabaseUnavailable(exceptions.APIException):
    """The database refused or lost the connection (down, restarting, failing over, locked): the
    request may well succeed shortly, so 503 with Retry-After rather than 500."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The database is unavailable; retry shortly.")
    default_code = "database_unavailable"


def is_database_unavailable(exc: BaseException | None) -> bool:
    """OperationalError: connection refused or lost, server shutting down or restarting, lock or
    statement timeouts. InterfaceError: the connection is closed or unusable."""
    return isinstance(exc, (OperationalError, InterfaceError))


TITLES = {
    400: _("Invalid request"),
    401: _("Authentication required"),
    403: _("Forbidden"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict"),
    412: _("Precondition failed"),
    413: _("Request too large"),
    415: _("Unsupported media type"),
    429: _("Too many requests"),
    500: _("Internal error"),
    503: _("Service unavailable"),
}


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """{'items': [{'amount': ['bad']}]} -> {'items.0.amount': ['bad']}"""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_errors(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def problem_response(status_code: int, detail: str, errors: dict | None = None, **extra: Any) -> Response:
    body = {
        "type": f"/problems/{status_code}",
        "title": str(TITLES.get(status_code, _("Error"))),
        "status": status_code,
        "detail": str(detail),
        "errors": errors or {},
        **extra,
    }
    return Response(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, DomainError):
        return DomainProblem(exc)
    if isinstance(exc, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)):
        return RequestTooLarge()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(detail=as_serializer_error(exc))
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if is_database_unavailable(exc):
        logger.warning("database unavailable, answered 503: %s", exc)
        return DatabaseUnavailable()
    if isinstance(exc, IntegrityError):
        logger.info("integrity error answered as 409: %s", exc)
        return DomainProblem(
            Conflict(_("The change conflicts with existing data (it may have been changed concurrently)."))
        )
    return exc


def problem_exception_handler(exc: Exception, context: dict) -> Response:
    exc = _translate(exc)
    response = exception_handler(exc, context)
    if response is None:
        if isinstance(exc, UntrackedWriteError):
            logger.error("untracked write refused", exc_info=exc)
        else:
            logger.exception("unhandled error", exc_info=exc)
        _render_as_json(context)
        return problem_response(500, _("The server could not complete the request."))
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        detail = _("Some fields are invalid.")
        if set(errors) == {"non_field_errors"}:
            detail = errors["non_field_errors"][0]
        problem = problem_response(400, detail, errors)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        if isinstance(detail, (dict, list)):
            problem = problem_response(response.status_code, _("Invalid request."), flatten_errors(detail))
        else:
            problem = problem_response(response.status_code, str(detail), **getattr(exc, "extra", {}))
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            problem[header] = response[header]
    if isinstance(exc, DatabaseUnavailable):
        problem["Retry-After"] = str(settings.DATABASE_RETRY_AFTER)
    _render_as_json(context)
    return problem


def _render_as_json(context: dict) -> None:
    """A problem is JSON whatever renderer the view would have picked for its success answer (the
    schema view's YAML, the docs' HTML, the browsable API): its Content-Type says so."""
    request = context.get("request")
    if request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def api_not_found(request: Any, exception: Exception | None = None) -> Any:
    """handler404: under /api/ an unmatched URL answers in the problem shape, like every API error;
    elsewhere (the admin) Django's own page."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        body = {
            "type": "/problems/404",
            "title": str(TITLES[404]),
            "status": 404,
            "detail": str(TITLES[404]),
            "errors": {},
        }
        return JsonResponse(
            body, status=404, content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
        )
    return page_not_found(request, exception)


def api_server_error(request: Any) -> Any:
    """handler500: the problem shape under /api/ (never a stack trace); Django's page elsewhere.
    A database that is down outside the views (e.g. in a middleware) is a 503 there too; Django
    calls this handler while handling the exception, so it is still the current one."""
    from django.http import JsonResponse
    from django.views.defaults import server_error

    if request.path.startswith("/api/") and is_database_unavailable(sys.exc_info()[1]):
        body = {
            "type": "/problems/503",
            "title": str(TITLES[503]),
            "status": 503,
            "detail": str(DatabaseUnavailable.default_detail),
            "errors": {},
        }
        response = JsonResponse(
            body, status=503, content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
        )
        response["Retry-After"] = str(settings.DATABASE_RETRY_AFTER)
        return response
    if request.path.startswith("/api/"):
        body = {
            "type": "/problems/500",
            "title": str(TITLES[500]),
            "status": 500,
            "detail": str(TITLES[500]),
            "errors": {},
        }
        return JsonResponse(
            body, status=500, content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
        )
    return server_error(request)
