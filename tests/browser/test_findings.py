"""Findings that read at a glance, in the browser: a coalition administrator opens the
findings of a 2025Q3 file that lost six of the participants JFF accepted in 2025Q2 and
has seven bad sex codes. The page opens on one line per rule and column; the rule with
more than five rows expands, from the keyboard, to show the rest; the six missing
participants are one sentence with their list as a CSV. Then a participant file with
two required columns missing: one banner says what is wrong and what to do, and no
marked-up copy of it is offered. Every state is checked with axe-core and saved at
desktop width and at 390 px (test-results/screens/findings-*.png)."""

import csv
import io
import re

import pytest
import time_machine
from django.test import TestCase
from playwright.sync_api import Page, expect

from reporting import services
from reporting.models import ReportingPeriod, Submission, SubmissionState
from tests.reporting.checks.cases import PARTICIPANT_HEADER, csv_bytes, person

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def october_2025():
    with time_machine.travel("2025-10-20 10:00 -0400", tick=True):
        yield


def sent(submission: Submission, actor, content: bytes, name: str = "participants.csv") -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.upload_receive(
            submission=submission,
            kind="participants",
            stream=io.BytesIO(content),
            name=name,
            actor=actor,
        )


@pytest.fixture
def draft(cast, october_2025) -> Submission:
    """2025Q2 accepted with P001–P007; 2025Q3's file keeps P001 only and adds seven
    participants whose sex code does not exist."""
    admin = cast.admin_a
    services.periods_ensure(grant=cast.coalition_a.grants.get())
    q2, q3 = (
        ReportingPeriod.objects.get(coalition=cast.coalition_a, quarter=quarter)
        for quarter in ("2025Q2", "2025Q3")
    )
    earlier = services.submission_start(period=q2, actor=admin)
    sent(earlier, admin, csv_bytes([person(n) for n in range(1, 8)]))
    Submission.objects.filter(pk=earlier.pk).update(state=SubmissionState.ACCEPTED)
    later = services.submission_start(period=q3, actor=admin)
    sent(later, admin, csv_bytes([person(1), *(person(n, sex="7") for n in range(8, 15))]))
    return later


def both_widths(page: Page, axe, name: str) -> None:
    axe.check(page, name)
    page.set_viewport_size(PHONE)
    axe.check(page, f"{name}-390")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width}px wide at 390px"
    page.set_viewport_size(DESKTOP)


def test_findings_open_grouped_with_mass_findings_in_one_line_and_failures_as_a_banner(
    cast, draft, page: Page, sign_in, axe
):
    sign_in(page.context, cast.admin_a)
    page.goto(f"/submissions/{draft.code}/findings/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Findings")

    tiles = page.get_by_role("list", name="Findings by rule")
    expect(tiles).to_contain_text("Code not allowed")
    expect(tiles).to_contain_text("Participant missing since last accepted report")

    groups = page.get_by_role("list", name="Findings grouped by rule and column")
    expect(groups.locator(":scope > li")).to_have_count(2)
    missing = groups.locator(":scope > li").filter(has_text="participants in the 2025Q2")
    expect(missing.get_by_role("heading")).to_have_text(
        "Error 6 participants in the 2025Q2 report's accepted participant file are "
        "missing from this one."
    )
    for n in range(2, 8):
        expect(page.get_by_text(f"P{n:03d}", exact=True)).to_have_count(0)

    sex = groups.locator(":scope > li").filter(has_text="Code not allowed")
    expect(sex.get_by_role("heading")).to_have_text("Error Code not allowed · sex")
    expect(sex).to_contain_text("7 findings in the participants file · V03")
    expect(sex).to_contain_text("What to do: Use one of the column's codes")
    visible_rows = sex.locator("tbody tr:visible")
    expect(visible_rows).to_have_count(5)
    both_widths(page, axe, "findings-grouped")

    # "Show 2 more rows" opens from the keyboard.
    more = sex.locator("summary")
    expect(more).to_contain_text("Show 2 more rows")
    more.focus()
    page.keyboard.press("Enter")
    expect(sex.locator("details")).to_have_attribute("open", "")
    expect(visible_rows).to_have_count(7)
    expect(visible_rows.last.get_by_role("cell").first).to_have_text("9")  # P014
    both_widths(page, axe, "findings-expanded")

    # The six missing participants, as a list to work through.
    with page.expect_download() as listed:
        missing.get_by_role("link", name=re.compile(r"^Download the list of the 6")).click()
    text = listed.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["participant_id"] for r in rows] == [f"P{n:03d}" for n in range(2, 8)]
    assert not re.search(r"\d{3}-\d{2}-\d{4}|(?<!\d)\d{9}(?!\d)", text)

    # The full list, row by row, is one click away.
    page.get_by_role("link", name="Every finding, row by row").click()
    expect(page).to_have_url(re.compile(r"[?&]view=rows"))
    expect(page.locator("#results tbody tr")).to_have_count(13)  # 7 V03 and 6 H01
    axe.check(page, "findings-rows")

    # A participant file with two required columns missing: one banner, no marked copy.
    header = [c for c in PARTICIPANT_HEADER if c not in ("sex", "veteran")]
    sent(draft, cast.admin_a, csv_bytes([person(1)], header), name="no-sex.csv")
    page.goto(f"/submissions/{draft.code}/findings/")
    banner = page.get_by_role(
        "region", name="Your participant file (no-sex.csv) could not be checked"
    )
    expect(banner).to_contain_text(
        "What is wrong: Its header row (row 1) is missing 2 required columns: sex, veteran."
    )
    expect(banner).to_contain_text("What to do: Add the missing columns to the header row")
    expect(page.get_by_role("link", name=re.compile("problems marked"))).to_have_count(0)
    both_widths(page, axe, "findings-file-failure")

    page.get_by_role("link", name="the 2025Q3 report page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2025Q3 quarterly report")
    expect(page.locator(".hub-file-failure")).to_have_count(1)
    expect(page.get_by_role("link", name=re.compile("problems marked"))).to_have_count(0)
    both_widths(page, axe, "findings-file-failure-report")

    axe.assert_no_violations()
