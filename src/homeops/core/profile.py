"""The conventions of a home-ops repository, in one place.

Defaults come from the context document (``home-ops-context.md``); a ``.homeops.yaml`` at the
repository root overrides them. Every rule, template and migration reads its facts from here, never
from literals of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from homeops.core import fs, yamlio
from homeops.core.errors import HomeopsError
from homeops.core.limits import Limits
from homeops.core.limits import from_mapping as limits_from_mapping
from homeops.core.shape import describe
from homeops.core.variables import Layer, layer_from_mapping

PROFILE_FILE = ".homeops.yaml"


@dataclass(frozen=True)
class Gateway:
    name: str
    namespace: str
    address: str
    section: str = "https"
    # listener name -> {protocol: HTTP|HTTPS|..., from: All|Same|Selector (allowedRoutes.namespaces)};
    # empty: not known (the Gateway object in the render is read first)
    listeners: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class BackupPolicy:
    """Volsync backends: B2 daily keep 7; MinIO hourly keep 24 hourly / 7 daily / 5 weekly."""

    b2_schedule: str = "0 0 * * *"
    b2_keep_daily: int = 7
    minio_schedule: str = "0 * * * *"
    minio_keep_hourly: int = 24
    minio_keep_daily: int = 7
    minio_keep_weekly: int = 5
    cache_storage_class: str = "openebs-hostpath"
    cache_capacity: str = "4Gi"


@dataclass(frozen=True)
class Profile:
    # Layout
    apps_dir: str = "cluster-apps"
    clusters_dir: str = "clusters"
    components_dir: str = "cluster-apps/components"
    cluster_root_dirs: tuple[str, ...] = ("flux/cluster", "flux", "cluster")
    legacy_paths: tuple[str, ...] = ("cluster-cd",)
    deprecated_clusters: tuple[str, ...] = ("bitty",)
    # Components
    namespace_component: str = "namespace"
    privileged_namespace_component: str = "privileged-namespace"
    privileged_namespaces: tuple[str, ...] = ()  # further namespaces where privileged pods are allowed
    volsync_component: str = "volsync"
    alerts_component: str = "flux/alerts"
    volsync_variables: tuple[str, ...] = ("APP", "VOLSYNC_CAPACITY")
    backup_components: tuple[str, ...] = ()  # further components (repository paths) that back apps up
    # Network
    domain: str | None = None
    gateway_internal: Gateway = Gateway("envoy-internal", "network", "172.22.12.1")
    gateway_external: Gateway = Gateway("envoy-external", "network", "172.22.12.2")
    internet_facing_annotation: str = "homeops.io/internet-facing"
    external_allowlist: tuple[str, ...] = ()
    # Secrets
    secret_store_kind: str = "ClusterSecretStore"
    secret_store: str = "doppler"
    secret_stores: tuple[str, ...] = ()  # further stores ExternalSecrets may read from, as Kind/name
    sops_allowed_paths: tuple[str, ...] = ("clusters/*/bootstrap/**", "clusters/*/talos/**")
    secret_allowed_paths: tuple[str, ...] = ("clusters/*/bootstrap/**", "clusters/*/talos/**")
    script_allowed_paths: tuple[
        str, ...
    ] = ()  # "No scattered shell scripts": an allowance is the user's choice
    # Storage
    storage_class: str = "ceph-block"
    cache_storage_class: str = "openebs-hostpath"
    backup: BackupPolicy = BackupPolicy()
    # Charts and images
    helm_layer_media_type: str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    helm_layer_selector: bool = True  # chart OCIRepositories select that layer (HO027; off: they need not)
    reloader_annotation: str = "reloader.stakater.com/auto"
    app_template_chart: str = "oci://ghcr.io/bjw-s-labs/helm/app-template"
    app_template_version: str = "4.2.0"
    # Where charts of common HTTP Helm repositories are published as OCI artifacts (upstream, or the
    # community mirror home-ops repositories use), for migrations from central HelmRepositories.
    chart_repository_oci: dict[str, str] = field(
        default_factory=lambda: {
            "https://bjw-s-labs.github.io/helm-charts": "oci://ghcr.io/bjw-s-labs/helm",
            "https://bjw-s.github.io/helm-charts": "oci://ghcr.io/bjw-s-labs/helm",
            "https://cloudnative-pg.github.io/charts": "oci://ghcr.io/cloudnative-pg/charts",
            "https://coredns.github.io/helm": "oci://ghcr.io/coredns/charts",
            "https://charts.external-secrets.io": "oci://ghcr.io/external-secrets/charts",
            "https://grafana.github.io/helm-charts": "oci://ghcr.io/grafana/helm-charts",
            "https://prometheus-community.github.io/helm-charts": "oci://ghcr.io/prometheus-community/charts",
            "https://charts.rook.io/release": "oci://ghcr.io/rook",
            "https://stakater.github.io/stakater-charts": "oci://ghcr.io/stakater/charts",
            "https://charts.jetstack.io": "oci://quay.io/jetstack/charts",
            "https://helm.cilium.io": "oci://ghcr.io/home-operations/charts-mirror",
            "https://kubernetes-sigs.github.io/descheduler": "oci://ghcr.io/home-operations/charts-mirror",
            "https://kubernetes-sigs.github.io/external-dns": "oci://ghcr.io/home-operations/charts-mirror",
            "https://kubernetes-sigs.github.io/metrics-server": "oci://ghcr.io/home-operations/charts-mirror",
            "https://backube.github.io/helm-charts": "oci://ghcr.io/home-operations/charts-mirror",
        }
    )
    # Substitution variables whose values the profile knows (variable -> profile field), and the
    # variable legacy clusters use for their own name in paths.
    profile_variables: dict[str, str] = field(
        default_factory=lambda: {"SECRET_DOMAIN": "domain", "STORAGE_CLASS": "storage_class"}
    )
    cluster_name_variable: str = "CLUSTER_NAME"
    insecure_registries: tuple[str, ...] = ()
    # Cluster versions and network ("Cluster Specifications")
    talos_version: str = "v1.10.6"
    kubernetes_version: str = "1.33.0"
    pod_cidr: str = "10.244.0.0/16"
    service_cidr: str = "10.96.0.0/12"
    local_hostpath: str = "/var/mnt/local-hostpath"  # the openebs-hostpath directory on every node
    flux_controller_memory_limit: str = "2Gi"  # kustomize-, helm- and source-controller ("Resource Quotas")
    # Namespaces of the platform apps homeops generates
    system_namespace: str = "system"
    secrets_namespace: str = (
        "security"  # External Secrets and the bootstrap's Doppler token (one word: HO022)
    )
    # Naming conventions ("Naming Conventions")
    app_name_pattern: str = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"  # kebab-case
    namespace_name_pattern: str = r"^[a-z][a-z0-9]*$"  # one lowercase word
    variable_name_pattern: str = r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$"  # SCREAMING_SNAKE_CASE
    # namespaces Kubernetes and Flux impose, and those the document itself uses (HO022 leaves them)
    reserved_namespaces: tuple[str, ...] = (
        "kube-system", "kube-public", "kube-node-lease", "flux-system", "rook-ceph", "external-secrets",
    )  # fmt: skip
    # Development tools pinned by .mise.toml ("Development Tools"): (mise backend:package, version, name)
    dev_tools: tuple[tuple[str, str, str], ...] = (
        ("aqua:budimanjojo/talhelper", "3.0.21", "talhelper"),
        ("aqua:cilium/cilium-cli", "0.18.3", "cilium-cli"),
        ("aqua:fluxcd/flux2", "2.5.1", "flux2"),
        ("aqua:helm/helm", "3.17.3", "helm"),
        ("aqua:helmfile/helmfile", "0.171.0", "helmfile"),
        ("aqua:kubernetes/kubectl", "1.32.3", "kubectl"),
        ("aqua:kubernetes-sigs/kustomize", "5.6.0", "kustomize"),
        ("aqua:getsops/sops", "3.10.2", "sops"),
        ("aqua:go-task/task", "3.42.1", "task"),
        ("aqua:FiloSottile/age", "1.2.1", "age"),
        ("aqua:mikefarah/yq", "4.45.1", "yq"),
        ("aqua:jqlang/jq", "1.7.1", "jq"),
    )
    # Rules
    rules: dict[str, Any] = field(default_factory=dict)
    ignore_paths: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Explicit clusters: name -> directory holding its root Flux objects
    clusters: dict[str, str] = field(default_factory=dict)
    # Values of postBuild variables only the live cluster has: cluster name (or "*") -> {NAME: value}
    vars: Layer = field(default_factory=lambda: Layer(PROFILE_FILE, {}))
    # Bounds on the work one command does (SECURITY.md): limits.<name>, each at most its ceiling
    limits: Limits = field(default_factory=Limits)
    # The keys .homeops.yaml set (an inferred profile does not override them)
    overridden: frozenset[str] = frozenset()

    def is_app_name(self, name: str) -> bool:
        return re.match(self.app_name_pattern, name) is not None

    def is_namespace_name(self, name: str) -> bool:
        return name in self.reserved_namespaces or re.match(self.namespace_name_pattern, name) is not None

    def is_variable_name(self, name: str) -> bool:
        return re.match(self.variable_name_pattern, name) is not None

    def component_path(self, name: str) -> str:
        return f"{self.components_dir}/{name}"

    def secret_store_allowed(self, kind: str, name: str) -> bool:
        return (kind, name) == (
            self.secret_store_kind,
            self.secret_store,
        ) or f"{kind}/{name}" in self.secret_stores

    def rule_disabled(self, rule_id: str) -> bool:
        """Whether ``rules:`` turns the rule off (``false`` or ``{enabled: false}``)."""
        settings = self.rules.get(rule_id)
        return settings is False or (isinstance(settings, dict) and settings.get("enabled") is False)

    def rule_severity(self, rule_id: str, default: str) -> str:
        """The severity ``rules:`` gives the rule (``warning`` or ``{severity: warning}``), else ``default``."""
        settings = self.rules.get(rule_id)
        if isinstance(settings, str) and settings in ("info", "warning", "error"):
            return settings
        if isinstance(settings, dict) and settings.get("severity") in ("info", "warning", "error"):
            return str(settings["severity"])
        return default

    def backup_component_paths(self) -> tuple[str, ...]:
        """The Volsync component and any further backup component, as repository paths."""
        return (self.component_path(self.volsync_component), *self.backup_components)


DEFAULT = Profile()

_GATEWAY_KEYS = {f.name for f in fields(Gateway)}
_BACKUP_KEYS = {f.name for f in fields(BackupPolicy)}


def load_profile(root: Path) -> Profile:
    """The default profile overridden by ``<root>/.homeops.yaml`` when present."""
    path = root / PROFILE_FILE
    if not path.is_file():
        return DEFAULT
    data = yamlio.load_one(fs.read_text(root, path), PROFILE_FILE) or {}
    if not isinstance(data, dict):
        raise HomeopsError("the profile must be a mapping", PROFILE_FILE, 1)
    return apply_overrides(DEFAULT, data)


def apply_overrides(base: Profile, data: dict[str, Any]) -> Profile:
    """A copy of ``base`` with the keys of ``data``; unknown keys are an error."""
    known = {f.name: f for f in fields(Profile) if f.name != "overridden"}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        line = data.line_of(key) if isinstance(data, yamlio.YMap) else None
        if key not in known:
            raise HomeopsError(
                f"unknown key {key!r} in {PROFILE_FILE}",
                PROFILE_FILE,
                line,
                f"known keys: {', '.join(sorted(known))}",
            )
        current = getattr(base, key)
        if key == "vars":
            changes[key] = layer_from_mapping(value, PROFILE_FILE, line_of=line)
        elif key == "limits":
            changes[key] = limits_from_mapping(value, PROFILE_FILE, line)
        elif isinstance(current, Gateway | BackupPolicy):
            _check_keys(value, _GATEWAY_KEYS if isinstance(current, Gateway) else _BACKUP_KEYS, key, line)
            typed: dict[str, Any] = {
                k: (_listeners(v) if k == "listeners" else _typed(f"{key}.{k}", getattr(current, k), v, line))
                for k, v in value.items()
            }
            changes[key] = replace(current, **typed)
        elif isinstance(current, tuple):
            if not isinstance(value, list):
                raise HomeopsError(f"{key} must be a list, not {describe(value)}", PROFILE_FILE, line)
            if any(isinstance(v, dict) for v in value):
                raise HomeopsError(f"{key} must be a list of strings", PROFILE_FILE, line)
            changes[key] = tuple(tuple(str(x) for x in v) if isinstance(v, list) else str(v) for v in value)
        elif isinstance(current, dict):
            if not isinstance(value, dict):
                raise HomeopsError(f"{key} must be a mapping, not {describe(value)}", PROFILE_FILE, line)
            if key == "chart_repository_oci":
                changes[key] = {
                    **current,
                    **{str(k): _typed(f"{key}.{k}", "", v, line) for k, v in value.items()},
                }
            elif key == "ignore_paths":
                if not all(isinstance(v, list) for v in value.values()):
                    raise HomeopsError(
                        f"{key} must map rule ids to lists of globs",
                        PROFILE_FILE,
                        line,
                        'write HO005: ["hack/**"]',
                    )
                changes[key] = {str(k): tuple(str(g) for g in v) for k, v in value.items()}
            else:
                changes[key] = dict(value)
        else:
            changes[key] = _typed(key, current, value, line)
    return replace(base, **changes, overridden=base.overridden | frozenset(changes))


def _listeners(value: Any) -> dict[str, dict[str, str]]:
    """A gateway's ``listeners``: ``{name: {protocol, from}}`` (plain dicts of strings)."""
    if not isinstance(value, dict):
        raise HomeopsError("listeners must map a listener name to {protocol, from}", PROFILE_FILE)
    return {str(k): {str(a): str(b) for a, b in (v or {}).items()} for k, v in value.items()}


