"""`Idempotency-Key`, an API convention for writes that must happen once (payments, transitions,
voucher issue and redemption): a client that retries after a lost answer gets the original answer
back instead of a second payment.

The key is scoped to the user. The first successful answer (2xx) is stored in the same transaction
as the write it answers, so either both exist or neither does. A replay with the same key and the
same request (method, path and JSON body) returns the stored status and body; the same key with a
different request is 409. Refused requests (4xx) are not stored: nothing was written, so the client
may fix the request and retry with the same key. Two requests with one key at the same moment: the
key is claimed before the write, so the second waits for the first and then gets its answer.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api.models import IdempotencyRecord
from tracker.errors import Conflict
from tracker.transactions import door_transaction

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


# 1 to 255 visible ASCII characters (a UUID, say): what an HTTP header carries unchanged. The same
# rule is in the OpenAPI schema (IDEMPOTENCY_KEY_SCHEMA), so a client can check a key before sending.
KEY_PATTERN = "^[!-~]{1,255}$"
IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN}
_KEY = re.compile(KEY_PATTERN)


def _valid_key(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


class _Raced(Exception):
    """Another request with the same key committed while this one waited for the key."""


class _Refused(Exception):
    """The view answered without a 2xx: undo the key so the client may fix the request and retry."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _replay(record: IdempotencyRecord, fingerprint: str, key: str) -> Response:
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


def idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a write view method (create or a transition action) to honour Idempotency-Key.

    The key is claimed (its row inserted) before the write runs, in the write's transaction, so a
    second request with the same key waits on the unique index until the first one finishes: if the
    first committed, the second gets its stored answer (or 409 for another body); if it was refused
    or failed, the second runs. Without the claim, a client retrying while its first attempt was still
    running got the rules' refusal of a duplicate (e.g. PERIOD_OVERLAP 400) instead of the answer."""

    @functools.wraps(view)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return view(self, request, *args, **kwargs)
        if not _valid_key(key):
            raise ValidationError(
                {HEADER: [_("An idempotency key has 1 to 255 visible ASCII characters (no spaces).")]}
            )
        fingerprint = request_fingerprint(request)
        record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if record is not None:
            return _replay(record, fingerprint, key)
        claim = IdempotencyRecord(
            user=request.user,
            key=key,
            fingerprint=fingerprint,
            method=request.method,
            path=request.path[:255],
            response_status=0,
        )
        try:
            with door_transaction():
                try:
                    with transaction.atomic():
                        claim.save()
                except IntegrityError as exc:
                    raise _Raced() from exc
                response = view(self, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    raise _Refused(response)
                claim.response_status = response.status_code
                claim.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
                claim.response_headers = {name: response[name] for name in KEPT_HEADERS if name in response}
                claim.save(update_fields=["response_status", "response_body", "response_headers"])
                return response
        except _Refused as refused:
            return refused.response
        except _Raced:
            record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
            if record is None or record.response_status == 0:
                raise Conflict(
                    _(
                        "IDEMPOTENCY_KEY_IN_USE: another request with this key is being processed; retry to get its answer."
                    ),
                    extra={"idempotency_key": key},
                ) from None
            return _replay(record, fingerprint, key)

    return wrapper
