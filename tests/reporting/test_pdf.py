"""The DOL-ready PDFs, rendered for real from real roll-ups and read back with pypdf:
every figure of every section and window is printed exactly as the roll-up holds it (in
the contract's format), beside each indicator its cohort, with the header fields, the
provenance stamp on every page, and the PDF tagged for accessibility."""

import io
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import TestCase
from django.utils import timezone
from pypdf import PdfReader

from grantees.calendar import Quarter
from grantees.models import US_STATES
from reporting import catalogue, figures, pdf, services
from reporting.catalogue import FIGURES
from reporting.checks import synthetic
from reporting.models import ProgramRollup, Rollup, Submission, SubmissionState, Upload
from tests import builders, factories

# WeasyPrint renders here: make test-fast leaves these to make test.
pytestmark = pytest.mark.pdf

QUARTER = "2025Q3"
RATES = {"E-1", "E-3", "E-4", "E-5"}
NARRATIVE = (
    "We enrolled forty people this quarter.",
    "Employer site visits slipped to October.",
    "Help drafting employer agreements for apprenticeships.",
)


# -- Reading the PDF --------------------------------------------------------------------


def read(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(data))


def squeeze(text: str) -> str:
    """The text without any whitespace: a value that wraps inside its cell still
    matches, while the order of everything printed is kept."""
    return re.sub(r"\s+", "", text)


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def assert_in_order(text: str, pieces: list[str]) -> None:
    """Each piece appears in ``text`` contiguously (whitespace aside), in this order."""
    haystack, at = squeeze(text), 0
    for piece in pieces:
        found = haystack.find(squeeze(piece), at)
        assert found >= 0, f"{piece!r} not found after position {at}"
        at = found + len(squeeze(piece))


# -- The contract's formats (DATA-CONTRACT.md §4, §6), written out independently -------


def shown(key: str, value) -> str:
    if key in RATES:
        if value["denominator"] == 0:
            return "n/a"
        return f"{value['rate']:.1f}% ({value['numerator']:,}/{value['denominator']:,})"
    if key == "D-3":
        return "n/a" if value is None else f"${value}"
    if key == "E-2":
        return "n/a" if value is None else f"${value:,}"
    return f"{value:,}"


def cohort(key: str, span) -> str:
    if key == "E-5":
        first, last = span
        start = Quarter.parse(first)
        year = start.year if start.number >= 3 else start.year - 1  # PY starts July 1
        return f"PY{year} to date ({first if first == last else f'{first}–{last}'})"
    if span is None:
        return "no exits yet (before the grant)"
    first, last = span
    return f"exits in {first}" if first == last else f"exits {first}–{last}"


def figure_rows(result: dict, quarter: Quarter, grant_start) -> list[list[str]]:
    """One list of expected strings per figure key, in report order: the form's line and
    caption, and each window's value (and cohort for the E indicators)."""
    cohorts = figures.cohort_periods(quarter, grant_start)
    rows = []
    for figure in FIGURES:
        key = figure.key
        row = [figure.line, figure.caption]
        for window in figures.WINDOW_NAMES:
            row.append(shown(key, result["windows"][window][key]))
            if key.startswith("E-"):
                row.append(cohort(key, cohorts[window][key]))
        rows.append(row)
    return rows


# -- Reports made the way grantees make them ------------------------------------------


def provenance_of(rollups: list[Rollup], *, by: str = "Pat Officer <officer@jff.example>"):
    return {
        "generated_at": datetime(2025, 11, 20, 14, 5, tzinfo=UTC).isoformat(),
        "generated_by": by,
        "export": "6f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e",
        "submissions": [
            {
                "coalition": r.coalition.name,
                "slug": r.coalition.slug,
                "quarter": r.quarter,
                "version": r.submission.version,
                "state": r.submission.state,
                "certified_at": r.submission.certified_at.isoformat(),
                "accepted_at": r.submission.accepted_at.isoformat()
                if r.submission.accepted_at
                else None,
            }
            for r in rollups
        ],
    }


