"""The security matrix: every URL pattern × every role × GET, POST and an htmx GET, with
the status docs/access.md promises.

The cases are generated from the URL resolver, so a new route fails here until ROUTES
says who may reach it. Django admin and allauth are checked by prefix with one rule each
(they hold no coalition's data). Every URL is filled with coalition A's real objects,
built once for the module; each case runs in its own savepoint, so a POST that changes
something (an accepted version, a removed member) is undone before the next one.

POSTs carry no data: what is tested is the access decision — 404 for another coalition's
object, 403 for a role that may read but not change, a redirect to sign-in for anonymous
— not whether the change itself succeeds (a refused form is a 400 or a redirect with a
message, both "allowed").
"""

import importlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from unittest import mock

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, clear_url_caches, get_resolver, reverse

import bpij.urls
from bpij import tenancy
from bpij.api import tokens
from bpij.models import ApiToken, StaffRole, User
from coaching import services as coaching_services
from coaching.models import ActionItem, CoachingSession
from grantees import services as grantee_services
from grantees.models import Invitation, MemberRole
from reporting import services
from reporting.checks import synthetic
from reporting.models import Export, ExportKind, ReturnReason, Submission, Upload
from reporting.services import exports
from tests import builders, factories
from tests.conftest import build_cast, sign_in
from tests.reporting.test_exports import FakeRenderer

# -- The roles ----------------------------------------------------------------------------

ANONYMOUS = "anonymous"
# The fixed cast, the Federal Project Officer and a coach of coalition B only.
ROLES = (
    ANONYMOUS,
    "admin_a",
    "reporter_a",
    "viewer_a",
    "coach_a",
    "officer",
    "jff_admin",
    "fpo",
    "coach_b",
    "outsider_b",
)
METHODS = ("GET", "POST", "HX")

# -- Expected answers ---------------------------------------------------------------------

# A write an allowed role may make: with no data it is refused as a form (400) or done
# and redirected (302) or re-rendered (200); never 403, 404 or 405.
ALLOWED = frozenset({200, 302, 400})


class SignIn:
    """Anonymous: a redirect to the sign-in page."""

    def __repr__(self) -> str:
        return "SIGN_IN"


SIGN_IN = SignIn()


Expected = int | frozenset[int] | SignIn
Row = dict[str, Expected]


def row(
    *,
    a: Expected | None = None,
    staff: Expected | None = None,
    out: Expected | None = None,
    anonymous: Expected = SIGN_IN,
    **each: Expected,
) -> Row:
    """One expected answer per role. Shorthands: ``a`` for coalition A's three members,
    ``staff`` for the program officer and the JFF administrator, ``out`` for those to
    whom A does not exist (B's administrator and B's coach). Every role must be given."""
    groups = {
        "a": ("admin_a", "reporter_a", "viewer_a"),
        "staff": ("officer", "jff_admin"),
        "out": ("coach_b", "outsider_b"),
    }
    codes: Row = {ANONYMOUS: anonymous}
    for group, value in (("a", a), ("staff", staff), ("out", out)):
        if value is not None:
            codes.update(dict.fromkeys(groups[group], value))
    codes.update(each)
    missing = set(ROLES) - set(codes)
    assert not missing, f"no expectation for {sorted(missing)}"
    return codes


def everyone(status: int) -> Row:
    return dict.fromkeys(ROLES, status)


# The view takes POST only (GET and htmx GET: 405), or GET/HEAD only (POST: 405).
POST_ONLY = "POST only"
SAFE_ONLY = "GET only"
# A POST to a page that does not restrict its methods is answered like a GET.
AS_GET = "as GET"


@dataclass(frozen=True)
class Route:
    args: Callable[["Graph"], dict[str, Any]] = lambda g: {}
    get: Row | str = POST_ONLY
    post: Row | str = AS_GET
    hx: Row | None = None  # None: like GET

    def __post_init__(self) -> None:
        assert self.get != POST_ONLY or isinstance(self.post, dict), "a POST-only route needs post="

    def expected(self, who: str, method: str) -> Expected:
        if method == "POST":
            if self.post == SAFE_ONLY:
                return _not_allowed(self.get, who)
            if self.post == AS_GET:
                method = "GET"
            else:
                assert isinstance(self.post, dict)
                return self.post[who]
        if method == "HX" and self.hx is not None:
            return self.hx[who]
        if self.get == POST_ONLY:
            assert isinstance(self.post, dict)
            return _not_allowed(self.post, who)
        assert isinstance(self.get, dict)
        return self.get[who]


def _not_allowed(other: Row | str, who: str) -> Expected:
    # Sign-in comes first (LoginRequiredMiddleware), then the method.
    if who == ANONYMOUS and isinstance(other, dict):
        return other[ANONYMOUS]
    return 405


