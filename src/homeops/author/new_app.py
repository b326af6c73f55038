"""``homeops new app``: the document's nine steps for adding an application, as file edits.

Every file is generated from the profile (gateways, secret store, components, chart source,
reloader annotation, layer media type), so a new app is correct by construction and ``check``
stays clean. Nothing is written here: the plan is a list of ``FileEdit`` the CLI shows
(``--dry-run``) or applies.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from homeops.author import templates as t
from homeops.author.cluster import SECRET_PROVIDERS, STORAGE_PROVIDERS, apps_root, cluster_kustomizations
from homeops.core import fs, yamlemit
from homeops.core.edits import FileEdit
from homeops.core.errors import HomeopsError
from homeops.core.profile import Gateway, Profile
from homeops.core.yamledit import append_list_item, list_items
from homeops.flux.cluster import discover_clusters
from homeops.registry.reference import DigestResolver

APP_NAME_MAX = 48  # leaves room for suffixes such as "-volsync-minio" within Kubernetes' 63
DOPPLER_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
CAPACITY = re.compile(r"^[0-9]+(Mi|Gi|Ti)$")
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
)
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

ROUTES = ("internal", "external", "none")


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str | None
    digest: str | None

    @property
    def tag_field(self) -> str:
        """The app-template ``tag:`` value: ``v1.2.3@sha256:...``."""
        return f"{self.tag}@{self.digest}" if self.digest else str(self.tag)

    def __str__(self) -> str:
        return (
            self.repository
            + (f":{self.tag}" if self.tag else "")
            + (f"@{self.digest}" if self.digest else "")
        )


def parse_image(text: str) -> Image:
    """``repository:tag[@sha256:digest]``; a tag is required because Renovate follows it."""
    rest, _, digest = text.strip().partition("@")
    colon = rest.rfind(":")
    repository, tag = (rest[:colon], rest[colon + 1 :]) if colon > rest.rfind("/") else (rest, None)
    bad = HomeopsError(
        f"--image {text!r} is not an image reference",
        hint="write REPOSITORY:TAG or REPOSITORY:TAG@sha256:DIGEST",
    )
    if not _REPOSITORY.match(repository) or (tag is not None and not _TAG.match(tag)):
        raise bad
    if digest and not _DIGEST.match(digest):
        raise bad
    if tag is None:
        raise HomeopsError(
            f"--image {text!r} has no tag",
            hint="write REPOSITORY:TAG@sha256:DIGEST; Renovate follows the tag",
        )
    return Image(repository, tag, digest or None)


@dataclass(frozen=True)
class AppOptions:
    namespace: str
    app: str
    image: str
    port: int
    cluster: str | None = None
    route: str = "internal"
    host: str | None = None
    volsync: str | None = None
    secret: str | None = None
    chart: str | None = None
    chart_version: str | None = None
    allow_unpinned: bool = False
    probe_path: str | None = None
    memory_limit: str = "512Mi"
    memory_request: str = "128Mi"
    cpu_request: str = "10m"
    uid: int = 1000
    gid: int = 1000
    mount: str = "/config"


@dataclass
class AppPlan:
    cluster: str
    app_dir: str
    edits: list[FileEdit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def split_target(target: str, *, example: str = "default/whoami") -> tuple[str, str]:
    """``NS/APP`` -> (namespace, app); ``example`` is the hint when ``target`` is not that."""
    namespace, sep, app = target.partition("/")
    if not sep or not namespace or not app or "/" in app:
        raise HomeopsError(f"{target!r} is not NAMESPACE/APP", hint=f"write e.g. {example}")
    return namespace, app


def validate(options: AppOptions, profile: Profile) -> None:
    """Names and values the conventions allow; refused before anything is looked up or written."""
    for what, name in (("app name", options.app), ("namespace", options.namespace)):
        if not t.yaml_safe_name(name):
            raise HomeopsError(
                f"{what} {name!r} reads as a YAML boolean or null, not a name", hint="choose another name"
            )
    if not profile.is_app_name(options.app) or len(options.app) > APP_NAME_MAX:
        raise HomeopsError(
            f"app name {options.app!r} is not kebab-case (lowercase words joined by '-', "
            f"at most {APP_NAME_MAX} characters)",
            hint="use e.g. paperless-ngx",
        )
    if not profile.is_namespace_name(options.namespace) or len(options.namespace) > 63:
        raise HomeopsError(
            f"namespace {options.namespace!r} is not one lowercase word",
            hint="use e.g. default, media, observability",
        )
    if not 1 <= options.port <= 65535:
        raise HomeopsError(f"--port {options.port} is not a port number", hint="pass 1-65535")
    if options.route not in ROUTES:
        raise HomeopsError(
            f"--route {options.route!r} is not one of {', '.join(ROUTES)}",
            hint=f"use internal ({profile.gateway_internal.name}) unless the internet needs the app",
        )
    if options.host is not None:
        if options.route == "none":
            raise HomeopsError("--host needs a route", hint="drop --host or pass --route internal|external")
        if not HOSTNAME.match(options.host):
            raise HomeopsError(f"--host {options.host!r} is not a lowercase DNS name")
    if options.volsync is not None and not CAPACITY.match(options.volsync):
        raise HomeopsError(f"--volsync {options.volsync!r} is not a size", hint="pass e.g. 5Gi")
    if options.secret is not None and not DOPPLER_KEY.match(options.secret):
        raise HomeopsError(
            f"--secret {options.secret!r} is not a Doppler secret name",
            hint="Doppler names are SCREAMING_SNAKE_CASE, e.g. PAPERLESS",
        )
    if (options.chart is None) != (options.chart_version is None):
        raise HomeopsError("--chart and --chart-version go together", hint="pass both or neither")
    if options.chart is not None and not options.chart.startswith("oci://"):
        raise HomeopsError(
            f"--chart {options.chart!r} is not an OCI URL",
            hint="every app has its own OCIRepository: pass oci://REGISTRY/PATH/CHART",
        )
    for flag, value in (
        ("--memory", options.memory_limit),
        ("--memory-request", options.memory_request),
        ("--cpu", options.cpu_request),
    ):
        if not QUANTITY.match(value):
            raise HomeopsError(f"{flag} {value!r} is not a Kubernetes quantity", hint="e.g. 512Mi or 100m")
    if options.probe_path is not None and not options.probe_path.startswith("/"):
        raise HomeopsError(f"--probe-path {options.probe_path!r} must start with /")
    if not options.mount.startswith("/"):
        raise HomeopsError(f"--mount {options.mount!r} must be an absolute path")
    if options.uid <= 0 or options.gid <= 0:
        raise HomeopsError("--uid and --gid must be positive: apps run as non-root")


def pin_image(
    image: Image, resolve: DigestResolver | None, allow_unpinned: bool, warnings: list[str]
) -> Image:
    """The image with a digest: as given, resolved from the registry, or (allowed) left unpinned."""
    if image.digest:
        return image
    why = "homeops cannot look digests up here (homeops.images.pin is not available)"
    if resolve is not None:
        try:
            digest = resolve(str(image))
        except HomeopsError as exc:
            why = exc.what
        except (OSError, ValueError) as exc:
            why = str(exc) or type(exc).__name__
        else:
            if _DIGEST.match(digest):
                return Image(image.repository, image.tag, digest)
            why = f"the registry answered {digest!r}, not a sha256 digest"
    if allow_unpinned:
        warnings.append(f"image {image} is not pinned to a digest ({why}); homeops check will report it")
        return image
    raise HomeopsError(
        f"cannot pin image {image} to a digest: {why}",
        hint="pass --image REPOSITORY:TAG@sha256:DIGEST, or --allow-unpinned",
    )


# ----------------------------------------------------------------------------------------------
# Looking at the repository


def choose_cluster(root: Path, profile: Profile, requested: str | None) -> tuple[str, str]:
    """The cluster to add to (the one asked for, or the only modern one) and where its apps live
    (:func:`homeops.author.cluster.apps_root`)."""
    clusters = {c.name: c.directory for c in discover_clusters(root, profile)}
    known = list(clusters)
    if requested is not None:
        if requested in profile.deprecated_clusters:
            raise HomeopsError(
                f"cluster {requested} is deprecated: new apps go to the modern clusters",
                hint=f"pick another --cluster (known: {', '.join(known) or 'none'})",
            )
        where = apps_root(root, profile, requested, clusters.get(requested))
        if where is None:
            raise HomeopsError(
                f"cluster {requested} has no {profile.apps_dir}/{requested} directory, nor a directory of "
                "<namespace>/<app>/ks.yaml apps that its Flux Kustomizations apply",
                hint="run 'homeops init . --cluster NAME' first, or pass a known --cluster",
            )
        return requested, where
    modern = [
        (n, where)
        for n in known
        if n not in profile.deprecated_clusters
        and (where := apps_root(root, profile, n, clusters[n])) is not None
    ]
    if len(modern) == 1:
        return modern[0]
    if not modern:
        raise HomeopsError(
            f"no cluster with a {profile.apps_dir}/<cluster> directory, or a directory of "
            "<namespace>/<app>/ks.yaml apps, found",
            hint="run 'homeops init DIR --cluster NAME --domain DOMAIN' first, or pass --path",
        )
    raise HomeopsError(
        f"several clusters found ({', '.join(n for n, _ in modern)})", hint="pass --cluster NAME"
    )


def _components_dir(root: Path, profile: Profile, apps: str, names: list[str]) -> str | None:
    """Where the components an app takes live: the profile's ``components_dir``, else a ``components``
    directory beside the apps' (``kubernetes/components`` next to ``kubernetes/apps``) that has them."""
    for candidate in (profile.components_dir, posixpath.join(posixpath.dirname(apps), "components")):
        if all((root / candidate / name).is_dir() for name in names):
            return candidate
    return None


