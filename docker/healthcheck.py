"""The web container's health check (the image's HEALTHCHECK and docker-compose.yml).

GET /healthz from the gunicorn in this container, asked as the proxy asks: with a host
the hub serves (the first plain name in ALLOWED_HOSTS, or Django answers 400) and
``X-Forwarded-Proto: https`` (or SECURE_SSL_REDIRECT answers 301 to https). Exits 0 on
200 ``{"status": "ok"}``, 1 otherwise, saying why. Standard library only: it runs every
few seconds and must not load Django.
"""

import http.client
import json
import os
import sys


def served_host() -> str:
    for entry in os.environ.get("ALLOWED_HOSTS", "").split(","):
        name = entry.strip().lstrip(".")
        if name and "*" not in name:
            return name
    return "localhost"


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(
            "GET", "/healthz", headers={"Host": served_host(), "X-Forwarded-Proto": "https"}
        )
        response = connection.getresponse()
        body = response.read(4096)
    except OSError as error:
        print(f"unhealthy: no answer from 127.0.0.1:{port}/healthz ({error})", file=sys.stderr)
        return 1
    finally:
        connection.close()
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        status = None
    if response.status != 200 or status != "ok":
        print(
            f"unhealthy: /healthz answered {response.status} {body[:200]!r}, "
            'expected 200 {"status": "ok"}',
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
