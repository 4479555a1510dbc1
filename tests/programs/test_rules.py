"""Every payment rule at its boundary: accepted at the limit, refused just past it, naming the rule."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from programs.funding import services
from programs.funding.choices import PayeeKind, PaymentStatus, Unit
from programs.funding.models import Payment
from seeds.factories.funding import TrainingInstitutionFactory
from tests.programs.conftest import MAY, make_person, month
from tracker.changelog.context import acting

D = decimal.Decimal
pytestmark = pytest.mark.django_db


def refused(excinfo: pytest.ExceptionInfo, code: str) -> bool:
    return code in str(
        excinfo.value.message_dict if hasattr(excinfo.value, "message_dict") else excinfo.value
    )


def test_payee_kind_must_match_the_program(make_program, pay, person, employer):
    program = make_program(payee_kind=PayeeKind.EMPLOYER, eligible_groups=[])
    assert pay(program, employer=employer).status == PaymentStatus.DRAFT
    with pytest.raises(ValidationError) as excinfo:
        pay(program, payee_kind=PayeeKind.PERSON, beneficiary=person, **month(6))
    assert refused(excinfo, "PAYEE_KIND")
    # The right kind but no payee named.
    with pytest.raises(ValidationError) as excinfo:
        pay(program, **month(7))
    assert refused(excinfo, "PAYEE_KIND")
    assert Payment.objects.count() == 1


def test_organisation_payment_may_name_the_person_it_is_for(make_program, pay, person, employer):
    program = make_program(payee_kind=PayeeKind.EMPLOYER)  # eligible: lifted_out_of_poverty
    with pytest.raises(ValidationError) as excinfo:
        pay(program, employer=employer)
    assert refused(excinfo, "NOT_ELIGIBLE")
    payment = pay(program, employer=employer, beneficiary=person)
    assert payment.region_id == employer.region_id
    assert payment.beneficiary_id == person.pk


def test_payee_must_lie_in_the_programs_region(make_program, pay, person_in):
    program = make_program(region="3603X1")  # 武功山: a part of 萍乡市
    inside = person_in("3603X1")
    assert pay(program, beneficiary=inside)
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=person_in("360300"))
    assert refused(excinfo, "PAYEE_REGION")


def test_period_within_validity(make_program, pay, person_in):
    program = make_program(valid_from=dt.date(2021, 1, 1), valid_to=dt.date(2021, 6, 30))
    first, last = person_in(), person_in()
    assert pay(program, beneficiary=first, period_start=dt.date(2021, 1, 1), period_end=dt.date(2021, 1, 31))
    assert pay(program, beneficiary=last, period_start=dt.date(2021, 6, 1), period_end=dt.date(2021, 6, 30))
    with pytest.raises(ValidationError) as excinfo:
        pay(
            program,
            beneficiary=person_in(),
            period_start=dt.date(2020, 12, 31),
            period_end=dt.date(2021, 1, 30),
        )
    assert refused(excinfo, "PERIOD_OUTSIDE_VALIDITY")
    with pytest.raises(ValidationError) as excinfo:
        pay(
            program, beneficiary=person_in(), period_start=dt.date(2021, 6, 2), period_end=dt.date(2021, 7, 1)
        )
    assert refused(excinfo, "PERIOD_OUTSIDE_VALIDITY")


def test_nothing_new_after_the_payment_deadline(make_program, pay, person_in):
    program = make_program(payment_deadline=dt.date(2021, 12, 25))
    assert pay(program, beneficiary=person_in(), today=dt.date(2021, 12, 25))
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=person_in(), today=dt.date(2021, 12, 26))
    assert refused(excinfo, "PAYMENT_DEADLINE_PASSED")


def test_deadline_also_holds_at_submission(make_program, pay, person, clerk):
    program = make_program(payment_deadline=dt.date(2021, 12, 25))
    draft = pay(program, beneficiary=person, today=dt.date(2021, 12, 20))
    with pytest.raises(ValidationError) as excinfo:
        services.payment_submit(payment=draft, actor=clerk, today=dt.date(2021, 12, 26))
    assert refused(excinfo, "PAYMENT_DEADLINE_PASSED")


def test_eligible_group_on_the_period_start(make_program, pay, regions):
    program = make_program()
    # A member from 1 May 2021: a May payment is eligible, one for April is not.
    member = make_person(regions["360300"], since=dt.date(2021, 5, 1))
    assert pay(program, beneficiary=member, **month(5))
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=member, **month(4))
    assert refused(excinfo, "NOT_ELIGIBLE")
    # Membership ended on 31 May: June is refused.
    leaver = make_person(regions["360300"], since=dt.date(2020, 1, 1), until=dt.date(2021, 5, 31))
    assert pay(program, beneficiary=leaver, **month(5))
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=leaver, **month(6))
    assert refused(excinfo, "NOT_ELIGIBLE")
    # Someone in no eligible group.
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=make_person(regions["360300"], groups=("veteran",)))
    assert refused(excinfo, "NOT_ELIGIBLE")


def test_no_payment_after_the_person_left_the_registry(make_program, pay, person):
    program = make_program()
    person.active = False
    person.deactivated_on = dt.date(2021, 6, 1)
    person.deactivation_reason = "deceased"
    person.save()
    assert pay(program, beneficiary=person, **month(5))
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=person, **month(6))
    assert refused(excinfo, "PAYEE_INACTIVE")


def test_amount_is_unit_times_quantity(make_program, pay, person_in):
    program = make_program()
    payment = pay(program, beneficiary=person_in(), quantity=D("0.5"))
    assert payment.amount == D("250.00")
    assert payment.unit_amount == D("500.00")
    assert pay(
        program,
        beneficiary=person_in(),
        unit_amount=D("400.00"),
        quantity=2,
        amount=D("800.00"),
        **{"period_start": dt.date(2021, 5, 1), "period_end": dt.date(2021, 6, 30)},
    )
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=person_in(), unit_amount=D("400.00"), quantity=2, amount=D("800.01"))
    assert refused(excinfo, "AMOUNT_MISMATCH")


def test_one_off_has_quantity_one(make_program, pay, person):
    program = make_program(unit=Unit.ONE_OFF, standard_amount=D("600.00"))
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=person, quantity=2)
    assert refused(excinfo, "QUANTITY")
    assert pay(program, beneficiary=person).amount == D("600.00")


def test_unit_amount_within_min_and_max(make_program, pay, person_in):
    program = make_program(standard_amount=None, min_amount=D("100.00"), max_amount=D("2100.00"))
    assert pay(program, beneficiary=person_in(), unit_amount=D("2100.00"))
    assert pay(program, beneficiary=person_in(), unit_amount=D("100.00"))
    for unit in (D("2100.01"), D("99.99")):
        with pytest.raises(ValidationError) as excinfo:
            pay(program, beneficiary=person_in(), unit_amount=unit)
        assert refused(excinfo, "UNIT_AMOUNT_OUT_OF_RANGE")


def test_standard_amount_is_the_cap_without_a_maximum(make_program, pay, person_in):
    program = make_program(standard_amount=D("500.00"))
    assert pay(program, beneficiary=person_in(), unit_amount=D("500.00"))
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=person_in(), unit_amount=D("500.01"))
    assert refused(excinfo, "UNIT_AMOUNT_OUT_OF_RANGE")


def test_uplift_raises_the_cap_in_designated_regions(make_program, pay, regions):
    """A standard that is a cap ("可上浮 20%": up to 36 where the region is designated, 30 elsewhere).
    A standard that is a floor (Gansu's living allowance) is tested in test_source_rules."""
    county = regions["3603X1"]
    county.designations = ["national_key_county"]
    county.save()
    program = make_program(
        unit=Unit.PERSON_DAY,
        standard_amount=D("30.00"),
        uplifts={"national_key_county": "20", "provincial_key_county": "10"},
    )
    key_county_person = make_person(county)
    other = make_person(regions["360300"])
    assert pay(program, beneficiary=key_county_person, unit_amount=D("36.00"), quantity=5).amount == D(
        "180.00"
    )
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=make_person(county), unit_amount=D("36.01"))
    assert refused(excinfo, "UNIT_AMOUNT_OUT_OF_RANGE")
    # The default stays the standard: an uplift of a cap is a permission, not an amount.
    assert pay(program, beneficiary=make_person(county)).unit_amount == D("30.00")
    assert pay(program, beneficiary=other, unit_amount=D("30.00"))
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=make_person(regions["360300"]), unit_amount=D("30.01"))
    assert refused(excinfo, "UNIT_AMOUNT_OUT_OF_RANGE")


