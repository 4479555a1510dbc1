"""The change log: every write stamped and signed, append-only in the database, tamper-evident."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from tracker.changelog import triggers
from tracker.changelog.context import Source, acting, change_context, command_context
from tracker.changelog.models import ChangeEntry, UntrackedWriteError
from tracker.changelog.selectors import changes_verify
from tracker.changelog.services import entry_signed_values, record_event, tracked_bulk_update, tracked_update
from tracker.changelog.signing import entry_hmac
from tracker.regions.models import Region
from tracker.regions.services import region_upsert


def entries_for(obj) -> list[ChangeEntry]:
    return list(
        ChangeEntry.objects.filter(model=obj._meta.label_lower, object_id=str(obj.pk)).order_by(
            "object_version"
        )
    )


def new_township(regions, code="360302001", name="测试镇"):
    return region_upsert(code=code, name_zh=name, name_en="Test Town", level="township", parent_code="360300")


def test_command_write_is_stamped_with_command_and_request_id(regions):
    with command_context("load_towns") as ctx:
        town = new_township(regions)
    [entry] = entries_for(town)
    assert entry.action == "create"
    assert entry.source == Source.COMMAND
    assert entry.actor_name == "load_towns" and entry.actor_id is None
    assert entry.request_id == ctx.request_id and len(ctx.request_id) == 32
    assert entry.object_version == 1 and town.version == 1
    assert entry.region_path == "000000/360000/360300/360302001/"
    assert entry.changes["name_zh"] == [None, "测试镇"]
    assert entry.hmac == entry_hmac(entry_signed_values(entry))


def test_update_records_old_and_new_values_and_reason(regions, superuser):
    town = new_township(regions)
    with change_context(source=Source.ADMIN), acting(superuser, reason="typo"):
        town.name_zh = "改名镇"
        town.save()
    last = entries_for(town)[-1]
    assert last.action == "update" and last.object_version == 2
    assert last.changes == {"name_zh": ["测试镇", "改名镇"]}
    assert last.actor_id == superuser.pk and last.actor_name == "admin" and last.reason == "typo"


def test_delete_is_logged_including_cascades(regions):
    town = new_township(regions)
    pk = town.pk
    town.delete()
    last = ChangeEntry.objects.filter(model="regions.region", object_id=str(pk)).order_by("-id").first()
    assert last.action == "delete" and last.object_version == 2
    assert last.changes["code"] == ["360302001", None]


def test_domain_verb_without_field_change(regions):
    town = new_township(regions)
    record_event(town, action="inspect", reason="spot check")
    last = entries_for(town)[-1]
    assert (last.action, last.reason, last.changes, last.object_version) == ("inspect", "spot check", {}, 2)


def test_bulk_writes_outside_the_helpers_are_refused(regions):
    with pytest.raises(UntrackedWriteError):
        Region.objects.filter(code="360300").update(name_en="x")
    with pytest.raises(UntrackedWriteError):
        Region.objects.bulk_create([Region(code="360302002", name_zh="x", level="township")])
    with pytest.raises(UntrackedWriteError):
        Region.objects.bulk_update(list(Region.objects.filter(code="360300")), ["name_en"])


def test_bulk_helpers_log_every_row(regions):
    a = new_township(regions, "360302003", "甲镇")
    b = new_township(regions, "360302004", "乙镇")
    with command_context("bulk"):
        assert tracked_update(Region.objects.filter(pk__in=[a.pk, b.pk]), name_en="Renamed") == 2
    for town in (a, b):
        last = entries_for(town)[-1]
        assert last.changes == {"name_en": ["Test Town", "Renamed"]} and last.object_version == 2
    with transaction.atomic():
        towns = list(Region.objects.select_for_update().filter(pk__in=[a.pk, b.pk]))
        for town in towns:
            town.name_en = "Again"
        tracked_bulk_update(Region, towns, ["name_en"])
    assert entries_for(a)[-1].changes == {"name_en": ["Renamed", "Again"]}
    assert changes_verify()["ok"]


def test_entries_cannot_be_changed_through_the_orm(regions):
    entry = ChangeEntry.objects.first()
    with pytest.raises(UntrackedWriteError):
        entry.save()
    with pytest.raises(UntrackedWriteError):
        entry.delete()
    with pytest.raises(UntrackedWriteError):
        ChangeEntry.objects.all().update(reason="x")
    with pytest.raises(UntrackedWriteError):
        ChangeEntry.objects.all().delete()


@pytest.mark.parametrize(
    "sql", ["UPDATE changelog_changeentry SET reason = 'forged'", "DELETE FROM changelog_changeentry"]
)
def test_database_trigger_refuses_update_and_delete(regions, sql):
    assert ChangeEntry.objects.exists()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert not ChangeEntry.objects.filter(reason="forged").exists()


def _raw(sql: str, params: list) -> None:
    """Tamper the way an attacker with database access would: switch the triggers off first."""
    triggers.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        triggers.install(connection)


def test_verify_is_clean_after_seed(regions):
    result = changes_verify()
    assert result["ok"] is True and result["problems"] == [] and result["checked"] >= len(regions)


def test_verify_detects_an_altered_entry(regions):
    town = new_township(regions)
    [entry] = entries_for(town)
    _raw("UPDATE changelog_changeentry SET label = %s WHERE id = %s", ["forged", entry.id])
    result = changes_verify()
    assert result["ok"] is False
    assert {
        "entry": entry.id,
        "object": f"regions.region#{town.pk}",
        "problem": "entry does not match its HMAC (altered or forged)",
    } in result["problems"]


def test_verify_detects_a_removed_newest_entry(regions):
    town = new_township(regions)
    town.name_en = "v2"
    town.save()
    newest = entries_for(town)[-1]
    _raw("DELETE FROM changelog_changeentry WHERE id = %s", [newest.id])
    problems = changes_verify()["problems"]
    assert any(p["object"] == f"regions.region#{town.pk}" and "version 2" in p["problem"] for p in problems)


def test_verify_detects_a_removed_middle_entry_and_a_forged_one(regions):
    town = new_township(regions)
    for name in ("v2", "v3"):
        town.name_en = name
        town.save()
    middle = entries_for(town)[1]
    _raw("DELETE FROM changelog_changeentry WHERE id = %s", [middle.id])
    problems = changes_verify()["problems"]
    assert any("entries missing" in p["problem"] for p in problems)


def test_verify_detects_a_write_that_bypassed_the_log(regions):
    town = new_township(regions)
    _raw("UPDATE regions_region SET version = version + 1, name_en = 'sneaky' WHERE id = %s", [town.pk])
    problems = changes_verify()["problems"]
    assert any(p["object"] == f"regions.region#{town.pk}" for p in problems)


def test_concurrent_writers_of_one_object_cannot_fork_its_history(regions):
    town = new_township(regions)
    stale = Region.objects.get(pk=town.pk)
    town.name_en = "first"
    town.save()
    stale.name_en = "second"
    with pytest.raises(DatabaseError), transaction.atomic():
        stale.save()  # both claim version 2: the unique (model, object, version) constraint refuses
    assert Region.objects.get(pk=town.pk).name_en == "first"


def test_refresh_from_db_resets_the_diff_baseline(regions):
    town = new_township(regions)
    other = Region.objects.get(pk=town.pk)
    other.name_en = "Changed elsewhere"
    other.save()
    town.refresh_from_db()
    town.name_zh = "新名"
    town.save()
    last = entries_for(town)[-1]
    assert last.changes == {"name_zh": ["测试镇", "新名"]}
    assert last.object_version == 3


def test_system_check_refuses_set_null_on_tracked_models():
    from django.db import models

    from tracker.changelog.checks import tracked_foreign_keys
    from tracker.changelog.models import TrackedModel

    assert tracked_foreign_keys() == []

    class Loose(TrackedModel):
        region = models.ForeignKey("regions.Region", null=True, on_delete=models.SET_NULL, related_name="+")

        class Meta:
            app_label = "changelog"

    try:
        errors = tracked_foreign_keys()
        assert [e.id for e in errors] == ["changelog.E001"]
    finally:
        from django.apps import apps

        del apps.all_models["changelog"]["loose"]
        apps.clear_cache()


def test_a_failed_save_keeps_the_instance_in_sequence(regions):
    town = new_township(regions)
    other = Region.objects.get(pk=town.pk)
    other.name_en = "first"
    other.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        town.name_en = "stale"
        town.save()  # version 2 is taken: refused
    assert town.version == 1
    town.refresh_from_db()
    town.name_en = "retried"
    town.save()
    assert [e.object_version for e in entries_for(town)] == [1, 2, 3]
    assert changes_verify()["ok"]
