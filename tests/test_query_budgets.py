"""Query budgets on every main page (issue 12, item 8): each role walks the pages it uses
— the report page in every state of a report — and no page reads more than its budget
(12 unless said otherwise below), nor one query more once there is more data (more
coalitions, members, versions, comments, findings and audit events)."""

import io
from dataclasses import dataclass, field
from datetime import date

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bpij.models import StaffRole
from coaching import services as coaching
from grantees.models import MemberRole
from reporting import services
from reporting.checks import synthetic
from reporting.models import ReturnReason, Submission, SubmissionState
from tests import builders, factories

BUDGET = 12
# Pages that read more by design, each with its reason. None at present: every page
# below is held to BUDGET.
BUDGETS: dict[str, int] = {}

# The report states the report page is walked in, one quarter of coalition A each. The
# accepted one comes first, so every later quarter has an accepted report before it (the
# page then also reads that report's files: the next file starts from them).
STATES = [
    ("accepted", "2024Q1"),
    ("draft", "2024Q2"),
    ("checking", "2024Q3"),
    ("needs_fixes", "2024Q4"),
    ("ready", "2025Q1"),
    ("submitted", "2025Q2"),
    ("in_review", "2025Q3"),
    ("returned", "2025Q4"),
    ("revising", "2026Q1"),
    ("not_started", "2026Q2"),
]


@dataclass
class World:
    versions: dict[str, Submission | None] = field(default_factory=dict)


def _upload(submission, actor, files, *, run: bool = True) -> None:
    for kind, data in zip(("participants", "placements"), files, strict=True):
        with TestCase.captureOnCommitCallbacks(execute=run):
            services.upload_receive(
                submission=submission, kind=kind, stream=io.BytesIO(data),
                name=f"{kind}.csv", actor=actor,
            )  # fmt: skip


def _sent(cast, quarter: str, seed: int) -> Submission:
    return builders.submitted_version(
        builders.period_of(cast.coalition_a, quarter), cast.admin_a, participants=30, seed=seed
    )


@pytest.fixture
def world(cast) -> World:
    w = World()
    a = cast.coalition_a
    accepted = _sent(cast, "2024Q1", 9)
    services.submission_accept(submission=accepted, actor=cast.officer)
    services.rollup_period(period_id=accepted.period_id)
    w.versions["accepted"] = accepted
    builders.period_of(a, "2026Q2")
    w.versions["not_started"] = None
    w.versions["draft"] = services.submission_start(
        period=builders.period_of(a, "2024Q2"), actor=cast.admin_a, today=date(2024, 7, 1)
    )
    checking = services.submission_start(
        period=builders.period_of(a, "2024Q3"), actor=cast.admin_a, today=date(2024, 10, 1)
    )
    _upload(
        checking, cast.admin_a, synthetic.generate_files(20, seed=2, period="2024Q3"), run=False
    )
    checking.refresh_from_db()
    assert checking.state == SubmissionState.CHECKING
    w.versions["checking"] = checking
    w.versions["needs_fixes"] = builders.checked_version(
        builders.period_of(a, "2024Q4"), cast.reporter_a, participants=30, seed=3, error_rate=0.2
    )
    assert w.versions["needs_fixes"].state == SubmissionState.NEEDS_FIXES
    w.versions["ready"] = builders.checked_version(
        builders.period_of(a, "2025Q1"), cast.admin_a, participants=30, seed=4
    )
    w.versions["submitted"] = _sent(cast, "2025Q2", 5)
    in_review = _sent(cast, "2025Q3", 6)
    services.submission_comment(submission=in_review, actor=cast.coach_a, body="Exits fell.")
    in_review.refresh_from_db()
    assert in_review.state == SubmissionState.IN_REVIEW
    w.versions["in_review"] = in_review
    returned = _sent(cast, "2025Q4", 7)
    services.submission_return(
        submission=returned, actor=cast.coach_a, reasons=[ReturnReason.FIGURES], note="Check."
    )
    w.versions["returned"] = returned
    answered = _sent(cast, "2026Q1", 8)
    services.submission_return(
        submission=answered, actor=cast.coach_a, reasons=[ReturnReason.OTHER], note="Fix it."
    )
    w.versions["revising"] = services.submission_start(
        period=answered.period, actor=cast.admin_a, today=date(2026, 4, 1)
    )
    # One of each kind of thing the pages list, so that "more data" is more of them (a
    # page may read one query more for a list that goes from empty to not).
    _session(cast, 0)
    for version in w.versions.values():
        if version is not None:
            version.refresh_from_db()
    return w


def _session(cast, i: int) -> None:
    coaching.session_log(
        coalition=cast.coalition_a, actor=cast.coach_a, held_on=date(2026, 5, 1 + i),
        kind="call", attendees="Dana", topics=f"Topic {i}", notes="", shared=True,
        items=[coaching.ItemInput(title=f"Item {i}", due_on=date(2026, 6, 1))],
    )  # fmt: skip


