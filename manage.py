#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bpij.settings")
    if not os.environ.get("DATABASE_URL"):
        # No database named: the embedded default on a laptop (SQLite under var/), where
        # manage.py works out of the box. Every server names its database, so there
        # DEBUG stays off unless set (docs/security.md), as it does for gunicorn and Celery.
        os.environ.setdefault("DEBUG", "true")
        if sys.argv[1:2] == ["runserver"] and not os.environ.get("SITE_URL"):
            # E-mail links follow the address served on (bpij/devserver.py).
            from bpij import devserver

            os.environ["SITE_URL"] = devserver.serving_url(sys.argv[2:])
            print(f"E-mail links point at {os.environ['SITE_URL']} (set SITE_URL to change it).")
    if sys.argv[1:2] == ["check_files"]:
        # Checking files needs no app loaded: skip django.setup() (reporting/checks/cli.py).
        # The command lives a second: what it frees is freed by reference counting, and
        # the cycle collector would only cost time (0.02-0.03 s of importing polars).
        import gc

        gc.disable()
        from reporting.checks import cli

        if cli.can_run_without_django(sys.argv[2:]):
            status = cli.main(sys.argv[2:])
            # All is written: end without the interpreter's teardown (freeing every frame
            # and module one by one, 0.03 s), which frees nothing the OS would not.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
        gc.enable()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
