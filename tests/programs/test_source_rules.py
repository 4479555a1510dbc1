"""The ledger obeys every rule the source states (employment-policy-digest-2021-08.txt), each at its
boundary, through the service and through the API (a 400 naming the rule):

- Gansu's living allowance: at least 30 yuan a day, no ceiling, standard raised 20% in the 两州一县
  and key counties (lines 490-494);
- Gansu's training subsidy: the standard is a cap, raised 10% there (lines 492-494);
- Guangzhou's 以工代训: applications close 2021-09-15 (line 659), SME windows for 中小微企业 and a
  large-enterprise window for four industries (lines 637-639);
- people who already had 以工代训 are excluded (Gansu lines 504-506, Fujian lines 282-284);
- Gansu's transport subsidy is for people working in another province (lines 479-483);
- Gansu's labour-transfer reward needs a labour contract performed for 6 months or more (485-486);
- mutually exclusive programs never pay one person for the same period.
"""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from programs.funding import rules, services
from programs.funding.choices import EmployerSize, Industry, PayeeKind, PaymentStatus, ProgramKind, Unit
from programs.funding.models import Payment
from programs.funding.services import PaymentItem
from seeds.factories.funding import EmployerFactory, TrainingInstitutionFactory
from tests.conftest import make_user
from tests.programs.conftest import make_person, month, set_status
from tracker.accounts.choices import Role

D = decimal.Decimal
pytestmark = pytest.mark.django_db
PAYMENTS = "/api/v1/payments/"
EMPLOYED = ["employed_local", "employed_outside_county", "employed_outside_province"]


def codes(excinfo: pytest.ExceptionInfo) -> set[str]:
    error = excinfo.value
    return {e.code for errors in error.error_dict.values() for e in errors}


def refusal(call, *args, **kwargs) -> set[str]:
    with pytest.raises(ValidationError) as excinfo:
        call(*args, **kwargs)
    return codes(excinfo)


@pytest.fixture
def gansu_clerk(regions):
    return make_user("clerk_gansu", regions["620000"], Role.CLERK)


# -- Gansu's living allowance: a floor whose standard an uplift raises ----------------------------------


@pytest.fixture
def allowance(make_program):
    """GS_TRAINING_LIVING_ALLOWANCE as seeded: at least 30 yuan a day, +20% in the 两州一县."""
    return make_program(
        region="620000",
        kind=ProgramKind.TRAINING_LIVING_ALLOWANCE,
        unit=Unit.PERSON_DAY,
        standard_amount=D("30.00"),
        min_amount=D("30.00"),
        uplifts={"national_key_county": "20", "two_prefectures_one_county": "20"},
        valid_from=None,
        valid_to=None,
    )


@pytest.mark.parametrize(
    ("region", "default"),
    [
        ("620623", D("36.00")),  # 天祝藏族自治县: the 一县 of 两州一县
        ("622901", D("36.00")),  # 临夏市: in 临夏回族自治州, one of the 两州
        ("620102", D("30.00")),  # 兰州城关区: no uplift
    ],
)
def test_living_allowance_is_a_floor_with_a_raised_standard(allowance, gansu_clerk, regions, region, default):
    def pay(unit_amount=None, **fields):
        person = make_person(regions[region])
        return services.payment_create(
            program=allowance,
            beneficiary=person,
            actor=gansu_clerk,
            unit_amount=unit_amount,
            quantity=5,
            **month(5),
            **fields,
        )

    # Without a unit amount: the standard for the region (raised by 20% in the 两州一县).
    assert pay().unit_amount == default
    assert pay().amount == default * 5
    # The floor of 30 is not raised ("可上浮": a key county may pay more, it need not).
    assert pay(D("30.00")).amount == D("150.00")
    assert refusal(pay, D("29.99")) == {rules.UNIT_AMOUNT_OUT_OF_RANGE}
    # No ceiling: 40 (and more) is lawful anywhere.
    assert pay(D("40.00")).amount == D("200.00")
    assert pay(D("36.01")).unit_amount == D("36.01")


