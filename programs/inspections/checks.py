"""The compliance-check registry and the check run.

A rule is data: a code, a description in Chinese and English, a severity, the kind of record it
concerns, and ONE set-based query — `query(ctx)` returns a queryset of dict rows, each one
violation, with `record` (the id of the record concerned), `in_region` (its region's id) and `in_path` (that region's path), and its evidence
as keys prefixed `e_`. No rule loops over records in Python; a run costs one query
per rule plus a constant number for the findings, whatever the region's size.

This app registers the rules over posts, payments, vouchers, check-ins, beneficiaries and
follow-ups (programs.inspections.compliance); other apps register theirs from their own
AppConfig.ready() with `register_check(ComplianceRule(...))` (e.g. the households rules
RELOCATED_HOUSEHOLD_NO_EMPLOYMENT and ZERO_EMPLOYMENT_HOUSEHOLD).

A run (`check_run_create`) opens one finding per violation that has no unresolved finding of the
same rule and record (the database backs this with a partial unique index), reopens a
no-longer-reproducing finding whose violation is back, and moves an open finding whose violation
is gone — among those opened by runs over a period the new run covers — to `no_longer_reproduces`,
which an inspector still verifies.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from programs.inspections.choices import FindingSource, FindingStatus
from programs.inspections.models import CheckRun, Finding
from programs.inspections.selectors import due_days
from tracker.accounts.choices import Role
from tracker.changelog.context import acting
from tracker.changelog.services import tracked_bulk_create, tracked_bulk_update
from tracker.regions.models import Region
from tracker.scope import require_in_scope
from tracker.transactions import atomic_service


@dataclass(frozen=True)
class CheckContext:
    """What a run checks: the region's subtree, the period, and the day it judges as of (the
    period's end, or today when that is earlier)."""

    region_path: str
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date


@dataclass(frozen=True)
class ComplianceRule:
    code: str
    description_zh: str
    description_en: str
    severity: str
    concerns: str
    query: Callable[[CheckContext], QuerySet]
    rectification_zh: str = ""
    app: str = "inspections"

    def description(self) -> str:
        return self.description_zh if (get_language() or "").startswith("zh") else self.description_en


_rules: dict[str, ComplianceRule] = {}


def register_check(rule: ComplianceRule) -> None:
    """Add a rule to the registry (from an AppConfig.ready()); a code is registered once."""
    if rule.code in _rules and _rules[rule.code] is not rule:
        raise ValueError(f"compliance rule {rule.code} is already registered")
    _rules[rule.code] = rule


def check_rules() -> list[ComplianceRule]:
    return [_rules[code] for code in sorted(_rules)]


def check_rule(code: str) -> ComplianceRule:
    return _rules[code]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def violations(rule: ComplianceRule, ctx: CheckContext) -> list[dict[str, Any]]:
    """The rule's violations as rows (one query)."""
    rows = []
    for row in rule.query(ctx):
        rows.append({key: _plain(value) for key, value in row.items()})
    return rows


def _key(rule: str, concerns: str, record: Any) -> tuple[str, str, str]:
    return (rule, concerns, str(record))


