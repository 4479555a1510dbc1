"""The read benchmarks' data set, at the issue's scale times `scale` (1.0: 110,000 people, 200,000
payments, ~420,000 change entries).

Written with the project's tracked bulk helpers (`tracked_bulk_create` inside
`command_context("bench-setup", source=Source.SEED)`), not through the services: the services run
every rule per record, which would take hours at this size. Every row still gets its signed change
entry (version 1, row hash), so the data set is valid for `changes_verify`. The values are chosen to
be consistent with the rules the services enforce (payee region copied onto the payment, a program
issued at or above the payee's region, lifecycle fields filled for each status, a reversing entry
for each reversed payment, the current status denormalised from the latest status change, a
follow-up for each move from employment into unemployment).

Public-welfare posts (1.0: 5,000 posts, 10,000 holdings), appended last so the data before them is
the same as without them: posts in the generated villages, paid by the province's or city's
public-welfare post program, employed by the village committee or by an employer of the county, with
a standard within the program's bounds; holdings by active residents of the post's village (those in
the program's groups first; there are fewer of them than holdings, so the others join the program's
first group the day their holding starts), each person once (one post at a time), within the post's open period and headcount, a chain of holders per
position (ended ones with an end reason, the last one open unless the post is closed), most with a
contract signed before the start and a payee account. The holders' status histories and the
personnel changes the services would write beside a hire are not generated.

Regions: the seeded GB/T 2260 tree plus generated counties (ten under each seeded city), each with
a township and three villages, so a county holds well under 1% of the country. People live in the
villages, spread evenly, so every county has about the same share of people and payments.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

D = decimal.Decimal

PEOPLE = 110_000
PAYMENTS = 200_000
POSTS = 5_000
ASSIGNMENTS = 10_000
COUNTIES_PER_CITY = 10
VILLAGES_PER_COUNTY = 3
CHUNK = 20_000

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥建国建华志强海燕小红春梅金凤德胜卫东永红"
)

EMPLOYED = [
    "employed_local",
    "employed_outside_county",
    "employed_outside_province",
    "flexible",
    "self_employed",
    "public_welfare_post",
]
OTHER_STATUSES = ["in_training", "not_in_labour_force"]
STATUS_SOURCES = ["visit", "phone", "data_match", "self_report"]
PAYMENT_STATUS_WEIGHTS = [
    ("paid", 40),
    ("approved", 14),
    ("submitted", 14),
    ("draft", 10),
    ("rejected", 8),
    ("reversed", 7),
]


@dataclass
class Dataset:
    scale: float
    counts: dict[str, int] = field(default_factory=dict)
    county: Any = None  # the county whose user is timed (a generated one)
    counties: list[Any] = field(default_factory=list)
    users: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _log(message: str) -> None:
    print(f"  data: {message}", file=sys.stderr, flush=True)


def _regions(rnd: random.Random) -> tuple[list[Any], list[Any]]:
    """Generated counties (with a township and villages each) under every seeded city."""
    from tracker.changelog.services import tracked_bulk_create
    from tracker.regions.models import Region

    cities = list(Region.objects.filter(level="city").order_by("code"))
    taken = set(Region.objects.values_list("code", flat=True))
    counties = []
    for city in cities:
        made = 0
        for n in range(50, 100):
            code = f"{city.code[:4]}{n:02d}"
            if code in taken:
                continue
            county = Region(
                code=code,
                name_zh=f"{city.name_zh[:2]}测试{n}县",
                name_en=f"Bench county {code}",
                level="county",
                parent=city,
                path=f"{city.path}{code}/",
                designations=["national_key_county"] if n % 7 == 0 else [],
            )
            counties.append(county)
            made += 1
            if made == COUNTIES_PER_CITY:
                break
    counties = tracked_bulk_create(Region, counties)
    townships = tracked_bulk_create(
        Region,
        [
            Region(
                code=f"{c.code}101",
                name_zh=f"{c.name_zh}城关镇",
                name_en=f"Bench town {c.code}101",
                level="township",
                parent=c,
                path=f"{c.path}{c.code}101/",
            )
            for c in counties
        ],
    )
    villages = tracked_bulk_create(
        Region,
        [
            Region(
                code=f"{t.code}{200 + v:03d}",
                name_zh=f"{t.name_zh}{v + 1}村",
                name_en=f"Bench village {t.code}{200 + v:03d}",
                level="village",
                parent=t,
                path=f"{t.path}{t.code}{200 + v:03d}/",
            )
            for t in townships
            for v in range(VILLAGES_PER_COUNTY)
        ],
    )
    return counties, villages


def _users(data: Dataset) -> None:
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from tracker.accounts.models import User
    from tracker.regions.models import Region

    country = Region.objects.get(code="000000")
    specs = {
        "bench_national": ("analyst", country),
        "bench_county": ("clerk", data.county),
        "bench_clerk": ("clerk", country),
        "bench_reviewer": ("reviewer", country),
    }
    for username, (role, region) in specs.items():
        user = User.objects.create_user(
            username=username, password="bench-pass", region=region, is_staff=True
        )
        user.groups.set(Group.objects.filter(name=role))
        data.users[username] = user
        data.tokens[username] = Token.objects.create(user=user).key


POST_CATEGORIES = [
    ("cleaning", "保洁"),
    ("security", "治安巡逻"),
    ("greening", "绿化管护"),
    ("forest_ranger", "护林"),
    ("water", "水利设施管护"),
    ("other_rural", "乡村公益服务"),
]
END_REASONS = ["resigned", "found_other_job", "term_expired", "dismissed", "other"]


def _posts(
    rnd: random.Random,
    scale: float,
    *,
    villages: list[Any],
    programs: list[Any],
    employers_by_county: dict[int, list[Any]],
    county_of_village: dict[int, Any],
    today: dt.date,
) -> None:
    """Public-welfare posts in the generated villages and their holdings (module docstring)."""
    from beneficiaries.models import Beneficiary, BeneficiaryGroup, GroupMembership
    from programs.posts.models import Assignment, Post
    from programs.posts.payee_accounts import store_account
    from tracker.changelog.services import tracked_bulk_create

    posts_total = max(50, int(POSTS * scale))
    holdings_total = max(100, int(ASSIGNMENTS * scale))
    # The public-welfare post program of the village's city, else of its province.
    post_programs = {p.region.path: p for p in programs if p.kind == "public_welfare_post"}

    def program_for(village: Any) -> Any:
        codes = [code for code in village.path.split("/") if code]
        for n in range(len(codes) - 1, 0, -1):
            found = post_programs.get("/".join(codes[:n]) + "/")
            if found is not None:
                return found
        raise LookupError(f"no public-welfare post program above {village.path}")

    posts = []
    for i in range(posts_total):
        village = villages[(i * 7919) % len(villages)]
        county = county_of_village[village.pk]
        program = program_for(village)
        category, label = POST_CATEGORIES[i % len(POST_CATEGORIES)]
        opened = dt.date(2021, 1, 1) + dt.timedelta(days=rnd.randrange(1400))
        roll = rnd.random()
        status, closed = "open", None
        if roll < 0.08:
            status = "closed"
            closed = min(opened + dt.timedelta(days=rnd.randrange(365, 1100)), today - dt.timedelta(days=1))
        elif roll < 0.15:
            status = "suspended"
        employer = None
        if i % 5 == 4 and employers_by_county.get(county.pk):
            employer = rnd.choice(employers_by_county[county.pk])
        posts.append(
            Post(
                region=village,
                employing_unit="employer" if employer else "village_committee",
                employer=employer,
                category=category,
                urban_rural="rural" if i % 6 else "urban",
                title=f"{village.name_zh}{label}岗{i % 9 + 1}",
                duties=f"负责本村{label}工作" if i % 4 else "",
                headcount=rnd.choices((1, 2, 3), (6, 3, 1))[0],
                monthly_standard=D(rnd.choice((800, 1000, 1200, 1500, 1800))) + D(rnd.choice((0, 50, "0.5"))),
                program=program,
                opened_on=opened,
                closed_on=closed,
                status=status,
                justification=f"{village.name_zh}{label}需要专人负责（因事设岗）",
            )
        )
    posts = tracked_bulk_create(Post, posts)

    # Holders: active residents of the post's village, those in the program's groups first.
    # (Every membership open today began by 2021-01-01, before any post opens.)
    codes_of: dict[int, set[str]] = {}
    for pk, code in GroupMembership.objects.filter(valid_to__isnull=True).values_list(
        "beneficiary_id", "group__code"
    ):
        codes_of.setdefault(pk, set()).add(code)
    pools: dict[int, list[int]] = {}
    for pk, region_id in (
        Beneficiary.objects.filter(active=True).order_by("pk").values_list("pk", "region_id")
    ):
        pools.setdefault(region_id, []).append(pk)
    by_pk = {v.pk: v for v in villages}
    for region_id, pool in pools.items():
        wanted = set(program_for(by_pk[region_id]).eligible_groups)
        rnd.shuffle(pool)
        pool.sort(key=lambda pk: not codes_of.get(pk, set()) & wanted)  # stable: eligible first
        pool.reverse()  # taken with pop(), from the end

    # The posts in random order, so the few left vacant when the holdings run out are spread too.
    holdings = []
    for post in rnd.sample(posts, len(posts)):
        if len(holdings) >= holdings_total:
            break
        pool = pools.get(post.region_id, [])
        last_day = post.closed_on or today - dt.timedelta(days=1)
        for _slot in range(post.headcount):
            count = rnd.choices((0, 1, 2, 3), (5, 60, 25, 10))[0]
            start = post.opened_on + dt.timedelta(days=rnd.randrange(60))
            for n in range(count):
                if len(holdings) >= holdings_total or not pool or start > last_day:
                    break
                last = n == count - 1
                end = None
                if not last or post.closed_on is not None:
                    end = min(start + dt.timedelta(days=rnd.randrange(120, 720)), last_day)
                contract = rnd.random() < 0.85
                kind = ("labour_contract", "service_agreement")[len(holdings) % 2] if contract else ""
                account = rnd.random() < 0.7
                account_kind = ("bank_card", "social_security_card")[len(holdings) % 2] if account else ""
                stored = store_account(f"6217{len(holdings) + 10**14:015d}" if account else "")
                holdings.append(
                    Assignment(
                        post=post,
                        beneficiary_id=pool.pop(),
                        region_id=post.region_id,
                        start_date=start,
                        end_date=end,
                        end_reason=rnd.choice(END_REASONS) if end else "",
                        contract_kind=kind,
                        contract_number=f"GYGW{post.pk:06d}-{n + 1}" if contract else "",
                        contract_signed_on=start - dt.timedelta(days=rnd.randrange(6)) if contract else None,
                        contract_from=start if contract else None,
                        contract_to=start + dt.timedelta(days=364) if contract else None,
                        urban_employee_insured=post.urban_rural == "urban" and rnd.random() < 0.2,
                        payee_account_kind=account_kind,
                        payee_account_encrypted=stored.encrypted,
                        payee_account_hash=stored.hash,
                        payee_account_masked=stored.masked,
                    )
                )
                if end is None:
                    break
                start = end + dt.timedelta(days=1 + rnd.randrange(45))
    tracked_bulk_create(Assignment, holdings)
    # A holder outside the program's groups joins its first group the day the holding starts, as a
    # clerk would record before the hire (the rules admit only the program's groups).
    group_ids = dict(BeneficiaryGroup.objects.values_list("code", "pk"))
    program_of = {post.pk: post.program for post in posts}
    joined: set[int] = set()
    memberships = []
    for holding in sorted(holdings, key=lambda h: h.start_date):
        wanted = program_of[holding.post_id].eligible_groups
        person = holding.beneficiary_id
        if not wanted or codes_of.get(person, set()) & set(wanted) or person in joined:
            continue
        joined.add(person)
        memberships.append(
            GroupMembership(
                beneficiary_id=person, group_id=group_ids[wanted[0]], valid_from=holding.start_date
            )
        )
    tracked_bulk_create(GroupMembership, memberships)
    _log(f"{len(posts):,} posts, {len(holdings):,} holdings, {len(memberships):,} holders joined a group")


def build(scale: float, seed: int = 20211130) -> Dataset:
    """Write the data set; returns what the cases need (users, tokens, the timed county)."""
    from django.db import transaction
    from django.utils import timezone

    from beneficiaries.identity import make_id_number
    from beneficiaries.models import (
        ID_NUMBER_PURPOSE,
        PHONE_PURPOSE,
        Beneficiary,
        BeneficiaryGroup,
        FollowUp,
        GroupMembership,
        StatusChange,
    )
    from programs.funding.models import Employer, FundSource, Payment, Program, TrainingInstitution
    from programs.posts.models import Assignment, Post
    from seeds.beneficiaries import seed_beneficiary_groups
    from seeds.factories.funding import make_uscc
    from tracker.changelog.context import Source, command_context
    from tracker.changelog.entries import ChangeEntry
    from tracker.changelog.services import tracked_bulk_create
    from tracker.pii import encrypt, keyed_hash, mask_id_number, mask_phone
    from tracker.regions.models import Region

    started = time.perf_counter()
    rnd = random.Random(seed)
    data = Dataset(scale=scale)
    people_total = max(200, int(PEOPLE * scale))
    payments_total = max(400, int(PAYMENTS * scale))
    today = timezone.localdate()
    now = timezone.now()

    with command_context("bench-setup", source=Source.SEED), transaction.atomic():
        seed_beneficiary_groups()
        counties, villages = _regions(rnd)
        data.counties = counties
        data.county = counties[len(counties) // 3]
        _users(data)
        clerk, reviewer = data.users["bench_clerk"], data.users["bench_reviewer"]
        groups = list(BeneficiaryGroup.objects.order_by("code"))
        Region.cache_paths(Region.objects.values_list("pk", flat=True))
        regions = {r.pk: r for r in Region.objects.all()}
        county_of_village = {v.pk: regions[regions[v.parent_id].parent_id] for v in villages}

        # Fund sources and programs: a few per province and per city, paying people, employers or
        # training institutions.
        funds = tracked_bulk_create(
            FundSource,
            [
                FundSource(code=f"bench_fund_{n}", name_zh=f"测试资金{n}", name_en=f"Bench fund {n}")
                for n in range(3)
            ],
        )
        issuers = [r for r in regions.values() if r.level in ("province", "city")]
        programs = []
        kinds = [
            ("public_welfare_post", "person", "person_month"),
            ("work_for_training", "employer", "person_month"),
            ("training", "institution", "per_training"),
            ("transport", "person", "one_off"),
            ("social_insurance", "employer", "person_month"),
            ("entrepreneurship", "person", "one_off"),
        ]
        for region in sorted(issuers, key=lambda r: r.code):
            for n, (kind, payee, unit) in enumerate(kinds if region.level == "city" else kinds[:4]):
                programs.append(
                    Program(
                        code=f"R{region.code}_{kind.upper()}_{n}",
                        name_zh=f"{region.name_zh}{kind}补贴",
                        name_en=f"{region.name_en or region.code} {kind} subsidy",
                        region=region,
                        kind=kind,
                        payee_kind=payee,
                        fund_source=funds[n % len(funds)],
                        unit=unit,
                        standard_amount=D(500 + 100 * n),
                        min_amount=D(100),
                        max_amount=D(5000),
                        max_units=6 if unit == "person_month" else None,
                        eligible_groups=[groups[n].code, groups[n + 5].code],
                        valid_from=dt.date(2021, 1, 1),
                        valid_to=dt.date(2026, 12, 31),
                        annual_budget=D(10_000_000),
                        uplifts={"national_key_county": "20"} if n % 2 == 0 else {},
                        policy_reference=f"测试文件〔2021〕{n}号",
                    )
                )
        programs = tracked_bulk_create(Program, programs)
        by_province: dict[str, list[Any]] = {}
        for program in programs:
            province = program.region.path.split("/")[1]
            by_province.setdefault(province, []).append(program)

        # Employers and training institutions in the generated counties.
        employers = tracked_bulk_create(
            Employer,
            [
                Employer(
                    name=f"测试企业{n}有限公司",
                    uscc=make_uscc(counties[n % len(counties)].code, 200_000 + n),
                    region=counties[n % len(counties)],
                    size=("micro", "small", "medium", "large")[n % 4],
                    industry=("manufacturing", "construction", "accommodation_catering", "other")[n % 4],
                )
                for n in range(max(20, people_total // 55))
            ],
        )
        institutions = tracked_bulk_create(
            TrainingInstitution,
            [
                TrainingInstitution(
                    name=f"测试职业培训学校{n}",
                    uscc=make_uscc(counties[n % len(counties)].code, 600_000 + n, kind="52"),
                    region=counties[n % len(counties)],
                )
                for n in range(max(5, people_total // 550))
            ],
        )
        employers_by_county: dict[int, list[Any]] = {}
        for employer in employers:
            employers_by_county.setdefault(employer.region_id, []).append(employer)
        institutions_by_county: dict[int, list[Any]] = {}
        for institution in institutions:
            institutions_by_county.setdefault(institution.region_id, []).append(institution)
        _log(f"{len(counties)} counties, {len(programs)} programs, {len(employers)} employers")

        # People, their groups, status history and follow-ups, in chunks.
        people: list[Any] = []
        for start in range(0, people_total, CHUNK):
            batch = []
            plans = []
            for i in range(start, min(start + CHUNK, people_total)):
                village = villages[i % len(villages)]
                gender = "male" if i % 2 else "female"
                birth = dt.date(1962, 1, 1) + dt.timedelta(days=((i // 500) * 7919) % 13000)
                number = make_id_number(village.code, birth, i, gender)
                phone = f"13{i % 1_000_000_000:09d}"
                history: list[tuple[str, dt.date]] = []
                roll = rnd.random()
                if roll < 0.05:  # employed, then unemployed: a follow-up opens
                    first = dt.date(2021, 3, 1) + dt.timedelta(days=rnd.randrange(600))
                    history = [(rnd.choice(EMPLOYED), first), ("unemployed", first + dt.timedelta(days=200))]
                elif roll < 0.45:
                    history = [
                        (
                            rnd.choice(EMPLOYED + OTHER_STATUSES),
                            dt.date(2021, 1, 1) + dt.timedelta(days=rnd.randrange(1200)),
                        )
                    ]
                active = rnd.random() > 0.02
                batch.append(
                    Beneficiary(
                        name=rnd.choice(SURNAMES) + rnd.choice(GIVEN) + (rnd.choice(GIVEN) if i % 3 else ""),
                        id_number_encrypted=encrypt(number, purpose=ID_NUMBER_PURPOSE),
                        id_number_hash=keyed_hash(number, purpose=ID_NUMBER_PURPOSE),
                        id_number_masked=mask_id_number(number),
                        gender=gender,
                        birth_date=birth,
                        phone_encrypted=encrypt(phone, purpose=PHONE_PURPOSE),
                        phone_hash=keyed_hash(phone, purpose=PHONE_PURPOSE),
                        phone_masked=mask_phone(phone),
                        region=village,
                        address=f"{village.name_zh}{i % 300 + 1}号",
                        willing_to_work=rnd.random() > 0.1,
                        status=history[-1][0] if history else "",
                        status_verified_on=history[-1][1] if history else None,
                        active=active,
                        deactivated_on=None if active else dt.date(2023, 6, 1),
                        deactivation_reason="" if active else "moved_away",
                    )
                )
                plans.append(history)
            created = tracked_bulk_create(Beneficiary, batch)
            memberships = []
            changes = []
            for person, history in zip(created, plans, strict=True):
                roll = rnd.random()
                if roll < 0.40:
                    group = groups[rnd.randrange(len(groups))]
                    memberships.append(
                        GroupMembership(beneficiary=person, group=group, valid_from=dt.date(2021, 1, 1))
                    )
                    if roll < 0.02:  # an older membership that has ended
                        other = groups[(groups.index(group) + 1) % len(groups)]
                        memberships.append(
                            GroupMembership(
                                beneficiary=person,
                                group=other,
                                valid_from=dt.date(2019, 1, 1),
                                valid_to=dt.date(2020, 12, 31),
                            )
                        )
                for status, effective in history:
                    changes.append(
                        StatusChange(
                            beneficiary=person,
                            effective_on=effective,
                            status=status,
                            employer_or_place="测试单位" if status in EMPLOYED else "",
                            source=rnd.choice(STATUS_SOURCES),
                            recorded_by=clerk,
                        )
                    )
            tracked_bulk_create(GroupMembership, memberships)
            changes = tracked_bulk_create(StatusChange, changes)
            follow_ups = []
            for change in changes:
                if change.status != "unemployed":
                    continue
                closed = rnd.random() < 0.4
                follow_ups.append(
                    FollowUp(
                        beneficiary=change.beneficiary,
                        status_change=change,
                        opened_on=change.effective_on,
                        due_on=change.effective_on + dt.timedelta(days=15),
                        status="closed" if closed else "open",
                        service="guidance" if closed else "",
                        service_on=change.effective_on + dt.timedelta(days=5) if closed else None,
                        service_note="已提供职业指导" if closed else "",
                        closed_by=clerk if closed else None,
                    )
                )
            tracked_bulk_create(FollowUp, follow_ups)
            people.extend((p.pk, p.region_id) for p in created)
            _log(f"{len(people):,} people")

        # Payments in every status; each reversed payment gets its reversing entry.
        weights = [w for _, w in PAYMENT_STATUS_WEIGHTS]
        statuses = [s for s, _ in PAYMENT_STATUS_WEIGHTS]
        written = 0
        while written < payments_total:
            batch = []
            for _ in range(min(CHUNK, payments_total - written)):
                person_id, village_id = people[rnd.randrange(len(people))]
                county = county_of_village[village_id]
                province = county.path.split("/")[1]
                program = rnd.choice(by_province[province])
                status = rnd.choices(statuses, weights)[0]
                month = dt.date(2021, 1, 1) + dt.timedelta(days=31 * rnd.randrange(48))
                start = month.replace(day=1)
                end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
                quantity = D(1 if program.unit != "per_training" else rnd.randrange(1, 4))
                unit_amount = program.standard_amount
                payment = Payment(
                    program=program,
                    payee_kind=program.payee_kind,
                    region=regions[village_id],
                    period_start=start,
                    period_end=end,
                    application_date=start,
                    quantity=quantity,
                    unit_amount=unit_amount,
                    amount=(quantity * unit_amount).quantize(D("0.01")),
                    fund_source=program.fund_source,
                    status=status,
                    created_by=clerk,
                    reason="",
                    cause_label="bench" if written % 10 == 0 else "",
                    cause_object_id=str(written) if written % 10 == 0 else "",
                )
                if program.payee_kind == "person":
                    payment.beneficiary_id = person_id
                elif program.payee_kind == "employer":
                    payment.employer = rnd.choice(employers_by_county.get(county.pk) or employers)
                    payment.region = payment.employer.region
                    payment.beneficiary_id = person_id if rnd.random() < 0.5 else None
                else:
                    payment.institution = rnd.choice(institutions_by_county.get(county.pk) or institutions)
                    payment.region = payment.institution.region
                    payment.beneficiary_id = person_id
                if status != "draft":
                    payment.submitted_by, payment.submitted_at = clerk, now - dt.timedelta(days=30)
                if status in ("approved", "rejected", "paid", "reversed"):
                    payment.approved_by, payment.approved_at = reviewer, now - dt.timedelta(days=20)
                if status == "rejected":
                    payment.rejection_reason = "材料不全"
                if status in ("paid", "reversed"):
                    payment.paid_by, payment.paid_at = reviewer, now - dt.timedelta(days=10)
                    payment.external_reference = f"BANK{written:08d}"
                batch.append(payment)
                written += 1
            created = tracked_bulk_create(Payment, batch)
            reversals = [
                Payment(
                    program_id=p.program_id,
                    payee_kind=p.payee_kind,
                    beneficiary_id=p.beneficiary_id,
                    employer_id=p.employer_id,
                    institution_id=p.institution_id,
                    region_id=p.region_id,
                    period_start=p.period_start,
                    period_end=p.period_end,
                    application_date=p.application_date,
                    quantity=-p.quantity,
                    unit_amount=p.unit_amount,
                    amount=-p.amount,
                    fund_source_id=p.fund_source_id,
                    status="reversal",
                    created_by=reviewer,
                    reason="重复发放，冲正",
                    reverses=p,
                )
                for p in created
                if p.status == "reversed"
            ][: payments_total - written]
            if reversals:
                tracked_bulk_create(Payment, reversals)
                written += len(reversals)
            _log(f"{written:,} payments")

        _posts(
            random.Random(seed + 1),
            scale,
            villages=villages,
            programs=programs,
            employers_by_county=employers_by_county,
            county_of_village=county_of_village,
            today=today,
        )

    data.counts = {
        "regions": Region.objects.count(),
        "people": Beneficiary.objects.count(),
        "memberships": GroupMembership.objects.count(),
        "status_changes": StatusChange.objects.count(),
        "follow_ups": FollowUp.objects.count(),
        "programs": Program.objects.count(),
        "payments": Payment.objects.count(),
        "change_entries": ChangeEntry.objects.count(),
        "county_payments": Payment.objects.filter(region__path__startswith=data.county.path).count(),
        "county_people": Beneficiary.objects.filter(region__path__startswith=data.county.path).count(),
        "posts": Post.objects.count(),
        "post_assignments": Assignment.objects.count(),
    }
    data.seconds = time.perf_counter() - started
    _log(f"built in {data.seconds:.0f} s: {data.counts}")
    _ = today
    return data
