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
from collections.abc import Mapping, Sequence
from typing import Any

from homeops.core.errors import KustomizeError
from homeops.core.gocompat import gojson, goyaml_v2, strconv
from homeops.core.regex import lazy_pattern
from homeops.core.yamlio import deep_copy

__all__ = ["apply_json6902", "load_json6902"]

_ESCAPE = lazy_pattern(r"~[01]")


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
    return _ESCAPE().sub(lambda m: "/" if m.group() == "~1" else "~", token)


def _index(token: str) -> int | None:
    return strconv.atoi(token)


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
    try:
        return gojson.through_float64(value)
    except gojson.UnsupportedValueError as exc:
        raise KustomizeError(
            f"JSON patch: the resource holds {exc.value!r}, which JSON cannot represent"
        ) from None


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


def load_json6902(text: str, source: str | None = None) -> list[dict[str, Any]]:
    """The operations of a JSON 6902 patch file or inline patch, typed as kustomize types them."""
    if text == "":
        raise KustomizeError("empty json patch operations", source)
    try:
        if text[0] == "[":
            ops = json.loads(text, parse_constant=_reject_constant)
        else:
            ops = goyaml_v2.yaml_to_json(text)  # go-yaml v2 reads one document
    except (goyaml_v2.GoYAMLError, json.JSONDecodeError, ValueError) as exc:
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
