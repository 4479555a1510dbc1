"""The funding seed: loads the data files through the services, seeds example payments in every
status, and adds nothing the second time."""

from __future__ import annotations

import datetime as dt
import decimal
import io

import pytest

from programs.funding import rules
from programs.funding.choices import PaymentStatus
from programs.funding.models import Employer, FundSource, Payment, Program
from programs.funding.selectors import payment_facts, program_budget
from seeds.accounts import seed_demo_accounts
from seeds.data_files import load
from seeds.funding import seed_funding
from tests.programs.conftest import make_group, make_person
from tracker.changelog.context import Source, command_context
from tracker.changelog.models import ChangeEntry

pytestmark = pytest.mark.django_db
D = decimal.Decimal


def test_seed_funding_is_idempotent(regions):
    for group in load("beneficiary_groups.yaml")["groups"]:
        make_group(group["code"])
    # Self-employed people (Jiangxi's one-off startup subsidy pays them): post subsidies are not seeded
    # here, the posts seed pays them through its subsidy runs to people who hold a post.
    for _ in range(6):
        make_person(
            regions["3603X1"],
            groups=("lifted_out_of_poverty",),
            since=dt.date(2000, 1, 1),
            status="self_employed",
        )
    seed_demo_accounts("pw-for-tests-123")
    with command_context("seed", source=Source.SEED):
        seed_funding(io.StringIO())
    programs = load("programs.yaml")["programs"]
    assert Program.objects.count() == len(programs)
    assert FundSource.objects.count() == len(load("fund_sources.yaml")["fund_sources"])
    assert Employer.objects.count() == 7
    gz = Program.objects.get(code="GZ_WORK_FOR_TRAINING")
    assert gz.payment_deadline == dt.date(2021, 12, 25)
    assert gz.application_deadline == dt.date(2021, 9, 15)
    assert gz.policy_reference == "粤人社规〔2020〕38号"
    assert "GZ_WORK_FOR_TRAINING_COVID_SME" in gz.mutually_exclusive_with
    assert gz.employer_sizes == ["micro", "small", "medium"] and gz.excludes_prior_work_for_training
    large = Program.objects.get(code="GZ_WORK_FOR_TRAINING_LARGE_ENTERPRISE")
    assert (large.employer_sizes, sorted(large.employer_industries)) == (
        ["large"],
        ["accommodation_catering", "culture_tourism", "transport", "wholesale_retail"],
    )
    assert Program.objects.get(code="GS_TRANSPORT_ONE_OFF").required_employment_statuses == [
        "employed_outside_province"
    ]
    assert Program.objects.get(code="GS_LABOUR_TRANSFER_REWARD").min_contract_months == 6
    # The exclusions the data file names are seeded on both sides.
    for code, other in (
        ("JX_RURAL_PUBLIC_WELFARE_POST", "PX_WUGONGSHAN_PUBLIC_WELFARE_POST"),
        ("FJ_WORK_FOR_TRAINING", "FJ_RURAL_PUBLIC_WELFARE_POST"),
        ("WZ_PUBLIC_WELFARE_POST", "WZ_INTERNSHIP"),
    ):
        assert other in Program.objects.get(code=code).mutually_exclusive_with
        assert code in Program.objects.get(code=other).mutually_exclusive_with
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
            make_person(
                regions[code],
                groups=("lifted_out_of_poverty", "employment_difficulty"),
                since=since,
                status="self_employed",
            )
    seed_demo_accounts("pw-for-tests-123")
    with command_context("seed", source=Source.SEED):
        seed_funding(io.StringIO())
    statuses = set(Payment.objects.values_list("status", flat=True))
    assert set(PaymentStatus.values) <= statuses, statuses
    for payment in Payment.objects.exclude(program__eligible_groups=[]).select_related("program"):
        assert payment.period_start >= since, (payment.program.code, payment.period_start)
    from tracker.changelog.selectors import changes_verify

    assert changes_verify()["ok"]


@pytest.fixture
def seeded(regions):
    """The whole example data set: people (with groups and status histories), then funding."""
    from seeds.beneficiaries import seed_beneficiaries

    seed_demo_accounts("pw-for-tests-123")
    with command_context("seed", source=Source.SEED):
        seed_beneficiaries(io.StringIO())
        out = io.StringIO()
        seed_funding(out)
    return out.getvalue()