def test_training_subsidy_standard_is_a_cap_raised_in_key_areas(make_program, gansu_clerk, regions):
    """GS_VOCATIONAL_TRAINING: "培训补贴标准可上浮 10%" raises the cap, 1,200 -> 1,320. The subsidy
    is paid to the training institution, so the institution's region decides."""
    program = make_program(
        region="620000",
        kind=ProgramKind.TRAINING,
        payee_kind=PayeeKind.INSTITUTION,
        unit=Unit.PER_TRAINING,
        standard_amount=D("1200.00"),
        uplifts={"two_prefectures_one_county": "10"},
        valid_from=None,
        valid_to=None,
    )

    def pay(region, unit_amount=None, trainee_region="620102"):
        return services.payment_create(
            program=program,
            institution=TrainingInstitutionFactory(region=regions[region]),
            beneficiary=make_person(regions[trainee_region]),
            actor=gansu_clerk,
            unit_amount=unit_amount,
            **month(5),
        )

    assert pay("620623").unit_amount == D("1200.00")  # the default is the standard, not the cap
    assert pay("620623", D("1320.00"))
    assert refusal(pay, "620623", D("1320.01")) == {rules.UNIT_AMOUNT_OUT_OF_RANGE}
    assert pay("620102", D("1200.00"), trainee_region="620623")
    assert refusal(pay, "620102", D("1200.01"), trainee_region="620623") == {rules.UNIT_AMOUNT_OUT_OF_RANGE}


def test_a_floor_without_an_uplift_keeps_its_standard(make_program):
    program = make_program(region="620000", standard_amount=D("30.00"), min_amount=D("30.00"))
    assert rules.standard_unit_amount(program, {"two_prefectures_one_county"}) == D("30.00")
    assert rules.unit_bounds(program, {"two_prefectures_one_county"}) == (D("30.00"), None)


# -- Guangzhou's application deadline ------------------------------------------------------------------------


@pytest.fixture
def guangzhou_wft(make_program):
    return make_program(
        region="360300",
        kind=ProgramKind.WORK_FOR_TRAINING,
        payee_kind=PayeeKind.EMPLOYER,
        valid_from=dt.date(2021, 1, 1),
        valid_to=dt.date(2021, 6, 30),
        application_deadline=dt.date(2021, 9, 15),
        payment_deadline=dt.date(2021, 12, 25),
        eligible_groups=[],
    )


def test_application_deadline_day_itself_is_open(guangzhou_wft, pay, employer, person_in):
    def apply(applied, today=dt.date(2021, 9, 20)):
        return pay(
            guangzhou_wft, employer=employer, beneficiary=person_in(), application_date=applied, today=today
        )

    assert apply(dt.date(2021, 9, 14)).application_date == dt.date(2021, 9, 14)
    assert apply(dt.date(2021, 9, 15)).application_date == dt.date(2021, 9, 15)
    assert refusal(apply, dt.date(2021, 9, 16)) == {rules.APPLICATION_DEADLINE_PASSED}
    # Entered on the day it is received unless the clerk says otherwise.
    assert apply(None, today=dt.date(2021, 9, 15)).application_date == dt.date(2021, 9, 15)
    assert refusal(apply, None, today=dt.date(2021, 9, 16)) == {rules.APPLICATION_DEADLINE_PASSED}
    # An application cannot be dated after the day it is entered.
    assert refusal(apply, dt.date(2021, 9, 15), today=dt.date(2021, 9, 14)) == {
        rules.APPLICATION_DATE_IN_FUTURE
    }


def test_an_application_in_time_can_be_submitted_after_the_application_deadline(
    guangzhou_wft, pay, employer, person, clerk
):
    draft = pay(guangzhou_wft, employer=employer, beneficiary=person, today=dt.date(2021, 9, 15))
    submitted = services.payment_submit(payment=draft, actor=clerk, today=dt.date(2021, 12, 25))
    assert submitted.status == PaymentStatus.SUBMITTED
    # ... but not after the payment deadline.
    late = pay(guangzhou_wft, employer=employer, beneficiary=person, today=dt.date(2021, 9, 1), **month(6))
    assert refusal(services.payment_submit, payment=late, actor=clerk, today=dt.date(2021, 12, 26)) == {
        rules.PAYMENT_DEADLINE_PASSED
    }


