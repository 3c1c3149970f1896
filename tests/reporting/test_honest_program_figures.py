"""Issue 12, item 5: the program figures say when a quarter is partial, who has not
reported, and the on-time rate is one number wherever it is shown."""

import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from pypdf import PdfReader

from reporting import datapacks, pdf, services
from reporting.models import ProgramRollup, ReportingPeriod, Submission, SubmissionState
from reporting.selectors import dashboards
from tests.reporting.test_dashboards import report
from tests.reporting.test_datapacks import provenance_of, read_csv, read_xlsx


@pytest.fixture
def partial_quarter(cast):
    """Alpha (Oregon) and Bravo (Texas) report 2025Q2 and 2025Q3; only Alpha 2025Q4."""
    for number, quarter in enumerate(("2025Q2", "2025Q3")):
        report(cast.coalition_a, cast.admin_a, quarter, seed=10 + number)
        report(cast.coalition_b, cast.outsider_b, quarter, seed=20 + number)
        services.rollup_program(quarter=quarter)
    report(cast.coalition_a, cast.admin_a, "2025Q4", seed=12)
    services.rollup_program(quarter="2025Q4")


def program_page(client, **query):
    response = client.get(reverse("reporting:program-dashboard"), query)
    assert response.status_code == 200
    return response, re.sub(r"\s+", " ", response.content.decode())


def test_a_partial_quarter_says_how_many_reported_and_names_who_has_not(
    cast, client_for, partial_quarter
):
    response, page = program_page(client_for(cast.officer))
    dashboard = response.context["dashboard"]
    assert str(dashboard.quarter) == "2025Q4"
    assert dashboard.partial
    assert "2025Q4 is partial: 1 of 2 coalitions reported" in page
    assert [row.name for row in dashboard.not_reported] == [cast.coalition_b.name]
    listed = page.split('id="partial-heading"')[1].split("</section>")[0]
    assert cast.coalition_b.name in listed
    assert cast.coalition_a.name not in listed
    # The officer may open Bravo's dashboard, so its name is a link to it.
    assert reverse("coaching:coalition-dashboard", args=[cast.coalition_b.code]) in listed


def test_a_complete_quarter_is_not_called_partial(cast, client_for, partial_quarter):
    response, page = program_page(client_for(cast.officer), quarter="2025Q3")
    assert not response.context["dashboard"].partial
    assert response.context["dashboard"].not_reported == []
    assert "is partial" not in page


def test_a_coach_sees_who_has_not_reported_without_links_to_coalitions_not_theirs(
    cast, client_for, partial_quarter
):
    response, page = program_page(client_for(cast.coach_a))
    assert [row.name for row in response.context["dashboard"].not_reported] == [
        cast.coalition_b.name
    ]
    listed = page.split('id="partial-heading"')[1].split("</section>")[0]
    assert cast.coalition_b.name in listed
    assert "href" not in listed


def test_a_state_nobody_has_reported_says_so_instead_of_zero(cast, client_for, partial_quarter):
    response, page = program_page(client_for(cast.officer))
    states = next(b for b in response.context["dashboard"].breakdowns if b.kind == "state")
    texas = next(r for r in states.rows if r.label == "Texas")
    assert (texas.reported, texas.total) == (0, 1)
    table = page.split('aria-label="State table"')[1].split("</table>")[0]
    texas_row = table.split('<th scope="row">Texas</th>')[1].split("</tr>")[0]
    assert "not reported" in texas_row
    assert ">0<" not in texas_row
    # The chart writes "not reported" where the bars would be, and its text says why.
    assert "not reported" in str(states.chart)
    assert "No coalition has reported yet for: Texas." in str(states.chart)


def test_the_trend_marks_the_partial_quarter_in_the_chart_its_text_and_the_table(
    cast, client_for, partial_quarter
):
    response, page = program_page(client_for(cast.officer))
    trend = response.context["dashboard"].trend
    assert trend.quarters == ["2025Q2", "2025Q3", "2025Q4"]
    assert trend.partial == [None, None, "1 of 2 coalitions"]
    chart = str(trend.chart)
    description = chart.split('<desc id="program-trend-desc">')[1].split("</desc>")[0]
    assert "Partial quarters" in description
    assert "2025Q4 (1 of 2 coalitions)" in description
    assert 'stroke-dasharray="5 4"' in chart
    assert ">partial</text>" in chart
    assert "partial: 1 of 2 coalitions" in page


# -- On time, one definition ----------------------------------------------------------


