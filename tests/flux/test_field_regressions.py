"""Regressions found by rendering real public home-ops repositories (bench/field_render.py).

Each test is a minimal repository written here that reproduces one behaviour of Flux the render got
wrong or did not know: source-controller's ignore rules, clusters entered through a FluxInstance or
Flux bootstrap, what counts as this repository's source, ExternalArtifacts, ClusterExternalSecrets.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from homeops.core import yamlio
from homeops.core.files import FileCache
from homeops.core.profile import DEFAULT
from homeops.flux.cluster import Cluster, discover_clusters, root_kustomizations
from homeops.flux.postbuild import substitute_resource
from homeops.flux.render import render_cluster
from homeops.flux.rendered import ClusterRender
from homeops.flux.repo_index import RepoIndex
from homeops.flux.settings import RenderSettings
from homeops.flux.sourceignore import Pattern, SourceArtifact, read_patterns
from homeops.kustomize.resource import Resource
from support import run_cli
from support import write_tree as write

INSTANCE = """
    apiVersion: fluxcd.controlplane.io/v1
    kind: FluxInstance
    metadata: {{name: flux, namespace: flux-system}}
    spec:
      distribution: {{version: 2.x}}
      sync: {{kind: GitRepository, url: "https://example.com/x.git", ref: refs/heads/main, path: {path}}}
    """
"""A FluxInstance syncing ``path`` (``.format(path=...)``)."""


def ks(
    name: str,
    path: str,
    *,
    namespace: str = "flux-system",
    source: str = "GitRepository/flux-system",
    extra: str = "",
) -> str:
    kind, _, src = source.partition("/")
    head = textwrap.dedent(f"""
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: {name}
          namespace: {namespace}
        spec:
          interval: 1h
          path: {path}
          prune: true
          sourceRef:
            kind: {kind}
            name: {src}
            namespace: flux-system
        """)
    return head + textwrap.indent(textwrap.dedent(extra).strip("\n"), "  ") + ("\n" if extra else "")


def cm(name: str, namespace: str = "default", data: str = "a: b") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\ndata:\n  {data}\n"


def flux_instance_hr(path: str, url: str = "https://github.com/example/home-ops") -> str:
    return f"""
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: flux-instance
      namespace: flux-system
    spec:
      interval: 1h
      chartRef: {{kind: OCIRepository, name: flux-instance}}
      values:
        instance:
          sync:
            kind: GitRepository
            url: {url}
            ref: refs/heads/main
            path: {path}
    """


def render(root: Path, directory: str, **kwargs: object) -> ClusterRender:
    return render_cluster(root, Cluster("c", directory), **kwargs)


def statuses(result: ClusterRender) -> dict[str, str]:
    return {
        key: ("error" if rk.error else "external" if rk.notes else "rendered")
        for key, rk in result.rendered.items()
    }


def rules(result: ClusterRender) -> list[str]:
    return sorted(f.rule for f in result.findings)


def names(result: ClusterRender, ks_key: str) -> list[str]:
    return sorted(f"{r.kind}/{r.name}" for r in result.rendered[ks_key].resources)


# ------------------------------------------------------------------------------ source-controller ignore rules
@pytest.mark.parametrize(("pattern", "path", "is_dir", "excluded"), [
    ("*.md", "docs/README.md", False, True),  # no slash: any component
    ("docs", "docs/a/b.yaml", False, True),  # a matching directory hides everything below it
    ("docs/", "docs", False, False),  # dir-only does not match a file of that name
    ("docs/", "docs", True, True),
    ("/talos", "kubernetes/talos/x.yaml", False, False),  # leading slash: from the scope only
    ("/talos", "talos/x.yaml", False, True),
    ("**/secret.yaml", "a/b/secret.yaml", False, True),
    ("a/**/c.yaml", "a/x/y/c.yaml", False, True),
    ("v[^o]l.yaml", "vol.yaml", False, False),  # Go's class negation is ^
    ("v[^x]l.yaml", "vol.yaml", False, True),
    ("bad[", "bad[", False, False),  # a malformed glob matches nothing
])  # fmt: skip
def test_ignore_patterns_match_like_fluxcd_pkg(pattern: str, path: str, is_dir: bool, excluded: bool) -> None:
    artifact = SourceArtifact(Path("/nowhere"), read_patterns(pattern))
    assert artifact.excludes(path, is_dir) is excluded


def test_ignore_negation_and_scope_and_default_replacement() -> None:
    keep_apps = SourceArtifact(Path("/nowhere"), read_patterns("# all\n/*\n!/apps/\n"))
    assert keep_apps.excludes("apps/x/a.yaml") is False  # re-included although /* excluded the dir
    assert keep_apps.excludes("talos/a.yaml") is True
    scoped = SourceArtifact(Path("/nowhere"), [Pattern.parse("*.yaml", ("sub",))])
    assert (
        scoped.excludes("sub/a.yaml")
        and not scoped.excludes("other/a.yaml")
        and not scoped.excludes("a.yaml")
    )
    defaults = SourceArtifact(Path("/nowhere"), [])
    assert (
        defaults.excludes(".sops.yaml")
        and defaults.excludes("a/.github/x.yaml")
        and defaults.excludes("x.png")
    )
    custom = SourceArtifact(Path("/nowhere"), [], ignore="/docs\n")
    assert not custom.excludes(".sops.yaml") and not custom.excludes("x.png")  # the defaults are replaced
    assert custom.excludes(".git/config") and custom.excludes("docs/a.yaml")  # VCS entries stay


def test_sourceignore_hides_files_from_the_generated_kustomization(tmp_path: Path) -> None:
    files = {
        "clusters/c/flux/apps.yaml": ks("apps", "./apps"),
        "apps/cm.yaml": cm("kept"),
        "apps/talos/machine.yaml": "machine:\n  type: controlplane\n",  # not a Kubernetes object
    }
    write(tmp_path, files)
    assert rules(render(tmp_path, "clusters/c/flux")) == ["HO101"]
    write(tmp_path, {"apps/.sourceignore": "talos/\n"})  # scoped to apps/
    result = render(tmp_path, "clusters/c/flux")
    assert rules(result) == [] and names(result, "flux-system/apps") == ["ConfigMap/kept"]


def test_spec_ignore_replaces_the_default_exclusions(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/apps.yaml": ks("apps", "./apps", source="GitRepository/home-ops"),
        "clusters/c/flux/source.yaml": """
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: GitRepository
            metadata: {name: home-ops, namespace: flux-system}
            spec:
              url: https://example.com/home-ops
              ignore: |
                /docs
            """,
        "apps/cm.yaml": cm("kept"),
        "apps/.sops.yaml": "creation_rules:\n  - age: age1xyz\n",
    })  # fmt: skip
    result = render(tmp_path, "clusters/c/flux")
    # with spec.ignore set, .sops.yaml is no longer left out: Flux's generated kustomization chokes on it
    assert [f.file for f in result.findings if f.rule == "HO101"] == ["apps/.sops.yaml"]
    (tmp_path / "clusters/c/flux/source.yaml").unlink()
    assert rules(render(tmp_path, "clusters/c/flux", cli_vars={})) == []


def test_paths_and_listed_files_outside_the_artifact_are_errors(tmp_path: Path) -> None:
    write(tmp_path, {
        ".sourceignore": "/*\n!/clusters/\n!/apps/\napps/**/secret.yaml\n",
        "clusters/c/flux/apps.yaml": ks("apps", "./apps") + ks("tools", "./tools"),
        "apps/kustomization.yaml": "resources:\n  - cm.yaml\n  - secret.yaml\n",
        "apps/cm.yaml": cm("kept"),
        "apps/secret.yaml": cm("hidden"),
        "tools/cm.yaml": cm("tool"),
    })  # fmt: skip
    result = render(tmp_path, "clusters/c/flux")
    by_rule = {f.rule: f for f in result.findings}
    assert sorted(by_rule) == ["HO101", "HO102"]
    assert "apps/secret.yaml is not in the artifact" in by_rule["HO101"].message
    assert "'./tools'" in by_rule["HO102"].message and "not in the artifact" in by_rule["HO102"].message


def test_each_cluster_uses_its_own_definition_of_a_shared_source_name(tmp_path: Path) -> None:
    def source(keep: str) -> str:
        return f"""
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: GitRepository
            metadata: {{name: home-ops, namespace: flux-system}}
            spec:
              url: https://example.com/home-ops
              ignore: |
                /*
                !/{keep}
            """

    write(tmp_path, {
        "clusters/a/flux/source.yaml": source("apps/a"),
        "clusters/a/flux/apps.yaml": ks("apps", "./apps/a", source="GitRepository/home-ops"),
        "clusters/b/flux/source.yaml": source("apps/b"),
        "clusters/b/flux/apps.yaml": ks("apps", "./apps/b", source="GitRepository/home-ops"),
        "apps/a/cm.yaml": cm("a"),
        "apps/b/cm.yaml": cm("b"),
    })  # fmt: skip
    assert rules(render(tmp_path, "clusters/a/flux")) == []
    assert rules(render(tmp_path, "clusters/b/flux")) == []


# ------------------------------------------------------------------------------ where a cluster starts
def test_fluxinstance_syncs_find_clusters_of_a_multi_cluster_layout(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            f"kubernetes/clusters/{c}/flux-instance/helmrelease.yaml": flux_instance_hr(
                f"kubernetes/clusters/{c}"
            )
            for c in ("main", "test")
        }
        | {
            f"kubernetes/clusters/{c}/apps.yaml": ks("cluster-apps", f"./kubernetes/apps/{c}")
            for c in ("main", "test")
        },
    )
    clusters = discover_clusters(tmp_path, DEFAULT)
    assert clusters == [
        Cluster("main", "kubernetes/clusters/main"),
        Cluster("test", "kubernetes/clusters/test"),
    ]


def test_fluxinstance_sync_directory_is_applied_whole(tmp_path: Path) -> None:
    """The operator's flux-system Kustomization applies the synced directory: its ConfigMap feeds
    substituteFrom, its sub-directories with a kustomization.yaml are applied too (twice here: HO111)."""
    write(tmp_path, {
        "kubernetes/clusters/main/apps.yaml": ks("cluster-apps", "./kubernetes/apps", extra="""
            postBuild:
              substituteFrom:
                - kind: ConfigMap
                  name: cluster-info
            """),
        "kubernetes/clusters/main/cluster-info.yaml": cm("cluster-info", "flux-system", "CLUSTER: main"),
        "kubernetes/clusters/main/flux-instance.yaml": ks("flux-instance", "./kubernetes/clusters/main/flux-instance"),
        "kubernetes/clusters/main/flux-instance/kustomization.yaml": "resources:\n  - helmrelease.yaml\n",
        "kubernetes/clusters/main/flux-instance/helmrelease.yaml": flux_instance_hr("kubernetes/clusters/main"),
        "kubernetes/apps/cm.yaml": cm("name-${CLUSTER}"),
    })  # fmt: skip
    [cluster] = discover_clusters(tmp_path, DEFAULT)
    result = render_cluster(tmp_path, cluster)
    assert next(iter(result.rendered)) == "flux-system/flux-system"
    root = result.rendered["flux-system/flux-system"]
    assert root.ks.source == "kubernetes/clusters/main/flux-instance/helmrelease.yaml:15"  # the sync's path
    assert "ConfigMap/cluster-info" in names(result, "flux-system/flux-system")
    assert names(result, "flux-system/cluster-apps") == ["ConfigMap/name-main"]
    assert rules(result) == ["HO111"]  # the HelmRelease of flux-instance/ is applied by both


def test_sync_directory_without_root_kustomizations_renders_what_it_lists(tmp_path: Path) -> None:
    """A FluxInstance syncing a tree of apps: only what the directory's kustomizations list is applied,
    not every Kustomization written below it."""
    write(tmp_path, {
        "flux.yaml": """
            apiVersion: fluxcd.controlplane.io/v1
            kind: FluxInstance
            metadata: {name: flux, namespace: flux-system}
            spec:
              distribution: {version: 2.x}
              sync: {kind: GitRepository, url: "https://example.com/x.git", ref: refs/heads/main, path: apps/}
            """,
        "apps/default/kustomization.yaml": "resources:\n  - namespace.yaml\n  - echo/ks.yaml\n",
        "apps/default/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n",
        "apps/default/echo/ks.yaml": ks("echo", "./apps/default/echo/app", namespace="default"),
        "apps/default/echo/app/cm.yaml": cm("echo"),
        "apps/default/old/ks.yaml": ks("old", "./apps/default/old/app", namespace="default"),  # not listed
        "apps/default/old/app/cm.yaml": cm("old"),
    })  # fmt: skip
    [cluster] = discover_clusters(tmp_path, DEFAULT)
    assert cluster == Cluster("apps", "apps")
    result = render_cluster(tmp_path, cluster)
    assert statuses(result) == {"flux-system/flux-system": "rendered", "default/echo": "rendered"}
    assert "Namespace/default" in names(result, "flux-system/flux-system")


def test_a_kustomization_written_for_the_directory_wins_over_the_sync(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/sync.yaml": ks("flux-system", "./clusters/c/flux"),
        "clusters/c/flux/apps.yaml": ks("apps", "./apps"),
        "apps/cm.yaml": cm("a"),
        "infra/fi.yaml": flux_instance_hr("clusters/c/flux"),
    })  # fmt: skip
    result = render(tmp_path, "clusters/c/flux")
    assert list(result.rendered) == ["flux-system/flux-system", "flux-system/apps"]
    assert result.rendered["flux-system/flux-system"].ks.source == "clusters/c/flux/sync.yaml:2"


def test_roots_ignore_kustomizations_of_other_sources_and_self_references(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/cluster.yaml": ks("cluster", "./clusters/c/flux"),  # applies the directory, itself too
        "clusters/c/flux/apps.yaml": ks("apps", "./apps"),
        "clusters/c/flux/upstream.yaml": ks("upstream", "./", source="OCIRepository/manifests"),
    })  # fmt: skip
    roots = root_kustomizations(FileCache(tmp_path), tmp_path, "clusters/c/flux")
    assert [r.name for r in roots] == ["cluster"]


def test_kustomizations_that_sync_each_other_are_roots_together(tmp_path: Path) -> None:
    """Two Kustomizations in one file sync the directory holding it from two sources (a mirror): each
    applies the other, nothing else applies them, so both are roots (none found before: no cluster)."""
    write(tmp_path, {
        "clusters/c/flux/sync.yaml": ks("config", "./clusters/c/flux")
        + ks("config-mirror", "./clusters/c/flux", source="GitRepository/mirror"),
        "clusters/c/flux/apps.yaml": ks("apps", "./apps"),
        "apps/cm.yaml": cm("a"),
    })  # fmt: skip
    roots = root_kustomizations(FileCache(tmp_path), tmp_path, "clusters/c/flux")
    assert [r.name for r in roots] == ["config", "config-mirror"]
    write(tmp_path, {  # a third applies them both, and their directory's kustomization does not list it
        "clusters/c/flux/kustomization.yaml": "resources:\n  - sync.yaml\n  - apps.yaml\n",
        "clusters/c/flux/top.yaml": ks("top", "./clusters/c/flux"),
    })  # fmt: skip
    roots = root_kustomizations(FileCache(tmp_path), tmp_path, "clusters/c/flux")
    assert [r.name for r in roots] == ["top"]


def test_discovery_skips_commented_examples_hidden_copies_and_directories_a_cluster_lists(
    tmp_path: Path,
) -> None:
    """Layouts without clusters/<name>/: a ``flux`` directory is a cluster root only when it holds a
    Flux Kustomization that is not commented out, lies outside dot-directories (an ``.archive`` copy,
    ``.taskfiles``) and ``archive`` ones, and is not listed by another root's kustomization (shared
    sources, Flux's install)."""
    write(tmp_path, {
        "kube/clusters/prod/flux/kustomization.yaml": "resources:\n  - sync.yaml\n  - ../../../repos/flux/\n",
        "kube/clusters/prod/flux/sync.yaml": ks("prod", "./kube/clusters/prod/flux"),
        "kube/repos/flux/kustomization.yaml": "resources:\n  - ks.yaml\n",
        "kube/repos/flux/ks.yaml": ks("repos", "./kube/repos/helm"),
        "kube/repos/helm/cm.yaml": cm("r"),
        ".archive/kube/clusters/old/flux/sync.yaml": ks("old", "./.archive/kube/clusters/old/flux"),
        "archive/k8s/older/flux/sync.yaml": ks("older", "./archive/k8s/older/flux"),
        "tools/flux/example.yaml": "---\n# apiVersion: kustomize.toolkit.fluxcd.io/v1\n# kind: Kustomization\n"
        "spec:\n  dependsOn: []\n",
    })  # fmt: skip
    assert discover_clusters(tmp_path, DEFAULT) == [Cluster("prod", "kube/clusters/prod/flux")]
    result = render_cluster(tmp_path, Cluster("prod", "kube/clusters/prod/flux"))
    assert statuses(result) == {"flux-system/prod": "rendered", "flux-system/repos": "rendered"}


def test_clusters_are_named_after_the_directory_not_where_flux_sits_in_it(tmp_path: Path) -> None:
    """``k8s/clusters/<name>/gotk/flux-system`` synced by a FluxInstance, or bootstrapped there: the
    cluster is ``<name>``, not ``flux-system`` for both (which made names of whole paths)."""
    write(tmp_path, {
        "k8s/clusters/mgmt/gotk/flux-system/instance.yaml": INSTANCE.format(path="k8s/clusters/mgmt/gotk/flux-system"),
        "k8s/clusters/mgmt/gotk/flux-system/apps.yaml": ks("apps", "./k8s/apps"),
        "k8s/clusters/edge/gotk/flux-system/instance.yaml": INSTANCE.format(path="k8s/clusters/edge/gotk/flux-system"),
        "k8s/clusters/edge/gotk/flux-system/apps.yaml": ks("apps", "./k8s/apps"),
        "k8s/apps/cm.yaml": cm("a"),
    })  # fmt: skip
    assert [c.name for c in discover_clusters(tmp_path, DEFAULT)] == ["edge", "mgmt"]
    boot = tmp_path / "boot"
    write(boot, {
        "infra/prod/gotk/flux-system/gotk-sync.yaml": ks("flux-system", "./infra/prod/gotk"),
        "infra/prod/gotk/apps.yaml": ks("apps", "./apps"),
        "apps/cm.yaml": cm("a"),
    })  # fmt: skip
    assert discover_clusters(boot, DEFAULT) == [Cluster("prod", "infra/prod/gotk")]


def test_a_cluster_directory_named_cluster_beside_its_apps(tmp_path: Path) -> None:
    """``kubernetes/<name>/cluster`` holding the root Flux Kustomizations, ``kubernetes/<name>/apps`` the
    apps (gabe565/home-ops: no cluster was found); an app's ``cluster`` directory holding no Flux
    Kustomization (a database's) is no cluster."""
    write(tmp_path, {
        "kubernetes/home/cluster/apps.yaml": ks("apps", "./kubernetes/home/apps"),
        "kubernetes/home/apps/kustomization.yaml": "resources: [db/cluster]\n",
        "kubernetes/home/apps/db/cluster/kustomization.yaml": "resources: [cm.yaml]\n",
        "kubernetes/home/apps/db/cluster/cm.yaml": cm("db"),
    })  # fmt: skip
    assert discover_clusters(tmp_path, DEFAULT) == [Cluster("home", "kubernetes/home/cluster")]
    result = render_cluster(tmp_path, Cluster("home", "kubernetes/home/cluster"))
    assert names(result, "flux-system/apps") == ["ConfigMap/db"]


def test_an_apps_cluster_directory_that_a_root_applies_through_flux_is_no_cluster(tmp_path: Path) -> None:
    """Two bootstrapped clusters whose Flux Kustomizations apply a shared tree in which an app keeps its
    ``ks.yaml`` in a directory named ``cluster`` (a database's, whose own kustomization lists only its
    manifests): reached through a Flux Kustomization's path, not a kustomization's resources, that
    directory is part of the clusters, not a third cluster of its own (it was, and its dependsOn fired
    HO104 there). Roots that apply each other both stay; a hub's Flux Kustomization with kubeConfig
    applies to another cluster and makes no one part of it."""
    tree = {
        f"k8s/clusters/{c}/flux-system/gotk-sync.yaml": ks("flux-system", f"./k8s/clusters/{c}") for c in ("a", "b")
    } | {
        f"k8s/clusters/{c}/infra.yaml": ks("infra", "./k8s/infra") for c in ("a", "b")
    } | {
        "k8s/infra/kustomization.yaml": "resources: [storage]\n",
        "k8s/infra/storage/kustomization.yaml": "resources: [db/operator/ks.yaml, db/cluster/ks.yaml]\n",
        "k8s/infra/storage/db/operator/ks.yaml": ks("db-operator", "./k8s/infra/storage/db/operator/app"),
        "k8s/infra/storage/db/operator/app/cm.yaml": cm("operator"),
        "k8s/infra/storage/db/cluster/ks.yaml": ks(
            "db-cluster", "./k8s/infra/storage/db/cluster", extra="dependsOn:\n  - name: db-operator\n"
        ),
        "k8s/infra/storage/db/cluster/kustomization.yaml": "resources: [cm.yaml]\n",
        "k8s/infra/storage/db/cluster/cm.yaml": cm("db"),
    }  # fmt: skip
    write(tmp_path, tree)
    assert discover_clusters(tmp_path, DEFAULT) == [
        Cluster("a", "k8s/clusters/a"),
        Cluster("b", "k8s/clusters/b"),
    ]
    result = render_cluster(tmp_path, Cluster("a", "k8s/clusters/a"))
    assert statuses(result)["flux-system/db-cluster"] == "rendered"
    assert "HO104" not in rules(result)
    hub = tmp_path / "hub"
    write(hub, {
        "k8s/hub/cluster/spokes.yaml": ks("spoke", "./k8s/spoke/cluster", extra="kubeConfig:\n  secretRef: {name: kc}\n"),
        "k8s/spoke/cluster/apps.yaml": ks("apps", "./k8s/apps"),
        "k8s/apps/cm.yaml": cm("a"),
    })  # fmt: skip
    assert [c.name for c in discover_clusters(hub, DEFAULT)] == ["hub", "spoke"]
    mutual = tmp_path / "mutual"
    write(mutual, {
        "k8s/one/cluster/other.yaml": ks("other", "./k8s/two/cluster"),
        "k8s/two/cluster/other.yaml": ks("other", "./k8s/one/cluster"),
    })  # fmt: skip
    assert [c.name for c in discover_clusters(mutual, DEFAULT)] == ["one", "two"]


def test_a_sync_path_with_a_variable_names_the_directories_it_matches(tmp_path: Path) -> None:
    """The flux-instance chart's ``sync.path`` written ``kubernetes/clusters/${CLUSTER}/bootstrap``, the
    Flux Kustomization applying the HelmRelease substituting CLUSTER: a matching directory is a
    cluster, named after the directory above ``bootstrap`` (no cluster was found: the sync was skipped)
    when the repository gives CLUSTER that value, or when it is the only match."""
    write(tmp_path, {
        "kubernetes/apps/flux-system/flux-instance/helmrelease.yaml": flux_instance_hr(
            "kubernetes/clusters/${CLUSTER}/bootstrap"
        ),
        "kubernetes/apps/flux-system/flux-instance/kustomization.yaml": "resources: [helmrelease.yaml]\n",
        "kubernetes/clusters/home/bootstrap/entry.yaml": ks("cluster-apps", "./kubernetes/clusters/home/apps"),
        "kubernetes/clusters/home/apps/cm.yaml": cm("a"),
        "kubernetes/clusters/.old/bootstrap/entry.yaml": ks("cluster-apps", "./kubernetes/apps"),
        "kubernetes/clusters/notes/readme.yaml": "a: b\n",  # no bootstrap directory: no match
    })  # fmt: skip
    [cluster] = discover_clusters(tmp_path, DEFAULT)
    assert cluster == Cluster("home", "kubernetes/clusters/home/bootstrap")
    result = render_cluster(tmp_path, cluster)
    assert statuses(result) == {"flux-system/flux-system": "rendered", "flux-system/cluster-apps": "rendered"}
    assert names(result, "flux-system/cluster-apps") == ["ConfigMap/a"]
    write(tmp_path, {"other.yaml": flux_instance_hr("${CLUSTER_DIR}")})  # variables only: matches anything
    assert discover_clusters(tmp_path, DEFAULT) == [cluster]
    write(tmp_path, {"kubernetes/clusters/lab/bootstrap/entry.yaml": ks("cluster-apps", "./kubernetes/apps")})
    assert [c.directory for c in discover_clusters(tmp_path, DEFAULT)] == [  # two matches, no value given:
        "kubernetes/clusters/home",  # no sync, the directories themselves
        "kubernetes/clusters/lab",
    ]
    write(tmp_path, {  # the Kustomization applying the chart says which
        "kubernetes/clusters/home/apps/flux-instance.yaml": ks(
            "flux-instance", "./kubernetes/apps/flux-system/flux-instance",
            extra="postBuild:\n  substitute:\n    CLUSTER: home\n",
        ),
    })  # fmt: skip
    assert discover_clusters(tmp_path, DEFAULT) == [cluster, Cluster("lab", "kubernetes/clusters/lab")]
    write(tmp_path, {"x.yaml": flux_instance_hr("kubernetes/clusters/${LAB:=lab}/bootstrap")})  # a default
    assert [c.directory for c in discover_clusters(tmp_path, DEFAULT)] == [
        "kubernetes/clusters/home/bootstrap",
        "kubernetes/clusters/lab/bootstrap",
    ]


def test_a_sync_path_of_one_variable_names_the_directories_the_repository_gives_it(tmp_path: Path) -> None:
    """One flux-instance HelmRelease shared by every cluster, its ``sync.path`` written ``${FLUX_PATH}``,
    each cluster's settings ConfigMap giving the variable its own directory (aclerici38/home-ops): only
    the cluster whose own FluxInstance spelled its path out was found. Each value naming a directory is
    a cluster; one naming none is not."""
    settings = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cluster-settings, namespace: flux-system}}\n"
    )
    write(tmp_path, {
        "kubernetes/apps/shared/flux-instance/helmrelease.yaml": flux_instance_hr('"${FLUX_PATH}"'),
        "kubernetes/flux/home/apps.yaml": ks("apps", "./kubernetes/apps/shared"),
        "kubernetes/flux/home/settings.yaml": settings.format() + "data:\n  FLUX_PATH: kubernetes/flux/home\n",
        "kubernetes/flux/lab/apps.yaml": ks("apps", "./kubernetes/apps/shared"),
        "kubernetes/flux/lab/settings.yaml": settings.format() + "data:\n  FLUX_PATH: ./kubernetes/flux/lab/\n",
        "kubernetes/flux/gone/settings.yaml": settings.format() + "data:\n  FLUX_PATH: kubernetes/flux/old\n",
    })  # fmt: skip
    assert discover_clusters(tmp_path, DEFAULT) == [
        Cluster("home", "kubernetes/flux/home"),
        Cluster("lab", "kubernetes/flux/lab"),
    ]


def test_clusters_beside_a_flux_directory_are_found(tmp_path: Path) -> None:
    """``kubernetes/flux`` (a bootstrap of its own) beside ``kubernetes/clusters/<name>``: the walk stopped
    at ``kubernetes/flux``, so the clusters below ``kubernetes/clusters`` (bootstrapped there, or holding
    their Flux Kustomizations themselves, as ``clusters/<name>`` at the top) were never found."""
    write(tmp_path, {
        "kubernetes/flux/flux-system/gotk-sync.yaml": ks("flux-system", "./kubernetes/flux"),
        "kubernetes/clusters/one/flux-system/gotk-sync.yaml": ks("flux-system", "./kubernetes/clusters/one"),
        "kubernetes/clusters/one/apps.yaml": ks("apps", "./kubernetes/apps"),
        "kubernetes/clusters/two/apps.yaml": ks("apps", "./kubernetes/apps"),
        "kubernetes/clusters/notes/readme.yaml": "a: b\n",
        "kubernetes/apps/cm.yaml": cm("a"),
    })  # fmt: skip
    assert discover_clusters(tmp_path, DEFAULT) == [
        Cluster("one", "kubernetes/clusters/one"),
        Cluster("two", "kubernetes/clusters/two"),
        Cluster("kubernetes", "kubernetes/flux"),
    ]
    result = render_cluster(tmp_path, Cluster("one", "kubernetes/clusters/one"))
    assert names(result, "flux-system/apps") == ["ConfigMap/a"]
    nested = tmp_path / "nested"  # no flux directory beside: a clusters directory anywhere in the walk
    write(nested, {"k8s/clusters/home/apps.yaml": ks("apps", "./k8s/apps"), "k8s/apps/cm.yaml": cm("a")})
    assert discover_clusters(nested, DEFAULT) == [Cluster("home", "k8s/clusters/home")]


def test_a_sync_of_a_directory_another_sync_applies_is_the_same_cluster(tmp_path: Path) -> None:
    """Two FluxInstances kept in a repository, one syncing ``kubernetes/flux`` (no kustomization file:
    Flux applies everything below it), one its ``cluster`` subdirectory: one cluster, not two rendering
    the same apps twice."""
    write(tmp_path, {
        "kubernetes/apps/flux/instance.yaml": INSTANCE.format(path="kubernetes/flux"),
        "kubernetes/apps/flux/values.yaml": "instance:\n  sync:\n    kind: GitRepository\n"
        "    url: https://example.com/x.git\n    path: kubernetes/flux/cluster\n",
        "kubernetes/flux/cluster/ks.yaml": ks("cluster-apps", "./kubernetes/apps/default"),
        "kubernetes/flux/repos/source.yaml": cm("repos", "flux-system"),
        "kubernetes/apps/default/cm.yaml": cm("a"),
    })  # fmt: skip
    assert discover_clusters(tmp_path, DEFAULT) == [Cluster("kubernetes", "kubernetes/flux")]
    write(tmp_path, {"kubernetes/flux/kustomization.yaml": "resources: [repos/source.yaml]\n"})
    assert discover_clusters(tmp_path, DEFAULT) == [  # the outer sync does not apply the inner directory
        Cluster("kubernetes-flux", "kubernetes/flux"),
        Cluster("kubernetes-flux-cluster", "kubernetes/flux/cluster"),
    ]


def test_a_missing_substitute_from_that_an_unrenderable_kustomization_may_make_is_a_warning(
    tmp_path: Path,
) -> None:
    """HO108 said error for a Secret an ExternalSecret makes in a Kustomization homeops could not render
    offline (a remote resource): Flux renders it, the Secret exists. Only a Kustomization that can put
    objects in that namespace counts; one failing for the repository's own reason does not."""
    write(tmp_path, {
        "clusters/c/flux/apps.yaml": ks("maker", "./apps/maker", extra="targetNamespace: db\n")
        + ks("elsewhere", "./apps/elsewhere", extra="targetNamespace: other\n")
        + ks("user", "./apps/user", namespace="db", extra="""
            postBuild:
              substituteFrom:
                - kind: Secret
                  name: db-secret
            """)
        + ks("user2", "./apps/user", namespace="web", extra="""
            postBuild:
              substituteFrom:
                - kind: Secret
                  name: web-secret
            """),
        "apps/maker/kustomization.yaml": "resources:\n  - https://example.com/crds.yaml\n  - es.yaml\n",
        "apps/maker/es.yaml": cm("not-parsed"),
        "apps/elsewhere/kustomization.yaml": "resources:\n  - https://example.com/other.yaml\n",
        "apps/user/cm.yaml": cm("u"),
    })  # fmt: skip
    result = render(tmp_path, "clusters/c/flux")
    missing = {f.namespace: f for f in result.findings if f.rule == "HO108"}
    assert missing["db"].severity == "warning"
    assert missing["db"].message.endswith("flux-system/maker, which homeops cannot render, may make it")
    assert missing["web"].severity == "error"  # neither unrendered Kustomization writes to web


# ------------------------------------------------------------------------------ which sources are this repository
def test_a_root_on_an_upstream_oci_artifact_is_external(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/apps.yaml": ks("apps", "./apps"),
        "clusters/c/flux/flux.yaml": textwrap.dedent("""
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: OCIRepository
            metadata: {name: flux-manifests, namespace: flux-system}
            spec: {url: oci://ghcr.io/fluxcd/flux-manifests, ref: {tag: v2.3.0}}
            """) + ks("flux", "./", source="OCIRepository/flux-manifests"),
        "apps/cm.yaml": cm("a"),
        ".pre-commit-config.yaml": "repos: []\n",  # would break a render of the repository root
    })  # fmt: skip
    result = render(tmp_path, "clusters/c/flux")
    assert statuses(result) == {"flux-system/apps": "rendered", "flux-system/flux": "external"}
    assert rules(result) == []
    # asked for by name, it prints nothing: the command says why
    proc = run_cli("build", "ks", "flux", "--path", str(tmp_path), "--cluster", "clusters/c/flux")
    assert (proc.returncode, proc.stdout) == (0, "")
    assert "Flux Kustomization flux-system/flux is not rendered: source OCIRepository/" in proc.stderr


def test_build_ks_says_which_kustomizations_are_missing_from_its_output(tmp_path: Path) -> None:
    """``build ks`` printed nothing of a Flux Kustomization whose kustomization lists a remote file
    (offline: a warning, no error line) and exited 0 without a word (d4rkfella/home-ops); with every
    Kustomization on a source other than the checkout (manifests pushed as OCI artifacts by a script,
    stefanprodan/flux-local-dev) it printed nothing at all. Both now say so on stderr."""
    write(tmp_path, {
        "clusters/c/flux/apps.yaml": ks("apps", "./apps") + ks("crds", "./crds"),
        "apps/cm.yaml": cm("a"),
        "crds/kustomization.yaml": "resources:\n  - https://example.com/releases/v1/crds.yaml\n",
    })  # fmt: skip
    proc = run_cli("build", "ks", "--path", str(tmp_path), "--cluster", "clusters/c/flux")
    assert proc.returncode == 0 and "name: a" in proc.stdout
    assert (
        "Flux Kustomization flux-system/crds is not rendered, its objects are not in the output:"
        in proc.stderr
    )
    assert "remote resource 'https://example.com/releases/v1/crds.yaml'" in proc.stderr
    many = tmp_path / "many"  # more than three missing: one line, not one per Kustomization
    write(many, {
        "clusters/c/flux/apps.yaml": ks("apps", "./apps") + "".join(ks(f"crds{i}", "./crds") for i in range(5)),
        "apps/cm.yaml": cm("a"),
        "crds/kustomization.yaml": "resources:\n  - https://example.com/releases/v1/crds.yaml\n",
    })  # fmt: skip
    proc = run_cli("build", "ks", "--path", str(many), "--cluster", "clusters/c/flux")
    notes = [line for line in proc.stderr.splitlines() if "not rendered" in line]
    assert proc.returncode == 0 and "name: a" in proc.stdout and len(notes) == 1
    assert notes[0].startswith(
        "homeops: note: 5 Flux Kustomizations are not rendered, their objects are not in the output "
        "(flux-system/crds0, flux-system/crds1, flux-system/crds2 and 2 more; the first: "
    )
    pushed = tmp_path / "pushed"
    write(pushed, {
        "clusters/c/flux/sync.yaml": textwrap.dedent("""
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: OCIRepository
            metadata: {name: apps-artifact, namespace: flux-system}
            spec: {url: oci://registry.example:5000/apps, ref: {tag: local}}
            """) + ks("apps", "./", source="OCIRepository/apps-artifact"),
        "apps/cm.yaml": cm("a"),
    })  # fmt: skip
    proc = run_cli("build", "ks", "--path", str(pushed), "--cluster", "clusters/c/flux")
    assert (proc.returncode, proc.stdout) == (0, "")
    assert "nothing rendered in cluster clusters-c-flux: 1 of its 1 Flux Kustomizations" in proc.stderr
    proc = run_cli(
        "build", "ks", "--path", str(pushed), "--cluster", "clusters/c/flux",
        "--sources", "flux-system/apps-artifact=apps",
    )  # fmt: skip
    assert proc.returncode == 0 and "name: a" in proc.stdout and "nothing rendered" not in proc.stderr


def test_a_gitrepository_of_this_repository_under_another_name_is_local(tmp_path: Path) -> None:
    url = "https://github.com/example/home-ops"
    write(tmp_path, {
        "kubernetes/flux/cluster/apps.yaml": ks("apps", "./kubernetes/apps"),
        "kubernetes/apps/repos.yaml": textwrap.dedent(f"""
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: GitRepository
            metadata: {{name: home-ops-dev, namespace: flux-system}}
            spec: {{url: "{url}.git", ref: {{branch: dev}}}}
            ---
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: GitRepository
            metadata: {{name: other, namespace: flux-system}}
            spec: {{url: https://github.com/someone/else}}
            """) + ks("dev", "./kubernetes/dev", source="GitRepository/home-ops-dev")
            + ks("other", "./deploy", source="GitRepository/other"),
        "kubernetes/dev/cm.yaml": cm("dev"),
        "kubernetes/apps/flux-instance.yaml": flux_instance_hr("kubernetes/flux/cluster", url),
    })  # fmt: skip
    result = render_cluster(tmp_path, discover_clusters(tmp_path, DEFAULT)[0])
    assert statuses(result) == {
        "flux-system/flux-system": "rendered",
        "flux-system/apps": "rendered",
        "flux-system/dev": "rendered",
        "flux-system/other": "external",
    }


def test_external_artifact_of_an_artifact_generator_renders_from_its_directory(tmp_path: Path) -> None:
    """Flux bootstrap layout whose gotk-sync.yaml is still a placeholder, Kustomizations sourced from
    ExternalArtifacts an ArtifactGenerator copies out of the repository."""
    write(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": "# written by flux bootstrap\n",
        "clusters/prod/flux-system/kustomization.yaml": "resources:\n  - gotk-sync.yaml\n",
        "clusters/prod/artifacts.yaml": """
            apiVersion: source.extensions.fluxcd.io/v1beta1
            kind: ArtifactGenerator
            metadata: {name: flux-system, namespace: flux-system}
            spec:
              sources:
                - {alias: repo, kind: GitRepository, name: flux-system}
              artifacts:
                - name: apps
                  originRevision: "@repo"
                  copy:
                    - {from: "@repo/apps/base/**", to: "@artifact/base/"}
                    - {from: "@repo/apps/prod/**", to: "@artifact/prod/", exclude: ["*.md"]}
                - name: renamed
                  copy:
                    - {from: "@repo/apps/base/cm.yaml", to: "@artifact/prod/other.yaml"}
                - name: merged
                  copy:
                    - {from: "@repo/apps/base/cm.yaml", to: "@artifact/prod/cm.yaml", strategy: Merge}
            """,
        "clusters/prod/apps.yaml": ks("apps", "./prod", source="ExternalArtifact/apps")
                                   + ks("renamed", "./prod", source="ExternalArtifact/renamed")
                                   + ks("merged", "./prod", source="ExternalArtifact/merged"),
        "apps/base/kustomization.yaml": "resources:\n  - cm.yaml\n",
        "apps/base/cm.yaml": cm("base"),
        "apps/prod/kustomization.yaml": "resources:\n  - ../base\n  - cm.yaml\n",
        "apps/prod/cm.yaml": cm("prod"),
        "apps/staging/cm.yaml": cm("staging"),
    })  # fmt: skip
    [cluster] = discover_clusters(tmp_path, DEFAULT)
    result = render_cluster(tmp_path, cluster)
    assert statuses(result) == {
        "flux-system/flux-system": "rendered",
        "flux-system/apps": "rendered",
        "flux-system/renamed": "rendered",
        "flux-system/merged": "external",
    }
    assert names(result, "flux-system/apps") == ["ConfigMap/base", "ConfigMap/prod"]
    # a renamed file: laid out in a link tree, the object still names the repository file
    assert [(r.name, r.file) for r in result.rendered["flux-system/renamed"].resources] == [
        ("base", "apps/base/cm.yaml")
    ]
    assert "strategy Merge" in result.rendered["flux-system/merged"].notes[0]


# ------------------------------------------------------------------------------ postBuild sources
def test_cluster_external_secret_makes_the_substitution_secret_in_every_namespace(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/apps.yaml": ks("secrets", "./secrets") + ks("app", "./app", namespace="default", extra="""
            postBuild:
              substituteFrom:
                - kind: Secret
                  name: cluster-secrets
            """),
        "secrets/ces.yaml": """
            apiVersion: external-secrets.io/v1
            kind: ClusterExternalSecret
            metadata: {name: cluster-secrets}
            spec:
              namespaceSelectors: [{}]
              externalSecretSpec:
                secretStoreRef: {kind: ClusterSecretStore, name: vault}
                target: {name: cluster-secrets}
                data: [{secretKey: SECRET_DOMAIN, remoteRef: {key: domain}}]
            """,
        "app/cm.yaml": cm("app", data="host: echo.${SECRET_DOMAIN}"),
    })  # fmt: skip
    result = render(tmp_path, "clusters/c/flux")
    assert rules(result) == ["HO103"]  # not HO108: the Secret exists, only the cluster knows its values
    assert result.findings[0].severity == "info"  # an ExternalSecret makes it: the cluster will have it
    assert "by the ClusterExternalSecret at secrets/ces.yaml:1" in result.findings[0].message
    assert render(tmp_path, "clusters/c/flux", cli_vars={"SECRET_DOMAIN": "example.com"}).findings == []


def test_substitute_from_reads_the_exact_name_in_the_kustomizations_namespace(tmp_path: Path) -> None:
    """Flux reads substituteFrom by name in the Kustomization's own namespace: a generated ConfigMap
    keeps its hash suffix unless disabled, and one of another namespace does not count."""
    settings = "configMapGenerator:\n  - name: settings\n    literals: [DOMAIN=example.com]\n"
    write(tmp_path, {
        "clusters/c/flux/apps.yaml": ks("settings", "./settings", namespace="apps", extra="targetNamespace: apps")
        + ks("app", "./app", namespace="apps", extra="""
            dependsOn: [{name: settings}]
            postBuild:
              substituteFrom:
                - kind: ConfigMap
                  name: settings
            """) + ks("other", "./app", namespace="other", extra="""
            targetNamespace: other
            postBuild:
              substituteFrom:
                - kind: ConfigMap
                  name: settings
            """),
        "settings/kustomization.yaml": settings,
        "app/cm.yaml": cm("app", data="host: echo.${DOMAIN}"),
    })  # fmt: skip
    assert rules(render(tmp_path, "clusters/c/flux")) == ["HO103", "HO108", "HO108"]  # one HO103 per variable
    write(
        tmp_path,
        {"settings/kustomization.yaml": settings + "generatorOptions:\n  disableNameSuffixHash: true\n"},
    )
    result = render(tmp_path, "clusters/c/flux")
    assert rules(result) == ["HO103", "HO108"]  # only the Kustomization of namespace other
    assert [r.obj["data"]["host"] for r in result.rendered["apps/app"].resources] == ["echo.example.com"]


def test_an_unresolved_variable_keeps_its_text_at_every_occurrence() -> None:
    doc = yamlio.load_one(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
        "data: {a: 'host-${X}', b: '${X}.example', c: '${Y}-z'}\n"
    )
    res = Resource.from_obj(doc, "cm.yaml")
    assert substitute_resource(res, {"Y": "y"}) == ["X"]
    assert dict(res.obj["data"]) == {"a": "host-${X}", "b": "${X}.example", "c": "y-z"}


def test_spec_fields_that_need_no_rendering_do_not_break_it(tmp_path: Path) -> None:
    write(tmp_path, {
        "clusters/c/flux/apps.yaml": ks("apps", "./apps", extra="""
            decryption: {provider: sops, secretRef: {name: sops-age}}
            force: true
            wait: true
            timeout: 5m
            retryInterval: 1m
            deletionPolicy: WaitForTermination
            healthChecks:
              - {apiVersion: apps/v1, kind: Deployment, name: echo, namespace: default}
            healthCheckExprs:
              - {apiVersion: v1, kind: ConfigMap, current: "true"}
            kubeConfig: {secretRef: {name: remote}}
            serviceAccountName: deployer
            """),
        "apps/cm.yaml": cm("a"),
    })  # fmt: skip
    result = render(tmp_path, "clusters/c/flux")
    assert result.findings == [] and names(result, "flux-system/apps") == ["ConfigMap/a"]


def test_oci_sync_pushed_from_a_subdirectory_renders_relative_to_it(tmp_path: Path) -> None:
    """``flux push artifact --path=./kubernetes``: the FluxInstance syncs an OCIRepository whose paths
    (the sync's and every Kustomization's) are relative to kubernetes/, and only .sourceignore files
    inside it count."""
    write(tmp_path, {
        ".sourceignore": "*.yaml\n",  # at the repository root: not in the artifact, so not applied
        "kubernetes/flux-instance/values.yaml": """
            instance:
              sync: {kind: OCIRepository, url: "oci://ghcr.io/example/manifests", ref: main, path: ./clusters/one}
            """,
        "kubernetes/clusters/one/ks.yaml": ks("cluster", "./apps/one", source="OCIRepository/flux-system"),
        "kubernetes/apps/one/cm.yaml": cm("one"),
    })  # fmt: skip
    [cluster] = discover_clusters(tmp_path, DEFAULT)
    assert cluster == Cluster("one", "kubernetes/clusters/one")
    result = render_cluster(tmp_path, cluster)
    assert statuses(result) == {"flux-system/flux-system": "rendered", "flux-system/cluster": "rendered"}
    assert result.rendered["flux-system/flux-system"].ks.path == "./clusters/one"
    assert names(result, "flux-system/cluster") == ["ConfigMap/one"] and result.findings == []


def test_substitution_source_made_later_in_the_walk_is_used(tmp_path: Path) -> None:
    """Every app (the one making it included) substitutes from a Secret a ClusterExternalSecret makes:
    the cluster has it from earlier reconciliations, so no app reports it missing."""
    sub = """
        postBuild:
          substituteFrom:
            - kind: Secret
              name: cluster-secrets
        """
    write(tmp_path, {
        "clusters/c/flux/apps.yaml": ks("a-app", "./a", extra=sub) + ks("secrets", "./secrets", extra=sub),
        "a/cm.yaml": cm("a", data="host: a.${SECRET_DOMAIN:=example.com}"),
        "secrets/ces.yaml": """
            apiVersion: external-secrets.io/v1
            kind: ClusterExternalSecret
            metadata: {name: cluster-secrets}
            spec:
              namespaceSelectors: [{matchLabels: {secrets: "yes"}}]
              externalSecretSpec: {target: {name: cluster-secrets}, dataFrom: [{extract: {key: shared}}]}
            """,
    })  # fmt: skip
    result = render(tmp_path, "clusters/c/flux")
    assert rules(result) == []
    assert [r.obj["data"]["host"] for r in result.rendered["flux-system/a-app"].resources] == [
        "a.example.com"
    ]


def test_external_artifact_copied_as_a_subdirectory_is_laid_out_like_source_watcher(tmp_path: Path) -> None:
    """``@repo/apps/echo/`` → ``@artifact/apps/echo/`` copies the directory INTO the destination
    (apps/echo/echo/...): rendered from a temporary link tree, objects still name the repository files."""
    write(tmp_path, {
        "clusters/c/flux-system/gotk-sync.yaml": "# made by flux bootstrap\n",
        "clusters/c/generator.yaml": """
            apiVersion: source.extensions.fluxcd.io/v1beta1
            kind: ArtifactGenerator
            metadata: {name: repo, namespace: flux-system}
            spec:
              sources: [{alias: repo, kind: GitRepository, name: flux-system}]
              artifacts:
                - name: echo
                  copy: [{from: "@repo/apps/echo/", to: "@artifact/apps/echo/"}]
            """,
        "clusters/c/echo.yaml": ks("echo", "./apps/echo", source="ExternalArtifact/echo")
                                + ks("nested", "./apps/echo/echo", source="ExternalArtifact/echo"),
        "apps/echo/kustomization.yaml": "resources:\n  - cm.yaml\n",
        "apps/echo/cm.yaml": cm("echo"),
    })  # fmt: skip
    result = render_cluster(tmp_path, discover_clusters(tmp_path, DEFAULT)[0])
    assert statuses(result) == {
        "flux-system/flux-system": "rendered",
        "flux-system/echo": "rendered",
        "flux-system/nested": "rendered",
    }
    echo = result.rendered["flux-system/echo"].resources  # generated kustomization → ./echo
    assert [(r.name, r.file) for r in echo] == [("echo", "apps/echo/cm.yaml")]
    assert not list(Path("/dev/shm" if Path("/dev/shm").is_dir() else tmp_path).glob("homeops-artifacts-*"))


def test_a_clusters_directory_further_down_alone_is_not_a_cluster(tmp_path: Path) -> None:
    """``k8s/clusters/<name>`` with no Flux directory beside it (a trial of a layout, its paths not
    there) is not taken for clusters when the repository's live one is found elsewhere."""
    ks = (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n"
        "  namespace: flux-system\nspec:\n  path: {path}\n  sourceRef:\n    kind: GitRepository\n"
        "    name: flux-system\n"
    )
    live = tmp_path / "cluster" / "flux"
    live.mkdir(parents=True)
    (live / "apps.yaml").write_text(ks.format(name="apps", path="./cluster/apps"))
    (tmp_path / "cluster" / "apps").mkdir()
    (tmp_path / "cluster" / "apps" / "kustomization.yaml").write_text("resources: []\n")
    trial = tmp_path / "k8s" / "clusters" / "trial"
    trial.mkdir(parents=True)
    (trial / "apps.yaml").write_text(ks.format(name="apps", path="./k8s/clusters/trial/apps"))
    assert [c.directory for c in discover_clusters(tmp_path, DEFAULT)] == ["cluster/flux"]


def test_an_instance_put_in_its_namespace_by_a_kustomization_names_the_sync_source_after_it(
    tmp_path: Path,
) -> None:
    """The flux-instance HelmRelease does not write its namespace (the Flux Kustomization applying it
    sets targetNamespace): the operator's GitRepository is named after that namespace, and the cluster
    directory's Kustomizations use it under that name, defined nowhere in the repository."""
    hr = flux_instance_hr("kubernetes/flux/cluster").replace("      namespace: flux-system\n", "", 1)

    def gitops_ks(name: str, path: str, source: str = "gitops", extra: str = "") -> str:
        return (
            textwrap.dedent(f"""
            ---
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {{name: {name}, namespace: gitops}}
            spec:
              interval: 1h
              path: {path}
              prune: true
              sourceRef: {{kind: GitRepository, name: {source}}}
            """)
            + extra
        )

    write(tmp_path, {
        "kubernetes/flux/cluster/apps.yaml": gitops_ks("apps", "./kubernetes/apps"),
        "kubernetes/apps/kustomization.yaml": "resources:\n  - ks.yaml\n",
        "kubernetes/apps/ks.yaml": gitops_ks(
            "flux-instance", "./kubernetes/apps/instance", extra="  targetNamespace: gitops\n"
        ) + gitops_ks("stray", "./kubernetes/apps/instance", source="elsewhere"),
        "kubernetes/apps/instance/kustomization.yaml": "resources:\n  - helmrelease.yaml\n",
        "kubernetes/apps/instance/helmrelease.yaml": hr,
    })  # fmt: skip
    [cluster] = discover_clusters(tmp_path, DEFAULT)
    result = render_cluster(tmp_path, cluster)
    assert statuses(result) == {
        "flux-system/flux-system": "rendered",
        "gitops/apps": "rendered",
        "gitops/flux-instance": "rendered",
        "gitops/stray": "error",  # a source named otherwise, defined nowhere: still unknown
    }
    assert rules(result) == ["HO106"]
    assert names(result, "gitops/flux-instance") == ["HelmRelease/flux-instance"]


def test_a_helmrelease_target_namespace_is_where_the_chart_puts_the_instance(tmp_path: Path) -> None:
    hr = flux_instance_hr("kubernetes/flux/cluster").replace(
        "  interval: 1h\n", "  interval: 1h\n      targetNamespace: gitops\n", 1
    )
    write(tmp_path, {"kubernetes/apps/hr.yaml": hr, "kubernetes/flux/cluster/cm.yaml": cm("echo")})
    [sync] = RepoIndex(tmp_path).syncs
    assert (sync.namespace, sync.name, sync.namespace_written) == ("gitops", "gitops", True)


def test_kustomizations_applying_to_other_clusters_do_not_apply_the_same_objects_twice(
    tmp_path: Path,
) -> None:
    """A hub applies one directory to each spoke (``spec.kubeConfig``): the same Namespace goes to
    different clusters, not twice to one; two Kustomizations of the hub itself still clash."""
    remote = """
        kubeConfig:
          secretRef: {name: kubeconfig}
        """
    write(tmp_path, {
        "hub/spokes.yaml": ks("one", "./spoke", namespace="one", extra=remote)
        + ks("two", "./spoke", namespace="two", extra=remote)
        + ks("local-a", "./local", namespace="one") + ks("local-b", "./local", namespace="two"),
        "spoke/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shared\n",
        "local/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hubs\n",
    })  # fmt: skip
    result = render(tmp_path, "hub")
    assert set(statuses(result).values()) == {"rendered"}
    [twice] = [f for f in result.findings if f.rule == "HO111"]
    assert twice.message == "Namespace hubs is applied by both one/local-a and two/local-b"


def test_a_tenant_source_on_another_branch_of_this_repository_is_not_rendered_from_the_tree(
    tmp_path: Path,
) -> None:
    """A GitRepository of this repository's URL that follows another branch than the cluster's own
    source: a path the working tree does not have is in that branch (not rendered, no HO102); one the
    tree has renders from it, and a missing path on the cluster's own branch stays an error."""
    url = "https://github.com/example/home-ops"

    def tenant(name: str, branch: str, path: str) -> str:
        return textwrap.dedent(f"""
            ---
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: GitRepository
            metadata: {{name: {name}, namespace: flux-system}}
            spec: {{url: "{url}", ref: {{branch: {branch}}}}}
            """) + ks(name, path, source=f"GitRepository/{name}")

    write(tmp_path, {
        "clusters/c/sync.yaml": textwrap.dedent(f"""
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: GitRepository
            metadata: {{name: flux-system, namespace: flux-system}}
            spec: {{url: "{url}", ref: {{branch: main}}}}
            """) + ks("flux-system", "./clusters/c") + ks("tenants", "./tenants"),
        "tenants/t.yaml": tenant("team", "team", "./team-only")
        + tenant("here", "team", "./shared") + tenant("typo", "main", "./nowhere"),
        "shared/cm.yaml": cm("shared"),
    })  # fmt: skip
    result = render(tmp_path, "clusters/c", local_urls={url})
    assert statuses(result) == {
        "flux-system/flux-system": "rendered",
        "flux-system/tenants": "rendered",
        "flux-system/team": "external",
        "flux-system/here": "rendered",
        "flux-system/typo": "error",
    }
    assert rules(result) == ["HO102"]
    [note] = result.rendered["flux-system/team"].notes
    assert "follows branch 'team' of this repository" in note


def test_a_cluster_whose_root_source_is_another_repositorys_says_nothing_renders(tmp_path: Path) -> None:
    """A fork or a mirror whose remote is not the URL its cluster syncs: every root source is taken for
    another repository and nothing of the tree renders. HO116 says so, with the mapping that renders it."""
    write(
        tmp_path,
        {
            "clusters/c/flux/sync.yaml": """
                apiVersion: source.toolkit.fluxcd.io/v1
                kind: GitRepository
                metadata: {name: home, namespace: flux-system}
                spec: {url: https://github.com/upstream/home-ops, ref: {branch: main}}
                ---
                apiVersion: kustomize.toolkit.fluxcd.io/v1
                kind: Kustomization
                metadata: {name: cluster, namespace: flux-system}
                spec:
                  path: ./clusters/c/apps
                  sourceRef: {kind: GitRepository, name: home}
            """,
            "clusters/c/apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: default}\n",
        },
    )
    fork = {"github.com/me/home-ops"}
    result = render(tmp_path, "clusters/c/flux", local_urls=fork)
    assert statuses(result) == {"flux-system/cluster": "external"}
    [warning] = [f for f in result.findings if f.rule == "HO116"]
    assert warning.severity == "warning" and (warning.file, warning.line) == ("clusters/c/flux/sync.yaml", 1)
    assert "github.com/me/home-ops" in warning.message and "--sources home=." in warning.message
    mapped = render(
        tmp_path, "clusters/c/flux", local_urls=fork, settings=RenderSettings(source_paths={"home": "."})
    )
    assert statuses(mapped) == {"flux-system/cluster": "rendered"} and not mapped.findings
    same = render(tmp_path, "clusters/c/flux", local_urls={"github.com/upstream/home-ops"})
    assert statuses(same) == {"flux-system/cluster": "rendered"} and not same.findings


def test_a_flux_instances_sync_ref_is_the_revision_a_tenant_source_is_compared_with(tmp_path: Path) -> None:
    """Where the flux-operator makes the cluster's source, its ``sync.ref`` says which revision the
    cluster follows, checkout or not (a pull request's CI has a detached HEAD, a diff's base side no
    branch at all): a tenant GitRepository of this repository on that branch with a missing path is
    HO102 (a typo), one on another branch is in that branch (not rendered)."""
    url = "https://example.com/x.git"

    def tenant(name: str, ref: str, path: str) -> str:
        return textwrap.dedent(f"""
            ---
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: GitRepository
            metadata: {{name: {name}, namespace: flux-system}}
            spec: {{url: "{url}", ref: {ref}}}
            """) + ks(name, path, source=f"GitRepository/{name}")

    write(tmp_path, {
        "clusters/c/instance.yaml": INSTANCE.format(path="clusters/c"),
        "clusters/c/tenants.yaml": ks("tenants", "./tenants", source="GitRepository/flux-system"),
        "tenants/t.yaml": tenant("typo", "{branch: main}", "./nowhere")
        + tenant("named", "{name: refs/heads/main}", "./nowhere-either")
        + tenant("team", "{branch: team}", "./team-only"),
    })  # fmt: skip
    result = render(tmp_path, "clusters/c", local_urls={url})
    statuses_found = statuses(result)
    assert (statuses_found["flux-system/typo"], statuses_found["flux-system/named"]) == ("error", "error")
    assert statuses_found["flux-system/team"] == "external"
    assert rules(result) == ["HO102", "HO102"]


def test_a_volsync_variable_the_component_defaults_everywhere_need_not_be_substituted(tmp_path: Path) -> None:
    """HO024 asked every app including the volsync component for ``postBuild.substitute
    VOLSYNC_CAPACITY`` although each use of it in the component reads ``${VOLSYNC_CAPACITY:=1Gi}``
    (jokajak/home-ops): Flux fills in the default. A bare use elsewhere still needs the variable, and
    a commented-out ``${VOLSYNC_*}`` (gone once kustomize builds) is no use at all."""
    component = """
        # the ${{VOLSYNC_*}} variables below
        apiVersion: volsync.backube/v1alpha1
        kind: ReplicationSource
        metadata:
          name: ${{APP}}
        spec:
          sourcePVC: ${{APP}}
          restic:
            copyMethod: Snapshot
            capacity: {capacity}
        """
    app = """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: {name}
        spec:
          accessModes: [ReadWriteOnce]
          resources:
            requests:
              storage: 1Gi
        """
    kustomization = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - rs.yaml\n"
    write(tmp_path, {
        "clusters/c/flux/apps.yaml": ks("apps", "./apps"),
        "apps/apps.yaml": ks("kept", "./kept", extra="""
            targetNamespace: default
            components:
              - ../components/volsync
            postBuild:
              substitute:
                APP: kept
            """) + ks("bare", "./bare", extra="""
            targetNamespace: default
            components:
              - ../other/volsync
            postBuild:
              substitute:
                APP: bare
            """),
        "kept/pvc.yaml": app.format(name="kept"),
        "kept/kustomization.yaml": "resources:\n  - pvc.yaml\n",
        "bare/pvc.yaml": app.format(name="bare"),
        "bare/kustomization.yaml": "resources:\n  - pvc.yaml\n",
        "components/volsync/kustomization.yaml": kustomization,
        "components/volsync/rs.yaml": component.format(capacity="${VOLSYNC_CAPACITY:=1Gi}"),
        "other/volsync/kustomization.yaml": kustomization,
        "other/volsync/rs.yaml": component.format(capacity="${VOLSYNC_CAPACITY}"),
    })  # fmt: skip
    proc = run_cli(
        "check", "--path", str(tmp_path), "--format", "json", "--select", "HO024", "--fail-on", "error"
    )
    messages = [
        f["message"] for f in json.loads(proc.stdout)["findings"] if "postBuild.substitute" in f["message"]
    ]
    assert messages == [
        "flux-system/bare uses the volsync component without postBuild.substitute VOLSYNC_CAPACITY"
    ]
