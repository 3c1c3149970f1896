"""The audit log's hash chain: the canonical form of an event, its hash, and the walk that
verifies a chain.

Every event stores ``seq`` (its place in the chain: 1, 2, 3, …), ``prev_hash`` (the hash
of the event at ``seq - 1``, or ``GENESIS`` for the first) and ``hash``, the SHA-256 (hex)
of the UTF-8 bytes of its canonical form: the JSON array

    ["bpij-audit-v1", seq, uuid, at, action, actor_id, actor_email, coalition_uuid,
     coalition_name, target, ip_address, user_agent, detail, prev_hash]

written as PostgreSQL's ``json_build_array(...)::text`` writes it and as Python's
``json.dumps(..., ensure_ascii=False)`` does: ", " between items, strings escaped only
for ``"``, ``\\`` and control characters. ``at`` is whole microseconds since the Unix
epoch (an integer, so no time-zone or formatting choice enters the hash); UUIDs are lower
case with dashes; ``ip_address`` is the address as the database returns it; ``detail``
is the stored JSON's text as the database returns it (``CAST(detail AS text)``: jsonb's
normalised text on PostgreSQL, the stored text on SQLite); absent values are ``null``.

On PostgreSQL a BEFORE INSERT trigger (migration ``0010_audit_chain_triggers``) computes
this with the built-in ``sha256()`` under an advisory lock; on SQLite the model computes
it in Python (``AuditEvent.save``). Verification always recomputes it here in Python.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

VERSION = "bpij-audit-v1"
GENESIS = "0" * 64
# The advisory lock every writer of the chain takes (PostgreSQL), held to the end of its
# transaction so two writers never link to the same previous event.
ADVISORY_LOCK_KEY = 7_410_153_009

# The stored fields an event's hash covers, in canonical order (``detail_text`` is
# ``CAST(detail AS text)``).
CHAIN_FIELDS = (
    "seq",
    "uuid",
    "at",
    "action",
    "actor_id",
    "actor_email",
    "coalition_uuid",
    "coalition_name",
    "target",
    "ip_address",
    "user_agent",
    "detail_text",
    "prev_hash",
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_microseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def canonical(event: Mapping[str, Any]) -> str:
    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    return json.dumps(
        [
            VERSION,
            event["seq"],
            str(event["uuid"]),
            epoch_microseconds(event["at"]),
            event["action"],
            event["actor_id"],
            event["actor_email"],
            text(event["coalition_uuid"]),
            event["coalition_name"],
            event["target"],
            text(event["ip_address"]),
            event["user_agent"],
            event["detail_text"],
            event["prev_hash"],
        ],
        ensure_ascii=False,
    )


def event_hash(event: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(event).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Verdict:
    verified: int
    head_seq: int
    head_hash: str
    broken_at: Mapping[str, Any] | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(events: Iterable[Mapping[str, Any]]) -> Verdict:
    """Walk the events in ``seq`` order; stop at the first that does not follow from the
    one before it or whose content does not match its hash."""
    verified, previous_seq, previous_hash = 0, 0, GENESIS
    for event in events:
        problem = _problem(event, previous_seq, previous_hash)
        if problem:
            return Verdict(verified, previous_seq, previous_hash, event, problem)
        verified, previous_seq, previous_hash = verified + 1, event["seq"], event["hash"]
    return Verdict(verified, previous_seq, previous_hash)


def _problem(event: Mapping[str, Any], previous_seq: int, previous_hash: str) -> str:
    expected = previous_seq + 1
    if event["seq"] != expected:
        # seq is unique and the walk is in seq order, so a mismatch is a gap.
        missing = f"{expected}–{event['seq'] - 1}" if event["seq"] - 1 > expected else expected
        return (
            f"events before it are missing (expected seq {expected}, found {event['seq']}: "
            f"seq {missing} deleted?)"
        )
    if event["prev_hash"] != previous_hash:
        return (
            f"its prev_hash {event['prev_hash'][:16]}… is not the hash of the event before it "
            f"({previous_hash[:16]}…)"
        )
    recomputed = event_hash(event)
    if event["hash"] != recomputed:
        return (
            f"its content does not match its hash (stored {event['hash'][:16]}…, recomputed "
            f"{recomputed[:16]}…): a field was changed"
        )
    return ""
