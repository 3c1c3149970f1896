"""Where a workbook's reading spends its time, stage by stage, in one process.

    .venv/bin/python bench/workbook_stages.py FILE.xlsx [FILE.xlsx ...]

For each workbook: unpacking the first sheet, the native reader on one thread and on
two, polars reading the reader's CSV text, the whole of ``workbook.read_sheet``, and
calamine's reading (``workbook.read_first_sheet``, the reference) for comparison. Best
of 3 runs each, in seconds. bench/run.py makes the 100,000-row workbooks (the
LibreOffice one is kept under the temporary directory, ``bpij-bench-calc/``).
"""

import io
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl

from reporting.checks import workbook


def best(function, runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def stages(path: Path) -> None:
    import sheetcells

    data = path.read_bytes()
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    names = archive.namelist()
    shared = archive.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in names else None
    kinds = workbook._style_kinds(archive.read("xl/styles.xml"))
    assert kinds is not None
    unpack, (sheet, (rows, columns)) = best(lambda: workbook._unpack_sheet(data, info))
    one, found = best(lambda: sheetcells.read(sheet, shared, kinds, rows, columns, 1))
    two, _ = best(lambda: sheetcells.read(sheet, shared, kinds, rows, columns, 2))
    assert isinstance(found, tuple), f"the native reader declined: {found}"
    text = found[0]
    csv, _ = best(lambda: pl.read_csv(text, has_header=False, infer_schema=False))
    whole, _ = best(lambda: workbook.read_sheet(data))
    calamine, _ = best(lambda: workbook.read_first_sheet(data), runs=1)
    print(
        f"{path.name}: sheet XML {len(sheet) / 1e6:.0f} MB, {found[3]:,} rows × {found[4]}\n"
        f"  unpack {unpack:.3f}  native 1 thread {one:.3f}  2 threads {two:.3f}  "
        f"read_csv {csv:.3f}  read_sheet {whole:.3f}  calamine (reference) {calamine:.3f}"
    )


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        stages(Path(argument))
