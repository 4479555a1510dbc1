"""Benchmark case of the audit reports: the whole country's overview, as the national analyst asks
for it, beside one hand-written SQL query that computes the same numbers (the sections the reports
app registers: people by status and by group, willing-to-work people lifted out of poverty, posts,
vouchers against plan, payments by fund source and by month), timed alternately in the same run on
the read benchmarks' data set (benchmarks/data.py). The report's figures are checked against the
query's before timing. Sections other apps register under "overview" are left out of both sides."""

from __future__ import annotations

import statistics
import time
from decimal import Decimal
from typing import Any

from benchmarks.harness import Row

TARGET_RATIO = 1.5
TARGET_SECONDS = 1.0
KEYS = {
    "people_by_status",
    "people_by_group",
    "poverty_employment",
    "posts",
    "vouchers",
    "payments_by_fund",
    "payments_by_month",
}
EMPLOYED = (
    "employed_local",
    "employed_outside_county",
    "employed_outside_province",
    "flexible",
    "self_employed",
    "public_welfare_post",
)


def _sql(engine: str) -> tuple[str, list[Any]]:
    """One statement, one row per (section, province, dimension values) with up to three figures."""
    from beneficiaries.models import Beneficiary, BeneficiaryGroup, GroupMembership
    from programs.funding.models import FundSource, Payment
    from programs.posts.models import Assignment, Post
    from programs.vouchers.models import Voucher, VoucherPlan, VoucherType
    from tracker.regions.models import Region

    t = {
        m.__name__: m._meta.db_table
        for m in (
            Beneficiary,
            BeneficiaryGroup,
            GroupMembership,
            FundSource,
            Payment,
            Assignment,
            Post,
            Voucher,
            VoucherPlan,
            VoucherType,
            Region,
        )
    }
    employed = ", ".join(f"'{s}'" for s in EMPLOYED)

    def child(column: str) -> str:
        return f"CASE WHEN length({column}) > 7 THEN substr({column}, 8, 6) END"

    month = "substr(p.period_start, 1, 7)" if engine == "sqlite" else "to_char(p.period_start, 'YYYY-MM')"
    today = "%s"
    sql = f"""
SELECT 'people_by_status', {child("b.region_path")}, CASE WHEN b.status = '' THEN 'none' ELSE b.status END,
       CAST(NULL AS TEXT), CAST(COUNT(*) AS NUMERIC), CAST(NULL AS NUMERIC), CAST(NULL AS NUMERIC)
  FROM {t["Beneficiary"]} b WHERE b.active GROUP BY 2, 3
UNION ALL
SELECT 'people_by_group', {child("b.region_path")}, g.code, NULL, COUNT(DISTINCT m.beneficiary_id),
       COUNT(DISTINCT CASE WHEN b.status IN ({employed}) THEN m.beneficiary_id END), NULL
  FROM {t["GroupMembership"]} m JOIN {t["Beneficiary"]} b ON b.id = m.beneficiary_id
  JOIN {t["BeneficiaryGroup"]} g ON g.id = m.group_id
 WHERE b.active AND m.valid_from <= {today} AND (m.valid_to IS NULL OR m.valid_to >= {today}) GROUP BY 2, 3
UNION ALL
SELECT 'poverty_employment', {child("b.region_path")}, NULL, NULL, COUNT(*),
       SUM(CASE WHEN b.status IN ({employed}) THEN 1 ELSE 0 END),
       SUM(CASE WHEN b.status = 'public_welfare_post' THEN 1 ELSE 0 END)
  FROM {t["Beneficiary"]} b
 WHERE b.active AND b.willing_to_work AND EXISTS (
       SELECT 1 FROM {t["GroupMembership"]} m JOIN {t["BeneficiaryGroup"]} g ON g.id = m.group_id
        WHERE m.beneficiary_id = b.id AND g.code = 'lifted_out_of_poverty'
          AND m.valid_from <= {today} AND (m.valid_to IS NULL OR m.valid_to >= {today}))
 GROUP BY 2
UNION ALL
SELECT 'posts', {child("po.region_path")}, NULL, NULL, COUNT(*), SUM(po.headcount), NULL
  FROM {t["Post"]} po WHERE po.opened_on <= {today} AND (po.closed_on IS NULL OR po.closed_on >= {today}) GROUP BY 2
UNION ALL
SELECT 'posts_filled', {child("a.region_path")}, NULL, NULL, COUNT(*), NULL, NULL
  FROM {t["Assignment"]} a JOIN {t["Post"]} po ON po.id = a.post_id
 WHERE a.start_date <= {today} AND (a.end_date IS NULL OR a.end_date >= {today})
   AND po.opened_on <= {today} AND (po.closed_on IS NULL OR po.closed_on >= {today}) GROUP BY 2
UNION ALL
SELECT 'vouchers_planned', {child("r.path")}, vt.code, NULL, SUM(vp.planned_count), NULL, NULL
  FROM {t["VoucherPlan"]} vp JOIN {t["Region"]} r ON r.id = vp.region_id JOIN {t["VoucherType"]} vt ON vt.id = vp.type_id
 GROUP BY 2, 3
UNION ALL
SELECT 'vouchers', {child("v.region_path")}, vt.code, v.status, COUNT(*), NULL, NULL
  FROM {t["Voucher"]} v JOIN {t["VoucherType"]} vt ON vt.id = v.type_id GROUP BY 2, 3, 4
UNION ALL
SELECT 'payments_by_fund', {child("p.region_path")}, COALESCE(f.code, ''), NULL,
       SUM(CASE WHEN p.status IN ('submitted', 'approved') THEN p.amount ELSE 0 END),
       SUM(CASE WHEN p.status = 'paid' THEN p.amount ELSE 0 END),
       SUM(CASE WHEN p.status = 'reversed' THEN p.amount ELSE 0 END)
  FROM {t["Payment"]} p LEFT JOIN {t["FundSource"]} f ON f.id = p.fund_source_id GROUP BY 2, 3
UNION ALL
SELECT 'payments_by_month', {child("p.region_path")}, {month}, NULL,
       SUM(CASE WHEN p.status IN ('submitted', 'approved') THEN p.amount ELSE 0 END),
       SUM(CASE WHEN p.status = 'paid' THEN p.amount ELSE 0 END),
       SUM(CASE WHEN p.status = 'reversed' THEN p.amount ELSE 0 END)
  FROM {t["Payment"]} p GROUP BY 2, 3
"""
    from django.utils import timezone

    on = timezone.localdate().isoformat()
    return sql, [on] * sql.count("%s")


