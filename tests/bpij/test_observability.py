"""Seeing what the hub does (issue 13, item 5): JSON logs with the request id on every
line, the id carried into tasks and audit entries, Sentry only when asked for."""

import io
import json
import logging
import re
import subprocess
import sys
from unittest import mock

import pytest
from celery import signals
from django.urls import reverse
from django.utils.module_loading import import_string

import bpij.celery  # noqa: F401  (connects the signal handlers)
from bpij import observability
from bpij.models import AuditEvent
from tests.bpij.test_settings import ROOT, production_env
from tests.reporting.test_ssn_masking_and_limits import leaks

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def handler_from_logging(log_format: str) -> tuple[logging.Handler, io.StringIO]:
    """The console handler exactly as LOGGING describes it (its filters and formatter),
    writing to a string instead of stderr."""
    config = observability.logging_config(log_format=log_format, level="INFO")
    spec = config["handlers"]["console"]
    handler = logging.StreamHandler(stream := io.StringIO())
    for name in spec["filters"]:
        handler.addFilter(import_string(config["filters"][name]["()"])())
    formatter_spec = dict(config["formatters"][spec["formatter"]])
    if "()" in formatter_spec:
        handler.setFormatter(import_string(formatter_spec.pop("()"))(**formatter_spec))
    else:
        handler.setFormatter(logging.Formatter(formatter_spec["format"]))
    return handler, stream


@pytest.fixture
def json_lines():
    """Lines the root logger writes during the test, through LOGGING's JSON handler."""
    handler, stream = handler_from_logging("json")
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


# -- Log format ---------------------------------------------------------------------------


