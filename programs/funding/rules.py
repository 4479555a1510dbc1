"""The rules every payment obeys, one pure function per rule, named by its code.

services.py runs them for every door (API, admin, seed, the post subsidy run, voucher redemption),
one payment or a whole batch at a time. The rules read nothing from the database: what they need
beyond the payment's own fields (the payee's region, the person's groups, their other payments, the
budget used) arrives as `PaymentFacts`, which selectors.payment_facts loads for a whole batch in a
constant number of queries. Each refusal is a ValidationError on the field concerned whose message
starts with the rule's code (e.g. "ONCE_PER_PERSON: ...") and whose `code` is that rule code.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.choices import EmploymentStatus
from programs.funding.choices import EmployerSize, Industry, PayeeKind, Unit
from programs.funding.models import Payment, Program

CENT = decimal.Decimal("0.01")

# Rule codes (the first word of every refusal).
PAYEE_KIND = "PAYEE_KIND"
PAYEE_REGION = "PAYEE_REGION"
PAYEE_INACTIVE = "PAYEE_INACTIVE"
PERIOD_OUTSIDE_VALIDITY = "PERIOD_OUTSIDE_VALIDITY"
PAYMENT_DEADLINE_PASSED = "PAYMENT_DEADLINE_PASSED"
APPLICATION_DEADLINE_PASSED = "APPLICATION_DEADLINE_PASSED"
APPLICATION_DATE_IN_FUTURE = "APPLICATION_DATE_IN_FUTURE"
EMPLOYER_SIZE = "EMPLOYER_SIZE"
EMPLOYER_INDUSTRY = "EMPLOYER_INDUSTRY"
EMPLOYMENT_STATUS = "EMPLOYMENT_STATUS"
CONTRACT_REQUIRED = "CONTRACT_REQUIRED"
CONTRACT_TOO_SHORT = "CONTRACT_TOO_SHORT"
PRIOR_WORK_FOR_TRAINING = "PRIOR_WORK_FOR_TRAINING"
NOT_ELIGIBLE = "NOT_ELIGIBLE"
QUANTITY = "QUANTITY"
AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
UNIT_AMOUNT_OUT_OF_RANGE = "UNIT_AMOUNT_OUT_OF_RANGE"
ONCE_PER_PERSON = "ONCE_PER_PERSON"
MAX_UNITS = "MAX_UNITS"
PERIOD_OVERLAP = "PERIOD_OVERLAP"
BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
MUTUALLY_EXCLUSIVE = "MUTUALLY_EXCLUSIVE"


@dataclass(frozen=True)
class OtherPayment:
    """A live payment the rules compare a new one with."""

    pk: int
    program_code: str
    quantity: decimal.Decimal
    period_start: dt.date
    period_end: dt.date


@dataclass
class PaymentFacts:
    """What the rules need beyond a payment's own fields (see selectors.payment_facts)."""

    payee_path: str
    designations: frozenset[str] = frozenset()
    # The person's groups on the period's first day (empty without a person).
    group_codes: frozenset[str] = frozenset()
    # Live payments of the same program for the same person (or organisation), this one excluded.
    others: list[OtherPayment] = field(default_factory=list)
    # Live payments to the same person from programs this one is mutually exclusive with.
    exclusive: list[OtherPayment] = field(default_factory=list)
    # The person's employment status on the period's first day ('' when none was recorded by then,
    # or when the program asks for none and it was not loaded).
    status_on_start: str = ""
    # Live payments for the same person from other work-for-training programs (loaded only for a
    # program that excludes people who already had work-for-training).
    prior_work_for_training: list[OtherPayment] = field(default_factory=list)
    # Submitted + approved + paid of the program in the payment's budget year, this one excluded
    # (None when the budget is not checked).
    budget_used: decimal.Decimal | None = None


class RuleErrors:
    """Collects refusals as {field: [messages]} and raises them together."""

    def __init__(self) -> None:
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, code: str, message: str, params: dict[str, Any] | None = None) -> None:
        text = f"{code}: {message % params if params else message}"
        self.errors.setdefault(field, []).append(ValidationError(text, code=code))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def money(value: decimal.Decimal) -> decimal.Decimal:
    return value.quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def payee_field(payee_kind: str) -> str:
    return {PayeeKind.EMPLOYER: "employer", PayeeKind.INSTITUTION: "institution"}.get(
        payee_kind, "beneficiary"
    )