# -- Coalition A's objects ----------------------------------------------------------------

DRAFT_NARRATIVE = "Matrix draft narrative: not sent to JFF yet"


@dataclass
class Graph:
    people: dict[str, User | None]
    coalition: Any
    accepted: Submission  # 2025Q1, accepted and exported
    sent: Submission  # 2025Q2, submitted and waiting for review
    returned: Submission  # 2025Q3 version 1, returned with a comment thread
    draft: Submission  # 2025Q3 version 2, the open draft after the return
    upload: Upload  # the draft's participant file
    export: Export  # A's report of 2025Q1
    invitation: Invitation  # pending, to coalition A
    invitation_token: str
    staff_invitation: Invitation  # pending, to JFF
    session: CoachingSession  # shared with the coalition
    item: ActionItem  # shared, owned by A's reporter
    draft_markers: list[str] = field(default_factory=list)
    token: ApiToken | None = None  # admin_a's personal API token
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)

    def client(self, who: str) -> Client:
        """A fresh client with ``who``'s session: each role signs in once per module
        (``sign_in``, as ``client_for`` does), and no case can sign another out."""
        client = Client()
        for name, value in self.cookies[who].items():
            client.cookies[name] = value
        return client


def _committed(callable_: Callable[[], Any]) -> Any:
    # Run what the service queues on commit now (checks, roll-ups, e-mails), as the
    # worker would after the commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return callable_()


def build_graph() -> Graph:
    cast = build_cast()
    a = cast.coalition_a
    fpo = factories.StaffFactory(email="fpo@dol.example", staff_role=StaffRole.FUNDER_VIEWER)
    coach_b = factories.StaffFactory(email="coach.b@jff.example", staff_role=StaffRole.COACH)
    factories.CoachAssignmentFactory(coalition=cast.coalition_b, coach=coach_b)

    accepted = builders.submitted_version(
        builders.period_of(a, "2025Q1"), cast.admin_a, participants=8, seed=21
    )
    _committed(lambda: services.submission_accept(submission=accepted, actor=cast.officer))
    with mock.patch.object(exports, "_renderer", FakeRenderer()):
        export = exports.export_request(
            actor=cast.officer,
            kind=ExportKind.COALITION_REPORT,
            quarter="2025Q1",
            coalition=a,
            enqueue=False,
        )
        exports.export_render(export_id=export.pk)
    export.refresh_from_db()

    sent = builders.submitted_version(
        builders.period_of(a, "2025Q2"), cast.admin_a, participants=8, seed=22
    )

    q3 = builders.period_of(a, "2025Q3")
    # Eight synthetic participants have no placement dated in 2025Q3: confirmed.
    returned = builders.submitted_version(q3, cast.admin_a, participants=8, seed=23, confirmed=True)
    thread = services.submission_comment(
        submission=returned, actor=cast.coach_a, body="Why did exits drop?"
    )
    services.submission_comment(
        submission=returned, actor=cast.admin_a, body="Two employers closed.", parent=thread
    )
    _committed(
        lambda: services.submission_return(
            submission=returned,
            actor=cast.coach_a,
            reasons=[ReturnReason.NARRATIVE],
            note="Explain the drop in exits.",
        )
    )
    draft = _committed(
        lambda: services.submission_start(period=q3, actor=cast.reporter_a, today=date(2025, 10, 5))
    )
    services.submission_save_narrative(
        submission=draft,
        actor=cast.reporter_a,
        progress=DRAFT_NARRATIVE,
        challenges="",
        ta_needs="",
    )
    people_file, _ = synthetic.generate_files(8, seed=24, period="2025Q3")
    upload, _ = _committed(
        lambda: services.upload_receive(
            submission=draft,
            kind="participants",
            stream=io.BytesIO(people_file),
            name="alpha-people-revised.csv",
            actor=cast.reporter_a,
        )
    )
    draft.refresh_from_db()

    with mock.patch.object(grantee_services, "new_token", return_value="matrix-invitation-link"):
        invitation = _committed(
            lambda: grantee_services.invitation_create(
                invited_by=cast.admin_a,
                coalition=a,
                email="pending@alpha.example",
                role=MemberRole.VIEWER,
            )
        )
    staff_invitation = _committed(
        lambda: grantee_services.invitation_create(
            invited_by=cast.jff_admin, email="new.coach@jff.example", role=StaffRole.COACH
        )
    )

    session = coaching_services.session_log(
        coalition=a,
        actor=cast.coach_a,
        held_on=date(2025, 9, 3),
        kind="call",
        attendees="Dana Lee, Alpha College",
        topics="Placement follow-up",
        shared=True,
        items=[
            coaching_services.ItemInput(
                title="Send wage records",
                due_on=date(2025, 10, 1),
                owner=cast.reporter_a,
                shared=True,
            )
        ],
    )
    people: dict[str, User | None] = {
        name: cast[name] for name in ROLES if name not in (ANONYMOUS, "fpo", "coach_b")
    }
    people.update({ANONYMOUS: None, "fpo": fpo, "coach_b": coach_b})
    token, _ = tokens.token_create(user=cast.admin_a, name="matrix")
    return Graph(
        token=token,
        people=people,
        coalition=a,
        accepted=accepted,
        sent=sent,
        returned=returned,
        draft=draft,
        upload=upload,
        export=export,
        invitation=invitation,
        invitation_token="matrix-invitation-link",
        staff_invitation=staff_invitation,
        session=session,
        item=ActionItem.objects.get(session=session),
        # What the pages show of the open draft: its narrative, its file's name, who sent
        # the file (the quarter's page), its version (the list of quarters).
        draft_markers=[
            DRAFT_NARRATIVE,
            upload.original_name,
            upload.uploaded_by.display_name,
            f"<td>v{draft.version}</td>",
        ],
    )


