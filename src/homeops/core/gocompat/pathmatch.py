"""Go's glob patterns (``path.Match``, ``filepath.Match`` on ``/`` systems; Go 1.22 ``path/match.go``)
as Python regular expressions.

``*`` is any run of characters but the separator, ``?`` one character but the separator, ``[...]``
one character of a class (``[^...]`` negated, ``a-z`` ranges, ``\\`` escapes), ``\\`` escapes the
next character. Go validates the whole pattern: a malformed one (an unclosed class, a class starting
with ``-`` or ``]``, a trailing ``\\``) is ErrBadPattern and :func:`translate` gives None. A range
written backwards (``[z-a]``) is valid and matches nothing, as in Go.

Two Go libraries built on the same syntax are covered by options: envsubst's copy of ``path.Match``
in which ``*`` and ``?`` also match ``/`` (``separator=None``), and doublestar, which also negates a
class with ``!`` (``bang_negates=True``).
"""

from __future__ import annotations

import re
from functools import lru_cache


class _BadPattern(Exception):
    pass


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """``getEsc``: one (possibly escaped) character of a class, which may not be ``-`` or ``]``, nor
    the last character of the pattern (the class would be unclosed)."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise _BadPattern
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise _BadPattern
    if i + 1 >= len(pattern):
        raise _BadPattern
    return pattern[i], i + 1


def _char_class(pattern: str, i: int, separator: str | None, bang_negates: bool) -> tuple[str, int]:
    """The class starting after ``[`` at ``i`` as a regex, and the index after its ``]``."""
    negated = i < len(pattern) and (pattern[i] == "^" or (bang_negates and pattern[i] == "!"))
    if negated:
        i += 1
    ranges: list[str] = []
    count = 0
    while True:
        if i < len(pattern) and pattern[i] == "]" and count > 0:
            i += 1
            break
        lo, i = _class_char(pattern, i)
        hi = lo
        if pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1)
        count += 1
        if lo <= hi:  # Go accepts a backwards range; it matches nothing
            ranges.append(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}")
    body = "".join(ranges)
    if negated:
        excluded = re.escape(separator) if separator else ""
        return (f"[^{excluded}{body}]" if excluded or body else "."), i
    return (f"[{body}]" if body else "(?!)"), i


def translate(pattern: str, *, separator: str | None = "/", bang_negates: bool = False) -> str | None:
    """The regex (to be matched whole, with ``re.DOTALL``) for a Go glob; None when Go would report
    ErrBadPattern. With a ``separator``, ``*``, ``?`` and negated classes do not match it."""
    try:
        return _translate(pattern, separator, bang_negates)
    except _BadPattern:
        return None


def _translate(pattern: str, separator: str | None, bang_negates: bool) -> str:
    any_char = f"[^{re.escape(separator)}]" if separator else "."
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(any_char + "*")
        elif c == "?":
            out.append(any_char)
        elif c == "[":
            regex, i = _char_class(pattern, i + 1, separator, bang_negates)
            out.append(regex)
            continue
        elif c == "\\":
            i += 1
            if i >= len(pattern):
                raise _BadPattern
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def compile_match(
    pattern: str, *, separator: str | None = "/", bang_negates: bool = False
) -> re.Pattern[str] | None:
    """:func:`translate`, compiled (``fullmatch`` it); None for a malformed pattern."""
    regex = translate(pattern, separator=separator, bang_negates=bang_negates)
    return None if regex is None else re.compile(regex, re.DOTALL)
