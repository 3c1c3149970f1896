"""The checks' e-mail with a real worker on a real Redis: the report page's polls,
recorded by the web side in the shared cache, keep the worker from e-mailing a person
who is watching; a file over 10,000 rows is e-mailed all the same (the worker's e-mail
backend is the console: the message is in its log)."""

import io
import os
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from reporting.models import ReportingPeriod, Submission
from reporting.services import periods_ensure
from tests.e2e.conftest import wait_for
from tests.reporting.checks.cases import csv_bytes, person

pytestmark = pytest.mark.e2e


@pytest.fixture
def shared_cache(settings, celery_worker_process):
    """The web side's cache is the worker's: Redis, as in production."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
    yield
    cache.clear()


def upload(client, submission, content: bytes, name: str) -> None:
    payload = io.BytesIO(content)
    payload.name = name
    response = client.post(
        reverse("reporting:upload", args=[submission.code]),
        {"kind": "participants", "file": payload},
    )
    assert response.status_code == 302


def watch_until_checked(client, submission, log) -> None:
    """The open page: its status line polls until the checks finish."""

    def polled() -> bool:
        response = client.get(
            reverse("reporting:submission-status", args=[submission.code]),
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200
        return Submission.objects.get(pk=submission.pk).state != "checking"

    wait_for(polled, log=log, what="the check")


def notices_done(log) -> int:
    """How many of the worker's notice tasks have run (sending an e-mail or not)."""
    return len(re.findall(r"send_check_notice\[[^\]]+\] succeeded", log.read_text()))


def test_the_worker_emails_only_a_sender_who_left_or_a_long_file(
    cast, client_for, celery_worker_process, shared_cache
):
    worker, log = celery_worker_process
    periods_ensure(grant=cast.coalition_a.grants.get())
    period = ReportingPeriod.objects.get(coalition=cast.coalition_a, quarter="2025Q3")
    client = client_for(cast.reporter_a)
    client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
    submission = Submission.objects.get(period=period)

    # Watched: the result is on the page, no e-mail.
    upload(client, submission, csv_bytes([person(1), person(2, exit_date="20240101")]), "a.csv")
    watch_until_checked(client, submission, log)
    wait_for(lambda: notices_done(log) == 1, log=log)
    assert "was checked:" not in log.read_text()

    # Watched too, but over 10,000 rows: e-mailed all the same.
    rows = [person(n, ssn="") for n in range(1, 10_002)]
    upload(client, submission, csv_bytes(rows), "everyone.csv")
    watch_until_checked(client, submission, log)
    subject = "Subject: [BPIJ Reporting Hub] Your 2025Q3 participant file was checked: 0 errors"

    def unfolded() -> str:  # the console prints long headers folded onto several lines
        return log.read_text().replace("\n ", " ")

    wait_for(lambda: subject in unfolded(), log=log, what="the e-mail")
    text = unfolded()
    assert f"To: {cast.reporter_a.email}" in text
    assert "everyone.csv: 10,001 rows" in text
    assert worker.poll() is None