def _typed(key: str, current: Any, value: Any, line: int | None) -> Any:
    """``value`` for a setting whose default is ``current``: of its type, or a located error."""
    if value is None:
        return current
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise HomeopsError(f"{key} must be true or false, not {describe(value)}", PROFILE_FILE, line)
        return value
    if isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise HomeopsError(f"{key} must be an integer, not {describe(value)}", PROFILE_FILE, line)
        return value
    if isinstance(current, str) or current is None:
        if isinstance(value, dict | list):
            raise HomeopsError(f"{key} must be a string, not {describe(value)}", PROFILE_FILE, line)
        text = str(value)
        if key.endswith("_pattern"):
            try:
                re.compile(text)
            except re.error as exc:
                raise HomeopsError(
                    f"{key} is not a valid regular expression: {exc}", PROFILE_FILE, line
                ) from None
        return text
    return value


def _check_keys(value: Any, allowed: set[str], key: str, line: int | None) -> None:
    if not isinstance(value, dict):
        raise HomeopsError(f"{key} must be a mapping", PROFILE_FILE, line)
    unknown = set(value) - allowed
    if unknown:
        raise HomeopsError(
            f"unknown key(s) {', '.join(sorted(unknown))} under {key} in {PROFILE_FILE}",
            PROFILE_FILE,
            line,
            f"known keys: {', '.join(sorted(allowed))}",
        )


# ----------------------------------------------------------------------------------------------
# Path globs of the profile


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(path: str, pattern: str) -> bool:
    """Whether a repository-relative path matches a profile glob (``clusters/*/bootstrap/**``).

    The one meaning of the profile's path globs (``*_allowed_paths``, ``ignore_paths``): the whole
    path must match; ``*`` is any run of characters within one path segment, ``?`` one character
    other than ``/``; ``**`` crosses segments (``dir/**`` is everything below ``dir``, ``**/name``
    is ``name`` at any depth); every other character stands for itself (no ``[...]`` classes). A
    slash around the pattern, or a leading ``./``, does not matter."""
    return _glob_regex(pattern.strip("/").removeprefix("./")).match(path) is not None


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    """Whether the path matches one of the profile globs (see :func:`glob_match`)."""
    return any(glob_match(path, p) for p in patterns)