# ----------------------------------------------------------------------------------------------
# The plan


def plan_new_app(
    root: Path, profile: Profile, options: AppOptions, *, resolve: DigestResolver | None = None
) -> AppPlan:
    """Every edit of the nine steps, or a HomeopsError (exit 2) before anything is written."""
    validate(options, profile)
    root = root.resolve()
    image = parse_image(options.image)
    cluster, apps = choose_cluster(root, profile, options.cluster)
    ns_rel = f"{apps}/{options.namespace}"
    app_rel = f"{ns_rel}/{options.app}"
    document_layout = apps == f"{profile.apps_dir}/{cluster}"
    if (root / app_rel).exists():
        raise HomeopsError(
            f"app {options.namespace}/{options.app} already exists",
            app_rel,
            None,
            "choose another name, or edit the existing app",
        )
    ns_dir = root / ns_rel
    ns_kust_rel = f"{ns_rel}/kustomization.yaml"
    if ns_dir.is_dir() and not (root / ns_kust_rel).is_file():
        raise HomeopsError(
            "namespace directory has no kustomization.yaml",
            ns_rel,
            None,
            "add one listing its apps' ks.yaml files",
        )
    if not ns_dir.is_dir() and not document_layout:
        raise HomeopsError(
            f"namespace directory {ns_rel} does not exist",
            ns_rel,
            None,
            "create it as your other namespaces are (its kustomization.yaml and namespace), then add the app",
        )
    components = [profile.volsync_component] if options.volsync else []
    components_dir = _components_dir(root, profile, apps, components)
    if components_dir is None:
        raise HomeopsError(
            f"no {' or '.join(components)} component in {profile.components_dir} or beside {apps}",
            hint="set components_dir (and volsync_component) in .homeops.yaml, or drop --volsync",
        )
    host = None
    if options.route != "none":
        host = options.host or (f"{options.app}.{profile.domain}" if profile.domain else None)
        if host is None:
            raise HomeopsError(
                "no host for the route: the profile sets no domain",
                hint="pass --host, set 'domain:' in .homeops.yaml, or --route none",
            )
    plan = AppPlan(cluster=cluster, app_dir=app_rel)
    if host and profile.domain and not (host == profile.domain or host.endswith(f".{profile.domain}")):
        plan.warnings.append(f"host {host} is outside the domain {profile.domain} of the profile")
    image = pin_image(image, resolve, options.allow_unpinned, plan.warnings)

    existing = {
        name: ns for name, (ns, _file) in cluster_kustomizations(root, profile, cluster, apps).items()
    }
    depends: list[t.Dependency] = []
    wanted = [*(STORAGE_PROVIDERS if options.volsync else ()), *(SECRET_PROVIDERS if options.secret else ())]
    for name in wanted:
        if name in existing and (name, existing[name]) != (options.app, options.namespace):
            depends.append(t.Dependency(name, existing[name]))
    for name in wanted:
        if name not in existing:
            plan.notes.append(f"no Flux Kustomization '{name}' in cluster {cluster}: not added to dependsOn")

    app_files: dict[str, str] = {}
    resources = []
    if options.secret:
        app_files["externalsecret.yaml"] = externalsecret(profile, options)
        resources.append("externalsecret.yaml")
    chart_url = options.chart or profile.app_template_chart
    chart_version = options.chart_version or profile.app_template_version
    app_files["ocirepository.yaml"] = t.ocirepository(profile, options.app, chart_url, chart_version)
    resources.append("ocirepository.yaml")
    if chart_url == profile.app_template_chart:
        app_files["helmrelease.yaml"] = app_template_helmrelease(profile, options, image, host)
        resources.append("helmrelease.yaml")
    else:
        app_files["helmrelease.yaml"] = chart_helmrelease(profile, options, image)
        resources.append("helmrelease.yaml")
        if host:
            app_files["httproute.yaml"] = httproute(profile, options, host)
            resources.append("httproute.yaml")
        plan.notes.append(
            f"{chart_url} is not {profile.app_template_chart}: the values follow the common "
            "chart conventions (image, resources, securityContext); check them against the chart"
        )
        if options.secret:
            plan.notes.append(f"give the Secret {options.app}-secret to the app in the chart's values")
        if options.volsync:
            plan.notes.append(f"mount the claim {options.app} at {options.mount} in the chart's values")
    app_files["kustomization.yaml"] = t.app_kustomization(resources)

    substitute: dict[str, str] = {}
    if options.volsync:
        substitute = {"APP": options.app, "VOLSYNC_CAPACITY": options.volsync}
        if options.uid != 1000:
            substitute["APP_UID"] = str(options.uid)
        if options.gid != 1000:
            substitute["APP_GID"] = str(options.gid)
    ks_text = t.flux_ks(
        profile,
        t.FluxKs(
            cluster,
            options.namespace,
            options.app,
            app_dir=app_rel,
            components_dir=components_dir,
            components=components,
            depends_on=depends,
            substitute=substitute,
        ),
    )

    plan.edits.append(FileEdit(f"{app_rel}/ks.yaml", ks_text))
    plan.edits += [FileEdit(f"{app_rel}/app/{name}", text) for name, text in sorted(app_files.items())]
    entry = f"./{options.app}/ks.yaml"
    if ns_dir.is_dir():
        old = fs.read_text(root, ns_kust_rel)
        if entry in list_items(old, "resources"):
            plan.notes.append(f"{ns_kust_rel} already lists {entry}")
        else:
            plan.edits.append(FileEdit(ns_kust_rel, append_list_item(old, "resources", entry), old))
    else:
        plan.edits.append(
            FileEdit(ns_kust_rel, t.namespace_kustomization(profile, options.namespace, [options.app]))
        )
    return plan