@pytest.fixture(scope="module")
def graph(django_db_setup, django_db_blocker) -> Iterator[Graph]:
    # Built once in a transaction that is rolled back when the module is done; each case
    # runs in a savepoint inside it (the ``db`` fixture).
    with django_db_blocker.unblock(), transaction.atomic():
        # Test code is trusted: it builds in the system scope, as the per-test fixture of
        # tests/conftest.py does for function-scoped data.
        with tenancy.system_scope():
            built = build_graph()
        for who, person in built.people.items():
            client = sign_in(Client(), person)
            # What a session's first request stores (that the second factor was checked)
            # is stored here once, rather than again in every case's savepoint.
            client.get("/")
            built.cookies[who] = {name: m.value for name, m in client.cookies.items()}
        yield built
        transaction.set_rollback(True)


# -- The table: every route of the hub ----------------------------------------------------


def coalition(g: Graph) -> dict:
    return {"coalition_code": g.coalition.code}


def submission(which: str) -> Callable[[Graph], dict]:
    return lambda g: {"submission_code": getattr(g, which).code}


# Coalition A's members, its coach, program staff and the FPO read it; it does not exist
# for B's people.
READ_A = row(a=200, coach_a=200, staff=200, fpo=200, out=404)
# Pages about people or versions of A (no FPO: those rows are not theirs, 404).
READ_A_PEOPLE = row(a=200, coach_a=200, staff=200, fpo=404, out=404)
# Changes by A's administrators and reporters (who send files).
FILERS_WRITE = row(
    admin_a=ALLOWED, reporter_a=ALLOWED, viewer_a=403, coach_a=403, staff=403, fpo=404, out=404
)
# Changes by A's administrators and JFF administrators (members and invitations).
MEMBER_ADMINS_WRITE = row(
    admin_a=ALLOWED, reporter_a=403, viewer_a=403, coach_a=403, officer=403,
    jff_admin=ALLOWED, fpo=403, out=404,
)  # fmt: skip
JFF_ADMIN_ONLY = row(a=403, coach_a=403, officer=403, jff_admin=200, fpo=403, out=403)
JFF_ADMIN_WRITE = row(a=403, coach_a=403, officer=403, jff_admin=ALLOWED, fpo=403, out=403)
# Reviewing a sent version: A's coach and program staff.
REVIEWERS_WRITE = row(a=403, coach_a=ALLOWED, staff=ALLOWED, fpo=404, out=404)
# Writing A's coaching record: A's coach and program staff (the FPO sees A: 403).
COACHES_FORM = row(a=403, coach_a=200, staff=200, fpo=403, out=404)
COACHES_WRITE = row(a=403, coach_a=ALLOWED, staff=ALLOWED, fpo=403, out=404)
# A shared session or item: members read it; the FPO has no such rows (404).
SHARED_FORM = row(a=403, coach_a=200, staff=200, fpo=404, out=404)
SHARED_WRITE = row(a=403, coach_a=ALLOWED, staff=ALLOWED, fpo=404, out=404)
# JFF's cross-coalition pages: every coach (each sees their own coalitions) and staff.
BOARD = row(a=403, coach_a=200, coach_b=200, staff=200, fpo=403, outsider_b=403)

SIGNED_IN = row(a=200, coach_a=200, staff=200, fpo=200, out=200)
API_SIGNED_IN = row(a=200, coach_a=200, staff=200, fpo=200, out=200, anonymous=401)
API_READ_A = row(a=200, coach_a=200, staff=200, fpo=200, out=404, anonymous=401)
API_READ_A_PEOPLE = row(a=200, coach_a=200, staff=200, fpo=404, out=404, anonymous=401)
API_FILERS_WRITE = row(
    admin_a=ALLOWED, reporter_a=ALLOWED, viewer_a=403, coach_a=403, staff=403, fpo=404, out=404,
    anonymous=401,
)  # fmt: skip


