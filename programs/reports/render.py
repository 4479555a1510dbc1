"""A computed report (selectors.ReportResult) as JSON, CSV and XLSX.

- JSON: figures as numbers (counts) or decimal strings (money, two places; rates, four places),
  months as `YYYY-MM`, codes as codes with their labels beside them (`labels` of each code column).
- CSV (tracker.exports' writer, UTF-8 with a byte-order mark): the sections one after another, each
  a title line, a header and its rows (the region's totals first, then its child regions), a blank
  line between; headers and values are labels in the caller's language, never codes.
- XLSX: one sheet per section, the same rows, written with tracker.exports' cells (typed numbers and
  dates, a bold frozen header, column widths).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from programs.reports.selectors import ReportResult, SectionResult, itself_label, total_label
from tracker import exports
from tracker.reporting import REGION, Column

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")
# Report column kind -> export column kind and width.
EXPORT_KINDS = {
    "code": ("text", 24),
    "text": ("text", 24),
    "date": ("date", 12),
    "month": ("text", 10),
    "count": ("int", 12),
    "money": ("money", 16),
    "rate": ("decimal", 10),
}


def json_value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == "money":
        return str(Decimal(value).quantize(CENT))
    if column.kind == "rate":
        return str(Decimal(value).quantize(RATE_PLACES))
    if column.kind == "month":
        return value.strftime("%Y-%m") if isinstance(value, dt.date) else str(value)
    if column.kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return value


def _json_rows(
    section: SectionResult, rows: list[dict[str, Any]], names: dict[str | None, str] | None
) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        item: dict[str, Any] = {}
        if names is not None:
            item[REGION] = row.get(REGION)
            item["subregion_name"] = names.get(row.get(REGION), row.get(REGION) or "")
        for column in section.section.columns:
            item[column.key] = json_value(column, row.get(column.key))
        out.append(item)
    return out


def region_names(result: ReportResult) -> dict[str | None, str]:
    names: dict[str | None, str] = {None: itself_label()}
    names.update({child.code: child.name for child in result.children})
    return names


def as_json(result: ReportResult) -> dict[str, Any]:
    names = region_names(result)
    scope = result.scope
    return {
        "report": result.name,
        "title": result.title,
        "region": {"code": result.region.code, "name": result.region.name},
        "subregions": [{"code": child.code, "name": child.name} for child in result.children],
        "from": scope.date_from.isoformat() if scope.date_from else None,
        "to": scope.date_to.isoformat() if scope.date_to else None,
        "as_of": scope.as_of.isoformat() if scope.as_of else None,
        "sections": [
            {
                "key": s.section.key,
                "title": str(s.section.title),
                "notes": str(s.section.notes or ""),
                "columns": [
                    {
                        "key": c.key,
                        "label": str(c.label),
                        "kind": c.kind,
                        "labels": {
                            str(k): v
                            for k, v in sorted(s.labels.get(c.key, {}).items(), key=lambda kv: str(kv[0]))
                        }
                        if c.kind == "code"
                        else None,
                    }
                    for c in s.section.columns
                ],
                "totals": _json_rows(s, s.totals, None),
                "breakdown": _json_rows(s, s.breakdown, names),
            }
            for s in result.sections
        ],
    }


# -- tables for people (CSV, XLSX) -----------------------------------------------------------------


def table_columns(section: SectionResult) -> list[exports.Column]:
    columns = [exports.Column(REGION, _("Region"), "text", 18)]
    for column in section.section.columns:
        kind, width = EXPORT_KINDS[column.kind]
        width = max(width, min(40, len(str(column.label)) * 2 + 2))
        columns.append(exports.Column(column.key, column.label, kind, width))
    return columns


def _cell(column: Column, value: Any, labels: dict[Any, str]) -> Any:
    if value is None:
        return None
    if column.kind == "code":
        return labels.get(value, str(value))
    if column.kind == "month":
        return value.strftime("%Y-%m") if isinstance(value, dt.date) else str(value)
    if column.kind == "count":
        return int(value)
    if column.kind == "money":
        return Decimal(value).quantize(CENT)
    if column.kind == "rate":
        return Decimal(value).quantize(RATE_PLACES)
    return value


def table_rows(result: ReportResult, section: SectionResult) -> list[tuple[Any, ...]]:
    """The region's totals (labelled "<region> (total)"), then the breakdown by child region."""
    names = region_names(result)
    columns = section.section.columns
    rows = []
    total = total_label(result.region.name)
    for row in section.totals:
        rows.append((total, *(_cell(c, row.get(c.key), section.labels.get(c.key, {})) for c in columns)))
    for row in section.breakdown:
        place = names.get(row.get(REGION), row.get(REGION) or "")
        rows.append((place, *(_cell(c, row.get(c.key), section.labels.get(c.key, {})) for c in columns)))
    return rows


def filename(result: ReportResult, fmt: str) -> str:
    return f"report-{result.name}-{result.region.code}-{timezone.localdate():%Y%m%d}.{fmt}"


def csv_bytes(result: ReportResult) -> Iterator[bytes]:
    first = True
    for section in result.sections:
        title = io.StringIO()
        writer = csv.writer(title)
        if not first:
            writer.writerow([])
        writer.writerow([exports.neutralise(str(section.section.title))])
        chunks = exports.csv_stream(table_columns(section), table_rows(result, section), labels=True)
        head = next(chunks)
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        yield (b"\xef\xbb\xbf" if first else b"") + title.getvalue().encode() + head
        yield from chunks
        first = False
    if first:  # no section: a file with the report's title only
        yield b"\xef\xbb\xbf" + (result.title + "\r\n").encode()


def csv_response(result: ReportResult) -> HttpResponse:
    response = HttpResponse(b"".join(csv_bytes(result)), content_type=exports.CSV_MEDIA_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename(result, "csv")}"'
    return response


# -- XLSX: one sheet per section ---------------------------------------------------------------------

_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_names(result: ReportResult) -> list[str]:
    names: list[str] = []
    for section in result.sections or []:
        base = (
            _SHEET_NAME_FORBIDDEN.sub(" ", str(section.section.title)).strip()[:28]
            or section.section.key[:28]
        )
        name, n = base, 2
        while name.lower() in {x.lower() for x in names}:
            name, n = f"{base[:27]}~{n}", n + 1
        names.append(name)
    return names or [_SHEET_NAME_FORBIDDEN.sub(" ", result.title)[:31] or "report"]


def xlsx_bytes(result: ReportResult) -> bytes:
    """One sheet per section (tracker.exports' workbook writer: typed cells, frozen header, widths)."""
    sheets = [
        (name, table_columns(section), table_rows(result, section))
        for name, section in zip(sheet_names(result), result.sections, strict=False)
    ]
    return exports.xlsx_workbook(
        sheets or [(sheet_names(result)[0], [exports.Column(REGION, _("Region"), "text", 18)], [])]
    )


def xlsx_response(result: ReportResult) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(result), content_type=exports.XLSX_MEDIA_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename(result, "xlsx")}"'
    return response
