"""Flux postBuild variable substitution, ported from the Go sources rather than approximated.

What Flux does for each object of a built Kustomization (fluxcd/pkg ``kustomize/kustomize_varsub.go``,
``SubstituteVariables``, called from kustomize-controller ``internal/controller/kustomization_controller.go``):

1. An object labelled *or* annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled`` is left alone.
2. Variables come from ``postBuild.substituteFrom`` (ConfigMaps, Secrets) overlaid by the inline
   ``postBuild.substitute`` map; every ``\\n`` is removed from every value.
3. Nothing happens when there are no variables at all, unless ``substituteStrategy: Always``.
   Otherwise every variable *name* must match ``^[_[:alpha:]][_[:alpha:][:digit:]]*$`` (ASCII only).
4. The text substituted is the object's YAML serialisation, all of it (keys, labels, annotations,
   block scalars): kustomize ``Resource.AsYAML``, that is JSON, then sigs.k8s.io/yaml ``JSONToYAML``,
   that is goyaml.v2 output. Quotes written in the source file are gone by then (``replicas: "${N}"``
   is substituted as ``replicas: ${N}``); goyaml.v2 quotes only what would not read back as a string,
   and folds long scalars at 80 columns. :func:`as_yaml` reproduces that text (``yamlio.dump``, which
   follows kustomize's own printer, differs in width, key order and some quoting).
5. The substituted text goes through envsubst (fluxcd/pkg ``envsubst``, a drone/envsubst fork).
   In strict mode (controller feature gate ``StrictPostBuildSubstitutions``, on by default since
   kustomize-controller v1.9) a variable that is not set fails the build unless a default operator
   (``=``, ``:=``, ``:-``, ``:+``, ``:?``) handles it; otherwise it becomes the empty string.
6. The result is always re-parsed, changed or not: sigs.k8s.io/yaml ``YAMLToJSON`` (goyaml.v2, YAML 1.1
   resolution: ``yes``/``on``/``y`` are booleans, ``0777`` is octal, ``1_000`` is 1000, timestamps stay
   strings, ``y:`` as a key becomes ``"true"``, ``.nan`` fails), then kyaml ``RNode.UnmarshalJSON``,
   which decodes every number as a float64 (integers beyond 2**53 lose precision).

envsubst only knows ``${...}``: a bare ``$VAR`` is literal text, ``$$`` is always one literal ``$``.
Operators that parse: ``${v}``, ``${#v}``, ``${v^}``, ``${v^^}``, ``${v,}``, ``${v,,}``, ``${v:pos}``,
``${v:pos:len}``, ``${v#glob}``, ``${v##glob}``, ``${v%glob}``, ``${v%%glob}``, ``${v/old/new}``,
``${v//old/new}``, ``${v/#old/new}``, ``${v/%old/new}``, ``${v=d}``, ``${v:=d}``, ``${v:-d}``,
``${v:+d}``, ``${v:?d}``. All five default forms mean "d when the value is empty or unset", nothing is
assigned, ``:+`` and ``:?`` are not bash's. ``${v-d}``, ``${v+d}``, ``${v?d}`` do not parse (the whole
build fails with "missing closing brace"). Replacement patterns are literal strings, removal patterns
are globs, lengths and offsets count bytes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

import yaml

from homeops.core import yamlio

try:  # libyaml, the parser and emitter goyaml.v2 was ported from
    from yaml._yaml import CParser as _YamlParser
    from yaml.cyaml import CSafeDumper as _YamlDumper
except ImportError:  # pragma: no cover - libyaml missing
    from yaml.dumper import SafeDumper as _YamlDumper  # type: ignore[assignment]
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _YamlParser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


__all__ = [
    "DISABLED_VALUE",
    "SUBSTITUTE_KEY",
    "VAR_NAME_PATTERN",
    "VAR_NAME_RE",
    "SubstitutionError",
    "as_yaml",
    "find_unresolved",
    "is_substitution_disabled",
    "reparse",
    "resolve_plain_scalar",
    "substitute",
    "substitute_object",
    "validate_var_name",
]

VAR_NAME_PATTERN: Final = "^[_[:alpha:]][_[:alpha:][:digit:]]*$"
"""The pattern as written in Flux (Go RE2: the POSIX classes are ASCII), used in its error message."""
VAR_NAME_RE: Final = re.compile(r"\A[_A-Za-z][_A-Za-z0-9]*\Z")
"""VAR_NAME_PATTERN in Python syntax; ``\\Z`` because Python's ``$`` also matches before a final newline."""
SUBSTITUTE_KEY: Final = "kustomize.toolkit.fluxcd.io/substitute"
DISABLED_VALUE: Final = "disabled"

_DEFAULT_OPERATORS: Final = frozenset({"-", "+", "=", "?", ":-", ":+", ":=", ":?"})
"""Operators exempt from strict mode: they supply a value for an unset variable themselves."""


