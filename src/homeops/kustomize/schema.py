"""The Kustomization type as kustomize decodes it: strict, typed, field names matched case-insensitively.

kustomize turns the YAML into JSON and decodes it into its Go structs with ``DisallowUnknownFields``.
So, at any depth, a misspelt field (``pathc:``) or a value of the wrong type (``namespace: 5``,
``commonLabels: {a: 1}``, ``replicas: [{count: "2"}]``) is an error; and, Go's JSON decoder
matching names case-insensitively, ``newtag:`` or ``Resources:`` are accepted as ``newTag:`` and
``resources:``. The YAML-to-JSON step reads YAML 1.1, where an unquoted ``yes``/``no``/``on``/``off``
/``y``/``n`` is a boolean: fine for ``disableNameSuffixHash: yes``, an error for ``commonLabels:
{enabled: on}``. :func:`normalize` checks a kustomization this way and returns it with the canonical
spelling of every field name, so the engine reads one spelling.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from homeops.core.errors import KustomizeError
from homeops.core.yamlio import YMap

STR, BOOL, INT, ANY = "string", "bool", "int64", "any"

# Plain scalars YAML 1.1 (go-yaml v2, behind sigs.k8s.io/yaml's YAMLToJSON) reads as booleans but
# our YAML 1.2 reader keeps as strings; true/false are booleans to both.
YAML11_BOOLS = {w: True for w in ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON")} | {
    w: False for w in ("n", "N", "no", "No", "NO", "off", "Off", "OFF")
}
_YAML11_WORD = re.compile(r"(?<![\w.-])(?:y|Y|yes|Yes|YES|on|On|ON|n|N|no|No|NO|off|Off|OFF)(?![\w.-])")
Path_ = tuple[Any, ...]
_KEY = object()  # marks a path naming a mapping key (not its value)


class Struct:
    def __init__(self, name: str, fields: dict[str, Any]) -> None:
        self.name = name
        self.fields = fields
        self.folded = {k.lower(): k for k in fields}


class ListOf:
    def __init__(self, item: Any) -> None:
        self.item = item


class MapOf:
    def __init__(self, item: Any) -> None:
        self.item = item


_RESID = {"group": STR, "version": STR, "kind": STR, "name": STR, "namespace": STR}
SELECTOR = Struct("Selector", {**_RESID, "annotationSelector": STR, "labelSelector": STR})
FIELD_SPEC = Struct("FieldSpec", {"group": STR, "version": STR, "kind": STR, "path": STR, "create": BOOL})
GENERATOR_OPTIONS = Struct(
    "GeneratorOptions",
    {"labels": MapOf(STR), "annotations": MapOf(STR), "disableNameSuffixHash": BOOL, "immutable": BOOL},
)
_GENERATOR_ARGS = {
    "namespace": STR,
    "name": STR,
    "behavior": STR,
    "literals": ListOf(STR),
    "files": ListOf(STR),
    "envs": ListOf(STR),
    "env": STR,
    "options": GENERATOR_OPTIONS,
}
FIELD_OPTIONS = Struct("FieldOptions", {"delimiter": STR, "index": INT, "encoding": STR, "create": BOOL})
KUSTOMIZATION = Struct("Kustomization", {
    "kind": STR,
    "apiVersion": STR,
    "metadata": Struct("ObjectMeta", {"name": STR, "namespace": STR, "labels": MapOf(STR),
                                      "annotations": MapOf(STR)}),
    "openapi": MapOf(STR),
    "namePrefix": STR,
    "nameSuffix": STR,
    "namespace": STR,
    "commonLabels": MapOf(STR),
    "labels": ListOf(Struct("Label", {"pairs": MapOf(STR), "includeSelectors": BOOL, "includeTemplates": BOOL,
                                      "fields": ListOf(FIELD_SPEC)})),
    "commonAnnotations": MapOf(STR),
    "patchesStrategicMerge": ListOf(STR),
    "patchesJson6902": ListOf(Struct("Patch", {"path": STR, "patch": STR, "target": SELECTOR,
                                               "options": MapOf(BOOL)})),
    "patches": ListOf(Struct("Patch", {"path": STR, "patch": STR, "target": SELECTOR, "options": MapOf(BOOL)})),
    "images": ListOf(Struct("Image", {"name": STR, "newName": STR, "tagSuffix": STR, "newTag": STR,
                                      "digest": STR})),
    "imageTags": ListOf(Struct("Image", {"name": STR, "newName": STR, "tagSuffix": STR, "newTag": STR,
                                         "digest": STR})),
    "replacements": ListOf(Struct("ReplacementField", {
        "path": STR,
        "source": Struct("SourceSelector", {**_RESID, "fieldPath": STR, "options": FIELD_OPTIONS}),
        "targets": ListOf(Struct("TargetSelector", {"select": SELECTOR, "reject": ListOf(SELECTOR),
                                                    "fieldPaths": ListOf(STR), "options": FIELD_OPTIONS})),
    })),
    "replicas": ListOf(Struct("Replica", {"name": STR, "count": INT})),
    "vars": ANY,
    "sortOptions": Struct("SortOptions", {"order": STR, "legacySortOptions": Struct(
        "LegacySortOptions", {"orderFirst": ListOf(STR), "orderLast": ListOf(STR)})}),
    "resources": ListOf(STR),
    "components": ListOf(STR),
    "crds": ListOf(STR),
    "bases": ListOf(STR),
    "configMapGenerator": ListOf(Struct("ConfigMapArgs", _GENERATOR_ARGS)),
    "secretGenerator": ListOf(Struct("SecretArgs", {**_GENERATOR_ARGS, "type": STR})),
    "helmGlobals": ANY,
    "helmCharts": ANY,
    "helmChartInflationGenerator": ANY,
    "generatorOptions": GENERATOR_OPTIONS,
    "configurations": ListOf(STR),
    "generators": ListOf(STR),
    "transformers": ListOf(STR),
    "validators": ListOf(STR),
    "buildMetadata": ListOf(STR),
})  # fmt: skip


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _yaml11_bool_paths(text: str) -> set[Path_]:
    """Paths (keys and indexes) of the plain scalars YAML 1.1 reads as booleans, in the first document."""
    if not _YAML11_WORD.search(text):
        return set()
    try:
        loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        node = yaml.compose(text, Loader=loader_cls)
    except yaml.YAMLError:
        return set()
    found: set[Path_] = set()

    def walk(n: Any, path: Path_, depth: int) -> None:
        if depth > 64:
            return
        if isinstance(n, yaml.ScalarNode):
            if not n.style and n.value in YAML11_BOOLS:  # plain (None, or "" from the C loader)
                found.add(path)
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i), depth + 1)
        elif isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                if isinstance(key, yaml.ScalarNode):
                    if not key.style and key.value in YAML11_BOOLS:
                        found.add((*path, key.value, _KEY))
                    walk(value, (*path, key.value), depth + 1)

    if node is not None:
        walk(node, (), 0)
    return found


class _Checker:
    def __init__(self, file: str | None, bool_paths: set[Path_] | None = None, strict: bool = True) -> None:
        self.file = file
        self.bool_paths = bool_paths or set()
        self.strict = strict

    def fail(self, what: str, line: int | None, hint: str = "fix the field's type") -> KustomizeError:
        return KustomizeError(f"invalid Kustomization: {what}", self.file, line or None, hint)

    def check(self, value: Any, schema: Any, where: str, line: int | None, path: Path_ = ()) -> Any:
        if value is None or schema == ANY:
            return value
        if isinstance(schema, Struct):
            return self.struct(value, schema, where, line, path)
        if isinstance(schema, ListOf):
            if not isinstance(value, list):
                raise self.type_error(value, where, f"[]{_type_name(schema.item)}", line)
            checked = [self.check(v, schema.item, where, line, (*path, i)) for i, v in enumerate(value)]
            return value if all(a is b for a, b in zip(checked, value, strict=True)) else checked
        if isinstance(schema, MapOf):
            if not isinstance(value, dict):
                raise self.type_error(value, where, f"map[string]{_type_name(schema.item)}", line)
            for key, item in value.items():
                item_line = value.line_of(key) if isinstance(value, YMap) else line
                if (*path, key, _KEY) in self.bool_paths:
                    # YAML 1.1 makes the key a boolean: Go cannot turn the map into JSON
                    raise self.fail(
                        f"json: unsupported type: map[interface {{}}]interface {{}} (key {key!r} is a "
                        "boolean in YAML 1.1)",
                        item_line,
                        "quote the key",
                    )
                self.check(item, schema.item, where, item_line, (*path, key))
            return value
        if path in self.bool_paths and isinstance(value, str):
            value = YAML11_BOOLS[value]  # what Go decodes: an error for a string field, a bool for a bool one
            if schema == BOOL:
                return value
        if schema == STR and not isinstance(value, str):
            raise self.type_error(value, where, "string", line)
        if schema == BOOL and not isinstance(value, bool):
            raise self.type_error(value, where, "bool", line)
        if schema == INT and not (
            (isinstance(value, int) and not isinstance(value, bool))
            or (isinstance(value, float) and value.is_integer())
        ):
            raise self.type_error(value, where, "int64", line)
        return value

    def type_error(self, value: Any, where: str, go_type: str, line: int | None) -> KustomizeError:
        return self.fail(
            f"cannot unmarshal {_json_kind(value)} into Go struct field {where} of type {go_type}", line
        )

    def struct(self, value: Any, schema: Struct, where: str, line: int | None, path: Path_) -> Any:
        if not isinstance(value, dict):
            raise self.type_error(value, where, schema.name, line)
        canonical: dict[str, str] = {}
        for key in value:
            name = str(key)
            if name in schema.fields:
                canonical[name] = name
            elif name.lower() in schema.folded:
                canonical[name] = schema.folded[name.lower()]
            elif self.strict:
                key_line = value.line_of(name) if isinstance(value, YMap) else line
                raise self.fail(f"unknown field {name!r}", key_line, "remove it or fix its spelling")
        renamed = len(canonical) != len(value) or any(k != v for k, v in canonical.items())
        out: dict[str, Any] = YMap() if renamed else value
        if renamed and isinstance(value, YMap):
            assert isinstance(out, YMap)
            out.line, out.file = value.line, value.file
            out.key_lines = {}
        for key, item in value.items():
            if str(key) not in canonical:
                continue  # unknown, not strict: dropped, as Go's non-strict decoding drops it
            name = canonical[str(key)]
            key_line = value.line_of(key) if isinstance(value, YMap) else line
            checked = self.check(item, schema.fields[name], f"{schema.name}.{name}", key_line, (*path, key))
            if renamed:
                out.pop(name, None)  # Go keeps the last of two spellings
                out[name] = checked
                if isinstance(out, YMap) and out.key_lines is not None:
                    out.key_lines[name] = key_line or 0
            elif checked is not item:
                out[name] = checked
        return out


def _type_name(schema: Any) -> str:
    if isinstance(schema, Struct):
        return f"types.{schema.name}"
    if isinstance(schema, ListOf):
        return f"[]{_type_name(schema.item)}"
    if isinstance(schema, MapOf):
        return f"map[string]{_type_name(schema.item)}"
    return str(schema)


def normalize(
    doc: dict[str, Any], file: str | None, text: str | None = None, *, strict: bool = True
) -> dict[str, Any]:
    """``doc`` (read from ``text``) checked as kustomize decodes a Kustomization, with canonical field names.

    ``strict=False`` decodes as kustomize-controller reads the file it extends (Go's ``json.Unmarshal``
    without ``DisallowUnknownFields``): wrong types are still errors, unknown fields are dropped.
    """
    bool_paths = _yaml11_bool_paths(text) if text else set()
    checker = _Checker(file, bool_paths, strict)
    result = checker.check(doc, KUSTOMIZATION, "Kustomization", getattr(doc, "line", None))
    assert isinstance(result, dict)
    return result