@pytest.fixture
def reports(cast):
    """Alpha's 2025Q3 report with a narrative, certified and accepted; Bravo's
    submitted (awaiting review); Charlie has a period but has sent nothing."""
    alpha_period = builders.period_of(cast.coalition_a, QUARTER)
    alpha = builders.checked_version(alpha_period, cast.admin_a, participants=80, seed=11)
    services.submission_save_narrative(
        submission=alpha,
        actor=cast.admin_a,
        progress=NARRATIVE[0],
        challenges=NARRATIVE[1],
        ta_needs=NARRATIVE[2],
    )
    services.submission_certify(
        submission=alpha,
        actor=cast.admin_a,
        name="Ada Admin",
        title="Director",
        agreed=True,
        late_reason=builders.LATE_REASON,  # 2025Q3 is long past due
    )
    alpha.refresh_from_db()
    with TestCase.captureOnCommitCallbacks(execute=False):
        services.submission_accept(submission=alpha, actor=cast.officer)
    bravo = builders.submitted_version(
        builders.period_of(cast.coalition_b, QUARTER), cast.outsider_b, participants=50, seed=12
    )
    charlie = factories.GrantFactory(
        coalition__name="Charlie Transit Coalition (test)",
        coalition__slug="charlie",
        coalition__states_served=["WA"],
        coalition__sectors=["transportation"],
        coalition__track="scaling",
    ).coalition
    builders.period_of(charlie, QUARTER)
    factories.TargetFactory(grant=cast.coalition_a.grants.get(), measure="C-1", value=300)
    for version in (alpha, bravo):
        services.rollup_period(period_id=version.period_id, program=False)
    services.rollup_program(quarter=QUARTER)
    return {
        "alpha": Rollup.objects.select_related("submission", "coalition").get(period=alpha_period),
        "bravo": Rollup.objects.select_related("submission", "coalition").get(
            period_id=bravo.period_id
        ),
        "charlie": charlie,
    }


# -- The coalition's quarterly performance report --------------------------------------


@pytest.fixture
def alpha_pdf(reports):
    rollup = reports["alpha"]
    return read(
        pdf.coalition_report_pdf(period_id=rollup.period_id, provenance=provenance_of([rollup]))
    )


def test_the_report_prints_every_figure_of_every_section_and_window_as_the_roll_up_has_it(
    reports, alpha_pdf
):
    rollup = reports["alpha"]
    assert rollup.accepted
    assert rollup.submission.state == SubmissionState.ACCEPTED
    grant = rollup.period.grant
    text = text_of(alpha_pdf)
    rows = figure_rows(rollup.figures, rollup.period.as_quarter, grant.start_date)
    assert len(rows) == len(FIGURES) == 42
    # Row by row, in report order: nothing missing, nothing out of place.
    for row in rows:
        assert_in_order(text, row)
    assert_in_order(text, [" ".join(row) for row in rows])


# Section B's categories in the contract's order (DATA-CONTRACT.md §4), as the form's
# lines B-1 to B-25 print them.
B_LINES = [
    "Male", "Female", "Sex: did not self-identify", "Hispanic/Latino",
    "American Indian or Alaska Native", "Asian", "Black or African American",
    "Native Hawaiian or Other Pacific Islander", "White", "More than one race",
    "Age at entry 17–29 (youth and young adults)", "Age at entry 30–44",
    "Age at entry 45–54", "Age at entry 55 and over", "Eligible veteran status",
    "Individual with a disability", "Low-income individual", "Incumbent worker",
    "Employment status at entry: employed", "Employment status at entry: unemployed",
    "Employment status at entry: not in the labor force",
    "Highest education: no secondary credential",
    "Highest education: secondary diploma or equivalent",
    "Highest education: postsecondary below a bachelor's degree",
    "Highest education: bachelor's degree or beyond",
]  # fmt: skip


