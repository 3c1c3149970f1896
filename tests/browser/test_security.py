"""The Content-Security-Policy breaks nothing the hub does (no violation on the key pages,
htmx and USWDS still work), and the idle-session warning lets a person stay signed in
without losing what they typed, or takes them to sign-in with a message when time is up.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests import builders

pytestmark = pytest.mark.browser

# Collected in the page before any of its own scripts run (init scripts are not held to
# the page's CSP), so a violation during load is caught too.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""


def watch(page: Page) -> list[str]:
    refused: list[str] = []
    page.context.add_init_script(LISTEN)
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if re.search(r"Content Security Policy|Refused to|Permissions-Policy", message.text)
            else None
        ),
    )
    return refused


def violations(page: Page) -> list[str]:
    return page.evaluate("() => window.__violations || []")


def test_the_key_pages_run_under_the_csp_without_a_violation(cast, page: Page, sign_in):
    builders.submitted_version(builders.period_of(cast.coalition_a, "2025Q3"), cast.admin_a)
    builders.checked_version(
        builders.period_of(cast.coalition_a, "2025Q4"), cast.reporter_a, error_rate=0.1
    )
    refused = watch(page)
    found: dict[str, list[str]] = {}

    page.goto("/accounts/login/")
    found["sign-in"] = violations(page)

    sign_in(page.context, cast.admin_a)
    code = cast.coalition_a.code
    for name, url in [
        ("coalition", f"/coalitions/{code}/"),
        ("members", f"/coalitions/{code}/members/"),
        ("reports", f"/coalitions/{code}/reports/"),
        ("period", f"/coalitions/{code}/reports/2025Q4/"),
        ("coaching", f"/coaching/coalitions/{code}/"),
    ]:
        page.goto(url)
        page.wait_for_load_state("load")
        found[name] = violations(page)

    # htmx still swaps (no eval, no inline style): the findings filter reloads its table.
    page.goto(f"/coalitions/{code}/reports/2025Q4/")
    page.get_by_role("link", name="See every finding, grouped by rule and column").click()
    with page.expect_response(lambda response: "/findings/" in response.url):
        page.get_by_role("search", name="Filter findings").locator("select").first.select_option(
            index=1
        )
    found["findings (htmx)"] = violations(page)

    # The narrative saves itself as the person types (htmx, no inline script).
    page.goto(f"/coalitions/{code}/reports/2025Q4/")
    page.wait_for_function("() => window.htmx !== undefined")
    with page.expect_response(re.compile(r"/narrative/$")):
        page.get_by_label("Challenges").press_sequentially("Snow.", delay=20)
    expect(page.locator("#narrative-saved")).to_contain_text("Saved at")
    found["narrative autosave (htmx)"] = violations(page)

    # USWDS's JavaScript still runs: the menu button opens the navigation on a small screen.
    page.set_viewport_size({"width": 480, "height": 800})
    page.goto(f"/coalitions/{code}/")
    page.get_by_role("button", name="Menu").click()
    expect(page.locator(".usa-nav")).to_have_class(re.compile("is-visible"))
    found["menu"] = violations(page)

    sign_in(page.context, cast.officer)
    for name, url in [
        ("board", "/board/"),
        ("reminders", "/reminders/"),
        ("audit", "/audit/"),
        ("program", "/program/"),
        ("exports", "/exports/"),
        ("users", "/staff/users/"),
    ]:
        page.goto(url)
        page.wait_for_load_state("load")
        found[name] = violations(page)

    assert {name: seen for name, seen in found.items() if seen} == {}
    assert refused == []


def test_a_removal_still_asks_first(cast, page: Page, sign_in):
    sign_in(page.context, cast.admin_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/members/")
    asked: list[str] = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_role("button", name=f"Remove {cast.viewer_a.email}").click()

    assert asked
    assert cast.viewer_a.email in asked[0]
    expect(page.get_by_text(cast.viewer_a.email).first).to_be_visible()


def test_the_idle_warning_lets_a_person_stay_signed_in_without_losing_their_typing(
    cast, page: Page, sign_in, settings
):
    # The minute of warning plus ten seconds: the warning opens ten seconds after the page,
    # and a loaded machine still has the whole minute for the rest.
    settings.SESSION_IDLE_TIMEOUT_STAFF = 70
    refused = watch(page)
    sign_in(page.context, cast.coach_a)
    page.goto(f"/coaching/coalitions/{cast.coalition_a.code}/sessions/new/")
    page.get_by_label("Topics").fill("Half-written notes that must survive")

    # USWDS's dialog wrapper has no box of its own; its heading is what a person sees.
    warning = page.get_by_role("dialog", name="Are you still there?")
    expect(warning.get_by_role("heading")).to_be_visible(timeout=30_000)
    assert page.evaluate("() => document.activeElement.closest('#session-warning') !== null")
    time_left = "async () => (await (await fetch('/session/')).json()).expires_in"
    before = page.evaluate(time_left)  # a GET of /session/ is not activity
    assert before <= 60
    # The dialog closes on the click, before the server has answered: wait for the answer,
    # or the next question races the POST and reads the session from before it.
    with page.expect_response(lambda r: r.request.method == "POST" and "/session/" in r.url):
        warning.get_by_role("button", name="Stay signed in").click()

    expect(warning.get_by_role("heading")).to_be_hidden()
    expect(page.get_by_label("Topics")).to_be_focused()
    expect(page.get_by_label("Topics")).to_have_value("Half-written notes that must survive")
    assert page.url.endswith("/sessions/new/")
    # Staying signed in started the idle time again (compared with what was left, so a
    # slow machine's seconds do not matter).
    assert page.evaluate(time_left) > before
    assert violations(page) == []
    assert refused == []


def test_when_time_is_up_the_page_goes_to_sign_in_with_a_message(
    cast, page: Page, sign_in, settings
):
    settings.SESSION_IDLE_TIMEOUT_GRANTEE = 3
    sign_in(page.context, cast.viewer_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="), timeout=10_000)
    expect(page.get_by_text("without activity")).to_be_visible()
    assert f"/coalitions/{cast.coalition_a.code}/" in page.url.replace("%2F", "/")


def test_the_two_step_set_up_page_shows_its_qr_code_under_the_csp(
    transactional_db, page: Page, sign_in
):
    from tests import factories

    newcomer = factories.StaffFactory(email="new.officer@jff.example", mfa=False)
    refused = watch(page)
    sign_in(page.context, newcomer, second_factor=False)

    page.goto("/")

    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.evaluate("(image) => image.naturalWidth") > 0
    assert violations(page) == []
    assert refused == []


def test_the_403_page_says_what_was_refused_and_whom_to_ask(cast, page: Page, sign_in, axe):
    sign_in(page.context, cast.coach_a)
    response = page.goto("/coaching/assignments/")
    assert response is not None
    assert response.status == 403
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your role does not allow this")
    expect(main).to_contain_text("The hub did not open this page")
    expect(main).not_to_contain_text("can see this page")
    expect(main).to_contain_text("JFF's program staff change staff roles")
    page.screenshot(path="/tmp/403.png", full_page=True)
    axe.check(page, "error-403")
    axe.assert_no_violations()


def test_the_audit_log_writes_details_in_words(cast, page: Page, sign_in, axe):
    """Issue 12, item 8: a reminder's recipients showed as Python's ['admin@…']."""
    from bpij import services as platform
    from bpij.models import AuditAction

    platform.audit_record(
        action=AuditAction.REMINDER_SENT,
        coalition=cast.coalition_a,
        target="Due reminder, 2026Q3 report",
        detail={"kind": "due", "to": ["admin@alpha.example", "reporter@alpha.example"], "cc": []},
    )
    sign_in(page.context, cast.officer)
    page.goto("/audit/")
    row = page.get_by_role("row").filter(has_text="Due reminder, 2026Q3 report")
    details = row.locator(".hub-audit-detail")
    expect(details).to_contain_text("to: admin@alpha.example, reporter@alpha.example")
    expect(details).to_contain_text("kind: due")
    expect(details).not_to_contain_text("[")
    page.screenshot(path="/tmp/smaller-audit.png", full_page=True)
    axe.check(page, "audit-log-details")
    axe.assert_no_violations()
