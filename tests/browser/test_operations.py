"""The operations page in a browser (issue 13, item 5): every section with rows, no axe
violation, and saved as test-results/screens/operations.png to look at."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from bpij import observability
from reporting.models import Export, ExportKind, ExportStatus
from tests.reporting.test_operations import checking_version

pytestmark = pytest.mark.browser


@pytest.fixture
def ops_prefix(settings):
    settings.OPS_KEY_PREFIX = f"test:{uuid.uuid4().hex}:"
    yield settings.OPS_KEY_PREFIX
    client = observability.ops_redis()
    for key in client.scan_iter(match=f"{settings.OPS_KEY_PREFIX}*"):
        client.delete(key)


def test_the_operations_page_shows_each_section_and_passes_axe(
    cast, page: Page, sign_in, axe, ops_prefix
):
    checking_version(cast, "2025Q1", minutes_ago=4)
    checking_version(cast, "2025Q2", minutes_ago=200)
    Export.objects.create(
        coalition=None, kind=ExportKind.PROGRAM_SUMMARY, quarter="2025Q2",
        request_key=uuid.uuid4().hex, status=ExportStatus.RENDERING, requested_by=cast.officer,
        requested_at=timezone.now() - timedelta(minutes=40),
        started_at=timezone.now() - timedelta(minutes=40),
    )  # fmt: skip
    observability.heartbeat_write(hostname="celery@worker-1", queues=["celery"])
    observability.ops_redis().hset(
        f"{ops_prefix}workers",
        "exports@old-host",
        json.dumps({"at": time.time() - 3600, "queues": ["exports"]}),
    )
    observability.beat_sent_record("reporting.tasks.send_due_reminders")
    observability.beat_ran_record("reporting.tasks.send_due_reminders", "SUCCESS")
    observability.failure_record(
        task_name="reporting.tasks.check_submission", task_id=uuid.uuid4().hex, args=(42,),
        exception=RuntimeError("could not read row 7 of participants.csv"),
    )  # fmt: skip

    sign_in(page.context, cast.officer)
    page.goto("/operations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Operations")
    expect(page.get_by_role("link", name="Operations")).to_have_attribute("aria-current", "page")
    checks = page.get_by_role("region", name="Checks in progress")
    expect(checks.locator("tbody tr")).to_have_count(2)
    expect(checks.locator("tbody tr").first).to_contain_text("Stuck")
    expect(page.get_by_role("region", name="Exports in progress")).to_contain_text(
        "Stuck (rendering)"
    )
    expect(page.get_by_role("region", name="Workers")).to_contain_text("Not answering")
    expect(page.get_by_role("region", name="Recent failed tasks")).to_contain_text("RuntimeError")
    axe.check(page, "operations")
    axe.assert_no_violations()