# ----------------------------------------------------------------------------------------------
# The app's files


def externalsecret(profile: Profile, options: AppOptions) -> str:
    """Every key of the app's Doppler secret, as the Secret ``APP-secret``."""
    lines = [
        *t.header(t.SCHEMA_EXTERNALSECRET),
        "apiVersion: external-secrets.io/v1",
        "kind: ExternalSecret",
        "metadata:",
        f"  name: {options.app}",
        "spec:",
        "  secretStoreRef:",
        f"    kind: {yamlemit.scalar(profile.secret_store_kind, quote_unusual=True)}",
        f"    name: {yamlemit.scalar(profile.secret_store, quote_unusual=True)}",
        "  target:",
        f"    name: {options.app}-secret",
        "    creationPolicy: Owner",
        "  dataFrom:",
        "    - extract:",
        f"        key: {yamlemit.scalar(options.secret or '', quote_unusual=True)}",  # a key like NO must stay a string
    ]
    return t.join(lines)


def _external_annotations(profile: Profile, options: AppOptions) -> dict[str, str] | None:
    return {profile.internet_facing_annotation: "true"} if options.route == "external" else None


def _gateway(profile: Profile, options: AppOptions) -> Gateway:
    return profile.gateway_external if options.route == "external" else profile.gateway_internal