class SubstitutionError(Exception):
    """envsubst failed: a bad expression, a variable unset in strict mode, or unusable output YAML."""

    def __init__(self, message: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.variable = variable


def validate_var_name(name: str) -> bool:
    """Whether Flux accepts ``name`` as a key of postBuild.substitute / substituteFrom data."""
    return VAR_NAME_RE.match(name) is not None


# ----------------------------------------------------------------------------------------------
# Scanner and parser: a port of envsubst/parse. The scanner's quirks (escape characters dropped from
# the buffer in place, an unread that steps back by the width of the last rune read, NUL read as end
# of input) decide what parses, so they are kept rather than replaced by a regex.

_EOF: Final = "\0"

_SCAN_IDENT, _SCAN_LBRACK, _SCAN_RBRACK, _SCAN_ESCAPE = 1, 2, 4, 8
_ESC_DOLLAR, _ESC_BACKSLASH = 1, 2
_ESC_ALL = _ESC_DOLLAR | _ESC_BACKSLASH
_T_ILLEGAL, _T_EOF, _T_IDENT, _T_LBRACK, _T_RBRACK = range(5)

_ERR_BAD = "bad substitution"
_ERR_BRACE = "missing closing brace"
_ERR_NAME = "unable to parse variable name"
_ERR_FUNC = "unable to parse substitution within function"
_ERR_DEFAULT = "unable to parse default function"

_Accept = Callable[[str, int], bool]


def _any(r: str, i: int) -> bool:
    return True


def _ident(r: str, i: int) -> bool:
    return r.isalpha() or r.isdecimal() or r == "_"  # Go unicode.IsLetter / IsDigit (category Nd)


def _colon(r: str, i: int) -> bool:
    return r == ":"


def _one_hash(r: str, i: int) -> bool:
    return r == "#" and i == 1


def _not_closing(r: str, i: int) -> bool:
    return r != "}"


def _hash_op(r: str, i: int) -> bool:
    return r == "#" and i < 3


def _percent_op(r: str, i: int) -> bool:
    return r == "%" and i < 3


def _default_op(r: str, i: int) -> bool:
    return (i == 1 and r == ":") or (i == 2 and r in ("=", "-", "?", "+"))


def _replace_op(r: str, i: int) -> bool:
    return (i == 1 and r == "/") or (i == 2 and r in ("/", "#", "%"))


def _one_equal(r: str, i: int) -> bool:
    return i == 1 and r == "="


def _one_colon(r: str, i: int) -> bool:
    return i == 1 and r == ":"


def _not_colon_close(r: str, i: int) -> bool:
    return r not in (":", "}")


def _slash(r: str, i: int) -> bool:
    return r == "/"


def _not_slash(r: str, i: int) -> bool:
    return r != "/"


def _casing_op(r: str, i: int) -> bool:
    return r in (",", "^") and i < 3


_RUNE_ERROR: Final = 0xFFFD


def _b(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _decode_rune(b: bytes, i: int = 0) -> tuple[int, int]:
    """Go's utf8.DecodeRune at ``b[i]``: (U+FFFD, 1) for an invalid or truncated sequence."""
    lead = b[i]
    if lead < 0x80:
        return lead, 1
    n = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if 0xF0 <= lead <= 0xF4 else 0
    try:
        return (ord(b[i : i + n].decode("utf-8")), n) if n and i + n <= len(b) else (_RUNE_ERROR, 1)
    except UnicodeDecodeError:  # bad continuation, overlong form, surrogate
        return _RUNE_ERROR, 1


_PLAIN_RUN: Final = re.compile(rb"[$\x00]")


class _Scanner:
    """Token reader with Go's mode bits over UTF-8 bytes, so that its one-rune ``unread`` after a
    ``peek`` (which can step back by the width of the wrong rune) behaves as in Go."""

    def __init__(self, buf: str) -> None:
        self.buf = _b(buf)
        self.pos = 0
        self.start = 0
        self.width = 0
        self.mode = 0
        self.escapes = 0
        self.accept: _Accept = _any

    def read(self) -> str:
        if self.pos >= len(self.buf):
            self.width = 0
            return _EOF
        r, self.width = _decode_rune(self.buf, self.pos)
        self.pos += self.width
        return chr(r)

    def unread(self) -> None:
        self.pos -= self.width

    def skip(self) -> None:
        """Drop the escape character just read; the escaped one becomes part of the token."""
        self.buf = self.buf[: self.pos - 1] + self.buf[self.pos :]

    def peek(self) -> str:
        r = self.read()
        self.unread()
        return r

    def text(self) -> str:
        return _s(self.buf[self.start : self.pos])

    def scan(self) -> int:
        self.start = self.pos
        r = self.read()
        if r == _EOF:
            return _T_EOF
        if self._lbrack(r):
            return _T_LBRACK
        if self.mode & _SCAN_RBRACK and r == "}":
            return _T_RBRACK
        if self._ident(r):
            return _T_IDENT
        return _T_ILLEGAL

    def _ident(self, r: str) -> bool:
        if not self.mode & _SCAN_IDENT:
            return False
        if self._escaped(r):
            self.skip()
        elif not self.accept(r, self.pos - self.start):
            return False
        plain_run = self.accept is _any and not self.escapes & _ESC_BACKSLASH
        while True:
            if plain_run:  # every byte up to the next "$" or NUL would be read and accepted one by one
                found = _PLAIN_RUN.search(self.buf, self.pos)
                self.pos = found.start() if found else len(self.buf)
            r = self.read()
            if r == _EOF:
                self.unread()
                break
            if self._lbrack(r):
                self.unread()
                self.unread()
                break
            if self._escaped(r):
                self.skip()
                continue
            if not self.accept(r, self.pos - self.start):
                self.unread()
                break
        return True

    def _lbrack(self, r: str) -> bool:
        if not self.mode & _SCAN_LBRACK or r != "$":
            return False
        if self.read() == "{":
            return True
        self.unread()
        return False

    def _escaped(self, r: str) -> bool:
        if not self.mode & _SCAN_ESCAPE:
            return False
        if r == "$" and self.escapes & _ESC_DOLLAR and self.peek() == "$":
            return True
        return r == "\\" and bool(self.escapes & _ESC_BACKSLASH) and self.peek() in ("/", "\\")


@dataclass
class _Text:
    value: str


@dataclass
class _Func:
    param: str = ""
    name: str = ""
    args: list[_Text | _Func] = field(default_factory=list)


class _Parser:
    """envsubst/parse's recursive descent; top-level text is a flat list instead of nested ListNodes."""

    def __init__(self, text: str) -> None:
        self.s = _Scanner(text)

    def parse(self) -> list[_Text | _Func]:
        s = self.s
        nodes: list[_Text | _Func] = []
        while True:
            s.accept = _any
            s.mode = _SCAN_IDENT | _SCAN_LBRACK | _SCAN_ESCAPE
            s.escapes = _ESC_DOLLAR
            token = s.scan()
            if token == _T_EOF:
                return nodes
            if token == _T_IDENT:
                nodes.append(_Text(s.text()))
            elif token == _T_LBRACK:
                nodes.append(self.func())
            else:  # pragma: no cover - every character is accepted at top level
                raise SubstitutionError(_ERR_BAD)

    def func(self) -> _Func:
        s = self.s
        s.escapes = _ESC_ALL
        if s.peek() == "#":
            return self.length()
        s.accept = _ident
        s.mode = _SCAN_IDENT
        if s.scan() != _T_IDENT:
            raise SubstitutionError(_ERR_NAME)
        name = s.text()
        nxt = s.peek()
        if nxt == ":":
            return self.default_or_substr(name)
        if nxt == "=":
            return self.default(name)
        if nxt in (",", "^"):
            return self.casing(name)
        if nxt == "/":
            return self.replace(name)
        if nxt == "#":
            return self.remove(name, _hash_op)
        if nxt == "%":
            return self.remove(name, _percent_op)
        s.mode = _SCAN_RBRACK
        if s.scan() != _T_RBRACK:
            raise SubstitutionError(_ERR_BRACE)
        return _Func(param=name)

    def param(self, accept: _Accept, mode: int) -> _Text | _Func:
        s = self.s
        s.accept = accept
        s.mode = mode | _SCAN_LBRACK
        token = s.scan()
        if token == _T_LBRACK:
            return self.func()
        if token in (_T_IDENT, _T_RBRACK):
            return _Text(s.text())
        raise SubstitutionError(_ERR_FUNC)

    def operator(self, accept: _Accept, error: str = _ERR_BAD) -> str:
        s = self.s
        s.accept = accept
        s.mode = _SCAN_IDENT
        if s.scan() != _T_IDENT:
            raise SubstitutionError(error)
        return s.text()

    def close(self) -> None:
        self.s.mode = _SCAN_RBRACK
        if self.s.scan() != _T_RBRACK:
            raise SubstitutionError(_ERR_BAD)

    def default_or_substr(self, name: str) -> _Func:
        s = self.s
        s.read()
        nxt = s.peek()
        s.unread()  # after a peek at the end of input this unreads nothing, as in Go
        if nxt in ("=", "-", "?", "+"):
            return self.default(name)
        return self.substr(name)

    def substr(self, name: str) -> _Func:
        node = _Func(param=name, name=self.operator(_one_colon))
        node.args.append(self.param(_not_colon_close, _SCAN_IDENT))
        s = self.s
        s.accept = _colon
        s.mode = _SCAN_IDENT | _SCAN_RBRACK
        token = s.scan()
        if token == _T_RBRACK:
            return node
        if token != _T_IDENT:
            raise SubstitutionError(_ERR_BAD)
        node.args.append(self.param(_not_closing, _SCAN_IDENT))
        self.close()
        return node

    def remove(self, name: str, accept: _Accept) -> _Func:
        node = _Func(param=name, name=self.operator(accept))
        node.args.append(self.param(_not_closing, _SCAN_IDENT))
        self.close()
        return node

    def replace(self, name: str) -> _Func:
        node = _Func(param=name, name=self.operator(_replace_op))
        node.args.append(self.param(_not_slash, _SCAN_IDENT | _SCAN_ESCAPE))
        self.operator(_slash)  # the separator: any run of slashes
        if self.s.peek() == "}":
            self.close()
            return node
        node.args.append(self.param(_not_closing, _SCAN_IDENT | _SCAN_ESCAPE))
        self.close()
        return node

    def default(self, name: str) -> _Func:
        accept = _one_equal if self.s.peek() == "=" else _default_op
        node = _Func(param=name, name=self.operator(accept, _ERR_DEFAULT))
        while self.s.peek() != "}":
            node.args.append(self.param(_not_closing, _SCAN_IDENT))
        self.close()
        return node

    def casing(self, name: str) -> _Func:
        node = _Func(param=name, name=self.operator(_casing_op))
        self.close()
        return node

    def length(self) -> _Func:
        node = _Func(name=self.operator(_one_hash))
        node.param = self.operator(_ident)
        self.close()
        return node


def _parse(text: str) -> list[_Text | _Func]:
    return _Parser(text).parse()


# ----------------------------------------------------------------------------------------------
# String functions: a port of envsubst/funcs.go. Go strings are bytes, so lengths, offsets and glob
# matching work on UTF-8 bytes; invalid bytes travel as surrogate escapes.


def _runes(s: str) -> list[str]:
    """Go's ``[]rune(s)``: invalid bytes each become U+FFFD."""
    b = _b(s)
    out: list[str] = []
    i = 0
    while i < len(b):
        r, n = _decode_rune(b, i)
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
    return str(len(_b(s)))


def _to_lower(s: str, args: list[str]) -> str:
    return "".join(_simple_lower(c) for c in _runes(s)) if not s.isascii() else s.lower()


def _to_upper(s: str, args: list[str]) -> str:
    return "".join(_simple_upper(c) for c in _runes(s)) if not s.isascii() else s.upper()


def _first(s: str, fn: Callable[[str], str]) -> str:
    if not s:
        return s
    b = _b(s)
    r, n = _decode_rune(b)
    return fn(chr(r)) + _s(b[n:])


def _to_lower_first(s: str, args: list[str]) -> str:
    return _first(s, _simple_lower)


def _to_upper_first(s: str, args: list[str]) -> str:
    return _first(s, _simple_upper)


def _to_default(s: str, args: list[str]) -> str:
    return "".join(args) if not s and args else s


_ATOI_RE: Final = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _atoi(text: str) -> int | None:
    """strconv.Atoi: ASCII decimal with an optional sign, in int64 range, else None."""
    if not _ATOI_RE.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _to_substr(s: str, args: list[str]) -> str:
    if not args:
        return s
    pos = _atoi(args[0])
    if pos is None:
        return s  # like bash: an unparsable offset returns the value
    b = _b(s)
    if pos < 0:
        pos = max(len(b) + pos, 0)
    if len(args) == 1:
        return _s(b[pos:]) if pos < len(b) else ""
    length = _atoi(args[1])
    if length is None:
        return s
    end = pos + length
    if end > _INT64_MAX:  # Go's int arithmetic wraps
        end -= 2**64
    if end >= len(b):
        return _s(b[pos:]) if pos < len(b) else ""
    if end < pos:
        raise SubstitutionError(
            f"substring length {length} from offset {pos} is out of range (kustomize-controller panics: "
            "slice bounds out of range)"
        )
    return _s(b[pos:end])


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


class _BadPattern(Exception):
    pass


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    star = False
    while pattern[:1] == b"*":
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i : i + 1]
        if c == b"\\":
            if i + 1 < len(pattern):
                i += 1
        elif c == b"[":
            in_range = True
        elif c == b"]":
            in_range = False
        elif c == b"*" and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: bytes) -> tuple[int, bytes]:
    if not chunk or chunk[:1] in (b"-", b"]"):
        raise _BadPattern
    if chunk[:1] == b"\\":
        chunk = chunk[1:]
        if not chunk:
            raise _BadPattern
    r, n = _decode_rune(chunk)
    if r == _RUNE_ERROR and n == 1:
        raise _BadPattern
    rest = chunk[n:]
    if not rest:
        raise _BadPattern
    return r, rest


