"""A real S3-compatible server for the tests: moto's standalone server, started once per
test session on a free loopback port, in a process of its own (as a bucket service is).

``s3_bucket`` gives each test a fresh bucket and makes it the default storage the way a
deployment does, from the environment variables (``bpij.storage.default_storage_from_env``);
its ``env`` is what a worker process needs to reach the same bucket.
"""

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bpij.storage import default_storage_from_env

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "moto-test-key", "AWS_SECRET_ACCESS_KEY": "moto-test-secret"}
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# `python -m moto.server`, which also exits when its standard input closes: when the test
# process ends, however it ends (killed by a timeout too), the server goes with it.
_SERVE = """
import os, sys, threading
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
from moto.server import main
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"""


@dataclass
class Bucket:
    name: str
    env: dict[str, str]
    client: Any
    # Bytes of each GetObject response the hub's storage received, in order.
    fetched: list[int] = field(default_factory=list)

    def objects(self) -> dict[str, bytes]:
        """Every object in the bucket, as stored (no decryption)."""
        listed = self.client.list_objects_v2(Bucket=self.name).get("Contents", [])
        return {
            entry["Key"]: self.client.get_object(Bucket=self.name, Key=entry["Key"])["Body"].read()
            for entry in listed
        }


@dataclass
class Server:
    endpoint: str
    session: Any  # one boto3 session, its service models loaded once (0.3 s each)
    client: Any  # a client of the tests' own, to look at the bucket as stored


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Server]:
    """A moto S3 server of this session's own."""
    # boto3 is imported here, not by every test session that loads the conftest.
    import boto3
    from botocore.config import Config

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto's S3 server did not start on port {port}")
                time.sleep(0.05)
        session = boto3.Session(
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        client = session.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            config=Config(retries={"max_attempts": 1}),
        )
        yield Server(endpoint, session, client)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture
def s3_bucket(s3_server, settings, monkeypatch) -> Bucket:
    """A fresh, private bucket, made the default storage from environment variables."""
    from bpij.storage_s3 import EncryptedS3Storage

    name = f"bpij-{uuid.uuid4().hex[:12]}"
    env = {
        "STORAGE_BACKEND": "s3",
        "AWS_STORAGE_BUCKET_NAME": name,
        "AWS_S3_ENDPOINT_URL": s3_server.endpoint,
        "AWS_S3_REGION_NAME": REGION,
        **CREDENTIALS,
    }
    client = s3_server.client
    client.create_bucket(Bucket=name)
    # Each storage made for a test would load boto3's service models again; a process
    # in production makes one. The requests still go to the server as configured.
    monkeypatch.setattr(EncryptedS3Storage, "_create_session", lambda self: s3_server.session)
    settings.STORAGES = {**settings.STORAGES, "default": default_storage_from_env(env)}
    bucket = Bucket(name, env, client)

    from django.core.files.storage import default_storage

    def count(parsed: dict, **_: Any) -> None:
        bucket.fetched.append(int(parsed.get("ContentLength", 0)))

    events = default_storage.connection.meta.client.meta.events  # type: ignore[attr-defined]
    events.register("after-call.s3.GetObject", count)
    return bucket
