"""One settings module, driven by environment variables.

Development defaults are safe to run on a laptop (SQLite under var/, tasks in-process,
e-mail to the console). DEBUG is off unless set; with it off, every secret must come from
the environment, real and long enough, and the process refuses to start without it.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from bpij import observability
from bpij.keys import keyring_from_env
from bpij.storage import default_storage_from_env
from reporting.contract import MAX_FILE_BYTES

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BPIJ_VAR_DIR", BASE_DIR / "var"))


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def env_bool(name: str, default: bool) -> bool:
    """A yes/no setting. A value that is neither (``DEBUG=flase``, ``BEHIND_PROXY=ture``)
    stops the process rather than being read as false, as healthchecks' envbool does."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a yes/no value: use one of "
        f"{', '.join(sorted(TRUE_WORDS))} or {', '.join(sorted(FALSE_WORDS))}."
    )


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Values that say "I am not a real secret": the placeholders of .env.example, the dev
# defaults below, Django's own generated-for-development prefix.
PLACEHOLDER_MARKERS = (
    "change-me", "changeme", "change_me", "replace-me", "placeholder", "dev-only",
    "django-insecure", "not-for-production", "example", "secret-key",
)  # fmt: skip


def env_secret(name: str, dev_default: str, *, min_length: int = 32) -> str:
    value = os.environ.get(name, "")
    if DEBUG:
        return value or dev_default
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (see .env.example).")
    return refuse_weak_secret(name, value, min_length=min_length)


def refuse_weak_secret(name: str, value: str, *, min_length: int = 32) -> str:
    if any(marker in value.lower() for marker in PLACEHOLDER_MARKERS):
        raise ImproperlyConfigured(
            f"{name} is a placeholder; with DEBUG off it must be a real random secret, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(64))'."
        )
    if len(value) < min_length or len(set(value)) < 10:
        raise ImproperlyConfigured(
            f"{name} is too weak: with DEBUG off it must be at least {min_length} random "
            "characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))'."
        )
    return value


# Off unless asked for: `make run` and the test settings turn it on explicitly.
DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_secret("SECRET_KEY", "dev-only-secret-key-not-for-production", min_length=50)
# Participant SSNs are encrypted and hashed with keys that are not SECRET_KEY, so that
# rotating the session secret never makes stored PII unreadable, and a leaked
# SECRET_KEY does not expose it.
# Key-encryption keys, "id:base64,id:base64", the first current (bpij.keys and
# docs/security.md): stored files, the SSN column and second-factor secrets are sealed
# under them. With DEBUG on and none set, a fixed development key is used.
ENCRYPTION_KEYS = keyring_from_env(os.environ.get("ENCRYPTION_KEYS", ""), debug=DEBUG)
# The passphrase SSNs were encrypted with before key ids: only read, never written, and
# no longer needed once `manage.py rotate_keys` has run.
PII_ENCRYPTION_KEY = os.environ.get("PII_ENCRYPTION_KEY") or (
    "dev-only-pii-encryption-key" if DEBUG else ""
)
if PII_ENCRYPTION_KEY and not DEBUG:
    # Optional now, but a placeholder would mean the old SSNs were never really protected.
    refuse_weak_secret("PII_ENCRYPTION_KEY", PII_ENCRYPTION_KEY)
PII_HASH_KEY = env_secret("PII_HASH_KEY", "dev-only-pii-hash-key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "bpij.apps.HubAdminConfig",  # django.contrib.admin behind the hub's sign-in
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files (no CDN)
    "bpij",
    "grantees",
    "reporting",
    "coaching",
]

MIDDLEWARE = [
    # First, so every log line of the request, and the response, carry its id.
    "bpij.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "bpij.security.RequestBodyLimitMiddleware",
    "bpij.security.SignedInNoStoreMiddleware",
    "bpij.security.SessionTimeoutMiddleware",
    "bpij.middleware.StaffMFARequiredMiddleware",
    "bpij.middleware.DatabaseScopeMiddleware",
    "bpij.middleware.AccessDeniedAuditMiddleware",
]

ROOT_URLCONF = "bpij.urls"
WSGI_APPLICATION = "bpij.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bpij.context_processors.site",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'bpij.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
EMBEDDED_DEFAULT = DATABASES["default"]["ENGINE"].endswith("sqlite3")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, carrying the tenant scope into every transaction (bpij.tenancy).
    DATABASES["default"]["ENGINE"] = "bpij.postgresql"
