"""Every rule of DATA-CONTRACT.md §3 (and the hub's own F06) in words: its plain title,
what to do about it, and how the pages show it. The one place a rule's name is kept:
the findings page, the report and review pages, the marked-up workbook, the coaching
pages and the DOL-ready PDF and data packs all read it from here.

Two kinds of rule are shown apart from the others (docs/reporting.md):

- **file-level** rules (F01, F02, F05) stop the row checks of their file: the page shows
  them as one banner saying what is wrong and what to do, and offers no marked-up copy
  of that file (there is nothing in it to mark).
- **mass** rules (H01) describe participants who are *not* in the file, one finding
  each: they have no row to show as an example, and a file that loses people usually
  loses many, so the page says how many in one line and offers the list as a CSV.
"""

from dataclasses import dataclass

from reporting.checks.types import Severity


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    title: str
    # What to do, for every finding of the rule (each finding's own message says what is
    # wrong with its cell and what would be right).
    todo: str
    file_level: bool = False
    mass: bool = False

    @property
    def label(self) -> str:
        """'V02 Invalid date': the code (what JFF and the CLI use) and the title."""
        return f"{self.code} {self.title}"


E, W = Severity.ERROR, Severity.WARNING

_RULES = (
    Rule("F01", E, "File cannot be read",
         "Save the file as CSV UTF-8 (Excel: File → Save As → CSV UTF-8) or as an .xlsx "
         "workbook, with the data on the first sheet, and upload it again.",
         file_level=True),
    Rule("F02", E, "Required column missing",
         "Add the missing columns to the header row (row 1), named as in the template, "
         "and upload the file again.",
         file_level=True),
    Rule("F03", W, "Unknown column",
         "Nothing to fix: the column is ignored. Rename it if it was meant to be one of "
         "the template's columns."),
    Rule("F04", E, "Row has the wrong number of fields",
         "Make the row have as many fields as the header: a comma inside a value needs "
         "the value in double quotes. Saving from a spreadsheet program does this."),
    Rule("F05", E, "No data rows",
         "Add one row per record under the header row and upload the file again.",
         file_level=True),
    Rule("F06", W, "Too many invalid values: duplicate and logic checks not run",
         "Check that this is the right file, that its header is the template's and that "
         "no column is shifted; then upload it again."),
    Rule("V01", E, "Required value blank", "Fill in the cell: the column is required."),
    Rule("V02", E, "Invalid date",
         "Enter the date as YYYYMMDD (e.g. 20250815), as YYYY-MM-DD, or as a date cell."),
    Rule("V03", E, "Code not allowed",
         "Use one of the column's codes: the template's note on the column lists them."),
    Rule("V04", E, "Number invalid or out of range",
         "Enter a plain number in the column's range, without $ signs or separators."),
    Rule("V05", E, "Malformed participant_id",
         "Use 1–12 characters: letters, digits and dashes only."),
    Rule("V06", E, "participant_id looks like an SSN",
         "Replace the ID with the coalition's own participant ID: it must never be an "
         "SSN. Put the SSN, if you have it, in the ssn column."),
    Rule("V07", E, "Malformed O*NET code",
         "Enter the O*NET-SOC code as NN-NNNN.NN (e.g. 47-2111.00) or as its 8 digits."),
    Rule("V08", E, "Malformed NAICS code", "Enter the 6-digit NAICS code."),
    Rule("V09", E, "Unknown state code",
         "Enter the two-letter USPS code of the state or territory (e.g. OH)."),
    Rule("V10", E, "Malformed ZIP code",
         "Enter 5 digits or ZIP+4 (12345-6789); format the column as Text so that "
         "leading zeros stay."),
    Rule("V11", E, "Malformed SSN",
         "Enter the 9 digits of the SSN (dashes allowed), or leave the cell blank."),
    Rule("D01", E, "Duplicate participant_id",
         "Keep one row per participant: merge the rows, or give each person their own ID."),
    Rule("D02", E, "Same SSN on two participants",
         "Check the SSNs of the rows listed: one person must have one participant_id."),
    Rule("D03", W, "Duplicate placement",
         "Remove the repeated placement, unless the person really started twice."),
    Rule("L01", E, "Exit before entry", "Correct exit_date or entry_date."),
    Rule("L02", E, "Date after the period end",
         "Correct the date: nothing reported can happen after the quarter's last day."),
    Rule("L03", E, "Age at entry out of range",
         "Check date_of_birth and entry_date: participants are 17 to 100 at entry."),
    Rule("L04", E, "Training fields inconsistent",
         "Make received_training agree with training_start_date and training_type."),
    Rule("L05", E, "Training starts before entry",
         "Correct training_start_date or entry_date."),
    Rule("L06", E, "Training ends before it starts",
         "Correct training_end_date or training_start_date."),
    Rule("L07", E, "Training completion inconsistent",
         "Give training_completed whenever training_end_date is given, and an end date "
         "when training was completed."),
    Rule("L08", E, "Credential date inconsistent",
         "Give credential_date for a credential; it falls between entry and one year "
         "after exit."),
    Rule("L09", E, "Exit reason without exit date",
         "Give exit_date, or set other_exit_reason to 00."),
    Rule("L10", E, "Outcome reported too early",
         "Leave the after-exit outcome blank (or 9) until its quarter has ended."),
    Rule("L11", W, "Employed with no wages",
         "Enter the wages if you know them; otherwise nothing to fix."),
    Rule("L12", E, "Incumbent outcome for a non-incumbent",
         "Clear incumbent_retained and incumbent_advanced, or correct incumbent_worker."),
    Rule("L13", E, "Placement of an unknown participant",
         "Add the participant to the participant file, or correct the placement's "
         "participant_id."),
    Rule("L14", E, "Placement before entry",
         "Correct the placement's start_date or the participant's entry_date."),
    Rule("L15", E, "Training-related job without completed training",
         "Set training_related to 0, or record the completed training in the "
         "participant file."),
    Rule("L16", W, "Wage below federal minimum",
         "Check the hourly wage ($7.25 is the federal minimum); nothing to fix if right."),
    Rule("H01", E, "Participant missing since last accepted report",
         "Put these participants back in the file: it is cumulative, so everyone enrolled "
         "since the grant began stays in it, exited or not.",
         mass=True),
    Rule("H02", W, "Entry date changed since last accepted report",
         "Check entry_date: a participant's entry date does not normally change."),
)  # fmt: skip

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}
FILE_LEVEL = frozenset(code for code, rule in RULES.items() if rule.file_level)
MASS = frozenset(code for code, rule in RULES.items() if rule.mass)


def title(code: str) -> str:
    """The rule's plain title (the code itself for a code the hub does not know, so that
    a finding stored by an older version of the checks still shows)."""
    rule = RULES.get(code)
    return rule.title if rule else code


def label(code: str) -> str:
    rule = RULES.get(code)
    return rule.label if rule else code
