"""``homeops diff`` as users and CI run it: formats, exit codes, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from diff_support import GitRepo, add_raw_app, make_repo

from homeops.diff import formats

ECHO = "cluster-apps/chongus/network/echo-server"
RAW = "cluster-apps/chongus/default/raw"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """The command line has one mode: no need for the materialised variant of the shared fixture."""
    return make_repo(tmp_path / "home-ops")


@pytest.fixture
def raw_repo(repo: GitRepo) -> GitRepo:
    add_raw_app(repo)
    repo.commit("add raw app")
    return repo


def _bump(repo: GitRepo) -> None:
    repo.edit(
        f"{ECHO}/app/helmrelease.yaml",
        "tag: v0.3.7@sha256:b9d790bbffe59120141361a5d49105115ebd54f9e10c217bd6ca22dd7d9d361d",
        "tag: v0.3.8",
    )
    repo.edit(f"{ECHO}/app/ocirepository.yaml", "tag: 4.2.0", "tag: 5.0.0")
    repo.commit("bump")


def test_json_follows_the_contract(repo: GitRepo) -> None:
    _bump(repo)
    proc = repo.cli("--base", "HEAD~1", "--head", "HEAD", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"changes", "images", "dangers"} <= set(data)
    for change in data["changes"]:
        assert {"kind", "name", "namespace", "cluster", "ks", "change", "diff"} <= set(change)
        assert change["change"] in ("added", "removed", "modified")
    assert {(c["kind"], c["name"]) for c in data["changes"]} == {
        ("HelmRelease", "echo-server"),
        ("OCIRepository", "echo-server"),
    }
    assert data["images"] == [
        {
            "image": "ghcr.io/jmalloc/echo-server",
            "from": "v0.3.7@sha256:b9d790bbffe59120141361a5d49105115ebd54f9e10c217bd6ca22dd7d9d361d",
            "to": "v0.3.8",
            "workloads": ["chongus/HelmRelease/network/echo-server"],
        }
    ]
    assert [d["type"] for d in data["dangers"]] == ["chart-major"]
    assert data["summary"] == [
        {"cluster": "chongus", "kind": "HelmRelease", "added": 0, "removed": 0, "modified": 1},
        {"cluster": "chongus", "kind": "OCIRepository", "added": 0, "removed": 0, "modified": 1},
    ]


def test_exit_code(repo: GitRepo) -> None:
    _bump(repo)
    assert repo.cli("--base", "HEAD~1", "--head", "HEAD", "--exit-code").returncode == 1
    assert repo.cli("--base", "HEAD~1", "--head", "HEAD").returncode == 0
    same = repo.cli("--base", "HEAD", "--head", "HEAD", "--exit-code")
    assert (same.returncode, same.stdout, same.stderr) == (0, "", "")
    clean = repo.cli("--exit-code")  # HEAD against an unchanged working tree
    assert (clean.returncode, clean.stdout) == (0, "")
    empty = repo.cli("--exit-code", "--format", "json")
    assert json.loads(empty.stdout)["changes"] == []


def test_unknown_revision_is_one_line(repo: GitRepo) -> None:
    proc = repo.cli("--base", "nope")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("homeops: error: unknown revision 'nope'")


def test_bad_format(repo: GitRepo) -> None:
    proc = repo.cli("--format", "xml")  # (html became a format: the review page)
    assert proc.returncode == 2 and "unknown format" in proc.stderr


def test_markdown(raw_repo: GitRepo) -> None:
    raw_repo.edit(
        f"{RAW}/app/workloads.yaml", "matchLabels:\n      app: web\n", "matchLabels:\n      app: web2\n"
    )
    raw_repo.edit(f"{RAW}/app/kustomization.yaml", "  - ./rbac.yaml\n", "")
    raw_repo.commit()
    proc = raw_repo.cli("--base", "HEAD~1", "--head", "HEAD", "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith(formats.MARKER + "\n")
    assert text.index("#### Danger notes") < text.index("| cluster | kind |") < text.index("<details>")
    assert "🛑 **immutable**" in text
    # the two removals of default/raw are one note
    assert re.search(r"chongus: 2 objects \(ClusterRoleBinding web-view, RoleBinding default/web\)", text)
    assert text.count("<details>") == 3 and text.count("```diff\n") == 3
    assert "| chongus | Deployment | 0 | 0 | 1 |" in text


def test_markdown_limit(raw_repo: GitRepo) -> None:
    raw_repo.edit("cluster-apps/chongus/default/kustomization.yaml", "  - ./raw/ks.yaml\n", "")
    raw_repo.commit()
    full = raw_repo.cli("--base", "HEAD~1", "--head", "HEAD", "--format", "markdown").stdout
    limited = raw_repo.cli(
        "--base", "HEAD~1", "--head", "HEAD", "--format", "markdown", "--limit-bytes", "4000"
    ).stdout
    assert len(full.encode()) > 4000
    assert len(limited.encode()) <= 4000
    assert "more changed objects not shown" in limited
    assert limited.count("<details>") == limited.count("</details>")
    assert limited.count("```") % 2 == 0


def test_unified(repo: GitRepo) -> None:
    _bump(repo)
    proc = repo.cli("--base", "HEAD~1", "--head", "HEAD")
    assert "\033[" not in proc.stdout  # not a terminal: no colour
    assert proc.stdout.startswith("WARNING: chongus: HelmRelease network/echo-server")
    assert "# chongus: modified HelmRelease network/echo-server (ks network/echo-server)\n" in proc.stdout
    assert "+              tag: v0.3.8\n" in proc.stdout
    assert "images:\n  ghcr.io/jmalloc/echo-server:" in proc.stdout
    coloured = formats.format_unified(repo.diff(), color=True)
    assert "\033[32m+              tag: v0.3.8\033[0m" in coloured


def test_failing_head_is_reported_not_a_crash(repo: GitRepo) -> None:
    repo.write(
        f"{ECHO}/app/helmrelease.yaml", repo.read(f"{ECHO}/app/helmrelease.yaml") + "  values: [broken\n"
    )
    repo.commit("break")
    proc = repo.cli("--base", "HEAD~1", "--head", "HEAD")
    # a Kustomization the head cannot render: the diff cannot compare it, says why, exits 2 (issue 13)
    assert proc.returncode == 2
    assert repo.cli("--base", "HEAD~1", "--head", "HEAD", "--exit-code").returncode == 1
    assert proc.stdout == ""
    assert f"homeops: error: {ECHO}/app/helmrelease.yaml:" in proc.stderr
    assert "(only at head: HEAD (" in proc.stderr
    assert "network/echo-server did not render at head" in proc.stderr
    md = repo.cli("--base", "HEAD~1", "--head", "HEAD", "--format", "markdown").stdout
    assert "#### Render problems" in md and "**head only**" in md


def test_unrenderable_revision_is_ho112(repo: GitRepo) -> None:
    """A side that cannot be rendered at all is HO112, not the schema rule HO100."""
    repo.write(".homeops.yaml", "no_such_key: 1\n")
    repo.commit("break the profile")
    proc = repo.cli("--base", "HEAD~1", "--head", "HEAD", "--format", "json")
    problems = [e for e in json.loads(proc.stdout)["render_errors"] if e["side"] == "head"]
    assert [(e["rule"], e["severity"], e["file"]) for e in problems] == [("HO112", "error", ".homeops.yaml")]
    assert "no_such_key" in problems[0]["message"]


def test_working_tree_from_inside_the_repository(repo: GitRepo) -> None:
    import subprocess
    import sys

    repo.edit(f"{ECHO}/app/helmrelease.yaml", "replicas: 2", "replicas: 5")
    proc = subprocess.run(
        [sys.executable, "-m", "homeops.cli.main", "diff", "--format", "json"],
        cwd=repo.path / "cluster-apps",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["head"] == "working tree"
    assert [(c["kind"], c["name"], c["change"]) for c in data["changes"]] == [
        ("HelmRelease", "echo-server", "modified")
    ]


def test_var(repo: GitRepo) -> None:
    """--var values reach both sides alike: no change appears from them."""
    proc = repo.cli("--var", "SECRET_DOMAIN=example.net", "--format", "json", "--exit-code")
    assert proc.returncode == 0, proc.stderr
    assert repo.cli("--var", "oops").returncode == 2
