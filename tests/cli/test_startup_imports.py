"""Start-up (issue 14): the commands that render load only what they use.

Each command runs as users run it (the console entry point, in a subprocess), which names every module
it loaded when it exits; the modules below cost milliseconds each and serve only
other commands or options (the registry client serves ``--verify-images`` and Helm, the autofixes
``--fix``, each report writer its ``--format``), so a change that loads them eagerly again fails here
rather than slowing every run silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support import EXAMPLE, run_entry_point

_HELM_AND_REGISTRY = (
    "homeops.flux.helm_expand",
    "homeops.helm.sources",
    "homeops.registry.oci.client",
    "concurrent.futures",
    "tarfile",
    "socket",
)
_EDITS_AND_LISTINGS = ("homeops.api.edit_results", "homeops.core.edits", "homeops.api.listings")


def loaded_modules(args: list[str], cwd: Path) -> set[str]:
    """Every module the ``homeops`` process running ``args`` loads (it must succeed or find problems)."""
    env = {**os.environ, "HOMEOPS_DAEMON": "0"}  # run here, not in a start-up daemon
    proc, modules = run_entry_point(args, cwd=cwd, env=env)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "homeops.cli" in modules, "the process reported what it loaded"
    return set(modules)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example repository as a Git repository, one value changed in the work tree (what diff shows)."""
    root = tmp_path_factory.mktemp("startup") / "repo"
    shutil.copytree(EXAMPLE, root, symlinks=True)
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=root, check=True)
    release = root / "cluster-apps/chongus/network/echo-server/app/helmrelease.yaml"
    release.write_text(release.read_text().replace("replicas: 2", "replicas: 3"))
    return root


def test_version_loads_no_parser_and_no_library(repo: Path) -> None:
    loaded = loaded_modules(["--version"], repo)
    assert {m for m in loaded if m.startswith("homeops")} == {"homeops", "homeops.cli"}
    assert "argparse" not in loaded


@pytest.mark.parametrize(
    "args",
    [["build", "ks", "--cluster", "chongus"], ["get", "ks"]],
    ids=["build", "get"],
)
def test_a_render_loads_neither_helm_nor_rules_nor_diff(args: list[str], repo: Path) -> None:
    loaded = loaded_modules([*args, "--path", str(repo), "--no-cache"], repo)
    assert "homeops.flux.render" in loaded, "the command rendered"
    unexpected = {
        m
        for m in loaded
        if m in _HELM_AND_REGISTRY
        or m in _EDITS_AND_LISTINGS
        or m in ("tempfile", "decimal")  # for ResourceSets, generated artifacts, floats beyond 2**53
        or m.startswith(("homeops.rules", "homeops.diff", "homeops.report", "jsonschema"))
    }
    assert not unexpected
    assert len({m for m in loaded if m.startswith("homeops.cli.") and m.endswith("_cmd")}) == 1, (
        "only the command's own module of homeops.cli loads"
    )
    # no kustomization of the example patches, replaces or renames: those engines stay unloaded
    assert not loaded & {
        "homeops.kustomize.patches",
        "homeops.kustomize.replacements",
        "homeops.kustomize.prefixsuffix",
    }


def test_get_prints_a_table_without_the_yaml_emitter(repo: Path) -> None:
    loaded = loaded_modules(["get", "ks", "--path", str(repo), "--no-cache"], repo)
    assert "homeops.flux.render" in loaded, "the command rendered"
    assert "homeops.core.yamlemit" not in loaded


def test_check_loads_neither_the_autofixes_nor_helm_nor_other_report_writers(repo: Path) -> None:
    loaded = loaded_modules(["check", "--path", str(repo), "--no-cache"], repo)
    assert "homeops.rules.engine" in loaded and "homeops.report.text" in loaded, "the command checked"
    unexpected = loaded & {
        "homeops.rules.fix",
        "homeops.report.sarif",
        "homeops.report.markdown",
        "homeops.report.github",
        "homeops.report.json_out",
        "homeops.core.yamlemit",
        *_HELM_AND_REGISTRY,
    }
    assert not unexpected


def test_diff_loads_neither_the_image_verifier_nor_the_rules(repo: Path) -> None:
    loaded = loaded_modules(["diff", "--path", str(repo), "--cluster", "chongus", "--no-cache"], repo)
    assert "homeops.diff.sides" in loaded, "the command diffed"
    unexpected = loaded & {
        "homeops.diff.verify",
        "homeops.rules.engine",
        *_HELM_AND_REGISTRY,
        *_EDITS_AND_LISTINGS,
    }
    assert not unexpected
