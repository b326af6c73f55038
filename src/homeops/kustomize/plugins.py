"""Builtin plugins configured by objects: the ``transformers:`` and ``generators:`` fields.

An entry of either field is inline YAML (one or more objects) or a path to a file or kustomization
directory whose objects are the configurations (a directory is built first, so its own ``namespace:``
or patches reach the configurations). As in kustomize, every inline entry is read before any path.
Only builtin plugins run (``apiVersion: builtin``, the kinds kustomize links statically): kubectl and
Flux refuse every other plugin, and so do we. Paths a configuration names resolve against the
kustomization listing it, not against the file holding it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeops.core import yamlio
from homeops.core.errors import HomeopsError, KustomizeError, UnsupportedError
from homeops.kustomize import images, labels, namespace, prefixsuffix, replicas
from homeops.kustomize.fieldspec import FieldSpec
from homeops.kustomize.resource import Resource

if TYPE_CHECKING:
    from homeops.kustomize.build import Accumulator, Builder

TRANSFORMERS = frozenset({
    "AnnotationsTransformer", "ImageTagTransformer", "LabelTransformer", "NamespaceTransformer",
    "PatchJson6902Transformer", "PatchStrategicMergeTransformer", "PatchTransformer", "PrefixSuffixTransformer",
    "PrefixTransformer", "SuffixTransformer", "ReplacementTransformer", "ReplicaCountTransformer",
})  # fmt: skip
GENERATORS = frozenset({"ConfigMapGenerator", "SecretGenerator"})
NOT_IMPLEMENTED = frozenset(
    {"HashTransformer", "ValueAddTransformer", "IAMPolicyGenerator", "HelmChartInflationGenerator"}
)
ROLE_BINDING_MODES = ("", "defaultOnly", "none", "allServiceAccounts")


def _inline(entry: str, krel: str) -> list[Resource] | None:
    """The objects of an inline configuration, or None when the entry is a path (as kustomize decides)."""
    if "\n" not in entry and ":" not in entry:
        return None
    try:
        docs = yamlio.load_all(entry, krel)
    except HomeopsError:
        return None
    out: list[Resource] = []
    for doc in docs:
        if not isinstance(doc, dict):
            return None
        items = doc.get("items") if doc.get("kind") == "List" else [doc]
        for item in items or []:
            meta = item.get("metadata") if isinstance(item, dict) else None
            if not (
                isinstance(item, dict) and item.get("kind") and isinstance(meta, dict) and meta.get("name")
            ):
                return None
            out.append(Resource.from_obj(yamlio.deep_copy(item), krel))
    return out


def load_configs(
    builder: Builder, directory: Path, kust: dict[str, Any], key: str, krel: str, stack: tuple[Path, ...]
) -> list[Resource]:
    """The configuration objects of ``transformers:`` or ``generators:``, in kustomize's order."""
    from homeops.kustomize.build import Accumulator

    acc = Accumulator()
    paths: list[str] = []
    for raw in kust.get(key) or []:
        entry = str(raw)
        objs = _inline(entry, krel)
        if objs is None:
            paths.append(entry)
            continue
        for res in objs:
            acc.append(res)
    for entry in paths:
        builder._accumulate_entry(directory, entry, acc, stack, kust, krel)
    return acc.resources


def _check_builtin(res: Resource, krel: str, allowed: frozenset[str], what: str) -> str:
    gvk = res.gvk
    where = res.file or krel
    if gvk.group or gvk.version != "builtin":
        raise UnsupportedError(
            f"{what} plugin {gvk.kind} ({res.api_version}) is not a builtin: external plugins are "
            "disabled in kubectl and Flux",
            where,
            res.line or None,
            "use a builtin plugin (apiVersion: builtin) or the kustomization's own fields",
        )
    if gvk.kind in NOT_IMPLEMENTED:
        raise UnsupportedError(
            f"builtin plugin {gvk.kind} is not supported by the native engine",
            where,
            res.line or None,
            "use --engine kubectl for this directory",
        )
    if gvk.kind not in allowed:
        if gvk.kind in TRANSFORMERS | GENERATORS:
            other = "generator" if what == "transformer" else "transformer"
            raise KustomizeError(
                f"plugin {gvk.kind} is a {other}, not a {what}",
                where,
                res.line or None,
                f"list it under {other}s:",
            )
        raise KustomizeError(
            f"unable to load builtin {gvk.kind}.builtin.[noGrp]",
            where,
            res.line or None,
            "use one of kustomize's builtin plugin kinds",
        )
    return gvk.kind


