"""An oversized request is refused with 413 before it is read, or as soon as its file
passes the limit while streaming in: never spooled to disk whole first."""

import io

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from reporting.models import Submission, Upload

pytestmark = pytest.mark.django_db


class CountingStream(io.BytesIO):
    """The request body as the server reads it, counting what was actually read."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1):
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


@pytest.fixture
def report(cast, client_for, period_a, time_machine):
    time_machine.move_to("2025-10-20 10:00 -0400")
    client = client_for(cast.admin_a)
    client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
    return client, Submission.objects.get(period=period_a)


def post_file(client, submission, size: int, **headers):
    upload = io.BytesIO(b"participant_id\n" + b"A" * size)
    upload.name = "people.csv"
    body = encode_multipart(BOUNDARY, {"kind": "participants", "file": upload})
    stream = CountingStream(body)
    response = client.generic(
        "POST",
        reverse("reporting:upload", args=[submission.code]),
        body,
        content_type=MULTIPART_CONTENT,
        headers=headers,
        **{"wsgi.input": stream},
    )
    return response, stream


def test_a_body_larger_than_the_limit_is_refused_with_413_before_it_is_read(report, settings):
    client, submission = report
    settings.REQUEST_BODY_MAX_BYTES = 100_000

    response, stream = post_file(client, submission, 400_000)

    assert response.status_code == 413
    assert stream.bytes_read == 0
    assert "Files may be at most" in response.content.decode()
    assert not Upload.objects.exists()


def test_a_file_that_passes_the_limit_while_streaming_stops_the_read_there(report, settings):
    client, submission = report
    settings.UPLOAD_MAX_FILE_BYTES = 200_000

    response, stream = post_file(client, submission, 4_000_000)

    assert response.status_code == 413
    assert stream.bytes_read < 600_000
    assert not Upload.objects.exists()


def test_an_htmx_upload_that_is_too_large_gets_413_for_the_page_to_explain(report, settings):
    client, submission = report
    settings.REQUEST_BODY_MAX_BYTES = 100_000

    response, _ = post_file(client, submission, 400_000, HX_Request="true")

    assert response.status_code == 413


def test_a_file_within_the_limit_is_received(report):
    client, submission = report

    response, _stream = post_file(client, submission, 10_000)

    assert response.status_code == 302
    assert Upload.objects.filter(submission=submission).exists()


def test_the_request_limit_leaves_room_for_a_file_at_the_upload_limit(settings):
    from reporting import contract

    assert settings.UPLOAD_MAX_FILE_BYTES == contract.MAX_FILE_BYTES
    assert settings.REQUEST_BODY_MAX_BYTES > contract.MAX_FILE_BYTES + 64 * 1024
