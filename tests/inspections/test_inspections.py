"""Inspections: every item pre-filled from the data with its evidence (each of the five checklist
items, the village-level items, the per-holder on-duty check), answered by the inspection's own
inspectors, a failed item opening a finding with its rectification opinion, close refused while
items are unanswered, the report as JSON, CSV and XLSX, and the outsider."""

from __future__ import annotations

import pytest

from programs.inspections import services
from programs.inspections.choices import ItemResult
from programs.inspections.models import Finding, Inspection, InspectionItem
from tests.inspections.conftest import AREA, OTHER_VILLAGE, VILLAGE, inspection_body
from tracker.changelog.models import ChangeEntry

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit/inspections/"


@pytest.fixture
def started(api, inspector, area):
    res = api(inspector).post(URL, inspection_body(), format="json")
    assert res.status_code == 201, res.json()
    return Inspection.objects.get(pk=res.json()["id"])


def items_of(inspection, **filters):
    return InspectionItem.objects.filter(inspection=inspection, **filters)


def one(inspection, **filters):
    found = list(items_of(inspection, **filters))
    assert len(found) == 1, found
    return found[0]


def test_starting_prefills_every_item_from_the_data(started, area, regions):
    assert started.status == "in_progress" and started.inspectors == ["inspector_jiangxi"]
    # Post setting: the post set without a reason fails, the other passes.
    assert one(started, code="post_setting", post=area.unjustified).prefilled == ItemResult.FAILED
    assert one(started, code="post_setting", post=area.post).prefilled == ItemResult.PASSED
    # Labour contract signing: the holder without a signed contract.
    contract = {i.assignment_id: i for i in items_of(started, code="labor_contract_signing")}
    assert contract[area.no_contract.pk].prefilled == ItemResult.FAILED
    assert contract[area.no_contract.pk].evidence[0]["problem"] == "no_contract"
    assert contract[area.clean.pk].prefilled == ItemResult.PASSED
    # Attendance and assessment: February without attendance.
    attendance = one(started, code="attendance_assessment", assignment=area.no_february)
    assert attendance.prefilled == ItemResult.FAILED
    assert [e["month"] for e in attendance.evidence] == ["2021-02"]
    assert one(started, code="attendance_assessment", assignment=area.clean).prefilled == ItemResult.PASSED
    # Subsidy payment: June paid after the holder left on 31 May.
    paid = one(started, code="subsidy_payment", assignment=area.left)
    assert paid.prefilled == ItemResult.FAILED
    assert paid.evidence[0]["problem"] == "paid_after_leaving" and paid.evidence[0]["left_on"] == "2021-05-31"
    assert one(started, code="subsidy_payment", assignment=area.clean).prefilled == ItemResult.PASSED
    # Personnel changes: the end reported 71 days late (and not approved).
    changes = one(started, code="personnel_changes", post=area.post)
    assert changes.prefilled == ItemResult.FAILED
    assert {e["problem"] for e in changes.evidence} == {"reported_late", "not_approved"}
    assert one(started, code="personnel_changes", post=area.unjustified).prefilled == ItemResult.PASSED
    # Only the five checklist codes, the two village-level items and the on-duty check exist.
    assert set(items_of(started).values_list("code", flat=True)) == {
        "post_setting",
        "labor_contract_signing",
        "attendance_assessment",
        "subsidy_payment",
        "personnel_changes",
        "management_mechanism",
        "assessment_standards",
        "on_duty",
    }
    assert not items_of(started, result__in=["passed", "failed", "not_applicable"]).exists()


