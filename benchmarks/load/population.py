"""The load run's people and staff, on top of `manage.py seed`: a county's worth of people in 萍乡市
(all in the groups and the status that Jiangxi's rural public-welfare post subsidy pays), one account
per simulated clerk, reviewer and analyst with a token, and the ids the load generator works on,
written as JSON for it.

Everything is written through the services (people, groups, statuses) by the administrator, as the
seed writes, so the change log holds a signed entry for every row before the load starts. Run in the
load database's environment: `python -m benchmarks.load.population OUT.json --people N ...`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

PROGRAM = "JX_RURAL_PUBLIC_WELFARE_POST"  # 600 yuan a person-month, no budget cap, Jiangxi-wide
HOME = "360300"  # 萍乡市
SINCE = dt.date(2021, 1, 1)


def build(*, people: int, clerks: int, reviewers: int, analysts: int) -> dict[str, Any]:
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from faker import Faker
    from rest_framework.authtoken.models import Token

    from beneficiaries.choices import EmploymentStatus, Gender, StatusSource
    from beneficiaries.models import Beneficiary
    from beneficiaries.services import (
        beneficiary_create,
        groups_by_code,
        membership_add,
        status_change_record,
    )
    from programs.funding.models import Payment, Program
    from seeds.beneficiaries import _valid_id_number
    from tracker.accounts.choices import Role
    from tracker.accounts.models import User
    from tracker.changelog.context import Source, command_context
    from tracker.regions.models import Region

    admin = User.objects.filter(is_superuser=True).order_by("id").first()
    home = Region.objects.get(code=HOME)
    # The people live in the city's counties, townships and villages, as a bureau's registry does.
    places = list(Region.objects.filter(path__startswith=home.path).exclude(pk=home.pk).order_by("code"))
    places = places or [home]
    today = timezone.localdate()
    group = groups_by_code(["lifted_out_of_poverty"])["lifted_out_of_poverty"]
    fake = Faker("zh_CN")
    fake.seed_instance(20211401)
    with command_context("load-setup", source=Source.SEED):
        for n in range(people):
            place = places[n % len(places)]
            gender = Gender.FEMALE if n % 2 else Gender.MALE
            birth = dt.date(1970, 1, 1) + dt.timedelta(days=(n * 37) % (365 * 30))
            number = _valid_id_number(place.code, birth, n % 999 + 1, gender, today)
            person = beneficiary_create(
                actor=admin,
                name=fake.name_female() if gender == Gender.FEMALE else fake.name_male(),
                id_number=number,
                region=place,
                phone=f"1380000{n:04d}",
                address=f"{place.name_zh}测试路{n}号",
                willing_to_work=True,
                notes="负载测试（虚构人员）",
            )
            membership_add(beneficiary=person, group=group, valid_from=SINCE, valid_to=None, actor=admin)
            status_change_record(
                beneficiary=person,
                actor=admin,
                status=EmploymentStatus.PUBLIC_WELFARE_POST,
                effective_on=SINCE,
                source=StatusSource.VISIT,
                employer_or_place=f"{place.name_zh}公益性岗位",
            )

        def account(username: str, role: str, region: Region) -> dict[str, Any]:
            user = User.objects.create_user(username=username, password=None, region=region, is_staff=True)
            user.groups.set(Group.objects.filter(name=role))
            return {"username": username, "token": Token.objects.create(user=user).key}

        staff = {
            "clerks": [account(f"load_clerk_{i:02d}", Role.CLERK, home) for i in range(clerks)],
            "reviewers": [account(f"load_reviewer_{i:02d}", Role.REVIEWER, home) for i in range(reviewers)],
            "analysts": [
                account(f"load_analyst_{i:02d}", Role.ANALYST, Region.objects.get(code="000000"))
                for i in range(analysts)
            ],
        }
    ids = list(
        Beneficiary.objects.within(home.path)
        .filter(notes="负载测试（虚构人员）")
        .order_by("id")
        .values_list("id", flat=True)
    )
    program = Program.objects.get(code=PROGRAM)
    return {
        **staff,
        "program": {"id": program.pk, "code": program.code},
        # Half the people are only ever paid (their status stays what the program needs), the other
        # half only change status (and so get follow-ups): no write refuses another by accident.
        "paid_people": ids[0::2],
        "moving_people": ids[1::2],
        "all_people": list(Beneficiary.objects.within(home.path).order_by("id").values_list("id", flat=True)),
        "payments": list(Payment.objects.within(home.path).order_by("id").values_list("id", flat=True)),
        "places": [r.code for r in places[:50]],
        "counties": [r.code for r in places if r.level == "county"][:10] or [HOME],
        "today": today.isoformat(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--people", type=int, default=600)
    parser.add_argument("--clerks", type=int, default=16)
    parser.add_argument("--reviewers", type=int, default=2)
    parser.add_argument("--analysts", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()
    plan = build(people=args.people, clerks=args.clerks, reviewers=args.reviewers, analysts=args.analysts)
    args.out.write_text(json.dumps(plan, ensure_ascii=False, indent=1))
    print(
        f"load population: {len(plan['all_people'])} people in {HOME}, {len(plan['clerks'])} clerks",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
