"""Employment status history, status as of a date, follow-ups after a move into unemployment, and
the dynamic-monitoring condition."""

from __future__ import annotations

import datetime as dt

import pytest

from beneficiaries.choices import Gender
from beneficiaries.models import Beneficiary, FollowUp, StatusChange
from beneficiaries.selectors import (
    beneficiaries_4045_on,
    beneficiaries_with_status_on,
    beneficiary_is_4045_on,
    beneficiary_status_on,
    is_4045_age_on,
)
from beneficiaries.services import beneficiary_create, membership_add, status_change_record
from seeds.factories.beneficiaries import make_id_number
from tracker.changelog.models import ChangeEntry

URL = "/api/v1/beneficiaries/"
TODAY = dt.date.today()


@pytest.fixture
def person(clerk, groups):
    return beneficiary_create(
        actor=clerk,
        name="赵示例",
        id_number=make_id_number("360300", dt.date(1970, 2, 3), 8, Gender.FEMALE),
        region=clerk.region,
    )


def post_change(client, person, **body):
    return client.post(f"{URL}{person.pk}/status-changes/", body, format="json")


def test_status_history_current_and_as_of(api, clerk, person):
    client = api(clerk)
    res = post_change(
        client,
        person,
        status="employed_local",
        effective_on="2024-01-10",
        source="visit",
        employer_or_place="萍乡某厂",
    )
    assert res.status_code == 201, res.json()
    assert res.json()["recorded_by"] == "clerk_pingxiang"
    post_change(client, person, status="flexible", effective_on="2024-05-01", source="phone")
    # Back-dated entry between the two: history stays in date order; current stays the latest.
    post_change(client, person, status="in_training", effective_on="2024-03-01", source="self_report")
    person.refresh_from_db()
    assert person.status == "flexible" and person.status_verified_on == dt.date(2024, 5, 1)
    assert beneficiary_status_on(beneficiary=person, on=dt.date(2024, 1, 9)) == ""
    assert beneficiary_status_on(beneficiary=person, on=dt.date(2024, 1, 10)) == "employed_local"
    assert beneficiary_status_on(beneficiary=person, on=dt.date(2024, 3, 31)) == "in_training"
    assert beneficiary_status_on(beneficiary=person, on=dt.date(2024, 5, 1)) == "flexible"
    qs = beneficiaries_with_status_on(status="in_training", on=dt.date(2024, 4, 1))
    assert list(qs) == [person]
    listed = client.get(f"{URL}{person.pk}/status-changes/").json()
    assert [c["status"] for c in listed] == ["flexible", "in_training", "employed_local"]
    as_of = client.get(f"{URL}{person.pk}/status-changes/", {"as_of": "2024-04-01"}).json()
    assert as_of[0]["status"] == "in_training" and len(as_of) == 2
    # Each change and the person's denormalised status are logged.
    entry = ChangeEntry.objects.filter(model="beneficiaries.statuschange").order_by("id").first()
    assert entry.action == "create" and entry.actor_name == "clerk_pingxiang" and entry.source == "api"
    person_entries = ChangeEntry.objects.filter(
        model="beneficiaries.beneficiary", object_id=str(person.pk)
    ).order_by("id")
    assert person_entries[1].changes == {
        "status": ["", "employed_local"],
        "status_verified_on": [None, "2024-01-10"],
    }
    # The back-dated change altered nothing current, so it wrote no entry for the person.
    assert person_entries.count() == 3


def test_status_change_validation(api, clerk, person):
    client = api(clerk)
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    assert (
        post_change(
            client, person, status="employed_local", effective_on=tomorrow, source="visit"
        ).status_code
        == 400
    )
    assert (
        post_change(
            client, person, status="employed_local", effective_on=TODAY.isoformat(), source="visit"
        ).status_code
        == 201
    )
    assert (
        post_change(client, person, status="retired", effective_on="2024-01-01", source="visit").status_code
        == 400
    )
    assert (
        post_change(
            client, person, status="unemployed", effective_on="2024-01-01", source="rumour"
        ).status_code
        == 400
    )
    assert (
        post_change(
            client, person, status="unemployed", effective_on="1969-01-01", source="visit"
        ).status_code
        == 400
    )
    assert StatusChange.objects.count() == 1


def test_status_change_outsider_and_read_only_role(api, outsider, analyst, person):
    body = {"status": "unemployed", "effective_on": "2024-01-01", "source": "phone"}
    assert post_change(api(outsider), person, **body).status_code == 404
    assert post_change(api(analyst), person, **body).status_code == 403
    assert not StatusChange.objects.exists()


