"""RFC 6902 JSON patches as kustomize v5 applies them (gopkg.in/evanphx/json-patch.v4, v4.12.0).

kustomize turns the resource into JSON, runs the operations, and reads the JSON back, so the library's
own rules are what rendering must match, including where they differ from the RFC:

* ``replace`` of a missing map key adds it (only a missing list index is an error);
* negative list indexes count from the end (``-1`` is the last element; for ``add`` it appends);
* ``add`` or ``replace`` without ``value`` sets null; ``copy`` from a missing map key copies null;
* a path that does not start with ``/`` has its first segment ignored (``a/b`` means ``/b``).

The JSON round trip turns every number into a float64 and back, so integral floats become integers
(``1.0`` -> ``1``) and integers beyond 2**53 lose precision, in the whole document, as in kustomize.

Operations given as YAML are typed the way kustomize types them: with YAML 1.1 rules (``yes``/``on``
are true, ``0644`` is octal). :func:`load_json6902` does that; hand
:func:`apply_json6902` operations loaded any other way only if they are already correctly typed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from homeops.core.errors import KustomizeError
from homeops.core.yamlio import deep_copy

__all__ = ["apply_json6902", "load_json6902"]

_INDEX = re.compile(r"^[+-]?[0-9]+$")  # what Go's strconv.Atoi accepts
_ESCAPE = re.compile(r"~[01]")


class _Op:
    """One operation, read the way json-patch reads it: fields are looked at only when needed."""

    def __init__(self, number: int, raw: Mapping[str, Any]):
        self.number = number
        self.raw = raw
        op = raw.get("op")
        self.kind = op if isinstance(op, str) else "unknown"

    def describe(self) -> str:
        path = self.raw.get("path")
        where = f" {path}" if isinstance(path, str) else ""
        return f"JSON patch operation {self.number} ({self.kind}{where})"

    def error(self, what: str, hint: str | None = None) -> KustomizeError:
        return KustomizeError(f"{self.describe()}: {what}", hint=hint)

    def string(self, field: str) -> str:
        value = self.raw.get(field)
        if value is None:
            raise self.error(f"{self.kind} operation is missing its {field!r} field")
        if not isinstance(value, str):
            raise self.error(f"{field!r} must be a string, not {type(value).__name__}")
        return value

    def has_value(self) -> bool:
        return "value" in self.raw

    def value(self) -> Any:
        """A fresh copy of ``value`` (null when absent, as json-patch inserts a nil node)."""
        return deep_copy(self.raw.get("value"))


def _decode(token: str) -> str:
    """RFC 6901 unescaping in one pass, like Go's strings.Replacer: ``~1`` -> ``/``, ``~0`` -> ``~``."""
    return _ESCAPE.sub(lambda m: "/" if m.group() == "~1" else "~", token)


def _index(token: str) -> int | None:
    return int(token) if _INDEX.match(token) else None


def _container(doc: Any, path: str) -> tuple[dict[str, Any] | list[Any], str] | None:
    """json-patch ``findObject``: the map or list holding the last segment of ``path``, and that key."""
    parts = path.split("/")
    if len(parts) < 2:
        return None
    current = doc
    for part in parts[1:-1]:
        key = _decode(part)
        if isinstance(current, dict):
            current = current.get(key)
        else:
            idx = _index(key)
            if idx is None or not -len(current) <= idx < len(current):
                return None
            current = current[idx]
        if not isinstance(current, dict | list):
            return None  # null, missing or a scalar: nothing to descend into
    return current, _decode(parts[-1])


def _list_index(seq: list[Any], key: str, op: _Op, size: int) -> int:
    idx = _index(key)
    if idx is None:
        raise op.error(f"{key!r} is not a list index", "use a number, or - to append")
    if idx >= size or idx < -size:
        raise op.error(f"list index {idx} is out of range (the list has {len(seq)} elements)")
    return idx + size if idx < 0 else idx


def _get(container: dict[str, Any] | list[Any], key: str, op: _Op) -> Any:
    if isinstance(container, dict):
        return container.get(key)  # json-patch gets nil for a missing key, no error
    return container[_list_index(container, key, op, len(container))]


def _add(container: dict[str, Any] | list[Any], key: str, value: Any, op: _Op) -> None:
    if isinstance(container, dict):
        container[key] = value
    elif key == "-":
        container.append(value)
    else:
        container.insert(_list_index(container, key, op, len(container) + 1), value)


