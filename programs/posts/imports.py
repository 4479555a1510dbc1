"""Attendance import: a month's sign-in sheet (or several months') as CSV (UTF-8 or GB18030) or XLSX,
under the beneficiary import's rules (beneficiaries.imports): the file is parsed by the same reader
with the same cell rules (no formulas, no error cells, no NUL, a leading = + - @ refused), validated
whole, and written only when no row has an error, all or nothing; every error is reported as
{row, column, message} (row 1 is the header).

A row names the holder by identity number (matched through its keyed hash, within the importer's
region); the post (岗位编号, its id) is needed only for a person who held two posts in that month.
Each month's rows are then checked and written by services.attendance_bulk_upsert, the path the API
and the admin's roster page take, so the attendance rules are the same on every door."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from beneficiaries.identity import normalise_id_number
from beneficiaries.imports import ImportRejected, cell_problem, max_bytes, read_table
from beneficiaries.models import ID_NUMBER_PURPOSE, Beneficiary
from beneficiaries.names import normalise_name
from programs.posts.choices import AttendanceSource
from programs.posts.models import Assignment
from programs.posts.selectors import held_between
from programs.posts.services import AttendanceRow, attendance_bulk_upsert
from tracker.periods import Month
from tracker.pii import keyed_hash

# (field, Chinese header, required)
COLUMNS: list[tuple[str, str, bool]] = [
    ("month", "月份", True),
    ("id_number", "身份证号码", True),
    ("name", "姓名", False),
    ("post", "岗位编号", False),
    ("days_required", "应出勤天数", True),
    ("days_present", "实际出勤天数", True),
    ("paid_leave_days", "带薪假天数", False),
]
HEADER_ALIASES: dict[str, str] = {
    **{c[0]: c[0] for c in COLUMNS},
    **{c[1]: c[0] for c in COLUMNS},
    "身份证号": "id_number",
    "公民身份号码": "id_number",
    "岗位": "post",
    "应出勤": "days_required",
    "出勤天数": "days_present",
    "实出勤天数": "days_present",
    "请假天数": "paid_leave_days",
    "带薪休假天数": "paid_leave_days",
}
INTEGER_COLUMNS = ("days_required", "days_present", "paid_leave_days", "post")
CHUNK = 900


@dataclass
class AttendanceImportResult:
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


@dataclass
class _Line:
    number: int
    values: dict[str, Any]
    month: Month | None = None
    person: Beneficiary | None = None
    assignment: Assignment | None = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _month(value: Any) -> Month:
    if isinstance(value, dt.date):
        return Month.of(value)
    text = _text(value).replace("/", "-").replace(".", "-")
    if len(text) == 6 and text.isdigit():
        text = f"{text[:4]}-{text[4:]}"
    if len(text) == 6 and text[4] == "-":  # 2021-5
        text = f"{text[:5]}0{text[5]}"
    return Month.parse(text)


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    text = _text(value)
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


def attendance_import(
    *, file: Any, filename: str = "", actor: Any, dry_run: bool = False
) -> AttendanceImportResult:
    """Validate a whole attendance file and, when every row is valid and `dry_run` is false, write it
    in one transaction. Raises ImportRejected listing every error (nothing is written then)."""
    if isinstance(file, (bytes, bytearray)):
        content = bytes(file)
    elif hasattr(file, "chunks"):
        content = b"".join(file.chunks())
    else:
        content = file.read(max_bytes() + 1)
    if len(content) > max_bytes():
        message = _("The file is larger than the limit of %(n)d bytes.") % {"n": max_bytes()}
        raise ImportRejected(message, [{"row": None, "column": None, "message": message}])
    table = read_table(content, filename or getattr(file, "name", "") or "")
    try:
        return _run(table, actor=actor, dry_run=dry_run)
    finally:
        table.close()


def _columns(
    headers: list[str], header_row: int
) -> tuple[dict[int, str], dict[str, str], list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    by_index: dict[int, str] = {}
    labels: dict[str, str] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        name = HEADER_ALIASES.get(header) or HEADER_ALIASES.get(header.lower())
        if name is None:
            errors.append({"row": header_row, "column": header, "message": _("Unknown column.")})
        elif name in labels:
            errors.append(
                {
                    "row": header_row,
                    "column": header,
                    "message": _("Column given twice (also %(h)s).") % {"h": labels[name]},
                }
            )
        else:
            by_index[index] = name
            labels[name] = header
    for name, zh, required in COLUMNS:
        if required and name not in labels:
            errors.append(
                {
                    "row": header_row,
                    "column": name,
                    "message": _("Required column missing (%(zh)s / %(en)s).") % {"zh": zh, "en": name},
                }
            )
    return by_index, labels, errors


def _run(table: Any, *, actor: Any, dry_run: bool) -> AttendanceImportResult:
    by_index, labels, header_errors = _columns(table.headers, table.header_row)
    if header_errors:
        raise ImportRejected(_("The header row is invalid."), header_errors)
    errors: list[tuple[int, str, str]] = []

    def err(number: int, name: str, message: str) -> None:
        errors.append((number, labels.get(name, name), message))

    lines: list[_Line] = []
    for number, cells in table.rows():
        values: dict[str, Any] = {}
        for index, name in by_index.items():
            value = cells[index] if index < len(cells) else None
            problem = cell_problem(name, value)
            if problem is not None:
                err(number, name, problem)
                continue
            values[name] = value
        line = _Line(number, values)
        lines.append(line)
        if "month" in values:
            try:
                line.month = _month(values["month"])
            except ValidationError:
                err(number, "month", _("A month is written YYYY-MM."))
        for name in INTEGER_COLUMNS:
            if name not in values:
                continue
            if _text(values[name]) == "":
                if name in ("days_required", "days_present"):
                    err(number, name, _("Required."))
                values[name] = None
                continue
            try:
                values[name] = _integer(values[name])
            except ValueError:
                err(number, name, _("A whole number."))
                values[name] = None
        values.setdefault("paid_leave_days", 0)
        if values["paid_leave_days"] is None:
            values["paid_leave_days"] = 0
        values["id_number"] = normalise_id_number(values.get("id_number"))
        if not values["id_number"]:
            err(number, "id_number", _("Required."))

    # The holders, by the keyed hash of their numbers, within the importer's region.
    hashes = {
        keyed_hash(line.values["id_number"], purpose=ID_NUMBER_PURPOSE)
        for line in lines
        if line.values["id_number"]
    }
    people: dict[str, Beneficiary] = {}
    ordered = sorted(hashes)
    for start in range(0, len(ordered), CHUNK):
        for person in Beneficiary.objects.visible_to(actor).filter(
            id_number_hash__in=ordered[start : start + CHUNK]
        ):
            people[person.id_number_hash] = person
    months = [line.month for line in lines if line.month is not None]
    holdings: dict[int, list[Assignment]] = defaultdict(list)
    if people and months:
        first, last = min(months).first_day, max(months).last_day
        ids = sorted(p.pk for p in people.values())
        for start in range(0, len(ids), CHUNK):
            for assignment in (
                Assignment.objects.visible_to(actor)
                .filter(held_between(first, last), beneficiary_id__in=ids[start : start + CHUNK])
                .order_by("start_date", "id")
            ):
                holdings[assignment.beneficiary_id].append(assignment)
    for line in lines:
        number = line.values["id_number"]
        if not number:
            continue
        person = people.get(keyed_hash(number, purpose=ID_NUMBER_PURPOSE))
        if person is None:
            err(line.number, "id_number", _("No one with this identity number is registered in your region."))
            continue
        line.person = person
        name = _text(line.values.get("name"))
        if name and normalise_name(name) != person.name:
            err(line.number, "name", _("The name does not match the person with this identity number."))
        if line.month is None:
            continue
        held = [
            a
            for a in holdings.get(person.pk, [])
            if line.month.overlap_days(a.start_date, a.end_date) > 0
            and (line.values.get("post") is None or a.post_id == line.values["post"])
        ]
        if not held:
            err(
                line.number,
                "post" if line.values.get("post") else "month",
                _("The person held no such post in this month."),
            )
        elif len(held) > 1:
            err(line.number, "post", _("The person held two posts in this month; give the post (岗位编号)."))
        else:
            line.assignment = held[0]

    # Each month's rows through the service's rules (a dry run), errors mapped back to the file.
    by_month: dict[Month, list[_Line]] = defaultdict(list)
    for line in lines:
        if (
            line.assignment is not None
            and line.values.get("days_required") is not None
            and line.values.get("days_present") is not None
        ):
            by_month[line.month].append(line)  # type: ignore[index]

    def rows_of(group: list[_Line]) -> list[AttendanceRow]:
        return [
            AttendanceRow(
                assignment=line.assignment,  # type: ignore[arg-type]
                days_required=line.values["days_required"],
                days_present=line.values["days_present"],
                paid_leave_days=line.values["paid_leave_days"],
            )
            for line in group
        ]

    for month, group in sorted(by_month.items()):
        try:
            attendance_bulk_upsert(
                actor=actor, month=month, rows=rows_of(group), source=AttendanceSource.IMPORT, dry_run=True
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                _rows, index, name = [*key.split(".", 2), "", ""][:3]
                line = group[int(index)] if index.isdigit() else group[0]
                column = {"assignment": "id_number", "month": "month"}.get(name, name)
                for message in messages:
                    err(line.number, column, message)
    if errors:
        errors.sort(key=lambda e: e[0])
        rows = [{"row": r, "column": c, "message": m} for r, c, m in errors]
        raise ImportRejected(_("%(n)d errors; nothing was written.") % {"n": len(rows)}, rows)
    created = updated = unchanged = 0
    with transaction.atomic():
        for month, group in sorted(by_month.items()):
            result = attendance_bulk_upsert(
                actor=actor, month=month, rows=rows_of(group), source=AttendanceSource.IMPORT, dry_run=dry_run
            )
            created += len(result.created)
            updated += len(result.updated)
            unchanged += len(result.unchanged)
    return AttendanceImportResult(
        dry_run=dry_run, rows=len(lines), created=created, updated=updated, unchanged=unchanged
    )


__all__ = ["COLUMNS", "AttendanceImportResult", "attendance_import"]
