"""Reading an uploaded XLSX workbook safely: inspect the archive, then read its cells.

A workbook is a zip archive of XML parts, and a hostile one can exhaust memory or time
long before any cell is read: a zip bomb (a small member that unpacks to gigabytes, or
that lies about its size), an XML bomb (entities declared in a DOCTYPE), or a sparse
sheet (one cell in A1 and one in ZZ200000) that calamine turns into a dense grid of
billions of cells. So before any cell is read, every member is unpacked here as a
stream — checking its real size and CRC against what the archive declares — and the
first worksheet's cell positions are checked against what the workbook may span.

The cells are then read by ``sheetcells`` (native code, native/sheetcells/) straight
into one CSV text that polars reads: a 100,000-row sheet in a fraction of a second.
It reads the plain shape Excel, LibreOffice and the hub's own writer give a sheet and
declines anything else (an error cell, a time of day, rich phonetic text…); a sheet it
declines is searched for cells out of bounds and parsed by calamine, as before — the
reference the fast reader is tested against (tests/reporting/checks/test_sheetcells.py).
"""

import datetime
import io
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from posixpath import dirname, join, normpath
from typing import Any, cast

import polars as pl
from zlib_ng import zlib_ng as zlib  # zlib's interface, inflating in a third of its time

from reporting import contract
from reporting.checks import native

ZlibError = cast(type[Exception], zlib.error)  # zlib-ng's stubs do not say it is one
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
MAX_RATIO = 200
# A member that unpacks to less than this cannot exhaust anything, whatever its ratio
# (a small, very regular styles part may compress well).
RATIO_FLOOR = 1024 * 1024
MAX_SHEET_ROWS = contract.MAX_DATA_ROWS + 1  # the header, then the data rows
# calamine holds a sheet as a dense grid of 32-byte cells: 20 million cells is 640 MB,
# room for 200,000 rows of 100 columns.
MAX_CELLS = 20_000_000
DEFAULT_COLUMNS = 100  # what a sheet without a <dimension> may span
PROLOG_BYTES = 64 * 1024
CHUNK = 8 * 1024 * 1024
_STRUCTURE_LIMIT = 16 * 1024 * 1024

_RESAVE = "open it in Excel and save it again as an Excel Workbook (.xlsx), or save it as CSV UTF-8"
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_PROLOG_NOISE = re.compile(rb"<\?.*?\?>|<!--.*?-->", re.DOTALL)
_TAG_ATTRIBUTES = re.compile(r'([\w:]+)\s*=\s*"([^"]*)"')
_DIMENSION = re.compile(r'<(?:\w+:)?dimension\s[^>]*?\bref="([^"]*)"')
_REF = re.compile(r"^([A-Za-z]{0,3})([0-9]{0,7})$")
# A <c> (cell) or <row> tag none of whose attributes is r="...".
_SPACE = r"[\t\n\r ]"
_NOT_R = r"(?:[^r\t\n\r />=][^\t\n\r />=]*|r[^\t\n\r />=]+)"
_UNPLACED = (
    rf'<(?:[A-Za-z_][\w.-]*:)?(?:c|row)(?:{_SPACE}+{_NOT_R}{_SPACE}*={_SPACE}*"[^"]*")*{_SPACE}*/?>'
)
_COUNTED = {
    "cells": r"<(?:[A-Za-z_][\w.-]*:)?c[\t\n\r />]",
    "placed_cells": rf"<(?:[A-Za-z_][\w.-]*:)?c{_SPACE}[^>]*{_SPACE}r{_SPACE}*=",
    "rows": r"<(?:[A-Za-z_][\w.-]*:)?row[\t\n\r />]",
    "placed_rows": rf"<(?:[A-Za-z_][\w.-]*:)?row{_SPACE}[^>]*{_SPACE}r{_SPACE}*=",
}


_OUTSIDE = (
    "the first worksheet has cells outside the area it declares, or beyond "
    f"{MAX_SHEET_ROWS - 1:,} data rows: {_RESAVE}"
)