def test_payments_entered_before_application_dates_read_their_entry_day():
    program = type("P", (), {"application_deadline": dt.date(2021, 9, 15)})()
    legacy = Payment(created_at=dt.datetime(2021, 9, 15, 23, 30, tzinfo=dt.UTC))  # 16 Sept in Shanghai
    assert rules.application_day(legacy, dt.date(2021, 9, 20)) == timezone.localdate(legacy.created_at)
    errors = rules.RuleErrors()
    rules.check_application_date(legacy, program, dt.date(2021, 9, 20), errors)
    assert [e.code for e in errors.errors["application_date"]] == [rules.APPLICATION_DEADLINE_PASSED]


# -- employers: sizes and industries ---------------------------------------------------------------------------


def test_sme_window_pays_only_smes(make_program, pay, regions, person_in):
    program = make_program(
        payee_kind=PayeeKind.EMPLOYER, eligible_groups=[], employer_sizes=["micro", "small", "medium"]
    )
    for size in ("micro", "small", "medium"):
        assert pay(
            program, employer=EmployerFactory(region=regions["360300"], size=size), beneficiary=person_in()
        )
    large = EmployerFactory(region=regions["360300"], size=EmployerSize.LARGE)
    assert refusal(pay, program, employer=large, beneficiary=person_in()) == {rules.EMPLOYER_SIZE}


def test_large_window_pays_large_employers_of_the_four_industries(make_program, pay, regions, person_in):
    program = make_program(
        payee_kind=PayeeKind.EMPLOYER,
        eligible_groups=[],
        employer_sizes=["large"],
        employer_industries=["accommodation_catering", "culture_tourism", "transport", "wholesale_retail"],
    )

    def employer(size=EmployerSize.LARGE, industry=Industry.WHOLESALE_RETAIL):
        return EmployerFactory(region=regions["360300"], size=size, industry=industry)

    for industry in program.employer_industries:
        assert pay(program, employer=employer(industry=industry), beneficiary=person_in())
    assert refusal(
        pay, program, employer=employer(industry=Industry.MANUFACTURING), beneficiary=person_in()
    ) == {rules.EMPLOYER_INDUSTRY}
    assert refusal(pay, program, employer=employer(industry=""), beneficiary=person_in()) == {
        rules.EMPLOYER_INDUSTRY
    }
    assert refusal(pay, program, employer=employer(size=EmployerSize.MEDIUM), beneficiary=person_in()) == {
        rules.EMPLOYER_SIZE
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"employer_sizes": ["huge"]}, "employer_sizes"),
        ({"employer_sizes": ["small", "small"]}, "employer_sizes"),
        ({"employer_industries": ["electronics"]}, "employer_industries"),
        ({"employer_industries": "wholesale_retail"}, "employer_industries"),
        ({"payee_kind": PayeeKind.PERSON, "employer_sizes": ["small"]}, "employer_sizes"),
        ({"required_employment_statuses": ["retired"]}, "required_employment_statuses"),
        (
            {"excludes_prior_work_for_training": True, "kind": ProgramKind.TRAINING},
            "excludes_prior_work_for_training",
        ),
        ({"min_contract_months": 0}, "min_contract_months"),
    ],
)
def test_program_conditions_are_validated(reviewer, regions, fund, fields, field):
    data = {
        "code": "PX_TEST_CONDITIONS",
        "name_zh": "测试",
        "name_en": "Test",
        "region": regions["360300"],
        "kind": ProgramKind.WORK_FOR_TRAINING,
        "payee_kind": PayeeKind.EMPLOYER,
        "fund_source": fund,
        "unit": Unit.PERSON_MONTH,
        "standard_amount": D("500.00"),
        **fields,
    }
    with pytest.raises(ValidationError) as excinfo:
        services.program_create(actor=reviewer, fields=data)
    assert field in excinfo.value.message_dict


# -- employment status on the period's first day ---------------------------------------------------------------


@pytest.fixture
def transport(make_program):
    """GS_TRANSPORT_ONE_OFF's condition: 跨省就业."""
    return make_program(
        unit=Unit.ONE_OFF,
        standard_amount=D("600.00"),
        required_employment_statuses=["employed_outside_province"],
    )


