"""envsubst as Flux runs it over built objects: a port of fluxcd/pkg ``envsubst`` (a drone/envsubst fork),
``parse/``, ``funcs.go``, ``eval.go``, ``path/match.go``.

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

import bisect
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from homeops.core.gocompat import pathmatch, strconv

__all__ = [
    "Expression",
    "Node",
    "SubstitutionError",
    "Text",
    "evaluate",
    "find_unresolved",
    "has_default",
    "parse",
    "substitute",
    "unresolved",
    "variables",
]

_DEFAULT_OPERATORS: Final = frozenset({"-", "+", "=", "?", ":-", ":+", ":=", ":?"})
"""Operators exempt from strict mode: they supply a value for an unset variable themselves."""


class SubstitutionError(Exception):
    """envsubst failed: a bad expression, a variable unset in strict mode, or unusable output YAML."""

    def __init__(self, message: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.variable = variable


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
        self.dropped: list[int] = []  # where skip() removed escape characters (buffer offsets, ascending)

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
        self.dropped.append(self.pos - 1)
        self.buf = self.buf[: self.pos - 1] + self.buf[self.pos :]

    def source(self, offset: int) -> int:
        """The offset in the original text (UTF-8 bytes) of a buffer offset."""
        return offset + bisect.bisect_left(self.dropped, offset)

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
    span: tuple[int, int] = field(default=(0, 0), compare=False)
    """Where the piece is in the parsed text: [start, end) offsets of its UTF-8 bytes."""


@dataclass
class _Func:
    param: str = ""
    name: str = ""
    args: list[_Text | _Func] = field(default_factory=list)
    span: tuple[int, int] = field(default=(0, 0), compare=False)
    """Where the ``${...}`` expression is in the parsed text: [start, end) offsets of its UTF-8 bytes."""


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
                nodes.append(self.text())
            elif token == _T_LBRACK:
                nodes.append(self.spanned_func())
            else:  # pragma: no cover - every character is accepted at top level
                raise SubstitutionError(_ERR_BAD)

    def text(self) -> _Text:
        s = self.s
        return _Text(s.text(), (s.source(s.start), s.source(s.pos)))

    def spanned_func(self) -> _Func:
        """The expression whose ``${`` was just scanned, with its span."""
        start = self.s.source(self.s.start)
        node = self.func()
        node.span = (start, self.s.source(self.s.pos))
        return node

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
            return self.spanned_func()
        if token in (_T_IDENT, _T_RBRACK):
            return self.text()
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


Node = _Text | _Func
"""A parsed piece of text: literal text, or a ``${...}`` expression."""
Text = _Text
"""Literal text (escapes resolved), and where it is in the parsed text."""
Expression = _Func
"""A ``${...}`` expression: its variable (``param``), operator (``name``), arguments and span."""


def parse(text: str) -> list[Node]:
    """The pieces of ``text``; raises SubstitutionError for a malformed ``${`` expression."""
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


def _to_substr(s: str, args: list[str]) -> str:
    if not args:
        return s
    pos = strconv.atoi(args[0])
    if pos is None:
        return s  # like bash: an unparsable offset returns the value
    b = _b(s)
    if pos < 0:
        pos = max(len(b) + pos, 0)
    if len(args) == 1:
        return _s(b[pos:]) if pos < len(b) else ""
    length = strconv.atoi(args[1])
    if length is None:
        return s
    end = pos + length
    if end > strconv.INT64_MAX:  # Go's int arithmetic wraps
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


def _glob(pattern: bytes) -> re.Pattern[str] | None:
    """envsubst/path.Match: Go's path.Match, except that ``*`` and ``?`` also match ``/``; None for a
    malformed pattern, which makes the trim functions return the value unchanged."""
    return pathmatch.compile_match(_s(pattern), separator=None)


def _trim_shortest(s: bytes, pattern: bytes) -> bytes:
    """Prefixes are tried from longest to one byte, never the empty one; the last match wins."""
    glob = _glob(pattern)
    if glob is None:
        return s
    shortest = b""
    for i in range(len(s)):
        prefix = s[: len(s) - i]
        if glob.fullmatch(_s(prefix)):
            shortest = prefix
    return s[len(shortest) :]


def _trim_longest(s: bytes, pattern: bytes) -> bytes:
    glob = _glob(pattern)
    if glob is None:
        return s
    for i in range(len(s)):
        if glob.fullmatch(_s(s[: len(s) - i])):
            return s[len(s) - i :]
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


def evaluate(nodes: list[Node], variables: Mapping[str, str], *, strict: bool = False) -> str:
    """Parsed text with its variables substituted (see :func:`substitute`)."""
    return _s(_b(_evaluate(nodes, _lookup(variables, strict))))


def unresolved(nodes: list[Node], variables: Mapping[str, str]) -> list[str]:
    """Variables of parsed text that have no value and no default (see :func:`find_unresolved`)."""
    found: list[str] = []

    def walk(node: Node) -> None:
        if isinstance(node, _Text):
            return
        for arg in node.args:
            walk(arg)
        if node.param not in variables and node.name not in _DEFAULT_OPERATORS and node.param not in found:
            found.append(node.param)

    for node in nodes:
        walk(node)
    return found


def has_default(node: Node) -> bool:
    """Whether an expression supplies a value for an unset or empty variable itself (``=``, ``:=``,
    ``:-``, ``:+``, ``:?``)."""
    return isinstance(node, _Func) and node.name in _DEFAULT_OPERATORS


def variables(nodes: list[Node]) -> dict[str, bool]:
    """Every variable parsed text names, nested ones included -> whether each of its uses has a
    default."""
    found: dict[str, bool] = {}

    def walk(node: Node) -> None:
        if isinstance(node, _Text):
            return
        for arg in node.args:
            walk(arg)
        found[node.param] = found.get(node.param, True) and node.name in _DEFAULT_OPERATORS

    for node in nodes:
        walk(node)
    return found


def substitute(text: str, variables: Mapping[str, str], *, strict: bool = False) -> str:
    """Substitute like Flux's envsubst.Eval with kustomize-controller's mapping.

    Undefined variables without a default: strict raises SubstitutionError naming the variable;
    non-strict replaces them with the empty string. Malformed ``${`` expressions raise in both modes
    (Flux fails the whole build on them).
    """
    return evaluate(parse(text), variables, strict=strict)


def find_unresolved(text: str, variables: Mapping[str, str]) -> list[str]:
    """Names of variables referenced in text that have no value and no default (for reporting).

    These are exactly the variables strict mode would stop at, in evaluation order, each once; a
    variable named inside an unused default counts, because Flux evaluates defaults eagerly.
    Raises SubstitutionError when the text does not parse.
    """
    return unresolved(parse(text), variables)
