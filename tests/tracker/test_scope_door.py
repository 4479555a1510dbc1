"""The one door for region scope (tracker/scope.py): what a user sees, where they may write, and the
change log refusing any tracked write outside the actor's region whichever path it comes by."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from beneficiaries.models import Beneficiary
from programs.funding.models import Program
from seeds.factories.beneficiaries import BeneficiaryFactory
from seeds.factories.funding import FundSourceFactory, ProgramFactory
from tracker.changelog.context import acting
from tracker.changelog.models import ChangeEntry
from tracker.changelog.services import record_event, tracked_update
from tracker.regions.models import Region
from tracker.scope import ancestor_paths, require_in_scope, scope_field


def test_ancestor_paths():
    assert ancestor_paths("000000/360000/360300/") == ["000000/", "000000/360000/"]
    assert ancestor_paths("000000/") == []


def test_scope_field_of_each_kind_of_model():
    assert scope_field(Beneficiary) == "region_path"  # stored: no join, its own index
    assert scope_field(Region) == "path"
    assert scope_field(ChangeEntry) == "region_path"
    from beneficiaries.models import BeneficiaryGroup, GroupMembership

    assert scope_field(GroupMembership) == "beneficiary__region__path"
    assert scope_field(BeneficiaryGroup) is None  # reference data


def test_visible_to_subtree_and_ancestors_only_where_declared(regions, clerk, outsider, analyst):
    fund = FundSourceFactory()
    national = ProgramFactory(region=regions["000000"], fund_source=fund, code="CN_TEST")
    pingxiang = ProgramFactory(region=regions["360300"], fund_source=fund, code="PX_TEST")
    wuzhou = ProgramFactory(region=regions["450400"], fund_source=fund, code="WZ_TEST")
    visible = set(Program.objects.visible_to(clerk).values_list("code", flat=True))
    assert {"CN_TEST", "PX_TEST"} <= visible and "WZ_TEST" not in visible
    # Programs are read from ancestors but written only in the subtree.
    assert set(Program.objects.writable_by(clerk).values_list("code", flat=True)) == {"PX_TEST"}
    assert wuzhou.code in set(Program.objects.visible_to(analyst).values_list("code", flat=True))
    # Regions: the clerk sees 萍乡's subtree and its ancestors (江西省, the country), not 梧州.
    codes = set(Region.objects.visible_to(clerk).values_list("code", flat=True))
    assert {"000000", "360000", "360300", "3603X1"} <= codes and "450400" not in codes
    assert "360000" not in set(Region.objects.writable_by(clerk).values_list("code", flat=True))
    del national, pingxiang


def test_require_in_scope(regions, clerk, analyst):
    require_in_scope(clerk, regions["360300"])
    require_in_scope(clerk, regions["3603X1"])
    require_in_scope(analyst, regions["450400"])
    for target in (regions["450400"], regions["360000"], "000000/450000/"):
        with pytest.raises(PermissionDenied):
            require_in_scope(clerk, target)
    with pytest.raises(PermissionDenied):
        require_in_scope(None, regions["360300"])


def test_the_change_log_refuses_a_write_outside_the_actors_region(regions, clerk):
    """The last line: even a write that skipped its service's scope check is refused when logged."""
    person = BeneficiaryFactory(region=regions["450400"])
    entries = ChangeEntry.objects.count()
    person.notes = "written from 萍乡"
    with pytest.raises(PermissionDenied), acting(clerk):
        person.save()
    # Moving a record from another region into one's own is refused too (the old region counts).
    person.refresh_from_db()
    person.region = regions["360300"]
    with pytest.raises(PermissionDenied), acting(clerk):
        person.save()
    # And in bulk.
    with pytest.raises(PermissionDenied), acting(clerk):
        tracked_update(Beneficiary.objects.filter(pk=person.pk), notes="bulk")
    with pytest.raises(PermissionDenied), transaction.atomic(), acting(clerk):
        person.delete()
    assert ChangeEntry.objects.count() == entries
    assert Beneficiary.objects.get(pk=person.pk).region.code == "450400"


def test_an_event_may_be_logged_on_another_regions_record_when_the_service_says_so(regions, clerk):
    person = BeneficiaryFactory(region=regions["450400"])
    with acting(clerk):
        record_event(person, action="duplicate_probe", outside_scope_ok=True)
    entry = ChangeEntry.objects.filter(object_id=str(person.pk)).latest("id")
    assert (entry.action, entry.actor_name, entry.region_path) == (
        "duplicate_probe",
        "clerk_pingxiang",
        regions["450400"].path,
    )


def test_within_is_an_exact_subtree_on_both_engines(regions):
    towns = Region.objects.filter(path__within=regions["360300"].path)
    assert set(towns.values_list("code", flat=True)) >= {"360300", "3603X1"}
    # A sibling whose code merely starts like ours is not inside ("3603" vs "36030"): none in the
    # seed, so compare with the province's own subtree.
    assert not Region.objects.filter(path__within=regions["360300"].path, code="360000").exists()
    assert Region.objects.filter(path__within="").count() == Region.objects.count()


def test_the_stored_region_path_follows_every_write(regions, clerk):
    from beneficiaries.services import beneficiary_update
    from tracker.changelog.services import tracked_bulk_create, tracked_bulk_update

    person = BeneficiaryFactory(region=regions["360300"])
    assert person.region_path == regions["360300"].path
    person = Beneficiary.objects.get(pk=person.pk)
    beneficiary_update(beneficiary=person, actor=clerk, region=regions["3603X1"])
    assert Beneficiary.objects.get(pk=person.pk).region_path == regions["3603X1"].path
    [bulk] = tracked_bulk_create(Beneficiary, [BeneficiaryFactory.build(region=regions["360300"], seq=9001)])
    assert Beneficiary.objects.get(pk=bulk.pk).region_path == regions["360300"].path
    bulk = Beneficiary.objects.get(pk=bulk.pk)
    bulk.region = regions["3603X1"]
    tracked_bulk_update(Beneficiary, [bulk], ["region"])
    assert Beneficiary.objects.get(pk=bulk.pk).region_path == regions["3603X1"].path
    tracked_update(Beneficiary.objects.filter(pk=bulk.pk), region=regions["360300"])
    assert Beneficiary.objects.get(pk=bulk.pk).region_path == regions["360300"].path
    from tracker.changelog.selectors import changes_verify

    assert changes_verify()["ok"]


@pytest.mark.django_db
def test_a_national_user_reads_without_a_region_filter(regions, analyst, clerk):
    """The root's subtree is everything: no range over every row for the planner to sort by."""
    assert analyst.scope_path == "" and clerk.scope_path == regions["360300"].path
    national = Beneficiary.objects.visible_to(analyst).order_by("-id")[:50].query
    assert national.where.children == []
    assert Beneficiary.objects.visible_to(clerk).order_by("-id")[:50].query.where.children != []
    BeneficiaryFactory(region=regions["450400"])
    assert Beneficiary.objects.visible_to(analyst).count() == 1
    assert Beneficiary.objects.visible_to(clerk).count() == 0