def test_transport_subsidy_needs_work_in_another_province(transport, pay, regions):
    person = make_person(regions["360300"])
    set_status(person, "employed_local", dt.date(2021, 1, 1))
    set_status(person, "employed_outside_province", dt.date(2021, 5, 10))
    set_status(person, "unemployed", dt.date(2021, 7, 1))

    def day(d):
        return {"period_start": d, "period_end": d}

    assert refusal(pay, transport, beneficiary=person, **day(dt.date(2021, 5, 9))) == {
        rules.EMPLOYMENT_STATUS
    }
    assert refusal(pay, transport, beneficiary=person, **day(dt.date(2021, 7, 1))) == {
        rules.EMPLOYMENT_STATUS
    }
    assert pay(transport, beneficiary=person, **day(dt.date(2021, 6, 30)))
    # Someone with no status recorded at all.
    assert refusal(
        pay, transport, beneficiary=make_person(regions["360300"]), **day(dt.date(2021, 6, 1))
    ) == {rules.EMPLOYMENT_STATUS}


def test_status_rule_needs_the_person_named(make_program, pay, employer):
    program = make_program(
        payee_kind=PayeeKind.EMPLOYER, eligible_groups=[], required_employment_statuses=EMPLOYED
    )
    assert refusal(pay, program, employer=employer) == {rules.EMPLOYMENT_STATUS}


def test_later_status_change_recorded_the_same_day_wins(transport, pay, regions):
    """Two changes effective the same day: the one recorded later is in force (as the registry says)."""
    person = make_person(regions["360300"])
    set_status(person, "employed_outside_province", dt.date(2021, 5, 1))
    set_status(person, "employed_local", dt.date(2021, 5, 1))
    assert refusal(pay, transport, beneficiary=person, **month(5)) == {rules.EMPLOYMENT_STATUS}


# -- labour contract performed for 6 months or more ---------------------------------------------------------------


@pytest.fixture
def reward(make_program):
    """GS_LABOUR_TRANSFER_REWARD: 200 yuan per worker, contract signed and performed 6+ months."""
    return make_program(
        payee_kind=PayeeKind.INSTITUTION,
        unit=Unit.ONE_OFF,
        standard_amount=D("200.00"),
        once_per_person=True,
        min_contract_months=6,
        valid_to=None,
    )


@pytest.mark.parametrize(
    ("start", "performed_to", "ok"),
    [
        (dt.date(2021, 1, 1), dt.date(2021, 6, 30), True),  # exactly 6 months (以上 includes 6)
        (dt.date(2021, 1, 1), dt.date(2021, 6, 29), False),  # a day short
        (dt.date(2021, 1, 1), dt.date(2021, 5, 31), False),  # 5 months
        (dt.date(2021, 1, 15), dt.date(2021, 7, 14), True),
        (dt.date(2021, 1, 15), dt.date(2021, 7, 13), False),
        (dt.date(2021, 8, 31), dt.date(2022, 2, 28), True),  # no 31 February: the month's last day
        (dt.date(2021, 8, 31), dt.date(2022, 2, 27), False),
    ],
)
def test_labour_contract_of_six_months(reward, pay, regions, start, performed_to, ok):
    school = TrainingInstitutionFactory(region=regions["360300"])
    person = make_person(regions["360300"])

    def claim():
        return pay(
            reward,
            institution=school,
            beneficiary=person,
            contract_start=start,
            contract_performed_to=performed_to,
            today=dt.date(2022, 3, 1),
            **month(3, 2022),
        )

    if ok:
        assert claim().contract_performed_to == performed_to
    else:
        assert refusal(claim) == {rules.CONTRACT_TOO_SHORT}


def test_labour_contract_months_not_yet_performed_do_not_count(reward, pay, regions):
    school = TrainingInstitutionFactory(region=regions["360300"])
    fields = {"institution": school, "beneficiary": make_person(regions["360300"]), **month(3, 2021)}
    contract = {"contract_start": dt.date(2021, 1, 1), "contract_performed_to": dt.date(2021, 6, 30)}
    assert refusal(pay, reward, today=dt.date(2021, 6, 29), **contract, **fields) == {
        rules.CONTRACT_TOO_SHORT
    }
    assert pay(reward, today=dt.date(2021, 6, 30), **contract, **fields)


