"""The demo's coaching record for ``manage.py seed_demo``: a few sessions per demo
coalition from 2024 to today, of every kind, with action items open, done and overdue,
and risk flags with their history.

The coalitions that reporting's demo makes fall behind (``reporting.demo.AT_RISK``) are
flagged at risk; those whose latest report is returned or needs fixes are on watch; the
rest are on track, except a few not assessed yet. Nobody did anything, so no audit
entries are written (like grantees.demo). ``seed()`` is idempotent: a coalition that
already has any coaching session is left alone.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from bpij.models import User
from coaching.models import ActionItem, ActionStatus, CoachingSession, RiskFlag, SessionKind
from grantees import demo as grantees_demo
from grantees.models import CoachAssignment, Coalition, Membership, Target
from reporting import demo as reporting_demo
from reporting.models import Finding, Submission

WATCH = frozenset(
    {"hudson-valley-broadband", "north-star-transit", "allegheny-energy", "potomac-digital"}
)
NOT_ASSESSED = frozenset({"lone-star-broadband", "bay-state-transit", "cumberland-broadband"})
FIRST_SESSION = date(2024, 1, 16)

TOPICS = {
    SessionKind.CALL: [
        "Quarterly report preparation and data-quality findings",
        "Employer engagement plan for the next two quarters",
        "Participant recruitment pipeline and outreach to veterans",
        "Training completion rates and retention supports",
        "Wage record matching for placements after exit",
    ],
    SessionKind.SITE_VISIT: [
        "Site visit: training lab, employer partners and apprenticeship readiness",
        "Site visit: meeting with the workforce board and two employers",
    ],
    SessionKind.PEER_LEARNING: [
        "Peer learning: registered apprenticeship pathways across coalitions",
        "Peer learning: supportive services that keep trainees enrolled",
    ],
    SessionKind.OFFICE_HOURS: [
        "Office hours: placement file questions (exit dates, O*NET codes)",
        "Office hours: narrative section and technical assistance needs",
    ],
}
NOTES = [
    "The coalition is confident about the employer commitments; follow up on the MOU.",
    "Staff turnover at the lead organization has slowed data entry; offered a template.",
    "Two employers asked for a shorter training schedule; the college is considering it.",
    "Good momentum. Placement numbers should show next quarter.",
    "Recruitment is behind plan in rural counties; discussed transportation stipends.",
]
ITEMS = [
    "Send the updated employer partner list",
    "Fix the exit dates flagged in the last report",
    "Share the apprenticeship MOU draft with JFF",
    "Schedule a site visit with the union training center",
    "Confirm wage record access with the state workforce agency",
    "Draft the recruitment plan for rural counties",
    "Add O*NET codes to the training catalogue",
    "Follow up with the two employers on hiring commitments",
]
REASONS = {
    "high": [
        "Placements and completions are well behind the grant-to-date targets, and the "
        "latest report is late or unfinished. Weekly check-ins until it is in.",
        "Enrollment has stalled for two quarters; the lead organization lost its "
        "program manager. Agreed a recovery plan with monthly milestones.",
    ],
    "medium": [
        "The last report came back for revision; data-quality findings keep recurring. "
        "Watch the next submission.",
        "Slightly behind pace on training completions; employer commitments are still "
        "verbal. Watch until the MOU is signed.",
    ],
    "low": [
        "On pace with its targets and reporting on time.",
        "Recovered after the recruitment push; back on pace.",
    ],
}


@dataclass
class SeedReport:
    sessions: int = 0
    items: int = 0
    flags: int = 0
    skipped: int = 0


def _when(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(15, 0)))


def _level(slug: str) -> str | None:
    if slug in reporting_demo.AT_RISK:
        return "high"
    if slug in WATCH:
        return "medium"
    if slug in NOT_ASSESSED:
        return None
    return "low"


def _flags(coalition: Coalition, coach: User, today: date, rng: random.Random) -> list[RiskFlag]:
    """The coalition's flags, oldest first, ending at its demo level."""
    level = _level(coalition.slug)
    if level is None:
        return []
    # Every flagged coalition starts on track; the troubled ones slide, and one on watch
    # has recovered from an earlier risk flag, so histories differ.
    path = {"low": ["low"], "medium": ["low", "medium"], "high": ["low", "medium", "high"]}[level]
    if level == "low" and rng.random() < 0.3:
        path = ["medium", "low"]
    step = max((today - FIRST_SESSION).days // (len(path) + 1), 30)
    flags = []
    for i, lvl in enumerate(path):
        day = min(FIRST_SESSION + timedelta(days=step * (i + 1) - rng.randint(0, 20)), today)
        flags.append(
            RiskFlag(
                coalition=coalition,
                level=lvl,
                reason=rng.choice(REASONS[lvl]),
                set_by=coach,
                set_at=_when(day),
            )
        )
    return flags


def _sessions(
    coalition: Coalition,
    coach: User,
    today: date,
    rng: random.Random,
    *,
    owners: list[User],
    targets: list[Target],
    findings: list[Finding],
) -> list[tuple[CoachingSession, list[ActionItem]]]:
    kinds = list(SessionKind.values)
    rng.shuffle(kinds)
    # At-risk coalitions get more attention: more sessions, closer together.
    count = 6 if _level(coalition.slug) == "high" else rng.randint(3, 5)
    span = (today - FIRST_SESSION).days
    days = sorted(FIRST_SESSION + timedelta(days=rng.randint(0, span)) for _ in range(count))
    # Every coach keeps in touch: the latest session is at most six weeks old, so each
    # coalition has action items still open on a coach's home page.
    if (today - days[-1]).days > 42:
        days[-1] = today - timedelta(days=rng.randint(3, 42))
    made = []
    for n, held_on in enumerate(days):
        kind = kinds[n % len(kinds)]
        session = CoachingSession(
            coalition=coalition,
            held_on=held_on,
            kind=kind,
            attendees=f"{coach.display_name}, JFF\n"
            + "\n".join(f"{u.display_name}, {coalition.lead_organization}" for u in owners[:2]),
            topics=rng.choice(TOPICS[SessionKind(kind)]),
            notes=rng.choice(NOTES),
            # Most sessions are shared with the coalition; candid notes stay with JFF.
            shared=rng.random() < 0.7,
            created_by=coach,
            created_at=_when(held_on),
        )
        items = []
        for _ in range(rng.randint(1, 3)):
            due_on = held_on + timedelta(days=rng.choice([14, 21, 30, 45]))
            recent = (today - held_on).days < 120
            if due_on >= today:
                status = ActionStatus.OPEN
            elif recent and rng.random() < 0.5:
                status = ActionStatus.OPEN  # overdue
            else:
                status = rng.choice([ActionStatus.DONE] * 5 + [ActionStatus.DROPPED])
            owner = rng.choice([*owners, None])
            closed = None
            if status != ActionStatus.OPEN:
                closed = _when(min(due_on + timedelta(days=rng.randint(-7, 10)), today))
            items.append(
                ActionItem(
                    coalition=coalition,
                    title=rng.choice(ITEMS),
                    owner=owner,
                    owner_name="" if owner is not None else "Workforce board liaison",
                    due_on=due_on,
                    status=status,
                    target=rng.choice(targets) if targets and rng.random() < 0.4 else None,
                    finding=rng.choice(findings)
                    if findings and recent and rng.random() < 0.5
                    else None,
                    shared=session.shared,
                    created_by=coach,
                    created_at=_when(held_on),
                    closed_at=closed,
                )
            )
        made.append((session, items))
    return made


def seed(*, today: date | None = None, slugs: list[str] | None = None) -> SeedReport:
    """Give every demo coalition without coaching records its sessions, action items and
    risk flags (``slugs`` limits the coalitions, for tests)."""
    today = today or timezone.localdate()
    report = SeedReport()
    wanted = slugs if slugs is not None else [s["slug"] for s in grantees_demo.DEMO_COALITIONS]
    coalitions = list(Coalition.objects.filter(slug__in=wanted).order_by("name"))
    done = set(
        CoachingSession.objects.filter(coalition__in=coalitions).values_list(
            "coalition_id", flat=True
        )
    )
    coaches = {
        a.coalition_id: a.coach
        for a in CoachAssignment.objects.filter(coalition__in=coalitions).select_related("coach")
    }
    members: dict[int, list[User]] = {}
    for membership in Membership.objects.filter(coalition__in=coalitions).select_related("user"):
        members.setdefault(membership.coalition_id, []).append(membership.user)
    targets: dict[int, list[Target]] = {}
    for target in Target.objects.filter(coalition__in=coalitions):
        targets.setdefault(target.coalition_id, []).append(target)

    sessions, items, flags = [], [], []
    for coalition in coalitions:
        coach = coaches.get(coalition.pk)
        if coalition.pk in done or coach is None:
            report.skipped += 1
            continue
        rng = random.Random(f"coaching-{coalition.slug}")
        latest = Submission.objects.filter(coalition=coalition).order_by(
            "-period__start_date", "-version"
        )[:1]
        found = list(
            Finding.objects.filter(upload__submission__in=latest, upload__is_current=True)[:20]
        )
        owners = sorted(members.get(coalition.pk, []), key=lambda u: u.email)
        for session, session_items in _sessions(
            coalition,
            coach,
            today,
            rng,
            owners=owners,
            targets=targets.get(coalition.pk, []),
            findings=found,
        ):
            sessions.append(session)
            items.append((session, session_items))
        flags.extend(_flags(coalition, coach, today, rng))

    with transaction.atomic():
        CoachingSession.objects.bulk_create(sessions)
        all_items = []
        for session, session_items in items:
            for item in session_items:
                item.session = session
                all_items.append(item)
        ActionItem.objects.bulk_create(all_items)
        RiskFlag.objects.bulk_create(flags)
    report.sessions, report.items, report.flags = len(sessions), len(all_items), len(flags)
    return report
