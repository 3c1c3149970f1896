"""Signed-in sessions for tests, as allauth's sign-in leaves them.

allauth records in the session each authentication method used ("password", then "mfa"
once a code was entered); StaffMFARequiredMiddleware and admin read the "mfa" record. A
test client signed in with ``force_login`` has no record at all, so these helpers add
the ones a real sign-in would have.
"""

import time

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import decrypt
from django.test import Client, RequestFactory

from bpij.models import User


def _record(client: Client, user: User, *, second_factor: bool) -> None:
    request = RequestFactory().get("/")
    request.session = client.session
    record_authentication(request, user, "password", email=user.email)
    if second_factor:
        authenticator = user.authenticator_set.exclude(type="recovery_codes").first()
        record_authentication(
            request, user, "mfa", id=authenticator.pk if authenticator else None, type="totp"
        )
    request.session.save()


def sign_in(client: Client, user: User) -> Client:
    """Signed in as through the form: a password, and a code where the person has to."""
    client.force_login(user)
    _record(client, user, second_factor=user.needs_mfa)
    return client


def sign_in_with_password_only(client: Client, user: User) -> Client:
    """Signed in with a password and no second step, as another door might leave it."""
    client.force_login(user)
    _record(client, user, second_factor=False)
    return client


def totp_code(secret: str) -> str:
    """The current six digits for a base-32 TOTP secret, as an authenticator app shows.

    allauth accepts only the current time step, so a code about to roll over is not
    used: wait for the next step instead.
    """
    left = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if left < 2:
        time.sleep(left + 0.1)
    counters = list(yield_hotp_counters_from_time())  # now, with the tolerance around it
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def totp_code_of(user: User) -> str:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return totp_code(decrypt(authenticator.data["secret"]))