def api_submission(which: str) -> Callable[[Graph], dict]:
    return lambda g: {"submission_code": getattr(g, which).code}


ROUTES: dict[str, Route] = {
    # bpij
    "home": Route(get=row(a=302, coach_a=302, staff=302, fpo=302, out=302)),
    "audit-log": Route(get=row(a=403, coach_a=403, staff=200, fpo=403, out=403)),
    # The probes (issue 13): open to everyone, GET and HEAD only; no sign-in, no secret.
    "healthz": Route(get=everyone(200), post=everyone(405)),
    "readyz": Route(get=everyone(200), post=everyone(405)),
    # The idle-timeout warning's keep-alive: about the person's own session only, so any
    # signed-in role may ask how long is left (GET) or stay signed in (POST).
    "session": Route(
        get=row(a=200, coach_a=200, staff=200, fpo=200, out=200),
        post=row(a=200, coach_a=200, staff=200, fpo=200, out=200),
    ),
    # A person's own notification settings: JFF's staff, who receive the staff e-mails.
    "reporting:notification-settings": Route(
        get=BOARD,
        post=row(a=403, coach_a=ALLOWED, coach_b=ALLOWED, staff=ALLOWED, fpo=403, outsider_b=403),
    ),
    # grantees
    "grantees:coalition-list": Route(get=row(a=200, coach_a=200, staff=200, fpo=200, out=200)),
    "grantees:coalition-detail": Route(coalition, get=READ_A),
    "grantees:member-list": Route(
        coalition, get=row(a=200, coach_a=200, staff=200, fpo=403, out=404)
    ),
    "grantees:member-invite": Route(coalition, post=MEMBER_ADMINS_WRITE),
    "grantees:member-role": Route(
        lambda g: {
            "coalition_code": g.coalition.code,
            "member": g.people["viewer_a"].memberships.get().code,
        },
        post=MEMBER_ADMINS_WRITE,
    ),
    "grantees:member-remove": Route(
        lambda g: {
            "coalition_code": g.coalition.code,
            "member": g.people["viewer_a"].memberships.get().code,
        },
        post=MEMBER_ADMINS_WRITE,
    ),
    # An invitation names a person: not among the FPO's rows (404).
    "grantees:invitation-resend": Route(
        lambda g: {"coalition_code": g.coalition.code, "invitation": g.invitation.code},
        post=MEMBER_ADMINS_WRITE | {"fpo": 404},
    ),
    "grantees:invitation-revoke": Route(
        lambda g: {"coalition_code": g.coalition.code, "invitation": g.invitation.code},
        post=MEMBER_ADMINS_WRITE | {"fpo": 404},
    ),
    "grantees:user-list": Route(get=JFF_ADMIN_ONLY),
    "grantees:staff-invite": Route(post=JFF_ADMIN_WRITE),
    "grantees:user-role": Route(
        lambda g: {"user_code": g.people["coach_b"].uuid}, post=JFF_ADMIN_WRITE
    ),
    "grantees:user-active": Route(
        lambda g: {"user_code": g.people["coach_b"].uuid}, post=JFF_ADMIN_WRITE
    ),
    # A staff invitation is no coalition's: it exists for program-wide JFF staff only.
    "grantees:staff-invitation-resend": Route(
        lambda g: {"invitation": g.staff_invitation.code},
        post=row(a=404, coach_a=404, officer=403, jff_admin=ALLOWED, fpo=404, out=404),
    ),
    "grantees:staff-invitation-revoke": Route(
        lambda g: {"invitation": g.staff_invitation.code},
        post=row(a=404, coach_a=404, officer=403, jff_admin=ALLOWED, fpo=404, out=404),
    ),
    # The link's secret token is the authority: open to anyone, signed in or not.
    "grantees:invitation-accept": Route(lambda g: {"token": g.invitation_token}, get=everyone(200)),
    # reporting: review
    "reporting:review-queue": Route(
        get=row(a=403, coach_a=200, coach_b=200, staff=200, fpo=403, outsider_b=403),
        post=SAFE_ONLY,
    ),
    "reporting:submission-review": Route(
        submission("sent"),
        get=row(a=403, coach_a=200, staff=200, fpo=404, out=404),
        post=SAFE_ONLY,
    ),
    "reporting:review-start": Route(submission("sent"), post=REVIEWERS_WRITE),
    "reporting:submission-return": Route(submission("sent"), post=REVIEWERS_WRITE),
    "reporting:submission-accept": Route(
        submission("sent"), post=row(a=403, coach_a=403, staff=ALLOWED, fpo=404, out=404)
    ),
    # Reviewers comment; A's administrators and reporters reply.
    "reporting:comment-post": Route(
        submission("sent"),
        post=row(
            admin_a=ALLOWED,
            reporter_a=ALLOWED,
            viewer_a=403,
            coach_a=ALLOWED,
            staff=ALLOWED,
            fpo=404,
            out=404,
        ),
    ),
    # reporting: the coalition's quarterly reports
    "reporting:period-list": Route(
        coalition, get=row(a=200, coach_a=200, staff=200, fpo=404, out=404)
    ),
    "reporting:period-detail": Route(
        lambda g: {"coalition_code": g.coalition.code, "quarter": g.draft.period.quarter},
        get=row(a=200, coach_a=200, staff=200, fpo=404, out=404),
    ),
    "reporting:submission-start": Route(
        lambda g: {"coalition_code": g.coalition.code, "quarter": g.draft.period.quarter},
        post=row(
            admin_a=ALLOWED,
            reporter_a=ALLOWED,
            viewer_a=403,
            coach_a=403,
            staff=403,
            # Report pages are not the FPO's (docs/access.md): their quarters are a 404.
            fpo=404,
            out=404,
        ),
    ),
    "reporting:upload": Route(submission("draft"), post=FILERS_WRITE),
    "reporting:check-again": Route(submission("draft"), post=FILERS_WRITE),
    "reporting:narrative-save": Route(submission("draft"), post=FILERS_WRITE),
    "reporting:certify": Route(
        submission("draft"),
        post=row(
            admin_a=ALLOWED,
            reporter_a=403,
            viewer_a=403,
            coach_a=403,
            staff=403,
            fpo=404,
            out=404,
        ),
    ),
    # The receipt of a certified version: everyone who reads A's report versions.
    "reporting:submission-receipt": Route(submission("sent"), get=READ_A_PEOPLE),
    # Polled by htmx while checks run; without htmx it sends the browser to the report.
    "reporting:submission-status": Route(
        submission("draft"),
        get=row(a=302, coach_a=302, staff=302, fpo=404, out=404),
        hx=READ_A_PEOPLE,
    ),
    "reporting:findings": Route(submission("draft"), get=READ_A_PEOPLE),
    # A mass rule's list (H01's missing participants) reads like the findings it lists.
    "reporting:findings-list": Route(
        lambda g: {"submission_code": g.draft.code, "rule": "H01"},
        get=READ_A_PEOPLE,
    ),
    "reporting:preview": Route(submission("draft"), get=READ_A_PEOPLE),
    # The original carries full SSNs: only for those who send files.
    "reporting:upload-original": Route(
        lambda g: {"upload_code": g.upload.code},
        get=row(
            admin_a=200, reporter_a=200, viewer_a=403, coach_a=403, staff=403, fpo=404, out=404
        ),
    ),
    "reporting:upload-annotated": Route(
        lambda g: {"upload_code": g.upload.code}, get=READ_A_PEOPLE
    ),
    # The last accepted report's rows (no full SSN, but participant-level): for those who
    # send files. A quarter with no accepted report before it redirects with a message.
    "reporting:template-from-accepted": Route(
        lambda g: {
            "coalition_code": g.coalition.code,
            "quarter": g.draft.period.quarter,
            "kind": "participants",
        },
        get=row(
            admin_a=ALLOWED,
            reporter_a=ALLOWED,
            viewer_a=403,
            coach_a=403,
            staff=403,
            fpo=404,
            out=404,
        ),
    ),
    "reporting:template-download": Route(
        lambda g: {"kind": "participants", "fmt": "csv"},
        get=row(a=200, coach_a=200, staff=200, fpo=200, out=200),
    ),
    # reporting: JFF's pages
    "reporting:board": Route(get=BOARD),
    "reporting:board-export": Route(lambda g: {"fmt": "csv"}, get=BOARD),
    "reporting:board-remind": Route(
        post=row(a=403, coach_a=ALLOWED, coach_b=ALLOWED, staff=ALLOWED, fpo=403, outsider_b=403)
    ),
    # The operations page (issue 13): program officers and JFF administrators only.
    "reporting:operations": Route(
        get=row(a=403, coach_a=403, staff=200, fpo=403, out=403), post=SAFE_ONLY
    ),
    "reporting:reminder-list": Route(get=BOARD),
    "reporting:program-dashboard": Route(
        get=row(a=403, coach_a=200, coach_b=200, staff=200, fpo=200, outsider_b=403)
    ),
    # reporting: exports (exports.md)
    "reporting:export-list": Route(coalition, get=READ_A, post=SAFE_ONLY),
    "reporting:export-request": Route(
        coalition, post=row(a=ALLOWED, coach_a=ALLOWED, staff=ALLOWED, fpo=ALLOWED, out=404)
    ),
    "reporting:program-exports": Route(
        get=row(a=403, coach_a=403, staff=200, fpo=200, out=403), post=SAFE_ONLY
    ),
    "reporting:program-export-request": Route(
        post=row(a=403, coach_a=403, staff=ALLOWED, fpo=ALLOWED, out=403)
    ),
    # The export is A's report of an accepted version: the FPO may take it too.
    "reporting:export-status": Route(
        lambda g: {"export_code": g.export.code},
        get=row(a=302, coach_a=302, staff=302, fpo=302, out=404),
        hx=READ_A,
        post=SAFE_ONLY,
    ),
    "reporting:export-download": Route(
        lambda g: {"export_code": g.export.code}, get=READ_A, post=SAFE_ONLY
    ),
    # coaching
    "coaching:home": Route(
        get=row(a=403, coach_a=200, coach_b=200, staff=403, fpo=403, outsider_b=403)
    ),
    "coaching:overview": Route(get=BOARD),
    "coaching:assignments": Route(get=row(a=403, coach_a=403, staff=200, fpo=403, out=403)),
    "coaching:assign": Route(
        coalition, post=row(a=403, coach_a=403, staff=ALLOWED, fpo=403, out=404)
    ),
    "coaching:unassign": Route(
        lambda g: {"coalition_code": g.coalition.code, "coach_code": g.people["coach_a"].uuid},
        post=row(a=403, coach_a=403, staff=ALLOWED, fpo=403, out=404),
    ),
    "coaching:coalition": Route(
        coalition, get=row(a=200, coach_a=200, staff=200, fpo=403, out=404)
    ),
    "coaching:session-log": Route(coalition, get=COACHES_FORM, post=COACHES_WRITE),
    "coaching:risk-set": Route(coalition, post=COACHES_WRITE),
    "coaching:session-detail": Route(lambda g: {"session_code": g.session.code}, get=READ_A_PEOPLE),
    "coaching:session-edit": Route(
        lambda g: {"session_code": g.session.code}, get=SHARED_FORM, post=SHARED_WRITE
    ),
    "coaching:item-add": Route(
        lambda g: {"session_code": g.session.code}, get=SHARED_FORM, post=SHARED_WRITE
    ),
    "coaching:item-edit": Route(
        lambda g: {"item_code": g.item.code}, get=SHARED_FORM, post=SHARED_WRITE
    ),
    # The owner of a shared item may mark it done; other members may not.
    "coaching:item-status": Route(
        lambda g: {"item_code": g.item.code},
        post=row(
            admin_a=403,
            reporter_a=ALLOWED,
            viewer_a=403,
            coach_a=ALLOWED,
            staff=ALLOWED,
            fpo=404,
            out=404,
        ),
    ),
    # The Federal Project Officer reads the aggregates-only dashboard (issue 12).
    "coaching:coalition-dashboard": Route(
        coalition, get=row(a=200, coach_a=200, staff=200, fpo=200, out=404)
    ),
    # -- The API (issue 14; docs/api.md). Here through the session, as the browsable
    # pages are used; tests/api/test_access_matrix.py walks every operation with tokens.
    # Anonymous is a 401 (the API never redirects to a sign-in page).
    # Any signed-in person makes and lists their own tokens (an empty form: 400)…
    "api-tokens": Route(get=SIGNED_IN, post=row(a=400, coach_a=400, staff=400, fpo=400, out=400)),
    # …and revokes only their own: another person's token does not exist for them.
    "api-token-revoke": Route(
        lambda g: {"token_code": g.token.code},
        post=row(
            admin_a=302, reporter_a=404, viewer_a=404, coach_a=404, staff=404, fpo=404, out=404
        ),
    ),
    # The description of the API and its docs hold no data: open to all.
    "api-schema": Route(get=everyone(200), post=everyone(405)),
    "api-docs": Route(get=everyone(200), post=everyone(405)),
    "api-v1:attestation": Route(get=API_SIGNED_IN, post=SAFE_ONLY),
    "api-v1:coalition-list": Route(get=API_SIGNED_IN, post=SAFE_ONLY),
    "api-v1:coalition-detail": Route(coalition, get=API_READ_A, post=SAFE_ONLY),
    "api-v1:coalition-rollups": Route(coalition, get=API_READ_A, post=SAFE_ONLY),
    "api-v1:period-list": Route(coalition, get=API_READ_A_PEOPLE, post=SAFE_ONLY),
    # Starting the quarter's report hands back its open draft (200) to those who file.
    "api-v1:submission-list": Route(
        lambda g: {"coalition_code": g.coalition.code, "quarter": g.draft.period.quarter},
        get=API_READ_A_PEOPLE,
        post=API_FILERS_WRITE,
    ),
    "api-v1:program-rollups": Route(
        get=row(a=403, coach_a=200, coach_b=200, staff=200, fpo=200, outsider_b=403, anonymous=401),
        post=SAFE_ONLY,
    ),
    "api-v1:submission": Route(api_submission("draft"), get=API_READ_A_PEOPLE, post=SAFE_ONLY),
    "api-v1:findings": Route(api_submission("draft"), get=API_READ_A_PEOPLE, post=SAFE_ONLY),
    "api-v1:figures": Route(api_submission("accepted"), get=API_READ_A_PEOPLE, post=SAFE_ONLY),
    "api-v1:upload": Route(
        lambda g: {"upload_code": g.upload.code}, get=API_READ_A_PEOPLE, post=SAFE_ONLY
    ),
    "api-v1:upload-create": Route(api_submission("draft"), post=API_FILERS_WRITE),
    "api-v1:certify": Route(
        api_submission("draft"),
        post=row(
            admin_a=400,
            reporter_a=403,
            viewer_a=403,
            coach_a=403,
            staff=403,
            fpo=404,
            out=404,
            anonymous=401,
        ),
    ),
    "api-v1:comment": Route(
        api_submission("sent"),
        get=API_READ_A_PEOPLE,
        post=row(
            admin_a=400,
            reporter_a=400,
            viewer_a=403,
            coach_a=400,
            staff=400,
            fpo=404,
            out=404,
            anonymous=401,
        ),
    ),
    "api-v1:return": Route(
        api_submission("sent"),
        post=row(a=403, coach_a=400, staff=400, fpo=404, out=404, anonymous=401),
    ),
    "api-v1:accept": Route(
        api_submission("sent"),
        post=row(a=403, coach_a=403, staff=200, fpo=404, out=404, anonymous=401),
    ),
    # Asking for an export with no kind or quarter is refused as bad input by everyone.
    "api-v1:export-create": Route(
        post=row(a=400, coach_a=400, staff=400, fpo=400, out=400, anonymous=401)
    ),
    "api-v1:export": Route(
        lambda g: {"export_code": g.export.code}, get=API_READ_A, post=SAFE_ONLY
    ),
    "api-v1:export-download": Route(
        lambda g: {"export_code": g.export.code}, get=API_READ_A, post=SAFE_ONLY
    ),
}


