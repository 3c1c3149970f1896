"""Tests run against PostgreSQL and Redis on localhost (override with DATABASE_URL/REDIS_URL)."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/bpij")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("MFA_EXEMPT_DEMO_ACCOUNTS", "false")
os.environ.setdefault("ADMIN_ENABLED", "false")
# DEBUG is off unless set; the tests keep the development defaults for secrets (pytest-django
# still runs each test with DEBUG off). Set here, so subprocesses (the e2e worker) inherit it.
os.environ.setdefault("DEBUG", "true")

from bpij.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run tasks in-process; the end-to-end tests start a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Uploaded files go to a temporary directory (the end-to-end worker is pointed at it too).
MEDIA_ROOT = Path(os.environ.get("BPIJ_TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="bpij-media-"))
