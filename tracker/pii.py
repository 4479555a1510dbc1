"""Personal data at rest (PIPL): encryption, keyed hashes for exact-match look-up, and masking.

- `encrypt` / `decrypt`: AES-256-GCM with a random 96-bit nonce per value. The 32-byte key is derived
  from settings.PII_ENCRYPTION_KEY (never stored in the database); a version prefix leaves room for
  key rotation.
- `keyed_hash`: HMAC-SHA256 with settings.PII_HASH_KEY, so a stolen table cannot be searched with a
  dictionary of every possible identity number (there are only ~10^11 plausible ones). Each kind of
  value has its own domain, so an identity number and a phone never hash alike.
- `mask_id_number` (`360302********123X`) and `mask_phone` (`138****5678`): the only forms responses,
  exports and the change log ever show.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_VERSION = "v1"
_NONCE_BYTES = 12


class DecryptionError(ValueError):
    """The ciphertext was altered or was written with another key."""


@lru_cache(maxsize=4)
def _aead(secret: str) -> AESGCM:
    key = hashlib.sha256(f"tracker-pii-encryption:{secret}".encode()).digest()
    return AESGCM(key)


@lru_cache(maxsize=4)
def _hash_key(secret: str) -> bytes:
    return hashlib.sha256(f"tracker-pii-hash:{secret}".encode()).digest()


def encrypt(value: str, *, purpose: str = "pii") -> str:
    """Encrypt a text value; '' stays ''. `purpose` is bound into the ciphertext (associated data),
    so an identity-number ciphertext copied into the phone column does not decrypt."""
    if not value:
        return ""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _aead(settings.PII_ENCRYPTION_KEY).encrypt(nonce, value.encode(), purpose.encode())
    return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, purpose: str = "pii") -> str:
    if not token:
        return ""
    version, _, payload = token.partition(":")
    if version != _VERSION:
        raise DecryptionError(f"unknown ciphertext version {version!r}")
    raw = base64.urlsafe_b64decode(payload.encode())
    try:
        plain = _aead(settings.PII_ENCRYPTION_KEY).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], purpose.encode()
        )
    except InvalidTag as exc:
        raise DecryptionError("ciphertext altered or encrypted with another key") from exc
    return plain.decode()


def keyed_hash(value: str, *, purpose: str = "pii") -> str:
    """Hex HMAC-SHA256 of a normalised value ('' for an empty one), for exact-match look-up."""
    if not value:
        return ""
    message = f"{purpose}:{value}".encode()
    return hmac.new(_hash_key(settings.PII_HASH_KEY), message, hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """`360302199001011234` -> `360302********1234`: the region prefix and the last four only."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the first character and one star per other (exports and other
    places a full name is not needed)."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_phone(value: str) -> str:
    """`13812345678` -> `138****5678`; shorter numbers keep only their last two digits."""
    if not value:
        return ""
    if len(value) >= 8:
        return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"
    return f"{'*' * max(len(value) - 2, 0)}{value[-2:]}"
