"""Production settings (DEBUG off) for the dashboards benchmark, but with plain static
files storage: the pages measured are HTML, and the manifest storage needs a
``collectstatic`` that does not pass today (the vendored uswds.min.css names a source
map that is not vendored; see bench/README.md)."""

from bpij.settings import *  # noqa: F403
from bpij.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