# -- the rules --------------------------------------------------------------------------------------


def check_payee_kind(payment: Payment, program: Program, errors: RuleErrors) -> bool:
    """PAYEE_KIND: the program pays one kind of payee, and exactly that payee is named."""
    ok = True
    if payment.payee_kind != program.payee_kind:
        errors.add(
            "payee_kind",
            PAYEE_KIND,
            _("the program pays a %(expected)s, not a %(given)s."),
            {"expected": PayeeKind(program.payee_kind).label, "given": payment.payee_kind},
        )
        return False
    field = payee_field(payment.payee_kind)
    if getattr(payment, f"{field}_id") is None:
        errors.add(field, PAYEE_KIND, _("name the payee (%(field)s)."), {"field": field})
        ok = False
    others = {"employer", "institution"} - {field}
    for other in sorted(others):
        if getattr(payment, f"{other}_id") is not None:
            errors.add(other, PAYEE_KIND, _("this program does not pay a %(field)s."), {"field": other})
            ok = False
    return ok


def check_payee_region(payment: Payment, program: Program, payee_path: str, errors: RuleErrors) -> None:
    """PAYEE_REGION: a program issued by a region applies only within that region's subtree."""
    if not payee_path.startswith(program.region.path):
        errors.add(
            payee_field(payment.payee_kind),
            PAYEE_REGION,
            _("the payee lies outside the region the program applies to (%(region)s)."),
            {"region": program.region.name_zh},
        )


def check_person_active(payment: Payment, errors: RuleErrors) -> None:
    """PAYEE_INACTIVE: no payment for a period starting on or after the person left the registry
    (deceased, moved away); periods before that date can still be paid."""
    person = payment.beneficiary
    if person is None or person.active or person.deactivated_on is None:
        if person is not None and not person.active and person.deactivated_on is None:
            errors.add("beneficiary", PAYEE_INACTIVE, _("the person is no longer active in the registry."))
        return
    if payment.period_start >= person.deactivated_on:
        errors.add(
            "beneficiary",
            PAYEE_INACTIVE,
            _("the person left the registry on %(date)s; the period starts after that."),
            {"date": person.deactivated_on.isoformat()},
        )


def check_validity(payment: Payment, program: Program, errors: RuleErrors) -> None:
    """PERIOD_OUTSIDE_VALIDITY: the period paid for lies within the program's validity."""
    if program.valid_from and payment.period_start < program.valid_from:
        errors.add(
            "period_start",
            PERIOD_OUTSIDE_VALIDITY,
            _("the period starts before the program's validity (from %(date)s)."),
            {"date": program.valid_from.isoformat()},
        )
    if program.valid_to and payment.period_end > program.valid_to:
        errors.add(
            "period_end",
            PERIOD_OUTSIDE_VALIDITY,
            _("the period ends after the program's validity (to %(date)s)."),
            {"date": program.valid_to.isoformat()},
        )


def check_payment_deadline(program: Program, today: dt.date, errors: RuleErrors) -> None:
    """PAYMENT_DEADLINE_PASSED: after the payment deadline nothing new enters the ledger (e.g.
    Guangzhou's 以工代训 under 粤人社规〔2020〕38号: payments to 2021-12-25). The deadline day itself
    is still open."""
    if program.payment_deadline and today > program.payment_deadline:
        errors.add(
            "program",
            PAYMENT_DEADLINE_PASSED,
            _("the program's payment deadline (%(date)s) has passed."),
            {"date": program.payment_deadline.isoformat()},
        )


def application_day(payment: Payment, today: dt.date) -> dt.date:
    """The day the application was received: the recorded application date; for a payment entered
    before that field existed, the day it was entered; for a new one without a date, today."""
    if payment.application_date is not None:
        return payment.application_date
    if payment.created_at is not None:
        return timezone.localdate(payment.created_at)
    return today


