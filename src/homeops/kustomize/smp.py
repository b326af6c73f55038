"""Strategic merge patches as kustomize v5 applies them.

kustomize does not use the Kubernetes strategic-merge library: it walks the resource and the patch
with kyaml's ``merge2`` walker, driven by its built-in OpenAPI schema (Kubernetes v1.21.2). This is a
port of that walker's algorithm, quirks included, because rendering must match ``kustomize build``:

* Maps merge key by key; a ``null`` in the patch removes the key. A key that is ``null`` in the
  resource and absent from the patch stays ``null``. Nested ``null`` in added subtrees is dropped.
* ``$patch: delete`` / ``replace`` / ``merge`` on a map; ``- $patch: replace`` (or ``delete``) as an
  element of a merge-keyed list. ``$patch: replace`` on an *element* of a merge-keyed list has no
  effect (kyaml puts the unmerged original back).
* A list is merged element by element only when the schema gives it the ``merge`` strategy (see
  ``smp_schema``): elements are matched by the merge keys (``x-kubernetes-list-map-keys`` when the schema
  has them, so container ports match on ``containerPort`` *and* ``protocol``); the patch's elements
  come first, then the resource's other elements. Every other list is replaced by the patch's list.
* Custom resources have no schema, so all their lists (HelmRelease values included) are replaced
  wholesale: kustomize walks without inferring merge keys. A map nested anywhere without schema that
  carries the ``apiVersion`` and ``kind`` of a built-in type gets that type's schema.
* ``$setElementOrder/…``, ``$retainKeys`` and ``$deleteFromPrimitiveList/…`` are *not* interpreted by
  kustomize: they are merged in as ordinary keys and end up in the output. So here too.
* Changing a field's type (map, list, scalar) is an error.

Values compare the way kyaml compares YAML scalars: by their text, so ``80`` matches ``"80"``.

Two things kyaml sees that loaded data does not: a patched scalar keeps the quoting of the one it
replaces (``"1"`` patched with ``2`` gives the string ``"2"``; done here for strings that can only be
written quoted, such as ``"1"`` or ``""``), and an empty value (``key:``) is dropped by any patch
while ``key: null`` is kept (here every null of the resource is kept).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, Final

from homeops.core.errors import KustomizeError
from homeops.core.gocompat import kyaml
from homeops.core.yamlio import STR, deep_copy, resolve_plain
from homeops.kustomize.smp_schema import ListSchema, Schema, field_schema, schema_for

__all__ = ["strategic_merge"]


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_MISSING: Final = _Sentinel("MISSING")
"""A field or element that is not there (kyaml's nil node), as opposed to ``None``, a YAML null."""
_KEEP_NULL: Final = _Sentinel("KEEP_NULL")
"""A null of the resource kept because the patch did not mention it (kyaml's persistent null)."""


# ----------------------------------------------------------------------------------------------
# Scalars as kyaml sees them


def _text(value: Any) -> str:
    """The text a YAML node would hold for ``value``: kyaml matches merge keys by text."""
    return "null" if value is _KEEP_NULL else kyaml.scalar_value(value)


def _key_text(elem: Any, key: str) -> str:
    """kyaml's ``ElementValuesList`` entry: the key's text, "" when missing, null or not a scalar."""
    if not isinstance(elem, dict):
        return ""
    value = elem.get(key)
    if value is None or isinstance(value, dict | list):
        return ""
    return _text(value)


def _is_null(value: Any) -> bool:
    return value is _MISSING or value is None or value is _KEEP_NULL


def _node_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "MappingNode"
    if isinstance(value, list):
        return "SequenceNode"
    return "ScalarNode"


def _where(path: list[str]) -> str:
    return ".".join(path) if path else "the top level"


def _wrong_kind(expected: str, got: Any, path: list[str]) -> KustomizeError:
    return KustomizeError(
        f"strategic merge patch: wrong node kind at {_where(path)}: expected {expected} but got {_node_kind(got)}",
        hint="a patch cannot change a field between map, list and scalar; use $patch: replace on the parent",
    )


# ----------------------------------------------------------------------------------------------
# $patch directives


def _directive(patch: Any, path: list[str]) -> str:
    """``merge``, ``replace`` or ``delete`` for a patch node, removing the directive from it."""
    if patch is _MISSING:
        return "merge"
    if isinstance(patch, dict):
        if "$patch" not in patch:
            return "merge"
        value = _text(patch["$patch"])
        if value not in ("delete", "replace", "merge"):
            raise KustomizeError(
                f"unknown patch strategy '{value}' at {_where(path)}",
                hint="$patch must be merge, replace or delete",
            )
        del patch["$patch"]
        return value
    if isinstance(patch, list):
        # The first map element holding $patch decides, and only if $patch is its only key.
        marker = next((e for e in patch if isinstance(e, dict) and "$patch" in e), None)
        if marker is None or len(marker) > 1:
            return "merge"
        value = _text(marker["$patch"])
        if value not in ("delete", "replace", "merge"):
            raise KustomizeError(
                f"unknown patch strategy '{value}' at {_where(path)}",
                hint="$patch must be merge, replace or delete",
            )
        _element_set(patch, _MISSING, ["$patch"], [value], path)
        return value
    raise KustomizeError(
        f"no implemented strategic merge patch strategy for {_text(patch)!r} at {_where(path)}"
    )


def _directive_or_unknown(patch: Any, path: list[str]) -> str:
    """kyaml ignores directive errors where the resource has no value yet."""
    try:
        return _directive(patch, path)
    except KustomizeError:
        return "unknown"


# ----------------------------------------------------------------------------------------------
# kyaml's sequence helpers: ElementSetter, ElementMatcher, FieldMatcher


def _field_matches(elem: Any, name: str, value: str, path: list[str]) -> bool:
    """kyaml ``FieldMatcher{Name, StringValue}``: an empty value matches any value of the field."""
    if _is_null(elem):
        return False
    if name == "":
        if isinstance(elem, dict | list):
            raise _wrong_kind("ScalarNode", elem, path)
        return _text(elem) == value
    if not isinstance(elem, dict):
        raise _wrong_kind("MappingNode", elem, path)
    if name not in elem:
        return False
    return value == "" or _text(elem[name]) == value


def _element_set(seq: list[Any], element: Any, keys: list[str], values: list[str], path: list[str]) -> None:
    """kyaml ``ElementSetter``, in place: replace (or with ``_MISSING`` remove) the elements matching
    keys/values, else append. Like kyaml it also drops null and empty-map elements on the way."""
    if not keys:
        keys = [""]
    mapping_setter = keys[0] != "" and bool(values) and values[0] != ""
    kept: list[Any] = []
    found_any = False
    for elem in seq:
        if elem is None or (isinstance(elem, dict) and not elem):
            continue
        if mapping_setter and not isinstance(elem, dict):
            kept.append(elem)
            continue
        matched = False
        found = True
        for j, key in enumerate(keys):
            if j < len(values):
                matched = _field_matches(elem, key, values[j], path)
            if not matched:
                found = False
                break
        if not found:
            if values:
                kept.append(elem)
            continue
        found_any = True
        if element is not _MISSING:
            kept.append(element)
    seq[:] = kept
    if _is_null(element):
        return
    if not found_any:
        seq.append(element)


def _element_find(seq: list[Any], keys: list[str], values: list[str]) -> Any:
    """kyaml ``ElementMatcher{Keys, Values}``: the first element whose key fields have these texts."""
    if not keys or keys[0] == "":
        want = values[0] if values else ""
        return next((e for e in seq if _text(e) == want), _MISSING)
    for elem in seq:
        if not isinstance(elem, dict):
            continue
        if all(key in elem and _text(elem[key]) == value for key, value in zip(keys, values, strict=True)):
            return elem
    return _MISSING


# ----------------------------------------------------------------------------------------------
# The walker


def _resolve_schema(dest: Any, origin: Any, schema: Schema) -> Schema:
    """kyaml ``Walker.GetSchema``: the schema handed down, else the one of an embedded built-in object."""
    if schema is not None:
        return schema
    for source in (dest, origin):
        api_version, kind = _key_text(source, "apiVersion"), _key_text(source, "kind")
        if api_version and kind:
            found = schema_for(api_version, kind)
            if found is not None:
                return found
    return None


def _walk(dest: Any, origin: Any, schema: Schema, path: list[str]) -> Any:
    """Merge ``origin`` (patch) into ``dest`` (resource); returns the new value or ``_MISSING``."""
    schema = _resolve_schema(dest, origin, schema)
    first = dest if not _is_null(dest) else origin
    if _is_null(first) or isinstance(first, dict):
        for source in (dest, origin):
            if not _is_null(source) and not isinstance(source, dict):
                raise _wrong_kind("MappingNode", source, path)
        return _walk_map(dest, origin, schema, path)
    if isinstance(first, list):
        for source in (dest, origin):
            if not _is_null(source) and not isinstance(source, list):
                raise _wrong_kind("SequenceNode", source, path)
        if isinstance(schema, ListSchema):
            return _walk_merge_list(dest, origin, schema, path)
        return dest if origin is _MISSING else origin  # lists without merge strategy are replaced
    for source in (dest, origin):
        if isinstance(source, dict | list):
            raise _wrong_kind("ScalarNode", source, path)
    return dest if origin is _MISSING else origin


def _walk_map(dest: Any, origin: Any, schema: Schema, path: list[str]) -> Any:
    if _is_null(dest):
        if _directive_or_unknown(origin, path) == "delete":
            return _MISSING
        if origin is _MISSING and dest is not _MISSING:
            return _KEEP_NULL  # the resource's explicit null survives a patch that does not mention it
        merged = origin
    elif origin is None:
        return _MISSING
    else:
        directive = _directive(origin, path)
        if directive == "delete":
            return _MISSING
        merged = origin if directive == "replace" else dest
    if not isinstance(merged, dict):
        return merged  # null (removed by the caller) or _KEEP_NULL
    names = set(merged)
    if isinstance(origin, dict):
        names.update(origin)
    implicit = _IMPLICIT_NULL.get() if merged is dest else None
    for key in sorted(names):
        if (
            implicit is not None
            and merged.get(key, _MISSING) is None
            and (not isinstance(origin, dict) or key not in origin)
            and implicit(merged, key)
        ):
            # kyaml keeps a null the patch does not mention only when written out (null, ~):
            # an empty value (``key:``) is dropped
            merged.pop(key)
            continue
        value = _walk(
            merged.get(key, _MISSING),
            origin.get(key, _MISSING) if isinstance(origin, dict) else _MISSING,
            field_schema(schema, key),
            [*path, key],
        )
        if value is _MISSING or value is None:
            merged.pop(key, None)
        elif value is _KEEP_NULL:
            merged[key] = None
        else:
            old = merged.get(key)
            if isinstance(old, str) and isinstance(value, int | float) and _was_quoted(old):
                value = _text(value)  # kyaml keeps the quotes of the replaced scalar: it stays a string
            merged[key] = value
    return merged


_PLAIN_UNSAFE_START = frozenset("[]{}#&*!|>'\"%@`,")


def _was_quoted(text: str) -> bool:
    """Whether the resource must have written this string quoted (or as a block).

    kyaml gives a patched scalar the style of the one it replaces, so a number or bool patched over
    a quoted string comes out as a string. The loaded data does not say how a string was written:
    strings that could be plain (``abc``) are assumed plain.
    """
    if text == "" or "\n" in text or text != text.strip() or resolve_plain(text) != STR:
        return True
    if text[0] in _PLAIN_UNSAFE_START or text[:2] in ("- ", "? ", ": ") or text in ("-", "?", ":"):
        return True
    return ": " in text or " #" in text or text.endswith(":")


def _walk_merge_list(dest: Any, origin: Any, schema: ListSchema, path: list[str]) -> Any:
    if _is_null(dest):
        merged = origin
    elif origin is None:
        return _MISSING
    else:
        directive = _directive(origin, path)
        if directive == "delete":
            return _MISSING
        merged = origin if directive == "replace" else dest
    if _is_null(merged):
        return _MISSING
    patch = origin if isinstance(origin, list) else None
    keys = list(schema.keys)
    if keys:
        if (
            _FAST_PATH
            and len(keys) == 1
            and _plain_keyed(merged, keys[0])
            and (patch is None or _plain_keyed(patch, keys[0]))
        ):
            return _merge_keyed_fast(merged, patch, keys[0], schema.elem, path)
        values = _element_values(merged, patch, keys)
    else:
        values = []
    if values or keys:
        return _merge_elements(values, keys, merged, patch, schema.elem, path)
    return _merge_elements(_primitive_values(merged, patch), [""], merged, patch, schema.elem, path)


def _element_values(dest: list[Any], patch: list[Any] | None, keys: list[str]) -> list[list[str]]:
    """Key texts of every element, patch first (kustomize prepends patch elements), without repeats."""
    out: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for source in (patch, dest):
        if source is None:
            continue
        for elem in source:
            values = [_key_text(elem, key) for key in keys]
            if tuple(values) not in seen:
                seen.add(tuple(values))
                out.append(values)
    return out


def _primitive_values(dest: list[Any], patch: list[Any] | None) -> list[list[str]]:
    out: list[list[str]] = []
    seen: set[str] = set()
    for source in (patch, dest):
        if source is None:
            continue
        for item in source:
            text = _text(item)
            if text not in seen:
                seen.add(text)
                out.append([text])
    return out


def _merge_values(values_list: list[list[str]]) -> list[list[str]]:
    """kyaml ``mergeValues``: key tuples equal but for blanks (a port with and without protocol)
    become one. Quadratic, like kyaml's, but only used for lists with several merge keys."""
    for i in range(len(values_list)):
        first = values_list[i]
        for j in range(len(values_list)):
            merged = _match_values(first, values_list[j])
            if merged is not None:
                values_list[i] = merged
                values_list[j] = merged
    return values_list


def _match_values(a: list[str], b: list[str]) -> list[str] | None:
    if len(a) != len(b):
        return None
    common = False
    out: list[str] = []
    for x, y in zip(a, b, strict=True):
        if x == y:
            common = True
            out.append(x)
        elif x and y:
            return None
        else:
            out.append(x or y)
    return out if common else None


def _merge_elements(
    values_list: list[list[str]],
    keys: list[str],
    dest: list[Any],
    patch: list[Any] | None,
    elem_schema: str,
    path: list[str],
) -> Any:
    """kyaml ``setAssociativeSequenceElements`` with kustomize's prepend order, faithfully."""
    items: list[Any] = []
    if len(keys) > 1:
        values_list = _merge_values(values_list)
    valid_set = {keys[i] for values in values_list for i, v in enumerate(values) if v != ""}
    valid_keys: list[str] = []
    for values in values_list:
        if not values:
            continue
        valid_keys, valid_values = _valid_keys(valid_set, values, keys)
        own_set = {k for k, v in zip(valid_keys, valid_values, strict=True) if v != ""}
        find_keys, find_values = _valid_keys(own_set, valid_values, valid_keys)
        step = [*path, _elem_label(find_keys, find_values)]
        val = _walk(
            _element_find(dest, find_keys, find_values),
            _element_find(patch, find_keys, find_values) if patch is not None else _MISSING,
            elem_schema,
            step,
        )
        removed = False
        for i, key in enumerate(valid_keys):
            if _is_null(val) or (isinstance(val, dict) and not val):
                _element_set(dest, _MISSING, valid_keys, valid_values, step)
                removed = True
            elif valid_values[i] != "":
                _set_key_back(val, key, valid_values[i], step)
        if removed:
            continue
        _element_set(items, val, valid_keys, valid_values, step)
    if values_list:
        _append_list(items, dest, valid_keys, path)
        return items
    return dest


def _set_key_back(val: Any, key: str, value: str, path: list[str]) -> None:
    """kyaml writes a matched merge key the merged element lacks back into it, as a string."""
    if key == "":  # primitive list: kyaml re-sets the scalar to its own text, a no-op here
        if isinstance(val, list) or (isinstance(val, dict) and "" not in val):
            raise _wrong_kind("ScalarNode", val, path)
    elif isinstance(val, dict):
        if key not in val:
            val[key] = value
    else:
        raise _wrong_kind("MappingNode", val, path)


def _valid_keys(valid_set: set[str], values: list[str], keys: list[str]) -> tuple[list[str], list[str]]:
    """kyaml ``validateKeys``: drop the merge keys no element has a value for."""
    if not valid_set:
        return keys, values
    return [k for k in keys if k in valid_set], [
        v for k, v in zip(keys, values, strict=True) if k in valid_set
    ]


def _elem_label(keys: list[str], values: list[str]) -> str:
    return "[" + ",".join(f"{k}={v}" if k else v for k, v in zip(keys, values, strict=True)) + "]"


def _append_list(dst: list[Any], src: list[Any], keys: list[str], path: list[str]) -> None:
    """kyaml ``appendListNode``: put the resource's elements over the merged ones, in place."""
    for elem in list(src):
        if keys[0] == "":
            _element_set(dst, elem, [""], [_text(elem)], path)
            continue
        values: list[str] = []
        for key in keys:
            if _is_null(elem):
                dst.append(elem)  # kyaml appends elements that lack a key, then goes on
                continue
            if not isinstance(elem, dict):
                raise _wrong_kind("MappingNode", elem, path)
            if key not in elem:
                dst.append(elem)
                continue
            values.append(_text(elem[key]))
        if len(keys) > 1:
            _element_set(dst, _MISSING, keys, values, path)
        _element_set(dst, elem, keys, values, path)


# --- The common case without the quadratic scans: one merge key, every element a map with a
# distinct, non-empty scalar key. Same result as _merge_elements (checked by the tests).

_FAST_PATH = True


def _plain_keyed(seq: list[Any], key: str) -> bool:
    seen: set[str] = set()
    for elem in seq:
        if not isinstance(elem, dict) or not elem:
            return False
        text = _key_text(elem, key)
        if not text or text in seen:
            return False
        seen.add(text)
    return True


def _merge_keyed_fast(
    dest: list[Any], patch: list[Any] | None, key: str, elem_schema: str, path: list[str]
) -> list[Any]:
    by_dest = {_key_text(e, key): e for e in dest}
    by_patch = {_key_text(e, key): e for e in patch} if patch is not None else {}
    order = list(by_patch) + [k for k in by_dest if k not in by_patch]
    merged: list[Any] = []
    for value in order:
        val = _walk(
            by_dest.get(value, _MISSING),
            by_patch.get(value, _MISSING),
            elem_schema,
            [*path, f"[{key}={value}]"],
        )
        if _is_null(val) or (isinstance(val, dict) and not val):
            by_dest.pop(value, None)
            continue
        if isinstance(val, dict) and key not in val:
            val[key] = value
        merged.append((value, val))
    return [by_dest.get(value, val) for value, val in merged]


# ----------------------------------------------------------------------------------------------


ImplicitNull = Callable[[Mapping[str, Any], str], bool]
"""Whether ``mapping[key]`` (None) was written with no value at all (``key:``), not ``null``/``~``."""

_IMPLICIT_NULL: ContextVar[ImplicitNull | None] = ContextVar("implicit_null", default=None)


def strategic_merge(
    base: Mapping[str, Any], patch: Mapping[str, Any], implicit_null: ImplicitNull | None = None
) -> dict[str, Any] | None:
    """Apply a strategic merge patch to a resource the way ``kustomize build`` does.

    The schema comes from the resource's ``apiVersion``/``kind`` (built-in kinds only). Neither
    argument is modified; the result is a new structure. None means the patch deletes the resource
    (``$patch: delete`` at the top, or nothing left). Name, namespace and kind are merged like any
    field: restoring them afterwards, as kustomize's patch transformer does, is the caller's job.

    ``implicit_null`` tells which nulls of the resource were written with no value: kyaml drops
    those wherever it walks (even where the patch says nothing), and keeps ``null`` and ``~``.
    Without it every null of the resource is taken as written out.
    """
    dest = deep_copy(base)
    origin = deep_copy(patch)
    if not isinstance(dest, dict) or not isinstance(origin, dict):
        raise KustomizeError("a strategic merge patch and its target must both be maps")
    token = _IMPLICIT_NULL.set(implicit_null)
    try:
        result = _walk(dest, origin, None, [])
    finally:
        _IMPLICIT_NULL.reset(token)
    if not isinstance(result, dict) or not result:
        return None
    return result
