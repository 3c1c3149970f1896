"""Tests run against PostgreSQL and Redis on localhost (override with DATABASE_URL/REDIS_URL).

They connect as production does, as the runtime login (DB_APP_ROLE) held to row-level
security. DATABASE_URL names the owner here: the account that creates the test database
and runs the migrations, and, given only a cluster superuser (a fresh clone), creates the
runtime login too (tests/conftest.py). DATABASE_OWNER_URL, if set, is the owner instead
and DATABASE_URL the runtime login itself, as in production.
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url

os.environ.setdefault("DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/bpij")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
# Under pytest-xdist (make test, make test-fast) each worker process has a test database of
# its own (pytest-django adds _gw0, _gw1…) and must have a Redis database of its own too:
# the end-to-end tests empty theirs and start a Celery worker that takes whatever task is on
# it. Worker N takes the configured database number minus N (mod 16), once per process tree.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw") and not os.environ.get("BPIJ_TEST_REDIS_OF_WORKER"):
    _redis = urlsplit(os.environ["REDIS_URL"])
    _db = (int(_redis.path.strip("/") or 0) - int(_xdist_worker[2:])) % 16
    os.environ["REDIS_URL"] = urlunsplit(_redis._replace(path=f"/{_db}"))
    os.environ["BPIJ_TEST_REDIS_OF_WORKER"] = _xdist_worker
os.environ.setdefault("MFA_EXEMPT_DEMO_ACCOUNTS", "false")
os.environ.setdefault("ADMIN_ENABLED", "false")
# DEBUG is off unless set; the tests keep the development defaults for secrets (pytest-django
# still runs each test with DEBUG off). Set here, so subprocesses (the e2e worker) inherit it.
os.environ.setdefault("DEBUG", "true")

from bpij.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run tasks in-process; the end-to-end tests start a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Uploaded files go to a temporary directory (the end-to-end worker is pointed at it too).
MEDIA_ROOT = Path(os.environ.get("BPIJ_TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="bpij-media-"))

# The owner's credentials, for the test database's set-up, migrations and flushes only;
# no alias points at it, so no test reaches the database through it.
DATABASES.pop("owner", None)  # noqa: F405
_owner = dj_database_url.parse(os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"])
TEST_DATABASE_OWNER = {"USER": _owner["USER"], "PASSWORD": _owner["PASSWORD"]}
if not os.environ.get("DATABASE_OWNER_URL") and DB_APP_ROLE:  # noqa: F405
    DATABASES["default"]["USER"] = DB_APP_ROLE  # noqa: F405
    DATABASES["default"]["PASSWORD"] = os.environ.get("DB_APP_PASSWORD", "bpij-app-test")  # noqa: F405
