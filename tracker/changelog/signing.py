"""The keyed hash that makes each change entry tamper-evident.

The key (settings.CHANGELOG_HMAC_KEY) lives outside the database, so someone with write access to
the database alone can neither alter an entry nor forge a new one without detection.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

from django.conf import settings

SIGNED_FIELDS = (
    "at",
    "actor_id",
    "actor_name",
    "request_id",
    "source",
    "action",
    "model",
    "object_id",
    "object_version",
    "region_path",
    "label",
    "changes",
    "reason",
)


def _canonical(values: dict[str, Any]) -> bytes:
    at = values["at"]
    payload = dict(values)
    payload["at"] = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return json.dumps(
        [payload[name] for name in SIGNED_FIELDS], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode()


def entry_hmac(values: dict[str, Any]) -> str:
    """HMAC-SHA256 over the entry's signed fields (a mapping with the names in SIGNED_FIELDS)."""
    key = settings.CHANGELOG_HMAC_KEY.encode()
    return hmac.new(key, _canonical(values), hashlib.sha256).hexdigest()
