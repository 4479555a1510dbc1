"""Money rules under concurrent requests, on PostgreSQL with real row locks: each thread has its own
connection (closed at the end of the thread)."""

from __future__ import annotations

import decimal
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from programs.funding import services
from programs.funding.choices import PaymentStatus, Unit
from programs.funding.models import Payment
from tests.conftest import postgres_only
from tests.programs.conftest import month

D = decimal.Decimal
pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in parallel threads released at the same moment; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_concurrent_submissions_ten_fit_the_budget(make_program, person_in, clerk):
    program = make_program(annual_budget=D("5000.00"))  # 10 × 500
    drafts = [
        services.payment_create(program=program, beneficiary=person_in(), actor=clerk, **month(5))
        for _ in range(20)
    ]
    results = run_together([lambda d=d: services.payment_submit(payment=d, actor=clerk) for d in drafts])
    succeeded = [r for r in results if isinstance(r, Payment)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(succeeded) == 10, results
    assert len(refused) == 10
    assert all("BUDGET_EXCEEDED" in str(r) for r in refused)
    assert Payment.objects.filter(status=PaymentStatus.SUBMITTED).count() == 10


def test_concurrent_once_per_person_one_succeeds(make_program, person, clerk):
    program = make_program(unit=Unit.ONE_OFF, standard_amount=D("600.00"), once_per_person=True)
    results = run_together(
        [
            lambda: services.payment_create(
                program=program, beneficiary=person, actor=clerk, submit=True, **month(5)
            )
            for _ in range(10)
        ]
    )
    succeeded = [r for r in results if isinstance(r, Payment)]
    assert len(succeeded) == 1, results
    assert all(
        isinstance(r, ValidationError) and "ONCE_PER_PERSON" in str(r) for r in results if r not in succeeded
    )
    assert Payment.objects.filter(program=program, beneficiary=person).count() == 1


def _status(result: Any) -> int:
    return result.status_code if hasattr(result, "status_code") else -1


def test_concurrent_submits_of_one_draft_through_api_and_service(make_program, person, clerk):
    """The API view locks the payment before the service locks the program; a service caller (the
    admin, a batch run) must take the locks in the same order or the two deadlock (a 500)."""
    from rest_framework.test import APIClient

    from tracker.errors import Conflict

    program = make_program()
    draft = services.payment_create(program=program, beneficiary=person, actor=clerk, **month(5))

    def via_api() -> Any:
        client = APIClient()
        client.force_authenticate(clerk)
        return client.post(f"/api/v1/payments/{draft.pk}/submit/")

    def via_service() -> Any:
        return services.payment_submit(payment=Payment(pk=draft.pk, program_id=program.pk), actor=clerk)

    results = run_together([via_api, via_service] * 5)
    ok = [r for r in results if isinstance(r, Payment) or _status(r) == 200]
    conflicts = [r for r in results if isinstance(r, Conflict) or _status(r) == 409]
    assert len(ok) == 1, results
    assert len(conflicts) == 9, results
    assert Payment.objects.get(pk=draft.pk).status == PaymentStatus.SUBMITTED


def test_concurrent_approvals_of_one_payment_exactly_one_wins(make_program, person, clerk, reviewer, regions):
    from rest_framework.test import APIClient

    from tests.conftest import make_user
    from tracker.accounts.choices import Role
    from tracker.changelog.models import ChangeEntry

    second = make_user("reviewer_two", regions["360300"], Role.REVIEWER)
    program = make_program()
    payment = services.payment_create(
        program=program, beneficiary=person, actor=clerk, submit=True, **month(5)
    )

    def approve(user: Any) -> Any:
        client = APIClient()
        client.force_authenticate(user)
        return client.post(f"/api/v1/payments/{payment.pk}/approve/")

    results = run_together([lambda u=u: approve(u) for u in [reviewer, second] * 5])
    codes = sorted(_status(r) for r in results)
    assert codes == [200] + [409] * 9, results
    assert (
        ChangeEntry.objects.filter(
            model="funding.payment", object_id=str(payment.pk), action="approve"
        ).count()
        == 1
    )


def test_concurrent_requests_with_one_idempotency_key_make_one_payment(make_program, person, clerk):
    from rest_framework.test import APIClient

    program = make_program()
    data = {"program": program.code, "beneficiary": person.pk, "month": "2021-05"}

    def create() -> Any:
        client = APIClient()
        client.force_authenticate(clerk)
        return client.post("/api/v1/payments/", data, format="json", HTTP_IDEMPOTENCY_KEY="same-key")

    results = run_together([create for _ in range(10)])
    codes = [_status(r) for r in results]
    # One creates; the others wait for its key and replay its answer (before the fix they ran the
    # rules against its payment and were refused with PERIOD_OVERLAP 400).
    assert codes == [201] * 10, results
    assert sum(r.get("Idempotent-Replayed") == "true" for r in results) == 9
    assert Payment.objects.count() == 1
    ids = {r.json()["id"] for r in results if _status(r) == 201}
    assert len(ids) == 1
