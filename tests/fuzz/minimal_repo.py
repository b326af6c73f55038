"""Our own minimal repository for the malformed-input and injection tests: one cluster, a root Flux
Kustomization ``apps`` applying ``./apps``, which holds the Flux Kustomization ``demo`` of ``./demo``
(a ConfigMap using a postBuild variable) and an OCIRepository."""

from __future__ import annotations

import textwrap
from pathlib import Path

LONG = "n" * 300

BASE = {
    "clusters/c/flux/ks.yaml": """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: apps
          namespace: flux-system
        spec:
          interval: 1h
          path: ./apps
          prune: true
          sourceRef:
            kind: GitRepository
            name: flux-system
        """,
    "apps/kustomization.yaml": "resources:\n  - demo.yaml\n  - source.yaml\n",
    "apps/demo.yaml": """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: demo
          namespace: flux-system
        spec:
          interval: 1h
          path: ./demo
          prune: true
          sourceRef:
            kind: GitRepository
            name: flux-system
          postBuild:
            substitute:
              GREETING: hello
        """,
    "apps/source.yaml": """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: OCIRepository
        metadata:
          name: chart
          namespace: flux-system
        spec:
          interval: 1h
          url: oci://ghcr.io/example/chart
          ref:
            tag: 1.0.0
        """,
    "demo/kustomization.yaml": "resources:\n  - cm.yaml\n",
    "demo/cm.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: greeting
          namespace: default
        data:
          text: ${GREETING}
        """,
}
BASE = {rel: textwrap.dedent(text).lstrip("\n") for rel, text in BASE.items()}

DEMO_KS = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: demo, namespace: flux-system}\n"
SOURCE_REF = "  sourceRef: {kind: GitRepository, name: flux-system}\n"
TYPE_HINT = "(the API server refuses an object whose fields do not fit its schema: fix the field's type)"


def write(root: Path, changes: dict[str, str]) -> Path:
    for rel, text in {**BASE, **changes}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
