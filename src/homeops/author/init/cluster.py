"""The files of one cluster: bootstrap (helmfiles, namespaces, LB-IPAM pool), the Flux entry point,
Talos configuration, and the apps every cluster starts with (``clusters/NAME/``, ``cluster-apps/NAME/``)."""

from __future__ import annotations

import ipaddress

from homeops.author import templates as t
from homeops.author.init.defaults import APP_CHARTS, CRD_CHARTS, PLACEHOLDER_MARK
from homeops.author.init.options import InitOptions
from homeops.core import yamlemit
from homeops.core.profile import Profile


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
            f"    version: {yamlemit.scalar(version, quote_unusual=True)}",
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
        values[f"{key}_version"] = yamlemit.scalar(version, quote_unusual=True)
    flux_version = next(v for n, v, _ in profile.dev_tools if n.endswith("/flux2"))
    service = ipaddress.ip_network(profile.service_cidr)
    return t.render(
        "helmfile-apps.yaml.tmpl",
        **values,
        pod_cidr=profile.pod_cidr,
        cluster_dns=str(service.network_address + 10),
        flux_distribution=yamlemit.double_quoted(".".join(flux_version.split(".")[:2]) + ".x"),
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
