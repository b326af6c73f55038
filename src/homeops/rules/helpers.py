"""What the rule modules share: where things are, per-run indexes, app discovery, autofix edits.

Locations (``at``, ``key_path_line``, and ``core.yamlio.key_line``) point a finding at the exact key,
in the file a patch or a values file came from. Indexes several rules need (app directories, chart values) are
computed once per check run through :meth:`RuleContext.cached`. Autofixes insert into YAML mappings
located by structure, not by line, so that one fix does not invalidate the next.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core import fs
from homeops.core.codes import Code
from homeops.core.edits import FileEdit, edit_file
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.findings import Finding
from homeops.core.listing import Listing
from homeops.core.shape import as_list
from homeops.core.yamledit import MappingRef, insert_into_mapping
from homeops.core.yamlio import YMap
from homeops.flux.file_facts import FactStore
from homeops.flux.model import HELM_GROUP, is_flux_kustomization, is_helmrelease
from homeops.flux.rendered import ClusterRender
from homeops.kustomize.build import KUSTOMIZATION_FILES
from homeops.kustomize.resource import Resource
from homeops.rules.base import RuleContext, finding

CORE_API_GROUPS = frozenset({"", "apps", "batch", "networking.k8s.io", "policy", "rbac.authorization.k8s.io"})
"""Kubernetes' own API groups: objects of these are workloads and plumbing, never backup machinery."""


def claims_named(node: Any, key: str = "") -> set[str]:
    """The claim names a backup object's spec points at under keys that say so (``sourcePVC``,
    ``pvc: {name}``, ``claimName``, ``persistentVolumeClaim``): its sources, not merely the app's name."""
    claim_key = "pvc" in key.lower() or "claim" in key.lower()
    if isinstance(node, str):
        return {node} if claim_key else set()
    if isinstance(node, dict):
        found = {str(node["name"])} if claim_key and isinstance(node.get("name"), str) else set()
        for k, v in node.items():
            found |= claims_named(v, str(k))
        return found
    if isinstance(node, list):
        return {name for v in node for name in claims_named(v, key)}
    return set()


# ------------------------------------------------------------------------ paths and locations


