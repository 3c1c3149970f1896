"""The native readers (native/sheetcells/), and reading a CSV file on the other core
while polars loads.

``manage.py check_files`` spends its first 0.15–0.2 s importing polars, on one core. The
native CSV reader (native/sheetcells/csvcolumns.c) needs no polars and lets go of the
GIL, so the command reads each file and starts that reader on a thread of its own
before it imports the checks; ``reading.read_table`` then takes what was read instead
of reading the file again. Nothing here imports polars.

The reader only cuts the text: every check of the file (its size, its encoding, its
separator…) is still made by ``reading``, in the same order, and a file it refuses is
refused whatever was read ahead. A workbook is not read ahead.
"""

import os
import threading
from pathlib import Path
from typing import Any

from reporting import contract

BOM = b"\xef\xbb\xbf"
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def native_reader() -> Any:
    """The native readers (native/sheetcells/), or None if they are not built."""
    try:
        import sheetcells
    except ImportError:  # pragma: no cover - the build is part of `make install`
        return None
    return sheetcells


def read_csv(text: bytes | memoryview) -> object:
    """``sheetcells.csv_columns`` of a CSV file's text (no byte-order mark): its
    columns, or a str saying why it declined; None when the reader is not built."""
    reader = native_reader()
    return None if reader is None else reader.csv_columns(text, contract.MAX_DATA_ROWS)


class CsvRead:
    """``read_csv`` of a file's text (less its byte-order mark, as ``reading`` takes it),
    run on a thread of its own."""

    def __init__(self, data: bytes):
        self._data = data
        self._result: object = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            text = memoryview(self._data)[len(BOM) :] if self._data.startswith(BOM) else self._data
            self._result = read_csv(text)
        except Exception as error:  # handed to the caller, on its thread
            self._result = error

    def take(self, data: bytes) -> object:
        """What the reader returned for ``data`` (which must be the bytes it was started
        on), once: polars takes the columns over, so a second call gets None (and the
        file is read again). An error it raised (a header that is not UTF-8, say) is
        raised here, where ``reading`` has already refused such a file."""
        assert data is self._data, "a read ahead is only for the bytes it was started on"
        self._thread.join()
        result, self._result = self._result, None
        if isinstance(result, Exception):
            raise result
        return result


def read_file(path: str | os.PathLike) -> tuple[bytes | None, CsvRead | None]:
    """A file's bytes, and the native read of its text begun on another thread; (None,
    None) for a file too large to be read (``reading`` refuses it by its size), and no
    read for a workbook or when the reader is not built."""
    path = Path(path)
    if path.stat().st_size > contract.MAX_FILE_BYTES:
        return None, None
    data = path.read_bytes()
    if native_reader() is None or data.startswith(_WORKBOOK_MAGIC):
        return data, None
    return data, CsvRead(data)
