"""The YAML emitter: the ONE place objects become YAML text, in the two dialects homeops prints:
what kustomize prints (:func:`dump`, :func:`dump_all`) and what people write in a repository
(:func:`dump_handwritten`, :func:`scalar`, at the end of this module).

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
import json
import math
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Final

from homeops.core import cache
from homeops.core.gocompat import goyaml_v2, kyaml
from homeops.core.gocompat.goyaml_emitter import DOUBLE, LITERAL, PLAIN, emit_document
from homeops.core.regex import lazy_pattern
from homeops.core.yamlio import STR, resolve_plain

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


def _key_order(keys: Iterable[str]) -> tuple[str, ...]:
    """``keys`` in goyaml.v2's order."""
    return _sorted_keys(tuple(keys))


@lru_cache(maxsize=16384)
def _sorted_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """Without digits it is rune order with letters after every other rune, which a plain sort key
    gives; with digits, the whole comparison. Kept per key set: most mappings of a render share a few
    (``metadata``, ``labels``, container fields)."""
    if any(ch.isdecimal() for key in keys for ch in key):
        return tuple(sorted(keys, key=_KEY_ORDER))
    return tuple(sorted(keys, key=_letters_last))


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


_UNREADABLE: Final = lazy_pattern("[\x7f-\x84\x86-\x9f\ufffe\uffff\ud800-\udfff]")


def unreadable(obj: Any) -> str | None:
    """A string of ``obj`` that goyaml.v2's reader refuses once JSON holds it (DEL, C1 controls other
    than U+0085, U+FFFE/U+FFFF, lone surrogates): ``JSONToYAML`` fails on it, and so does
    ``kustomize build`` ("yaml: control characters are not allowed"). None when every string reads."""
    if isinstance(obj, str):
        return obj if _UNREADABLE().search(obj) else None
    if isinstance(obj, dict):
        for key, value in obj.items():
            found = unreadable(key) or unreadable(value)
            if found is not None:
                return found
    elif isinstance(obj, list | tuple):
        for value in obj:
            found = unreadable(value)
            if found is not None:
                return found
    return None


def dump_all(objs: Iterable[Any]) -> str:
    """A multi-document stream separated by ``---``, as ``kustomize build`` prints it."""
    return "---\n".join(dump(obj) for obj in objs)


def dump_all_kept(objs: Iterable[Any]) -> str:
    """:func:`dump_all`, each document's text kept across runs in the persistent cache under a digest
    of its object pickled (exact types, keys in order, provenance: the same object, the same text), so
    a command printing kept renders does not write them out again. Without the cache, :func:`dump_all`."""
    store = cache.pack("render", "emitted", 64 * 1024 * 1024)
    if store is None:
        return dump_all(objs)
    import pickle  # start-up: only when printing with the cache on

    texts = []
    for obj in objs:
        key = cache.digest(b"emitted", pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))
        kept = store.get(key)
        if kept is None:
            text = dump(obj)
            store.put(key, text.encode("utf-8", "surrogatepass"))
        else:
            text = kept.decode("utf-8", "surrogatepass")
        texts.append(text)
    return "---\n".join(texts)


# ----------------------------------------------------------------------------------------------
# The hand-written dialect: files homeops writes into a repository (migrate, new app) look like the
# files people write: keys in the order given, sequences indented under their key, a scalar plain
# whenever goyaml.v3 and YAML 1.1 readers read it back as the same value, else double-quoted (JSON's
# escapes), multi-line strings as literal blocks, no folding.

_NEEDS_QUOTES_11 = lazy_pattern(
    r"""^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
        |~|null|Null|NULL|<<
        |[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
        |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?0b[01_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0o[0-7_]+
        |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
        |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*)$""",
    re.X,
)


_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_SAFE_PLAIN = lazy_pattern(r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]*$")


@lru_cache(maxsize=65536)
def _plain_ok(text: str) -> bool:
    """Can ``text`` be written unquoted and read back as the same string (by us and by YAML 1.1 readers)?"""
    if not text or text[0] in _INDICATORS or text[0] == " " or text[-1] in " :":
        return False
    if ": " in text or " #" in text or "\t" in text or not _SAFE_PLAIN().fullmatch(text):
        return False
    if text[0] in "-?:" and len(text) > 1 and text[1] == " ":
        return False
    if _NEEDS_QUOTES_11().match(text) or resolve_plain(text) != STR:
        return False
    if text == "=":  # YAML 1.1's value key (tag:yaml.org,2002:value): PyYAML cannot read it plain
        return False
    return not text.startswith(("---", "..."))


