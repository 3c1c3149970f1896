from django.core.management.base import BaseCommand, CommandError

from bpij import audit
from bpij.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Walk the audit log's hash chain from the first event to the last, recomputing "
        "every hash. Exits 0 if it is whole, 1 naming the first broken link."
    )

    def handle(self, *args, **options):
        verdict = audit.verify(AuditEvent.objects.chain().iterator(chunk_size=2000))
        if not verdict.ok:
            event = verdict.broken_at or {}
            raise CommandError(
                f"The audit chain is broken at event id {event['id']} (uuid {event['uuid']}, "
                f"seq {event['seq']}, {event['action']} at {event['at']:%Y-%m-%d %H:%M:%S%z}): "
                f"{verdict.problem}. {verdict.verified} event(s) before it verified."
            )
        self.stdout.write(
            f"Audit chain verified: {verdict.verified} event(s). Head: seq {verdict.head_seq}, "
            f"hash {verdict.head_hash}."
        )
