"""A file name people chose goes into Content-Disposition quoted, never as header syntax."""

import email.message
import io

import pytest
from django.test import TestCase
from django.urls import reverse

from reporting import services
from tests import builders
from tests.reporting.checks.cases import csv_bytes, person

pytestmark = pytest.mark.django_db


def filename_in(header: str) -> str | None:
    message = email.message.Message()
    message["Content-Disposition"] = header
    return message.get_filename()


def annotated_download(cast, client_for, sent_as: str):
    period = builders.period_of(cast.coalition_a, "2025Q3")
    submission = services.submission_start(period=period, actor=cast.admin_a, today=period.end_date)
    with TestCase.captureOnCommitCallbacks(execute=True):
        upload, _ = services.upload_receive(
            submission=submission,
            kind="participants",
            stream=io.BytesIO(csv_bytes([person(1)])),
            name=sent_as,
            actor=cast.admin_a,
        )
    response = client_for(cast.admin_a).get(
        reverse("reporting:upload-annotated", args=[upload.code])
    )
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    ("sent_as", "served_as"),
    [
        ('q"uote.csv', 'q"uote-with-errors.xlsx'),
        ('x.csv"; filename="evil.exe', 'x.csv"; filename="evil-with-errors.xlsx'),
        ("Año fiscal.csv", "Año fiscal-with-errors.xlsx"),
    ],
)
def test_an_uploaded_files_name_comes_back_as_it_was_named(cast, client_for, sent_as, served_as):
    header = annotated_download(cast, client_for, sent_as)["Content-Disposition"]

    assert header.startswith("attachment;")
    assert filename_in(header) == served_as


def test_a_quote_in_the_name_is_escaped_inside_the_quoted_filename(cast, client_for):
    response = annotated_download(cast, client_for, 'q"uote.csv')

    assert response["Content-Disposition"] == r'attachment; filename="q\"uote-with-errors.xlsx"'


def test_a_name_beyond_ascii_is_sent_as_rfc_5987(cast, client_for):
    response = annotated_download(cast, client_for, "Año fiscal.csv")

    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''A%C3%B1o%20fiscal-with-errors.xlsx"
    )
