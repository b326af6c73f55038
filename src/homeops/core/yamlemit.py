"""The YAML emitter: the ONE place objects become YAML text, in the dialects homeops must print.

* :func:`dump`/:func:`dump_all` — what ``kustomize build`` prints, read as data (sigs.k8s.io/yaml's
  layout: block style, block sequences not indented under their key, multi-line strings as literal
  blocks, keys sorted), quoting whatever a go-yaml v3 or YAML 1.1 reader would not read back as the
  same string. ``sort_keys=False, indent_sequences=True`` gives the layout of hand-written repository
  files (keys in insertion order, sequences indented under their key).
* :func:`dump_goyaml_v2` — the exact text sigs.k8s.io/yaml ``JSONToYAML`` (goyaml.v2 ``Marshal``)
  writes for an object, which Flux runs envsubst over: goyaml.v2's key order, its quoting rule (quote
  what would not read back as a string), folding at 80 columns. goyaml.v2 is a Go port of libyaml's
  emitter; the same C emitter (through PyYAML) lays the text out, with goyaml.v2's choices on top.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Final

import yaml

from homeops.core.gocompat import goyaml_v2, kyaml
from homeops.core.yamlio import STR, resolve_plain

try:  # libyaml's emitter, which goyaml.v2 ports
    from yaml.cyaml import CSafeDumper as _YamlDumper
except ImportError:  # pragma: no cover - libyaml missing
    from yaml.dumper import SafeDumper as _YamlDumper  # type: ignore[assignment]


_NEEDS_QUOTES_11 = re.compile(
    r"""^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
        |~|null|Null|NULL|<<
        |[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
        |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?0b[01_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0o[0-7_]+
        |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
        |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*)$""",
    re.X,
)


_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_SAFE_PLAIN = re.compile(r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]*$")


@lru_cache(maxsize=65536)
def _plain_ok(text: str) -> bool:
    """Can ``text`` be written unquoted and read back as the same string (by us and by YAML 1.1 readers)?"""
    if not text or text[0] in _INDICATORS or text[0] == " " or text[-1] in " :":
        return False
    if ": " in text or " #" in text or "\t" in text or not _SAFE_PLAIN.fullmatch(text):
        return False
    if text[0] in "-?:" and len(text) > 1 and text[1] == " ":
        return False
    if _NEEDS_QUOTES_11.match(text) or resolve_plain(text) != STR:
        return False
    return not text.startswith(("---", "..."))


_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


def _quoted(text: str) -> str:
    """A double-quoted scalar; JSON's escapes are valid YAML escapes, and no raw non-printable is left."""
    return _NON_PRINTABLE.sub(
        lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) < 0x10000 else f"\\U{ord(m.group()):08x}",
        json.dumps(text, ensure_ascii=False),
    )


def _literal_ok(text: str) -> bool:
    if not _SAFE_PLAIN.fullmatch(text.replace("\n", "").replace("\t", "")):
        return False
    lines = text.split("\n")
    # trailing spaces and leading blank lines with spaces do not survive editors and some readers
    return all(not line.endswith((" ", "\t")) for line in lines) and not text.startswith("\n")


def scalar(value: Any) -> str:
    """A scalar's YAML text as :func:`dump` writes it: plain when every reader reads it back as the
    same value, else double-quoted."""
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
    return text if _plain_ok(text) else _quoted(text)


def _key(key: Any) -> str:
    text = key if isinstance(key, str) else kyaml.scalar_value(key)
    return text if _plain_ok(text) else _quoted(text)


def _emit(value: Any, indent: str, out: list[str], sort_keys: bool, seq_indent: str) -> None:
    """Append the block form of a mapping or sequence; scalars are handled by the caller."""
    if isinstance(value, dict):
        for key in sorted(value, key=str) if sort_keys else value:
            head = f"{indent}{_key(key)}:"
            _emit_value(head, value[key], indent, out, True, sort_keys, seq_indent)
    else:
        for item in value:
            _emit_value(f"{indent}-", item, indent, out, False, sort_keys, seq_indent)


