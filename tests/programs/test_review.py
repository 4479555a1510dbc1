"""Adversarial review of the ledger: each test pins a defect found in review (and fixed)."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs.funding import services
from programs.funding.choices import PaymentStatus, Unit
from programs.funding.models import Payment, Program
from seeds.factories.funding import EmployerFactory
from tests.programs.conftest import month
from tracker.api.models import IdempotencyRecord
from tracker.changelog.models import ChangeEntry

D = decimal.Decimal
pytestmark = pytest.mark.django_db
PAYMENTS = "/api/v1/payments/"


def body(program, person, **extra):
    return {"program": program.code, "beneficiary": person.pk, "month": "2021-05", **extra}


# -- scope leaks through the create form --------------------------------------------------------------


def test_outsider_cannot_name_a_person_outside_their_region(api, outsider, make_program, person, regions):
    program = make_program(region="000000", payee_kind="employer")
    wuzhou_employer = EmployerFactory(region=regions["450400"])
    response = api(outsider).post(
        PAYMENTS,
        {
            "program": program.code,
            "employer": wuzhou_employer.pk,
            "beneficiary": person.pk,
            "month": "2021-05",
        },
        format="json",
    )
    missing = api(outsider).post(
        PAYMENTS,
        {"program": program.code, "employer": wuzhou_employer.pk, "beneficiary": 10**9, "month": "2021-05"},
        format="json",
    )
    assert response.status_code == missing.status_code == 400, response.json()
    assert response.json()["errors"]["beneficiary"] == [
        m.replace(str(10**9), str(person.pk)) for m in missing.json()["errors"]["beneficiary"]
    ]
    assert not Payment.objects.exists()


def test_outsider_cannot_probe_programs_or_employers_of_other_regions(
    api, outsider, make_program, employer, regions
):
    pingxiang = make_program(region="360300", payee_kind="employer", eligible_groups=[])
    national = make_program(region="000000", payee_kind="employer", eligible_groups=[])
    unknown = api(outsider).post(
        PAYMENTS, {"program": "NO_SUCH", "employer": 10**9, "month": "2021-05"}, format="json"
    )
    hidden_program = api(outsider).post(
        PAYMENTS, {"program": pingxiang.code, "employer": 10**9, "month": "2021-05"}, format="json"
    )
    hidden_employer = api(outsider).post(
        PAYMENTS, {"program": national.code, "employer": employer.pk, "month": "2021-05"}, format="json"
    )
    unknown_employer = api(outsider).post(
        PAYMENTS, {"program": national.code, "employer": 10**9, "month": "2021-05"}, format="json"
    )
    assert hidden_program.status_code == 400
    assert hidden_program.json()["errors"]["program"] == [
        m.replace("NO_SUCH", pingxiang.code) for m in unknown.json()["errors"]["program"]
    ]
    assert hidden_employer.status_code == unknown_employer.status_code == 400
    assert hidden_employer.json()["errors"]["employer"] == [
        m.replace(str(10**9), str(employer.pk)) for m in unknown_employer.json()["errors"]["employer"]
    ]
    assert not Payment.objects.exists()


def test_service_refuses_a_person_outside_the_actors_region(make_program, person, outsider, regions):
    from django.core.exceptions import PermissionDenied

    program = make_program(region="000000", payee_kind="employer")
    employer = EmployerFactory(region=regions["450400"])
    with pytest.raises(PermissionDenied):
        services.payment_create(
            program=program, employer=employer, beneficiary=person, actor=outsider, **month(5)
        )
    assert not Payment.objects.exists()


# -- money input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "0.001"}, "quantity"),
        ({"quantity": "1e400"}, "quantity"),
        ({"quantity": "-Infinity"}, "quantity"),
        ({"quantity": "sNaN"}, "quantity"),
        ({"unit_amount": "499.999"}, "unit_amount"),
        ({"unit_amount": "0"}, "unit_amount"),
        ({"unit_amount": "-500"}, "unit_amount"),
        ({"unit_amount": "1e400"}, "unit_amount"),
        ({"unit_amount": "NaN"}, "unit_amount"),
        ({"amount": "500.001"}, "amount"),
        ({"amount": "-500.00"}, "amount"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": "1e400"}, "amount"),
        ({"amount": "123456789012345.00"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": [1]}, "amount"),
    ],
)
def test_bad_money_is_a_field_error(api, clerk, program, person, extra, field):
    response = api(clerk).post(PAYMENTS, body(program, person, **extra), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not Payment.objects.exists()


def test_huge_unit_amount_without_a_cap_is_400(api, clerk, make_program, person):
    program = make_program(standard_amount=None)
    response = api(clerk).post(
        PAYMENTS, body(program, person, unit_amount="999999999999.99", quantity="99999999.99"), format="json"
    )
    assert response.status_code == 400, response.content
    assert "amount" in response.json()["errors"]
    assert not Payment.objects.exists()


def test_json_number_amounts_are_exact(api, clerk, make_program, person):
    program = make_program(standard_amount=D("33.33"), unit=Unit.PERSON_DAY)
    response = api(clerk).post(PAYMENTS, body(program, person, quantity=3, unit_amount=33.33), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "99.99"
    assert Payment.objects.get().amount == D("99.99")


@pytest.mark.parametrize(
    "raw", ['"quantity": 1e400', '"amount": 1e400', '"unit_amount": -1e400', '"quantity": NaN']
)
def test_raw_json_overflowing_numbers_are_400(api, clerk, program, person, raw):
    content = f'{{"program": "{program.code}", "beneficiary": {person.pk}, "month": "2021-05", {raw}}}'
    response = api(clerk).post(PAYMENTS, content, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not Payment.objects.exists()


# -- batch approval ----------------------------------------------------------------------------------------


def _submitted(program, person_in, clerk, n=2):
    return [
        services.payment_create(
            program=program, beneficiary=person_in(), actor=clerk, submit=True, **month(5)
        )
        for _ in range(n)
    ]


def test_batch_edge_cases_write_nothing(api, clerk, reviewer, program, person_in, make_program):
    payments = _submitted(program, person_in, clerk)
    wuzhou = make_program(region="450400")
    from tests.conftest import make_user
    from tracker.accounts.choices import Role

    wz_clerk = make_user("clerk_wz2", wuzhou.region, Role.CLERK)
    hidden = services.payment_create(
        program=wuzhou, beneficiary=person_in("450400"), actor=wz_clerk, submit=True, **month(5)
    )
    url = f"{PAYMENTS}approve-batch/"
    client = api(reviewer)
    before = ChangeEntry.objects.count()
    for ids in ([], [payments[0].pk, payments[0].pk], list(range(1, 10001)), ["x"], [0], None):
        response = client.post(url, {"ids": ids} if ids is not None else {}, format="json")
        assert response.status_code == 400, (
            ids if ids is None or len(ids) < 5 else len(ids),
            response.content,
        )
    out_of_scope = client.post(url, {"ids": [payments[0].pk, hidden.pk]}, format="json")
    missing = client.post(url, {"ids": [payments[0].pk, 10**9]}, format="json")
    assert out_of_scope.status_code == missing.status_code == 400
    assert out_of_scope.json()["errors"] == missing.json()["errors"]
    assert ChangeEntry.objects.count() == before
    assert not Payment.objects.filter(status=PaymentStatus.APPROVED).exists()


# -- idempotency --------------------------------------------------------------------------------------------


def test_idempotency_key_limits(api, clerk, program, person):
    client = api(clerk)
    assert (
        client.post(
            PAYMENTS, body(program, person), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256
        ).status_code
        == 400
    )
    assert (
        client.post(PAYMENTS, body(program, person), format="json", HTTP_IDEMPOTENCY_KEY=" ").status_code
        == 400
    )
    assert not Payment.objects.exists()
    ok = client.post(PAYMENTS, body(program, person), format="json", HTTP_IDEMPOTENCY_KEY="k" * 255)
    assert ok.status_code == 201
    replay = client.post(PAYMENTS, body(program, person), format="json", HTTP_IDEMPOTENCY_KEY="k" * 255)
    assert (replay.status_code, replay.json()) == (201, ok.json())
    assert replay["Content-Type"] == ok["Content-Type"]


def test_idempotency_replay_of_a_transition_after_a_refusal(api, clerk, reviewer, program, person):
    payment = services.payment_create(program=program, beneficiary=person, actor=clerk, **month(5))
    url = f"{PAYMENTS}{payment.pk}/approve/"
    refused = api(reviewer).post(url, HTTP_IDEMPOTENCY_KEY="a-1")
    assert refused.status_code == 409
    services.payment_submit(payment=payment, actor=clerk)
    ok = api(reviewer).post(url, HTTP_IDEMPOTENCY_KEY="a-1")
    assert ok.status_code == 200
    again = api(reviewer).post(url, HTTP_IDEMPOTENCY_KEY="a-1")
    assert (again.status_code, again.json()) == (200, ok.json())
    assert IdempotencyRecord.objects.count() == 1


# -- admin ---------------------------------------------------------------------------------------------------


def test_admin_cannot_edit_a_paid_payment(client, reviewer, paid, program, person):
    payment = paid(program, beneficiary=person)
    reviewer.is_staff = True
    reviewer.save()
    from django.contrib.auth.models import Permission

    reviewer.user_permissions.add(*Permission.objects.filter(content_type__app_label="funding"))
    client.force_login(reviewer)
    url = f"/admin/funding/payment/{payment.pk}/change/"
    before = ChangeEntry.objects.count()
    response = client.post(url, {"amount": "1.00", "quantity": "9", "reason": "x", "status": "draft"})
    assert response.status_code in (200, 302, 403)  # a form again, a redirect with a message, or refused
    payment.refresh_from_db()
    # created as submitted (1), approved (2), paid (3)
    assert (payment.amount, payment.status, payment.version) == (D("500.00"), PaymentStatus.PAID, 3)
    assert ChangeEntry.objects.count() == before


# -- query counts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/programs/", "/api/v1/employers/", "/api/v1/fund-sources/", PAYMENTS]
)
def test_list_query_counts_are_constant(api, clerk, reviewer, make_program, regions, person_in, url):
    for _ in range(4):
        program = make_program()
        EmployerFactory(region=regions["360300"])
        services.payment_create(program=program, beneficiary=person_in(), actor=clerk, **month(5))
    client = api(reviewer)
    client.get(url)

    def count(size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{url}?page_size={size}").status_code == 200
        return len(ctx.captured_queries)

    assert count(1) == count(500)


# -- change log --------------------------------------------------------------------------------------------------


def test_change_log_verifies_after_a_mixed_workload(api, clerk, reviewer, program, person_in):
    from tracker.changelog.selectors import changes_verify

    a, b, c = (
        services.payment_create(program=program, beneficiary=person_in(), actor=clerk, **month(5))
        for _ in range(3)
    )
    for p in (a, b, c):
        assert api(clerk).post(f"{PAYMENTS}{p.pk}/submit/").status_code == 200
    assert (
        api(reviewer).post(f"{PAYMENTS}{a.pk}/reject/", {"reason": "duplicate"}, format="json").status_code
        == 200
    )
    assert (
        api(reviewer).post(f"{PAYMENTS}approve-batch/", {"ids": [b.pk, c.pk]}, format="json").status_code
        == 200
    )
    assert (
        api(reviewer)
        .post(f"{PAYMENTS}{b.pk}/mark-paid/", {"external_reference": "R"}, format="json")
        .status_code
        == 200
    )
    assert (
        api(reviewer)
        .post(f"{PAYMENTS}{b.pk}/reverse/", {"reason": "bank returned"}, format="json")
        .status_code
        == 201
    )
    result = changes_verify()
    assert result["ok"], result
    rows = {(e.object_id, e.action): e for e in ChangeEntry.objects.filter(model="funding.payment")}
    assert rows[(str(a.pk), "reject")].reason == "duplicate"
    assert rows[(str(b.pk), "reverse")].reason == "bank returned"
    for (object_id, action), entry in rows.items():
        assert entry.actor_name, (object_id, action)


# -- OpenAPI -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_documents_batch_and_export_as_they_answer(schema):
    batch = schema["paths"]["/api/v1/payments/approve-batch/"]["post"]
    names = {p["name"] for p in batch.get("parameters", [])}
    assert names == {"Idempotency-Key"}, names
    ok = batch["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok.get("type") == "array", ok
    export = schema["paths"]["/api/v1/payments/export/"]["get"]
    names = {p["name"] for p in export["parameters"]}
    assert {
        "format",
        "program",
        "status",
        "beneficiary",
        "employer",
        "period_from",
        "period_to",
        "within",
        "fund_source",
        "payee_kind",
    } <= names
    assert not names & {"cursor", "page_size"}
    assert set(export["responses"]["200"]["content"]) == {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


# -- money arithmetic ----------------------------------------------------------------------------------------


def test_uplift_ceiling_rounds_half_up_to_the_cent():
    from programs.funding.rules import unit_bounds

    program = Program(standard_amount=D("0.03"), uplifts={"national_key_county": "50"})
    # 0.03 × 1.5 = 0.045: half up gives 0.05 (banker's rounding would give 0.04).
    assert unit_bounds(program, {"national_key_county"}) == (D("0.01"), D("0.05"))
    program = Program(standard_amount=D("33.33"), uplifts={"national_key_county": "10"})
    assert unit_bounds(program, {"national_key_county"})[1] == D("36.66")  # 36.663


def test_uplift_percents_are_stored_as_decimal_strings_never_floats(reviewer, fund, regions):
    from django.core.exceptions import ValidationError

    fields = {
        "code": "PX_FLOAT_UPLIFT",
        "name_zh": "测试",
        "name_en": "Test",
        "region": regions["360300"],
        "kind": "training",
        "payee_kind": "person",
        "fund_source": fund,
        "unit": "person_day",
        "standard_amount": D("30.00"),
        "uplifts": {"national_key_county": 20.5, "provincial_key_county": 10},
    }
    program = services.program_create(actor=reviewer, fields=fields)
    program.refresh_from_db()
    assert program.uplifts == {"national_key_county": "20.5", "provincial_key_county": "10"}
    with pytest.raises(ValidationError) as excinfo:
        services.program_create(
            actor=reviewer,
            fields={**fields, "code": "PX_BAD_UPLIFT", "uplifts": {"national_key_county": "10.123"}},
        )
    assert "uplifts" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        services.program_create(
            actor=reviewer,
            fields={**fields, "code": "PX_BAD_UPLIFT", "uplifts": {"national_key_county": True}},
        )


# -- mark paid ---------------------------------------------------------------------------------------------------


def test_paid_at_cannot_precede_the_approval(program, pay, person, reviewer):
    from django.core.exceptions import ValidationError

    payment = services.payment_approve(payment=pay(program, beneficiary=person, submit=True), actor=reviewer)
    with pytest.raises(ValidationError) as excinfo:
        services.payment_mark_paid(
            payment=payment, actor=reviewer, paid_at=payment.approved_at - dt.timedelta(seconds=1)
        )
    assert "paid_at" in excinfo.value.message_dict
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.APPROVED
    done = services.payment_mark_paid(payment=payment, actor=reviewer, paid_at=payment.approved_at)
    assert done.status == PaymentStatus.PAID


# -- budget scope ------------------------------------------------------------------------------------------------


def test_budget_of_a_wider_program_shows_only_the_callers_part(
    api, clerk, outsider, reviewer, make_program, person_in
):
    program = make_program(region="000000", annual_budget=D("10000.00"))
    services.payment_create(program=program, beneficiary=person_in(), actor=clerk, submit=True, **month(5))
    url = f"/api/v1/programs/{program.pk}/budget/"
    mine = api(clerk).get(url).json()
    assert (mine["committed"], mine["remaining"]) == ("500.00", None)
    theirs = api(outsider).get(url).json()
    assert (theirs["budget"], theirs["committed"], theirs["paid"], theirs["remaining"]) == (
        "10000.00",
        "0.00",
        "0.00",
        None,
    )
    from tests.conftest import make_user
    from tracker.accounts.choices import Role

    national = make_user("analyst_all", program.region, Role.ANALYST)
    whole = api(national).get(url).json()
    assert (whole["committed"], whole["remaining"]) == ("500.00", "9500.00")


def test_budget_refusal_does_not_reveal_other_regions_spending(
    make_program, person_in, clerk, outsider, regions
):
    from django.core.exceptions import ValidationError

    program = make_program(region="000000", annual_budget=D("1200.00"))
    services.payment_create(program=program, beneficiary=person_in(), actor=clerk, submit=True, **month(5))
    services.payment_create(program=program, beneficiary=person_in(), actor=clerk, submit=True, **month(5))
    with pytest.raises(ValidationError) as excinfo:
        services.payment_create(
            program=program, beneficiary=person_in("450400"), actor=outsider, submit=True, **month(5)
        )
    text = str(excinfo.value)
    assert "BUDGET_EXCEEDED" in text
    # 萍乡's 1000.00 already committed is not the outsider's business; nor is the remaining 200.00.
    assert "1000" not in text and "200.00" not in text.replace("1200.00", ""), text
