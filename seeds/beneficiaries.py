"""Seed step: example beneficiaries (filled in by the beneficiaries work)."""

from typing import Any


def seed_beneficiaries(stdout: Any) -> None:
    return None