def _log_one_line(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import django, logging; django.setup(); from django.conf import settings; "
        "print(settings.LOG_FORMAT); "
        "logging.getLogger('bpij.test').warning('cell %s refused', '123-45-6789')"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_with_debug_off_the_logs_are_one_json_object_a_line_with_ssns_masked():
    result = _log_one_line(production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "json"
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["level"] == "WARNING"
    assert line["logger"] == "bpij.test"
    assert line["message"] == "cell ***-**-6789 refused"
    assert "request_id" in line
    assert "timestamp" in line


def test_with_debug_on_the_logs_are_text_and_log_format_chooses_either_way():
    text = _log_one_line(production_env(DEBUG="true"))
    assert text.stdout.strip() == "text", text.stderr
    assert "WARNING bpij.test [-] cell ***-**-6789 refused" in text.stderr
    chosen = _log_one_line(production_env(LOG_FORMAT="text"))
    assert chosen.stdout.strip() == "text", chosen.stderr


def test_a_json_line_masks_ssns_in_the_traceback_and_in_extra_fields_too(json_lines):
    log = logging.getLogger("tests.observability")
    try:
        raise ValueError("could not read 234-56-7890 in row 4")
    except ValueError:
        log.exception("check failed for %s", "123456789", extra={"cell": "345 67 8901"})
    (line,) = [entry for entry in json_lines() if entry["logger"] == "tests.observability"]
    assert line["message"] == "check failed for ***-**-6789"
    assert "ValueError: could not read ***-**-7890 in row 4" in line["exc_info"]
    assert line["cell"] == "***-**-8901"
    assert leaks(json.dumps(line)) == []


# -- Request ids --------------------------------------------------------------------------


def test_every_response_carries_a_request_id_made_here_when_the_proxy_sent_none(client):
    first = client.get(reverse("healthz"))
    second = client.get(reverse("healthz"))
    assert HEX_ID.match(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("f3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8", True),  # nginx's $request_id
        ("01J9ZQ6X4WQ3V8N5T7K2M4P6R8", True),  # a ULID
        ("Root=1-67891233-abcdef012345678912345678", True),  # an AWS trace id
        ("short", False),
        ("has spaces in it, and more", False),
        ("x" * 200, False),
        ("<script>alert(1)</script>", False),
        ("ssn-123-45-6789-here", False),  # an id must not carry an SSN into the logs
    ],
)
def test_the_proxys_request_id_is_kept_only_when_it_is_a_sane_token(client, sent, kept):
    response = client.get(reverse("healthz"), headers={"X-Request-ID": sent})
    if kept:
        assert response["X-Request-ID"] == sent
    else:
        assert HEX_ID.match(response["X-Request-ID"]), response["X-Request-ID"]


def test_generated_request_ids_never_look_like_an_ssn():
    from reporting.checks import values

    ids = [observability.new_request_id() for _ in range(2000)]
    assert not [i for i in ids if values.has_ssn(i)]
    assert len(set(ids)) == len(ids)


def test_log_lines_written_during_a_request_carry_its_id(client_for, cast, json_lines):
    client = client_for(cast.viewer_a)
    response = client.get("/no-such-page/", headers={"X-Request-ID": "req-logs-0001"})
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-logs-0001"
    lines = [entry for entry in json_lines() if entry["logger"] == "django.request"]
    assert lines, json_lines()
    assert {entry["request_id"] for entry in lines} == {"req-logs-0001"}
    # Once the request has ended, the id is gone.
    assert observability.current_request_id() is None


def test_an_audit_entry_written_by_a_request_names_its_id(client_for, cast):
    client = client_for(cast.viewer_a)
    response = client.get("/audit/", headers={"X-Request-ID": "req-audit-0001"})
    assert response.status_code == 403
    event = AuditEvent.objects.filter(action="access_denied").latest("seq")
    assert event.detail["request_id"] == "req-audit-0001"
    assert event.detail["path"] == "/audit/"


def test_an_audit_entry_written_outside_a_request_has_no_request_id(cast):
    from bpij import services
    from bpij.models import AuditAction

    event = services.audit_record(action=AuditAction.ACCESS_DENIED, detail={"k": "v"})
    assert event.detail == {"k": "v"}


# -- The request id in tasks --------------------------------------------------------------


def test_a_queued_task_carries_the_request_id_in_its_headers_and_its_run_takes_it_on():
    headers: dict = {}
    with observability.request_id_bound("req-task-0001"):
        signals.before_task_publish.send(sender="reporting.tasks.rollup_program", headers=headers)
    assert headers["request_id"] == "req-task-0001"

    # In the worker: the task's request carries the header (Celery puts custom headers
    # on task.request); its log lines take the id until the task ends.
    task = mock.Mock()
    task.name = "reporting.tasks.rollup_program"
    task.request.request_id = "req-task-0001"
    assert observability.current_request_id() is None
    signals.task_prerun.send(sender=task, task_id="t-1", task=task, args=(), kwargs={})
    assert observability.current_request_id() == "req-task-0001"
    signals.task_postrun.send(sender=task, task_id="t-1", task=task, state="SUCCESS")
    assert observability.current_request_id() is None


def test_a_task_run_in_process_logs_with_the_request_id_that_queued_it(json_lines):
    from reporting import tasks

    def rollup(**kwargs):
        logging.getLogger("reporting.services").warning("rolling up %s", kwargs["quarter"])

    with (
        observability.request_id_bound("req-eager-0001"),
        mock.patch("reporting.services.rollup_program", side_effect=rollup),
    ):
        tasks.rollup_program.delay("2025Q3")
    (line,) = [e for e in json_lines() if e["message"] == "rolling up 2025Q3"]
    assert line["request_id"] == "req-eager-0001"
    assert line["task_name"] == "reporting.tasks.rollup_program"
    assert line["task_id"]


# -- Sentry -------------------------------------------------------------------------------


def test_without_a_dsn_sentry_is_not_started():
    import sentry_sdk

    assert not sentry_sdk.get_client().is_active()
    with mock.patch("sentry_sdk.init") as init:
        assert observability.sentry_init(
            dsn="", environment="production", release="1", traces_sample_rate=0
        ) is False  # fmt: skip
    init.assert_not_called()


def test_with_a_dsn_sentry_starts_with_django_and_celery_and_no_personal_data():
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    with mock.patch("sentry_sdk.init") as init:
        assert observability.sentry_init(
            dsn="https://key@sentry.example/1", environment="staging", release="abc123",
            traces_sample_rate=0.1,
        )  # fmt: skip
    options = init.call_args.kwargs
    assert options["send_default_pii"] is False
    assert options["environment"] == "staging"
    assert options["release"] == "abc123"
    assert options["before_send"] is observability.sentry_before_send
    kinds = {type(i) for i in options["integrations"]}
    assert kinds == {DjangoIntegration, CeleryIntegration}


def test_sentrys_before_send_masks_every_ssn_in_the_event_and_tags_the_request_id():
    event = {
        "message": "import failed on 123-45-6789",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "bad cell 234567890",
                    "stacktrace": {"frames": [{"vars": {"cell": "'345-67-8901'", "row": 4}}]},
                }
            ]
        },
        "breadcrumbs": {"values": [{"message": "read 456 78 9012"}]},
        "extra": {"ssns": ["567-89-0123"]},
        "request": {"query_string": "q=678-90-1234"},
    }
    with observability.request_id_bound("req-sentry-0001"):
        sent = observability.sentry_before_send(event, {})
    text = json.dumps(sent)
    assert leaks(text) == []
    assert "***-**-6789" in text
    assert "***-**-1234" in text
    assert sent["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]["row"] == 4
    assert sent["tags"]["request_id"] == "req-sentry-0001"
