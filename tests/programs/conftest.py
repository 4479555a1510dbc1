"""Fixtures of the funding tests: groups, people (saved directly, without the registry's services,
which are built in parallel), programs and a helper to walk a payment through its lifecycle."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from beneficiaries.models import Beneficiary, BeneficiaryGroup, GroupMembership, StatusChange
from programs.funding import services
from programs.funding.models import Payment, Program
from seeds.factories.funding import EmployerFactory, FundSourceFactory, ProgramFactory
from tracker.regions.models import Region

_serial = itertools.count(1)
D = decimal.Decimal


def make_group(code: str) -> BeneficiaryGroup:
    group = BeneficiaryGroup.objects.filter(code=code).first()
    if group is None:
        group = BeneficiaryGroup(code=code, name_zh=code, name_en=code)
        group.save()
    return group


def make_person(
    region: Region,
    *,
    groups: tuple[str, ...] = ("lifted_out_of_poverty",),
    since: dt.date = dt.date(2020, 1, 1),
    until: dt.date | None = None,
    name: str = "张三丰",
    status: str | None = None,
) -> Beneficiary:
    """A person in `groups` from `since` (to `until`), with the employment `status` from `since`
    when one is given."""
    n = next(_serial)
    person = Beneficiary(
        name=name,
        id_number_encrypted=f"cipher-{n}",
        id_number_hash=f"hash-{n}-{region.code}",
        id_number_masked=f"3603**********{n:04d}"[-18:],
        gender="male",
        birth_date=dt.date(1980, 1, 1),
        region=region,
    )
    person.save()
    for code in groups:
        GroupMembership(beneficiary=person, group=make_group(code), valid_from=since, valid_to=until).save()
    if status is not None:
        set_status(person, status, since)
    return person


def set_status(person: Beneficiary, status: str, on: dt.date) -> StatusChange:
    """Record an employment status from a day (saved directly, as the memberships are)."""
    change = StatusChange(beneficiary=person, status=status, effective_on=on, source="visit")
    change.save()
    return change


@pytest.fixture
def person_in(regions: dict[str, Region]) -> Callable[..., Beneficiary]:
    def build(code: str = "360300", **kwargs: Any) -> Beneficiary:
        return make_person(regions[code], **kwargs)

    return build


@pytest.fixture
def person(person_in: Callable[..., Beneficiary]) -> Beneficiary:
    return person_in("360300")


@pytest.fixture
def fund(db: Any) -> Any:
    return FundSourceFactory(
        code="employment_subsidy_fund", name_zh="就业补助资金", name_en="Employment subsidy fund"
    )


@pytest.fixture
def make_program(regions: dict[str, Region], fund: Any) -> Callable[..., Program]:
    """A program of 萍乡市 (by default) for people lifted out of poverty, 500 yuan per person-month,
    valid through 2021."""

    def build(region: str = "360300", **fields: Any) -> Program:
        make_group("lifted_out_of_poverty")
        fields.setdefault("eligible_groups", ["lifted_out_of_poverty"])
        fields.setdefault("valid_from", dt.date(2021, 1, 1))
        fields.setdefault("valid_to", dt.date(2021, 12, 31))
        return ProgramFactory(region=regions[region], fund_source=fund, **fields)

    return build


@pytest.fixture
def program(make_program: Callable[..., Program]) -> Program:
    return make_program()


@pytest.fixture
def employer(regions: dict[str, Region]) -> Any:
    return EmployerFactory(region=regions["360300"])


MAY = {"period_start": dt.date(2021, 5, 1), "period_end": dt.date(2021, 5, 31)}


def month(number: int, year: int = 2021) -> dict[str, dt.date]:
    import calendar

    return {
        "period_start": dt.date(year, number, 1),
        "period_end": dt.date(year, number, calendar.monthrange(year, number)[1]),
    }


@pytest.fixture
def pay(clerk: Any) -> Callable[..., Payment]:
    """pay(program, beneficiary=..., **fields) -> a draft created by the clerk (May 2021 by default)."""

    def build(program: Program, **fields: Any) -> Payment:
        for key, value in MAY.items():
            fields.setdefault(key, value)
        fields.setdefault("actor", clerk)
        return services.payment_create(program=program, **fields)

    return build


@pytest.fixture
def paid(pay: Callable[..., Payment], reviewer: Any, clerk: Any) -> Callable[..., Payment]:
    """A payment walked to `paid`: created and submitted by the clerk, approved and paid by the reviewer."""

    def build(program: Program, **fields: Any) -> Payment:
        payment = pay(program, submit=True, **fields)
        payment = services.payment_approve(payment=payment, actor=reviewer)
        return services.payment_mark_paid(payment=payment, actor=reviewer, external_reference="BANK-1")

    return build
