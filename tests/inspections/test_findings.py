"""Findings and their rectification: the lifecycle (open → rectifying → rectified → verified; waived
with a reason; reopened; no_longer_reproduces verified by an inspector), who may do what (clerk,
reviewer, inspector, analyst, outsider; never verifying one's own rectification), filters
(overdue...), evidence attachments (size, type, scope), the change log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from programs.inspections import services
from programs.inspections.models import Finding, FindingStep
from tracker.changelog.models import ChangeEntry

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit/findings/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"x" * 64


@pytest.fixture
def finding(inspector, regions):
    return services.finding_create(
        actor=inspector,
        fields={
            "rule": "labor_contract_signing",
            "severity": "medium",
            "concerns": "village",
            "concerns_id": str(regions["3603X1901001"].pk),
            "region": regions["3603X1901001"],
            "description": "未签订劳动合同",
            "rectification_required": "补签劳动合同",
            "due_on": dt.date(2021, 9, 1),
        },
    )


def post(client, finding, verb, note="", **kw):
    return client.post(f"{URL}{finding.pk}/{verb}/", {"note": note}, format="json", **kw)


def test_the_full_lifecycle(api, clerk, reviewer, inspector, finding):
    assert post(api(clerk), finding, "start", "开始整改").json()["status"] == "rectifying"
    assert post(api(clerk), finding, "rectify").status_code == 400  # say what was done
    assert post(api(clerk), finding, "rectify", "已补签合同").json()["status"] == "rectified"
    # Verification fails: reopened, then rectified again by the reviewer and verified.
    assert post(api(inspector), finding, "reopen").status_code == 400  # a reason is needed
    assert post(api(inspector), finding, "reopen", "合同未盖章").json()["status"] == "reopened"
    assert post(api(reviewer), finding, "rectify", "已盖章").json()["status"] == "rectified"
    res = post(api(inspector), finding, "verify", "核实无误")
    assert res.status_code == 200 and res.json()["status"] == "verified"
    assert (
        res.json()["verified_by"] == "inspector_jiangxi"
        and res.json()["rectified_by"] == "reviewer_pingxiang"
    )
    assert post(api(inspector), finding, "waive", "x").status_code == 409  # verified is final
    verbs = list(FindingStep.objects.filter(finding=finding).values_list("verb", flat=True))
    assert verbs == ["start", "rectify", "reopen", "rectify", "verify"]
    actions = set(
        ChangeEntry.objects.filter(model="inspections.finding", object_id=str(finding.pk)).values_list(
            "action", flat=True
        )
    )
    assert {"open", "start", "rectify", "reopen", "verify"} <= actions
    steps = api(clerk).get(f"{URL}{finding.pk}/steps/").json()
    assert [s["verb"] for s in steps] == verbs


def test_waive_needs_a_reason_and_an_inspector(api, clerk, inspector, finding):
    assert post(api(clerk), finding, "waive", "不需要").status_code == 403
    assert post(api(inspector), finding, "waive").status_code == 400
    res = post(api(inspector), finding, "waive", "岗位已撤销")
    assert res.json()["status"] == "waived" and res.json()["waive_reason"] == "岗位已撤销"


def test_whoever_rectified_cannot_verify_their_own(api, superuser, inspector, finding):
    assert post(api(superuser), finding, "rectify", "自己整改").status_code == 200
    res = post(api(superuser), finding, "verify", "自己核实")
    assert res.status_code == 403 and "OWN_RECTIFICATION" in res.json()["detail"]
    assert post(api(inspector), finding, "verify", "核实").status_code == 200


@pytest.mark.parametrize(
    ("role", "may"),
    [
        ("clerk", {"start", "rectify"}),
        ("reviewer", {"start", "rectify"}),
        ("inspector", {"verify", "waive", "reopen"}),
        ("analyst", set()),
        ("outsider", set()),
    ],
)
def test_who_may_do_what(api, request, role, may, finding, regions):
    user = request.getfixturevalue(role)
    client = api(user)
    for verb in ("start", "rectify", "verify", "waive", "reopen"):
        res = post(client, finding, verb, "说明")
        if verb in may:
            assert res.status_code in (200, 409), (verb, res.json())  # 409: the status does not allow it
        else:
            assert res.status_code in (403, 404), (verb, res.status_code)
    finding.refresh_from_db()
    if role == "outsider":
        for path in ("", "steps/", "history/"):
            assert client.get(f"{URL}{finding.pk}/{path}").status_code == 404
        assert finding.pk not in [r["id"] for r in client.get(URL).json()["results"]]
        assert finding.status == "open"
    else:
        assert client.get(f"{URL}{finding.pk}/").status_code == 200
    created = client.post(
        URL,
        {
            "rule": "MANUAL",
            "severity": "low",
            "concerns": "other",
            "region": "360300",
            "description": "现场发现",
        },
        format="json",
    )
    assert created.status_code == (201 if role == "inspector" else 403)


def test_check_findings_are_not_created_by_hand(api, inspector):
    res = api(inspector).post(
        URL,
        {
            "source": "check",
            "rule": "X",
            "severity": "low",
            "concerns": "other",
            "region": "360300",
            "description": "x",
        },
        format="json",
    )
    assert res.status_code == 400


def test_filters_status_overdue_rule_severity_within(api, analyst, inspector, finding, regions):
    other = services.finding_create(
        actor=inspector,
        fields={
            "rule": "OTHER",
            "severity": "high",
            "concerns": "other",
            "region": regions["360300"],
            "description": "x",
            "due_on": dt.date(2999, 1, 1),
        },
    )
    client = api(analyst)

    def ids(**params):
        res = client.get(URL, params)
        assert res.status_code == 200, res.json()
        return {r["id"] for r in res.json()["results"]}

    assert ids(overdue="true") == {finding.pk}
    assert ids(overdue="false") == {other.pk}
    assert ids(rule="OTHER") == {other.pk}
    assert ids(severity="medium") == {finding.pk}
    assert ids(within="3603X1") == {finding.pk}
    assert ids(status="open") == {finding.pk, other.pk}
    assert ids(source="inspection", concerns="village") == {finding.pk}
    assert client.get(URL, {"overdue": "maybe"}).status_code == 400
    # Rectified is no longer overdue.
    services.finding_move(finding=finding, verb="rectify", actor=inspector_clerk(regions), note="done")
    assert ids(overdue="true") == set()


def inspector_clerk(regions):
    from tests.conftest import make_user

    return make_user("clerk_wugongshan", regions["3603X1"], "clerk")


# -- evidence and attachments --------------------------------------------------------------------------


def upload(client, finding, content, name, note="照片"):
    return client.post(
        f"{URL}{finding.pk}/evidence/",
        {
            "note": note,
            "attachment": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        },
        format="multipart",
    )


def test_an_attachment_is_kept_and_served_only_in_scope(
    api, clerk, analyst, outsider, finding, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    res = upload(api(clerk), finding, PNG, "合同.png")
    assert res.status_code == 201, res.json()
    step = res.json()
    assert (step["attachment_type"], step["attachment_size"], step["has_attachment"]) == (
        "image/png",
        len(PNG),
        True,
    )
    url = f"{URL}{finding.pk}/steps/{step['id']}/attachment/"
    got = api(analyst).get(url)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PNG
    assert got["Content-Type"] == "image/png"
    assert api(outsider).get(url).status_code == 404
    assert upload(api(outsider), finding, PNG, "x.png").status_code in (403, 404)
    assert api(analyst).get(f"{URL}{finding.pk}/steps/999999/attachment/").status_code == 404


@override_settings(FINDING_ATTACHMENT_MAX_BYTES=100)
def test_an_attachment_over_the_size_limit_is_refused(api, clerk, finding, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    res = upload(api(clerk), finding, PDF + b"y" * 100, "证明.pdf")
    assert res.status_code == 400 and "ATTACHMENT_TOO_LARGE" in str(res.json()["errors"])
    assert not FindingStep.objects.filter(finding=finding).exists()
    assert upload(api(clerk), finding, PDF, "证明.pdf").status_code == 201


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"MZ\x90\x00 not an image", "photo.png"),  # an executable named .png
        (PNG, "photo.exe"),  # a PNG named .exe
        (b"<html><script>alert(1)</script>", "page.html"),
    ],
)
def test_an_attachment_of_a_wrong_type_is_refused(api, clerk, finding, tmp_path, settings, content, name):
    settings.MEDIA_ROOT = tmp_path
    res = upload(api(clerk), finding, content, name)
    assert res.status_code == 400 and "ATTACHMENT_TYPE" in str(res.json()["errors"])
    assert not FindingStep.objects.exists()


def test_analysts_add_no_evidence(api, analyst, finding, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    assert upload(api(analyst), finding, PNG, "x.png").status_code == 403


def test_the_unresolved_finding_per_rule_and_record_is_unique_for_checks(inspector, regions):
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from tracker.changelog.context import acting

    def make():
        Finding(
            source="check",
            rule="POST_NO_CONTRACT",
            severity="medium",
            concerns="assignment",
            concerns_id="1",
            region=regions["3603X1901001"],
            description="x",
            opened_by=inspector,
        ).save()

    with acting(inspector):
        make()
        with pytest.raises(ValidationError), transaction.atomic():
            make()


def test_the_admin_lists_findings_in_scope_only(client, analyst, outsider, finding):
    client.force_login(analyst)
    listed = client.get("/admin/inspections/finding/").content.decode()
    # The rule by its checklist label in the page's language, never its code.
    assert "劳动合同签订" in listed and "labor_contract_signing" not in listed
    assert client.get(f"/admin/inspections/finding/{finding.pk}/change/").status_code == 200
    client.force_login(outsider)
    page = client.get("/admin/inspections/finding/")
    assert page.status_code == 200 and "劳动合同签订" not in page.content.decode()
    assert client.get(f"/admin/inspections/finding/{finding.pk}/change/").status_code in (302, 404)