def more_data(cast, world: World) -> None:
    """What a hub holds a year on: more coalitions (each with a coach, members and a grant),
    more members, comments and replies on the versions in review, coaching sessions,
    more reports sent and audit events."""
    for _ in range(6):
        grant = factories.GrantFactory()
        factories.TargetFactory(grant=grant)
        factories.CoachAssignmentFactory(coalition=grant.coalition, coach=cast.coach_a)
        factories.MembershipFactory(coalition=grant.coalition, role=MemberRole.ADMIN)
    for _ in range(5):
        factories.MembershipFactory(coalition=cast.coalition_a, role=MemberRole.VIEWER)
    for key in ("in_review", "returned", "accepted"):
        version = world.versions[key]
        for i in range(3):
            comment = services.submission_comment(
                submission=version, actor=cast.coach_a, body=f"Question {i} on {key}."
            )
            services.submission_comment(
                submission=version, actor=cast.admin_a, body=f"Answer {i}.", parent=comment
            )
    for i in range(1, 4):
        _session(cast, i)
    bravo = builders.submitted_version(
        builders.period_of(cast.coalition_b, "2025Q2"), cast.outsider_b, participants=20, seed=21
    )
    services.rollup_period(period_id=bravo.period_id)


def pages(cast, world: World, who: str) -> dict[str, str]:
    """The main pages ``who`` uses, by a name for the report."""
    a = cast.coalition_a.code
    v = world.versions

    def report_pages() -> dict[str, str]:
        return {
            f"report page ({state})": reverse("reporting:period-detail", args=[a, quarter])
            for state, quarter in STATES
        }

    member = {
        "coalition home": reverse("grantees:coalition-detail", args=[a]),
        "reports": reverse("reporting:period-list", args=[a]),
        **report_pages(),
        "findings": reverse("reporting:findings", args=[v["needs_fixes"].code]),
        "preview": reverse("reporting:preview", args=[v["ready"].code]),
        "coaching": reverse("coaching:coalition", args=[a]),
        "exports": reverse("reporting:export-list", args=[a]),
    }
    review_pages = {
        f"review ({state})": reverse("reporting:submission-review", args=[v[state].code])
        for state in ("submitted", "in_review", "returned", "accepted")
    }
    staff = {
        "board": reverse("reporting:board"),
        "review queue": reverse("reporting:review-queue"),
        "program dashboard": reverse("reporting:program-dashboard"),
        "coalition home": reverse("grantees:coalition-detail", args=[a]),
        "coalition dashboard": reverse("coaching:coalition-dashboard", args=[a]),
        "coaching": reverse("coaching:coalition", args=[a]),
        **report_pages(),
        **review_pages,
    }
    return {
        "admin_a": {**member, "members": reverse("grantees:member-list", args=[a])},
        "reporter_a": member,
        "viewer_a": {k: u for k, u in member.items() if k not in ("findings", "preview")},
        "coach_a": {
            **staff,
            "coach home": reverse("coaching:home"),
            "coalitions": reverse("grantees:coalition-list"),
        },
        "officer": {
            **staff,
            "coalitions": reverse("grantees:coalition-list"),
            "program exports": reverse("reporting:program-exports"),
            "coaching overview": reverse("coaching:overview"),
            "coach assignments": reverse("coaching:assignments"),
            "reminders": reverse("reporting:reminder-list"),
            "audit log": reverse("audit-log"),
            "operations": reverse("reporting:operations"),
        },
        "jff_admin": {
            "coalitions": reverse("grantees:coalition-list"),
            "users": reverse("grantees:user-list"),
            "audit log": reverse("audit-log"),
            "board": reverse("reporting:board"),
            "operations": reverse("reporting:operations"),
        },
        "fpo": {
            "coalitions": reverse("grantees:coalition-list"),
            "coalition home": reverse("grantees:coalition-detail", args=[a]),
            "program dashboard": reverse("reporting:program-dashboard"),
            "program exports": reverse("reporting:program-exports"),
        },
    }[who]


def measure(client, urls: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        client.get(url)  # warm the session, the second-factor flag and the caches
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        counts[name] = len(captured.captured_queries)
    return counts


ROLES = ["admin_a", "reporter_a", "viewer_a", "coach_a", "officer", "jff_admin", "fpo"]


@pytest.mark.parametrize("who", ROLES)
def test_every_main_page_keeps_to_its_query_budget_whatever_the_data(cast, world, client_for, who):
    user = (
        factories.StaffFactory(email="fpo@dol.example", staff_role=StaffRole.FUNDER_VIEWER)
        if who == "fpo"
        else cast[who]
    )
    urls = pages(cast, world, who)
    before = measure(client_for(user), urls)
    more_data(cast, world)
    after = measure(client_for(user), urls)
    over = {name: n for name, n in after.items() if n > BUDGETS.get(name, BUDGET)}
    grew = {name: (before[name], after[name]) for name in urls if after[name] > before[name]}
    assert not over, f"over the budget of {BUDGET} queries: {over}"
    assert not grew, f"more queries with more data (before, after): {grew}"
