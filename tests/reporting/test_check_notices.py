"""Issue 11, item 8 (first half): the person who sent a file is e-mailed when its checks
finish if they have left the report page, always for a file over 10,000 rows, and always
when the checks fail (with what to do). Whether they are on the page is kept in the
cache, Redis here as in production."""

import io
import os
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.urls import reverse

from reporting.models import Submission, Upload
from reporting.services import check_notices
from tests.reporting.checks.cases import csv_bytes, person


@pytest.fixture(autouse=True)
def redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def in_october_2025(time_machine):
    time_machine.move_to("2025-10-20 10:00 -0400")


@pytest.fixture
def reporter(cast, client_for, period_a):
    """Coalition A's reporter, signed in, with the 2025Q3 report started."""
    client = client_for(cast.reporter_a)
    client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
    return client, Submission.objects.get(period=period_a)


def post_file(client, submission, content: bytes, name="people.csv"):
    payload = io.BytesIO(content)
    payload.name = name
    response = client.post(
        reverse("reporting:upload", args=[submission.code]),
        {"kind": "participants", "file": payload},
    )
    assert response.status_code == 302


def poll(client, submission):
    response = client.get(
        reverse("reporting:submission-status", args=[submission.code]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200


def run(callbacks):
    """What the worker does after the upload's commit: the check, then its notice."""
    for callback in callbacks:
        callback()


ONE_ERROR = csv_bytes([person(1), person(2, exit_date="20240101"), person(3)])


def test_the_page_polls_as_often_as_the_notices_assume(
    reporter, django_capture_on_commit_callbacks
):
    client, submission = reporter
    with django_capture_on_commit_callbacks(execute=False):
        post_file(client, submission, ONE_ERROR)
    page = client.get(
        reverse("reporting:period-detail", args=[submission.coalition.code, "2025Q3"])
    ).content.decode()
    assert f'hx-trigger="every {check_notices.POLL_SECONDS}s"' in page


def test_no_email_while_the_sender_stays_on_the_page(reporter, django_capture_on_commit_callbacks):
    client, submission = reporter
    with django_capture_on_commit_callbacks(execute=True):
        post_file(client, submission, ONE_ERROR)
    submission.refresh_from_db()
    assert submission.state == "needs_fixes"
    assert mail.outbox == []


def test_polling_keeps_the_sender_on_the_page(
    reporter, django_capture_on_commit_callbacks, time_machine
):
    client, submission = reporter
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_file(client, submission, ONE_ERROR)
    for _ in range(30):  # half a minute of checks, the page polling every second
        time_machine.shift(check_notices.POLL_SECONDS)
        poll(client, submission)
    time_machine.shift(check_notices.POLL_SECONDS)
    run(callbacks)
    assert Submission.objects.get(pk=submission.pk).state == "needs_fixes"
    assert mail.outbox == []


def test_the_sender_who_left_the_page_is_emailed_the_result(
    cast, reporter, django_capture_on_commit_callbacks, time_machine, settings
):
    client, submission = reporter
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_file(client, submission, ONE_ERROR)
    poll(client, submission)
    # Gone for longer than two polls and the margin.
    time_machine.shift(check_notices.LEFT_AFTER_SECONDS + 1)
    run(callbacks)

    [message] = mail.outbox
    assert message.to == [cast.reporter_a.email]
    assert message.subject == (
        "[BPIJ Reporting Hub] Your 2025Q3 participant file was checked: 1 error, 0 warnings"
    )
    findings = settings.SITE_URL + reverse("reporting:findings", args=[submission.code])
    report = settings.SITE_URL + reverse(
        "reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"]
    )
    html = message.alternatives[0][0]
    for text in (message.body, html):
        assert findings in text
        assert report in text
        assert "people.csv: 3 rows, 1 error, 0 warnings" in re.sub(r"<[^>]+>", "", text)
        # No SSN, no value of any row.
        for row in (person(1), person(2, exit_date="20240101"), person(3)):
            for value in (row["ssn"], row["ssn"][-4:], row["participant_id"], "20240101"):
                assert value not in text
    assert "you had left the report page" in message.body


def test_a_file_over_ten_thousand_rows_is_always_emailed(
    cast, reporter, django_capture_on_commit_callbacks
):
    client, submission = reporter
    rows = [person(n, ssn="") for n in range(1, check_notices.ALWAYS_ROWS + 2)]
    with django_capture_on_commit_callbacks(execute=True):
        post_file(client, submission, csv_bytes(rows), "everyone.csv")
    assert Upload.objects.get(submission=submission, is_current=True).data_rows == 10_001

    [message] = mail.outbox
    assert message.to == [cast.reporter_a.email]
    assert message.subject.startswith(
        "[BPIJ Reporting Hub] Your 2025Q3 participant file was checked: 0 errors, "
    )
    assert "everyone.csv: 10,001 rows" in message.body
    assert "because a file has more than 10,000 rows" in message.body


def test_failed_checks_say_so_and_what_to_do(
    cast, reporter, django_capture_on_commit_callbacks, settings
):
    client, submission = reporter
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_file(client, submission, ONE_ERROR)
    poll(client, submission)  # on the page: the failure is e-mailed all the same
    # The stored copy is lost before the worker reads it: the check raises.
    default_storage.delete(Upload.objects.get(submission=submission, is_current=True).file.name)
    with pytest.raises(FileNotFoundError):
        run(callbacks)

    submission.refresh_from_db()
    assert submission.state == "draft"
    event = submission.events.order_by("-at", "-id").first()
    assert "We could not check this file. It is kept; try again" in event.note
    [message] = mail.outbox
    assert message.to == [cast.reporter_a.email]
    assert message.subject == (
        "[BPIJ Reporting Hub] The checks of your 2025Q3 files could not finish"
    )
    assert "upload the participant file again (the same file is fine)" in message.body
    assert (
        settings.SITE_URL
        + reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"])
        in message.body
    )

    # The same file sent again is stored again and checked.
    with django_capture_on_commit_callbacks(execute=True):
        post_file(client, submission, ONE_ERROR)
    submission.refresh_from_db()
    assert submission.state == "needs_fixes"
    assert Upload.objects.filter(submission=submission).count() == 2
