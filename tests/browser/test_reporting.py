"""A coalition administrator prepares the 2025Q3 report in the browser: starts it,
downloads the blank template, uploads a participant file with a mistake and a placement
file, finds the mistake (by rule, and in the annotated workbook), uploads the fixed file,
previews the figures, writes the narrative and certifies; the version is then locked.
A viewer of the same coalition reads a report without being offered any of the forms.

Every page on the way is checked with axe-core (WCAG 2.1 A and AA) and saved as
test-results/screens/report-*.png.

The app must believe it is October 2025 (2025Q3 has ended, its report is due on November
14): ``time_machine`` moves the clock of the whole process, which includes the live
server's thread. It does not touch ``time.monotonic`` (which asyncio, and so
Playwright's Python side, uses) nor Chromium and Playwright's driver, which are other
processes, so Playwright's waits and timeouts are unaffected. Cookies keep working
although the server's dates are a year behind the browser's: Django sends ``Max-Age``
with every cookie it sets, and browsers prefer it to ``Expires``.
"""

import io
import re
import zipfile

import openpyxl
import pytest
import time_machine
from playwright.sync_api import Page, expect

from reporting import services
from reporting.models import ReportingPeriod, Submission
from tests.reporting.checks.cases import PARTICIPANT_HEADER, csv_bytes, job, person

pytestmark = pytest.mark.browser

# Row 3 (participant 2) exits before entering: L01; row 4 has a sex code that does not
# exist: V03. Both are errors; the fixed file has neither.
WITH_ERRORS = csv_bytes([person(1), person(2, exit_date="20240101"), person(3, sex="3")])
FIXED = csv_bytes([person(1), person(2), person(3)])
# One placement before the quarter, one in it.
PLACEMENTS = csv_bytes([job(1), job(2, start_date="20250815")])
NAME = "Dana Admin"


@pytest.fixture
def october_2025():
    with time_machine.travel("2025-10-20 10:00 -0400", tick=True):
        yield


@pytest.fixture
def period(cast, october_2025) -> ReportingPeriod:
    services.periods_ensure(grant=cast.coalition_a.grants.get())
    return ReportingPeriod.objects.get(coalition=cast.coalition_a, quarter="2025Q3")


def h1(page: Page):
    return page.get_by_role("heading", level=1)


def state_tag(page: Page):
    return page.locator(".hub-page-head .hub-status")


def upload(page: Page, kind: str, name: str, content: bytes) -> None:
    """Choose a file in the page's file input: htmx sends it on "change", the check runs
    (eagerly, during the request) and the page reloads itself (HX-Refresh)."""
    # htmx binds the input once the page has loaded: a file chosen before that, on a
    # busy machine, would send nothing.
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.htmx !== undefined")
    with page.expect_response(re.compile(r"/upload/$")) as sent:
        page.set_input_files(
            f"#file-{kind}", files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
        )
    assert sent.value.status == 200
    assert sent.value.headers.get("hx-refresh") == "true"
    page.wait_for_load_state("load")
    # After the reload the current file is listed, and its input offers to replace it.
    expect(page.locator(f'label[for="file-{kind}"]')).to_have_text(re.compile(r"^Replace the "))
    expect(page.locator("main dl.hub-kv").filter(has_text=name)).to_be_visible()


def workbook_of(download) -> openpyxl.Workbook:
    content = download.path().read_bytes()
    assert content[:4] == b"PK\x03\x04"
    assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(content)).namelist()
    return openpyxl.load_workbook(io.BytesIO(content), read_only=True)


