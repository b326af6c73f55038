"""``homeops.api.Workspace`` gives what the CLI prints: the CLI is a thin layer over it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from homeops.api import AppOptions, HomeopsError, Workspace, init_repository, list_rules
from homeops.author.init import InitOptions
from support import EXAMPLE, ROOT, run_cli

BITTY = {"CLUSTER_NAME": "bitty"}
DIGEST = "sha256:" + "ab" * 32


def _json(*args: str) -> dict:
    proc = run_cli(*args)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_clusters_and_kustomizations_match_get() -> None:
    ws = Workspace(EXAMPLE, vars=BITTY)
    assert [c.as_json() for c in ws.clusters()] == _json(
        "get", "clusters", "--path", str(EXAMPLE), "-o", "json"
    )["items"]
    cli = _json("get", "ks", "-A", "--path", str(EXAMPLE), "--var", "CLUSTER_NAME=bitty", "-o", "json")
    assert [k.as_json() for k in ws.kustomizations()] == cli["items"]
    assert {k.cluster for k in ws.kustomizations()} == {"bitty", "chongus"}


def test_render_matches_build_ks() -> None:
    rendering = Workspace(EXAMPLE).render("chongus")
    cli = _json("build", "ks", "--path", str(EXAMPLE), "--cluster", "chongus", "-o", "json")
    assert [o.as_json() for o in rendering.objects] == cli["items"]
    assert rendering.errors == []
    grafana = rendering.select("grafana")
    assert grafana and all(o.ks.endswith("/grafana") for o in grafana)
    assert all(o.file and o.line for o in rendering.objects if o.kind == "HelmRelease")


def test_check_matches_check_json() -> None:
    result = Workspace(EXAMPLE, vars=BITTY).check()
    cli = _json("check", str(EXAMPLE), "--var", "CLUSTER_NAME=bitty", "--format", "json")
    assert result.as_json() == cli
    assert result.summary["error"] > 0  # bitty plants violations on purpose
    only = Workspace(EXAMPLE, vars=BITTY).check(select=["HO006"])
    assert only.findings and {f.rule for f in only.findings} == {"HO006"}


def test_images_match_images_list() -> None:
    ws = Workspace(EXAMPLE, vars=BITTY)
    cli = _json("images", "list", "--path", str(EXAMPLE), "--var", "CLUSTER_NAME=bitty", "-o", "json")
    assert [i.as_json() for i in ws.images()] == cli["items"]
    assert any(not i.pinned for i in ws.images("bitty"))


def test_fix_previews_then_writes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    ns = repo / "cluster-apps/chongus/observability/kustomization.yaml"
    before = ns.read_text()
    ns.write_text(before.replace("  - ./grafana/ks.yaml\n", ""))  # an unregistered app: HO021, fixable
    ws = Workspace(repo)
    found = ws.check(select=["HO021"])
    assert found.findings and all(f.fixable for f in found.findings)
    preview = ws.fix(found.findings)
    assert preview.fixed >= 1 and not preview.written
    assert "+  - ./grafana/ks.yaml" in preview.diff
    assert "grafana/ks.yaml" not in ns.read_text()  # nothing written
    done = ws.fix(found.findings, write=True)
    assert done.written and ns.read_text() == before
    assert ws.check(select=["HO021"]).findings == []


def test_new_app_and_init(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    ws = Workspace(repo)
    options = AppOptions(namespace="media", app="sonarr", image=f"ghcr.io/example/sonarr:4.0.0@{DIGEST}", port=8989,
                         cluster="chongus")  # fmt: skip
    dry = ws.new_app(options)
    assert not dry.written and not (repo / "cluster-apps/chongus/media/sonarr").exists()
    assert "b/cluster-apps/chongus/media/sonarr/app/helmrelease.yaml" in dry.diff
    done = ws.new_app(options, write=True)
    assert (repo / "cluster-apps/chongus/media/sonarr/ks.yaml").is_file()
    assert sorted(done.written) == sorted(e.path for e in done.edits)
    assert any(k.name == "sonarr" for k in ws.kustomizations("chongus"))  # renders were refreshed
    with pytest.raises(HomeopsError, match="already exists"):
        ws.new_app(options)
    made = init_repository(
        tmp_path / "new", InitOptions(cluster="atlas", domain="home.example.net"), write=True
    )
    assert made.written and not made.adding_cluster
    assert [c.name for c in Workspace(tmp_path / "new").clusters()] == ["atlas"]


def test_rules_listing_needs_no_repository() -> None:
    rules = list_rules()
    assert "HO009" in rules and rules["HO009"].title


def test_api_tour_runs() -> None:
    """The documented example script works through ``homeops.api`` alone."""
    script = ROOT / "examples" / "api_tour.py"
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "clusters: bitty, chongus" in proc.stdout
    assert "diff: 1 changed objects" in proc.stdout
    assert "modified HelmRelease network/echo-server" in proc.stdout
    assert "from homeops.api import" in script.read_text()
    imports = [
        line
        for line in script.read_text().splitlines()
        if line.startswith(("import homeops", "from homeops"))
    ]
    assert all(line.startswith("from homeops.api import") for line in imports), imports
