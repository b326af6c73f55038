"""The ``replacements:`` transformer: copy a field of one object into fields of others."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeops.errors import KustomizeError
from homeops.kustomize import selectors
from homeops.kustomize.resource import Resource
from homeops.repo.yamlio import YMap

if TYPE_CHECKING:
    from homeops.kustomize.build import Accumulator, Builder


def parse_field_path(path: str) -> list[str]:
    """Split ``spec.containers.[name=app].image`` on dots, keeping bracketed segments whole."""
    parts: list[str] = []
    current = ""
    depth = 0
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p[1:-1] if p.startswith("[") and p.endswith("]") and "=" not in p else p for p in parts if p != ""]


def _children(node: Any, segment: str, create: bool) -> list[tuple[Any, Any]]:
    """(container, key) pairs a segment leads to."""
    if segment.startswith("[") and segment.endswith("]") and "=" in segment:
        key, _, value = segment[1:-1].partition("=")
        if not isinstance(node, list):
            return []
        found = [(node, i) for i, el in enumerate(node) if isinstance(el, dict) and str(el.get(key)) == value]
        if not found and create:
            node.append(YMap({key: value}))
            found = [(node, len(node) - 1)]
        return found
    if segment == "*":
        if isinstance(node, list):
            return [(node, i) for i in range(len(node))]
        if isinstance(node, dict):
            return [(node, k) for k in node]
        return []
    if isinstance(node, list):
        if segment.lstrip("-").isdigit():
            index = int(segment)
            if create and index == len(node):
                node.append(YMap())
            return [(node, index)] if -len(node) <= index < len(node) else []
        return []
    if isinstance(node, dict) and (segment in node or create):
        return [(node, segment)]
    return []


def find_fields(obj: Any, parts: list[str], *, create: bool = False) -> list[tuple[Any, Any]]:
    level: list[tuple[Any, Any]] = [(None, None)]
    current = [obj]
    for i, segment in enumerate(parts):
        nxt: list[tuple[Any, Any]] = []
        for node in current:
            nxt.extend(_children(node, segment, create))
        if i < len(parts) - 1:
            current = []
            following = parts[i + 1]
            for container, key in nxt:
                if isinstance(container, dict) and (key not in container or container[key] is None):
                    wants_list = following.lstrip("-").isdigit() or (following.startswith("[") and "=" in following)
                    container[key] = [] if wants_list else YMap()
                current.append(container[key])
        level = nxt
    return level


def _get_source_value(res: Resource, source: dict[str, Any]) -> Any:
    path = str(source.get("fieldPath") or "metadata.name")
    found = find_fields(res.obj, parse_field_path(path))
    if not found:
        raise KustomizeError(f"fieldPath `{path}` is missing for replacement source {res.cur_id.describe()}")
    container, key = found[0]
    value = container[key]
    opts = source.get("options") or {}
    if opts.get("delimiter") and isinstance(value, str):
        pieces = value.split(str(opts["delimiter"]))
        index = int(opts.get("index") or 0)
        if index < 0 or index >= len(pieces):
            raise KustomizeError(f"options.index {index} is out of bounds for value {value!r}")
        value = pieces[index]
    return value


def _set_target(container: Any, key: Any, value: Any, opts: dict[str, Any]) -> None:
    if opts.get("delimiter"):
        current = container.get(key) if isinstance(container, dict) else container[key]
        pieces = str(current or "").split(str(opts["delimiter"]))
        index = int(opts.get("index") or 0)
        if index < 0:
            pieces.insert(0, str(value))
        elif index >= len(pieces):
            pieces.append(str(value))
        else:
            pieces[index] = str(value)
        container[key] = str(opts["delimiter"]).join(pieces)
    else:
        container[key] = value


def apply_replacements(builder: Builder, directory: Path, kust: dict[str, Any], krel: str, acc: Accumulator) -> None:
    entries: list[dict[str, Any]] = []
    for entry in kust.get("replacements") or []:
        if entry.get("path"):
            file = builder._resolve_file(directory, str(entry["path"]), krel, kust, "replacements")
            for doc in builder.files.load_all(file):
                entries.extend(doc if isinstance(doc, list) else [doc])
        else:
            entries.append(entry)
    for entry in entries:
        source = entry.get("source") or {}
        sources = selectors.select(acc.resources, source)
        if len(sources) != 1:
            what = "found no source" if not sources else "found more than one source"
            raise KustomizeError(f"replacement {what} for selector {dict(source)}", krel, getattr(entry, "line", None))
        value = _get_source_value(sources[0], source)
        for target in entry.get("targets") or []:
            select = target.get("select") or {}
            rejects = target.get("reject") or []
            opts = target.get("options") or {}
            for res in selectors.select(acc.resources, select):
                if any(selectors.selector_matches(res, r) for r in rejects):
                    continue
                for path in target.get("fieldPaths") or ["metadata.name"]:
                    found = find_fields(res.obj, parse_field_path(str(path)), create=bool(opts.get("create")))
                    if not found and not opts.get("create"):
                        continue
                    for container, key in found:
                        _set_target(container, key, value, opts)
