"""Seed step: the 45 beneficiary groups (seeds/data/beneficiary_groups.yaml) and a few dozen example
people across the seeded regions, groups and employment statuses, with a follow-up or two.

The people are made up: names from Faker (zh_CN, fixed seed), identity numbers generated with a
correct check digit and the code of a real county (GB/T 2260) in which a number issued to someone
living in their region would be registered: the region's own code for a county, the county of a
township or village, for a city one of its districts (ID_PREFIXES), and for the Wugongshan scenic
area (local code 3603X1) 芦溪县, 360323. Each person has groups and an employment status recorded
from MEMBERSHIPS_FROM (2021-01-01), chosen (PEOPLE) so that every seeded program finds people its
rules accept: post holders for post subsidies, people working in another province for Gansu's
transport subsidy, trainees for living allowances, and so on. Everything goes through the services;
running twice adds nothing (people are matched by their identity number's keyed hash).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from faker import Faker

from beneficiaries.choices import EmploymentStatus, Gender, StatusSource
from beneficiaries.identity import id_number_prefix_for_region, make_id_number, parse_id_number
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
# The example people have been members of their groups, and in their employment status, since
# before the 2021 programs they are paid under (seeds/funding.py), so seeded 2021 payments are for
# people eligible on their dates.
MEMBERSHIPS_FROM = dt.date(2021, 1, 1)

# The county code a real identity number carries for people living in a seeded region that is not
# itself a county (cities: a district of the city; the scenic area: the county it lies in).
ID_PREFIXES = {
    "360300": "360302",  # 萍乡市 -> 安源区
    "3603X1": "360323",  # 武功山风景名胜区 (local code) -> 芦溪县
    "450400": "450403",  # 梧州市 -> 万秀区
    "440100": "440106",  # 广州市 -> 天河区
    "510100": "510104",  # 成都市 -> 锦江区
}

E = EmploymentStatus
POST = E.PUBLIC_WELFARE_POST
LOCAL = E.EMPLOYED_LOCAL
OUT_COUNTY = E.EMPLOYED_OUTSIDE_COUNTY
OUT_PROVINCE = E.EMPLOYED_OUTSIDE_PROVINCE
TRAINING = E.IN_TRAINING
SELF = E.SELF_EMPLOYED
FLEXIBLE = E.FLEXIBLE
UNEMPLOYED = E.UNEMPLOYED

POOR = ("lifted_out_of_poverty",)
POOR_RURAL = ("lifted_out_of_poverty", "rural_labour")
AT_RISK = ("at_risk_of_poverty",)
LOW_RURAL = ("rural_low_income", "rural_labour")
DIFFICULTY = ("employment_difficulty",)
NEW_GRADUATE = ("college_graduate_two_years", "college_graduate")
MIGRANT = ("migrant_worker", "rural_labour")

# Where the example people live (codes from seeds/data/regions.yaml) and, for each person, their
# groups, their employment status from MEMBERSHIPS_FROM and, for a few, a recent change of status
# (a move into unemployment opens a follow-up).
PEOPLE: dict[str, list[tuple[tuple[str, ...], str] | tuple[tuple[str, ...], str, str]]] = {
    "360300": [
        (POOR, POST),
        (POOR_RURAL, LOCAL),
        (AT_RISK, POST),
        (POOR, TRAINING),
        (LOW_RURAL, OUT_PROVINCE, UNEMPLOYED),
        (DIFFICULTY, POST),
        (POOR, SELF),
        (("registered_unemployed",), UNEMPLOYED),
    ],
    "3603X1": [
        (POOR, POST),
        (POOR_RURAL, POST),
        (DIFFICULTY, LOCAL, UNEMPLOYED),
        (AT_RISK, POST),
        (POOR, TRAINING),
        (POOR, POST),
        (DIFFICULTY, POST),
    ],
    "450400": [
        (POOR, POST),
        (DIFFICULTY, POST),
        (POOR, SELF),
        (NEW_GRADUATE, LOCAL),
        (DIFFICULTY, LOCAL),
    ],
    "320211": [(("retired_fisherman",), POST), (("veteran",), POST), (DIFFICULTY, LOCAL)],
    "120112": [(("college_graduate",), LOCAL, UNEMPLOYED), (("registered_unemployed",), UNEMPLOYED)],
    "110113901001": [(LOW_RURAL, FLEXIBLE), (POOR_RURAL, LOCAL)],
    "110113": [(MIGRANT, OUT_COUNTY), (LOW_RURAL, FLEXIBLE)],
    "370405": [(("veteran",), LOCAL), (("disabled", "employment_difficulty"), UNEMPLOYED)],
    "130523": [(POOR, LOCAL), (("relocated_poverty_relief",), LOCAL)],
    "130522": [(POOR, OUT_PROVINCE), (POOR_RURAL, FLEXIBLE)],
    "630102": [(POOR, LOCAL), (AT_RISK, FLEXIBLE)],
    "440100": [
        (DIFFICULTY, LOCAL),
        (("registered_unemployed",), LOCAL),
        (("college_graduate_two_years",), LOCAL),
        (("zero_employment_household",), LOCAL),
        (MIGRANT, LOCAL),
        (("hardship_person",), TRAINING),
        (MIGRANT, LOCAL),
    ],
    "530114": [(("college_graduate",), LOCAL)],
    "510100": [(MIGRANT, FLEXIBLE)],
    # Gansu: 城关区 outside the key areas, then 天祝 (一县 of 两州一县) and 临夏市 (in 临夏州).
    "620102": [(POOR, TRAINING), (POOR, OUT_COUNTY), (POOR, LOCAL)],
    "620623": [
        (POOR, OUT_PROVINCE),
        (POOR, TRAINING),
        (POOR_RURAL, LOCAL),
        (("returnee_migrant_entrepreneur", "migrant_worker"), SELF),
    ],
    "622901": [(AT_RISK, OUT_PROVINCE), (POOR, TRAINING)],
}


def seed_beneficiary_groups(actor: Any = None) -> int:
    """All groups from the data file; returns how many there are. Reference data: written by the
    administrator, or with no actor by the seed script itself."""
    groups = load("beneficiary_groups.yaml")["groups"]
    for group in groups:
        beneficiary_group_upsert(
            code=group["code"], name_zh=group["name_zh"], name_en=group["name_en"], actor=actor
        )
    return len(groups)


def id_prefix_for(region_code: str) -> str:
    """The real county code (GB/T 2260) an identity number of someone living in the region carries."""
    return ID_PREFIXES.get(region_code) or id_number_prefix_for_region(region_code)


def _valid_id_number(region_code: str, birth_date: dt.date, seq: int, gender: str, today: dt.date) -> str:
    """A valid number registered in the region's county (see ID_PREFIXES); the seed fails loudly
    rather than fall back to a city or province code no real number carries."""
    number = make_id_number(id_prefix_for(region_code), birth_date, seq, gender)
    try:
        return parse_id_number(number, registered_on=today).number
    except ValidationError as exc:
        raise RuntimeError(f"no valid identity number for {region_code} {birth_date}: {exc}") from exc


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
        stdout.write(_("Beneficiaries: no administrator account; example people skipped.") + "\n")
        return
    rng = random.Random(SEED)
    fake = Faker("zh_CN")
    fake.seed_instance(SEED)
    today = timezone.localdate()
    regions = {r.code: r for r in Region.objects.filter(code__in=PEOPLE)}
    created = 0
    seq = 0
    for code, people in PEOPLE.items():
        region = regions.get(code)
        for spec in people:
            groups, status, *later = spec
            seq += 1
            gender = Gender.FEMALE if seq % 2 else Gender.MALE
            name = fake.name_female() if gender == Gender.FEMALE else fake.name_male()
            birth_date = dt.date(1966, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 35))
            # Every random draw happens before the skip below, so a second run draws the same.
            recent = today - dt.timedelta(days=rng.randrange(1, 60))
            recent_source = rng.choice(list(StatusSource.values))
            if region is None:
                continue
            number = _valid_id_number(code, birth_date, 900 + seq, gender, today)
            existing = beneficiary_by_id_number(id_number=number)
            if existing is not None:
                _backdate_memberships(existing, list(groups), admin)
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
            for _code, group in sorted(groups_by_code(list(groups)).items()):
                membership_add(
                    beneficiary=person, group=group, valid_from=MEMBERSHIPS_FROM, valid_to=None, actor=admin
                )
            created += 1
            # The status since 2021 (verified then, so most people are now due for monitoring); a
            # recent change for a few, and a recent re-verification for every third person.
            status_change_record(
                beneficiary=person,
                actor=admin,
                status=status,
                effective_on=MEMBERSHIPS_FROM,
                source=StatusSource.VISIT,
                employer_or_place=f"{region.name_zh}示例企业" if status != UNEMPLOYED else "",
            )
            if later or seq % 3 == 0:
                status_change_record(
                    beneficiary=person,
                    actor=admin,
                    status=later[0] if later else status,
                    effective_on=recent,
                    source=recent_source,
                )
    stdout.write(
        _("Beneficiaries: %(created)d example people added (%(total)d in total).")
        % {"created": created, "total": Beneficiary.objects.count()}
        + "\n"
    )