class Refusal(Exception):
    """The file cannot be read (F01); the message says what is wrong and what would do."""


@dataclass
class Sheet:
    """The cells of the first worksheet, row by row; ``first_row`` is the 0-based
    spreadsheet row of ``rows[0]``."""

    rows: list[list[Any]]  # str, float, int, bool, date, datetime… as calamine gives them
    first_row: int = 0


@dataclass
class SheetCells:
    """The cells of the first worksheet as text (``cell_text`` of each), read by the
    native reader: ``frame`` holds columns c0..cN of every row from the first row with a
    value to the last ("" for a blank cell), ``numeric`` one byte per cell (row by row)
    that is 1 where the cell was a number, and ``first_row`` is the 0-based spreadsheet
    row of the frame's first row."""

    frame: pl.DataFrame
    numeric: bytes
    first_row: int
    # No cell begins or ends with white space: a blank cell is null, not "".
    stripped: bool = False

    def numbers(self, column: int) -> pl.Series:
        """Whether each data row's cell in ``column`` was a number (the header left out)."""
        width = self.frame.width
        flags = self.numeric[width + column :: width]
        return pl.Series(list(flags), dtype=pl.UInt8).cast(pl.Boolean)


def read_first_sheet(data: bytes) -> Sheet:
    """The first worksheet as calamine reads it (the reference reader)."""
    inspect(data)
    return _parse(data)


def read_sheet(data: bytes) -> "SheetCells | Sheet":
    """The first worksheet: by the native reader when it can read it, else by calamine."""
    found = inspect(data, fast=True)
    if isinstance(found, SheetCells):
        return found
    return _parse(data)


def cell_text(value: object) -> str:
    """A cell as the text a grantee sees: whole numbers without ".0", dates as
    YYYY-MM-DD, other numbers as Excel shows them (15 significant digits)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


# Inspection ---------------------------------------------------------------------------


def inspect(data: bytes, *, fast: bool = False) -> "SheetCells | None":
    """Refuse a workbook that is damaged, macro-enabled or hostile; return quietly when
    calamine may parse it. With ``fast``, the first sheet is read by the native reader
    as it is checked, and its cells are returned when that reader could read them."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise Refusal(
            f"the file is a damaged workbook (its zip container cannot be read): {_RESAVE}"
        ) from None
    members = {info.filename.lower(): info for info in infos}
    if len(members) != len(infos):
        raise Refusal(f"the workbook has two parts with the same name, so it is damaged: {_RESAVE}")
    _check_sizes(infos)
    if "mimetype" in members and b"opendocument" in _read_part(data, members["mimetype"]):
        raise Refusal(
            f"the file is an OpenDocument spreadsheet (.ods), not an Excel workbook: {_RESAVE}"
        )
    if any(name.endswith("vbaproject.bin") for name in members):
        raise Refusal(_macro_message())
    content_types = _structure_part(data, members, "[content_types].xml")
    lowered = content_types.lower()
    if "macroenabled" in lowered or "vbaproject" in lowered:
        raise Refusal(_macro_message())
    if "ms-excel.sheet.binary" in lowered:
        raise Refusal(f"the file is a binary Excel workbook (.xlsb): {_RESAVE}")
    workbook_part = _workbook_part(content_types)
    if workbook_part is None or workbook_part.lower() not in members:
        raise Refusal(
            "the file is a zip archive but not an Excel workbook (a Word or PowerPoint "
            f"file?): {_RESAVE}"
        )
    sheet_part = _first_sheet_part(data, members, workbook_part)
    reader = native.native_reader() if fast else None
    if reader is None:
        for info in infos:
            if info.filename.lower() == sheet_part:
                _scan_sheet(data, info)
            else:
                _verify(data, info)
        return None
    kept = {"xl/sharedstrings.xml", "xl/styles.xml", workbook_part.lower()}
    parts: dict[str, bytes] = {}
    sheet, sheet_info, limits = b"", None, (MAX_SHEET_ROWS, DEFAULT_COLUMNS)
    for info in infos:
        name = info.filename.lower()
        if name == sheet_part:
            try:
                sheet, limits = _unpack_sheet(data, info)
            except Refusal:
                _scan_sheet(data, info)  # the refusal the pieces give, in their order
                raise
            sheet_info = info
        elif name in kept:
            raw = _read_part(data, info)
            _check_prolog(raw, info.filename)
            parts[info.filename] = raw
        else:
            _verify(data, info)
    assert sheet_info is not None
    # The sheet's XML (100 MB for 100k rows) is handed over, so that it is freed as soon
    # as the native reader is done with it, before polars reads the cells.
    held, sheet = [sheet], b""
    cells = _read_cells(reader, held, parts, workbook_part, limits)
    if cells is None:  # declined: search the sheet as calamine will read it
        _scan_sheet(data, sheet_info)
    return cells


