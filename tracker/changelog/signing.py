"""The keyed hash that makes each change entry tamper-evident.

The key (settings.CHANGELOG_HMAC_KEY) lives outside the database, so someone with write access to
the database alone can neither alter an entry nor forge a new one without detection.

The signed form is the scalar fields as a JSON array, a `|`, and the changed fields as JSON with sorted
keys (orjson: compact, UTF-8, deterministic for the str/int/bool/None values the log stores). The
same JSON text of the changes is what gets stored, so it is serialised once per entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

import orjson
from django.conf import settings

SCALAR_FIELDS = (
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
    "reason",
)
SIGNED_FIELDS = (*SCALAR_FIELDS, "changes", "row_hash")


def changes_json(changes: dict[str, Any]) -> bytes:
    return orjson.dumps(changes, option=orjson.OPT_SORT_KEYS)


def entry_hmac(values: dict[str, Any], changes: bytes | None = None) -> str:
    """HMAC-SHA256 over an entry's signed fields (a mapping with the names in SIGNED_FIELDS);
    `changes` may pass the already-serialised JSON of values["changes"]. The row hash joins the
    message when there is one (entries written before row hashes existed sign without it)."""
    scalars = [values[name] for name in SCALAR_FIELDS]
    scalars[0] = values["at"].astimezone(dt.UTC).isoformat(timespec="microseconds")
    message = (
        orjson.dumps(scalars) + b"|" + (changes if changes is not None else changes_json(values["changes"]))
    )
    row_hash = values.get("row_hash") or ""
    if row_hash:
        message += b"|" + row_hash.encode()
    return hmac.digest(_key(), message, hashlib.sha256).hex()


def row_hash(values: dict[str, Any]) -> str:
    """Keyed hash of a row's stored values (every column but the primary key, in their change-log
    form): recorded with each write, recomputed by verify from the live row, so an edit made in SQL
    behind the log's back shows even when it leaves `version` alone."""
    return hmac.digest(
        _key(), b"row|" + orjson.dumps(values, option=orjson.OPT_SORT_KEYS), hashlib.sha256
    ).hex()


def chain_digest(previous: str, entry_hmacs: Iterable[str]) -> str:
    """The next link of the checkpoint chain: a keyed hash of the previous digest and the HMACs of
    the entries since, in id order. Without the key nobody can rebuild a chain over altered entries."""
    mac = hmac.new(_key(), b"chain|" + previous.encode(), hashlib.sha256)
    for value in entry_hmacs:
        mac.update(b"|" + value.encode())
    return mac.hexdigest()


_keys: dict[str, bytes] = {}


def _key() -> bytes:
    secret = settings.CHANGELOG_HMAC_KEY
    key = _keys.get(secret)
    if key is None:
        key = _keys[secret] = secret.encode()
    return key
