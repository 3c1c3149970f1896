"""Upload a coalition's quarterly files from the command line, as a named person would in
the browser: the same service stores them and queues the same checks."""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bpij import tenancy
from bpij.models import User
from grantees.calendar import Quarter
from grantees.models import Coalition
from reporting import selectors, services
from reporting.models import ReportingPeriod, Submission


class Command(BaseCommand):
    help = (
        "Upload the participant (and placement) file of a coalition's quarterly report as "
        "one of its administrators or reporters, then print what the checks found."
    )

    def add_arguments(self, parser):
        parser.add_argument("--coalition", required=True, help="the coalition's slug")
        parser.add_argument("--period", required=True, help="the quarter, e.g. 2025Q3")
        parser.add_argument("--as", dest="email", required=True, help="who uploads (e-mail)")
        parser.add_argument("--participants", type=Path, help="participant file (CSV or XLSX)")
        parser.add_argument("--placements", type=Path, help="placement file (CSV or XLSX)")

    @tenancy.system_scoped
    def handle(self, *args, coalition, period, email, participants, placements, **options):
        if participants is None and placements is None:
            raise CommandError("Give --participants and/or --placements.", returncode=2)
        try:
            quarter = str(Quarter.parse(period))
        except ValueError as error:
            raise CommandError(str(error), returncode=2) from error
        for path in (participants, placements):
            if path is not None and not path.is_file():
                raise CommandError(f"{path} is not a file.", returncode=2)
        actor = User.objects.filter(email=email.strip().lower(), is_active=True).first()
        if actor is None:
            raise CommandError(f"No active account has the address {email}.", returncode=2)
        the_coalition = Coalition.objects.filter(slug=coalition).first()
        if the_coalition is None:
            raise CommandError(f"No coalition has the slug {coalition!r}.", returncode=2)
        the_period = ReportingPeriod.objects.filter(
            coalition=the_coalition, quarter=quarter
        ).first()
        if the_period is None:
            raise CommandError(
                f"{quarter} is not a reporting period of {the_coalition}.", returncode=2
            )
        try:
            with transaction.atomic():
                submission = services.submission_start(period=the_period, actor=actor)
                for kind, path in (("participants", participants), ("placements", placements)):
                    if path is None:
                        continue
                    with path.open("rb") as stream:
                        _, new = services.upload_receive(
                            submission=submission,
                            kind=kind,
                            stream=stream,
                            name=path.name,
                            actor=actor,
                        )
                    note = "stored" if new else "same as the current file; not stored again"
                    self.stdout.write(f"{kind}: {path.name} {note}")
        except PermissionDenied as error:
            raise CommandError(
                f"{email} may not upload files for {the_coalition}.", returncode=2
            ) from error
        except ValidationError as error:
            raise CommandError(" ".join(error.messages), returncode=2) from error
        # On the embedded default the checks ran in-process on commit; with a worker they
        # run there and this shows the state they have reached.
        submission = Submission.objects.get(pk=submission.pk)
        totals = selectors.finding_totals(submission)
        self.stdout.write(
            f"Version {submission.version} of the {quarter} report: "
            f"{submission.get_state_display().lower()}; {totals['error']} error(s), "
            f"{totals['warning']} warning(s)."
        )