_NON_PRINTABLE_ASCII = re.compile("[^\x09\x0a\x0d\x20-\x7e]")
"""What :func:`_non_printable` matches in ASCII text."""


_non_printable = lazy_pattern(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)
"""Characters YAML does not allow raw (its Unicode ranges take milliseconds to compile)."""


def double_quoted(text: str) -> str:
    """A double-quoted scalar; JSON's escapes are valid YAML escapes, and no raw non-printable is left."""
    return (_NON_PRINTABLE_ASCII if text.isascii() else _non_printable()).sub(
        lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) < 0x10000 else f"\\U{ord(m.group()):08x}",
        json.dumps(text, ensure_ascii=False),
    )


def _literal_ok(text: str) -> bool:
    if not _SAFE_PLAIN().fullmatch(text.replace("\n", "").replace("\t", "")):
        return False
    lines = text.split("\n")
    # trailing spaces and leading blank lines with spaces do not survive editors and some readers
    return all(not line.endswith((" ", "\t")) for line in lines) and not text.startswith("\n")


_USUAL: Final = lazy_pattern(r"[A-Za-z0-9_./+-][A-Za-z0-9_./@:+-]*")
"""The strings ``quote_unusual`` may leave plain: letters, digits and ``_./@:+-`` (no ``@``/``:`` first)."""


def scalar(value: Any, *, quote_unusual: bool = False) -> str:
    """A scalar's YAML text as :func:`dump_handwritten` writes it: plain when every reader reads it
    back as the same value, else double-quoted.

    ``quote_unusual`` also quotes every string with another character (``a b``, ``${APP}``,
    ``é``): the style of the files ``init`` and ``new app`` generate, where a version or a name is
    plain and prose or a substitution variable stands out as a string."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (math.inf, -math.inf):
            return ".inf" if value > 0 else "-.inf"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        text = repr(value)
        if "e" in text and "." not in text:
            mantissa, _, exponent = text.partition("e")
            text = f"{mantissa}.0e{exponent}"  # YAML 1.1 readers need the dot to see a float
        return text
    text = str(value)
    if quote_unusual and not _USUAL().fullmatch(text):
        return double_quoted(text)
    return text if _plain_ok(text) else double_quoted(text)


def _key(key: Any) -> str:
    text = key if isinstance(key, str) else kyaml.scalar_value(key)
    return text if _plain_ok(text) else double_quoted(text)


def _emit(value: Any, indent: str, out: list[str]) -> None:
    """Append the block form of a mapping or sequence; scalars are handled by the caller."""
    if isinstance(value, dict):
        for key in value:
            _emit_value(f"{indent}{_key(key)}:", value[key], indent, out, True)
    else:
        for item in value:
            _emit_value(f"{indent}-", item, indent, out, False)


def _emit_value(head: str, item: Any, indent: str, out: list[str], in_map: bool) -> None:
    if isinstance(item, dict | list):
        if not item:
            out.append(f"{head} {{}}\n" if isinstance(item, dict) else f"{head} []\n")
        elif in_map:
            out.append(head + "\n")
            _emit(item, indent + "  ", out)
        else:  # a collection in a sequence starts on the line of its dash
            inner: list[str] = []
            _emit(item, indent + "  ", inner)
            out.append(f"{head} {inner[0][len(indent) + 2 :]}")
            out.extend(inner[1:])
    elif isinstance(item, str) and "\n" in item and _literal_ok(item):
        body_indent = indent + "  "
        stripped = item.rstrip("\n")
        trailing = len(item) - len(stripped)
        chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
        indicator = "2" if stripped[:1] == " " else ""
        out.append(f"{head} |{indicator}{chomp}\n")
        for line in stripped.split("\n"):
            out.append(f"{body_indent}{line}\n" if line else "\n")
        if chomp == "+":
            out.append("\n" * (trailing - 1))
    else:
        out.append(f"{head} {scalar(item)}\n")


def dump_handwritten(obj: Any, *, indent: str = "") -> str:
    """One mapping or sequence in the hand-written dialect, every line prefixed with ``indent``."""
    if isinstance(obj, (dict, list)) and obj:
        out: list[str] = []
        _emit(obj, indent, out)
        return "".join(out)
    if isinstance(obj, dict):
        return indent + "{}\n"
    if isinstance(obj, list):
        return indent + "[]\n"
    return indent + scalar(obj) + "\n"