def test_labour_contract_is_required(reward, pay, regions):
    school = TrainingInstitutionFactory(region=regions["360300"])
    with pytest.raises(ValidationError) as excinfo:
        pay(
            reward,
            institution=school,
            beneficiary=make_person(regions["360300"]),
            contract_start=dt.date(2021, 1, 1),
        )
    assert set(excinfo.value.message_dict) == {"contract_performed_to"}
    assert codes(excinfo) == {rules.CONTRACT_REQUIRED}
    with pytest.raises(ValidationError) as excinfo:
        pay(
            reward,
            institution=school,
            beneficiary=make_person(regions["360300"]),
            contract_start=dt.date(2021, 6, 1),
            contract_performed_to=dt.date(2021, 5, 1),
        )
    assert "contract_performed_to" in excinfo.value.message_dict


def test_months_later():
    assert rules.months_later(dt.date(2021, 1, 1), 6) == dt.date(2021, 6, 30)
    assert rules.months_later(dt.date(2021, 3, 1), 6) == dt.date(2021, 8, 31)
    assert rules.months_later(dt.date(2021, 1, 31), 1) == dt.date(2021, 2, 28)
    assert rules.months_later(dt.date(2020, 8, 30), 6) == dt.date(2021, 2, 28)
    assert rules.months_later(dt.date(2023, 9, 1), 6) == dt.date(2024, 2, 29)


# -- people who already had 以工代训 --------------------------------------------------------------------------------


@pytest.fixture
def wft(make_program):
    """Two work-for-training programs excluding people who already had one (Gansu's, Fujian's)."""

    def build(**fields):
        fields.setdefault("excludes_prior_work_for_training", True)
        return make_program(
            kind=ProgramKind.WORK_FOR_TRAINING, payee_kind=PayeeKind.EMPLOYER, max_units=6, **fields
        )

    return build


def test_people_who_already_had_work_for_training_are_excluded(wft, pay, paid, employer, person, reviewer):
    first, second = wft(), wft()
    earlier = paid(first, employer=employer, beneficiary=person, **month(1))
    # More months of the same program are the same spell.
    assert pay(first, employer=employer, beneficiary=person, **month(2))
    assert refusal(pay, second, employer=employer, beneficiary=person, **month(5)) == {
        rules.PRIOR_WORK_FOR_TRAINING
    }
    # Reversed (and rejected) payments do not count: reverse both of the first program's.
    services.payment_reverse(payment=earlier, actor=reviewer, reason="paid in error")
    Payment.objects.filter(program=first, status=PaymentStatus.DRAFT).get()
    draft = Payment.objects.get(program=first, status=PaymentStatus.DRAFT)
    services.payment_submit(payment=draft, actor=draft.created_by)
    services.payment_reject(payment=draft, actor=reviewer, reason="withdrawn")
    assert pay(second, employer=employer, beneficiary=person, **month(5))


def test_prior_work_for_training_under_any_code_and_in_the_same_batch(wft, employer, person, clerk):
    gansu = wft()
    other = wft(excludes_prior_work_for_training=False)  # a program that does not exclude anyone
    items = [
        PaymentItem(program=other, employer=employer, beneficiary=person, **month(1)),
        PaymentItem(program=gansu, employer=employer, beneficiary=person, **month(3)),
    ]
    with pytest.raises(ValidationError) as excinfo:
        services.payments_create_batch(items=items, actor=clerk)
    assert "items.1.beneficiary" in excinfo.value.message_dict
    assert rules.PRIOR_WORK_FOR_TRAINING in str(excinfo.value.message_dict["items.1.beneficiary"])
    # The other program does not exclude: it pays someone who had Gansu's.
    services.payment_create(program=gansu, employer=employer, beneficiary=person, actor=clerk, **month(3))
    assert services.payment_create(
        program=other, employer=employer, beneficiary=person, actor=clerk, **month(5)
    )


