from __future__ import annotations

from typing import Any

import pytest

from beneficiaries.models import BeneficiaryGroup
from seeds.beneficiaries import seed_beneficiary_groups
from tracker.changelog.context import Source, command_context


@pytest.fixture
def groups(regions: Any) -> dict[str, BeneficiaryGroup]:
    """The 45 groups of seeds/data/beneficiary_groups.yaml."""
    with command_context("test-setup", source=Source.SEED):
        seed_beneficiary_groups()
    return {g.code: g for g in BeneficiaryGroup.objects.all()}
