"""The ``patches:``, ``patchesStrategicMerge:`` and ``patchesJson6902:`` transformers.

The merge algorithms live in ``smp`` (strategic merge) and ``jsonpatch`` (RFC 6902); this module
finds the patch text, decides which kind it is, and picks the targets as kustomize does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeops.core import yamlio
from homeops.core.errors import HomeopsError, KustomizeError
from homeops.core.yamlio import YMap
from homeops.kustomize import jsonpatch, selectors, smp
from homeops.kustomize.resource import Resource

if TYPE_CHECKING:
    from homeops.kustomize.build import Accumulator, Builder


def _patch_text(
    builder: Builder, directory: Path, entry: dict[str, Any], krel: str, line: int | None
) -> tuple[str, str]:
    patch = str(entry.get("patch") or "").strip()
    path = entry.get("path")
    if not patch and not path:
        raise KustomizeError("must specify one of patch and path", krel, line, "add patch: or path:")
    if patch and path:
        raise KustomizeError("patch and path can't be set at the same time", krel, line, "keep one of them")
    if patch:
        return patch, krel
    file = builder._resolve_file(directory, str(path), krel, {}, "patches")
    return builder.files.read_text(file), builder.rel(file)


def _parse(text: str, source: str) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    """(strategic merge patches, JSON 6902 operations): exactly one is set."""
    try:
        docs = yamlio.load_all(text, source)
    except HomeopsError as exc:
        raise KustomizeError(
            f"unable to parse SM or JSON patch from {source}: {exc.what}", source, exc.line
        ) from None
    if len(docs) == 1 and isinstance(docs[0], list):
        # JSON 6902 operations are read as kustomize reads them (JSON, or YAML 1.1 converted to JSON)
        return None, jsonpatch.load_json6902(text, source)
    if all(isinstance(d, dict) for d in docs) and docs:
        return [d for d in docs], None
    raise KustomizeError(
        f"unable to parse SM or JSON patch from {source}",
        source,
        None,
        "a patch is one or more objects, or a list of JSON 6902 operations",
    )


def _find_by_id(acc: Accumulator, patch: dict[str, Any], source: str) -> Resource:
    probe = Resource(obj=patch)
    pid = probe.cur_id
    matches = [r for r in acc.resources if any(i.same(pid) for i in r.all_ids())]
    if len(matches) != 1:
        what = "no resource matches" if not matches else "multiple resources match"
        raise KustomizeError(
            f"{what} strategic merge patch {pid.describe()}",
            source,
            getattr(patch, "line", None),
            "check the patch's apiVersion, kind, name and namespace",
        )
    return matches[0]


def has_build_annotations(res: Resource) -> bool:
    """Whether kustomize carries build annotations on the object by now (so ``metadata.annotations``
    exists for JSON patches and field specs): it generated it, or stored a previous id (namespace,
    prefix or suffix transformers, ``patches:`` JSON patches, name or kind changes)."""
    return res.generated or bool(res.prev_ids)


class ImplicitNulls:
    """Tells, from the source text, whether a null of a resource was written as ``key:`` alone."""

    def __init__(self, builder: Builder) -> None:
        self.builder = builder
        self._lines: dict[str, list[str]] = {}

    def __call__(self, mapping: Any, key: str) -> bool:
        if not isinstance(mapping, YMap) or not mapping.file or not mapping.key_lines:
            return False
        line = mapping.key_lines.get(key)
        if not line:
            return False
        lines = self._lines.get(mapping.file)
        if lines is None:
            path = Path(mapping.file)
            try:
                text = self.builder.files.read_text(path if path.is_absolute() else self.builder.root / path)
            except HomeopsError:
                text = ""
            lines = self._lines[mapping.file] = text.splitlines()
        if line > len(lines):
            return False
        return _key_without_value(lines[line - 1], key)


def _key_without_value(source: str, key: str) -> bool:
    """Whether a block-style line ``key:`` (maybe as a list item, maybe with a comment) has no value."""
    text = source.strip()
    if " #" in text:
        text = text[: text.index(" #")].rstrip()
    while text.startswith("- "):
        text = text[2:].lstrip()
    if not text.endswith(":"):
        return False
    name = text[:-1].rstrip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
        name = name[1:-1]
    return name == key


def _apply_smp(
    acc: Accumulator,
    target: Resource,
    patch: dict[str, Any],
    options: dict[str, Any],
    implicit_null: ImplicitNulls | None = None,
) -> None:
    name, ns, kind = target.name, target.namespace, target.kind
    allow_name = bool(options.get("allowNameChange"))
    allow_kind = bool(options.get("allowKindChange"))
    if allow_name or allow_kind:
        target.store_previous_id()
    patch = yamlio.deep_copy(patch)
    if not allow_kind:
        patch["apiVersion"] = target.api_version
        patch["kind"] = kind
    if patch.get("$patch") == "delete":
        acc.resources.remove(target)
        return
    merged = smp.strategic_merge(target.obj, patch, implicit_null)
    if not merged:
        acc.resources.remove(target)
        return
    target.obj = merged
    if not allow_kind:
        target.obj["kind"] = kind
    if not allow_name:
        target.name = name
    if ns:
        target.metadata["namespace"] = ns
    else:
        target.metadata.pop("namespace", None)


def _apply_json(
    targets: list[Resource], ops: list[dict[str, Any]], source: str, *, store_previous_id: bool = True
) -> None:
    """Apply JSON 6902 operations; ``patches:`` remembers the previous id, ``patchesJson6902:`` does not."""
    for res in targets:
        if store_previous_id:
            res.store_previous_id()
        obj = res.obj
        meta = obj.get("metadata")
        added = (
            has_build_annotations(res)
            and isinstance(meta, dict)
            and not isinstance(meta.get("annotations"), dict)
        )
        if added and isinstance(meta, dict):
            # kustomize keeps its own annotations on an object once it stored its previous id or
            # generated it, so a patch sees an annotations map even where the source has none
            obj = dict(obj)
            obj["metadata"] = {**meta, "annotations": {}}
        try:
            res.obj = jsonpatch.apply_json6902(obj, ops)
        except HomeopsError as exc:
            raise KustomizeError(
                f"applying JSON patch to {res.cur_id.describe()}: {exc.what}", source, exc.line
            ) from None
        meta = res.obj.get("metadata")
        if added and isinstance(meta, dict) and meta.get("annotations") == {}:
            del meta["annotations"]  # untouched: as it was (kustomize drops empty annotations at the end)


def apply_patches(
    builder: Builder, directory: Path, kust: dict[str, Any], krel: str, acc: Accumulator
) -> None:
    nulls = ImplicitNulls(builder)
    for entry in kust.get("patches") or []:
        line = getattr(entry, "line", None)
        text, source = _patch_text(builder, directory, entry, krel, line)
        sm, ops = _parse(text, source)
        target_sel = entry.get("target")
        options = entry.get("options") or {}
        if sm is not None:
            if target_sel is not None:  # an empty target ({}) selects every object
                if len(sm) > 1:
                    raise KustomizeError(
                        "multiple strategic merge patches in one patches entry cannot set target",
                        krel,
                        line,
                        "split them into separate entries",
                    )
                for res in selectors.select(acc.resources, target_sel):
                    _apply_smp(acc, res, sm[0], options, nulls)
            else:
                for patch in sm:
                    _apply_smp(acc, _find_by_id(acc, patch, source), patch, options, nulls)
        else:
            if target_sel is None:
                raise KustomizeError(
                    f"must specify a target for JSON patch {source}", krel, line, "add target:"
                )
            _apply_json(selectors.select(acc.resources, target_sel), ops or [], source)


def apply_legacy_strategic_merge(
    builder: Builder, directory: Path, kust: dict[str, Any], krel: str, acc: Accumulator
) -> None:
    nulls = ImplicitNulls(builder)
    for entry in kust.get("patchesStrategicMerge") or []:
        text = str(entry)
        if "\n" in text or (":" in text and not text.strip().endswith((".yaml", ".yml", ".json"))):
            source = krel
        else:
            file = builder._resolve_file(directory, text, krel, kust, "patchesStrategicMerge")
            text, source = builder.files.read_text(file), builder.rel(file)
        sm, _ops = _parse(text, source)
        if sm is None:
            raise KustomizeError("patchesStrategicMerge entries must be objects", source, None)
        for patch in sm:
            _apply_smp(acc, _find_by_id(acc, patch, source), patch, {}, nulls)


def apply_legacy_json6902(
    builder: Builder, directory: Path, kust: dict[str, Any], krel: str, acc: Accumulator
) -> None:
    for entry in kust.get("patchesJson6902") or []:
        line = getattr(entry, "line", None)
        text, source = _patch_text(builder, directory, entry, krel, line)
        _sm, ops = _parse(text, source)
        if ops is None:
            raise KustomizeError("patchesJson6902 needs a list of operations", source, line)
        target = dict(entry.get("target") or {})
        if not target.get("name"):
            raise KustomizeError(
                "must specify the target name", krel, line, "add target.name to the patchesJson6902 entry"
            )
        _apply_json(selectors.select(acc.resources, target), ops, source, store_previous_id=False)