def _assert_form_lines(text: str) -> None:
    assert not re.search(r"\b[A-E]-[a-z]", text), "an internal figure slug is printed"
    assert_in_order(
        text,
        [
            "A-1 Total exiters",
            "A-2 Total participants served",
            "A-3 Total new participants",
            *(f"B-{n} {caption}" for n, caption in enumerate(B_LINES, 1)),
            "C-1 Total participants who began training",
            "C-2 Total participants who began registered apprenticeship training",
            "C-3 Total participants who completed training",
            "C-4 Total participants who earned a credential",
            "D-1 Total participants who entered employment",
            "D-2 Total participants who entered training-related employment",
            "D-3 Median hourly wage at placement",
            "E-1 Employment rate — 2nd quarter after exit",
        ],
    )


def _assert_form_title_and_funding(text: str) -> None:
    assert_in_order(
        text,
        [
            "U.S. DEPARTMENT OF LABOR · EMPLOYMENT AND TRAINING ADMINISTRATION",  # small caps
            "OMB Control No. 1205-0521",
            "Form ETA-9173-H1B",
            "Reporting period: 2025Q3 (Jul 1 – Sep 30, 2025)",
            "Funding acknowledgement",
            "This workforce product was funded by a grant awarded by the U.S. Department of "
            "Labor's Employment and Training Administration.",
        ],
    )


def test_the_report_labels_every_figure_with_its_form_line_under_the_forms_title_block(
    alpha_pdf,
):
    text = text_of(alpha_pdf)
    _assert_form_lines(text)
    _assert_form_title_and_funding(text)
    assert_in_order(text, ["Quarterly Performance Report", "Reporting period"])


def test_the_summary_labels_every_figure_with_its_form_line_under_the_forms_title_block(
    summary_pdf,
):
    text = text_of(summary_pdf)
    _assert_form_lines(text)
    _assert_form_title_and_funding(text)
    # The coalition table's and the breakdowns' columns name their lines too.
    assert_in_order(
        text,
        [
            "Every coalition's key figures",
            "A-2 Total participants served",
            "E-1 Employment rate — 2nd quarter after exit",
            "By sector",
            "A-2 Total participants served",
            "D-1 Total participants who entered employment",
        ],
    )


def test_the_report_shows_rates_with_their_parts_and_n_a_for_an_empty_cohort(reports, alpha_pdf):
    text = squeeze(text_of(alpha_pdf))
    windows = reports["alpha"].figures["windows"]
    empty = [
        windows[w][k]
        for w in figures.WINDOW_NAMES
        for k in RATES
        if not windows[w][k]["denominator"]
    ]
    full = [
        windows[w][k] for w in figures.WINDOW_NAMES for k in RATES if windows[w][k]["denominator"]
    ]
    assert full, "the synthetic report should have some non-empty cohorts"
    for value in full:
        assert squeeze(f"({value['numerator']:,}/{value['denominator']:,})") in text
    if empty:
        assert "n/a" in text
    assert "0.0%(0/0)" not in text


def test_the_report_header_names_the_grant_the_version_and_who_certified_and_accepted_it(
    reports, alpha_pdf, cast
):
    rollup = reports["alpha"]
    submission, period = rollup.submission, rollup.period
    first_page = alpha_pdf.pages[0].extract_text()
    assert_in_order(
        first_page,
        [
            "Quarterly Performance Report",
            "Grant number",
            period.grant.award_number,
            "Report quarter",
            "2025Q3 (Jul 1 – Sep 30, 2025)",
            "Grantee (coalition)",
            cast.coalition_a.name,
            "Report due date",
            "Nov 14, 2025",
            "Lead organization",
            cast.coalition_a.lead_organization,
            "Submission",
            f"Version {submission.version}, Accepted",
            "Certified by",
            "Ada Admin, Director",
            "Certified at",
            f"{timezone.localtime(submission.certified_at):%b} ",
            "Accepted by",
            cast.officer.display_name,
        ],
    )


