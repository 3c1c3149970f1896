"""On the embedded default, e-mail links follow the address runserver serves on (`make run
PORT=8123`), unless SITE_URL is set; a deployment (DATABASE_URL set) keeps its SITE_URL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bpij import devserver

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("args", "url"),
    [
        ([], "http://127.0.0.1:8000"),
        (["8123"], "http://127.0.0.1:8123"),
        (["127.0.0.1:8123"], "http://127.0.0.1:8123"),  # what `make run PORT=8123` runs
        (["--noreload", "localhost:9000"], "http://localhost:9000"),
        (["0.0.0.0:8123"], "http://127.0.0.1:8123"),
        (["0:8123"], "http://127.0.0.1:8123"),
        (["[::1]:8123"], "http://[::1]:8123"),
        (["-6"], "http://[::1]:8000"),
        (["--settings", "bpij.settings", "8124"], "http://127.0.0.1:8124"),
    ],
)
def test_the_serving_url_is_the_address_runserver_serves_on(args, url):
    assert devserver.serving_url(args) == url


def manage(tmp_path, *args: str, **env: str) -> str:
    """Run manage.py in a fresh process on the embedded default (its own SQLite under
    tmp_path); `runserver --help` goes through manage.py's start without serving."""
    base = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "REDIS_URL", "SITE_URL", "DJANGO_SETTINGS_MODULE")
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "BPIJ_VAR_DIR": str(tmp_path), "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_runserver_on_the_embedded_default_points_e_mail_links_at_its_own_port(tmp_path):
    out = manage(tmp_path, "runserver", "127.0.0.1:8123", "--help")
    assert out.splitlines()[0] == (
        "E-mail links point at http://127.0.0.1:8123 (set SITE_URL to change it)."
    )


def test_a_site_url_that_is_set_is_kept(tmp_path):
    out = manage(tmp_path, "runserver", "8123", "--help", SITE_URL="https://hub.example.org")
    assert "E-mail links point at" not in out


def test_a_deployment_keeps_its_configured_site_url(tmp_path):
    out = manage(
        tmp_path,
        "runserver",
        "8123",
        "--help",
        DATABASE_URL="postgres://bpij:unused@127.0.0.1:5432/bpij",
    )
    assert "E-mail links point at" not in out
