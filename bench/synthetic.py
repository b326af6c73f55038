"""A synthetic home-ops repository of N apps in the modern layout, for benchmarks."""

from __future__ import annotations

from pathlib import Path

_COMPONENT_NS = """---
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
  - ./namespace.yaml
"""
_NAMESPACE = """---
apiVersion: v1
kind: Namespace
metadata:
  name: placeholder
"""
_VOLSYNC = """---
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
  - ./pvc.yaml
"""
_PVC = """---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: "${APP}"
spec:
  accessModes: ["ReadWriteOnce"]
  resources:
    requests:
      storage: "${VOLSYNC_CAPACITY}"
  storageClassName: "${VOLSYNC_STORAGECLASS:-ceph-block}"
"""


def _app_files(ns: str, app: str, stateful: bool) -> dict[str, str]:
    base = f"cluster-apps/bench/{ns}/{app}"
    components = "\n  components:\n    - ../../../../components/volsync" if stateful else ""
    substitute = "\n      VOLSYNC_CAPACITY: 5Gi" if stateful else ""
    return {
        f"{base}/ks.yaml": f"""---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {app}
  namespace: flux-system
spec:
  targetNamespace: {ns}
  commonMetadata:
    labels:
      app.kubernetes.io/name: {app}
  path: ./{base}/app{components}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  interval: 1h
  postBuild:
    substitute:
      APP: {app}{substitute}
""",
        f"{base}/app/kustomization.yaml": """---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ./ocirepository.yaml
  - ./helmrelease.yaml
configMapGenerator:
  - name: ${APP}-config
    literals:
      - LOG_LEVEL=info
generatorOptions:
  disableNameSuffixHash: true
""",
        f"{base}/app/ocirepository.yaml": f"""---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {app}
spec:
  interval: 1h
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  ref:
    tag: 4.2.0
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
""",
        f"{base}/app/helmrelease.yaml": f"""---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {app}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: {app}
  values:
    controllers:
      {app}:
        annotations:
          reloader.stakater.com/auto: "true"
        containers:
          app:
            image:
              repository: ghcr.io/example/{app}
              tag: 1.0.0@sha256:{"ab" * 32}
            resources:
              requests:
                cpu: 10m
              limits:
                memory: 128Mi
    service:
      app:
        ports:
          http:
            port: 8080
    route:
      app:
        hostnames: ["${{APP}}.example.net"]
        parentRefs:
          - name: envoy-internal
            namespace: network
            sectionName: https
""",
    }


def generate(root: Path, apps: int, per_namespace: int = 10) -> Path:
    files: dict[str, str] = {
        "clusters/bench/flux/cluster/cluster.yaml": """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  interval: 1h
  path: ./cluster-apps/bench
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
""",
        "cluster-apps/components/namespace/kustomization.yaml": _COMPONENT_NS,
        "cluster-apps/components/namespace/namespace.yaml": _NAMESPACE,
        "cluster-apps/components/volsync/kustomization.yaml": _VOLSYNC,
        "cluster-apps/components/volsync/pvc.yaml": _PVC,
    }
    namespaces: dict[str, list[str]] = {}
    for i in range(apps):
        ns = f"ns{i // per_namespace:03d}"
        app = f"app-{i:04d}"
        namespaces.setdefault(ns, []).append(app)
        files.update(_app_files(ns, app, stateful=i % 3 == 0))
    for ns, names in namespaces.items():
        entries = "\n".join(f"  - ./{a}/ks.yaml" for a in names)
        files[f"cluster-apps/bench/{ns}/kustomization.yaml"] = (
            f"---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\n"
            f"components:\n  - ../../components/namespace\nresources:\n{entries}\n"
        )
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
