"""Text from repository data, made safe to show on one line of a terminal, a log or a CI annotation.

Names, paths and messages come from files anyone can commit: a newline in them would forge a second
output line (``::error file=...::`` is a GitHub workflow command, ``homeops: error: ...`` one of our
own), an escape sequence would drive the terminal. :func:`escape` is the one place that turns such
characters into their visible ``\\n``/``\\x1b`` spelling; every output path uses it.
"""

from __future__ import annotations


def escape(text: str) -> str:
    """One line, no control characters: newlines and escapes from repository data are shown, not obeyed."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
