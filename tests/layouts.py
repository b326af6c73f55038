"""A repository in another common layout (what the public home-ops repositories showed): apps under
``kubernetes/apps/<namespace>/<app>/``, components under ``kubernetes/components/``, backups by a
snapshot component of its own, no ``.homeops.yaml``, no legacy cluster."""

from __future__ import annotations

from pathlib import Path

from support import flux_ks, write_tree

COMPONENT = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [{files}]\n"
SNAPSHOT_POLICY = """
apiVersion: snapshots.example.io/v1
kind: SnapshotPolicy
metadata:
  name: ${APP}
spec:
  sources: [{pvc: {name: "${CLAIM:-${APP}}"}}]
"""
CLAIM = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: "${CLAIM:-${APP}}"
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""
DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {app}}}
spec:
  selector: {{matchLabels: {{app: {app}}}}}
  template:
    metadata: {{labels: {{app: {app}}}}}
    spec:
      containers:
        - name: app
          image: ghcr.io/example/{app}:1.0.0@sha256:{digest}
"""


def other_layout(root: Path) -> Path:
    files = {
        "kubernetes/flux/cluster/ks.yaml": flux_ks("cluster-apps", "./kubernetes/apps"),
        "kubernetes/apps/kustomization.yaml": "resources: [./media]\n",
        "kubernetes/apps/media/kustomization.yaml": (
            "namespace: media\ncomponents: [../../components/namespace]\n"
            "resources: [./films/ks.yaml, ./books/ks.yaml]\n"
        ),
        "kubernetes/components/namespace/kustomization.yaml": COMPONENT.format(files="namespace.yaml"),
        "kubernetes/components/namespace/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: _}\n",
        "kubernetes/components/snap/kustomization.yaml": COMPONENT.format(files="pvc.yaml, policy.yaml"),
        "kubernetes/components/snap/pvc.yaml": CLAIM,
        "kubernetes/components/snap/policy.yaml": SNAPSHOT_POLICY,
    }
    for app, digest in (("films", "a" * 64), ("books", "b" * 64)):
        files[f"kubernetes/apps/media/{app}/ks.yaml"] = flux_ks(
            app, f"./kubernetes/apps/media/{app}/app", "media",
            "targetNamespace: media\ncomponents: [../../../../components/snap]\n"
            f"postBuild:\n  substitute: {{APP: {app}, CLAIM: {app}-data}}\n",
        )  # fmt: skip
        files[f"kubernetes/apps/media/{app}/app/kustomization.yaml"] = "resources: [./deployment.yaml]\n"
        files[f"kubernetes/apps/media/{app}/app/deployment.yaml"] = DEPLOYMENT.format(app=app, digest=digest)
    return write_tree(root, files)
