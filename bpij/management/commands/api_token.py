"""`manage.py api_token create --as EMAIL [--name N] [--expires-in DAYS]` prints the new
token's secret on the last line of its output; `api_token revoke PREFIX-OR-UUID`;
`api_token list --as EMAIL`."""

import contextlib
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from bpij.api import tokens
from bpij.models import ApiToken, User
from bpij.tenancy import system_scoped


class Command(BaseCommand):
    help = "Make, list and revoke personal API tokens (docs/api.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Make a token; its secret is the last line.")
        create.add_argument("--as", dest="email", required=True, help="The owner's e-mail.")
        create.add_argument("--name", default="Command-line token")
        create.add_argument("--expires-in", dest="days", type=int, default=None, metavar="DAYS")
        revoke = actions.add_parser("revoke", help="Revoke a token by its prefix or UUID.")
        revoke.add_argument("token", help="The token's prefix (bpij_xxxxxxxx) or its UUID.")
        listing = actions.add_parser("list", help="A person's tokens (prefixes, never secrets).")
        listing.add_argument("--as", dest="email", required=True)

    def _user(self, email: str) -> User:
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"No account has the e-mail address {email!r}.")
        return user

    @system_scoped
    def handle(self, *args, action: str, **options) -> None:
        if action == "create":
            user = self._user(options["email"])
            try:
                token, secret = tokens.token_create(
                    user=user, name=options["name"], expires_in_days=options["days"]
                )
            except PermissionDenied as error:
                raise CommandError(str(error) or tokens.STAFF_NEED_MFA) from error
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            self.stdout.write(
                f"Token {token.name!r} for {user.email}, expires {token.expires_at:%Y-%m-%d}. "
                "The secret (shown once; send it as 'Authorization: Bearer <secret>'):"
            )
            self.stdout.write(secret)
        elif action == "revoke":
            given = options["token"].strip()
            match = Q(prefix=given[: tokens.PREFIX_LENGTH])
            with contextlib.suppress(ValueError):
                match |= Q(code=uuid.UUID(given))
            found = list(ApiToken.objects.filter(match).select_related("user")[:2])
            if len(found) != 1:
                raise CommandError(
                    f"{'No' if not found else 'More than one'} token matches {given!r}: give "
                    "its UUID (`api_token list --as EMAIL` shows it)."
                )
            token = tokens.token_revoke(token=found[0], actor=None)
            self.stdout.write(f"Revoked {token.name!r} ({token.prefix}…) of {token.user.email}.")
        else:
            for token in tokens.token_list(user=self._user(options["email"])):
                state = (
                    "revoked" if token.revoked_at else "active" if token.is_usable else "expired"
                )
                used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
                self.stdout.write(
                    f"{token.code}  {token.prefix}…  {token.name}  {state}  last used {used}"
                )
