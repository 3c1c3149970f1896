"""Data packs: the figures, data-quality summaries and status board behind the reports,
as one XLSX workbook or a zip of CSV files holding the same tables (docs/exports.md,
"Data packs").

- Figures per coalition, quarter and window in long format (one row per figure), for
  every quarter up to the one asked for that has a roll-up, so a pack carries the
  history; program packs add the program-wide roll-ups by segment.
- Findings summaries: per coalition and quarter the counted version's findings counted
  by rule, and the quarter's data-quality counters. Counts only: a finding's ``value``
  can hold what a grantee typed about a person, so it never leaves the hub.
- The quarter's status board, as the board shows it.
- "About" (``README.csv``): the provenance stamp and what each table holds, and the
  submission versions used.

Everything comes from the roll-up tables and the stored findings; nothing here reads a
participant record. Called by the exports worker (reporting.services.exports) in the
export's coalition's scope, or the system scope for a program pack; the person's right
to the scope was checked when they asked.
Every text cell goes through ``neutralise``, in both formats.

The reads are reporting.selectors.datapacks; the tables ``tables``; the files ``writers``.
"""

from reporting.datapacks.tables import Column, Table, board_table
from reporting.datapacks.writers import data_pack_csv, data_pack_xlsx, table_csv, table_xlsx

__all__ = [
    "Column",
    "Table",
    "board_table",
    "data_pack_csv",
    "data_pack_xlsx",
    "table_csv",
    "table_xlsx",
]