def _baseline(engine: str) -> list[tuple[Any, ...]]:
    from django.db import connection

    sql, params = _sql(engine)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _report(user: Any) -> Any:
    from programs.reports.render import as_json
    from programs.reports.selectors import report_data

    return as_json(report_data("overview", user=user, keys=KEYS))


def _check(report: dict[str, Any], rows: list[tuple[Any, ...]]) -> None:
    """The same numbers: people, willing-to-work employed, money paid, per province."""
    sections = {s["key"]: s for s in report["sections"]}

    def by_child(key: str, figure: str) -> dict[Any, Decimal]:
        out: dict[Any, Decimal] = {}
        for row in sections[key]["breakdown"]:
            out[row["subregion"]] = out.get(row["subregion"], Decimal(0)) + Decimal(str(row[figure] or 0))
        return {k: v for k, v in out.items() if v}

    def by_child_sql(section: str, index: int) -> dict[Any, Decimal]:
        out: dict[Any, Decimal] = {}
        for row in rows:
            if row[0] == section:
                out[row[1]] = out.get(row[1], Decimal(0)) + Decimal(str(row[index] or 0))
        return {k: v for k, v in out.items() if v}

    for key, figure, index in (
        ("people_by_status", "people", 4),
        ("poverty_employment", "employed", 5),
        ("payments_by_fund", "paid", 5),
        ("payments_by_month", "committed", 4),
    ):
        assert by_child(key, figure) == by_child_sql(key, index), key


def _section_times(user: Any) -> dict[str, float]:
    """Milliseconds per section of the report (where its time goes), one pass."""
    from programs.reports.selectors import compute_section, report_region, report_scope
    from tracker.reporting import report_sections

    scope, children = report_scope(user=user, region=report_region(user, None))
    order = {None: 0, **{child.code: n for n, child in enumerate(children, 1)}}
    times = {}
    for section in report_sections("overview"):
        if section.key in KEYS:
            start = time.perf_counter()
            compute_section(section, scope, order)
            times[section.key] = round((time.perf_counter() - start) * 1000, 1)
    return times


def overview(ctx: Any) -> list[Row]:
    from benchmarks.reads import ensure_data

    data = ensure_data(ctx)
    user = data.users["bench_national"]
    report = _report(user)
    rows = _baseline(ctx.engine)
    _check(report, rows)
    measured, baseline = [], []
    for _ in range(max(3, min(ctx.reps, 11))):
        start = time.perf_counter()
        _report(user)
        measured.append(time.perf_counter() - start)
        start = time.perf_counter()
        _baseline(ctx.engine)
        baseline.append(time.perf_counter() - start)
    api, base = statistics.median(measured), statistics.median(baseline)
    sections = _section_times(user)
    print(f"  sections (ms): {sections}", flush=True)
    ratio = api / base if base else None
    print(
        f"  report overview: {api * 1000:.1f} ms, hand-written SQL {base * 1000:.1f} ms, ratio {ratio:.2f}",
        flush=True,
    )
    return [
        Row(
            case=f"whole-country overview ({len(report['sections'])} sections)",
            engine=ctx.engine,
            measured=api * 1000,
            baseline=base * 1000,
            unit="ms",
            ratio=ratio,
            target=f"<= {TARGET_RATIO} and < {TARGET_SECONDS * 1000:.0f} ms",
            ok=ratio is not None and ratio <= TARGET_RATIO and api < TARGET_SECONDS,
            detail={
                "people": data.counts.get("people"),
                "payments": data.counts.get("payments"),
                "sections_ms": sections,
            },
        )
    ]