# -- Walking the resolver -----------------------------------------------------------------

GROUPED_PREFIXES = ("admin/", "accounts/")


@dataclass(frozen=True)
class Pattern:
    route: str  # the full pattern, e.g. "coalitions/<uuid:coalition_code>/"
    name: str | None  # with its namespace, e.g. "grantees:coalition-detail"


def walk(patterns=None, prefix: str = "", namespace: str = "") -> Iterator[Pattern]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            yield Pattern(prefix + str(entry.pattern), name)


PATTERNS = list(walk())
HUB = [p for p in PATTERNS if not p.route.startswith(GROUPED_PREFIXES)]


def _cases() -> list:
    cases = []
    for pattern in HUB:
        name = pattern.name or pattern.route
        for who in ROLES:
            for method in METHODS:
                cases.append(pytest.param(name, who, method, id=f"{name}-{who}-{method}"))
    return cases


def send(client, method: str, url: str):
    if method == "POST":
        return client.post(url)
    if method == "HX":
        return client.get(url, HTTP_HX_REQUEST="true")
    return client.get(url)


SIGN_IN_PAGES = ("/accounts/login/", "/accounts/2fa/")


def check(response, expected: Expected, graph: Graph) -> None:
    status = response.status_code
    where = response.get("Location", "")
    if isinstance(expected, SignIn):
        assert status == 302, f"anonymous got {status}, not a redirect to sign in"
        assert where.startswith(reverse("account_login")), where
        return
    allowed = expected if isinstance(expected, frozenset) else {expected}
    assert status in allowed, f"got {status}, expected {sorted(allowed)}"
    if status == 302:
        # A signed-in person sent to sign in (again) was refused, not let through.
        assert not where.startswith(SIGN_IN_PAGES), where


