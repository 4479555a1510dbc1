"""One explicit actor for every write: entries written by an API call, an admin save, a command and a
direct service call carry the user who acted; a write that names no actor is refused; bulk writes
through the base manager cannot skip the log."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from beneficiaries import services
from beneficiaries.models import Beneficiary
from seeds.factories.beneficiaries import BeneficiaryFactory, person_data
from tracker.changelog.context import Source, change_context
from tracker.changelog.models import ChangeEntry, UntrackedWriteError
from tracker.changelog.services import MissingActorError
from tracker.regions.models import Region


def _last(model: str, pk: int) -> ChangeEntry:
    return ChangeEntry.objects.filter(model=model, object_id=str(pk)).latest("id")


def test_every_door_logs_the_user_who_acted(api, clerk, superuser, regions, tmp_path):
    # API
    res = api(clerk).post("/api/v1/beneficiaries/", person_data(seq=501), format="json")
    assert res.status_code == 201
    entry = _last("beneficiaries.beneficiary", res.json()["id"])
    assert (entry.source, entry.actor_id, entry.actor_name) == ("api", clerk.pk, "clerk_pingxiang")
    # Admin
    admin = Client()
    admin.force_login(superuser)
    data = person_data(seq=502)
    form = {
        "name": data["name"],
        "id_number": data["id_number"],
        "phone": "",
        "region": regions["360300"].pk,
        "willing_to_work": "on",
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
        "status_changes-TOTAL_FORMS": 0,
        "status_changes-INITIAL_FORMS": 0,
    }
    assert admin.post("/admin/beneficiaries/beneficiary/add/", form).status_code == 302
    person = Beneficiary.objects.get(name=data["name"])
    entry = _last("beneficiaries.beneficiary", person.pk)
    assert (entry.source, entry.actor_id) == ("admin", superuser.pk)
    # Direct service call, outside any request (a script, a background job)
    with change_context(source=Source.COMMAND, actor=None, actor_name=""):
        direct = services.beneficiary_create(
            actor=clerk, **{**person_data(seq=503), "region": regions["360300"]}
        )
    entry = _last("beneficiaries.beneficiary", direct.pk)
    assert (entry.actor_id, entry.actor_name) == (clerk.pk, "clerk_pingxiang")
    # Command: the import names the user it acts for
    path = tmp_path / "people.csv"
    row = person_data(seq=504)
    path.write_bytes(f"姓名,身份证号码,户籍地区代码\n{row['name']},{row['id_number']},360300\n".encode())
    call_command("import_beneficiaries", str(path), "--user", "clerk_pingxiang", stdout=io.StringIO())
    imported = Beneficiary.objects.get(name=row["name"])
    entry = _last("beneficiaries.beneficiary", imported.pk)
    assert (entry.source, entry.actor_id) == ("import", clerk.pk)


def test_a_write_without_an_actor_is_refused(regions):
    person = BeneficiaryFactory.build(region=regions["360300"])
    # A request's context (what the middleware opens) names no actor: a write must say who acts.
    with change_context(source=Source.API, actor=None, actor_name=""), pytest.raises(MissingActorError):
        person.save()
    assert not Beneficiary.objects.filter(name=person.name).exists()


def test_the_base_manager_cannot_skip_the_log(regions):
    region = Region.objects.get(code="360300")
    with pytest.raises(UntrackedWriteError):
        Region._base_manager.filter(pk=region.pk).update(name_zh="改")
    with pytest.raises(UntrackedWriteError):
        Beneficiary._default_manager.all().update(notes="x")
