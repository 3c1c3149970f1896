"""The staff status board: who may open it, each state (overdue and not started
included), filters, sorting, the XLSX and CSV exports (formula injection neutralised),
"Remind selected", the reminders page, and query budgets that do not grow with the
number of coalitions. Coalition reports for 2025Q3 are due on November 14, 2025."""

import csv
import io
import re
from datetime import date

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from bpij.models import AuditAction, AuditEvent
from grantees.calendar import Quarter
from reporting import services
from reporting.models import Reminder, ReminderKind, ReportingPeriod, Submission
from reporting.selectors import board as board_selectors
from tests import builders, factories

CAST = ["admin_a", "reporter_a", "viewer_a", "coach_a", "officer", "jff_admin", "outsider_b"]
STAFF = {"coach_a", "officer", "jff_admin"}
BEFORE_DUE = "2025-11-10 10:00 -0500"  # 4 days before the 2025Q3 due date
AFTER_DUE = "2025-11-20 10:00 -0500"  # 6 days after it


def expect(staff: int, grantees: int):
    return [pytest.param(who, staff if who in STAFF else grantees, id=who) for who in CAST]


@pytest.fixture
def before_due():
    with time_machine.travel(BEFORE_DUE, tick=False):
        yield


@pytest.fixture
def after_due():
    with time_machine.travel(AFTER_DUE, tick=False):
        yield


def coalition(name: str, **fields):
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50] or "x"
    extra = {f"coalition__{key}": value for key, value in fields.items()}
    grant = factories.GrantFactory(coalition__name=name, coalition__slug=slug, **extra)
    services.periods_ensure(grant=grant)
    return grant.coalition


def version(coalition, state: str, *, quarter="2025Q3", errors=0, warnings=0, number=1):
    period = ReportingPeriod.objects.get(coalition=coalition, quarter=quarter)
    author = factories.MembershipFactory(coalition=coalition, role="grantee_admin").user
    sent = state in ("submitted", "in_review", "returned", "accepted")
    return Submission.objects.create(
        coalition=coalition,
        period=period,
        version=number,
        state=state,
        created_by=author,
        error_count=errors,
        warning_count=warnings,
        checked_at=None if state in ("draft", "checking") else timezone.now(),
        submitted_at=timezone.now() if sent else None,
    )


STATE_OF = {
    "Not Started Coalition": None,
    "Draft Coalition": "draft",
    "Checking Coalition": "checking",
    "Needs Fixes Coalition": "needs_fixes",
    "Ready Coalition": "ready",
    "Submitted Coalition": "submitted",
    "In Review Coalition": "in_review",
    "Returned Coalition": "returned",
    "Accepted Coalition": "accepted",
}


@pytest.fixture
def every_state(cast):
    """One coalition per state of its 2025Q3 report (versions written directly: the
    board reads states, and the services that make them are tested on their own)."""
    services.periods_ensure_all()
    made = {}
    for name, state in STATE_OF.items():
        c = coalition(name)
        if state:
            version(c, state, errors=3 if state == "needs_fixes" else 0, warnings=2)
        made[name] = c
    return made


def rows_of(response) -> dict[str, str]:
    return {row.coalition.name: row.state for row in response.context["board"].rows}


def names_of(response) -> list[str]:
    return [row.coalition.name for row in response.context["board"].rows]


BOARD = reverse("reporting:board")


# -- Access --------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), expect(staff=200, grantees=403))
@pytest.mark.parametrize(
    "url",
    [
        BOARD,
        reverse("reporting:reminder-list"),
        reverse("reporting:board-export", args=["csv"]),
        reverse("reporting:board-export", args=["xlsx"]),
    ],
    ids=["board", "reminders", "csv", "xlsx"],
)
def test_the_board_its_exports_and_the_reminders_page_are_for_jff_staff_only(
    cast, client_for, who, status, url
):
    assert client_for(cast[who]).get(url).status_code == status


def test_a_federal_project_officer_has_no_board(cast, client_for):
    funder = factories.StaffFactory(email="fpo@dol.example", staff_role="funder_viewer")
    assert client_for(funder).get(BOARD).status_code == 403