@pytest.mark.parametrize(("name", "who", "method"), _cases())
def test_the_hub_answers_each_role_as_docs_access_md_says(graph, db, name, who, method):
    route = ROUTES.get(name)
    assert route is not None, (
        f"{name} has no entry in ROUTES: say who may reach it (docs/access.md) before "
        "adding the route"
    )
    response = send(graph.client(who), method, reverse(name, kwargs=route.args(graph)))
    check(response, route.expected(who, method), graph)
    if who == "fpo" and response.status_code == 200 and not response.streaming:
        # The FPO sees aggregates only: no page of theirs shows anything of the open draft.
        page = response.content.decode(errors="replace")
        shown = [marker for marker in graph.draft_markers if marker in page]
        assert not shown, f"the unsent draft shows through: {shown}"


def test_the_table_names_only_routes_that_exist():
    names = {p.name or p.route for p in HUB}
    assert set(ROUTES) - names == set()


# -- Django admin and allauth, by prefix ----------------------------------------------------

ADMIN_SAMPLE = {
    "object_id": "1",
    "id": "1",
    "content_type_id": "1",
    "app_label": "grantees",
}
ACCOUNT_SAMPLE = {"key": "no-such-key", "uidb36": "1"}


def _fill(pattern: Pattern) -> str:
    """A URL for a pattern of Django admin or allauth, with harmless sample values."""
    if pattern.name:
        converters = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern.route)
        keys = {a or b for a, b in converters}
        sample = ADMIN_SAMPLE if pattern.route.startswith("admin/") else ACCOUNT_SAMPLE
        return reverse(pattern.name, kwargs={k: sample[k] for k in keys})
    # admin's unnamed patterns: an object's old URL, and the catch-all.
    path = pattern.route.replace("<path:object_id>", "1").replace("(?P<url>.*)$", "nowhere/")
    return "/" + path


