"""Issue 11, item 7 in the browser: an administrator opens the new quarter's report and
downloads the last accepted report's files — the "start from last quarter's accepted
file" workbook (SSNs masked) and the original as sent — before and after starting the
report; the accepted report's own page links its originals. axe-clean throughout; the
pages are saved as test-results/screens/next-file-*.png."""

import io
import re

import openpyxl
import pytest
import time_machine
from playwright.sync_api import Page, expect

from reporting import services
from tests import builders

pytestmark = pytest.mark.browser


@pytest.fixture
def accepted_2025q2(cast):
    with time_machine.travel("2025-10-20 10:00 -0400", tick=True):
        version = builders.submitted_version(
            builders.period_of(cast.coalition_a, "2025Q2"), cast.admin_a, participants=12
        )
        services.submission_accept(submission=version, actor=cast.officer)
        yield version


def h1(page: Page):
    return page.get_by_role("heading", level=1)


def test_an_administrator_starts_from_last_quarters_accepted_files(
    cast, accepted_2025q2, page: Page, sign_in, axe
):
    sign_in(page.context, cast.admin_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/reports/2025Q3/")
    expect(h1(page)).to_have_text("2025Q3 quarterly report")
    start = page.get_by_role("region", name="Start the 2025Q3 report")
    expect(
        start.get_by_role("heading", name="Start from the 2025Q2 accepted report")
    ).to_be_visible()
    axe.check(page, "next-file-not-started")

    with page.expect_download() as prefilled:
        start.get_by_role(
            "link", name=re.compile(r"^participants \(XLSX\) holding the rows")
        ).click()
    assert prefilled.value.suggested_filename == "bpij-participants-2025Q3-from-2025Q2.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(prefilled.value.path().read_bytes()), read_only=True)[
        "participants"
    ]
    rows = list(sheet.iter_rows(values_only=True))
    ssn = rows[0].index("ssn")
    assert len(rows) == 13
    assert all(re.fullmatch(r"\*\*\*-\*\*-\d{4}", row[ssn] or "***-**-0000") for row in rows[1:])

    with page.expect_download() as original:
        start.get_by_role("link", name=re.compile(r"^participants\.csv")).click()
    assert original.value.suggested_filename == "participants.csv"

    start.get_by_role("button", name="Start the report").click()
    files = page.get_by_role("region", name="Files")
    expect(
        files.get_by_role("heading", name="Start from the 2025Q2 accepted report")
    ).to_be_visible()
    expect(files.get_by_role("link", name=re.compile(r"^placements \(XLSX\)"))).to_be_visible()
    axe.check(page, "next-file-draft")

    # The accepted report's own page: its files as sent.
    page.goto(f"/coalitions/{cast.coalition_a.code}/reports/2025Q2/")
    with page.expect_download() as sent:
        page.get_by_role("link", name=re.compile(r"^Download placements\.csv as sent")).click()
    assert sent.value.suggested_filename == "placements.csv"
    expect(page.get_by_text("Start from the 2025Q2 accepted report")).to_have_count(0)
    axe.check(page, "next-file-accepted")
    axe.assert_no_violations()


def test_a_viewer_is_not_offered_the_files(cast, accepted_2025q2, page: Page, sign_in, axe):
    sign_in(page.context, cast.viewer_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/reports/2025Q3/")
    expect(h1(page)).to_have_text("2025Q3 quarterly report")
    expect(page.get_by_text("Start from the 2025Q2 accepted report")).to_have_count(0)
    page.goto(f"/coalitions/{cast.coalition_a.code}/reports/2025Q2/")
    # ("Receipt …: what was sent" is every reader's; the originals are not.)
    expect(page.get_by_role("link", name=re.compile(r"^Download .* as sent"))).to_have_count(0)
    axe.check(page, "next-file-viewer")
    axe.assert_no_violations()