def test_an_administrator_fixes_and_certifies_the_quarterly_report(
    cast, period, page: Page, sign_in, axe
):
    cast.admin_a.full_name = NAME
    cast.admin_a.save(update_fields=["full_name"])
    sign_in(page.context, cast.admin_a)

    # From the coalition page to the quarter's report.
    page.goto(f"/coalitions/{cast.coalition_a.code}/")
    page.get_by_role("link", name="Quarterly reports").click()
    expect(h1(page)).to_have_text("Quarterly reports")
    q3 = page.get_by_role("row", name=re.compile(r"^2025Q3"))
    expect(q3).to_contain_text("Nov 14, 2025")
    expect(q3).to_contain_text("Not started")
    axe.check(page, "report-list")

    q3.get_by_role("link", name="2025Q3").click()
    expect(h1(page)).to_have_text("2025Q3 quarterly report")
    start = page.get_by_role("region", name="Start the 2025Q3 report")
    axe.check(page, "report-not-started")

    # The blank participant template, as XLSX.
    with page.expect_download() as template:
        start.get_by_role("link", name="XLSX").first.click()
    assert template.value.suggested_filename == "bpij-participants-template.xlsx"
    sheet = workbook_of(template.value)["participants"]
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert list(header[: len(PARTICIPANT_HEADER)]) == PARTICIPANT_HEADER

    start.get_by_role("button", name="Start the report").click()
    expect(state_tag(page)).to_have_text("Draft")

    # Both files; the participant file has two errors.
    upload(page, "participants", "participants.csv", WITH_ERRORS)
    upload(page, "placements", "placements.csv", PLACEMENTS)
    expect(state_tag(page)).to_have_text("Needs fixes")
    found = page.get_by_role("region", name="What the checks found")
    expect(found).to_contain_text("2 errors to fix before you can certify")
    expect(found.get_by_role("row")).to_have_count(3)  # the header, L01 and V03
    expect(found.get_by_role("row", name=re.compile(r"^Exit before entry L01"))).to_contain_text(
        "participants"
    )
    expect(page.get_by_role("region", name="Certify and submit")).to_contain_text(
        "Fix the 2 errors above first"
    )
    expect(page.get_by_role("button", name=re.compile(r"^Certify"))).to_have_count(0)
    axe.check(page, "report-needs-fixes")

    # The findings, grouped by rule and column.
    found.get_by_role("link", name="See every finding, grouped by rule and column").click()
    expect(h1(page)).to_have_text("Findings")
    groups = page.get_by_role("list", name="Findings grouped by rule and column")
    expect(groups.get_by_role("heading")).to_have_text(
        ["Error Code not allowed · sex", "Error Exit before entry · exit_date"]
    )
    axe.check(page, "report-findings")

    # Row by row, then only L01's.
    page.get_by_role("link", name="Every finding, row by row").click()
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    axe.check(page, "report-findings-rows")

    with page.expect_response(lambda response: "code=L01" in response.url) as filtered:
        page.get_by_role("searchbox", name="Rule").fill("L01")
    assert filtered.value.request.headers.get("hx-request") == "true"
    expect(rows).to_have_count(1)
    l01 = rows.first
    expect(l01.get_by_role("rowheader")).to_have_text("Exit before entry L01 error")
    expect(l01.get_by_role("cell")).to_have_text(
        [
            "participants",
            "3",
            "exit_date",
            "20240101",
            "exit_date 2024-01-01 is before entry_date 2024-01-15: the exit date must be on "
            "or after the entry date",
        ]
    )
    expect(page).to_have_url(re.compile(r"[?&]code=L01"))
    axe.check(page, "report-findings-l01")

    # The participant file back, with the problems marked.
    with page.expect_download() as annotated:
        page.get_by_role("link", name="participants.csv with problems marked (XLSX)").click()
    assert annotated.value.suggested_filename == "participants-with-errors.xlsx"
    workbook = workbook_of(annotated.value)
    assert workbook.sheetnames == ["Your file", "Findings"]
    listed = [" ".join(map(str, row)) for row in workbook["Findings"].iter_rows(values_only=True)]
    assert any("L01" in row and "exit_date" in row for row in listed)

    # Back to the report, with the fixed file.
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role(
        "link", name="2025Q3 report"
    ).click()
    expect(h1(page)).to_have_text("2025Q3 quarterly report")
    upload(page, "participants", "participants-fixed.csv", FIXED)
    expect(state_tag(page)).to_have_text("Ready to certify")
    expect(page.get_by_text("Every row passed every check.")).to_be_visible()
    certify = page.get_by_role("region", name="Certify and submit")
    expect(certify.get_by_role("button", name="Certify and submit version 1")).to_be_visible()
    axe.check(page, "report-ready")

    # The figures.
    page.get_by_role("link", name="Preview the 2025Q3 figures").click()
    expect(h1(page)).to_have_text("Quarterly performance figures")
    served = page.get_by_role("row", name=re.compile(r"^A-2 Participants served"))
    expect(served.get_by_role("cell")).to_have_text(["3", "3", "3"])
    placed = page.get_by_role("row", name=re.compile(r"^D-1 Entered employment"))
    expect(placed.get_by_role("cell")).to_have_text(["1", "1", "2"])
    axe.check(page, "report-preview")
    page.go_back()

    # The narrative.
    page.get_by_label("Progress this quarter").fill("Three apprentices enrolled; two placed.")
    page.get_by_label("Challenges").fill("Winter weather delayed field training.")
    page.get_by_label("Technical assistance needs").fill("Help with employer outreach.")
    page.get_by_role("button", name="Save the narrative").click()
    expect(page.get_by_role("status").filter(has_text="Narrative saved.")).to_be_visible()
    expect(page.get_by_label("Challenges")).to_have_value("Winter weather delayed field training.")
    axe.check(page, "report-narrative-saved")

    # Certifying without ticking the box is refused.
    # The box is required: the browser refuses the form before it is sent.
    page.get_by_role("button", name="Certify and submit version 1").click()
    expect(page.locator("#id_agreed:invalid")).to_have_count(1)
    expect(state_tag(page)).to_have_text("Ready to certify")
    axe.check(page, "report-certify-refused")

    # Certify and submit.
    expect(certify.get_by_label("Your full name (your signature)")).to_have_value(NAME)
    certify.get_by_label("Your title").fill("Executive director")
    # USWDS moves the real checkbox off-screen and draws one in its label: click that.
    agreed = certify.get_by_role("checkbox", name="I certify this report as stated above.")
    certify.locator(".usa-checkbox").get_by_text("I certify this report as stated above.").click()
    expect(agreed).to_be_checked()
    # The participant file holds nothing dated in 2025Q3 (its newest date is June 2024):
    # the administrator confirms it is the file they mean to send.
    expect(certify).to_contain_text(
        "The participant file participants-fixed.csv holds no activity in 2025Q3"
    )
    confirm = "I have looked at the warnings above: these are the files I mean to send."
    certify.locator(".usa-checkbox").get_by_text(confirm).click()
    certify.get_by_role("button", name="Certify and submit version 1").click()
    # The receipt first, then back to the report.
    expect(h1(page)).to_have_text("Submission receipt")
    expect(page.get_by_role("status").first).to_contain_text(
        "Version 1 of the 2025Q3 report was certified and submitted to JFF. It is now locked."
    )
    page.get_by_role("link", name="Back to the 2025Q3 report").click()
    expect(state_tag(page)).to_have_text("Submitted")
    expect(certify).to_contain_text(f"Certified by {NAME}, Executive director on October 20, 2025")
    # Locked: no file inputs, no narrative form, no certification form.
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(page.locator("main textarea")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^Certify"))).to_have_count(0)
    expect(page.get_by_role("region", name="Narrative")).to_contain_text(
        "Three apprentices enrolled; two placed."
    )
    axe.check(page, "report-submitted")

    assert Submission.objects.get(period=period).state == "submitted"
    axe.assert_no_violations()


def test_a_viewer_reads_the_report_without_the_forms(cast, period, page: Page, sign_in, axe):
    submission = services.submission_start(period=period, actor=cast.admin_a)
    for kind, name, content in [
        ("participants", "participants.csv", FIXED),
        # A minimum-wage placement: a warning, which does not hold certification back.
        ("placements", "placements.csv", csv_bytes([job(1, hourly_wage="7.24")])),
    ]:
        services.upload_receive(
            submission=submission,
            kind=kind,
            stream=io.BytesIO(content),
            name=name,
            actor=cast.admin_a,
        )
    submission.refresh_from_db()
    assert submission.state == "ready"

    sign_in(page.context, cast.viewer_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/reports/")
    expect(h1(page)).to_have_text("Quarterly reports")
    q3 = page.get_by_role("row", name=re.compile(r"^2025Q3"))
    expect(q3).to_contain_text("Ready to certify")
    axe.check(page, "report-list-viewer")

    q3.get_by_role("link", name="2025Q3").click()
    expect(h1(page)).to_have_text("2025Q3 quarterly report")
    expect(state_tag(page)).to_have_text("Ready to certify")
    found = page.get_by_role("region", name="What the checks found")
    expect(
        found.get_by_role("row", name=re.compile(r"^Wage below federal minimum L16"))
    ).to_contain_text("Warning")
    # Read-only: the files and the narrative are shown, no form to change them.
    expect(page.locator("main dl.hub-kv").filter(has_text="participants.csv")).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(page.get_by_role("region", name="Certify and submit")).to_contain_text(
        "A coalition administrator certifies and submits the report."
    )
    axe.check(page, "report-read-only")

    axe.assert_no_violations()


def test_the_check_runs_inside_the_upload_request(cast, period, page: Page, sign_in):
    """What a PostgreSQL deployment without Redis (CELERY_TASK_ALWAYS_EAGER) does on every
    upload: the check runs inside the upload request and must step out of its
    row-level-security scope to store findings with COPY."""
    services.submission_start(period=period, actor=cast.admin_a)
    sign_in(page.context, cast.admin_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/reports/2025Q3/")
    upload(page, "participants", "participants.csv", WITH_ERRORS)
    expect(page.get_by_role("region", name="What the checks found")).to_be_visible()


def test_the_narrative_is_saved_as_the_person_types(cast, period, page: Page, sign_in, axe):
    """No button pressed: a second after the typing stops, the narrative is stored and the
    page says so in a live region; the text typed is left as it is. Under the CSP (no
    inline script), which the live server sends as production does."""
    submission = services.submission_start(period=period, actor=cast.admin_a)
    sign_in(page.context, cast.admin_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/reports/2025Q3/")
    page.wait_for_function("() => window.htmx !== undefined")
    saved = page.locator("#narrative-saved")
    expect(saved).to_have_attribute("role", "status")
    expect(saved).to_have_text("")
    with page.expect_response(re.compile(r"/narrative/$")) as sent:
        page.get_by_label("Progress this quarter").press_sequentially("Enrolled 12.", delay=20)
    assert sent.value.status == 200
    expect(saved).to_have_text(re.compile(r"^Saved at \d{1,2}:\d\d [ap]\.m\.$"))
    expect(page.get_by_label("Progress this quarter")).to_have_value("Enrolled 12.")
    submission.refresh_from_db()
    assert submission.narrative_progress == "Enrolled 12."
    axe.check(page, "report-narrative-autosaved")

    page.reload()
    expect(page.get_by_label("Progress this quarter")).to_have_value("Enrolled 12.")
    axe.assert_no_violations()
