"""Bulk import of beneficiaries from spreadsheets (CSV in UTF-8 or GB18030, or XLSX).

The whole file is read and validated first, with the same single-person rules as the API
(beneficiaries.services.clean_person); look-ups of regions, groups and already registered identity
numbers are done in bulk (a few queries for any number of rows). Any invalid row means nothing is
written and every error is reported as {row, column, message}. A valid file is written in one
transaction with bulk inserts and bulk change entries (source `import`).

The API (`POST /api/v1/beneficiaries/import/`), the admin upload page and
`manage.py import_beneficiaries` all call `beneficiaries_import`.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.choices import Gender
from beneficiaries.models import PHONE_PURPOSE, Beneficiary, BeneficiaryGroup, GroupMembership
from beneficiaries.services import apply_person_values, clean_person
from tracker.changelog.context import Source, acting, change_context
from tracker.changelog.services import tracked_bulk_create, tracked_bulk_update
from tracker.pii import keyed_hash
from tracker.regions.models import Region

# (field, Chinese header, required, what goes in it)
COLUMNS: list[tuple[str, str, bool, str]] = [
    ("name", "姓名", True, "Real name, at most 50 characters."),
    ("id_number", "身份证号码", True, "18-character identity number (a text cell in XLSX); final x or X."),
    ("gender", "性别", False, "男/女 or male/female; derived from the identity number, checked if given."),
    ("birth_date", "出生日期", False, "YYYY-MM-DD; derived from the identity number, checked if given."),
    ("phone", "联系电话", False, "11-digit mobile, or landline with area code."),
    ("social_security_card", "社保卡号", False, "Social-security card number (not the identity number)."),
    ("region", "户籍地区代码", True, "Household region code (6, 9 or 12 characters), inside your region."),
    ("address", "现住址", False, "Current address."),
    ("willing_to_work", "就业意愿", False, "是/否 (or true/false, 1/0); empty means yes."),
    ("groups", "人员类别", False, "Group codes or Chinese names, separated by 、 , ; or |."),
    ("notes", "备注", False, "Notes."),
]
FIELDS = [c[0] for c in COLUMNS]
HEADER_ALIASES: dict[str, str] = {
    **{c[0]: c[0] for c in COLUMNS},
    **{c[1]: c[0] for c in COLUMNS},
    "身份证号": "id_number",
    "公民身份号码": "id_number",
    "身份证": "id_number",
    "手机号码": "phone",
    "手机号": "phone",
    "电话": "phone",
    "社会保障卡号": "social_security_card",
    "地区代码": "region",
    "行政区划代码": "region",
    "户籍地": "region",
    "住址": "address",
    "现居住地址": "address",
    "有就业意愿": "willing_to_work",
    "类别": "groups",
}
TEMPLATE_DOC = (
    "Import columns (header in Chinese or English, in any order):\n\n"
    + "\n".join(f"- `{f}` / {zh}{' (required)' if req else ''}: {doc}" for f, zh, req, doc in COLUMNS)
    + (
        "\n\nCSV in UTF-8 (with or without BOM) or GB18030, or XLSX (first sheet, no formulas). The whole "
        "file is validated first; any error means nothing is written and a 400 lists every error as "
        "{row, column, message} (row 1 is the header). `?dry_run=true` validates only; `?mode=upsert` "
        "updates people already registered (blank cells leave a value unchanged; groups are added)."
    )
)

_TRUE = {"是", "有", "y", "yes", "true", "1", "t"}
_FALSE = {"否", "无", "没有", "n", "no", "false", "0", "f"}
_GENDERS = {
    "男": Gender.MALE,
    "女": Gender.FEMALE,
    "male": Gender.MALE,
    "female": Gender.FEMALE,
    "m": Gender.MALE,
    "f": Gender.FEMALE,
}
_GROUP_SPLIT = re.compile(r"[、,，;；|]")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d")
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
BOM = b"\xef\xbb\xbf"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Progress = Callable[[str, int, int], None]


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 200_000))


class ImportRejected(Exception):
    """The file (or some of its rows) is invalid; nothing was written."""

    def __init__(self, detail: str, row_errors: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.row_errors = row_errors

    def errors_by_path(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for error in self.row_errors:
            path = "file" if error["row"] is None else f"rows.{error['row']}.{error['column']}"
            out.setdefault(path, []).append(error["message"])
        return out


def _file_error(message: str) -> ImportRejected:
    return ImportRejected(message, [{"row": None, "column": None, "message": message}])


@dataclass
class ImportResult:
    dry_run: bool
    rows: int
    created: int
    updated: int
    ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "rows": self.rows, "created": self.created, "updated": self.updated}


@dataclass
class Table:
    headers: list[str]  # as written in the file
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, cells)
    errors: list[dict[str, Any]] = field(default_factory=list)


# -- reading -----------------------------------------------------------------------------------------------


def _read_bytes(file: Any) -> bytes:
    size = getattr(file, "size", None)
    if size is not None and size > max_bytes():
        raise _file_error(_("The file is larger than the limit of %(n)d bytes.") % {"n": max_bytes()})
    if isinstance(file, (bytes, bytearray)):
        content = bytes(file)
    elif hasattr(file, "chunks"):
        content = b"".join(file.chunks())
    else:
        content = file.read(max_bytes() + 1)
    if len(content) > max_bytes():
        raise _file_error(_("The file is larger than the limit of %(n)d bytes.") % {"n": max_bytes()})
    return content


def decode_text(content: bytes) -> str:
    """UTF-8 (a BOM is dropped) or else GB18030; anything else is refused rather than guessed."""
    if content.startswith(BOM):
        content = content[len(BOM) :]
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            raise _file_error(_("The file starts with a UTF-8 mark but is not valid UTF-8.")) from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise _file_error(_("The text cannot be decoded: save the file as UTF-8 or GB18030 CSV.")) from None


def read_table(content: bytes, filename: str = "") -> Table:
    """Rows of the file, by its content (not only its name): XLSX, or CSV text."""
    name = (filename or "").lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension not in {"", "csv", "txt", "xlsx"}:
        raise _file_error(_("Unknown file format: upload CSV (UTF-8 or GB18030) or XLSX."))
    if not content.strip():
        raise _file_error(_("The file is empty."))
    if content.startswith(OLE_MAGIC):
        raise _file_error(_("Old Excel (.xls) files are not accepted: save the sheet as XLSX or CSV."))
    if content.startswith(XLSX_MAGIC) or extension == "xlsx":
        return _read_xlsx(content)
    if b"\x00" in content[:65536]:
        raise _file_error(_("Unknown file format: upload CSV (UTF-8 or GB18030) or XLSX."))
    return _read_csv(decode_text(content))


def _read_csv(text: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = [h.strip() for h in next(reader)]
    except StopIteration:
        raise _file_error(_("The file is empty.")) from None
    except csv.Error as exc:
        raise _file_error(_("The CSV cannot be read: %(e)s") % {"e": exc}) from None
    table = Table(headers=headers, rows=[])
    try:
        for number, cells in enumerate(reader, start=2):
            if any(c.strip() for c in cells):
                table.rows.append((number, cells))
                if len(table.rows) > max_rows():
                    raise _file_error(_("The file has more than %(n)d rows.") % {"n": max_rows()})
    except csv.Error as exc:
        raise _file_error(_("The CSV cannot be read: %(e)s") % {"e": exc}) from None
    return table


def _read_xlsx(content: bytes) -> Table:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if "xl/workbook.xml" not in archive.namelist():
                raise zipfile.BadZipFile
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _file_error(_("The file is not a valid XLSX workbook.")) from None
    if unpacked > 20 * max_bytes():
        raise _file_error(_("The workbook unpacks to more than the size limit allows."))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many types for a damaged file
        raise _file_error(_("The file is not a valid XLSX workbook.")) from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows()
        try:
            header_cells = next(rows)
        except StopIteration:
            raise _file_error(_("The file is empty.")) from None
        headers = [str(c.value).strip() if c.value is not None else "" for c in header_cells]
        table = Table(headers=headers, rows=[])
        for number, cells in enumerate(rows, start=2):
            values = []
            for index, cell in enumerate(cells):
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
                    column = headers[index] if index < len(headers) else str(index + 1)
                    table.errors.append(
                        {
                            "row": number,
                            "column": column,
                            "message": _("Formula cells are not accepted; paste values."),
                        }
                    )
                    values.append(None)
                else:
                    values.append(cell.value)
            if any(v not in (None, "") for v in values):
                table.rows.append((number, values))
                if len(table.rows) > max_rows():
                    raise _file_error(_("The file has more than %(n)d rows.") % {"n": max_rows()})
        return table
    except ImportRejected:
        raise
    except Exception:
        raise _file_error(_("The file is not a valid XLSX workbook.")) from None
    finally:
        workbook.close()


# -- validating ----------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


@dataclass
class _Row:
    number: int
    raw: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    groups: list[BeneficiaryGroup] = field(default_factory=list)
    existing_pk: int | None = None


def _column_map(headers: list[str]) -> tuple[dict[int, str], dict[str, str], list[dict[str, Any]]]:
    """File column index -> field; field -> header as written; header errors."""
    errors: list[dict[str, Any]] = []
    by_index: dict[int, str] = {}
    labels: dict[str, str] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        name = HEADER_ALIASES.get(header) or HEADER_ALIASES.get(header.lower())
        if name is None:
            errors.append({"row": 1, "column": header, "message": _("Unknown column.")})
        elif name in labels:
            errors.append(
                {
                    "row": 1,
                    "column": header,
                    "message": _("Column given twice (also %(h)s).") % {"h": labels[name]},
                }
            )
        else:
            by_index[index] = name
            labels[name] = header
    for name, zh, required, _doc in COLUMNS:
        if required and name not in labels:
            errors.append(
                {
                    "row": 1,
                    "column": name,
                    "message": _("Required column missing (%(zh)s / %(en)s).") % {"zh": zh, "en": name},
                }
            )
    return by_index, labels, errors


def _group_index() -> dict[str, BeneficiaryGroup]:
    index: dict[str, BeneficiaryGroup] = {}
    for group in BeneficiaryGroup.objects.all():
        index[group.code] = group
        index[group.name_zh] = group
    return index


def _chunks(items: list[Any], size: int = 900) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large file is validated and written. The import
    holds every row, model instance and change entry of the file in memory at once; with the
    collector on, its repeated full passes over those (acyclic) objects cost more than the import's
    own work on files of 100,000 rows. Reference counting still frees memory as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_gc_paused()
def beneficiaries_import(
    *,
    file: Any = None,
    filename: str = "",
    rows: Iterable[dict[str, Any]] | None = None,
    actor: Any = None,
    scope_path: str | None = None,
    dry_run: bool = False,
    upsert: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate a whole file (or an iterable of dicts keyed by field name, for benchmarks and tests)
    and, if every row is valid and `dry_run` is false, write it in one transaction.

    Scope: rows must lie in `actor`'s region (or `scope_path` for scripts; '' is the whole country).
    Raises ImportRejected listing every error; nothing is written then."""
    if actor is not None:
        scope_path = actor.scope_path
    if scope_path is None:
        raise PermissionDenied(_("You have no region to import into."))
    if (file is None) == (rows is None):
        raise TypeError("give exactly one of file or rows")
    if file is not None:
        table = read_table(_read_bytes(file), filename or getattr(file, "name", "") or "")
    else:
        table = Table(headers=list(FIELDS), rows=[])
        for number, row in enumerate(rows or (), start=2):
            table.rows.append((number, [row.get(f) for f in FIELDS]))
    by_index, labels, errors = _column_map(table.headers)
    errors = errors + table.errors
    if any(e["row"] == 1 for e in errors):
        raise ImportRejected(_("The header row is invalid."), errors)
    if not table.rows:
        raise _file_error(_("The file has no data rows."))
    total = len(table.rows)
    today = timezone.localdate()

    parsed: list[_Row] = []
    for number, cells in table.rows:
        raw = {name: cells[i] if i < len(cells) else None for i, name in by_index.items()}
        for name, value in raw.items():
            if isinstance(value, str) and "\x00" in value:
                # PostgreSQL cannot store NUL in text; the API refuses it too.
                errors.append(
                    {
                        "row": number,
                        "column": labels.get(name, name),
                        "message": _("Null characters are not allowed."),
                    }
                )
                raw[name] = value.replace("\x00", "")
        parsed.append(_Row(number=number, raw=raw))

    # Bulk look-ups: regions and groups named in the file, in a few queries.
    region_codes = sorted({_text(r.raw.get("region")) for r in parsed} - {""})
    regions: dict[str, Region] = {}
    for chunk in _chunks(region_codes):
        regions.update({r.code: r for r in Region.objects.filter(code__in=chunk)})
    group_index = _group_index() if "groups" in labels else {}

    def err(row: _Row, name: str, message: Any) -> None:
        errors.append({"row": row.number, "column": labels.get(name, name), "message": str(message)})

    seen: dict[str, int] = {}
    for position, row in enumerate(parsed, start=1):
        raw = row.raw
        data: dict[str, Any] = {}
        for name in ("name", "social_security_card", "address", "notes"):
            if name in raw:
                data[name] = _text(raw[name])
        if "id_number" in raw:
            value = raw["id_number"]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                err(
                    row,
                    "id_number",
                    _("The identity number must be a text cell: a number cell loses digits."),
                )
                data["id_number"] = ""
            else:
                data["id_number"] = _text(value)
        if "phone" in raw:
            data["phone"] = _text(raw["phone"])
        if _text(raw.get("gender")):
            gender = _GENDERS.get(_text(raw["gender"]).lower())
            if gender is None:
                err(row, "gender", _("Gender: 男/女 or male/female."))
            else:
                data["gender"] = gender
        if raw.get("birth_date") not in (None, ""):
            try:
                data["birth_date"] = _parse_date(raw["birth_date"])
            except ValueError:
                err(row, "birth_date", _("Date of birth: use YYYY-MM-DD."))
        if "willing_to_work" in raw:
            value = raw["willing_to_work"]
            text = _text(value).lower()
            if isinstance(value, bool):
                data["willing_to_work"] = value
            elif text in _TRUE or text == "":
                data["willing_to_work"] = True if text or not upsert else None
            elif text in _FALSE:
                data["willing_to_work"] = False
            else:
                err(row, "willing_to_work", _("Willingness to work: 是 or 否."))
        code = _text(raw.get("region"))
        region = regions.get(code) if code else None
        if code and region is None:
            err(row, "region", _("Unknown region code %(code)s.") % {"code": code})
        elif region is not None and not region.path.startswith(scope_path):
            err(row, "region", _("Region %(code)s lies outside your region.") % {"code": code})
        data["region"] = region
        if _text(raw.get("groups")):
            for token in _GROUP_SPLIT.split(_text(raw["groups"])):
                token = token.strip()
                if not token:
                    continue
                group = group_index.get(token)
                if group is None:
                    err(row, "groups", _("Unknown group %(g)s.") % {"g": token})
                elif group not in row.groups:
                    row.groups.append(group)
        # In upsert mode a blank optional cell leaves the stored value as it is.
        if upsert:
            data = {
                k: v for k, v in data.items() if v not in ("", None) or k in {"name", "id_number", "region"}
            }
        cleaned = clean_person(data, registered_on=today, partial=False)
        for name, messages in cleaned.errors.items():
            if name == "region" and code:
                continue  # already reported
            for message in messages:
                err(row, name, message)
        if upsert:
            cleaned.values = {
                k: v
                for k, v in cleaned.values.items()
                if k in data or k.startswith("id_number") or k in {"gender", "birth_date"}
            }
        row.values = cleaned.values
        digest = cleaned.values.get("id_number_hash")
        if digest:
            if digest in seen:
                err(
                    row,
                    "id_number",
                    _("This identity number is duplicated in the file (also row %(n)d).")
                    % {"n": seen[digest]},
                )
            else:
                seen[digest] = row.number
        if progress and position % 1000 == 0:
            progress("validate", position, total)

    # Identity numbers already registered: one query per 900 numbers.
    existing: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(list(seen)):
        for pk, digest, path in Beneficiary.objects.filter(id_number_hash__in=chunk).values_list(
            "pk", "id_number_hash", "region__path"
        ):
            existing[digest] = (pk, path)
    for row in parsed:
        found = existing.get(row.values.get("id_number_hash", ""))
        if found is None:
            continue
        pk, path = found
        visible = path.startswith(scope_path)
        if not upsert:
            message = (
                _("Already registered (beneficiary %(id)s); use mode=upsert to update.") % {"id": pk}
                if visible
                else _("This person is already registered elsewhere.")
            )
            err(row, "id_number", message)
        elif not visible:
            err(
                row,
                "id_number",
                _("This person is registered elsewhere, outside your region; cannot update."),
            )
        else:
            row.existing_pk = pk
    if progress:
        progress("validate", total, total)
    if errors:
        errors.sort(key=lambda e: e["row"] or 0)
        raise ImportRejected(_("%(n)d errors; nothing was written.") % {"n": len(errors)}, errors)
    creates = [r for r in parsed if r.existing_pk is None]
    updates = [r for r in parsed if r.existing_pk is not None]
    if dry_run:
        return ImportResult(dry_run=True, rows=total, created=len(creates), updated=len(updates))
    with transaction.atomic(), change_context(source=Source.IMPORT), acting(actor):
        created = _write_creates(creates, today, progress)
        updated = _write_updates(updates, today, scope_path, progress)
    return ImportResult(
        dry_run=False, rows=total, created=len(created), updated=updated, ids=[b.pk for b in created]
    )


