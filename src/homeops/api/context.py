"""The facts of a context document gathered from the render and the profile (``homeops docs``).

What an assistant must know before it changes the repository, read from the repository itself:
clusters and their roles, the directory tree, apps with their charts, the hosts they serve, what is
backed up, which components are used where, the conventions in force and how many findings each rule
has. :mod:`homeops.context` writes them as Markdown; :meth:`Workspace.docs` keeps a document's
generated sections current.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from homeops.api.apps import AppInfo, Backup
from homeops.api.results import Rendering
from homeops.author.cluster import apps_root
from homeops.context import markdown, markers
from homeops.context.model import (
    AppFacts,
    BackupFacts,
    ClusterFacts,
    ComponentFacts,
    ContextFacts,
    LayoutEntry,
    LegacyApp,
    RouteFacts,
    RuleCount,
)
from homeops.core import codes, fs, yamlio
from homeops.core.edits import FileEdit, unified_diff
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.listing import Listing
from homeops.core.profile import Profile

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_SKIPPED_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})
_SHOWN_HIDDEN = frozenset({".github", ".taskfiles"})
_ROUTE_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute"})


@dataclass
class DocsResult:
    """``homeops docs``: the document's new text as an edit, and which generated sections changed."""

    path: str
    edits: list[FileEdit]
    stale: list[str]  # sections whose text changed or that the document lacked
    written: list[str] = field(default_factory=list)

    @property
    def diff(self) -> str:
        return unified_diff(self.edits)

    @property
    def current(self) -> bool:
        return not self.edits

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.path, "current": self.current, "stale": list(self.stale),
            "written": list(self.written), "diff": self.diff,
        }  # fmt: skip


# ------------------------------------------------------------------------------ gathering
def document_update(root: Path, file: str, sections: Callable[[], dict[str, str]]) -> DocsResult:
    """``file`` (inside the repository) with its generated sections replaced by ``sections()`` (the
    file made when missing); every line outside the markers kept byte for byte."""
    path = _inside(root, file)
    target = root / path
    old = fs.read_text(root, path) if target.is_file() else None  # exact bytes: line ends kept
    bodies = sections()
    if old is None:
        new, stale = markdown.new_document("Repository context", bodies), list(markdown.SECTIONS)
    else:
        found = {s.name: s.body for s in markers.find_sections(old, path)}
        new = markers.splice(old, bodies, path, markdown.SECTIONS)
        stale = [name for name in markdown.SECTIONS if found.get(name) != bodies[name]]
    return DocsResult(path, [FileEdit(path, new, old)] if new != old else [], stale)


def gather(
    root: Path,
    profile: Profile,
    renderings: list[Rendering],
    apps: list[AppInfo],
    findings: Iterable[Finding],
    rules: Mapping[str, Any],
    profile_origin: str = "file",
    inferred: frozenset[str] | None = None,
) -> ContextFacts:
    """Every fact of the document, sorted. ``apps`` are the apps of :mod:`homeops.api.apps` (one
    reading of apps, their routes and backups for every surface). ``inferred``: the profile keys read
    from the repository, when it has no ``.homeops.yaml`` (the others are homeops' defaults)."""
    facts = ContextFacts()
    for rendering in renderings:
        role = "legacy" if rendering.cluster.name in profile.deprecated_clusters else "modern"
        of_cluster = [a for a in apps if a.cluster == rendering.cluster.name]
        rows = _apps(of_cluster)
        facts.apps += rows
        facts.clusters.append(
            ClusterFacts(
                rendering.cluster.name,
                rendering.cluster.directory,
                role,
                len(rendering.kustomizations),
                len(rows),
                len(rendering.errors),
            )
        )
        facts.routes += _routes(of_cluster)
        facts.backups += _backups(rendering, of_cluster)
    facts.clusters.sort(key=lambda c: (c.role != "modern", c.name))
    facts.apps.sort(key=lambda a: (a.cluster, a.namespace, a.name, a.ks))
    facts.routes.sort(key=lambda r: (r.cluster, r.host, r.exposure, r.namespace, r.app, r.source))
    facts.backups.sort(key=lambda b: (b.cluster, b.namespace, b.app, b.ks))
    directories = _directories(root)
    facts.layout = _layout(directories, profile, facts)
    facts.components = _components(root, directories, profile, renderings)
    facts.conventions = conventions(profile, root, facts, inferred)
    facts.profile_origin = profile_origin
    facts.rules = _rule_counts(findings, rules, profile)
    modern = [c.name for c in facts.clusters if c.role == "modern"]
    for name in modern:
        facts.namespaces[name] = sorted({a.namespace for a in facts.apps if a.cluster == name})
    to = modern[0] if modern else "CLUSTER"
    where = {c.name: c.directory for c in facts.clusters}
    facts.authoring = [name for name in modern if apps_root(root, profile, name, where[name]) is not None]
    facts.app_tree = _app_trees(facts.apps, profile).get(to, "")
    facts.secret_store = profile.secret_store
    legacy = {
        (a.cluster, "/".join(PurePosixPath(a.directory).parts[-2:]))
        for a in facts.apps
        if a.cluster in profile.deprecated_clusters and a.directory.count("/") >= 1
    }
    facts.legacy_apps = [LegacyApp(cluster, target, to) for cluster, target in sorted(legacy)]
    return facts