def _specs(cfg: dict[str, Any], where: str) -> list[FieldSpec]:
    raw = cfg.get("fieldSpecs")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise KustomizeError("fieldSpecs must be a list", where)
    return [FieldSpec.parse(s) for s in raw]


def _string_map(cfg: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = cfg.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise KustomizeError(f"{key} must be a mapping of strings", where)
    return value


# ---------------------------------------------------------------------------------------------- transformers


def run_transformers(
    builder: Builder,
    directory: Path,
    kust: dict[str, Any],
    krel: str,
    acc: Accumulator,
    stack: tuple[Path, ...],
) -> None:
    configs = load_configs(builder, directory, kust, "transformers", krel, stack)
    kinds = [_check_builtin(res, krel, TRANSFORMERS, "transformer") for res in configs]
    for res, kind in zip(configs, kinds, strict=True):
        acc.invalidate()
        _transform(builder, directory, kind, res, krel, acc)
    acc.invalidate()


def _transform(
    builder: Builder, directory: Path, kind: str, res: Resource, krel: str, acc: Accumulator
) -> None:
    cfg = res.obj
    where = res.file or krel
    resources = acc.resources
    if kind == "NamespaceTransformer":
        mode = str(cfg.get("setRoleBindingSubjects") or "")
        if mode not in ROLE_BINDING_MODES:
            raise KustomizeError(
                f"invalid value {mode!r} for setRoleBindingSubjects: must be one of 'defaultOnly', "
                "'none' or 'allServiceAccounts'",
                where,
                res.line or None,
            )
        namespace.set_namespace(
            resources,
            res.namespace,
            _specs(cfg, where),
            unset_only=bool(cfg.get("unsetOnly")),
            subjects=mode or "defaultOnly",
        )
        from homeops.kustomize.build import _check_unique

        _check_unique(resources, where, "namespace")
    elif kind == "LabelTransformer":
        labels.add_map_entries(resources, _string_map(cfg, "labels", where), _specs(cfg, where))
    elif kind == "AnnotationsTransformer":
        labels.add_map_entries(
            resources, _string_map(cfg, "annotations", where), _specs(cfg, where), annotations=True
        )
    elif kind in ("PrefixSuffixTransformer", "PrefixTransformer", "SuffixTransformer"):
        if cfg.get("fieldSpecs") is None:
            raise KustomizeError(
                f"plugin {kind} fails configuration: fieldSpecs is not expected to be nil",
                where,
                res.line or None,
                "add fieldSpecs (e.g. path: metadata/name)",
            )
        specs = _specs(cfg, where)
        prefix = str(cfg.get("prefix") or "") if kind != "SuffixTransformer" else ""
        suffix = str(cfg.get("suffix") or "") if kind != "PrefixTransformer" else ""
        prefixsuffix.add_prefix_suffix(resources, prefix, suffix, specs, specs)
    elif kind == "ImageTagTransformer":
        tag = cfg.get("imageTag") or {}
        if not isinstance(tag, dict):
            raise KustomizeError("imageTag must be a mapping", where, res.line or None)
        images.set_images(resources, [tag], _specs(cfg, where))
    elif kind == "ReplicaCountTransformer":
        _replica_count(cfg, where, resources)
    elif kind == "PatchTransformer":
        from homeops.kustomize import patches

        patches.apply_patches(builder, directory, {"patches": [cfg]}, krel, acc)
    elif kind == "PatchStrategicMergeTransformer":
        _patch_strategic_merge(builder, directory, cfg, where, krel, acc)
    elif kind == "PatchJson6902Transformer":
        _patch_json6902(builder, directory, cfg, where, krel, acc)
    elif kind == "ReplacementTransformer":
        from homeops.kustomize import replacements

        entries = cfg.get("replacements") or []
        replacements.apply_replacements(builder, directory, {"replacements": entries}, krel, acc)


def _replica_count(cfg: dict[str, Any], where: str, resources: list[Resource]) -> None:
    replica = cfg.get("replica") or {}
    if not isinstance(replica, dict):
        raise KustomizeError("replica must be a mapping", where)
    replicas.set_replicas(resources, [replica], _specs(cfg, where), where)


def _patch_strategic_merge(
    builder: Builder, directory: Path, cfg: dict[str, Any], where: str, krel: str, acc: Accumulator
) -> None:
    from homeops.kustomize import patches

    paths = cfg.get("paths") or []
    inline = str(cfg.get("patches") or "")
    if not paths and not inline:
        raise KustomizeError("empty file path and empty patch content", where)
    entries = [*[str(p) for p in paths], *([inline] if inline else [])]
    patches.apply_legacy_strategic_merge(builder, directory, {"patchesStrategicMerge": entries}, krel, acc)


def _patch_json6902(
    builder: Builder, directory: Path, cfg: dict[str, Any], where: str, krel: str, acc: Accumulator
) -> None:
    from homeops.kustomize import jsonpatch, patches, selectors

    target = cfg.get("target")
    if not isinstance(target, dict) or not target.get("name"):
        raise KustomizeError("must specify the target name", where)
    path, op = cfg.get("path"), cfg.get("jsonOp")
    if not path and not op:
        raise KustomizeError("empty file path and empty jsonOp", where)
    if path and op:
        raise KustomizeError("must specify a file path or jsonOp, not both", where)
    if path:
        file = builder._resolve_file(directory, str(path), krel, {}, "path")
        text, source = builder.files.read_text(file), builder.rel(file)
    else:
        text, source = str(op), where
    ops = jsonpatch.load_json6902(text, source)
    if not ops:
        raise KustomizeError(f"patch appears to be empty: {text!r}", source)
    patches._apply_json(selectors.select(acc.resources, target), ops, source, store_previous_id=False)


# ---------------------------------------------------------------------------------------------- generators


def run_generators(
    builder: Builder,
    directory: Path,
    kust: dict[str, Any],
    krel: str,
    acc: Accumulator,
    stack: tuple[Path, ...],
) -> None:
    from homeops.kustomize import generators

    configs = load_configs(builder, directory, kust, "generators", krel, stack)
    kinds = [_check_builtin(res, krel, GENERATORS, "generator") for res in configs]
    root = directory if builder.options.load_restrictor == "rootOnly" else Path("/")
    for res, kind in zip(configs, kinds, strict=True):
        cfg = res.obj
        args = {k: v for k, v in cfg.items() if k not in ("apiVersion", "kind", "metadata")}
        if not args.get("name"):
            args["name"] = res.name
        if not args.get("namespace") and res.namespace:
            args["namespace"] = res.namespace
        fn = generators.generate_configmap if kind == "ConfigMapGenerator" else generators.generate_secret
        try:
            obj, needs_hash = fn(args, base_dir=directory, root_dir=root, global_options=None)
        except HomeopsError as exc:
            if exc.file is None:
                exc.file, exc.line = res.file or krel, res.line or None
            raise
        by = {"apiVersion": res.api_version, "kind": kind, "name": res.name, "namespace": res.namespace}
        generated = Resource(
            obj=obj,
            file=res.file or krel,
            line=res.line,
            needs_hash=needs_hash,
            generated=True,
            configured_by=by,
        )
        builder._add_generated(acc, generated, str(args.get("behavior") or "create"), krel, res.line)
