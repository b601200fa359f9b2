"""The one error the commands raise for input they cannot use."""


class CommandError(Exception):
    """Bad input (a missing folder, a CSV without the named column, ...): `main` prints the
    message as `autonas <command>: error: <message>`, without a traceback, and exits with 1."""
