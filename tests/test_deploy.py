"""The deployable image and compose file (issue 13, item 3), tested without Docker.

Docker's daemon cannot run here, so the pieces it would run are run directly: the
compose file is read as Compose reads it (YAML, merge keys, ``${VAR:-default}``) and
held to its promises; .dockerignore is applied with Docker's own matching rules to the
checkout; gunicorn starts with the image's CMD and the production settings and answers
the container health check; the worker, exports and beat command lines of the compose
file start on the test's Redis and database, and their health checks pass; the Redis
command line keeps a queued message across a kill -9; the Dockerfile's collectstatic step
runs with the production settings, and a PDF prints from its output with no system font.
"""

import base64
import http.client
import json
import os
import re
import runpy
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml
from django.db import connections

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
# The services that run the hub's image (built from this repository).
APP_SERVICES = sorted(name for name, service in SERVICES.items() if "build" in service)
LONG_RUNNING = sorted(name for name in SERVICES if name != "migrate")
# The image's user's folder, which the tests replace with a temporary one.
IMAGE_VAR = "/app/var"
BIN = Path(sys.executable).parent


# -- Reading the compose file as Compose does ------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation: ``$$`` is a dollar, ``${VAR:-default}`` the default when VAR
    is unset or empty, ``${VAR-default}`` only when unset."""

    def value(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        if match["op"] == ":-" and not env.get(name):
            return match["default"]
        if match["op"] == "-" and name not in env:
            return match["default"]
        return env.get(name, "")

    return _VARIABLE.sub(value, text)


def command_of(service: str, env: dict[str, str]) -> list[str]:
    command = SERVICES[service]["command"]
    if isinstance(command, str):
        command = shlex.split(command)
    return [interpolate(part, env) for part in command]


def environment_of(service: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The service's ``environment``, interpolated from ``env`` (the shell and .env)."""
    environment = SERVICES[service].get("environment") or {}
    assert isinstance(environment, dict), f"{service}: write environment as a mapping"
    return {
        name: "" if value is None else interpolate(str(value), env or {})
        for name, value in environment.items()
    }


def healthcheck_argv(service: str, var_dir: Path) -> list[str]:
    """The service's health check as a command line, /app/var made the test's folder."""
    test = SERVICES[service]["healthcheck"]["test"]
    kind, *rest = test
    rest = [interpolate(part, {}).replace(IMAGE_VAR, str(var_dir)) for part in rest]
    if kind == "CMD-SHELL":
        return ["sh", "-c", rest[0]]
    assert kind == "CMD", test
    return rest


# -- The compose file's promises --------------------------------------------------------


def test_every_long_running_service_has_a_health_check():
    for name in LONG_RUNNING:
        check = SERVICES[name].get("healthcheck")
        assert check, f"{name} has no healthcheck: Compose could not tell it has stopped working"
        assert not check.get("disable"), name
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, (name, check)
        assert check["test"][1:], (name, check)
    # migrate is the one one-shot service: it exits, and its exit status is its health.
    assert SERVICES["migrate"]["restart"] == "no"


def test_the_app_waits_for_migrate_and_no_app_container_migrates():
    assert {"web", "worker", "exports", "beat"} <= set(APP_SERVICES)
    for name in APP_SERVICES:
        if name == "migrate":
            continue
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["db"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
        assert "migrate" not in command_of(name, {}), name
    assert command_of("migrate", {})[-2:] == ["migrate", "--no-input"]
    # `docker compose up -d db redis` (make test on a laptop) needs nothing built.
    for name in ("db", "redis"):
        assert "build" not in SERVICES[name], name
        assert "depends_on" not in SERVICES[name], name
        assert any(port.startswith("127.0.0.1:") for port in SERVICES[name]["ports"]), name


def test_only_migrate_holds_the_owner_login():
    for name in APP_SERVICES:
        owner_url = environment_of(name).get("DATABASE_OWNER_URL")
        if name == "migrate":
            assert (owner_url or "").startswith("postgres://bpij_owner:"), owner_url
        else:
            # Set, and empty: .env (env_file) may hold the owner's URL for the migrate step;
            # `environment` wins over it.
            assert owner_url == "", f"{name} must set DATABASE_OWNER_URL to empty"
        assert environment_of(name)["DATABASE_URL"].startswith("postgres://bpij_app:"), name
    assert "DATABASE_OWNER_URL" not in environment_of("db")


def test_debug_is_off_in_every_app_container_and_in_the_image():
    for name in APP_SERVICES:
        assert environment_of(name).get("DEBUG") == "false", name
    assert dockerfile_env()["DEBUG"] == "false"
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"DEBUG\W+(true|1|yes|on)\b", text, re.IGNORECASE)