# On PostgreSQL, DATABASE_URL is the runtime login: requests, tasks and commands run as
# DB_APP_ROLE, which is no superuser, owns no table and is held to the row-level security
# policies of the tenant tables (docs/security.md, "Database roles"). The owner login,
# which owns the tables, is used by `manage.py migrate` alone. Empty DB_APP_ROLE turns RLS off.
DB_APP_ROLE = os.environ.get("DB_APP_ROLE", "bpij_app")
if os.environ.get("DATABASE_OWNER_URL"):
    DATABASES["owner"] = dj_database_url.parse(os.environ["DATABASE_OWNER_URL"], conn_max_age=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "bpij.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: e-mail is the sign-in name; nobody signs up on their own (people join
# through invitations, see grantees.services.invitation_accept).
ACCOUNT_ADAPTER = "bpij.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, stated so they are visible and tested.
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    # A wrong code at the second step counts against "login_failed" (per account: 5 in 5
    # minutes), at sign-in and at reauthentication alike; this limits answering at the
    # reauthentication pages at all, right or wrong.
    "reauthenticate": "10/m/user",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[BPIJ Reporting Hub] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "BPIJ Reporting Hub"
# TOTP secrets and recovery-code seeds are sealed under ENCRYPTION_KEYS in the database.
MFA_ADAPTER = "bpij.adapters.MFAAdapter"
# Staff roles and the FPO must pass a second factor in each session before they see
# coalition data. Demo accounts (whose password is public) may be let through only in the
# embedded default, so a newcomer can look around; on a server database, never.
MFA_EXEMPT_DEMO_ACCOUNTS = EMBEDDED_DEFAULT and env_bool("MFA_EXEMPT_DEMO_ACCOUNTS", default=True)
# Django admin is not routed unless this is on; when on, it signs in through the hub's
# form (password, then second factor) and needs is_staff (bpij.admin_site).
ADMIN_ENABLED = env_bool("ADMIN_ENABLED", default=False)

INVITATION_VALID_DAYS = int(os.environ.get("INVITATION_VALID_DAYS", "7"))
# With the broker down, an invitation's e-mail is sent from the web process
# (grantees.services): the mail server gets this many seconds before the page says the
# e-mail could not be sent.
INVITATION_MAIL_TIMEOUT = int(os.environ.get("INVITATION_MAIL_TIMEOUT", "10"))

REDIS_URL = os.environ.get("REDIS_URL", "")
# Seconds a request waits on Redis (cache, broker) before giving up: a stalled Redis must
# never hang a request until gunicorn kills it (docs/operations.md, "Lost and stuck work").
REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "2"))
CACHES = {
    "default": (
        {
            # Redis errors are logged and the cache falls back to one in the process, so
            # sign-in, throttles and uploads keep answering while Redis is down.
            "BACKEND": "bpij.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT,
                "socket_timeout": REDIS_TIMEOUT,
            },
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# -- Celery: at-least-once delivery (docs/operations.md, "Lost and stuck work") ------
# Every task that does work is idempotent (a re-run replaces what the last one stored),
# so a message is acknowledged only once the task has finished (acks_late), and one whose
# worker process died (kill -9, the OOM killer, the hard time limit) goes back to the
# queue (reject_on_worker_lost) instead of being acknowledged as done. A task that keeps
# killing its worker is stopped by its attempt count (reporting.services.recovery).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "600"))
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# A message taken by a worker that then vanished (kill -9 of the whole worker) comes back
# after the visibility timeout. Redis' default is an hour; it must be longer than the
# longest task (or a running task is delivered twice), and no longer than that needs.
CELERY_BROKER_VISIBILITY_TIMEOUT = int(
    os.environ.get("CELERY_BROKER_VISIBILITY_TIMEOUT", str(CELERY_TASK_TIME_LIMIT + 60))
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
    # Look for abandoned messages every restore interval (kombu's default scans once a
    # hundred seconds), so a lost message is back soon after its visibility timeout.
    "unacked_restore_interval": min(10, CELERY_BROKER_VISIBILITY_TIMEOUT),
    "unacked_restore_throttle": 1,
    # Publishing from a request: fail in seconds when Redis is down or stalled (the
    # committed work is picked up by the sweeper), never wait for ever.
    "socket_timeout": REDIS_TIMEOUT,
    "socket_connect_timeout": REDIS_TIMEOUT,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The worker reconnects for ever (None); a request's publish gives up after one retry.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Work left behind (a lost message, a worker that died, Redis down when the work was
# committed) is found by the sweeper (reporting.tasks.sweep_stuck_work, every minute):
# a check still `checking`, an export still waiting or rendering, a roll-up still owed
# this many seconds after it was last sent to a worker is sent again. Longer than the
# longest task, so a check that is merely slow is not sent twice.
CHECK_REQUEUE_AFTER = int(os.environ.get("CHECK_REQUEUE_AFTER", str(CELERY_TASK_TIME_LIMIT + 60)))
ROLLUP_REQUEUE_AFTER = int(os.environ.get("ROLLUP_REQUEUE_AFTER", "120"))
# After this many attempts a check (or an export) stops: the version shows the check
# failed, with "Check again"; the export shows it failed (docs/operations.md).
CHECK_MAX_ATTEMPTS = int(os.environ.get("CHECK_MAX_ATTEMPTS", "3"))
EXPORT_MAX_ATTEMPTS = int(os.environ.get("EXPORT_MAX_ATTEMPTS", "3"))
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # 9:00 Eastern (CELERY_TIMEZONE): the morning in every U.S. time zone but Hawaii's.
    "send-due-reminders": {
        "task": "reporting.tasks.send_due_reminders",
        "schedule": crontab(hour=9, minute=0),
    },
    # Each person's digest of the day's report events (certified, returned), at the end of
    # JFF's working day (reporting.services.staff_notices).
    "send-staff-digests": {
        "task": "reporting.tasks.send_staff_digests",
        "schedule": crontab(hour=17, minute=30),
    },
    # Reports waiting in review too long remind the coaches, then the program officers
    # (reporting.services.staff_notices.review_reminders_send), with the grantee reminders.
    "send-review-reminders": {
        "task": "reporting.tasks.send_review_reminders",
        "schedule": crontab(hour=9, minute=15),
    },
    # Stored files past the retention rule (reporting.services.retention), at night.
    "purge-uploads": {
        "task": "reporting.tasks.purge_uploads",
        "schedule": crontab(hour=2, minute=30),
    },
    # Work lost or stuck (reporting.services.recovery): every minute.
    "sweep-stuck-work": {
        "task": "reporting.tasks.sweep_stuck_work",
        "schedule": 60.0,
    },
    # Every roll-up recomputed from the versions that count: repairs anything missed.
    "rebuild-rollups": {
        "task": "reporting.tasks.rebuild_rollups",
        "schedule": crontab(hour=3, minute=15),
    },
}
CELERY_TIMEZONE = "America/New_York"
# Exports (PDFs, data packs) run on their own queue, so a long render never holds up the
# checks and roll-ups; its worker takes one at a time (docker-compose.yml, docs/exports.md).
CELERY_TASK_ROUTES = {"reporting.tasks.render_export": {"queue": "exports"}}
# Seconds an export may render before its worker kills it (soft limit 30 s earlier).
EXPORT_TIME_LIMIT = int(os.environ.get("EXPORT_TIME_LIMIT", "150"))
# An export still waiting, or still rendering, this many seconds after it was last sent
# to the worker has lost its worker: the sweeper sends it again (or, after
# EXPORT_MAX_ATTEMPTS, marks it failed and says why), and asking again makes a new one.
EXPORT_REQUEUE_AFTER = int(os.environ.get("EXPORT_REQUEUE_AFTER", str(EXPORT_TIME_LIMIT + 30)))
# While it renders, the worker writes a heartbeat on the export every this many seconds
# (a thread of the rendering process): a render whose heartbeat is older than
# EXPORT_HEARTBEAT_STALE has lost its worker (kill -9, out of memory), and asking again,
# the exports page's poll and the sweeper treat it as dead at once, well before
# EXPORT_REQUEUE_AFTER (which still holds for a render without a heartbeat).
EXPORT_HEARTBEAT_INTERVAL = float(os.environ.get("EXPORT_HEARTBEAT_INTERVAL", "5"))
EXPORT_HEARTBEAT_STALE = float(os.environ.get("EXPORT_HEARTBEAT_STALE", "25"))
# A version waiting in review (submitted or in review) more than this many days reminds
# the coalition's coaches; more than REVIEW_ESCALATION_DAYS, the program officers too
# (docs/reminders.md, "Reviewer reminders"). Each reminder once per version.
REVIEW_REMINDER_DAYS = int(os.environ.get("REVIEW_REMINDER_DAYS", "5"))
REVIEW_ESCALATION_DAYS = int(os.environ.get("REVIEW_ESCALATION_DAYS", "10"))

# -- Security headers, sessions and request limits (docs/security.md) ----------
# A signed-in session ends after this many seconds without activity (htmx polls do not
# count), with a warning a minute before; and, however active, this long after sign-in.
SESSION_IDLE_TIMEOUT_STAFF = int(os.environ.get("SESSION_IDLE_TIMEOUT_STAFF", "900"))
SESSION_IDLE_TIMEOUT_GRANTEE = int(os.environ.get("SESSION_IDLE_TIMEOUT_GRANTEE", "1800"))
SESSION_ABSOLUTE_TIMEOUT = int(os.environ.get("SESSION_ABSOLUTE_TIMEOUT", str(12 * 60 * 60)))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
# Only the hub's own files: no inline script or style, no eval (htmx.config.allowEval is
# off in base.html), nothing from another origin. data: images are the MFA QR code and
# USWDS's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Nothing in the hub needs a device or a browser feature beyond pages and forms.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media",
        "fullscreen", "geolocation", "gyroscope", "magnetometer", "microphone", "midi",
        "payment", "picture-in-picture", "publickey-credentials-get", "screen-wake-lock",
        "usb", "xr-spatial-tracking",
    )
}  # fmt: skip
# One file at the upload limit (reporting.contract.MAX_FILE_BYTES) plus the form fields
# around it; a larger body is refused with 413 before it is read (bpij.security).
UPLOAD_MAX_FILE_BYTES = MAX_FILE_BYTES
REQUEST_BODY_MAX_BYTES = MAX_FILE_BYTES + 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "bpij.security.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# allauth's rate limits key on the client's address: behind the proxy, the last
# X-Forwarded-For hop (as bpij.auditing.client_ip), not the proxy's own address, which
# would put every person in one bucket and lock everyone out together.
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if env_bool("BEHIND_PROXY", default=False) else 0

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The container's and the load balancer's probes ask over plain HTTP, past the proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The preload token only takes effect when the registrable domain is submitted to
    # the browsers' list; sending it keeps `check --deploy` clean and the option open.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Days a superseded upload file, or one of a version never sent, is kept before
