"""Compliance checks: each rule on a planted violation and on clean data (no false positive), a re-run
opens nothing twice, a vanished violation moves its finding to no_longer_reproduces (and back), the
query count of a run does not grow with the data, the API (rules list, runs inline and as a job) and
the outsider."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from beneficiaries.models import Beneficiary
from programs.funding.models import Payment, Program
from programs.inspections.checks import check_rules, check_run_create
from programs.inspections.models import CheckRun, Finding
from programs.posts import services as posts
from programs.posts.models import Assignment, Attendance, Post
from tests.inspections.conftest import AREA, VILLAGE
from tests.posts.conftest import make_person
from tracker.changelog.services import tracked_bulk_create, tracked_update

pytestmark = pytest.mark.django_db
D = decimal.Decimal
JUNE = (dt.date(2021, 6, 1), dt.date(2021, 6, 30))
HALF = (dt.date(2021, 1, 1), dt.date(2021, 6, 30))


def run(actor, regions, rules, period=HALF, region=AREA):
    return check_run_create(
        actor=actor, region=regions[region], period_start=period[0], period_end=period[1], rules=rules
    )


def concerned(rule):
    return set(Finding.objects.filter(rule=rule).values_list("concerns_id", flat=True))


def plant_payment(template: Payment, **fields) -> Payment:
    """A payment written as data (as one entered before a rule existed would be), copied from one."""
    values = {
        f.attname: getattr(template, f.attname)
        for f in Payment._meta.concrete_fields
        if f.name not in ("id", "version", "reverses", "created_at")
    }
    values.update(fields)
    payment = Payment(**values)
    tracked_bulk_create(Payment, [payment])
    return payment


# -- posts --------------------------------------------------------------------------------------------


def test_post_no_contract(area, inspector, regions):
    run(inspector, regions, ["POST_NO_CONTRACT"])
    assert concerned("POST_NO_CONTRACT") == {str(area.no_contract.pk)}


def test_post_over_headcount(area, inspector, regions):
    run(inspector, regions, ["POST_OVER_HEADCOUNT"])
    assert concerned("POST_OVER_HEADCOUNT") == set()  # four holders, four positions
    tracked_update(Post.objects.filter(pk=area.post.pk), headcount=2)
    result = run(inspector, regions, ["POST_OVER_HEADCOUNT"])
    assert concerned("POST_OVER_HEADCOUNT") == {str(area.post.pk)}
    finding = Finding.objects.get(rule="POST_OVER_HEADCOUNT")
    assert finding.evidence == {"headcount": 2, "most_holders": 4} and finding.severity == "high"
    assert result.results["POST_OVER_HEADCOUNT"]["opened"] == 1


def test_subsidy_without_attendance(area, inspector, regions):
    run(inspector, regions, ["SUBSIDY_WITHOUT_ATTENDANCE"])
    assert concerned("SUBSIDY_WITHOUT_ATTENDANCE") == set()
    tracked_update(Attendance.objects.filter(assignment=area.clean, month="2021-06"), month="2021-07")
    run(inspector, regions, ["SUBSIDY_WITHOUT_ATTENDANCE"])
    june = Payment.objects.get(cause_label="posts.assignment", cause_object_id=str(area.clean.pk))
    assert concerned("SUBSIDY_WITHOUT_ATTENDANCE") == {str(june.pk)}
    assert Finding.objects.get(rule="SUBSIDY_WITHOUT_ATTENDANCE").evidence["month"] == "2021-06"


def test_subsidy_after_exit(area, inspector, regions):
    run(inspector, regions, ["SUBSIDY_AFTER_EXIT"])
    june = Payment.objects.get(cause_label="posts.assignment", cause_object_id=str(area.left.pk))
    assert concerned("SUBSIDY_AFTER_EXIT") == {str(june.pk)}
    assert Finding.objects.get(rule="SUBSIDY_AFTER_EXIT").evidence["left_on"] == "2021-05-31"


def test_subsidy_over_standard(area, inspector, regions):
    run(inspector, regions, ["SUBSIDY_OVER_STANDARD"])
    assert concerned("SUBSIDY_OVER_STANDARD") == set()
    template = Payment.objects.filter(cause_object_id=str(area.clean.pk)).get()
    over = plant_payment(
        template,
        period_start=dt.date(2021, 5, 1),
        period_end=dt.date(2021, 5, 31),
        unit_amount=D("800.00"),
        amount=D("800.00"),
    )
    run(inspector, regions, ["SUBSIDY_OVER_STANDARD"])
    assert concerned("SUBSIDY_OVER_STANDARD") == {str(over.pk)}
    # The program's maximum lowered after the June payments were made: each is above it now.
    tracked_update(Program.objects.filter(pk=template.program_id), max_amount=D("300.00"))
    run(inspector, regions, ["SUBSIDY_OVER_STANDARD"])
    assert len(concerned("SUBSIDY_OVER_STANDARD")) == Payment.objects.count()


def test_shared_payee_account(area, inspector, clerk, regions):
    account = {"payee_account_kind": "bank_card", "payee_account": "6217001234567890123"}
    posts.assignment_update(assignment=area.clean, actor=clerk, fields=account)
    run(inspector, regions, ["SHARED_PAYEE_ACCOUNT"])
    assert concerned("SHARED_PAYEE_ACCOUNT") == set()
    posts.assignment_update(
        assignment=Assignment.objects.get(pk=area.no_february.pk), actor=clerk, fields=account
    )
    run(inspector, regions, ["SHARED_PAYEE_ACCOUNT"])
    assert concerned("SHARED_PAYEE_ACCOUNT") == {str(area.clean.pk), str(area.no_february.pk)}
    assert "6217001234567890123" not in str(Finding.objects.values_list("evidence", flat=True)[0])


def test_personnel_change_late(area, inspector, regions):
    run(inspector, regions, ["PERSONNEL_CHANGE_LATE"])
    (change,) = area.left.changes.filter(kind="end")
    assert concerned("PERSONNEL_CHANGE_LATE") == {str(change.pk)}
    # Hires reported on time are clean.
    assert not Finding.objects.filter(
        rule="PERSONNEL_CHANGE_LATE",
        concerns_id__in=[str(pk) for pk in area.clean.changes.values_list("pk", flat=True)],
    ).exists()


# -- payments ---------------------------------------------------------------------------------------------


def test_benefit_overlap(area, inspector, regions, make_post_program):
    run(inspector, regions, ["BENEFIT_OVERLAP"])
    assert concerned("BENEFIT_OVERLAP") == set()
    june = Payment.objects.get(cause_object_id=str(area.clean.pk))
    other = make_post_program(code="PX_OTHER_ALLOWANCE")
    later = plant_payment(
        june, program_id=other.pk, cause_label="", cause_object_id="", cause_content_type_id=None
    )
    run(inspector, regions, ["BENEFIT_OVERLAP"])
    assert concerned("BENEFIT_OVERLAP") == set()  # not marked exclusive
    tracked_update(Program.objects.filter(pk=june.program_id), mutually_exclusive_with=["PX_OTHER_ALLOWANCE"])
    run(inspector, regions, ["BENEFIT_OVERLAP"])
    assert concerned("BENEFIT_OVERLAP") == {str(later.pk)}


def test_one_off_repeated(area, inspector, regions, make_post_program):
    one_off = make_post_program(code="PX_ONE_OFF", unit="one_off")
    june = Payment.objects.get(cause_object_id=str(area.clean.pk))
    first = plant_payment(
        june, program_id=one_off.pk, cause_label="", cause_object_id="", cause_content_type_id=None
    )
    run(inspector, regions, ["ONE_OFF_REPEATED"])
    assert concerned("ONE_OFF_REPEATED") == set()
    second = plant_payment(first)
    plant_payment(first, beneficiary_id=area.no_contract.beneficiary_id)  # another person: fine
    run(inspector, regions, ["ONE_OFF_REPEATED"])
    assert concerned("ONE_OFF_REPEATED") == {str(second.pk)}


def test_paid_after_death(area, inspector, regions):
    june = Payment.objects.get(cause_object_id=str(area.clean.pk))
    tracked_update(
        Beneficiary.objects.filter(pk=area.clean.beneficiary_id),
        active=False,
        deactivated_on=dt.date(2021, 6, 30),
        deactivation_reason="deceased",
    )
    run(inspector, regions, ["PAID_AFTER_DEATH"])
    assert concerned("PAID_AFTER_DEATH") == set()  # paid up to the day of death
    tracked_update(
        Beneficiary.objects.filter(pk=area.clean.beneficiary_id), deactivated_on=dt.date(2021, 6, 10)
    )
    run(inspector, regions, ["PAID_AFTER_DEATH"])
    assert concerned("PAID_AFTER_DEATH") == {str(june.pk)}


def test_training_subsidy_without_voucher(area, inspector, regions, make_post_program, superuser):
    shanghai = regions["310000"]
    training = make_post_program(region="310000", code="SH_TRAINING", kind="training")
    june = Payment.objects.get(cause_object_id=str(area.clean.pk))
    common = {
        "program_id": training.pk,
        "region_id": shanghai.pk,
        "region_path": shanghai.path,
        "cause_label": "",
        "cause_object_id": "",
        "cause_content_type_id": None,
    }
    old = plant_payment(june, **common, period_start=dt.date(2021, 12, 1), period_end=dt.date(2021, 12, 31))
    new = plant_payment(june, **common, period_start=dt.date(2022, 3, 1), period_end=dt.date(2022, 3, 31))
    by_voucher = plant_payment(
        june,
        **{**common, "cause_label": "vouchers.voucher", "cause_object_id": "1"},
        period_start=dt.date(2022, 3, 1),
        period_end=dt.date(2022, 3, 31),
    )
    check_run_create(
        actor=superuser,
        region=shanghai,
        period_start=dt.date(2021, 1, 1),
        period_end=dt.date(2022, 12, 31),
        rules=["TRAINING_SUBSIDY_WITHOUT_VOUCHER"],
    )
    assert concerned("TRAINING_SUBSIDY_WITHOUT_VOUCHER") == {str(new.pk)}
    assert {old.pk, by_voucher.pk}.isdisjoint({int(x) for x in concerned("TRAINING_SUBSIDY_WITHOUT_VOUCHER")})


# -- people -------------------------------------------------------------------------------------------------


def test_possible_duplicate_person(inspector, regions):
    first = make_person(regions[VILLAGE], name="赵一", groups=())
    make_person(regions[VILLAGE], name="钱二", groups=())
    make_person(regions["3603X1901002"], name="孙三", groups=())
    run(inspector, regions, ["POSSIBLE_DUPLICATE_PERSON"])
    assert concerned("POSSIBLE_DUPLICATE_PERSON") == set()
    twin = make_person(regions["3603X1901002"], name="赵一", groups=())  # same county, another village
    run(inspector, regions, ["POSSIBLE_DUPLICATE_PERSON"])
    assert concerned("POSSIBLE_DUPLICATE_PERSON") == {str(twin.pk)}
    assert first.pk < twin.pk


def test_monitoring_stale(inspector, regions, settings):
    settings.MONITORING_INTERVAL_DAYS = 90
    stale = make_person(regions[VILLAGE], name="周四")
    fresh = make_person(regions[VILLAGE], name="吴五")
    not_lifted = make_person(regions[VILLAGE], name="郑六", groups=("employment_difficulty",))
    for person in (stale, fresh, not_lifted):
        tracked_update(
            Beneficiary.objects.filter(pk=person.pk), registered_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        )
    tracked_update(Beneficiary.objects.filter(pk=fresh.pk), status_verified_on=dt.date(2021, 6, 1))
    tracked_update(Beneficiary.objects.filter(pk=stale.pk), status_verified_on=dt.date(2021, 3, 1))
    run(inspector, regions, ["MONITORING_STALE"])
    assert concerned("MONITORING_STALE") == {str(stale.pk)}


def test_unemployed_no_follow_up(area, inspector, regions):
    from beneficiaries.models import FollowUp

    follow_up = FollowUp.objects.get(beneficiary_id=area.left.beneficiary_id)
    run(inspector, regions, ["UNEMPLOYED_NO_FOLLOW_UP"], period=(dt.date(2021, 1, 1), follow_up.due_on))
    assert concerned("UNEMPLOYED_NO_FOLLOW_UP") == set()  # not yet due
    run(
        inspector,
        regions,
        ["UNEMPLOYED_NO_FOLLOW_UP"],
        period=(dt.date(2021, 1, 1), follow_up.due_on + dt.timedelta(days=1)),
    )
    assert concerned("UNEMPLOYED_NO_FOLLOW_UP") == {str(follow_up.pk)}


# -- households -------------------------------------------------------------------------------------


def test_household_rules_find_the_households_without_work_and_nothing_else(inspector, clerk, regions):
    """In 芦溪县: a relocated household with a member in work (clean) and one without (violation); a
    zero-employment household cleared (clean) and one not (violation); a plain household without work
    is neither. Wuzhou's relocated household without work lies outside the run's region."""
    from beneficiaries.households import household_create
    from tests.figures_support import person_with_status

    luxi, wuzhou = regions["360323"], regions["450400"]

    def household(number, region, status, **flags):
        person = person_with_status(region, status)
        actor = clerk if region == luxi else None
        if actor is None:
            from tests.conftest import make_user
            from tracker.accounts.choices import Role

            actor = make_user("clerk_wuzhou_households", region, Role.CLERK)
        return household_create(
            actor=actor, number=number, region=region, members=[{"beneficiary": person}], **flags
        )

    household("R-OK", luxi, "employed_local", relocated=True)
    relocated = household("R-BAD", luxi, "unemployed", relocated=True)
    household("Z-OK", luxi, "public_welfare_post", zero_employment=True)
    zero = household("Z-BAD", luxi, "unemployed", zero_employment=True)
    household("PLAIN", luxi, "unemployed")
    household("WZ", wuzhou, "unemployed", relocated=True)
    rules = ["RELOCATED_HOUSEHOLD_NO_EMPLOYMENT", "ZERO_EMPLOYMENT_HOUSEHOLD"]
    run(inspector, regions, rules, region="360000")
    assert concerned("RELOCATED_HOUSEHOLD_NO_EMPLOYMENT") == {str(relocated.pk)}
    assert concerned("ZERO_EMPLOYMENT_HOUSEHOLD") == {str(zero.pk)}
    finding = Finding.objects.get(rule="ZERO_EMPLOYMENT_HOUSEHOLD")
    assert finding.concerns == "household" and finding.evidence["number"] == "Z-BAD"


# -- the run ------------------------------------------------------------------------------------------------


def test_every_listed_rule_is_registered():
    codes = {rule.code for rule in check_rules()}
    assert {
        "POST_NO_CONTRACT",
        "POST_OVER_HEADCOUNT",
        "SUBSIDY_WITHOUT_ATTENDANCE",
        "SUBSIDY_AFTER_EXIT",
        "SUBSIDY_OVER_STANDARD",
        "BENEFIT_OVERLAP",
        "ONE_OFF_REPEATED",
        "PAID_AFTER_DEATH",
        "SHARED_PAYEE_ACCOUNT",
        "PERSONNEL_CHANGE_LATE",
        "VOUCHER_REDEEMED_WITHOUT_CERTIFICATE",
        "CHECKIN_PROXY",
        "TRAINING_SUBSIDY_WITHOUT_VOUCHER",
        "POSSIBLE_DUPLICATE_PERSON",
        "MONITORING_STALE",
        "UNEMPLOYED_NO_FOLLOW_UP",
        "RELOCATED_HOUSEHOLD_NO_EMPLOYMENT",
        "ZERO_EMPLOYMENT_HOUSEHOLD",
    } <= codes


def test_a_rerun_opens_nothing_twice_and_a_vanished_violation_no_longer_reproduces(
    area, inspector, clerk, regions
):
    first = run(inspector, regions, ["POST_NO_CONTRACT", "SUBSIDY_AFTER_EXIT"])
    assert first.opened == 2
    second = run(inspector, regions, ["POST_NO_CONTRACT", "SUBSIDY_AFTER_EXIT"])
    assert (second.opened, second.violations, second.resolved) == (0, 2, 0)
    assert second.results["POST_NO_CONTRACT"]["already_open"] == 1
    assert Finding.objects.count() == 2
    # The contract is signed: the next run no longer sees it; the finding waits for an inspector.
    posts.assignment_update(
        assignment=Assignment.objects.get(pk=area.no_contract.pk),
        actor=clerk,
        fields={"contract_kind": "labour_contract", "contract_signed_on": dt.date(2021, 1, 1)},
    )
    third = run(inspector, regions, ["POST_NO_CONTRACT", "SUBSIDY_AFTER_EXIT"])
    assert third.resolved == 1
    gone = Finding.objects.get(rule="POST_NO_CONTRACT")
    assert gone.status == "no_longer_reproduces" and gone.gone_at is not None
    assert Finding.objects.get(rule="SUBSIDY_AFTER_EXIT").status == "open"
    # A run of a narrower period leaves findings of wider runs alone.
    from programs.inspections import services

    services.finding_move(finding=gone, verb="verify", actor=inspector, note="合同已补签")
    assert Finding.objects.get(pk=gone.pk).status == "verified"
    # Unsigned again: a new finding (the verified one is closed).
    tracked_update(
        Assignment.objects.filter(pk=area.no_contract.pk), contract_signed_on=None, contract_kind=""
    )
    run(inspector, regions, ["POST_NO_CONTRACT"])
    assert Finding.objects.filter(rule="POST_NO_CONTRACT").count() == 2


def test_a_violation_back_reopens_its_no_longer_reproducing_finding(area, inspector, clerk, regions):
    run(inspector, regions, ["POST_NO_CONTRACT"])
    tracked_update(
        Assignment.objects.filter(pk=area.no_contract.pk),
        contract_signed_on=dt.date(2021, 1, 1),
        contract_kind="labour_contract",
    )
    run(inspector, regions, ["POST_NO_CONTRACT"])
    tracked_update(
        Assignment.objects.filter(pk=area.no_contract.pk), contract_signed_on=None, contract_kind=""
    )
    run(inspector, regions, ["POST_NO_CONTRACT"])
    (finding,) = Finding.objects.filter(rule="POST_NO_CONTRACT")
    assert finding.status == "reopened"


def test_a_narrower_run_does_not_resolve_a_wider_runs_findings(area, inspector, regions):
    run(inspector, regions, ["SUBSIDY_AFTER_EXIT"])
    run(inspector, regions, ["SUBSIDY_AFTER_EXIT"], period=(dt.date(2021, 1, 1), dt.date(2021, 3, 31)))
    assert Finding.objects.get(rule="SUBSIDY_AFTER_EXIT").status == "open"


def _grow(post_program, clerk, regions, count):
    """`count` more holders without contracts on fresh posts, and their people (test data)."""
    for n in range(count):
        post = posts.post_create(
            actor=clerk,
            fields={
                "region": regions[VILLAGE],
                "employing_unit": "village_committee",
                "category": "cleaning",
                "urban_rural": "rural",
                "title": f"保洁员 扩 {n}",
                "headcount": 1,
                "monthly_standard": D("500.00"),
                "program": post_program,
                "opened_on": dt.date(2021, 1, 1),
                "justification": "保洁",
            },
        )
        posts.assignment_hire(
            actor=clerk,
            post=post,
            beneficiary=make_person(regions[VILLAGE], name=f"扩{n}"),
            start_date=dt.date(2021, 1, 1),
        )


def test_the_query_count_of_a_run_does_not_grow_with_the_data(
    area, inspector, clerk, regions, post_program, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as queries:
        run(inspector, regions, [])  # every rule
    small = len(queries)
    _grow(post_program, clerk, regions, 12)
    with django_assert_max_num_queries(small):
        run(inspector, regions, [])
    assert Finding.objects.filter(rule="POST_NO_CONTRACT").count() == 13


# -- API ------------------------------------------------------------------------------------------------------


def test_the_rules_list(api, analyst):
    res = api(analyst).get("/api/v1/audit/checks/")
    assert res.status_code == 200
    rows = {r["code"]: r for r in res.json()}
    assert rows["SUBSIDY_AFTER_EXIT"]["description_zh"] == "人员离岗后仍发放岗位补贴"
    assert rows["SUBSIDY_AFTER_EXIT"]["severity"] == "high"
    assert api(None).get("/api/v1/audit/checks/").status_code in (401, 403)


def test_a_run_through_the_api_inline_and_as_a_job(api, inspector, area, django_capture_on_commit_callbacks):
    client = api(inspector)
    body = {
        "region": AREA,
        "period_start": "2021-01-01",
        "period_end": "2021-06-30",
        "rules": ["SUBSIDY_AFTER_EXIT"],
    }
    res = client.post("/api/v1/audit/check-runs/", body, format="json")
    assert res.status_code == 201, res.json()
    assert res.json()["opened"] == 1
    assert (
        client.get("/api/v1/audit/findings/", {"check_run": res.json()["id"]}).json()["results"][0]["rule"]
        == "SUBSIDY_AFTER_EXIT"
    )
    with django_capture_on_commit_callbacks(execute=True):
        res = client.post("/api/v1/audit/check-runs/", {**body, "region": "360000"}, format="json")
    assert res.status_code == 202, res.json()
    job = client.get(res["Location"]).json()
    assert job["status"] == "succeeded", job
    assert CheckRun.objects.filter(region__code="360000").exists()
    assert (
        client.post("/api/v1/audit/check-runs/", {**body, "rules": ["NOPE"]}, format="json").status_code
        == 400
    )


@pytest.mark.parametrize("role", ["clerk", "reviewer", "analyst", "outsider"])
def test_only_inspectors_run_checks_and_outsiders_see_no_runs(api, request, role, inspector, area, regions):
    run_ = run(inspector, regions, ["POST_NO_CONTRACT"])
    client = api(request.getfixturevalue(role))
    body = {"region": AREA, "period_start": "2021-01-01", "period_end": "2021-06-30"}
    assert client.post("/api/v1/audit/check-runs/", body, format="json").status_code == 403
    seen = client.get(f"/api/v1/audit/check-runs/{run_.pk}/").status_code
    assert seen == (404 if role == "outsider" else 200)
    findings = client.get("/api/v1/audit/findings/").json()["results"]
    assert (findings == []) is (role == "outsider")


def test_an_inspector_cannot_run_outside_their_region(api, inspector, regions):
    body = {"region": "450400", "period_start": "2021-01-01", "period_end": "2021-06-30"}
    assert api(inspector).post("/api/v1/audit/check-runs/", body, format="json").status_code == 403
    body["background"] = True
    assert api(inspector).post("/api/v1/audit/check-runs/", body, format="json").status_code == 403


def test_another_app_registers_its_rule_and_runs_share_the_machinery(inspector, regions, monkeypatch):
    """The households rules (RELOCATED_HOUSEHOLD_NO_EMPLOYMENT, ZERO_EMPLOYMENT_HOUSEHOLD) will be
    registered like this from their app's ready()."""
    from programs.inspections import checks
    from programs.inspections.checks import ComplianceRule, register_check

    monkeypatch.setattr(checks, "_rules", dict(checks._rules))
    person = make_person(regions[VILLAGE], name="冯七", groups=())

    def inactive_people(ctx):
        return (
            Beneficiary.objects.within(ctx.region_path)
            .filter(name="冯七")
            .order_by()
            .values(record=F("pk"), in_region=F("region_id"), in_path=F("region_path"), e_name=F("name"))
        )

    rule = ComplianceRule(
        "TEST_HOUSEHOLD_RULE",
        "测试规则",
        "A test rule",
        "low",
        "beneficiary",
        inactive_people,
        app="households",
    )
    register_check(rule)
    with pytest.raises(ValueError):
        register_check(ComplianceRule("TEST_HOUSEHOLD_RULE", "x", "x", "low", "beneficiary", inactive_people))
    assert "TEST_HOUSEHOLD_RULE" in {r.code for r in check_rules()}
    run(inspector, regions, ["TEST_HOUSEHOLD_RULE"])
    finding = Finding.objects.get(rule="TEST_HOUSEHOLD_RULE")
    assert (finding.concerns_id, finding.evidence, finding.severity) == (
        str(person.pk),
        {"name": "冯七"},
        "low",
    )
