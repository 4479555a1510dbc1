"""The payment lifecycle: transitions, maker-checker, reversal, batch approval, and the change entry
each transition writes (actor and verb)."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from programs.funding import services
from programs.funding.choices import PaymentStatus
from programs.funding.models import Payment
from programs.funding.selectors import program_budget
from tests.conftest import make_user
from tests.programs.conftest import month
from tracker.accounts.choices import Role
from tracker.changelog.models import ChangeEntry
from tracker.errors import Conflict

D = decimal.Decimal
pytestmark = pytest.mark.django_db


def entries(payment: Payment) -> list[tuple[str, str]]:
    return list(
        ChangeEntry.objects.filter(model="funding.payment", object_id=str(payment.pk))
        .order_by("id")
        .values_list("action", "actor_name")
    )


def test_lifecycle_writes_one_entry_per_transition(program, pay, person, clerk, reviewer):
    payment = pay(program, beneficiary=person)
    payment = services.payment_submit(payment=payment, actor=clerk)
    payment = services.payment_approve(payment=payment, actor=reviewer)
    payment = services.payment_mark_paid(payment=payment, actor=reviewer, external_reference="BANK-20210601")
    assert payment.status == PaymentStatus.PAID
    assert payment.paid_at is not None
    assert entries(payment) == [
        ("create", "clerk_pingxiang"),
        ("submit", "clerk_pingxiang"),
        ("approve", "reviewer_pingxiang"),
        ("mark_paid", "reviewer_pingxiang"),
    ]
    approve = ChangeEntry.objects.get(model="funding.payment", object_id=str(payment.pk), action="approve")
    assert approve.changes["status"] == ["submitted", "approved"]
    assert approve.region_path == "000000/360000/360300/"


def test_maker_checker(program, pay, person, clerk, reviewer, regions):
    # A user who is both clerk and reviewer creates and submits: they cannot approve it.
    both = make_user("both_roles", regions["360300"], Role.CLERK, Role.REVIEWER)
    payment = services.payment_create(
        program=program, beneficiary=person, actor=both, submit=True, **month(5)
    )
    with pytest.raises(PermissionDenied, match="MAKER_CHECKER"):
        services.payment_approve(payment=payment, actor=both)
    with pytest.raises(PermissionDenied, match="MAKER_CHECKER"):
        services.payment_reject(payment=payment, actor=both, reason="x")
    # A clerk is not a reviewer.
    with pytest.raises(PermissionDenied):
        services.payment_approve(payment=payment, actor=clerk)
    # Another reviewer may.
    assert services.payment_approve(payment=payment, actor=reviewer).approved_by == reviewer
    # Submitted by someone else than the creator: the submitter cannot approve either.
    other = pay(program, beneficiary=person, **month(6))
    services.payment_submit(payment=other, actor=both)
    with pytest.raises(PermissionDenied, match="MAKER_CHECKER"):
        services.payment_approve(payment=other, actor=both)


def test_only_reviewers_mark_paid(program, pay, person, clerk, reviewer):
    payment = services.payment_approve(payment=pay(program, beneficiary=person, submit=True), actor=reviewer)
    with pytest.raises(PermissionDenied):
        services.payment_mark_paid(payment=payment, actor=clerk)
    with pytest.raises(ValidationError):
        services.payment_mark_paid(
            payment=payment, actor=reviewer, paid_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        )


def test_illegal_transitions_are_409(program, pay, person, clerk, reviewer):
    draft = pay(program, beneficiary=person)
    with pytest.raises(Conflict):
        services.payment_approve(payment=draft, actor=reviewer)
    with pytest.raises(Conflict):
        services.payment_mark_paid(payment=draft, actor=reviewer)
    with pytest.raises(Conflict):
        services.payment_reverse(payment=draft, actor=reviewer, reason="x")
    services.payment_submit(payment=draft, actor=clerk)
    with pytest.raises(Conflict):
        services.payment_submit(payment=draft, actor=clerk)


def test_reject_needs_a_reason(program, pay, person, reviewer):
    payment = pay(program, beneficiary=person, submit=True)
    with pytest.raises(ValidationError, match="REASON_REQUIRED"):
        services.payment_reject(payment=payment, actor=reviewer, reason="  ")
    rejected = services.payment_reject(payment=payment, actor=reviewer, reason="not resident")
    assert rejected.status == PaymentStatus.REJECTED
    entry = (
        ChangeEntry.objects.filter(model="funding.payment", object_id=str(payment.pk)).order_by("-id").first()
    )
    assert (entry.action, entry.reason, entry.actor_name) == ("reject", "not resident", "reviewer_pingxiang")


def test_reversal_creates_a_linked_negative_entry(program, paid, person, reviewer):
    payment = paid(
        program,
        beneficiary=person,
        quantity=2,
        period_start=dt.date(2021, 5, 1),
        period_end=dt.date(2021, 6, 30),
    )
    with pytest.raises(ValidationError, match="REASON_REQUIRED"):
        services.payment_reverse(payment=payment, actor=reviewer, reason="")
    entry = services.payment_reverse(payment=payment, actor=reviewer, reason="paid twice by the bank")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REVERSED
    assert payment.amount == D("1000.00")  # the paid row itself is never changed
    assert entry.reverses == payment
    assert (entry.status, entry.amount, entry.quantity) == (PaymentStatus.REVERSAL, D("-1000.00"), D("-2.00"))
    assert entry.reason == "paid twice by the bank"
    assert entries(payment)[-1] == ("reverse", "reviewer_pingxiang")
    assert entries(entry) == [("reverse", "reviewer_pingxiang")]
    # Reversed once only.
    with pytest.raises(Conflict):
        services.payment_reverse(payment=payment, actor=reviewer, reason="again")


def test_budget_figures(make_program, pay, paid, person_in, reviewer):
    program = make_program(annual_budget=D("5000.00"))
    pay(program, beneficiary=person_in())  # draft: not counted
    pay(program, beneficiary=person_in(), submit=True)  # committed 500
    services.payment_approve(
        payment=pay(program, beneficiary=person_in(), submit=True), actor=reviewer
    )  # +500
    paid(program, beneficiary=person_in())  # paid 500
    to_reverse = paid(program, beneficiary=person_in())
    services.payment_reverse(payment=to_reverse, actor=reviewer, reason="error")
    rejected = pay(program, beneficiary=person_in(), submit=True)
    services.payment_reject(payment=rejected, actor=reviewer, reason="no")
    figures = program_budget(program=program)
    assert figures == {
        "program": program.code,
        "year": 2021,
        "budget": D("5000.00"),
        "committed": D("1000.00"),
        "paid": D("500.00"),
        "reversed": D("500.00"),
        "remaining": D("3500.00"),
    }


def test_batch_approval_is_all_or_nothing(program, pay, person_in, reviewer):
    ok = [pay(program, beneficiary=person_in(), submit=True) for _ in range(3)]
    draft = pay(program, beneficiary=person_in())
    with pytest.raises(ValidationError) as excinfo:
        services.payments_approve_batch(payments=[*ok, draft], actor=reviewer)
    assert "ids.3" in excinfo.value.message_dict
    assert Payment.objects.filter(status=PaymentStatus.APPROVED).count() == 0
    approved = services.payments_approve_batch(payments=ok, actor=reviewer)
    assert {p.status for p in approved} == {PaymentStatus.APPROVED}
    assert all(entries(p)[-1] == ("approve", "reviewer_pingxiang") for p in ok)


def test_batch_refuses_the_reviewers_own_payment(program, person_in, reviewer, regions):
    both = make_user("both_roles", regions["360300"], Role.CLERK, Role.REVIEWER)
    own = services.payment_create(
        program=program, beneficiary=person_in(), actor=both, submit=True, **month(5)
    )
    other = services.payment_create(
        program=program, beneficiary=person_in(), actor=both, submit=True, **month(5)
    )
    with pytest.raises(PermissionDenied):
        services.payments_approve_batch(payments=[other, own], actor=both)
    assert Payment.objects.filter(status=PaymentStatus.APPROVED).count() == 0
    assert reviewer  # another reviewer can
    assert len(services.payments_approve_batch(payments=[other, own], actor=reviewer)) == 2
