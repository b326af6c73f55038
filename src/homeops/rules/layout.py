"""App layout rules (HO020, HO021, HO030).

The context document fixes one layout for modern clusters: ``<apps_dir>/<cluster>/<namespace>/<app>/``
holding ``ks.yaml`` (the Flux Kustomization) and ``app/`` (a kustomization with ``helmrelease.yaml``,
``ocirepository.yaml``, ``externalsecret.yaml``), each app listed in its namespace's
``kustomization.yaml``. Tools (``homeops new``, ``migrate``) and people find things by that layout, so
drifting from it is a finding (app discovery lives in :mod:`homeops.rules.helpers`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from homeops.core import codes, fs, yamledit
from homeops.core.edits import FileEdit, edit_file
from homeops.core.errors import HomeopsError
from homeops.core.findings import Finding
from homeops.core.shape import as_list
from homeops.core.yamlio import YMap, key_line
from homeops.flux.model import is_helmrelease
from homeops.kustomize.build import KUSTOMIZATION_FILES
from homeops.rules.base import RuleContext, finding, rule
from homeops.rules.helpers import (
    AppDir,
    Violation,
    app_dirs,
    app_source,
    dig,
    findings_of,
    first_file,
    fix_from,
    list_item_lines,
    modern_renders,
    namespace_kustomization,
)

# ----------------------------------------------------------------------------------------------
# HO020 app layout

_EXPECTED_FILE = {
    "HelmRelease": "helmrelease.yaml",
    "OCIRepository": "ocirepository.yaml",
    "ExternalSecret": "externalsecret.yaml",
}


def _ks_targets(ctx: RuleContext, app: AppDir) -> list[tuple[YMap, str]]:
    """(Flux Kustomization, the real directory its path names) for the paths inside the app directory."""
    out = []
    root = str(ctx.root)
    app_abs = ctx.files.real(os.path.join(root, app.path))
    for doc in app.ks_docs:
        path = dig(doc, "spec", "path")
        if not isinstance(path, str) or "${" in path:
            continue
        target = ctx.files.real(os.path.normpath(os.path.join(root, path)))
        if target == app_abs or target.startswith(app_abs.rstrip(os.sep) + os.sep):
            out.append((doc, target))
    return out


def _layout_violations(ctx: RuleContext) -> list[Finding]:
    out: list[Finding] = []
    files, root = ctx.files, str(ctx.root)
    real_root = files.real(root)
    for app in app_dirs(ctx):
        if files.kind(os.path.join(root, app.ks_file)) != "f":
            file, line = first_file(ctx, app.path)
            out.append(
                finding(
                    codes.APP_LAYOUT,
                    f"app directory {app.path} has no ks.yaml (the Flux Kustomization of the app)",
                    file=file,
                    line=line,
                    cluster=app.cluster,
                )
            )
            continue
        checked: set[str] = set()
        targets = _ks_targets(ctx, app)
        app_sub = files.real(os.path.join(root, app.path, "app"))
        if files.kind(app_sub) == "d" and all(t != app_sub for _, t in targets):
            targets.append((YMap(), app_sub))
        for doc, target in targets:
            if target in checked or files.kind(target) != "d":
                continue  # a missing path is a render finding (HO102)
            checked.add(target)
            rel = os.path.relpath(target, real_root).replace(os.sep, "/")
            if files.kind(os.path.join(target, "kustomization.yaml")) == "f":
                continue
            other = next((n for n in KUSTOMIZATION_FILES if files.kind(os.path.join(target, n)) == "f"), None)
            if other is not None:
                out.append(
                    finding(
                        codes.APP_LAYOUT,
                        f"{rel}/{other} should be named kustomization.yaml",
                        file=f"{rel}/{other}",
                        line=1,
                        cluster=app.cluster,
                    )
                )
                continue
            if files.kind(os.path.join(target, "kustomization")) == "f":
                out.append(
                    finding(
                        codes.APP_LAYOUT,
                        f"{rel}/kustomization is not read by kustomize (no .yaml extension): "
                        "rename it kustomization.yaml",
                        file=f"{rel}/kustomization",
                        line=1,
                        cluster=app.cluster,
                    )
                )
            elif doc:
                out.append(
                    finding(
                        codes.APP_LAYOUT,
                        f"{rel} has no kustomization.yaml (Flux generates one from every YAML "
                        "file below it): list the app's manifests in one",
                        file=app.ks_file,
                        line=key_line(doc, "spec", "path"),
                        cluster=app.cluster,
                    )
                )
            else:
                file, line = first_file(ctx, rel)
                out.append(
                    finding(
                        codes.APP_LAYOUT,
                        f"{rel} has no kustomization.yaml",
                        file=file,
                        line=line,
                        cluster=app.cluster,
                    )
                )
    for render in modern_renders(ctx):
        for rk in render.rendered.values():
            own_sources = {(r.namespace, r.name) for r in rk.resources if r.kind == "OCIRepository"}
            for res in rk.resources:
                if not app_source(ctx, res.file):
                    continue
                expected = _EXPECTED_FILE.get(res.kind)
                if expected and res.api_version.split("/")[0].endswith((".fluxcd.io", "external-secrets.io")):
                    base = (res.file or "").rsplit("/", 1)[-1]
                    if base != expected:
                        out.append(
                            finding(
                                codes.APP_LAYOUT,
                                f"{res.kind} {res.name} is in {base}: the layout keeps it in {expected}",
                                res=res,
                                cluster=render.cluster.name,
                            )
                        )
                if is_helmrelease(res.obj):
                    ref = dig(res.obj, "spec", "chartRef")
                    if isinstance(ref, dict) and ref.get("kind") == "OCIRepository":
                        key = (str(ref.get("namespace") or res.namespace), str(ref.get("name") or ""))
                        if key in own_sources:
                            continue
                        what = f"uses OCIRepository {key[0]}/{key[1]} defined outside the app"
                        line = key_line(res.obj, "spec", "chartRef")
                    else:
                        what = "does not use chartRef to an OCIRepository"
                        line = key_line(res.obj, "spec", "chart") or res.line
                    out.append(
                        finding(
                            codes.APP_LAYOUT,
                            f"HelmRelease {res.name} has no OCIRepository of its own "
                            f"(ocirepository.yaml next to it): it {what}",
                            res=res,
                            line=line,
                            cluster=render.cluster.name,
                        )
                    )
    return out


@rule(
    codes.APP_LAYOUT,
    rationale="""
