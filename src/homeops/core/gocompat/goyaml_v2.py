"""goyaml.v2 decoding (gopkg.in/yaml.v2 v2.4, vendored as sigs.k8s.io/yaml/goyaml.v2) and
sigs.k8s.io/yaml ``YAMLToJSON``, which Flux and kustomize read YAML with where they take text back in:
Flux re-parses every substituted object with it, kustomize reads JSON 6902 patches written as YAML.

YAML 1.1 resolution: ``yes``/``on``/``y`` are booleans, ``0777`` is octal, ``1_000`` is 1000,
timestamps stay strings in ``interface{}``, ``<<`` merges where it stands. ``YAMLToJSON`` then turns
map keys into strings (``true``, ``1``, a float key by ``FormatFloat(k, 'g', -1, 32)``) and refuses
what JSON cannot hold (NaN, infinities, collection keys). The JSON is read back into ``interface{}``
by whoever called it, so every number ends as a float64 (:func:`gojson.float64_number`).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any, Final

import yaml

from homeops.core import limits
from homeops.core.gocompat import gojson, strconv

try:  # libyaml, the parser goyaml.v2 was ported from
    from yaml._yaml import CParser as _YamlParser
except ImportError:  # pragma: no cover - libyaml missing
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _YamlParser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


STR: Final = "tag:yaml.org,2002:str"
INT: Final = "tag:yaml.org,2002:int"
FLOAT: Final = "tag:yaml.org,2002:float"
BOOL: Final = "tag:yaml.org,2002:bool"
NULL: Final = "tag:yaml.org,2002:null"
TIMESTAMP: Final = "tag:yaml.org,2002:timestamp"
BINARY: Final = "tag:yaml.org,2002:binary"
MERGE: Final = "tag:yaml.org,2002:merge"


class GoYAMLError(ValueError):
    """goyaml.v2 or YAMLToJSON refused the text (the message is Go's, or says what Go refuses)."""


_SCALARS: Final[dict[str, tuple[Any, str]]] = {
    **{s: (True, BOOL) for s in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")},
    **{
        s: (False, BOOL) for s in ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
    },
    **{s: (None, NULL) for s in ("", "~", "null", "Null", "NULL")},
    **{s: (math.nan, FLOAT) for s in (".nan", ".NaN", ".NAN")},
    **{s: (math.inf, FLOAT) for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{s: (-math.inf, FLOAT) for s in ("-.inf", "-.Inf", "-.INF")},
}
_YAML_STYLE_FLOAT: Final = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_TIMESTAMP_RE: Final = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?(?:Z|[+-]([0-9]{2}):([0-9]{2}))"
    r"| ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?)?"
)


def resolve(value: str) -> tuple[Any, str]:
    """goyaml.v2's ``resolve`` for an untagged plain scalar: the value and its tag."""
    if value in _SCALARS:
        return _SCALARS[value]
    first = value[0]
    if first == ".":
        number = strconv.parse_float(value)
        if number is not None:
            return number, FLOAT
    elif first in "+-0123456789":
        integer = strconv.yaml_int(value)
        if integer is not None:
            return integer, INT
        plain = value.replace("_", "")
        if _YAML_STYLE_FLOAT.fullmatch(plain):
            number = strconv.parse_float(plain)
            if number is not None:
                return number, FLOAT
    return value, STR  # timestamps included: goyaml.v2 hands them to interface{} as strings


def plain_tag(text: str) -> str:
    """The tag goyaml.v2's encoder expects ``text`` to be read back with when written plain
    (timestamps count: it quotes them)."""
    tag = resolve(text)[1] if text else NULL
    if tag == STR and text[:1] in "+-0123456789" and is_timestamp(text):
        return TIMESTAMP
    return tag


def is_timestamp(value: str) -> bool:
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
        return resolve(value)[0] if plain else value
    if tag in (INT, FLOAT, BOOL, NULL, TIMESTAMP):
        resolved, rtag = resolve(value)
        if tag == TIMESTAMP and rtag == STR and is_timestamp(value):
            return value  # goyaml.v2 keeps timestamps as their text in interface{}
        if rtag == tag:
            return resolved
        if tag == FLOAT and rtag == INT:
            return float(resolved)
        raise GoYAMLError(f"cannot decode {_short(rtag)} `{value}` as a {_short(tag)}")
    if tag == BINARY:
        try:
            return base64.b64decode(value, validate=True).decode("utf-8", "surrogateescape")
        except (binascii.Error, ValueError):
            raise GoYAMLError("!!binary value contains invalid base64 data") from None
    return value  # !!str, "!", unknown tags: the text


def _json_key(key: tuple[type, Any]) -> str:
    """convertToJSONableObject's key rules: str, bool, int64 and float keys become strings."""
    kind, value = key
    if kind is str:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int and strconv.INT64_MIN <= value <= strconv.INT64_MAX:
        return str(value)
    if kind is float:
        return format_float(value, 32)
    shown = "uint64" if kind is int else "<nil>" if value is None else kind.__name__
    raise GoYAMLError(f"unsupported map key of type: {shown}, key: {value!r}")


def format_float(value: float, bits: int = 64) -> str:
    """``strconv.FormatFloat(value, 'g', -1, bits)`` with go-yaml's names for infinities and NaN."""
    text = strconv.format_float(value, "g", bits)
    return {"NaN": ".nan", "+Inf": ".inf", "-Inf": "-.inf"}.get(text, text)


def _to_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {_json_key(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return gojson.float64_number(value)
        except gojson.UnsupportedValueError as exc:
            raise GoYAMLError(str(exc)) from None
    return value


def _copy(value: Any) -> Any:
    """An alias expands to a fresh copy of what its anchor holds."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
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
        self.budget = limits.current().yaml_nodes  # alias bombs: a document expands to no more

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
                raise GoYAMLError(f"unknown anchor '{event.anchor}' referenced")
            anchored, anchored_size = self.anchors[event.anchor]
            self.spend(anchored_size)
            return _copy(anchored), anchored_size
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
                and (head.implicit[0] or head.tag == MERGE)
            )
            if not isinstance(head, (yaml.ScalarEvent, yaml.AliasEvent)):
                raise GoYAMLError("invalid map key: a collection")
            key, key_size = self.node()
            value, value_size = self.node()
            size += key_size + value_size
            if merge:
                self.merge(value, out)
            else:
                if isinstance(key, (dict, list)):
                    raise GoYAMLError("invalid map key: a collection")
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
            raise GoYAMLError("map merge requires map or sequence of maps as the value")

    def spend(self, nodes: int) -> None:
        self.budget -= nodes
        if self.budget < 0:
            raise GoYAMLError("document contains excessive aliasing")


def decode(text: str) -> Any:
    """goyaml.v2 ``Unmarshal`` of the first document into ``interface{}``: maps keyed by (type, value)."""
    try:
        return _Decoder(text).document()
    except yaml.YAMLError as exc:
        raise GoYAMLError(str(exc)) from None
    except RecursionError:
        raise GoYAMLError("document nested too deeply") from None


def yaml_to_json(text: str) -> Any:
    """sigs.k8s.io/yaml ``YAMLToJSON`` read back into ``interface{}``: string keys, float64 numbers
    (integral ones as Go prints them), None for an empty document."""
    return _to_json(decode(text))


def resolve_plain_scalar(text: str) -> Any:
    """The value ``text`` written as an unquoted scalar has after goyaml.v2 and the JSON round trip."""
    return _to_json(resolve(text)[0])
