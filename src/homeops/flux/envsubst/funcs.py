"""envsubst's string functions (fluxcd/pkg ``envsubst/funcs.go``): what each ``${v<op>...}``
operator does to a value. Lengths, offsets and glob matching work on UTF-8 bytes, as Go's do."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from homeops.core.gocompat import pathmatch, strconv
from homeops.flux.envsubst.parse import SubstitutionError, decode_rune, go_bytes, go_string

__all__ = ["function"]


def _runes(s: str) -> list[str]:
    """Go's ``[]rune(s)``: invalid bytes each become U+FFFD."""
    b = go_bytes(s)
    out: list[str] = []
    i = 0
    while i < len(b):
        r, n = decode_rune(b, i)
        out.append(chr(r))
        i += n
    return out


def _simple_upper(c: str) -> str:
    """unicode.ToUpper: one rune in, one rune out (Python's upper() may return several)."""
    up = c.upper()
    if len(up) == 1:
        return up
    title = c.title()
    return title if len(title) == 1 else c


def _simple_lower(c: str) -> str:
    if c == "\u0130":
        return "i"
    low = c.lower()
    return low if len(low) == 1 else c


def _to_len(s: str, args: list[str]) -> str:
    return str(len(go_bytes(s)))


def _to_lower(s: str, args: list[str]) -> str:
    return "".join(_simple_lower(c) for c in _runes(s)) if not s.isascii() else s.lower()


def _to_upper(s: str, args: list[str]) -> str:
    return "".join(_simple_upper(c) for c in _runes(s)) if not s.isascii() else s.upper()


def _first(s: str, fn: Callable[[str], str]) -> str:
    if not s:
        return s
    b = go_bytes(s)
    r, n = decode_rune(b)
    return fn(chr(r)) + go_string(b[n:])


def _to_lower_first(s: str, args: list[str]) -> str:
    return _first(s, _simple_lower)


def _to_upper_first(s: str, args: list[str]) -> str:
    return _first(s, _simple_upper)


def _to_default(s: str, args: list[str]) -> str:
    return "".join(args) if not s and args else s


def _to_substr(s: str, args: list[str]) -> str:
    if not args:
        return s
    pos = strconv.atoi(args[0])
    if pos is None:
        return s  # like bash: an unparsable offset returns the value
    b = go_bytes(s)
    if pos < 0:
        pos = max(len(b) + pos, 0)
    if len(args) == 1:
        return go_string(b[pos:]) if pos < len(b) else ""
    length = strconv.atoi(args[1])
    if length is None:
        return s
    end = pos + length
    if end > strconv.INT64_MAX:  # Go's int arithmetic wraps
        end -= 2**64
    if end >= len(b):
        return go_string(b[pos:]) if pos < len(b) else ""
    if end < pos:
        raise SubstitutionError(
            f"substring length {length} from offset {pos} is out of range (kustomize-controller panics: "
            "slice bounds out of range)"
        )
    return go_string(b[pos:end])


def _replace_all(s: str, args: list[str]) -> str:
    if not args:
        return s
    return s.replace(args[0], args[1] if len(args) > 1 else "")


def _replace_first(s: str, args: list[str]) -> str:
    if not args:
        return s
    return s.replace(args[0], args[1] if len(args) > 1 else "", 1)


def _replace_prefix(s: str, args: list[str]) -> str:
    if len(args) != 2 or not s.startswith(args[0]):
        return s
    return args[1] + s[len(args[0]) :]


def _replace_suffix(s: str, args: list[str]) -> str:
    if len(args) != 2 or not s.endswith(args[0]):
        return s
    return s[: len(s) - len(args[0])] + args[1]


def _glob(pattern: bytes) -> re.Pattern[str] | None:
    """envsubst/path.Match: Go's path.Match, except that ``*`` and ``?`` also match ``/``; None for a
    malformed pattern, which makes the trim functions return the value unchanged."""
    return pathmatch.compile_match(go_string(pattern), separator=None)


def _trim_shortest(s: bytes, pattern: bytes) -> bytes:
    """Prefixes are tried from longest to one byte, never the empty one; the last match wins."""
    glob = _glob(pattern)
    if glob is None:
        return s
    shortest = b""
    for i in range(len(s)):
        prefix = s[: len(s) - i]
        if glob.fullmatch(go_string(prefix)):
            shortest = prefix
    return s[len(shortest) :]


def _trim_longest(s: bytes, pattern: bytes) -> bytes:
    glob = _glob(pattern)
    if glob is None:
        return s
    for i in range(len(s)):
        if glob.fullmatch(go_string(s[: len(s) - i])):
            return s[len(s) - i :]
    return s


def _reverse(b: bytes) -> bytes:
    return "".join(reversed(_runes(go_string(b)))).encode("utf-8", "surrogateescape")


def _trim_shortest_prefix(s: str, args: list[str]) -> str:
    return go_string(_trim_shortest(go_bytes(s), go_bytes(args[0]))) if args else s


def _trim_longest_prefix(s: str, args: list[str]) -> str:
    return go_string(_trim_longest(go_bytes(s), go_bytes(args[0]))) if args else s


def _trim_shortest_suffix(s: str, args: list[str]) -> str:
    """Suffix removal runs the prefix matcher on the reversed value and the reversed pattern."""
    if not args:
        return s
    return go_string(_reverse(_trim_shortest(_reverse(go_bytes(s)), _reverse(go_bytes(args[0])))))


def _trim_longest_suffix(s: str, args: list[str]) -> str:
    if not args:
        return s
    return go_string(_reverse(_trim_longest(_reverse(go_bytes(s)), _reverse(go_bytes(args[0])))))


_Fn = Callable[[str, list[str]], str]

_FUNCS: Final[dict[str, _Fn]] = {
    ",": _to_lower_first,
    ",,": _to_lower,
    "^": _to_upper_first,
    "^^": _to_upper,
    "##": _trim_longest_prefix,
    "%": _trim_shortest_suffix,
    "%%": _trim_longest_suffix,
    ":": _to_substr,
    "/#": _replace_prefix,
    "/%": _replace_suffix,
    "/": _replace_first,
    "//": _replace_all,
}


def function(name: str, nargs: int) -> _Fn:
    """The function of an operator (``nargs``: how many arguments the expression gave it)."""
    if name == "#":
        return _to_len if nargs == 0 else _trim_shortest_prefix
    return _FUNCS.get(name, _to_default)  # "", every default operator, and odd mixes like ",^"
