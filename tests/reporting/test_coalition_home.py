"""The coalition page a grantee lands on (issue 11): a to-do list of the reports that need
something done, late ones first with their days late and one next step each, then the
next report due; and the targets beside the real grant-to-date actuals of the latest
report that counts, saying which report they come from."""

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from bpij.models import StaffRole
from reporting import services
from reporting.models import ReturnReason, Rollup, SubmissionState
from tests import factories
from tests.builders import checked_version, period_of, submitted_version

# Coalition A's grant starts with 2026Q2 here: 2026Q2 is reported and accepted on
# Aug 30, 2026Q3 (due Nov 13, 2026) is not started, and the page is read on Dec 6.
TODAY = datetime(2026, 12, 6, 15, tzinfo=UTC)
Q3_DAYS_LATE = (date(2026, 12, 6) - date(2026, 11, 13)).days


@pytest.fixture
def grant_a(cast):
    grant = cast.coalition_a.grants.get()
    grant.start_date = date(2026, 4, 1)
    grant.save(update_fields=["start_date"])
    return grant


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def q2_sent(cast, grant_a):
    with at(datetime(2026, 8, 14, 15, tzinfo=UTC)):
        return submitted_version(period_of(cast.coalition_a, "2026Q2"), cast.admin_a)


@pytest.fixture
def q2_accepted(cast, q2_sent):
    with at(datetime(2026, 8, 30, 15, tzinfo=UTC)):
        services.submission_accept(submission=q2_sent, actor=cast.officer)
        services.rollup_period(period_id=q2_sent.period_id, program=False)
    return q2_sent


def home(client_for, user, coalition):
    # Signed in at the moment the page is read: a session from another time has lapsed.
    with at(TODAY):
        response = client_for(user).get(reverse("grantees:coalition-detail", args=[coalition.code]))
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def todo_section(html: str) -> str:
    return html[html.index('id="todo"') : html.index('aria-label="Key facts"')]


def test_an_overdue_report_not_started_comes_first_with_its_days_late_and_start(
    cast, client_for, q2_accepted
):
    html = home(client_for, cast.admin_a, cast.coalition_a)
    todo = todo_section(html)
    words = text_of(todo)
    assert "2026Q3 report Not started" in words
    assert f"Due Nov 13, 2026 · {Q3_DAYS_LATE} days late" in words
    start = reverse("reporting:submission-start", args=[cast.coalition_a.code, "2026Q3"])
    assert f'action="{start}"' in todo
    assert "Start the 2026Q3 report" in words
    # The late one first, then the next one due; the accepted 2026Q2 is done.
    assert "Next report due" in words
    assert words.index("2026Q3 report") < words.index("2026Q4 report")
    assert "Due Feb 12, 2027 · due in 68 days" in words
    assert "2026Q2 report" not in words


def test_a_returned_report_shows_the_reasons_on_the_home_and_on_the_report_page(
    cast, client_for, q2_sent
):
    with at(datetime(2026, 8, 30, 15, tzinfo=UTC)):
        services.submission_return(
            submission=q2_sent,
            actor=cast.coach_a,
            reasons=[ReturnReason.NARRATIVE, ReturnReason.FIGURES],
            note="Explain the drop in exits.",
        )
    words = text_of(home(client_for, cast.admin_a, cast.coalition_a))
    assert "JFF returned the 2026Q2 report (version 1) for revision" in words
    assert str(ReturnReason.NARRATIVE.label) in words
    assert str(ReturnReason.FIGURES.label) in words
    assert "Explain the drop in exits." in words
    assert "Answer the return" in words
    # Sent on time and returned: the report is not late for want of a version.
    assert "2026Q2 report Returned for revision Due Aug 14, 2026 · returned Aug 30, 2026" in words
    with at(TODAY):
        page = client_for(cast.admin_a).get(
            reverse("reporting:period-detail", args=[cast.coalition_a.code, "2026Q2"])
        )
    page_words = text_of(page.content.decode())
    assert "JFF returned version 1 for revision" in page_words
    assert str(ReturnReason.FIGURES.label) in page_words


def test_a_report_with_errors_says_fix_and_links_to_its_findings(cast, client_for, grant_a):
    with at(datetime(2026, 11, 2, 15, tzinfo=UTC)):
        version = checked_version(
            period_of(cast.coalition_a, "2026Q3"), cast.reporter_a, error_rate=0.1, seed=3
        )
    assert version.state == SubmissionState.NEEDS_FIXES
    todo = todo_section(home(client_for, cast.reporter_a, cast.coalition_a))
    assert "Needs fixes" in todo
    assert f'href="{reverse("reporting:findings", args=[version.code])}"' in todo
    assert ">Fix<" in todo
    assert f"{version.error_count:,} errors to fix" in text_of(todo)


@pytest.fixture
def q3_ready(cast, grant_a):
    with at(datetime(2026, 11, 2, 15, tzinfo=UTC)):
        version = checked_version(period_of(cast.coalition_a, "2026Q3"), cast.reporter_a)
    assert version.state == SubmissionState.READY
    return version


def test_a_ready_report_offers_certify_to_an_administrator_only(cast, client_for, q3_ready):
    admin_todo = todo_section(home(client_for, cast.admin_a, cast.coalition_a))
    assert ">Certify<" in admin_todo
    reporter_todo = todo_section(home(client_for, cast.reporter_a, cast.coalition_a))
    assert "Certify<" not in reporter_todo
    assert "a coalition administrator certifies and submits it" in text_of(reporter_todo)
    assert "Ready to certify" in reporter_todo