@pytest.mark.parametrize(("who", "status"), expect(staff=302, grantees=403))
def test_only_staff_can_remind_from_the_board(cast, client_for, period_a, who, status):
    response = client_for(cast[who]).post(
        reverse("reporting:board-remind"), {"period": [str(period_a.code)]}
    )
    assert response.status_code == status


def test_a_coach_sees_only_the_coalitions_they_coach(cast, client_for, before_due):
    services.periods_ensure_all()

    coach = names_of(client_for(cast.coach_a).get(BOARD))
    officer = names_of(client_for(cast.officer).get(BOARD))

    assert coach == [cast.coalition_a.name]
    assert sorted(officer) == sorted([cast.coalition_a.name, cast.coalition_b.name])


def test_a_coach_sees_only_their_coalitions_reminders(cast, client_for, period_a):
    services.periods_ensure_all()
    period_b = ReportingPeriod.objects.get(coalition=cast.coalition_b, quarter="2025Q3")
    for period in (period_a, period_b):
        Reminder.objects.create(coalition=period.coalition, period=period, kind="due")

    page = client_for(cast.coach_a).get(reverse("reporting:reminder-list"))

    assert [r.coalition for r in page.context["page"].object_list] == [cast.coalition_a]


def test_a_coach_cannot_remind_another_coalition_through_the_form(
    cast, client_for, period_a, mailoutbox, django_capture_on_commit_callbacks
):
    services.periods_ensure_all()
    period_b = ReportingPeriod.objects.get(coalition=cast.coalition_b, quarter="2025Q3")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.coach_a).post(
            reverse("reporting:board-remind"), {"period": [str(period_b.code)]}, follow=True
        )

    assert not Reminder.objects.exists()
    assert mailoutbox == []
    assert "Select at least one coalition" in response.content.decode()


# -- States --------------------------------------------------------------------------


def test_before_the_due_date_each_report_shows_its_own_state(
    cast, client_for, every_state, before_due
):
    response = client_for(cast.officer).get(BOARD)

    states = rows_of(response)
    for name, state in STATE_OF.items():
        assert states[name] == (state or "not_started"), name
    html = response.content.decode()
    for label in ("Not started", "Needs fixes", "Ready to certify", "In review", "Accepted"):
        assert f">{label}</span>" in html
    assert response.context["board"].quarter == Quarter(2025, 3)
    assert "in 4 days" in html


def test_after_the_due_date_a_report_never_sent_is_overdue(
    cast, client_for, every_state, after_due
):
    response = client_for(cast.officer).get(BOARD)

    states = rows_of(response)
    for name in ("Not Started Coalition", "Draft Coalition", "Needs Fixes Coalition"):
        assert states[name] == "overdue", name
    # Sent at some point: never overdue, whatever happened next.
    for name in ("Submitted Coalition", "Returned Coalition", "Accepted Coalition"):
        assert states[name] == STATE_OF[name], name
    html = response.content.decode()
    assert "6 days late" in html
    overdue_first = names_of(response)[0]
    assert states[overdue_first] == "overdue"  # the default order is by urgency


def test_a_returned_report_followed_by_a_new_draft_is_not_overdue(cast, client_for, after_due):
    c = coalition("Second Try Coalition")
    version(c, "returned", number=1)
    version(c, "needs_fixes", errors=4, number=2)

    response = client_for(cast.officer).get(BOARD)

    [row] = [r for r in response.context["board"].rows if r.coalition == c]
    assert row.state == "needs_fixes"
    assert row.version == 2
    assert row.errors == 4


def test_a_row_shows_errors_warnings_version_coach_and_last_reminder(cast, client_for, before_due):
    period = builders.period_of(cast.coalition_a, "2025Q3")
    version(cast.coalition_a, "needs_fixes", errors=7, warnings=5)
    Reminder.objects.create(
        coalition=cast.coalition_a, period=period, kind=ReminderKind.BEFORE_14, status="sent"
    )

    response = client_for(cast.coach_a).get(BOARD)

    [row] = response.context["board"].rows
    assert (row.errors, row.warnings, row.version) == (7, 5, 1)
    assert row.coaches == [cast.coach_a]
    assert row.last_reminder.kind == ReminderKind.BEFORE_14
    html = response.content.decode()
    assert "14 days before the due date" in html
    assert cast.coach_a.display_name in html
    assert reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"]) in html


