"""Browser tests: pytest-playwright driving Debian's Chromium against pytest-django's
live server, with axe-core accessibility checks (WCAG 2.1 AA, zero violations).

Playwright's own browser downloads are never used (no ``playwright install``): the tests
launch /usr/bin/chromium from Debian. Without it every test here is skipped with a
reason, unless BPIJ_REQUIRE_BROWSER=1 (CI), which turns the skip into a failure.
"""

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls
# from a thread with a running loop unless told it is safe (it is: nothing else runs).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Debian's package; BPIJ_CHROMIUM points elsewhere (e.g. to check the skip: =/nonexistent).
CHROMIUM = Path(os.environ.get("BPIJ_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SKIP_REASON = "Debian's chromium is not installed (apt-get install chromium): browser tests skipped"
REQUIRE_BROWSER = os.environ.get("BPIJ_REQUIRE_BROWSER", "") == "1"
REQUIRED_REASON = (
    f"BPIJ_REQUIRE_BROWSER=1, but Debian's chromium is not at {CHROMIUM} "
    "(apt-get install chromium): browser tests cannot run"
)
BROWSER_DIR = Path(__file__).resolve().parent
AXE_JS = BROWSER_DIR / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000
# Only violations are collected ("passes" and "incomplete" would cost time for nothing).
AXE_RUN = """async (tags) => await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
})"""

_HEADER_SHOWN = pytest.StashKey[bool]()
_CALL_PASSED = pytest.StashKey[bool]()


def chromium_present() -> bool:
    return CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)


def _status_line() -> str:
    if chromium_present():
        return f"browser tests: using {CHROMIUM}"
    if REQUIRE_BROWSER:
        return f"browser tests: FAILING — {REQUIRED_REASON}"
    return f"browser tests: SKIPPED — {SKIP_REASON}"


def _in_browser_dir(item: pytest.Item) -> bool:
    return BROWSER_DIR in Path(item.path).resolve().parents


def pytest_report_header(config: pytest.Config) -> str:
    # Only called when this conftest is loaded before collection (`pytest tests/browser`);
    # a whole-suite run prints the same line after collection instead (below).
    config.stash[_HEADER_SHOWN] = True
    return _status_line()


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> str | None:
    if config.stash.get(_HEADER_SHOWN, False) or not any(map(_in_browser_dir, items)):
        return None
    return _status_line()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Path-scoped: pytest only calls this conftest's hook for items under tests/browser.
    # tryfirst, so the session-scoped browser is never launched when it cannot be.
    if chromium_present():
        return
    if REQUIRE_BROWSER:
        pytest.fail(REQUIRED_REASON, pytrace=False)
    pytest.skip(SKIP_REASON)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.stash[_CALL_PASSED] = report.passed
    return report


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if getattr(report, "longrepr", None) and SKIP_REASON in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"browser tests: {len(skipped)} SKIPPED — {SKIP_REASON}", yellow=True, bold=True
        )


# -- pytest-playwright configuration -------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """Relative URLs in ``page.goto("/coalitions/")`` go to pytest-django's live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture
def new_context(new_context: Callable) -> Callable:
    """Contexts (and the ``context``/``page`` fixtures built on them) give up after 10 s,
    not Playwright's 30: a page that has not answered by then will not."""

    def make(**kwargs):
        context = new_context(**kwargs)
        context.set_default_timeout(TIMEOUT_MS)
        return context

    return make


# -- Data ---------------------------------------------------------------------------


@pytest.fixture
def cast(transactional_db, live_server, cast):
    """The cast of tests/conftest.py, committed so the live server's threads see it.

    Requesting ``transactional_db`` (and ``live_server``) makes pytest-django run the
    parent fixture's ``db`` as a transactional test case: rows are committed, and the
    tables are flushed after the test.
    """
    return cast


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and used TOTP codes live in the (process-wide) local-memory
    cache; start every browser test without the previous tests' sign-ins."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# -- Helpers ------------------------------------------------------------------------


@pytest.fixture
def sign_in(live_server) -> Callable:
    """Put a signed-in session for ``user`` into a browser context, replacing any other
    (no form, no MFA prompt; staff's session is marked as having passed the second step,
    as allauth marks it, unless ``second_factor=False``)."""
    from django.test import Client

    from tests import sessions

    def sign_in(context, user, *, second_factor: bool = True) -> None:
        client = Client()
        if second_factor:
            sessions.sign_in(client, user)
        else:
            sessions.sign_in_with_password_only(client, user)
        context.clear_cookies()
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )

    return sign_in


@pytest.fixture(scope="session")
def screens_dir(pytestconfig: pytest.Config) -> Path:
    path = pytestconfig.rootpath / "test-results" / "screens"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact') or 'n/a'}): {violation['help']}"
            f"\n  {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html']}")
            summary = (node.get("failureSummary") or "").strip().replace("\n", "\n      ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


class Axe:
    """Runs axe-core on pages and remembers what it found, so that one test can check
    several pages and still report every violation on every one of them."""

    def __init__(self, screens: Path):
        self.screens = screens
        self.checked: list[str] = []
        self.found: dict[str, tuple[str, list[dict]]] = {}
        self.asserted = False

    def check(self, page, name: str, *, screenshot: bool = True) -> None:
        """Screenshot the page to test-results/screens/<name>.png and run axe-core on it
        (WCAG 2.1 A and AA rules)."""
        page.wait_for_load_state("load")
        if screenshot:
            page.screenshot(path=self.screens / f"{name}.png", full_page=True)
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated, not added as a <script> tag: the hub's Content-Security-Policy
            # refuses inline scripts, and DevTools' evaluation is not held to it.
            page.evaluate(AXE_JS.read_text())
        results = page.evaluate(AXE_RUN, WCAG_21_AA)
        self.checked.append(name)
        if results["violations"]:
            self.found[name] = (page.url, results["violations"])

    def assert_no_violations(self) -> None:
        self.asserted = True
        report = "\n".join(
            f"\n{name} ({url}):\n{_describe(violations)}"
            for name, (url, violations) in self.found.items()
        )
        count = sum(len(violations) for _, violations in self.found.values())
        assert self.found == {}, (
            f"axe-core found {count} WCAG 2.1 AA violation(s) on "
            f"{len(self.found)} of {len(self.checked)} page(s):{report}"
        )


@pytest.fixture
def axe(screens_dir: Path, request: pytest.FixtureRequest):
    """``axe.check(page, "name")`` for each page, then ``axe.assert_no_violations()``."""
    checker = Axe(screens_dir)
    yield checker
    passed = request.node.stash.get(_CALL_PASSED, False)
    if passed and checker.checked and not checker.asserted:
        pytest.fail("the test ran axe.check() but never axe.assert_no_violations()")