def test_web_concurrency_and_worker_concurrency_come_from_the_environment():
    assert environment_of("web")["WEB_CONCURRENCY"] == ""  # unset: gunicorn_conf decides
    assert environment_of("web", {"WEB_CONCURRENCY": "6"})["WEB_CONCURRENCY"] == "6"
    assert "--workers" not in command_of("web", {})
    assert "--concurrency=4" in command_of("worker", {"WORKER_CONCURRENCY": "4"})
    assert "--concurrency=2" in command_of("worker", {})


def test_uploads_volume_is_mounted_where_the_image_made_it_for_its_user():
    media_root = dockerfile_env()["MEDIA_ROOT"]
    # Stated in every app container, so .env (env_file, copied from .env.example) cannot
    # move them: an empty STATIC_ROOT there would be the working directory.
    for name in APP_SERVICES:
        for folder in ("BPIJ_VAR_DIR", "MEDIA_ROOT", "STATIC_ROOT"):
            assert environment_of(name)[folder] == dockerfile_env()[folder], (name, folder)
    for name in ("web", "worker", "exports"):
        assert f"media:{media_root}" in SERVICES[name]["volumes"], name
        assert environment_of(name)["MEDIA_ROOT"] == media_root, name
    user = dockerfile_user()
    made = [run for run in dockerfile_runs_before_user() if f"mkdir -p {media_root}" in run]
    assert made, f"the image must make {media_root} before USER, or a new volume is root's"
    assert f"chown -R {user}:{user} {dockerfile_env()['BPIJ_VAR_DIR']}" in made[-1]
    assert user not in {"root", "0"}


def test_redis_keeps_an_append_only_file_on_a_volume():
    command = SERVICES["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in SERVICES["redis"]["volumes"])


# -- The Dockerfile -------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    instructions: list[tuple[str, str]] = []
    current = ""
    for line in lines:
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        keyword, _, rest = current.strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    return instructions


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(rest))
    return env


def dockerfile_user() -> str:
    users = [rest for keyword, rest in dockerfile_instructions() if keyword == "USER"]
    assert users, "the image must not run as root"
    return users[-1].split(":")[0]


def dockerfile_runs_before_user() -> list[str]:
    runs = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "USER":
            break
        if keyword == "RUN":
            runs.append(rest)
    return runs


def dockerfile_json(keyword: str) -> list[str]:
    (rest,) = [rest for key, rest in dockerfile_instructions() if key == keyword]
    if keyword == "HEALTHCHECK":
        rest = rest[rest.index("CMD ") + 4 :]
    return json.loads(rest)


def test_the_image_serves_with_the_gunicorn_config_and_checks_its_health():
    assert dockerfile_json("CMD") == command_of("web", {})
    assert command_of("web", {})[:3] == ["gunicorn", "--config", "bpij/gunicorn_conf.py"]
    assert dockerfile_json("HEALTHCHECK") == SERVICES["web"]["healthcheck"]["test"][1:]


def test_the_image_installs_no_font_package():
    """The PDFs use only the Liberation Sans shipped in static/ (test below)."""
    for run in dockerfile_runs_before_user():
        if "apt-get install" in run:
            assert not re.search(r"\bfonts-", run), run