def check_application_date(payment: Payment, program: Program, today: dt.date, errors: RuleErrors) -> None:
    """APPLICATION_DATE_IN_FUTURE, APPLICATION_DEADLINE_PASSED: an application cannot be dated after
    the day it is entered, and one received after the program's application deadline is refused
    (Guangzhou's 以工代训: 受理期限截止到 2021 年 9 月 15 日, digest line 659). The deadline day
    itself is still open."""
    applied = application_day(payment, today)
    if applied > today:
        errors.add(
            "application_date",
            APPLICATION_DATE_IN_FUTURE,
            _("the application date %(date)s is after the day of entry (%(today)s)."),
            {"date": applied.isoformat(), "today": today.isoformat()},
        )
    if program.application_deadline and applied > program.application_deadline:
        errors.add(
            "application_date",
            APPLICATION_DEADLINE_PASSED,
            _("the application of %(date)s came after the program's application deadline (%(deadline)s)."),
            {"date": applied.isoformat(), "deadline": program.application_deadline.isoformat()},
        )


def check_eligibility(
    payment: Payment, program: Program, group_codes: frozenset[str], errors: RuleErrors
) -> None:
    """NOT_ELIGIBLE: the person belongs to one of the program's groups on the period's first day."""
    if not program.eligible_groups:
        return
    if payment.beneficiary_id is None:
        errors.add(
            "beneficiary",
            NOT_ELIGIBLE,
            _("the program is for people in certain groups; name the person the payment is for."),
        )
        return
    if not group_codes & set(program.eligible_groups):
        errors.add(
            "beneficiary",
            NOT_ELIGIBLE,
            _("on %(date)s the person belongs to none of the program's groups (%(groups)s)."),
            {"date": payment.period_start.isoformat(), "groups": ", ".join(program.eligible_groups)},
        )


def check_employer(payment: Payment, program: Program, errors: RuleErrors) -> None:
    """EMPLOYER_SIZE, EMPLOYER_INDUSTRY: a program that names the sizes or industries of the
    employers it pays pays no other (Guangzhou's 以工代训: the SME windows for 中小微企业, the
    large-enterprise window for 住宿餐饮、文化旅游、交通运输、批发零售, digest lines 637-639)."""
    employer = payment.employer if payment.employer_id is not None else None
    if employer is None:
        return
    if program.employer_sizes and employer.size not in program.employer_sizes:
        errors.add(
            "employer",
            EMPLOYER_SIZE,
            _("the program pays %(sizes)s employers; this employer is %(size)s."),
            {
                "sizes": ", ".join(str(EmployerSize(code).label) for code in program.employer_sizes),
                "size": EmployerSize(employer.size).label if employer.size in EmployerSize.values else "?",
            },
        )
    if program.employer_industries and employer.industry not in program.employer_industries:
        errors.add(
            "employer",
            EMPLOYER_INDUSTRY,
            _("the program pays employers in %(industries)s; this employer's industry is %(industry)s."),
            {
                "industries": ", ".join(str(Industry(code).label) for code in program.employer_industries),
                "industry": (
                    Industry(employer.industry).label
                    if employer.industry in Industry.values
                    else employer.industry or _("not recorded")
                ),
            },
        )


def check_employment_status(payment: Payment, program: Program, status: str, errors: RuleErrors) -> None:
    """EMPLOYMENT_STATUS: the person's employment status on the period's first day, from the
    registry's status history, is one the program requires (Gansu's transport subsidy is for
    跨省就业, people working in another province, digest lines 479-483; a post subsidy is for a
    person in a post)."""
    required = program.required_employment_statuses
    if not required:
        return
    if payment.beneficiary_id is None:
        errors.add(
            "beneficiary",
            EMPLOYMENT_STATUS,
            _("the program depends on the person's employment status; name the person."),
        )
        return
    if status not in required:
        errors.add(
            "beneficiary",
            EMPLOYMENT_STATUS,
            _("on %(date)s the person's employment status is %(status)s, not %(required)s."),
            {
                "date": payment.period_start.isoformat(),
                "status": EmploymentStatus(status).label if status else _("not recorded"),
                "required": " / ".join(str(EmploymentStatus(code).label) for code in required),
            },
        )


