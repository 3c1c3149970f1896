"""The operations page (docs/operations.md, "Monitoring"): queues, workers, running and
stuck checks and exports, beat runs and failed tasks, for program officers and JFF
administrators."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from bpij.http import AuthedRequest
from reporting import permissions
from reporting.selectors import operations as selectors


@require_safe
def operations(request: AuthedRequest) -> HttpResponse:
    if not permissions.can_see_operations(request.user):
        raise PermissionDenied
    return render(request, "reporting/operations.html", {"ops": selectors.operations(request.user)})
