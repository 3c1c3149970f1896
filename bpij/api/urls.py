from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from bpij.api import pages

urlpatterns = [
    path("tokens/", pages.token_list, name="api-tokens"),
    path("tokens/<uuid:token_code>/revoke/", pages.token_revoke, name="api-token-revoke"),
    # The description of the API, and Swagger UI over it from our own static files (no
    # CDN; its start-up script is a file too, so the strict CSP holds). Neither holds data.
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="bpij/api_docs.html"
        ),
        name="api-docs",
    ),
    path("v1/", include("reporting.api.urls")),
]