def _write_creates(rows: list[_Row], today: dt.date, progress: Progress | None) -> list[Beneficiary]:
    objs = []
    for row in rows:
        obj = Beneficiary()
        apply_person_values(obj, row.values)
        objs.append(obj)
    created = tracked_bulk_create(Beneficiary, objs)
    memberships = [
        GroupMembership(beneficiary=obj, group=group, valid_from=today)
        for obj, row in zip(created, rows, strict=True)
        for group in row.groups
    ]
    if memberships:
        tracked_bulk_create(GroupMembership, memberships)
    if progress:
        progress("write", len(rows), len(rows))
    return created


def _write_updates(rows: list[_Row], today: dt.date, scope_path: str, progress: Progress | None) -> int:
    if not rows:
        return 0
    locked: dict[int, Beneficiary] = {}
    for chunk in _chunks([r.existing_pk for r in rows]):
        locked.update({b.pk: b for b in Beneficiary.objects.select_for_update().filter(pk__in=chunk)})
    changed: list[Beneficiary] = []
    fields: set[str] = set()
    for row in rows:
        obj = locked[row.existing_pk]
        values = dict(row.values)
        for name in ("id_number", "id_number_hash", "id_number_masked"):
            values.pop(name, None)  # same number (that is how the row was matched)
        if "phone" in values and keyed_hash(values["phone"], purpose=PHONE_PURPOSE) == obj.phone_hash:
            values.pop("phone")
        before = {f.attname: getattr(obj, f.attname) for f in Beneficiary._meta.concrete_fields}
        apply_person_values(obj, values)
        diff = {
            f.attname
            for f in Beneficiary._meta.concrete_fields
            if getattr(obj, f.attname) != before[f.attname]
        }
        if diff:
            changed.append(obj)
            fields |= diff
    if changed:
        tracked_bulk_update(Beneficiary, changed, sorted(fields))
    # Groups named in the file are added (from today, open-ended) where not already held today or
    # later: periods of one group may not overlap (services.membership_add), so a membership that
    # starts in the future is left as it is rather than doubled.
    held: set[tuple[int, int]] = set()
    pks = [r.existing_pk for r in rows if r.groups]
    for chunk in _chunks(pks):
        held.update(
            GroupMembership.objects.filter(
                Q(valid_to__isnull=True) | Q(valid_to__gte=today), beneficiary_id__in=chunk
            ).values_list("beneficiary_id", "group_id")
        )
    memberships = [
        GroupMembership(beneficiary=locked[r.existing_pk], group=g, valid_from=today)
        for r in rows
        for g in r.groups
        if (r.existing_pk, g.pk) not in held
    ]
    if memberships:
        tracked_bulk_create(GroupMembership, memberships)
    return len(changed)


# -- template ----------------------------------------------------------------------------------------------------


def template(*, fmt: str, english: bool = False) -> tuple[bytes, str]:
    """The header row (never data), as CSV (UTF-8 with BOM, so Excel opens it right) or XLSX with a
    second sheet describing each column."""
    headers = [c[0] if english else c[1] for c in COLUMNS]
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerow(headers)
        return BOM + buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8"
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "beneficiaries"
    sheet.append(headers)
    for index in range(1, len(headers) + 1):
        # Identity and phone numbers must stay text, or Excel rounds them.
        letter = openpyxl.utils.get_column_letter(index)
        sheet.column_dimensions[letter].width = 20
        sheet.column_dimensions[letter].number_format = "@"
    notes = workbook.create_sheet("columns")
    notes.append(["field", "中文", "required", "description"])
    for name, zh, required, doc in COLUMNS:
        notes.append([name, zh, "yes" if required else "no", doc])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), XLSX_CONTENT_TYPE


__all__ = [
    "COLUMNS",
    "TEMPLATE_DOC",
    "ImportRejected",
    "ImportResult",
    "beneficiaries_import",
    "read_table",
    "template",
]
