"""Review with memory (issue 12, item 1): a later version's review page, and the
grantee's report page, carry the whole conversation of the period across its versions
(sending, comments, replies, returns with their reasons and note, acceptance), what
changed from the previous version (files, rows, figures, findings) and links to every
version; with the same number of queries whatever the number of versions and comments."""

import re
from collections import Counter

import pytest
from django.urls import reverse

from reporting import selectors, services
from reporting.checks import rules, synthetic
from reporting.models import (
    Finding,
    ParticipantRecord,
    PlacementRecord,
    ReturnReason,
    Submission,
    SubmissionComment,
    Upload,
)
from reporting.selectors import review as review_selectors
from tests import factories
from tests.builders import checked_version, period_of, submitted_version

QUARTER = "2025Q3"


def review_url(submission, name="submission-review"):
    return reverse(f"reporting:{name}", args=[submission.code])


def period_url(submission):
    return reverse("reporting:period-detail", args=[submission.coalition.code, QUARTER])


def returned(submission, actor, note):
    services.submission_return(
        submission=submission,
        actor=actor,
        reasons=[ReturnReason.FIGURES, ReturnReason.NARRATIVE],
        note=note,
    )


@pytest.fixture
def history(cast):
    """Version 1 (20 participants), commented on, answered and returned; version 2 (28
    participants, other files) certified and waiting for review."""
    cast.coach_a.full_name = "Cora Coach"
    cast.coach_a.save(update_fields=["full_name"])
    period = period_of(cast.coalition_a, QUARTER)
    # Version 1's participant file has a column the contract does not know: a warning
    # (F03) that version 2's file no longer has.
    people, jobs = synthetic.generate_files(20, seed=1, period=QUARTER)
    lines = people.decode().splitlines()
    people = "\n".join([lines[0] + ",notes", *(line + "," for line in lines[1:])]) + "\n"
    first = submitted_version(period, cast.admin_a, files=(people.encode(), jobs))
    thread = services.submission_comment(
        submission=first, actor=cast.coach_a, body="Exits look low against the plan."
    )
    services.submission_comment(
        submission=first, actor=cast.admin_a, body="Two exits were missing.", parent=thread
    )
    returned(first, cast.coach_a, "Add the missing exits and explain the drop.")
    services.submission_comment(
        submission=first, actor=cast.admin_a, body="Added them in version 2.", parent=thread
    )
    second = submitted_version(period, cast.admin_a, participants=28, seed=2)
    first.refresh_from_db()
    return first, second


