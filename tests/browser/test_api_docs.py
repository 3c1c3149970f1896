"""The interactive API docs (issue 14): Swagger UI from the hub's own static files loads
under the strict CSP with no violation and lists the operations."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_security import violations, watch

pytestmark = pytest.mark.browser


def test_swagger_ui_loads_from_our_own_files_under_the_csp(page: Page, live_server):
    refused = watch(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.get_by_text("/api/v1/submissions/{submission_code}/certify/").first).to_be_visible()
    assert violations(page) == []
    assert refused == []
    assert all(url.startswith(live_server.url) for url in requested), "no CDN"