def _remove(container: dict[str, Any] | list[Any], key: str, op: _Op) -> None:
    if isinstance(container, dict):
        if key not in container:
            raise op.error(f"cannot remove {key!r}: the key does not exist")
        del container[key]
    else:
        del container[_list_index(container, key, op, len(container))]


def _find(doc: Any, path: str, op: _Op, what: str = "path") -> tuple[dict[str, Any] | list[Any], str]:
    found = _container(doc, path)
    if found is None:
        raise op.error(
            f"{op.kind} operation does not apply: doc is missing {what} {path!r}",
            "every parent of the target must exist in the resource",
        )
    return found


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _apply_one(doc: Any, op: _Op) -> Any:
    if op.kind == "add":
        container, key = _find(doc, op.string("path"), op)
        _add(container, key, op.value(), op)
    elif op.kind == "remove":
        container, key = _find(doc, op.string("path"), op)
        _remove(container, key, op)
    elif op.kind == "replace":
        path = op.string("path")
        if path == "":
            value = op.value()
            if not isinstance(value, dict | list):
                raise op.error("replacing the whole document needs an object or array value")
            return value
        container, key = _find(doc, path, op)
        if isinstance(container, list):
            container[_list_index(container, key, op, len(container))] = op.value()
        else:
            container[key] = op.value()  # json-patch v4 does not check that the key exists
    elif op.kind == "move":
        container, key = _find(doc, op.string("from"), op, "from path")
        value = _get(container, key, op)
        _remove(container, key, op)
        container, key = _find(doc, op.string("path"), op, "destination path")
        _add(container, key, value, op)
    elif op.kind == "copy":
        container, key = _find(doc, op.string("from"), op, "from path")
        value = deep_copy(_get(container, key, op))
        container, key = _find(doc, op.string("path"), op, "destination path")
        _add(container, key, value, op)
    elif op.kind == "test":
        path = op.string("path")
        if path == "":
            actual = doc
        else:
            container, key = _find(doc, path, op)
            actual = _get(container, key, op)
        if not op.has_value():
            raise op.error("test operation is missing its 'value' field")
        expected = op.value()
        if actual is None or expected is None:
            same = actual is None and expected is None and path != ""
        else:
            same = _equal(actual, expected)
        if not same:
            raise op.error(f"test failed: the value at {path!r} is not {json.dumps(expected, default=str)}")
    else:
        raise op.error(f"unexpected kind: {op.kind}", "op must be add, remove, replace, move, copy or test")
    return doc