def test_a_late_reports_reason_and_its_confirmation_number_are_printed(reports, alpha_pdf):
    submission = reports["alpha"].submission
    assert submission.late_reason == builders.LATE_REASON
    assert_in_order(
        alpha_pdf.pages[0].extract_text(),
        ["Certified at", "Reason for late submission", builders.LATE_REASON, "Accepted by"],
    )
    assert_in_order(
        text_of(alpha_pdf),
        [
            "Certification",
            "Ada Admin, Director",
            f"Confirmation number {submission.receipt_number}",
        ],
    )
    # An on-time report has no such row.
    bravo = reports["bravo"]
    Submission.objects.filter(pk=bravo.submission_id).update(late_reason="")
    on_time = read(
        pdf.coalition_report_pdf(period_id=bravo.period_id, provenance=provenance_of([bravo]))
    )
    assert "Reason for late submission" not in text_of(on_time)


def test_the_report_carries_the_narrative_targets_data_quality_and_charts(reports, alpha_pdf):
    text = text_of(alpha_pdf)
    rollup = reports["alpha"]
    assert_in_order(
        text,
        [
            "Targets and pace",
            "Participants served",
            "640",
            f"{rollup.figures['windows']['grant_to_date']['A-2']:,}",
            "Began training",
            "300",
            f"{rollup.figures['windows']['grant_to_date']['C-1']:,}",
        ],
    )
    assert_in_order(text, ["Narrative", *NARRATIVE])
    assert_in_order(
        text,
        [
            "Data quality",
            "Participant rows counted",
            f"{rollup.participant_rows:,}",
            "Rows in the version's files",
        ],
    )
    # The dashboards' SVG charts, drawn as vector graphics with their labels as text.
    assert "E-1 Employed, Q2" in text
    assert "where pace says it should be by now" in text


def test_every_page_carries_the_provenance_stamp_and_its_number(reports, alpha_pdf):
    rollup = reports["alpha"]
    pages = alpha_pdf.pages
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert_in_order(
            page.extract_text(),
            [
                "Generated",
                "Nov 20, 2025 9:05 AM EST",
                "Pat Officer <officer@jff.example>",
                "Export",
                "6f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e",
                "Submission versions used:",
                f"{rollup.coalition.name} 2025Q3 version {rollup.submission.version} (Accepted)",
            ],
        )
        assert f"Page {number} of {len(pages)}" in page.extract_text()


def test_the_report_carries_no_participant_level_data(reports, alpha_pdf):
    text = text_of(alpha_pdf)
    assert not re.search(r"\bP\d{7}\b", text)  # the synthetic participant ids
    assert "Aggregate figures only" in text


