"""Services take who acts and read where from out of the audit context (bpij.auditing),
never an HttpRequest: the pages, the API, tasks and commands call them the same way."""

import importlib
import inspect
import pkgutil

import pytest
from django.urls import reverse

import reporting.services
from bpij import auditing, services
from bpij.models import AuditAction, AuditEvent
from grantees import services as grantee_services
from grantees.models import MemberRole

SERVICE_MODULES = [
    "bpij.services",
    "bpij.api.tokens",
    "grantees.services",
    "coaching.services",
    "reporting.services",
    *(f"reporting.services.{m.name}" for m in pkgutil.iter_modules(reporting.services.__path__)),
]


@pytest.mark.parametrize("module_name", SERVICE_MODULES)
def test_no_service_takes_an_http_request(module_name):
    module = importlib.import_module(module_name)
    takers = []
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if function.__module__ != module.__name__:
            continue
        parameters = inspect.signature(function).parameters.values()
        if any(p.name == "request" or "HttpRequest" in str(p.annotation) for p in parameters):
            takers.append(name)
    assert takers == []


def test_a_service_outside_a_request_records_no_address_and_a_bound_context_its_own(cast):
    services.audit_record(action=AuditAction.ROLE_CHANGED, actor=cast.admin_a, target="plain")
    with auditing.bound(auditing.AuditContext(ip_address="192.0.2.7", user_agent="cron")):
        services.audit_record(action=AuditAction.ROLE_CHANGED, actor=cast.admin_a, target="bound")

    plain, bound = AuditEvent.objects.filter(target__in=["plain", "bound"]).order_by("seq")
    assert (plain.ip_address, plain.user_agent) == (None, "")
    assert (bound.ip_address, bound.user_agent) == ("192.0.2.7", "cron")
    assert auditing.current() == auditing.NOWHERE


def test_a_page_records_the_clients_address_and_browser_through_the_service(
    client_for, cast, settings
):
    settings.BEHIND_PROXY = True
    client = client_for(cast.admin_a)
    membership = cast.viewer_a.memberships.get()

    client.post(
        reverse("grantees:member-role", args=[cast.coalition_a.code, membership.code]),
        {"role": MemberRole.REPORTER},
        REMOTE_ADDR="10.0.0.2",
        headers={"X-Forwarded-For": "198.51.100.4", "User-Agent": "Firefox/140"},
    )

    event = AuditEvent.objects.filter(action=AuditAction.ROLE_CHANGED).latest("seq")
    assert (event.ip_address, event.user_agent) == ("198.51.100.4", "Firefox/140")
    assert event.actor == cast.admin_a
    # The request is over: nothing it set is left for the next piece of work.
    assert auditing.current() == auditing.NOWHERE
    grantee_services.membership_change_role(
        membership=membership, role=MemberRole.ADMIN, actor=cast.admin_a
    )
    later = AuditEvent.objects.filter(action=AuditAction.ROLE_CHANGED).latest("seq")
    assert later.seq > event.seq
    assert later.ip_address is None
