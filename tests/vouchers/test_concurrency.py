"""Vouchers under concurrent requests, on PostgreSQL with real row locks: every thread has its own
connection (closed when it ends). Exactly-once redemption, the plan cap under concurrent batches, one
live voucher per type under concurrent issues."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from programs.funding.models import Payment
from programs.vouchers import services
from programs.vouchers.choices import VoucherStatus
from programs.vouchers.models import Voucher
from tests.conftest import postgres_only
from tests.programs.test_concurrency import run_together
from tracker.changelog.models import ChangeEntry

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def _status(result: Any) -> int:
    return result.status_code if hasattr(result, "status_code") else -1


def test_fifty_concurrent_redemptions_make_one_payment(issue, walk, clerk):
    voucher = walk(issue(), VoucherStatus.COMPLETED)

    def redeem() -> Any:
        client = APIClient()
        client.force_authenticate(clerk)
        return client.post(f"/api/v1/vouchers/{voucher.code}/redeem/")

    results = run_together([redeem for _ in range(50)])
    codes = sorted(_status(r) for r in results)
    assert codes == [200] + [409] * 49, [r if _status(r) < 0 else r.status_code for r in results]
    conflicts = [r.json() for r in results if _status(r) == 409]
    assert all(problem["status_now"] == "redeemed" for problem in conflicts)
    assert Payment.objects.filter(cause_object_id=str(voucher.pk)).count() == 1
    assert Voucher.objects.get(pk=voucher.pk).status == VoucherStatus.REDEEMED
    entries = ChangeEntry.objects.filter(model="vouchers.voucher", object_id=str(voucher.pk), action="redeem")
    assert entries.count() == 1


def test_concurrent_batches_never_pass_the_plan_cap(make_plan, voucher_type, holder_in, clerk):
    plan = make_plan(voucher_type, cap=10)
    batches = [[holder_in() for _ in range(3)] for _ in range(6)]  # 18 asked for, room for 10

    results = run_together(
        [
            lambda people=people: services.vouchers_issue_batch(plan=plan, holders=people, actor=clerk)
            for people in batches
        ]
    )
    issued = [r for r in results if isinstance(r, services.IssueResult)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(issued) == 3, results  # 3 batches of 3 fit; a 4th would make 12
    assert len(refused) == 3
    assert all("PLAN_CAP" in str(r) for r in refused)
    assert Voucher.objects.filter(plan=plan).count() == 9


def test_concurrent_issues_to_one_person_leave_one_live_voucher(plan, holder, clerk):
    results = run_together(
        [lambda: services.voucher_issue(plan=plan, holder=holder, actor=clerk) for _ in range(10)]
    )
    assert sum(isinstance(r, Voucher) for r in results) == 1, results
    assert all(isinstance(r, (Voucher, ValidationError)) for r in results), results
    assert Voucher.objects.filter(holder=holder).count() == 1


def test_concurrent_check_ins_to_one_session_accept_one(walk, issue, clerk, course):
    from tests.vouchers.conftest import near_site, sessions

    voucher = walk(issue(), VoucherStatus.ENROLLED)
    session = sessions(course)[0]
    point = near_site()

    def check_in() -> Any:
        return services.voucher_check_in(
            voucher=voucher,
            session=session,
            actor=clerk,
            latitude=point.latitude,
            longitude=point.longitude,
            at=session.starts_at + dt.timedelta(minutes=1),
            now=session.starts_at + dt.timedelta(minutes=1),
        )

    results = run_together([check_in for _ in range(10)])
    accepted = [r for r in results if getattr(r, "accepted", False)]
    duplicates = [r for r in results if getattr(r, "rejection", "") == "duplicate"]
    assert (len(accepted), len(duplicates)) == (1, 9), results
