"""Bulk import of beneficiaries from spreadsheets (CSV in UTF-8 or GB18030, or XLSX), in three steps:

1. parse (`read_table`): the file's rows as cells, streamed: CSV through the csv module, XLSX through
   the bounded reader in beneficiaries.xlsx. Neither format is ever held decoded in memory whole.
2. validate (`_validate`): every row, in chunks of CHUNK_ROWS, with the registry's own field rules
   (services.clean_person, beneficiaries.names) plus the cell rules below, which are the same for
   both formats; regions, groups and already registered numbers are looked up per chunk in a few
   queries. Only compact facts are kept between chunks (the keyed hash of each identity number, for
   duplicates in the file, and the record each upsert row updates), so memory does not grow with the
   file beyond those. Every error is reported, as {row, column, message}, before anything is written.
3. write (`_write`): only when no row has an error, a second pass over the file, again in chunks, in
   one transaction (all or nothing), with bulk inserts and bulk change entries (source `import`).
   On PostgreSQL the written tables are analysed afterwards, so the planner knows their new size.

Cell rules, identical for CSV and XLSX (what one format refuses, the other refuses too):
- a text value starting with = + - or @ is refused in every column, as a spreadsheet would run it
  as a formula (CSV injection) when the data is exported and opened again; the one exception is a
  phone number written with its country code (+86...), which is stored without it;
- an XLSX formula cell and an error cell (#N/A) are refused; so is a NUL character anywhere;
- a row whose first cell starts with # is a comment and skipped (the CSV template's example row);
- rows are counted including empty ones (IMPORT_MAX_ROWS), and an XLSX file is read within the
  limits of beneficiaries.xlsx (IMPORT_XLSX_MAX_UNPACKED_BYTES, IMPORT_XLSX_MAX_SHARED_STRINGS_BYTES).

A number registered outside the importer's region is answered like a single registration answers it,
logged as a `duplicate_probe` and throttled (beneficiaries.probes).

The API (`POST /api/v1/beneficiaries/import/`), the admin upload page and
`manage.py import_beneficiaries` all call `beneficiaries_import`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import io
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, router, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries import probes, xlsx
from beneficiaries.choices import Gender
from beneficiaries.models import PHONE_PURPOSE, Beneficiary, BeneficiaryGroup, GroupMembership
from beneficiaries.services import apply_person_values, clean_person, registered_elsewhere_message
from tracker.changelog.context import Source, acting, change_context
from tracker.changelog.models import ChangeEntry
from tracker.changelog.services import tracked_bulk_create, tracked_bulk_update
from tracker.pii import keyed_hash
from tracker.planner import analyze
from tracker.regions.models import Region
from tracker.scope import path_within

ProbeLimitExceeded = probes.ProbeLimitExceeded

# (field, Chinese header, required, description in English, description in Chinese)
COLUMNS: list[tuple[str, str, bool, str, str]] = [
    (
        "name",
        "姓名",
        True,
        "Real name, at most 50 characters: Chinese characters, Latin letters, the middle dot · and spaces.",
        "真实姓名，最多50个字符：汉字、拉丁字母、间隔号·和空格。",
    ),
    (
        "id_number",
        "身份证号码",
        True,
        "18-character identity number (a text cell in XLSX); final x or X.",
        "18位公民身份号码（XLSX中须为文本单元格），末位可为x或X。",
    ),
    (
        "gender",
        "性别",
        False,
        "男/女 or male/female; derived from the identity number, checked if given.",
        "男/女；由身份证号码推出，填写时核对。",
    ),
    (
        "birth_date",
        "出生日期",
        False,
        "YYYY-MM-DD; derived from the identity number, checked if given.",
        "YYYY-MM-DD；由身份证号码推出，填写时核对。",
    ),
    (
        "phone",
        "联系电话",
        False,
        "11-digit mobile, or landline with area code.",
        "11位手机号码，或带区号的固定电话。",
    ),
    (
        "social_security_card",
        "社保卡号",
        False,
        "Social-security card number (not the identity number).",
        "社会保障卡号（不是身份证号码）。",
    ),
    (
        "region",
        "户籍地区代码",
        True,
        "Household region code (6, 9 or 12 characters), inside your region.",
        "户籍所在地区代码（6、9或12位），须在本人管辖地区内。",
    ),
    ("address", "现住址", False, "Current address.", "现住址。"),
    (
        "willing_to_work",
        "就业意愿",
        False,
        "是/否 (or true/false, 1/0); empty means yes.",
        "是/否（或true/false、1/0）；空白视为是。",
    ),
    (
        "groups",
        "人员类别",
        False,
        "Group codes or Chinese names, separated by 、 , ; or |.",
        "人员类别代码或中文名称，以、，；或|分隔。",
    ),
    ("notes", "备注", False, "Notes.", "备注。"),
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
# Columns pre-formatted as text ('@') in the XLSX template, so Excel keeps every digit.
TEXT_COLUMNS = ("id_number", "phone", "social_security_card", "region")
TEMPLATE_TEXT_ROWS = 5000
# The CSV template's example: the identity number is GB 11643's own published example.
EXAMPLE = {
    "name": "# 示例 example 张三",
    "id_number": "11010519491231002X",
    "gender": "女",
    "birth_date": "1949-12-31",
    "phone": "13800138000",
    "region": "360300",
    "willing_to_work": "是",
    "groups": "脱贫人口",
    "notes": "以#开头的行不导入 / rows starting with # are skipped",
}
TEMPLATE_DOC = (
    "Import columns (header in Chinese or English, in any order):\n\n"
    + "\n".join(f"- `{f}` / {zh}{' (required)' if req else ''}: {doc}" for f, zh, req, doc, _zh in COLUMNS)
    + (
        "\n\nCSV in UTF-8 (with or without BOM) or GB18030, or XLSX (first sheet, values only: formula "
        "and error cells are refused). A text value starting with = + - or @ is refused in every column "
        "(spreadsheets would run it as a formula), except a phone number with its country code (+86). "
        "A row whose first cell starts with # is a comment and skipped. The whole file is validated "
        "first; any error means nothing is written and a 400 lists every error as {row, column, message} "
        "(row 1 is the header). `?dry_run=true` validates only; `?mode=upsert` updates people already "
        "registered (blank cells leave a value unchanged; groups are added). Limits: IMPORT_MAX_BYTES "
        "per file, IMPORT_MAX_ROWS rows (empty ones count), and for XLSX the unpacked size of the sheet "
        "and of the shared-strings table. Numbers registered outside your region count against "
        "DUPLICATE_PROBE_LIMIT per hour (429 beyond it)."
    )
)

CHUNK_ROWS = 2000
ANALYZE_MIN_ROWS = 1000
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
_FORMULA_START = ("=", "+", "-", "@")
_PHONE_WITH_COUNTRY_CODE = re.compile(r"\+86[\s\-]*[0-9][0-9\s\-()]*")
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
BOM = b"\xef\xbb\xbf"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Progress = Callable[[str, int, "int | None"], None]


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 200_000))


def xlsx_limits() -> xlsx.Limits:
    return xlsx.Limits(
        max_member_bytes=int(getattr(settings, "IMPORT_XLSX_MAX_UNPACKED_BYTES", 256 * 1024 * 1024)),
        max_shared_strings_bytes=int(
            getattr(settings, "IMPORT_XLSX_MAX_SHARED_STRINGS_BYTES", 64 * 1024 * 1024)
        ),
        max_rows=max_rows(),
    )


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


def _file_error(message: str, row: int | None = None) -> ImportRejected:
    return ImportRejected(message, [{"row": row, "column": None, "message": message}])


@dataclass
class ImportResult:
    dry_run: bool
    rows: int
    created: int
    updated: int
    ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "rows": self.rows, "created": self.created, "updated": self.updated}


# -- step 1: parse -----------------------------------------------------------------------------------------------


class Table:
    """A file's header and a way to read its data rows again (validation and writing are two passes).
    Blank rows and comment rows (first cell starting with #) are left out; rows count against the
    limit whether blank or not."""

    def __init__(self, read: Callable[[], Iterator[tuple[int, list[Any]]]], close: Callable[[], None]):
        self._read = read
        self.close = close
        self.headers: list[str] = []
        self.header_row = 1
        for number, cells in read():
            self.headers = [_text(c) for c in cells]
            self.header_row = number
            break
        else:
            raise _file_error(_("The file is empty."))

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        rows = self._read()
        next(rows, None)  # the header
        for number, cells in rows:
            if all(_blank(c) for c in cells):
                continue
            first = cells[0] if cells else None
            if isinstance(first, str) and first.lstrip().startswith("#"):
                continue
            yield number, cells


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


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


def _decodes(content: bytes, encoding: str) -> bool:
    """Whether the whole content decodes, checked piece by piece (no decoded copy is kept)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(content)
    try:
        for start in range(0, len(content), 1 << 20):
            decoder.decode(view[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def csv_encoding(content: bytes) -> str:
    """UTF-8 (a BOM is dropped) or else GB18030; anything else is refused rather than guessed."""
    if content.startswith(BOM):
        if not _decodes(content, "utf-8"):
            raise _file_error(_("The file starts with a UTF-8 mark but is not valid UTF-8."))
        return "utf-8-sig"
    if _decodes(content, "utf-8"):
        return "utf-8"
    if _decodes(content, "gb18030"):
        return "gb18030"
    raise _file_error(_("The text cannot be decoded: save the file as UTF-8 or GB18030 CSV."))


def read_table(content: bytes, filename: str = "") -> Table:
    """The file's rows, by its content (not only its name): XLSX, or CSV text."""
    name = (filename or "").lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension not in {"", "csv", "txt", "xlsx"}:
        raise _file_error(_("Unknown file format: upload CSV (UTF-8 or GB18030) or XLSX."))
    if not content.strip():
        raise _file_error(_("The file is empty."))
    if content.startswith(OLE_MAGIC):
        raise _file_error(_("Old Excel (.xls) files are not accepted: save the sheet as XLSX or CSV."))
    if content.startswith(XLSX_MAGIC) or extension == "xlsx":
        return _xlsx_table(content)
    if b"\x00" in content[:65536]:
        raise _file_error(_("Unknown file format: upload CSV (UTF-8 or GB18030) or XLSX."))
    return _csv_table(content)


def _csv_table(content: bytes) -> Table:
    encoding = csv_encoding(content)
    limit = max_rows() + 1

    def read() -> Iterator[tuple[int, list[Any]]]:
        text = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
        try:
            for number, cells in enumerate(csv.reader(text), start=1):
                if number > limit:
                    raise _row_limit(number)
                yield number, cells
        except csv.Error as exc:
            raise _file_error(_("The CSV cannot be read: %(e)s") % {"e": exc}) from None

    return Table(read, close=lambda: None)


def _row_limit(number: int | None) -> ImportRejected:
    return _file_error(
        _("The file has more than %(n)s rows (empty rows count too).") % {"n": f"{max_rows():,}"}, row=number
    )


def _xlsx_table(content: bytes) -> Table:
    try:
        workbook = xlsx.Workbook(content, xlsx_limits())
    except xlsx.WorkbookRefused as exc:
        raise _file_error(exc.message, row=exc.row) from None

    def read() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from workbook.rows()
        except xlsx.WorkbookRefused as exc:
            raise _file_error(exc.message, row=exc.row) from None

    return Table(read, close=workbook.close)


def _rows_table(rows: Iterable[dict[str, Any]]) -> Table:
    """Dicts keyed by field name (benchmarks and tests) as a table."""
    rows = list(rows)

    def read() -> Iterator[tuple[int, list[Any]]]:
        yield 1, list(FIELDS)
        for number, row in enumerate(rows, start=2):
            yield number, [row.get(f) for f in FIELDS]

    return Table(read, close=lambda: None)


# -- step 2: validate ---------------------------------------------------------------------------------------------


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


def _cell_problem(name: str, value: Any) -> str | None:
    """The cell rules both formats share (see the module docstring)."""
    if value is xlsx.FORMULA:
        return _("Formula cells are not accepted; paste values.")
    if isinstance(value, xlsx.CellError):
        return _("The cell holds a spreadsheet error (%(code)s); enter a value.") % {"code": value.code}
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        # PostgreSQL cannot store NUL in text; the API refuses it too.
        return _("Null characters are not allowed.")
    text = value.strip()
    if text.startswith(_FORMULA_START):
        if name == "phone" and _PHONE_WITH_COUNTRY_CODE.fullmatch(text):
            return None
        return _(
            "A value starting with =, +, - or @ would run as a formula in a spreadsheet; remove that "
            "character (leave the cell empty for none)."
        )
    return None


def cell_problem(name: str, value: Any) -> str | None:
    """The cell rules every spreadsheet import shares (formula cells, error cells, NUL characters, a
    value a spreadsheet would run as a formula), for other apps' imports (e.g. attendance)."""
    return _cell_problem(name, value)


@dataclass
class _Columns:
    by_index: dict[int, str]  # file column index -> field
    labels: dict[str, str]  # field -> header as written


def _column_map(headers: list[str], header_row: int) -> tuple[_Columns, list[dict[str, Any]]]:
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
    for name, zh, required, _doc, _zh in COLUMNS:
        if required and name not in labels:
            errors.append(
                {
                    "row": header_row,
                    "column": name,
                    "message": _("Required column missing (%(zh)s / %(en)s).") % {"zh": zh, "en": name},
                }
            )
    return _Columns(by_index, labels), errors


@dataclass
class _Row:
    """One data row, typed and cleaned; `errors` are (field, message)."""

    number: int
    values: dict[str, Any]
    groups: list[BeneficiaryGroup]
    errors: list[tuple[str, str]]
    region_code: str

    @property
    def id_hash(self) -> str:
        return self.values.get("id_number_hash", "")


class _Lookups:
    """Regions and groups named in the file, read per chunk and kept (there are few of them)."""

    def __init__(self, want_groups: bool) -> None:
        self.regions: dict[str, Region | None] = {}
        self.groups: dict[str, BeneficiaryGroup] = {}
        if want_groups:
            for group in BeneficiaryGroup.objects.all():
                self.groups[group.code] = group
                self.groups[group.name_zh] = group

    def load_regions(self, codes: set[str]) -> None:
        missing = sorted(codes - set(self.regions))
        for chunk in _chunks(missing):
            found = {r.code: r for r in Region.objects.filter(code__in=chunk)}
            for code in chunk:
                self.regions[code] = found.get(code)


def _chunks(items: list[Any], size: int = 900) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batches(rows: Iterator[Any]) -> Iterator[list[Any]]:
    size = CHUNK_ROWS
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class _Settings:
    scope_path: str
    upsert: bool
    today: dt.date


def _prepare(
    number: int, cells: list[Any], columns: _Columns, lookups: _Lookups, job: _Settings, *, checked: bool
) -> _Row:
    """Cells to typed values, then the registry's rules (clean_person). A cell refused by a cell rule
    is reported once: the column's own rule does not add a second message about it. `checked`: the
    rows passed validation already (the write pass), so the cell rules are not run again."""
    errors: list[tuple[str, str]] = []
    refused: set[str] = set()
    raw: dict[str, Any] = {}
    width = len(cells)
    for index, name in columns.by_index.items():
        value = cells[index] if index < width else None
        if not checked:
            problem = _cell_problem(name, value)
            if problem is not None:
                errors.append((name, problem))
                refused.add(name)
                value = None
        raw[name] = value
    data: dict[str, Any] = {}
    for name in ("name", "social_security_card", "address", "notes"):
        if name in raw:
            data[name] = _text(raw[name])
    if "id_number" in raw:
        value = raw["id_number"]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            errors.append(
                ("id_number", _("The identity number must be a text cell: a number cell loses digits."))
            )
            refused.add("id_number")
            data["id_number"] = ""
        else:
            data["id_number"] = _text(value)
    if "phone" in raw:
        data["phone"] = _text(raw["phone"])
    if _text(raw.get("gender")):
        gender = _GENDERS.get(_text(raw["gender"]).lower())
        if gender is None:
            errors.append(("gender", _("Gender: 男/女 or male/female.")))
        else:
            data["gender"] = gender
    if raw.get("birth_date") not in (None, ""):
        try:
            data["birth_date"] = _parse_date(raw["birth_date"])
        except ValueError:
            errors.append(("birth_date", _("Date of birth: use YYYY-MM-DD.")))
    if "willing_to_work" in raw:
        value = raw["willing_to_work"]
        text = _text(value).lower()
        if isinstance(value, bool):
            data["willing_to_work"] = value
        elif text in _TRUE or text == "":
            data["willing_to_work"] = True if text or not job.upsert else None
        elif text in _FALSE:
            data["willing_to_work"] = False
        else:
            errors.append(("willing_to_work", _("Willingness to work: 是 or 否.")))
    code = _text(raw.get("region"))
    region = lookups.regions.get(code) if code else None
    if code and region is None:
        errors.append(("region", _("Unknown region code %(code)s.") % {"code": code}))
        refused.add("region")
    elif region is not None and not path_within(region.path, job.scope_path):
        errors.append(("region", _("Region %(code)s lies outside your region.") % {"code": code}))
    data["region"] = region
    groups: list[BeneficiaryGroup] = []
    if _text(raw.get("groups")):
        for token in _GROUP_SPLIT.split(_text(raw["groups"])):
            token = token.strip()
            if not token:
                continue
            group = lookups.groups.get(token)
            if group is None:
                errors.append(("groups", _("Unknown group %(g)s.") % {"g": token}))
            elif group not in groups:
                groups.append(group)
    # In upsert mode a blank optional cell leaves the stored value as it is.
    if job.upsert:
        data = {k: v for k, v in data.items() if v not in ("", None) or k in {"name", "id_number", "region"}}
    cleaned = clean_person(data, registered_on=job.today, partial=False)
    for name, messages in cleaned.errors.items():
        if name not in refused:
            errors.extend((name, message) for message in messages)
    values = cleaned.values
    if job.upsert:
        values = {
            k: v
            for k, v in values.items()
            if k in data or k.startswith("id_number") or k in {"gender", "birth_date"}
        }
    return _Row(number=number, values=values, groups=groups, errors=errors, region_code=code)


def _prepared(
    table: Table, columns: _Columns, lookups: _Lookups, job: _Settings, *, checked: bool = False
) -> Iterator[list[_Row]]:
    """The file's rows prepared, a chunk at a time (one query for the chunk's new region codes)."""
    region = next(i for i, name in columns.by_index.items() if name == "region")
    for batch in _batches(table.rows()):
        lookups.load_regions({_text(cells[region]) for _n, cells in batch if region < len(cells)} - {""})
        yield [_prepare(number, cells, columns, lookups, job, checked=checked) for number, cells in batch]


@dataclass
class _Plan:
    """What validation keeps for the write: compact facts, not rows."""

    rows: int = 0
    updates: dict[int, int] = field(default_factory=dict)  # row number -> record it updates
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, message)


def _validate(
    table: Table, columns: _Columns, job: _Settings, actor: Any, progress: Progress | None
) -> _Plan:
    """Pass 1: every row checked, every error kept; people registered outside the scope are probes
    (recorded and throttled before any answer is given)."""
    plan = _Plan()
    lookups = _Lookups(want_groups="groups" in columns.labels)
    seen: dict[bytes, int] = {}  # keyed hash of the identity number -> first row with it
    messages: dict[str, str] = {}  # one string object per distinct message
    probed: list[int] = []
    allowance = probes.probe_limit() - probes.probes_used(actor) if actor is not None else None

    def err(number: int, name: str, message: str) -> None:
        message = messages.setdefault(message, message)
        plan.errors.append((number, columns.labels.get(name, name), message))

    for batch in _prepared(table, columns, lookups, job):
        hashes = []
        for row in batch:
            plan.rows += 1
            for name, message in row.errors:
                err(row.number, name, message)
            if row.id_hash:
                key = bytes.fromhex(row.id_hash)
                first = seen.setdefault(key, row.number)
                if first != row.number:
                    err(
                        row.number,
                        "id_number",
                        _("This identity number is duplicated in the file (also row %(n)d).") % {"n": first},
                    )
                else:
                    hashes.append(row.id_hash)
        existing: dict[str, tuple[int, str]] = {}
        for chunk in _chunks(hashes):
            for pk, digest, path in Beneficiary.objects.filter(id_number_hash__in=chunk).values_list(
                "pk", "id_number_hash", "region__path"
            ):
                existing[digest] = (pk, path)
        for row in batch:
            found = existing.get(row.id_hash) if row.id_hash else None
            if found is None:
                continue
            pk, path = found
            if not path_within(path, job.scope_path):
                # Said exactly as a single registration says it (services.conflict_for_existing).
                err(row.number, "id_number", registered_elsewhere_message())
                probed.append(pk)
            elif not job.upsert:
                err(
                    row.number,
                    "id_number",
                    _("Already registered (beneficiary %(id)s); use mode=upsert to update.") % {"id": pk},
                )
            else:
                plan.updates[row.number] = pk
        if allowance is not None and len(probed) > allowance:
            break  # refused whatever else the file holds; no need to read on
        if progress:
            progress("validate", plan.rows, None)
    probes.record_probes(actor=actor, beneficiary_ids=probed)
    return plan


# -- step 3: write ---------------------------------------------------------------------------------------------


def _write(
    table: Table, columns: _Columns, job: _Settings, plan: _Plan, progress: Progress | None
) -> tuple[list[int], int]:
    """Pass 2: the same rows prepared again and written chunk by chunk inside the caller's transaction."""
    lookups = _Lookups(want_groups="groups" in columns.labels)
    ids: list[int] = []
    updated = 0
    done = 0
    for batch in _prepared(table, columns, lookups, job, checked=True):
        creates = [r for r in batch if r.number not in plan.updates]
        updates = [(r, plan.updates[r.number]) for r in batch if r.number in plan.updates]
        ids.extend(b.pk for b in _write_creates(creates, job.today))
        updated += _write_updates(updates, job.today)
        done += len(batch)
        if progress:
            progress("write", done, plan.rows)
    return ids, updated


def _write_creates(rows: list[_Row], today: dt.date) -> list[Beneficiary]:
    if not rows:
        return []
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
    return created


def _write_updates(rows: list[tuple[_Row, int]], today: dt.date) -> int:
    if not rows:
        return 0
    locked: dict[int, Beneficiary] = {}
    for chunk in _chunks([pk for _row, pk in rows]):
        locked.update({b.pk: b for b in Beneficiary.objects.select_for_update().filter(pk__in=chunk)})
    changed: list[Beneficiary] = []
    fields: set[str] = set()
    for row, pk in rows:
        obj = locked[pk]
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
    pks = [pk for row, pk in rows if row.groups]
    for chunk in _chunks(pks):
        held.update(
            GroupMembership.objects.filter(
                Q(valid_to__isnull=True) | Q(valid_to__gte=today), beneficiary_id__in=chunk
            ).values_list("beneficiary_id", "group_id")
        )
    memberships = [
        GroupMembership(beneficiary=locked[pk], group=g, valid_from=today)
        for row, pk in rows
        for g in row.groups
        if (pk, g.pk) not in held
    ]
    if memberships:
        tracked_bulk_create(GroupMembership, memberships)
    return len(changed)


def _analyze_written_tables() -> None:
    """The lists and the duplicate look-ups of the next import are planned for the tables' new size
    (tracker.planner)."""
    tables = (Beneficiary._meta.db_table, GroupMembership._meta.db_table, ChangeEntry._meta.db_table)
    analyze(using=router.db_for_write(Beneficiary), tables=tables)


# -- the service ----------------------------------------------------------------------------------------------


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

    Scope: rows must lie in `actor`'s region, or in `scope_path` when given, which may only narrow
    it (a region within the actor's); `scope_path` without an actor is for benchmarks and tests. Raises ImportRejected listing every error (nothing is written then), or
    ProbeLimitExceeded (429). Duplicate-probe entries are committed on their own, so do not call this
    inside a transaction that you roll back on ImportRejected."""
    if actor is not None:
        own = actor.scope_path
        if scope_path is None:
            scope_path = own
        elif own is None or not scope_path.startswith(own):
            raise PermissionDenied(_("The region to import into lies outside your region."))
    if scope_path is None:
        raise PermissionDenied(_("You have no region to import into."))
    if (file is None) == (rows is None):
        raise TypeError("give exactly one of file or rows")
    probes.ensure_under_limit(actor)
    if file is not None:
        table = read_table(_read_bytes(file), filename or getattr(file, "name", "") or "")
    else:
        table = _rows_table(rows or ())
    try:
        with _gc_paused():
            return _run(
                table, actor=actor, scope_path=scope_path, dry_run=dry_run, upsert=upsert, progress=progress
            )
    finally:
        table.close()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during the import. Its objects live a chunk each and are
    freed by reference counting (they hold no cycles: peak memory is the same with the collector on),
    but those that outlive two young collections trigger full ones, which walk everything Django has
    loaded; on 100,000 rows that costs about a tenth of the import's time for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(
    table: Table, *, actor: Any, scope_path: str, dry_run: bool, upsert: bool, progress: Progress | None
) -> ImportResult:
    columns, header_errors = _column_map(table.headers, table.header_row)
    if header_errors:
        raise ImportRejected(_("The header row is invalid."), header_errors)
    job = _Settings(scope_path=scope_path, upsert=upsert, today=timezone.localdate())
    plan = _validate(table, columns, job, actor, progress)
    if plan.errors:
        plan.errors.sort(key=lambda e: e[0])
        errors = [{"row": r, "column": c, "message": m} for r, c, m in plan.errors]
        raise ImportRejected(_("%(n)d errors; nothing was written.") % {"n": len(errors)}, errors)
    if dry_run:
        updates = len(plan.updates)
        return ImportResult(dry_run=True, rows=plan.rows, created=plan.rows - updates, updated=updates)
    try:
        with transaction.atomic(), change_context(source=Source.IMPORT), acting(actor):
            ids, updated = _write(table, columns, job, plan, progress)
    except IntegrityError:
        raise _file_error(
            _(
                "Someone registered one of these people while the file was being imported; nothing was "
                "written. Import the file again to see which."
            )
        ) from None
    if len(ids) + updated >= ANALYZE_MIN_ROWS:
        transaction.on_commit(_analyze_written_tables)
    return ImportResult(dry_run=False, rows=plan.rows, created=len(ids), updated=updated, ids=ids)


# -- template ----------------------------------------------------------------------------------------------------


def template(*, fmt: str, english: bool = False) -> tuple[bytes, str]:
    """The import template. CSV: UTF-8 with BOM (so Excel opens it right), the header and one example
    row marked as such, which the importer skips (its first cell starts with #). XLSX: the header,
    the identity-number, phone, card and region columns formatted as text on the cells themselves
    (not only the column, which some programs ignore), and a second sheet describing every column in
    Chinese and English."""
    headers = [c[0] if english else c[1] for c in COLUMNS]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        writer.writerow([EXAMPLE.get(f, "") for f in FIELDS])
        return BOM + buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8"
    import openpyxl
    from openpyxl.styles import NamedStyle

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "beneficiaries"
    sheet.append(headers)
    text_style = NamedStyle(name="text", number_format="@")
    workbook.add_named_style(text_style)
    for index, name in enumerate(FIELDS, start=1):
        letter = openpyxl.utils.get_column_letter(index)
        sheet.column_dimensions[letter].width = 22 if name in TEXT_COLUMNS else 14
        if name in TEXT_COLUMNS:
            # Identity and phone numbers must stay text, or Excel rounds them to 15 digits.
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(1, TEMPLATE_TEXT_ROWS + 2):
                sheet.cell(row=row, column=index).style = "text"
    notes = workbook.create_sheet("说明 columns")
    notes.append(["字段 field", "列名 header", "必填 required", "说明", "description"])
    for name, zh, required, doc, doc_zh in COLUMNS:
        notes.append([name, zh, "是 yes" if required else "否 no", doc_zh, doc])
    notes.append([])
    notes.append(
        [
            "",
            "",
            "",
            "表头可用中文或英文，列的顺序不限。以#开头的行不导入。单元格不能是公式。"
            "整个文件先校验，有任何错误则不写入。",
            "Headers in Chinese or English, columns in any order. Rows starting with # are skipped. "
            "No formula cells. The whole file is checked first; any error means nothing is written.",
        ]
    )
    for letter, width in zip("ABCDE", (22, 14, 14, 60, 60), strict=True):
        notes.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), XLSX_CONTENT_TYPE


__all__ = [
    "COLUMNS",
    "TEMPLATE_DOC",
    "ImportRejected",
    "ImportResult",
    "ProbeLimitExceeded",
    "beneficiaries_import",
    "cell_problem",
    "max_bytes",
    "read_table",
    "template",
]
