"""The ``replacements:`` transformer: copy a field of one object into fields of others.

Semantics follow kustomize's replacement filter and kyaml's path walkers:

* the source is selected by id alone (exact name and namespace, current or earlier id), and read with
  kyaml's ``PathGetter``: ``[key=value]`` is an exact match, a number an index, ``-`` the last item;
* targets are selected by id (exact) plus label and annotation selectors, minus the ``reject`` list,
  and written with kyaml's ``PathMatcher``: ``[key=value]`` is an unanchored regular expression,
  ``*`` every item, a number an index; with ``create`` missing fields (and list items) are added;
* a target field that is a scalar keeps its type and takes only the source's text (an integer
  field given ``"3"`` stays the integer 3; one given ``"x"`` makes kustomize fail), a created field
  has no type and resolves as plain YAML would, a mapping or sequence is replaced whole;
* a path that finds nothing is an error unless ``create`` is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from homeops.core import yamlio
from homeops.core.errors import KustomizeError
from homeops.core.gocompat import kyaml
from homeops.core.yamlio import YMap
from homeops.kustomize import selectors
from homeops.kustomize.accumulator import Accumulator
from homeops.kustomize.loader import Loader
from homeops.kustomize.resource import Gvk, ResId, Resource


def parse_field_path(path: str) -> list[str]:
    """kyaml's ``SmarterPathSplitter``: split on dots, keeping ``[k=v.w]`` whole; ``[x]`` becomes ``x``."""
    split: list[str] = []
    pieces = path.split(".")
    if len(pieces) > 1 and pieces[0] == "":
        pieces = pieces[1:]
    split.append(pieces[0])
    for piece in pieces[1:]:
        if split[-1].endswith("\\"):
            split[-1] = split[-1][:-1] + "." + piece
        else:
            split.append(piece)
    result: list[str] = []
    i = 0
    while i < len(split):
        elem = split[i]
        if elem.startswith("[") and not elem.endswith("]"):
            bracketed = [elem]
            while i < len(split) - 1:
                i += 1
                bracketed.append(split[i])
                if split[i].endswith("]"):
                    break
            text = ".".join(bracketed)
            result.append(text if "=" in text else text.strip("[]"))
        else:
            result.append(elem)
        i += 1
    return result


def _is_index(part: str) -> bool:
    return part.isdigit() or (part.startswith("+") and part[1:].isdigit())


def _is_list_index(part: str) -> bool:
    return part.startswith("[") and part.endswith("]")


def _split_index(part: str) -> tuple[str, str]:
    body = part[1:-1]
    if "=" not in body:
        raise _PathError("list path element must contain fieldName=fieldValue for element to match")
    key, _, value = body.partition("=")
    return key, value


class _PathError(Exception):
    pass