def test_village_level_and_on_duty_items(started, area, regions):
    villages = set(items_of(started, level="village").values_list("region__code", flat=True))
    assert {VILLAGE, OTHER_VILLAGE} <= villages
    assert all(code.startswith(AREA) for code in villages)
    # No assessment standard recorded anywhere here: refined standards fail; the mechanism waits for
    # the inspector.
    assert one(started, code="assessment_standards", region=regions[VILLAGE]).prefilled == ItemResult.FAILED
    assert one(started, code="management_mechanism", region=regions[VILLAGE]).prefilled == ItemResult.PENDING
    on_duty = items_of(started, code="on_duty")
    assert set(on_duty.values_list("assignment_id", flat=True)) == {
        area.clean.pk,
        area.no_contract.pk,
        area.no_february.pk,
        area.left.pk,
    }
    assert set(on_duty.values_list("prefilled", flat=True)) == {ItemResult.PENDING}


def test_a_township_standard_passes_the_village_item(area, inspector, clerk, regions):
    from programs.posts import services as posts

    posts.assessment_standard_create(
        actor=clerk,
        region=regions["3603X1901"],
        effective_from=area.clean.start_date,
        title="考核办法",
        text="按月考核",
    )
    inspection = services.inspection_create(actor=inspector, **{**inspection_body(), "region": regions[AREA]})
    assert (
        one(inspection, code="assessment_standards", region=regions[VILLAGE]).prefilled == ItemResult.PASSED
    )


def test_answers_a_failed_item_opens_a_finding_and_close_waits_for_every_item(api, inspector, started, area):
    client = api(inspector)
    on_duty = one(started, code="on_duty", assignment=area.clean)
    contract = one(started, code="labor_contract_signing", assignment=area.no_contract)
    res = client.patch(
        f"{URL}{started.pk}/items/",
        {
            "items": [
                {
                    "id": on_duty.pk,
                    "result": "passed",
                    "present": True,
                    "interviewed": True,
                    "note": "在岗，面谈",
                },
                {"id": contract.pk, "result": "failed", "note": "未签订劳动合同"},
            ]
        },
        format="json",
    )
    assert res.status_code == 400
    assert "items.1.rectification_opinion" in res.json()["errors"]
    assert not Finding.objects.exists()
    res = client.patch(
        f"{URL}{started.pk}/items/",
        {
            "items": [
                {
                    "id": on_duty.pk,
                    "result": "passed",
                    "present": True,
                    "interviewed": True,
                    "note": "在岗，面谈",
                },
                {
                    "id": contract.pk,
                    "result": "failed",
                    "note": "未签订劳动合同",
                    "rectification_opinion": "一周内补签劳动合同",
                },
            ]
        },
        format="json",
    )
    assert res.status_code == 200, res.json()
    finding = Finding.objects.get()
    assert (finding.source, finding.rule, finding.concerns, finding.concerns_id) == (
        "inspection",
        "labor_contract_signing",
        "assignment",
        str(area.no_contract.pk),
    )
    assert finding.rectification_required == "一周内补签劳动合同" and finding.item_id == contract.pk
    on_duty.refresh_from_db()
    assert (on_duty.present, on_duty.interviewed, on_duty.answered_by.username) == (
        True,
        True,
        "inspector_jiangxi",
    )
    assert ChangeEntry.objects.filter(model="inspections.inspectionitem", action="answer").count() == 2

    res = client.post(f"{URL}{started.pk}/close/", {}, format="json")
    assert res.status_code == 409 and res.json()["unanswered"] == items_of(started, result="pending").count()

    pending = items_of(started, result="pending")
    answers = [
        {"id": i.pk, "result": "passed" if i.prefilled != "failed" else "not_applicable", "note": "核实"}
        for i in pending
    ]
    assert client.patch(f"{URL}{started.pk}/items/", {"items": answers}, format="json").status_code == 200
    res = client.post(f"{URL}{started.pk}/close/", {"summary": "要求各村健全管理机制"}, format="json")
    assert res.status_code == 200 and res.json()["status"] == "closed"
    # Closed: no more answers.
    res = client.patch(
        f"{URL}{started.pk}/items/", {"items": [{"id": on_duty.pk, "result": "failed"}]}, format="json"
    )
    assert res.status_code == 409


