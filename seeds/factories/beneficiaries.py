"""Factories for the registry, shared by tests and seeds. Identity numbers are well formed (correct
GB 11643 check digit, region prefix of the person's region) through `make_id_number`."""

from __future__ import annotations

import datetime as dt
import random

import factory
from faker import Faker

from beneficiaries.choices import Gender
from beneficiaries.identity import make_id_number
from beneficiaries.models import ID_NUMBER_PURPOSE, PHONE_PURPOSE, Beneficiary, BeneficiaryGroup
from tracker.pii import encrypt, keyed_hash, mask_id_number, mask_phone
from tracker.regions.models import Region

__all__ = ["BeneficiaryFactory", "BeneficiaryGroupFactory", "make_id_number", "person_data"]

_fake = Faker("zh_CN")
_fake.seed_instance(20210815)


def _region() -> Region:
    return Region.objects.get(code="360300")


class BeneficiaryGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BeneficiaryGroup
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"test_group_{n}")
    name_zh = factory.Sequence(lambda n: f"测试类别{n}")
    name_en = factory.Sequence(lambda n: f"Test group {n}")


class BeneficiaryFactory(factory.django.DjangoModelFactory):
    """A person with a valid identity number for their region. Pass `id_number` / `phone` in the
    clear; the stored columns (ciphertext, keyed hash, masked) follow. Saving goes through
    TrackedModel.save, so the change log records it; tests of rules call the services instead."""

    class Meta:
        model = Beneficiary
        exclude = ("id_number", "phone", "seq")

    seq = factory.Sequence(lambda n: n)
    name = factory.LazyFunction(lambda: _fake.name())
    region = factory.LazyFunction(_region)
    gender = factory.Iterator([Gender.FEMALE, Gender.MALE])
    birth_date = factory.Sequence(lambda n: dt.date(1970, 1, 1) + dt.timedelta(days=(n * 97) % 12000))
    id_number = factory.LazyAttribute(
        lambda o: make_id_number(o.region.code if o.region else "360300", o.birth_date, o.seq, o.gender)
    )
    phone = factory.Sequence(lambda n: f"139{n % 100000000:08d}")
    id_number_encrypted = factory.LazyAttribute(lambda o: encrypt(o.id_number, purpose=ID_NUMBER_PURPOSE))
    id_number_hash = factory.LazyAttribute(lambda o: keyed_hash(o.id_number, purpose=ID_NUMBER_PURPOSE))
    id_number_masked = factory.LazyAttribute(lambda o: mask_id_number(o.id_number))
    phone_encrypted = factory.LazyAttribute(lambda o: encrypt(o.phone, purpose=PHONE_PURPOSE))
    phone_hash = factory.LazyAttribute(lambda o: keyed_hash(o.phone, purpose=PHONE_PURPOSE))
    phone_masked = factory.LazyAttribute(lambda o: mask_phone(o.phone))
    willing_to_work = True


def person_data(
    *,
    region_code: str = "360300",
    seq: int = 1,
    gender: str = Gender.FEMALE,
    birth_date: dt.date | None = None,
    rng: random.Random | None = None,
) -> dict:
    """Plain input for `beneficiary_create` / the API / an import row (field names as in the API)."""
    birth_date = birth_date or dt.date(1980, 1, 1) + dt.timedelta(days=seq * 37 % 9000)
    return {
        "name": _fake.name_female() if gender == Gender.FEMALE else _fake.name_male(),
        "id_number": make_id_number(region_code, birth_date, seq, gender),
        "phone": f"139{seq % 100000000:08d}",
        "region": region_code,
    }
