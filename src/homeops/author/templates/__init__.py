"""Our templates for generated repositories, and the small documents every app shares.

Static files live beside this module as ``*.tmpl`` with ``<<name>>`` placeholders (chosen because
generated files contain both Flux's ``${VAR}`` and Go templates' ``{{ .X }}``, which must pass
through untouched). A placeholder alone on a line takes a multi-line value, indented like the
placeholder; an empty value drops the line. The app documents (``ks.yaml``, ``kustomization.yaml``,
``ocirepository.yaml``) are built here because ``init`` and ``new app`` must write them identically.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

import yaml

from homeops.core import yamlemit
from homeops.core.profile import Profile

_PLACEHOLDER = re.compile(r"<<([a-z][a-z0-9_]*)>>")
_BLOCK = re.compile(r"^(?P<indent>[ \t]*)<<(?P<name>[a-z][a-z0-9_]*)>>[ \t]*$")

# Schema URLs for editors (yaml-language-server). Flux and CRD schemas from the community
# catalogue that mirrors the upstream CRDs; kustomize and tool configs from SchemaStore.
SCHEMA_CRD = "https://kubernetes-schemas.pages.dev"
SCHEMA_KUSTOMIZATION = "https://json.schemastore.org/kustomization"
SCHEMA_FLUX_KS = f"{SCHEMA_CRD}/kustomize.toolkit.fluxcd.io/kustomization_v1.json"
SCHEMA_HELMRELEASE = f"{SCHEMA_CRD}/helm.toolkit.fluxcd.io/helmrelease_v2.json"
SCHEMA_OCIREPOSITORY = f"{SCHEMA_CRD}/source.toolkit.fluxcd.io/ocirepository_v1.json"
SCHEMA_EXTERNALSECRET = f"{SCHEMA_CRD}/external-secrets.io/externalsecret_v1.json"
SCHEMA_HTTPROUTE = f"{SCHEMA_CRD}/gateway.networking.k8s.io/httproute_v1.json"
SCHEMA_APP_TEMPLATE = (
    "https://raw.githubusercontent.com/bjw-s-labs/helm-charts/main/charts/other/app-template/schemas/"
    "helmrelease-helm-v2.schema.json"
)

# Flux reconciliation settings of generated apps. Not conventions of the document, only sensible
# defaults a careful human writes (and the ones the example repository uses).
KS_INTERVAL = "1h"
KS_RETRY_INTERVAL = "2m"
KS_TIMEOUT = "5m"
OCI_INTERVAL = "12h"
HELMRELEASE_INTERVAL = "1h"
FLUX_SOURCE = ("GitRepository", "flux-system", "flux-system")


def template_text(name: str) -> str:
    """The raw text of a packaged template."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace ``<<name>>`` placeholders; a missing value is a bug in the caller (KeyError)."""
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        block = _BLOCK.match(line.rstrip("\n"))
        if block:
            value = values[block.group("name")]
            indent = block.group("indent")
            for sub in value.splitlines():
                out.append(f"{indent}{sub}\n" if sub else "\n")
            continue
        out.append(_PLACEHOLDER.sub(lambda m: values[m.group(1)], line))
    return "".join(out)


def render(template: str, /, **values: str) -> str:
    return fill(template_text(template), values)


def yaml_safe_name(name: str) -> bool:
    """Whether a plain scalar ``name`` reads back as that string in every YAML reader. Names are written
    unquoted and substituted into YAML by Flux (``${APP}``); ``no``, ``on`` or ``n`` would become booleans
    (go-yaml v2, which Flux uses, also reads ``y``/``n`` as booleans)."""
    return name.lower() not in ("y", "n") and yaml.safe_load(name) == name


def header(schema: str | None) -> list[str]:
    """Every document starts with a marker and, when a schema exists, the editor's schema comment."""
    lines = ["---"]
    if schema:
        lines.append(f"# yaml-language-server: $schema={schema}")
    return lines


def join(lines: Iterable[str]) -> str:
    return "\n".join(lines) + "\n"


def block(lines: Sequence[str], indent: int) -> list[str]:
    pad = " " * indent
    return [f"{pad}{line}" if line else "" for line in lines]


def relpath(target: str, start: str) -> str:
    """A POSIX relative path between two repository paths (both relative to the root)."""
    return os.path.relpath(target, start).replace(os.sep, "/")


def gateway_dns_name(profile: Profile, label: str) -> str:
    """The DNS name of a gateway (``internal.DOMAIN``, ``external.DOMAIN``): routes on the external
    gateway point their records at it (the Cloudflare tunnel's entry)."""
    return f"{label}.{profile.domain}"


def external_dns_target(profile: Profile) -> str:
    return gateway_dns_name(profile, "external")


# ----------------------------------------------------------------------------------------------
# Documents shared by init and new app


def app_kustomization(resources_: Sequence[str]) -> str:
    """``app/kustomization.yaml``: the app's files, sources first so a reader meets them in order."""
    lines = [
        *header(SCHEMA_KUSTOMIZATION),
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
    ]
    lines += [f"  - ./{r}" for r in resources_]
    return join(lines)


def namespace_kustomization(
    profile: Profile,
    namespace: str,
    apps: Sequence[str],
    *,
    privileged: bool = False,
    comment: str | None = None,
) -> str:
    """The namespace directory's ``kustomization.yaml``.

    The namespace component is applied here, once per namespace, and not in each app's ``ks.yaml``:
    a Namespace object owned by every app's Flux Kustomization would be fought over by them.
    """
    component = profile.privileged_namespace_component if privileged else profile.namespace_component
    base = f"../../{relpath(profile.components_dir, profile.apps_dir)}"
    lines = [
        *header(SCHEMA_KUSTOMIZATION),
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        f"namespace: {namespace}",
        "components:",
    ]
    if comment:
        lines.append(f"  # {comment}")
    lines += [f"  - {base}/{component}", f"  - {base}/{profile.alerts_component}", "resources:"]
    lines += [f"  - ./{app}/ks.yaml" for app in apps]
    return join(lines)


def ocirepository(profile: Profile, name: str, url: str, version: str) -> str:
    """One OCIRepository per app, selecting the Helm chart layer (the document's pattern)."""
    lines = [
        *header(SCHEMA_OCIREPOSITORY),
        "apiVersion: source.toolkit.fluxcd.io/v1",
        "kind: OCIRepository",
        "metadata:",
        f"  name: {name}",
        "spec:",
        f"  interval: {OCI_INTERVAL}",
        "  layerSelector:",
        f"    mediaType: {profile.helm_layer_media_type}",
        "    operation: copy",
        "  ref:",
        f"    tag: {yamlemit.scalar(version, quote_unusual=True)}",
        f"  url: {url}",
    ]
    return join(lines)


@dataclass(frozen=True)
class Dependency:
    name: str
    namespace: str


@dataclass
class FluxKs:
    """The fields of an app's ``ks.yaml`` that vary between apps."""

    cluster: str
    namespace: str
    app: str
    path: str | None = None  # defaults to the app's own app/ directory
    components: list[str] = field(default_factory=list)  # component names under the components dir
    app_dir: str | None = None  # the app's directory (default: the profile's <apps_dir>/<cluster>/<ns>/<app>)
    components_dir: str | None = None  # where the components are (default: the profile's)
    depends_on: list[Dependency] = field(default_factory=list)
    substitute: dict[str, str] = field(default_factory=dict)  # postBuild variables (none: no postBuild)
    wait: bool = False
    timeout: str = KS_TIMEOUT
    comments: dict[str, str] = field(default_factory=dict)  # spec key -> comment line above it


