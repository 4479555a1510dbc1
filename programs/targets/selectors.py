"""Targets against what the records show, counted in SQL: one aggregate query per measure present
(each target a filtered COUNT over its region's subtree and year), so the cost does not grow with the
records, only with the handful of measures.

How each measure is achieved (the records the rest of the service keeps):
- vouchers_issued: vouchers issued in the year (programs.vouchers.Voucher, any status).
- training_subsidised / training_social: training person-times are vouchers (one voucher per
  person-time, as the vouchers seed and Zhangjiakou's electronic voucher do): subsidised when the
  voucher's type pays someone, social (社会性培训) when the type is check-in only (payee "none").
- employment_registrations: employment registrations dated in the year (beneficiaries).
- reemployed_unemployed: people whose status moved from unemployed to an employed status in the year
  (beneficiaries.StatusChange; see beneficiaries.reemployment)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet

from beneficiaries.models import EmploymentRegistration
from beneficiaries.reemployment import reemployment_changes
from programs.targets.choices import Measure
from programs.targets.models import Target
from programs.vouchers.choices import VoucherPayee
from programs.vouchers.models import Voucher


def _measure_source(measure: str) -> tuple[QuerySet, str, str]:
    """(records, path field, date field) a measure counts."""
    if measure == Measure.VOUCHERS_ISSUED:
        return Voucher.objects.all(), "region_path", "issued_at"
    if measure == Measure.TRAINING_SUBSIDISED:
        return Voucher.objects.exclude(type__payee=VoucherPayee.NONE), "region_path", "issued_at"
    if measure == Measure.TRAINING_SOCIAL:
        return Voucher.objects.filter(type__payee=VoucherPayee.NONE), "region_path", "issued_at"
    if measure == Measure.EMPLOYMENT_REGISTRATIONS:
        return EmploymentRegistration.objects.all(), "region_path", "registered_on"
    if measure == Measure.REEMPLOYED_UNEMPLOYED:
        return reemployment_changes(), "beneficiary__region_path", "effective_on"
    raise ValueError(measure)


def achieved_for(targets: Iterable[Target]) -> dict[int, int]:
    """{target id: figure achieved}, one query per measure among the targets."""
    by_measure: dict[str, list[Any]] = {}
    for target in targets:
        by_measure.setdefault(target.measure, []).append(target)
    achieved: dict[int, int] = {}
    for measure, group in by_measure.items():
        records, path_field, date_field = _measure_source(measure)
        distinct = measure == Measure.REEMPLOYED_UNEMPLOYED
        counted = "beneficiary" if distinct else "pk"
        totals = records.aggregate(
            **{
                f"t{t.pk}": Count(
                    counted,
                    distinct=distinct,
                    filter=Q(**{f"{path_field}__within": t.region.path, f"{date_field}__year": t.year}),
                )
                for t in group
            }
        )
        achieved.update({t.pk: totals[f"t{t.pk}"] or 0 for t in group})
    return achieved
