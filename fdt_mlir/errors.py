"""The one exception type users see: a one-line message, no traceback."""


class FdtError(Exception):
    """A problem with the user's input or options, reported in one line."""
