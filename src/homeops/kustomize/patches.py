"""The ``patches:``, ``patchesStrategicMerge:`` and ``patchesJson6902:`` transformers.

The merge algorithms live in ``smp`` (strategic merge) and ``jsonpatch`` (RFC 6902); this module
finds the patch text, decides which kind it is, and picks the targets as kustomize does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeops.core import yamlio
from homeops.core.errors import HomeopsError, KustomizeError
from homeops.core.files import FileCache
from homeops.core.yamlio import YMap
from homeops.kustomize import jsonpatch, selectors, smp
from homeops.kustomize.accumulator import Accumulator
from homeops.kustomize.loader import Loader
from homeops.kustomize.resource import Resource, has_build_annotations


def _patch_text(loader: Loader, entry: dict[str, Any], line: int | None) -> tuple[str, str]:
    krel = loader.krel
    patch = str(entry.get("patch") or "").strip()
    path = entry.get("path")
    if not patch and not path:
        raise KustomizeError("must specify one of patch and path", krel, line, "add patch: or path:")
    if patch and path:
        raise KustomizeError("patch and path can't be set at the same time", krel, line, "keep one of them")
    if patch:
        return patch, krel
    file = loader.resolve(str(path), "patches")
    return loader.read_text(file), loader.rel(file)


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


class ImplicitNulls:
    """Tells, from the source text, whether a null of a resource was written as ``key:`` alone."""

    def __init__(self, files: FileCache) -> None:
        self.files = files
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
                text = self.files.read_text(path if path.is_absolute() else self.files.root / path)
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


@dataclass
class PatchTransformer:
    """One ``patches:`` entry (kustomize's PatchTransformer): strategic merge patches, applied to the
    selected objects or to the object each one names, or JSON 6902 operations for the selected ones."""

    strategic: list[dict[str, Any]] | None
    operations: list[dict[str, Any]] | None
    target: dict[str, Any] | None
    options: dict[str, Any]
    source: str
    krel: str
    line: int | None
    nulls: ImplicitNulls

    @classmethod
    def configure(cls, entry: dict[str, Any], loader: Loader) -> PatchTransformer:
        line = getattr(entry, "line", None)
        text, source = _patch_text(loader, entry, line)
        strategic, operations = _parse(text, source)
        return cls(
            strategic,
            operations,
            entry.get("target"),
            entry.get("options") or {},
            source,
            loader.krel,
            line,
            ImplicitNulls(loader.files),
        )

    def apply(self, acc: Accumulator) -> None:
        if self.strategic is not None:
            if self.target is not None:  # an empty target ({}) selects every object
                if len(self.strategic) > 1:
                    raise KustomizeError(
                        "multiple strategic merge patches in one patches entry cannot set target",
                        self.krel,
                        self.line,
                        "split them into separate entries",
                    )
                for res in selectors.select(acc.resources, self.target):
                    _apply_smp(acc, res, self.strategic[0], self.options, self.nulls)
            else:
                for patch in self.strategic:
                    target = _find_by_id(acc, patch, self.source)
                    _apply_smp(acc, target, patch, self.options, self.nulls)
        else:
            if self.target is None:
                raise KustomizeError(
                    f"must specify a target for JSON patch {self.source}", self.krel, self.line, "add target:"
                )
            _apply_json(selectors.select(acc.resources, self.target), self.operations or [], self.source)


@dataclass
class PatchStrategicMergeTransformer:
    """``patchesStrategicMerge:`` (kustomize's PatchStrategicMergeTransformer): each patch goes to
    the object it names."""

    patches: list[tuple[dict[str, Any], str]]  # each patch with the file it came from
    nulls: ImplicitNulls

    @classmethod
    def configure(
        cls, entries: list[Any], loader: Loader, line: int | None
    ) -> PatchStrategicMergeTransformer:
        """``entries``: file paths or inline patches; ``line``: of the field naming them."""
        patches: list[tuple[dict[str, Any], str]] = []
        for entry in entries:
            text = str(entry)
            if "\n" in text or (":" in text and not text.strip().endswith((".yaml", ".yml", ".json"))):
                source = loader.krel
            else:
                file = loader.resolve(text, "patchesStrategicMerge", line)
                text, source = loader.read_text(file), loader.rel(file)
            sm, _ops = _parse(text, source)
            if sm is None:
                raise KustomizeError("patchesStrategicMerge entries must be objects", source, None)
            patches.extend((patch, source) for patch in sm)
        return cls(patches, ImplicitNulls(loader.files))

    def apply(self, acc: Accumulator) -> None:
        for patch, source in self.patches:
            _apply_smp(acc, _find_by_id(acc, patch, source), patch, {}, self.nulls)


@dataclass
class PatchJson6902Transformer:
    """JSON 6902 operations for the objects a target selects, without remembering their previous id
    (kustomize's PatchJson6902Transformer: ``patchesJson6902:`` entries and plugin objects)."""

    target: dict[str, Any]
    operations: list[dict[str, Any]]
    source: str

    @classmethod
    def configure(cls, entry: dict[str, Any], loader: Loader) -> PatchJson6902Transformer:
        """A ``patchesJson6902:`` entry: ``target`` and ``patch`` or ``path``."""
        line = getattr(entry, "line", None)
        text, source = _patch_text(loader, entry, line)
        _sm, ops = _parse(text, source)
        if ops is None:
            raise KustomizeError("patchesJson6902 needs a list of operations", source, line)
        target = dict(entry.get("target") or {})
        if not target.get("name"):
            raise KustomizeError(
                "must specify the target name",
                loader.krel,
                line,
                "add target.name to the patchesJson6902 entry",
            )
        return cls(target, ops, source)

    @classmethod
    def from_plugin(cls, cfg: dict[str, Any], where: str, loader: Loader) -> PatchJson6902Transformer:
        """A PatchJson6902Transformer object: ``target`` and ``path`` or ``jsonOp``."""
        target = cfg.get("target")
        if not isinstance(target, dict) or not target.get("name"):
            raise KustomizeError("must specify the target name", where)
        path, op = cfg.get("path"), cfg.get("jsonOp")
        if not path and not op:
            raise KustomizeError("empty file path and empty jsonOp", where)
        if path and op:
            raise KustomizeError("must specify a file path or jsonOp, not both", where)
        if path:
            file = loader.resolve(str(path), "path")
            text, source = loader.read_text(file), loader.rel(file)
        else:
            text, source = str(op), where
        ops = jsonpatch.load_json6902(text, source)
        if not ops:
            raise KustomizeError(f"patch appears to be empty: {text!r}", source)
        return cls(target, ops, source)

    def apply(self, acc: Accumulator) -> None:
        _apply_json(
            selectors.select(acc.resources, self.target),
            self.operations,
            self.source,
            store_previous_id=False,
        )


def apply_patches(entries: list[dict[str, Any]], loader: Loader, acc: Accumulator) -> None:
    """``patches:`` entries, configured then applied in order (Helm post-renderers use this)."""
    for transformer in [PatchTransformer.configure(entry, loader) for entry in entries]:
        transformer.apply(acc)
