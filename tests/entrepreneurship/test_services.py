"""Entrepreneurs, guaranteed loans, interest shares by level (Jinnan pays the borrower's share of
2021 loans) and the interest subsidy paid through the ledger; the section on hand-built data."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.core.exceptions import PermissionDenied

from programs.entrepreneurship import rules, services
from programs.entrepreneurship.models import InterestSubsidy
from programs.entrepreneurship.reports import entrepreneurship_rows
from seeds.factories.beneficiaries import make_id_number
from seeds.factories.funding import FundSourceFactory, ProgramFactory
from tests.figures_support import person_with_status, scope_for
from tracker.errors import Conflict

D = decimal.Decimal
pytestmark = pytest.mark.django_db


def test_interest_shares_add_up_and_jinnan_pays_the_borrowers_share_of_2021_loans():
    jinnan = "000000/120000/120112/"
    shares = rules.interest_shares(
        amount=D("100000"), annual_rate=D("0.0385"), term_months=24, region_path=jinnan, year=2021
    )
    assert shares == {"upper": D("3000.00"), "district": D("4700.00"), "borrower": D("0.00")}
    assert sum(shares.values()) == rules.interest_owed(D("100000"), D("0.0385"), 24) == D("7700.00")
    elsewhere = rules.interest_shares(
        amount=D("100000"), annual_rate=D("0.0385"), term_months=24, region_path=jinnan, year=2020
    )
    assert elsewhere["district"] == 0 and elsewhere["borrower"] == D("4700.00")


def test_loans_interest_payment_and_section(regions, superuser, outsider, analyst, clerk):
    jinnan = regions["120112"]
    person = person_with_status(jinnan, "self_employed")
    entrepreneur = services.entrepreneur_create(
        actor=superuser, region=jinnan, supported_on=dt.date(2021, 3, 1), beneficiary=person
    )
    with pytest.raises(Conflict):
        services.entrepreneur_create(
            actor=superuser, region=jinnan, supported_on=dt.date(2021, 3, 1), beneficiary=person
        )
    other = services.entrepreneur_create(
        actor=superuser,
        region=jinnan,
        supported_on=dt.date(2021, 4, 1),
        name="王小明",
        id_number=make_id_number("120112", dt.date(1990, 5, 5), 7, "male"),
    )
    assert other.id_number_masked.startswith("1201") and "*" in other.id_number_masked
    with pytest.raises(PermissionDenied):
        services.loan_create(
            actor=outsider,
            entrepreneur=entrepreneur,
            lender="L",
            amount=D("1"),
            term_months=12,
            annual_rate=D("0.0385"),
            issued_on=dt.date(2021, 3, 2),
        )
    loan = services.loan_create(
        actor=superuser,
        entrepreneur=entrepreneur,
        lender="银行",
        amount=D("100000"),
        term_months=24,
        annual_rate=D("0.0385"),
        issued_on=dt.date(2021, 3, 2),
    )
    services.loan_create(
        actor=superuser,
        entrepreneur=other,
        lender="银行",
        amount=D("50000"),
        term_months=12,
        annual_rate=D("0.0435"),
        issued_on=dt.date(2021, 4, 2),
    )
    program = ProgramFactory(
        code="JN_TEST_INTEREST",
        region=jinnan,
        kind="entrepreneurship",
        payee_kind="person",
        unit="one_off",
        fund_source=FundSourceFactory(code="jn_test_fund"),
        eligible_groups=[],
        standard_amount=None,
        max_amount=None,
        annual_budget=None,
        valid_from=dt.date(2021, 1, 1),
        valid_to=dt.date(2021, 12, 31),
    )
    district = InterestSubsidy.objects.get(loan=loan, level="district")
    [payment] = services.interest_subsidies_pay(
        actor=superuser, program=program, shares=[district], today=dt.date(2021, 6, 30)
    )
    assert payment.amount == D("4700.00") and payment.beneficiary == person and payment.cause_label
    # The second borrower is not in the registry: the ledger cannot pay them.
    unpaid = InterestSubsidy.objects.get(loan__entrepreneur=other, level="district")
    with pytest.raises(Exception) as exc:
        services.interest_subsidies_pay(actor=superuser, program=program, shares=[unpaid])
    assert rules.NO_REGISTRY_PERSON in str(exc.value)

    [row] = entrepreneurship_rows(scope_for(analyst, regions["120000"]))
    assert (row["subregion"], row["entrepreneurs"], row["loans"], row["loan_amount"]) == (
        "120112",
        2,
        2,
        D("150000.00"),
    )
    assert row["interest_district"] == D("4700.00") + D("1175.00") and row["interest_district_paid"] == D(
        "4700.00"
    )
    assert row["interest_upper"] == D("3000.00") + D("1000.00") and row["interest_borrower"] == 0
    assert entrepreneurship_rows(scope_for(clerk, regions["120000"])) == []
