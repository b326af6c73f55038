"""``homeops diff`` on real Git repositories: what changed, object by object."""

from __future__ import annotations

from pathlib import Path

import pytest
from diff_support import GitRepo, changed, make_repo

from homeops.diff.imagediff import split_image
from homeops.diff.revisions import DiffOptions, diff_repository

ECHO = "cluster-apps/chongus/network/echo-server"
ECHO_TAG = "tag: v0.3.7@sha256:b9d790bbffe59120141361a5d49105115ebd54f9e10c217bd6ca22dd7d9d361d"


def test_image_bump(repo: GitRepo) -> None:
    repo.edit(f"{ECHO}/app/helmrelease.yaml", ECHO_TAG, "tag: v0.3.8")
    repo.commit("bump echo-server")
    result = repo.diff()
    assert changed(result) == {("modified", "chongus", "HelmRelease", "network", "echo-server")}
    change = result.changes[0]
    assert change.ks == "network/echo-server"
    assert change.helmrelease == "network/echo-server"
    assert "-              " + ECHO_TAG + "\n" in change.diff
    assert "+              tag: v0.3.8\n" in change.diff
    assert [i.as_json() for i in result.images] == [
        {
            "image": "ghcr.io/jmalloc/echo-server",
            "from": ECHO_TAG.removeprefix("tag: "),
            "to": "v0.3.8",
            "workloads": ["chongus/HelmRelease/network/echo-server"],
        }
    ]
    assert result.dangers == []
    assert result.render_errors == []


def test_value_change(repo: GitRepo) -> None:
    repo.edit(f"{ECHO}/app/helmrelease.yaml", "replicas: 2", "replicas: 3")
    repo.commit()
    result = repo.diff()
    assert changed(result) == {("modified", "chongus", "HelmRelease", "network", "echo-server")}
    diff = result.changes[0].diff
    assert "-        replicas: 2\n" in diff and "+        replicas: 3\n" in diff
    assert diff.startswith(
        "--- a/chongus/HelmRelease/network/echo-server\n+++ b/chongus/HelmRelease/network/echo-server\n"
    )
    assert result.images == []


def test_type_change_is_a_change(repo: GitRepo) -> None:
    """``"2"`` and ``2`` are different values even though Python's == is loose about bool and int."""
    repo.edit(f"{ECHO}/app/helmrelease.yaml", "replicas: 2", 'replicas: "2"')
    repo.commit()
    assert changed(repo.diff()) == {("modified", "chongus", "HelmRelease", "network", "echo-server")}


def _add_echo_two(repo: GitRepo) -> None:
    for rel in (
        "ks.yaml",
        "app/kustomization.yaml",
        "app/helmrelease.yaml",
        "app/ocirepository.yaml",
        "app/httproute.yaml",
    ):
        text = (
            repo.read(f"{ECHO}/{rel}").replace("echo-server", "echo-two").replace("echo.home", "echo2.home")
        )
        text = text.replace("jmalloc/echo-two", "jmalloc/echo-server")
        repo.write(f"cluster-apps/chongus/network/echo-two/{rel}", text)
    repo.edit(
        "cluster-apps/chongus/network/kustomization.yaml",
        "  - ./echo-server/ks.yaml\n",
        "  - ./echo-server/ks.yaml\n  - ./echo-two/ks.yaml\n",
    )


def test_app_added(repo: GitRepo) -> None:
    _add_echo_two(repo)
    repo.commit("add echo-two")
    result = repo.diff()
    assert changed(result) == {
        ("added", "chongus", "Kustomization", "network", "echo-two"),
        ("added", "chongus", "HelmRelease", "network", "echo-two"),
        ("added", "chongus", "OCIRepository", "network", "echo-two"),
        ("added", "chongus", "HTTPRoute", "network", "echo-two"),
    }
    ks = next(c for c in result.changes if c.kind == "Kustomization")
    assert ks.ks == "flux-system/cluster-apps"  # the Flux Kustomization object belongs to its parent
    hr = next(c for c in result.changes if c.kind == "HelmRelease")
    assert hr.ks == "network/echo-two"
    assert hr.diff.startswith("--- /dev/null\n+++ b/chongus/HelmRelease/network/echo-two\n")
    assert all(line.startswith(("+", "@@", "---")) for line in hr.diff.splitlines())
    assert [(i.image, i.from_, i.to) for i in result.images] == [
        ("ghcr.io/jmalloc/echo-server", None, ECHO_TAG.removeprefix("tag: "))
    ]
    assert result.dangers == []


