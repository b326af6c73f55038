"""The YAML emitter: the ONE place objects become YAML text.

What ``kustomize build`` (v5) prints, byte for byte: kustomize turns each object into JSON and hands
it to sigs.k8s.io/yaml ``JSONToYAML``, which reads the JSON back with goyaml.v2 and marshals it.
So the text is goyaml.v2's: block style, sequences not indented under their key, map keys in
goyaml.v2's ``keyList`` order (digit runs compared by value), and each string in the style goyaml.v2's
encoder asks for (plain when it would read back as the same string and is not a base-60 float,
double-quoted when it would not, literal when it holds a line break) which the emitter then downgrades
by its own analysis (``'{{ x }}'``: a plain scalar may not start with a flow indicator, so single
quotes), folding plain and quoted scalars at 80 columns. Flux runs envsubst over this same text
(kustomize-controller ``SubstituteVariables`` marshals with ``JSONToYAML`` too).

The emitter is a port of goyaml.v2's (:mod:`homeops.core.gocompat.goyaml_emitter`), quirks
included. The JSON round trip leaves one more mark: a raw U+0085 inside a JSON string is a line
break to goyaml.v2's reader, which folds it like any break in a double-quoted scalar.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Final

from homeops.core.gocompat import goyaml_v2, kyaml
from homeops.core.gocompat.goyaml_emitter import DOUBLE, LITERAL, PLAIN, emit_document

GOYAML_WIDTH: Final = 80
"""goyaml.v2's ``best_width``: plain and quoted scalars fold at this column."""

_BASE60_FLOAT: Final = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_NEL_RUN: Final = re.compile(" *\x85(?: *\x85)* *")


# goyaml.v2 keyList order


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


def _key_order(keys: Iterable[str]) -> list[str]:
    """``keys`` in goyaml.v2's order. Without digits it is rune order with letters after every other
    rune, which a plain sort key gives; with digits, the whole comparison."""
    keys = list(keys)
    if any(ch.isdecimal() for key in keys for ch in key):
        return sorted(keys, key=_KEY_ORDER)
    return sorted(keys, key=_letters_last)


@lru_cache(maxsize=65536)
def _letters_last(key: str) -> tuple[int, ...]:
    return tuple(ord(ch) | (0x200000 if ch.isalpha() else 0) for ch in key)


@lru_cache(maxsize=65536)
def _string(text: str) -> tuple[str, str]:
    """A string as goyaml.v2 reads it back from the JSON (a raw U+0085 folded), and the style its
    encoder asks for: literal with a line break, plain if it reads back as this string, else
    double-quoted (the emitter may still choose single or double quotes)."""
    if "\x85" in text:
        text = _NEL_RUN.sub(
            lambda m: " " if m.group().count("\x85") == 1 else "\n" * (m.group().count("\x85") - 1), text
        )
    if "\n" in text:
        return text, LITERAL
    if goyaml_v2.plain_tag(text) == goyaml_v2.STR and not _BASE60_FLOAT.fullmatch(text):
        return text, PLAIN
    return text, DOUBLE


def _scalar(value: Any) -> tuple[str, str]:
    """A scalar's text and requested style: a non-string as JSON writes it and goyaml.v2 writes it
    back (an integral float is an integer once it has been through JSON)."""
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null", PLAIN
    if value is True:
        return "true", PLAIN
    if value is False:
        return "false", PLAIN
    if isinstance(value, int | float):
        # JSON writes an integral number as digits below 1e21; goyaml.v2 reads digits back as an
        # int64 or a uint64 when they fit, else as a float64 (and writes that with 'g')
        if isinstance(value, int) or (value.is_integer() and abs(value) < 1e21):
            number = int(value)
            if -(2**63) <= number < 2**64:
                return str(number), PLAIN
        return goyaml_v2.format_float(float(value)), PLAIN
    raise TypeError(f"cannot write a {type(value).__name__} as YAML")


def _items(mapping: dict[Any, Any]) -> list[tuple[str, Any]]:
    """A mapping's entries with their keys as the JSON strings goyaml.v2 reads, in its key order."""
    items = {
        _string(key if isinstance(key, str) else kyaml.scalar_value(key))[0]: v for key, v in mapping.items()
    }
    return [(key, items[key]) for key in _key_order(items)]


def dump(obj: Any, *, width: int = GOYAML_WIDTH) -> str:
    """One object as ``kustomize build`` prints it (sigs.k8s.io/yaml ``JSONToYAML``). ``width=0``
    folds nothing (kyaml's yaml.v3 encoder, which kustomize uses for text it keeps internally)."""
    return emit_document(obj, _scalar, _items, width)


def dump_all(objs: Iterable[Any]) -> str:
    """A multi-document stream separated by ``---``, as ``kustomize build`` prints it."""
    return "---\n".join(dump(obj) for obj in objs)