def test_a_sent_version_links_to_its_review_page(cast, client_for, before_due):
    services.periods_ensure_all()
    sent = version(cast.coalition_a, "submitted")

    html = client_for(cast.officer).get(BOARD).content.decode()

    assert reverse("reporting:submission-review", args=[sent.code]) in html


def test_the_current_quarter_is_the_latest_that_has_ended():
    assert board_selectors.current_quarter(date(2025, 10, 1)) == Quarter(2025, 3)
    assert board_selectors.current_quarter(date(2025, 11, 20)) == Quarter(2025, 3)
    assert board_selectors.current_quarter(date(2025, 12, 31)) == Quarter(2025, 3)
    assert board_selectors.current_quarter(date(2026, 1, 1)) == Quarter(2025, 4)


def test_another_quarter_can_be_chosen(cast, client_for, before_due):
    services.periods_ensure_all()
    version(cast.coalition_a, "accepted", quarter="2025Q1")

    response = client_for(cast.officer).get(BOARD, {"quarter": "2025q1"})

    assert response.context["board"].quarter == Quarter(2025, 1)
    assert rows_of(response)[cast.coalition_a.name] == "accepted"
    assert '<option value="2025Q1" selected>' in response.content.decode()


def test_a_quarter_written_wrongly_says_how_to_write_it(cast, client_for, before_due):
    services.periods_ensure_all()

    response = client_for(cast.officer).get(BOARD, {"quarter": "2025Q9", "status": "overdue"})

    assert response.status_code == 200
    assert "write it like 2025Q3" in response.content.decode()
    assert response.context["board"].quarter == Quarter(2025, 3)


# -- Filters and sorting -------------------------------------------------------------


@pytest.fixture
def mixed(cast, after_due):
    services.periods_ensure_all()
    wind = coalition("Wind Ohio", states_served=["OH"], sectors=["renewable_energy"])
    roads = coalition(
        "Roads Texas", states_served=["TX"], sectors=["transportation"], track="scaling"
    )
    version(wind, "submitted")
    version(roads, "needs_fixes", errors=9)
    factories.CoachAssignmentFactory(coalition=roads, coach=cast.coach_a)
    return wind, roads


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "overdue"}, ["Alpha", "Bravo", "Roads Texas"]),
        ({"status": "submitted"}, ["Wind Ohio"]),
        ({"state": "TX"}, ["Bravo", "Roads Texas"]),
        ({"sector": "broadband"}, ["Bravo"]),
        ({"track": "scaling"}, ["Roads Texas"]),
        ({"coach": "none"}, ["Bravo", "Wind Ohio"]),
        ({"state": "TX", "status": "overdue", "track": "scaling"}, ["Roads Texas"]),
    ],
    ids=["status", "submitted", "state", "sector", "track", "no-coach", "combined"],
)
def test_filters_narrow_the_board(cast, client_for, mixed, filters, expected):
    response = client_for(cast.officer).get(BOARD, {**filters, "sort": "coalition"})

    full = {"Alpha": cast.coalition_a.name, "Bravo": cast.coalition_b.name}
    assert names_of(response) == [full.get(name, name) for name in expected]


def test_the_coach_filter_takes_the_coachs_id(cast, client_for, mixed):
    response = client_for(cast.officer).get(
        BOARD, {"coach": str(cast.coach_a.uuid), "sort": "coalition"}
    )

    assert names_of(response) == [cast.coalition_a.name, "Roads Texas"]
    html = response.content.decode()
    assert f'<option value="{cast.coach_a.uuid}" selected>' in html


def test_a_coach_id_that_is_not_one_says_what_to_choose(cast, client_for, mixed):
    response = client_for(cast.officer).get(BOARD, {"coach": "alice"})

    assert "Choose a coach from the list" in response.content.decode()
    assert len(names_of(response)) == 4


