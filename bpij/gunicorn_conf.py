"""gunicorn's settings for the hub's web container (the image's CMD and docker-compose.yml:
``gunicorn -c bpij/gunicorn_conf.py bpij.wsgi``), read from the environment.

gunicorn executes this file by path, without importing the ``bpij`` package: nothing here
touches Django. docs/deploy.md, "Scaling", says how to size the variables.

- ``WEB_CONCURRENCY``: worker processes. Unset or empty: 2 × the CPUs this container may
  use + 1, at most ``MAX_AUTO_WORKERS`` (each worker is a whole Django process with its
  own database connection; more than the cores can serve only queues in memory).
- ``GUNICORN_TIMEOUT``: seconds a request may run before its worker is killed and
  replaced (default 60; an upload of the largest file takes a few seconds, checks run in
  the worker, not in the request).
- ``FORWARDED_ALLOW_IPS``: the proxies whose ``X-Forwarded-Proto`` gunicorn believes
  (default ``*``: only the proxy can reach the container's port, docs/deploy.md).
- ``PORT``: the port served on (default 8000).
"""

import os
from pathlib import Path

MAX_AUTO_WORKERS = 8


def available_cpus(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The CPUs this process may run on: its affinity, narrowed by a cgroup v2 CPU quota
    (``docker run --cpus``, compose's ``cpus:``), which the affinity does not show."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return cpus
    if quota != "max" and int(period) > 0:
        cpus = min(cpus, max(1, -(-int(quota) // int(period))))
    return cpus


def positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"{name}={raw!r} is not a positive whole number; set it to e.g. 3, "
            "or leave it empty for the default."
        )
    return value


def default_workers(cpus: int) -> int:
    return min(2 * cpus + 1, MAX_AUTO_WORKERS)


bind = [f"0.0.0.0:{positive_int('PORT', 8000)}"]
workers = positive_int("WEB_CONCURRENCY", default_workers(available_cpus()))
worker_class = "sync"
timeout = positive_int("GUNICORN_TIMEOUT", 60)
# A worker finishes the request it has when told to stop (deploy, scale-in) for this long.
graceful_timeout = 30
# Behind the proxy, which keeps connections to the upstream open.
keepalive = 5
# A worker is replaced after this many requests (give or take the jitter, so they do not
# all restart together): memory that a large workbook or PDF left behind is given back.
max_requests = 1000
max_requests_jitter = 100
# The workers' heartbeat files: on a disk-backed /tmp (overlayfs) they can stall a
# worker; /dev/shm is memory.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Each request on one line on stdout (the container's log): the peer (the proxy), the
# client the proxy names, the request, status, bytes and time in microseconds. gunicorn's
# own messages go to stderr.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(D)sus'
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# No control socket: nothing uses gunicornc, and its default path ($HOME/.gunicorn) is not
# writable by the image's user.
control_socket_disable = True
