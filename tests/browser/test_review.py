"""A coach reviews a submitted report in the browser: finds it in the review queue,
comments on a figure (htmx), tries to return it without reasons, returns it with a
reason and a note, confirming in the USWDS modal with the keyboard. The coalition's
administrator sees why on their report page, replies, starts version 2 from the returned
one and certifies it; the program officer finds the fix in the queue and accepts it (the
modal again). Without JavaScript, a decision asks on a confirm page instead.

Every page on the way is checked with axe-core (WCAG 2.1 A and AA) and saved as
test-results/screens/review-*.png.
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from reporting.models import Submission
from tests.builders import period_of, submitted_version

pytestmark = pytest.mark.browser


def h1(page: Page):
    return page.get_by_role("heading", level=1)


def state_tag(page: Page):
    return page.locator(".hub-page-head .hub-status")


def test_a_coach_returns_a_report_and_the_fix_comes_back(cast, page: Page, sign_in, axe):
    cast.coach_a.full_name = "Cora Coach"
    cast.coach_a.save(update_fields=["full_name"])
    cast.admin_a.full_name = "Ada Admin"
    cast.admin_a.save(update_fields=["full_name"])
    period = period_of(cast.coalition_a, "2025Q3")
    first = submitted_version(period, cast.admin_a, participants=30)
    # The checks' results went to the administrator, who sent the files with no report
    # page open (reporting.services.check_notices); the return notice is what is checked.
    mail.outbox.clear()

    # The coach finds the report in the queue.
    sign_in(page.context, cast.coach_a)
    page.goto("/reviews/")
    expect(h1(page)).to_have_text("Review queue")
    row = page.get_by_role("row", name=re.compile(r"Alpha Wind Coalition"))
    expect(row).to_contain_text("2025Q3")
    expect(row).to_contain_text("Submitted")
    axe.check(page, "review-queue")

    row.get_by_role("link").click()
    expect(h1(page)).to_have_text("2025Q3 report, version 1")
    expect(state_tag(page)).to_have_text("Submitted")
    decision = page.get_by_role("region", name="Decision")
    # A coach returns but does not accept.
    expect(decision.get_by_role("button", name="Return version 1")).to_be_visible()
    expect(decision.get_by_role("button", name="Accept version 1")).to_have_count(0)
    axe.check(page, "review-page")

    # A comment pinned to a figure, posted with htmx: the page is not reloaded.
    page.get_by_role("link", name="Comment on A-2 Participants served").click()
    new_comment = page.locator("#new-comment")
    expect(new_comment.get_by_label("Figure")).to_have_value("A-2")
    new_comment.get_by_label("Window").select_option("grant_to_date")
    new_comment.get_by_label("Comment", exact=True).fill(
        "Participants served looks low against 640."
    )
    with page.expect_response(re.compile(r"/comments/$")) as posted:
        new_comment.get_by_role("button", name="Post the comment").click()
    assert posted.value.request.headers.get("hx-request") == "true"
    thread = page.get_by_role("article", name=re.compile(r"^Comment by Cora Coach on A-2"))
    expect(thread).to_contain_text("Participants served looks low against 640.")
    expect(thread).to_contain_text("On A-2 Participants served (Grant to date)")
    expect(page.locator("#new-comment").get_by_label("Comment", exact=True)).to_have_value("")
    # Commenting took the version into review.
    page.reload()
    expect(state_tag(page)).to_have_text("In review")

    # Returning needs a reason: with none ticked there is nothing to confirm, and the
    # server says what is missing at once (no modal first).
    decision.get_by_role("button", name="Return version 1").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Return version 1 to Alpha Wind Coalition (test)?")
    expect(page.get_by_role("alert").filter(has_text="Choose at least one reason")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Write a note")).to_be_visible()
    # (The USWDS wrapper has no box of its own: its heading is what shows.)
    expect(dialog.get_by_role("heading")).to_be_hidden()
    expect(state_tag(page)).to_have_text("In review")
    axe.check(page, "review-return-refused")

    # With a reason it asks first, in a USWDS modal, opened and confirmed with the
    # keyboard; the note is checked by the server after the confirmation.
    decision.locator(".usa-checkbox").get_by_text("Narrative is missing or incomplete").click()
    decision.get_by_role("button", name="Return version 1").focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("heading")).to_be_visible()
    expect(dialog).to_contain_text("Its administrators and reporters are e-mailed the reasons")
    expect(dialog.get_by_role("button", name="Yes, return version 1")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="Write a note")).to_be_visible()
    expect(state_tag(page)).to_have_text("In review")

    # The refused form kept the reason ticked; the note is what it lacked.
    expect(decision.get_by_label("Narrative is missing or incomplete")).to_be_checked()
    decision.get_by_label("Note to the coalition").fill(
        "Please explain why enrollment fell, in the narrative."
    )
    return_button = decision.get_by_role("button", name="Return version 1")
    return_button.click()
    expect(dialog.get_by_role("heading")).to_be_visible()
    axe.check(page, "review-return-modal")
    # Escape closes it without deciding, and focus goes back to the button.
    page.keyboard.press("Escape")
    expect(dialog.get_by_role("heading")).to_be_hidden()
    expect(return_button).to_be_focused()
    expect(state_tag(page)).to_have_text("In review")
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Yes, return version 1")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text(
        "Version 1 was returned to Alpha Wind Coalition (test)"
    )
    expect(state_tag(page)).to_have_text("Returned for revision")
    expect(page.get_by_role("region", name="Decision")).to_have_count(0)
    axe.check(page, "review-returned")
    # The return notice (the certifier's receipt of version 1 came before it).
    notices = [m for m in mail.outbox if "returned for revision" in m.subject]
    assert sorted(m.to[0] for m in notices) == ["admin@alpha.example", "reporter@alpha.example"]

    # The coalition's administrator sees why, replies, and starts version 2 from it.
    sign_in(page.context, cast.admin_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/reports/2025Q3/")
    returned = page.get_by_role("region", name="JFF returned version 1 for revision")
    expect(returned).to_contain_text("Narrative is missing or incomplete")
    expect(returned).to_contain_text("Please explain why enrollment fell, in the narrative.")
    comments = page.get_by_role("region", name="JFF's review of 2025Q3, every version")
    expect(comments).to_contain_text("Participants served looks low against 640.")
    axe.check(page, "review-grantee-returned")

    comments.get_by_label(re.compile(r"^Reply")).fill("Two cohorts start in October.")
    with page.expect_response(re.compile(r"/comments/$")):
        comments.get_by_role("button", name="Reply").click()
    expect(comments.get_by_role("list", name="Replies")).to_contain_text(
        "Two cohorts start in October."
    )

    returned.get_by_role("button", name="Start version 2 from this one").click()
    expect(state_tag(page)).to_have_text("Ready to certify")
    expect(page.get_by_role("region", name="JFF returned version 1 for revision")).to_contain_text(
        "You are working on version 2, which started from it."
    )
    page.get_by_label("Progress this quarter").fill("Two cohorts start in October; 30 enrolled.")
    page.get_by_role("button", name="Save the narrative").click()
    certify = page.get_by_role("region", name="Certify and submit")
    # 2025Q3 is long past its due date: the revision says why it is late.
    certify.get_by_label("Why is the report late?").fill("Revised after JFF's return.")
    certify.locator(".usa-checkbox").get_by_text("I certify this report as stated above.").click()
    certify.get_by_role("button", name="Certify and submit version 2").click()
    expect(h1(page)).to_have_text("Submission receipt")
    page.get_by_role("link", name="Back to the 2025Q3 report").click()
    expect(state_tag(page)).to_have_text("Submitted")
    axe.check(page, "review-grantee-resubmitted")

    # The program officer finds the fix in the queue and accepts it.
    sign_in(page.context, cast.officer)
    page.goto("/reviews/")
    row = page.get_by_role("row", name=re.compile(r"Alpha Wind Coalition"))
    expect(row.get_by_role("cell").first).to_have_text("2025Q3")
    expect(row).to_contain_text("2")
    row.get_by_role("link").click()
    expect(h1(page)).to_have_text("2025Q3 report, version 2")
    expect(page.get_by_role("region", name="Narrative")).to_contain_text(
        "Two cohorts start in October; 30 enrolled."
    )
    page.get_by_role("button", name="Accept version 2").click()
    accept = page.get_by_role(
        "dialog", name="Accept version 2 of Alpha Wind Coalition (test)'s 2025Q3 report?"
    )
    expect(accept).to_contain_text("No e-mail is sent")
    expect(state_tag(page)).to_have_text("Submitted")
    axe.check(page, "review-accept-modal")
    page.keyboard.press("Enter")
    expect(state_tag(page)).to_have_text("Accepted")
    axe.check(page, "review-accepted")

    versions = dict(Submission.objects.filter(period=period).values_list("version", "state"))
    assert versions == {1: "returned", 2: "accepted"}
    assert Submission.objects.get(pk=first.pk).return_reasons == ["narrative"]
    axe.assert_no_violations()


def test_version_2s_review_remembers_version_1(cast, page: Page, sign_in, axe):
    """The coach opens version 2 and reads version 1's comment, the coalition's reply and
    why it was returned; sees what changed; follows the link back to version 1."""
    from reporting import services
    from reporting.models import ReturnReason

    cast.coach_a.full_name = "Cora Coach"
    cast.coach_a.save(update_fields=["full_name"])
    period = period_of(cast.coalition_a, "2025Q3")
    first = submitted_version(period, cast.admin_a, participants=20, seed=1)
    thread = services.submission_comment(
        submission=first, actor=cast.coach_a, body="Exits look low against the plan."
    )
    services.submission_comment(
        submission=first, actor=cast.admin_a, body="Two exits were missing.", parent=thread
    )
    services.submission_return(
        submission=first,
        actor=cast.coach_a,
        reasons=[ReturnReason.FIGURES],
        note="Add the missing exits.",
    )
    second = submitted_version(period, cast.admin_a, participants=28, seed=2)

    sign_in(page.context, cast.coach_a)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/submissions/{second.code}/review/")
    expect(h1(page)).to_have_text("2025Q3 report, version 2")
    comments = page.get_by_role("region", name="Comments")
    expect(comments).not_to_contain_text("No comments on this version")
    earlier = comments.get_by_role("article", name="Comment by Cora Coach, version 1")
    expect(earlier).to_contain_text("Exits look low against the plan.")
    expect(earlier.get_by_role("list", name="Replies")).to_contain_text("Two exits were missing.")
    returned = comments.get_by_role("group", name="Version 1 returned")
    expect(returned).to_contain_text(ReturnReason.FIGURES.label)
    expect(returned).to_contain_text("Add the missing exits.")

    changes = page.get_by_role("region", name="What changed from version 1")
    expect(changes.get_by_role("table").first).to_contain_text("Replaced")
    expect(changes).to_contain_text("Participants served")
    axe.check(page, "review-history-v2")

    versions = page.get_by_role("region", name="Versions of 2025Q3")
    expect(versions).to_contain_text("Version 2 (this page)")
    versions.get_by_role("link", name="Version 1").click()
    expect(h1(page)).to_have_text("2025Q3 report, version 1")
    expect(page.get_by_role("region", name="Versions of 2025Q3").get_by_role(
        "link", name="Version 2"
    )).to_be_visible()  # fmt: skip
    axe.check(page, "review-history-v1")

    # The coalition reads the same conversation on its report page.
    sign_in(page.context, cast.admin_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/reports/2025Q3/")
    conversation = page.get_by_role("region", name="JFF's review of 2025Q3, every version")
    expect(conversation).to_contain_text("Exits look low against the plan.")
    expect(conversation).to_contain_text("Add the missing exits.")
    axe.check(page, "review-history-grantee")
    axe.assert_no_violations()


def test_without_javascript_a_decision_asks_on_a_page_of_its_own(
    cast, new_context, page: Page, sign_in, axe
):
    """No JavaScript, no modal: Accept posts unconfirmed, the server asks on a confirm
    page (nothing decided yet), and its button decides. (axe needs JavaScript, so the
    confirm page is checked in a page with it, reached by posting the form unconfirmed.)"""
    period = period_of(cast.coalition_a, "2025Q3")
    version = submitted_version(period, cast.admin_a, participants=20)
    url = f"/submissions/{version.code}/review/"
    question = "Accept version 1 of Alpha Wind Coalition (test)'s 2025Q3 report?"

    sign_in(page.context, cast.officer)
    page.goto(url)
    page.evaluate("document.querySelector('#decision form[action$=\"/accept/\"]').submit()")
    expect(h1(page)).to_have_text(question)
    axe.check(page, "review-accept-confirm-page")

    context = new_context(java_script_enabled=False)
    sign_in(context, cast.officer)
    nojs = context.new_page()
    nojs.goto(url)
    expect(h1(nojs)).to_have_text("2025Q3 report, version 1")
    # The modals' text is not on the page for a reader without JavaScript.
    expect(nojs.get_by_text("Yes, accept version 1")).to_be_hidden()
    # Nor the session warning, which nothing could open or answer without JavaScript.
    expect(nojs.get_by_text("Are you still there?")).to_be_hidden()
    nojs.get_by_role("button", name="Accept version 1").click()
    expect(h1(nojs)).to_have_text(question)
    expect(nojs.locator("main")).to_contain_text("No e-mail is sent")
    version.refresh_from_db()
    assert version.state == "submitted"
    nojs.screenshot(path="/tmp/coachq-nojs-confirm.png", full_page=True)
    nojs.get_by_role("button", name="Yes, accept version 1").click()
    expect(state_tag(nojs)).to_have_text("Accepted")
    axe.assert_no_violations()