def _through_json(value: Any) -> Any:
    """What kustomize's JSON round trip leaves: numbers via float64, integral ones as integers."""
    if isinstance(value, dict):
        return {k: _through_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_through_json(v) for v in value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise KustomizeError(f"JSON patch: the resource holds {value!r}, which JSON cannot represent")
    if number.is_integer() and abs(number) < 1e21:
        return int(number)
    return number


def apply_json6902(obj: Mapping[str, Any], ops: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Apply RFC 6902 operations to a resource as kustomize does; ``obj`` is not modified.

    Raises KustomizeError naming the failing operation (numbered from 1) and why.
    """
    if not isinstance(ops, list | tuple):
        raise KustomizeError(
            "a JSON patch must be a list of operations", hint="write the operations as a list"
        )
    doc: Any = _through_json(deep_copy(obj))
    for number, raw in enumerate(ops, 1):
        if not isinstance(raw, Mapping):
            raise KustomizeError(
                f"JSON patch operation {number} is not a map",
                hint="each operation is a map with op, path and value/from",
            )
        doc = _apply_one(doc, _Op(number, raw))
    if not isinstance(doc, dict):
        raise KustomizeError("JSON patch: the patched document is not an object")
    return _through_json(doc)


# ----------------------------------------------------------------------------------------------
# Reading operations as kustomize does: JSON when the text starts with "[", else YAML read with
# go-yaml v2 (YAML 1.1) rules and converted to JSON by sigs.k8s.io/yaml.

_BOOLS_11 = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULLS_11 = frozenset(("", "~", "null", "Null", "NULL"))
_SPECIAL_11 = {".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan}
_SPECIAL_11.update(dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf))
_SPECIAL_11.update(dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf))
_GO_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")


def _go_int(text: str) -> int | None:
    """strconv.ParseInt(s, 0, 64), falling back to ParseUint, after go-yaml dropped underscores."""
    plain = text.replace("_", "")
    if not _GO_INT.match(plain):
        return None
    sign = -1 if plain.startswith("-") else 1
    digits = plain.lstrip("+-").lower()
    if digits.startswith(("0x", "0o", "0b")):
        value = int(digits[2:], {"x": 16, "o": 8, "b": 2}[digits[1]])
    elif len(digits) > 1 and digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    value *= sign
    return value if -(2**63) <= value < 2**64 else None


def _resolve_11(text: str) -> Any:
    """go-yaml v2 ``resolve`` for a plain scalar."""
    if text in _BOOLS_11:
        return _BOOLS_11[text]
    if text in _NULLS_11:
        return None
    if text in _SPECIAL_11:
        return _SPECIAL_11[text]
    if text == "<<":
        return text
    first = text[0]
    if first == ".":
        try:
            return float(text) if _GO_FLOAT.match(text) else text
        except ValueError:
            return text
    if first in "+-0123456789":
        # go-yaml v2 hands timestamps to interface{} targets as their text, so dates stay strings
        number = _go_int(text)
        if number is not None:
            return number
        plain = text.replace("_", "")
        if _GO_FLOAT.match(plain):
            return float(plain)
    return text


def _construct(node: Node) -> Any:
    if isinstance(node, ScalarNode):
        if node.tag == _PLAIN_TAG:
            return node.value if node.style else _resolve_11(node.value)  # quoted or block: a string
        if node.tag.startswith("tag:yaml.org,2002:"):
            return _explicit(node)
        return node.value  # an application tag: go-yaml keeps the text
    if isinstance(node, SequenceNode):
        return [_construct(child) for child in node.value]
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in _merged(node):
            out[_json_key(_construct(key_node))] = _construct(value_node)
        return out
    raise KustomizeError(f"unsupported YAML node {node!r}")  # pragma: no cover


_PLAIN_TAG = "tag:yaml.org,2002:plain"


def _explicit(node: ScalarNode) -> Any:
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "str":
        return node.value
    value = _resolve_11(node.value)
    if tag == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _merged(node: MappingNode) -> list[tuple[Node, Node]]:
    pairs: list[tuple[Node, Node]] = []
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == "<<" and not key_node.style:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if isinstance(source, MappingNode):
                    pairs.extend(
                        (k, v)
                        for k, v in _merged(source)
                        if not any(
                            isinstance(k2, ScalarNode) and isinstance(k, ScalarNode) and k2.value == k.value
                            for k2, _ in node.value
                        )
                    )
            continue
        pairs.append((key_node, value_node))
    return pairs


def _json_key(key: Any) -> str:
    """sigs.k8s.io/yaml's key conversion."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        if math.isnan(key):
            return ".nan"
        if math.isinf(key):
            return ".inf" if key > 0 else "-.inf"
        return f"{key:g}"
    raise KustomizeError(f"unsupported map key in JSON patch: {key!r}")


def _to_json(value: Any, source: str | None) -> Any:
    """json.Marshal of what go-yaml returned: NaN and infinities are errors, floats via float64."""
    if isinstance(value, dict):
        return {k: _to_json(v, source) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v, source) for v in value]
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise KustomizeError(f"JSON patch: {value!r} cannot be written as JSON", source)
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
    return value


class _ComposeLoader(yaml.SafeLoader):
    """Only composes nodes: untagged scalars get a marker tag and are resolved by go-yaml v2 rules."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            return _PLAIN_TAG
        return str(super().resolve(kind, value, implicit))


def load_json6902(text: str, source: str | None = None) -> list[dict[str, Any]]:
    """The operations of a JSON 6902 patch file or inline patch, typed as kustomize types them."""
    if text == "":
        raise KustomizeError("empty json patch operations", source)
    try:
        if text[0] == "[":
            ops = json.loads(text, parse_constant=_reject_constant)
        else:
            loader = _ComposeLoader(text)
            try:
                node = loader.get_node() if loader.check_node() else None  # go-yaml v2 reads one document
            finally:
                loader.dispose()
            ops = _to_json(_construct(node), source) if node is not None else None
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as exc:
        raise KustomizeError(f"unable to parse JSON patch: {exc}", source) from None
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        raise KustomizeError(
            "a JSON patch must be a list of operations",
            source,
            hint="each operation is a map with op, path and value/from",
        )
    return ops


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON value {name}")
