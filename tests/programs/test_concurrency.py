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
