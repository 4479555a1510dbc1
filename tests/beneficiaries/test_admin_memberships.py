"""Groups (人员类别) edited inline on a person in the admin, with their validity dates, through
services.beneficiary_memberships_edit: checked as a dry run when the page is submitted (refusals
beside their row, nothing written), saved by the same service (change entries from the admin)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from beneficiaries import services
from beneficiaries.choices import Gender
from beneficiaries.models import Beneficiary, GroupMembership
from seeds.factories.beneficiaries import make_id_number
from tracker.changelog.models import ChangeEntry

pytestmark = pytest.mark.django_db

NUMBER = make_id_number("360300", dt.date(1980, 7, 1), 21, Gender.FEMALE)
ADD = "/admin/beneficiaries/beneficiary/add/"


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(region: Any, rows: list[dict[str, Any]], initial: int = 0, **person: Any) -> dict[str, Any]:
    data = {
        "name": "吴示例",
        "id_number": NUMBER,
        "phone": "",
        "region": region.pk,
        "willing_to_work": "on",
        "memberships-TOTAL_FORMS": len(rows),
        "memberships-INITIAL_FORMS": initial,
        "status_changes-TOTAL_FORMS": 0,
        "status_changes-INITIAL_FORMS": 0,
        **person,
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"memberships-{index}-{key}"] = value
    return data


def test_a_person_is_registered_with_groups_and_dates(clerk, regions, groups):
    poor, hard = groups["lifted_out_of_poverty"], groups["employment_difficulty"]
    rows = [
        {"group": poor.pk, "valid_from": "2021-01-01", "valid_to": ""},
        {"group": hard.pk, "valid_from": "2021-03-01", "valid_to": "2021-12-31"},
    ]
    response = login(clerk).post(ADD, form(regions["360300"], rows))
    assert response.status_code == 302, response.content.decode()[:3000]
    person = Beneficiary.objects.get()
    held = {(m.group.code, m.valid_from, m.valid_to) for m in person.memberships.select_related("group")}
    assert held == {
        ("lifted_out_of_poverty", dt.date(2021, 1, 1), None),
        ("employment_difficulty", dt.date(2021, 3, 1), dt.date(2021, 12, 31)),
    }
    entries = ChangeEntry.objects.filter(model="beneficiaries.groupmembership")
    assert entries.count() == 2
    assert {(e.source, e.actor_name, e.action) for e in entries} == {("admin", "clerk_pingxiang", "create")}


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        (
            [{"valid_from": "2021-05-01", "valid_to": "2021-04-30"}],
            "valid_to",
            "The end of a membership cannot be before its start.",
        ),
        (
            [{"valid_from": "1979-01-01", "valid_to": ""}],
            "valid_from",
            "A membership cannot start before the person's date of birth.",
        ),
        (
            [
                {"valid_from": "2021-01-01", "valid_to": "2021-06-30"},
                {"valid_from": "2021-06-30", "valid_to": ""},
            ],
            "group",
            "already a member",
        ),
    ],
)
def test_a_refused_period_shows_beside_its_row_and_nothing_is_written(
    clerk, regions, groups, rows, field, message
):
    poor = groups["lifted_out_of_poverty"]
    rows = [{"group": poor.pk, **row} for row in rows]
    response = login(clerk).post(ADD, form(regions["360300"], rows))
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    errors = [str(e) for f in formset.forms for e in f.errors.get(field, [])]
    assert any(message in e for e in errors), formset.errors
    assert not Beneficiary.objects.exists() and not GroupMembership.objects.exists()


def test_a_membership_is_ended_and_another_removed_on_the_change_page(clerk, regions, groups):
    person = services.beneficiary_create(
        actor=clerk, name="吴示例", id_number=NUMBER, region=regions["360300"]
    )
    poor, hard = groups["lifted_out_of_poverty"], groups["employment_difficulty"]
    kept = services.membership_add(
        beneficiary=person, group=poor, valid_from=dt.date(2021, 1, 1), valid_to=None, actor=clerk
    )
    mistake = services.membership_add(
        beneficiary=person, group=hard, valid_from=dt.date(2021, 2, 1), valid_to=None, actor=clerk
    )
    page = f"/admin/beneficiaries/beneficiary/{person.pk}/change/"
    listed = login(clerk).get(page).context["inline_admin_formsets"][0].formset.forms
    order = [f.instance.pk for f in listed if f.instance.pk]
    rows = []
    for pk in order:
        membership = GroupMembership.objects.get(pk=pk)
        row = {
            "id": pk,
            "beneficiary": person.pk,
            "group": membership.group_id,
            "valid_from": membership.valid_from.isoformat(),
            "valid_to": "",
        }
        if pk == kept.pk:
            row["valid_to"] = "2021-12-31"
        if pk == mistake.pk:
            row["DELETE"] = "on"
        rows.append(row)
    data = form(regions["360300"], rows, initial=len(rows), id_number="")
    response = login(clerk).post(page, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(person.memberships.values_list("pk", "valid_to")) == [(kept.pk, dt.date(2021, 12, 31))]
    entries = ChangeEntry.objects.filter(model="beneficiaries.groupmembership", source="admin")
    assert sorted(entries.values_list("action", flat=True)) == ["delete", "update"]


def test_the_service_checks_the_whole_result_and_writes_nothing_on_a_dry_run(
    clerk, outsider, regions, groups
):
    person = services.beneficiary_create(
        actor=clerk, name="吴示例", id_number=NUMBER, region=regions["360300"]
    )
    poor = groups["lifted_out_of_poverty"]
    first = services.membership_add(
        beneficiary=person, group=poor, valid_from=dt.date(2021, 1, 1), valid_to=None, actor=clerk
    )
    # Ending one period and starting the next in one edit is accepted...
    edits = [
        services.MembershipEdit(
            group=poor, valid_from=dt.date(2021, 1, 1), valid_to=dt.date(2021, 6, 30), membership=first
        ),
        services.MembershipEdit(group=poor, valid_from=dt.date(2022, 1, 1)),
    ]
    services.beneficiary_memberships_edit(beneficiary=person, edits=edits, actor=clerk, dry_run=True)
    assert person.memberships.count() == 1 and person.memberships.get().valid_to is None
    services.beneficiary_memberships_edit(beneficiary=person, edits=edits, actor=clerk)
    assert list(person.memberships.order_by("valid_from").values_list("valid_to", flat=True)) == [
        dt.date(2021, 6, 30),
        None,
    ]
    # ...a new period inside a stored one is not.
    with pytest.raises(ValidationError) as refused:
        services.beneficiary_memberships_edit(
            beneficiary=person,
            edits=[services.MembershipEdit(group=poor, valid_from=dt.date(2021, 3, 1))],
            actor=clerk,
        )
    assert "memberships.0.group" in refused.value.message_dict
    # The outsider may not edit, nor may anyone pass another person's membership.
    with pytest.raises(PermissionDenied):
        services.beneficiary_memberships_edit(beneficiary=person, edits=edits[1:], actor=outsider)
    other = services.beneficiary_create(
        actor=clerk,
        name="郑示例",
        id_number=make_id_number("360300", dt.date(1981, 2, 3), 22, Gender.MALE),
        region=regions["360300"],
    )
    with pytest.raises(PermissionDenied):
        services.beneficiary_memberships_edit(beneficiary=other, edits=edits[:1], actor=clerk)


def test_the_outsider_cannot_open_the_inline(outsider, clerk, regions, groups):
    person = services.beneficiary_create(
        actor=clerk, name="吴示例", id_number=NUMBER, region=regions["360300"]
    )
    response = login(outsider).get(f"/admin/beneficiaries/beneficiary/{person.pk}/change/")
    assert response.status_code == 302  # to the admin's index: not found in the outsider's scope
