"""The native kustomize engine: ``build(dir)`` returns what ``kustomize build dir`` prints.

The order of work mirrors kustomize's ``KustTarget``: accumulate ``resources`` (recursing into
directories), merge transformer ``configurations``, run generators, apply ``components`` to what has
been accumulated, then run the builtin transformers in kustomize's order. Only at the top level:
hash suffixes of generated objects, name references, dropping local-config objects, sorting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core import yamlemit
from homeops.core.errors import HomeopsError, KustomizeError, UnsupportedError
from homeops.core.files import FileCache, clean
from homeops.core.gocompat import kyaml
from homeops.core.yamlio import YMap, deep_copy, key_line
from homeops.kustomize import (
    fieldspec,
    images,
    labels,
    nameref,
    namespace,
    prefixsuffix,
    replicas,
    schema,
    sortorder,
)
from homeops.kustomize.fieldspec import TransformerConfig
from homeops.kustomize.resource import Resource

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
LOCAL_CONFIG = "config.kubernetes.io/local-config"

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "kustomize-(devel)"  # what kubectl's kustomize (no release stamp) writes
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
OPENAPI_VERSION = "v1.21.2"  # the one schema built into kustomize v5.5
KUSTOMIZATION_VERSION = "kustomize.config.k8s.io/v1beta1"
COMPONENT_VERSION = "kustomize.config.k8s.io/v1alpha1"
# Fields kustomize's FixKustomization appends to another (``append(nil, empty...)`` stays nil, so an
# empty list there leaves the kustomization empty), and the type metadata CheckEmpty ignores.
_MOVED_FIELDS = frozenset({"bases", "imageTags", "helmChartInflationGenerator"})
_TYPE_FIELDS = frozenset({"apiVersion", "kind"})

KNOWN_FIELDS = frozenset({
    "apiVersion", "kind", "metadata", "resources", "bases", "components", "namespace", "namePrefix", "nameSuffix",
    "commonLabels", "labels", "commonAnnotations", "configMapGenerator", "secretGenerator", "generatorOptions",
    "patches", "patchesStrategicMerge", "patchesJson6902", "images", "imageTags", "replicas", "replacements",
    "configurations", "crds", "vars", "sortOptions", "openapi", "buildMetadata", "generators", "transformers",
    "validators", "helmCharts", "helmGlobals", "helmChartInflationGenerator",
})  # fmt: skip


def find_kustomization_file(directory: Path) -> Path | None:
    found = [directory / name for name in KUSTOMIZATION_FILES if (directory / name).is_file()]
    if len(found) > 1:
        raise KustomizeError(
            f"found multiple kustomization files under: {directory}",
            hint="keep exactly one of kustomization.yaml, kustomization.yml, Kustomization",
        )
    return found[0] if found else None


def is_remote(entry: str) -> bool:
    return (
        "://" in entry
        or entry.startswith(("github.com/", "gitlab.com/", "bitbucket.org/", "git@"))
        or "?ref=" in entry
    )


@dataclass
class Accumulator:
    """What one build level has gathered (kustomize's ResAccumulator)."""

    resources: list[Resource] = field(default_factory=list)
    config: TransformerConfig = field(default_factory=TransformerConfig.default)
    _index: dict[tuple[Any, ...], Resource] | None = field(default=None, repr=False)

    @staticmethod
    def _key(res: Resource) -> tuple[Any, ...]:
        cid = res.cur_id
        return (cid.gvk, cid.name, cid.effective_namespace)

    def invalidate(self) -> None:
        """Transformers may have renamed objects: rebuild the id index on next use."""
        self._index = None

    def append(self, res: Resource) -> None:
        if self._index is None:
            self._index = {self._key(r): r for r in self.resources}
        key = self._key(res)
        existing = self._index.get(key)
        if existing is not None:
            cid = res.cur_id
            raise KustomizeError(
                f"may not add resource with an already registered id: {cid.describe()}",
                res.file,
                res.line,
                f"the same object is also defined at {existing.where()}",
            )
        self._index[key] = res
        self.resources.append(res)


@dataclass
class BuildOptions:
    load_restrictor: str = "rootOnly"  # kubectl's default; Flux builds with "none"


class Builder:
    """Builds kustomization directories; one builder shares its parsed files across builds."""

    def __init__(
        self, root: Path | None = None, files: FileCache | None = None, options: BuildOptions | None = None
    ):
        self.root = (root or Path.cwd()).resolve()
        self.files = files or FileCache(self.root)
        self.options = options or BuildOptions()

    # ------------------------------------------------------------------ entry points
    def build(self, directory: Path, kustomization: dict[str, Any] | None = None) -> list[Resource]:
        """Everything ``kustomize build directory`` prints, in its order.

        ``kustomization`` replaces the directory's kustomization file (Flux generates one).
        """
        directory = _real(clean(directory))
        top = (
            kustomization
            if kustomization is not None
            else self._load_kustomization(directory, component=None)[0]
        )
        build_metadata = [str(o) for o in top.get("buildMetadata") or []]
        if "transformerAnnotations" in build_metadata:
            raise UnsupportedError(
                "buildMetadata transformerAnnotations is not supported by the native engine",
                self.rel(find_kustomization_file(directory) or directory),
                key_line(top, "buildMetadata"),
                "use --engine kubectl for this directory",
            )
        self._check_openapi(directory, top)
        acc = self._accumulate(directory, Accumulator(), stack=(), kustomization=top, component=None)
        resources = acc.resources
        self._add_hashes(resources)
        nameref.fix_name_references(resources, acc.config.name_references)
        # kustomize rebuilds its resource map here (dropping local config): two objects a transformer
        # (a replacement, a renaming patch) left with one id make it fail
        _check_unique(resources, self.rel(find_kustomization_file(directory) or directory), "")
        for res in resources:
            if res.obj and not res.name and not res.kind.endswith("List"):
                raise KustomizeError(
                    f"missing metadata.name in object {res.kind}",
                    res.file,
                    res.line or None,
                    "a transformer (a replacement?) left the object without a name",
                )
        resources = [r for r in resources if r.annotations.get(LOCAL_CONFIG) != "true"]
        for res in resources:
            _rewrite_annotations(res)
        resources = sortorder.apply_sort_options(resources, top.get("sortOptions"))
        # only the top kustomization's buildMetadata counts (kustomize hands it down to every base)
        if "managedByLabel" in build_metadata:
            labels.add_map_entries(
                resources,
                {MANAGED_BY: MANAGED_BY_VALUE},
                [fieldspec.FieldSpec("metadata/labels", create=True)],
            )
        if "originAnnotations" in build_metadata:
            for res in resources:
                self._annotate_origin(res, directory)
        return resources

    def _check_openapi(self, directory: Path, top: dict[str, Any]) -> None:
        """The top kustomization's ``openapi:``: the built-in schema version, or a custom one we refuse."""
        openapi = top.get("openapi") or {}
        if "path" in openapi:
            krel = self.rel(find_kustomization_file(directory) or directory)
            self._resolve_file(directory, str(openapi["path"]), krel, top, "openapi")
            if "version" in openapi:
                raise KustomizeError(
                    "builtin version and custom schema provided, cannot use both",
                    krel,
                    key_line(top, "openapi"),
                    "keep openapi.path or openapi.version",
                )
            raise UnsupportedError(
                "a custom OpenAPI schema (openapi.path) is not supported by the native engine",
                krel,
                key_line(top, "openapi"),
                "use --engine kubectl for this directory",
            )
        version = openapi.get("version")
        if version and version != OPENAPI_VERSION:
            raise KustomizeError(
                "the specified OpenAPI version is not built in",
                self.rel(find_kustomization_file(directory) or directory),
                key_line(top, "openapi"),
                f"kustomize v5.5 has only {OPENAPI_VERSION}",
            )

    def _annotate_origin(self, res: Resource, top_dir: Path) -> None:
        """kustomize's ``config.kubernetes.io/origin``: the file an object came from, or what generated it."""
        if not res.file:
            return
        source = os.path.relpath(clean(self.files.root / res.file), top_dir).replace(os.sep, "/")
        if res.generated and res.configured_by:
            text = f"configuredIn: {_yaml_value(source)}\nconfiguredBy:\n"
            text += "".join(f"  {k}: {_yaml_value(v)}\n" for k, v in res.configured_by.items() if v)
        else:
            text = f"path: {_yaml_value(source)}\n"
        meta = res.metadata
        annotations = meta.get("annotations")
        if not isinstance(annotations, dict):
            annotations = meta["annotations"] = YMap()
        annotations[ORIGIN_ANNOTATION] = text

    # ------------------------------------------------------------------ loading
    def rel(self, path: Path) -> str:
        return self.files.rel(path)

    def _load_kustomization(self, directory: Path, *, component: bool | None) -> tuple[dict[str, Any], Path]:
        path = find_kustomization_file(directory)
        if path is None:
            raise KustomizeError(
                f"unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{self.rel(directory)}'",
                self.rel(directory),
                None,
                "add a kustomization.yaml or point at a file instead",
            )
        doc = self.files.load_one(path)
        if doc is None:
            doc = YMap()
        if not isinstance(doc, dict):
            raise KustomizeError("a kustomization must be a mapping", self.rel(path), 1)
        rel = self.rel(path)
        doc = schema.normalize(doc, rel, self.files.read_text(path))
        kind = doc.get("kind") or "Kustomization"
        if _is_empty(doc):
            raise KustomizeError("kustomization.yaml is empty", rel, 1, "list resources, or delete the file")
        problems = []
        if kind not in ("Kustomization", "Component"):
            problems.append("kind should be Kustomization or Component")
        required = COMPONENT_VERSION if kind == "Component" else KUSTOMIZATION_VERSION
        if doc.get("apiVersion") and doc.get("apiVersion") != required:
            problems.append(f"apiVersion for {kind} should be {required}")
        if problems:
            raise KustomizeError(
                f"Failed to read kustomization file under {self.rel(directory)}: {'; '.join(problems)}",
                rel,
                1,
                "fix apiVersion and kind",
            )
        # the top level may be a Kustomization or a Component
        if component and kind != "Component":
            raise KustomizeError(
                f"expected kind 'Component' for path '{self.rel(directory)}' but got '{kind}'",
                rel,
                1,
                "set kind: Component and apiVersion: kustomize.config.k8s.io/v1alpha1",
            )
        if component is False and kind == "Component":
            raise KustomizeError(
                f"expected kind != 'Component' for path '{self.rel(directory)}'",
                rel,
                1,
                "list a Component under components:, not resources:",
            )
        return doc, path

    # ------------------------------------------------------------------ accumulate
    def _accumulate(
        self,
        directory: Path,
        acc: Accumulator,
        *,
        stack: tuple[Path, ...],
        kustomization: dict[str, Any] | None,
        component: bool | None,
    ) -> Accumulator:
        if directory in stack:
            raise KustomizeError(
                f"cycle detected: '{self.rel(directory)}' includes itself",
                self.rel(directory),
                None,
                "remove the entry that points back at this directory",
            )
        stack = (*stack, directory)
        if kustomization is None:
            kust, kfile = self._load_kustomization(directory, component=component)
        else:
            kust, kfile = (
                kustomization,
                find_kustomization_file(directory) or directory / "kustomization.yaml",
            )
        krel = self.rel(kfile)
        self._refuse_unsupported(kust, krel)

        entries = [*(kust.get("resources") or []), *(kust.get("bases") or [])]
        for entry in entries:
            self._accumulate_entry(directory, str(entry), acc, stack, kust, krel)

        for cfg in kust.get("configurations") or []:
            cfg_path = self._resolve_file(directory, str(cfg), krel, kust, "configurations")
            data = self.files.load_one(cfg_path) or {}
            try:
                acc.config = acc.config.merged_with(data)
            except KustomizeError as exc:
                raise KustomizeError(exc.what, self.rel(cfg_path), None, exc.hint) from None

        self._run_generators(directory, kust, krel, acc)
        if kust.get("generators"):
            from homeops.kustomize import plugins

            plugins.run_generators(self, directory, kust, krel, acc, stack)

        for comp in kust.get("components") or []:
            comp_dir = _real(clean(directory / str(comp)))
            if is_remote(str(comp)):
                raise UnsupportedError(
                    f"remote component {comp!r} is not supported by the native engine",
                    krel,
                    key_line(kust, "components"),
                    "vendor it into the repository or use --engine kubectl",
                )
            if not comp_dir.is_dir():
                raise KustomizeError(
                    f"component path '{comp}' is not a directory",
                    krel,
                    key_line(kust, "components"),
                    "fix the path",
                )
            self._accumulate(comp_dir, acc, stack=stack, kustomization=None, component=True)

        self._run_transformers(directory, kust, krel, acc)
        if kust.get("transformers"):
            from homeops.kustomize import plugins

            plugins.run_transformers(self, directory, kust, krel, acc, stack)
        return acc

    def _refuse_unsupported(self, kust: dict[str, Any], krel: str) -> None:
        for key, what in (
            ("helmCharts", "helmCharts"),
            ("helmChartInflationGenerator", "helmChartInflationGenerator"),
            ("validators", "validator plugins"),
            ("vars", "vars"),
            ("crds", "crds"),
        ):
            if kust.get(key):
                raise UnsupportedError(
                    f"{what} are not supported by the native engine",
                    krel,
                    key_line(kust, key),
                    "use --engine kubectl for this directory",
                )

    def _resolve_file(self, directory: Path, entry: str, krel: str, kust: dict[str, Any], key: str) -> Path:
        path = clean(directory / entry)
        if self.options.load_restrictor == "rootOnly" and not _within(path, directory):
            raise KustomizeError(
                f"security; file '{entry}' is not in or below '{self.rel(directory)}'",
                krel,
                key_line(kust, key),
                "move the file under the kustomization directory or make it a resource of a base",
            )
        if not path.is_file():
            raise KustomizeError(
                f"{key} entry '{entry}' does not exist", krel, key_line(kust, key), "fix the path"
            )
        return path

    def _accumulate_entry(
        self,
        directory: Path,
        entry: str,
        acc: Accumulator,
        stack: tuple[Path, ...],
        kust: dict[str, Any],
        krel: str,
    ) -> None:
        if is_remote(entry):
            raise UnsupportedError(
                f"remote resource {entry!r} is not supported by the native engine",
                krel,
                key_line(kust, "resources"),
                "vendor it into the repository or use --engine kubectl",
            )
        path = clean(directory / entry)
        if path.is_dir():
            path = _real(path)
            sub = self._accumulate(path, Accumulator(), stack=stack, kustomization=None, component=False)
            for res in sub.resources:
                acc.append(res)
            acc.config = _merge_configs(acc.config, sub.config)
            return
        if not path.exists():
            raise KustomizeError(
                f"accumulating resources: '{entry}' does not exist",
                krel,
                self._line_of_entry(kust, "resources", entry),
                "fix the path or remove the entry",
            )
        if self.options.load_restrictor == "rootOnly" and not _within(path, directory):
            raise KustomizeError(
                f"security; file '{entry}' is not in or below '{self.rel(directory)}'",
                krel,
                self._line_of_entry(kust, "resources", entry),
                "move the file under the kustomization directory or reference its directory",
            )
        for res in self.load_resources(path):
            acc.append(res)

    def load_resources(self, path: Path) -> list[Resource]:
        """The objects of one manifest file, fresh copies (``kind: List`` expanded)."""
        rel = self.rel(path)
        out: list[Resource] = []
        for doc in self.files.load_all(path):
            if not isinstance(doc, dict):
                raise KustomizeError("a resource must be a mapping", rel, None, "remove the stray document")
            obj = deep_copy(doc)
            if obj.get("kind") == "List" or (str(obj.get("kind") or "").endswith("List") and "items" in obj):
                for item in obj.get("items") or []:
                    if isinstance(item, dict):
                        out.append(Resource.from_obj(item, rel))
                continue
            if not obj.get("kind"):
                raise KustomizeError(
                    "missing kind in object",
                    rel,
                    getattr(obj, "line", None),
                    "every resource needs apiVersion and kind",
                )
            meta = obj.get("metadata")
            if not (isinstance(meta, dict) and meta.get("name") not in (None, "")):
                # kustomize v5.5 has no generateName support: it needs a name
                raise KustomizeError(
                    "missing metadata.name in object",
                    rel,
                    getattr(obj, "line", None),
                    "give the object a name",
                )
            out.append(Resource.from_obj(obj, rel))
        return out

    def _line_of_entry(self, kust: dict[str, Any], key: str, entry: str) -> int | None:
        """The line of the list item naming ``entry`` (the key's line when it cannot be found)."""
        base = key_line(kust, key)
        file = getattr(kust, "file", None)
        if not base or not file:
            return base
        try:
            lines = self.files.read_text(self.root / file).splitlines()
        except HomeopsError:
            return base
        for index in range(base - 1, len(lines)):
            text = lines[index].split("#", 1)[0]
            if entry in text:
                return index + 1
        return base

    # ------------------------------------------------------------------ generators
    def _run_generators(self, directory: Path, kust: dict[str, Any], krel: str, acc: Accumulator) -> None:
        cm_args = kust.get("configMapGenerator") or []
        secret_args = kust.get("secretGenerator") or []
        if not cm_args and not secret_args:
            return
        from homeops.kustomize import generators

        global_options = kust.get("generatorOptions")
        root = directory if self.options.load_restrictor == "rootOnly" else Path("/")
        for key, fn in (
            ("configMapGenerator", generators.generate_configmap),
            ("secretGenerator", generators.generate_secret),
        ):
            for args in kust.get(key) or []:
                try:
                    obj, needs_hash = fn(
                        args, base_dir=directory, root_dir=root, global_options=global_options
                    )
                except HomeopsError as exc:
                    if exc.file is None:
                        exc.file, exc.line = krel, key_line(kust, key)
                    raise
                line = args.line if isinstance(args, YMap) else 0
                res = Resource(
                    obj=obj,
                    file=krel,
                    line=line,
                    needs_hash=needs_hash,
                    generated=True,
                    configured_by={"apiVersion": "builtin", "kind": key[0].upper() + key[1:]},
                )
                behavior = str(args.get("behavior") or "create")
                self._add_generated(acc, res, behavior, krel, line)

    def _add_generated(self, acc: Accumulator, res: Resource, behavior: str, krel: str, line: int) -> None:
        from homeops.kustomize import generators

        cid = res.cur_id
        matches = [
            r for r in acc.resources if any(i.same(cid) for i in r.all_ids()) or _same_generated(r, res)
        ]
        if behavior not in ("merge", "replace"):
            behavior = "create"  # kustomize treats an unknown behavior as create
        if behavior == "create":
            if matches:
                raise KustomizeError(
                    f"{cid.describe()} already exists; use behavior merge or replace",
                    krel,
                    line,
                    "set behavior: merge or behavior: replace",
                )
            acc.append(res)
            return
        if len(matches) != 1:
            raise KustomizeError(
                f"cannot {behavior} {cid.describe()}: no existing object with that id",
                krel,
                line,
                "generate it with behavior create in a base first",
            )
        old = matches[0]
        old.obj = generators.apply_behavior(old.obj, res.obj, behavior)
        old.needs_hash = generators.merged_needs_hash(old.needs_hash, res.needs_hash, behavior)
        old.generated = True

    # ------------------------------------------------------------------ transformers
    def _run_transformers(self, directory: Path, kust: dict[str, Any], krel: str, acc: Accumulator) -> None:
        acc.invalidate()
        cfg = acc.config
        if kust.get("patchesStrategicMerge"):
            from homeops.kustomize import patches

            patches.apply_legacy_strategic_merge(self, directory, kust, krel, acc)
        if kust.get("patches"):
            from homeops.kustomize import patches

            patches.apply_patches(self, directory, kust, krel, acc)
        if kust.get("namespace"):
            namespace.set_namespace(acc.resources, str(kust["namespace"]), cfg.namespace)
            _check_unique(acc.resources, krel, "namespace")
        prefixsuffix.add_prefix_suffix(
            acc.resources,
            str(kust.get("namePrefix") or ""),
            str(kust.get("nameSuffix") or ""),
            cfg.name_prefix,
            cfg.name_suffix,
        )
        for entry in kust.get("labels") or []:
            pairs = entry.get("pairs") or {}
            specs = labels.label_specs(entry, cfg.common_labels, cfg.labels, cfg.template_labels)
            labels.add_map_entries(acc.resources, pairs, specs)
        if kust.get("commonLabels"):
            labels.add_map_entries(acc.resources, kust["commonLabels"], cfg.common_labels)
        if kust.get("commonAnnotations"):
            labels.add_map_entries(
                acc.resources, kust["commonAnnotations"], cfg.common_annotations, annotations=True
            )
        if kust.get("patchesJson6902"):
            from homeops.kustomize import patches

            patches.apply_legacy_json6902(self, directory, kust, krel, acc)
        if kust.get("replicas"):
            replicas.set_replicas(acc.resources, list(kust["replicas"]), cfg.replicas, krel)
        image_entries = [*(kust.get("images") or []), *(kust.get("imageTags") or [])]
        if image_entries:
            images.set_images(acc.resources, image_entries, cfg.images)
        if kust.get("replacements"):
            from homeops.kustomize import replacements

            replacements.apply_replacements(self, directory, kust, krel, acc)

    # ------------------------------------------------------------------ top level
    def _add_hashes(self, resources: list[Resource]) -> None:
        todo = [r for r in resources if r.needs_hash]
        if not todo:
            return
        from homeops.kustomize.hashing import content_hash

        for res in todo:
            suffix = content_hash(res.obj)
            res.store_previous_id()
            res.name = f"{res.name}-{suffix}"


def _yaml_value(text: str) -> str:
    """``text`` as a YAML scalar (plain when it can be)."""
    return yamlemit.dump({"v": text})[3:].rstrip("\n")


def _rewrite_annotations(res: Resource) -> None:
    """kustomize ends by rewriting every object's annotations as a string map (its own removed).

    So an empty or null ``annotations`` is dropped, and every value becomes its text: ``1`` prints
    as ``"1"``, ``true`` as ``"true"``, ``null`` as ``"null"``. Labels are left as they are.
    """
    meta = res.obj.get("metadata")
    if not isinstance(meta, dict) or "annotations" not in meta:
        return
    annotations = meta["annotations"]
    if not annotations:
        del meta["annotations"]
    elif isinstance(annotations, dict):
        for key, value in annotations.items():
            if not isinstance(value, str):
                annotations[key] = kyaml.scalar_value(value)


def _is_empty(doc: dict[str, Any]) -> bool:
    """kustomize's CheckEmpty: nothing but type metadata, nulls, empty strings and moved empty lists.

    An empty list or mapping elsewhere (``resources: []``, ``commonLabels: {}``) is not empty to Go.
    """
    for key, value in doc.items():
        if key in _TYPE_FIELDS or value is None or value == "":
            continue
        if key in _MOVED_FIELDS and value == []:
            continue
        return False
    return True


def _same_generated(existing: Resource, new: Resource) -> bool:
    return (
        existing.generated
        and existing.kind == new.kind
        and existing.org_id.name == new.name
        and (existing.org_id.namespace or "default") == (new.namespace or "default")
    )


def _check_unique(resources: list[Resource], krel: str, what: str) -> None:
    seen: dict[tuple[Any, ...], Resource] = {}
    for res in resources:
        cid = res.cur_id
        key = (cid.gvk, cid.name, cid.effective_namespace)
        if key in seen:
            message = (
                f"may not add resource with an already registered id: {cid.describe()}"
                if not what
                else f"{what} transformation produces ID conflict: {cid.describe()}"
            )
            raise KustomizeError(message, krel, None, f"also from {seen[key].where()}")
        seen[key] = res


def _merge_configs(a: TransformerConfig, b: TransformerConfig) -> TransformerConfig:
    if a is b:
        return a
    merged = TransformerConfig(**{k: list(v) for k, v in a.__dict__.items()})
    for attr in (
        "name_prefix",
        "name_suffix",
        "namespace",
        "common_labels",
        "labels",
        "template_labels",
        "common_annotations",
        "images",
        "replicas",
    ):
        setattr(merged, attr, fieldspec.merge_specs(getattr(a, attr), getattr(b, attr)))
    for ref in b.name_references:
        merged.name_references = fieldspec._merge_name_reference(
            merged.name_references, ref.target, ref.referrers
        )
    return merged


def _within(path: Path, directory: Path) -> bool:
    """kustomize's rootOnly restriction: the file, symlinks resolved, lies in or below the real directory."""
    p, d = os.path.realpath(path), os.path.realpath(directory)
    return p == d or p.startswith(d.rstrip(os.sep) + os.sep)


def _real(directory: Path) -> Path:
    """A kustomization directory as kustomize's loader roots it: symlinks resolved (relative entries
    then resolve from the real directory)."""
    real = os.path.realpath(directory)
    return directory if real == str(directory) else Path(real)


def build_directory(
    directory: Path, root: Path | None = None, *, load_restrictor: str = "rootOnly"
) -> list[Resource]:
    """Convenience: build one directory with a fresh builder."""
    builder = Builder(root or directory, options=BuildOptions(load_restrictor=load_restrictor))
    return builder.build(directory)


def objects(resources: Iterable[Resource]) -> list[dict[str, Any]]:
    return [r.obj for r in resources]
