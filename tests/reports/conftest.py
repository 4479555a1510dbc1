"""A small hand-built dataset for the reports: people, posts, vouchers and payments in 萍乡市's two
children (芦溪县 360323 and 武功山风景名胜区 3603X1), in 萍乡市 itself, and in 梧州市 (outside a
Pingxiang user's scope). Written directly (test data), statuses set as the services would."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from typing import Any

import pytest
from django.utils import timezone

from beneficiaries.models import Beneficiary, GroupMembership
from programs.funding.choices import PayeeKind, ProgramKind, Unit
from programs.funding.models import FundSource, Payment
from programs.posts.models import Assignment, Post
from programs.vouchers.choices import VoucherPayee
from programs.vouchers.models import Voucher, VoucherPlan, VoucherType
from seeds.factories.funding import ProgramFactory
from tests.programs.conftest import make_group

D = decimal.Decimal
_serial = itertools.count(1)
LUXI, SCENIC, PINGXIANG, WUZHOU = "360323", "3603X1", "360300", "450400"
VILLAGE = "3603X1901001"
AS_OF = dt.date(2021, 7, 1)


def person(region: Any, status: str, *groups: str, willing: bool = True, active: bool = True) -> Beneficiary:
    n = next(_serial)
    record = Beneficiary(
        name=f"测试{n}",
        id_number_encrypted=f"cipher-r{n}",
        id_number_hash=f"reports-hash-{n}",
        id_number_masked=f"360323********{n:04d}"[-18:],
        gender="male",
        birth_date=dt.date(1980, 1, 1),
        region=region,
        willing_to_work=willing,
        status=status,
        active=active,
        deactivated_on=None if active else dt.date(2021, 1, 1),
        deactivation_reason="" if active else "moved_away",
    )
    record.save()
    for code in groups:
        GroupMembership(beneficiary=record, group=make_group(code), valid_from=dt.date(2020, 1, 1)).save()
    return record


@pytest.fixture
def dataset(regions: dict[str, Any]) -> dict[str, Any]:
    return populate(regions)


def populate(r: dict[str, Any], tag: str = "") -> dict[str, Any]:
    """The dataset; called again with another `tag`, a second copy of every kind of record (the
    query-count tests grow the data with it)."""
    lifted, difficulty = "lifted_out_of_poverty", "employment_difficulty"
    people = {
        "a1": person(r[LUXI], "employed_local", lifted),
        "a2": person(r[LUXI], "public_welfare_post", lifted),
        "a3": person(r[LUXI], "unemployed", lifted, willing=False),
        "a4": person(r[LUXI], "unemployed"),
        "gone": person(r[LUXI], "employed_local", lifted, active=False),
        "x1": person(r[VILLAGE], "unemployed", lifted),
        "x2": person(r[VILLAGE], "flexible", difficulty),
        "p1": person(r[PINGXIANG], "self_employed", lifted),
        "w1": person(r[WUZHOU], "employed_local", lifted),
    }
    fund = FundSource(
        code=f"employment_subsidy_fund{tag}", name_zh="就业补助资金", name_en="Employment subsidy fund"
    )
    fund.save()
    program = ProgramFactory(
        code=f"PX_POST{tag}",
        name_zh="萍乡公益性岗位补贴",
        name_en="Pingxiang post subsidy",
        region=r[PINGXIANG],
        kind=ProgramKind.PUBLIC_WELFARE_POST,
        payee_kind=PayeeKind.PERSON,
        unit=Unit.PERSON_MONTH,
        fund_source=fund,
    )
    wuzhou_program = ProgramFactory(
        code=f"WZ_POST{tag}",
        name_zh="梧州岗位补贴",
        name_en="Wuzhou post subsidy",
        region=r[WUZHOU],
        fund_source=fund,
    )

    def post(region: Any, headcount: int, opened: dt.date, closed: dt.date | None = None, **kw: Any) -> Post:
        record = Post(
            region=region,
            employing_unit="village_committee",
            category=kw.get("category", "cleaning"),
            urban_rural="rural",
            title=f"岗位{next(_serial)}",
            headcount=headcount,
            monthly_standard=D("500.00"),
            program=kw.get("program", program),
            opened_on=opened,
            closed_on=closed,
            status="closed" if closed else "open",
            justification="保洁",
        )
        record.save()
        return record

    def hold(post_: Post, who: Beneficiary, start: dt.date, end: dt.date | None = None) -> None:
        Assignment(
            post=post_,
            beneficiary=who,
            region=post_.region,
            start_date=start,
            end_date=end,
            end_reason="resigned" if end else "",
        ).save()

    luxi_post = post(r[LUXI], 3, dt.date(2021, 1, 1))
    scenic_post = post(r[VILLAGE], 2, dt.date(2021, 6, 1), dt.date(2021, 12, 31), category="forest_ranger")
    wuzhou_post = post(r[WUZHOU], 5, dt.date(2021, 1, 1), program=wuzhou_program)
    hold(luxi_post, people["a2"], dt.date(2021, 2, 1))
    hold(luxi_post, people["a1"], dt.date(2021, 1, 1), dt.date(2021, 3, 31))
    hold(scenic_post, people["x1"], dt.date(2021, 6, 15))
    hold(wuzhou_post, people["w1"], dt.date(2021, 1, 1))

    vtype = VoucherType(
        code=f"PX_SKILL{tag}",
        name_zh="萍乡职业技能培训券",
        name_en="Pingxiang skill voucher",
        region=r[PINGXIANG],
        payee=VoucherPayee.NONE,
        program=None,
        eligible_groups=[],
        face_value_rule="none",
        validity_days=365,
    )
    vtype.save()
    VoucherPlan(region=r[PINGXIANG], year=2021, type=vtype, planned_count=10).save()
    VoucherPlan(region=r[LUXI], year=2021, type=vtype, planned_count=4).save()
    wz_type = VoucherType(
        code=f"WZ_SKILL{tag}",
        name_zh="梧州培训券",
        name_en="Wuzhou voucher",
        region=r[WUZHOU],
        payee=VoucherPayee.NONE,
        program=None,
        eligible_groups=[],
        face_value_rule="none",
        validity_days=365,
    )
    wz_type.save()
    wz_plan = VoucherPlan(region=r[WUZHOU], year=2021, type=wz_type, planned_count=100)
    wz_plan.save()
    plan = VoucherPlan.objects.get(region=r[PINGXIANG], type=vtype)
    issued_at = timezone.make_aware(dt.datetime(2021, 3, 1, 10, 0))

    def voucher(holder: Beneficiary, status: str, vtype_: Any = vtype, plan_: Any = plan) -> None:
        Voucher(
            code=f"T{next(_serial):010d}",
            type=vtype_,
            plan=plan_,
            holder=holder,
            status=status,
            issued_at=issued_at,
            expires_on=dt.date(2022, 3, 1),
        ).save()

    voucher(people["a1"], "issued")
    voucher(people["a2"], "expired")
    voucher(people["a3"], "cancelled")
    voucher(people["x1"], "claimed")
    voucher(people["w1"], "issued", wz_type, wz_plan)

    from tracker.accounts.models import User

    maker = User.objects.create_user(
        username=f"report_maker{tag}", password="pw-for-tests", region=r["000000"]
    )

    def pay(who: Beneficiary, month: int, amount: str, status: str, program_: Any = program) -> None:
        Payment(
            program=program_,
            payee_kind="person",
            beneficiary=who,
            region=who.region,
            period_start=dt.date(2021, month, 1),
            period_end=dt.date(2021, month, 28),
            quantity=D(1),
            unit_amount=D(amount),
            amount=D(amount),
            fund_source=fund,
            status=status,
            created_by=maker,
        ).save()

    pay(people["a2"], 2, "500.00", "paid")
    pay(people["a2"], 3, "500.00", "paid")
    pay(people["a2"], 4, "500.00", "approved")
    pay(people["x1"], 6, "250.00", "submitted")
    pay(people["x1"], 7, "500.00", "reversed")
    pay(people["p1"], 3, "100.00", "draft")
    pay(people["w1"], 3, "800.00", "paid", wuzhou_program)
    return {"people": people, "program": program, "type": vtype}