@pytest.mark.parametrize("who", ["viewer_a", "coach_a", "officer"])
def test_people_who_cannot_act_see_the_list_without_buttons(cast, client_for, q3_ready, who):
    todo = todo_section(home(client_for, cast[who], cast.coalition_a))
    assert "2026Q3 report" in todo
    assert "Ready to certify" in todo
    assert "hub-todo__action" not in todo
    assert "usa-button" not in todo


def test_the_actuals_are_the_latest_counted_reports_and_say_which_report(
    cast, client_for, q2_accepted
):
    served = Rollup.objects.get(period__quarter="2026Q2").figures["windows"]["grant_to_date"]
    served = served["A-2"]
    assert served > 0
    words = text_of(home(client_for, cast.viewer_a, cast.coalition_a))
    assert "Not yet reported" not in words
    assert f"{served} of 640" in words
    assert "from the 2026Q2 report , accepted Aug 30, 2026" in words
    html = home(client_for, cast.viewer_a, cast.coalition_a)
    assert f'<progress class="hub-meter" max="640" value="{served}"' in html


def test_a_coalition_with_no_counted_report_says_so(cast, client_for, grant_a):
    words = text_of(home(client_for, cast.admin_a, cast.coalition_a))
    assert "No report counts yet" in words
    assert "Not yet reported of 640" in words


@pytest.fixture
def fpo(db):
    return factories.StaffFactory(email="fpo@dol.example", staff_role=StaffRole.FUNDER_VIEWER)


def test_the_federal_project_officer_sees_the_actuals_but_no_reports(
    cast, client_for, fpo, q2_accepted
):
    html = home(client_for, fpo, cast.coalition_a)
    served = Rollup.objects.get(period__quarter="2026Q2").figures["windows"]["grant_to_date"]
    assert f"{served['A-2']} of 640" in text_of(html)
    assert "from the 2026Q2 report , accepted" in text_of(html)
    assert 'id="todo"' not in html
    assert 'usa-button" href="/coalitions' not in html
    assert "Start" not in text_of(html)


@pytest.mark.parametrize("who", ["admin_a", "fpo"])
def test_the_page_reads_a_fixed_number_of_queries_however_many_reports(
    cast, client_for, fpo, q2_accepted, django_assert_max_num_queries, who
):
    url = reverse("grantees:coalition-detail", args=[cast.coalition_a.code])

    def count() -> int:
        with at(TODAY):
            client = client_for(fpo if who == "fpo" else cast[who])
            client.get(url)  # warm the session and the second-factor flag
            with django_assert_max_num_queries(12) as captured:
                assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    before = count()
    with at(datetime(2026, 11, 2, 15, tzinfo=UTC)):
        sent = submitted_version(period_of(cast.coalition_a, "2026Q3"), cast.admin_a, seed=2)
        services.submission_return(
            submission=sent, actor=cast.coach_a, reasons=[ReturnReason.OTHER], note="Check."
        )
        services.submission_start(period=sent.period, actor=cast.admin_a)
    assert count() == before


# --- The coalition list (issue 12, item 8): the same to-do list, one row a coalition -----


def coalition_list_row(client_for, user, coalition) -> str:
    with at(TODAY):
        response = client_for(user).get(reverse("grantees:coalition-list"))
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index(coalition.name)
    return text_of(html[start : html.index("</tr>", start)])


def test_the_coalition_list_shows_the_overdue_report_before_the_next_one_due(
    cast, client_for, q2_accepted
):
    words = coalition_list_row(client_for, cast.officer, cast.coalition_a)
    assert f"2026Q3 report Not started {Q3_DAYS_LATE} days late (due Nov 13, 2026)" in words
    assert "Next: 2026Q4 report, due Feb 12, 2027" in words
    assert words.index("2026Q3 report") < words.index("2026Q4 report")
    assert "2026Q2" not in words


def test_the_coalition_list_shows_a_returned_report_as_the_home_does(cast, client_for, q2_sent):
    with at(datetime(2026, 8, 30, 15, tzinfo=UTC)):
        services.submission_return(
            submission=q2_sent, actor=cast.coach_a, reasons=[ReturnReason.OTHER], note="Check."
        )
    words = coalition_list_row(client_for, cast.jff_admin, cast.coalition_a)
    assert "2026Q2 report Returned for revision returned Aug 30, 2026" in words
    assert f"2026Q3 report Not started {Q3_DAYS_LATE} days late" in words


def test_the_coalition_list_reads_a_fixed_number_of_queries_however_many_reports(
    cast, client_for, q2_accepted, django_assert_max_num_queries
):
    url = reverse("grantees:coalition-list")

    def count() -> int:
        with at(TODAY):
            client = client_for(cast.officer)
            client.get(url)
            with django_assert_max_num_queries(10) as captured:
                assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    before = count()
    with at(datetime(2026, 11, 2, 15, tzinfo=UTC)):
        sent = submitted_version(period_of(cast.coalition_a, "2026Q3"), cast.admin_a, seed=2)
        services.submission_return(
            submission=sent, actor=cast.coach_a, reasons=[ReturnReason.OTHER], note="Check."
        )
        services.submission_start(period=sent.period, actor=cast.admin_a)
    for _ in range(5):
        factories.GrantFactory()
    assert count() == before
