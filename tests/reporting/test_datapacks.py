"""Data packs (XLSX and a zip of CSVs): the figures are the roll-ups' figures for every
coalition, quarter, window and key; the findings summaries are the stored findings
counted; the status board is the board selector's; the provenance is there; a coalition
pack holds that coalition only; and nothing about individual people is in the file."""

import csv
import io
import zipfile
from collections import Counter
from datetime import date, datetime, time
from decimal import Decimal

import openpyxl
import pytest
from django.db.models import Count
from django.test import TestCase

from grantees.calendar import Quarter
from reporting import datapacks, figures, services
from reporting.catalogue import FIGURES, WINDOWS
from reporting.checks import synthetic
from reporting.models import (
    Export,
    ExportKind,
    ExportStatus,
    Finding,
    ParticipantRecord,
    ProgramRollup,
    Rollup,
    SubmissionState,
    Upload,
)
from reporting.selectors import board as board_selector
from tests import builders

WINDOW_KEYS = {label: key for key, label in WINDOWS}
RATE_KEYS = set(figures.RATE_KEYS)
GENERATED_AT = "2025-11-20T10:30:00-05:00"


def with_warnings(quarter: str, seed: int) -> tuple[bytes, bytes]:
    """Synthetic files with findings that do not block certifying: an unknown column
    (F03) and two wages below the federal minimum (L16), both warnings."""
    people, jobs = synthetic.generate_files(30, seed=seed, period=quarter)
    rows = list(csv.DictReader(io.StringIO(jobs.decode())))
    for row in rows[:2]:
        row["hourly_wage"] = "5.00"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    lines = people.decode().split("\r\n")
    lines = [lines[0] + ",notes"] + [line + ",x" if line else line for line in lines[1:]]
    return "\r\n".join(lines).encode(), out.getvalue().encode()


@pytest.fixture
def reports(cast):
    """Two coalitions × two quarters, rolled up: Alpha's 2025Q2 accepted and its 2025Q3
    submitted with warnings; Bravo's 2025Q2 submitted (its 2025Q3 not yet sent)."""
    a2 = builders.submitted_version(
        builders.period_of(cast.coalition_a, "2025Q2"), cast.admin_a, participants=30, seed=3
    )
    services.submission_accept(submission=a2, actor=cast.officer)
    a3 = builders.submitted_version(
        builders.period_of(cast.coalition_a, "2025Q3"),
        cast.admin_a,
        files=with_warnings("2025Q3", 4),
    )
    b2 = builders.submitted_version(
        builders.period_of(cast.coalition_b, "2025Q2"), cast.outsider_b, participants=20, seed=5
    )
    for version in (a2, a3, b2):
        services.rollup_period(period_id=version.period_id, program=False)
    for quarter in ("2025Q2", "2025Q3"):
        services.rollup_program(quarter=quarter)
    assert Rollup.objects.get(submission=a2).accepted
    assert Finding.objects.filter(upload__submission=a3, upload__is_current=True).count() >= 3
    return {"a2": a2, "a3": a3, "b2": b2}


def provenance_of(*versions) -> dict:
    return {
        "generated_at": GENERATED_AT,
        "generated_by": "Olive Officer <officer@example.org>",
        "export": "6f1c9a52-2f0e-4c55-9a43-3b7d2a1e9f00",
        "submissions": [
            {
                "coalition": v.coalition.name,
                "slug": v.coalition.slug,
                "quarter": v.period.quarter,
                "version": v.version,
                "state": v.state,
                "certified_at": v.certified_at.isoformat() if v.certified_at else None,
                "accepted_at": v.accepted_at.isoformat() if v.accepted_at else None,
            }
            for v in versions
        ],
    }


# -- Reading a pack back --------------------------------------------------------------

SHEETS = {
    "README.csv": "About",
    "figures.csv": "Figures",
    "program_figures.csv": "Program figures",
    "data_quality.csv": "Data quality",
    "program_data_quality.csv": "Program data quality",
    "findings.csv": "Findings",
    "status_board.csv": "Status board",
    "versions.csv": "Versions",
}


