"""bpij.settings as the image's collectstatic step reads them (DEBUG off, its throwaway
secrets), with Django's manifest storage in place of WhiteNoise's subclass of it: the
same hashed names and the same failure on a missing reference, without the gzip and
brotli copy of every file (25 s of CPU on two cores, and nothing that can fail on a
file the manifest accepted). tests/test_deploy.py."""

from bpij.settings import *  # noqa: F403

PRODUCTION_STATICFILES = STORAGES["staticfiles"]["BACKEND"]  # noqa: F405
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
