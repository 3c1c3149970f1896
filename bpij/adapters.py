import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator

from bpij import keys

SIGNED_IN_AT = "bpij_signed_in_at"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # People join by invitation only (grantees.services.invitation_accept).
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Staff who have just signed in with their password are sent straight to set up
        their first authenticator; asking for the password again there would only confuse.
        Changing an existing second factor, or a sign-in older than the reauthentication
        timeout, still asks."""
        if app == "allauth.mfa":
            request = getattr(context, "request", None)
            user = getattr(request, "user", None)
            signed_in_at = request.session.get(SIGNED_IN_AT, 0) if request else 0
            if (
                user is not None
                and user.is_authenticated
                and time.time() - signed_in_at < account_settings.REAUTHENTICATION_TIMEOUT
                and not Authenticator.objects.filter(user=user).exists()
            ):
                return False
        return super().is_reauthentication_required(app=app, **kwargs)


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are stored sealed under ENCRYPTION_KEYS
    (bpij.keys), never as the base-32 secret an authenticator app would take."""

    def encrypt(self, text: str) -> str:
        return keys.seal(keys.MFA, text.encode())

    def decrypt(self, encrypted_text: str) -> str:
        return keys.unseal(keys.MFA, encrypted_text).decode()
