"""The admin: payments are created through the service and moved by actions; fields are read-only
after creation; the change log records the admin as source."""

from __future__ import annotations

import pytest
from django.test import Client

from programs.funding import services
from programs.funding.choices import PaymentStatus
from programs.funding.models import Payment
from tests.programs.conftest import month
from tracker.changelog.models import ChangeEntry

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_creates_through_the_service(clerk, program, person):
    client = login(clerk)
    data = {
        "program": program.pk,
        "payee_kind": "person",
        "beneficiary": person.pk,
        "period_start": "2021-05-01",
        "period_end": "2021-05-31",
        "quantity": "1",
        "unit_amount": "600.00",  # above the standard: refused by the rule
        "amount": "",
        "reason": "",
    }
    response = client.post("/admin/funding/payment/add/", data)
    assert not Payment.objects.exists()
    data["unit_amount"] = "500.00"
    response = client.post("/admin/funding/payment/add/", data)
    assert response.status_code == 302, response.content[:2000]
    payment = Payment.objects.get()
    assert payment.amount == 500
    entry = ChangeEntry.objects.get(model="funding.payment", object_id=str(payment.pk))
    assert (entry.source, entry.actor_name) == ("admin", "clerk_pingxiang")


def test_admin_actions_follow_the_lifecycle(clerk, reviewer, program, person, outsider):
    payment = services.payment_create(
        program=program, beneficiary=person, actor=clerk, submit=True, **month(5)
    )
    changelist = "/admin/funding/payment/"
    assert login(reviewer).get(changelist).status_code == 200
    response = login(reviewer).post(
        changelist, {"action": "approve_selected", "_selected_action": [payment.pk]}
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.APPROVED
    login(reviewer).post(changelist, {"action": "mark_paid_selected", "_selected_action": [payment.pk]})
    login(reviewer).post(changelist, {"action": "reverse_selected", "_selected_action": [payment.pk]})
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REVERSED
    assert (
        ChangeEntry.objects.filter(model="funding.payment", object_id=str(payment.pk), source="admin").count()
        == 3
    )
    # The change page shows everything read-only; the outsider does not find it.
    page = login(reviewer).get(f"{changelist}{payment.pk}/change/")
    assert page.status_code == 200
    assert b'name="amount"' not in page.content
    assert login(outsider).get(f"{changelist}{payment.pk}/change/").status_code == 302