# purge_uploads deletes it; sent versions' files follow the grant's record retention.
UPLOAD_RETENTION_DAYS = int(os.environ.get("UPLOAD_RETENTION_DAYS", "365"))
STORAGES = {
    # Every stored file (originals, annotated workbooks, exports) is encrypted at rest, on
    # the local disk under MEDIA_ROOT or, with STORAGE_BACKEND=s3, in an S3-compatible
    # bucket that web and workers on any host share (docs/operations.md, Storage).
    "default": default_storage_from_env(os.environ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "BPIJ Reporting Hub <hub@bpij.example>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "BPIJ Reporting Hub API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# -- Logs, errors and health (docs/operations.md, "Monitoring") --------------------------
# One JSON object per line by default in production, readable text when DEBUG is on.
# Every line carries the request id (X-Request-ID) and, in a task, the task's id; no full
# SSN reaches a line (reporting.pii.MaskSSNs on the handler, bpij.observability).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "") or ("text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'text', not {LOG_FORMAT!r}.")
LOGGING = observability.logging_config(
    log_format=LOG_FORMAT, level=os.environ.get("LOG_LEVEL", "INFO")
)
# Error tracking, only when a DSN is given: nothing is sent anywhere otherwise.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
observability.sentry_init(
    dsn=SENTRY_DSN,
    environment=os.environ.get("SENTRY_ENVIRONMENT", ""),
    release=os.environ.get("SENTRY_RELEASE", ""),
    traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
)
# Workers write a heartbeat this often (seconds); /readyz fails when none is fresher
# than WORKER_HEARTBEAT_MAX_AGE.
WORKER_HEARTBEAT_INTERVAL = int(os.environ.get("WORKER_HEARTBEAT_INTERVAL", "15"))
WORKER_HEARTBEAT_MAX_AGE = int(os.environ.get("WORKER_HEARTBEAT_MAX_AGE", "60"))
# The operations page calls a check "stuck" after this many seconds in `checking` (the
# task's hard time limit, CELERY_TASK_TIME_LIMIT, is 600), and a queued export after
# this many seconds waiting (a rendering one after EXPORT_TIME_LIMIT).
OPS_STUCK_CHECK_SECONDS = int(os.environ.get("OPS_STUCK_CHECK_SECONDS", "900"))
OPS_STUCK_EXPORT_SECONDS = int(os.environ.get("OPS_STUCK_EXPORT_SECONDS", "600"))
# Where heartbeats, beat runs and failed tasks are kept in Redis.
OPS_KEY_PREFIX = os.environ.get("OPS_KEY_PREFIX", "bpij:ops:")

if EMBEDDED_DEFAULT:
    VAR_DIR.mkdir(parents=True, exist_ok=True)

# Behind a reverse proxy, the client's address comes from the last X-Forwarded-For hop.
BEHIND_PROXY = env_bool("BEHIND_PROXY", default=False)

# -- REST API (docs/api.md) -----------------------------------------------------------
# Personal tokens last this many days unless made for fewer or more (at most 366).
API_TOKEN_DEFAULT_DAYS = int(os.environ.get("API_TOKEN_DEFAULT_DAYS", "90"))
REST_FRAMEWORK.update(
    {
        # A token first (its 401 names the Bearer scheme); the session for the browsable
        # pages and the interactive docs.
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "bpij.api.authentication.BearerTokenAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
        "DEFAULT_RENDERER_CLASSES": [
            "rest_framework.renderers.JSONRenderer",
            "rest_framework.renderers.BrowsableAPIRenderer",
        ],
        "DEFAULT_PARSER_CLASSES": [
            "rest_framework.parsers.JSONParser",
            "rest_framework.parsers.FormParser",
            "rest_framework.parsers.MultiPartParser",
        ],
        "EXCEPTION_HANDLER": "bpij.api.errors.exception_handler",
        "DEFAULT_THROTTLE_CLASSES": ["bpij.api.throttles.TokenRateThrottle"],
        # Per token (or per signed-in person, or per address for anonymous requests),
        # counted in the default cache: Redis on a server.
        "DEFAULT_THROTTLE_RATES": {"api": os.environ.get("API_THROTTLE_RATE", "600/minute")},
        "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
        "PAGE_SIZE": 100,
        "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    }
)
SPECTACULAR_SETTINGS.update(
    {
        "DESCRIPTION": (
            "Coalitions' systems file quarterly reports; JFF's analysts read figures and "
            "statuses. Authenticate with a personal token: `Authorization: Bearer <secret>` "
            "(docs/api.md). Every error is JSON: {code, detail, fields}."
        ),
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        "COMPONENT_SPLIT_REQUEST": True,
        "POSTPROCESSING_HOOKS": [
            "drf_spectacular.hooks.postprocess_schema_enums",
            "bpij.api.schema.response_headers",
        ],
        "SCHEMA_PATH_PREFIX": r"/api/v1",
        "ENUM_NAME_OVERRIDES": {
            "UploadKindEnum": "reporting.models.UploadKind",
            "UploadStatusEnum": "reporting.models.UploadStatus",
            "ExportKindEnum": "reporting.models.ExportKind",
            "ExportStatusEnum": "reporting.models.ExportStatus",
            "SubmissionStateEnum": "reporting.models.SubmissionState",
        },
    }
)

# -- Load (docs/operations.md, "Page cache" and "Workers") ---------------------------
# Seconds a cached piece of the dashboards or the board is kept at most (reporting.
# pagecache); each is also dropped as soon as what it shows changes. 0: no page cache.
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "900"))
# The niceness Celery worker processes take at start (bpij.celery): checks then yield
# the CPU to web requests on a shared host. 0 leaves them at the normal priority.
WORKER_NICE = int(os.environ.get("WORKER_NICE", "10"))