def test_employed_to_unemployed_opens_follow_up(api, clerk, person, settings):
    settings.FOLLOW_UP_DUE_DAYS = 15
    client = api(clerk)
    # unemployed without a previous employed status: no follow-up
    post_change(client, person, status="unemployed", effective_on="2023-01-01", source="visit")
    assert not FollowUp.objects.exists()
    post_change(client, person, status="public_welfare_post", effective_on="2023-06-01", source="visit")
    res = post_change(client, person, status="unemployed", effective_on="2024-02-01", source="phone")
    follow_up = FollowUp.objects.get()
    assert follow_up.opened_on == dt.date(2024, 2, 1) and follow_up.due_on == dt.date(2024, 2, 16)
    assert follow_up.status == "open" and follow_up.status_change_id == res.json()["id"]
    entry = ChangeEntry.objects.get(model="beneficiaries.followup", object_id=str(follow_up.pk))
    assert entry.action == "create" and entry.region_path.startswith("000000/360000/360300/")
    # unemployed -> unemployed again: no second follow-up
    post_change(client, person, status="unemployed", effective_on="2024-02-10", source="phone")
    assert FollowUp.objects.count() == 1


def test_follow_up_due_days_setting(clerk, person, settings):
    settings.FOLLOW_UP_DUE_DAYS = 30
    status_change_record(
        beneficiary=person, actor=clerk, status="flexible", effective_on=dt.date(2024, 1, 1), source="visit"
    )
    status_change_record(
        beneficiary=person, actor=clerk, status="unemployed", effective_on=dt.date(2024, 1, 2), source="visit"
    )
    assert FollowUp.objects.get().due_on == dt.date(2024, 2, 1)


def test_follow_ups_list_overdue_and_close(api, clerk, outsider, person):
    status_change_record(
        beneficiary=person,
        actor=clerk,
        status="self_employed",
        effective_on=TODAY - dt.timedelta(days=40),
        source="visit",
    )
    status_change_record(
        beneficiary=person,
        actor=clerk,
        status="unemployed",
        effective_on=TODAY - dt.timedelta(days=16),
        source="phone",
    )
    follow_up = FollowUp.objects.get()
    assert follow_up.due_on == TODAY - dt.timedelta(days=1)
    client = api(clerk)
    assert [f["id"] for f in client.get("/api/v1/follow-ups/", {"overdue": "true"}).json()["results"]] == [
        follow_up.pk
    ]
    assert client.get("/api/v1/follow-ups/", {"overdue": "false"}).json()["results"] == []
    assert [
        f["id"]
        for f in client.get("/api/v1/follow-ups/", {"status": "open", "within": "360300"}).json()["results"]
    ] == [follow_up.pk]
    assert client.get("/api/v1/follow-ups/", {"within": "450400"}).json()["results"] == []
    detail = client.get(f"/api/v1/follow-ups/{follow_up.pk}/").json()
    assert detail["overdue"] is True and detail["region"] == "360300"
    # The outsider cannot see or close it.
    assert api(outsider).get("/api/v1/follow-ups/").json()["results"] == []
    url = f"/api/v1/follow-ups/{follow_up.pk}/record-service/"
    assert (
        api(outsider)
        .post(url, {"service": "guidance", "service_on": TODAY.isoformat()}, format="json")
        .status_code
        == 404
    )
    assert (
        client.post(url, {"service": "nothing", "service_on": TODAY.isoformat()}, format="json").status_code
        == 400
    )
    early = (follow_up.opened_on - dt.timedelta(days=1)).isoformat()
    assert client.post(url, {"service": "guidance", "service_on": early}, format="json").status_code == 400
    res = client.post(
        url, {"service": "job_referral", "service_on": TODAY.isoformat(), "note": "推荐至某厂"}, format="json"
    )
    assert res.status_code == 200, res.json()
    assert (
        res.json()["status"] == "closed"
        and res.json()["overdue"] is False
        and res.json()["closed_by"] == "clerk_pingxiang"
    )
    entry = (
        ChangeEntry.objects.filter(model="beneficiaries.followup", object_id=str(follow_up.pk))
        .order_by("id")
        .last()
    )
    assert entry.action == "close" and entry.changes["status"] == ["open", "closed"]
    assert (
        client.post(url, {"service": "placed", "service_on": TODAY.isoformat()}, format="json").status_code
        == 409
    )
    assert client.get("/api/v1/follow-ups/", {"overdue": "true"}).json()["results"] == []
    assert client.get(f"/api/v1/follow-ups/{follow_up.pk}/history/").status_code == 200


