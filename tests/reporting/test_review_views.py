"""The review pages through the client: the access matrix of every review view, what
each page shows, htmx comment posting, the grantee's side (reasons, replies, the revised
version) and the query budgets."""

import re

import pytest
from django.urls import reverse

from bpij.models import StaffRole
from reporting import services
from reporting.models import (
    ReturnReason,
    Rollup,
    Submission,
    SubmissionComment,
    SubmissionState,
)
from tests import factories
from tests.builders import period_of, submitted_version

CAST = ["admin_a", "reporter_a", "viewer_a", "coach_a", "officer", "jff_admin", "outsider_b"]
WHO = [*CAST, "coach_b"]


def expect(**codes):
    return [pytest.param(who, codes[who], id=who) for who in WHO]


@pytest.fixture
def coach_b(cast):
    """A coach assigned to coalition B only: coalition A does not exist for them."""
    coach = factories.StaffFactory(email="coach.b@jff.example", staff_role=StaffRole.COACH)
    factories.CoachAssignmentFactory(coalition=cast.coalition_b, coach=coach)
    return coach


@pytest.fixture
def person(cast, coach_b):
    return lambda who: coach_b if who == "coach_b" else cast[who]


@pytest.fixture
def submitted(cast) -> Submission:
    return submitted_version(period_of(cast.coalition_a, "2025Q3"), cast.admin_a, participants=20)


def review_url(submission, name="submission-review"):
    return reverse(f"reporting:{name}", args=[submission.code])


def period_url(submission):
    return reverse(
        "reporting:period-detail", args=[submission.coalition.code, submission.period.quarter]
    )


def return_version(submission, actor, note="Explain the drop in exits."):
    services.submission_return(
        submission=submission, actor=actor, reasons=[ReturnReason.NARRATIVE], note=note
    )


# -- The access matrix ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=200, officer=200, jff_admin=200,
        outsider_b=404, coach_b=404,
    ),
)  # fmt: skip
def test_the_review_page_is_for_the_coalitions_reviewers(
    client_for, person, submitted, who, status
):
    assert client_for(person(who)).get(review_url(submitted)).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=200, officer=200, jff_admin=200,
        outsider_b=403, coach_b=200,
    ),
)  # fmt: skip
def test_the_review_queue_is_for_jff_reviewers(client_for, person, submitted, who, status):
    response = client_for(person(who)).get(reverse("reporting:review-queue"))
    assert response.status_code == status
    if status == 200:
        # A coach sees only the coalitions they coach.
        listed = str(submitted.code) in response.content.decode()
        assert listed is (who != "coach_b")


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=302, officer=302, jff_admin=302,
        outsider_b=404, coach_b=404,
    ),
)  # fmt: skip
def test_starting_a_review(client_for, person, submitted, who, status):
    response = client_for(person(who)).post(review_url(submitted, "review-start"))
    assert response.status_code == status
    submitted.refresh_from_db()
    assert (submitted.state == SubmissionState.IN_REVIEW) is (status == 302)


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=302, officer=302, jff_admin=302,
        outsider_b=404, coach_b=404,
    ),
)  # fmt: skip
def test_returning_a_version(client_for, person, submitted, who, status):
    response = client_for(person(who)).post(
        review_url(submitted, "submission-return"),
        {"reasons": ["narrative", "figures"], "note": "Explain the exits.", "confirmed": "yes"},
    )
    assert response.status_code == status
    submitted.refresh_from_db()
    assert (submitted.state == SubmissionState.RETURNED) is (status == 302)
    if status == 302:
        assert submitted.return_reasons == ["figures", "narrative"]


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=403, officer=302, jff_admin=302,
        outsider_b=404, coach_b=404,
    ),
)  # fmt: skip
def test_accepting_a_version(client_for, person, submitted, who, status):
    response = client_for(person(who)).post(
        review_url(submitted, "submission-accept"), {"confirmed": "yes"}
    )
    assert response.status_code == status
    submitted.refresh_from_db()
    assert (submitted.state == SubmissionState.ACCEPTED) is (status == 302)


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=302, reporter_a=302, viewer_a=403, coach_a=302, officer=302, jff_admin=302,
        outsider_b=404, coach_b=404,
    ),
)  # fmt: skip
def test_starting_a_comment_thread(client_for, person, submitted, who, status):
    response = client_for(person(who)).post(
        review_url(submitted, "comment-post"), {"body": "Why so few exits?"}
    )
    assert response.status_code == status
    # The coalition's administrators and reporters may post, but only as replies: a new
    # thread from them comes back to their page with the reason and creates nothing.
    reviewer = who in ("coach_a", "officer", "jff_admin")
    assert SubmissionComment.objects.exists() is reviewer
    if who in ("admin_a", "reporter_a"):
        assert response.url == period_url(submitted) + "#comments"


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=302, reporter_a=302, viewer_a=403, coach_a=302, officer=302, jff_admin=302,
        outsider_b=404, coach_b=404,
    ),
)  # fmt: skip
def test_replying_to_a_comment(cast, client_for, person, submitted, who, status):
    first = services.submission_comment(submission=submitted, actor=cast.coach_a, body="Why?")
    response = client_for(person(who)).post(
        review_url(submitted, "comment-post"), {"body": "Because.", "parent": str(first.code)}
    )
    assert response.status_code == status
    assert first.replies.exists() is (status == 302)


