"""Factories for the funding app, shared by tests and seeds. Payments have no factory on purpose:
they are created through programs.funding.services so every rule applies."""

from __future__ import annotations

import decimal

import factory
from stdnum.cn import uscc

from programs.funding.choices import EmployerSize, Industry, PayeeKind, ProgramKind, Unit
from programs.funding.models import Employer, FundSource, Program, TrainingInstitution


def make_uscc(region_code: str, serial: int, *, kind: str = "91") -> str:
    """A unified social credit code with a correct GB 32100 check character: registration authority
    and type (`91` = enterprise registered with market regulation), the 6-digit region code, a
    9-character organisation code (here a serial number) and the check character."""
    body = f"{kind}{region_code[:6]:0<6}{serial:09d}"[:17]
    return body + uscc.calc_check_digit(body)


class FundSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundSource
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"fund_{n}")
    name_zh = factory.Sequence(lambda n: f"测试资金{n}")
    name_en = factory.Sequence(lambda n: f"Test fund {n}")


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    code = factory.Sequence(lambda n: f"TEST_PROGRAM_{n}")
    name_zh = factory.Sequence(lambda n: f"测试补贴{n}")
    name_en = factory.Sequence(lambda n: f"Test subsidy {n}")
    region = None  # give one
    kind = ProgramKind.OTHER
    payee_kind = PayeeKind.PERSON
    fund_source = factory.SubFactory(FundSourceFactory)
    unit = Unit.PERSON_MONTH
    standard_amount = decimal.Decimal("500.00")
    once_per_person = False
    eligible_groups = factory.LazyFunction(list)
    uplifts = factory.LazyFunction(dict)
    mutually_exclusive_with = factory.LazyFunction(list)


class EmployerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employer

    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    region = None  # give one
    uscc = factory.LazyAttributeSequence(
        lambda o, n: make_uscc(o.region.code if o.region else "360300", 100000 + n)
    )
    size = EmployerSize.SMALL
    industry = Industry.MANUFACTURING


class TrainingInstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingInstitution

    name = factory.Sequence(lambda n: f"测试职业培训学校{n}")
    region = None  # give one
    uscc = factory.LazyAttributeSequence(
        lambda o, n: make_uscc(o.region.code if o.region else "360300", 500000 + n, kind="52")
    )