def _match_chunk(chunk: bytes, s: bytes) -> bytes | None:
    """The rest of ``s`` after ``chunk`` matched its start, or None."""
    while chunk:
        if not s:
            return None
        c = chunk[:1]
        if c == b"[":
            r, n = _decode_rune(s)
            s = s[n:]
            chunk = chunk[1:]
            negated = chunk[:1] == b"^"
            if negated:
                chunk = chunk[1:]
            matched = False
            ranges = 0
            while True:
                if chunk[:1] == b"]" and ranges > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[:1] == b"-":
                    hi, chunk = _get_esc(chunk[1:])
                if lo <= r <= hi:
                    matched = True
                ranges += 1
            if matched == negated:
                return None
        elif c == b"?":
            _, n = _decode_rune(s)
            s = s[n:]
            chunk = chunk[1:]
        else:
            if c == b"\\":
                chunk = chunk[1:]
                if not chunk:
                    raise _BadPattern
            if chunk[0] != s[0]:
                return None
            s = s[1:]
            chunk = chunk[1:]
    return s


def _match(pattern: bytes, name: bytes) -> bool:
    """envsubst/path.Match: Go's path.Match, except that ``*`` and ``?`` also match ``/``."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return True  # a trailing star takes the rest
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if not star:
            return False
        for i in range(len(name)):
            rest = _match_chunk(chunk, name[i + 1 :])
            if rest is not None:
                if not pattern and rest:
                    continue
                name = rest
                break
        else:
            return False
    return not name


def _trim_shortest(s: bytes, pattern: bytes) -> bytes:
    """Prefixes are tried from longest to one byte, never the empty one; the last match wins."""
    shortest = b""
    for i in range(len(s)):
        prefix = s[: len(s) - i]
        try:
            if _match(pattern, prefix):
                shortest = prefix
        except _BadPattern:
            return s
    return s[len(shortest) :]


def _trim_longest(s: bytes, pattern: bytes) -> bytes:
    for i in range(len(s)):
        try:
            if _match(pattern, s[: len(s) - i]):
                return s[len(s) - i :]
        except _BadPattern:
            return s
    return s


def _reverse(b: bytes) -> bytes:
    return "".join(reversed(_runes(_s(b)))).encode("utf-8", "surrogateescape")


def _trim_shortest_prefix(s: str, args: list[str]) -> str:
    return _s(_trim_shortest(_b(s), _b(args[0]))) if args else s


def _trim_longest_prefix(s: str, args: list[str]) -> str:
    return _s(_trim_longest(_b(s), _b(args[0]))) if args else s


def _trim_shortest_suffix(s: str, args: list[str]) -> str:
    """Suffix removal runs the prefix matcher on the reversed value and the reversed pattern."""
    if not args:
        return s
    return _s(_reverse(_trim_shortest(_reverse(_b(s)), _reverse(_b(args[0])))))


def _trim_longest_suffix(s: str, args: list[str]) -> str:
    if not args:
        return s
    return _s(_reverse(_trim_longest(_reverse(_b(s)), _reverse(_b(args[0])))))


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


def _function(name: str, nargs: int) -> _Fn:
    if name == "#":
        return _to_len if nargs == 0 else _trim_shortest_prefix
    return _FUNCS.get(name, _to_default)  # "", every default operator, and odd mixes like ",^"


# ----------------------------------------------------------------------------------------------
# Evaluation

_Lookup = Callable[[str], tuple[str, bool]]


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _evaluate(nodes: list[_Text | _Func], lookup: _Lookup) -> str:
    return "".join(node.value if isinstance(node, _Text) else _call(node, lookup) for node in nodes)


def _call(node: _Func, lookup: _Lookup) -> str:
    """Arguments first (so a default that names an unset variable fails in strict mode even when
    unused), then the variable."""
    args = [_evaluate([arg], lookup) for arg in node.args]
    value, exists = lookup(node.param)
    if not exists and node.name not in _DEFAULT_OPERATORS:
        raise SubstitutionError(f"variable not set (strict mode): {_go_quote(node.param)}", node.param)
    return _function(node.name, len(args))(value, args)


def _lookup(variables: Mapping[str, str], strict: bool) -> _Lookup:
    if strict:
        return lambda name: (variables[name], True) if name in variables else ("", False)
    return lambda name: (variables.get(name, ""), True)


def substitute(text: str, variables: Mapping[str, str], *, strict: bool = False) -> str:
    """Substitute like Flux's envsubst.Eval with kustomize-controller's mapping.

    Undefined variables without a default: strict raises SubstitutionError naming the variable;
    non-strict replaces them with the empty string. Malformed ``${`` expressions raise in both modes
    (Flux fails the whole build on them).
    """
    return _s(_b(_evaluate(_parse(text), _lookup(variables, strict))))


def find_unresolved(text: str, variables: Mapping[str, str]) -> list[str]:
    """Names of variables referenced in text that have no value and no default (for reporting).

    These are exactly the variables strict mode would stop at, in evaluation order, each once; a
    variable named inside an unused default counts, because Flux evaluates defaults eagerly.
    Raises SubstitutionError when the text does not parse.
    """
    found: list[str] = []

    def walk(node: _Text | _Func) -> None:
        if isinstance(node, _Text):
            return
        for arg in node.args:
            walk(arg)
        if node.param not in variables and node.name not in _DEFAULT_OPERATORS and node.param not in found:
            found.append(node.param)

    for node in _parse(text):
        walk(node)
    return found


# ----------------------------------------------------------------------------------------------
# Re-parse: sigs.k8s.io/yaml YAMLToJSON (goyaml.v2 resolution, JSON-safe keys) followed by the
# float64 round trip of kyaml's RNode.UnmarshalJSON.

_STR: Final = "tag:yaml.org,2002:str"
_INT: Final = "tag:yaml.org,2002:int"
_FLOAT: Final = "tag:yaml.org,2002:float"
_BOOL: Final = "tag:yaml.org,2002:bool"
_NULL: Final = "tag:yaml.org,2002:null"
_TIMESTAMP: Final = "tag:yaml.org,2002:timestamp"
_BINARY: Final = "tag:yaml.org,2002:binary"
_MERGE: Final = "tag:yaml.org,2002:merge"

_V2_SCALARS: Final[dict[str, tuple[Any, str]]] = {
    **{s: (True, _BOOL) for s in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")},
    **{
        s: (False, _BOOL)
        for s in ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
    },
    **{s: (None, _NULL) for s in ("", "~", "null", "Null", "NULL")},
    **{s: (math.nan, _FLOAT) for s in (".nan", ".NaN", ".NAN")},
    **{s: (math.inf, _FLOAT) for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{s: (-math.inf, _FLOAT) for s in ("-.inf", "-.Inf", "-.INF")},
}
_YAML_STYLE_FLOAT: Final = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT: Final = re.compile(r"\.[0-9]+(_[0-9]+)*([eE][-+]?[0-9]+(_[0-9]+)*)?")
"""Go's ParseFloat on text starting with a dot: underscores only between digits."""
_TIMESTAMP_RE: Final = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?(?:Z|[+-]([0-9]{2}):([0-9]{2}))"
    r"| ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?)?"
)
_UINT_DIGITS: Final = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


