"""``new app`` writes by the repository's own conventions: its domain, its app-template version and its
secret store, read from the repository when ``.homeops.yaml`` does not set them."""

from __future__ import annotations

import shutil
from pathlib import Path

from authoring import WHOAMI

from homeops.api import AppOptions, Workspace
from support import EXAMPLE, run_cli


def _repo(tmp_path: Path) -> Path:
    """The example with only values in its .homeops.yaml (no domain), app-template 4.6.2 everywhere
    and its ClusterSecretStore called vault."""
    root = tmp_path / "home-ops"
    shutil.copytree(EXAMPLE, root)
    (root / ".homeops.yaml").write_text("vars:\n  bitty:\n    CLUSTER_NAME: bitty\n")
    for path in (root / "cluster-apps").rglob("*.yaml"):
        text = path.read_text()
        changed = text.replace("tag: 4.2.0", "tag: 4.6.2").replace("name: doppler", "name: vault")
        if changed != text:
            path.write_text(changed)
    return root


def test_new_app_takes_domain_version_and_store_from_the_repository(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    ws = Workspace(root)
    assert ws.profile.domain is None  # the file sets no domain: check keeps the document's conventions
    options = AppOptions(
        namespace="default", app="whoami", image=WHOAMI, port=80, cluster="chongus", secret="WHOAMI"
    )
    result = ws.new_app(options, resolve=False)
    files = {e.path: e.new or "" for e in result.edits}
    release = files["cluster-apps/chongus/default/whoami/app/helmrelease.yaml"]
    assert "whoami.home.example.net" in release
    assert "tag: 4.6.2" in files["cluster-apps/chongus/default/whoami/app/ocirepository.yaml"]
    assert "name: vault" in files["cluster-apps/chongus/default/whoami/app/externalsecret.yaml"]


def test_new_app_cli_no_longer_refuses_for_want_of_a_domain(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    proc = run_cli(
        "new", "app", "default/whoami", "--image", WHOAMI, "--port", "80", "--cluster", "chongus",
        "--path", str(root), "--dry-run",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "whoami.home.example.net" in proc.stdout and "tag: 4.6.2" in proc.stdout
    # a domain written in .homeops.yaml still wins
    (root / ".homeops.yaml").write_text("domain: lab.example.org\n")
    proc = run_cli(
        "new", "app", "default/whoami", "--image", WHOAMI, "--port", "80", "--cluster", "chongus",
        "--path", str(root), "--dry-run",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "whoami.lab.example.org" in proc.stdout