The context document ("Application Structure") gives every Chongus app the same shape:
`<namespace>/<app>/ks.yaml` plus `app/` with `kustomization.yaml`, `helmrelease.yaml`,
`ocirepository.yaml` and `externalsecret.yaml`, and "OCIRepository per application (even if multiple
apps use the same chart)". A predictable layout is what lets people, `homeops new` and `migrate`
find and change an app. Apps whose ks.yaml points at a shared base (`cluster-apps/base/...`) or at
several part directories (`operator/`, `cluster/`) are accepted as long as each directory a Flux
Kustomization builds has its own `kustomization.yaml`.
""",
    bad="""
cluster-apps/chongus/default/atuin/
  ks.yaml
  app/
    release.yaml          # HelmRelease: should be helmrelease.yaml
                          # no kustomization.yaml, no ocirepository.yaml
""",
    good="""
cluster-apps/chongus/default/atuin/
  ks.yaml
  app/
    kustomization.yaml
    helmrelease.yaml
    ocirepository.yaml
""",
)
def check_layout(ctx: RuleContext) -> Iterable[Finding]:
    return _layout_violations(ctx)


# ----------------------------------------------------------------------------------------------
# HO021 app registration


def _registration(ctx: RuleContext) -> list[Violation]:
    def compute() -> list[Violation]:
        out: list[Violation] = []
        by_ns: dict[str, list[AppDir]] = {}
        for app in app_dirs(ctx):
            by_ns.setdefault(app.ns_path, []).append(app)
        for ns_path, apps in by_ns.items():
            kfile = namespace_kustomization(ctx, ns_path)
            if kfile is None:
                continue  # Flux generates the namespace's kustomization: every ks.yaml below is applied
            rel = kfile.relative_to(ctx.root).as_posix()
            try:
                kust = ctx.files.load_one(kfile)
                text = ctx.files.read_text(kfile)
            except HomeopsError:
                continue
            entries = [str(e) for e in as_list(kust.get("resources"))] if isinstance(kust, dict) else []
            item_lines = list_item_lines(text, "resources")
            ns_abs = Path(ctx.files.real(ctx.root / ns_path))
            listed: set[Path] = set()
            for entry in entries:
                if "://" in entry or entry.startswith(("github.com/", "git@")):
                    continue
                target = Path(ctx.files.real(ns_abs / entry))
                listed.add(target)
                if not os.path.exists(target):
                    out.append(
                        Violation(
                            finding(
                                codes.APP_NOT_REGISTERED,
                                f"{entry} is listed in {rel} but does not exist",
                                file=rel,
                                line=item_lines.get(entry) or key_line(kust, "resources"),
                                cluster=apps[0].cluster,
                            )
                        )
                    )
            for app in apps:
                ks = Path(ctx.files.real(ctx.root / app.ks_file))
                if not os.path.isfile(ks):
                    continue
                app_abs = ks.parent
                if (
                    ks in listed
                    or app_abs in listed
                    or any(p in listed for p in app_abs.parents if ns_abs in p.parents)
                ):
                    continue
                item = f"./{app.name}/ks.yaml"
                if re.search(
                    rf"^\s*#\s*-\s*['\"]?(\./)?{re.escape(app.name)}(/ks\.yaml)?/?['\"]?\s*$", text, re.M
                ):
                    out.append(
                        Violation(
                            finding(
                                codes.APP_NOT_REGISTERED,
                                f"app {app.name} is commented out in {rel} (disabled): re-enable it or remove "
                                f"{app.path}",
                                file=rel,
                                line=_commented_line(text, app.name),
                                cluster=app.cluster,
                                severity="info",
                            )
                        )
                    )
                    continue
                f = finding(
                    codes.APP_NOT_REGISTERED,
                    f"app {app.name}: {app.ks_file} is not listed in {rel} resources, so Flux "
                    "never applies it",
                    file=app.ks_file,
                    line=key_line(app.ks_docs[0], "metadata", "name") if app.ks_docs else 1,
                    cluster=app.cluster,
                )
                out.append(Violation(f, _register_fix(ctx, rel, item)))
        return out

    return ctx.cached("registration_violations", compute)


def _commented_line(text: str, app: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#") and re.search(rf"(^|[/\s]){re.escape(app)}(/|\s|$)", line):
            return i
    return None


def _register_fix(ctx: RuleContext, kfile: str, item: str) -> Callable[[], list[FileEdit]]:
    def fix() -> list[FileEdit]:
        target = ctx.root / kfile
        text = fs.read_text(ctx.root, target)
        current = {i.strip().lstrip("./") for i in yamledit.list_items(text, "resources")}
        if item.lstrip("./") in current:
            return []
        return [edit_file(ctx.root, kfile, yamledit.append_list_item(text, "resources", item))]

    return fix


@rule(
    codes.APP_NOT_REGISTERED,
    rationale="""
