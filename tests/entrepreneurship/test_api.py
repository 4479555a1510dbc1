"""/api/v1/entrepreneurs/ and /api/v1/guaranteed-loans/: create, list, detail, the masked identity
number, and the outsider (Wuzhou) who can neither see nor add to Pingxiang's."""

from __future__ import annotations

import datetime as dt

import pytest

from programs.entrepreneurship.models import Entrepreneur, GuaranteedLoan
from seeds.factories.beneficiaries import make_id_number

pytestmark = pytest.mark.django_db


def test_entrepreneur_and_loan_through_the_api(api, clerk, outsider):
    client = api(clerk)
    number = make_id_number("360323", dt.date(1988, 8, 8), 3, "female")
    created = client.post(
        "/api/v1/entrepreneurs/",
        {
            "region": "360323",
            "supported_on": "2021-03-01",
            "name": "李小红",
            "id_number": number,
            "kind": "returnee",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert number not in created.content.decode() and body["id_number_masked"].count("*") >= 8
    loan = client.post(
        "/api/v1/guaranteed-loans/",
        {
            "entrepreneur": body["id"],
            "lender": "萍乡农商银行",
            "amount": "200000.00",
            "term_months": 36,
            "annual_rate": "0.0385",
            "issued_on": "2021-04-01",
        },
        format="json",
    )
    assert loan.status_code == 201, loan.content
    assert loan.json()["region"] == "360323" and GuaranteedLoan.objects.get().interest_shares.count() == 3
    assert len(client.get("/api/v1/guaranteed-loans/?issued_from=2021-01-01").json()["results"]) == 1
    twice = client.post(
        "/api/v1/entrepreneurs/",
        {"region": "360323", "supported_on": "2021-03-01", "name": "李小红", "id_number": number},
        format="json",
    )
    assert twice.status_code == 409

    other = api(outsider)
    assert other.get("/api/v1/entrepreneurs/").json()["results"] == []
    assert other.get("/api/v1/guaranteed-loans/").json()["results"] == []
    assert other.get(f"/api/v1/entrepreneurs/{body['id']}/").status_code == 404
    refused = other.post(
        "/api/v1/guaranteed-loans/",
        {
            "entrepreneur": body["id"],
            "lender": "x",
            "amount": "1.00",
            "term_months": 12,
            "annual_rate": "0.0385",
            "issued_on": "2021-04-01",
        },
        format="json",
    )
    assert refused.status_code == 400 and GuaranteedLoan.objects.count() == 1
    elsewhere = other.post(
        "/api/v1/entrepreneurs/",
        {
            "region": "360323",
            "supported_on": "2021-03-01",
            "name": "王五",
            "id_number": make_id_number("360323", dt.date(1980, 1, 1), 4, "male"),
        },
        format="json",
    )
    assert elsewhere.status_code == 403 and Entrepreneur.objects.count() == 1