def test_every_seeded_payment_passes_every_rule_as_of_its_entry_date(seeded):
    """Re-run every rule on every seeded payment (other than the reversing entries), as of the day
    it was entered (its application date): groups and employment status on the period's first day,
    employer size and industry, deadlines, amounts, entitlements, exclusions, labour contract."""
    assert "skipped" not in seeded, seeded
    payments = list(
        Payment.objects.exclude(status=PaymentStatus.REVERSAL).select_related(
            "program__region", "beneficiary", "employer", "institution"
        )
    )
    assert len(payments) >= 20  # post subsidies excepted (the posts seed pays those)
    programs = {p.program_id: p.program for p in payments}
    # Each payment's facts exclude only itself (others, exclusions, prior work-for-training).
    facts = payment_facts(payments, programs)
    for payment, fact in zip(payments, facts, strict=True):
        assert payment.application_date is not None
        errors = rules.check_all(payment, payment.program, fact, today=payment.application_date)
        assert not errors, (payment.program.code, payment.pk, errors.errors)
    # Budgets: what is committed and paid in a year stays within the year's budget.
    for program in {p.program for p in payments if p.program.annual_budget is not None}:
        figures = program_budget(program=program, year=2021)
        assert figures["remaining"] >= 0, figures
    # The seed walked through all the conditions the rules check.
    codes = {p.program.code for p in payments}
    assert {
        "GS_TRANSPORT_ONE_OFF",
        "GS_LABOUR_TRANSFER_REWARD",
        "GS_TRAINING_LIVING_ALLOWANCE",
        "GZ_WORK_FOR_TRAINING",
        "GZ_WORK_FOR_TRAINING_COVID_SME",
        "GZ_WORK_FOR_TRAINING_LARGE_ENTERPRISE",
        "JX_ONE_OFF_STARTUP",
    } <= codes
    # Post subsidies come only from the posts seed's subsidy runs, to people holding a post.
    assert not any(p.program.kind == "public_welfare_post" for p in payments)


def test_a_pingxiang_clerk_sees_the_jiangxi_programs(seeded, api):
    from tracker.accounts.models import User

    clerk = User.objects.get(username="clerk_pingxiang")
    response = api(clerk).get("/api/v1/programs/", {"page_size": 100})
    assert response.status_code == 200
    codes = {row["code"] for row in response.json()["results"]}
    assert codes == {
        "JX_ONE_OFF_STARTUP",
        "JX_RURAL_PUBLIC_WELFARE_POST",
        "JX_VOCATIONAL_TRAINING",
        "PX_WUGONGSHAN_PUBLIC_WELFARE_POST",
    }
    for program in Program.objects.filter(code__startswith="JX_"):
        assert program.assumption  # every Jiangxi term is assumed, and says so


def test_seeded_payments_agree_with_the_registry(seeded):
    from beneficiaries.selectors import beneficiary_status_on

    live = Payment.objects.exclude(status=PaymentStatus.REVERSAL).select_related("program", "beneficiary")
    for payment in live:
        status = beneficiary_status_on(beneficiary=payment.beneficiary, on=payment.period_start)
        if payment.program.kind == "public_welfare_post":
            assert status == "public_welfare_post", payment.program.code
        if payment.program.code == "GS_TRANSPORT_ONE_OFF":
            assert status == "employed_outside_province"
        if payment.program.kind == "training_living_allowance":
            assert status == "in_training"
    # Nothing is paid to the large electronics firm (no SME, none of the four industries).
    electronics = Employer.objects.get(name="广州市示例电子科技有限公司")
    assert not Payment.objects.filter(employer=electronics).exists()
    # Guangzhou's 以工代训 is entered by its application deadline, the day itself.
    gz = Payment.objects.filter(program__code__startswith="GZ_WORK_FOR_TRAINING")
    assert set(gz.values_list("application_date", flat=True)) == {dt.date(2021, 9, 15)}
    # Gansu's living allowance: the raised standard in 两州一县 (36), the standard elsewhere (30).
    allowance = {
        p.beneficiary.region.code: p.unit_amount
        for p in Payment.objects.filter(program__code="GS_TRAINING_LIVING_ALLOWANCE").select_related(
            "beneficiary__region"
        )
    }
    assert allowance == {"620102": D("30.00"), "620623": D("36.00")}
    contract = Payment.objects.filter(program__code="GS_LABOUR_TRANSFER_REWARD").first()
    assert contract.contract_start and contract.contract_performed_to


def test_gansu_key_areas_carry_their_designation(regions):
    with command_context("seed", source=Source.SEED):
        from seeds.reference import seed_regions

        seed_regions()
    from tracker.regions.models import Region, designations_for_paths

    by_code = {r.code: r for r in Region.objects.filter(code__in=["620623", "622901", "623000", "620102"])}
    designations = designations_for_paths([r.path for r in by_code.values()])
    assert designations[by_code["620623"].path] == {"two_prefectures_one_county"}  # 天祝县
    assert designations[by_code["622901"].path] == {"two_prefectures_one_county"}  # 临夏市, via 临夏州
    assert designations[by_code["623000"].path] == {"two_prefectures_one_county"}  # 甘南州
    assert designations[by_code["620102"].path] == frozenset()  # 兰州城关区
    assert Region.objects.get(code="360323").parent.code == "360300"  # 芦溪县