@pytest.mark.parametrize(
    ("who", "status", "sees"),
    [
        ("admin_a", 200, True),
        ("viewer_a", 200, True),
        ("coach_a", 200, True),
        ("outsider_b", 404, False),
        ("coach_b", 404, False),
    ],
)
def test_the_coalition_reads_jffs_comments_on_its_report_and_nobody_else_does(
    cast, client_for, person, submitted, who, status, sees
):
    services.submission_comment(
        submission=submitted, actor=cast.coach_a, body="Please explain the exits."
    )
    response = client_for(person(who)).get(period_url(submitted))
    assert response.status_code == status
    assert ("Please explain the exits." in response.content.decode()) is sees


@pytest.mark.parametrize(
    "name", ["review-queue", "submission-review", "review-start", "submission-accept"]
)
def test_changes_need_a_post_and_pages_a_get(cast, client_for, submitted, name):
    client = client_for(cast.officer)
    if name in ("review-queue", "submission-review"):
        url = reverse(f"reporting:{name}", args=[] if name == "review-queue" else [submitted.code])
        assert client.post(url).status_code == 405
    else:
        assert client.get(review_url(submitted, name)).status_code == 405


def test_a_version_not_yet_sent_has_no_review_page(cast, client_for):
    from tests.builders import checked_version

    draft = checked_version(period_of(cast.coalition_a, "2025Q3"), cast.admin_a, participants=5)
    assert client_for(cast.officer).get(review_url(draft)).status_code == 404


# -- What the pages show ----------------------------------------------------------------------


def test_the_review_page_shows_the_version_and_the_actions_each_reviewer_may_take(
    cast, client_for, submitted
):
    officer_page = client_for(cast.officer).get(review_url(submitted)).content.decode()
    assert "2025Q3 report, version 1" in officer_page
    assert "Ada Admin" in officer_page  # the certifier
    assert "A-2</span> Participants served" in officer_page
    assert "Accept version 1" in officer_page
    assert "Return version 1" in officer_page
    assert "Start the review" in officer_page
    coach_page = client_for(cast.coach_a).get(review_url(submitted)).content.decode()
    assert "Return version 1" in coach_page
    assert "Accept version 1" not in coach_page


