"""Seed step: public-welfare posts (seeds/data/posts.yaml), their holders, contracts, attendance,
assessments, personnel changes and the monthly subsidy runs that pay them.

- Wugongshan (萍乡武功山风景名胜区): the villages' posts with the problems an inspection of the
  five items (post setting, labour contracts, attendance and assessment, subsidy payment,
  personnel changes) must find: a holder without a contract, a month without attendance, a holder
  who left but was still paid for the month after, and a change reported late. Its people carry
  identity numbers of real counties (芦溪县 360323 mostly), not the city's.
- Wuxi Binhu: 158 positions of cleaning, security and greening posts, and the Lake Tai algae-
  salvage team of 27 retired fishermen beside them.
- Xingtai: posts for 9,775 poverty-relief labourers (holders scaled by the data file's factor).
- Fujian: rural posts in one county, under that county's urban post standard.

Post subsidies are paid only by the subsidy runs, to people holding a post in the month (the
funding seed no longer seeds free-standing post-subsidy payments). Everything goes through the
services with real actors: the region's demo clerk and reviewer where there are some (萍乡), the
administrator elsewhere (who, being the runs' maker, never approves them: those stay submitted).

Idempotent: each region's block is written in one transaction and skipped when its first post
exists. Deterministic: no randomness but Faker with a fixed seed for names. `factor` scales the
holders (the positions are seeded as the document gives them), for the reports issue to seed the
full numbers.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from faker import Faker

from beneficiaries.choices import Gender, StatusSource
from beneficiaries.identity import make_id_number, parse_id_number
from beneficiaries.models import Beneficiary
from beneficiaries.selectors import beneficiary_by_id_number
from beneficiaries.services import beneficiary_create, groups_by_code, membership_add, status_change_record
from programs.funding import services as ledger
from programs.funding.models import Employer, Payment, Program
from programs.posts import services
from programs.posts.choices import EmployingUnit, PersonnelChangeStatus
from programs.posts.models import Assignment, PersonnelChange, Post, PostStandard
from programs.posts.rules import working_days
from programs.posts.selectors import held_in
from seeds.data_files import load
from seeds.factories.funding import make_uscc
from tracker.accounts.models import User
from tracker.periods import Month
from tracker.regions.models import Region

SEED = 20210816
D = decimal.Decimal
# The people are in their groups, and out of work, from before their posts opened.
GROUPS_FROM = dt.date(2020, 1, 1)
UNEMPLOYED_FROM = dt.date(2020, 12, 1)


def scaled(count: int, factor: float, minimum: int) -> int:
    """Holders to seed for `count` in the document: count × factor, half up, at least `minimum`
    (and never more than the document's count)."""
    wanted = int(D(str(count)) * D(str(factor)) + D("0.5"))
    return min(count, max(minimum, wanted))


def apportioned(counts: list[int], factor: Any, minimums: list[int]) -> list[int]:
    """Holders per post so that together they are round(factor × the document's total), half up
    (largest remainders first, ties in order), each at least its minimum and at most its count: the
    reports read the region's total, which per-post rounding would miss by a few."""
    exact = [D(str(c)) * D(str(factor)) for c in counts]
    total = int(sum(exact) + D("0.5"))
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: -(exact[i] - shares[i]))
    for i in by_remainder[: max(0, total - sum(shares))]:
        shares[i] += 1
    return [min(c, max(m, s)) for c, m, s in zip(counts, minimums, shares, strict=True)]


def _months(first: str, last: str) -> list[Month]:
    month, end = Month.parse(first), Month.parse(last)
    out = []
    while month <= end:
        out.append(month)
        month = Month.of(month.last_day + dt.timedelta(days=1))
    return out


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _user_for(path: str, role: str, admin: User, *, not_user: User | None = None) -> User:
    """The region's demo user with the role (the first by username), else the administrator."""
    for user in User.objects.filter(is_active=True, is_superuser=False).order_by("username"):
        scope = user.scope_path
        if scope and path.startswith(scope) and user.has_role(role) and user != not_user:
            return user
    return admin


