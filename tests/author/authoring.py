"""Shared by the authoring tests: generating repositories, golden files, snapshots, checks."""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

from homeops.author.init import InitOptions, plan_init
from homeops.author.new_app import AppOptions, plan_new_app
from homeops.core.edits import apply_edits
from homeops.core.findings import Finding
from homeops.core.profile import load_profile
from homeops.rules.engine import run_checks

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_ENV = "HOMEOPS_UPDATE_GOLDEN"
"""Set HOMEOPS_UPDATE_GOLDEN=1 to rewrite the golden files from the current templates."""

DOMAIN = "home.example.net"
WHOAMI = (
    "ghcr.io/traefik/whoami:v1.10.4@sha256:1699d99cb4b9acc17f74ca670b3d8d0b7ba27c948b3445f0593b58ebece92f04"
)
PAPERLESS = (
    "ghcr.io/paperless-ngx/paperless-ngx:2.17.1"
    "@sha256:ab72a0ab42a792228cdbe83342b99a48acd49f7890ae54b1ae8e04401fba24ee"
)
NTFY = "docker.io/binwiederhier/ntfy:v2.13.0@sha256:2c9984246abe1e7b39fb3654759aed9411604fcfe95e3ac269c94cface69f857"
PODINFO = "ghcr.io/stefanprodan/podinfo:6.9.0@sha256:262578cde928d5c9eba3bce079976444f624c13ed0afb741d90d5423877496cb"

# The new-app variants with golden files: each is applied to a freshly initialised repository.
VARIANTS: dict[str, AppOptions] = {
    "stateless-internal": AppOptions(namespace="default", app="whoami", image=WHOAMI, port=80),
    "stateful-volsync-secret": AppOptions(
        namespace="media",
        app="paperless-ngx",
        image=PAPERLESS,
        port=8000,
        volsync="10Gi",
        secret="PAPERLESS",
        probe_path="/api/",
        mount="/usr/src/paperless/data",
        uid=1001,
        gid=1001,
        memory_limit="2Gi",
        memory_request="512Mi",
        cpu_request="100m",
    ),
    "external": AppOptions(
        namespace="default", app="ntfy", image=NTFY, port=8080, route="external", probe_path="/v1/health"
    ),
    "no-route": AppOptions(namespace="tools", app="echo", image=WHOAMI, port=8080, route="none"),
    "own-chart": AppOptions(
        namespace="default",
        app="podinfo",
        image=PODINFO,
        port=9898,
        chart="oci://ghcr.io/stefanprodan/charts/podinfo",
        chart_version="6.9.0",
    ),
}


def init_repo(root: Path, cluster: str = "alpha", **kwargs: object) -> Path:
    """``homeops init`` in-process (the CLI is covered by the subprocess tests)."""
    options = InitOptions(cluster=cluster, domain=kwargs.pop("domain", DOMAIN), **kwargs)  # type: ignore[arg-type]
    plan = plan_init(root, options)
    root.mkdir(parents=True, exist_ok=True)
    apply_edits(root, plan.edits)
    return root


def add_app(root: Path, options: AppOptions) -> list[str]:
    plan = plan_new_app(root, load_profile(root), options, resolve=None)
    return apply_edits(root, plan.edits)


def read_tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative POSIX path -> text)."""
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Paths, contents and modes: what "nothing written" is compared on."""
    if not root.exists():
        return {}
    return {rel: (text, (root / rel).stat().st_mode) for rel, text in read_tree(root).items()}


def assert_golden(name: str, files: dict[str, str]) -> None:
    """``files`` equal the golden directory ``name`` (rewritten instead when HOMEOPS_UPDATE_GOLDEN=1)."""
    directory = GOLDEN / name
    if os.environ.get(UPDATE_ENV) == "1":
        if directory.exists():
            shutil.rmtree(directory)
        for rel, text in files.items():
            target = directory / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return
    assert directory.is_dir(), f"no golden files for {name}: run with {UPDATE_ENV}=1 and review them"
    expected = read_tree(directory)
    assert sorted(files) == sorted(expected), (
        f"generated files differ from {directory}: extra {sorted(set(files) - set(expected))}, "
        f"missing {sorted(set(expected) - set(files))} (update with {UPDATE_ENV}=1 after review)"
    )
    for rel in sorted(files):
        if files[rel] != expected[rel]:
            diff = "".join(
                difflib.unified_diff(
                    expected[rel].splitlines(True),
                    files[rel].splitlines(True),
                    f"golden/{name}/{rel}",
                    f"generated/{rel}",
                )
            )
            raise AssertionError(f"{rel} differs from its golden file ({UPDATE_ENV}=1 to update):\n{diff}")


def blocking_findings(root: Path) -> list[Finding]:
    """Findings at warning or error level from every cluster (what makes ``check`` fail)."""
    findings, _ = run_checks(root, load_profile(root))
    return [f for f in findings if f.severity in ("error", "warning")]


def copy_repo(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target