def test_a_return_without_reasons_or_note_shows_what_is_missing(cast, client_for, submitted):
    response = client_for(cast.coach_a).post(
        review_url(submitted, "submission-return"), {"note": " "}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose at least one reason" in page
    assert "Write a note saying what to change." in page
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED


def test_a_comment_posted_with_htmx_returns_the_threads_only(cast, client_for, submitted):
    response = client_for(cast.coach_a).post(
        review_url(submitted, "comment-post"),
        {"body": "Check A-2.", "figure_key": "A-2", "figure_window": "current_quarter"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="comments"')
    assert "On A-2 Participants served (Current quarter)" in page
    assert "Check A-2." in page
    assert "<html" not in page
    comment = SubmissionComment.objects.get()
    assert comment.figure_key == "A-2"
    # An empty comment comes back with the reason, in the same fragment.
    response = client_for(cast.coach_a).post(
        review_url(submitted, "comment-post"), {"body": ""}, HTTP_HX_REQUEST="true"
    )
    assert "cannot be empty" in response.content.decode()
    assert SubmissionComment.objects.count() == 1


def test_the_grantee_sees_why_a_version_was_returned_and_starts_the_revision_from_it(
    cast, client_for, submitted, django_capture_on_commit_callbacks
):
    first = services.submission_comment(
        submission=submitted, actor=cast.coach_a, body="Exits look low."
    )
    with django_capture_on_commit_callbacks(execute=True):
        return_version(submitted, cast.coach_a)
    client = client_for(cast.reporter_a)
    page = client.get(period_url(submitted)).content.decode()
    assert "JFF returned version 1 for revision" in page
    assert "Narrative is missing or incomplete" in page
    assert "Explain the drop in exits." in page
    assert "Exits look low." in page
    assert "Start version 2 from this one" in page

    # The reporter replies on the returned version, then starts version 2 from it.
    client.post(
        review_url(submitted, "comment-post"), {"body": "Fixed the dates.", "parent": first.code}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"])
        )
    assert response.status_code == 302
    second = Submission.objects.get(period=submitted.period, version=2)
    assert second.previous_id == submitted.pk
    page = client.get(period_url(submitted)).content.decode()
    assert "You are working on version 2, which started from it." in page
    assert "Fixed the dates." in page
    assert "Explain the drop in exits." in page

    # A viewer reads all of it but is offered neither the start button nor replies.
    viewer_page = client_for(cast.viewer_a).get(period_url(submitted)).content.decode()
    assert "Explain the drop in exits." in viewer_page
    assert 'name="parent"' not in viewer_page


def test_an_accepted_version_says_who_accepted_it_and_when(cast, client_for, submitted):
    cast.officer.full_name = "Olive Officer"
    cast.officer.save(update_fields=["full_name"])
    services.submission_accept(submission=submitted, actor=cast.officer)
    page = client_for(cast.admin_a).get(period_url(submitted)).content.decode()
    assert "JFF accepted version 1 (Olive Officer)" in page


def test_the_queue_lists_waiting_versions_oldest_first(cast, client_for, submitted):
    other = factories.GrantFactory(
        coalition__name="Charlie Transit Coalition (test)", coalition__slug="charlie"
    ).coalition
    admin_c = factories.MembershipFactory(coalition=other, role="grantee_admin").user
    later = submitted_version(period_of(other, "2025Q3"), admin_c, participants=5)
    decided = submitted_version(period_of(cast.coalition_a, "2025Q2"), cast.admin_a, participants=5)
    services.submission_accept(submission=decided, actor=cast.officer)
    page = client_for(cast.officer).get(reverse("reporting:review-queue")).content.decode()
    assert page.index(str(submitted.code)) < page.index(str(later.code))
    assert str(decided.code) not in page
    in_review = client_for(cast.officer).get(reverse("reporting:review-queue") + "?state=in_review")
    assert str(submitted.code) not in in_review.content.decode()


# -- Query budgets -------------------------------------------------------------------------


def count(client, url, django_assert_max_num_queries, *, unseen: int = 0) -> int:
    """Statements for one page view; ``unseen`` adds those Django's counter misses (the
    COPY that reads a version's records back when there is no roll-up to read)."""
    client.get(url)  # warm caches (content types, sessions)
    with django_assert_max_num_queries(12 - unseen) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries) + unseen


def test_the_review_pages_keep_a_fixed_number_of_queries(
    cast, client_for, submitted, django_assert_max_num_queries
):
    client = client_for(cast.coach_a)
    queue = reverse("reporting:review-queue")
    # No roll-up yet: the figures come from the records, two COPY statements.
    assert not Rollup.objects.filter(submission=submitted).exists()
    few = (
        count(client, review_url(submitted), django_assert_max_num_queries, unseen=2),
        count(client, queue, django_assert_max_num_queries),
    )
    first = None
    for n in range(6):
        first = services.submission_comment(
            submission=submitted,
            actor=cast.coach_a,
            body=f"Comment {n}",
            figure_key="A-2" if n % 2 else "",
        )
        services.submission_comment(
            submission=submitted, actor=cast.admin_a, body=f"Reply {n}", parent=first
        )
    for quarter in ("2024Q3", "2024Q4", "2025Q1"):
        submitted_version(period_of(cast.coalition_a, quarter), cast.admin_a, participants=5)
    many = (
        count(client, review_url(submitted), django_assert_max_num_queries, unseen=2),
        count(client, queue, django_assert_max_num_queries),
    )
    assert many == few
    # With the period's roll-up, the figures are read from it, joined to the version.
    services.rollup_period(period_id=submitted.period_id)
    assert Rollup.objects.filter(submission=submitted).exists()
    assert count(client, review_url(submitted), django_assert_max_num_queries) == few[0] - 2


def test_the_grantees_page_with_comments_keeps_a_fixed_number_of_queries(
    cast, client_for, submitted, django_assert_max_num_queries
):
    client = client_for(cast.admin_a)
    url = period_url(submitted)

    def measure():
        client.get(url)
        with django_assert_max_num_queries(20) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    first = services.submission_comment(submission=submitted, actor=cast.coach_a, body="One")
    few = measure()
    for n in range(8):
        services.submission_comment(
            submission=submitted, actor=cast.admin_a, body=f"Reply {n}", parent=first
        )
        services.submission_comment(submission=submitted, actor=cast.officer, body=f"New {n}")
    assert measure() == few


# -- Confirmation on decisions (issue 12) ----------------------------------------------------


def test_the_review_page_carries_a_modal_saying_what_each_decision_does_and_who_is_told(
    cast, client_for, submitted
):
    page = client_for(cast.officer).get(review_url(submitted)).content.decode()
    accept = page[page.index('id="confirm-accept"') :]
    accept = accept[: accept.index('id="confirm-accept-description"') + 600]
    assert "Accept version 1 of Alpha Wind Coalition (test)&#x27;s 2025Q3 report?" in accept
    assert "No e-mail is sent" in accept
    assert 'data-open-modal aria-controls="confirm-accept"' in page
    assert 'data-open-modal aria-controls="confirm-return"' in page
    ret = page[page.index('id="confirm-return"') :]
    assert "Return version 1 to Alpha Wind Coalition (test)?" in ret
    assert "administrators and reporters are e-mailed the reasons" in ret
    assert 'form="return-form" name="confirmed" value="yes"' in ret
    # Without JavaScript the modals stay hidden; the page's buttons post unconfirmed.
    assert re.search(r'class="usa-modal hub-confirm-modal" id="confirm-accept"[^>]* hidden>', page)


def test_an_unconfirmed_accept_decides_nothing_and_asks_first(cast, client_for, submitted):
    client = client_for(cast.officer)
    response = client.post(review_url(submitted, "submission-accept"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Accept version 1 of Alpha Wind Coalition (test)&#x27;s 2025Q3 report?" in page
    assert "No e-mail is sent" in page
    assert 'name="confirmed" value="yes"' in page
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED
    assert not submitted.events.filter(to_state=SubmissionState.ACCEPTED).exists()
    # The confirm page's own button decides.
    response = client.post(review_url(submitted, "submission-accept"), {"confirmed": "yes"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.ACCEPTED


def test_an_unconfirmed_return_decides_nothing_and_shows_what_will_be_sent(
    cast, client_for, submitted, mailoutbox
):
    client = client_for(cast.coach_a)
    data = {"reasons": ["narrative"], "note": "Explain the drop in exits <b>please</b>."}
    response = client.post(review_url(submitted, "submission-return"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Return version 1 to Alpha Wind Coalition (test)?" in page
    assert "Its administrators and reporters are e-mailed the reasons and your note;" in page
    assert "program officers (other than you) are e-mailed that it was returned" in page
    assert "Narrative is missing or incomplete" in page
    # What was written is carried, escaped, to the confirm step: nothing is lost.
    assert 'name="note" value="Explain the drop in exits &lt;b&gt;please&lt;/b&gt;."' in page
    assert '<input type="hidden" name="reasons" value="narrative">' in page
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED
    assert not [m for m in mailoutbox if "returned" in m.subject]

    # "Change the reasons or note" goes back to the review page with the form filled in.
    back = client.post(review_url(submitted, "submission-return"), {**data, "confirmed": "edit"})
    assert back.status_code == 200
    assert (
        "Explain the drop in exits &lt;b&gt;please&lt;/b&gt;.</textarea>" in back.content.decode()
    )
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED

    response = client.post(review_url(submitted, "submission-return"), {**data, "confirmed": "yes"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.RETURNED
    assert submitted.return_note == data["note"]


def test_an_invalid_return_is_refused_before_any_confirmation(cast, client_for, submitted):
    response = client_for(cast.coach_a).post(
        review_url(submitted, "submission-return"), {"note": "x", "confirmed": "yes"}
    )
    assert response.status_code == 400
    assert "Choose at least one reason" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED
