"""The one exception type that means "the user's input is wrong": the CLI turns it into exit 2."""


class UsageError(Exception):
    """Bad input named precisely (file, line, option); printed as one line, never a traceback."""