def test_prior_rule_needs_the_person_named(wft, pay, employer):
    program = wft(eligible_groups=[])
    assert refusal(pay, program, employer=employer) == {rules.PRIOR_WORK_FOR_TRAINING}


# -- mutually exclusive programs ---------------------------------------------------------------------------------------


@pytest.fixture
def exclusive_pair(make_program):
    post = make_program(kind=ProgramKind.PUBLIC_WELFARE_POST)
    township = make_program(kind=ProgramKind.PUBLIC_WELFARE_POST, mutually_exclusive_with=[post.code])
    post.mutually_exclusive_with = [township.code]
    post.save()
    return post, township


def test_mutually_exclusive_programs_through_the_service(exclusive_pair, pay, paid, person, reviewer):
    post, township = exclusive_pair
    first = paid(post, beneficiary=person, **month(5))
    assert refusal(pay, township, beneficiary=person, **month(5)) == {rules.MUTUALLY_EXCLUSIVE}
    # The next month is free (adjacent periods do not overlap).
    assert pay(township, beneficiary=person, **month(6))
    # A reversed payment frees the period.
    services.payment_reverse(payment=first, actor=reviewer, reason="wrong post")
    assert pay(township, beneficiary=person, **month(5))


def test_mutually_exclusive_programs_in_one_batch(exclusive_pair, person, clerk):
    post, township = exclusive_pair
    items = [
        PaymentItem(program=post, beneficiary=person, **month(5)),
        PaymentItem(
            program=township,
            beneficiary=person,
            period_start=dt.date(2021, 5, 31),
            period_end=dt.date(2021, 6, 30),
        ),
    ]
    with pytest.raises(ValidationError) as excinfo:
        services.payments_create_batch(items=items, actor=clerk)
    assert rules.MUTUALLY_EXCLUSIVE in str(excinfo.value.message_dict["items.1.program"])
    assert not Payment.objects.exists()


def test_mutually_exclusive_programs_through_the_api(api, exclusive_pair, clerk, person):
    post, township = exclusive_pair
    client = api(clerk)
    first = client.post(
        PAYMENTS, {"program": post.code, "beneficiary": person.pk, "month": "2021-05"}, format="json"
    )
    assert first.status_code == 201, first.json()
    second = client.post(
        PAYMENTS, {"program": township.code, "beneficiary": person.pk, "month": "2021-05"}, format="json"
    )
    assert second.status_code == 400
    assert rules.MUTUALLY_EXCLUSIVE in second.json()["errors"]["program"][0]
    assert Payment.objects.count() == 1


# -- every refusal through the API: a 400 naming the rule -----------------------------------------------------------


