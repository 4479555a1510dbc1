"""The funding seed: loads the data files through the services, seeds example payments in every
status, and adds nothing the second time."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from programs.funding.choices import PaymentStatus
from programs.funding.models import Employer, FundSource, Payment, Program
from seeds.accounts import seed_demo_accounts
from seeds.data_files import load
from seeds.funding import seed_funding
from tests.programs.conftest import make_group, make_person
from tracker.changelog.context import Source, command_context
from tracker.changelog.models import ChangeEntry

pytestmark = pytest.mark.django_db


def test_seed_funding_is_idempotent(regions):
    for group in load("beneficiary_groups.yaml")["groups"]:
        make_group(group["code"])
    for _ in range(6):
        make_person(regions["3603X1"], groups=("lifted_out_of_poverty",), since=dt.date(2000, 1, 1))
    seed_demo_accounts("pw-for-tests-123")
    with command_context("seed", source=Source.SEED):
        seed_funding(io.StringIO())
    programs = load("programs.yaml")["programs"]
    assert Program.objects.count() == len(programs)
    assert FundSource.objects.count() == len(load("fund_sources.yaml")["fund_sources"])
    assert Employer.objects.count() == 5
    gz = Program.objects.get(code="GZ_WORK_FOR_TRAINING")
    assert gz.payment_deadline == dt.date(2021, 12, 25)
    assert gz.policy_reference == "粤人社规〔2020〕38号"
    assert "GZ_WORK_FOR_TRAINING_COVID_SME" in gz.mutually_exclusive_with
    statuses = set(Payment.objects.values_list("status", flat=True))
    assert {
        PaymentStatus.DRAFT,
        PaymentStatus.SUBMITTED,
        PaymentStatus.APPROVED,
        PaymentStatus.PAID,
        PaymentStatus.REJECTED,
        PaymentStatus.REVERSED,
    } <= statuses
    assert PaymentStatus.REVERSAL in statuses
    assert ChangeEntry.objects.filter(model="funding.payment", source="seed", action="approve").exists()
    counts = (Program.objects.count(), Payment.objects.count(), ChangeEntry.objects.count())
    with command_context("seed", source=Source.SEED):
        seed_funding(io.StringIO())
    assert (Program.objects.count(), Payment.objects.count(), ChangeEntry.objects.count()) == counts


@pytest.mark.parametrize("since", [dt.date(2000, 1, 1), dt.date(2021, 1, 1), dt.date(2021, 3, 15)])
def test_seed_payments_whatever_day_memberships_start(regions, since):
    """The beneficiaries seed may date memberships from long before 2021, from 2021-01-01 or later:
    the funding seed finds each person's first eligible day and still walks payments through every
    status, including 2021 programs whose payment deadline has passed (entered as of that deadline)."""
    for group in load("beneficiary_groups.yaml")["groups"]:
        make_group(group["code"])
    for code in ("3603X1", "450400", "450400", "450400"):
        for _ in range(3):
            make_person(regions[code], groups=("lifted_out_of_poverty", "employment_difficulty"), since=since)
    seed_demo_accounts("pw-for-tests-123")
    with command_context("seed", source=Source.SEED):
        seed_funding(io.StringIO())
    statuses = set(Payment.objects.values_list("status", flat=True))
    assert set(PaymentStatus.values) <= statuses, statuses
    for payment in Payment.objects.exclude(program__eligible_groups=[]).select_related("program"):
        assert payment.period_start >= since, (payment.program.code, payment.period_start)
    from tracker.changelog.selectors import changes_verify

    assert changes_verify()["ok"]
