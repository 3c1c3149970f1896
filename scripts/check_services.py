"""Say in one line what `make test` needs and cannot reach, before pytest starts."""

import os
import socket
import sys
from urllib.parse import urlsplit


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 3
        ):
            return True
    except OSError:
        return False


def main() -> int:
    database = os.environ["DATABASE_URL"]
    redis = os.environ["REDIS_URL"]
    missing = []
    if not reachable(database, 5432):
        missing.append(f"PostgreSQL at {urlsplit(database).netloc.split('@')[-1]}")
    if not reachable(redis, 6379):
        missing.append(f"Redis at {urlsplit(redis).netloc}")
    if missing:
        print(
            f"make test: cannot reach {' and '.join(missing)} — start them with "
            "`docker compose up -d db redis`, or set DATABASE_URL/REDIS_URL.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
