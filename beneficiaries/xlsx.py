"""A bounded, streaming reader of the first worksheet of an XLSX workbook, for the import.

An XLSX file is a ZIP archive of XML documents, so a small upload can unpack to gigabytes (one
worksheet of millions of empty `<row/>` elements, a shared string of hundreds of megabytes) or carry
XML entity tricks. openpyxl cannot be bounded from outside: it loads the whole shared-strings table
before the first row, pads missing rows and columns with empty cells, and trusts the sheet's
declared dimension. So this module reads the few parts the import needs itself, with limits that are
checked before and while reading:

- the ZIP directory is checked first: at most MAX_MEMBERS entries (read from the end-of-directory
  record before Python builds an object per entry), and each part read is refused when its declared
  unpacked size is over the limit; Python's zipfile never returns more bytes than the declared size,
  so that bound holds while reading too;
- XML is parsed with expat in 64 KiB pieces, and any DOCTYPE (so any entity declaration) is refused;
- the shared-strings table is stored as one UTF-8 byte array with offsets (about 8 bytes of overhead
  per string instead of a Python object each) and refused past its own byte limit;
- no text value may be longer than Excel's own cell limit (32,767 characters);
- rows are counted by their row number, so empty rows count against the row limit and a jump to row
  1,048,576 is refused at once; cells past the header's width are dropped as they are parsed.

Values come out as openpyxl's reader would give them: str, int, float, bool, datetime for numbers in a
date format; a formula cell is FORMULA and an error cell (#N/A) a CellError, so the import can name
them. Dates use openpyxl's tables of built-in formats and its serial-date conversion.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from django.utils.translation import gettext as _

MAX_MEMBERS = 10_000
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
MAX_COLUMNS = 16_384  # column XFD
METADATA_MAX_BYTES = 16 * 1024 * 1024  # workbook.xml, its relationships, styles.xml
READ_SIZE = 64 * 1024

_MAIN_RELS = "xl/_rels/workbook.xml.rels"
_WORKBOOK = "xl/workbook.xml"
_BUILTIN_DATE_FORMAT_IDS = frozenset([*range(14, 23), 45, 46, 47])


class WorkbookRefused(Exception):
    """The workbook is damaged, not a workbook, or over a limit; the message says which."""

    def __init__(self, message: str, *, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row


class _Formula:
    def __repr__(self) -> str:
        return "FORMULA"


FORMULA = _Formula()


@dataclass(frozen=True)
class CellError:
    """An error value a spreadsheet shows in a cell (#N/A, #REF!...)."""

    code: str


@dataclass(frozen=True)
class Limits:
    max_member_bytes: int
    max_shared_strings_bytes: int
    max_rows: int  # data rows, the header excluded


def _invalid() -> WorkbookRefused:
    return WorkbookRefused(_("The file is not a valid XLSX workbook."))


def _member_count(content: bytes) -> int:
    """Entries in the ZIP directory, from the end-of-central-directory record, before zipfile builds
    an object for each of them."""
    tail = content[-(22 + 65535) :]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _invalid()
    (entries,) = struct.unpack("<H", tail[at + 10 : at + 12])
    return entries


_LOCAL_NAMES: dict[str, str] = {}


def _local(name: str) -> str:
    """`x:row` -> `row`: parts may use a prefix for the spreadsheet namespace (expat runs without
    namespace processing, which is faster; the few names a part uses are cached)."""
    found = _LOCAL_NAMES.get(name)
    if found is None:
        found = name.rsplit(":", 1)[-1]
        if len(_LOCAL_NAMES) < 1000:
            _LOCAL_NAMES[name] = found
    return found


class _Parser:
    """expat, DOCTYPE (so any entity declaration) refused, fed in pieces. The handlers receive
    element names as written and reduce them with _local."""

    def __init__(
        self,
        start: Callable[[str, dict[str, str]], None],
        end: Callable[[str], None],
        text: Callable[[str], None] | None = None,
    ) -> None:
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.buffer_size = READ_SIZE
        self.parser.StartElementHandler = start
        self.parser.EndElementHandler = end
        if text is not None:
            self.parser.CharacterDataHandler = text
        self.parser.StartDoctypeDeclHandler = self._refuse_doctype
        self.parser.EntityDeclHandler = self._refuse_doctype

    @staticmethod
    def _refuse_doctype(*args: Any) -> None:
        raise _invalid()

    def feed(self, data: bytes, final: bool = False) -> None:
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError:
            raise _invalid() from None


class SharedStrings:
    """The shared-strings table as one UTF-8 byte array and an offset per string."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.ends = array("Q")

    def append(self, text: str) -> None:
        self.data += text.encode("utf-8")
        self.ends.append(len(self.data))

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, index: int) -> str:
        start = self.ends[index - 1] if index else 0
        return self.data[start : self.ends[index]].decode("utf-8")


class Workbook:
    """The first worksheet of an XLSX workbook, read within `limits`. `rows()` may be called more
    than once (the import validates in one pass and writes in another)."""

    def __init__(self, content: bytes, limits: Limits) -> None:
        self.limits = limits
        if _member_count(content) > MAX_MEMBERS:
            raise WorkbookRefused(
                _("The workbook has more than %(n)s parts.") % {"n": f"{MAX_MEMBERS:,}"},
            )
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(content))
            self.infos = {info.filename: info for info in self.archive.infolist()}
        except (zipfile.BadZipFile, OSError, ValueError, struct.error):
            raise _invalid() from None
        if _WORKBOOK not in self.infos:
            raise _invalid()
        sheet_rel, self.date1904 = self._read_workbook()
        targets = self._read_relationships(sheet_rel)
        self.sheet_path = targets.get("sheet")
        if not self.sheet_path or self.sheet_path not in self.infos:
            raise _invalid()
        self.date_styles = self._read_styles(targets.get("styles"))
        self.strings = self._read_shared_strings(targets.get("sharedStrings"))

    def close(self) -> None:
        self.archive.close()

    # -- parts -----------------------------------------------------------------------------------------------
    def _open(self, name: str, limit: int, what: str) -> Iterator[bytes]:
        info = self.infos.get(name)
        if info is None:
            raise _invalid()
        if info.file_size > limit:
            raise WorkbookRefused(
                _("%(part)s unpacks to %(size)s bytes, more than the limit of %(limit)s bytes.")
                % {"part": what, "size": f"{info.file_size:,}", "limit": f"{limit:,}"}
            )
        try:
            with self.archive.open(info) as member:
                while True:
                    data = member.read(READ_SIZE)
                    if not data:
                        return
                    yield data
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            raise _invalid() from None

    def _parse(self, name: str, limit: int, what: str, parser: _Parser) -> None:
        for data in self._open(name, limit, what):
            parser.feed(data)
        parser.feed(b"", True)

    def _read_workbook(self) -> tuple[str, bool]:
        found: dict[str, Any] = {"sheet": None, "date1904": False}

        def start(name: str, attrs: dict[str, str]) -> None:
            name = _local(name)
            if name == "sheet" and found["sheet"] is None:
                found["sheet"] = next((v for k, v in attrs.items() if _local(k) == "id"), None)
            elif name == "workbookPr":
                found["date1904"] = attrs.get("date1904", "").lower() in ("1", "true")

        self._parse(_WORKBOOK, METADATA_MAX_BYTES, "xl/workbook.xml", _Parser(start, lambda name: None))
        if not found["sheet"]:
            raise WorkbookRefused(_("The workbook has no worksheet."))
        return found["sheet"], found["date1904"]

    def _read_relationships(self, sheet_rel: str) -> dict[str, str]:
        targets: dict[str, str] = {}

        def start(name: str, attrs: dict[str, str]) -> None:
            if _local(name) != "Relationship":
                return
            kind = attrs.get("Type", "").rsplit("/", 1)[-1]
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            if attrs.get("Id") == sheet_rel and kind == "worksheet":
                targets["sheet"] = path
            elif kind in ("styles", "sharedStrings") and kind not in targets:
                targets[kind] = path

        if _MAIN_RELS not in self.infos:
            raise _invalid()
        self._parse(_MAIN_RELS, METADATA_MAX_BYTES, _MAIN_RELS, _Parser(start, lambda name: None))
        return targets

    def _read_styles(self, path: str | None) -> bytearray:
        """One byte per cell style (the `s` attribute of a cell): 1 where its number format is a
        date, so a number in that style is a date as in openpyxl."""
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        dates = bytearray()
        if not path or path not in self.infos:
            return dates
        custom: dict[int, str] = {}
        where: list[str] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            name = _local(name)
            where.append(name)
            if name == "numFmt":
                try:
                    custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
                except ValueError:
                    pass
            elif name == "xf" and len(where) >= 2 and where[-2] == "cellXfs":
                try:
                    fmt = int(attrs.get("numFmtId", "0"))
                except ValueError:
                    fmt = 0
                code = custom.get(fmt, BUILTIN_FORMATS.get(fmt, ""))
                dates.append(1 if fmt in _BUILTIN_DATE_FORMAT_IDS or (code and is_date_format(code)) else 0)

        def end(name: str) -> None:
            where.pop()

        self._parse(path, METADATA_MAX_BYTES, "xl/styles.xml", _Parser(start, end))
        return dates

    def _read_shared_strings(self, path: str | None) -> SharedStrings:
        table = SharedStrings()
        if not path or path not in self.infos:
            return table
        limit = self.limits.max_shared_strings_bytes
        state: dict[str, Any] = {"si": False, "t": False, "phonetic": 0, "parts": [], "size": 0}

        def start(name: str, attrs: dict[str, str]) -> None:
            name = _local(name)
            if name == "si":
                state["si"], state["parts"], state["size"] = True, [], 0
            elif name == "rPh":
                state["phonetic"] += 1  # phonetic guide text (furigana) is not part of the value
            elif name == "t" and state["si"] and not state["phonetic"]:
                state["t"] = True

        def end(name: str) -> None:
            name = _local(name)
            if name == "si":
                table.append("".join(state["parts"]))
                state["si"], state["parts"] = False, []
                if len(table.data) > limit:
                    raise WorkbookRefused(
                        _("The shared-strings table is larger than the limit of %(limit)s bytes.")
                        % {"limit": f"{limit:,}"}
                    )
            elif name == "rPh":
                state["phonetic"] -= 1
            elif name == "t":
                state["t"] = False

        def text(data: str) -> None:
            if state["t"]:
                state["size"] += len(data)
                if state["size"] > MAX_CELL_CHARS:
                    raise _too_long(None)
                state["parts"].append(data)

        self._parse(
            path, self.limits.max_member_bytes, _("The shared-strings table"), _Parser(start, end, text)
        )
        return table

    # -- the worksheet ------------------------------------------------------------------------------------------
    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cells) of each row that has a cell with a value, the header row first. Every
        row number up to the last counts against the row limit, empty or not."""
        reader = _SheetReader(self)
        parser = _Parser(reader.start, reader.end, reader.text)
        for data in self._open(self.sheet_path, self.limits.max_member_bytes, _("The worksheet")):
            parser.feed(data)
            if reader.done:
                yield from reader.done
                reader.done = []
        parser.feed(b"", True)
        yield from reader.done


def _too_long(row: int | None) -> WorkbookRefused:
    return WorkbookRefused(
        _("A cell holds more than %(n)s characters.") % {"n": f"{MAX_CELL_CHARS:,}"}, row=row
    )


_COLUMN_NUMBERS: dict[str, int] = {}


def _column_number(letters: str) -> int:
    """`A` -> 1, `XFD` -> 16,384; anything else is not a cell reference."""
    if not (0 < len(letters) <= 3 and letters.isascii() and letters.isalpha() and letters.isupper()):
        raise _invalid()
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    if number <= MAX_COLUMNS:
        _COLUMN_NUMBERS[letters] = number
    return number


class _SheetReader:
    """expat handlers for a worksheet's `sheetData`."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self.max_row = workbook.limits.max_rows + 1  # the header is row 1
        self.done: list[tuple[int, list[Any]]] = []
        self.row_number = 0
        self.width = MAX_COLUMNS  # the header's width, once the header (first non-empty row) is read
        self.header_seen = False
        self.cells: dict[int, Any] = {}
        self.column = 0
        self.cell_type = ""
        self.cell_style = 0
        self.formula = False
        self.in_value = False
        self.inline_depth = 0
        self.phonetic = 0
        self.parts: list[str] = []
        self.size = 0
        self.row_text = ""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        name = _LOCAL_NAMES.get(name) or _local(name)
        if name == "c":
            self._start_cell(attrs)
        elif name == "v":
            self.in_value = True
        elif name == "t" and self.inline_depth:
            self.in_value = not self.phonetic
        elif name == "is":
            self.inline_depth += 1
        elif name == "rPh":
            self.phonetic += 1
        elif name == "f":
            self.formula = True
        elif name == "row":
            self._start_row(attrs)

    def _start_row(self, attrs: dict[str, str]) -> None:
        given = attrs.get("r")
        if given is None:
            number = self.row_number + 1
        elif given.isdigit() and int(given) > self.row_number:
            number = int(given)
        else:
            raise _invalid()
        if number > self.max_row:
            raise WorkbookRefused(
                _("The file has more than %(n)s rows (empty rows count too).")
                % {"n": f"{self.workbook.limits.max_rows:,}"},
                row=number,
            )
        self.row_number = number
        self.row_text = str(number)
        self.cells = {}
        self.column = 0

    def _start_cell(self, attrs: dict[str, str]) -> None:
        ref = attrs.get("r")
        if ref is None:
            column = self.column + 1
        else:
            letters = ref.rstrip("0123456789")
            digits = ref[len(letters) :]
            column = _COLUMN_NUMBERS.get(letters) or _column_number(letters)
            if digits and digits != self.row_text:
                raise _invalid()
        if not self.column < column <= MAX_COLUMNS:
            raise _invalid()
        self.column = column
        self.cell_type = attrs.get("t", "n")
        try:
            self.cell_style = int(attrs.get("s", "0"))
        except ValueError:
            raise _invalid() from None
        self.formula = False
        self.in_value = False
        self.parts = []
        self.size = 0

    def text(self, data: str) -> None:
        if self.in_value:
            self.size += len(data)
            if self.size > MAX_CELL_CHARS:
                raise _too_long(self.row_number)
            self.parts.append(data)

    def end(self, name: str) -> None:
        name = _LOCAL_NAMES.get(name) or _local(name)
        if name in ("v", "t"):
            self.in_value = False
        elif name == "is":
            self.inline_depth -= 1
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "c":
            if self.column <= self.width:
                value = FORMULA if self.formula else self._value()
                if value is not None and value != "":
                    self.cells[self.column] = value
        elif name == "row":
            if self.cells:
                cells = [None] * max(self.cells)
                for column, value in self.cells.items():
                    cells[column - 1] = value
                if not self.header_seen:
                    self.header_seen = True
                    self.width = len(cells)
                self.done.append((self.row_number, cells))

    def _value(self) -> Any:
        raw = "".join(self.parts)
        kind = self.cell_type
        if kind == "inlineStr" or kind == "str":
            return raw
        if raw == "":
            return None
        if kind == "s":
            try:
                index = int(raw)
                if index < 0:
                    raise IndexError(index)
                return self.workbook.strings[index]
            except (ValueError, IndexError):
                raise _invalid() from None
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "e":
            return CellError(raw)
        if kind == "d":
            import datetime as dt

            try:
                return dt.datetime.fromisoformat(raw)
            except ValueError:
                raise _invalid() from None
        try:
            number: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
        except ValueError:
            raise _invalid() from None
        styles = self.workbook.date_styles
        if self.cell_style < len(styles) and styles[self.cell_style]:
            from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

            epoch = CALENDAR_MAC_1904 if self.workbook.date1904 else CALENDAR_WINDOWS_1900
            try:
                return from_excel(number, epoch)
            except (ValueError, OverflowError):
                return number
        return number