def app_directory(path: str) -> str:
    """An app's directory: the parent of the ``app/`` its Flux Kustomization applies, else that path."""
    directory = PurePosixPath(path.removeprefix("./").rstrip("/") or ".")
    return str(directory.parent if directory.name == "app" else directory)


def _apps(apps: Iterable[AppInfo]) -> list[AppFacts]:
    """One row per HelmRelease of each app (per app when it deploys plain manifests)."""
    out = []
    for app in apps:
        directory = app_directory(app.path)
        for release, chart, version in app.charts or (("", "", ""),):
            namespace, _, name = release.rpartition("/")
            out.append(
                AppFacts(app.cluster, namespace or app.namespace, name or app.name, app.ks, directory,
                         chart, version, app.source)
            )  # fmt: skip
    return out


def _routes(apps: Iterable[AppInfo]) -> list[RouteFacts]:
    """Each host each app serves, by exposure: the profile's gateways (internal, external), another
    gateway (unknown), or an Ingress and its class."""
    out: set[RouteFacts] = set()
    for app in apps:
        for route in app.routes:
            exposure = route.exposure
            if route.kind in ("Ingress", "values ingress"):
                exposure = f"ingress ({route.target})" if route.target else "ingress"
            for host in route.hosts or ("*",):
                out.add(
                    RouteFacts(app.cluster, app.namespace, app.name, host, exposure, route.kind, route.source)
                )
    return list(out)


def _resolved_components(base: str, entries: Any) -> set[str]:
    """The directories that ``entries`` (a ``components:`` list read in directory ``base``) name, as
    repository-relative paths (entries leaving the repository left out)."""
    out = set()
    for entry in entries if isinstance(entries, list) else []:
        target = os.path.normpath(os.path.join(base, str(entry))).replace(os.sep, "/")
        if target != ".." and not target.startswith("../") and "://" not in str(entry):
            out.add(target)
    return out


def _backups(rendering: Rendering, apps: Iterable[AppInfo]) -> list[BackupFacts]:
    """Each app with a backup (Volsync, CNPG) or a claim no backup covers; the Volsync capacity is its
    Flux Kustomization's ``VOLSYNC_CAPACITY``."""
    out = []
    for app in apps:
        if not app.backups and not app.unprotected:
            continue
        kinds = sorted({_backup_label(b) for b in app.backups})
        rk = rendering.engine.rendered.get(app.ks)
        substitute = ((rk.ks.post_build if rk else None) or {}).get("substitute") or {}
        capacity = str(substitute.get("VOLSYNC_CAPACITY") or "") if "volsync" in kinds else ""
        method = ", ".join(kinds) or "none"
        out.append(
            BackupFacts(rendering.cluster.name, app.namespace, app.name, app.ks, method, capacity,
                        app.unprotected, app.source)
        )  # fmt: skip
    return out


def _backup_label(backup: Backup) -> str:
    """``volsync``, ``cnpg``...; a backup component by its path below ``components/`` (``kopiur/backup``)."""
    if backup.kind != "component":
        return backup.kind
    return backup.name.rsplit("components/", 1)[-1] + " component"


def _read_kustomization(root: Path, directory: str) -> dict[str, Any] | None:
    for name in KUSTOMIZATION_FILES:
        path = root / directory / name
        if path.is_file():
            try:
                data = yamlio.load_one(fs.read_text(root, path), f"{directory}/{name}")
            except HomeopsError:
                return None  # the render reports it
            return data if isinstance(data, dict) else None
    return None


def _directories(root: Path) -> list[str]:
    """Every directory holding a file somewhere below it (relative, sorted); hidden directories other
    than ``.github`` and ``.taskfiles``, and tool caches, left out."""
    found: set[str] = set()
    for rel, _dirs, files in Listing(str(root)).walk(skip=_skipped_dir):
        if files and rel:
            parts = rel.split("/")
            found.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(found, key=lambda d: d.split("/"))


