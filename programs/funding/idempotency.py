"""`Idempotency-Key` for the payment writes: a client that retries after a lost answer gets the
original answer back instead of a second payment.

The key is scoped to the user. The first successful answer (2xx) is stored in the same transaction
as the write it answers, so either both exist or neither does. A replay with the same key and the
same request (method, path and JSON body) returns the stored status and body; the same key with a
different request is 409. Refused requests (4xx) are not stored: nothing was written, so the client
may fix the request and retry with the same key. Two requests with one key at the same moment: the
second to commit loses on the unique (user, key) index and gets 409, and its write is rolled back.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from programs.funding.models import IdempotencyRecord
from tracker.api.exceptions import Conflict

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("ETag", "Location")


def request_fingerprint(request: Request) -> str:
    """SHA-256 of method, path and the JSON body in canonical form (key order and whitespace do
    not matter)."""
    try:
        body = json.dumps(
            request.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
    except (TypeError, ValueError):
        body = request.body.decode("utf-8", "replace") if hasattr(request, "body") else ""
    raw = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= 255 and key.isprintable()


def idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a write view method (create or a transition action) to honour Idempotency-Key."""

    @functools.wraps(view)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return view(self, request, *args, **kwargs)
        key = key.strip()
        if not _valid_key(key):
            raise ValidationError({HEADER: [_("An idempotency key has 1 to 255 printable characters.")]})
        fingerprint = request_fingerprint(request)
        with transaction.atomic():
            record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
            if record is not None:
                if record.fingerprint != fingerprint:
                    raise Conflict(
                        _("IDEMPOTENCY_KEY_REUSED: this key was used for a different request."),
                        extra={"idempotency_key": key},
                    )
                response = Response(record.response_body, status=record.response_status)
                for name, value in (record.response_headers or {}).items():
                    response[name] = value
                response[REPLAYED_HEADER] = "true"
                return response
            response = view(self, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                body = json.loads(JSONRenderer().render(response.data) or b"null")
                headers = {name: response[name] for name in KEPT_HEADERS if name in response}
                try:
                    with transaction.atomic():
                        IdempotencyRecord(
                            user=request.user,
                            key=key,
                            fingerprint=fingerprint,
                            method=request.method,
                            path=request.path[:255],
                            response_status=response.status_code,
                            response_body=body,
                            response_headers=headers,
                        ).save()
                except IntegrityError as exc:
                    raise Conflict(
                        _(
                            "IDEMPOTENCY_KEY_IN_USE: another request with this key completed first; retry to get its answer."
                        ),
                        extra={"idempotency_key": key},
                    ) from exc
            return response

    return wrapper
