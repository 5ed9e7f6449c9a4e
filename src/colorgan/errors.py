"""The one exception type the CLI turns into a one-line message instead of a traceback."""


class ColorganError(Exception):
    """A user-facing error: bad input, missing weights, bad config."""


def shown(text: str) -> str:
    """A message on one line whatever a file name holds (a newline in it is shown as \\n)."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