def test_follow_up_due_today_is_not_overdue(api, clerk, person, settings):
    settings.FOLLOW_UP_DUE_DAYS = 15
    status_change_record(
        beneficiary=person,
        actor=clerk,
        status="flexible",
        effective_on=TODAY - dt.timedelta(days=30),
        source="visit",
    )
    status_change_record(
        beneficiary=person,
        actor=clerk,
        status="unemployed",
        effective_on=TODAY - dt.timedelta(days=15),
        source="visit",
    )
    assert api(clerk).get("/api/v1/follow-ups/", {"overdue": "true"}).json()["results"] == []


def test_unverified_for_days_boundary(api, clerk, person, settings):
    client = api(clerk)

    def ids(**params):
        return [r["id"] for r in client.get(URL, params).json()["results"]]

    assert ids(unverified_for_days=90) == [person.pk]  # never verified
    status_change_record(
        beneficiary=person,
        actor=clerk,
        status="flexible",
        effective_on=TODAY - dt.timedelta(days=90),
        source="visit",
    )
    assert ids(unverified_for_days=90) == []  # verified exactly 90 days ago: not yet stale
    assert ids(unverified_for_days=89) == [person.pk]
    from beneficiaries.selectors import unverified_since

    settings.MONITORING_INTERVAL_DAYS = 89
    assert list(Beneficiary.objects.filter(unverified_since())) == [person]


def test_deactivated_person_takes_no_status(api, clerk, person):
    from beneficiaries.services import beneficiary_deactivate

    beneficiary_deactivate(beneficiary=person, actor=clerk, on=dt.date(2024, 1, 1), reason="deceased")
    res = post_change(api(clerk), person, status="unemployed", effective_on="2024-01-01", source="visit")
    assert res.status_code == 409


def test_4045_rule_boundaries(clerk, groups):
    """Women from 40, men from 45: a woman of 39/40 and a man of 44/45 on the day."""
    on = dt.date(2024, 6, 15)
    assert is_4045_age_on(gender=Gender.FEMALE, birth_date=dt.date(1984, 6, 15), on=on)  # 40
    assert not is_4045_age_on(gender=Gender.FEMALE, birth_date=dt.date(1984, 6, 16), on=on)  # 39
    assert is_4045_age_on(gender=Gender.MALE, birth_date=dt.date(1979, 6, 15), on=on)  # 45
    assert not is_4045_age_on(gender=Gender.MALE, birth_date=dt.date(1979, 6, 16), on=on)  # 44
    woman = beneficiary_create(
        actor=clerk,
        name="钱示例",
        id_number=make_id_number("360300", dt.date(1984, 6, 15), 3, Gender.FEMALE),
        region=clerk.region,
    )
    man = beneficiary_create(
        actor=clerk,
        name="孙示例",
        id_number=make_id_number("360300", dt.date(1984, 6, 15), 4, Gender.MALE),
        region=clerk.region,
    )
    assert beneficiary_is_4045_on(beneficiary=woman, on=on, require_rural_labour=False)
    assert not beneficiary_is_4045_on(beneficiary=man, on=on, require_rural_labour=False)
    assert not beneficiary_is_4045_on(beneficiary=woman, on=on)  # not rural labour yet
    membership_add(
        beneficiary=woman,
        group=groups["rural_labour"],
        valid_from=dt.date(2020, 1, 1),
        valid_to=None,
        actor=clerk,
    )
    assert beneficiary_is_4045_on(beneficiary=woman, on=on)
    assert list(beneficiaries_4045_on(on=on)) == [woman]
    assert set(beneficiaries_4045_on(on=on, require_rural_labour=False)) == {woman}
    # The filter agrees with the rule at both men's boundaries (45 in, 44 out).
    man_45, man_44 = (
        beneficiary_create(
            actor=clerk,
            name=name,
            id_number=make_id_number("360300", born, seq, Gender.MALE),
            region=clerk.region,
        )
        for name, born, seq in (("周示例", dt.date(1979, 6, 15), 5), ("吴示例", dt.date(1979, 6, 16), 6))
    )
    assert set(beneficiaries_4045_on(on=on, require_rural_labour=False)) == {woman, man_45}
    assert not beneficiary_is_4045_on(beneficiary=man_44, on=on, require_rural_labour=False)