@dataclass
class People:
    """Made-up people with valid identity numbers of given county prefixes, created (or found, on a
    second run) through the registry's services."""

    admin: User
    faker: Faker
    serial: int = 0
    created: int = 0
    base_birth: dt.date = dt.date(1964, 1, 1)
    bulk: Any = None  # seeds.factories.people.BulkPeople, made when a post has many holders

    def make(self, *, region: Region, prefix: str, groups: list[str], actor: User) -> Beneficiary:
        self.serial += 1
        n = self.serial
        gender = Gender.FEMALE if n % 2 else Gender.MALE
        name = self.faker.name_female() if gender == Gender.FEMALE else self.faker.name_male()
        # 500 order codes per birth date and gender: every number is distinct, and born in
        # 1964-65, before any person of the beneficiaries seed (from 1966).
        birth = self.base_birth + dt.timedelta(days=n // 500)
        number = make_id_number(prefix, birth, n % 500, gender)
        parse_id_number(number, registered_on=timezone.localdate())  # fails loudly on a bad prefix
        existing = beneficiary_by_id_number(id_number=number)
        if existing is not None:
            return existing
        person = beneficiary_create(
            actor=actor,
            name=name,
            id_number=number,
            region=region,
            phone=f"1370000{n % 10000:04d}",
            address=f"{region.name_zh}{n}号",
            notes="示例数据（虚构人员）",
        )
        for _code, group in sorted(groups_by_code(groups).items()):
            membership_add(
                beneficiary=person, group=group, valid_from=GROUPS_FROM, valid_to=None, actor=actor
            )
        status_change_record(
            beneficiary=person,
            actor=actor,
            status="unemployed",
            effective_on=UNEMPLOYED_FROM,
            source=StatusSource.VISIT,
        )
        self.created += 1
        return person


def _account(n: int) -> str:
    """A made-up bank card number (19 digits, an issuer prefix of the agricultural banks' range)."""
    return f"62284800{n:011d}"


@dataclass
class Block:
    """One region's posts: what the run of each month needs to know."""

    clerk: User
    reviewer: User
    run_region: Region
    posts: list[Post] = field(default_factory=list)
    skip_attendance: set[tuple[int, str]] = field(default_factory=set)
    unqualified: set[tuple[int, str]] = field(default_factory=set)


def _hire(
    block: Block,
    post: Post,
    person: Beneficiary,
    start: dt.date,
    *,
    contract: str | None,
    serial: int,
    reported_on: dt.date | None = None,
) -> Assignment:
    holding: dict[str, Any] = {"payee_account_kind": "bank_card", "payee_account": _account(serial)}
    if contract:
        holding.update(
            contract_kind=contract,
            contract_number=f"{post.region.code}-{start:%Y}-{serial:04d}",
            contract_signed_on=start,
            contract_from=start,
            contract_to=dt.date(start.year, 12, 31),
        )
    return services.assignment_hire(
        actor=block.clerk,
        post=post,
        beneficiary=person,
        start_date=start,
        reported_on=reported_on or start,
        reason="示例：上岗（种子数据）",
        **holding,
    )


def _month_of_work(block: Block, month: Month, run_day: int, *, assess: bool) -> None:
    """A month of the block: the roster's attendance (weekdays held, one day of paid leave for every
    third holder), the assessments, the subsidy run on `run_day` of the next month."""
    run_on = Month.of(month.last_day + dt.timedelta(days=1)).first_day.replace(day=run_day)
    required = working_days(month)
    for post in block.posts:
        holders = list(Assignment.objects.filter(held_in(month), post=post).order_by("id"))
        rows = []
        for index, holder in enumerate(holders):
            if (holder.pk, str(month)) in block.skip_attendance:
                continue
            first = max(month.first_day, holder.start_date)
            last = min(month.last_day, holder.end_date or month.last_day)
            held = sum(
                1 for n in range((last - first).days + 1) if (first + dt.timedelta(days=n)).weekday() < 5
            )
            leave = 1 if index % 3 == 1 and held > 1 else 0
            rows.append(services.AttendanceRow(holder, required, held - leave, leave))
        if rows:
            services.attendance_bulk_upsert(actor=block.clerk, month=month, rows=rows)
        if assess:
            for index, holder in enumerate(holders):
                rating = (
                    "unqualified"
                    if (holder.pk, str(month)) in block.unqualified
                    else ("excellent" if index == 0 else "qualified")
                )
                services.assessment_create(
                    actor=block.clerk,
                    assignment=holder,
                    period_kind="month",
                    period=str(month),
                    rating=rating,
                )
    services.subsidy_run_create(actor=block.clerk, region=block.run_region, month=month, today=run_on)


def _review(block: Block, month: Month) -> None:
    """The reviewer approves and pays the month's submitted post subsidies (where the reviewer is not
    the clerk who ran them)."""
    if block.reviewer == block.clerk:
        return
    submitted = list(
        Payment.objects.filter(
            cause_label="posts.assignment",
            status="submitted",
            period_start__gte=month.first_day,
            period_end__lte=month.last_day,
            region_path__startswith=block.run_region.path,
        ).order_by("id")
    )
    if not submitted:
        return
    approved = ledger.payments_approve_batch(payments=submitted, actor=block.reviewer)
    for payment in approved:
        ledger.payment_mark_paid(
            payment=payment, actor=block.reviewer, external_reference=f"SEED-POST-{payment.pk:06d}"
        )


def _post(
    block: Block,
    *,
    program: Program,
    region: Region,
    item: dict[str, Any],
    defaults: dict[str, Any],
    employer: Employer | None = None,
) -> Post:
    values = {**defaults, **item}
    return services.post_create(
        actor=block.clerk,
        fields={
            "region": region,
            "employing_unit": EmployingUnit.EMPLOYER if employer else EmployingUnit.VILLAGE_COMMITTEE,
            "employer": employer,
            "category": values["category"],
            "urban_rural": values["urban_rural"],
            "title": values["title"],
            "duties": values.get("duties", ""),
            "headcount": values["headcount"],
            "monthly_standard": D(str(values["monthly_standard"])),
            "program": program,
            "opened_on": _date(values["opened_on"]),
            "justification": values["justification"],
        },
    )


def _seeded(program: Program, title: str) -> bool:
    return Post.objects.filter(program=program, title=title).exists()


def _standard(item: dict[str, Any], reviewer: User) -> None:
    region = Region.objects.get(code=item["region"])
    if PostStandard.objects.filter(region=region, year=item["year"]).exists():
        return
    services.post_standard_create(
        actor=reviewer,
        region=region,
        year=item["year"],
        urban_standard=D(str(item["urban_standard"])),
        policy_reference=item.get("policy_reference") or "",
        notes=(item.get("assumption") or "").strip(),
    )


# -- Wugongshan ---------------------------------------------------------------------------------------


def seed_wugongshan(data: dict[str, Any], admin: User, people: People) -> int:
    """The villages of the Wugongshan scenic area, with the problems the inspection must find."""
    program = Program.objects.get(code=data["program"])
    if _seeded(program, data["posts"][0]["title"]):
        return 0
    run_region = Region.objects.get(code=data["run_region"])
    clerk = _user_for(run_region.path, "clerk", admin)
    block = Block(
        clerk=clerk,
        reviewer=_user_for(run_region.path, "reviewer", admin, not_user=clerk),
        run_region=run_region,
    )
    _standard(data["standard"], block.reviewer)
    for item in data["assessment_standards"]:
        services.assessment_standard_create(
            actor=clerk,
            region=Region.objects.get(code=item["region"]),
            effective_from=_date(item["effective_from"]),
            title=item["title"],
            text=item["text"],
        )
    prefixes = data["id_prefixes"]
    events: dict[str, list[Any]] = {}
    serial = 0
    for item in data["posts"]:
        region = Region.objects.get(code=item["region"])
        post = _post(block, program=program, region=region, item=item, defaults={})
        block.posts.append(post)
        for spec in item["holders"]:
            serial += 1
            person = people.make(
                region=region,
                prefix=prefixes[serial % len(prefixes)],
                groups=data["people_groups"],
                actor=clerk,
            )
            holder = _hire(
                block, post, person, _date(spec["start"]), contract=spec.get("contract"), serial=serial
            )
            if spec.get("gap") == "no_attendance":
                block.skip_attendance.add((holder.pk, spec["month"]))
            if spec.get("unqualified"):
                block.unqualified.add((holder.pk, spec["unqualified"]))
            if spec.get("replaced_on"):
                last = _date(spec["replaced_on"])
                events.setdefault(str(Month.of(last + dt.timedelta(days=1))), []).append(
                    ("replace", holder, spec, region)
                )
            if spec.get("gap") == "paid_after_leaving":
                events.setdefault(str(Month.of(_date(spec["reported_on"]))), []).append(
                    ("end", holder, spec, region)
                )
    months = _months(data["first_month"], data["last_month"])
    reviewed_until = Month.parse(data["reviewed_until"])
    for month in months:
        for kind, holder, spec, region in events.get(str(month), []):
            if kind == "replace":
                serial += 1
                successor = people.make(
                    region=region,
                    prefix=prefixes[serial % len(prefixes)],
                    groups=data["people_groups"],
                    actor=clerk,
                )
                end = _date(spec["replaced_on"])
                services.assignment_replace(
                    assignment=holder,
                    actor=clerk,
                    end_date=end,
                    end_reason="resigned",
                    successor=successor,
                    reported_on=_date(spec["reported_on"]),
                    reason="示例：原岗位人员辞职，补录新人员（种子数据）",
                    contract_kind="labour_contract",
                    contract_number=f"{region.code}-2021-{serial:04d}",
                    contract_signed_on=end,
                    contract_from=end + dt.timedelta(days=1),
                    contract_to=dt.date(2021, 12, 31),
                    payee_account_kind="bank_card",
                    payee_account=_account(serial),
                )
            else:
                # Reported only now, after the month after the last day was paid: the gap.
                services.assignment_end(
                    assignment=holder,
                    actor=clerk,
                    end_date=_date(spec["left_on"]),
                    end_reason=spec["end_reason"],
                    status=spec["status"],
                    reported_on=_date(spec["reported_on"]),
                    reason="示例：已到县城务工，村里迟报（种子数据）",
                )
        _month_of_work(block, month, data["run_day"], assess=True)
        if month <= reviewed_until:
            _review(block, month)
    # The township reviews the changes reported in time; the late one waits (a finding too).
    if block.reviewer != clerk:
        for change in PersonnelChange.objects.filter(
            post__in=block.posts, late=False, status=PersonnelChangeStatus.REPORTED
        ).order_by("id"):
            services.personnel_change_approve(change=change, actor=block.reviewer)
    return len(block.posts)


# -- Binhu, Xingtai, Fujian ------------------------------------------------------------------------------


# Holders beyond this many per post are written in bulk (people, holdings, personnel changes, status
# histories) instead of one hire at a time: the full Xingtai figure is 9,775 holders, which the hire
# service (every rule checked against the post's and the person's other holdings) takes hours for.
# The first ones still go through the services, as examples of every rule applied.
HIRED_THROUGH_SERVICES = 5
BULK_NOTES = "示例数据（虚构人员，公益性岗位批量）"


def _holders(
    block: Block,
    post: Post,
    count: int,
    *,
    prefix: str,
    groups: list[str],
    people: People,
    serial: Iterator[int],
) -> None:
    for _ in range(min(count, HIRED_THROUGH_SERVICES)):
        n = next(serial)
        person = people.make(region=post.region, prefix=prefix, groups=groups, actor=block.clerk)
        _hire(block, post, person, post.opened_on, contract="labour_contract", serial=n)
    if count > HIRED_THROUGH_SERVICES:
        _bulk_holders(
            block,
            post,
            count - HIRED_THROUGH_SERVICES,
            prefix=prefix,
            groups=groups,
            people=people,
            serial=serial,
        )


def _bulk_holders(
    block: Block,
    post: Post,
    count: int,
    *,
    prefix: str,
    groups: list[str],
    people: People,
    serial: Iterator[int],
) -> None:
    """The holders a hire would write, in bulk: the people (out of work from UNEMPLOYED_FROM, in the
    post from its opening), their holdings with a labour contract and a bank card, and a hire
    reported on the day. Every rule the hire service checks holds by construction: the groups are the
    program's, each person is new (one post at a time), the count is within the headcount."""
    from beneficiaries.choices import EmploymentStatus
    from beneficiaries.models import BeneficiaryGroup
    from programs.posts.choices import PersonnelChangeKind
    from programs.posts.payee_accounts import store_account
    from seeds.factories.people import BulkPeople, Person
    from tracker.changelog.context import acting
    from tracker.changelog.services import tracked_bulk_create

    if people.bulk is None:
        people.bulk = BulkPeople.continuing(people.faker, birth_base=dt.date(1950, 1, 1), notes=BULK_NOTES)
    start = post.opened_on
    group_rows = {g.code: g for g in BeneficiaryGroup.objects.filter(code__in=groups)}
    with acting(block.clerk):
        holders = people.bulk.create(
            [
                Person(
                    post.region,
                    [
                        (EmploymentStatus.UNEMPLOYED, UNEMPLOYED_FROM),
                        (EmploymentStatus.PUBLIC_WELFARE_POST, start),
                    ],
                    groups,
                    since=GROUPS_FROM,
                    prefix=prefix,
                )
                for _ in range(count)
            ],
            group_rows,
        )
        holdings = []
        for person in holders:
            n = next(serial)
            stored = store_account(_account(n))
            holdings.append(
                Assignment(
                    post=post,
                    beneficiary=person,
                    region_id=post.region_id,
                    start_date=start,
                    contract_kind="labour_contract",
                    contract_number=f"{post.region.code}-{start:%Y}-{n:05d}",
                    contract_signed_on=start,
                    contract_from=start,
                    contract_to=dt.date(start.year, 12, 31),
                    payee_account_kind="bank_card",
                    payee_account_encrypted=stored.encrypted,
                    payee_account_hash=stored.hash,
                    payee_account_masked=stored.masked,
                )
            )
    with acting(block.clerk, action="hire"):
        holdings = tracked_bulk_create(Assignment, holdings)
    with acting(block.clerk, reason="示例：上岗（种子数据）"):
        tracked_bulk_create(
            PersonnelChange,
            [
                PersonnelChange(
                    kind=PersonnelChangeKind.HIRE,
                    post=post,
                    region_id=post.region_id,
                    assignment=holding,
                    effective_on=start,
                    reported_on=start,
                    late=False,
                    reason="示例：上岗（种子数据）",
                    reported_by=block.clerk,
                )
                for holding in holdings
            ],
        )
    people.created += len(holders)


def _counter(start: int) -> Iterator[int]:
    n = start
    while True:
        n += 1
        yield n


def seed_binhu(data: dict[str, Any], admin: User, people: People, factor: float) -> int:
    program = Program.objects.get(code=data["program"])
    if _seeded(program, data["posts"][0]["title"]):
        return 0
    run_region = Region.objects.get(code=data["run_region"])
    block = Block(clerk=_user_for(run_region.path, "clerk", admin), reviewer=admin, run_region=run_region)
    employers: dict[str, Employer] = {}
    for item in data["employers"]:
        uscc = make_uscc(run_region.code, item["serial"])
        employers[item["key"]] = Employer.objects.filter(uscc=uscc).first() or ledger.employer_create(
            actor=block.clerk,
            name=item["name"],
            uscc=uscc,
            region=run_region,
            size=item["size"],
            industry=item["industry"],
        )
    serial = _counter(1000)
    for item in data["posts"]:
        post = _post(
            block,
            program=program,
            region=run_region,
            item=item,
            defaults={},
            employer=employers[item["employer"]],
        )
        block.posts.append(post)
        count = scaled(item["holders"], factor, item["min_holders"])
        _holders(
            block, post, count, prefix=data["id_prefix"], groups=item["groups"], people=people, serial=serial
        )
    for month in _months(data["first_month"], data["last_month"]):
        _month_of_work(block, month, data["run_day"], assess=False)
    return len(block.posts)


def seed_xingtai(data: dict[str, Any], admin: User, people: People, factor: float) -> int:
    program = Program.objects.get(code=data["program"])
    if _seeded(program, data["posts"][0]["title"]):
        return 0
    run_region = Region.objects.get(code=data["run_region"])
    block = Block(clerk=_user_for(run_region.path, "clerk", admin), reviewer=admin, run_region=run_region)
    serial = _counter(2000)
    defaults = data["defaults"]
    counts = apportioned(
        [i["holders"] for i in data["posts"]], factor, [i["min_holders"] for i in data["posts"]]
    )
    for item, count in zip(data["posts"], counts, strict=True):
        region = Region.objects.get(code=item["region"])
        post = _post(block, program=program, region=region, item=item, defaults=defaults)
        block.posts.append(post)
        _holders(
            block,
            post,
            count,
            prefix=item["id_prefix"],
            groups=defaults["groups"],
            people=people,
            serial=serial,
        )
    for month in _months(data["first_month"], data["last_month"]):
        _month_of_work(block, month, data["run_day"], assess=False)
    return len(block.posts)


def seed_fujian(data: dict[str, Any], admin: User, people: People, factor: float) -> int:
    program = Program.objects.get(code=data["program"])
    if _seeded(program, data["posts"][0]["title"]):
        return 0
    run_region = Region.objects.get(code=data["run_region"])
    block = Block(clerk=_user_for(run_region.path, "clerk", admin), reviewer=admin, run_region=run_region)
    _standard(data["standard"], block.clerk)
    serial = _counter(3000)
    defaults = data["defaults"]
    for item in data["posts"]:
        region = Region.objects.get(code=item["region"])
        post = _post(block, program=program, region=region, item=item, defaults=defaults)
        block.posts.append(post)
        count = scaled(item["holders"], factor, item["min_holders"])
        _holders(
            block,
            post,
            count,
            prefix=data["id_prefix"],
            groups=defaults["groups"],
            people=people,
            serial=serial,
        )
    for month in _months(data["first_month"], data["last_month"]):
        _month_of_work(block, month, data["run_day"], assess=False)
    return len(block.posts)


def seed_posts(stdout: Any, *, factor: float | None = None) -> None:
    """All four blocks. `factor` scales the holders (default: the data file's, small for `make run`;
    1 seeds the document's full numbers)."""
    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if admin is None:
        stdout.write("posts: no administrator account; skipped\n")
        return
    data = load("posts.yaml")
    factor = data["factor"] if factor is None else factor
    faker = Faker("zh_CN")
    faker.seed_instance(SEED)
    people = People(admin=admin, faker=faker)
    posts = 0
    with transaction.atomic():
        posts += seed_wugongshan(data["wugongshan"], admin, people)
    for name, step in (("binhu", seed_binhu), ("xingtai", seed_xingtai), ("fujian", seed_fujian)):
        with transaction.atomic():
            posts += step(data[name], admin, people, factor)
    stdout.write(f"posts: {posts} posts, {people.created} holders added\n")