def _check_sizes(infos: list[zipfile.ZipInfo]) -> None:
    total = sum(info.file_size for info in infos)
    if total > MAX_UNPACKED_BYTES:
        raise Refusal(
            f"the workbook unpacks to {total / 2**20:,.0f} MB; at most "
            f"{MAX_UNPACKED_BYTES // 2**20} MB is accepted — send the data as CSV UTF-8, "
            "or remove other sheets, images and formatting"
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise Refusal(
                "the workbook is encrypted: remove its password and save it again as .xlsx, "
                "or save it as CSV UTF-8"
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Refusal(f"the workbook uses a compression method Excel does not use: {_RESAVE}")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise Refusal(
                f"the workbook part {info.filename} is compressed more than {MAX_RATIO}:1, "
                "which is how a zip bomb is made, so the file is refused: "
                f"{_RESAVE}"
            )


def _macro_message() -> str:
    return (
        "the file is a macro-enabled workbook (it contains VBA code), which is not "
        "accepted: save it as an Excel Workbook (.xlsx, without macros) or as CSV UTF-8"
    )


def _structure_part(data: bytes, members: dict[str, zipfile.ZipInfo], name: str) -> str:
    info = members.get(name.lower())
    if info is None:
        raise Refusal(
            f"the file is a zip archive but not an Excel workbook (it has no {name}): {_RESAVE}"
        )
    if info.file_size > _STRUCTURE_LIMIT:
        raise Refusal(f"the workbook part {info.filename} is implausibly large: {_RESAVE}")
    raw = _read_part(data, info)
    _check_prolog(raw, info.filename)
    return raw.decode("utf-8", "replace")


def _read_part(data: bytes, info: zipfile.ZipInfo) -> bytes:
    return b"".join(_unpack(data, info))


def _workbook_part(content_types: str) -> str | None:
    for tag in re.findall(r"<(?:\w+:)?Override\s[^>]*>", content_types):
        attributes = dict(_TAG_ATTRIBUTES.findall(tag))
        kind = attributes.get("ContentType", "")
        if re.search(r"spreadsheetml\.(?:sheet|template)\.main\+xml$", kind):
            return attributes.get("PartName", "").lstrip("/")
    return None


def _first_sheet_part(data: bytes, members: dict[str, zipfile.ZipInfo], workbook_part: str) -> str:
    workbook_xml = _structure_part(data, members, workbook_part)
    sheet = re.search(r"<(?:\w+:)?sheet\s[^>]*>", workbook_xml)
    if sheet is None:
        raise Refusal(f"the workbook has no worksheet: {_RESAVE}")
    attributes = dict(_TAG_ATTRIBUTES.findall(sheet[0]))
    relation = next((v for k, v in attributes.items() if k.endswith(":id")), None)
    folder, base = dirname(workbook_part), workbook_part.rsplit("/", 1)[-1]
    rels = _structure_part(data, members, join(folder, "_rels", f"{base}.rels"))
    for tag in re.findall(r"<(?:\w+:)?Relationship\s[^>]*>", rels):
        attributes = dict(_TAG_ATTRIBUTES.findall(tag))
        if attributes.get("Id") == relation:
            target = attributes.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else normpath(join(folder, target))
            if path.lower() not in members:
                break
            return path.lower()
    raise Refusal(
        f"the workbook's first sheet cannot be found in the file, so it is damaged: {_RESAVE}"
    )


def _check_prolog(head: bytes, name: str) -> None:
    head = head[:PROLOG_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("utf-8")
    if _DTD.search(head):
        raise Refusal(
            f"the workbook part {name} declares a DOCTYPE or entities, which Excel never "
            f"writes and which can be used to attack a server: {_RESAVE}"
        )
    if len(head) == PROLOG_BYTES and not re.search(rb"<[A-Za-z_]", _PROLOG_NOISE.sub(b"", head)):
        raise Refusal(f"the workbook part {name} does not start like Excel's XML: {_RESAVE}")


def _verify(data: bytes, info: zipfile.ZipInfo) -> None:
    xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
    for index, chunk in enumerate(_unpack(data, info)):
        if index == 0 and xml:
            _check_prolog(chunk, info.filename)


def _unpack(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A member's content, chunk by chunk, refusing it as soon as it unpacks to more
    than it declares (Python's zipfile would stop quietly at the declared size, while
    another reader may go on) and checking its CRC at the end."""
    damaged = f"the workbook part {info.filename} is damaged: {_RESAVE}"
    packed = _packed(data, info, damaged)
    produced, crc = 0, 0
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[bytes] = (
            bytes(packed[i : i + CHUNK]) for i in range(0, len(packed), CHUNK)
        )
    else:
        pieces = _inflate(packed, damaged)
    for piece in pieces:
        produced += len(piece)
        if produced > info.file_size:
            raise Refusal(_bomb(info))
        crc = zlib.crc32(piece, crc)
        yield piece
    if produced != info.file_size or crc != info.CRC:
        raise Refusal(damaged)


def _unpack_whole(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """A member's content in one piece, with the checks of ``_unpack``: inflated in one
    call that may not produce more than the member declares (at most
    MAX_UNPACKED_BYTES, checked before), with no copy to join pieces."""
    damaged = f"the workbook part {info.filename} is damaged: {_RESAVE}"
    packed = _packed(data, info, damaged)
    if info.compress_type == zipfile.ZIP_STORED:
        content = bytes(packed)
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            content = inflater.decompress(packed, info.file_size + 1)
        except ZlibError:
            raise Refusal(damaged) from None
        if len(content) > info.file_size:
            raise Refusal(_bomb(info))
        if not inflater.eof:
            raise Refusal(damaged)
    if len(content) != info.file_size or zlib.crc32(content) != info.CRC:
        raise Refusal(damaged)
    return content


def _packed(data: bytes, info: zipfile.ZipInfo, damaged: str) -> memoryview:
    offset = info.header_offset
    header = data[offset : offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise Refusal(damaged)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_length + extra_length
    packed = memoryview(data)[start : start + info.compress_size]
    if len(packed) < info.compress_size:
        raise Refusal(damaged)
    return packed


def _bomb(info: zipfile.ZipInfo) -> str:
    return (
        f"the workbook part {info.filename} unpacks to more than the archive "
        f"declares, which is how a zip bomb is made, so the file is refused: {_RESAVE}"
    )


def _inflate(packed: memoryview, damaged: str) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    position = 0
    try:
        while not inflater.eof:
            if inflater.unconsumed_tail:
                piece = inflater.decompress(inflater.unconsumed_tail, CHUNK)
            elif position < len(packed):
                piece = inflater.decompress(packed[position : position + CHUNK], CHUNK)
                position += CHUNK
            else:
                break
            if piece:
                yield piece
    except ZlibError:
        raise Refusal(damaged) from None
    if not inflater.eof:
        raise Refusal(damaged)


# The native reader --------------------------------------------------------------------


def _unpack_sheet(data: bytes, info: zipfile.ZipInfo) -> tuple[bytes, tuple[int, int]]:
    """The sheet part unpacked (size and CRC checked) and the rows and columns it may
    span: its <dimension>, or the limits."""
    sheet = _unpack_whole(data, info)
    head = sheet[:PROLOG_BYTES]
    _check_prolog(head, info.filename)
    limits = (MAX_SHEET_ROWS, DEFAULT_COLUMNS)
    dimension = _DIMENSION.search(head.decode("utf-8", "replace"))
    if dimension:
        limits = _dimension(dimension[1])
    return sheet, limits


def _read_cells(
    reader: Any,
    held: list[bytes],
    parts: dict[str, bytes],
    workbook_part: str,
    limits: tuple[int, int],
) -> SheetCells | None:
    """The native reader's cells, a refusal when a cell lies outside the sheet's area, or
    None when the reader declines (calamine reads the sheet then)."""
    if workbook_part != "xl/workbook.xml" or set(parts) - {
        workbook_part,
        "xl/sharedStrings.xml",
        "xl/styles.xml",
    }:
        return None  # parts where calamine may look for them otherwise than this reader
    if re.search(rb"date1904\s*=\s*[\"'](?:1|true)", parts.get(workbook_part, b"")):
        return None
    kinds = _style_kinds(parts.get("xl/styles.xml"))
    if kinds is None:
        return None
    rows, columns = limits
    # Two threads when polars may use two (POLARS_MAX_THREADS=1 keeps a check on one core).
    threads = min(2, pl.thread_pool_size())
    found = reader.read(
        held.pop(), parts.get("xl/sharedStrings.xml"), kinds, rows, columns, threads
    )
    if found == "outside":
        raise Refusal(_OUTSIDE)
    if isinstance(found, str):
        return None
    text, numeric, first_row, height, width, spaced = found
    names = [f"c{i}" for i in range(width)]
    if not height:
        return SheetCells(pl.DataFrame(), b"", 0)
    try:
        frame = pl.read_csv(
            text,
            has_header=False,
            new_columns=names,
            infer_schema=False,
            quote_char='"',
            # Blank cells as calamine's "", unless no cell needs stripping: then null,
            # what stripping would have made of them.
            empty_string_is_null=not spaced,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:  # not UTF-8: calamine says the workbook is damaged
        return None
    if frame.shape != (height, width):
        return None
    return SheetCells(frame, numeric, first_row, stripped=not spaced)


# A workbook of one cell per style (s="0".."N-1"), each the number 45000, with the
# workbook's own styles part: calamine says which styles make a number a date.
_PROBE_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<sheetData>{rows}</sheetData></worksheet>"
)
_PROBE_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
        '"worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>'
    ),
}
_MAX_STYLES = 65_536
_CELL_STYLES = re.compile(rb"<(?:\w+:)?cellXfs\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?cellXfs>)", re.DOTALL)
_XF = re.compile(rb"<(?:\w+:)?xf[\s/>]")


def _style_kinds(styles: bytes | None) -> bytes | None:
    """One byte per cell style: 0 where calamine reads a number in that style as a
    number, 1 as a date, 2 as anything else (a duration, a time). Asked of calamine
    itself, with the workbook's own styles part. None when calamine cannot say."""
    if styles is None:
        return b"\x00"
    found = _CELL_STYLES.search(styles)
    count = len(_XF.findall(found[1] or b"")) if found else 0
    if not count:
        return b"\x00"
    if count > _MAX_STYLES:
        return None
    from python_calamine import CalamineWorkbook

    rows = "".join(
        f'<row r="{i + 1}"><c r="A{i + 1}" s="{i}"><v>45000</v></c></row>' for i in range(count)
    )
    probe = io.BytesIO()
    with zipfile.ZipFile(probe, "w", zipfile.ZIP_STORED) as archive:
        for name, text in _PROBE_PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/styles.xml", styles)
        archive.writestr("xl/worksheets/sheet1.xml", _PROBE_SHEET.format(rows=rows))
    probe.seek(0)
    try:
        sheet = CalamineWorkbook.from_filelike(probe).get_sheet_by_index(0)
        values = [row[0] for row in sheet.iter_rows()]
    except BaseException as error:  # calamine's Rust panics are BaseExceptions
        if isinstance(error, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
            raise
        return None
    if len(values) != count:
        return None
    return bytes(
        0 if type(value) is float else 1 if type(value) in (datetime.date, datetime.datetime) else 2
        for value in values
    )


# The first worksheet ------------------------------------------------------------------


def _scan_sheet(data: bytes, info: zipfile.ZipInfo) -> None:
    """Refuse a sheet whose cells would span more than the workbook may: more rows than
    the limit, or more cells (rows × columns) than calamine should allocate.

    The sheet is unpacked piece by piece here while the piece before is searched on
    another thread (zlib and polars both let go of the GIL), and a refusal is the one
    the pieces give in order: cells outside the area in an earlier piece before damage
    found unpacking a later one."""
    from concurrent.futures import Future, ThreadPoolExecutor

    rows, columns = MAX_SHEET_ROWS, DEFAULT_COLUMNS
    unplaced = False
    pending: list[Future] = []

    def settle(keep: int) -> None:
        nonlocal unplaced
        while len(pending) > keep:
            outside, unplaced_here = pending.pop(0).result()
            if outside:
                raise Refusal(_OUTSIDE)
            unplaced = unplaced or unplaced_here

    with ThreadPoolExecutor(max_workers=1) as searcher:
        try:
            for index, piece in enumerate(_tag_aligned(_unpack(data, info))):
                if index == 0:
                    _check_prolog(piece, info.filename)
                    dimension = _DIMENSION.search(piece[:PROLOG_BYTES].decode("utf-8", "replace"))
                    if dimension:
                        rows, columns = _dimension(dimension[1])
                    pattern = _outside_pattern(rows, columns)
                settle(keep=1)  # at most one piece searched while the next is unpacked
                pending.append(searcher.submit(_search, piece, pattern, _UNPLACED))
            settle(keep=0)
        except Refusal:
            settle(keep=0)  # an earlier piece's refusal comes first
            raise
        finally:
            for future in pending:
                future.cancel()
    if unplaced:
        _check_unplaced(data, info, rows, columns)


def _check_unplaced(data: bytes, info: zipfile.ZipInfo, rows: int, columns: int) -> None:
    """Cells and rows without an r="..." reference are placed after the previous one:
    in the worst case each of them extends the sheet."""
    counts = dict.fromkeys(_COUNTED, 0)
    for piece in _tag_aligned(_unpack(data, info)):
        text = pl.DataFrame({"t": [piece.decode("utf-8", "replace")]})
        found = text.select(
            pl.col("t").str.count_matches(pattern).alias(key) for key, pattern in _COUNTED.items()
        ).row(0, named=True)
        for key in counts:
            counts[key] += found[key]
    worst_rows = rows + counts["rows"] - counts["placed_rows"]
    worst_columns = columns + counts["cells"] - counts["placed_cells"]
    if worst_rows > MAX_SHEET_ROWS or worst_rows * worst_columns > MAX_CELLS:
        raise Refusal(
            "the first worksheet has cells without a position that could make it larger "
            f"than the limits: {_RESAVE}"
        )


def _tag_aligned(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """The pieces cut just after a ">", so that no tag is split between two of them."""
    carry = b""
    for piece in pieces:
        piece = carry + piece
        cut = piece.rfind(b">") + 1
        carry = piece[cut:]
        if cut:
            yield piece[:cut]
    if carry:
        yield carry


def _search(piece: bytes, *patterns: str) -> tuple[bool, ...]:
    """Whether each pattern occurs in the piece; polars runs the searches in parallel."""
    text = pl.DataFrame({"t": [piece.decode("utf-8", "replace")]})
    found = text.select(
        pl.col("t").str.contains(pattern).alias(str(i)) for i, pattern in enumerate(patterns)
    )
    return tuple(bool(value) for value in found.row(0))


def _dimension(ref: str) -> tuple[int, int]:
    last = ref.split(":")[-1].strip()
    match = _REF.match(last)
    if not match or not match[2]:
        return MAX_SHEET_ROWS, DEFAULT_COLUMNS
    rows, columns = int(match[2]), _column_number(match[1] or "A")
    if rows > MAX_SHEET_ROWS:
        raise Refusal(
            f"the first worksheet spans {rows:,} rows (to {last.upper()}); a file may have "
            f"at most {MAX_SHEET_ROWS - 1:,} data rows under the header — if the rows below "
            "the data are empty, delete them and save again"
        )
    if rows * columns > MAX_CELLS:
        raise Refusal(
            f"the first worksheet spans {rows:,} rows × {columns:,} columns (to "
            f"{last.upper()}); at most {MAX_CELLS:,} cells are accepted — delete unused "
            "columns, or send the data as CSV UTF-8"
        )
    return rows, columns


def column_letters(index: int) -> str:
    """The letters of a 0-based column index, as Excel names it (0 → A, 27 → AB). Written
    here rather than imported from xlsxwriter, whose import costs check_files 15 ms."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _column_number(letters: str) -> int:
    # Not xlsxwriter's xl_cell_to_rowcol: a hostile dimension may name more than three
    # letters (or lower case), which it does not read.
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _outside_pattern(rows: int, columns: int) -> str:
    """A regex finding an r="..." cell or row reference beyond ``rows`` or ``columns``."""
    return (
        rf'[\t\n\r ]r[\t\n\r ]*=[\t\n\r ]*"(?:[A-Za-z]*0*{_greater_number(rows)}"'
        rf"|(?i:{_greater_letters(column_letters(columns - 1))})[0-9])"
    )


def _greater_number(limit: int) -> str:
    """Digits (no leading zero) of a number above ``limit``: more digits, or as many and
    a larger digit at the first place they differ."""
    digits = str(limit)
    options = [rf"[1-9][0-9]{{{len(digits)},}}"]
    for i, digit in enumerate(digits):
        if digit != "9":
            options.append(f"{digits[:i]}[{int(digit) + 1}-9][0-9]{{{len(digits) - i - 1}}}")
    return f"(?:{'|'.join(options)})"


def _greater_letters(limit: str) -> str:
    options = [f"[A-Z]{{{len(limit) + 1},}}"]
    for i, letter in enumerate(limit):
        if letter != "Z":
            options.append(f"{limit[:i]}[{chr(ord(letter) + 1)}-Z][A-Z]{{{len(limit) - i - 1}}}")
    return f"(?:{'|'.join(options)})"


# Parsing ------------------------------------------------------------------------------


def _parse(data: bytes) -> Sheet:
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not book.sheets_metadata:
            raise Refusal(f"the workbook has no worksheet: {_RESAVE}")
        if book.sheets_metadata[0].typ != SheetTypeEnum.WorkSheet:
            raise Refusal(
                "the first sheet of the workbook is not a worksheet (a chart?): move the "
                "data to the first sheet, or save it as CSV UTF-8"
            )
        sheet = book.get_sheet_by_index(0)
        rows = list(sheet.iter_rows())
        end, start = sheet.end, sheet.start
    except Refusal:
        raise
    except BaseException as error:  # calamine's Rust panics are BaseExceptions
        if isinstance(error, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
            raise
        raise Refusal(f"the workbook cannot be read, so it is damaged: {_RESAVE}") from None
    if not rows or end is None or start is None:
        return Sheet([])
    if start[1]:
        rows = [[""] * start[1] + row for row in rows]
    return Sheet(rows, first_row=end[0] + 1 - len(rows))