def flux_ks(profile: Profile, ks: FluxKs) -> str:
    """``ks.yaml``: the Flux Kustomization, its spec keys in alphabetical order."""
    app_dir = ks.app_dir or f"{profile.apps_dir}/{ks.cluster}/{ks.namespace}/{ks.app}"
    path = ks.path or f"{app_dir}/app"
    components_dir = ks.components_dir or profile.components_dir
    kind, name, namespace = FLUX_SOURCE
    spec: list[tuple[str, list[str]]] = [
        ("commonMetadata", ["labels:", "  app.kubernetes.io/name: *app"]),
    ]
    if ks.components:
        spec.append(("components", [f"- {relpath(f'{components_dir}/{c}', path)}" for c in ks.components]))
    if ks.depends_on:
        deps: list[str] = []
        for dep in ks.depends_on:
            deps += [f"- name: {dep.name}", f"  namespace: {dep.namespace}"]
        spec.append(("dependsOn", deps))
    spec.append(("interval", [KS_INTERVAL]))
    spec.append(("path", [f"./{path}"]))
    if ks.substitute:
        # APP first (the anchor of the name), then the rest in alphabetical order
        subst = [
            f"{k}: {'*app' if k == 'APP' and v == ks.app else yamlemit.scalar(v, quote_unusual=True)}"
            for k, v in sorted(ks.substitute.items(), key=lambda kv: (kv[0] != "APP", kv[0]))
        ]
        spec.append(("postBuild", ["substitute:", *[f"  {s}" for s in subst]]))
    spec += [
        ("prune", ["true"]),
        ("retryInterval", [KS_RETRY_INTERVAL]),
        ("sourceRef", [f"kind: {kind}", f"name: {name}", f"namespace: {namespace}"]),
        ("targetNamespace", ["*namespace"]),
        ("timeout", [ks.timeout]),
        ("wait", ["true" if ks.wait else "false"]),
    ]
    lines = [
        *header(SCHEMA_FLUX_KS),
        "apiVersion: kustomize.toolkit.fluxcd.io/v1",
        "kind: Kustomization",
        "metadata:",
        f"  name: &app {ks.app}",
        f"  namespace: &namespace {ks.namespace}",
        "spec:",
    ]
    for key, value in spec:
        if key in ks.comments:
            lines.append(f"  # {ks.comments[key]}")
        if len(value) == 1 and not value[0].startswith("- ") and ":" not in value[0]:
            lines.append(f"  {key}: {value[0]}")
        else:
            lines.append(f"  {key}:")
            lines += block(value, 4)
    return join(lines)


def helmrelease_head(
    name: str,
    *,
    schema: str,
    annotations: Mapping[str, str] | None = None,
    annotation_comment: str | None = None,
    crds: bool = False,
) -> list[str]:
    """A HelmRelease up to ``values:``: the chart from the app's own OCIRepository, and remediation
    that retries an install forever but rolls a failed upgrade back after three attempts."""
    lines = [
        *header(schema),
        "apiVersion: helm.toolkit.fluxcd.io/v2",
        "kind: HelmRelease",
        "metadata:",
        f"  name: {name}",
    ]
    if annotations:
        lines.append("  annotations:")
        if annotation_comment:
            lines.append(f"    # {annotation_comment}")
        lines += [f"    {k}: {yamlemit.double_quoted(v)}" for k, v in annotations.items()]
    lines += [
        "spec:",
        f"  interval: {HELMRELEASE_INTERVAL}",
        "  chartRef:",
        "    kind: OCIRepository",
        f"    name: {name}",
        "  install:",
    ]
    if crds:
        lines.append("    crds: CreateReplace")
    lines += ["    remediation:", "      retries: -1", "  upgrade:", "    cleanupOnFail: true"]
    if crds:
        lines.append("    crds: CreateReplace")
    lines += ["    remediation:", "      retries: 3"]
    return lines


def chart_helmrelease(name: str, values: str, *, crds: bool = False) -> str:
    """The HelmRelease of an infrastructure chart, its values given as YAML text."""
    lines = helmrelease_head(name, schema=SCHEMA_HELMRELEASE, crds=crds)
    lines.append("  values:")
    lines += block(values.rstrip("\n").splitlines(), 4)
    return join(lines)