def test_once_per_person(make_program, pay, person, clerk, reviewer):
    program = make_program(unit=Unit.ONE_OFF, standard_amount=D("600.00"), once_per_person=True)
    first = pay(program, beneficiary=person)
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=person, **month(6))
    assert refused(excinfo, "ONCE_PER_PERSON")
    # A rejected payment frees the entitlement.
    services.payment_submit(payment=first, actor=clerk)
    services.payment_reject(payment=first, actor=reviewer, reason="wrong person")
    assert pay(program, beneficiary=person, **month(6)).status == PaymentStatus.DRAFT


def test_once_per_person_is_a_database_constraint(make_program, pay, person, clerk):
    program = make_program(unit=Unit.ONE_OFF, standard_amount=D("600.00"), once_per_person=True)
    first = pay(program, beneficiary=person)
    twin = Payment(
        program=program,
        payee_kind=PayeeKind.PERSON,
        beneficiary=person,
        region=first.region,
        period_start=dt.date(2021, 6, 1),
        period_end=dt.date(2021, 6, 1),
        quantity=1,
        unit_amount=D("600.00"),
        amount=D("600.00"),
        once_per_person=True,
        created_by=clerk,
    )
    # The database refuses the twin; the change log's save turns that into a 400-style field error.
    with pytest.raises(ValidationError) as excinfo, transaction.atomic(), acting(clerk):
        twin.save()
    assert isinstance(excinfo.value.__cause__, IntegrityError)