def test_app_removed(repo: GitRepo) -> None:
    repo.edit("cluster-apps/chongus/default/kustomization.yaml", "  - ./ntfy/ks.yaml\n", "")
    repo.remove("cluster-apps/chongus/default/ntfy")
    repo.commit("remove ntfy")
    result = repo.diff()
    kinds = {(c.change, c.kind, c.name) for c in result.changes}
    assert ("removed", "Kustomization", "ntfy") in kinds
    assert ("removed", "HelmRelease", "ntfy") in kinds
    assert {c.change for c in result.changes} == {"removed"}
    assert all(c.cluster == "chongus" and c.namespace == "default" for c in result.changes)
    assert all(line.startswith(("-", "@@", "+++")) for c in result.changes for line in c.diff.splitlines())
    # under prune: true everything goes: one danger note per object, as a deletion
    assert {(d.type, d.kind, d.name) for d in result.dangers} == {
        ("prune-delete", c.kind, c.name) for c in result.changes
    }
    assert {i.to for i in result.images} == {None}


def test_flux_kustomization_path_changed(repo: GitRepo) -> None:
    """The path moves to a copy whose HTTPRoute differs: the Kustomization and that object change."""
    for rel in ("kustomization.yaml", "helmrelease.yaml", "ocirepository.yaml", "httproute.yaml"):
        repo.write(f"{ECHO}/app-v2/{rel}", repo.read(f"{ECHO}/app/{rel}"))
    repo.edit(f"{ECHO}/app-v2/httproute.yaml", "request: 30s", "request: 60s")
    repo.edit(
        f"{ECHO}/ks.yaml",
        "path: ./cluster-apps/chongus/network/echo-server/app\n",
        "path: ./cluster-apps/chongus/network/echo-server/app-v2\n",
    )
    repo.commit("move echo-server")
    result = repo.diff()
    assert changed(result) == {
        ("modified", "chongus", "Kustomization", "network", "echo-server"),
        ("modified", "chongus", "HTTPRoute", "network", "echo-server"),
    }
    ks = next(c for c in result.changes if c.kind == "Kustomization")
    assert "+  path: ./cluster-apps/chongus/network/echo-server/app-v2\n" in ks.diff
    route = next(c for c in result.changes if c.kind == "HTTPRoute")
    assert "+      request: 60s\n" in route.diff


def test_component_change_affects_every_user(repo: GitRepo) -> None:
    """A label in the namespace component: every Namespace built with it changes, nothing else."""
    repo.edit(
        "cluster-apps/components/namespace/namespace.yaml",
        "metadata:\n  name: _\n",
        "metadata:\n  name: _\n  labels:\n    team: home\n",
    )
    repo.commit("label namespaces")
    result = repo.diff()
    assert changed(result) == {
        ("modified", "chongus", "Namespace", "", ns)
        for ns in ("database", "default", "media", "network", "observability")
    }
    assert all("+    team: home\n" in c.diff for c in result.changes)
    assert result.summary() == [
        {"cluster": "chongus", "kind": "Namespace", "added": 0, "removed": 0, "modified": 5}
    ]


