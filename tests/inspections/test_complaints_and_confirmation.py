"""Complaints (personal data encrypted, hashed, masked in the API, the admin and the change log;
anonymous allowed; received → investigating → resolved/unfounded, a finding when it led to one) and
sampled payment confirmation (reproducible from the stored seed; a discrepancy opens a
high-severity finding; the rates)."""

from __future__ import annotations

import decimal

import pytest

from programs.funding import services as ledger
from programs.funding.models import Payment
from programs.inspections.models import Complaint, ConfirmationSample, Finding
from programs.inspections.selectors import draw_sample, sample_population
from programs.inspections.services import COMPLAINANT_NAME_PURPOSE, COMPLAINANT_PHONE_PURPOSE
from tracker.changelog.models import ChangeEntry
from tracker.pii import decrypt, keyed_hash

pytestmark = pytest.mark.django_db
COMPLAINTS = "/api/v1/audit/complaints/"
SAMPLES = "/api/v1/audit/confirmation-samples/"
CONFIRMATIONS = "/api/v1/audit/confirmations/"
NAME, PHONE = "王小明", "13812345678"


def complaint_body(**fields):
    body = {
        "region": "3603X1901001",
        "channel": "phone",
        "received_on": "2021-08-03",
        "complainant_name": NAME,
        "complainant_phone": PHONE,
        "concerns": "post",
        "subject": "保洁员长期不在岗",
        "category": "absent_holder",
        "assigned_unit": "武功山示例乡",
    }
    body.update(fields)
    return body


@pytest.fixture
def complaint(api, clerk, regions):
    res = api(clerk).post(COMPLAINTS, complaint_body(), format="json")
    assert res.status_code == 201, res.json()
    return Complaint.objects.get(pk=res.json()["id"])


