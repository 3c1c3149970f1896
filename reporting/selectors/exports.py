"""What a person may export, and of which quarters: read by the exports page, the API,
and the coalition dashboard's "Export the quarter's report" link."""

from bpij.models import StaffRole, User
from grantees.models import Coalition
from reporting import permissions
from reporting.models import ExportKind, ProgramRollup, Rollup

COALITION_KINDS = (
    ExportKind.COALITION_REPORT,
    ExportKind.DATA_PACK_XLSX,
    ExportKind.DATA_PACK_CSV,
)
DATA_PACKS = (ExportKind.DATA_PACK_XLSX, ExportKind.DATA_PACK_CSV)


def kinds_for(user: User, *, coalition: Coalition | None) -> list[tuple[str, str]]:
    """The kinds the person may ask for in this scope, as (value, label) choices."""
    kinds = COALITION_KINDS if coalition is not None else (ExportKind.PROGRAM_SUMMARY, *DATA_PACKS)
    return [
        (str(kind), str(kind.label))
        for kind in kinds
        if permissions.can_export(user, kind=kind, coalition=coalition)
    ]


def exportable_quarters(user: User, *, coalition: Coalition | None) -> list[str]:
    """Quarters with a roll-up to report, newest first: the coalition's, or the
    program's; for a Federal Project Officer only quarters with an accepted report."""
    if coalition is None:
        if user.staff_role == StaffRole.FUNDER_VIEWER:
            # Every summary a Federal Project Officer asks for counts accepted reports
            # only: a quarter with none accepted yet has nothing to offer them.
            return list(
                Rollup.objects.filter(accepted=True)
                .order_by("-quarter")
                .values_list("quarter", flat=True)
                .distinct()
            )
        return list(
            ProgramRollup.objects.filter(segment="program", coalitions_reported__gt=0)
            .order_by("-quarter")
            .values_list("quarter", flat=True)
        )
    rollups = Rollup.objects.filter(coalition=coalition)
    if user.staff_role == StaffRole.FUNDER_VIEWER:
        rollups = rollups.filter(accepted=True)
    return list(rollups.order_by("-quarter").values_list("quarter", flat=True))
