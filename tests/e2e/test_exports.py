"""An export end to end: a program officer asks for a coalition's quarterly report, the
request reaches Redis on commit, and a real worker listening on the `exports` queue
renders and stores the PDF."""

import hashlib

import pytest

from reporting import services
from reporting.models import Export, ExportKind, ExportStatus
from tests import builders
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def reported(cast):
    """Alpha's 2025Q3 report, submitted and rolled up before the worker starts (tasks
    still run in-process here)."""
    period = builders.period_of(cast.coalition_a, "2025Q3")
    version = builders.submitted_version(period, cast.admin_a, participants=30, seed=21)
    services.rollup_period(period_id=period.pk)
    return version


def test_the_exports_worker_renders_a_requested_report(cast, reported, celery_worker_process):
    _worker, log = celery_worker_process
    export = services.export_request(
        actor=cast.officer,
        kind=ExportKind.COALITION_REPORT,
        quarter="2025Q3",
        coalition=cast.coalition_a,
    )
    assert export.status == ExportStatus.QUEUED

    def finished() -> bool:
        export.refresh_from_db()
        return export.status in (ExportStatus.READY, ExportStatus.FAILED)

    wait_for(finished, timeout=60, log=log, what="the exports worker")
    assert export.status == ExportStatus.READY, export.error
    with export.file.open("rb") as handle:
        content = handle.read()
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == export.sha256
    assert export.provenance["submissions"][0]["version"] == reported.version
    text = log.read_text()
    assert "reporting.tasks.render_export" in text
    assert "exchange=exports" in text  # the task was routed to the exports queue
    # Asking again reuses the file the worker made.
    again = services.export_request(
        actor=cast.coach_a,
        kind=ExportKind.COALITION_REPORT,
        quarter="2025Q3",
        coalition=cast.coalition_a,
    )
    assert again.pk == export.pk
    assert Export.objects.count() == 1
