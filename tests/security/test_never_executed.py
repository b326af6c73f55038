"""No program the repository names, and none of the tools a Flux repository is used with, is run.

Programs called ``sops``, ``age``, ``gpg``, ``helm``, ``kubectl``, ``flux``, ``kustomize`` and
``kubeconform`` are put first on PATH, each leaving a mark when run; a repository holding a
SOPS-encrypted Secret, a HelmRelease of a chart it keeps, and a kustomization naming a generator
plugin goes through every command that renders. No mark may appear.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from security_support import FLUX_KS, write

TOOLS = ("sops", "age", "gpg", "helm", "kubectl", "flux", "kustomize", "kubeconform")


def test_no_program_of_the_repository_is_executed(tmp_path: Path) -> None:
    bin_dir, marks = tmp_path / "bin", tmp_path / "marks"
    bin_dir.mkdir()
    marks.mkdir()
    for tool in TOOLS:
        (bin_dir / tool).write_text(f"#!/bin/sh\ntouch {marks}/{tool}\nexit 1\n")
        (bin_dir / tool).chmod(0o755)
    repo = write(tmp_path / "repo", {
        "clusters/c/flux/root.yaml": FLUX_KS.format(path="./apps"),
        "apps/hr.yaml": """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {name: demo, namespace: media}
            spec:
              interval: 1h
              chart:
                spec:
                  chart: ./charts/demo
                  sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
            """,
        "apps/secret.sops.yaml": """
            apiVersion: v1
            kind: Secret
            metadata: {name: s, namespace: media}
            stringData: {k: 'ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]'}
            sops: {mac: 'ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]', version: 3.9.0}
            """,
        "charts/demo/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
        "charts/demo/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n",
        "gen/kustomization.yaml": "resources: []\ngenerators: [plugin.yaml]\n",
        "gen/plugin.yaml": "apiVersion: someteam.example.com/v1\nkind: ChartInflator\nmetadata: {name: x}\n",
    })  # fmt: skip
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("HOMEOPS_HELM_ENGINE", None)
    for args in (["check"], ["build", "ks"], ["build", "hr", "demo", "-n", "media", "--enable-helm"], ["test"],
                 ["images", "list"], ["kustomize", str(repo / "gen")], ["diff", "--path-orig", str(repo)]):  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-m", "homeops.cli.main", *args, "--path", str(repo)],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        assert proc.returncode in (0, 1, 2) and "Traceback" not in proc.stderr, (args, proc.stderr)
    assert sorted(p.name for p in marks.iterdir()) == []
