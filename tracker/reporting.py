"""Sections of the audit reports, contributed by the apps that own the figures.

The registry lives here, in the core; each app that knows some figures (beneficiaries, funding, posts,
vouchers, inspections...) registers its sections from its AppConfig.ready(), and the reports app
(programs.reports) renders whatever is registered as JSON, CSV, XLSX and charts. A report of a part
not yet built therefore answers without that section, never with an error:

    from tracker.reporting import Column, register_report_section
    register_report_section(
        "overview", "posts", _("Public-welfare posts"),
        columns=(Column("posts", _("Posts")), Column("positions", _("Positions")), ...),
        rows=posts_overview_rows,
    )

A section's `rows(scope)` aggregates in the database (a constant number of queries, never a loop over
records) and returns a list of dicts keyed by column key. Every row carries "subregion": the code of the
child region of `scope.region` it falls in (`scope.child_region(...)` computes it in SQL), or None for
records held by `scope.region` itself; `section_totals` sums the rows into the whole region's figures
(counts and money add up, a rate is recomputed from the columns it names), so a section is queried
once for both the breakdown and the total.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Case, Value, When
from django.db.models.functions import Length, Substr
from django.db.models.lookups import GreaterThan

REGION = "subregion"  # not "region": that name clashes with models' region field in annotate()

# Column kinds: a dimension ("code": a code the renderer shows by its label; "text": shown as it is;
# "date", "month"), or a figure ("count", "money", "rate") that section_totals adds up or recomputes.
DIMENSION_KINDS = frozenset({"code", "text", "date", "month"})
FIGURE_KINDS = frozenset({"count", "money", "rate"})


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    kind: str = "count"
    # For "code" dimensions: code -> label in the active language (called when rendering).
    labels: Callable[[], Mapping[Any, Any]] | None = None
    # For "rate" figures: (numerator key, denominator key); the rate is numerator / denominator.
    rate_of: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.kind not in DIMENSION_KINDS | FIGURE_KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")
        if (self.kind == "rate") != (self.rate_of is not None):
            raise ValueError("a rate column names its numerator and denominator, and only a rate does")


@dataclass(frozen=True)
class ReportScope:
    """What a report covers: the caller, the region it is within (in the caller's scope), that
    region's children (code, path) for the breakdown, and the period or date it is about."""

    user: Any
    region: Any
    children: tuple[tuple[str, str], ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    as_of: date | None = None

    def restrict(self, queryset: Any) -> Any:
        """The caller's visible rows within the report's region (tracker.scope is the one door)."""
        return queryset.visible_to(self.user).within(self.region.path)

    def within_scope(self, path_lookup: str = "region_path") -> models.Q:
        """Q: rows whose `path_lookup` lies in the report's region and in the caller's scope, for
        querysets reached through a relation (memberships by their person's `region_path`) where
        `restrict` would join the region table."""
        condition = models.Q(**{f"{path_lookup}__within": self.region.path})
        scope = getattr(self.user, "scope_path", None)
        if scope is None:
            return models.Q(pk__in=[])
        if scope:
            condition &= models.Q(**{f"{path_lookup}__within": scope})
        return condition

    def child_region(self, path_lookup: str = "region_path") -> Case:
        """SQL: the code of the child region a row's path lies in (None for the region itself).

        When the children's codes have one length (they do under every region of the GB/T 2260
        tree), the code is cut out of the path (`substr`): one expression instead of a WHEN per
        child, so the whole country's 34 provinces cost what a county's villages cost."""
        prefix = self.region.path
        lengths = {len(code) for code, _path in self.children}
        if len(lengths) == 1 and all(path == f"{prefix}{code}/" for code, path in self.children):
            (length,) = lengths
            below = models.Q(**{f"{path_lookup}__within": prefix}) & GreaterThan(
                Length(path_lookup), len(prefix)
            )
            return Case(
                When(below, then=Substr(path_lookup, len(prefix) + 1, length)),
                default=Value(None),
                output_field=models.CharField(),
            )
        whens = [When(**{f"{path_lookup}__within": path}, then=Value(code)) for code, path in self.children]
        return Case(*whens, default=Value(None), output_field=models.CharField())

    def in_period(self, date_lookup: str) -> models.Q:
        """The rows whose `date_lookup` falls in [date_from, date_to] (either bound optional)."""
        condition = models.Q()
        if self.date_from is not None:
            condition &= models.Q(**{f"{date_lookup}__gte": self.date_from})
        if self.date_to is not None:
            condition &= models.Q(**{f"{date_lookup}__lte": self.date_to})
        return condition


Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class ReportSection:
    report: str
    key: str
    title: Any
    columns: tuple[Column, ...]
    rows: Callable[[ReportScope], Rows]
    order: int = 100
    notes: Any = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dimensions(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind in DIMENSION_KINDS)

    @property
    def figures(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind in FIGURE_KINDS)


_sections: dict[tuple[str, str], ReportSection] = {}


def register_report_section(
    report: str,
    key: str,
    title: Any,
    *,
    columns: Sequence[Column],
    rows: Callable[[ReportScope], Rows],
    order: int = 100,
    notes: Any = "",
) -> None:
    keys = [c.key for c in columns]
    if REGION in keys or len(set(keys)) != len(keys):
        raise ValueError(f"section {report}/{key}: column keys must be unique and not {REGION!r}")
    for column in columns:
        if column.rate_of and not set(column.rate_of) <= set(keys):
            raise ValueError(f"section {report}/{key}: rate {column.key} names unknown columns")
    _sections[(report, key)] = ReportSection(
        report=report, key=key, title=title, columns=tuple(columns), rows=rows, order=order, notes=notes
    )


def report_sections(report: str) -> list[ReportSection]:
    return sorted((s for s in _sections.values() if s.report == report), key=lambda s: (s.order, s.key))


def report_names() -> list[str]:
    """Every report that has a section or a title: the catalogue the reports app lists."""
    return sorted({report for report, _key in _sections} | set(_titles))


_titles: dict[str, Any] = {}


def register_report(report: str, title: Any, *, order: int = 100) -> None:
    """Name a report and its title (programs.reports names the issue's eight); a report with a
    title and no section yet answers with no sections, never an error."""
    _titles[report] = (order, title)


def report_title(report: str) -> Any:
    return _titles[report][1] if report in _titles else report


def report_order(report: str) -> int:
    return _titles[report][0] if report in _titles else 1000


def rate(numerator: Any, denominator: Any) -> Decimal | None:
    """A rate as a Decimal with four places (None when there is nothing to divide by)."""
    if not denominator:
        return None
    return (Decimal(numerator or 0) / Decimal(denominator)).quantize(Decimal("0.0001"))


def section_totals(section: ReportSection, rows: Rows) -> Rows:
    """The whole region's figures from the breakdown: rows grouped by the section's dimensions (the
    region aside), counts and money summed, rates recomputed. Rows are already aggregates (one per
    child region and dimension value), so this adds up tens of numbers, never records."""
    dimension_keys = [c.key for c in section.dimensions]
    sums: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        group = tuple(row.get(k) for k in dimension_keys)
        total = sums.setdefault(group, {k: v for k, v in zip(dimension_keys, group, strict=True)})
        for column in section.figures:
            if column.kind == "rate":
                continue
            value = row.get(column.key)
            if value is None:
                total.setdefault(column.key, None)
                continue
            previous = total.get(column.key) or (Decimal(0) if column.kind == "money" else 0)
            total[column.key] = previous + value
    for total in sums.values():
        for column in section.figures:
            if column.kind == "rate":
                numerator, denominator = column.rate_of or ("", "")
                total[column.key] = rate(total.get(numerator), total.get(denominator))
            else:
                total.setdefault(column.key, 0)
    return list(sums.values())
