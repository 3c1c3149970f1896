"""What the scripting commands (check_files, quarterly_figures) share: they start fast
(no system checks) and answer every bad argument with one line and exit status 2."""

from django.core.management.base import BaseCommand, CommandError

BAD_ARGUMENTS = 2


def bad(message: str) -> CommandError:
    return CommandError(message, returncode=BAD_ARGUMENTS)


class ScriptCommand(BaseCommand):
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def error(message: str):
            # A missing or unknown option is a bad argument too: one line, status 2.
            if parser.called_from_command_line:
                parser.exit(BAD_ARGUMENTS, f"CommandError: {message}\n")
            raise bad(message)

        parser.error = error  # type: ignore[method-assign]
        return parser
