"""No output line is forged by repository data: newlines and control characters are shown, not obeyed.

A resource entry, an object name and a Flux Kustomization name holding ``\\n::error ...`` (a GitHub
workflow command) and ``\\nhomeops: error: fake`` (one of our own error lines), and an escape
sequence, go through every command that prints them: ``build ks``, ``get ks``, ``images list``,
``diff`` in each format and ``check`` in each format. No line of stdout or stderr may start with
the forged text, and no raw escape character may reach the terminal.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from minimal_repo import BASE, write

from support import run_cli

INJECTION = "x\\n::error file=x,line=1::INJECTED\\nhomeops: error: fake\\e[2J"
FORGED = ("::error file=x,line=1::INJECTED", "homeops: error: fake")
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]

CHANGES = {
    "demo/kustomization.yaml": f'resources: [cm.yaml, "{INJECTION}"]\n',
    "apps/kustomization.yaml": "resources: [demo.yaml, source.yaml, other.yaml]\n",
    "apps/other.yaml": BASE["apps/demo.yaml"]
    .replace("name: demo", f'name: "other{INJECTION}"')
    .replace("./demo", "./other"),
    "other/kustomization.yaml": "resources: [cm.yaml]\n",
    "other/cm.yaml": f'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "cm{INJECTION}"\n  namespace: default\n'
    f'data:\n  image: "ghcr.io/x/y:1{INJECTION}"\n',
    "other/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\n"
    f'spec:\n  template:\n    spec:\n      containers:\n        - name: "c{INJECTION}"\n'
    f'          image: "ghcr.io/x/y:1{INJECTION}"\n',
}


def _assert_not_forged(text: str) -> None:
    for line in text.splitlines():
        assert not line.startswith(FORGED), line
    assert "\x1b" not in text


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write(tmp_path_factory.mktemp("inject"), {})
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=env)
    subprocess.run([*GIT, "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run([*GIT, "-C", str(root), "commit", "-qm", "base"], check=True, env=env)
    changes = dict(CHANGES)
    changes["other/kustomization.yaml"] = "resources: [cm.yaml, deploy.yaml]\n"
    write(root, changes)
    return root


@pytest.mark.parametrize(
    "argv",
    [
        ["build", "ks"],
        ["build", "ks", "-o", "json"],
        ["get", "ks"],
        ["get", "ks", "-o", "wide"],
        ["get", "images"],
        ["images", "list"],
        ["images", "list", "-o", "wide"],
        ["diff"],
        ["diff", "--format", "markdown"],
        ["diff", "--format", "json"],
        ["check"],
        ["check", "--format", "github"],
        ["check", "--format", "markdown"],
        ["check", "--format", "json"],
        ["check", "--format", "sarif"],
    ],
    ids=" ".join,
)
def test_no_forged_line(repo: Path, argv: list[str]) -> None:
    proc = run_cli(*argv, "--path", str(repo))
    assert proc.returncode in (0, 1, 2) and "internal error" not in proc.stderr, proc.stderr
    _assert_not_forged(proc.stdout)
    _assert_not_forged(proc.stderr)
    assert "INJECTED" in proc.stdout + proc.stderr  # the data is shown, escaped
