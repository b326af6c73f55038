"""What ``init`` writes that the profile does not say: chart coordinates, pinned versions, the mark of
the placeholders the user must fill in."""

from __future__ import annotations

PLACEHOLDER_MARK = "TODO(homeops init)"

PRE_COMMIT_VERSION = "4.2.0"
VOLUME_SNAPSHOT_CLASS = "csi-ceph-blockpool"  # Rook-Ceph's snapshot class for ceph-block

# Chart coordinates (OCI URL, version). Renovate keeps them current after init.
CRD_CHARTS: tuple[tuple[str, str, str, str], ...] = (
    # (release, namespace, chart, version): bootstrap phase 1, CRDs only
    ("external-dns", "network", "oci://ghcr.io/home-operations/charts-mirror/external-dns", "1.18.0"),
    (
        "gateway-api-crds",
        "kube-system",
        "oci://ghcr.io/wiremind/wiremind-helm-charts/gateway-api-crds",
        "1.3.0",
    ),
    ("keda", "kube-system", "oci://ghcr.io/home-operations/charts-mirror/keda", "2.17.2"),
    (
        "kube-prometheus-stack",
        "observability",
        "oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack",
        "76.4.1",
    ),
    (
        "external-secrets",
        "{secrets_namespace}",
        "oci://ghcr.io/external-secrets/charts/external-secrets",
        "0.19.2",
    ),
)
APP_CHARTS: dict[str, tuple[str, str]] = {
    "cilium": ("oci://ghcr.io/home-operations/charts-mirror/cilium", "1.18.1"),
    "coredns": ("oci://ghcr.io/coredns/charts/coredns", "1.43.2"),
    "cert-manager": ("oci://quay.io/jetstack/charts/cert-manager", "v1.18.2"),
    "flux-operator": ("oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator", "0.28.0"),
    "flux-instance": ("oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance", "0.28.0"),
    "cloudnative-pg": ("oci://ghcr.io/cloudnative-pg/charts/cloudnative-pg", "0.27.0"),
    "rook-ceph": ("oci://ghcr.io/rook/rook-ceph", "v1.18.1"),
    # Flux apps generated in cluster-apps/NAME and cluster-apps/base
    "reloader": ("oci://ghcr.io/stakater/charts/reloader", "2.2.2"),
    "volsync": ("oci://ghcr.io/home-operations/charts-mirror/volsync", "0.13.0"),
    "openebs": ("oci://ghcr.io/home-operations/charts-mirror/openebs", "4.3.3"),
    "envoy-gateway": ("oci://docker.io/envoyproxy/gateway-helm", "1.5.0"),
    "external-secrets": ("oci://ghcr.io/external-secrets/charts/external-secrets", "0.19.2"),
}
