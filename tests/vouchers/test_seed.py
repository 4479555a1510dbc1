"""The voucher seed: Shanghai's 2021 plan and Zhangjiakou's person-times stored whole, vouchers in
every status scaled from them, accepted and rejected check-ins, evaluations, certificates and
redemptions whose payments obey every ledger rule as of their dates; idempotent; provenance."""

from __future__ import annotations

import decimal
import io

import pytest

from programs.funding import rules as payment_rules
from programs.funding.choices import PaymentStatus
from programs.funding.models import Payment
from programs.funding.selectors import payment_facts
from programs.vouchers.choices import CheckInRejection, VoucherStatus
from programs.vouchers.models import (
    Certificate,
    CheckIn,
    Course,
    Evaluation,
    TrainingAllowance,
    Voucher,
    VoucherPlan,
    VoucherType,
)
from seeds.accounts import seed_demo_accounts
from seeds.data_files import load
from seeds.vouchers import plan_count, seed_vouchers
from tracker.changelog.context import Source, command_context
from tracker.changelog.models import ChangeEntry
from tracker.geo import Point, distance_m

D = decimal.Decimal


def test_the_voucher_seed(seeded):
    """One seeded database (the seed takes seconds), checked from every side."""
    _the_plan_figures_are_stored_whole(seeded)
    _vouchers_in_every_status_with_their_records(seeded)
    _sites_lie_inside_their_cities_and_accepted_check_ins_at_them(seeded)
    _redemption_payments_obey_every_ledger_rule_as_of_their_dates(seeded)
    _types_carry_provenance_and_assumptions(seeded)
    _a_second_run_changes_nothing(seeded)


@pytest.fixture
def seeded(regions):
    from seeds.beneficiaries import seed_beneficiaries
    from seeds.funding import seed_funding

    seed_demo_accounts("pw-for-tests-123")
    out = io.StringIO()
    with command_context("seed", source=Source.SEED):
        seed_beneficiaries(out)
        seed_funding(out)
        seed_vouchers(out)
    return out.getvalue()


def _the_plan_figures_are_stored_whole(seeded):
    shanghai = VoucherPlan.objects.filter(region__code="310000", year=2021)
    assert sum(p.planned_count for p in shanghai) == 500_000
    assert {p.type.code for p in shanghai} == {
        "SH_SOCIAL_SKILL",
        "SH_ENTERPRISE_EMPLOYEE",
        "SH_SKILL_UPGRADING",
        "SH_CHECK_IN_ONLY",
    }
    assert all(p.cap == p.planned_count and "split" in p.assumption for p in shanghai)
    figures = load("vouchers.yaml")["figures"]["zhangjiakou_2021"]
    assert figures["subsidised"] + figures["social"] == figures["total"] == 55_274


def test_counts_scale_with_the_factor():
    assert plan_count(300_000, D("0.00005"), 2) == 15
    assert plan_count(50_000, D("0.00005"), 2) == 3  # 2.5, half up
    assert plan_count(23_757, D("0.00005"), 2) == 2  # 1.19, at least the minimum
    assert plan_count(31_517, D("1"), 2) == 31_517  # full scale
    assert plan_count(23_757, D("0.01"), 2) == 238


def _vouchers_in_every_status_with_their_records(seeded):
    assert "skipped" not in seeded, seeded
    assert set(Voucher.objects.values_list("status", flat=True)) == set(VoucherStatus.values)
    data = load("vouchers.yaml")
    scale = D(data["scale"])
    for plan in VoucherPlan.objects.select_related("type"):
        item = next(i for i in data["plans"] if i["type"] == plan.type.code)
        figure = item["planned_count"] or data["figures"]["zhangjiakou_2021"][item["figure"]]
        assert plan.vouchers.count() == plan_count(figure, scale, data["min_per_plan"]), plan
    rejections = set(CheckIn.objects.filter(accepted=False).values_list("rejection", flat=True))
    assert {
        CheckInRejection.OUTSIDE_GEOFENCE,
        CheckInRejection.OUTSIDE_WINDOW,
        CheckInRejection.DUPLICATE,
    } <= rejections
    assert CheckIn.objects.filter(accepted=True, datum="gcj02").exists()
    assert Evaluation.objects.exists() and Certificate.objects.exists()
    redeemed = Voucher.objects.filter(status=VoucherStatus.REDEEMED)
    assert (
        redeemed.filter(type__code__startswith="SH_").exists()
        and redeemed.filter(type__code__startswith="ZJK_").exists()
    )
    assert Payment.objects.filter(cause_label="vouchers.voucher").count() == redeemed.count()
    assert set(TrainingAllowance.objects.values_list("program__code", "pays_in_advance")) == {
        ("GS_TRAINING_LIVING_ALLOWANCE", False),
        ("GZ_TRAINING_LIVING_ALLOWANCE", True),
    }
    # A wrong claim proof stays on the voucher it was tried on.
    assert Voucher.objects.filter(claim_failures__gt=0).exists()


def _sites_lie_inside_their_cities_and_accepted_check_ins_at_them(seeded):
    # The cities' extents (latitude, longitude), rounded outwards.
    boxes = {"310000": ((30.67, 31.88), (120.85, 122.20)), "130700": ((39.50, 42.20), (113.80, 116.50))}
    for course in Course.objects.select_related("institution__region"):
        (south, north), (west, east) = boxes[course.institution.region.code]
        assert south < course.site_latitude < north and west < course.site_longitude < east, course
    for check_in in CheckIn.objects.filter(accepted=True).select_related("session__course")[:50]:
        course = check_in.session.course
        site = Point(float(course.site_latitude), float(course.site_longitude))
        here = Point(float(check_in.latitude_wgs84), float(check_in.longitude_wgs84))
        assert distance_m(here, site) <= course.site_radius_m


def _redemption_payments_obey_every_ledger_rule_as_of_their_dates(seeded):
    payments = list(
        Payment.objects.filter(cause_label="vouchers.voucher")
        .exclude(status=PaymentStatus.REVERSAL)
        .select_related("program__region", "beneficiary", "employer", "institution")
    )
    assert payments
    programs = {p.program_id: p.program for p in payments}
    for payment, fact in zip(payments, payment_facts(payments, programs), strict=True):
        errors = payment_rules.check_all(payment, payment.program, fact, today=payment.application_date)
        assert not errors, (payment.program.code, errors.errors)
    assert {p.payee_kind for p in payments} == {"institution", "employer", "person"}


def _types_carry_provenance_and_assumptions(seeded):
    for voucher_type in VoucherType.objects.all():
        assert "digest line" in voucher_type.notes, voucher_type.code
        assert voucher_type.assumption, voucher_type.code
    data = load("vouchers.yaml")
    for key in ("programs", "voucher_types"):
        for item in data[key]:
            assert item["source"]["line"] and item["source"].get("quote_zh"), item
            assert item.get("assumption"), item


def _a_second_run_changes_nothing(seeded):
    counts = (
        Voucher.objects.count(),
        CheckIn.objects.count(),
        Payment.objects.count(),
        ChangeEntry.objects.count(),
    )
    with command_context("seed", source=Source.SEED):
        seed_vouchers(io.StringIO())
    assert (
        Voucher.objects.count(),
        CheckIn.objects.count(),
        Payment.objects.count(),
        ChangeEntry.objects.count(),
    ) == counts
