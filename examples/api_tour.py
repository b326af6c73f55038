"""A tour of homeops.api: render, check and diff the example repository from Python.

Run it from anywhere: ``python examples/api_tour.py``. It reads ``examples/home-ops`` and, for the
diff, works on a temporary Git copy of it (nothing in this checkout is written).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from homeops.api import Workspace

EXAMPLE = Path(__file__).resolve().parent / "home-ops"


def tour_render_and_check() -> None:
    # bitty's child Kustomizations need CLUSTER_NAME, a value only the live cluster has
    ws = Workspace(EXAMPLE, vars={"CLUSTER_NAME": "bitty"})
    print("clusters:", ", ".join(c.name for c in ws.clusters()))

    chongus = ws.render("chongus")
    print(f"chongus: {len(chongus.kustomizations)} Flux Kustomizations, {len(chongus.objects)} objects")
    for obj in chongus.objects:
        if obj.kind == "HelmRelease":
            print(f"  HelmRelease {obj.namespace}/{obj.name} at {obj.source} (applied by {obj.ks})")

    result = ws.check()
    print("check:", result.summary)
    for finding in result.at_or_above("error")[:5]:
        print(f"  {finding.rule} {finding.file}:{finding.line} {finding.message}")

    unpinned = [i for i in ws.images() if not i.pinned]
    print(f"images: {len(ws.images())} uses, {len(unpinned)} without digest")


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=tour", "-c", "user.email=tour@example.com", *args],
        check=True,
        capture_output=True,
    )


def tour_diff() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "home-ops"
        shutil.copytree(EXAMPLE, repo)
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "base")
        # change one app in the working tree: echo-server goes from 2 replicas to 3
        release = repo / "cluster-apps/chongus/network/echo-server/app/helmrelease.yaml"
        release.write_text(release.read_text().replace("replicas: 2", "replicas: 3"))

        diff = Workspace(repo).diff(cluster="chongus")  # HEAD against the working tree
        print(f"diff: {len(diff.changes)} changed objects between {diff.base_label} and {diff.head_label}")
        for change in diff.changes:
            print(f"  {change.change} {change.kind} {change.namespace}/{change.name} (ks {change.ks})")


if __name__ == "__main__":
    tour_render_and_check()
    tour_diff()
