"""The seed step: groups from the data file, example people with valid numbers; idempotent."""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone

from beneficiaries.choices import Gender
from beneficiaries.identity import _known_prefix, make_id_number, parse_id_number
from beneficiaries.models import ID_NUMBER_PURPOSE, Beneficiary, BeneficiaryGroup, FollowUp, GroupMembership
from beneficiaries.selectors import beneficiary_group_codes_on
from beneficiaries.services import beneficiary_create
from seeds.beneficiaries import MEMBERSHIPS_FROM, _backdate_memberships, id_prefix_for, seed_beneficiaries
from tracker.changelog.context import Source, command_context
from tracker.changelog.models import ChangeEntry
from tracker.pii import decrypt


def test_seed_is_idempotent_and_valid(regions, superuser):
    with command_context("seed", source=Source.SEED):
        seed_beneficiaries(io.StringIO())
        counts = (Beneficiary.objects.count(), ChangeEntry.objects.count())
        seed_beneficiaries(io.StringIO())
    assert (Beneficiary.objects.count(), ChangeEntry.objects.count()) == counts
    assert BeneficiaryGroup.objects.count() == 45
    assert 30 <= counts[0] <= 60
    assert FollowUp.objects.exists()
    assert len(set(Beneficiary.objects.values_list("status", flat=True))) >= 3
    for person in Beneficiary.objects.select_related("region"):
        number = decrypt(person.id_number_encrypted, purpose=ID_NUMBER_PURPOSE)
        parse_id_number(number, registered_on=timezone.localdate())
        # A real county's code (never a city's or province's "..00"), within the person's region.
        prefix = number[:6]
        assert prefix == id_prefix_for(person.region.code)
        assert not prefix.endswith("00") and _known_prefix(prefix), (person.region.code, prefix)
        region_digits = person.region.code[:6].rstrip("0") if person.region.code.isdigit() else "3603"
        assert prefix.startswith(region_digits), (person.region.code, prefix)
    wugongshan = Beneficiary.objects.filter(region__code="3603X1")
    assert wugongshan.exists()
    for person in wugongshan:
        assert decrypt(person.id_number_encrypted, purpose=ID_NUMBER_PURPOSE).startswith("360323")  # 芦溪县
    assert ChangeEntry.objects.filter(model="beneficiaries.beneficiary").values(
        "source"
    ).distinct().get() == {"source": "seed"}


def test_seeded_memberships_start_before_2021_payments(regions, superuser):
    with command_context("seed", source=Source.SEED):
        seed_beneficiaries(io.StringIO())
    assert MEMBERSHIPS_FROM <= dt.date(2021, 1, 1)
    people = list(Beneficiary.objects.all())
    assert people
    for person in people:
        today_codes = beneficiary_group_codes_on(beneficiary=person, on=timezone.localdate())
        assert today_codes
        assert beneficiary_group_codes_on(beneficiary=person, on=dt.date(2021, 1, 1)) == today_codes
    assert set(GroupMembership.objects.values_list("valid_from", flat=True)) == {MEMBERSHIPS_FROM}
    entries = ChangeEntry.objects.filter(model="beneficiaries.groupmembership")
    assert set(entries.values_list("source", flat=True)) == {"seed"}


def test_reseed_backdates_memberships_of_an_older_seed_once(regions, superuser):
    """A database seeded before memberships started in 2021: re-seeding adds the missing period
    through the service (logged), and a second run writes nothing."""
    with command_context("seed", source=Source.SEED):
        seed_beneficiaries(io.StringIO())  # groups
        person = beneficiary_create(
            actor=superuser,
            name="旧种子",
            id_number=make_id_number("360300", dt.date(1980, 1, 1), 77, Gender.MALE),
            region=regions["360300"],
            groups=["veteran"],
        )
        _backdate_memberships(person, ["veteran"], superuser)
        count = ChangeEntry.objects.count()
        _backdate_memberships(person, ["veteran"], superuser)
    assert ChangeEntry.objects.count() == count
    assert "veteran" in beneficiary_group_codes_on(beneficiary=person, on=dt.date(2021, 1, 1))
    periods = list(
        GroupMembership.objects.filter(beneficiary=person)
        .order_by("valid_from")
        .values_list("valid_from", "valid_to")
    )
    today = timezone.localdate()
    assert periods == [(MEMBERSHIPS_FROM, today - dt.timedelta(days=1)), (today, None)]
