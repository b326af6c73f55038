"""The native kustomize engine: ``build(dir)`` returns what ``kustomize build dir`` prints.

The order of work mirrors kustomize's ``KustTarget``: accumulate ``resources`` (recursing into
directories), merge transformer ``configurations``, run generators, apply ``components`` to what has
been accumulated, then run the builtin transformers in kustomize's order. Only at the top level:
hash suffixes of generated objects, name references, dropping local-config objects, sorting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeops.core.errors import HomeopsError, KustomizeError, UnsupportedError
from homeops.core.files import FileCache, clean
from homeops.core.fs import Boundary, OutsideRootError
from homeops.core.gocompat import kyaml
from homeops.core.yamlio import YMap, deep_copy, key_line, load_all
from homeops.kustomize import (
    fieldspec,
    labels,
    nameref,
    plugins,
    schema,
    sortorder,
)
from homeops.kustomize.accumulator import Accumulator, check_unique
from homeops.kustomize.fieldspec import TransformerConfig
from homeops.kustomize.hashing import content_hash
from homeops.kustomize.loader import Loader, within
from homeops.kustomize.remote import RemoteFiles, is_remote_file
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
    base = os.fspath(directory)
    found = [directory / name for name in KUSTOMIZATION_FILES if os.path.isfile(os.path.join(base, name))]
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
class BuildOptions:
    load_restrictor: str = "rootOnly"  # kubectl's default; Flux builds with "none"
    remote: RemoteFiles | None = None  # fetches http(s) resources and generator files (None: refused)


def resources_of(docs: Iterable[Any], rel: str) -> list[Resource]:
    """The objects of one manifest's documents read from ``rel``, fresh copies (``kind: List`` expanded)."""
    out: list[Resource] = []
    for doc in docs:
        if not isinstance(doc, dict):
            raise KustomizeError("a resource must be a mapping", rel, None, "remove the stray document")
        obj = deep_copy(doc)
        if obj.get("kind") == "List" or (str(obj.get("kind") or "").endswith("List") and "items" in obj):
            for item in obj.get("items") or []:
                if isinstance(item, dict):
                    out.append(Resource.from_obj(item, rel))
            continue
        if not obj.get("kind") or isinstance(obj.get("kind"), dict | list):  # kyaml reads a scalar only
            raise KustomizeError(
                "missing kind in object",
                rel,
                key_line(obj, "kind"),
                "every resource needs apiVersion and kind",
            )
        meta = obj.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        if name in (None, "") or isinstance(name, dict | list):
            # kustomize v5.5 has no generateName support: it needs a name
            raise KustomizeError(
                "missing metadata.name in object",
                rel,
                getattr(obj, "line", None),
                "give the object a name",
            )
        out.append(Resource.from_obj(obj, rel))
    return out