def test_presence_is_only_for_on_duty_items(api, inspector, started, area):
    contract = one(started, code="labor_contract_signing", assignment=area.clean)
    res = api(inspector).patch(
        f"{URL}{started.pk}/items/",
        {"items": [{"id": contract.pk, "result": "passed", "present": True}]},
        format="json",
    )
    assert res.status_code == 400


def test_only_the_inspections_own_inspectors_answer(api, started, regions, area):
    from tests.conftest import make_user

    other = make_user("inspector_pingxiang", regions["360300"], "inspector")
    item = one(started, code="on_duty", assignment=area.clean)
    res = api(other).patch(
        f"{URL}{started.pk}/items/", {"items": [{"id": item.pk, "result": "passed"}]}, format="json"
    )
    assert res.status_code == 403 and "NOT_ON_TEAM" in res.json()["detail"]


@pytest.mark.parametrize("role", ["clerk", "reviewer", "analyst"])
def test_other_roles_read_but_do_not_inspect(api, request, role, started, area):
    client = api(request.getfixturevalue(role))
    assert client.get(f"{URL}{started.pk}/").status_code == 200
    assert client.get(f"{URL}{started.pk}/items/").status_code == 200
    assert client.post(URL, inspection_body(), format="json").status_code == 403
    item = one(started, code="on_duty", assignment=area.clean)
    assert (
        client.patch(
            f"{URL}{started.pk}/items/", {"items": [{"id": item.pk, "result": "passed"}]}, format="json"
        ).status_code
        == 403
    )
    assert client.post(f"{URL}{started.pk}/close/", {}, format="json").status_code == 403


def test_an_outsider_neither_sees_nor_changes_an_inspection(api, outsider, started, area):
    client = api(outsider)
    assert started.pk not in [r["id"] for r in client.get(URL).json()["results"]]
    for path in ("", "items/", "report/", "history/"):
        assert client.get(f"{URL}{started.pk}/{path}").status_code == 404
    item = one(started, code="on_duty", assignment=area.clean)
    assert client.patch(
        f"{URL}{started.pk}/items/", {"items": [{"id": item.pk, "result": "passed"}]}, format="json"
    ).status_code in (403, 404)
    assert client.post(f"{URL}{started.pk}/close/", {}, format="json").status_code in (403, 404)
    assert client.post(URL, inspection_body(), format="json").status_code == 403
    item.refresh_from_db()
    assert item.result == "pending"


def test_an_inspector_cannot_inspect_outside_their_region(api, inspector, area):
    res = api(inspector).post(URL, inspection_body(region="450400"), format="json")
    assert res.status_code == 403 and not Inspection.objects.exists()


def test_the_report_as_json_csv_and_xlsx(api, analyst, started):
    client = api(analyst)
    res = client.get(f"{URL}{started.pk}/report/")
    assert res.status_code == 200
    body = res.json()
    assert body["inspection"]["id"] == started.pk
    assert body["counts"]["items"] == items_of(started).count()
    assert {v["region"] for v in body["villages"]} >= {VILLAGE, OTHER_VILLAGE}
    csv = client.get(f"{URL}{started.pk}/report/", {"format": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert (VILLAGE in text and "labor_contract_signing" in text) or "劳动合同" in text
    xlsx = client.get(f"{URL}{started.pk}/report/", {"format": "xlsx"})
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"
    assert client.get(f"{URL}{started.pk}/report/", {"format": "pdf"}).status_code == 400


def test_the_team_must_be_inspectors_of_the_region(api, inspector, area, regions):
    from tests.conftest import make_user

    make_user("clerk_team", regions["360300"], "clerk")
    make_user("inspector_wuzhou", regions["450400"], "inspector")
    for name in ("clerk_team", "inspector_wuzhou", "nobody"):
        res = api(inspector).post(URL, inspection_body(inspectors=["inspector_jiangxi", name]), format="json")
        assert res.status_code == 400 and "inspectors" in res.json()["errors"], name
    assert not Inspection.objects.exists()