def test_the_image_carries_pg_dump_of_the_servers_major_version():
    """manage.py backup runs pg_dump, which refuses a server newer than itself: the image's
    client is the major version compose's database runs (bookworm alone has 15)."""
    (server,) = re.findall(r"^postgres:(\d+)", SERVICES["db"]["image"])
    (default,) = [
        rest.split("=", 1)[1]
        for keyword, rest in dockerfile_instructions()
        if keyword == "ARG" and rest.startswith("PG_MAJOR=")
    ]
    installs = " ".join(run for run in dockerfile_runs_before_user() if "apt-get install" in run)
    assert default == server
    assert "postgresql-client-${PG_MAJOR}" in installs
    assert "apt.postgresql.org" in installs


# -- .dockerignore, with Docker's rules ---------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern:
    """moby/patternmatcher: matched against the whole path from the context's root;
    ``**`` any number of folders, ``*`` and ``?`` within one name, ``[...]`` a class."""
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out, i = out + "(?:.*/)?", i + 1
            else:
                out += ".*"
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.index("]", i)
            out += "[" + pattern[i + 1 : end].replace("!", "^", 1) + "]"
            i = end
        elif char == "\\":
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out + r"\Z")


def dockerignore_rules() -> list[tuple[bool, re.Pattern]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((include, _pattern_regex(pattern)))
    return rules


RULES = dockerignore_rules()


def excluded(path: str) -> bool:
    """Whether Docker leaves ``path`` (relative, with /) out of the build context: a rule
    matches the path or a folder above it; the last rule that matches decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    verdict = False
    for include, regex in RULES:
        if any(regex.match(candidate) for candidate in candidates):
            verdict = not include
    return verdict


@pytest.mark.parametrize(
    "path",
    [
        ".venv/lib/python3.11/site-packages/django/__init__.py",
        ".venv/bin/python",
        "var/media/uploads/2025Q3/participants.csv",
        "var/bpij.sqlite3",
        ".env",
        ".env.production",
        ".env.local",
        ".git/config",
        ".git",
        "test-results/playwright/trace.zip",
        "staticfiles/staticfiles.json",
        "node_modules/axe-core/axe.js",
        "bench/out/load.json",
        ".mypy_cache/3.11/cache.db",
        ".pytest_cache/v/cache",
        "reporting/__pycache__/tasks.cpython-311.pyc",
        "backup-2026-01-01.dump",
        "celerybeat-schedule",
        "tests/conftest.py",
    ],
)
def test_the_build_context_leaves_out(path):
    assert excluded(path), f"{path} would be copied into the image"


@pytest.mark.parametrize(
    "path",
    [
        ".env.example",
        "manage.py",
        "pyproject.toml",
        "uv.lock",
        "bpij/settings.py",
        "bpij/gunicorn_conf.py",
        "docker/healthcheck.py",
        "docker/db-init.sh",
        "static/css/print.css",
        "static/vendor/fonts/liberation-sans/LiberationSans-Regular.ttf",
        "templates/base.html",
        "reporting/pdf/__init__.py",
    ],
)
def test_the_build_context_takes(path):
    assert (ROOT / path).exists(), path
    assert not excluded(path), f"{path} is needed in the image"


def build_context() -> Iterator[Path]:
    """The files of this checkout Docker would send, folders left out whole where no
    ``!`` rule could take something back inside them."""
    for folder, folders, files in os.walk(ROOT):
        relative = Path(folder).relative_to(ROOT)
        folders[:] = [name for name in folders if not excluded((relative / name).as_posix())]
        for name in files:
            if not excluded((relative / name).as_posix()):
                yield relative / name


def test_the_checkout_sends_no_secret_virtualenv_or_upload_and_every_app_file():
    context = {path.as_posix() for path in build_context()}
    leaked = sorted(
        path
        for path in context
        if path.split("/")[0] in {".venv", "var", ".git", "staticfiles", "test-results"}
        or (path.split("/")[-1].startswith(".env") and path != ".env.example")
    )
    assert not leaked
    apps = ("bpij", "grantees", "reporting", "coaching", "templates", "static", "docker")
    for app in apps:
        for path in (ROOT / app).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                assert path.relative_to(ROOT).as_posix() in context, path
    size = sum((ROOT / path).stat().st_size for path in context)
    assert size < 40 * 1024 * 1024, f"the build context is {size / 1e6:.0f} MB"


# -- bpij/gunicorn_conf.py --------------------------------------------------------------

CONF = ROOT / "bpij" / "gunicorn_conf.py"


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    for name in ("WEB_CONCURRENCY", "PORT", "GUNICORN_TIMEOUT", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_gunicorn_workers_follow_web_concurrency(monkeypatch):
    assert gunicorn_settings(monkeypatch, WEB_CONCURRENCY="5")["workers"] == 5
    default = gunicorn_settings(monkeypatch)
    assert default["workers"] == default["default_workers"](default["available_cpus"]())
    assert gunicorn_settings(monkeypatch, WEB_CONCURRENCY="")["workers"] == default["workers"]
    for wrong in ("0", "three", "-2"):
        with pytest.raises(ValueError, match=r"WEB_CONCURRENCY=.* is not a positive whole number"):
            gunicorn_settings(monkeypatch, WEB_CONCURRENCY=wrong)


def test_gunicorn_default_workers_are_two_per_cpu_plus_one_capped(monkeypatch, tmp_path):
    conf = gunicorn_settings(monkeypatch)
    assert [conf["default_workers"](cpus) for cpus in (1, 2, 3, 4, 64)] == [3, 5, 7, 8, 8]
    quota = tmp_path / "cpu.max"
    quota.write_text("150000 100000\n")  # --cpus 1.5: two CPUs' worth of processes
    affinity = len(os.sched_getaffinity(0))
    assert conf["available_cpus"](quota) == min(affinity, 2)
    quota.write_text("max 100000\n")
    assert conf["available_cpus"](quota) == affinity
    assert conf["available_cpus"](tmp_path / "missing") == affinity


def test_gunicorn_logs_requests_to_stdout_and_believes_the_proxy(monkeypatch):
    conf = gunicorn_settings(monkeypatch, PORT="8123", GUNICORN_TIMEOUT="90")
    assert conf["bind"] == ["0.0.0.0:8123"]
    assert conf["timeout"] == 90
    assert conf["accesslog"] == "-"
    assert conf["forwarded_allow_ips"] == "*"
    assert gunicorn_settings(monkeypatch, FORWARDED_ALLOW_IPS="10.0.0.5")[
        "forwarded_allow_ips"
    ] == ("10.0.0.5")


# -- The processes, started as the containers would start them --------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def production_env(django_db_setup, tmp_path_factory) -> dict[str, str]:
    """The environment compose gives the app's containers, pointed at the test database
    (as the runtime login) and the test's Redis, with real random secrets."""
    db = connections["default"].settings_dict
    var_dir = tmp_path_factory.mktemp("var")
    (var_dir / "media").mkdir()
    kept = {
        name: value
        for name, value in os.environ.items()
        if name in {"HOME", "LANG", "LC_ALL", "TMPDIR", "FONTCONFIG_FILE"}
    }
    env = {
        **kept,
        **environment_of("web"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "bpij.settings",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "PII_HASH_KEY": secrets.token_urlsafe(40),
        "ENCRYPTION_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "hub.example.org",
        "SITE_URL": "https://hub.example.org",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": os.environ["REDIS_URL"],
        "BPIJ_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "DB_CONN_MAX_AGE": "0",
        "WEB_CONCURRENCY": "2",
    }
    assert env["DEBUG"] == "false"
    assert db["USER"] == env["DB_APP_ROLE"], "the app connects as the runtime login"
    return env


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen, timeout: float = 15) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail(f"{process.args} did not stop within {timeout:.0f} s of SIGTERM")


def wait_until(condition, what: str, process: subprocess.Popen, log: Path, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} (exit {process.poll()}):\n{log.read_text()[-4000:]}")
        time.sleep(0.1)


def test_gunicorn_serves_healthz_with_the_production_settings(production_env, tmp_path):
    port = free_port()
    env = {**production_env, "PORT": str(port)}
    log = tmp_path / "web.log"
    web = start(command_of("web", env), env, log)
    health = healthcheck_argv("web", Path(env["BPIJ_VAR_DIR"]))
    try:

        def healthy() -> bool:
            return subprocess.run(health, cwd=ROOT, env=env, capture_output=True).returncode == 0

        wait_until(healthy, "gunicorn did not answer the health check", web, log)
        # Asked as a browser without the proxy would: DEBUG is off and the production
        # security settings hold (plain HTTP goes to HTTPS, a foreign Host is refused).
        # The probes alone answer over plain HTTP (SECURE_REDIRECT_EXEMPT): a load
        # balancer's health check does not follow a redirect.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/accounts/login/", headers={"Host": "hub.example.org"})
        response = connection.getresponse()
        response.read()
        assert (response.status, response.getheader("Location")) == (
            301,
            "https://hub.example.org/accounts/login/",
        )
        connection.request("GET", "/healthz", headers={"Host": "hub.example.org"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        connection.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
        assert connection.getresponse().status == 400  # 127.0.0.1 is not an allowed host
        connection.close()
    finally:
        assert stop(web) == 0
    output = log.read_text()
    assert output.count("Booting worker with pid") == 2, output
    assert re.search(r'"GET /healthz HTTP/1.1" 200 \d+ \d+us', output), output


@pytest.mark.parametrize(
    ("allowed_hosts", "asked_as"),
    [
        ("hub.example.org,localhost", "hub.example.org"),
        ("*,.example.org", "example.org"),
        (" .jff.example , hub.jff.example", "jff.example"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_the_health_check_asks_as_a_host_the_hub_serves(monkeypatch, allowed_hosts, asked_as):
    check = runpy.run_path(str(ROOT / "docker" / "healthcheck.py"))
    monkeypatch.setenv("ALLOWED_HOSTS", allowed_hosts)
    assert check["served_host"]() == asked_as


def test_the_health_check_fails_without_a_web_server(production_env):
    env = {**production_env, "PORT": str(free_port())}
    result = subprocess.run(
        healthcheck_argv("web", Path(env["BPIJ_VAR_DIR"])),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "unhealthy: no answer from 127.0.0.1" in result.stderr


def test_the_compose_worker_exports_and_beat_start_and_pass_their_health_checks(
    production_env, tmp_path
):
    var_dir = Path(production_env["BPIJ_VAR_DIR"])
    env = {**production_env, "HOSTNAME": socket.gethostname()}
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    processes = {}
    for name in ("worker", "exports", "beat"):
        argv = [part.replace(IMAGE_VAR, str(var_dir)) for part in command_of(name, env)]
        processes[name] = (start(argv, env, tmp_path / f"{name}.log"), tmp_path / f"{name}.log")
    try:
        for name in ("worker", "exports"):
            process, log = processes[name]
            wait_until(
                lambda log=log: "ready." in log.read_text(), f"{name} not ready", process, log
            )
        beat, beat_log = processes["beat"]
        wait_until(
            lambda: (
                "beat: Starting" in beat_log.read_text()
                and any(var_dir.glob("celerybeat-schedule*"))
            ),
            "beat did not start and write its schedule",
            beat,
            beat_log,
        )
        checks = {
            name: subprocess.Popen(
                healthcheck_argv(name, var_dir),
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name in ("worker", "exports", "beat")
        }
        for name, check in checks.items():
            output, _ = check.communicate(timeout=30)
            assert check.returncode == 0, f"{name}'s health check failed:\n{output}"
    finally:
        codes = {name: stop(process) for name, (process, _) in processes.items()}
    assert codes == {"worker": 0, "exports": 0, "beat": 0}, codes
    worker_log = processes["worker"][1].read_text()
    assert "--concurrency=2" in " ".join(processes["worker"][0].args)
    assert ".> celery " in worker_log
    assert ".> exports " in processes["exports"][1].read_text()
    # A schedule file left untouched for longer than the check allows: beat has stopped.
    for path in var_dir.glob("celerybeat-schedule*"):
        stale = time.time() - 11 * 60
        os.utime(path, (stale, stale))
    stale_check = subprocess.run(healthcheck_argv("beat", var_dir), cwd=ROOT, env=env)
    assert stale_check.returncode != 0


def test_the_compose_redis_keeps_a_queued_task_across_a_crash(tmp_path):
    port = free_port()
    argv = [*SERVICES["redis"]["command"], "--port", str(port), "--dir", str(tmp_path)]
    argv += ["--bind", "127.0.0.1", "--daemonize", "no"]
    log = tmp_path / "redis.log"
    server = start(argv, dict(os.environ), log)
    client = redis.Redis(port=port, socket_timeout=2)
    try:
        wait_until(lambda: _pings(client), "redis-server did not start", server, log)
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        client.lpush("celery", "a queued check")
        time.sleep(1.2)  # appendfsync everysec
        server.kill()  # kill -9: no shutdown save
        server.wait()
        server = start(argv, dict(os.environ), log)
        wait_until(lambda: _pings(client), "redis-server did not start again", server, log)
        assert client.lrange("celery", 0, -1) == [b"a queued check"]
    finally:
        server.kill()
        server.wait()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError:
        return False


# -- collectstatic and the PDFs' font ----------------------------------------------------

# A page in the PDFs' stylesheet, printed in a fresh process (fontconfig reads its
# configuration once per process; reporting.services first settles an import cycle).
RENDER = """
import sys, django
django.setup()
import reporting.services
from django.templatetags.static import static
from reporting.pdf import render_pdf
html = (
    '<html lang="en"><head><title>Q3</title>'
    f'<link rel="stylesheet" href="{static("css/print.css")}"></head>'
    '<body><h1>Quarterly performance report</h1>'
    '<p>Participants enrolled: 1,234 — <b>placed</b> <i>retained</i></p></body></html>'
)
sys.stdout.buffer.write(render_pdf(html))
"""


def test_the_image_collectstatic_step_runs_and_a_pdf_prints_without_system_fonts(
    production_env, tmp_path
):
    (step,) = [
        rest
        for keyword, rest in dockerfile_instructions()
        if keyword == "RUN" and "collectstatic" in rest
    ]
    static_root = tmp_path / "staticfiles"
    env = {
        **production_env,
        "STATIC_ROOT": str(static_root),
        # Less WhiteNoise's compressed copies (tests/settings_collectstatic.py).
        "DJANGO_SETTINGS_MODULE": "tests.settings_collectstatic",
    }
    for name in ("SECRET_KEY", "PII_HASH_KEY", "ENCRYPTION_KEYS", "DEBUG"):
        env.pop(name)  # the step sets its own
    result = subprocess.run(
        ["bash", "-c", step],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    font = "vendor/fonts/liberation-sans/LiberationSans-Bold.ttf"
    for name in ("css/print.css", font):
        assert (static_root / manifest[name]).is_file(), name

    # No font at all on this "host": the PDF's text comes out in the shipped font alone.
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{fonts}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>"
    )
    printed = subprocess.run(
        [sys.executable, "-c", RENDER],
        cwd=ROOT,
        # The production settings, reading the manifest the step wrote.
        env={**production_env, "STATIC_ROOT": str(static_root), "FONTCONFIG_FILE": str(config)},
        capture_output=True,
        timeout=120,
    )
    assert printed.returncode == 0, printed.stderr.decode()
    from pypdf import PdfReader

    reader = PdfReader(__import__("io").BytesIO(printed.stdout))
    text = reader.pages[0].extract_text()
    assert "Participants enrolled: 1,234 — placed retained" in text
    embedded = {
        str(font.get_object()["/BaseFont"]).split("+", 1)[-1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert embedded == {
        "BPIJ-Liberation-Sans",
        "BPIJ-Liberation-Sans-Bold",
        "BPIJ-Liberation-Sans-Italic",
    }