def _emit_value(
    head: str, item: Any, indent: str, out: list[str], in_map: bool, sort_keys: bool, seq_indent: str
) -> None:
    if isinstance(item, dict | list):
        if not item:
            out.append(f"{head} {{}}\n" if isinstance(item, dict) else f"{head} []\n")
        elif in_map:
            out.append(head + "\n")
            nested = indent + ("  " if isinstance(item, dict) else seq_indent)
            _emit(item, nested, out, sort_keys, seq_indent)
        else:  # a collection in a sequence starts on the line of its dash
            inner: list[str] = []
            _emit(item, indent + "  ", inner, sort_keys, seq_indent)
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


def dump(obj: Any, *, sort_keys: bool = True, indent_sequences: bool = False, indent: str = "") -> str:
    """One object as YAML text, the way kustomize prints it (sorted keys, block style); every line
    is prefixed with ``indent`` (to nest the text in a document being written)."""
    if isinstance(obj, (dict, list)) and obj:
        out: list[str] = []
        _emit(obj, indent, out, sort_keys, "  " if indent_sequences else "")
        return "".join(out)
    if isinstance(obj, dict):
        return indent + "{}\n"
    if isinstance(obj, list):
        return indent + "[]\n"
    return indent + scalar(obj) + "\n"


def dump_all(objs: Iterable[Any]) -> str:
    """A multi-document stream separated by ``---``, as ``kustomize build`` prints it."""
    return "---\n".join(dump(obj) for obj in objs)


# ----------------------------------------------------------------------------------------------
# goyaml.v2 Marshal of an object's JSON (sigs.k8s.io/yaml JSONToYAML)

_BASE60_FLOAT: Final = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


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
            return goyaml_v2.plain_tag(value) if implicit[0] else goyaml_v2.STR
        return "tag:yaml.org,2002:seq" if kind is yaml.SequenceNode else "tag:yaml.org,2002:map"


def _represent_str(dumper: _AsYAMLDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        style: str | None = "|"
    elif goyaml_v2.plain_tag(data) == goyaml_v2.STR and not _BASE60_FLOAT.fullmatch(data):
        style = None  # plain, unless the emitter finds it unsafe
    else:
        style = '"'
    return dumper.represent_scalar(goyaml_v2.STR, data, style=style)


def _represent_map(dumper: _AsYAMLDumper, data: Mapping[Any, Any]) -> yaml.MappingNode:
    items = {kyaml.scalar_value(k): v for k, v in data.items()}
    return dumper.represent_mapping(
        "tag:yaml.org,2002:map", [(k, items[k]) for k in sorted(items, key=_KEY_ORDER)]
    )


def _represent_int(dumper: _AsYAMLDumper, data: int) -> yaml.ScalarNode:
    return dumper.represent_scalar(goyaml_v2.INT, str(data))


def _represent_float(dumper: _AsYAMLDumper, data: float) -> yaml.ScalarNode:
    """JSON prints an integral float as an integer, which goyaml.v2 then reads as an int."""
    if data.is_integer() and abs(data) < 1e21:
        return dumper.represent_scalar(goyaml_v2.INT, str(int(data)))
    return dumper.represent_scalar(goyaml_v2.FLOAT, goyaml_v2.format_float(data))


def _represent_bool(dumper: _AsYAMLDumper, data: bool) -> yaml.ScalarNode:
    return dumper.represent_scalar(goyaml_v2.BOOL, "true" if data else "false")


def _represent_none(dumper: _AsYAMLDumper, data: None) -> yaml.ScalarNode:
    return dumper.represent_scalar(goyaml_v2.NULL, "null")


_AsYAMLDumper.add_representer(str, _represent_str)
_AsYAMLDumper.add_representer(dict, _represent_map)
_AsYAMLDumper.add_multi_representer(dict, _represent_map)
_AsYAMLDumper.add_representer(bool, _represent_bool)
_AsYAMLDumper.add_representer(int, _represent_int)
_AsYAMLDumper.add_representer(float, _represent_float)
_AsYAMLDumper.add_representer(type(None), _represent_none)


def dump_goyaml_v2(obj: Mapping[str, Any]) -> str:
    """The text sigs.k8s.io/yaml ``JSONToYAML`` writes for ``obj`` (what kustomize-controller runs
    envsubst over)."""
    return yaml.dump(
        obj, Dumper=_AsYAMLDumper, default_flow_style=False, allow_unicode=True, width=80, sort_keys=False
    )
