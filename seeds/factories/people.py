"""Made-up people written in bulk for the seeds' large figures: beneficiaries, their group memberships
and their status histories through tracked_bulk_create (bulk change entries), each with a valid
identity number of their region and a current status equal to their latest change. Deterministic
(the caller's seeded Faker, serial numbers), distinct numbers: each user of it has its own birth years
(no other seed uses them) and continues after the people it wrote before (`notes` marks them)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from faker import Faker

from beneficiaries.choices import Gender, StatusSource
from beneficiaries.identity import make_id_number
from beneficiaries.models import (
    ID_NUMBER_PURPOSE,
    Beneficiary,
    BeneficiaryGroup,
    GroupMembership,
    StatusChange,
)
from tracker.changelog.services import tracked_bulk_create
from tracker.pii import encrypt, keyed_hash, mask_id_number
from tracker.regions.models import Region


@dataclass
class Person:
    """What a bulk-created person needs: region (or an identity prefix), groups, status history."""

    region: Region
    history: list[tuple[str, dt.date]]
    groups: Sequence[str] = ()
    since: dt.date = dt.date(2020, 1, 1)
    prefix: str = ""


@dataclass
class BulkPeople:
    faker: Faker
    birth_base: dt.date
    notes: str
    serial: Iterator[int] = field(default_factory=itertools.count)
    made: int = 0

    @classmethod
    def continuing(cls, faker: Faker, *, birth_base: dt.date, notes: str) -> BulkPeople:
        start = Beneficiary.objects.filter(notes=notes).count()
        return cls(faker, birth_base, notes, itertools.count(start))

    def create(self, people: Sequence[Person], groups: dict[str, BeneficiaryGroup]) -> list[Beneficiary]:
        rows = []
        for person in people:
            n = next(self.serial)
            gender = Gender.FEMALE if n % 2 else Gender.MALE
            birth = self.birth_base + dt.timedelta(days=n // 500)
            number = make_id_number(person.prefix or person.region.code, birth, n % 500, gender)
            status, verified = person.history[-1]
            rows.append(
                Beneficiary(
                    name=self.faker.name_female() if gender == Gender.FEMALE else self.faker.name_male(),
                    id_number_encrypted=encrypt(number, purpose=ID_NUMBER_PURPOSE),
                    id_number_hash=keyed_hash(number, purpose=ID_NUMBER_PURPOSE),
                    id_number_masked=mask_id_number(number),
                    gender=gender,
                    birth_date=birth,
                    region=person.region,
                    address=f"{person.region.name_zh}示例{n}号",
                    notes=self.notes,
                    status=status,
                    status_verified_on=verified,
                )
            )
        created = tracked_bulk_create(Beneficiary, rows)
        memberships, changes = [], []
        for person, row in zip(people, created, strict=True):
            for code in person.groups:
                memberships.append(
                    GroupMembership(beneficiary=row, group=groups[code], valid_from=person.since)
                )
            for status, on in person.history:
                changes.append(
                    StatusChange(beneficiary=row, status=status, effective_on=on, source=StatusSource.VISIT)
                )
        tracked_bulk_create(GroupMembership, memberships)
        tracked_bulk_create(StatusChange, changes)
        self.made += len(created)
        return created
