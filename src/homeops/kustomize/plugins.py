"""kustomize's builtin plugins: one protocol, one table, fed by kustomization fields and by plugin
configuration objects alike (kustomize ``api/internal/target/kusttarget_configplugin.go`` and
``api/internal/plugins/builtinhelpers``).

Every builtin (``ConfigMapGenerator``, ``NamespaceTransformer``, ``PatchTransformer``, ...) is a
:class:`Builtin` row: how to configure it from the kustomization's own fields (kustomize's
*configurators*: ``namespace:`` becomes one NamespaceTransformer, each ``patches:`` entry one
PatchTransformer, ...) and how to configure it from an object of ``generators:``/``transformers:``
whose kind names it. Either way the result is a :class:`Plugin`, applied to the accumulated objects.
As in kustomize, a phase configures all its plugins before it applies any: fields in the table's
order, configuration objects in the order they are listed (every inline entry before any path).

An entry of ``generators:``/``transformers:`` is inline YAML (one or more objects) or a path to a file
or kustomization directory whose objects are the configurations (a directory is built first, so its
own ``namespace:`` or patches reach the configurations). Only builtin plugins run (``apiVersion:
builtin``): kubectl and Flux refuse every other plugin, and so do we. Paths a configuration names
resolve against the kustomization listing it, not against the file holding it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from homeops.core import yamlio
from homeops.core.errors import HomeopsError, KustomizeError, UnsupportedError
from homeops.core.yamlio import YMap, key_line
from homeops.kustomize import generators
from homeops.kustomize.accumulator import Accumulator
from homeops.kustomize.fieldspec import FieldSpec, TransformerConfig
from homeops.kustomize.labels import MapEntriesTransformer, label_specs
from homeops.kustomize.loader import Loader
from homeops.kustomize.namespace import NamespaceTransformer
from homeops.kustomize.resource import Resource

NOT_IMPLEMENTED: Final = frozenset(
    {"HashTransformer", "ValueAddTransformer", "IAMPolicyGenerator", "HelmChartInflationGenerator"}
)
ROLE_BINDING_MODES: Final = ("", "defaultOnly", "none", "allServiceAccounts")


class Plugin(Protocol):
    """A configured builtin: a generator adds objects to the accumulator, a transformer changes them."""

    def apply(self, acc: Accumulator) -> None: ...


@dataclass(frozen=True)
class Fields:
    """What a configurator reads: the kustomization, the transformer configuration merged so far
    (``configurations:`` and the bases'), and the loader of the kustomization's directory."""

    kust: Mapping[str, Any]
    config: TransformerConfig
    loader: Loader


@dataclass(frozen=True)
class Builtin:
    """One builtin plugin kind and its two ways of being configured."""

    kind: str
    from_fields: Callable[[Fields], list[Plugin]] | None  # None: only as a configuration object
    from_object: Callable[[Resource, Loader], Plugin]


# ---------------------------------------------------------------------------------------------- generators


@dataclass
class Generator:
    """kustomize's ConfigMapGenerator or SecretGenerator: one object, created, merged or replaced."""

    kind: str
    args: Mapping[str, Any]
    global_options: Mapping[str, Any] | None
    file: str  # where the generated object says it comes from
    line: int
    error_line: int | None  # for errors the arguments cannot place
    configured_by: dict[str, str]
    loader: Loader

    def apply(self, acc: Accumulator) -> None:
        make = (
            generators.generate_configmap if self.kind == "ConfigMapGenerator" else generators.generate_secret
        )
        loader = self.loader
        try:
            obj, needs_hash = make(
                self.args,
                base_dir=loader.directory,
                root_dir=loader.root_dir,
                global_options=self.global_options,
                boundary=loader.confined_to,
                touch=loader.files.touch,
                remote=(loader.remote, loader.files) if loader.remote is not None else None,
            )
        except HomeopsError as exc:
            if exc.file is None:
                exc.file, exc.line = self.file, self.error_line
            raise
        res = Resource(
            obj=obj,
            file=self.file,
            line=self.line,
            needs_hash=needs_hash,
            generated=True,
            configured_by=self.configured_by,
        )
        acc.add_generated(res, str(self.args.get("behavior") or "create"), loader.krel, self.line)


def _generator_fields(kind: str, key: str) -> Callable[[Fields], list[Plugin]]:
    def configure(fields: Fields) -> list[Plugin]:
        kust, loader = fields.kust, fields.loader
        return [
            Generator(
                kind,
                args,
                kust.get("generatorOptions"),
                loader.krel,
                args.line if isinstance(args, YMap) else 0,
                key_line(kust, key),
                {"apiVersion": "builtin", "kind": kind},
                loader,
            )
            for args in kust.get(key) or []
        ]

    return configure


def _generator_object(res: Resource, loader: Loader) -> Plugin:
    args = {k: v for k, v in res.obj.items() if k not in ("apiVersion", "kind", "metadata")}
    if not args.get("name"):
        args["name"] = res.name
    if not args.get("namespace") and res.namespace:
        args["namespace"] = res.namespace
    by = {"apiVersion": res.api_version, "kind": res.kind, "name": res.name, "namespace": res.namespace}
    where = res.file or loader.krel
    return Generator(res.kind, args, None, where, res.line, res.line or None, by, loader)


# ---------------------------------------------------------------------------------------------- transformers
# Configured from kustomization fields


def _strategic_merge_fields(fields: Fields) -> list[Plugin]:
    entries = fields.kust.get("patchesStrategicMerge")
    if not entries:
        return []
    from homeops.kustomize.patches import (
        PatchStrategicMergeTransformer,
    )  # start-up: loaded when a kustomization uses it

    line = key_line(fields.kust, "patchesStrategicMerge")
    return [PatchStrategicMergeTransformer.configure(list(entries), fields.loader, line)]


def _patch_fields(fields: Fields) -> list[Plugin]:
    entries = fields.kust.get("patches")
    if not entries:
        return []
    from homeops.kustomize.patches import PatchTransformer  # start-up: loaded when a kustomization uses it

    return [PatchTransformer.configure(entry, fields.loader) for entry in entries]


def _namespace_fields(fields: Fields) -> list[Plugin]:
    value = fields.kust.get("namespace")
    if not value:
        return []
    return [NamespaceTransformer(str(value), fields.config.namespace, fields.loader.krel)]


def _prefix_fields(fields: Fields) -> list[Plugin]:
    prefix = str(fields.kust.get("namePrefix") or "")
    if not prefix:
        return []
    from homeops.kustomize.prefixsuffix import (
        PrefixSuffixTransformer,
    )  # start-up: loaded when a kustomization uses it

    return [PrefixSuffixTransformer(prefix, "", fields.config.name_prefix, [])]


def _suffix_fields(fields: Fields) -> list[Plugin]:
    suffix = str(fields.kust.get("nameSuffix") or "")
    if not suffix:
        return []
    from homeops.kustomize.prefixsuffix import (
        PrefixSuffixTransformer,
    )  # start-up: loaded when a kustomization uses it

    return [PrefixSuffixTransformer("", suffix, [], fields.config.name_suffix)]


def _label_fields(fields: Fields) -> list[Plugin]:
    kust, cfg = fields.kust, fields.config
    out: list[Plugin] = [
        MapEntriesTransformer(
            entry.get("pairs") or {}, label_specs(entry, cfg.common_labels, cfg.labels, cfg.template_labels)
        )
        for entry in kust.get("labels") or []
    ]
    if kust.get("commonLabels"):
        out.append(MapEntriesTransformer(kust["commonLabels"], cfg.common_labels))
    return out


def _annotation_fields(fields: Fields) -> list[Plugin]:
    entries = fields.kust.get("commonAnnotations")
    return [MapEntriesTransformer(entries, fields.config.common_annotations, True)] if entries else []


def _json6902_fields(fields: Fields) -> list[Plugin]:
    entries = fields.kust.get("patchesJson6902")
    if not entries:
        return []
    from homeops.kustomize.patches import (
        PatchJson6902Transformer,
    )  # start-up: loaded when a kustomization uses it

    return [PatchJson6902Transformer.configure(entry, fields.loader) for entry in entries]


def _replica_fields(fields: Fields) -> list[Plugin]:
    entries = fields.kust.get("replicas")
    if not entries:
        return []
    from homeops.kustomize.replicas import (
        ReplicaCountTransformer,
    )  # start-up: loaded when a kustomization uses it

    return [ReplicaCountTransformer(list(entries), fields.config.replicas, fields.loader.krel)]


def _image_fields(fields: Fields) -> list[Plugin]:
    entries = [*(fields.kust.get("images") or []), *(fields.kust.get("imageTags") or [])]
    if not entries:
        return []
    from homeops.kustomize.images import ImageTagTransformer  # start-up: loaded when a kustomization uses it

    return [ImageTagTransformer(entries, fields.config.images)]


def _replacement_fields(fields: Fields) -> list[Plugin]:
    entries = fields.kust.get("replacements")
    if not entries:
        return []
    from homeops.kustomize.replacements import (
        ReplacementTransformer,
    )  # start-up: loaded when a kustomization uses it

    line = key_line(fields.kust, "replacements")
    return [ReplacementTransformer.configure(list(entries), fields.loader, line)]


# Configured from objects


def _where(res: Resource, loader: Loader) -> str:
    return res.file or loader.krel


def _specs(cfg: Mapping[str, Any], where: str) -> list[FieldSpec]:
    raw = cfg.get("fieldSpecs")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise KustomizeError("fieldSpecs must be a list", where)
    return [FieldSpec.parse(s) for s in raw]


def _string_map(cfg: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = cfg.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise KustomizeError(f"{key} must be a mapping of strings", where)
    return value


def _namespace_object(res: Resource, loader: Loader) -> Plugin:
    cfg, where = res.obj, _where(res, loader)
    mode = str(cfg.get("setRoleBindingSubjects") or "")
    if mode not in ROLE_BINDING_MODES:
        raise KustomizeError(
            f"invalid value {mode!r} for setRoleBindingSubjects: must be one of 'defaultOnly', "
            "'none' or 'allServiceAccounts'",
            where,
            res.line or None,
        )
    specs = _specs(cfg, where)
    return NamespaceTransformer(
        res.namespace, specs, where, bool(cfg.get("unsetOnly")), mode or "defaultOnly"
    )


def _label_object(res: Resource, loader: Loader) -> Plugin:
    where = _where(res, loader)
    return MapEntriesTransformer(_string_map(res.obj, "labels", where), _specs(res.obj, where))


def _annotation_object(res: Resource, loader: Loader) -> Plugin:
    where = _where(res, loader)
    return MapEntriesTransformer(_string_map(res.obj, "annotations", where), _specs(res.obj, where), True)


def _affix_object(res: Resource, loader: Loader) -> Plugin:
    cfg, where, kind = res.obj, _where(res, loader), res.kind
    if cfg.get("fieldSpecs") is None:
        raise KustomizeError(
            f"plugin {kind} fails configuration: fieldSpecs is not expected to be nil",
            where,
            res.line or None,
            "add fieldSpecs (e.g. path: metadata/name)",
        )
    from homeops.kustomize.prefixsuffix import (
        PrefixSuffixTransformer,
    )  # start-up: loaded when a kustomization uses it

    specs = _specs(cfg, where)
    prefix = str(cfg.get("prefix") or "") if kind != "SuffixTransformer" else ""
    suffix = str(cfg.get("suffix") or "") if kind != "PrefixTransformer" else ""
    return PrefixSuffixTransformer(prefix, suffix, specs, specs)


def _image_object(res: Resource, loader: Loader) -> Plugin:
    where = _where(res, loader)
    tag = res.obj.get("imageTag") or {}
    if not isinstance(tag, dict):
        raise KustomizeError("imageTag must be a mapping", where, res.line or None)
    from homeops.kustomize.images import ImageTagTransformer  # start-up: loaded when a kustomization uses it

    return ImageTagTransformer([tag], _specs(res.obj, where))


def _replica_object(res: Resource, loader: Loader) -> Plugin:
    where = _where(res, loader)
    replica = res.obj.get("replica") or {}
    if not isinstance(replica, dict):
        raise KustomizeError("replica must be a mapping", where)
    from homeops.kustomize.replicas import (
        ReplicaCountTransformer,
    )  # start-up: loaded when a kustomization uses it

    return ReplicaCountTransformer([replica], _specs(res.obj, where), where)


def _patch_object(res: Resource, loader: Loader) -> Plugin:
    from homeops.kustomize.patches import PatchTransformer  # start-up: loaded when a kustomization uses it

    return PatchTransformer.configure(res.obj, loader)


def _strategic_merge_object(res: Resource, loader: Loader) -> Plugin:
    cfg = res.obj
    paths = cfg.get("paths") or []
    inline = str(cfg.get("patches") or "")
    if not paths and not inline:
        raise KustomizeError("empty file path and empty patch content", _where(res, loader))
    entries = [*[str(p) for p in paths], *([inline] if inline else [])]
    from homeops.kustomize.patches import (
        PatchStrategicMergeTransformer,
    )  # start-up: loaded when a kustomization uses it

    return PatchStrategicMergeTransformer.configure(entries, loader, None)


def _json6902_object(res: Resource, loader: Loader) -> Plugin:
    from homeops.kustomize.patches import (
        PatchJson6902Transformer,
    )  # start-up: loaded when a kustomization uses it

    return PatchJson6902Transformer.from_plugin(res.obj, _where(res, loader), loader)


def _replacement_object(res: Resource, loader: Loader) -> Plugin:
    from homeops.kustomize.replacements import (
        ReplacementTransformer,
    )  # start-up: loaded when a kustomization uses it

    return ReplacementTransformer.configure(res.obj.get("replacements") or [], loader, None)


# ---------------------------------------------------------------------------------------------- the table

GENERATORS: Final = (
    Builtin(
        "ConfigMapGenerator", _generator_fields("ConfigMapGenerator", "configMapGenerator"), _generator_object
    ),
    Builtin("SecretGenerator", _generator_fields("SecretGenerator", "secretGenerator"), _generator_object),
)
"""The builtin generators, in the order kustomize runs their fields."""

TRANSFORMERS: Final = (
    Builtin("PatchStrategicMergeTransformer", _strategic_merge_fields, _strategic_merge_object),
    Builtin("PatchTransformer", _patch_fields, _patch_object),
    Builtin("NamespaceTransformer", _namespace_fields, _namespace_object),
    Builtin("PrefixTransformer", _prefix_fields, _affix_object),
    Builtin("SuffixTransformer", _suffix_fields, _affix_object),
    Builtin("PrefixSuffixTransformer", None, _affix_object),
    Builtin("LabelTransformer", _label_fields, _label_object),
    Builtin("AnnotationsTransformer", _annotation_fields, _annotation_object),
    Builtin("PatchJson6902Transformer", _json6902_fields, _json6902_object),
    Builtin("ReplicaCountTransformer", _replica_fields, _replica_object),
    Builtin("ImageTagTransformer", _image_fields, _image_object),
    Builtin("ReplacementTransformer", _replacement_fields, _replacement_object),
)
"""The builtin transformers, in the order kustomize runs their fields."""


def apply_fields(builtins: tuple[Builtin, ...], fields: Fields, acc: Accumulator) -> None:
    """Configure every builtin the kustomization's fields ask for, then apply them in table order."""
    plugins = [plugin for b in builtins if b.from_fields is not None for plugin in b.from_fields(fields)]
    _apply(plugins, acc, renames=builtins is TRANSFORMERS)


def apply_objects(
    builtins: tuple[Builtin, ...], configs: list[Resource], what: str, loader: Loader, acc: Accumulator
) -> None:
    """Configure a plugin from each configuration object (``what``: generator or transformer), then
    apply them in order."""
    by_kind = {b.kind: b for b in builtins}
    kinds = [_check_builtin(res, loader.krel, by_kind, what) for res in configs]
    plugins = [by_kind[kind].from_object(res, loader) for res, kind in zip(configs, kinds, strict=True)]
    _apply(plugins, acc, renames=builtins is TRANSFORMERS)


def _apply(plugins: list[Plugin], acc: Accumulator, *, renames: bool) -> None:
    """Apply in order; transformers may rename objects, so the accumulator's id index is rebuilt after
    them (generators keep it: each object they add goes through it)."""
    for plugin in plugins:
        plugin.apply(acc)
        if renames:
            acc.invalidate()


def inline_configs(entry: str, krel: str) -> list[Resource] | None:
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


def _check_builtin(res: Resource, krel: str, allowed: Mapping[str, Builtin], what: str) -> str:
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
        if any(gvk.kind == b.kind for b in (*GENERATORS, *TRANSFORMERS)):
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