def months_later(start: dt.date, months: int) -> dt.date:
    """The last day of a span of `months` calendar months that begins on `start` (both ends
    counted): 2021-01-01 + 6 months -> 2021-06-30; 2021-01-15 -> 2021-07-14; 2021-08-31 -> 2022-02-28
    (a month without the corresponding day ends on its last day, as 民法典 article 202 counts)."""
    anchor = start - dt.timedelta(days=1)
    month_index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    anchor_is_month_end = anchor.day == calendar.monthrange(anchor.year, anchor.month)[1]
    return dt.date(year, month + 1, last if anchor_is_month_end else min(anchor.day, last))


def check_labour_contract(payment: Payment, program: Program, today: dt.date, errors: RuleErrors) -> None:
    """CONTRACT_REQUIRED, CONTRACT_TOO_SHORT: a program that needs a labour contract signed and
    actually performed for N months or more (Gansu's 200-yuan labour-transfer reward: 签订并实际履行
    6 个月以上劳动合同, digest lines 485-486, facts.yaml F042 "at_least") is paid only when the
    contract's start and the day up to which it has been performed are recorded and span N whole
    months. "以上" includes the number itself, so exactly 6 months qualifies. Days after the day of
    entry have not been performed yet and do not count."""
    months = program.min_contract_months
    if months is None:
        return
    start, performed_to = payment.contract_start, payment.contract_performed_to
    if start is None or performed_to is None:
        for name, value in (("contract_start", start), ("contract_performed_to", performed_to)):
            if value is None:
                errors.add(
                    name,
                    CONTRACT_REQUIRED,
                    _(
                        "the program needs a labour contract performed for %(months)s months; give its start "
                        "and the day up to which it has been performed."
                    ),
                    {"months": months},
                )
        return
    needed = months_later(start, months)
    performed = min(performed_to, today)
    if performed < needed:
        errors.add(
            "contract_performed_to",
            CONTRACT_TOO_SHORT,
            _(
                "a labour contract from %(start)s performed to %(to)s is short of %(months)s months "
                "(it must be performed to %(needed)s)."
            ),
            {
                "start": start.isoformat(),
                "to": performed.isoformat(),
                "months": months,
                "needed": needed.isoformat(),
            },
        )


def _raised(amount: decimal.Decimal, percent: decimal.Decimal) -> decimal.Decimal:
    return money(amount * (1 + percent / 100))


def has_floor_standard(program: Program) -> bool:
    """A standard that is itself a floor (不低于): a minimum and no maximum, e.g. Gansu's living
    allowance of at least 30 yuan a day."""
    return program.min_amount is not None and program.max_amount is None


def standard_unit_amount(program: Program, designations: Iterable[str]) -> decimal.Decimal | None:
    """The unit amount paid when the clerk gives none.

    Usually the program's standard. For a standard that is a floor, the uplift of the payee's region
    raises the standard itself: Gansu pays "每人每天不低于 30 元" (digest line 490) and in the
    两州一县 and the key counties "生活费补助标准可上浮 20%" (lines 492-494), so the standard there
    is 36 yuan and that is what is offered. It does not raise the floor: 可 makes the uplift a
    permission, so 30 yuan stays lawful everywhere, and with no ceiling 40 yuan is lawful anywhere."""
    standard = program.standard_amount
    if standard is None:
        return None
    if has_floor_standard(program):
        return _raised(standard, program.uplift_percent(set(designations)))
    return standard