def test_refusals_through_the_api_name_their_rule(api, clerk, make_program, regions, person_in, employer):
    """Each rule above refuses an API create with a 400 whose errors name the rule's code."""
    today = timezone.localdate()
    client = api(clerk)
    school = TrainingInstitutionFactory(region=regions["360300"])
    large = EmployerFactory(region=regions["360300"], size=EmployerSize.LARGE)
    closing = make_program(
        payee_kind=PayeeKind.EMPLOYER,
        eligible_groups=[],
        valid_from=None,
        valid_to=None,
        application_deadline=today - dt.timedelta(days=1),
        employer_sizes=["micro", "small", "medium"],
    )
    status_program = make_program(
        unit=Unit.ONE_OFF, required_employment_statuses=["employed_outside_province"]
    )
    floor = make_program(standard_amount=D("30.00"), min_amount=D("30.00"), unit=Unit.PERSON_DAY)
    contract = make_program(
        payee_kind=PayeeKind.INSTITUTION,
        unit=Unit.ONE_OFF,
        standard_amount=D("200.00"),
        min_contract_months=6,
    )
    had, excluding = (
        make_program(
            kind=ProgramKind.WORK_FOR_TRAINING,
            payee_kind=PayeeKind.EMPLOYER,
            excludes_prior_work_for_training=flag,
        )
        for flag in (False, True)
    )
    person = person_in()
    services.payment_create(program=had, employer=employer, beneficiary=person, actor=clerk, **month(1))

    cases = [
        (
            {"program": closing.code, "employer": employer.pk, "month": f"{today:%Y-%m}"},
            "application_date",
            rules.APPLICATION_DEADLINE_PASSED,
        ),
        (
            {
                "program": closing.code,
                "employer": employer.pk,
                "month": f"{today:%Y-%m}",
                "application_date": (today + dt.timedelta(days=1)).isoformat(),
            },
            "application_date",
            rules.APPLICATION_DATE_IN_FUTURE,
        ),
        (
            {
                "program": closing.code,
                "employer": large.pk,
                "month": f"{today:%Y-%m}",
                "application_date": (today - dt.timedelta(days=1)).isoformat(),
            },
            "employer",
            rules.EMPLOYER_SIZE,
        ),
        (
            {"program": status_program.code, "beneficiary": person_in().pk, "month": "2021-05"},
            "beneficiary",
            rules.EMPLOYMENT_STATUS,
        ),
        (
            {
                "program": floor.code,
                "beneficiary": person_in().pk,
                "month": "2021-05",
                "quantity": "31",
                "unit_amount": "29.99",
            },
            "unit_amount",
            rules.UNIT_AMOUNT_OUT_OF_RANGE,
        ),
        (
            {
                "program": contract.code,
                "institution": school.pk,
                "beneficiary": person_in().pk,
                "month": "2021-05",
                "contract_start": "2020-11-01",
                "contract_performed_to": "2021-04-29",
            },
            "contract_performed_to",
            rules.CONTRACT_TOO_SHORT,
        ),
        (
            {
                "program": contract.code,
                "institution": school.pk,
                "beneficiary": person_in().pk,
                "month": "2021-05",
            },
            "contract_start",
            rules.CONTRACT_REQUIRED,
        ),
        (
            {
                "program": excluding.code,
                "employer": employer.pk,
                "beneficiary": person.pk,
                "month": "2021-05",
            },
            "beneficiary",
            rules.PRIOR_WORK_FOR_TRAINING,
        ),
    ]
    before = Payment.objects.count()
    for body, field, code in cases:
        response = client.post(PAYMENTS, body, format="json")
        assert response.status_code == 400, (code, response.json())
        assert any(code in message for message in response.json()["errors"][field]), (code, response.json())
    assert Payment.objects.count() == before
    # The same requests within the rules are accepted, and the response shows the new fields.
    ok = client.post(
        PAYMENTS,
        {
            "program": contract.code,
            "institution": school.pk,
            "beneficiary": person_in().pk,
            "month": "2021-05",
            "contract_start": "2020-11-01",
            "contract_performed_to": "2021-04-30",
            "application_date": "2021-05-31",
        },
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    assert (
        ok.json()["contract_start"],
        ok.json()["contract_performed_to"],
        ok.json()["application_date"],
    ) == (
        "2020-11-01",
        "2021-04-30",
        "2021-05-31",
    )
    default = client.post(
        PAYMENTS,
        {
            "program": floor.code,
            "beneficiary": person_in().pk,
            "month": "2021-05",
            "quantity": "3",
            "unit_amount": "40.00",
        },
        format="json",
    )
    assert default.status_code == 201, default.json()
    assert default.json()["application_date"] == today.isoformat()
    assert default.json()["amount"] == "120.00"


def test_contract_dates_in_the_wrong_order_are_400(api, clerk, make_program, regions, person_in):
    program = make_program(payee_kind=PayeeKind.INSTITUTION, unit=Unit.ONE_OFF, min_contract_months=6)
    school = TrainingInstitutionFactory(region=regions["360300"])
    response = api(clerk).post(
        PAYMENTS,
        {
            "program": program.code,
            "institution": school.pk,
            "beneficiary": person_in().pk,
            "month": "2021-05",
            "contract_start": "2021-05-01",
            "contract_performed_to": "2021-04-30",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "contract_performed_to" in response.json()["errors"]


def test_program_conditions_through_the_api(api, reviewer, fund):
    body = {
        "code": "PX_SME_WINDOW",
        "name_zh": "以工代训",
        "name_en": "Work for training",
        "region": "360300",
        "kind": "work_for_training",
        "payee_kind": "employer",
        "fund_source": fund.code,
        "unit": "person_month",
        "standard_amount": "500.00",
        "employer_sizes": ["micro", "small", "medium"],
        "employer_industries": ["wholesale_retail"],
        "required_employment_statuses": EMPLOYED,
        "excludes_prior_work_for_training": True,
        "min_contract_months": 6,
    }
    created = api(reviewer).post("/api/v1/programs/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["employer_sizes"] == ["micro", "small", "medium"]
    bad = api(reviewer).post(
        "/api/v1/programs/",
        {**body, "code": "PX_BAD", "employer_sizes": ["huge"], "employer_industries": ["electronics"]},
        format="json",
    )
    assert bad.status_code == 400
    assert {"employer_sizes.0", "employer_industries.0"} <= set(bad.json()["errors"]) or {
        "employer_sizes",
        "employer_industries",
    } <= set(bad.json()["errors"])


# -- the admin add form ---------------------------------------------------------------------------------------------------


def test_admin_add_form_takes_the_application_date_and_contract(clerk, make_program, regions, person_in):
    program = make_program(
        payee_kind=PayeeKind.INSTITUTION,
        unit=Unit.ONE_OFF,
        standard_amount=D("200.00"),
        min_contract_months=6,
        valid_to=None,
        application_deadline=dt.date(2021, 9, 15),
    )
    school = TrainingInstitutionFactory(region=regions["360300"])
    client = Client()
    client.force_login(clerk)
    form = client.get("/admin/funding/payment/add/")
    assert form.status_code == 200
    assert timezone.localdate().isoformat() in form.content.decode()  # the application date's initial value
    data = {
        "program": program.pk,
        "payee_kind": "institution",
        "institution": school.pk,
        "beneficiary": person_in().pk,
        "period_start": "2021-09-01",
        "period_end": "2021-09-01",
        "application_date": "2021-09-16",
        "contract_start": "2021-01-01",
        "contract_performed_to": "2021-06-30",
        "quantity": "1",
        "unit_amount": "",
        "amount": "",
        "reason": "",
    }
    refused = client.post("/admin/funding/payment/add/", data)
    assert refused.status_code == 200 and rules.APPLICATION_DEADLINE_PASSED in refused.content.decode()
    assert not Payment.objects.exists()
    data["application_date"] = "2021-09-15"
    created = client.post("/admin/funding/payment/add/", data)
    assert created.status_code == 302, created.content[:3000]
    payment = Payment.objects.get()
    assert (payment.application_date, payment.contract_performed_to, payment.amount) == (
        dt.date(2021, 9, 15),
        dt.date(2021, 6, 30),
        D("200.00"),
    )


# -- the batch keeps a constant number of queries ---------------------------------------------------------------------------


def test_batch_query_count_is_constant_with_every_rule(make_program, regions, clerk, employer):
    """Status histories, prior work-for-training and exclusions are loaded set-based: a batch of 12
    costs the queries of a batch of 2."""
    wft = make_program(
        kind=ProgramKind.WORK_FOR_TRAINING,
        payee_kind=PayeeKind.EMPLOYER,
        excludes_prior_work_for_training=True,
        required_employment_statuses=EMPLOYED,
        employer_sizes=["small"],
        max_units=6,
    )
    post = make_program(
        kind=ProgramKind.PUBLIC_WELFARE_POST, required_employment_statuses=["public_welfare_post"]
    )
    other = make_program(kind=ProgramKind.PUBLIC_WELFARE_POST, mutually_exclusive_with=[post.code])

    def run(n: int) -> int:
        items = []
        for _ in range(n // 2):
            worker = make_person(regions["360300"], status="employed_local")
            holder = make_person(regions["360300"], status="public_welfare_post")
            items.append(PaymentItem(program=wft, employer=employer, beneficiary=worker, **month(5)))
            items.append(PaymentItem(program=post, beneficiary=holder, **month(5)))
        with CaptureQueriesContext(connection) as ctx:
            result = services.payments_create_batch(items=items, actor=clerk, submit=True)
        assert len(result.created) == n
        return len(ctx.captured_queries)

    assert other.mutually_exclusive_with == [post.code]
    run(2)  # warms the per-process caches (content types, region paths)
    assert run(2) == run(12)
