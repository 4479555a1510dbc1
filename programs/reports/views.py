"""The dashboard at /reports/: a report of a region (the overview by default, `?report=` for another)
as charts drawn on the server (SVG, programs/reports/charts.py) — the breakdown by child region as
bars, a month dimension as lines, rates (achieved against plan or target) as progress bars — with a
region picker that drills down the tree, for people signed in through the admin (same session, same
scope as the API). Chinese by default, English through the admin's language switch."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from programs.reports import charts
from programs.reports.render import json_value, region_names
from programs.reports.selectors import ReportResult, SectionResult, catalogue, report_data, total_label
from tracker.reporting import REGION

MAX_BAR_FIGURES = 4


class DashboardForm(forms.Form):
    report = forms.ChoiceField(required=False, label=gettext_lazy("Report"))
    within = forms.RegexField(
        regex=r"^[0-9A-Z]{6}([0-9A-Z]{3}){0,2}$", required=False, label=gettext_lazy("Region code")
    )
    date_from = forms.DateField(
        required=False, label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    as_of = forms.DateField(
        required=False, label=gettext_lazy("As of"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["report"].choices = catalogue()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The period ends before it starts."))
        return data


def _dimension_text(section: SectionResult, row: dict[str, Any]) -> str:
    parts = []
    for column in section.section.dimensions:
        value = row.get(column.key)
        if column.kind == "code":
            parts.append(section.labels.get(column.key, {}).get(value, str(value)))
        else:
            parts.append(str(json_value(column, value) or ""))
    return " · ".join(parts)


def _every_month(points: list[tuple[Any, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """(month, row) from the first month to the last, a month without records as an empty row, so
    the line chart's horizontal axis is the calendar."""
    by_month = {(m.year, m.month): row for m, row in points if hasattr(m, "year")}
    if not by_month:
        return []
    (year, month), last = min(by_month), max(by_month)
    filled = []
    while (year, month) <= last:
        filled.append((f"{year:04d}-{month:02d}", by_month.get((year, month), {})))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return filled


def _section_view(result: ReportResult, section: SectionResult) -> dict[str, Any]:
    names = region_names(result)
    spec = section.section
    dims = spec.dimensions
    figures = spec.figures
    header = [str(c.label) for c in (*dims, *figures)]
    rows = []
    for row in section.totals:
        cells = []
        for column in dims:
            cells.append(
                _dimension_text(section, {column.key: row.get(column.key)})
                if column.kind == "code"
                else str(json_value(column, row.get(column.key)) or "")
            )
        cells.extend(charts.display(row.get(c.key), c.kind) for c in figures)
        rows.append(cells)
    view: dict[str, Any] = {
        "key": spec.key,
        "title": str(spec.title),
        "notes": str(spec.notes or ""),
        "header": header,
        "rows": rows,
        "bars": None,
        "line": None,
        "progress": [],
    }
    plain = [c for c in figures if c.kind != "rate"]
    counts = [c for c in plain if c.kind == "count"]
    chosen = (counts or plain)[:MAX_BAR_FIGURES]
    kinds = {c.key: c.kind for c in spec.columns}
    if not dims:
        by_region = {row.get(REGION): row for row in section.breakdown}
        groups = [(names[None], by_region[None])] if None in by_region else []
        groups += [(child.name, by_region.get(child.code, {})) for child in result.children]
        view["bars"] = charts.bar_chart(groups, [(c.key, str(c.label), c.kind) for c in chosen])
        for column in figures:
            if column.kind != "rate":
                continue
            numerator, denominator = column.rate_of or ("", "")
            entries = [
                charts.progress(
                    total_label(result.region.name),
                    row.get(column.key),
                    row.get(numerator),
                    row.get(denominator),
                    (kinds[numerator], kinds[denominator]),
                )
                for row in section.totals
            ]
            entries += [
                charts.progress(
                    name,
                    row.get(column.key),
                    row.get(numerator),
                    row.get(denominator),
                    (kinds[numerator], kinds[denominator]),
                )
                for name, row in groups
                if row
            ]
            view["progress"].append({"label": str(column.label), "entries": entries})
    elif [c.kind for c in dims] == ["month"]:
        points = _every_month([(row[dims[0].key], row) for row in section.totals if row.get(dims[0].key)])
        money = [c for c in plain if c.kind == "money"] or plain
        view["line"] = charts.line_chart(points, [(c.key, str(c.label), c.kind) for c in money])
    else:
        for column in figures:
            if column.kind != "rate":
                continue
            numerator, denominator = column.rate_of or ("", "")
            entries = [
                charts.progress(
                    _dimension_text(section, row),
                    row.get(column.key),
                    row.get(numerator),
                    row.get(denominator),
                    (kinds[numerator], kinds[denominator]),
                )
                for row in section.totals
                if row.get(denominator)
            ]
            if entries:
                view["progress"].append({"label": str(column.label), "entries": entries})
    return view


@login_required(login_url=reverse_lazy("admin:login"))
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_superuser or getattr(user, "roles", None)):
        raise PermissionDenied(_("Your role does not allow this action."))
    form = DashboardForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        context = {"form": form, "result": None, "title": _("Reports")}
        return render(request, "reports/dashboard.html", context, status=400)
    data = form.cleaned_data if form.is_bound else {}
    name = data.get("report") or "overview"
    result = report_data(
        name,
        user=user,
        code=data.get("within") or None,
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        as_of=data.get("as_of"),
    )
    period = {k: v for k, v in request.GET.items() if k in ("date_from", "date_to", "as_of") and v}
    if name != "overview":
        period["report"] = name

    api_period = {
        api: request.GET[name]
        for name, api in (("date_from", "from"), ("date_to", "to"), ("as_of", "as_of"))
        if request.GET.get(name)
    }

    def link(code: str | None) -> str:
        return "?" + urlencode({**({"within": code} if code else {}), **period})

    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "result": result,
            "title": f"{result.title} · {result.region.name}",
            "trail": [(place.name, link(place.code)) for place in result.trail],
            "children": [(place.name, link(place.code)) for place in result.children],
            "sections": [_section_view(result, section) for section in result.sections],
            "exports": [
                (
                    label,
                    reverse("report-detail", kwargs={"name": name})
                    + "?"
                    + urlencode({"within": result.region.code, **api_period, "format": fmt}),
                )
                for label, fmt in (("CSV", "csv"), ("XLSX", "xlsx"))
            ],
        },
    )