def test_flux_component_change_affects_every_app_using_it(repo: GitRepo) -> None:
    """The volsync component, pulled in by two apps' ``spec.components``."""
    repo.edit("cluster-apps/components/volsync/minio.yaml", "pruneIntervalDays: 7", "pruneIntervalDays: 14")
    repo.commit()
    result = repo.diff()
    assert {(c.kind, c.namespace, c.name, c.ks) for c in result.changes} == {
        ("ReplicationSource", "media", "jellyfin-minio", "media/jellyfin"),
        ("ReplicationSource", "default", "linkding-minio", "default/linkding"),
    } or {(c.namespace, c.ks) for c in result.changes} == {
        ("media", "media/jellyfin"),
        ("default", "default/linkding"),
    }
    assert {c.change for c in result.changes} == {"modified"}


def test_generator_file_change_is_seen(repo: GitRepo) -> None:
    """A configMapGenerator file is read outside the file cache: the reused renders must notice it."""
    repo.edit("cluster-apps/chongus/observability/gatus/app/config/config.yaml", "\n", "\n# touched\n")
    repo.commit()
    result = repo.diff()
    assert changed(result) == {("modified", "chongus", "ConfigMap", "observability", "gatus-config")}


def test_identical_revisions(repo: GitRepo) -> None:
    repo.commit("nothing")  # an empty commit: a different revision with the same tree
    result = repo.diff()
    assert (
        result.changes == [] and result.images == [] and result.dangers == [] and result.render_errors == []
    )
    same = repo.diff(base="HEAD", head="HEAD")
    assert same.changes == [] and same.stats.get("identical")
    clean = repo.diff(base=None, head=None)  # HEAD against a clean working tree
    assert clean.changes == []


def test_revision_that_fails_to_render_is_reported(repo: GitRepo) -> None:
    repo.write(
        f"{ECHO}/app/helmrelease.yaml", repo.read(f"{ECHO}/app/helmrelease.yaml") + "  values: [broken\n"
    )
    repo.commit("break echo-server")
    result = repo.diff()
    assert result.changes == []  # echo-server's objects are not reported as removed
    assert any("network/echo-server" in note and "head" in note for note in result.notes)
    assert [side for side, _ in result.render_errors] == ["head"]
    finding = result.render_errors[0][1]
    assert finding.file == f"{ECHO}/app/helmrelease.yaml"
    assert "/tmp" not in finding.message and "homeops-diff-" not in finding.message
    # the other way round, the base is the broken side
    back = repo.diff(base="HEAD", head="HEAD~1")
    assert back.changes == [] and [side for side, _ in back.render_errors] == ["base"]


def test_broken_cluster_root_is_reported(repo: GitRepo) -> None:
    repo.write("clusters/chongus/flux/cluster/cluster.yaml", "apiVersion: [\n")
    repo.commit("break the root")
    result = repo.diff()
    assert any("cluster chongus did not render at head" in note for note in result.notes)
    assert all(c.cluster != "chongus" for c in result.changes)


def test_working_tree_default(repo: GitRepo) -> None:
    repo.edit(f"{ECHO}/app/helmrelease.yaml", "replicas: 2", "replicas: 4")
    repo.write(
        "cluster-apps/chongus/network/echo-server/app/extra.yaml", "kind: Nothing\n"
    )  # untracked, unused
    status = repo.git("status", "--porcelain")
    before = repo.read(f"{ECHO}/app/helmrelease.yaml")
    result = diff_repository(repo.path, DiffOptions())
    assert result.head_label == "working tree" and result.base_label.startswith("HEAD (")
    assert changed(result) == {("modified", "chongus", "HelmRelease", "network", "echo-server")}
    assert "+        replicas: 4\n" in result.changes[0].diff
    assert repo.git("status", "--porcelain") == status  # the working tree and index are untouched
    assert repo.read(f"{ECHO}/app/helmrelease.yaml") == before
    assert repo.git("stash", "list") == ""


def test_base_only_compares_with_the_working_tree(repo: GitRepo) -> None:
    repo.edit(f"{ECHO}/app/helmrelease.yaml", "replicas: 2", "replicas: 4")
    repo.commit()
    result = diff_repository(repo.path, DiffOptions(base="HEAD~1"))
    assert changed(result) == {("modified", "chongus", "HelmRelease", "network", "echo-server")}


