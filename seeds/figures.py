"""Seed step: the records behind the published figures the audit reports reproduce
(seeds/data/figures.yaml): Xingtai's labourers and relocated households, Tianjin's re-employment and
cleared zero-employment households, Jinnan's registrations, entrepreneurs, guaranteed loans and the
district's interest subsidy, Wuzhou's allocations, Zhangjiakou's training person-times and the
targets. At scale S every count is round(S × figure), half up.

Fast at full scale: people, memberships, status changes, households, vouchers, businesses and
entrepreneurs are written with tracked_bulk_create (bulk change entries, COPY on PostgreSQL);
registrations and loans through their services' batch paths; the interest subsidy through the
ledger's batch path; allocations and targets (a handful) one by one through their services.
Top-up, so idempotent and exact: each block counts what is already there (other steps seed some of
the same people) and adds only the difference. Deterministic: Faker with a fixed seed, no other
randomness; identity numbers of people born 1957-1963 (no other seed uses those years).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from faker import Faker
from tqdm import tqdm

from beneficiaries.choices import EMPLOYED_STATUSES, HouseholdRelation, RegistrationKind
from beneficiaries.models import (
    Beneficiary,
    BeneficiaryGroup,
    EmploymentRegistration,
    Household,
    HouseholdMember,
)
from beneficiaries.reemployment import difficulty_employment_changes, reemployment_changes
from beneficiaries.registrations import registrations_create_batch
from programs.entrepreneurship.choices import EntrepreneurKind, GovernmentLevel
from programs.entrepreneurship.models import Entrepreneur, GuaranteedLoan, InterestSubsidy
from programs.entrepreneurship.services import build_entrepreneur, interest_subsidies_pay, loans_create_batch
from programs.funding import services as funding
from programs.funding.allocations import allocation_create
from programs.funding.choices import EmployerSize
from programs.funding.models import Allocation, Employer, FundSource, Program
from programs.targets.models import Target
from programs.targets.services import target_create
from programs.vouchers.codes import ALPHABET, BODY_LENGTH, check_character
from programs.vouchers.models import Voucher, VoucherPlan, VoucherType
from seeds.data_files import load
from seeds.factories.funding import make_uscc
from seeds.factories.people import BulkPeople, Person
from tracker.accounts.models import User
from tracker.changelog.context import acting
from tracker.changelog.services import tracked_bulk_create
from tracker.regions.models import Region

D = decimal.Decimal
FAKER_SEED = 20210820
BIRTH_BASE = dt.date(1957, 1, 1)
BEFORE = dt.date(2020, 12, 1)  # out of work (or of the labour force) from this day, before 2021
CENT = D("0.01")


def scaled(figure: int | str | D, scale: D) -> int:
    """round(S × figure), half up."""
    return int((D(str(figure)) * scale).quantize(D(1), rounding=decimal.ROUND_HALF_UP))


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def spread_dates(start: dt.date, end: dt.date, count: int) -> Iterator[dt.date]:
    """`count` dates cycling through [start, end] (weekdays and weekends alike)."""
    days = (end - start).days + 1
    for i in range(count):
        yield start + dt.timedelta(days=(i * 7) % days)


@dataclass
class Context:
    admin: User
    scale: D
    data: dict[str, Any]
    people: BulkPeople
    groups: dict[str, BeneficiaryGroup]
    out: Any

    def region(self, code: str) -> Region:
        return Region.objects.get(code=code)


def _households(
    ctx: Context, region: Region, members: Sequence[Sequence[Beneficiary]], *, prefix: str, **flags: Any
) -> int:
    households = [
        Household(
            number=f"{prefix}{i + 1:06d}",
            head_name=group[0].name,
            region=region,
            address=group[0].address,
            **flags,
        )
        for i, group in enumerate(members)
    ]
    created = tracked_bulk_create(Household, households)
    rows = [
        HouseholdMember(
            household=h, beneficiary=p, relation=HouseholdRelation.HEAD if j == 0 else HouseholdRelation.OTHER
        )
        for h, group in zip(created, members, strict=True)
        for j, p in enumerate(group)
    ]
    tracked_bulk_create(HouseholdMember, rows)
    return len(created)


# -- the blocks ----------------------------------------------------------------------------------------


def seed_xingtai(ctx: Context) -> str:
    data = ctx.data["xingtai"]
    city = ctx.region(data["region"])
    wanted = scaled(data["labourers"]["value"], ctx.scale)
    have = (
        Beneficiary.objects.filter(
            region_path__startswith=city.path,
            willing_to_work=True,
            memberships__group__code="lifted_out_of_poverty",
        )
        .distinct()
        .count()
    )
    need = max(0, wanted - have)
    counties = [ctx.region(code) for code in data["counties"]]
    statuses = data["statuses"]
    made: dict[str, list[Beneficiary]] = {}
    for index, county in enumerate(counties):
        count = need // len(counties) + (1 if index < need % len(counties) else 0)
        people = [
            Person(
                county,
                [(statuses[i % len(statuses)], dt.date(2021, 1, 1) + dt.timedelta(days=i % 150))],
                ("lifted_out_of_poverty",),
            )
            for i in range(count)
        ]
        made[county.code] = ctx.people.create(people, ctx.groups)
    spec = data["relocated_households"]
    households = 0
    for county in counties:
        if Household.objects.filter(region=county, relocated=True).exists():
            continue
        size = spec["members"]
        pool = made[county.code]
        count = min(scaled(spec["per_county"], ctx.scale), len(pool) // size)
        groups = [pool[i * size : (i + 1) * size] for i in range(count)]
        households += _households(
            ctx, county, groups, prefix=f"XT{county.code}", relocated=True, relocated_on=dt.date(2019, 6, 30)
        )
    return f"邢台 {wanted} 名脱贫劳动力（新增 {need}），{households} 户易地搬迁家庭"


def seed_tianjin(ctx: Context) -> str:
    data = ctx.data["tianjin"]
    city = ctx.region(data["region"])
    start, end = _date(data["period"]["from"]), _date(data["period"]["to"])

    def existing(queryset: Any) -> int:
        return (
            queryset.filter(
                beneficiary__region_path__startswith=city.path, effective_on__gte=start, effective_on__lte=end
            )
            .values("beneficiary")
            .distinct()
            .count()
        )

    employed = sorted(EMPLOYED_STATUSES)
    need = max(0, scaled(data["reemployed"]["value"], ctx.scale) - existing(reemployment_changes()))
    reemployed = ctx.people.create(
        [
            Person(
                city,
                [("unemployed", BEFORE), (employed[i % len(employed)], day)],
                ("registered_unemployed",),
                since=BEFORE,
            )
            for i, day in enumerate(spread_dates(start, end, need))
        ],
        ctx.groups,
    )
    need_difficulty = max(
        0, scaled(data["difficulty_employed"]["value"], ctx.scale) - existing(difficulty_employment_changes())
    )
    ctx.people.create(
        [
            Person(
                city,
                [("not_in_labour_force", BEFORE), (employed[i % len(employed)], day)],
                ("employment_difficulty",),
                since=BEFORE,
            )
            for i, day in enumerate(spread_dates(start, end, need_difficulty))
        ],
        ctx.groups,
    )
    households = 0
    if not Household.objects.filter(region=city, zero_employment=True).exists():
        count = min(scaled(data["zero_employment_households"]["value"], ctx.scale), len(reemployed) // 2)
        groups = [reemployed[2 * i : 2 * i + 2] for i in range(count)]
        households = _households(
            ctx, city, groups, prefix="TJ", zero_employment=True, zero_employment_identified_on=BEFORE
        )
    return f"天津 {need} 名失业人员再就业、{need_difficulty} 名就业困难人员就业，{households} 户零就业家庭（已清零）"


def _loan_amounts(total: D, count: int, spread: D) -> list[D]:
    """`count` amounts adding up to `total` exactly: the mean, alternately raised and lowered by
    `spread` (when the mean allows), the cents left over on the first."""
    if count == 0:
        return []
    mean = (total / count).quantize(CENT, rounding=decimal.ROUND_DOWN)
    amounts = [mean] * count
    if mean > spread * 2:
        for i in range(0, count - 1, 2):
            amounts[i] += spread
            amounts[i + 1] -= spread
    amounts[0] += total - sum(amounts)
    return amounts


def _code(seed: str) -> str:
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    body = ""
    for _ in range(BODY_LENGTH):
        digest, index = divmod(digest, len(ALPHABET))
        body += ALPHABET[index]
    return body + check_character(body)


def seed_jinnan(ctx: Context) -> str:
    data = ctx.data["jinnan"]
    district = ctx.region(data["region"])
    start, end = _date(data["period"]["from"]), _date(data["period"]["to"])
    have = EmploymentRegistration.objects.filter(
        region_path__startswith=district.path, registered_on__gte=start, registered_on__lte=end
    ).count()
    need = max(0, scaled(data["registrations"]["value"], ctx.scale) - have)
    have_entrepreneurs = Entrepreneur.objects.filter(
        region_path__startswith=district.path, supported_on__gte=start, supported_on__lte=end
    ).count()
    need_entrepreneurs = min(
        need, max(0, scaled(data["entrepreneurs"]["value"], ctx.scale) - have_entrepreneurs)
    )
    days = list(spread_dates(start, end, need))
    people = ctx.people.create(
        [
            Person(district, [("self_employed" if i < need_entrepreneurs else "employed_local", day)])
            for i, day in enumerate(days)
        ],
        ctx.groups,
    )
    registrations_create_batch(
        actor=ctx.admin,
        items=[
            {
                "beneficiary": person,
                "registered_on": day,
                "kind": RegistrationKind.NEW_EMPLOYMENT,
                "employer_name": "自主创业" if i < need_entrepreneurs else "",
            }
            for i, (person, day) in enumerate(zip(people, days, strict=True))
        ],
    )
    # Entrepreneurs: the first registered people, each with a business (an employer with a USCC).
    founders = people[:need_entrepreneurs]
    serial0 = 700000 + Employer.objects.filter(region=district).count()
    with acting(ctx.admin):
        businesses = tracked_bulk_create(
            Employer,
            [
                Employer(
                    name=f"津南示例创业企业{serial0 + i}",
                    uscc=make_uscc(district.code, serial0 + i),
                    region=district,
                    size=EmployerSize.MICRO,
                )
                for i in range(len(founders))
            ],
        )
        kinds = [k for k, _label in EntrepreneurKind.choices]
        entrepreneurs = tracked_bulk_create(
            Entrepreneur,
            [
                build_entrepreneur(
                    region=district,
                    supported_on=day,
                    beneficiary=person,
                    kind=kinds[i % len(kinds)],
                    business=business,
                    notes="示例数据（虚构创业人员）",
                )
                for i, (person, business, day) in enumerate(zip(founders, businesses, days, strict=False))
            ],
        )
    loans_spec = data["loans"]
    have_amount = sum(
        GuaranteedLoan.objects.filter(
            region_path__startswith=district.path, issued_on__gte=start, issued_on__lte=end
        ).values_list("amount", flat=True),
        D(0),
    )
    total = (D(loans_spec["value"]) * ctx.scale).quantize(CENT, rounding=decimal.ROUND_HALF_UP) - have_amount
    amounts = _loan_amounts(max(total, D(0)), len(entrepreneurs), D(loans_spec["spread"]))
    loans = loans_create_batch(
        actor=ctx.admin,
        loans=[
            (
                entrepreneur,
                {
                    "business": entrepreneur.business,
                    "lender": loans_spec["lenders"][i % len(loans_spec["lenders"])],
                    "amount": amount,
                    "term_months": loans_spec["terms_months"][i % len(loans_spec["terms_months"])],
                    "annual_rate": D(loans_spec["annual_rates"][i % len(loans_spec["annual_rates"])]),
                    "issued_on": entrepreneur.supported_on,
                },
            )
            for i, (entrepreneur, amount) in enumerate(zip(entrepreneurs, amounts, strict=True))
        ],
    )
    program = _interest_program(ctx, data["interest_subsidy"]["program"])
    shares = list(
        InterestSubsidy.objects.filter(
            loan__in=loans, level=GovernmentLevel.DISTRICT, payment__isnull=True, amount__gt=0
        )
    )
    paid = (
        interest_subsidies_pay(actor=ctx.admin, program=program, shares=shares, today=end) if shares else []
    )
    return f"津南 {need} 条就业登记，{len(entrepreneurs)} 名创业人员，贷款 {sum(amounts, D(0))} 元，{len(paid)} 笔贴息"


def _interest_program(ctx: Context, spec: dict[str, Any]) -> Program:
    program = Program.objects.filter(code=spec["code"]).first()
    if program is not None:
        return program
    return funding.program_create(
        actor=ctx.admin,
        fields={
            "code": spec["code"],
            "name_zh": spec["name_zh"],
            "name_en": spec["name_en"],
            "region": ctx.region(spec["region"]),
            "kind": spec["kind"],
            "payee_kind": spec["payee_kind"],
            "fund_source": FundSource.objects.get(code=spec["fund_source"]),
            "unit": spec["unit"],
            "valid_from": _date(spec["valid_from"]),
            "valid_to": _date(spec["valid_to"]),
            "assumption": spec["assumption"],
        },
    )


def seed_wuzhou(ctx: Context) -> str:
    data = ctx.data["wuzhou"]
    fund = FundSource.objects.get(code=data["fund_source"])
    made = 0
    for item in data["split"]:
        program = Program.objects.filter(code=item["program"]).first()
        if program is None or Allocation.objects.filter(program=program).exists():
            continue
        allocation_create(
            actor=ctx.admin,
            fund_source=fund,
            program=program,
            amount=D(item["amount"]),
            allocated_on=_date(data["allocated_on"]),
            reference="梧州市就业补助资金（示例拨付记录）",
            notes=data["split_assumption"],
        )
        made += 1
    return f"梧州 {made} 笔资金拨付"


def seed_zhangjiakou(ctx: Context) -> str:
    data = ctx.data["zhangjiakou"]
    city = ctx.region(data["region"])
    issued_on = _date(data["issued_on"])
    issued_at = dt.datetime.combine(issued_on, dt.time(9), tzinfo=ZoneInfo(settings.TIME_ZONE))
    from seeds.vouchers import HOLDER_GROUPS

    made = 0
    for key in ("subsidised", "social"):
        spec = data[key]
        voucher_type = VoucherType.objects.filter(code=spec["type"]).first()
        plan = VoucherPlan.objects.filter(region=city, year=2021, type=voucher_type).first()
        if voucher_type is None or plan is None:
            continue
        have = Voucher.objects.filter(type=voucher_type, issued_at__year=2021).count()
        need = max(0, scaled(spec["value"], ctx.scale) - have)
        groups, status = HOLDER_GROUPS[voucher_type.code]
        holders = ctx.people.create(
            [Person(city, [(status, dt.date(2021, 1, 1))], groups) for _ in range(need)], ctx.groups
        )
        expires = issued_on + dt.timedelta(days=voucher_type.validity_days - 1)
        with acting(ctx.admin, action="issue"):
            tracked_bulk_create(
                Voucher,
                [
                    Voucher(
                        code=_code(f"{voucher_type.code}-{holder.pk}"),
                        type=voucher_type,
                        plan=plan,
                        holder=holder,
                        issued_at=issued_at,
                        expires_on=expires,
                    )
                    for holder in holders
                ],
            )
        made += need
    return f"张家口 {made} 张培训券（人次）"


def seed_targets(ctx: Context) -> str:
    made = 0
    for item in ctx.data["targets"]:
        region = ctx.region(item["region"])
        if Target.objects.filter(region=region, year=item["year"], measure=item["measure"]).exists():
            continue
        target_create(
            actor=ctx.admin,
            region=region,
            year=item["year"],
            measure=item["measure"],
            figure=max(1, scaled(item["figure"], ctx.scale)),
            assumed=item["assumed"],
            assumption=item.get("assumption", ""),
            source_quote=item["source"]["quote_zh"],
            source_line=str(item["source"]["line"]),
        )
        made += 1
    return f"{made} 项目标"


BLOCKS: list[tuple[str, Callable[[Context], str]]] = [
    ("邢台", seed_xingtai),
    ("天津", seed_tianjin),
    ("津南", seed_jinnan),
    ("梧州", seed_wuzhou),
    ("张家口", seed_zhangjiakou),
    ("目标", seed_targets),
]


def seed_figures(stdout: Any, *, scale: D | str | float | None = None, progress: Any = None) -> None:
    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if admin is None:
        stdout.write("figures: no administrator account; skipped\n")
        return
    data = load("figures.yaml")
    scale = D(str(scale if scale is not None else data["default_scale"]))
    faker = Faker("zh_CN")
    faker.seed_instance(FAKER_SEED)
    groups = {g.code: g for g in BeneficiaryGroup.objects.all()}
    # People of earlier runs keep their serials: continue after them, so numbers stay distinct.
    people = BulkPeople.continuing(faker, birth_base=BIRTH_BASE, notes="示例数据（虚构人员，报表数字）")
    ctx = Context(admin, scale, data, people, groups, stdout)
    bar = tqdm(
        total=len(BLOCKS), desc="figures", unit="block", file=progress, disable=progress is None, leave=False
    )
    try:
        for name, block in BLOCKS:
            bar.set_postfix_str(name, refresh=True)
            with transaction.atomic(), acting(admin):
                stdout.write(f"figures: {block(ctx)}\n")
            bar.update(1)
    finally:
        bar.close()
