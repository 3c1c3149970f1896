"""Personal API tokens (issue 14, item 1): only a hash stored, Bearer authentication
acting as the owner with the owner's scope, expiry, revocation, staff only with a second
factor, the page and the command, and the audit trail of first use, revocation and writes."""

import hashlib
import io
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from bpij.api import tokens
from bpij.models import ApiToken, AuditAction, AuditEvent, StaffRole
from tests import builders, factories
from tests.api.conftest import token_client

COALITIONS = "/api/v1/coalitions/"


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_only_the_hash_of_the_secret_is_stored(cast):
    token, secret = tokens.token_create(user=cast.admin_a, name="Apricot export")
    row = ApiToken.objects.values().get(pk=token.pk)
    assert secret not in str(row)
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(row["prefix"])
    assert row["prefix"].startswith("bpij_")
    assert token.expires_at - timezone.now() > timedelta(days=89)


def test_a_token_acts_as_its_owner_with_the_owners_scope(cast):
    """Under row-level security: the token's scope is taken on after DRF authenticated
    it (the session middleware saw an anonymous request)."""
    listed = token_client(cast.admin_a).get(COALITIONS).json()["results"]
    assert [c["code"] for c in listed] == [str(cast.coalition_a.code)]
    assert listed[0]["your_role"] == "grantee_admin"
    other = token_client(cast.admin_a).get(f"{COALITIONS}{cast.coalition_b.code}/")
    assert other.status_code == 404


