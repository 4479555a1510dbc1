"""Seed step: fund sources, programs, employers and example payments (filled in by the funding work)."""

from typing import Any


def seed_funding(stdout: Any) -> None:
    return None
