"""A program officer asks for a coalition's quarterly performance report in the
browser, watches its row change from waiting to ready (htmx polling, announced in a
live region) and downloads the PDF; the exports pages pass axe-core (WCAG 2.1 AA).

The render is held back until the page shows the export waiting, then run as the
worker would, so the test sees the polling at work rather than a file already made.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from reporting import services
from reporting.models import Export
from reporting.services import exports
from tests.builders import period_of, submitted_version

pytestmark = pytest.mark.browser


def test_a_program_officer_exports_a_report_and_downloads_it(
    cast, page: Page, sign_in, axe, monkeypatch
):
    for coalition, admin in ((cast.coalition_a, cast.admin_a), (cast.coalition_b, cast.outsider_b)):
        period = period_of(coalition, "2025Q3")
        submitted_version(period, admin, participants=30)
    queued: list[int] = []
    monkeypatch.setattr(exports, "_enqueue", lambda export: queued.append(export.pk))

    sign_in(page.context, cast.officer)
    page.goto(f"/coalitions/{cast.coalition_a.code}/")
    page.locator("#main-content").get_by_role("link", name="Exports", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exports")
    expect(page.get_by_text("No exports yet.")).to_be_visible()
    axe.check(page, "exports-empty")

    page.get_by_label("Quarter", exact=True).select_option("2025Q3")
    page.get_by_label("Quarterly performance report (PDF)").check()
    page.get_by_role("button", name="Prepare the export").click()
    expect(page.get_by_text("being prepared")).to_be_visible()
    export = Export.objects.get()
    row = page.locator(f"#export-{export.code}")
    expect(row).to_contain_text("Waiting")
    expect(row).to_contain_text("Version 1 (submitted)")
    axe.check(page, "exports-waiting")

    # The worker's turn: the row polls every 2 s and picks up the result.
    assert queued == [export.pk]
    services.export_render(export_id=export.pk)
    export.refresh_from_db()
    expect(row).to_contain_text("Ready", timeout=8_000)
    expect(row).to_contain_text(export.sha256)
    expect(page.locator("#export-announcer")).to_have_text(
        "Quarterly performance report (PDF) for 2025Q3: ready to download."
    )
    axe.check(page, "exports-ready")

    with page.expect_download() as download:
        row.get_by_role("link", name=re.compile(r"^Download")).click()
    assert download.value.suggested_filename == "bpij-2025q3-alpha-v1-report.pdf"
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"%PDF-")
    assert len(content) == export.size

    # The program-wide page offers the summary and the program data packs.
    page.goto("/exports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Program-wide exports")
    expect(page.get_by_label("Program-wide summary (PDF)")).to_be_visible()
    expect(page.get_by_label("Data pack (XLSX)")).to_be_visible()
    axe.check(page, "exports-program")
    axe.assert_no_violations()
