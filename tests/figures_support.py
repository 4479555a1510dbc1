"""Helpers shared by the tests of the figures' data (households, registrations, loans, allocations,
targets): people saved directly with a current status, and a report scope like the reports app's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from beneficiaries.models import Beneficiary
from tests.programs.conftest import make_person, set_status
from tracker.regions.models import Region
from tracker.reporting import ReportScope


def person_with_status(
    region: Region, status: str, *, since: dt.date = dt.date(2021, 1, 1), **kwargs: Any
) -> Beneficiary:
    person = make_person(region, since=since, **kwargs)
    set_status(person, status, since)
    person.status = status
    person.save()
    return person


def scope_for(user: Any, region: Region, **period: Any) -> ReportScope:
    children = tuple((c.code, c.path) for c in region.children.order_by("code"))
    return ReportScope(user=user, region=region, children=children, **period)


def totals(rows: list[dict[str, Any]], *keys: str) -> dict[str, Any]:
    return {k: sum(r[k] for r in rows) for k in keys}
