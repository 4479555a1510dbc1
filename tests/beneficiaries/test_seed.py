"""The seed step: groups from the data file, example people with valid numbers; idempotent."""

from __future__ import annotations

import io

from django.utils import timezone

from beneficiaries.identity import id_number_prefix_for_region, parse_id_number
from beneficiaries.models import ID_NUMBER_PURPOSE, Beneficiary, BeneficiaryGroup, FollowUp
from seeds.beneficiaries import seed_beneficiaries
from tracker.changelog.context import Source, command_context
from tracker.changelog.models import ChangeEntry
from tracker.pii import decrypt


def test_seed_is_idempotent_and_valid(regions):
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
        prefix = id_number_prefix_for_region(person.region.code)
        assert number[:6] in {prefix, f"{prefix[:4]}00", f"{prefix[:2]}0000"}
    assert ChangeEntry.objects.filter(model="beneficiaries.beneficiary").values(
        "source"
    ).distinct().get() == {"source": "seed"}