@pytest.fixture
def timeliness_quarter(cast):
    """2025Q3: Alpha certified on time and was then returned (no figures count), Bravo
    certified late and counts. By the one definition, 1 of the 2 reports due was on time."""
    alpha = report(cast.coalition_a, cast.admin_a, "2025Q3", seed=10)
    bravo = report(cast.coalition_b, cast.outsider_b, "2025Q3", seed=20)
    due = ReportingPeriod.objects.get(pk=alpha.period_id).due_date
    on_time = datetime.combine(due - timedelta(days=2), time(15), tzinfo=UTC)
    Submission.objects.filter(pk=alpha.pk).update(
        submitted_at=on_time, certified_at=on_time, state=SubmissionState.RETURNED
    )
    services.rollup_period(period_id=alpha.period_id, program=False)
    services.rollup_period(period_id=bravo.period_id, program=False)
    services.rollup_program(quarter="2025Q3")
    return alpha, bravo


@pytest.mark.pdf
def test_the_dashboard_board_pdf_and_data_pack_give_the_same_on_time_rate(
    cast, client_for, timeliness_quarter
):
    program = ProgramRollup.objects.get(quarter="2025Q3", segment="program")
    assert (program.coalitions_reported, program.coalitions_total) == (1, 2)
    client = client_for(cast.officer)

    dashboard_response, dashboard_page = program_page(client, quarter="2025Q3")
    dashboard_rate = dashboard_response.context["dashboard"].quality[-1].on_time_rate

    board_response = client.get(reverse("reporting:board"), {"quarter": "2025Q3"})
    board_rate = board_response.context["board"].on_time.rate
    board_page = re.sub(r"\s+", " ", board_response.content.decode())

    reader = PdfReader(
        io.BytesIO(pdf.program_summary_pdf(quarter="2025Q3", provenance=provenance_of()))
    )
    pdf_text = re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))
    pdf_rate = float(re.search(r"On-time rate: ([\d.]+)%", pdf_text).group(1))

    pack_rates = []
    for render, read in (
        (datapacks.data_pack_xlsx, read_xlsx),
        (datapacks.data_pack_csv, read_csv),
    ):
        tables = read(render(quarter="2025Q3", coalition_id=None, provenance=provenance_of()))
        row = next(
            r
            for r in tables["Program data quality"]
            if r["Quarter"] == "2025Q3" and r["Segment"] == "program"
        )
        pack_rates.append(float(row["On-time rate (%)"]))

    assert dashboard_rate == board_rate == pdf_rate == pack_rates[0] == pack_rates[1] == 50.0
    assert "50.0%" in dashboard_page
    assert "50.0%" in board_page
    assert "On-time rate: 50.0% (1/2)" in pdf_text


def test_a_report_certified_on_time_then_returned_was_still_on_time(cast, timeliness_quarter):
    program = ProgramRollup.objects.get(quarter="2025Q3", segment="program")
    assert program.submitted_on_time == 1
    # Alpha's state (Oregon) has no report counting, yet its report was on time.
    oregon = ProgramRollup.objects.get(quarter="2025Q3", segment="state:OR")
    assert (oregon.coalitions_reported, oregon.submitted_on_time) == (0, 1)


def test_quality_rows_use_the_one_definition():
    row = dashboards.QualityRow(
        quarter="2025Q3",
        rows_checked=0,
        findings=0,
        reported=1,
        total=3,
        on_time=2,
        due=date(2025, 11, 14),
        today=date(2026, 1, 1),
    )
    # Rounded half up to one decimal, as every rate of the reports.
    assert row.on_time_rate == 66.7


def test_a_trend_of_complete_quarters_says_nothing_about_partial_ones(
    cast, client_for, partial_quarter
):
    _, page = program_page(client_for(cast.officer), quarter="2025Q3")
    assert "A quarter marked <strong>partial</strong>" not in page
    _, page = program_page(client_for(cast.officer), quarter="2025Q4")
    assert "A quarter marked <strong>partial</strong>" in page


@pytest.mark.pdf
def test_the_pdf_summary_says_not_reported_for_a_state_nobody_has_reported(cast, partial_quarter):
    reader = PdfReader(
        io.BytesIO(pdf.program_summary_pdf(quarter="2025Q4", provenance=provenance_of()))
    )
    text = "\n".join(page.extract_text() for page in reader.pages)
    texas = [line for line in text.splitlines() if line.startswith("Texas 0 of 1")]
    assert texas, text
    assert texas[-1].startswith("Texas 0 of 1 not reported not reported not reported")


def test_the_migration_recounts_stored_program_roll_ups_after_migrate(cast, timeliness_quarter):
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from reporting import apps as reporting_apps

    # As the old code stored it: only the reports that count (Bravo, late) were counted.
    ProgramRollup.objects.filter(quarter="2025Q3").update(submitted_on_time=0)
    migration = import_module("reporting.migrations.0012_honest_on_time_recount")
    migration.recount(apps, SimpleNamespace(connection=connection))
    reporting_apps._recompute_due_rollups(sender=None, using=connection.alias)
    assert ProgramRollup.objects.get(quarter="2025Q3", segment="program").submitted_on_time == 1
