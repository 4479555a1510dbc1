"""Fixtures shared by the compiled-statement tests (test_statements*.py)."""

from __future__ import annotations

import pytest

from seeds.factories.beneficiaries import BeneficiaryFactory
from tracker.statements import statements


@pytest.fixture
def empty_statement_cache():
    """The process-wide statement cache, empty before and after the test."""
    statements.clear()
    yield
    statements.clear()


@pytest.fixture
def people(regions):
    """Five people in 莲花县 (萍乡, the clerk's region) and three in 梧州 (the outsider's)."""
    home = [BeneficiaryFactory(region=regions["360323"]) for _ in range(5)]
    away = [BeneficiaryFactory(region=regions["450400"]) for _ in range(3)]
    return home, away
