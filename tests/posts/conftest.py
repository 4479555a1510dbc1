"""Fixtures of the posts tests: a post program of 萍乡市, posts in the seeded Wugongshan villages, people
in the program's groups, and helpers to hire, record attendance and sign contracts."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from beneficiaries.models import Beneficiary, BeneficiaryGroup, GroupMembership, StatusChange
from programs.funding.choices import PayeeKind, ProgramKind, Unit
from programs.funding.models import Program
from programs.posts import services
from programs.posts.choices import ContractKind, EmployingUnit, PostCategory, UrbanRural
from programs.posts.models import Assignment, Post
from seeds.factories.funding import FundSourceFactory, ProgramFactory
from tracker.regions.models import Region

D = decimal.Decimal
_serial = itertools.count(1)

VILLAGE = "3603X1901001"  # 示例东村, 武功山示例乡, 武功山风景名胜区 (萍乡市)
OTHER_VILLAGE = "3603X1901002"
TOWNSHIP = "3603X1901"
JAN = dt.date(2021, 1, 1)


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
    name: str = "李四",
    status: str | None = "unemployed",
) -> Beneficiary:
    """A person in `groups` from `since`, saved directly (test data), unemployed from `since`."""
    n = next(_serial)
    person = Beneficiary(
        name=name,
        id_number_encrypted=f"cipher-{n}",
        id_number_hash=f"posts-hash-{n}",
        id_number_masked=f"360323********{n:04d}"[-18:],
        gender="male",
        birth_date=dt.date(1975, 1, 1),
        region=region,
    )
    person.save()
    for code in groups:
        GroupMembership(beneficiary=person, group=make_group(code), valid_from=since).save()
    if status:
        StatusChange(beneficiary=person, status=status, effective_on=since, source="visit").save()
    return person


@pytest.fixture
def fund(db: Any) -> Any:
    return FundSourceFactory(
        code="employment_subsidy_fund", name_zh="就业补助资金", name_en="Employment subsidy fund"
    )


@pytest.fixture
def make_post_program(regions: dict[str, Region], fund: Any) -> Callable[..., Program]:
    """A public-welfare post program of 萍乡市 for people lifted out of poverty: 500 a month at most,
    holders must be in a post."""

    def build(region: str = "360300", **fields: Any) -> Program:
        make_group("lifted_out_of_poverty")
        fields.setdefault("kind", ProgramKind.PUBLIC_WELFARE_POST)
        fields.setdefault("payee_kind", PayeeKind.PERSON)
        fields.setdefault("unit", Unit.PERSON_MONTH)
        fields.setdefault("standard_amount", D("500.00"))
        fields.setdefault("eligible_groups", ["lifted_out_of_poverty"])
        fields.setdefault("required_employment_statuses", ["public_welfare_post"])
        return ProgramFactory(region=regions[region], fund_source=fund, **fields)

    return build


@pytest.fixture
def post_program(make_post_program: Callable[..., Program]) -> Program:
    return make_post_program()


@pytest.fixture
def make_post(regions: dict[str, Region], post_program: Program, clerk: Any) -> Callable[..., Post]:
    """make_post(headcount=..., **fields) -> a village-committee cleaning post of 示例东村, open from
    2021-01-01, created by the clerk through the service."""

    def build(**fields: Any) -> Post:
        values = {
            "region": regions[VILLAGE],
            "employing_unit": EmployingUnit.VILLAGE_COMMITTEE,
            "category": PostCategory.CLEANING,
            "urban_rural": UrbanRural.RURAL,
            "title": f"保洁员 {next(_serial)}",
            "duties": "村道保洁",
            "headcount": 2,
            "monthly_standard": D("500.00"),
            "program": post_program,
            "opened_on": JAN,
            "justification": "村内主干道和公共场所需要日常保洁（因事设岗）",
        }
        values.update(fields)
        return services.post_create(actor=clerk, fields=values)

    return build


@pytest.fixture
def post(make_post: Callable[..., Post]) -> Post:
    return make_post()


@pytest.fixture
def person_in(regions: dict[str, Region]) -> Callable[..., Beneficiary]:
    def build(code: str = VILLAGE, **kwargs: Any) -> Beneficiary:
        return make_person(regions[code], **kwargs)

    return build


@pytest.fixture
def person(person_in: Callable[..., Beneficiary]) -> Beneficiary:
    return person_in()


CONTRACT = {
    "contract_kind": ContractKind.LABOUR_CONTRACT,
    "contract_number": "WGS-2021-001",
    "contract_signed_on": JAN,
    "contract_from": JAN,
    "contract_to": dt.date(2021, 12, 31),
}


@pytest.fixture
def hire(clerk: Any) -> Callable[..., Assignment]:
    """hire(post, person, start=2021-01-01, contract=True, **fields) -> an assignment by the clerk."""

    def build(
        post: Post, person: Beneficiary, start: dt.date = JAN, *, contract: bool = True, **fields: Any
    ) -> Assignment:
        if contract:
            for key, value in CONTRACT.items():
                fields.setdefault(key, value)
            fields["contract_signed_on"] = (
                min(fields["contract_signed_on"], start) if fields.get("contract_signed_on") else None
            )
        return services.assignment_hire(
            actor=clerk, post=post, beneficiary=person, start_date=start, **fields
        )

    return build


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"
