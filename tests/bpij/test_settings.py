"""What bpij/settings.py makes of the environment, read in a fresh process each time
(the settings are read once per process, and the test process runs bpij.settings_test)."""

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Variables this module decides; everything else (PATH, the virtualenv) is kept.
DECIDED = (
    "DEBUG",
    "SECRET_KEY",
    "PII_ENCRYPTION_KEY",
    "PII_HASH_KEY",
    "ENCRYPTION_KEYS",
    "DATABASE_OWNER_URL",
    "BEHIND_PROXY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "MFA_EXEMPT_DEMO_ACCOUNTS",
    # pytest-playwright sets it in the test process once a browser test has run; a
    # deployment never has it (check --deploy refuses it).
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def production_env(**overrides: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in DECIDED}
    env.update(
        DJANGO_SETTINGS_MODULE="bpij.settings",
        SECRET_KEY=secrets.token_urlsafe(64),
        PII_ENCRYPTION_KEY=secrets.token_urlsafe(40),
        PII_HASH_KEY=secrets.token_urlsafe(40),
        ENCRYPTION_KEYS="k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="hub.example.org",
        DATABASE_URL="postgres://bpij:unused@127.0.0.1:5432/bpij",
    )
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def read_settings(env: dict[str, str], *names: str) -> subprocess.CompletedProcess:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def settings_of(env: dict[str, str], *names: str) -> dict:
    result = read_settings(env, *names)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_is_off_unless_set():
    assert settings_of(production_env(), "DEBUG") == {"DEBUG": False}
    assert settings_of(production_env(DEBUG="true"), "DEBUG") == {"DEBUG": True}


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SECRET_KEY", None, "SECRET_KEY must be set"),
        ("SECRET_KEY", "change-me", "SECRET_KEY is a placeholder"),
        ("SECRET_KEY", "dev-only-secret-key-not-for-production", "SECRET_KEY is a placeholder"),
        pytest.param(
            "SECRET_KEY", secrets.token_urlsafe(30), "SECRET_KEY is too weak", id="short-secret-key"
        ),
        ("PII_ENCRYPTION_KEY", "change-me-too", "PII_ENCRYPTION_KEY is a placeholder"),
        ("PII_ENCRYPTION_KEY", "dev-only-pii-encryption-key", "is a placeholder"),
        ("PII_HASH_KEY", "change-me-three", "PII_HASH_KEY is a placeholder"),
        pytest.param(
            "PII_HASH_KEY",
            secrets.token_urlsafe(16),
            "PII_HASH_KEY is too weak",
            id="short-hash-key",
        ),
        ("PII_HASH_KEY", "a" * 64, "PII_HASH_KEY is too weak"),
    ],
)
def test_with_debug_off_the_hub_refuses_to_start_on_a_missing_placeholder_or_short_secret(
    name, value, says
):
    result = read_settings(production_env(**{name: value}), "DEBUG")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert says in result.stderr


@pytest.mark.parametrize(("name", "value"), [("DEBUG", "flase"), ("BEHIND_PROXY", "ture")])
def test_a_yes_no_setting_that_is_neither_stops_the_process_and_says_what_would_do(name, value):
    result = read_settings(production_env(**{name: value}), "DEBUG")

    assert result.returncode != 0
    assert f"{name}='{value}' is not a yes/no value: use one of 1, on, true, yes or 0, " in (
        result.stderr
    )


@pytest.mark.parametrize(("value", "read"), [("Off", False), (" no ", False), ("YES", True)])
def test_a_yes_no_setting_reads_the_usual_words_whatever_their_case(value, read):
    assert settings_of(production_env(BEHIND_PROXY=value), "BEHIND_PROXY") == {"BEHIND_PROXY": read}


def test_the_development_placeholders_are_fine_with_debug_on():
    env = production_env(DEBUG="true", SECRET_KEY=None, PII_HASH_KEY="change-me-three")

    assert settings_of(env, "PII_HASH_KEY") == {"PII_HASH_KEY": "change-me-three"}


def test_behind_a_proxy_allauth_rate_limits_the_client_not_the_proxy():
    behind = settings_of(production_env(BEHIND_PROXY="true"), "ALLAUTH_TRUSTED_PROXY_COUNT")
    direct = settings_of(production_env(), "ALLAUTH_TRUSTED_PROXY_COUNT")

    assert behind == {"ALLAUTH_TRUSTED_PROXY_COUNT": 1}
    assert direct == {"ALLAUTH_TRUSTED_PROXY_COUNT": 0}


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
