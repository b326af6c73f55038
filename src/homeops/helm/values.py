"""Helm values: coalescing with chart defaults, ``valuesFrom`` and ``--set``-style paths.

Flux's helm-controller builds a release's values by deep-merging each ``valuesFrom`` source in
order and ``spec.values`` last; Helm then coalesces the result with the chart's ``values.yaml``,
where ``null`` removes a default. Lists are never merged, only replaced.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from homeops.core import yamlio
from homeops.core.errors import HomeopsError
from homeops.core.gocompat import strconv
from homeops.core.shape import as_map


class ValuesError(HomeopsError):
    """Values that helm-controller would fail on (missing source, bad YAML, bad targetPath)."""


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Flux's ``MergeMaps``: maps merge recursively, anything else (``null`` too) replaces."""
    result = _copy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = _copy(value)
    return result


def coalesce(user: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's ``CoalesceValues``: user values win, ``null`` deletes a default, tables merge."""
    result = _copy(user)
    for key, default in defaults.items():
        if key in result:
            value = result[key]
            if value is None:
                del result[key]
            elif isinstance(value, Mapping) and isinstance(default, Mapping):
                result[key] = coalesce(value, default)
            # a table over a scalar (or the reverse) keeps the user's value, as Helm does with a warning
        else:
            result[key] = _copy(default)
    return result


def merge_values(
    chart_defaults: Mapping[str, Any] | None, *layers: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The values a release renders with: ``layers`` deep-merged in order, then coalesced with defaults."""
    user: dict[str, Any] = {}
    for layer in layers:
        if layer:
            user = deep_merge(user, layer)
    return coalesce(user, chart_defaults or {})


# ----------------------------------------------------------------------------------------------
# strvals: the parser behind `helm --set` and Flux's valuesFrom[].targetPath


def _typed(value: str) -> Any:
    """``strvals.typedVal``: true/false, null, and integers without a leading zero."""
    if value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    if value.lower() == "null":
        return None
    if value == "0":
        return 0
    number = strconv.parse_int(value, 10) if value and value[0] != "0" else None
    return value if number is None else number


class _StrvalsParser:
    """A port of the subset of Helm's ``strvals`` that ``--set`` users rely on."""

    def __init__(self, text: str, typed: bool):
        self.text = text
        self.pos = 0
        self.typed = typed

    def error(self, what: str) -> ValuesError:
        return ValuesError(
            f"cannot parse {self.text!r}: {what}", None, None, "use a.b.c=value, list[0]=value or {a,b}"
        )

    def read_until(self, stops: str) -> tuple[str, str | None]:
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\" and self.pos < len(self.text):
                out.append(self.text[self.pos])
                self.pos += 1
                continue
            if char in stops:
                return "".join(out), char
            out.append(char)
        return "".join(out), None

    def value(self, raw: str) -> Any:
        return _typed(raw) if self.typed else raw

    def parse(self, data: dict[str, Any]) -> None:
        while self.pos < len(self.text):
            self.key(data)

    def key(self, data: dict[str, Any]) -> None:
        key, stop = self.read_until("=[,.")
        if stop is None:
            if key:
                raise self.error(f"key {key!r} has no value")
            return
        if stop == ",":
            raise self.error(f"key {key!r} has no value (cannot end with ,)")
        if not key and stop != "[":
            raise self.error("empty key")
        if stop == "=":
            self.assign(data, key)
        elif stop == ".":
            child = data.get(key)
            if not isinstance(child, dict):
                child = {}
            data[key] = child
            self.key(child)
        elif stop == "[":
            index = self.index()
            current = data.get(key)
            items = current if isinstance(current, list) else []
            data[key] = self.list_item(items, index)

    def index(self) -> int:
        raw, stop = self.read_until("]")
        if stop != "]" or not raw.strip().isdigit():
            raise self.error(f"bad list index {raw!r}")
        index = int(raw)
        if index > 65536:
            raise self.error(f"list index {index} is too large")
        return index

    def list_item(self, items: list[Any], index: int) -> list[Any]:
        while len(items) <= index:
            items.append(None)
        if self.pos >= len(self.text):
            raise self.error("list index without a value")
        char = self.text[self.pos]
        self.pos += 1
        if char == "=":
            if self.pos < len(self.text) and self.text[self.pos] == "{":
                items[index] = self.braced()
            else:
                raw, _ = self.read_until(",")
                items[index] = self.value(raw)
        elif char == ".":
            child = items[index] if isinstance(items[index], dict) else {}
            items[index] = child
            self.key(child)
        elif char == "[":
            inner = items[index] if isinstance(items[index], list) else []
            items[index] = self.list_item(inner, self.index())
        else:
            raise self.error(f"unexpected {char!r} after a list index")
        return items

    def braced(self) -> list[Any]:
        self.pos += 1  # "{"
        raw, stop = self.read_until("}")
        if stop != "}":
            raise self.error("list not closed with }")
        if self.pos < len(self.text):
            if self.text[self.pos] != ",":
                raise self.error("expected , after }")
            self.pos += 1
        return [self.value(part) for part in raw.split(",")] if raw else []

    def assign(self, data: dict[str, Any], key: str) -> None:
        if self.pos < len(self.text) and self.text[self.pos] == "{":
            data[key] = self.braced()
            return
        raw, _ = self.read_until(",")
        data[key] = self.value(raw)


def set_path(values: dict[str, Any], path: str, value: str) -> dict[str, Any]:
    """Flux's ``ReplacePathValue``: a quoted value is a string, else typed as ``--set`` types it."""
    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
    if quoted:
        value = value.strip("'\"")
    _StrvalsParser(f"{path.strip()}={value}", typed=not quoted).parse(values)
    return values


def parse_set(text: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """``helm --set a.b=1,c={x,y}`` into ``values``."""
    data = values if values is not None else {}
    _StrvalsParser(text, typed=True).parse(data)
    return data


# ----------------------------------------------------------------------------------------------
# valuesFrom


def _lookup(
    objects: Mapping[Any, Mapping[str, Any]], kind: str, name: str, namespace: str | None
) -> Mapping[str, Any] | None:
    if namespace is not None and (kind, namespace, name) in objects:
        return objects[(kind, namespace, name)]
    return objects.get((kind, name))


def _data_of(obj: Mapping[str, Any], kind: str, key: str, label: str) -> str | None:
    if kind == "Secret":
        string_data = as_map(obj.get("stringData"))
        if key in string_data:
            return str(string_data[key])
        data = as_map(obj.get("data"))
        if key not in data:
            return None
        try:
            return base64.b64decode(str(data[key]), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ValuesError(f"{label}: key {key!r} is not valid base64 UTF-8 text") from None
    data = as_map(obj.get("data"))
    if key in data:
        return str(data[key])
    binary = as_map(obj.get("binaryData"))
    if key in binary:
        try:
            return base64.b64decode(str(binary[key])).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ValuesError(f"{label}: binaryData key {key!r} is not valid base64 UTF-8 text") from None
    return None


def values_from(
    specs: Sequence[Mapping[str, Any]] | None,
    objects_by_kind_name: Mapping[Any, Mapping[str, Any]],
    *,
    namespace: str | None = None,
    file: str | None = None,
    line: int | None = None,
) -> dict[str, Any]:
    """The values of a HelmRelease's ``valuesFrom``, in order, as helm-controller composes them.

    ``objects_by_kind_name`` maps ``(kind, name)`` or ``(kind, namespace, name)`` to ConfigMap and
    Secret objects. A missing object or key is an error unless the reference is ``optional``.
    """
    result: dict[str, Any] = {}
    for spec in specs or []:
        kind = str(spec.get("kind") or "")
        name = str(spec.get("name") or "")
        key = str(spec.get("valuesKey") or "values.yaml")
        optional = bool(spec.get("optional", False))
        target = str(spec.get("targetPath") or "")
        where_file = getattr(spec, "file", None) or file
        where_line = (spec.line if isinstance(spec, yamlio.YMap) and spec.line else None) or line
        if kind not in ("ConfigMap", "Secret"):
            raise ValuesError(
                f"valuesFrom kind must be ConfigMap or Secret, got {kind!r}", where_file, where_line
            )
        label = f"{kind} {namespace + '/' if namespace else ''}{name}"
        obj = _lookup(objects_by_kind_name, kind, name, namespace)
        if obj is None:
            if optional:
                continue
            raise ValuesError(
                f"could not find {label} referenced in valuesFrom",
                where_file,
                where_line,
                "add it, mark the reference optional: true, or supply it from the cluster",
            )
        text = _data_of(obj, kind, key, label)
        if text is None:
            if optional:
                continue
            raise ValuesError(
                f"missing key {key!r} in {label}", where_file, where_line, "fix valuesKey or the object"
            )
        if target:
            set_path(result, target, text)
            continue
        try:
            loaded = yamlio.load_one(text, f"{label}:{key}")
        except HomeopsError as exc:
            raise ValuesError(
                f"{label} key {key!r} is not valid YAML: {exc.what}", where_file, where_line
            ) from None
        if loaded is None:
            continue
        if not isinstance(loaded, Mapping):
            raise ValuesError(f"{label} key {key!r} is not a YAML mapping", where_file, where_line)
        result = deep_merge(result, loaded)
    return result