ACCOUNTS = [p for p in PATTERNS if p.route.startswith("accounts/")]
# Django admin is routed only when ADMIN_ENABLED is on (off by default, and here): its
# patterns are taken from the admin site itself, so the rule for each is checked with
# admin routed, and the resolver's list (empty) is checked to be empty.
ADMIN = list(walk(admin.site.get_urls(), "admin/", "admin:"))


# Being an operator (``is_staff``) is not a role of the hub: no role is one, so one
# member of each kind stands for all (a coalition member, the highest JFF role, the FPO).
REPRESENTATIVES = (ANONYMOUS, "admin_a", "jff_admin", "fpo")
ADMIN_DOORS = {"admin:login", "admin:logout"}
ADMIN_FRONT_DOORS = ("/admin/", "/admin/login/")


def _route_admin() -> None:
    importlib.reload(bpij.urls)
    clear_url_caches()


@pytest.fixture
def admin_routed(settings) -> Iterator[None]:
    settings.ADMIN_ENABLED = True
    _route_admin()
    try:
        yield
    finally:
        settings.ADMIN_ENABLED = False
        _route_admin()


def test_admin_is_off_by_default_so_the_resolver_has_no_admin_route(settings):
    assert settings.ADMIN_ENABLED is False
    assert [p.route for p in PATTERNS if p.route.startswith("admin/")] == []


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("url", ADMIN_FRONT_DOORS)
def test_with_admin_off_its_doors_are_not_found_for_any_role(graph, db, settings, url, who):
    assert settings.ADMIN_ENABLED is False
    for method in METHODS:
        response = send(graph.client(who), method, url)
        assert response.status_code == 404, (method, response.status_code)


