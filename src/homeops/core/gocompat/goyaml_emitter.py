"""goyaml.v2's emitter (gopkg.in/yaml.v2 ``emitterc.go``, vendored as sigs.k8s.io/yaml/goyaml.v2), for
the documents kustomize writes: block mappings and sequences, empty ones in flow style, untagged
scalars. No anchors, tags or directives (``JSONToYAML`` never produces them).

goyaml.v2 is a Go port of libyaml's emitter with its own quirks, which this port keeps because
kustomize's output has them:

* ``is_printable`` counts no character above U+FFFF as printable, so a string with an emoji is
  double-quoted with ``\\U`` escapes; U+0085 and U+0080..U+009F are not printable either;
* ``is_bom`` looks at the start of the value whatever the position asked about, so in a
  double-quoted string that starts with U+FEFF every character is escaped (``\\x62``);
* a single-quoted scalar ending in a line break closes its quote at column 0 (libyaml indents it).

Columns count characters (runes); the 128-byte simple-key limit counts UTF-8 bytes, as Go does.
Style selection (``select_scalar_style``) and the scalar analysis are the Go functions' rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from homeops.core.regex import lazy_pattern

PLAIN: Final = "plain"
SINGLE: Final = "single"
DOUBLE: Final = "double"
LITERAL: Final = "literal"

BEST_INDENT: Final = 2
_BREAKS: Final = frozenset("\r\n\x85\u2028\u2029")
_FLOW_START: Final = frozenset("#,[]{}&*!|>'\"%@`")
_ESCAPES: Final = {
    0x00: "0", 0x07: "a", 0x08: "b", 0x09: "t", 0x0A: "n", 0x0B: "v", 0x0C: "f", 0x0D: "r", 0x1B: "e",
    0x22: '"', 0x5C: "\\", 0x85: "N", 0xA0: "_", 0x2028: "L", 0x2029: "P",
}  # fmt: skip


_NOT_PRINTABLE_ASCII: Final = re.compile("[^\n\x20-\x7e]")
"""goyaml.v2 ``is_printable`` for ASCII text (what :func:`_not_printable` matches below U+0080)."""


_not_printable = lazy_pattern("[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]")
"""goyaml.v2 ``is_printable`` on UTF-8 bytes, as characters: nothing above U+FFFF, no U+FEFF (its
Unicode ranges take milliseconds to compile)."""


def _first_unprintable(text: str) -> re.Match[str] | None:
    return (_NOT_PRINTABLE_ASCII if text.isascii() else _not_printable()).search(text)


_BREAK: Final = re.compile("[\r\n\x85\u2028\u2029]")
_BREAK_SPLIT: Final = re.compile("([\r\n\x85\u2028\u2029])")
_BREAK_SPACE: Final = re.compile("[\r\n\x85\u2028\u2029] ")
_SPACE_BREAK: Final = re.compile(" [\r\n\x85\u2028\u2029]")
_LATER_INDICATOR: Final = re.compile(":(?=[ \t]|\\Z)|(?<=[ \t\x00\r\n\x85\u2028\u2029])#")
_SIMPLE: Final = re.compile(r"[a-zA-Z0-9_./\\;=()^$~+<][\x21-\x7e]*")


def is_printable(ch: str) -> bool:
    """goyaml.v2 ``is_printable`` for one character."""
    return _first_unprintable(ch) is None


@dataclass(frozen=True, slots=True)
class Analysis:
    """``yaml_emitter_analyze_scalar``: which styles can carry the value (block context only)."""

    multiline: bool
    block_plain_allowed: bool
    single_quoted_allowed: bool
    block_allowed: bool


_ANY_STYLE: Final = Analysis(False, True, True, True)


@lru_cache(maxsize=65536)
def analyze(value: str) -> Analysis:
    if not value:
        return Analysis(False, True, True, False)
    if _SIMPLE.fullmatch(value) and value[-1] != ":" and not value.startswith(("---", "...")):
        return _ANY_STYLE  # printable ASCII without spaces or indicators: every style fits
    first, last = value[0], value[-1]
    followed_by_blank = len(value) == 1 or value[1] in " \t"
    block_indicators = (
        value.startswith(("---", "..."))
        or first in _FLOW_START
        or (first in "?:-" and followed_by_blank)
        or _LATER_INDICATOR.search(value, 1) is not None
    )
    special = _first_unprintable(value) is not None
    line_breaks = _BREAK.search(value) is not None
    trailing_space = last == " "
    plain = not (first == " " or first in _BREAKS or trailing_space or last in _BREAKS)
    single = True
    block = not trailing_space
    if line_breaks and _BREAK_SPACE.search(value):
        plain = single = False
    if special or (line_breaks and _SPACE_BREAK.search(value)):
        plain = single = block = False
    if line_breaks or block_indicators:
        plain = False
    return Analysis(line_breaks, plain, single, block)


ScalarOf = Callable[[Any], tuple[str, str]]
"""A scalar value -> (its text, the style the encoder asks for)."""
ItemsOf = Callable[[dict[Any, Any]], list[tuple[str, Any]]]
"""A mapping -> its (key text, value) pairs in the order to write them."""


def emit_document(value: Any, scalar_of: ScalarOf, items_of: ItemsOf, width: int) -> str:
    """One document (``Marshal``'s stream: implicit start and end) holding ``value``."""
    emitter = Emitter(width, scalar_of, items_of)
    emitter.node(value, root=True)
    emitter.write_indent()  # document end
    if emitter.open_ended:  # stream end after a plain root scalar
        emitter.write_indicator("...", True, False, False)
        emitter.write_indent()
    return "".join(emitter.out)


def _simple_key(key: str) -> bool:
    """``yaml_emitter_check_simple_key`` for a scalar key: one line, at most 128 bytes."""
    if len(key) > 32 and len(key.encode("utf-8", "surrogatepass")) > 128:
        return False
    return not _BREAKS.intersection(key)


@lru_cache(maxsize=65536)
def _plain_simple_key(key: str) -> bool:
    """A key that goes out as it is when its encoder asks for plain style: simple, non-empty, and
    plain by the analysis."""
    return bool(key) and _simple_key(key) and analyze(key).block_plain_allowed


class Emitter:
    """The emitter's state between events, writing into a list of strings."""

    def __init__(self, width: int, scalar_of: ScalarOf, items_of: ItemsOf) -> None:
        self.scalar_of = scalar_of
        self.items_of = items_of
        self.best_width = width if width > BEST_INDENT * 2 else (1 << 31) - 1
        self.out: list[str] = []
        self.column = 0
        self.indent = -1
        self.indents: list[int] = []
        self.whitespace = True
        self.indention = True
        self.open_ended = False

    # ------------------------------------------------------------------ writing primitives
    def put(self, text: str) -> None:
        self.out.append(text)
        self.column += len(text)

    def put_break(self) -> None:
        self.out.append("\n")
        self.column = 0

    def write_break(self, ch: str) -> None:
        self.out.append(ch)
        self.column = 0

    def write_indent(self) -> None:
        indent = self.indent if self.indent > 0 else 0
        column = self.column
        if not self.indention or column > indent or (column == indent and not self.whitespace):
            self.out.append("\n" + " " * indent)  # the break and the padding in one piece
            self.column = indent
        elif column < indent:
            self.out.append(" " * (indent - column))
            self.column = indent
        self.whitespace = True
        self.indention = True

    def write_indicator(
        self, indicator: str, need_whitespace: bool, is_whitespace: bool, is_indention: bool
    ) -> None:
        if need_whitespace and not self.whitespace:
            self.put(" ")
        self.put(indicator)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention
        self.open_ended = False

    def increase_indent(self, flow: bool, indentless: bool) -> None:
        self.indents.append(self.indent)
        if self.indent < 0:
            self.indent = BEST_INDENT if flow else 0
        elif not indentless:
            self.indent += BEST_INDENT

    def pop_indent(self) -> None:
        self.indent = self.indents.pop()

    # ------------------------------------------------------------------ nodes
    def node(
        self, value: Any, *, root: bool = False, mapping: bool = False, simple_key: bool = False
    ) -> None:
        """``yaml_emitter_emit_node`` (block context; an empty collection goes in flow style)."""
        if isinstance(value, dict):
            if value:
                self._block_mapping(value)
            else:
                self._empty_flow("{", "}")
        elif isinstance(value, list | tuple):
            if value:
                self._block_sequence(value, indentless=mapping and not self.indention)
            else:
                self._empty_flow("[", "]")
        else:
            text, style = self.scalar_of(value)
            if root or simple_key or not self._short_plain(text, style):
                self.scalar(text, style, simple_key=simple_key, root=root)

    def _short_plain(self, text: str, style: str) -> bool:
        """The common value, written in one piece: what :meth:`scalar` writes for a plain, non-empty
        value that the analysis lets stay plain and that ends before the folding column (a plain
        scalar folds at a space past ``best_width`` only). False, writing nothing, otherwise."""
        if style != PLAIN or not text or not analyze(text).block_plain_allowed:
            return False
        if not self.whitespace:
            text = " " + text
        if self.column + len(text) - 1 > self.best_width and " " in text[1:]:
            return False
        self.out.append(text)
        self.column += len(text)
        self.whitespace = False
        self.indention = False
        return True

    def _empty_flow(self, start: str, end: str) -> None:
        self.write_indicator(start, True, True, False)
        self.increase_indent(True, False)
        self.pop_indent()
        self.write_indicator(end, False, False, False)

    def _block_sequence(self, items: list[Any] | tuple[Any, ...], indentless: bool) -> None:
        self.increase_indent(False, indentless)
        for item in items:
            self.write_indent()
            self.write_indicator("-", True, False, True)
            if isinstance(item, dict | list | tuple):
                self.node(item)
            else:
                text, style = self.scalar_of(item)
                if not self._short_plain(text, style):
                    self.scalar(text, style, simple_key=False)
        self.pop_indent()

    def _block_mapping(self, mapping: dict[Any, Any]) -> None:
        self.increase_indent(False, False)
        out = self.out
        scalar_of = self.scalar_of
        for key, item in self.items_of(mapping):
            self.write_indent()
            style = scalar_of(key)[1]
            if style == PLAIN and _plain_simple_key(key):
                # what scalar() and the ":" indicator write for a plain simple key (no folding in a
                # simple key; write_indent left whitespace set: no space before it)
                out.append(key + ":")
                self.column += len(key) + 1
                self.whitespace = self.indention = self.open_ended = False
            elif _simple_key(key):
                self.scalar(key, style, simple_key=True)
                self.write_indicator(":", False, False, False)
            else:
                self.write_indicator("?", True, False, True)
                self.scalar(key, style, simple_key=False)
                self.write_indent()
                self.write_indicator(":", True, False, True)
            if isinstance(item, dict | list | tuple):
                self.node(item, mapping=True)
            else:
                text, style = scalar_of(item)
                if not self._short_plain(text, style):
                    self.scalar(text, style, simple_key=False)
        self.pop_indent()

    # ------------------------------------------------------------------ scalars
    def scalar(self, value: str, requested: str, *, simple_key: bool, root: bool = False) -> None:
        """``yaml_emitter_emit_scalar`` for an untagged, implicit scalar in block context."""
        analysis = analyze(value)
        style = requested
        if simple_key and analysis.multiline:
            style = DOUBLE
        if style == PLAIN and (not analysis.block_plain_allowed or (not value and simple_key)):
            style = SINGLE
        if style == SINGLE and not analysis.single_quoted_allowed:
            style = DOUBLE
        if style == LITERAL and (not analysis.block_allowed or simple_key):
            style = DOUBLE
        self.increase_indent(True, False)
        allow_breaks = not simple_key
        if style == PLAIN:
            self._plain(value, allow_breaks, root)
        elif style == SINGLE:
            self._single(value, allow_breaks)
        elif style == DOUBLE:
            self._double(value, allow_breaks)
        else:
            self._literal(value)
        self.pop_indent()

    def _plain(self, value: str, allow_breaks: bool, root: bool) -> None:
        if not self.whitespace:
            self.put(" ")
        if " " not in value and not _BREAKS.intersection(value):  # the common case, in one piece
            self.put(value)
        else:
            self._folded_text(value, allow_breaks, quoted=False)
        self.whitespace = False
        self.indention = False
        if root:
            self.open_ended = True

    def _single(self, value: str, allow_breaks: bool) -> None:
        self.write_indicator("'", True, False, False)
        self._folded_text(value, allow_breaks, quoted=True)
        self.write_indicator("'", False, False, False)
        self.whitespace = False
        self.indention = False

    def _folded_text(self, value: str, allow_breaks: bool, *, quoted: bool) -> None:
        """The body of a plain or single-quoted scalar: a space past the width folds (a quoted one
        neither first nor last), breaks are written doubled, quotes doubled when quoted."""
        spaces = breaks = False
        last = len(value) - 1
        for i, ch in enumerate(value):
            if ch == " ":
                fold = allow_breaks and not spaces and self.column > self.best_width
                if fold and (not quoted or 0 < i < last) and value[i + 1] != " ":
                    self.write_indent()
                else:
                    self.put(ch)
                spaces = True
            elif ch in _BREAKS:
                if not breaks and ch == "\n":
                    self.put_break()
                self.write_break(ch)
                self.indention = True
                breaks = True
            else:
                if breaks:
                    self.write_indent()
                self.put("''" if quoted and ch == "'" else ch)
                self.indention = False
                spaces = breaks = False

    def _double(self, value: str, allow_breaks: bool) -> None:
        self.write_indicator('"', True, False, False)
        escape_all = value.startswith("\ufeff")
        spaces = False
        last = len(value) - 1
        for i, ch in enumerate(value):
            if escape_all or not is_printable(ch) or ch in _BREAKS or ch in '"\\':
                code = ord(ch)
                short = _ESCAPES.get(code)
                if short is not None:
                    self.put("\\" + short)
                elif code <= 0xFF:
                    self.put(f"\\x{code:02X}")
                elif code <= 0xFFFF:
                    self.put(f"\\u{code:04X}")
                else:
                    self.put(f"\\U{code:08X}")
                spaces = False
            elif ch == " ":
                if allow_breaks and not spaces and self.column > self.best_width and 0 < i < last:
                    self.write_indent()
                    if value[i + 1] == " ":
                        self.put("\\")
                else:
                    self.put(ch)
                spaces = True
            else:
                self.put(ch)
                spaces = False
        self.write_indicator('"', False, False, False)
        self.whitespace = False
        self.indention = False

    def _literal(self, value: str) -> None:
        self.write_indicator("|", True, False, False)
        if value[0] == " " or value[0] in _BREAKS:
            self.write_indicator(str(BEST_INDENT), False, False, False)
        self.open_ended = False
        chomp = ""
        if value[-1] not in _BREAKS:
            chomp = "-"
        elif len(value) == 1 or value[-2] in _BREAKS:
            chomp = "+"
            self.open_ended = True
        if chomp:
            self.write_indicator(chomp, False, False, False)
        self.put_break()
        self.indention = True
        self.whitespace = True
        breaks = True
        for piece in _BREAK_SPLIT.split(value):
            if not piece:
                continue
            if piece in _BREAKS:
                self.write_break(piece)
                self.indention = breaks = True
            else:
                if breaks:
                    self.write_indent()
                self.put(piece)
                self.indention = breaks = False