def test_the_owner_scope_holds_at_the_database_for_a_token_request(cast):
    builders.period_of(cast.coalition_a, "2025Q3")
    response = token_client(cast.viewer_a).get(f"{COALITIONS}{cast.coalition_a.code}/periods/")
    assert response.status_code == 200
    assert "2025Q3" in [row["quarter"] for row in response.json()]


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("Bearer bpij_unknown_secret", "unknown, revoked or expired"),
        ("Bearer", "must be 'Bearer <token>'"),
        ("Bearer one two", "must be 'Bearer <token>'"),
    ],
)
def test_a_bad_token_is_401_in_the_error_shape(cast, header, words):
    response = APIClient().get(COALITIONS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    body = response.json()
    assert body["code"] == "authentication_failed"
    assert words in body["detail"]
    assert body["fields"] == {}


def test_no_credentials_is_401_saying_how_to_send_a_token(db):
    response = APIClient().get(COALITIONS)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "Authorization: Bearer" in response.json()["detail"]


def test_revoked_and_expired_tokens_are_refused(cast):
    token, secret = tokens.token_create(user=cast.admin_a, name="old")
    assert bearer(secret).get(COALITIONS).status_code == 200
    tokens.token_revoke(token=token, actor=cast.admin_a)
    assert bearer(secret).get(COALITIONS).status_code == 401
    expired, secret = tokens.token_create(user=cast.admin_a, name="short", expires_in_days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(1))
    assert bearer(secret).get(COALITIONS).status_code == 401


def test_a_deactivated_owner_token_is_refused(cast):
    _, secret = tokens.token_create(user=cast.admin_a, name="t")
    cast.admin_a.is_active = False
    cast.admin_a.save()
    assert bearer(secret).get(COALITIONS).status_code == 401


def test_staff_need_a_second_factor_to_make_or_use_a_token(cast):
    no_mfa = factories.StaffFactory(staff_role=StaffRole.PROGRAM_OFFICER, mfa=False)
    with pytest.raises(PermissionDenied):
        tokens.token_create(user=no_mfa, name="t")
    _, secret = tokens.token_create(user=cast.officer, name="t")
    assert bearer(secret).get(COALITIONS).status_code == 200
    Authenticator.objects.filter(user=cast.officer).delete()
    assert bearer(secret).get(COALITIONS).status_code == 401


def test_the_command_prints_the_secret_on_its_last_line_and_revokes(cast):
    out = io.StringIO()
    call_command(
        "api_token", "create", "--as", cast.admin_a.email, "--name", "CMS", "--expires-in", "7",
        stdout=out,
    )  # fmt: skip
    secret = out.getvalue().strip().splitlines()[-1]
    assert bearer(secret).get(COALITIONS).status_code == 200
    token = ApiToken.objects.get(user=cast.admin_a, name="CMS")
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    call_command("api_token", "revoke", token.prefix, stdout=io.StringIO())
    assert bearer(secret).get(COALITIONS).status_code == 401


def test_the_command_refuses_staff_without_a_second_factor(cast):
    from django.core.management.base import CommandError

    no_mfa = factories.StaffFactory(staff_role=StaffRole.COACH, mfa=False)
    with pytest.raises(CommandError, match="two-step sign-in"):
        call_command("api_token", "create", "--as", no_mfa.email, stdout=io.StringIO())


def test_first_use_revocation_and_each_write_are_audited(cast):
    token, secret = tokens.token_create(user=cast.admin_a, name="audited")
    client = bearer(secret)
    client.get(COALITIONS)
    client.get(COALITIONS)
    period = builders.period_of(cast.coalition_a, "2025Q3")
    client.post(f"{COALITIONS}{cast.coalition_a.code}/periods/{period.quarter}/submissions/")
    tokens.token_revoke(token=token, actor=cast.admin_a)
    actions = list(
        AuditEvent.objects.filter(actor=cast.admin_a)
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions.count(AuditAction.API_TOKEN_FIRST_USED) == 1
    assert AuditAction.API_TOKEN_CREATED in actions
    assert AuditAction.API_TOKEN_REVOKED in actions
    write = AuditEvent.objects.get(actor=cast.admin_a, action=AuditAction.API_WRITE)
    assert write.detail["token"] == str(token.code)
    assert write.detail["status"] == 201


def test_the_tokens_page_shows_the_secret_once_then_the_prefix(cast, client_for):
    client = client_for(cast.viewer_a)
    made = client.post(reverse("api-tokens"), {"name": "Apricot", "expires_in_days": 30})
    assert made.status_code == 200
    secret = made.context["secret"]
    assert secret in made.content.decode()
    listed = client.get(reverse("api-tokens")).content.decode()
    assert secret not in listed
    assert secret[: tokens.PREFIX_LENGTH] in listed
    assert "Never" in listed
    assert bearer(secret).get(COALITIONS).status_code == 200
    token = ApiToken.objects.get(user=cast.viewer_a)
    client.post(reverse("api-token-revoke", args=[token.code]))
    assert bearer(secret).get(COALITIONS).status_code == 401


def test_nobody_revokes_another_persons_token(cast, client_for):
    token, secret = tokens.token_create(user=cast.admin_a, name="mine")
    response = client_for(cast.reporter_a).post(reverse("api-token-revoke", args=[token.code]))
    assert response.status_code == 404
    assert bearer(secret).get(COALITIONS).status_code == 200


def test_the_tokens_page_refuses_a_bad_expiry_with_what_would_be_right(cast, client_for):
    response = client_for(cast.admin_a).post(
        reverse("api-tokens"), {"name": "x", "expires_in_days": 400}
    )
    assert response.status_code == 400
    assert "366" in response.content.decode()
    assert not ApiToken.objects.filter(user=cast.admin_a).exists()


def test_the_schema_says_how_to_authenticate_and_when_to_retry(client, db):
    schema = client.get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            assert {"401", "404", "429"} <= set(responses), (method, path)
            assert "Retry-After" in responses["429"]["headers"], (method, path)
            assert responses["404"]["content"]["application/json"]["schema"]["$ref"].endswith(
                "/Error"
            )


def test_the_tokens_page_reads_a_fixed_number_of_queries(cast, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(cast.reporter_a)
    client.get(reverse("api-tokens"))  # the session's first request stores what it stores
    tokens.token_create(user=cast.reporter_a, name="one")
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("api-tokens")).status_code == 200
    for number in range(5):
        tokens.token_create(user=cast.reporter_a, name=f"more {number}")
    with CaptureQueriesContext(connection) as six:
        client.get(reverse("api-tokens"))
    assert len(one) == len(six) <= 12


def test_a_signed_in_browser_gets_the_browsable_pages(cast, client_for):
    page = client_for(cast.viewer_a).get(COALITIONS, HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert cast.coalition_a.name in page.content.decode()
    assert cast.coalition_b.name not in page.content.decode()