def unit_bounds(
    program: Program, designations: Iterable[str]
) -> tuple[decimal.Decimal, decimal.Decimal | None]:
    """(floor, ceiling) for the amount per unit at a payee with these region designations.

    The floor is the program's minimum (a guaranteed level, never raised: an uplift "可上浮" says
    the standard may rise, not must). The ceiling is its maximum, or without one its standard,
    raised by the highest uplift the region's designations carry (Gansu's training subsidy "可上浮
    10%": 1,200 yuan becomes at most 1,320 in a key county). A standard that is itself a floor
    (a minimum and no maximum, "不低于 30 元") has no ceiling: 40 yuan a day is lawful; its uplift
    raises the standard offered instead (standard_unit_amount).
    The raised ceiling is quantized to the cent with ROUND_HALF_UP (0.03 yuan + 50% = 0.045 -> 0.05),
    in Decimal arithmetic throughout; never binary floating point.
    """
    floor = program.min_amount if program.min_amount is not None else CENT
    uplift = program.uplift_percent(set(designations))
    if program.max_amount is not None:
        return floor, _raised(program.max_amount, uplift)
    if program.standard_amount is None or has_floor_standard(program):
        return floor, None
    return floor, _raised(program.standard_amount, uplift)


def check_amounts(
    payment: Payment, program: Program, designations: Iterable[str], errors: RuleErrors
) -> None:
    """QUANTITY, UNIT_AMOUNT_OUT_OF_RANGE, AMOUNT_MISMATCH: amount = unit amount × quantity (to the
    cent, half up), and the unit amount lies within the program's bounds after uplift."""
    quantity = payment.quantity
    if quantity is None or quantity <= 0:
        errors.add("quantity", QUANTITY, _("the quantity must be positive."))
        return
    if program.unit == Unit.ONE_OFF and quantity != 1:
        errors.add("quantity", QUANTITY, _("a one-off payment has a quantity of 1."))
        return
    unit = payment.unit_amount
    if unit is None:
        errors.add(
            "unit_amount",
            UNIT_AMOUNT_OUT_OF_RANGE,
            _("the program has no standard amount; give the unit amount."),
        )
        return
    floor, ceiling = unit_bounds(program, designations)
    if unit < floor or (ceiling is not None and unit > ceiling):
        errors.add(
            "unit_amount",
            UNIT_AMOUNT_OUT_OF_RANGE,
            _("the unit amount %(unit)s lies outside %(floor)s–%(ceiling)s for this payee's region."),
            {"unit": unit, "floor": floor, "ceiling": ceiling if ceiling is not None else "∞"},
        )
    expected = money(unit * quantity)
    if payment.amount is not None and payment.amount != expected:
        errors.add(
            "amount",
            AMOUNT_MISMATCH,
            _("the amount %(amount)s is not unit amount × quantity = %(expected)s."),
            {"amount": payment.amount, "expected": expected},
        )


def check_entitlement(
    payment: Payment, program: Program, others: list[OtherPayment], errors: RuleErrors
) -> None:
    """ONCE_PER_PERSON, MAX_UNITS, PERIOD_OVERLAP, over the person's (or organisation's) other live
    payments of the program (rejected, reversed and reversing entries do not count).

    Once per person is also a partial unique index; the maximum units (e.g. 以工代训: 6 months) and
    the no-overlap rule are serialised by the program row lock the services take."""
    if program.once_per_person and others:
        errors.add(
            payee_field(payment.payee_kind) if payment.beneficiary_id is None else "beneficiary",
            ONCE_PER_PERSON,
            _("the program pays once per person and payment #%(id)s already exists."),
            {"id": others[0].pk},
        )
    if program.max_units is not None:
        used = sum((other.quantity for other in others), decimal.Decimal(0))
        if used + (payment.quantity or 0) > program.max_units:
            errors.add(
                "quantity",
                MAX_UNITS,
                _("%(used)s of the %(max)s units are already used; %(asked)s more would exceed the maximum."),
                {"used": used, "max": program.max_units, "asked": payment.quantity},
            )
    for other in others:
        if other.period_start <= payment.period_end and other.period_end >= payment.period_start:
            errors.add(
                "period_start",
                PERIOD_OVERLAP,
                _("the period overlaps payment #%(id)s (%(start)s to %(end)s)."),
                {
                    "id": other.pk,
                    "start": other.period_start.isoformat(),
                    "end": other.period_end.isoformat(),
                },
            )
            break