def test_complainant_data_is_encrypted_hashed_and_masked_everywhere(api, complaint, superuser, client):
    assert decrypt(complaint.complainant_name_encrypted, purpose=COMPLAINANT_NAME_PURPOSE) == NAME
    assert decrypt(complaint.complainant_phone_encrypted, purpose=COMPLAINANT_PHONE_PURPOSE) == PHONE
    assert complaint.complainant_phone_hash == keyed_hash(PHONE, purpose=COMPLAINANT_PHONE_PURPOSE)
    assert (complaint.complainant_name_masked, complaint.complainant_phone_masked) == ("王**", "138****5678")
    # The API (list and detail)
    for body in (
        api(superuser).get(f"{COMPLAINTS}{complaint.pk}/").content,
        api(superuser).get(COMPLAINTS).content,
    ):
        text = body.decode()
        assert NAME not in text and PHONE not in text and "138****5678" in text
    # The change log
    entries = ChangeEntry.objects.filter(model="inspections.complaint")
    assert entries.exists()
    for entry in entries:
        text = str(entry.changes)
        assert NAME not in text and PHONE not in text and "encrypted" not in text and "hash" not in text
    history = api(superuser).get(f"{COMPLAINTS}{complaint.pk}/history/").content.decode()
    assert NAME not in history and PHONE not in history
    # The admin (list and change page)
    client.force_login(superuser)
    for url in ("/admin/inspections/complaint/", f"/admin/inspections/complaint/{complaint.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert NAME not in html and PHONE not in html and complaint.complainant_phone_encrypted not in html
        assert "138****5678" in html


def test_an_anonymous_complaint_names_no_one(api, inspector):
    res = api(inspector).post(COMPLAINTS, complaint_body(anonymous=True), format="json")
    assert res.status_code == 400 and "anonymous" in res.json()["errors"]
    res = api(inspector).post(
        COMPLAINTS, complaint_body(anonymous=True, complainant_name="", complainant_phone=""), format="json"
    )
    assert res.status_code == 201 and res.json()["complainant_name"] == ""


def test_the_complaint_lifecycle_and_its_finding(api, clerk, inspector, complaint):
    res = api(clerk).post(f"{COMPLAINTS}{complaint.pk}/investigate/", {}, format="json")
    assert res.json()["status"] == "investigating"
    # A clerk resolves but only an inspector opens a finding.
    res = api(clerk).post(
        f"{COMPLAINTS}{complaint.pk}/resolve/", {"outcome": "属实", "open_finding": True}, format="json"
    )
    assert res.status_code == 403
    assert api(inspector).post(f"{COMPLAINTS}{complaint.pk}/resolve/", {}, format="json").status_code == 400
    res = api(inspector).post(
        f"{COMPLAINTS}{complaint.pk}/resolve/",
        {
            "outcome": "经核实属实",
            "open_finding": True,
            "severity": "high",
            "rectification_required": "扣发当月补贴",
        },
        format="json",
    )
    assert res.status_code == 200, res.json()
    finding = Finding.objects.get(pk=res.json()["finding"])
    assert (finding.source, finding.severity, finding.rectification_required) == (
        "complaint",
        "high",
        "扣发当月补贴",
    )
    assert (
        api(inspector)
        .post(f"{COMPLAINTS}{complaint.pk}/unfounded/", {"outcome": "x"}, format="json")
        .status_code
        == 409
    )


@pytest.mark.parametrize("role", ["analyst", "outsider"])
def test_analysts_and_outsiders_do_not_handle_complaints(api, request, role, complaint):
    client = api(request.getfixturevalue(role))
    assert client.post(COMPLAINTS, complaint_body(), format="json").status_code == 403
    res = client.post(f"{COMPLAINTS}{complaint.pk}/investigate/", {}, format="json")
    assert res.status_code in (403, 404)
    seen = client.get(f"{COMPLAINTS}{complaint.pk}/").status_code
    assert seen == (200 if role == "analyst" else 404)
    complaint.refresh_from_db()
    assert complaint.status == "received"


def test_an_outsider_cannot_file_a_complaint_in_pingxiang(api, regions):
    from tests.conftest import make_user

    wuzhou_inspector = make_user("inspector_wuzhou", regions["450400"], "inspector")
    assert api(wuzhou_inspector).post(COMPLAINTS, complaint_body(), format="json").status_code == 403
    assert not Complaint.objects.exists()


# -- sampled payment confirmation -------------------------------------------------------------------


@pytest.fixture
def paid(area, reviewer, regions):
    """The June post subsidies of the area, approved and paid."""
    payments = list(Payment.objects.filter(status="submitted").order_by("pk"))
    assert len(payments) >= 3
    for payment in payments:
        ledger.payment_approve(payment=payment, actor=reviewer)
        ledger.payment_mark_paid(payment=payment, actor=reviewer, external_reference=f"BANK-{payment.pk}")
    return payments


def draw(client, **fields):
    body = {
        "region": "3603X1",
        "period_start": "2021-06-01",
        "period_end": "2021-06-30",
        "size": 2,
        "seed": "wgs-2021-08",
    }
    body.update(fields)
    return client.post(SAMPLES, {k: v for k, v in body.items() if v is not None}, format="json")


def test_a_sample_is_reproducible_from_its_seed(api, inspector, paid):
    first = draw(api(inspector))
    assert first.status_code == 201, first.json()
    second = draw(api(inspector))
    sample_a, sample_b = (ConfirmationSample.objects.get(pk=r.json()["id"]) for r in (first, second))
    chosen = [sorted(s.confirmations.values_list("payment_id", flat=True)) for s in (sample_a, sample_b)]
    assert chosen[0] == chosen[1] and len(chosen[0]) == 2
    assert first.json()["population"] == len(paid) and first.json()["seed"] == "wgs-2021-08"
    # Recomputed from the stored seed and cut-off alone.
    population = sample_population(
        region_path=sample_a.region.path,
        period_start=sample_a.period_start,
        period_end=sample_a.period_end,
        program_id=None,
        paid_by=sample_a.paid_by,
    )
    assert draw_sample(population, sample_a.size, sample_a.seed) == chosen[0]
    # Another seed, another draw (over ten seeds, at least one differs).
    assert any(draw_sample(population, 2, str(n)) != chosen[0] for n in range(10))
    # A random seed is chosen and stored when none is given; a rate rounds up.
    res = draw(api(inspector), seed=None, size=None, rate="0.5")
    assert res.status_code == 201 and len(res.json()["seed"]) == 16
    assert res.json()["size"] == -(-len(paid) // 2)
    assert draw(api(inspector), rate="0.5").status_code == 400  # size and rate


def test_confirmation_rates_and_a_discrepancy_opens_a_high_severity_finding(api, inspector, clerk, paid):
    sample_id = draw(api(inspector), size=3).json()["id"]
    rows = api(clerk).get(CONFIRMATIONS, {"sample": sample_id}).json()["results"]
    assert len(rows) == 3
    full, short, unreached = rows
    client = api(clerk)
    ok = client.post(
        f"{CONFIRMATIONS}{full['id']}/record/",
        {"method": "phone", "reached": True, "received": "yes"},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["finding"] is None
    less = decimal.Decimal(short["amount"]) - 100
    res = client.post(
        f"{CONFIRMATIONS}{short['id']}/record/",
        {
            "method": "visit",
            "reached": True,
            "received": "partly",
            "amount_stated": str(less),
            "note": "只收到部分",
        },
        format="json",
    )
    assert res.status_code == 200
    finding = Finding.objects.get(pk=res.json()["finding"])
    assert (finding.source, finding.rule, finding.severity, finding.concerns, finding.concerns_id) == (
        "confirmation",
        "PAYMENT_NOT_RECEIVED",
        "high",
        "payment",
        str(short["payment"]),
    )
    assert (
        client.post(
            f"{CONFIRMATIONS}{unreached['id']}/record/", {"method": "phone", "reached": False}, format="json"
        ).status_code
        == 200
    )
    again = client.post(
        f"{CONFIRMATIONS}{full['id']}/record/",
        {"method": "phone", "reached": True, "received": "yes"},
        format="json",
    )
    assert again.status_code == 409
    sample = api(clerk).get(f"{SAMPLES}{sample_id}/").json()
    assert (sample["confirmed"], sample["reached"], sample["received_in_full"], sample["discrepancies"]) == (
        3,
        2,
        1,
        1,
    )
    assert (sample["reach_rate"], sample["confirmation_rate"], sample["discrepancy_rate"]) == (
        "0.6667",
        "0.3333",
        "0.5000",
    )
    listed = {r["id"]: r for r in api(clerk).get(SAMPLES).json()["results"]}
    assert listed[sample_id]["confirmation_rate"] == "0.3333"


def test_a_person_stating_less_without_saying_partly_is_a_discrepancy(api, inspector, clerk, paid):
    sample_id = draw(api(inspector), size=1).json()["id"]
    row = api(clerk).get(CONFIRMATIONS, {"sample": sample_id}).json()["results"][0]
    res = api(clerk).post(
        f"{CONFIRMATIONS}{row['id']}/record/",
        {"method": "sms", "reached": True, "received": "yes", "amount_stated": "1.00"},
        format="json",
    )
    assert res.json()["finding"] is not None


@pytest.mark.parametrize("role", ["clerk", "reviewer", "analyst", "outsider"])
def test_only_inspectors_draw_samples_and_outsiders_see_none(api, request, role, inspector, paid):
    sample_id = draw(api(inspector)).json()["id"]
    client = api(request.getfixturevalue(role))
    assert draw(client).status_code == 403
    if role == "outsider":
        assert client.get(f"{SAMPLES}{sample_id}/").status_code == 404
        assert client.get(CONFIRMATIONS, {"sample": sample_id}).json()["results"] == []
        confirmation = ConfirmationSample.objects.get(pk=sample_id).confirmations.first()
        res = client.post(
            f"{CONFIRMATIONS}{confirmation.pk}/record/", {"method": "phone", "reached": False}, format="json"
        )
        assert res.status_code == 404
        assert client.get(f"{CONFIRMATIONS}{confirmation.pk}/").status_code == 404
    else:
        assert client.get(f"{SAMPLES}{sample_id}/").status_code == 200


def test_sample_periods_are_checked(api, inspector, paid):
    assert draw(api(inspector), period_start="2021-07-01").status_code == 400
    assert draw(api(inspector), period_start="2020-01-01", period_end="2020-01-31").json()["size"] == 0