def _go_parse_uint(text: str) -> int | None:
    """strconv.ParseUint(text, 0, 64) without the range check."""
    base, digits = 10, text
    prefix = text[:2].lower()
    if prefix in ("0x", "0b", "0o"):
        base, digits = {"0x": 16, "0b": 2, "0o": 8}[prefix], text[2:]
    elif text[:1] == "0" and len(text) > 1:
        base, digits = 8, text[1:]
    if not digits or any(c not in _UINT_DIGITS[base] for c in digits):
        return None
    return int(digits, base)


def _v2_resolve(value: str) -> tuple[Any, str]:
    """goyaml.v2's resolve() for an untagged plain scalar: the value and its tag."""
    if value in _V2_SCALARS:
        return _V2_SCALARS[value]
    first = value[0]
    if first == ".":
        if _DOT_FLOAT.fullmatch(value) and not math.isinf(float(value.replace("_", ""))):
            return float(value.replace("_", "")), _FLOAT
    elif first in "+-0123456789":
        plain = value.replace("_", "")
        sign, unsigned = (plain[0], plain[1:]) if plain[0] in "+-" else ("", plain)
        magnitude = _go_parse_uint(unsigned) if unsigned else None
        if magnitude is not None:
            number = -magnitude if sign == "-" else magnitude
            if _INT64_MIN <= number <= _INT64_MAX or (not sign and number < 2**64):
                return number, _INT  # ParseInt, then ParseUint (unsigned only)
        if _YAML_STYLE_FLOAT.fullmatch(plain) and not math.isinf(float(plain)):
            return float(plain), _FLOAT
    return value, _STR  # timestamps included: goyaml.v2 hands them to interface{} as strings