@pytest.mark.parametrize("who", REPRESENTATIVES)
@pytest.mark.parametrize("pattern", ADMIN, ids=lambda p: p.name or p.route)
def test_with_admin_on_no_role_of_the_hub_reaches_it(graph, db, admin_routed, pattern, who):
    """Rule for /admin/ when it is on: no role of the hub is an operator, so every admin
    page sends them to a sign-in page or refuses; its sign-in and sign-out pages may
    answer."""
    url = _fill(pattern)
    for method in ("GET", "POST"):
        response = send(graph.client(who), method, url)
        if pattern.name in ADMIN_DOORS:
            assert response.status_code in (200, 302, 403, 405), (method, response.status_code)
            continue
        assert response.status_code in (302, 403, 404), (method, response.status_code)
        if response.status_code == 302:
            where = response["Location"]
            assert where.startswith((reverse("account_login"), "/admin/login/")), where


# allauth's pages about the signed-in person's own account; the others are the doors in.
ACCOUNT_PAGES = {
    "account_email",
    "account_change_password",
    "account_set_password",
    "account_reauthenticate",
    "mfa_index",
    "mfa_reauthenticate",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
}


@pytest.mark.parametrize("who", [*REPRESENTATIVES, "coach_a"])
@pytest.mark.parametrize("pattern", ACCOUNTS, ids=lambda p: p.name or p.route)
def test_account_pages_are_the_persons_own(graph, db, pattern, who):
    """Rule for /accounts/: nothing there is a coalition's, so no role is refused by
    role; a page about one's own account needs a sign-in, and nothing fails."""
    url = _fill(pattern)
    for method in METHODS:
        response = send(graph.client(who), method, url)
        assert response.status_code < 500, (method, response.status_code)
        if who == ANONYMOUS and pattern.name in ACCOUNT_PAGES:
            assert response.status_code == 302, (method, response.status_code)
            assert response["Location"].startswith(reverse("account_login"))
        elif who != ANONYMOUS:
            assert response.status_code != 403, (method, response.status_code)


def test_the_account_table_names_only_allauth_routes():
    assert ACCOUNT_PAGES - {p.name for p in ACCOUNTS} == set()