def under(path: str | None, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or inside it (both repository-relative; ``./`` and slashes
    around ``directory`` do not matter). No path is under nothing."""
    if not path:
        return False
    directory = directory.strip("/").removeprefix("./")
    path = path.removeprefix("./")
    return path == directory or path.startswith(directory + "/")


def is_legacy_path(ctx: RuleContext, path: str | None) -> bool:
    return bool(path) and any(under(path, p) for p in ctx.profile.legacy_paths)


def at(res: Resource, node: Any, key: str | None = None) -> tuple[str | None, int | None]:
    """The file and line of ``node[key]`` (or of ``node``): a patch keeps the file it came from."""
    if isinstance(node, YMap) and node.line and node.file:
        return node.file, node.line_of(key) if key is not None else node.line
    return res.file, res.line or None  # generated, or parsed from text that is no file (chart output)


def key_path_line(res: Resource, *path: str) -> tuple[str | None, int | None]:
    """Location of the deepest existing key of ``path`` in the object."""
    node: Any = res.obj
    where = at(res, node)
    for key in path:
        if not isinstance(node, dict) or key not in node:
            break
        where = at(res, node, key)
        node = node[key]
    return where


def place(
    code: Code, message: str, res: Resource, where: tuple[str | None, int | None], cluster: str | None
) -> Finding:
    file, line = where
    return finding(code, message, res=res, file=file, line=line, cluster=cluster)


def unique(findings: Iterable[Finding]) -> Iterator[Finding]:
    """One finding per place and message: an object shared by several clusters is reported once."""
    seen: set[tuple[Any, ...]] = set()
    for f in findings:
        key = (f.file, f.line, f.message)
        if key not in seen:
            seen.add(key)
            yield f


def modern_renders(ctx: RuleContext) -> list[ClusterRender]:
    return [r for r in ctx.renders if ctx.is_modern(r)]


def dig(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def app_source(ctx: RuleContext, file: str | None) -> bool:
    """A file of an app (below the apps directory, not a shared component)."""
    return under(file, ctx.profile.apps_dir) and not under(file, ctx.profile.components_dir)


def yaml_strings(node: Any) -> Iterator[str]:
    """Every string of a parsed YAML value, keys included, in document order: what Flux substitutes
    in the built objects (comments are gone by then)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from yaml_strings(k)
            yield from yaml_strings(v)
    elif isinstance(node, list):
        for item in node:
            yield from yaml_strings(item)


def truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


# ------------------------------------------------------------------------------- components


class Components:
    """Which directories hold a kustomize Component (``kind: Component``), and the outermost one each
    rendered file comes from: asked once per directory for the run's file cache (the inference and the
    rules share it), read only where the word can be in the kustomization's text."""

    def __init__(self, root: Path, files: FileCache) -> None:
        self.root = root
        self.files = files
        self._listed = files.listing if files.real(root) == files.listing.root else None
        self._facts = FactStore.of(files.scope) if self._listed is not None else None
        self._holds: dict[str, bool] = {}
        self._outermost: dict[str, str | None] = {}

    @classmethod
    def of(cls, root: Path, files: FileCache) -> Components:
        key = f"rules:components:{root}"
        found = files.derived.get(key)
        if not isinstance(found, Components):
            found = files.derived[key] = cls(root, files)
        return found

    def holds(self, directory: str) -> bool:
        """Does ``directory`` (relative to the root) hold a kustomization of ``kind: Component``?"""
        found = self._holds.get(directory)
        if found is None:
            found = self._holds[directory] = self._read(directory)
        return found

    def _read(self, directory: str) -> bool:
        listed = self._listed if _plain(directory) else None
        for name in KUSTOMIZATION_FILES:
            rel = f"{directory}/{name}"
            if not (listed.is_file(rel) if listed is not None else os.path.isfile(self.root / rel)):
                continue
            facts = self._facts.known_facts(self.files, rel) if listed is not None and self._facts else None
            if facts is not None and not facts.may_be_component:
                return False
            try:
                doc = self.files.load_one(self.root / rel)
            except HomeopsError:  # a broken kustomization is reported by the render, not here
                return False
            return isinstance(doc, dict) and doc.get("kind") == "Component"
        return False

    def outermost(self, file: str) -> str | None:
        """The outermost Component directory the rendered ``file`` comes from (a component that nests
        another, ``volsync/`` with ``volsync/restic/``, is one component), None when none."""
        start = posixpath.dirname(file)
        if start in self._outermost:
            return self._outermost[start]
        found = None
        directory = start
        while directory:
            if self.holds(directory):
                found = directory
            elif found is not None:
                break
            directory = posixpath.dirname(directory)
        self._outermost[start] = found
        return found


def _plain(rel: str) -> bool:
    """A normalised relative path that stays below where it starts (no ``..``, no ``.``)."""
    return bool(rel) and posixpath.normpath(rel) == rel and not rel.startswith(("/", "../")) and rel != ".."


# ------------------------------------------------------------------------------- HelmReleases

HELM_ORIGIN_NAME = f"{HELM_GROUP}/name"
HELM_ORIGIN_NAMESPACE = f"{HELM_GROUP}/namespace"


def chart_output(res: Resource) -> tuple[str, str] | None:
    """(namespace, name) of the HelmRelease whose chart rendered ``res`` (``check --enable-helm`` adds
    chart objects, located at the HelmRelease, with helm-controller's origin labels), else None."""
    name = res.labels.get(HELM_ORIGIN_NAME)
    if not name or is_helmrelease(res.obj):
        return None
    return str(res.labels.get(HELM_ORIGIN_NAMESPACE) or "default"), str(name)


def release_key(res: Resource) -> tuple[str, str]:
    return res.namespace or "default", res.name


def spec_of(res: Resource) -> dict[str, Any]:
    spec = res.obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def chart_name(res: Resource) -> str:
    """The chart of a HelmRelease given through ``spec.chart.spec.chart`` ("" with ``chartRef``)."""
    spec = res.obj.get("spec")
    chart = spec.get("chart") if isinstance(spec, dict) else None
    chart_spec = chart.get("spec") if isinstance(chart, dict) else None
    return str(chart_spec.get("chart") or "") if isinstance(chart_spec, dict) else ""


def chart_ref(res: Resource) -> dict[str, Any] | None:
    spec = res.obj.get("spec")
    ref = spec.get("chartRef") if isinstance(spec, dict) else None
    return ref if isinstance(ref, dict) else None


def release_chart(render: ClusterRender, res: Resource) -> str:
    """The name of the chart a HelmRelease installs: ``spec.chart.spec.chart`` (its last path
    segment), or through ``chartRef`` the last path segment of the OCIRepository's URL or the
    HelmChart's chart. "" when the source is not in the render (the chart is unknown)."""
    name = chart_name(res)
    ref = chart_ref(res)
    if not name and ref is not None:
        found = render.find(
            str(ref.get("kind") or ""),
            str(ref.get("name") or ""),
            str(ref.get("namespace") or res.namespace or ""),
        )
        source = found[0][1].obj.get("spec") if found else None
        if isinstance(source, dict):
            name = (
                str(source.get("url") or "")
                if ref.get("kind") == "OCIRepository"
                else str(source.get("chart") or "")
            )
    return name.rstrip("/").split("/")[-1].split(":")[0]


def app_template_release(ctx: RuleContext, render: ClusterRender, res: Resource) -> bool:
    """Whether a HelmRelease's values are app-template's: its chart is app-template (the profile's
    chart name), or unknown (the values' shape decides). Another chart built on the same library has
    defaults of its own in its values.yaml, which the HelmRelease's values only override."""
    chart = release_chart(render, res)
    own = ctx.profile.app_template_chart.rstrip("/").split("/")[-1]
    return not chart or chart in (own, "app-template")


def _configmaps(ctx: RuleContext, render: ClusterRender) -> dict[tuple[str, str], Resource]:
    def compute() -> dict[tuple[str, str], Resource]:
        return {(res.namespace, res.name): res for _rk, res in render.objects() if res.kind == "ConfigMap"}

    return ctx.cached(f"configmaps:{id(render)}", compute)


def _generated_file(ctx: RuleContext, cm: Resource, data_key: str) -> str | None:
    """The repository file a ``configMapGenerator`` read ``data_key`` from (``files: [key=path]``)."""
    if not cm.generated or not cm.file:
        return None
    try:
        kust = ctx.files.load_one(ctx.root / cm.file)
    except HomeopsError:
        return None
    if not isinstance(kust, dict):
        return None
    for args in as_list(kust.get("configMapGenerator")):
        if not isinstance(args, YMap) or args.line != cm.line:
            continue
        for source in as_list(args.get("files")):
            key, sep, path = str(source).partition("=")
            if not sep:
                key, path = posixpath.basename(source), source
            if key.strip() == data_key:
                return posixpath.normpath(posixpath.join(posixpath.dirname(cm.file), path.strip()))
    return None


def chart_values(ctx: RuleContext, render: ClusterRender, res: Resource) -> list[Resource]:
    """A HelmRelease's values, each as a view of the HelmRelease whose ``spec.values`` is one source:
    its inline ``spec.values``, and every ``valuesFrom`` ConfigMap a ``configMapGenerator`` built from a
    repository file (read from that file, so lines point into it). Computed once per HelmRelease."""

    def compute() -> list[Resource]:
        out: list[Resource] = []
        spec = spec_of(res)
        if isinstance(spec.get("values"), dict):
            out.append(res)
        for ref in as_list(spec.get("valuesFrom")):
            if not isinstance(ref, dict) or ref.get("kind") != "ConfigMap":
                continue
            cm = _configmaps(ctx, render).get((res.namespace, str(ref.get("name") or "")))
            path = _generated_file(ctx, cm, str(ref.get("valuesKey") or "values.yaml")) if cm else None
            if path is None or path.startswith("../"):
                continue
            try:
                doc = ctx.files.load_one(ctx.root / path)
            except HomeopsError:
                continue
            if not isinstance(doc, dict):
                continue
            target = ref.get("targetPath")
            if target:  # the whole document is one value, not a values tree
                continue
            view = YMap(res.obj)
            view["spec"] = {"values": doc}
            out.append(Resource(obj=view, file=path, line=getattr(doc, "line", 0)))
        return out

    return ctx.cached(f"values:{id(res)}", compute)


# ----------------------------------------------------------------------------------------- apps


def yaml_files(listing: Listing, directory: str) -> list[str]:
    """The YAML files below ``directory`` (relative to the root, as what is returned), as ``os.walk``
    lists them, hidden directories left out."""
    out: list[str] = []
    top = "" if directory in ("", ".") else directory
    for rel, _dirs, others in listing.walk(top, skip=_hidden):
        out.extend(f"{rel}/{e.name}" if rel else e.name for e in others if e.name.endswith((".yaml", ".yml")))
    return out


def _hidden(_parent: str, name: str) -> bool:
    return name.startswith(".")


@dataclass
class AppDir:
    """``<apps_dir>/<cluster>/<namespace>/<app>/`` of a modern cluster."""

    cluster: str
    namespace: str
    name: str
    path: str  # relative to the repository root
    ns_path: str
    ks_docs: list[YMap] = field(default_factory=list)  # Flux Kustomizations defined in ks.yaml

    @property
    def ks_file(self) -> str:
        return f"{self.path}/ks.yaml"


def app_dirs(ctx: RuleContext) -> list[AppDir]:
    """Every app directory of every modern cluster that has an apps directory of its own."""

    def compute() -> list[AppDir]:
        out: list[AppDir] = []
        components = Path(ctx.files.real(ctx.root / ctx.profile.components_dir))
        for render in modern_renders(ctx):
            base = ctx.root / ctx.profile.apps_dir / render.cluster.name
            if not os.path.isdir(base) or base.resolve() == components:
                continue
            for ns_dir in sorted(
                p for p in base.iterdir() if os.path.isdir(p) and not p.name.startswith(".")
            ):
                for app in sorted(
                    p for p in ns_dir.iterdir() if os.path.isdir(p) and not p.name.startswith(".")
                ):
                    rel = app.relative_to(ctx.root).as_posix()
                    entry = AppDir(
                        render.cluster.name,
                        ns_dir.name,
                        app.name,
                        rel,
                        ns_dir.relative_to(ctx.root).as_posix(),
                    )
                    ks = app / "ks.yaml"
                    if os.path.isfile(ks):
                        try:
                            docs = ctx.files.load_all(ks)
                        except HomeopsError:
                            docs = []
                        entry.ks_docs = [d for d in docs if isinstance(d, YMap) and is_flux_kustomization(d)]
                    out.append(entry)
        return out

    return ctx.cached("app_dirs", compute)


def namespace_kustomization(ctx: RuleContext, ns_path: str) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        candidate = ctx.root / ns_path / name
        if os.path.isfile(candidate):
            return candidate
    return None


def first_file(ctx: RuleContext, directory: str) -> tuple[str, int | None]:
    """Somewhere to point a finding about a directory: its first file (line 1), else the directory."""
    for path in yaml_files(ctx.files.listing, directory):
        return path, 1
    return directory, None


def list_item_lines(text: str, key: str) -> dict[str, int]:
    """``value -> line`` of the items of the top-level block list ``key`` (commented items excluded)."""
    lines = text.splitlines()
    out: dict[str, int] = {}
    for i, line in enumerate(lines):
        if not re.match(rf"^{re.escape(key)}\s*:", line):
            continue
        for j in range(i + 1, len(lines)):
            follow = lines[j]
            stripped = follow.strip()
            if not stripped or stripped.startswith("#"):
                continue
            m = re.match(r"^\s*-\s+(.*?)\s*(?:\s#.*)?$", follow)
            if m and (follow.startswith((" ", "-"))):
                out.setdefault(m.group(1).strip("'\""), j + 1)
                continue
            break
        break
    return out


# ------------------------------------------------------------------------------------ autofix
# Insertion into a mapping located by structure (robust to earlier fixes): core.yamledit


def doc_index(ctx: RuleContext, file: str | None, line: int | None) -> int | None:
    """The index of the document of ``file`` starting at ``line`` (a rendered object's first line)."""
    if not file or not line:
        return None
    try:
        docs = ctx.files.load_all(ctx.root / file)
    except HomeopsError:
        return None
    for i, doc in enumerate(docs):
        if isinstance(doc, YMap) and doc.line == line:
            return i
    return None


def mapping_edit(
    ctx: RuleContext, ref: MappingRef | None, entry: list[str], *, present: str | None = None
) -> list[FileEdit]:
    """The file edit adding ``entry`` to the mapping, computed on the file as it is on disk now."""
    if ref is None:
        return []
    target = ctx.root / ref.file
    try:
        text = fs.read_text(ctx.root, target)
    except HomeopsError:
        return []
    new = insert_into_mapping(text, ref.file, ref, entry, present=present)
    if new is None or new == text:
        return []
    return [edit_file(ctx.root, ref.file, new)]


@dataclass
class Violation:
    """A finding plus what its autofix needs."""

    finding: Finding
    fix: Callable[[], list[FileEdit]] | None = None


def fix_from(
    violations: Callable[[RuleContext], list[Violation]],
) -> Callable[[RuleContext, Finding], list[FileEdit]]:
    """A rule's ``fix``: find the violation behind ``finding`` and run its edit."""

    def fix(ctx: RuleContext, f: Finding) -> list[FileEdit]:
        for v in violations(ctx):
            g = v.finding
            if (g.rule, g.file, g.line, g.message) == (
                f.rule,
                f.file,
                f.line,
                f.message,
            ) and v.fix is not None:
                return v.fix()
        return []

    return fix


def findings_of(violations: list[Violation]) -> Iterator[Finding]:
    """The findings, marked fixable only where the edit can really be made (flow-style YAML cannot)."""
    for v in violations:
        if v.fix is None or not v.fix():
            v.finding.fixable = False
        yield v.finding
