"""``homeops init``: a new repository (or a new cluster) in the modern layout.

The repository is generated as a list of file edits from the profile, so every convention a file
states comes from the same place ``check`` reads. Shared files (components, Taskfiles, CI, lint
and tool configuration) are written once; cluster files (``clusters/NAME/``,
``cluster-apps/NAME/``) once per cluster, so ``init . --cluster OTHER`` adds a cluster to an
existing repository without touching what is there.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from homeops import __version__
from homeops.author import templates as t
from homeops.core import fs
from homeops.core.edits import FileEdit
from homeops.core.errors import HomeopsError
from homeops.core.git import remote_url
from homeops.core.profile import DEFAULT, PROFILE_FILE, Profile, load_profile

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

_CLUSTER_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
)
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_AGE_KEY = re.compile(r"^age1[0-9a-z]{58}$")


@dataclass(frozen=True)
class InitOptions:
    cluster: str
    domain: str | None = None
    gateway_internal: str | None = None
    gateway_external: str | None = None
    nodes: tuple[tuple[str, str], ...] = ()
    repo_url: str | None = None
    age_keys: tuple[str, ...] = ()
    force: bool = False


@dataclass
class InitPlan:
    """What ``init`` writes, what it keeps as it is, and where the user must fill in placeholders."""

    edits: list[FileEdit] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    adding_cluster: bool = False


def parse_node(text: str) -> tuple[str, str]:
    """``--node NAME=IP``."""
    name, sep, address = text.partition("=")
    if not sep or not _HOSTNAME.match(name):
        raise HomeopsError(
            f"--node {text!r} is not NAME=IP with a lowercase host name",
            hint="write --node node-1=192.168.1.10",
        )
    return name, _ip(address, f"--node {name}")


def _ip(text: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise HomeopsError(
            f"{what}: {text!r} is not an IP address", hint="pass an IPv4 or IPv6 address"
        ) from None


def _validate(options: InitOptions) -> None:
    if not _CLUSTER_NAME.match(options.cluster) or not t.yaml_safe_name(options.cluster):
        raise HomeopsError(
            f"cluster name {options.cluster!r} is not lowercase kebab-case", hint="use e.g. --cluster chongus"
        )
    if options.domain is not None and not _DNS_NAME.match(options.domain):
        raise HomeopsError(
            f"--domain {options.domain!r} is not a lowercase DNS name", hint="use e.g. home.example.net"
        )
    for key in options.age_keys:
        if not _AGE_KEY.match(key):
            raise HomeopsError(
                f"--age-key {key!r} is not an age public key", hint="age-keygen -y KEYFILE prints it"
            )
    names = [n for n, _ in options.nodes]
    if len(set(names)) != len(names):
        raise HomeopsError("--node names must be unique")


def init_profile(root: Path, options: InitOptions) -> tuple[Profile, dict[str, object]]:
    """The profile the new files follow, and the overrides ``.homeops.yaml`` must record."""
    existing = (root / PROFILE_FILE).is_file()
    base = load_profile(root) if existing else DEFAULT
    domain = options.domain or base.domain
    if domain is None:
        raise HomeopsError("--domain is required", hint="pass the DNS domain the apps are served under")
    if existing and base.domain and options.domain and options.domain != base.domain:
        raise HomeopsError(
            f"--domain {options.domain} differs from the domain {base.domain} of {PROFILE_FILE}",
            PROFILE_FILE,
            None,
            "the domain is shared by every cluster of the repository",
        )
    internal = base.gateway_internal
    external = base.gateway_external
    if options.gateway_internal:
        internal = replace(internal, address=_ip(options.gateway_internal, "--gateway-internal"))
    if options.gateway_external:
        external = replace(external, address=_ip(options.gateway_external, "--gateway-external"))
    if internal.address == external.address:
        raise HomeopsError(
            "the internal and external gateways need different addresses",
            hint="pass --gateway-internal and --gateway-external",
        )
    if internal.namespace != external.namespace:
        raise HomeopsError("init expects both gateways in one namespace", PROFILE_FILE)
    profile = replace(base, domain=domain, gateway_internal=internal, gateway_external=external)
    overrides: dict[str, object] = {"domain": domain}
    for key, gw, default in (
        ("gateway_internal", internal, DEFAULT.gateway_internal),
        ("gateway_external", external, DEFAULT.gateway_external),
    ):
        if gw.address != default.address:
            overrides[key] = {"address": gw.address}
    return profile, overrides


def detect_repo_url(root: Path) -> str | None:
    """The ``origin`` remote of an existing checkout, as an HTTPS URL Flux can read."""
    url = remote_url(root, "origin")
    if url is None:
        return None
    m = re.match(r"^git@([^:]+):(.+)$", url)
    if m:
        url = f"https://{m.group(1)}/{m.group(2)}"
    return url if url.startswith(("https://", "ssh://", "http://")) else None


# ----------------------------------------------------------------------------------------------
# The plan


def plan_init(root: Path, options: InitOptions) -> InitPlan:
    """Every file of the layout, checked against what ``root`` already holds."""
    _validate(options)
    root = root.resolve()
    if root.exists() and not root.is_dir():
        raise HomeopsError(f"'{root}' is not a directory", hint="pass a new or existing directory")
    profile, overrides = init_profile(root, options)
    shared = shared_files(profile, options, overrides)
    if (root / PROFILE_FILE).is_file():
        del shared[PROFILE_FILE]  # the repository's own profile: what the files above were generated from
    cluster = cluster_files(profile, options, repo_url=options.repo_url or detect_repo_url(root))
    clusters_dir = root / profile.clusters_dir
    others = (
        sorted(p.name for p in clusters_dir.iterdir() if p.is_dir() and p.name != options.cluster)
        if clusters_dir.is_dir()
        else []
    )
    plan = InitPlan(adding_cluster=bool(others))
    conflicts: list[str] = []
    for path, text in sorted({**shared, **cluster}.items()):
        target = root / path
        if target.exists() and not target.is_file():
            conflicts.append(path)
            continue
        current = fs.read_text(root, target) if target.is_file() else None
        if current is None or options.force:
            if current != text:
                plan.edits.append(FileEdit(path, text, current))
            else:
                plan.kept.append(path)
        elif current == text or (path in shared and plan.adding_cluster):
            plan.kept.append(path)
        else:
            conflicts.append(path)
        if f"# {PLACEHOLDER_MARK}" in text and (path in cluster or not plan.adding_cluster):
            plan.placeholders.append(path)
    if conflicts:
        raise HomeopsError(
            "already exists",
            conflicts[0],
            None,
            f"{len(conflicts)} file(s) would be overwritten; pass --force to overwrite them",
        )
    return plan


# ----------------------------------------------------------------------------------------------
# Shared files


def shared_files(profile: Profile, options: InitOptions, overrides: dict[str, object]) -> dict[str, str]:
    files: dict[str, str] = {
        PROFILE_FILE: _profile_file(overrides),
        ".gitignore": t.render("gitignore.tmpl", clusters_dir=profile.clusters_dir),
        ".sops.yaml": _sops_config(profile, options.age_keys),
        ".mise.toml": _mise_config(profile),
        ".pre-commit-config.yaml": t.render("pre-commit-config.yaml.tmpl"),
        ".github/lint/.yamllint.yaml": t.render("yamllint.yaml.tmpl"),
        ".github/workflows/check.yaml": t.render("workflow-check.yaml.tmpl"),
        ".github/workflows/diff.yaml": t.render("workflow-diff.yaml.tmpl"),
        ".github/renovate.json5": t.render(
            "renovate.json5.tmpl",
            apps_dir_re=re.escape(profile.apps_dir),
            clusters_dir_re=re.escape(profile.clusters_dir),
        ),
        "Taskfile.yaml": t.render("Taskfile.yaml.tmpl", cluster=options.cluster),
        ".taskfiles/k8s-bootstrap/Taskfile.yaml": t.render(
            "taskfile-k8s-bootstrap.yaml.tmpl", secrets_namespace=profile.secrets_namespace
        ),
        ".taskfiles/talos/Taskfile.yaml": t.render("taskfile-talos.yaml.tmpl"),
        ".taskfiles/sops/Taskfile.yaml": t.render("taskfile-sops.yaml.tmpl"),
        "CLAUDE.md": context_document(profile, options.cluster),
    }
    files.update(component_files(profile))
    files.update(_base_app(profile, "reloader", t.render("values-reloader.yaml.tmpl")))
    return files


def _profile_file(overrides: dict[str, object]) -> str:
    lines = [
        "---",
        "# homeops profile: the conventions of this repository where they differ from",
        "# homeops' defaults (the context document). `homeops check` and `homeops new app`",
        "# read it; see CLAUDE.md for what the conventions are.",
    ]
    for key, value in overrides.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {t.scalar(str(v))}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {t.scalar(str(value))}")
    return t.join(lines)


def glob_to_regex(pattern: str) -> str:
    """A profile path glob (``clusters/*/talos/**``) as an unanchored SOPS ``path_regex`` prefix."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("/**", i) and i + 3 == len(pattern):
            out += "/.*"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]+"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return out


def _sops_config(profile: Profile, age_keys: tuple[str, ...]) -> str:
    lines = [
        "---",
        "# SOPS encrypts only what must exist before Flux and External Secrets run:",
        "# Talos and bootstrap secrets (files named *.sops.yaml under the paths below).",
        "# Application secrets live in Doppler.",
        "creation_rules:",
    ]
    for glob in profile.sops_allowed_paths:
        lines.append(f"  - path_regex: {glob_to_regex(glob)}\\.sops\\.ya?ml$")
        lines.append("    unencrypted_regex: ^(apiVersion|kind|metadata)$")
        if age_keys:
            lines.append(f"    age: {','.join(age_keys)}")
        else:
            lines.append(
                f"    # {PLACEHOLDER_MARK}: your age public key(s), comma-separated (homeops init --age-key)"
            )
            lines.append("    age: age1replace-with-your-public-key")
    return t.join(lines)


def tools(profile: Profile) -> list[tuple[str, str, str]]:
    """Every pinned tool: the document's, talosctl of the profile's Talos version, pre-commit, homeops."""
    return [
        *profile.dev_tools,
        ("aqua:siderolabs/talos", profile.talos_version.lstrip("v"), "talosctl"),
        ("pipx:pre-commit", PRE_COMMIT_VERSION, "pre-commit"),
        ("pipx:homeops", __version__, "homeops"),
    ]


def _mise_config(profile: Profile) -> str:
    tools_ = tools(profile)
    width = max(len(_toml_key(name)) for name, _, _ in tools_)
    lines = [
        "# Every tool the Taskfiles, pre-commit and CI use, pinned: `mise install`.",
        "# Renovate keeps the versions current.",
        "[tools]",
    ]
    lines += [f'{_toml_key(name).ljust(width)} = "{version}"' for name, version, _ in tools_]
    return t.join(lines)


def _toml_key(name: str) -> str:
    return '"' + name + '"'


def component_files(profile: Profile) -> dict[str, str]:
    comp = profile.components_dir
    backup = profile.backup
    store = {"secret_store_kind": profile.secret_store_kind, "secret_store": profile.secret_store}
    volume = {
        "storage_class": profile.storage_class,
        "snapshot_class": VOLUME_SNAPSHOT_CLASS,
        "cache_storage_class": backup.cache_storage_class,
        "cache_capacity": backup.cache_capacity,
    }
    variables = "\n".join(
        [
            "# Persistent data of one app, restored from and backed up by Volsync.",
            "# Included from the app's ks.yaml (spec.components); postBuild.substitute sets:",
            "#   APP                   required: names every object below",
            "#   VOLSYNC_CAPACITY      required: size of the claim, e.g. 5Gi",
            "#   VOLSYNC_CLAIM         claim name, default ${APP}",
            f"#   VOLSYNC_STORAGECLASS  default {profile.storage_class}",
            f"#   VOLSYNC_SNAPSHOTCLASS default {VOLUME_SNAPSHOT_CLASS}",
            "#   VOLSYNC_ACCESSMODE    default ReadWriteOnce",
            "#   APP_UID / APP_GID     owner of the data, default 1000",
        ]
    )
    return {
        f"{comp}/{profile.namespace_component}/kustomization.yaml": _component(["namespace.yaml"]),
        f"{comp}/{profile.namespace_component}/namespace.yaml": t.render("namespace.yaml.tmpl"),
        f"{comp}/{profile.privileged_namespace_component}/kustomization.yaml": _component(["namespace.yaml"]),
        f"{comp}/{profile.privileged_namespace_component}/namespace.yaml": t.render(
            "privileged-namespace.yaml.tmpl"
        ),
        f"{comp}/{profile.alerts_component}/kustomization.yaml": _component(["provider.yaml", "alert.yaml"]),
        f"{comp}/{profile.alerts_component}/provider.yaml": t.render("alerts-provider.yaml.tmpl"),
        f"{comp}/{profile.alerts_component}/alert.yaml": t.render("alerts-alert.yaml.tmpl"),
        f"{comp}/{profile.volsync_component}/kustomization.yaml": _component(
            ["pvc.yaml", "b2.yaml", "minio.yaml", "replicationdestination.yaml"], variables
        ),
        f"{comp}/{profile.volsync_component}/pvc.yaml": t.render("volsync-pvc.yaml.tmpl", **volume),
        f"{comp}/{profile.volsync_component}/b2.yaml": t.render(
            "volsync-backend.yaml.tmpl",
            backend="b2",
            doppler_key="VOLSYNC_B2",
            schedule=backup.b2_schedule,
            backend_comment=f"Off-site copy on Backblaze B2, daily; keeps {backup.b2_keep_daily} daily snapshots.",
            retain=f"daily: {backup.b2_keep_daily}",
            **store,
            **volume,
        ),
        f"{comp}/{profile.volsync_component}/minio.yaml": t.render(
            "volsync-backend.yaml.tmpl",
            backend="minio",
            doppler_key="VOLSYNC_MINIO",
            schedule=backup.minio_schedule,
            backend_comment=(
                f"Local copy on MinIO, hourly; keeps {backup.minio_keep_hourly} hourly, "
                f"{backup.minio_keep_daily} daily, {backup.minio_keep_weekly} weekly."
            ),
            retain="\n".join(
                [
                    f"hourly: {backup.minio_keep_hourly}",
                    f"daily: {backup.minio_keep_daily}",
                    f"weekly: {backup.minio_keep_weekly}",
                ]
            ),
            **store,
            **volume,
        ),
        f"{comp}/{profile.volsync_component}/replicationdestination.yaml": t.render(
            "volsync-restore.yaml.tmpl", backend="minio", **volume
        ),
    }


def _component(resources: list[str], comment: str = "") -> str:
    return t.render(
        "component-kustomization.yaml.tmpl",
        comment=comment,
        resources="\n".join(f"  - ./{r}" for r in resources),
    )


def _base_app(profile: Profile, name: str, values: str) -> dict[str, str]:
    base = f"{profile.apps_dir}/base/{name}/app"
    url, version = APP_CHARTS[name]
    return {
        f"{base}/kustomization.yaml": t.app_kustomization(["ocirepository.yaml", "helmrelease.yaml"]),
        f"{base}/ocirepository.yaml": t.ocirepository(profile, name, url, version),
        f"{base}/helmrelease.yaml": t.chart_helmrelease(name, values),
    }


def context_document(profile: Profile, cluster: str) -> str:
    """CLAUDE.md: the repository's context document, written from the profile."""
    internal, external, backup = profile.gateway_internal, profile.gateway_external, profile.backup
    return t.render(
        "CLAUDE.md.tmpl",
        cluster=cluster,
        talos_version=profile.talos_version,
        kubernetes_version=profile.kubernetes_version,
        clusters_dir=profile.clusters_dir,
        apps_dir=profile.apps_dir,
        pod_cidr=profile.pod_cidr,
        service_cidr=profile.service_cidr,
        storage_class=profile.storage_class,
        cache_storage_class=backup.cache_storage_class,
        namespace_component=profile.namespace_component,
        privileged_namespace_component=profile.privileged_namespace_component,
        volsync_component=profile.volsync_component,
        alerts_component=profile.alerts_component,
        helm_layer_media_type=profile.helm_layer_media_type,
        app_template_chart=profile.app_template_chart,
        app_template_version=profile.app_template_version,
        reloader_annotation=profile.reloader_annotation,
        internal_name=internal.name,
        internal_address=internal.address,
        internal_namespace=internal.namespace,
        internal_section=internal.section,
        external_name=external.name,
        external_address=external.address,
        internet_facing_annotation=profile.internet_facing_annotation,
        domain=profile.domain or "",
        secret_store_kind=profile.secret_store_kind,
        secret_store=profile.secret_store,
        sops_paths=", ".join(f"`{p}`" for p in profile.sops_allowed_paths),
        b2_schedule=backup.b2_schedule,
        b2_keep_daily=str(backup.b2_keep_daily),
        minio_schedule=backup.minio_schedule,
        minio_keep_hourly=str(backup.minio_keep_hourly),
        minio_keep_daily=str(backup.minio_keep_daily),
        minio_keep_weekly=str(backup.minio_keep_weekly),
        cache_capacity=backup.cache_capacity,
        placeholder_mark=PLACEHOLDER_MARK,
        tools="\n".join(f"- {label} {version}" for _, version, label in tools(profile)),
    )


# ----------------------------------------------------------------------------------------------
# Cluster files


def cluster_files(profile: Profile, options: InitOptions, *, repo_url: str | None) -> dict[str, str]:
    name = options.cluster
    cdir = f"{profile.clusters_dir}/{name}"
    files: dict[str, str] = {
        f"{cdir}/bootstrap/helmfile.d/00-crds.yaml": _crds_helmfile(profile),
        f"{cdir}/bootstrap/helmfile.d/01-apps.yaml": _apps_helmfile(profile, name, repo_url),
        f"{cdir}/bootstrap/resources/namespaces.yaml": t.render(
            "bootstrap-namespaces.yaml.tmpl", secrets_namespace=profile.secrets_namespace
        ),
        f"{cdir}/bootstrap/resources/cilium-lbipam.yaml": t.render(
            "cilium-lbipam.yaml.tmpl", lb_pool=_lb_pool(profile)
        ),
        f"{cdir}/flux/cluster/cluster.yaml": t.render(
            "cluster.yaml.tmpl", cluster=name, apps_path=f"{profile.apps_dir}/{name}"
        ),
        f"{cdir}/talos/talconfig.yaml": _talconfig(profile, name, options.nodes),
    }
    files.update(_cluster_apps(profile, name))
    return files


def _lb_pool(profile: Profile) -> str:
    """The LB-IPAM pool: the /24 (IPv4) or /120 (IPv6) holding the gateways' addresses."""
    address = ipaddress.ip_address(profile.gateway_internal.address)
    prefix = 24 if address.version == 4 else 120
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _crds_helmfile(profile: Profile) -> str:
    releases: list[str] = []
    for index, (release, namespace, chart, version) in enumerate(CRD_CHARTS):
        namespace = namespace.format(secrets_namespace=profile.secrets_namespace)
        if index:
            releases.append("")
        releases += [
            f"  - name: {release}",
            f"    namespace: {namespace}",
            f"    chart: {chart}",
            f"    version: {t.scalar(version)}",
        ]
    return t.render("helmfile-crds.yaml.tmpl", releases="\n".join(releases))


def _apps_helmfile(profile: Profile, cluster: str, repo_url: str | None) -> str:
    values: dict[str, str] = {}
    for release in (
        "cilium",
        "coredns",
        "cert-manager",
        "flux-operator",
        "flux-instance",
        "cloudnative-pg",
        "rook-ceph",
    ):
        chart, version = APP_CHARTS[release]
        key = release.replace("-", "_")
        values[f"{key}_chart"] = chart
        values[f"{key}_version"] = t.scalar(version)
    flux_version = next(v for n, v, _ in profile.dev_tools if n.endswith("/flux2"))
    service = ipaddress.ip_network(profile.service_cidr)
    return t.render(
        "helmfile-apps.yaml.tmpl",
        **values,
        pod_cidr=profile.pod_cidr,
        cluster_dns=str(service.network_address + 10),
        flux_distribution=t.quote(".".join(flux_version.split(".")[:2]) + ".x"),
        repo_url=repo_url or "https://github.com/OWNER/home-ops.git",
        repo_url_comment="" if repo_url else f"# {PLACEHOLDER_MARK}: the URL of this repository",
        flux_path=f"{profile.clusters_dir}/{cluster}/flux/cluster",
        flux_memory_limit=profile.flux_controller_memory_limit,
    )


def _talconfig(profile: Profile, cluster: str, nodes: tuple[tuple[str, str], ...]) -> str:
    placeholder = not nodes
    if placeholder:
        nodes = tuple((f"{cluster}-{i}", f"192.0.2.{i}") for i in (1, 2, 3))
    lines: list[str] = []
    for index, (host, address) in enumerate(nodes):
        if index:
            lines.append("")
        lines += [
            f"  - hostname: {host}",
            f"    ipAddress: {address}",
            "    controlPlane: true",
            f"    # {PLACEHOLDER_MARK}: the disk Talos installs to",
            "    installDisk: /dev/sda",
        ]
    note = (
        (
            f"# {PLACEHOLDER_MARK}: the nodes below are placeholders (documentation addresses);\n"
            f"# replace them with yours, or run homeops init with --node NAME=IP."
        )
        if placeholder
        else ""
    )
    endpoint = nodes[0][1]
    return t.render(
        "talconfig.yaml.tmpl",
        cluster=cluster,
        talos_version=profile.talos_version,
        kubernetes_version=profile.kubernetes_version,
        endpoint=endpoint,
        endpoint_comment="# (a virtual IP or DNS name shared by the control plane survives losing this node)",
        pod_cidr=profile.pod_cidr,
        service_cidr=profile.service_cidr,
        nodes="\n".join(lines),
        placeholder_note=note,
        local_hostpath=profile.local_hostpath,
    )


def _cluster_apps(profile: Profile, cluster: str) -> dict[str, str]:
    """The apps every cluster starts with: gateways, reloader, storage and Volsync, External Secrets."""
    apps_dir = f"{profile.apps_dir}/{cluster}"
    files: dict[str, str] = {}
    gw_ns = profile.gateway_internal.namespace

    def app(namespace: str, name: str, extra: dict[str, str], values: str, ks: t.FluxKs) -> None:
        url, version = APP_CHARTS[name]
        base = f"{apps_dir}/{namespace}/{name}/app"
        files[f"{base}/kustomization.yaml"] = t.app_kustomization(
            ["ocirepository.yaml", "helmrelease.yaml", *extra]
        )
        files[f"{base}/ocirepository.yaml"] = t.ocirepository(profile, name, url, version)
        files[f"{base}/helmrelease.yaml"] = t.chart_helmrelease(name, values, crds=True)
        for file, text in extra.items():
            files[f"{base}/{file}"] = text
        files[f"{apps_dir}/{namespace}/{name}/ks.yaml"] = t.flux_ks(profile, ks)

    # network: Envoy Gateway and the two gateways of the profile
    app(
        gw_ns,
        "envoy-gateway",
        {"gateways.yaml": _gateways(profile)},
        t.render("values-envoy-gateway.yaml.tmpl"),
        t.FluxKs(
            cluster,
            gw_ns,
            "envoy-gateway",
            wait=True,
            timeout="10m",
            comments={"wait": "Routes of every app attach to these gateways."},
        ),
    )
    files[f"{apps_dir}/{gw_ns}/kustomization.yaml"] = t.namespace_kustomization(
        profile, gw_ns, ["envoy-gateway"]
    )

    # system: reloader (shared base), the hostpath provisioner, the Volsync operator
    sys_ns = profile.system_namespace
    files[f"{apps_dir}/{sys_ns}/reloader/ks.yaml"] = t.flux_ks(
        profile, t.FluxKs(cluster, sys_ns, "reloader", path=f"{profile.apps_dir}/base/reloader/app")
    )
    app(
        sys_ns,
        "openebs",
        {},
        t.render(
            "values-openebs.yaml.tmpl",
            local_hostpath=profile.local_hostpath,
            cache_storage_class=profile.cache_storage_class,
        ),
        t.FluxKs(
            cluster,
            sys_ns,
            "openebs",
            wait=True,
            comments={"wait": f"Volsync caches need the {profile.cache_storage_class} class."},
        ),
    )
    app(
        sys_ns,
        "volsync",
        {},
        t.render("values-volsync.yaml.tmpl"),
        t.FluxKs(
            cluster,
            sys_ns,
            "volsync",
            wait=True,
            depends_on=[t.Dependency("openebs", sys_ns)],
            comments={"wait": "Apps with the volsync component need its CRDs first."},
        ),
    )
    files[f"{apps_dir}/{sys_ns}/kustomization.yaml"] = t.namespace_kustomization(
        profile,
        sys_ns,
        ["reloader", "openebs", "volsync"],
        privileged=True,
        comment="hostpath helpers and Volsync movers need host access",
    )

    # security: External Secrets and the Doppler store
    es_ns = profile.secrets_namespace
    store = t.render(
        "clustersecretstore.yaml.tmpl",
        secret_store_kind=profile.secret_store_kind,
        secret_store=profile.secret_store,
        token_namespace=es_ns,
    )
    app(
        es_ns,
        "external-secrets",
        {"clustersecretstore.yaml": store},
        t.render("values-external-secrets.yaml.tmpl"),
        t.FluxKs(
            cluster,
            es_ns,
            "external-secrets",
            wait=True,
            comments={"wait": "ExternalSecrets of every app need the store ready."},
        ),
    )
    files[f"{apps_dir}/{es_ns}/kustomization.yaml"] = t.namespace_kustomization(
        profile, es_ns, ["external-secrets"]
    )
    return files


def _gateways(profile: Profile) -> str:
    domain = profile.domain or ""
    docs = []
    for gw, label, comment in (
        (
            profile.gateway_internal,
            "internal",
            "Local network and tailnet only: the default for every route.",
        ),
        (
            profile.gateway_external,
            "external",
            "Reachable from the internet (Cloudflare tunnel): opt-in per app.",
        ),
    ):
        docs.append(
            t.render(
                "gateway.yaml.tmpl",
                name=gw.name,
                comment=comment,
                dns_name=t.gateway_dns_name(profile, label),
                address=gw.address,
                section=gw.section,
                domain=domain,
                tls_secret=f"{domain.replace('.', '-')}-tls",
            )
        )
    return t.render("gateways.yaml.tmpl", gateways="".join(docs).rstrip("\n"))