def _skipped_dir(parent: str, name: str) -> bool:
    return name in _SKIPPED_DIRS or (name.startswith(".") and (parent != "" or name not in _SHOWN_HIDDEN))


def _app_trees(apps: list[AppFacts], profile: Profile) -> dict[str, str]:
    """Per cluster, the directory most of its apps sit in as ``<namespace>/<app>/`` (none when they
    are all shared from elsewhere)."""
    trees: dict[str, Counter[str]] = {}
    for app in apps:
        tree = str(PurePosixPath(app.directory).parent.parent)
        if tree not in (".", profile.apps_dir) and "/" in tree:
            trees.setdefault(app.cluster, Counter())[tree] += 1
    return {cluster: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for cluster, c in trees.items()}


def _layout(directories: list[str], profile: Profile, facts: ContextFacts) -> list[LayoutEntry]:
    roles = {c.name: c.role for c in facts.clusters}
    notes: dict[str, str] = {}
    for c in facts.clusters:
        notes.setdefault(c.directory, f"root Flux objects of {c.name}")
        notes.setdefault(f"{profile.clusters_dir}/{c.name}", f"cluster {c.name} ({c.role})")
    for legacy in profile.legacy_paths:
        notes.setdefault(legacy.strip("/"), "legacy tree: add nothing here")
    notes.setdefault(profile.components_dir, "reusable kustomize components")
    for cluster, tree in _app_trees(facts.apps, profile).items():
        notes.setdefault(tree, f"apps of {cluster} ({roles[cluster]}): <namespace>/<app>/")
    notes.setdefault(f"{profile.apps_dir}/base", "apps shared by several clusters")
    notes.setdefault(profile.apps_dir, "what Flux applies, one directory per cluster")
    notes.setdefault(profile.clusters_dir, "cluster definitions, bootstrap and Flux roots")
    notes.setdefault(".taskfiles", "task automation (included by Taskfile.yaml)")
    notes.setdefault(".github", "CI workflows, lint and Renovate configuration")
    deep = {profile.apps_dir, profile.clusters_dir, *(p.strip("/") for p in profile.legacy_paths)}
    out = []
    for path in directories:
        top = path.split("/", 1)[0]
        limit = 3 if top in deep else 2
        if path.count("/") < limit:
            out.append(LayoutEntry(path, notes.get(path, "")))
    return out


def _components(
    root: Path, directories: list[str], profile: Profile, renderings: list[Rendering]
) -> list[ComponentFacts]:
    """The repository's kustomize components and what includes each: the directories of the profile's
    components directory, every ``kind: Component`` kustomization wherever it is, and every directory a
    ``components:`` entry (of a kustomization file or a Flux Kustomization) names."""
    prefix = profile.components_dir + "/"
    kustomizations = {d: data for d in directories if (data := _read_kustomization(root, d)) is not None}
    users: dict[str, set[str]] = {
        d: set()
        for d, data in kustomizations.items()
        if d.startswith(prefix) or data.get("kind") == "Component"
    }
    for directory, data in kustomizations.items():
        for used in _resolved_components(directory, data.get("components")):
            users.setdefault(used, set()).add(directory)
    for rendering in renderings:
        for rk in rendering.engine.rendered.values():
            base = rk.ks.path.removeprefix("./").rstrip("/") or "."
            for used in _resolved_components(base, rk.ks.spec.get("components")):
                users.setdefault(used, set()).add(f"{rk.ks.key} ({rendering.cluster.name})")
    return [ComponentFacts(path, tuple(sorted(users[path]))) for path in sorted(users)]