def _encoded(value: Any) -> str:
    """What kyaml's ``RNode.String()`` gives for an element, trimmed (regex matching reads this)."""
    if isinstance(value, (dict, list)):
        from homeops.core import yamlemit  # start-up: the emitter loads only for a collection's text

        return yamlemit.dump(value, width=0).strip()
    if isinstance(value, str) and value and yamlio.resolve_plain(value) != yamlio.STR:
        return f'"{value}"'
    return kyaml.scalar_value(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


# ------------------------------------------------------------------------------------------- source


def _lookup(node: Any, parts: list[str], path: str) -> Any:
    """kyaml's ``PathGetter`` (no create): the value at ``parts``, or None when missing."""
    for part in parts:
        if node is None:
            return None
        if part.lstrip("-").isdigit() and part != "-":
            index = int(part)
            if index < 0:
                raise KustomizeError(
                    f"error looking up replacement source: array index {index} cannot be negative"
                )
            if not isinstance(node, list):
                raise KustomizeError(f"error looking up replacement source: {path} does not lead to a list")
            node = node[index] if index < len(node) else None
        elif part == "-":
            if not isinstance(node, list) or not node:
                return None
            node = node[-1]
        elif part == "*":
            raise KustomizeError(
                "error looking up replacement source: wildcard is not supported in PathGetter"
            )
        elif _is_list_index(part):
            try:
                key, value = _split_index(part)
            except _PathError as exc:
                raise KustomizeError(f"error looking up replacement source: {exc}") from None
            if not isinstance(node, list):
                raise KustomizeError(f"error looking up replacement source: {path}: {part} needs a list")
            if key:
                node = next(
                    (
                        el
                        for el in node
                        if isinstance(el, dict)
                        and key in el
                        and _is_scalar(el[key])
                        and el[key] is not None
                        and kyaml.scalar_value(el[key]) == value
                    ),
                    None,
                )
            else:
                node = next((el for el in node if _is_scalar(el) and kyaml.scalar_value(el) == value), None)
        else:
            if not isinstance(node, dict):
                raise KustomizeError(
                    f"error looking up replacement source: {path}: cannot get field {part!r} "
                    "of a value that is not a mapping"
                )
            node = node.get(part)
    return node


def _source_ids_match(res: Resource, selector: dict[str, Any]) -> bool:
    return any(_id_selected(i, selector) for i in res.all_ids())


def _id_selected(rid: ResId, selector: dict[str, Any]) -> bool:
    """kustomize's ``ResId.IsSelectedBy``: exact name, effective namespace, and GVK fields."""
    name = selector.get("name")
    if name and str(name) != rid.name:
        return False
    ns = selector.get("namespace")
    if ns:
        sel = ResId(_selector_gvk(selector), str(name or ""), str(ns))
        if sel.effective_namespace != rid.effective_namespace:
            return False
    return rid.gvk.selected_by(
        str(selector.get("group") or ""), str(selector.get("version") or ""), str(selector.get("kind") or "")
    )


def _selector_gvk(selector: dict[str, Any]) -> Gvk:
    return Gvk(
        str(selector.get("group") or ""), str(selector.get("version") or ""), str(selector.get("kind") or "")
    )


@dataclass
class _Value:
    value: Any
    text: str


def _get_source_value(resources: list[Resource], source: dict[str, Any]) -> _Value:
    matches = [r for r in resources if _source_ids_match(r, source)]
    if len(matches) > 1:
        raise KustomizeError(f"multiple matches for selector {_describe(source)}")
    if not matches:
        raise KustomizeError(f"nothing selected by {_describe(source)}")
    path = str(source.get("fieldPath") or "metadata.name")
    value = _lookup(matches[0].obj, parse_field_path(path), path)
    if value is None or value == {} or value == []:
        raise KustomizeError(f"fieldPath `{path}` is missing for replacement source {_describe(source)}")
    opts = source.get("options") or {}
    if opts.get("delimiter"):
        if not _is_scalar(value):
            raise KustomizeError("delimiter option can only be used with scalar nodes")
        pieces = kyaml.scalar_value(value).split(str(opts["delimiter"]))
        index = int(opts.get("index") or 0)
        if index < 0 or index >= len(pieces):
            raise KustomizeError(
                f"options.index {index} is out of bounds for value {kyaml.scalar_value(value)}"
            )
        piece = pieces[index]
        return _Value(piece if isinstance(value, str) else _retyped(value, piece), piece)
    return _Value(yamlio.deep_copy(value), kyaml.scalar_value(value))


def _describe(selector: dict[str, Any]) -> str:
    fields = ("group", "version", "kind", "name", "namespace")
    return "{" + ", ".join(f"{k}: {selector[k]}" for k in fields if selector.get(k)) + "}"


# ------------------------------------------------------------------------------------------- targets

_CREATED = object()  # a node created by the path walker: no tag yet


def _new_node(next_part: str, final_kind: Any) -> Any:
    """kyaml's ``getPathPartKind``: the node to create for a missing part."""
    if next_part and (_is_list_index(next_part) or next_part.isdigit()):
        return []
    if not next_part:
        if isinstance(final_kind, dict):
            return YMap()
        if isinstance(final_kind, list):
            return []
        return _CREATED
    return YMap()


def _match(node: Any, parts: list[str], final_kind: Any, create: bool) -> list[tuple[Any, Any]]:
    """kyaml's ``PathMatcher``: (container, key) of every field ``parts`` lead to below ``node``."""
    out: list[tuple[Any, Any]] = []
    _walk(node, parts, final_kind, create, out, None, None)
    return out


def _walk(
    node: Any,
    parts: list[str],
    final_kind: Any,
    create: bool,
    out: list[tuple[Any, Any]],
    container: Any,
    key: Any,
) -> None:
    if not parts:
        out.append((container, key))
        return
    part, rest = parts[0], parts[1:]
    nxt = rest[0] if rest else ""
    if _is_index(part):
        if not isinstance(node, list):
            raise _PathError(f"wrong node kind: expected SequenceNode at {part}")
        index = int(part)
        if index == len(node) and create:
            node.append(_new_node(nxt, final_kind))
        if len(node) < index + 1:
            raise _PathError(f"index {index} specified but only {len(node)} elements found")
        _walk(node[index], rest, final_kind, create, out, node, index)
        return
    if _is_list_index(part):
        field, pattern = _split_index(part)
        if node is None:
            return
        if not isinstance(node, list):
            raise _PathError(f"wrong node kind: expected SequenceNode at {part}")
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise _PathError(f"invalid regular expression {pattern!r}: {exc}") from None
        found = len(out)
        _visit_seq(node, field, regex, rest, final_kind, create, out)
        if len(out) > found or not create:
            return
        node.append(YMap({field: yamlio.plain_value(pattern)}) if field else yamlio.plain_value(pattern))
        _visit_seq(node, field, regex, rest, final_kind, create, out)
        return
    if part == "*":
        if node is None:
            return
        if not isinstance(node, list):
            raise _PathError("wrong node kind: expected SequenceNode for *")
        for index, element in enumerate(node):
            _walk(element, rest, final_kind, create, out, node, index)
        return
    if node is None:
        return
    if not isinstance(node, dict):
        raise _PathError(f"wrong node kind: expected MappingNode at {part}")
    if part not in node:
        if not create:
            return
        node[part] = _new_node(nxt, final_kind)
    _walk(node[part], rest, final_kind, create, out, node, part)


def _visit_seq(
    node: list[Any],
    field: str,
    regex: re.Pattern[str],
    rest: list[str],
    final_kind: Any,
    create: bool,
    out: list[tuple[Any, Any]],
) -> None:
    for index, element in enumerate(list(node)):
        if field:
            if not isinstance(element, dict) or field not in element:
                continue
            if not regex.search(_encoded(element[field])):
                continue
            _walk(element, rest, final_kind, create, out, node, index)
        else:
            if not regex.search(_encoded(element)):
                continue
            _walk(element, rest, final_kind, create, out, node, index)


def _retyped(old: Any, text: str) -> Any:
    """A scalar keeping ``old``'s type with new text, as go-yaml decodes a tagged node (or fails to)."""
    if isinstance(old, str):
        return text
    tag = yamlio.resolve_plain(text) if text else yamlio.NULL
    if old is None:
        if tag == yamlio.NULL:
            return None
        want = "!!null"
    elif isinstance(old, bool):
        if tag == yamlio.BOOL:
            return yamlio.plain_value(text)
        want = "!!bool"
    elif isinstance(old, int):
        if tag == yamlio.INT:
            return yamlio.plain_value(text)
        want = "!!int"
    elif isinstance(old, float):
        if tag in (yamlio.INT, yamlio.FLOAT):
            return float(yamlio.plain_value(text))
        want = "!!float"
    else:
        return text
    have = {yamlio.NULL: "!!null", yamlio.BOOL: "!!bool", yamlio.INT: "!!int", yamlio.FLOAT: "!!float"}.get(
        tag, "!!str"
    )
    raise KustomizeError(
        f"yaml: cannot decode {have} `{text}` as a {want}",
        None,
        None,
        "the replacement puts text into a field of another type",
    )


Tagless = dict[tuple[int, Any], Any]
"""Scalars created by earlier replacements of the same kustomization: still without a YAML tag."""


def _set_target(container: Any, key: Any, value: _Value, opts: dict[str, Any], tagless: Tagless) -> None:
    """kustomize's ``setFieldValue`` on one matched field."""
    current = container[key]
    untyped = (id(container), key) in tagless  # a scalar an earlier replacement created: no tag yet
    text = value.text
    if opts.get("delimiter"):
        if not _is_scalar(current):
            raise KustomizeError("delimiter option can only be used with scalar nodes")
        delimiter = str(opts["delimiter"])
        pieces = ("" if current is _CREATED else kyaml.scalar_value(current)).split(delimiter)
        index = int(opts.get("index") or 0)
        if index < 0:
            pieces.insert(0, text)
        elif index >= len(pieces):
            pieces.append(text)
        else:
            pieces[index] = text
        text = delimiter.join(pieces)
    elif not _is_scalar(value.value):
        text = ""  # a collection has no scalar text
    if untyped:
        container[key] = yamlio.plain_value(text)  # still a scalar: it takes the text, resolved as plain YAML
    elif current is _CREATED:
        # a created node has no tag: a scalar resolves as plain YAML, a collection is the source's copy
        if _is_scalar(value.value) or opts.get("delimiter"):
            container[key] = yamlio.plain_value(text)
            tagless[(id(container), key)] = container  # (the value keeps the container alive)
        else:
            container[key] = yamlio.deep_copy(value.value)
            tagless.pop((id(container), key), None)
    elif _is_scalar(current):
        container[key] = _retyped(current, text)  # only the text moves: the field keeps its type
    else:
        container[key] = yamlio.deep_copy(value.value)


def _finish_created(obj: Any) -> None:
    """Created leaves nothing was written to (cannot happen, but never leak the marker)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if v is _CREATED:
                obj[k] = None
            else:
                _finish_created(v)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if v is _CREATED:
                obj[i] = None
            else:
                _finish_created(v)


def _targets(resources: list[Resource], target: dict[str, Any]) -> list[Resource]:
    """kustomize's ``applyReplacement`` target choice: selectors (parsed for every object), then ids."""
    select = target.get("select")
    if not isinstance(select, dict):
        raise KustomizeError("target must specify resources to select")
    rejects = [r for r in target.get("reject") or [] if isinstance(r, dict)]
    out = []
    for res in resources:
        if not _anno_and_label(res, select):
            continue
        if any(
            (r.get("labelSelector") or r.get("annotationSelector")) and _anno_and_label(res, r)
            for r in rejects
        ):
            continue
        ids = res.all_ids()
        if not any(_id_selected(i, select) for i in ids):
            continue
        if any(_has_id(r) and any(_id_selected(i, r) for i in ids) for r in rejects):
            continue
        out.append(res)
    return out


def _anno_and_label(res: Resource, selector: dict[str, Any]) -> bool:
    annotations = selectors.matches_selector(selector.get("annotationSelector"), res.annotations)
    labels = selectors.matches_selector(selector.get("labelSelector"), res.labels)
    return annotations and labels


def _has_id(selector: dict[str, Any]) -> bool:
    return any(selector.get(k) for k in ("group", "version", "kind", "name", "namespace"))


def _apply_one(resources: list[Resource], entry: dict[str, Any], tagless: Tagless) -> None:
    source = entry.get("source")
    targets = entry.get("targets")
    if not isinstance(source, dict) or targets is None:
        raise KustomizeError("replacements must specify a source and at least one target")
    value = _get_source_value(resources, source)
    for target in targets or []:
        if not isinstance(target, dict):
            raise KustomizeError("a replacement target must be a mapping")
        opts = target.get("options") or {}
        create = bool(opts.get("create"))
        paths = [str(p) for p in target.get("fieldPaths") or []] or ["metadata.name"]
        for res in _targets(resources, target):
            for path in paths:
                try:
                    found = _match(res.obj, parse_field_path(path), value.value, create)
                except _PathError as exc:
                    what = "find or create" if create else "find"
                    raise KustomizeError(
                        f"unable to {what} field {path!r} in replacement target: {exc}"
                    ) from None
                if not found:
                    what = "find or create" if create else "find"
                    raise KustomizeError(
                        f"unable to {what} field {path!r} in replacement target {res.cur_id.describe()}",
                        hint="fix the fieldPath, or set options.create",
                    )
                for container, key in found:
                    _set_target(container, key, value, opts, tagless)
            _finish_created(res.obj)


@dataclass
class ReplacementTransformer:
    """kustomize's ReplacementTransformer: each replacement copies a source field into its targets, in
    order (a later one sees what earlier ones wrote)."""

    entries: list[dict[str, Any]]
    krel: str

    @classmethod
    def configure(cls, entries: list[Any], loader: Loader, line: int | None) -> ReplacementTransformer:
        """``entries`` inline or as ``path:`` to a file (its first YAML document only, as Go reads it);
        ``line``: of the field listing them."""
        loaded: list[dict[str, Any]] = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise KustomizeError("a replacements entry must be a mapping", loader.krel)
            if entry.get("path"):
                if entry.get("source") is not None or entry.get("targets"):
                    raise KustomizeError(
                        "cannot specify both path and inline replacement",
                        loader.krel,
                        getattr(entry, "line", None),
                    )
                file = loader.resolve(str(entry["path"]), "replacements", line)
                docs = loader.load_all(file)
                first = docs[0] if docs else None
                if isinstance(first, list):
                    loaded.extend(first)
                elif isinstance(first, dict):
                    loaded.append(first)
                else:
                    raise KustomizeError(
                        "unsupported replacement type encountered within replacement path", loader.rel(file)
                    )
            else:
                loaded.append(entry)
        return cls(loaded, loader.krel)

    def apply(self, acc: Accumulator) -> None:
        tagless: Tagless = {}
        for entry in self.entries:
            try:
                _apply_one(acc.resources, entry, tagless)
            except KustomizeError as exc:
                if exc.file is None:
                    exc.file, exc.line = self.krel, getattr(entry, "line", None)
                raise