Each namespace directory's `kustomization.yaml` lists the `ks.yaml` of its apps (context document,
"Application Structure" and "Component Usage"). An app whose `ks.yaml` is not listed is never applied
by Flux, however correct it is; an entry whose file is gone breaks the whole namespace's build.
Commented-out entries are ignored. Autofix: append `./<app>/ks.yaml` to `resources:`.
""",
    bad="""
# cluster-apps/chongus/default/kustomization.yaml   (atuin/ks.yaml exists)
resources:
  - ./linkding/ks.yaml
""",
    good="""
resources:
  - ./linkding/ks.yaml
  - ./atuin/ks.yaml
""",
    fix=fix_from(_registration),
)
def check_registration(ctx: RuleContext) -> Iterable[Finding]:
    return list(findings_of(_registration(ctx)))


# ----------------------------------------------------------------------------------------------
# HO030 new apps on a deprecated cluster


def _modern_names(ctx: RuleContext) -> set[str]:
    names: set[str] = set()
    for render in modern_renders(ctx):
        for rk in render.rendered.values():
            names.add(rk.ks.name)
            names.update(r.name for r in rk.resources if is_helmrelease(r.obj))
    names.update(a.name for a in app_dirs(ctx))
    return names


@rule(
    codes.DEPRECATED_CLUSTER,
    rationale="""
The context document marks Bitty as "being phased out": "Do not deploy new applications to Bitty",
"Resources should be migrated FROM Bitty TO Chongus". An app Flux Kustomization (one that applies no
further Flux Kustomizations) in a cluster the profile lists in `deprecated_clusters` is reported when
no modern cluster has a counterpart of the same name (a Flux Kustomization, HelmRelease or app
directory): it is either new work in the wrong place or not migrated yet. Offline, homeops cannot
tell the two apart, so the default severity is info; raise it to error in `.homeops.yaml` to freeze
the cluster. Apps already present in a modern cluster are not reported (migration in progress).
""",
    bad="""
# cluster-cd/apps/bitty/media/newapp/ks.yaml: a Flux Kustomization only bitty applies
""",
    good="""
# cluster-apps/chongus/media/newapp/ks.yaml, listed in cluster-apps/chongus/media/kustomization.yaml
""",
)
def check_deprecated_cluster(ctx: RuleContext) -> Iterable[Finding]:
    modern = _modern_names(ctx)
    for render in ctx.renders:
        if ctx.is_modern(render):
            continue
        parents = {rk.ks.parent for rk in render.rendered.values()}
        for key, rk in render.rendered.items():
            ks = rk.ks
            if ks.parent is None or key in parents or ks.name in modern:
                continue
            app_dir = (ks.resource.file or "").rsplit("/", 2)
            if len(app_dir) == 3 and app_dir[2] == "ks.yaml" and app_dir[1] in modern:
                continue  # a part of an app the modern cluster already has (``<app>/ks.yaml``)
            yield finding(
                codes.DEPRECATED_CLUSTER,
                f"app {ks.name} is deployed to {render.cluster.name}, which is deprecated: do not "
                f"deploy new apps to {render.cluster.name} (add it to a modern cluster instead)",
                res=ks.resource,
                line=key_line(ks.obj, "metadata", "name") or ks.resource.line,
                cluster=render.cluster.name,
            )
