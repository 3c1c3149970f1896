"""Certifying in the browser (issue 11): a quarter still under way cannot be certified
and the page says from when it can; late, the report asks why; a file with nothing
dated in the quarter is confirmed with a tick; and certifying ends on the receipt.

The app's clock is moved with ``time_machine`` (the whole process, the live server's
thread included; see test_reporting.py for why Playwright is not affected). Every page
is checked with axe-core and saved under test-results/screens/certify-*.png.
"""

import re

import pytest
import time_machine
from playwright.sync_api import Page, expect

from reporting.models import Submission, SubmissionState, Upload
from tests.builders import checked_version, period_of
from tests.reporting.checks.cases import csv_bytes, job, person

pytestmark = pytest.mark.browser

# Nothing in the participant file is dated in 2025Q3 (its newest date is June 15, 2024);
# one placement starts in August 2025.
PEOPLE = csv_bytes([person(1), person(2), person(3)])
JOBS = csv_bytes([job(1), job(2, start_date="20250815")])
NAME = "Dana Admin"
REASON = "Our data manager was on leave in November; the files were finished late."


def h1(page: Page):
    return page.get_by_role("heading", level=1)


def detail(region, term: str):
    """The description of ``term`` in the region's definition list."""
    return region.locator(f"dt:text-is('{term}') + dd")


def test_certification_waits_for_the_quarter_asks_why_late_confirms_and_gives_a_receipt(
    cast, page: Page, sign_in, axe
):
    cast.admin_a.full_name = NAME
    cast.admin_a.save(update_fields=["full_name"])
    report = f"/coalitions/{cast.coalition_a.code}/reports/2025Q3/"
    with time_machine.travel("2025-09-20 10:00 -0400", tick=True) as clock:
        period = period_of(cast.coalition_a, "2025Q3")
        submission = checked_version(period, cast.admin_a, files=(PEOPLE, JOBS))
        assert submission.state == SubmissionState.READY

        # September 20: 2025Q3 is still under way.
        sign_in(page.context, cast.admin_a)
        page.goto(report)
        certify = page.get_by_role("region", name="Certify and submit")
        expect(certify).to_contain_text(
            "The files are ready, but the 2025Q3 quarter runs until September 30, 2025: its "
            "report can be certified from October 1, 2025."
        )
        expect(certify.get_by_role("button")).to_have_count(0)
        axe.check(page, "certify-not-yet")

        # November 20: six days after the due date.
        clock.move_to("2025-11-20 10:00 -0500")
        sign_in(page.context, cast.admin_a)
        page.goto(report)
        expect(certify).to_contain_text(
            "The report was due on November 14, 2025 and is 6 days late: say why below."
        )
        warnings = page.locator("#certify-warnings")
        expect(warnings).to_contain_text(
            "The participant file participants.csv holds no activity in 2025Q3: its newest "
            "date is June 15, 2024, before the quarter began on July 1, 2025."
        )
        axe.check(page, "certify-late-with-warning")

        # The reason and the attestation, but not the confirmation: refused, and what was
        # typed is still there.
        expect(certify.get_by_label("Your full name (your signature)")).to_have_value(NAME)
        certify.get_by_label("Why is the report late?").fill(REASON)
        certify.locator(".usa-checkbox").get_by_text(
            "I certify this report as stated above."
        ).click()
        certify.get_by_role("button", name="Certify and submit version 1").click()
        expect(page.get_by_role("alert").first).to_contain_text(
            "Tick the box to confirm the files are the ones you mean to send"
        )
        expect(certify.get_by_label("Why is the report late?")).to_have_value(REASON)
        expect(
            certify.get_by_role("checkbox", name="I certify this report as stated above.")
        ).to_be_checked()
        assert Submission.objects.get(pk=submission.pk).state == SubmissionState.READY
        axe.check(page, "certify-refused-unconfirmed")

        # Confirmed: certified, and the receipt.
        confirm = "I have looked at the warnings above: these are the files I mean to send."
        certify.locator(".usa-checkbox").get_by_text(confirm).click()
        expect(certify.get_by_role("checkbox", name=confirm)).to_be_checked()
        certify.get_by_role("button", name="Certify and submit version 1").click()

        expect(h1(page)).to_have_text("Submission receipt")
        number = f"BPIJ-2025Q3-{period.pk:05d}-V1"
        receipt = page.get_by_role("region", name=re.compile(r"^Confirmation number"))
        expect(receipt.get_by_role("heading", level=2)).to_have_text(
            f"Confirmation number {number}"
        )
        files = receipt.get_by_role("table", name="Files sent")
        for upload in Upload.objects.filter(submission=submission, is_current=True):
            row = files.get_by_role("row", name=re.compile(f"^{upload.get_kind_display()}"))
            expect(row).to_contain_text(upload.original_name)
            expect(row).to_contain_text(f"{upload.data_rows}")
            expect(row).to_contain_text(upload.sha256)
        expect(detail(receipt, "Certified by")).to_have_text(NAME)
        expect(detail(receipt, "Certified at")).to_have_text("November 20, 2025, 10:00 a.m. EST")
        expect(detail(receipt, "Reason the report is late")).to_have_text(REASON)
        expect(detail(receipt, "Narrative")).to_have_text("Not included (left empty)")
        expect(receipt.get_by_role("list")).to_contain_text("holds no activity in 2025Q3")
        axe.check(page, "certify-receipt")

        # The receipt stays reachable from the report.
        page.get_by_role("link", name="Back to the 2025Q3 report").click()
        certify = page.get_by_role("region", name="Certify and submit")
        expect(certify).to_contain_text(f"Reason the report is late: {REASON}")
        certify.get_by_role("link", name=f"Receipt {number}: what was sent").click()
        expect(h1(page)).to_have_text("Submission receipt")
        axe.check(page, "certify-receipt-again", screenshot=False)

        # JFF reads why it was late and what was confirmed, in the queue and the review.
        sign_in(page.context, cast.coach_a)
        page.goto("/reviews/")
        row = page.get_by_role("row", name=re.compile(r"Alpha Wind Coalition"))
        expect(row).to_contain_text(f"Why late: {REASON}")
        expect(row).to_contain_text("1 warning confirmed when certifying")
        row.get_by_role("link").click()
        expect(h1(page)).to_have_text("2025Q3 report, version 1")
        details = page.get_by_role("region", name="Details")
        expect(detail(details, "Receipt")).to_have_text(number)
        expect(detail(details, "Why late")).to_have_text(REASON)
        expect(detail(details, "Confirmed when certifying")).to_contain_text(
            "The participant file participants.csv holds no activity in 2025Q3"
        )
        axe.check(page, "certify-review-page")

    axe.assert_no_violations()