@atomic_service
def check_run_create(
    *,
    actor: Any,
    region: Region,
    period_start: dt.date,
    period_end: dt.date,
    rules: Sequence[str] = (),
    today: dt.date | None = None,
) -> CheckRun:
    """Run the rules (all registered, or those named) over the region's subtree and the period."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.has_role(Role.INSPECTOR):
        raise PermissionDenied("NOT_AN_INSPECTOR: " + _("only inspectors run compliance checks."))
    require_in_scope(actor, region)
    if period_end < period_start:
        raise ValidationError({"period_end": [_("The period ends before it starts.")]})
    unknown = sorted(set(rules) - set(_rules))
    if unknown:
        raise ValidationError({"rules": [_("Unknown rules: %(codes)s.") % {"codes": ", ".join(unknown)}]})
    chosen = [_rules[code] for code in sorted(set(rules))] if rules else check_rules()
    today = today or timezone.localdate()
    ctx = CheckContext(
        region_path=region.path,
        period_start=period_start,
        period_end=period_end,
        as_of=min(period_end, today),
    )
    run = CheckRun(
        region=region,
        period_start=period_start,
        period_end=period_end,
        rules=[r.code for r in chosen],
        created_by=actor,
    )
    with acting(actor, action="create"):
        run.save()

    found: dict[tuple[str, str, str], tuple[ComplianceRule, dict[str, Any]]] = {}
    results: dict[str, dict[str, int]] = {}
    for rule in chosen:
        rows = violations(rule, ctx)
        results[rule.code] = {
            "violations": len(rows),
            "opened": 0,
            "already_open": 0,
            "no_longer_reproduces": 0,
        }
        for row in rows:
            found[_key(rule.code, rule.concerns, row["record"])] = (rule, row)

    unresolved = list(
        Finding.objects.select_for_update(of=("self",))
        .within(region.path)
        .filter(
            source=FindingSource.CHECK,
            rule__in=[r.code for r in chosen],
            status__in=[
                FindingStatus.OPEN,
                FindingStatus.RECTIFYING,
                FindingStatus.RECTIFIED,
                FindingStatus.REOPENED,
                FindingStatus.NO_LONGER_REPRODUCES,
            ],
        )
        .select_related("check_run")
    )
    existing = {_key(f.rule, f.concerns, f.concerns_id): f for f in unresolved}
    now = timezone.now()
    due = today + dt.timedelta(days=due_days())
    new: list[Finding] = []
    for key, (rule, row) in found.items():
        if key in existing:
            results[rule.code]["already_open"] += 1
            continue
        evidence = {k[2:]: v for k, v in row.items() if k.startswith("e_")}
        new.append(
            Finding(
                source=FindingSource.CHECK,
                rule=rule.code,
                severity=rule.severity,
                concerns=rule.concerns,
                concerns_id=str(row["record"]),
                region_id=row["in_region"],
                region_path=row["in_path"],
                description=f"{rule.description_zh}（{rule.description_en}）"[:4000],
                evidence=evidence,
                rectification_required=rule.rectification_zh,
                due_on=due,
                check_run=run,
                last_seen_run=run,
                opened_by=actor,
            )
        )
        results[rule.code]["opened"] += 1
    back: list[Finding] = []
    gone: list[Finding] = []
    for key, finding in existing.items():
        if key in found:
            if finding.status == FindingStatus.NO_LONGER_REPRODUCES:
                finding.status = FindingStatus.REOPENED
                finding.reopened_at = now
                finding.last_seen_run = run
                back.append(finding)
            continue
        opened_by_run = finding.check_run
        covered = opened_by_run is not None and (
            period_start <= opened_by_run.period_start and opened_by_run.period_end <= period_end
        )
        if covered and finding.status in (
            FindingStatus.OPEN,
            FindingStatus.RECTIFYING,
            FindingStatus.REOPENED,
        ):
            finding.status = FindingStatus.NO_LONGER_REPRODUCES
            finding.gone_at = now
            gone.append(finding)
            results[finding.rule]["no_longer_reproduces"] += 1
    if new:
        with acting(actor, action="open"):
            tracked_bulk_create(Finding, new)
    if back:
        with acting(actor, action="reappeared"):
            tracked_bulk_update(Finding, back, ["status", "reopened_at", "last_seen_run"])
    if gone:
        with acting(actor, action="no_longer_reproduces"):
            tracked_bulk_update(Finding, gone, ["status", "gone_at"])
    run.results = results
    run.violations = len(found)
    run.opened = len(new)
    run.resolved = len(gone)
    with acting(actor, action="finish"):
        run.save(update_fields=["results", "violations", "opened", "resolved"])
    return run