def conventions(
    profile: Profile, root: Path, facts: ContextFacts, inferred: frozenset[str] | None = None
) -> list[tuple[str, str]]:
    """The profile's conventions, as (convention, value) rows: what names a place (a component, a
    legacy path, a deprecated cluster) only when the repository has it, and, for a profile read from the
    repository, no gateway or secret store it did not find, so that a repository of another layout is
    not described by homeops' defaults."""

    def found(key: str) -> bool:
        return inferred is None or key in inferred

    internal, external = profile.gateway_internal, profile.gateway_external
    backup = profile.backup
    volsync = profile.component_path(profile.volsync_component)
    backups = []
    if (root / volsync).is_dir():
        backups.append(
            f"the `{volsync}` component with postBuild "
            + ", ".join(f"`{v}`" for v in profile.volsync_variables)
            + f"; B2 `{backup.b2_schedule}` keep {backup.b2_keep_daily} daily; MinIO `{backup.minio_schedule}` "
            f"keep {backup.minio_keep_hourly} hourly / {backup.minio_keep_daily} daily / "
            f"{backup.minio_keep_weekly} weekly; cache {backup.cache_capacity} `{backup.cache_storage_class}`"
        )
    backups += [f"the `{c}` component" for c in profile.backup_components]
    rows = [
        ("domain", f"`{profile.domain}`" if profile.domain else "not set (`domain` in .homeops.yaml)"),
        (
            "internal gateway (the default)",
            f"`{internal.name}` in `{internal.namespace}`, section `{internal.section}`, {internal.address}"
            if found("gateway_internal")
            else "none in the render",
        ),
        (
            "external gateway (internet-facing)",
            f"`{external.name}` in `{external.namespace}`, section `{external.section}`, {external.address}"
            + (
                "; routes choose it by their parentRefs"
                if profile.rule_disabled(codes.EXTERNAL_GATEWAY.id)
                else f'; routes opt in with `{profile.internet_facing_annotation}: "true"`'
            )
            if found("gateway_external")
            else "none in the render",
        ),
        (
            "secrets",
            (
                f"ExternalSecrets from the {profile.secret_store_kind} `{profile.secret_store}`; SOPS only in "
                + ", ".join(f"`{p}`" for p in profile.sops_allowed_paths)
            )
            if found("secret_store")
            else "no ExternalSecret or secret store in the render",
        ),
        ("backups", "; ".join(backups) or "no backup component"),
        (
            "storage classes",
            f"`{profile.storage_class}` for data, `{profile.cache_storage_class}` for caches",
        ),
        (
            "charts",
            f"one OCIRepository per app (layer `{profile.helm_layer_media_type}`), `chartRef.kind: "
            f"OCIRepository`; apps without a chart use `{profile.app_template_chart}` {profile.app_template_version}",
        ),
        ("images", "`tag@sha256:digest`"),
        (
            "reloading",
            f'`{profile.reloader_annotation}: "true"` on controllers reading ConfigMaps or Secrets',
        ),
    ]
    namespace_components = [
        c
        for c in (profile.namespace_component, profile.privileged_namespace_component)
        if (root / profile.component_path(c)).is_dir()
    ]
    if namespace_components:
        alerts = profile.alerts_component
        plus = f", plus `{alerts}`" if (root / profile.component_path(alerts)).is_dir() else ""
        rows.append(
            ("namespaces", "from components " + " or ".join(f"`{c}`" for c in namespace_components) + plus)
        )
    if any((root / profile.apps_dir / c.name).is_dir() for c in facts.clusters):
        rows.append(("apps", f"`{profile.apps_dir}/<cluster>/<namespace>/<app>/` with `ks.yaml` and `app/`"))
    else:
        trees = sorted(set(_app_trees(facts.apps, profile).values()))
        if trees:
            rows.append(
                ("apps", ", ".join(f"`{t}/<namespace>/<app>/`" for t in trees) + " (where most apps are)")
            )
    legacy = [p for p in profile.legacy_paths if (root / p.strip("/")).exists()]
    names = {c.name for c in facts.clusters}
    deprecated = [c for c in profile.deprecated_clusters if c in names]
    rows += [
        ("legacy paths", ", ".join(f"`{p}`" for p in legacy) or "none"),
        ("deprecated clusters", ", ".join(f"`{c}`" for c in deprecated) or "none"),
        (
            "names",
            "apps kebab-case, namespaces one lowercase word, substitution variables SCREAMING_SNAKE_CASE",
        ),
    ]
    return rows


def _rule_counts(findings: Iterable[Finding], rules: Mapping[str, Any], profile: Profile) -> list[RuleCount]:
    """Each rule with the severity the profile gives it (``off`` when it turns the rule off) and its
    findings now."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.rule] = counts.get(f.rule, 0) + 1
    return [
        RuleCount(
            rule.id,
            "off" if profile.rule_disabled(rule.id) else profile.rule_severity(rule.id, rule.severity),
            rule.title,
            counts.get(rule.id, 0),
        )
        for rule in sorted(rules.values(), key=lambda r: r.id)
        if not rule.id.startswith(codes.RENDER_PREFIX) or counts.get(rule.id)
    ]


def _inside(root: Path, file: str) -> str:
    """``file`` as a repository-relative POSIX path; outside the repository is an error."""
    target = (root / file).resolve()
    try:
        return target.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise HomeopsError(
            f"'{file}' is outside the repository", file, None, "name a file inside the repository"
        ) from None
