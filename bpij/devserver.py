"""The embedded default's development server (`make run`, `manage.py runserver`): the
address e-mail links point at.

With no SITE_URL set, the links in e-mails (invitations, reminders, returns) follow the
address runserver serves on — `make run PORT=8123` sends people to port 8123, not to
8000 where nothing answers. manage.py calls this before Django starts, on the embedded
default only (no DATABASE_URL): every deployment names its database and sets SITE_URL.
"""

import re
from collections.abc import Sequence

# Django's runserver parses "[addr:]port" with this pattern; so do we, to agree with it.
from django.core.management.commands.runserver import Command as Runserver
from django.core.management.commands.runserver import naiveip_re

OPTIONS_WITH_VALUES = {"--settings", "--pythonpath"}
# A server listening on every interface is reached, from this machine, on the loopback.
WILDCARDS = {"0": "127.0.0.1", "0.0.0.0": "127.0.0.1", "[::]": "[::1]"}


def serving_url(args: Sequence[str]) -> str:
    """The base URL runserver will serve on, from the arguments after ``runserver``
    (options and all), e.g. ``["8123"]`` → ``http://127.0.0.1:8123``."""
    ipv6 = any(arg in ("-6", "--ipv6") for arg in args)
    positional = [
        arg
        for before, arg in zip(["", *args], args, strict=False)
        if not arg.startswith("-") and before not in OPTIONS_WITH_VALUES
    ]
    host = f"[{Runserver.default_addr_ipv6}]" if ipv6 else Runserver.default_addr
    port = Runserver.default_port
    if positional:
        match = re.match(naiveip_re, positional[0])
        if match is None:
            return f"http://{host}:{port}"  # runserver itself refuses it and says why
        host = match["addr"] or host
        port = match["port"]
    return f"http://{WILDCARDS.get(host, host)}:{port}"
