"""The posts seed: Wugongshan's villages with the problems an inspection must find, Binhu's 158
positions and its 27 fishermen, Xingtai's 9,775 (scaled), Fujian's rural posts under the county
standard; post subsidies only from subsidy runs, to people who hold a post; idempotent."""

from __future__ import annotations

import io

import pytest

from beneficiaries.models import ID_NUMBER_PURPOSE
from beneficiaries.selectors import beneficiary_status_on
from programs.funding import rules as payment_rules
from programs.funding.choices import PaymentStatus
from programs.funding.models import Payment
from programs.funding.selectors import payment_facts
from programs.posts.models import Assignment, Post, PostStandard, SubsidyRun
from programs.posts.selectors import inspection_findings
from seeds.accounts import seed_demo_accounts
from seeds.data_files import load
from seeds.posts import scaled, seed_posts
from tracker.changelog.context import Source, command_context
from tracker.changelog.models import ChangeEntry
from tracker.changelog.selectors import changes_verify
from tracker.periods import Month
from tracker.pii import decrypt
from tracker.regions.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(regions):
    from seeds.beneficiaries import seed_beneficiaries
    from seeds.funding import seed_funding

    seed_demo_accounts("pw-for-tests-123")
    out = io.StringIO()
    with command_context("seed", source=Source.SEED):
        seed_beneficiaries(io.StringIO())
        seed_funding(io.StringIO())
        seed_posts(out)
    return out.getvalue()


def test_wugongshan_has_the_problems_an_inspection_must_find(seeded):
    findings = inspection_findings(
        region_path=Region.objects.get(code="3603X1").path, first=Month(2021, 1), last=Month(2021, 7)
    )
    problems = {key: {f["problem"] for f in found} for key, found in findings.items()}
    assert problems == {
        "post_setting": set(),
        "labor_contract_signing": {"no_contract"},
        "attendance_assessment": {"no_attendance", "unqualified"},
        "subsidy_payment": {"paid_after_leaving"},
        "personnel_changes": {"reported_late", "not_approved"},
    }
    assert [f["month"] for f in findings["attendance_assessment"] if f["problem"] == "no_attendance"] == [
        "2021-05"
    ]


def test_wugongshan_people_carry_real_county_prefixes_and_post_statuses(seeded):
    holders = Assignment.objects.filter(region_path__contains="/3603X1/").select_related("beneficiary")
    assert holders.count() == 8
    prefixes = {decrypt(a.beneficiary.id_number_encrypted, purpose=ID_NUMBER_PURPOSE)[:6] for a in holders}
    assert "360323" in prefixes and prefixes <= {"360323", "360313", "360321"}
    for holding in holders:
        assert (
            beneficiary_status_on(beneficiary=holding.beneficiary, on=holding.start_date)
            == "public_welfare_post"
        )
    # Monthly runs, each with its reasons.
    runs = SubsidyRun.objects.filter(region__code="3603X1").order_by("month")
    assert [r.month for r in runs] == [f"2021-0{n}" for n in range(1, 8)]
    assert {s["code"] for r in runs for s in r.skipped} == {
        "NO_CONTRACT",
        "NO_ATTENDANCE",
        "UNQUALIFIED_ASSESSMENT",
    }
    # Reviewed and paid up to June by the city's reviewer (maker-checker: not the clerk who ran them).
    paid = Payment.objects.filter(
        cause_label="posts.assignment", status=PaymentStatus.PAID, region_path__contains="/3603X1/"
    )
    assert paid.exists() and {p.approved_by.username for p in paid} == {"reviewer_pingxiang"}
    assert {p.created_by.username for p in paid} == {"clerk_pingxiang"}


def test_binhu_158_positions_and_the_27_fishermen_beside_them(seeded):
    posts = Post.objects.filter(region__code="320211")
    by_category = {p.category: p.headcount for p in posts}
    assert by_category == {"cleaning": 70, "security": 48, "greening": 40, "algae_salvage": 27}
    assert sum(h for c, h in by_category.items() if c != "algae_salvage") == 158
    team = posts.get(category="algae_salvage")
    members = Assignment.objects.filter(post=team).select_related("beneficiary")
    assert members.count() == scaled(27, load("posts.yaml")["factor"], 2)
    for member in members:
        assert member.beneficiary.memberships.filter(group__code="retired_fisherman").exists()


def test_xingtai_9775_positions_and_fujian_under_the_county_standard(seeded):
    xingtai = Post.objects.filter(program__code="XT_PUBLIC_WELFARE_POST")
    assert sum(p.headcount for p in xingtai) == 9775
    factor = load("posts.yaml")["factor"]
    expected = sum(
        scaled(p["holders"], factor, p["min_holders"]) for p in load("posts.yaml")["xingtai"]["posts"]
    )
    assert Assignment.objects.filter(post__in=xingtai).count() == expected
    standard = PostStandard.objects.get(region__code="350424", year=2021)
    fujian = Post.objects.filter(program__code="FJ_RURAL_PUBLIC_WELFARE_POST")
    assert fujian.exists() and all(
        p.urban_rural == "rural" and p.monthly_standard <= standard.urban_standard for p in fujian
    )
    assert fujian.first().program.rural_posts_exclude_urban_insured


def test_post_subsidies_go_only_to_people_holding_a_post(seeded):
    payments = list(
        Payment.objects.filter(program__kind="public_welfare_post")
        .exclude(status=PaymentStatus.REVERSAL)
        .select_related("program__region", "beneficiary")
    )
    assert len(payments) > 40
    holdings = {str(a.pk): a for a in Assignment.objects.all()}
    paid_after_leaving = []
    for payment in payments:
        assert payment.cause_label == "posts.assignment", payment
        holding = holdings[payment.cause_object_id]
        assert holding.beneficiary_id == payment.beneficiary_id
        assert holding.start_date <= payment.period_start
        if holding.end_date is not None and payment.period_end > holding.end_date:
            paid_after_leaving.append(payment)
    assert len(paid_after_leaving) == 1  # the Wugongshan problem, and only it
    # Every other post subsidy passes every payment rule as of the day it was entered.
    others = [p for p in payments if p not in paid_after_leaving]
    programs = {p.program_id: p.program for p in others}
    for payment, fact in zip(others, payment_facts(others, programs), strict=True):
        errors = payment_rules.check_all(payment, payment.program, fact, today=payment.application_date)
        assert not errors, (payment.pk, errors.errors)


def test_the_seed_is_idempotent_and_verifiable(seeded):
    counts = (
        Post.objects.count(),
        Assignment.objects.count(),
        Payment.objects.count(),
        ChangeEntry.objects.count(),
    )
    with command_context("seed", source=Source.SEED):
        seed_posts(io.StringIO())
    assert (
        Post.objects.count(),
        Assignment.objects.count(),
        Payment.objects.count(),
        ChangeEntry.objects.count(),
    ) == counts
    assert changes_verify()["ok"]


def test_scaling():
    assert scaled(9775, 1, 1) == 9775
    assert scaled(2500, 0.001, 3) == 3
    assert scaled(2500, 0.002, 1) == 5
    assert scaled(27, 0.001, 2) == 2
    assert scaled(27, 5, 2) == 27