def page_of(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


def test_version_2s_review_shows_version_1s_return_comments_and_replies_in_order(
    cast, client_for, history
):
    first, second = history
    assert second.version == 2
    assert second.previous_id == first.pk
    page = page_of(client_for(cast.coach_a), review_url(second))
    comments = section(page, "comments-section")
    assert "No comments on this version" not in comments
    said = [
        "Version 1</span> Certified and sent",
        "Exits look low against the plan.",
        "Two exits were missing.",
        "Added them in version 2.",
        "Version 1</span> Returned for revision",
        ReturnReason.FIGURES.label,
        ReturnReason.NARRATIVE.label,
        "Add the missing exits and explain the drop.",
        "Version 2</span> Certified and sent",
    ]
    positions = [comments.index(text) for text in said]
    # The thread (its replies inside it) began before the return, which came before v2.
    assert positions == sorted(positions)
    assert 'aria-label="Comment by Cora Coach, version 1"' in comments
    # A reviewer may still answer version 1's thread from version 2's page; the reply
    # goes to version 1, and the answer is version 2's page.
    assert f'action="{review_url(first, "comment-post")}"' in comments
    assert f'name="viewing" value="{second.code}"' in comments


def test_every_version_of_the_period_is_linked_from_the_review_page(cast, client_for, history):
    first, second = history
    draft_period = period_of(cast.coalition_a, QUARTER)
    returned(second, cast.officer, "One more thing.")
    third = checked_version(draft_period, cast.admin_a, participants=5, seed=3)
    page = page_of(client_for(cast.officer), review_url(second))
    versions = section(page, "versions-heading")
    assert f'href="{review_url(first)}"' in versions
    assert "<strong>Version 2</strong> (this page)" in versions
    # Version 3 is the coalition's draft: no review page, a link to the coalition's page.
    assert f'href="{review_url(third)}"' not in versions
    assert f'href="{period_url(third)}"' in versions
    assert "Version 3 — Ready to certify" in versions
    # Version 1's page links forward to version 2's.
    assert f'href="{review_url(second)}"' in section(
        page_of(client_for(cast.officer), review_url(first)), "versions-heading"
    )


def test_what_changed_from_the_previous_version(cast, client_for, history):
    first, second = history
    page = page_of(client_for(cast.coach_a), review_url(second))
    changes = section(page, "changes")
    assert "What changed from version 1" in changes
    assert f'href="{review_url(first)}"' in changes

    # Files replaced: each version's name, the start of its SHA-256 and its rows.
    for upload in Upload.objects.filter(submission__in=(first, second), is_current=True):
        assert upload.sha256[:12] in changes
        assert f"{upload.data_rows} row" in changes
    assert changes.count("Replaced") == 2

    # Rows, counted by participant ID, from the records each version kept.
    for model, kind in ((ParticipantRecord, "Participants"), (PlacementRecord, "Placements")):
        before = set(
            model.objects.filter(submission=first).values_list("participant_id", flat=True)
        )
        after = set(
            model.objects.filter(submission=second).values_list("participant_id", flat=True)
        )
        row = re.search(rf"<th scope=\"row\">{kind}</th>(.*?)</tr>", changes).group(1)
        cells = re.findall(r'<td class="hub-num">([\d,]+)</td>', row)
        assert cells == [
            str(model.objects.filter(submission=first).count()),
            str(model.objects.filter(submission=second).count()),
            str(len(after - before)),
            str(len(before - after)),
        ]
    assert len(set(ParticipantRecord.objects.filter(submission=second).values_list(
        "participant_id", flat=True))) > 20  # fmt: skip

    # Each figure that moved, before → after, as the figures of each version give it.
    before = selectors.figures_for(first)["windows"]["current_quarter"]["A-2"]
    after = selectors.figures_for(second)["windows"]["current_quarter"]["A-2"]
    assert before != after
    row = re.search(r"A-2</span> Participants served</th>(.*?)</tr>", changes).group(1)
    current_quarter = re.findall(r'<td class="hub-num">(.*?)</td>', row)[0]
    assert re.sub(r"<[^>]+>", "", current_quarter) == f"{before:,} →to {after:,}"
    # Findings by rule: version 1's unknown column is fixed, named by the rule's title.
    assert Finding.objects.filter(upload__submission=first, code="F03").count() == 1
    assert not Finding.objects.filter(upload__submission=second, upload__is_current=True).exists()
    row = re.search(rf"<th scope=\"row\">{rules.title('F03')} (.*?)</tr>", changes).group(1)
    assert "F03 · warning" in row
    assert re.findall(r'<td class="hub-num">(\d+)</td>', row) == ["1", "0", "1", "0"]
    # No SSN reaches the page, in full or in part.
    assert not re.search(r"\b\d{3}-?\d{2}-?\d{4}\b", changes)


def test_an_earlier_versions_figures_are_computed_once_not_on_every_view(cast, client_for, history):
    """Version 1 has no roll-up (it was returned): its figures are computed from its
    records the first time and kept; a later view reads them without the records."""
    first, second = history
    client = client_for(cast.coach_a)
    before = selectors.figures_for(first)["windows"]["current_quarter"]["A-2"]
    page_of(client, review_url(second))
    ParticipantRecord.objects.filter(submission=first).delete()
    assert selectors.figures_for(first)["windows"]["current_quarter"]["A-2"] == 0
    changes = section(page_of(client, review_url(second)), "changes")
    row = re.search(r"A-2</span> Participants served</th>(.*?)</tr>", changes).group(1)
    assert re.sub(r"<[^>]+>", "", re.findall(r"<td[^>]*>(.*?)</td>", row)[0]).startswith(
        f"{before:,} →"
    )


def test_findings_fixed_and_new_by_rule(cast):
    """Counted per rule over each version's current files, named by the rule's title."""
    period = period_of(cast.coalition_a, QUARTER)
    noisy = checked_version(period, cast.admin_a, participants=60, seed=4, error_rate=0.2)
    clean = checked_version(period_of(cast.coalition_a, "2025Q2"), cast.admin_a,
                            participants=60, seed=4)  # fmt: skip
    empty = {"windows": {}}
    changes = review_selectors.version_changes(
        noisy, clean, figures_before=empty, figures_after=empty
    )
    counted = Counter(
        Finding.objects.filter(upload__submission=noisy, upload__is_current=True).values_list(
            "code", flat=True
        )
    )
    remaining = Counter(
        Finding.objects.filter(upload__submission=clean, upload__is_current=True).values_list(
            "code", flat=True
        )
    )
    assert counted, "the noisy version has findings"
    by_code = Counter()
    for change in changes.findings:
        assert change.title == rules.title(change.code)
        by_code[change.code] += change.fixed - change.new
    for code in counted | remaining:
        assert by_code[code] == counted[code] - remaining[code]
    assert sum(c.fixed for c in changes.findings) > 0


def test_the_grantee_reads_every_versions_conversation_and_links_to_each_version(
    cast, client_for, history
):
    first, second = history
    # Version 2's only comment; version 1's thread and return stay on the page.
    services.submission_comment(submission=second, actor=cast.coach_a, body="Better, thanks.")
    page = page_of(client_for(cast.viewer_a), period_url(second))
    comments = section(page, "comments-section")
    for text in (
        "Exits look low against the plan.",
        "Added them in version 2.",
        "Add the missing exits and explain the drop.",
        "Better, thanks.",
    ):
        assert text in comments
    assert comments.index("Added them in version 2.") < comments.index("Better, thanks.")
    assert 'name="parent"' not in comments  # a viewer reads, does not reply
    admin_page = page_of(client_for(cast.admin_a), period_url(second))
    assert 'name="parent"' in section(admin_page, "comments-section")
    versions = section(admin_page, "versions-heading")
    for version in (first, second):
        assert f'href="{review_url(version, "preview")}"' in versions
        assert f'href="{review_url(version, "findings")}"' in versions
        # A grantee has no review page to be sent to.
        assert f'href="{review_url(version)}"' not in versions
    coach_versions = section(
        page_of(client_for(cast.coach_a), period_url(second)), "versions-heading"
    )
    assert f'href="{review_url(first)}"' in coach_versions


def test_a_reply_to_version_1_from_version_2s_page_keeps_version_2s_page(cast, client_for, history):
    first, second = history
    thread = SubmissionComment.objects.get(submission=first, parent=None)
    response = client_for(cast.coach_a).post(
        review_url(first, "comment-post"),
        {
            "body": "Thanks, that settles it.",
            "parent": str(thread.code),
            "viewing": str(second.code),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "Thanks, that settles it." in fragment
    # The new-thread form is version 2's, as on the page the reply came from.
    assert 'id="new-comment" class="usa-form maxw-full border-top-1px' in fragment
    assert f'action="{review_url(second, "comment-post")}"' in fragment
    assert thread.replies.filter(body="Thanks, that settles it.", submission=first).exists()
    # Without htmx, back to version 2's review page at the thread.
    response = client_for(cast.coach_a).post(
        review_url(first, "comment-post"),
        {"body": "Once more.", "parent": str(thread.code), "viewing": str(second.code)},
    )
    assert response.url == review_url(second) + f"#thread-{thread.code}"


def test_another_coalitions_versions_and_comments_never_show(cast, client_for, history):
    _first, second = history

    other = factories.GrantFactory(
        coalition__name="Charlie Transit Coalition (test)", coalition__slug="charlie"
    ).coalition
    admin_c = factories.MembershipFactory(coalition=other, role="grantee_admin").user
    theirs = submitted_version(period_of(other, QUARTER), admin_c, participants=5)
    services.submission_comment(submission=theirs, actor=cast.officer, body="Charlie's note.")
    page = page_of(client_for(cast.officer), review_url(second))
    assert "Charlie's note." not in page
    assert str(theirs.code) not in page


def test_the_review_page_keeps_its_query_count_whatever_the_versions_and_comments(
    cast, client_for, history, django_assert_max_num_queries
):
    _first, second = history

    def measure(submission) -> int:
        client = client_for(cast.officer)  # one test client: each measure signs in again
        client.get(review_url(submission))  # warm caches (sessions, figures)
        # 13 today: the request's 4, the version, the period's versions, their comments,
        # warnings, the two versions' files, rows (one per file), findings fixed and new,
        # the findings summary, the history. The bound leaves room, never growth.
        with django_assert_max_num_queries(15) as captured:
            assert client.get(review_url(submission)).status_code == 200
        return len(captured.captured_queries)

    def grantee_page() -> int:
        grantee = client_for(cast.admin_a)
        grantee.get(period_url(second))
        with django_assert_max_num_queries(20) as captured:
            assert grantee.get(period_url(second)).status_code == 200
        return len(captured.captured_queries)

    few = measure(second)
    few_grantee = grantee_page()
    period = second.period
    latest = second
    for n in range(2):
        for k in range(4):
            thread = services.submission_comment(
                submission=latest, actor=cast.coach_a, body=f"Point {n}.{k}"
            )
            services.submission_comment(
                submission=latest, actor=cast.admin_a, body=f"Answer {n}.{k}", parent=thread
            )
        returned(latest, cast.officer, f"Return {n}")
        latest = submitted_version(period, cast.admin_a, participants=10 + n, seed=5 + n)
    assert Submission.objects.filter(period=period).count() == 4
    assert measure(latest) == few
    assert grantee_page() == few_grantee