def read_xlsx(content: bytes) -> dict[str, list[dict]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    tables = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        tables[sheet.title] = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    return tables


def read_csv(content: bytes) -> dict[str, list[dict]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        tables = {}
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8-sig")
            tables[SHEETS[name]] = list(csv.DictReader(io.StringIO(text, newline="")))
    return tables


def plain(value):
    """A cell as a comparable value whichever the format: numbers as Decimal, blanks as
    None, dates and times as ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        # openpyxl reads a date cell as a datetime at midnight.
        return (
            value.date().isoformat()
            if value == datetime.combine(value, time())
            else (value.isoformat())
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value)).normalize()
    try:
        return Decimal(value).normalize()
    except ArithmeticError:
        return value


def pack(fmt: str, *, quarter="2025Q3", coalition=None, provenance=None) -> dict[str, list]:
    render = datapacks.data_pack_xlsx if fmt == "xlsx" else datapacks.data_pack_csv
    content = render(
        quarter=quarter,
        coalition_id=coalition.pk if coalition else None,
        provenance=provenance or provenance_of(),
    )
    return (read_xlsx if fmt == "xlsx" else read_csv)(content)


FORMATS = pytest.mark.parametrize("fmt", ["xlsx", "csv"])


def expected_cells(figures_json: dict, cohorts: dict) -> dict[tuple[str, str], dict]:
    """What the pack should say for each (window, key) of a roll-up's figures."""
    out = {}
    for window, _ in WINDOWS:
        for key, label, section in ((f.key, f.label, f.section) for f in FIGURES):
            raw = figures_json["windows"][window][key]
            if key in RATE_KEYS:
                value, numerator, denominator, rate = (
                    raw["rate"],
                    raw["numerator"],
                    raw["denominator"],
                    raw["rate"],
                )
            else:
                value, numerator, denominator, rate = raw, None, None, None
            span = cohorts[window].get(key) if key.startswith("E-") else None
            out[window, key] = {
                "Label": label,
                "Section": section,
                "Value": plain(value),
                "Numerator": plain(numerator),
                "Denominator": plain(denominator),
                "Rate (%)": plain(rate),
                "Cohort from": span[0] if span else None,
                "Cohort to": span[1] if span else None,
            }
    return out


def figure_cells(rows: list[dict], *scope: str) -> dict[tuple, dict]:
    cells = {}
    for row in rows:
        where = tuple(row[column] for column in scope)
        key = (*where, WINDOW_KEYS[row["Window"]], row["Figure"])
        assert key not in cells, f"{key} appears twice"
        cells[key] = {
            column: plain(row[column]) if column not in ("Label", "Section") else row[column]
            for column in (
                "Label",
                "Section",
                "Value",
                "Numerator",
                "Denominator",
                "Rate (%)",
                "Cohort from",
                "Cohort to",
            )
        }
    return cells


# -- Figures --------------------------------------------------------------------------


@FORMATS
def test_the_figures_are_the_rollups_figures_for_every_coalition_quarter_window_and_key(
    cast, reports, fmt
):
    tables = pack(fmt)
    got = figure_cells(tables["Figures"], "Coalition slug", "Quarter")
    expected = {}
    for rollup in Rollup.objects.select_related("coalition", "period__grant"):
        cohorts = figures.cohort_periods(
            Quarter.parse(rollup.quarter), rollup.period.grant.start_date
        )
        for (window, key), cell in expected_cells(rollup.figures, cohorts).items():
            expected[rollup.coalition.slug, rollup.quarter, window, key] = cell
    # Alpha 2025Q2 and 2025Q3, Bravo 2025Q2: 3 roll-ups × 3 windows × every figure.
    assert len(expected) == 3 * 3 * len(FIGURES)
    assert got == expected
    # The history is there, and the rows carry the version that counts.
    versions = {(r["Coalition slug"], r["Quarter"], plain(r["Version"])) for r in tables["Figures"]}
    assert versions == {
        ("alpha", "2025Q2", plain(reports["a2"].version)),
        ("alpha", "2025Q3", plain(reports["a3"].version)),
        ("bravo", "2025Q2", plain(reports["b2"].version)),
    }


@FORMATS
def test_a_program_pack_carries_the_program_rollups_by_segment(cast, reports, fmt):
    tables = pack(fmt)
    got = figure_cells(tables["Program figures"], "Quarter", "Segment")
    expected = {}
    grant_start = min(c.grants.get().start_date for c in (cast.coalition_a, cast.coalition_b))
    for row in ProgramRollup.objects.all():
        cohorts = figures.cohort_periods(Quarter.parse(row.quarter), grant_start)
        for (window, key), cell in expected_cells(row.figures, cohorts).items():
            expected[row.quarter, row.segment, window, key] = cell
    assert {segment for _, segment, _, _ in expected} >= {"program", "sector:broadband"}
    assert got == expected
    quality = {(r["Quarter"], r["Segment"]): r for r in tables["Program data quality"]}
    for row in ProgramRollup.objects.all():
        shown = quality[row.quarter, row.segment]
        assert plain(shown["Coalitions reported"]) == plain(row.coalitions_reported)
        assert plain(shown["Rows checked, every upload (drafts included)"]) == plain(
            row.rows_checked
        )
        assert plain(shown["Warnings found, every upload (drafts included)"]) == plain(
            row.warnings_found
        )


@FORMATS
def test_an_earlier_quarter_leaves_out_later_ones(cast, reports, fmt):
    tables = pack(fmt, quarter="2025Q2")
    assert {r["Quarter"] for r in tables["Figures"]} == {"2025Q2"}
    assert {r["Quarter"] for r in tables["Program figures"]} == {"2025Q2"}
    assert {r["Quarter"] for r in tables["Status board"]} == {"2025Q2"}


@FORMATS
def test_a_coalition_pack_holds_that_coalition_only(cast, reports, fmt):
    tables = pack(fmt, coalition=cast.coalition_a)
    assert "Program figures" not in tables
    assert "Program data quality" not in tables
    for name in ("Figures", "Data quality", "Findings", "Status board"):
        assert tables[name], name
        assert {r["Coalition slug"] for r in tables[name]} == {"alpha"}, name
    assert {r["Quarter"] for r in tables["Figures"]} == {"2025Q2", "2025Q3"}
    everything = repr(tables)
    assert cast.coalition_b.name not in everything


# -- Findings summaries and data quality ---------------------------------------------


@FORMATS
def test_the_findings_summary_counts_the_counted_versions_stored_findings(cast, reports, fmt):
    tables = pack(fmt)
    got = Counter(
        {
            (r["Coalition slug"], r["Quarter"], r["File"], r["Rule"], r["Severity"]): int(
                plain(r["Findings"])
            )
            for r in tables["Findings"]
        }
    )
    stored = Counter()
    for version in reports.values():
        for c in (
            Finding.objects.filter(upload__submission=version, upload__is_current=True)
            .values("file", "code", "severity")
            .annotate(n=Count("id"))
        ):
            key = (version.coalition.slug, version.period.quarter, c["file"], c["code"])
            stored[(*key, c["severity"])] = c["n"]
    assert got == stored
    assert got["alpha", "2025Q3", "placements", "L16", "warning"] == 2
    assert got["alpha", "2025Q3", "participants", "F03", "warning"] == 1
    assert {r["What the rule checks"] for r in tables["Findings"] if r["Rule"] == "L16"} == {
        "Wage below federal minimum"
    }
    assert "Value" not in tables["Findings"][0]


@FORMATS
def test_the_data_quality_counters_are_the_rollups(cast, reports, fmt):
    rows = {(r["Coalition slug"], r["Quarter"]): r for r in pack(fmt)["Data quality"]}
    assert len(rows) == 3
    for rollup in Rollup.objects.select_related("coalition", "submission"):
        row = rows[rollup.coalition.slug, rollup.quarter]
        version = rollup.submission
        assert plain(row["Counted version"]) == plain(version.version)
        assert plain(row["Participant rows kept"]) == plain(rollup.participant_rows)
        assert plain(row["Placement rows kept"]) == plain(rollup.placement_rows)
        assert plain(row["Version warnings"]) == plain(version.warning_count)
        assert plain(row["Rows checked, every upload (drafts included)"]) == plain(
            rollup.rows_checked
        )
        assert plain(row["Errors found, every upload (drafts included)"]) == plain(
            rollup.errors_found
        )
        assert plain(row["Warnings found, every upload (drafts included)"]) == plain(
            rollup.warnings_found
        )
        assert plain(row["Due date"]) == rollup.due_date.isoformat()
        assert row["Accepted"] == ("yes" if rollup.accepted else "no")
    assert plain(rows["alpha", "2025Q3"]["Version warnings"]) == plain(reports["a3"].warning_count)
    assert reports["a3"].warning_count >= 3


def wages_below_minimum(quarter: str, participants: int, seed: int) -> tuple[bytes, bytes]:
    """Synthetic files in which every placement's wage is below the federal minimum: one
    L16 warning per placement, more than the 1,000 the checks store of a rule and column."""
    people, jobs = synthetic.generate_files(participants, seed=seed, period=quarter)
    rows = list(csv.DictReader(io.StringIO(jobs.decode())))
    for row in rows:
        row["hourly_wage"] = "5.00"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return people, out.getvalue().encode()


@pytest.fixture
def fixed_then_sent(cast):
    """Bravo's 2025Q3 version: first uploaded with many errors, its files then replaced by
    files with no error but over a thousand warnings of one rule, certified and rolled
    up. The quarter's every-upload counters hold the draft files' errors."""
    period = builders.period_of(cast.coalition_b, "2025Q3")
    version = builders.checked_version(
        period, cast.outsider_b, participants=80, seed=7, error_rate=0.3
    )
    assert version.state == SubmissionState.NEEDS_FIXES
    people, jobs = wages_below_minimum("2025Q3", 2400, seed=9)
    for kind, data in (("participants", people), ("placements", jobs)):
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.upload_receive(
                submission=version, kind=kind, stream=io.BytesIO(data), name=f"{kind}.csv",
                actor=cast.outsider_b,
            )  # fmt: skip
    version.refresh_from_db()
    assert version.state == SubmissionState.READY, version.state
    services.submission_certify(
        submission=version, actor=cast.outsider_b, name="Bo Admin", title="Director",
        agreed=True, late_reason=builders.LATE_REASON,
    )  # fmt: skip
    services.rollup_period(period_id=period.pk, program=False)
    rollup = Rollup.objects.get(period=period)
    assert rollup.errors_found > 0
    return version


@FORMATS
def test_the_findings_sheet_adds_up_to_the_data_quality_sheet(cast, fixed_then_sent, fmt):
    tables = pack(fmt, coalition=cast.coalition_b)
    (quality,) = tables["Data quality"]
    findings = tables["Findings"]
    assert findings, "the counted version's findings are listed"
    by_severity = Counter()
    for r in findings:
        by_severity[r["Severity"]] += int(plain(r["Findings"]))
    assert int(plain(quality["Version errors"])) == by_severity["error"] == 0
    assert int(plain(quality["Version warnings"])) == by_severity["warning"]
    current = Upload.objects.filter(submission=fixed_then_sent, is_current=True)
    rows = sum(u.data_rows for u in current)
    assert int(plain(quality["Rows in the version's files"])) == rows
    assert plain(quality["Findings per 1,000 rows of the version's files"]) == plain(
        round(1000 * by_severity["warning"] / rows, 1)
    )
    # The draft's errors are the quarter's checking effort, said to be so.
    assert int(plain(quality["Errors found, every upload (drafts included)"])) > 0
    # Over a thousand L16 warnings: 1,000 stored, the rest counted and said to be.
    (wages,) = [r for r in findings if r["Rule"] == "L16"]
    stored = Finding.objects.filter(upload__in=current, code="L16").count()
    assert stored == 1000
    assert int(plain(wages["Findings"])) == current.get(kind="placements").warning_count
    not_stored = int(plain(wages["Not stored (over the 1,000 kept per rule and column)"]))
    assert not_stored == int(plain(wages["Findings"])) - stored > 0


@FORMATS
def test_nothing_about_individual_people_leaves_the_hub(cast, reports, fmt):
    text = repr(pack(fmt))
    ids = set(ParticipantRecord.objects.values_list("participant_id", flat=True))
    assert ids
    assert not [i for i in ids if i in text]
    messages = Finding.objects.values_list("message", flat=True)
    assert not [m for m in messages if m in text]


# -- Status board ---------------------------------------------------------------------


@FORMATS
def test_the_status_board_is_the_board_selectors_for_the_day_the_pack_was_made(cast, reports, fmt):
    rows = pack(fmt)["Status board"]
    board = board_selector.board(
        cast.officer, quarter=Quarter.parse("2025Q3"), today=date(2025, 11, 20), sort="coalition"
    )
    assert [
        (r["Coalition slug"], r["Status"], plain(r["Days before due (negative: late)"]))
        for r in rows
    ] == [(b.coalition.slug, b.state_label, plain(b.days)) for b in board.rows]
    by_slug = {r["Coalition slug"]: r for r in rows}
    assert by_slug["alpha"]["Status"] == "Submitted"
    assert plain(by_slug["alpha"]["Latest version"]) == plain(reports["a3"].version)
    # Bravo never sent its 2025Q3 report and it was due on Nov 14: overdue on Nov 20.
    assert by_slug["bravo"]["Status"] == "Overdue"
    assert plain(by_slug["bravo"]["Days before due (negative: late)"]) == plain(-6)


def test_the_board_selector_without_a_person_is_every_coalition_or_the_one_asked(cast, reports):
    quarter, today = Quarter.parse("2025Q3"), date(2025, 11, 20)
    everyone = board_selector.board(None, quarter=quarter, today=today)
    assert {r.coalition.slug for r in everyone.rows} == {"alpha", "bravo"}
    one = board_selector.board(None, quarter=quarter, today=today, coalition_id=cast.coalition_a.pk)
    assert [r.coalition.slug for r in one.rows] == ["alpha"]
    # A person still sees only their own coalitions.
    coach = board_selector.board(cast.coach_a, quarter=quarter, today=today)
    assert [r.coalition.slug for r in coach.rows] == ["alpha"]


# -- Provenance and the workbook's form -----------------------------------------------


@FORMATS
def test_the_provenance_is_in_about_and_versions(cast, reports, fmt):
    stamp = provenance_of(reports["a2"], reports["a3"])
    tables = pack(fmt, coalition=cast.coalition_a, provenance=stamp)
    about = {r["Item"]: r["Value"] for r in tables["About"]}
    assert about["Generated at"] == GENERATED_AT
    assert about["Generated by"] == "Olive Officer <officer@example.org>"
    assert about["Export id"] == stamp["export"]
    assert about["Scope"] == "Alpha Wind Coalition (test) (alpha)"
    assert f"2025Q3 v{reports['a3'].version} (submitted)" in about["Versions used"]
    assert "Table: Findings (findings.csv)" in about
    versions = tables["Versions"]
    assert [
        (v["Coalition slug"], v["Quarter"], plain(v["Version"]), v["State"]) for v in versions
    ] == [
        ("alpha", "2025Q2", plain(reports["a2"].version), "accepted"),
        ("alpha", "2025Q3", plain(reports["a3"].version), "submitted"),
    ]
    accepted = versions[0][next(k for k in versions[0] if k.startswith("Accepted at"))]
    assert accepted not in (None, "")


def test_the_workbook_has_numbers_dates_frozen_headers_and_filters(cast, reports):
    content = datapacks.data_pack_xlsx(
        quarter="2025Q3", coalition_id=None, provenance=provenance_of()
    )
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == [
        "About",
        "Figures",
        "Program figures",
        "Data quality",
        "Program data quality",
        "Findings",
        "Status board",
        "Versions",
    ]
    figures_sheet = book["Figures"]
    assert figures_sheet.freeze_panes == "B2"
    assert figures_sheet.auto_filter.ref.startswith("A1:")
    header = [c.value for c in figures_sheet[1]]
    value_col = header.index("Value")
    key_col = header.index("Figure")
    values = {}
    for row in figures_sheet.iter_rows(min_row=2):
        values.setdefault(row[key_col].value, []).append(row[value_col])
    assert all(c.data_type == "n" for c in values["A-2"])
    assert {c.number_format for c in values["D-3"] if c.value is not None} == {"#,##0.00"}
    quality = book["Data quality"]
    header = [c.value for c in quality[1]]
    due = quality.cell(row=2, column=header.index("Due date") + 1)
    assert isinstance(due.value, datetime)
    assert due.number_format == "yyyy-mm-dd"
    submitted = quality.cell(row=2, column=header.index("Submitted at (America/New_York)") + 1)
    assert isinstance(submitted.value, datetime)
    # No cell anywhere is a formula.
    assert not [
        c for s in book.worksheets for row in s.iter_rows() for c in row if c.data_type == "f"
    ]


def test_a_quarter_that_is_not_one_is_refused_with_the_form_expected(cast):
    with pytest.raises(ValueError, match=r"'Q3-2025' is not a quarter: give it as YYYYQn"):
        datapacks.data_pack_csv(quarter="Q3-2025", coalition_id=None, provenance=provenance_of())


# -- Through the export job -----------------------------------------------------------


@pytest.mark.parametrize("kind", [ExportKind.DATA_PACK_XLSX, ExportKind.DATA_PACK_CSV])
def test_a_coach_exports_their_coalitions_pack_through_the_job(
    cast, reports, kind, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_request(
            actor=cast.coach_a, kind=kind, quarter="2025Q3", coalition=cast.coalition_a
        )
    export = Export.objects.get(pk=export.pk)
    assert export.status == ExportStatus.READY, export.error
    with export.file.open("rb") as stored:
        content = stored.read()
    tables = (read_xlsx if kind == ExportKind.DATA_PACK_XLSX else read_csv)(content)
    about = {r["Item"]: r["Value"] for r in tables["About"]}
    assert about["Export id"] == str(export.code)
    assert {r["Coalition slug"] for r in tables["Figures"]} == {"alpha"}
    used = {(v["Quarter"], plain(v["Version"])) for v in tables["Versions"]}
    assert used == {
        ("2025Q2", plain(reports["a2"].version)),
        ("2025Q3", plain(reports["a3"].version)),
    }
    assert reports["a3"].state == SubmissionState.SUBMITTED
