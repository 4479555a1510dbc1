"""The inspections app's rules as pure functions, each refusal a named code (imitating
programs.funding.rules): who may verify, when an inspection may close, what a confirmation
discrepancy is, which attachments are accepted."""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from programs.inspections.choices import ItemResult, Received

# Refusal codes (each message starts with its code).
NOT_AN_INSPECTOR = "NOT_AN_INSPECTOR"  # only users with the inspector role inspect, verify or waive
NOT_ON_TEAM = "NOT_ON_TEAM"  # only the inspection's own inspectors answer its items
OWN_RECTIFICATION = "OWN_RECTIFICATION"  # whoever rectified a finding cannot verify it (four eyes)
ITEMS_UNANSWERED = "ITEMS_UNANSWERED"  # an inspection closes only when every item is answered
OPINION_REQUIRED = "OPINION_REQUIRED"  # every failed item carries a rectification opinion (整改意见)
REASON_REQUIRED = "REASON_REQUIRED"  # waiving or reopening a finding needs a reason
ATTACHMENT_TOO_LARGE = "ATTACHMENT_TOO_LARGE"
ATTACHMENT_TYPE = "ATTACHMENT_TYPE"
ALREADY_CONFIRMED = "ALREADY_CONFIRMED"
ANONYMOUS_WITH_COMPLAINANT = "ANONYMOUS_WITH_COMPLAINANT"

# Rule code of the finding a payment confirmation opens.
PAYMENT_NOT_RECEIVED = "PAYMENT_NOT_RECEIVED"

# File types an attachment may be, by their first bytes (the name's extension must agree).
SIGNATURES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "application/pdf": (b"%PDF-", (".pdf",)),
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
}


def attachment_max_bytes() -> int:
    return int(getattr(settings, "FINDING_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024))


def attachment_type(name: str, head: bytes) -> str | None:
    """The media type of an attachment from its first bytes and name, or None when it is not one of
    the accepted types (PDF, JPEG, PNG) or the two disagree."""
    lower = name.lower()
    for media_type, (magic, extensions) in SIGNATURES.items():
        if head.startswith(magic) and lower.endswith(extensions):
            return media_type
    return None


def unanswered(results: Iterable[str]) -> int:
    return sum(1 for r in results if r == ItemResult.PENDING)


def is_discrepancy(
    *, reached: bool | None, received: str, amount_stated: decimal.Decimal | None, amount: decimal.Decimal
) -> bool:
    """A person reached who says they did not receive the payment, received part of it, or states an
    amount below what was paid."""
    if not reached:
        return False
    if received in (Received.NO, Received.PARTLY):
        return True
    return amount_stated is not None and amount_stated < amount


def rate(numerator: int, denominator: int) -> decimal.Decimal | None:
    if not denominator:
        return None
    return (decimal.Decimal(numerator) / decimal.Decimal(denominator)).quantize(decimal.Decimal("0.0001"))


def summary(sample: Any) -> dict[str, Any]:
    """A confirmation sample's rates: reached of sampled, confirmed in full of sampled (the
    confirmation rate), discrepancies of those reached."""
    return {
        "reach_rate": rate(sample.reached, sample.size),
        "confirmation_rate": rate(sample.received_in_full, sample.size),
        "discrepancy_rate": rate(sample.discrepancies, sample.reached),
    }
