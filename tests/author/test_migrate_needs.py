"""``migrate`` knows what the old cluster needs: the variables its app lacks (exit 2 unless --force),
``CLUSTER_NAME``-style values the paths make certain, several apps or ``--all`` in one report, and a
HelmRepository of the app's own for a chart with no known OCI location.

Fixture: a copy of our example repository whose bitty cluster keeps ``CLUSTER_NAME`` only in its
SOPS-encrypted Secret (as a real legacy cluster does), so its Flux Kustomization paths need it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from homeops.api import MigrateOptions, Workspace
from homeops.core.errors import HomeopsError
from support import EXAMPLE, run_cli

APPS = ["media/jellyseerr", "media/tautulli", "network/ingress-nginx"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "home-ops"
    shutil.copytree(EXAMPLE, root)
    settings = root / "clusters/bitty/flux/vars/cluster-settings.yaml"
    settings.write_text(settings.read_text().replace("  CLUSTER_NAME: bitty\n", ""))
    secrets = root / "clusters/bitty/flux/vars/cluster-secrets.sops.yaml"
    secrets.write_text(
        secrets.read_text().replace(
            "stringData:\n",
            "stringData:\n    CLUSTER_NAME: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\n",
        )
    )
    return root


def _twin(root: Path) -> None:
    """A second tree with the same apps: the paths no longer make CLUSTER_NAME certain."""
    for app in APPS:
        (root / "cluster-cd/apps/twin" / app / "app").mkdir(parents=True)


def _options(target: str = "media/tautulli", **kwargs: object) -> MigrateOptions:
    namespace, app = target.split("/")
    return MigrateOptions(namespace, app, "bitty", "chongus", **kwargs)  # type: ignore[arg-type]


def test_certain_path_variable_is_inferred(repo: Path) -> None:
    result = Workspace(repo).migrate(_options())
    assert any(n.startswith("CLUSTER_NAME=bitty inferred for cluster bitty") for n in result.notes)
    assert "cluster-apps/chongus/media/tautulli/ks.yaml" in {e.path for e in result.edits}


def test_app_the_old_cluster_does_not_render_is_refused_with_what_it_needs(repo: Path) -> None:
    _twin(repo)
    with pytest.raises(HomeopsError) as refused:
        Workspace(repo).migrate(_options())
    error = refused.value
    assert error.exit_code == 2
    assert "cluster bitty does not render media/tautulli" in error.what
    assert (
        "it needs CLUSTER_NAME (in a SOPS-encrypted Secret (Secret/flux-system/cluster-secrets), in spec.path)"
        in (error.what)
    )
    assert "--var bitty:CLUSTER_NAME=..." in (error.hint or "")
    forced = Workspace(repo).migrate(_options(force=True))
    assert any("migrated as it is (--force)" in n for n in forced.notes)
    given = Workspace(repo, vars={"bitty": {"CLUSTER_NAME": "bitty"}}).migrate(_options())
    assert not any("does not render" in n for n in given.notes)
    proc = run_cli("migrate", "media/tautulli", "--from", "bitty", "--to", "chongus", "--path", str(repo))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(
        "homeops: error: cluster-cd/apps/bitty/media/tautulli: cluster bitty does not render"
    )


def test_several_apps_and_all_in_one_report(repo: Path) -> None:
    batch = Workspace(repo).migrate_many(
        _options(), ["media/tautulli", "media/nope", "network/ingress-nginx"]
    )
    assert [(a.target, a.status) for a in batch.apps] == [
        ("media/tautulli", "migrated with manual steps"),
        ("media/nope", "refused"),
        ("network/ingress-nginx", "migrated with manual steps"),
    ]
    assert batch.inferred == {"CLUSTER_NAME": "bitty"} and batch.exit_code == 1
    assert "app media/nope not found in cluster bitty" in batch.as_json()["apps"][1]["error"]
    proc = run_cli("migrate", "--all", "--from", "bitty", "--to", "chongus", "--path", str(repo), "--write")
    assert proc.returncode == 1, proc.stderr  # migrated, with manual steps left
    report = proc.stdout[proc.stdout.index("Migration report:") :]
    assert report.startswith(
        "Migration report: bitty -> chongus, 3 app(s) (CLUSTER_NAME=bitty inferred from the old cluster's paths)"
    )
    assert "  media/jellyseerr       migrated" in report
    assert (
        report.rstrip().endswith("Total: 3 migrated (3 with manual steps), 0 refused.")
        or "Total: 3 migrated" in report
    )
    assert (repo / "cluster-apps/chongus/media/tautulli/ks.yaml").is_file()
    again = run_cli("migrate", *APPS, "--from", "bitty", "--to", "chongus", "--path", str(repo))
    assert again.returncode == 2  # every app exists in chongus now: nothing could be migrated
    assert "3 refused" in again.stdout
    both = run_cli(
        "migrate", "media/tautulli", "--all", "--from", "bitty", "--to", "chongus", "--path", str(repo)
    )
    assert both.returncode == 2 and "not both" in both.stderr


def test_chart_without_oci_location_step_or_own_helm_repository(repo: Path) -> None:
    plain = Workspace(repo).migrate(_options("network/ingress-nginx"))
    [step] = [s for s in plain.steps if "no OCI location known for chart ingress-nginx" in s]
    assert "--keep-helm-repository" in step
    kept = Workspace(repo).migrate(_options("network/ingress-nginx", keep_helm_repository=True))
    assert not any("no OCI location" in s for s in kept.steps)
    files = {e.path: e.new or "" for e in kept.edits}
    own = files["cluster-apps/chongus/network/ingress-nginx/app/helmrepository.yaml"]
    assert "kind: HelmRepository" in own and "url: https://kubernetes.github.io/ingress-nginx" in own
    release = files["cluster-apps/chongus/network/ingress-nginx/app/helmrelease.yaml"]
    assert "sourceRef:\n        kind: HelmRepository\n        name: ingress-nginx\n" in release
    assert "namespace: flux-system" not in release.split("sourceRef:")[1].split("\n\n")[0]
    assert "helmrepository.yaml" in files["cluster-apps/chongus/network/ingress-nginx/app/kustomization.yaml"]
    assert any("a HelmRepository of its own" in n for n in kept.notes)
    json.dumps(kept.as_json())
