"""Every change to coaching records. Views, commands and the demo seed call these.

Who may write: JFF coaches for the coalitions assigned to them, program officers and JFF
administrators for every coalition. Coalition members read what a coach shared and change
nothing, with one exception: the owner of an action item (who reads it whether or not it
is shared) may mark it done or reopen it, because closing their own task is the point of
giving it to them.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bpij import services as platform
from bpij.models import AuditAction, User
from coaching import permissions
from coaching.models import (
    ActionItem,
    ActionStatus,
    CoachingSession,
    RiskFlag,
    RiskLevel,
    SessionKind,
)
from grantees.models import Coalition, Target
from reporting.models import Finding

SESSION_FIELDS = ("held_on", "kind", "attendees", "topics", "notes", "shared")
ITEM_FIELDS = ("title", "owner", "owner_name", "due_on", "target", "finding", "shared")


def _require_coach(actor: User, coalition: Coalition) -> None:
    if not permissions.can_coach(actor, coalition):
        raise PermissionDenied


@dataclass
class ItemInput:
    """One action item as a form gives it; the service checks it belongs to the coalition."""

    title: str
    due_on: date
    owner: User | None = None
    owner_name: str = ""
    target: Target | None = None
    finding: Finding | None = None
    shared: bool = False


def _clean_item(coalition: Coalition, item: ItemInput) -> ItemInput:
    title = item.title.strip()
    if not title:
        raise ValidationError("An action item needs a title saying what is to be done.")
    owner_name = item.owner_name.strip()
    if item.owner is not None and owner_name:
        raise ValidationError(
            "Give an action item one owner: pick a hub user or type a name, not both."
        )
    if item.owner is not None:
        in_coalition = coalition.pk in item.owner.coalition_roles
        if not (item.owner.is_jff_staff or in_coalition):
            raise ValidationError(
                f"{item.owner.display_name} is neither a member of {coalition} nor JFF "
                "staff; choose one of them or type the owner's name instead."
            )
    if item.target is not None and item.target.coalition_id != coalition.pk:
        raise ValidationError(f"That target is not one of {coalition}'s targets.")
    if item.finding is not None and item.finding.coalition_id != coalition.pk:
        raise ValidationError(f"That finding is not from one of {coalition}'s reports.")
    item.title, item.owner_name = title, owner_name
    return item


def _check_session(*, held_on: date, kind: str, attendees: str, topics: str) -> None:
    if kind not in SessionKind.values:
        raise ValidationError(
            f"“{kind}” is not a kind of session; use one of: "
            + ", ".join(str(label) for label in SessionKind.labels)
            + "."
        )
    if held_on > timezone.localdate():
        raise ValidationError(
            "A session is logged once it has happened; its date is in the future."
        )
    if not attendees.strip():
        raise ValidationError("List who attended, one per line with their organization.")
    if not topics.strip():
        raise ValidationError("Say what the session covered under Topics.")


def _item_create(
    *, coalition: Coalition, session: CoachingSession | None, item: ItemInput, actor: User
) -> ActionItem:
    item = _clean_item(coalition, item)
    created = ActionItem.objects.create(
        coalition=coalition,
        session=session,
        title=item.title,
        owner=item.owner,
        owner_name=item.owner_name,
        due_on=item.due_on,
        target=item.target,
        finding=item.finding,
        shared=item.shared,
        created_by=actor,
    )
    return created


@transaction.atomic
def session_log(
    *,
    coalition: Coalition,
    actor: User,
    held_on: date,
    kind: str,
    attendees: str,
    topics: str,
    notes: str = "",
    shared: bool = False,
    items: list[ItemInput] | None = None,
) -> CoachingSession:
    """Record a coaching session and the action items agreed in it, all or nothing."""
    _require_coach(actor, coalition)
    _check_session(held_on=held_on, kind=kind, attendees=attendees, topics=topics)
    session = CoachingSession.objects.create(
        coalition=coalition,
        held_on=held_on,
        kind=kind,
        attendees=attendees.strip(),
        topics=topics.strip(),
        notes=notes.strip(),
        shared=shared,
        created_by=actor,
    )
    platform.audit_record(
        action=AuditAction.COACHING_SESSION_LOGGED,
        actor=actor,
        coalition=coalition,
        target=str(session),
        detail={"session": str(session.code), "kind": kind, "shared": shared},
    )
    for item in items or []:
        action_item_create(coalition=coalition, session=session, item=item, actor=actor)
    return session


@transaction.atomic
def session_update(*, session: CoachingSession, actor: User, **changes: Any) -> CoachingSession:
    """Change a session's date, kind, attendees, topics, notes or sharing."""
    _require_coach(actor, session.coalition)
    unknown = set(changes) - set(SESSION_FIELDS)
    if unknown:
        raise ValueError(f"session_update cannot change {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(session, name, value.strip() if isinstance(value, str) else value)
    _check_session(
        held_on=session.held_on,
        kind=session.kind,
        attendees=session.attendees,
        topics=session.topics,
    )
    changed = [name for name in changes if name in SESSION_FIELDS]
    if changed:
        session.save(update_fields=changed)
    platform.audit_record(
        action=AuditAction.COACHING_SESSION_CHANGED,
        actor=actor,
        coalition=session.coalition,
        target=str(session),
        detail={"session": str(session.code), "fields": sorted(changed)},
    )
    return session


@transaction.atomic
def action_item_create(
    *,
    coalition: Coalition,
    item: ItemInput,
    actor: User,
    session: CoachingSession | None = None,
) -> ActionItem:
    _require_coach(actor, coalition)
    if session is not None and session.coalition_id != coalition.pk:
        raise ValidationError("An action item belongs to a session of its own coalition.")
    created = _item_create(coalition=coalition, session=session, item=item, actor=actor)
    platform.audit_record(
        action=AuditAction.ACTION_ITEM_CREATED,
        actor=actor,
        coalition=coalition,
        target=created.title,
        detail={"item": str(created.code), "due_on": created.due_on.isoformat()},
    )
    return created


@transaction.atomic
def action_item_update(*, item: ActionItem, actor: User, **changes: Any) -> ActionItem:
    """Change an item's title, owner, due date, links or sharing (not its status)."""
    _require_coach(actor, item.coalition)
    unknown = set(changes) - set(ITEM_FIELDS)
    if unknown:
        raise ValueError(f"action_item_update cannot change {', '.join(sorted(unknown))}")
    merged = {name: getattr(item, name) for name in ITEM_FIELDS} | changes
    cleaned = _clean_item(item.coalition, ItemInput(**merged))
    for name in changes:
        setattr(item, name, getattr(cleaned, name))
    if changes:
        item.save(update_fields=list(changes))
    platform.audit_record(
        action=AuditAction.ACTION_ITEM_CHANGED,
        actor=actor,
        coalition=item.coalition,
        target=item.title,
        detail={"item": str(item.code), "fields": sorted(changes)},
    )
    return item


@transaction.atomic
def action_item_set_status(*, item: ActionItem, status: str, actor: User) -> ActionItem:
    """Mark an item done or dropped (stamping when it closed), or reopen it."""
    if not permissions.can_close_item(actor, item):
        raise PermissionDenied
    if status not in ActionStatus.values:
        raise ValidationError(
            f"“{status}” is not an action item status; use open, done or dropped."
        )
    if status == ActionStatus.DROPPED and not permissions.can_coach(actor, item.coalition):
        # Dropping a task is a coaching decision; the owner can only say it is done.
        raise PermissionDenied
    previous = item.status
    if previous == status:
        return item
    item.status = status
    item.closed_at = None if status == ActionStatus.OPEN else timezone.now()
    item.save(update_fields=["status", "closed_at"])
    platform.audit_record(
        action=AuditAction.ACTION_ITEM_CHANGED,
        actor=actor,
        coalition=item.coalition,
        target=item.title,
        detail={"item": str(item.code), "status": [previous, status]},
    )
    return item


@transaction.atomic
def risk_flag_set(
    *,
    coalition: Coalition,
    level: str,
    reason: str,
    actor: User,
) -> RiskFlag:
    """Flag the coalition's risk. Each call adds a row, so the history is kept."""
    _require_coach(actor, coalition)
    if level not in RiskLevel.values:
        raise ValidationError(
            f"“{level}” is not a risk level; use one of: "
            + ", ".join(f"{value} ({label})" for value, label in RiskLevel.choices)
            + "."
        )
    reason = reason.strip()
    if len(reason) < 10:
        raise ValidationError(
            "Say why in a sentence or two (at least 10 characters), so the next reader "
            "knows what to watch."
        )
    flag = RiskFlag.objects.create(coalition=coalition, level=level, reason=reason, set_by=actor)
    platform.audit_record(
        action=AuditAction.RISK_FLAG_SET,
        actor=actor,
        coalition=coalition,
        target=coalition.name,
        detail={"level": level, "flag": str(flag.code)},
    )
    return flag
