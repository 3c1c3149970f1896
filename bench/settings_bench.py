"""Production settings (DEBUG off) for the dashboards benchmark, but with plain static
files storage: the pages measured are HTML, and the manifest storage would need a
``collectstatic`` step before every run."""

from bpij.settings import *  # noqa: F403
from bpij.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
