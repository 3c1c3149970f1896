"""The operations page (docs/operations.md, "Monitoring"): queues, workers, running and
stuck checks and exports, beat runs and failed tasks, for program officers and JFF
administrators."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from bpij.http import AuthedRequest
from bpij.models import StaffRole
from reporting.selectors import operations as selectors

# Who sees the whole hub's work in progress (docs/access.md): the roles that see every
# coalition and run the program; coaches, grantees and the Federal Project Officer get 403.
OPERATIONS_ROLES = (StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN)


@require_safe
def operations(request: AuthedRequest) -> HttpResponse:
    if request.user.staff_role not in OPERATIONS_ROLES:
        raise PermissionDenied
    return render(request, "reporting/operations.html", {"ops": selectors.operations(request.user)})
