"""Spreadsheets the hub hands to grantees, generated here and nowhere else (a façade:
the work is in the modules beside it).

- `annotated_workbook` (annotated.py): the grantee's own file back as XLSX with the
  findings marked, plus a "Findings" sheet.
- `xlsx_template` / `csv_template` / `prefilled_template` (templates.py): blank
  participant and placement files and the start-from workbook, built from
  `reporting.contract`.
- `neutralise` (formulas.py): the formula-injection guard every text cell we write goes
  through.

Pure Python: no Django, no database.
"""

from reporting.spreadsheets.annotated import annotated_workbook
from reporting.spreadsheets.formulas import neutralise
from reporting.spreadsheets.templates import csv_template, prefilled_template, xlsx_template

__all__ = [
    "annotated_workbook",
    "csv_template",
    "neutralise",
    "prefilled_template",
    "xlsx_template",
]
