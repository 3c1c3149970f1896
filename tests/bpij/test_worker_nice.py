"""Checks keep off the web's CPU (issue 13, item 6): a Celery worker started with
WORKER_NICE runs its main process and its pool at that niceness (bpij/celery.py), so
that on a shared host a 100,000-row check yields the CPU to web requests."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def niceness(pid: int) -> int:
    # stat(5): after the command in brackets, field 19 (niceness) is the 17th.
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


def test_a_worker_started_with_worker_nice_runs_at_that_niceness(tmp_path):
    # Above whatever niceness the tests themselves run at (a worker inherits it).
    target = min(os.getpriority(os.PRIO_PROCESS, 0) + 7, 19)
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bpij.settings",
        "DEBUG": "true",
        "WORKER_NICE": str(target),
    }
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "bpij", "worker",
                # A queue of its own: it takes nothing another test or helper queued.
                "-Q", f"nice-test-{uuid.uuid4().hex}", "--pool=prefork", "--concurrency=2",
                "--loglevel=INFO", "--without-heartbeat", "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "ready." not in log.read_text() or len(children(worker.pid)) < 2:
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{log.read_text()}")
            time.sleep(0.2)
        pool = children(worker.pid)
        assert [niceness(pid) for pid in [worker.pid, *pool]] == [target] * (1 + len(pool))
    finally:
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