def test_htmx_gets_only_the_results(cast, client_for, mixed):
    response = client_for(cast.officer).get(BOARD, {"status": "overdue"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html


@pytest.mark.parametrize(
    ("sort", "expected_first", "aria"),
    [
        ("errors", "Wind Ohio", "ascending"),
        ("-errors", "Roads Texas", "descending"),
        ("coalition", "Alpha Wind Coalition (test)", "ascending"),
        ("-coalition", "Wind Ohio", "descending"),
    ],
)
def test_sorting_by_a_column_orders_rows_and_says_so_with_aria_sort(
    cast, client_for, mixed, sort, expected_first, aria
):
    response = client_for(cast.officer).get(BOARD, {"sort": sort})

    assert names_of(response)[0] == expected_first
    html = response.content.decode()
    column = {"errors": "Errors", "coalition": "Coalition"}[sort.lstrip("-")]
    header = re.search(rf'<th scope="col" aria-sort="(\w+)"[^>]*>\s*<a[^>]*>{column}<', html)
    assert header is not None
    assert header[1] == aria
    assert html.count("aria-sort=") == 1  # only the sorted column says it is


def test_sort_links_keep_the_filters(cast, client_for, mixed):
    html = client_for(cast.officer).get(BOARD, {"state": "TX"}).content.decode()

    assert 'href="/board/?quarter=2025Q3&amp;state=TX&amp;sort=errors"' in html


# -- Export --------------------------------------------------------------------------


@pytest.fixture
def hostile(cast, after_due):
    services.periods_ensure_all()
    evil = coalition(
        '=HYPERLINK("http://evil.example","x")',
        lead_organization="+1 Evil Org",
        states_served=["TX"],
    )
    version(evil, "needs_fixes", errors=2, warnings=1)
    return evil


def test_the_csv_export_is_the_board_as_filtered_and_sorted_with_formulas_neutralised(
    cast, client_for, hostile
):
    params = {"state": "TX", "sort": "-errors"}
    board = client_for(cast.officer).get(BOARD, params)
    response = client_for(cast.officer).get(reverse("reporting:board-export", args=["csv"]), params)

    assert response["Content-Type"] == "text/csv"
    assert 'filename="bpij-status-board-2025Q3.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert header[0] == "Coalition"
    assert "Status" in header
    assert [r[0] for r in data] == ["'" + n if n.startswith("=") else n for n in names_of(board)]
    evil = data[0]
    assert evil[0] == '\'=HYPERLINK("http://evil.example","x")'
    assert evil[header.index("Lead organization")] == "'+1 Evil Org"
    assert evil[header.index("Status")] == "Overdue"
    assert evil[header.index("Errors")] == "2"
    assert evil[header.index("Days before due (negative: late)")] == "-6"
    event = AuditEvent.objects.get(action=AuditAction.BOARD_EXPORTED)
    assert event.actor == cast.officer
    assert event.detail["rows"] == len(data)
    assert event.detail["filters"]["state"] == "TX"


def test_the_xlsx_export_has_the_same_rows_with_numbers_as_numbers(cast, client_for, hostile):
    response = client_for(cast.officer).get(
        reverse("reporting:board-export", args=["xlsx"]), {"sort": "coalition"}
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert header[0] == "Coalition"
    assert len(data) == 3
    evil = next(r for r in data if "HYPERLINK" in r[0])
    assert evil[0].startswith("'=")
    assert evil[header.index("Lead organization")] == "'+1 Evil Org"
    assert evil[header.index("Errors")] == 2
    assert evil[header.index("Warnings")] == 1
    assert evil[header.index("Report page")].endswith(f"/coalitions/{hostile.code}/reports/2025Q3/")
    assert all(
        not isinstance(c, str) or not c.startswith(("=", "+", "-", "@")) for r in data for c in r
    )


def test_an_unknown_export_format_is_not_found(cast, client_for):
    assert client_for(cast.officer).get("/board/export.pdf").status_code == 404


# -- Remind selected -----------------------------------------------------------------


def test_remind_selected_sends_one_reminder_per_ticked_period_and_refuses_sent_ones(
    cast, client_for, mixed, mailoutbox, django_capture_on_commit_callbacks
):
    wind, roads = mixed
    codes = [
        str(ReportingPeriod.objects.get(coalition=c, quarter="2025Q3").code)
        for c in (cast.coalition_a, roads, wind)
    ]
    query = "quarter=2025Q3&status=overdue"

    client = client_for(cast.officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reporting:board-remind"), {"period": codes, "query": query})

    assert response.status_code == 302
    assert response["Location"] == f"{BOARD}?{query}"
    manual = Reminder.objects.filter(kind=ReminderKind.MANUAL, status="sent")
    assert sorted(r.coalition.name for r in manual) == sorted(
        [cast.coalition_a.name, "Roads Texas"]
    )
    assert len(mailoutbox) == 2
    page = client.get(response["Location"]).content.decode()
    assert "Reminder sent to 2 coalitions" in page
    assert "Wind Ohio has already sent its 2025Q3 report" in page
    # The board shows each row's last reminder.
    assert "Sent by JFF staff" in page


def test_remind_with_nothing_ticked_says_what_to_do(cast, client_for, mixed):
    response = client_for(cast.officer).post(reverse("reporting:board-remind"), {}, follow=True)

    assert "Select at least one coalition" in response.content.decode()
    assert not Reminder.objects.exists()


def test_the_reminders_page_lists_what_was_sent_and_filters(cast, client_for, mixed):
    _, roads = mixed
    for c, kind in ((roads, "late_1"), (cast.coalition_a, "due")):
        period = ReportingPeriod.objects.get(coalition=c, quarter="2025Q3")
        Reminder.objects.create(
            coalition=c, period=period, kind=kind, status="sent",
            recipients=["someone@example.org"], cc=["coach@jff.example"],
        )  # fmt: skip

    everything = client_for(cast.officer).get(reverse("reporting:reminder-list"))
    late = client_for(cast.officer).get(reverse("reporting:reminder-list"), {"kind": "late_1"})
    wrong = client_for(cast.officer).get(reverse("reporting:reminder-list"), {"quarter": "Q3"})

    assert len(everything.context["page"].object_list) == 2
    [only] = late.context["page"].object_list
    assert only.coalition == roads
    html = late.content.decode()
    assert "someone@example.org" in html
    assert "coach@jff.example" in html
    assert "1 day late" in html
    assert "write it like 2025Q3" in wrong.content.decode()


# -- Query budgets -------------------------------------------------------------------


def _many(start: int, count: int, coach) -> None:
    for i in range(start, start + count):
        c = coalition(f"Budget Coalition {i:02d}", states_served=["OH", "PA"])
        factories.CoachAssignmentFactory(coalition=c, coach=coach)
        period = ReportingPeriod.objects.get(coalition=c, quarter="2025Q3")
        version(c, "returned", number=1)
        version(c, "needs_fixes", errors=i, number=2)
        Reminder.objects.create(coalition=c, period=period, kind="late_1", status="sent")


PAGES = {
    "board": (BOARD, {"sort": "-errors"}, {}),
    "board-htmx": (BOARD, {"status": "needs_fixes"}, {"HTTP_HX_REQUEST": "true"}),
    "xlsx": (reverse("reporting:board-export", args=["xlsx"]), {"coach": "none"}, {}),
    "csv": (reverse("reporting:board-export", args=["csv"]), {}, {}),
    "reminders": (reverse("reporting:reminder-list"), {"kind": "late_1"}, {}),
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["officer", "coach_a"])
def test_the_board_and_its_pages_take_at_most_12_queries_with_3_or_30_coalitions(
    cast, client_for, django_assert_max_num_queries, after_due, who, page
):
    url, params, headers = PAGES[page]
    client = client_for(cast[who])
    client.get(BOARD)  # warm the session and the MFA flag, as any earlier page does

    counts = []
    for start, count in ((0, 3), (3, 27)):
        _many(start, count, cast.coach_a)
        with django_assert_max_num_queries(12) as captured:
            response = client.get(url, params, **headers)
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    if page == "board":
        assert len(response.context["board"].rows) >= 30