def check_exclusive(
    payment: Payment, program: Program, exclusive: list[OtherPayment], errors: RuleErrors
) -> None:
    """MUTUALLY_EXCLUSIVE: a program marked mutually exclusive with others never pays a person for a
    period in which one of those already pays them (refused at payment time, not only found later
    by an audit)."""
    for other in exclusive:
        if other.period_start <= payment.period_end and other.period_end >= payment.period_start:
            errors.add(
                "program",
                MUTUALLY_EXCLUSIVE,
                _("the person is already paid by %(program)s for an overlapping period (payment #%(id)s)."),
                {"program": other.program_code, "id": other.pk},
            )
            return


def check_prior_work_for_training(
    payment: Payment, program: Program, prior: list[OtherPayment], errors: RuleErrors
) -> None:
    """PRIOR_WORK_FOR_TRAINING: a work-for-training program that excludes "已享受过以工代训职业培训补贴
    政策人员" (Gansu, digest lines 504-506; Fujian, lines 282-284) refuses a person who has a live
    payment of any other work-for-training program, whatever its period (of two such spells the
    rule cannot tell which came first in fact, so the second one entered is refused). Months of the
    same program are one spell, bounded by MAX_UNITS."""
    if not program.excludes_prior_work_for_training:
        return
    if payment.beneficiary_id is None:
        errors.add(
            "beneficiary",
            PRIOR_WORK_FOR_TRAINING,
            _("the program excludes people who already had work-for-training; name the person."),
        )
        return
    if prior:
        other = min(prior, key=lambda o: (o.period_start, o.pk))
        errors.add(
            "beneficiary",
            PRIOR_WORK_FOR_TRAINING,
            _(
                "the person already had work-for-training under %(program)s (payment #%(id)s, "
                "%(start)s to %(end)s); people who had it are excluded."
            ),
            {
                "program": other.program_code,
                "id": other.pk,
                "start": other.period_start.isoformat(),
                "end": other.period_end.isoformat(),
            },
        )


@dataclass(frozen=True)
class BudgetYear:
    year: int
    start: dt.date
    end: dt.date


def budget_year(day: dt.date) -> BudgetYear:
    return BudgetYear(day.year, dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))


def check_budget(
    payment: Payment, program: Program, used: decimal.Decimal | None, errors: RuleErrors
) -> None:
    """BUDGET_EXCEEDED: submitted + approved + paid payments of the program whose period starts in
    the same year never exceed its annual budget. The caller holds the program row lock, so two
    concurrent submissions cannot both see room for themselves."""
    if program.annual_budget is None or used is None:
        return
    if used + payment.amount > program.annual_budget:
        # The sum already committed is not named: a program issued above the actor's region is
        # spent in other regions too, which the actor may not see (GET .../budget/ shows a user
        # the whole program's figures only when their scope covers it).
        errors.add(
            "amount",
            BUDGET_EXCEEDED,
            _("%(amount)s more would exceed the program's %(year)s budget of %(budget)s."),
            {
                "year": payment.period_start.year,
                "budget": program.annual_budget,
                "amount": payment.amount,
            },
        )


def check_all(
    payment: Payment,
    program: Program,
    facts: PaymentFacts,
    *,
    today: dt.date,
    budget: bool = False,
) -> RuleErrors:
    """Every rule on one payment, in order; the refusals collected (an early refusal that makes the
    later rules meaningless stops them)."""
    errors = RuleErrors()
    if not check_payee_kind(payment, program, errors):
        return errors
    check_payee_region(payment, program, facts.payee_path, errors)
    check_validity(payment, program, errors)
    check_application_date(payment, program, today, errors)
    check_payment_deadline(program, today, errors)
    check_person_active(payment, errors)
    check_eligibility(payment, program, facts.group_codes, errors)
    check_employer(payment, program, errors)
    check_employment_status(payment, program, facts.status_on_start, errors)
    check_labour_contract(payment, program, today, errors)
    check_amounts(payment, program, facts.designations, errors)
    if errors:
        return errors
    check_entitlement(payment, program, facts.others, errors)
    check_exclusive(payment, program, facts.exclusive, errors)
    check_prior_work_for_training(payment, program, facts.prior_work_for_training, errors)
    if budget:
        check_budget(payment, program, facts.budget_used, errors)
    return errors