def _route(gateway: Gateway, host: str, backend: list[str]) -> list[str]:
    """The part of a route that chart values and HTTPRoute objects share."""
    return [
        "hostnames:",
        f"  - {host}",
        "parentRefs:",
        f"  - name: {gateway.name}",
        f"    namespace: {gateway.namespace}",
        f"    sectionName: {gateway.section}",
        "rules:",
        "  - backendRefs:",
        *t.block(backend, 6),
    ]


def _resources(options: AppOptions) -> list[str]:
    return [
        "resources:",
        "  requests:",
        f"    cpu: {options.cpu_request}",
        f"    memory: {options.memory_request}",
        "  limits:",
        f"    memory: {options.memory_limit}",
    ]


CONTAINER_SECURITY = [
    "allowPrivilegeEscalation: false",
    "readOnlyRootFilesystem: true",
    "capabilities:",
    "  drop:",
    "    - ALL",
]


def app_template_helmrelease(profile: Profile, options: AppOptions, image: Image, host: str | None) -> str:
    """The app-template values shape of the document, every convention filled in."""
    app = options.app
    lines = t.helmrelease_head(
        app,
        schema=t.SCHEMA_APP_TEMPLATE,
        annotations=_external_annotations(profile, options),
        annotation_comment=f"Published on {profile.gateway_external.name}: reachable from the internet.",
    )
    port_anchor = f"&port {options.port}"
    container = [
        "image:",
        f"  repository: {image.repository}",
        f"  tag: {yamlemit.scalar(image.tag_field, quote_unusual=True)}",
    ]
    if options.secret:
        container += ["envFrom:", "  - secretRef:", f"      name: {app}-secret"]
    if options.probe_path:
        container += [
            "probes:",
            "  liveness: &probes",
            "    enabled: true",
            "    custom: true",
            "    spec:",
            "      httpGet:",
            f"        path: {yamlemit.scalar(options.probe_path, quote_unusual=True)}",
            f"        port: {port_anchor}",
            "      periodSeconds: 10",
            "      timeoutSeconds: 1",
            "      failureThreshold: 3",
            "  readiness: *probes",
        ]
        port_anchor = "*port"
    else:
        container += [
            "# TCP checks on the service port; pass --probe-path for HTTP checks.",
            "probes:",
            "  liveness:",
            "    enabled: true",
            "  readiness:",
            "    enabled: true",
        ]
    container += [*_resources(options), "securityContext:", *t.block(CONTAINER_SECURITY, 2)]
    values = [
        "controllers:",
        f"  {app}:",
        "    annotations:",
        f'      {profile.reloader_annotation}: "true"',
        "    containers:",
        "      app:",
        *t.block(container, 8),
        "defaultPodOptions:",
        "  securityContext:",
        "    runAsNonRoot: true",
        f"    runAsUser: {options.uid}",
        f"    runAsGroup: {options.gid}",
        f"    fsGroup: {options.gid}",
        "    fsGroupChangePolicy: OnRootMismatch",
        "    seccompProfile:",
        "      type: RuntimeDefault",
        "service:",
        "  app:",
        f"    controller: {app}",
        "    ports:",
        "      http:",
        f"        port: {port_anchor}",
    ]
    if host:
        values += ["route:", "  app:"]
        if options.route == "external":
            values += [
                "    annotations:",
                f"      external-dns.alpha.kubernetes.io/target: {t.external_dns_target(profile)}",
            ]
        values += t.block(_route(_gateway(profile, options), host, ["- identifier: app", "  port: *port"]), 4)
    values.append("persistence:")
    if options.volsync:
        values += [
            "  data:",
            f"    existingClaim: {app}",
            "    globalMounts:",
            f"      - path: {options.mount}",
        ]
    values += [
        "  tmp:",
        "    type: emptyDir",
        "    globalMounts:",
        "      - path: /tmp",
    ]
    lines.append("  values:")
    lines += t.block(values, 4)
    return t.join(lines)