class Builder:
    """Builds kustomization directories; one builder shares its parsed files across builds."""

    def __init__(
        self, root: Path | None = None, files: FileCache | None = None, options: BuildOptions | None = None
    ):
        self.root = (root or Path.cwd()).resolve()
        self.files = files or FileCache(self.root)
        self.options = options or BuildOptions()
        self._boundary: Boundary | None = None

    @property
    def boundary(self) -> Boundary:
        """What no read of the current build may leave: the repository, or the source artifact's root."""
        return self._boundary or self.files.boundary

    def _confine(self, path: Path, what: str, krel: str | None = None, line: int | None = None) -> Path:
        """``path`` with its symlinks resolved, refused (naming the reference) when it leaves the boundary."""
        try:
            return self.boundary.check(path, what)
        except OutsideRootError as exc:
            exc.file, exc.line = krel, line
            raise

    # ------------------------------------------------------------------ entry points
    def build(
        self,
        directory: Path,
        kustomization: dict[str, Any] | None = None,
        *,
        boundary: Boundary | None = None,
    ) -> list[Resource]:
        """Everything ``kustomize build directory`` prints, in its order.

        ``kustomization`` replaces the directory's kustomization file (Flux generates one);
        ``boundary`` narrows the reads to a source artifact's root (the repository by default).
        """
        outer, self._boundary = self._boundary, boundary or self._boundary
        try:
            return self._build(directory, kustomization)
        finally:
            self._boundary = outer

    def _build(self, directory: Path, kustomization: dict[str, Any] | None) -> list[Resource]:
        self.files.touch(clean(directory))  # every look at a path is told to the file cache (build cache)
        self._confine(clean(directory), f"kustomization directory '{self.rel(directory)}'")
        directory = self._real(clean(directory))
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
        check_unique(resources, self.rel(find_kustomization_file(directory) or directory), "")
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
            self._loader(directory, krel).resolve(str(openapi["path"]), "openapi", key_line(top, "openapi"))
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
        self.files.touch(directory)
        if kustomization is None:
            kust, kfile = self._load_kustomization(directory, component=component)
        else:
            kust, kfile = (
                kustomization,
                find_kustomization_file(directory) or directory / "kustomization.yaml",
            )
        krel = self.rel(kfile)
        self._refuse_unsupported(kust, krel)
        loader = self._loader(directory, krel)

        entries = [*(kust.get("resources") or []), *(kust.get("bases") or [])]
        for entry in entries:
            self._accumulate_entry(directory, str(entry), acc, stack, kust, krel)

        for cfg in kust.get("configurations") or []:
            cfg_path = loader.resolve(str(cfg), "configurations", key_line(kust, "configurations"))
            data = self.files.load_one(cfg_path) or {}
            try:
                acc.config = acc.config.merged_with(data)
            except KustomizeError as exc:
                raise KustomizeError(exc.what, self.rel(cfg_path), None, exc.hint) from None

        fields = plugins.Fields(kust, acc.config, loader)
        plugins.apply_fields(plugins.GENERATORS, fields, acc)
        if kust.get("generators"):
            configs = self._plugin_configs(directory, kust, "generators", krel, stack)
            plugins.apply_objects(plugins.GENERATORS, configs, "generator", loader, acc)

        for comp in kust.get("components") or []:
            if not is_remote(str(comp)):
                self.files.touch(clean(directory / str(comp)))
                self._confine(
                    clean(directory / str(comp)),
                    f"components entry '{comp}'",
                    krel,
                    self._line_of_entry(kust, "components", str(comp)),
                )
            comp_dir = self._real(clean(directory / str(comp)))
            if is_remote(str(comp)):
                raise UnsupportedError(
                    f"remote component {comp!r} is not supported by the native engine",
                    krel,
                    key_line(kust, "components"),
                    "vendor it into the repository or use --engine kubectl",
                )
            if not os.path.isdir(comp_dir):
                raise KustomizeError(
                    f"component path '{comp}' is not a directory",
                    krel,
                    key_line(kust, "components"),
                    "fix the path",
                )
            self._accumulate(comp_dir, acc, stack=stack, kustomization=None, component=True)

        plugins.apply_fields(plugins.TRANSFORMERS, plugins.Fields(kust, acc.config, loader), acc)
        if kust.get("transformers"):
            configs = self._plugin_configs(directory, kust, "transformers", krel, stack)
            plugins.apply_objects(plugins.TRANSFORMERS, configs, "transformer", loader, acc)
        return acc

    def _real(self, directory: Path) -> Path:
        """A kustomization directory as kustomize's loader roots it: symlinks resolved (relative entries
        then resolve from the real directory)."""
        real = self.files.real(directory)
        return directory if real == str(directory) else Path(real)

    def _loader(self, directory: Path, krel: str) -> Loader:
        return Loader(
            self.files,
            directory,
            krel,
            root_only=self.options.load_restrictor == "rootOnly",
            boundary=self.boundary,
            remote=self.options.remote,
        )

    def _plugin_configs(
        self, directory: Path, kust: dict[str, Any], key: str, krel: str, stack: tuple[Path, ...]
    ) -> list[Resource]:
        """The configuration objects of ``generators:`` or ``transformers:``, in kustomize's order:
        every inline entry, then the objects each path holds (a directory is built)."""
        acc = Accumulator()
        paths: list[str] = []
        for raw in kust.get(key) or []:
            entry = str(raw)
            objs = plugins.inline_configs(entry, krel)
            if objs is None:
                paths.append(entry)
                continue
            for res in objs:
                acc.append(res)
        for entry in paths:
            self._accumulate_entry(directory, entry, acc, stack, kust, krel)
        return acc.resources

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
            self._accumulate_remote(entry, acc, kust, krel)
            return
        path = clean(directory / entry)
        self.files.touch(path)
        if (
            self.options.load_restrictor == "rootOnly"
            and os.path.isfile(path)
            and not within(path, directory, self.files.real)
        ):  # kustomize's own refusal first, then the repository's boundary
            raise KustomizeError(
                f"security; file '{entry}' is not in or below '{self.rel(directory)}'",
                krel,
                self._line_of_entry(kust, "resources", entry),
                "move the file under the kustomization directory or reference its directory",
            )
        self._confine(path, f"resources entry '{entry}'", krel, self._line_of_entry(kust, "resources", entry))
        if os.path.isdir(path):
            path = self._real(path)
            sub = self._accumulate(path, Accumulator(), stack=stack, kustomization=None, component=False)
            for res in sub.resources:
                acc.append(res)
            acc.config = _merge_configs(acc.config, sub.config)
            return
        if not os.path.exists(path):
            raise KustomizeError(
                f"accumulating resources: '{entry}' does not exist",
                krel,
                self._line_of_entry(kust, "resources", entry),
                "fix the path or remove the entry",
            )
        if self.options.load_restrictor == "rootOnly" and not within(path, directory, self.files.real):
            raise KustomizeError(
                f"security; file '{entry}' is not in or below '{self.rel(directory)}'",
                krel,
                self._line_of_entry(kust, "resources", entry),
                "move the file under the kustomization directory or reference its directory",
            )
        for res in self.load_resources(path):
            acc.append(res)

    def _accumulate_remote(self, entry: str, acc: Accumulator, kust: dict[str, Any], krel: str) -> None:
        """A resources entry naming a URL: fetched as a file (``--remote``), as kustomize reads it; a
        Git remote base, or any URL without ``--remote``, is refused."""
        line = self._line_of_entry(kust, "resources", entry)
        remote, fetchable = self.options.remote, is_remote_file(entry)
        if remote is None or not fetchable:
            raise UnsupportedError(
                f"remote {'resource' if fetchable else 'base (a Git repository)'} {entry!r} is not supported "
                "by the native engine",
                krel,
                line,
                ("pass --remote to fetch files by URL as Flux does, " if fetchable else "")
                + "vendor it into the repository or use --engine kubectl",
            )
        data = remote.read(entry, self.files, f"resources entry '{entry}'", krel, line)
        try:
            docs = load_all(data.decode("utf-8"), entry)
            if not all(isinstance(doc, dict) for doc in docs):
                raise KustomizeError("a document is not a mapping")
        except (UnicodeDecodeError, HomeopsError):
            raise KustomizeError(
                f"resources entry '{entry}' is not a manifest (what it serves is no Kubernetes YAML; a Git "
                "remote base is not supported)",
                krel,
                line,
                "vendor it into the repository or use --engine kubectl",
            ) from None
        for res in resources_of(docs, entry):
            acc.append(res)

    def load_resources(self, path: Path) -> list[Resource]:
        """The objects of one manifest file, fresh copies (``kind: List`` expanded)."""
        return resources_of(self.files.load_all(path), self.rel(path))

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

    # ------------------------------------------------------------------ top level
    def _add_hashes(self, resources: list[Resource]) -> None:
        todo = [r for r in resources if r.needs_hash]
        if not todo:
            return
        for res in todo:
            suffix = content_hash(res.obj)
            res.store_previous_id()
            res.name = f"{res.name}-{suffix}"


def _yaml_value(text: str) -> str:
    """``text`` as a YAML scalar (plain when it can be)."""
    from homeops.core import yamlemit  # start-up: the emitter loads only for origin annotations

    return yamlemit.dump({"v": text}, width=0)[3:].rstrip("\n")


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


def build_directory(
    directory: Path, root: Path | None = None, *, load_restrictor: str = "rootOnly"
) -> list[Resource]:
    """Convenience: build one directory with a fresh builder."""
    builder = Builder(root or directory, options=BuildOptions(load_restrictor=load_restrictor))
    return builder.build(directory)


def objects(resources: Iterable[Resource]) -> list[dict[str, Any]]:
    return [r.obj for r in resources]