def test_merge_base(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.edit(f"{ECHO}/app/helmrelease.yaml", "replicas: 2", "replicas: 3")
    repo.commit("feature: scale echo-server")
    repo.git("checkout", "-q", "main")
    repo.edit("cluster-apps/chongus/network/echo-server/app/httproute.yaml", "request: 30s", "request: 45s")
    repo.commit("main moves on")
    plain = repo.diff(base="main", head="feature")
    assert changed(plain) == {
        ("modified", "chongus", "HelmRelease", "network", "echo-server"),
        ("modified", "chongus", "HTTPRoute", "network", "echo-server"),
    }
    merged = repo.diff(base="main", head="feature", merge_base=True)
    assert changed(merged) == {("modified", "chongus", "HelmRelease", "network", "echo-server")}
    assert merged.base_label.startswith("merge-base(main, feature)")


def test_unknown_revision(repo: GitRepo) -> None:
    from homeops.core.errors import EXIT_USAGE, HomeopsError

    with pytest.raises(HomeopsError) as info:
        repo.diff(base="no-such-branch")
    assert info.value.exit_code == EXIT_USAGE
    assert "unknown revision 'no-such-branch'" in info.value.one_line()


def test_strip_attrs(repo: GitRepo) -> None:
    repo.edit(
        "cluster-apps/components/namespace/namespace.yaml",
        "metadata:\n  name: _\n",
        "metadata:\n  name: _\n  labels:\n    app.kubernetes.io/version: '2'\n",
    )
    repo.commit()
    assert len(repo.diff().changes) == 5
    assert repo.diff(strip_attrs=["helm.sh/chart", "app.kubernetes.io/version"]).changes == []


def test_one_cluster(repo: GitRepo) -> None:
    repo.edit("cluster-cd/apps/bitty/media/tautulli/app/helmrelease.yaml", "version: 3.7.3", "version: 3.7.4")
    repo.edit(f"{ECHO}/app/helmrelease.yaml", "replicas: 2", "replicas: 3")
    repo.commit()
    assert {c.cluster for c in repo.diff().changes} == {"bitty", "chongus"}
    assert changed(repo.diff(cluster="bitty")) == {("modified", "bitty", "HelmRelease", "media", "tautulli")}


def test_repository_in_a_subdirectory(tmp_path: Path) -> None:
    """--path below the Git top level: only that subtree is materialised and paths stay relative to it."""
    top = tmp_path / "top"
    top.mkdir()
    repo = make_repo(top / "home-ops")
    repo.remove(".git")
    outer = GitRepo(top)
    outer.git("init", "-q")
    (top / "README.md").write_text("outer\n")
    outer.commit("base")
    repo.edit(f"{ECHO}/app/helmrelease.yaml", "replicas: 2", "replicas: 3")
    outer.commit("scale")
    result = diff_repository(repo.path, DiffOptions(base="HEAD~1", head="HEAD"))
    assert changed(result) == {("modified", "chongus", "HelmRelease", "network", "echo-server")}
    assert result.changes[0].source == f"{ECHO}/app/helmrelease.yaml:3"


@pytest.mark.parametrize("edit", ["component", "generator", "ks", "app"])
def test_reuse_matches_full_renders(repo: GitRepo, edit: str) -> None:
    """Reusing renders across sides gives exactly what rendering both sides from scratch gives."""
    if edit == "component":
        repo.edit("cluster-apps/components/flux/alerts/alert.yaml", "\n", "\n# x\n")
        repo.edit("cluster-apps/components/volsync/pvc.yaml", "ReadWriteOnce}", "ReadWriteMany}")
    elif edit == "generator":
        repo.edit("cluster-apps/chongus/observability/gatus/app/config/config.yaml", "\n", "\n# touched\n")
    elif edit == "ks":
        repo.edit(
            "cluster-apps/chongus/media/jellyfin/ks.yaml", "VOLSYNC_CAPACITY: 15Gi", "VOLSYNC_CAPACITY: 20Gi"
        )
    else:
        _add_echo_two(repo)
    repo.commit()
    reused = repo.diff()
    full = repo.diff(reuse=False)
    assert [c.as_json() for c in reused.changes] == [c.as_json() for c in full.changes]
    assert [d.as_json() for d in reused.dangers] == [d.as_json() for d in full.dangers]
    assert reused.stats["renders"]["hits"] > 0


def test_split_image() -> None:
    assert split_image("ghcr.io/a/b:1.2@sha256:ab") == ("ghcr.io/a/b", "1.2@sha256:ab")
    assert split_image("localhost:5000/a") == ("localhost:5000/a", "latest")
    assert split_image("nginx@sha256:ab") == ("nginx", "@sha256:ab")


@pytest.mark.parametrize("dirt", ["modified", "untracked", "ignored"])
def test_head_commit_is_not_the_dirty_working_tree(repo: GitRepo, dirt: str) -> None:
    """--head HEAD renders the commit, whatever the working tree holds."""
    repo.write(".gitignore", "*.local.yaml\n")
    repo.edit(f"{ECHO}/app/helmrelease.yaml", "replicas: 2", "replicas: 3")
    repo.commit()
    if dirt == "modified":
        repo.edit(f"{ECHO}/app/helmrelease.yaml", "replicas: 3", "replicas: 9")
    elif dirt == "untracked":
        repo.write(f"{ECHO}/app/new.yaml", "kind: ConfigMap\n")
    else:
        repo.write(f"{ECHO}/app/x.local.yaml", "kind: ConfigMap\n")
    result = repo.diff()
    assert changed(result) == {("modified", "chongus", "HelmRelease", "network", "echo-server")}
    assert "+        replicas: 3\n" in result.changes[0].diff
    assert result.stats["head_in_place"] is False


def test_clean_head_is_rendered_in_place(repo: GitRepo) -> None:
    repo.edit(f"{ECHO}/app/helmrelease.yaml", "replicas: 2", "replicas: 3")
    repo.commit()
    assert repo.diff().stats["head_in_place"] is repo.in_place


def test_enable_helm_diffs_chart_output(repo: GitRepo) -> None:
    """--enable-helm: the objects a chart renders are compared, attributed to their HelmRelease."""
    from homeops.helm.render import available_engines

    if all(status.startswith("missing") for status in available_engines().values()):
        pytest.skip("no Helm engine (helm-python-sdk or a helm binary) is available")
    chart = Path(__file__).resolve().parents[1] / "helm" / "data" / "testchart"
    import shutil

    shutil.copytree(chart, repo.path / "charts" / "testchart")
    repo.write(
        f"{ECHO}/app/chart-hr.yaml",
        """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata:
          name: demo
        spec:
          interval: 1h
          chart:
            spec:
              chart: ./charts/testchart
              sourceRef:
                kind: GitRepository
                name: flux-system
                namespace: flux-system
          values:
            replicaCount: 1
    """,
    )
    repo.edit(
        f"{ECHO}/app/kustomization.yaml",
        "  - ./httproute.yaml\n",
        "  - ./httproute.yaml\n  - ./chart-hr.yaml\n",
    )
    repo.commit("add a chart")
    repo.edit(
        f"{ECHO}/app/chart-hr.yaml", "replicaCount: 1", "replicaCount: 2\n    image:\n      tag: v1.1.0"
    )
    repo.commit("scale it")
    result = repo.diff(enable_helm=True, cluster="chongus")
    deployment = next(c for c in result.changes if c.kind == "Deployment")
    assert deployment.helmrelease == "network/demo" and deployment.ks == "network/echo-server"
    assert "+  replicas: 2\n" in deployment.diff
    assert ("ghcr.io/example/app", "v1.0.0", "v1.1.0") in {(i.image, i.from_, i.to) for i in result.images}
    assert not [f for _, f in result.render_errors if f.rule in ("HO120", "HO121")]
