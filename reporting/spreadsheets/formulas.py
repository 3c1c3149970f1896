"""The formula-injection guard every text cell the hub writes goes through (OWASP
"CSV injection"). Pure Python."""


# ---------------------------------------------------------------------------------------
# Formula injection
# ---------------------------------------------------------------------------------------

# OWASP "CSV injection": a cell whose text starts with one of these is read as a formula
# by Excel, LibreOffice or Google Sheets once the data leaves the workbook we wrote (copied
# into another sheet, saved as CSV, imported elsewhere), and a formula such as
# =HYPERLINK(...) or a DDE call can leak data or run commands on the reader's machine.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """`value` made inert for spreadsheet programs: one that starts with `=`, `+`, `-`,
    `@`, a tab or a carriage return gets a leading `'`, as OWASP recommends. So does one
    where such a character follows leading whitespace (" =1+1", a line break then
    "@SUM(…)", a no-break space): LibreOffice's CSV import can trim spaces before it
    evaluates formulas.

    `write_string` alone already stops Excel from evaluating the cell in the workbook we
    write; the prefix also protects every later copy of the text. It is applied to every
    text cell of every sheet generated here, even plain numbers such as "-5" that came in
    as text: simpler to reason about than a list of exceptions, and the cell still shows
    what the grantee typed.
    """
    if value.startswith(_FORMULA_TRIGGERS) or value.lstrip().startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value
