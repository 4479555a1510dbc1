"""The shared state-transition helper: allowed moves as data, 409 naming the current status, actor and
time stamped, the verb in the change log."""

from __future__ import annotations

import pytest

from programs.funding.choices import PaymentStatus
from programs.funding.services import PAYMENT_FLOW
from tests.programs.conftest import month
from tracker.changelog.models import ChangeEntry
from tracker.errors import Conflict


def test_a_move_from_the_wrong_status_names_the_current_one(pay, program, person, reviewer):
    payment = pay(program, beneficiary=person, **month(5))
    with pytest.raises(Conflict) as excinfo:
        PAYMENT_FLOW.apply(payment, "approve", actor=reviewer)
    assert excinfo.value.extra == {"status_now": PaymentStatus.DRAFT, "verb": "approve"}
    assert "Draft" in str(excinfo.value.detail) and "Submitted" in str(excinfo.value.detail)


def test_a_move_stamps_actor_time_and_logs_the_verb(pay, program, person, clerk):
    payment = pay(program, beneficiary=person, **month(5))
    PAYMENT_FLOW.apply(payment, "submit", actor=clerk, reason="月底报送")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUBMITTED
    assert payment.submitted_by == clerk and payment.submitted_at is not None
    entry = ChangeEntry.objects.filter(model="funding.payment", object_id=str(payment.pk)).latest("id")
    assert (entry.action, entry.reason, entry.actor_name) == ("submit", "月底报送", "clerk_pingxiang")
    assert set(entry.changes) == {"status", "submitted_by", "submitted_at"}


def test_allowed_and_targets():
    assert PAYMENT_FLOW["mark_paid"].target == PaymentStatus.PAID
    assert PAYMENT_FLOW.targets(["approve", "reject"]) == {PaymentStatus.APPROVED, PaymentStatus.REJECTED}