def test_the_report_is_a_tagged_pdf_with_language_title_and_author(alpha_pdf, cast):
    catalog = alpha_pdf.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"].value is True
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en-US"
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    assert (
        alpha_pdf.metadata.title == f"Quarterly performance report, {cast.coalition_a.name}, 2025Q3"
    )
    assert alpha_pdf.metadata.author == cast.coalition_a.name
    # Fonts are embedded: the file reads the same on a machine without them.
    fonts = {
        font.get_object()["/BaseFont"]
        for page in alpha_pdf.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts
    assert all("Liberation" in name or "DejaVu" in name for name in fonts)


# A fresh interpreter prints the page: fontconfig reads its configuration once per
# process, so each font set needs a process of its own. (reporting.services first: it
# settles the selectors' import cycle, as Django's app loading does in the app.)
RENDER = (
    "import sys, django; django.setup(); import reporting.services; "
    "from reporting.pdf import render_pdf; "
    "sys.stdout.buffer.write(render_pdf(open(sys.argv[1], encoding='utf-8').read()))"
)


def _render_elsewhere(html_path, fontconfig_file=None) -> PdfReader:
    env = dict(os.environ)
    env.pop("FONTCONFIG_FILE", None)
    if fontconfig_file is not None:
        env["FONTCONFIG_FILE"] = str(fontconfig_file)
    done = subprocess.run(
        [sys.executable, "-c", RENDER, str(html_path)],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        timeout=300,
        check=True,
    )
    return read(done.stdout)


def _embedded_fonts(reader: PdfReader) -> set[str]:
    # "/ABCDEF+BPIJ-Liberation-Sans-Bold": the subset tag differs from run to run.
    return {
        str(font.get_object()["/BaseFont"]).split("+", 1)[-1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }


def test_the_same_report_prints_the_same_on_a_machine_with_other_fonts(reports, tmp_path):
    """A host with another font set (here only DejaVu Sans) prints the same text in the
    same embedded fonts as this one: the PDF uses only the font shipped with the app."""
    rollups = [reports["alpha"], reports["bravo"]]
    pages = {
        "report": pdf.coalition_report_html(
            period_id=reports["alpha"].period_id, provenance=provenance_of(rollups[:1])
        ),
        "summary": pdf.program_summary_html(quarter=QUARTER, provenance=provenance_of(rollups)),
    }
    other_fonts = tmp_path / "fonts"
    other_fonts.mkdir()
    shutil.copy("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", other_fonts)
    shutil.copy("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", other_fonts)
    other_host = tmp_path / "fonts.conf"
    other_host.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{other_fonts}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    for name, html in pages.items():
        page = tmp_path / f"{name}.html"
        page.write_text(html, encoding="utf-8")
        here, there = _render_elsewhere(page), _render_elsewhere(page, other_host)
        assert text_of(here).encode() == text_of(there).encode(), name
        assert _embedded_fonts(here) == _embedded_fonts(there), name
        assert _embedded_fonts(here), name
        assert all(font.startswith("BPIJ-Liberation-Sans") for font in _embedded_fonts(here)), (
            name,
            _embedded_fonts(here),
        )
        assert len(here.pages) == len(there.pages), name


def test_a_period_without_a_version_that_counts_cannot_be_reported(reports):
    charlie = builders.period_of(reports["charlie"], QUARTER)
    with pytest.raises(pdf.ReportUnavailable, match="no version that counts yet"):
        pdf.coalition_report_pdf(period_id=charlie.pk, provenance={})


# -- The program-wide summary ---------------------------------------------------------


@pytest.fixture
def summary_pdf(reports):
    rollups = [reports["alpha"], reports["bravo"]]
    return read(pdf.program_summary_pdf(quarter=QUARTER, provenance=provenance_of(rollups)))


def key_figures(result: dict) -> list[str]:
    to_date = result["windows"]["grant_to_date"]
    return [shown(key, to_date[key]) for key in ("A-2", "C-1", "C-3", "C-4", "D-1", "D-2", "E-1")]


def test_the_summary_has_a_row_of_key_figures_for_every_coalition_and_the_program_total(
    reports, summary_pdf
):
    text = text_of(summary_pdf)
    alpha, bravo = reports["alpha"], reports["bravo"]
    program = ProgramRollup.objects.get(quarter=QUARTER, segment="program")
    assert (program.coalitions_reported, program.coalitions_total) == (2, 3)
    # Alphabetical: Alpha, Bravo, Charlie, then the program total.
    assert_in_order(
        text,
        [
            alpha.coalition.name,
            "OR",
            *key_figures(alpha.figures),
            "Accepted, v1",
            bravo.coalition.name,
            "TX",
            *key_figures(bravo.figures),
            "Submitted, v1",
            reports["charlie"].name,
            "No figures",
            "Program total",
            "2 of 3 reporting",
            *key_figures(program.figures),
        ],
    )
    # The total is the roll-up's, derived from the records: counts add up, and the rate
    # is recomputed from summed parts rather than averaged.
    gtd = [r.figures["windows"]["grant_to_date"] for r in (alpha, bravo, program)]
    assert gtd[2]["A-2"] == gtd[0]["A-2"] + gtd[1]["A-2"]
    assert gtd[2]["E-1"] == catalogue.rate(
        gtd[0]["E-1"]["numerator"] + gtd[1]["E-1"]["numerator"],
        gtd[0]["E-1"]["denominator"] + gtd[1]["E-1"]["denominator"],
    )


def test_the_summary_prints_every_program_figure_of_every_window_as_program_rollup_has_it(
    reports, summary_pdf
):
    program = ProgramRollup.objects.get(quarter=QUARTER, segment="program")
    grant_start = reports["alpha"].period.grant.start_date
    text = text_of(summary_pdf)
    for row in figure_rows(program.figures, Quarter.parse(QUARTER), grant_start):
        assert_in_order(text, row)


def test_the_summary_breaks_the_program_down_by_sector_state_and_track(reports, summary_pdf):
    text = text_of(summary_pdf)
    segments = {r.segment: r for r in ProgramRollup.objects.filter(quarter=QUARTER)}
    for title, segment, label in (
        ("By sector", "sector:broadband", "Broadband"),
        ("By state", "state:TX", "Texas"),
        ("By track", "track:development", "Development"),
    ):
        row = segments[segment]
        gtd = row.figures["windows"]["grant_to_date"]
        assert_in_order(
            text,
            [
                title,
                label,
                f"{row.coalitions_reported} of {row.coalitions_total}",
                f"{gtd['A-2']:,}",
                f"{gtd['C-3']:,}",
                f"{gtd['D-1']:,}",
                shown("E-1", gtd["E-1"]),
            ],
        )


def test_the_summary_shows_each_coalitions_timeliness_and_the_on_time_rate(reports, summary_pdf):
    text = text_of(summary_pdf)
    # Both reports were sent in the test run, long after the Nov 14, 2025 due date.
    assert_in_order(
        text,
        [
            "Submission timeliness",
            "On time: 0 · Late: 2 · Not yet sent: 1 · On-time rate: 0.0% (0/3)",
            reports["alpha"].coalition.name,
            "Nov 14, 2025",
            "Late",
            reports["bravo"].coalition.name,
            "Late",
            reports["charlie"].name,
            "Not yet sent",
        ],
    )


def test_the_summary_lists_the_versions_used_and_stamps_every_page(reports, summary_pdf):
    text = text_of(summary_pdf)
    assert_in_order(
        text,
        [
            "Provenance",
            reports["alpha"].coalition.name,
            "2025Q3",
            "1",
            "Accepted",
            reports["bravo"].coalition.name,
            "2025Q3",
            "1",
            "Submitted",
        ],
    )
    pages = summary_pdf.pages
    for number, page in enumerate(pages, start=1):
        page_text = page.extract_text()
        assert "Pat Officer <officer@jff.example>" in page_text
        assert "6f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e" in page_text
        assert_in_order(
            page_text,
            [
                "Submission versions used:",
                f"{reports['alpha'].coalition.name} 2025Q3 version 1 (Accepted);",
                f"{reports['bravo'].coalition.name} 2025Q3 version 1 (Submitted)",
            ],
        )
        assert f"Page {number} of {len(pages)}" in page_text
    catalog = summary_pdf.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"].value is True
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en-US"
    assert summary_pdf.metadata.title == "BPIJ program-wide summary, 2025Q3"


# -- Data quality: the version's files, not every upload (issue 12, item 7) ---------------


@pytest.fixture
def fixed_then_sent(cast):
    """Alpha's 2025Q3 version: first uploaded with many errors, the files then replaced
    by clean ones, certified and rolled up. The quarter's every-upload counters hold the
    draft files' errors; the version's files have none."""
    period = builders.period_of(cast.coalition_a, QUARTER)
    draft = builders.checked_version(period, cast.admin_a, participants=60, seed=7, error_rate=0.3)
    assert draft.state == SubmissionState.NEEDS_FIXES
    people, placements = synthetic.generate_files(60, seed=8, period=QUARTER)
    for kind, data in (("participants", people), ("placements", placements)):
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.upload_receive(
                submission=draft, kind=kind, stream=io.BytesIO(data), name=f"{kind}.csv",
                actor=cast.admin_a,
            )  # fmt: skip
    draft.refresh_from_db()
    assert draft.state == SubmissionState.READY, draft.state
    services.submission_certify(
        submission=draft, actor=cast.admin_a, name="Ada Admin", title="Director",
        agreed=True, late_reason=builders.LATE_REASON,
    )  # fmt: skip
    services.rollup_period(period_id=period.pk, program=False)
    services.rollup_program(quarter=QUARTER)
    rollup = Rollup.objects.select_related("submission", "coalition").get(period=period)
    assert rollup.errors_found > 0  # the draft files' errors, in the every-upload counter
    current = Upload.objects.filter(submission=rollup.submission, is_current=True)
    rows = sum(u.data_rows for u in current)
    warnings = sum(u.warning_count for u in current)
    assert sum(u.error_count for u in current) == 0
    return rollup, rows, warnings


def _quality_box(text: str) -> str:
    flat = squeeze(text)
    start = flat.index(squeeze("Data quality"), flat.index(squeeze("Narrative")))
    return flat[start : start + 400]


def test_the_reports_data_quality_box_counts_only_the_versions_files(fixed_then_sent):
    rollup, rows, warnings = fixed_then_sent
    text = text_of(
        read(
            pdf.coalition_report_pdf(period_id=rollup.period_id, provenance=provenance_of([rollup]))
        )
    )
    box = _quality_box(text)
    rate = f"{1000 * warnings / rows:,.1f}"
    assert squeeze(f"Rows in the version's files {rows:,}") in box
    assert squeeze(f"Findings per 1,000 rows {rate} (0 errors, {warnings:,} warnings)") in box
    assert squeeze(f"({rollup.errors_found:,} errors") not in box


def test_the_summarys_data_quality_box_counts_only_the_reports_files(fixed_then_sent):
    rollup, rows, warnings = fixed_then_sent
    text = text_of(
        read(pdf.program_summary_pdf(quarter=QUARTER, provenance=provenance_of([rollup])))
    )
    flat = squeeze(text)
    box = flat[flat.index(squeeze(f"Data quality, {QUARTER}")) :][:400]
    assert squeeze(f"Rows in the reports' files {rows:,}") in box
    assert squeeze(f"Findings 0 errors, {warnings:,} warnings") in box
    assert squeeze(f"Findings per 1,000 rows {1000 * warnings / rows:,.1f}") in box


# -- Accepted and submitted reports in the program summary ------------------------------


def test_the_summary_says_which_reports_are_accepted_and_which_only_submitted(reports, summary_pdf):
    text = text_of(summary_pdf)
    alpha, bravo = reports["alpha"].coalition.name, reports["bravo"].coalition.name
    assert_in_order(
        text,
        [
            "Submitted, not yet accepted",
            "1 of 3",
            "Figures count",
            "Accepted and submitted reports",
            "The figures count every report that counts: 1 accepted and 1 submitted but not "
            "yet accepted",
            f"Accepted by JFF (counted) 1 {alpha}",
            f"Submitted, not yet accepted (counted) 1 {bravo}",
        ],
    )


def test_the_summary_for_dol_counts_accepted_reports_only(reports):
    """Alpha's report is accepted, Bravo's only submitted: the summary made for DOL has
    Alpha's figures as the program's, and Bravo listed without figures."""
    alpha, bravo = reports["alpha"], reports["bravo"]
    made = read(
        pdf.program_summary_pdf(
            quarter=QUARTER, provenance=provenance_of([alpha]), accepted_only=True
        )
    )
    text = text_of(made)
    assert_in_order(
        text,
        [
            "Reports in the figures",
            "1 of 3 (accepted)",
            "Accepted reports only",
            "Made for the U.S. Department of Labor: the figures count accepted reports only "
            "(1); 1 submitted but not yet accepted is listed without figures.",
            f"Accepted by JFF (counted) 1 {alpha.coalition.name}",
            f"Submitted, not yet accepted (not counted) 1 {bravo.coalition.name}",
        ],
    )
    # The program total is Alpha's alone; Bravo's row has no figures.
    assert_in_order(
        text,
        [
            alpha.coalition.name,
            *key_figures(alpha.figures),
            bravo.coalition.name,
            "Not counted: submitted, not yet accepted by JFF",
            "Program total",
            "1 of 3 accepted",
            *key_figures(alpha.figures),
        ],
    )
    # Section A to E of the program are Alpha's figures, window by window.
    grant_start = alpha.period.grant.start_date
    for row in figure_rows(alpha.figures, Quarter.parse(QUARTER), grant_start):
        assert_in_order(text, row)
    assert "accepted reports only" in made.pages[0].extract_text()  # the running head


# -- The executive summary and the by-state table --------------------------------------


def test_the_summary_opens_with_an_executive_summary_drawn_from_the_figures(reports, summary_pdf):
    first_page = summary_pdf.pages[0].extract_text()
    program = ProgramRollup.objects.get(quarter=QUARTER, segment="program")
    gtd, cq = (
        program.figures["windows"]["grant_to_date"],
        program.figures["windows"]["current_quarter"],
    )
    alpha = reports["alpha"]
    alpha_a2 = alpha.figures["windows"]["grant_to_date"]["A-2"]
    assert_in_order(
        first_page,
        [
            "Executive summary",
            "Highlights",
            "2 of 3 coalitions' 2025Q3 reports are in the figures (1 accepted, 1 submitted and "
            "not yet accepted)",
            f"{gtd['A-2']:,} participants served grant to date, {cq['A-3']:,} of them new this "
            "quarter (A-2, A-3).",
            f"{gtd['C-1']:,} began training, {gtd['C-3']:,} completed it and {gtd['C-4']:,} "
            "earned a credential, grant to date (C-1, C-3, C-4).",
            f"Employment rate in the 2nd quarter after exit, grant to date: "
            f"{shown('E-1', gtd['E-1'])} (E-1).",
            "Coalitions behind pace on a target",
            # Alpha is behind on both its targets, furthest on A-2 (80 of 270 expected by
            # now, 30%, against C-1's 50 of 126).
            f"{alpha.coalition.name} 2 of 2 A-2 Total participants served 640 {alpha_a2}",
            "Risks",
            "1 coalition has no 2025Q3 report that counts yet, so not in the figures: "
            f"{reports['charlie'].name} (overdue).",
            f"1 report is submitted but not yet accepted ({reports['bravo'].coalition.name}): "
            "their figures may still change in JFF's review.",
        ],
    )


# Thirty more states, each served by a coalition with a 2025Q3 period and no report yet.
MORE_STATES = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV",
    "NH", "NJ",
]  # fmt: skip


def test_the_by_state_table_is_kept_together_with_its_header(reports):
    for n, state in enumerate(MORE_STATES):
        coalition = factories.GrantFactory(
            coalition__name=f"State coalition {n} (test)",
            coalition__slug=f"state-{n}",
            coalition__states_served=[state],
        ).coalition
        builders.period_of(coalition, QUARTER)
    services.rollup_program(quarter=QUARTER)
    rollups = [reports["alpha"], reports["bravo"]]
    made = read(pdf.program_summary_pdf(quarter=QUARTER, provenance=provenance_of(rollups)))
    pages = [squeeze(page.extract_text()) for page in made.pages]
    rows = [
        squeeze(f"{name} {'1 of 1' if code in ('OR', 'TX') else '0 of 1'}")
        for code, name in US_STATES.items()
        if code in {*MORE_STATES, "OR", "TX", "WA"}
    ]
    assert len(rows) == 33
    holding = [i for i, page in enumerate(pages) if any(row in page for row in rows)]
    # The table's 33 rows are on one page, under the table's header row.
    assert len(holding) == 1, holding
    (page,) = [pages[i] for i in holding]
    assert all(row in page for row in rows)
    assert squeeze("State Coalitions reporting A-2 Total participants served") in page