def chart_helmrelease(profile: Profile, options: AppOptions, image: Image) -> str:
    """A chart of the app's own: the values most charts share, and a post-render patch for the reloader
    annotation (chart values rarely reach the controllers' own annotations)."""
    app = options.app
    lines = t.helmrelease_head(
        app,
        schema=t.SCHEMA_HELMRELEASE,
        annotations=_external_annotations(profile, options),
        annotation_comment=f"Published on {profile.gateway_external.name}: reachable from the internet.",
    )
    lines.append("  postRenderers:")
    lines.append("    - kustomize:")
    lines.append("        patches:")
    for kind in ("Deployment", "StatefulSet"):
        lines += [
            "          - target:",
            f"              kind: {kind}",
            "            patch: |",
            "              apiVersion: apps/v1",
            f"              kind: {kind}",
            "              metadata:",
            "                name: any",
            "                annotations:",
            f'                  {profile.reloader_annotation}: "true"',
        ]
    values = [
        f"fullnameOverride: {app}",
        "image:",
        f"  repository: {image.repository}",
        f"  tag: {yamlemit.scalar(image.tag_field, quote_unusual=True)}",
        "podSecurityContext:",
        "  runAsNonRoot: true",
        f"  runAsUser: {options.uid}",
        f"  runAsGroup: {options.gid}",
        f"  fsGroup: {options.gid}",
        "  seccompProfile:",
        "    type: RuntimeDefault",
        "securityContext:",
        *t.block(CONTAINER_SECURITY, 2),
        *_resources(options),
        "service:",
        f"  port: {options.port}",
    ]
    lines.append("  values:")
    lines += t.block(values, 4)
    return t.join(lines)


def httproute(profile: Profile, options: AppOptions, host: str) -> str:
    """The route of an app whose chart has no route values."""
    gateway = _gateway(profile, options)
    lines = [
        *t.header(t.SCHEMA_HTTPROUTE),
        "apiVersion: gateway.networking.k8s.io/v1",
        "kind: HTTPRoute",
        "metadata:",
        f"  name: {options.app}",
    ]
    if options.route == "external":
        lines += [
            "  annotations:",
            f"    # Published on {gateway.name}: reachable from the internet.",
            f'    {profile.internet_facing_annotation}: "true"',
            f"    external-dns.alpha.kubernetes.io/target: {t.external_dns_target(profile)}",
        ]
    lines += [
        "spec:",
        *t.block(_route(gateway, host, [f"- name: {options.app}", f"  port: {options.port}"]), 2),
    ]
    return t.join(lines)
