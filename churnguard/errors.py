"""The error type for problems a person can fix: bad input, a missing file, a stopped database."""


class UserError(Exception):
    """A problem to report in one clear sentence, without a traceback, and a non-zero exit code."""

    exit_code = 2
