"""envsubst's scanner and parser (fluxcd/pkg ``envsubst/parse``): text into literal pieces and
``${...}`` expressions, each with its span. Go strings are bytes, so the scanner works on UTF-8 bytes."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "RUNE_ERROR", "Expression", "Node", "SubstitutionError", "Text", "decode_rune", "go_bytes", "go_string",
    "parse",
]  # fmt: skip


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


RUNE_ERROR: Final = 0xFFFD


def go_bytes(s: str) -> bytes:
    """A Go string's bytes: the text as UTF-8, invalid bytes carried as surrogate escapes."""
    return s.encode("utf-8", "surrogateescape")


def go_string(b: bytes) -> str:
    """Bytes back as text (invalid UTF-8 as surrogate escapes)."""
    return b.decode("utf-8", "surrogateescape")


def decode_rune(b: bytes, i: int = 0) -> tuple[int, int]:
    """Go's utf8.DecodeRune at ``b[i]``: (U+FFFD, 1) for an invalid or truncated sequence."""
    lead = b[i]
    if lead < 0x80:
        return lead, 1
    n = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if 0xF0 <= lead <= 0xF4 else 0
    try:
        return (ord(b[i : i + n].decode("utf-8")), n) if n and i + n <= len(b) else (RUNE_ERROR, 1)
    except UnicodeDecodeError:  # bad continuation, overlong form, surrogate
        return RUNE_ERROR, 1


_PLAIN_RUN: Final = re.compile(rb"[$\x00]")


class _Scanner:
    """Token reader with Go's mode bits over UTF-8 bytes, so that its one-rune ``unread`` after a
    ``peek`` (which can step back by the width of the wrong rune) behaves as in Go."""

    def __init__(self, buf: str) -> None:
        self.buf = go_bytes(buf)
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
        r, self.width = decode_rune(self.buf, self.pos)
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
        return go_string(self.buf[self.start : self.pos])

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
