"""The one exception type the CLI turns into a one-line message instead of a traceback."""


class ColorganError(Exception):
    """A user-facing error: bad input, missing weights, bad config."""
