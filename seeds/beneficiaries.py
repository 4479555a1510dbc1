"""Seed step: the 45 beneficiary groups (seeds/data/beneficiary_groups.yaml) and a few dozen example
people across the seeded regions, groups and employment statuses, with a follow-up or two.

The people are made up: names from Faker (zh_CN, fixed seed), identity numbers generated with a
correct check digit and the prefix a number issued in their region would carry (for a local code
such as 3603X1, the parent city's). Everything goes through the services; running twice adds
nothing (people are matched by their identity number's keyed hash).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from faker import Faker

from beneficiaries.choices import EmploymentStatus, Gender, StatusSource
from beneficiaries.identity import make_id_number, parse_id_number
from beneficiaries.models import Beneficiary, GroupMembership
from beneficiaries.selectors import beneficiary_by_id_number
from beneficiaries.services import (
    beneficiary_create,
    beneficiary_group_upsert,
    groups_by_code,
    membership_add,
    status_change_record,
)
from seeds.data_files import load
from tracker.regions.models import Region

SEED = 20210815
# The example people have been members of their groups since before the 2021 programs they are paid
# under (seeds/funding.py), so seeded 2021 payments are for people eligible on their dates.
MEMBERSHIPS_FROM = dt.date(2021, 1, 1)
# Where the example people live (codes from seeds/data/regions.yaml), with how many each.
PEOPLE_PER_REGION = {
    "360300": 6,
    "3603X1": 4,
    "450400": 4,
    "320211": 3,
    "120112": 2,
    "110113901001": 2,
    "110113": 2,
    "370405": 2,
    "130523": 2,
    "130522": 2,
    "630102": 2,
    "440100": 2,
    "530114": 1,
    "510100": 1,
    "620000": 1,
}
GROUP_CHOICES = [
    ["lifted_out_of_poverty"],
    ["lifted_out_of_poverty", "rural_labour"],
    ["at_risk_of_poverty"],
    ["rural_low_income", "rural_labour"],
    ["employment_difficulty"],
    ["veteran"],
    ["college_graduate"],
    ["migrant_worker", "rural_labour"],
    ["retired_fisherman"],
    ["disabled", "employment_difficulty"],
    ["relocated_poverty_relief"],
    ["registered_unemployed"],
]
EMPLOYED = [
    EmploymentStatus.EMPLOYED_LOCAL,
    EmploymentStatus.EMPLOYED_OUTSIDE_COUNTY,
    EmploymentStatus.EMPLOYED_OUTSIDE_PROVINCE,
    EmploymentStatus.FLEXIBLE,
    EmploymentStatus.SELF_EMPLOYED,
]


def seed_beneficiary_groups(actor: Any = None) -> int:
    """All groups from the data file; returns how many there are. Reference data: written by the
    administrator, or with no actor by the seed script itself."""
    groups = load("beneficiary_groups.yaml")["groups"]
    for group in groups:
        beneficiary_group_upsert(
            code=group["code"], name_zh=group["name_zh"], name_en=group["name_en"], actor=actor
        )
    return len(groups)


def _valid_id_number(region_code: str, birth_date: dt.date, seq: int, gender: str, today: dt.date) -> str:
    """A valid number for the region; should the region's own code be unknown to the division-code
    table, the parent city's or province's code, as a real number issued there would carry."""
    candidates = [make_id_number(region_code, birth_date, seq, gender)]
    prefix = candidates[0][:6]
    candidates += [make_id_number(f"{prefix[:4]}00", birth_date, seq, gender)]
    candidates += [make_id_number(f"{prefix[:2]}0000", birth_date, seq, gender)]
    for number in candidates:
        try:
            return parse_id_number(number, registered_on=today).number
        except ValidationError:
            continue
    raise RuntimeError(f"no valid identity number for {region_code} {birth_date}")


def _backdate_memberships(person: Beneficiary, group_codes: list[str], actor: Any) -> None:
    """Databases seeded before memberships started on MEMBERSHIPS_FROM: give each seeded group a
    membership from MEMBERSHIPS_FROM up to the day before the current one began (through the
    service, so it is logged). Nothing to do, and nothing written, once that is so."""
    for _code, group in sorted(groups_by_code(group_codes).items()):
        held = list(GroupMembership.objects.filter(beneficiary=person, group=group).order_by("valid_from"))
        if not held or held[0].valid_from <= MEMBERSHIPS_FROM:
            continue
        membership_add(
            beneficiary=person,
            group=group,
            valid_from=MEMBERSHIPS_FROM,
            valid_to=held[0].valid_from - dt.timedelta(days=1),
            actor=actor,
        )


def seed_beneficiaries(stdout: Any) -> None:
    from tracker.accounts.models import User

    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    seed_beneficiary_groups(admin)
    if admin is None:
        stdout.write("beneficiaries: no administrator account; example people skipped\n")
        return
    rng = random.Random(SEED)
    fake = Faker("zh_CN")
    fake.seed_instance(SEED)
    today = timezone.localdate()
    regions = {r.code: r for r in Region.objects.filter(code__in=PEOPLE_PER_REGION)}
    created = 0
    seq = 0
    for code, count in PEOPLE_PER_REGION.items():
        region = regions.get(code)
        for _ in range(count):
            seq += 1
            gender = Gender.FEMALE if seq % 2 else Gender.MALE
            name = fake.name_female() if gender == Gender.FEMALE else fake.name_male()
            birth_date = dt.date(1966, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 35))
            groups = rng.choice(GROUP_CHOICES)
            statuses = [*rng.sample(EMPLOYED, 1), rng.choice([*EMPLOYED, EmploymentStatus.UNEMPLOYED])]
            # Every random draw happens before the skip below, so a second run draws the same.
            first = today - dt.timedelta(days=rng.randrange(120, 400))
            second = today - dt.timedelta(days=rng.randrange(1, 60))
            second_source = rng.choice(list(StatusSource.values))
            if region is None:
                continue
            number = _valid_id_number(code, birth_date, 900 + seq, gender, today)
            existing = beneficiary_by_id_number(id_number=number)
            if existing is not None:
                _backdate_memberships(existing, groups, admin)
                continue
            person = beneficiary_create(
                actor=admin,
                name=name,
                id_number=number,
                region=region,
                phone=f"1390000{seq:04d}",
                address=f"{region.name_zh}示例路{seq}号",
                willing_to_work=seq % 7 != 0,
                notes="示例数据（虚构人员）",
            )
            for _code, group in sorted(groups_by_code(groups).items()):
                membership_add(
                    beneficiary=person, group=group, valid_from=MEMBERSHIPS_FROM, valid_to=None, actor=admin
                )
            created += 1
            # An older verification and a recent one: some are now due for monitoring, and a
            # person moving from work into unemployment gets a follow-up.
            status_change_record(
                beneficiary=person,
                actor=admin,
                status=statuses[0],
                effective_on=first,
                source=StatusSource.VISIT,
                employer_or_place=f"{region.name_zh}示例企业",
            )
            if seq % 3 == 0 or seq in (5, 11):
                status = EmploymentStatus.UNEMPLOYED if seq in (5, 11) else statuses[1]
                status_change_record(
                    beneficiary=person,
                    actor=admin,
                    status=status,
                    effective_on=second,
                    source=second_source,
                )
    stdout.write(f"Beneficiaries: {created} example people added ({Beneficiary.objects.count()} in total).\n")