def test_once_per_payee_for_organisation_grants(make_program, pay, regions):
    program = make_program(
        payee_kind=PayeeKind.INSTITUTION,
        unit=Unit.ONE_OFF,
        standard_amount=D("200000.00"),
        once_per_person=True,
        eligible_groups=[],
    )
    school = TrainingInstitutionFactory(region=regions["360300"])
    assert pay(program, institution=school)
    with pytest.raises(ValidationError) as excinfo:
        pay(program, institution=school, **month(6))
    assert refused(excinfo, "ONCE_PER_PERSON")


def test_max_units_across_live_payments(make_program, pay, person, paid, reviewer):
    """以工代训: at most 6 months per person."""
    program = make_program(max_units=6)
    first = paid(
        program,
        beneficiary=person,
        quantity=3,
        period_start=dt.date(2021, 1, 1),
        period_end=dt.date(2021, 3, 31),
    )
    assert pay(
        program,
        beneficiary=person,
        quantity=3,
        period_start=dt.date(2021, 4, 1),
        period_end=dt.date(2021, 6, 30),
    )
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=person, quantity=D("0.5"), **month(7))
    assert refused(excinfo, "MAX_UNITS")
    # A reversed payment no longer counts.
    services.payment_reverse(payment=first, actor=reviewer, reason="paid in error")
    assert pay(
        program,
        beneficiary=person,
        quantity=3,
        period_start=dt.date(2021, 7, 1),
        period_end=dt.date(2021, 9, 30),
    )


def test_no_overlapping_periods(make_program, pay, person):
    program = make_program()
    pay(program, beneficiary=person, **month(5))
    # Adjacent: accepted.
    assert pay(program, beneficiary=person, **month(6))
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=person, period_start=dt.date(2021, 6, 30), period_end=dt.date(2021, 6, 30))
    assert refused(excinfo, "PERIOD_OVERLAP")
    # Another program may pay the same month.
    assert pay(make_program(), beneficiary=person, **month(5))


def test_budget_counts_submitted_approved_and_paid(make_program, pay, person_in, clerk, reviewer):
    program = make_program(annual_budget=D("1500.00"))
    a = pay(program, beneficiary=person_in(), submit=True)
    b = pay(program, beneficiary=person_in(), submit=True)
    services.payment_approve(payment=b, actor=reviewer)
    # Drafts do not count; the third submission fills the budget exactly.
    draft = pay(program, beneficiary=person_in())
    third = pay(program, beneficiary=person_in(), submit=True)
    assert third.status == PaymentStatus.SUBMITTED
    with pytest.raises(ValidationError) as excinfo:
        services.payment_submit(payment=draft, actor=clerk)
    assert refused(excinfo, "BUDGET_EXCEEDED")
    # Rejected payments free their share.
    services.payment_reject(payment=a, actor=reviewer, reason="duplicate application")
    assert services.payment_submit(payment=draft, actor=clerk).status == PaymentStatus.SUBMITTED


def test_budget_past_the_limit_by_one_cent(make_program, pay, person_in):
    program = make_program(annual_budget=D("499.99"))
    with pytest.raises(ValidationError) as excinfo:
        pay(program, beneficiary=person_in(), submit=True)
    assert refused(excinfo, "BUDGET_EXCEEDED")
    assert not Payment.objects.exists()


def test_budget_is_per_year(make_program, pay, person):
    program = make_program(annual_budget=D("500.00"), valid_to=None)
    pay(program, beneficiary=person, submit=True, **month(12, 2021))
    assert pay(program, beneficiary=person, submit=True, **month(1, 2022)).status == PaymentStatus.SUBMITTED


def test_refusals_write_nothing(make_program, pay, person):
    from tracker.changelog.models import ChangeEntry

    program = make_program()
    before = ChangeEntry.objects.count()
    with pytest.raises(ValidationError):
        pay(program, beneficiary=person, unit_amount=D("9999.00"))
    assert ChangeEntry.objects.count() == before
    assert not Payment.objects.exists()


def test_only_clerks_create_and_only_in_scope(make_program, person, person_in, reviewer, outsider, clerk):
    program = make_program()
    with pytest.raises(PermissionDenied):
        services.payment_create(program=program, beneficiary=person, actor=reviewer, **MAY)
    with pytest.raises(PermissionDenied):
        services.payment_create(program=program, beneficiary=person, actor=outsider, **MAY)
    assert not Payment.objects.exists()


def test_cause_links_the_record_that_caused_it(make_program, pay, person, employer):
    program = make_program()
    by_label = pay(program, beneficiary=person, cause=("posts.assignment", 42))
    assert (by_label.cause_label, by_label.cause_object_id) == ("posts.assignment", "42")
    by_model = pay(program, beneficiary=person, cause=employer, **month(6))
    assert by_model.cause == employer
    assert by_model.cause_label == "funding.employer"
