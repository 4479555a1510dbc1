"""The funding API: payments and their transitions, idempotency, ETags, scope, programs, fund sources,
employers, budget, export and list query counts."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs.funding import services
from programs.funding.choices import PaymentStatus
from programs.funding.models import Employer, FundSource, Payment, Program
from seeds.factories.funding import EmployerFactory, make_uscc
from tests.programs.conftest import month
from tracker.api.models import IdempotencyRecord
from tracker.changelog.models import ChangeEntry

D = decimal.Decimal
pytestmark = pytest.mark.django_db
PAYMENTS = "/api/v1/payments/"


def body(program, person, **extra):
    return {"program": program.code, "beneficiary": person.pk, "month": "2021-05", **extra}


# -- payments ------------------------------------------------------------------------------------------


def test_create_payment(api, clerk, program, person, outsider):
    response = api(clerk).post(PAYMENTS, body(program, person, reason="May subsidy"), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["amount"] == "500.00"
    assert (data["period_start"], data["period_end"]) == ("2021-05-01", "2021-05-31")
    assert data["status"] == "draft"
    assert data["region"] == "360300"
    assert data["beneficiary"]["id_number_masked"] == person.id_number_masked
    assert data["fund_source"] == "employment_subsidy_fund"
    assert response["ETag"]
    payment = Payment.objects.get()
    assert payment.created_by == clerk
    entry = ChangeEntry.objects.get(model="funding.payment", object_id=str(payment.pk))
    assert (entry.action, entry.actor_name, entry.source) == ("create", "clerk_pingxiang", "api")
    assert entry.changes["amount"] == [None, "500.00"]
    # The outsider neither sees nor changes it.
    assert api(outsider).get(f"{PAYMENTS}{payment.pk}/").status_code == 404
    assert api(outsider).get(PAYMENTS).json()["results"] == []
    assert api(outsider).post(f"{PAYMENTS}{payment.pk}/submit/").status_code == 404
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.DRAFT


def test_rule_refusal_is_400_naming_the_rule(api, clerk, program, person):
    response = api(clerk).post(PAYMENTS, body(program, person, unit_amount="500.01"), format="json")
    assert response.status_code == 400
    problem = response.json()
    assert problem["status"] == 400
    assert "UNIT_AMOUNT_OUT_OF_RANGE" in problem["errors"]["unit_amount"][0]
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"month": "2021-13"},
        {"month": "May"},
        {"quantity": "NaN"},
        {"quantity": "1e300"},
        {"unit_amount": "Infinity"},
        {"amount": "99999999999999999.00"},
        {"beneficiary": "abc"},
        {"beneficiary": 10**30},
        {"program": "NO_SUCH_PROGRAM"},
        {"month": None, "period_start": "2021-02-30", "period_end": "2021-03-01"},
        {"month": None, "period_start": "2021-05-31", "period_end": "2021-05-01"},
        {"month": None},
    ],
)
def test_bad_input_is_400(api, clerk, program, person, extra):
    data = body(program, person)
    data.update(extra)
    data = {k: v for k, v in data.items() if v is not None}
    response = api(clerk).post(PAYMENTS, data, format="json")
    assert response.status_code == 400, response.content
    assert not Payment.objects.exists()


def test_create_for_a_person_outside_the_scope_is_refused(api, clerk, make_program, person_in):
    """The person is looked up within the caller's scope, so someone outside it answers exactly like
    an id that does not exist (400 on the field), never 403, which would reveal that the id exists.
    The service itself still refuses with 403 (test_only_clerks_create_and_only_in_scope)."""
    program = make_program(region="000000")
    stranger = person_in("450400")
    before = ChangeEntry.objects.count()
    response = api(clerk).post(PAYMENTS, body(program, stranger), format="json")
    assert response.status_code == 400
    assert "does not exist" in response.json()["errors"]["beneficiary"][0]
    assert not Payment.objects.exists()
    assert ChangeEntry.objects.count() == before


def test_transitions_through_the_api(api, clerk, reviewer, program, person):
    created = api(clerk).post(PAYMENTS, body(program, person), format="json").json()
    url = f"{PAYMENTS}{created['id']}"
    assert api(clerk).post(f"{url}/submit/").json()["status"] == "submitted"
    # The clerk cannot approve (not a reviewer), nor can a reviewer approve what they submitted.
    assert api(clerk).post(f"{url}/approve/").status_code == 403
    approved = api(reviewer).post(f"{url}/approve/")
    assert approved.status_code == 200
    assert approved.json()["approved_by"] == "reviewer_pingxiang"
    paid = api(reviewer).post(f"{url}/mark-paid/", {"external_reference": "BANK-1"}, format="json")
    assert paid.json()["status"] == "paid"
    reversal = api(reviewer).post(f"{url}/reverse/", {"reason": "bank returned it"}, format="json")
    assert reversal.status_code == 201
    assert reversal.json()["amount"] == "-500.00"
    assert reversal.json()["reverses"] == created["id"]
    assert api(reviewer).get(f"{url}/").json()["reversal"] == reversal.json()["id"]
    actions = list(
        ChangeEntry.objects.filter(model="funding.payment", object_id=str(created["id"]))
        .order_by("id")
        .values_list("action", "actor_name", "source")
    )
    assert actions == [
        ("create", "clerk_pingxiang", "api"),
        ("submit", "clerk_pingxiang", "api"),
        ("approve", "reviewer_pingxiang", "api"),
        ("mark_paid", "reviewer_pingxiang", "api"),
        ("reverse", "reviewer_pingxiang", "api"),
    ]
    history = api(reviewer).get(f"{url}/history/").json()["results"]
    assert [h["action"] for h in history][:2] == ["reverse", "mark_paid"]
    # Wrong state: 409.
    assert api(reviewer).post(f"{url}/approve/").status_code == 409


def test_reject_needs_a_reason_in_the_api(api, clerk, reviewer, program, person):
    payment = services.payment_create(
        program=program, beneficiary=person, actor=clerk, submit=True, **month(5)
    )
    url = f"{PAYMENTS}{payment.pk}/reject/"
    assert api(reviewer).post(url, {}, format="json").status_code == 400
    response = api(reviewer).post(url, {"reason": "not resident"}, format="json")
    assert response.json()["status"] == "rejected"
    assert response.json()["rejection_reason"] == "not resident"


def test_stale_if_match_is_412(api, clerk, program, person):
    created = api(clerk).post(PAYMENTS, body(program, person), format="json")
    etag = created["ETag"]
    url = f"{PAYMENTS}{created.json()['id']}/submit/"
    ok = api(clerk).post(url, HTTP_IF_MATCH=etag)
    assert ok.status_code == 200
    assert ok["ETag"] != etag
    # Another write with the ETag read before the submit: refused, nothing changed.
    stale = api(clerk).post(url, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert Payment.objects.get().version == 2


def test_idempotent_create_replays_and_conflicts(api, clerk, program, person):
    client = api(clerk)
    first = client.post(PAYMENTS, body(program, person), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    replay = client.post(PAYMENTS, body(program, person), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["ETag"] == first["ETag"]
    assert replay["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    other = client.post(
        PAYMENTS, body(program, person, month="2021-06"), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 409
    assert "IDEMPOTENCY_KEY_REUSED" in other.json()["detail"]
    assert Payment.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_idempotency_key_is_per_user(api, clerk, program, person, regions):
    from tests.conftest import make_user
    from tracker.accounts.choices import Role

    colleague = make_user("clerk_two", regions["360300"], Role.CLERK)
    api(clerk).post(PAYMENTS, body(program, person), format="json", HTTP_IDEMPOTENCY_KEY="same")
    response = api(colleague).post(
        PAYMENTS, body(program, person, month="2021-06"), format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert response.status_code == 201
    assert Payment.objects.count() == 2


def test_refused_request_stores_no_key(api, clerk, program, person):
    client = api(clerk)
    bad = client.post(
        PAYMENTS, body(program, person, unit_amount="999.00"), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    fixed = client.post(PAYMENTS, body(program, person), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert fixed.status_code == 201


def test_idempotent_transition(api, clerk, reviewer, program, person):
    payment = services.payment_create(
        program=program, beneficiary=person, actor=clerk, submit=True, **month(5)
    )
    url = f"{PAYMENTS}{payment.pk}/approve/"
    first = api(reviewer).post(url, HTTP_IDEMPOTENCY_KEY="approve-1")
    replay = api(reviewer).post(url, HTTP_IDEMPOTENCY_KEY="approve-1")
    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.json() == first.json()
    assert (
        ChangeEntry.objects.filter(
            model="funding.payment", object_id=str(payment.pk), action="approve"
        ).count()
        == 1
    )
    # The same key for another payment's approval is another request: 409.
    other = services.payment_create(program=program, beneficiary=person, actor=clerk, submit=True, **month(6))
    assert (
        api(reviewer).post(f"{PAYMENTS}{other.pk}/approve/", HTTP_IDEMPOTENCY_KEY="approve-1").status_code
        == 409
    )


def test_approve_batch(api, clerk, reviewer, program, person_in, outsider):
    payments = [
        services.payment_create(
            program=program, beneficiary=person_in(), actor=clerk, submit=True, **month(5)
        )
        for _ in range(3)
    ]
    draft = services.payment_create(program=program, beneficiary=person_in(), actor=clerk, **month(5))
    url = f"{PAYMENTS}approve-batch/"
    refused = api(reviewer).post(url, {"ids": [p.pk for p in payments] + [draft.pk]}, format="json")
    assert refused.status_code == 400
    assert "ids.3" in refused.json()["errors"]
    assert not Payment.objects.filter(status=PaymentStatus.APPROVED).exists()
    # Ids outside the caller's scope look like missing ones.
    hidden = api(reviewer).post(url, {"ids": [p.pk for p in payments] + [10**9]}, format="json")
    assert hidden.status_code == 400
    assert api(outsider).post(url, {"ids": [payments[0].pk]}, format="json").status_code == 403
    ok = api(reviewer).post(url, {"ids": [p.pk for p in payments]}, format="json")
    assert ok.status_code == 200
    assert [row["status"] for row in ok.json()] == ["approved"] * 3


def test_list_filters(api, clerk, reviewer, program, make_program, person_in, employer):
    a = services.payment_create(program=program, beneficiary=person_in(), actor=clerk, **month(3))
    b = services.payment_create(
        program=program, beneficiary=person_in(), actor=clerk, submit=True, **month(6)
    )
    other = make_program(payee_kind="employer", eligible_groups=[])
    c = services.payment_create(program=other, employer=employer, actor=clerk, **month(5))
    client = api(reviewer)

    def ids(query: str) -> set[int]:
        response = client.get(f"{PAYMENTS}?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(f"program={program.code}") == {a.pk, b.pk}
    assert ids("payee_kind=employer") == {c.pk}
    assert ids(f"employer={employer.pk}") == {c.pk}
    assert ids(f"beneficiary={a.beneficiary_id}") == {a.pk}
    assert ids("status=submitted") == {b.pk}
    assert ids("period_from=2021-05-15") == {b.pk, c.pk}
    assert ids("period_to=2021-05-01") == {a.pk, c.pk}
    assert ids("within=360300") == {a.pk, b.pk, c.pk}
    assert ids("within=450400") == set()
    assert ids("fund_source=employment_subsidy_fund") == {a.pk, b.pk, c.pk}
    assert client.get(f"{PAYMENTS}?period_from=not-a-date").status_code == 400
    assert client.get(f"{PAYMENTS}?status=nonsense").status_code == 400


def test_list_query_count_is_constant(api, reviewer, clerk, program, person_in, employer, make_program):
    for number in range(1, 7):
        services.payment_create(program=program, beneficiary=person_in(), actor=clerk, **month(number))
    other = make_program(payee_kind="employer", eligible_groups=[])
    services.payment_create(program=other, employer=employer, actor=clerk, **month(5))
    client = api(reviewer)
    client.get(PAYMENTS)  # warm caches (token, content types)

    def count(size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{PAYMENTS}?page_size={size}").status_code == 200
        return len(ctx.captured_queries)

    assert count(2) == count(500)


# -- budget -------------------------------------------------------------------------------------------


def test_budget_endpoint(api, clerk, reviewer, make_program, person_in, outsider):
    program = make_program(annual_budget=D("2000.00"))
    services.payment_create(program=program, beneficiary=person_in(), actor=clerk, submit=True, **month(5))
    paid = services.payment_create(
        program=program, beneficiary=person_in(), actor=clerk, submit=True, **month(5)
    )
    services.payment_approve(payment=paid, actor=reviewer)
    services.payment_mark_paid(payment=paid, actor=reviewer)
    url = f"/api/v1/programs/{program.pk}/budget/"
    with CaptureQueriesContext(connection) as ctx:
        response = api(clerk).get(url)
    assert response.status_code == 200
    assert response.json() == {
        "program": program.code,
        "year": 2021,
        "budget": "2000.00",
        "committed": "500.00",
        "paid": "500.00",
        "reversed": "0.00",
        "remaining": "1000.00",
    }
    assert sum('SUM("' in q["sql"].upper() for q in ctx.captured_queries) == 1
    assert api(clerk).get(f"{url}?year=2022").json()["remaining"] == "2000.00"
    assert api(clerk).get(f"{url}?year=abc").status_code == 400
    assert api(outsider).get(url).status_code == 404


# -- programs -------------------------------------------------------------------------------------------


def test_program_scope_covers_ancestors_and_subtree(api, clerk, outsider, make_program, regions):
    from tests.conftest import make_user
    from tracker.accounts.choices import Role

    wuzhou_reviewer = make_user("reviewer_wuzhou", regions["450400"], Role.REVIEWER)
    national = make_program(region="000000")
    province = make_program(region="360000")
    city = make_program(region="360300")
    scenic = make_program(region="3603X1")
    wuzhou = make_program(region="450400")
    seen = {row["code"] for row in api(clerk).get("/api/v1/programs/?page_size=100").json()["results"]}
    assert seen == {national.code, province.code, city.code, scenic.code}
    assert api(clerk).get(f"/api/v1/programs/{wuzhou.pk}/").status_code == 404
    assert api(outsider).get(f"/api/v1/programs/{city.pk}/").status_code == 404
    assert (
        api(wuzhou_reviewer)
        .patch(f"/api/v1/programs/{city.pk}/", {"name_en": "x"}, format="json")
        .status_code
        == 404
    )
    applies = api(clerk).get("/api/v1/programs/?applies_in=3603X1&page_size=100").json()["results"]
    assert {row["code"] for row in applies} == {national.code, province.code, city.code, scenic.code}


PROGRAM = {
    "code": "PX_TEST_TRANSPORT",
    "name_zh": "测试交通补助",
    "name_en": "Test transport subsidy",
    "region": "360300",
    "kind": "transport",
    "payee_kind": "person",
    "fund_source": "employment_subsidy_fund",
    "unit": "one_off",
    "standard_amount": "600.00",
    "once_per_person": True,
    "eligible_groups": ["lifted_out_of_poverty"],
    "uplifts": {"national_key_county": "10"},
    "annual_budget": "100000.00",
    "policy_reference": "萍人社字〔2021〕1号",
}


def test_reviewer_sets_up_programs_in_their_region(api, reviewer, clerk, fund, outsider):
    from tests.programs.conftest import make_group

    make_group("lifted_out_of_poverty")
    assert api(clerk).post("/api/v1/programs/", PROGRAM, format="json").status_code == 403
    response = api(reviewer).post("/api/v1/programs/", PROGRAM, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["uplifts"] == {"national_key_county": "10"}
    program = Program.objects.get(code=PROGRAM["code"])
    entry = ChangeEntry.objects.get(model="funding.program", object_id=str(program.pk))
    assert (entry.action, entry.actor_name) == ("create", "reviewer_pingxiang")
    # PATCH with If-Match.
    url = f"/api/v1/programs/{program.pk}/"
    etag = response["ETag"]
    patched = api(reviewer).patch(url, {"annual_budget": "90000.00"}, format="json", HTTP_IF_MATCH=etag)
    assert patched.status_code == 200
    assert (
        api(reviewer).patch(url, {"annual_budget": "1.00"}, format="json", HTTP_IF_MATCH=etag).status_code
        == 412
    )
    program.refresh_from_db()
    assert program.annual_budget == D("90000.00")
    # Above their region: 403, nothing written.
    above = {**PROGRAM, "code": "JX_TEST", "region": "360000"}
    assert api(reviewer).post("/api/v1/programs/", above, format="json").status_code == 403
    assert not Program.objects.filter(code="JX_TEST").exists()


def test_program_validation(api, reviewer, fund):
    bad = {**PROGRAM, "eligible_groups": ["no_such_group"], "uplifts": {"no_such_designation": "10"}}
    response = api(reviewer).post("/api/v1/programs/", bad, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"eligible_groups", "uplifts"}
    assert (
        api(reviewer)
        .post("/api/v1/programs/", {**PROGRAM, "uplifts": {"national_key_county": "150"}}, format="json")
        .status_code
        == 400
    )
    assert (
        api(reviewer)
        .post(
            "/api/v1/programs/",
            {**PROGRAM, "min_amount": "700.00", "max_amount": "600.00", "eligible_groups": []},
            format="json",
        )
        .status_code
        == 400
    )


def test_reviewer_cannot_edit_an_ancestor_program(api, reviewer, make_program):
    province = make_program(region="360000")
    response = api(reviewer).patch(f"/api/v1/programs/{province.pk}/", {"name_en": "changed"}, format="json")
    assert response.status_code == 403
    province.refresh_from_db()
    assert province.name_en != "changed"


# -- fund sources and employers -----------------------------------------------------------------------------


def test_fund_sources(api, clerk, reviewer, superuser, fund):
    assert api(clerk).get("/api/v1/fund-sources/").json()["results"][0]["code"] == "employment_subsidy_fund"
    new = {
        "code": "unemployment_insurance_fund",
        "name_zh": "失业保险基金",
        "name_en": "Unemployment insurance fund",
    }
    assert api(reviewer).post("/api/v1/fund-sources/", new, format="json").status_code == 403
    assert api(superuser).post("/api/v1/fund-sources/", new, format="json").status_code == 201
    assert (
        api(superuser).post("/api/v1/fund-sources/", new, format="json").status_code == 400
    )  # duplicate code
    assert FundSource.objects.count() == 2


def test_employers(api, clerk, outsider, regions):
    uscc = make_uscc("360300", 42)
    data = {
        "name": "萍乡示例机械有限公司",
        "uscc": uscc,
        "region": "360300",
        "size": "small",
        "industry": "manufacturing",
    }
    response = api(clerk).post("/api/v1/employers/", data, format="json")
    assert response.status_code == 201, response.json()
    employer = Employer.objects.get(uscc=uscc)
    assert (
        ChangeEntry.objects.get(model="funding.employer", object_id=str(employer.pk)).actor_name
        == "clerk_pingxiang"
    )
    wrong_check = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    assert (
        api(clerk).post("/api/v1/employers/", {**data, "uscc": wrong_check}, format="json").status_code == 400
    )
    assert (
        api(clerk)
        .post(
            "/api/v1/employers/", {**data, "uscc": make_uscc("450400", 1), "region": "450400"}, format="json"
        )
        .status_code
        == 403
    )
    assert api(outsider).get(f"/api/v1/employers/{employer.pk}/").status_code == 404
    assert Employer.objects.count() == 1


# -- export -------------------------------------------------------------------------------------------------


def test_export_csv_streams_masked_and_neutralised(
    api, clerk, reviewer, program, person_in, outsider, employer
):
    person = person_in(name="王小明")
    services.payment_create(
        program=program, beneficiary=person, actor=clerk, reason='=HYPERLINK("http://x")', **month(5)
    )
    reversed_ = services.payment_create(
        program=program, beneficiary=person_in(), actor=clerk, submit=True, reason="@sum", **month(5)
    )
    services.payment_approve(payment=reversed_, actor=reviewer)
    services.payment_mark_paid(payment=reversed_, actor=reviewer)
    services.payment_reverse(payment=reversed_, actor=reviewer, reason="-10 wrong")
    response = api(reviewer).get(f"{PAYMENTS}export/?format=csv&program={program.code}")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 4  # header + 3
    flat = "\n".join(",".join(r) for r in rows)
    assert "王小明" not in flat and "王**" in flat
    assert person.id_number_masked in flat
    assert "'=HYPERLINK" in flat and "'@sum" in flat and "'-10 wrong" in flat
    assert "-500.00" in flat  # numbers stay numbers
    # Filters apply, and the outsider's export is empty.
    outsider_rows = b"".join(api(outsider).get(f"{PAYMENTS}export/?format=csv").streaming_content)
    assert len(outsider_rows.decode("utf-8-sig").strip().splitlines()) == 1
    assert api(reviewer).get(f"{PAYMENTS}export/?format=pdf").status_code == 400


def test_export_speaks_labels_by_default_and_codes_on_request(api, clerk, reviewer, program, person):
    """An analyst opening the file reads 已发放, 个人 and names; `labels=codes` is for machines."""
    payment = services.payment_create(
        program=program, beneficiary=person, actor=clerk, submit=True, **month(5)
    )
    services.payment_approve(payment=payment, actor=reviewer)
    services.payment_mark_paid(payment=payment, actor=reviewer)

    def export(query: str, language: str = "zh-hans") -> list[list[str]]:
        response = api(reviewer).get(f"{PAYMENTS}export/?format=csv{query}", HTTP_ACCEPT_LANGUAGE=language)
        return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))

    header, row = export("")
    cells = dict(zip(header, row, strict=True))
    assert cells["状态"] == "已发放" and cells["收款方类型"] == "个人"
    assert cells["政策项目"] == program.name_zh and cells["地区"] == program.region.name_zh
    assert cells["资金来源"] == program.fund_source.name_zh
    header, row = export("", "en")
    assert dict(zip(header, row, strict=True))["Status"] == "Paid"
    header, row = export("&labels=codes")
    cells = dict(zip(header, row, strict=True))
    assert cells["status"] == "paid" and cells["payee_kind"] == "person" and cells["program"] == program.code


def test_export_xlsx(api, clerk, reviewer, program, person):
    from openpyxl import load_workbook

    services.payment_create(program=program, beneficiary=person, actor=clerk, reason="+1", **month(5))
    response = api(reviewer).get(f"{PAYMENTS}export/?format=xlsx")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert "'+1" in rows[1]
    assert person.name not in rows[1]


def test_file_section_lists_subsidies(clerk, program, person, outsider):
    from beneficiaries.file_sections import file_sections

    services.payment_create(program=program, beneficiary=person, actor=clerk, **month(5))
    section = {s.key: s for s in file_sections()}["payments"]
    rows = section.provider(person, clerk)
    assert rows[0]["amount"] == "500.00" and rows[0]["program"] == program.code
    assert section.provider(person, outsider) == []


def test_employer_factory_is_valid(regions):
    employer = EmployerFactory.build(region=regions["360300"])
    employer.full_clean(exclude=["region"], validate_unique=False)
    assert dt.date.today()


def test_refusals_in_chinese(api, clerk, program, person):
    response = api(clerk).post(
        PAYMENTS, body(program, person, unit_amount="500.01"), format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["unit_amount"][0].startswith("UNIT_AMOUNT_OUT_OF_RANGE: 单价")
