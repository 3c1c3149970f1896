from django.core.management.base import BaseCommand, CommandError

from bpij import audit
from bpij.models import AuditEvent


def anchor(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise ValueError(value)
    return int(seq), digest.lower()


class Command(BaseCommand):
    help = (
        "Walk the audit log's hash chain from the first event to the last, recomputing "
        "every hash. Exits 0 if it is whole, 1 naming the first broken link."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            type=anchor,
            metavar="SEQ:HASH",
            help=(
                "A head printed by an earlier run and kept outside the database: the chain "
                "must still hold that event with that hash, which shows that no events were "
                "cut from its end."
            ),
        )

    def handle(self, *args, anchor: tuple[int, str] | None = None, **options):
        verdict = audit.verify(AuditEvent.objects.chain().iterator(chunk_size=2000))
        if not verdict.ok:
            event = verdict.broken_at or {}
            raise CommandError(
                f"The audit chain is broken at event id {event['id']} (uuid {event['uuid']}, "
                f"seq {event['seq']}, {event['action']} at {event['at']:%Y-%m-%d %H:%M:%S%z}): "
                f"{verdict.problem}. {verdict.verified} event(s) before it verified."
            )
        if anchor is not None:
            seq, digest = anchor
            if seq > verdict.head_seq:
                raise CommandError(
                    f"The audit chain ends at seq {verdict.head_seq}, before the anchor's seq "
                    f"{seq}: events were removed from its end."
                )
            stored = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).get()
            if stored != digest:
                raise CommandError(
                    f"The event at the anchor's seq {seq} has hash {stored}, not the anchor's "
                    f"{digest}: the chain was rewritten from there or before."
                )
        self.stdout.write(
            f"Audit chain verified: {verdict.verified} event(s). Head: seq {verdict.head_seq}, "
            f"hash {verdict.head_hash}."
        )
