"""Findings that read at a glance (issue 11, item 6): every rule named by its plain title
wherever its code shows, the findings page grouped by rule and column, mass findings
(H01) in one line with a downloadable list, and a file the checks could not go through
as one banner, with no marked-up copy offered."""

import csv
import io
import re
from html import unescape

import pytest
from django.urls import reverse

from reporting import selectors
from reporting.checks import rules
from reporting.models import Finding, Submission, SubmissionState
from tests.reporting.checks.cases import PARTICIPANT_HEADER, csv_bytes, job, person


@pytest.fixture(autouse=True)
def in_october_2025(time_machine):
    """2025Q3 has ended and its report is being prepared."""
    time_machine.move_to("2025-10-20 10:00 -0400")


def send(client, submission, content: bytes, name="people.csv", kind="participants"):
    payload = io.BytesIO(content)
    payload.name = name
    response = client.post(
        reverse("reporting:upload", args=[submission.code]), {"kind": kind, "file": payload}
    )
    assert response.status_code == 302


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    """The page as read: tags dropped, white space collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# Eight participants with a sex code that does not exist, one who left before entering.
BAD_SEX = [person(n, sex="7") for n in range(1, 9)]
EXIT_BEFORE_ENTRY = [person(9, exit_date="20240101")]


@pytest.fixture
def checked(report, django_capture_on_commit_callbacks):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes(BAD_SEX + EXIT_BEFORE_ENTRY))
    return client, submission


def findings_url(submission, **query) -> str:
    url = reverse("reporting:findings", args=[submission.code])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# -- Plain titles -------------------------------------------------------------------------


def test_the_report_page_names_each_rule_it_counts(checked, cast):
    client, _ = checked
    html = page(client, reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"]))
    found = text_of(html)
    assert "Code not allowed V03" in found
    assert "Exit before entry L01" in found


def test_the_findings_tiles_name_each_rule(checked):
    client, submission = checked
    tiles = page(client, findings_url(submission)).split('aria-label="Findings by rule"')[1]
    tiles = text_of(tiles.split("</ul>")[0])
    assert "8 Code not allowed V03 · errors · participants" in tiles
    assert "1 Exit before entry L01 · error · participants" in tiles


def test_the_row_by_row_list_names_each_rule(checked):
    client, submission = checked
    rows = text_of(page(client, findings_url(submission, view="rows")))
    assert rows.count("Code not allowed V03 error") == 8


def test_the_review_page_names_each_rule(
    cast, client_for, report, django_capture_on_commit_callbacks
):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes([person(1), person(2, employed_q2_after_exit="1")]))
    submission.refresh_from_db()
    Submission.objects.filter(pk=submission.pk).update(state=SubmissionState.SUBMITTED)
    officer = client_for(cast.officer)
    found = text_of(page(officer, reverse("reporting:submission-review", args=[submission.code])))
    codes = set(
        Finding.objects.filter(upload__submission=submission).values_list("code", flat=True)
    )
    assert codes, "the file has findings to show"
    for code in codes:
        assert f"{rules.title(code)} {code}" in found


# -- The grouped view ---------------------------------------------------------------------


def test_the_findings_page_opens_on_one_line_per_rule_and_column(checked):
    client, submission = checked
    html = page(client, findings_url(submission))
    groups = html.split('<ol class="hub-groups"')[1].split("</ol>")[0]
    items = groups.split("<li ")[1:]
    assert len(items) == 2, "one line for V03 in sex, one for L01 in exit_date"
    sex, exit_date = (text_of(item) for item in items)
    assert "Code not allowed · sex" in sex
    assert "8 findings in the participants file · V03" in sex
    assert f"What to do: {rules.RULES['V03'].todo}" in sex
    assert "Exit before entry · exit_date" in exit_date
    # The first five rows are shown; the other three behind "show more".
    shown, more = items[0].split("<details", 1)
    assert [int(n) for n in re.findall(r'<td class="hub-num">(\d+)</td>', shown)] == [2, 3, 4, 5, 6]
    assert "<summary>Show 3 more rows" in more
    assert [int(n) for n in re.findall(r'<td class="hub-num">(\d+)</td>', more)] == [7, 8, 9]
    assert "sex &quot;7&quot; is not" in shown or 'sex "7" is not' in text_of(shown)


def test_errors_come_before_warnings_and_each_group_is_filtered_like_the_list(
    report, django_capture_on_commit_callbacks
):
    client, submission = report
    people = [person(1), person(2, sex="7")]
    jobs = [job(1, hourly_wage="5.00"), job(2)]
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes(people))
        send(client, submission, csv_bytes(jobs), name="jobs.csv", kind="placements")
    groups = selectors.finding_groups(submission)
    assert (groups[0].severity, groups[0].code) == ("error", "V03")
    assert groups[-1].severity == "warning"
    only_warnings = text_of(page(client, findings_url(submission, severity="warning")))
    assert rules.title("L16") in only_warnings
    assert "Code not allowed · sex" not in only_warnings


def test_the_row_by_row_list_stays_reachable_with_its_filters_and_pages(
    report, django_capture_on_commit_callbacks
):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes([person(n, sex="7") for n in range(1, 131)]))
    grouped = page(client, findings_url(submission))
    assert "view=rows" in grouped, "the grouped page links to the list"
    first = page(client, findings_url(submission, view="rows", code="V03"))
    assert first.count('<td class="hub-num">') == 100
    assert "Page 1 of 2" in first
    assert "view=rows" in first.split('class="usa-pagination"')[1], "pages keep the view"
    second = page(client, findings_url(submission, view="rows", code="V03", page=2))
    assert second.count('<td class="hub-num">') == 30


def test_the_grouped_page_keeps_a_fixed_number_of_queries(
    report, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client, submission = report
    url = findings_url(submission)

    def measure():
        client.get(url)
        with django_assert_max_num_queries(20) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes([person(1, sex="7")]))
    few = measure()
    many = [person(n, sex="7", exit_date="20200101", zip_code="1") for n in range(1, 90)]
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes(many), name="many.csv")
    assert measure() == few


# -- Mass findings (H01) ------------------------------------------------------------------


@pytest.fixture
def missing_six(cast, client_for, period_a, django_capture_on_commit_callbacks):
    """2025Q2 was accepted with P001–P007; 2025Q3's file has only P001 (and an error)."""
    client = client_for(cast.admin_a)
    coalition = cast.coalition_a
    earlier_people = [person(n, entry_date=f"202401{10 + n}") for n in range(1, 8)]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reporting:submission-start", args=[coalition.code, "2025Q2"]))
        earlier = Submission.objects.get(period__coalition=coalition, period__quarter="2025Q2")
        send(client, earlier, csv_bytes(earlier_people))
    Submission.objects.filter(pk=earlier.pk).update(state=SubmissionState.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reporting:submission-start", args=[coalition.code, "2025Q3"]))
        later = Submission.objects.get(period=period_a)
        send(client, later, csv_bytes([person(1, entry_date="20240111"), person(8, sex="7")]))
    assert Finding.objects.filter(upload__submission=later, code="H01").count() == 6
    return client, later


def test_participants_missing_since_the_accepted_report_are_one_line(missing_six):
    client, submission = missing_six
    html = page(client, findings_url(submission))
    found = text_of(html)
    assert (
        "6 participants in the 2025Q2 report's accepted participant file are missing from "
        "this one." in found
    )
    assert f"What to do: {rules.RULES['H01'].todo}" in found
    # One line: no participant is listed on the page, and the row errors are not pushed
    # down by them.
    for n in range(2, 8):
        assert f"P{n:03d}" not in found
    assert "Code not allowed · sex" in found
    csv_url = reverse("reporting:findings-list", args=[submission.code, "H01"])
    assert f'href="{csv_url}"' in html


def test_the_list_of_missing_participants_downloads_as_csv_without_ssns(missing_six):
    client, submission = missing_six
    response = client.get(reverse("reporting:findings-list", args=[submission.code, "H01"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["participant_id"], r["entry_date_in_accepted_report"]) for r in rows] == [
        (f"P{n:03d}", f"2024-01-{10 + n}") for n in range(2, 8)
    ]
    assert {r["accepted_report"] for r in rows} == {"2025Q2"}
    assert {r["rule"] for r in rows} == {"H01 Participant missing since last accepted report"}
    assert all("previous accepted submission" in r["finding"] for r in rows)
    assert not re.search(r"(?<!\d)\d{3}-?\d{2}-?\d{4}(?!\d)", text), "no SSN in the list"


def test_only_mass_rules_have_a_list_to_download(checked):
    client, submission = checked
    assert (
        client.get(reverse("reporting:findings-list", args=[submission.code, "V03"])).status_code
        == 404
    )


# -- File-level failures ------------------------------------------------------------------

NO_SEX_NOR_VETERAN = [c for c in PARTICIPANT_HEADER if c not in ("sex", "veteran")]


@pytest.mark.parametrize(
    ("content", "name", "problem"),
    [
        (
            csv_bytes([person(1)], NO_SEX_NOR_VETERAN),
            "people.csv",
            "Its header row (row 1) is missing 2 required columns: sex, veteran.",
        ),
        (
            b"PK\x03\x04 not really a workbook",
            "people.xlsx",
            "It could not be read: the file is a damaged workbook (its zip container cannot "
            "be read). What to do: Open it in Excel and save it again as an Excel Workbook "
            "(.xlsx), or save it as CSV UTF-8. Then upload the file again.",
        ),
        (
            csv_bytes([person(1)])[: csv_bytes([person(1)]).index(b"\r\n") + 2],
            "people.csv",
            "It has a header row but no data rows under it.",
        ),
    ],
    ids=["F02", "F01", "F05"],
)
def test_a_file_the_checks_could_not_go_through_is_one_banner_without_a_marked_copy(
    report, cast, django_capture_on_commit_callbacks, content, name, problem
):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, content, name=name)
        send(client, submission, csv_bytes([job(1), job(2, hours_per_week="99")]), "jobs.csv",
             kind="placements")  # fmt: skip
    upload = submission.uploads.get(kind="participants", is_current=True)
    placements = submission.uploads.get(kind="placements", is_current=True)
    annotated = reverse("reporting:upload-annotated", args=[upload.code])
    for url in (
        findings_url(submission),
        reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"]),
    ):
        html = page(client, url)
        found = text_of(html)
        assert html.count('class="usa-alert usa-alert--error') == 1, url
        assert f"Your participant file ({name}) could not be checked" in found
        assert f"What is wrong: {problem}" in found
        assert "What to do:" in found
        assert annotated not in html, "no marked-up copy of a file that was not checked"
        # The placement file was checked: its marked-up copy is still offered.
        assert reverse("reporting:upload-annotated", args=[placements.code]) in html
    grouped = page(client, findings_url(submission))
    groups = grouped.split('<ol class="hub-groups"')[1].split("</ol>")[0]
    assert "participants file" not in text_of(groups), "the banner, not a group, says it"


def test_the_list_download_is_written_to_the_audit_log(missing_six, cast):
    from bpij.models import AuditEvent

    client, submission = missing_six
    client.get(reverse("reporting:findings-list", args=[submission.code, "H01"]))
    event = AuditEvent.objects.filter(action="pii_downloaded").get()
    assert event.actor == cast.admin_a
    assert event.detail["what"] == "H01 list"


def test_the_groups_are_read_in_three_queries_whatever_the_findings(
    missing_six, django_assert_max_num_queries
):
    _, submission = missing_six
    # As the page reads it: with its period.
    submission = Submission.objects.select_related("period").get(pk=submission.pk)
    with django_assert_max_num_queries(3):
        groups = selectors.finding_groups(submission)
        assert [(g.code, g.column, g.count, len(g.examples)) for g in groups] == [
            ("V03", "sex", 1, 1),
            ("H01", "participant_id", 6, 0),
        ]
        assert groups[1].sentence == (
            "6 participants in the 2025Q2 report's accepted participant file are missing "
            "from this one"
        )
