"""The narrative is saved as the person types (htmx posts the form a second after the
last keystroke) and by its button without JavaScript; what the page shows after each."""

import pytest
from django.urls import reverse

from reporting.models import Submission, SubmissionState

TEXT = {"progress": "Enrolled 40 people.", "challenges": "Snow.", "ta_needs": "Outreach."}


@pytest.fixture(autouse=True)
def in_october_2025(time_machine):
    time_machine.move_to("2025-10-20 15:41 -0400")


def save(client, submission, data, **extra):
    return client.post(reverse("reporting:narrative-save", args=[submission.code]), data, **extra)


def test_an_autosave_stores_the_narrative_and_answers_with_the_time_it_was_saved(report):
    client, submission = report
    response = save(client, submission, TEXT, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().strip() == "Saved at 3:41 p.m."
    submission.refresh_from_db()
    saved = (
        submission.narrative_progress,
        submission.narrative_challenges,
        submission.narrative_ta_needs,
    )
    assert saved == ("Enrolled 40 people.", "Snow.", "Outreach.")


def test_the_save_button_still_works_without_javascript(report):
    client, submission = report
    response = save(client, submission, TEXT, follow=True)
    assert "Narrative saved." in response.content.decode()
    submission.refresh_from_db()
    assert submission.narrative_progress == "Enrolled 40 people."


def test_an_autosave_that_cannot_save_says_why_in_the_same_place(report):
    client, submission = report
    too_long = save(client, submission, {**TEXT, "progress": "x" * 10001}, HTTP_HX_REQUEST="true")
    assert "Not saved:" in too_long.content.decode()
    assert "at most 10,000 characters" in too_long.content.decode()
    Submission.objects.filter(pk=submission.pk).update(state=SubmissionState.SUBMITTED)
    locked = save(client, submission, TEXT, HTTP_HX_REQUEST="true").content.decode()
    assert "Not saved:</strong> This version is locked" in locked
    submission.refresh_from_db()
    assert submission.narrative_progress == ""


def test_the_narrative_form_saves_as_the_person_types_into_a_live_region(report, cast):
    client, _ = report
    page = client.get(
        reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"])
    ).content.decode()
    assert 'hx-trigger="input delay:1s, change"' in page
    assert '<p id="narrative-saved" class="hub-saved" role="status">' in page
