"""The "API tokens" page: a person makes, names, lists and revokes their own tokens."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from bpij.api import tokens
from bpij.forms import ApiTokenForm
from bpij.http import AuthedRequest
from bpij.models import ApiToken


@never_cache
@require_http_methods(["GET", "POST"])
def token_list(request: AuthedRequest) -> HttpResponse:
    """Make a token (its secret is shown on this answer only) and list one's own."""
    user = request.user
    form = ApiTokenForm(request.POST or None)
    secret, status = "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _, secret = tokens.token_create(
                    user=user,
                    name=form.cleaned_data["name"],
                    expires_in_days=form.cleaned_data["expires_in_days"],
                )
            except (ValidationError, PermissionDenied) as error:
                text = " ".join(error.messages) if isinstance(error, ValidationError) else ""
                messages.error(request, text or str(error) or tokens.STAFF_NEED_MFA)
                status = 400
            else:
                form = ApiTokenForm()
        else:
            status = 400
    return render(
        request,
        "bpij/api_tokens.html",
        {
            "form": form,
            "secret": secret,
            "tokens": tokens.token_list(user=user),
            "may_hold": tokens.may_hold_tokens(user),
            "need_mfa": tokens.STAFF_NEED_MFA,
        },
        status=status,
    )


@require_POST
def token_revoke(request: AuthedRequest, token_code) -> HttpResponse:
    # Someone else's token does not exist for this person.
    token = get_object_or_404(ApiToken, user=request.user, code=token_code)
    tokens.token_revoke(token=token, actor=request.user)
    messages.success(request, f"The token {token.name!r} ({token.prefix}…) is revoked.")
    return redirect("api-tokens")
