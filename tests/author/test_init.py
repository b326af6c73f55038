"""``homeops init``: the layout of the context document, from the profile, refusing to overwrite."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from authoring import DOMAIN, assert_golden, blocking_findings, init_repo, read_tree, snapshot

from homeops import __version__
from homeops.api import init_repository
from homeops.author import init as init_mod
from homeops.author.init import PLACEHOLDER_MARK, InitOptions
from homeops.author.init.skeleton import glob_to_regex
from homeops.core.profile import DEFAULT
from support import run_cli

AGE_KEY = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"


def test_init_matches_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(init_mod, "detect_repo_url", lambda _root: None)
    plan = init_repository(tmp_path / "repo", InitOptions(cluster="alpha", domain=DOMAIN))
    assert not plan.kept and all(e.old is None for e in plan.edits)
    assert not (tmp_path / "repo").exists()  # the context sections are computed on a scratch copy
    assert_golden("init", {e.path: e.new or "" for e in plan.edits})


def test_init_writes_the_documented_layout(tmp_path: Path) -> None:
    proc = run_cli("init", str(tmp_path / "repo"), "--cluster", "alpha", "--domain", DOMAIN)
    assert proc.returncode == 0, proc.stderr
    files = read_tree(tmp_path / "repo")
    for path in (
        "clusters/alpha/bootstrap/helmfile.d/00-crds.yaml",
        "clusters/alpha/bootstrap/helmfile.d/01-apps.yaml",
        "clusters/alpha/bootstrap/resources/namespaces.yaml",
        "clusters/alpha/flux/cluster/cluster.yaml",
        "clusters/alpha/talos/talconfig.yaml",
        "cluster-apps/components/namespace/kustomization.yaml",
        "cluster-apps/components/privileged-namespace/kustomization.yaml",
        "cluster-apps/components/volsync/kustomization.yaml",
        "cluster-apps/components/flux/alerts/kustomization.yaml",
        "Taskfile.yaml",
        ".taskfiles/k8s-bootstrap/Taskfile.yaml",
        ".taskfiles/talos/Taskfile.yaml",
        ".taskfiles/sops/Taskfile.yaml",
        ".mise.toml",
        ".sops.yaml",
        ".pre-commit-config.yaml",
        ".github/lint/.yamllint.yaml",
        ".github/workflows/check.yaml",
        ".github/workflows/diff.yaml",
        ".github/renovate.json5",
        "CLAUDE.md",
        ".homeops.yaml",
    ):
        assert path in files, path
    assert any(p.startswith("cluster-apps/base/") for p in files)
    assert any(p.startswith("cluster-apps/alpha/") and p.endswith("/ks.yaml") for p in files)
    assert "TODO(homeops init)" in proc.stdout  # the placeholders are announced
    assert blocking_findings(tmp_path / "repo") == []


def test_bootstrap_helmfiles_hold_the_documented_phases(tmp_path: Path) -> None:
    files = read_tree(init_repo(tmp_path / "repo"))
    crds = yaml.safe_load(files["clusters/alpha/bootstrap/helmfile.d/00-crds.yaml"])
    assert [r["name"] for r in crds["releases"]] == [
        "external-dns",
        "gateway-api-crds",
        "keda",
        "kube-prometheus-stack",
        "external-secrets",
    ]
    apps = yaml.safe_load(files["clusters/alpha/bootstrap/helmfile.d/01-apps.yaml"])
    names = [r["name"] for r in apps["releases"]]
    for name in ("cilium", "coredns", "cert-manager", "flux-operator", "cloudnative-pg", "rook-ceph"):
        assert name in names
    instance = next(r for r in apps["releases"] if r["name"] == "flux-instance")["values"][0]["instance"]
    assert instance["sync"]["path"] == "clusters/alpha/flux/cluster"
    for release in crds["releases"] + apps["releases"]:
        assert release["chart"].startswith("oci://") and release["version"]


def test_talconfig_versions_and_nodes(tmp_path: Path) -> None:
    files = read_tree(init_repo(tmp_path / "placeholders"))
    talconfig = files["clusters/alpha/talos/talconfig.yaml"]
    data = yaml.safe_load(talconfig)
    assert data["talosVersion"] == DEFAULT.talos_version == "v1.10.6"
    assert str(data["kubernetesVersion"]) == DEFAULT.kubernetes_version == "1.33.0"
    assert f"# {PLACEHOLDER_MARK}: the nodes below are placeholders" in talconfig
    assert [n["ipAddress"] for n in data["nodes"]] == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]

    proc = run_cli(
        "init",
        str(tmp_path / "nodes"),
        "--cluster",
        "alpha",
        "--domain",
        DOMAIN,
        "--node",
        "r730-1=172.30.11.1",
        "--node",
        "r730-2=172.30.11.2",
        "--repo-url",
        "https://github.com/someone/home-ops.git",
        "--age-key",
        AGE_KEY,
    )
    assert proc.returncode == 0, proc.stderr
    files = read_tree(tmp_path / "nodes")
    data = yaml.safe_load(files["clusters/alpha/talos/talconfig.yaml"])
    assert [(n["hostname"], n["ipAddress"], n["controlPlane"]) for n in data["nodes"]] == [
        ("r730-1", "172.30.11.1", True),
        ("r730-2", "172.30.11.2", True),
    ]
    assert data["endpoint"] == "https://172.30.11.1:6443"
    assert "placeholders" not in files["clusters/alpha/talos/talconfig.yaml"]
    assert (
        "https://github.com/someone/home-ops.git" in files["clusters/alpha/bootstrap/helmfile.d/01-apps.yaml"]
    )
    assert PLACEHOLDER_MARK not in files["clusters/alpha/bootstrap/helmfile.d/01-apps.yaml"]
    assert PLACEHOLDER_MARK not in files[".sops.yaml"] and AGE_KEY in files[".sops.yaml"]


def test_tools_and_tasks(tmp_path: Path) -> None:
    files = read_tree(init_repo(tmp_path / "repo"))
    tools = tomllib.loads(files[".mise.toml"])["tools"]
    for name, version, _ in DEFAULT.dev_tools:
        assert tools[name] == version
    assert tools["pipx:homeops"] == __version__
    assert tools["aqua:siderolabs/talos"] == DEFAULT.talos_version.lstrip("v")

    root_tasks = yaml.safe_load(files["Taskfile.yaml"])
    assert root_tasks["tasks"]["flux:validate"]["cmds"] == ["homeops check"]
    assert set(root_tasks["includes"]) == {"k8s-bootstrap", "sops", "talos"}
    talos = yaml.safe_load(files[".taskfiles/talos/Taskfile.yaml"])["tasks"]
    assert {"generate-clusterconfig", "apply-clusterconfig"} <= set(talos)
    boot = yaml.safe_load(files[".taskfiles/k8s-bootstrap/Taskfile.yaml"])["tasks"]
    assert {"talos-cluster", "apps"} <= set(boot)
    assert (
        "sops"
        in yaml.safe_load(files[".taskfiles/sops/Taskfile.yaml"])["tasks"]["re-encrypt"]["cmds"][0]["cmd"]
    )


def test_sops_rules_only_cover_bootstrap_and_talos(tmp_path: Path) -> None:
    sops = yaml.safe_load(read_tree(init_repo(tmp_path / "repo"))[".sops.yaml"])
    patterns = [re.compile(rule["path_regex"]) for rule in sops["creation_rules"]]
    assert len(patterns) == len(DEFAULT.sops_allowed_paths)

    def covered(path: str) -> bool:
        return any(p.search(path) for p in patterns)

    assert covered("clusters/alpha/talos/talsecret.sops.yaml")
    assert covered("clusters/alpha/bootstrap/resources/secret.sops.yaml")
    assert not covered("cluster-apps/alpha/default/app/secret.sops.yaml")
    assert not covered("clusters/alpha/flux/cluster/secret.sops.yaml")
    assert glob_to_regex("clusters/*/talos/**") == "clusters/[^/]+/talos/.*"


def test_ci_precommit_and_renovate(tmp_path: Path) -> None:
    files = read_tree(init_repo(tmp_path / "repo"))
    check = yaml.safe_load(files[".github/workflows/check.yaml"])
    steps = check["jobs"]["homeops"]["steps"]
    assert any("homeops check --format sarif" in str(s.get("run")) for s in steps)
    assert any(str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif") for s in steps)
    assert check["jobs"]["homeops"]["permissions"]["security-events"] == "write"
    diff = yaml.safe_load(files[".github/workflows/diff.yaml"])
    runs = " ".join(str(s.get("run", "")) for s in diff["jobs"]["diff"]["steps"])
    assert "homeops diff" in runs and "--format markdown" in runs
    assert diff["permissions"]["pull-requests"] == "write"
    hooks = [
        h["id"] for repo in yaml.safe_load(files[".pre-commit-config.yaml"])["repos"] for h in repo["hooks"]
    ]
    for hook in ("trailing-whitespace", "end-of-file-fixer", "yamllint", "forbid-secrets", "homeops-check"):
        assert hook in hooks
    renovate = files[".github/renovate.json5"]
    assert "pinDigests: true" in renovate and '"docker:pinDigests"' in renovate


def test_documents_follow_the_profile(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".homeops.yaml").write_text(
        "domain: lab.example.org\nsecret_store: vault\nstorage_class: longhorn\n"
        "gateway_internal:\n  name: gw-lan\nbackup:\n  b2_keep_daily: 9\n  cache_capacity: 8Gi\n",
        encoding="utf-8",
    )
    init_repo(root, domain=None, gateway_internal="10.9.8.7")
    files = read_tree(root)
    volsync = "".join(
        text for path, text in files.items() if path.startswith("cluster-apps/components/volsync/")
    )
    assert "daily: 9" in volsync and "cacheCapacity: 8Gi" in volsync and "=longhorn}" in volsync
    assert "name: vault" in files["cluster-apps/components/volsync/b2.yaml"]
    gateways = files["cluster-apps/alpha/network/envoy-gateway/app/gateways.yaml"]
    assert "name: gw-lan" in gateways and "lbipam.cilium.io/ips: 10.9.8.7" in gateways
    assert "*.lab.example.org" in gateways
    context = files["CLAUDE.md"]
    for fact in (
        "gw-lan",
        "10.9.8.7",
        "`vault`",
        "longhorn",
        "keep 9 daily",
        DEFAULT.app_template_chart,
        DEFAULT.reloader_annotation,
        DEFAULT.internet_facing_annotation,
        DEFAULT.talos_version,
    ):
        assert fact in context, fact
    assert blocking_findings(root) == []


def test_every_yaml_file_has_a_document_marker_and_schemas(tmp_path: Path) -> None:
    files = read_tree(init_repo(tmp_path / "repo"))
    for path, text in files.items():
        if not path.endswith((".yaml", ".yml")):
            continue
        assert text.startswith("---\n"), path
        assert text.endswith("\n") and not text.endswith("\n\n"), path
        assert all(line == line.rstrip() for line in text.splitlines()), path
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc:
                kind = doc["kind"]
                if kind not in ("Namespace", "PersistentVolumeClaim"):
                    assert "# yaml-language-server: $schema=" in text, f"{path}: {kind} without schema"


def test_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Taskfile.yaml").write_text("version: '3'\n", encoding="utf-8")
    (root / "CLAUDE.md").write_text("mine\n", encoding="utf-8")
    before = snapshot(root)
    proc = run_cli("init", str(root), "--cluster", "alpha", "--domain", DOMAIN)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "CLAUDE.md" in proc.stderr and "--force" in proc.stderr
    assert snapshot(root) == before

    proc = run_cli("init", str(root), "--cluster", "alpha", "--domain", DOMAIN, "--force")
    assert proc.returncode == 0, proc.stderr
    assert (root / "Taskfile.yaml").read_text(encoding="utf-8").startswith("---\n")


def test_rerun_is_a_no_op_and_changed_cluster_files_conflict(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "repo")
    before = snapshot(root)
    proc = run_cli("init", str(root), "--cluster", "alpha", "--domain", DOMAIN)
    assert proc.returncode == 0, proc.stderr
    assert snapshot(root) == before
    proc = run_cli(
        "init", str(root), "--cluster", "alpha", "--domain", DOMAIN, "--gateway-internal", "10.0.0.9"
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "args",
    [
        ["--cluster", "Alpha", "--domain", DOMAIN],
        ["--cluster", "no", "--domain", DOMAIN],
        ["--cluster", "alpha", "--domain", "not a domain"],
        ["--cluster", "alpha", "--domain", DOMAIN, "--gateway-internal", "300.1.1.1"],
        ["--cluster", "alpha", "--domain", DOMAIN, "--node", "n1"],
        ["--cluster", "alpha", "--domain", DOMAIN, "--age-key", "not-a-key"],
        ["--cluster", "alpha"],
    ],
    ids=["cluster-name", "cluster-yaml-bool", "domain", "gateway-ip", "node", "age-key", "no-domain"],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args: list[str]) -> None:
    root = tmp_path / "repo"
    proc = run_cli("init", str(root), *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("homeops: error: ") and proc.stderr.count("\n") == 1
    assert not root.exists()


def test_second_cluster_adds_only_its_own_files(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "repo")
    before = snapshot(root)
    proc = run_cli(
        "init",
        str(root),
        "--cluster",
        "beta",
        "--gateway-internal",
        "172.22.13.1",
        "--gateway-external",
        "172.22.13.2",
    )
    assert proc.returncode == 0, proc.stderr
    after = snapshot(root)
    assert {p: v for p, v in after.items() if p in before} == before  # nothing existing changed
    added = set(after) - set(before)
    assert added and all(p.startswith(("clusters/beta/", "cluster-apps/beta/")) for p in added)
    assert "cluster-apps/beta/network/kustomization.yaml" in added
    assert blocking_findings(root) == []
    proc = run_cli("get", "ks", "-A", "-o", "json", "--path", str(root))
    assert proc.returncode == 0, proc.stderr
    import json

    clusters = {item.get("cluster") for item in json.loads(proc.stdout)["items"]}
    assert clusters == {"alpha", "beta"}


def test_dry_run_lists_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    proc = run_cli("init", str(root), "--cluster", "alpha", "--domain", DOMAIN, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "create clusters/alpha/flux/cluster/cluster.yaml" in proc.stdout
    assert not root.exists()