def _is_timestamp(value: str) -> bool:
    """goyaml.v2 parseTimestamp: the four layouts it tries with Go's time.Parse range checks."""
    match = _TIMESTAMP_RE.fullmatch(value)
    if not match:
        return False
    year, month, day = (int(g) for g in match.group(1, 2, 3))
    if not 1 <= month <= 12:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    clock = match.group(4, 5, 6) if match.group(4) is not None else match.group(9, 10, 11)
    hour, minute, second = (int(g) if g else 0 for g in clock)
    zone_hour, zone_minute = (int(g) if g else 0 for g in match.group(7, 8))
    return (
        1 <= day <= days
        and hour < 24
        and minute < 60
        and second < 60
        and zone_hour <= 24
        and zone_minute <= 60
    )


def _short(tag: str) -> str:
    return "!!" + tag.rsplit(":", 1)[-1] if tag.startswith("tag:yaml.org,2002:") else tag


def _scalar(tag: str | None, plain: bool, value: str) -> Any:
    """goyaml.v2 decoding a scalar into interface{}: plain untagged scalars are resolved, quoted ones
    and the non-specific ``!`` tag are strings, standard tags must agree with the text."""
    if tag is None:
        return _v2_resolve(value)[0] if plain else value
    if tag in (_INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP):
        resolved, rtag = _v2_resolve(value)
        if tag == _TIMESTAMP and rtag == _STR and _is_timestamp(value):
            return value  # goyaml.v2 keeps timestamps as their text in interface{}
        if rtag == tag:
            return resolved
        if tag == _FLOAT and rtag == _INT:
            return float(resolved)
        raise SubstitutionError(f"YAMLToJSON: cannot decode {_short(rtag)} `{value}` as a {_short(tag)}")
    if tag == _BINARY:
        try:
            return _s(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raise SubstitutionError("YAMLToJSON: !!binary value contains invalid base64 data") from None
    return value  # !!str, "!", unknown tags: the text


_E21: Final = 1e21


def _go_format_g(value: float, bits: int = 64) -> str:
    """strconv.FormatFloat(value, 'g', -1, bits) with go-yaml's names for infinities and NaN."""
    if math.isnan(value):
        return ".nan"
    if bits == 32:
        try:
            value = struct.unpack("<f", struct.pack("<f", value))[0]
        except OverflowError:
            value = math.copysign(math.inf, value)
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    value = abs(value)
    if value == 0:
        return sign + "0"
    text = repr(value)
    if bits == 32:
        for precision in range(1, 10):  # the shortest decimal that reads back as the same float32
            text = f"{value:.{precision - 1}e}"
            if struct.unpack("<f", struct.pack("<f", float(text)))[0] == value:
                break
    _, digit_tuple, exponent = Decimal(text).as_tuple()
    assert isinstance(exponent, int)
    exp = len(digit_tuple) + exponent - 1  # of the first digit
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    if exp < -4 or exp >= 6:  # %e, as Go decides for the shortest form
        frac = "." + digits[1:] if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{frac}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    point = exp + 1
    whole = digits[:point].ljust(point, "0") if point > 0 else "0"
    decimals = max(len(digits) - point, 0)
    frac = "".join(digits[point + i] if 0 <= point + i < len(digits) else "0" for i in range(decimals))
    return f"{sign}{whole}{'.' + frac if frac else ''}"


def _json_key(key: tuple[type, Any]) -> str:
    """convertToJSONableObject's key rules: str, bool, int64 and float keys become strings."""
    kind, value = key
    if kind is str:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int and _INT64_MIN <= value <= _INT64_MAX:
        return str(value)
    if kind is float:
        return _go_format_g(value, 32)
    shown = "uint64" if kind is int else "<nil>" if value is None else kind.__name__
    raise SubstitutionError(f"YAMLToJSON: unsupported map key of type: {shown}, key: {value!r}")


def _json_number(value: int | float) -> int | float:
    """A number after json.Marshal, kyaml's float64 json.Unmarshal and the final json.Marshal:
    integral values come back as the integer Go prints for the float64 (shortest digits, zeros)."""
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        shown = "NaN" if math.isnan(number) else "+Inf" if number > 0 else "-Inf"
        raise SubstitutionError(f"YAMLToJSON: json: unsupported value: {shown}")
    if number.is_integer() and abs(number) < _E21:
        return int(Decimal(repr(number)))
    return number


def _to_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {_json_key(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _json_number(value)
    return value


def _assign(out: dict[tuple[type, Any], Any], key: tuple[type, Any], value: Any) -> None:
    """Go's map assignment also replaces an equal key: ``-0.0`` after ``0.0`` leaves ``-0.0``."""
    out.pop(key, None)
    out[key] = value


class _Decoder:
    """goyaml.v2 Unmarshal into interface{}, from libyaml events (first document only).

    Maps are keyed by (type, value) until the end, as Go's map[interface{}]interface{} is: ``1`` and
    ``true`` are different keys there, while they collide in a Python dict.
    """

    def __init__(self, text: str) -> None:
        self.events = _YamlParser(text)
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.budget = yamlio.MAX_EXPANDED_NODES

    def document(self) -> Any:
        try:
            self.events.get_event()  # stream start
            if self.events.check_event(yaml.StreamEndEvent):
                return None
            self.events.get_event()  # document start
            return self.node()[0]
        finally:
            self.events.dispose()

    def node(self) -> tuple[Any, int]:
        """The next node's value and its size in nodes (what an alias to it expands to)."""
        event = self.events.get_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise SubstitutionError(f"YAMLToJSON: unknown anchor '{event.anchor}' referenced")
            anchored, anchored_size = self.anchors[event.anchor]
            self.spend(anchored_size)
            return yamlio.deep_copy(anchored), anchored_size
        self.spend(1)
        size = 1
        value: Any
        if isinstance(event, yaml.ScalarEvent):
            value = _scalar(event.tag, event.implicit[0], event.value)
        elif isinstance(event, yaml.SequenceStartEvent):
            value = []
            while not self.events.check_event(yaml.SequenceEndEvent):
                item, item_size = self.node()
                value.append(item)
                size += item_size
            self.events.get_event()
        else:
            value, size = self.mapping()
        anchor = getattr(event, "anchor", None)
        if anchor:
            self.anchors[anchor] = (value, size)
        return value, size

    def mapping(self) -> tuple[dict[tuple[type, Any], Any], int]:
        """``<<`` is applied where it stands: keys after it win over merged ones, keys before lose."""
        out: dict[tuple[type, Any], Any] = {}
        size = 1
        while not self.events.check_event(yaml.MappingEndEvent):
            head = self.events.peek_event()
            merge = (
                isinstance(head, yaml.ScalarEvent)
                and head.value == "<<"
                and (head.implicit[0] or head.tag == _MERGE)
            )
            if not isinstance(head, (yaml.ScalarEvent, yaml.AliasEvent)):
                raise SubstitutionError("YAMLToJSON: invalid map key: a collection")
            key, key_size = self.node()
            value, value_size = self.node()
            size += key_size + value_size
            if merge:
                self.merge(value, out)
            else:
                if isinstance(key, (dict, list)):
                    raise SubstitutionError("YAMLToJSON: invalid map key: a collection")
                _assign(out, (type(key), key), value)
        self.events.get_event()
        return out, size

    @staticmethod
    def merge(value: Any, out: dict[tuple[type, Any], Any]) -> None:
        if isinstance(value, dict):
            value = [value]
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            for item in reversed(value):  # earlier maps take precedence
                for key, entry in item.items():
                    _assign(out, key, entry)
        else:
            raise SubstitutionError("YAMLToJSON: map merge requires map or sequence of maps as the value")

    def spend(self, nodes: int) -> None:
        self.budget -= nodes
        if self.budget < 0:
            raise SubstitutionError("YAMLToJSON: document contains excessive aliasing")


def reparse(text: str) -> dict[str, Any]:
    """Parse substituted YAML as Flux does: YAMLToJSON, then kyaml's RNode.UnmarshalJSON."""
    try:
        data = _Decoder(text).document()
    except yaml.YAMLError as exc:
        raise SubstitutionError(f"YAMLToJSON: {exc}") from None
    except RecursionError:
        raise SubstitutionError("YAMLToJSON: document nested too deeply") from None
    if data is None:
        return {}  # JSON null leaves the object empty, it is no error
    if not isinstance(data, dict):
        raise SubstitutionError("UnmarshalJSON: the substituted document is not a mapping")
    result = _to_json(data)
    assert isinstance(result, dict)
    return result


def resolve_plain_scalar(text: str) -> Any:
    """The value Flux ends up with for ``text`` written as an unquoted YAML scalar after substitution."""
    return _to_json(_v2_resolve(text)[0])


# ----------------------------------------------------------------------------------------------
# The text Flux substitutes: kustomize Resource.AsYAML, i.e. sigs.k8s.io/yaml JSONToYAML, i.e.
# goyaml.v2 Marshal. libyaml's emitter (which goyaml.v2 ports) with goyaml.v2's choices on top: its
# key order, its quoting rule (quote what would not read back as a string), folding at 80 columns.

_BASE60_FLOAT: Final = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


def _plain_tag(text: str) -> str:
    """The tag goyaml.v2's encoder expects ``text`` to be read back with when written plain."""
    tag = _v2_resolve(text)[1] if text else _NULL
    if tag == _STR and text[:1] in "+-0123456789" and _is_timestamp(text):
        return _TIMESTAMP
    return tag


def _v2_key_less(a: str, b: str) -> bool:
    """goyaml.v2's keyList.Less for string keys: letters before other runes, digit runs by value."""
    for i in range(min(len(a), len(b))):
        ca, cb = a[i], b[i]
        if ca == cb:
            continue
        la, lb = ca.isalpha(), cb.isalpha()
        if la and lb:
            return ca < cb
        if la or lb:
            return lb
        an = bn = 0
        if ca == "0" or cb == "0":
            j = i - 1
            while j >= 0 and a[j].isdecimal():
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai, bi = i, i
        while ai < len(a) and a[ai].isdecimal():
            an = (an * 10 + ord(a[ai]) - 48) & 0xFFFFFFFFFFFFFFFF  # int64 arithmetic wraps
            ai += 1
        while bi < len(b) and b[bi].isdecimal():
            bn = (bn * 10 + ord(b[bi]) - 48) & 0xFFFFFFFFFFFFFFFF
            bi += 1
        an, bn = (n - 2**64 if n >= 2**63 else n for n in (an, bn))
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ca < cb
    return len(a) < len(b)


def _key_compare(a: str, b: str) -> int:
    return -1 if _v2_key_less(a, b) else 1 if _v2_key_less(b, a) else 0


_KEY_ORDER: Final = functools.cmp_to_key(_key_compare)


class _AsYAMLDumper(_YamlDumper):
    """Block YAML as goyaml.v2 writes the JSON of an object."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return _plain_tag(value) if implicit[0] else _STR
        return "tag:yaml.org,2002:seq" if kind is yaml.SequenceNode else "tag:yaml.org,2002:map"


def _represent_str(dumper: _AsYAMLDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        style: str | None = "|"
    elif _plain_tag(data) == _STR and not _BASE60_FLOAT.fullmatch(data):
        style = None  # plain, unless the emitter finds it unsafe
    else:
        style = '"'
    return dumper.represent_scalar(_STR, data, style=style)


def _represent_map(dumper: _AsYAMLDumper, data: Mapping[Any, Any]) -> yaml.MappingNode:
    items = {_key_text(k): v for k, v in data.items()}
    return dumper.represent_mapping(
        "tag:yaml.org,2002:map", [(k, items[k]) for k in sorted(items, key=_KEY_ORDER)]
    )


def _key_text(key: Any) -> str:
    """JSON object keys are strings: how encoding/json names a Python key that is not one."""
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _represent_int(dumper: _AsYAMLDumper, data: int) -> yaml.ScalarNode:
    return dumper.represent_scalar(_INT, str(data))


def _represent_float(dumper: _AsYAMLDumper, data: float) -> yaml.ScalarNode:
    """JSON prints an integral float as an integer, which goyaml.v2 then reads as an int."""
    if data.is_integer() and abs(data) < _E21:
        return dumper.represent_scalar(_INT, str(int(data)))
    return dumper.represent_scalar(_FLOAT, _go_format_g(data))


def _represent_bool(dumper: _AsYAMLDumper, data: bool) -> yaml.ScalarNode:
    return dumper.represent_scalar(_BOOL, "true" if data else "false")


def _represent_none(dumper: _AsYAMLDumper, data: None) -> yaml.ScalarNode:
    return dumper.represent_scalar(_NULL, "null")


_AsYAMLDumper.add_representer(str, _represent_str)
_AsYAMLDumper.add_representer(dict, _represent_map)
_AsYAMLDumper.add_multi_representer(dict, _represent_map)
_AsYAMLDumper.add_representer(bool, _represent_bool)
_AsYAMLDumper.add_representer(int, _represent_int)
_AsYAMLDumper.add_representer(float, _represent_float)
_AsYAMLDumper.add_representer(type(None), _represent_none)


def as_yaml(obj: Mapping[str, Any]) -> str:
    """The YAML text kustomize-controller runs envsubst over for ``obj``."""
    return yaml.dump(
        obj, Dumper=_AsYAMLDumper, default_flow_style=False, allow_unicode=True, width=80, sort_keys=False
    )


# ----------------------------------------------------------------------------------------------
# One object


def is_substitution_disabled(obj: Mapping[str, Any]) -> bool:
    """The opt-out Flux honours: ``kustomize.toolkit.fluxcd.io/substitute: disabled`` as a label or
    an annotation (exact value)."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return False
    for field_name in ("labels", "annotations"):
        entries = metadata.get(field_name)
        if isinstance(entries, Mapping) and entries.get(SUBSTITUTE_KEY) == DISABLED_VALUE:
            return True
    return False


def _copy(obj: Mapping[str, Any]) -> dict[str, Any]:
    copied = yamlio.deep_copy(obj)
    return copied if isinstance(copied, dict) else dict(copied)


def substitute_object(
    obj: Mapping[str, Any], variables: Mapping[str, str], *, strict: bool, always: bool = False
) -> dict[str, Any]:
    """What kustomize-controller does to one built object; returns a new dict, ``obj`` is untouched.

    ``always`` is ``postBuild.substituteStrategy: Always``: substitute (and re-type) even with no
    variables. Without it, an empty variable set leaves the object exactly as it was.
    """
    if is_substitution_disabled(obj):
        return _copy(obj)
    values = {name: value.replace("\n", "") for name, value in variables.items()}
    if not values and not always:
        return _copy(obj)
    for name in sorted(values):
        if not validate_var_name(name):
            raise SubstitutionError(f"'{name}' var name is invalid, must match '{VAR_NAME_PATTERN}'", name)
    return reparse(substitute(as_yaml(obj), values, strict=strict))
