"""The conventions a repository itself follows, read from its render (``homeops profile infer``).

The default profile is the context document's. A repository without ``.homeops.yaml`` is checked
against the conventions it shows instead, so that a rule whose premise it does not share stays
quiet rather than calling its own choices errors:

- secret stores: the ClusterSecretStores/SecretStores it defines, the one its ExternalSecrets use most
  first (HO023 accepts all of them);
- backups: the components its apps take their PersistentVolumeClaims from together with backup
  objects (Volsync ReplicationSources, Kopia snapshot policies, ...), and the variables the Volsync
  component needs without a default (HO024);
- gateways: its Gateways, their listeners and what each listener's ``allowedRoutes`` admits (HO028
  states the real risk from them); no Gateway API at all turns HO006, HO013 and HO028 off, as does a
  repository that never marks routes internet-facing for HO013;
- the domain its routes use, the app-template chart and version it deploys (``new app``);
- its namespaces (HO022 does not flag names it chose), its script locations (HO005).

Deprecated clusters (the profile's ``deprecated_clusters``) are left out: their ways are what the
repository is moving away from.

Each inferred key carries where it was read, written as a comment by :meth:`InferredProfile.text`.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from homeops.core import codes, yamlemit
from homeops.core.errors import HomeopsError
from homeops.core.files import FileCache
from homeops.core.profile import DEFAULT, Profile, apply_overrides
from homeops.flux import envsubst
from homeops.flux.model import is_helmrelease
from homeops.flux.rendered import ClusterRender
from homeops.flux.workloads import pod_spec
from homeops.kustomize.resource import Resource
from homeops.rules.externalsecrets import ESO_GROUP, store_refs
from homeops.rules.helpers import CORE_API_GROUPS, claims_named, component_dir, dig
from homeops.rules.reloader import app_template_controllers, controller_containers
from homeops.rules.routes import value_routes
from homeops.rules.routing import GATEWAY_GROUP
from homeops.rules.scripts import shell_scripts

_TEMPLATED = re.compile(r"\$\{|\{\{|\.\.PLACEHOLDER_")
APP_TEMPLATE = "app-template"
GATEWAY_API_RULES = (codes.INGRESS.id, codes.EXTERNAL_GATEWAY.id, codes.ROUTE.id)
SOPS_RULES = (codes.SOPS_OUTSIDE_BOOTSTRAP.id, codes.SUBSTITUTE_FROM_PLAIN_SECRET.id, codes.SECRET_IN_GIT.id)


@dataclass(frozen=True)
class Convention:
    """One key of the profile as the repository shows it, and where that was read."""

    key: str
    value: Any  # as .homeops.yaml writes it (lists, mappings, scalars)
    why: str


@dataclass
class InferredProfile:
    conventions: list[Convention] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be read

    def overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c in self.conventions:
            if c.key == "rules":
                out["rules"] = {
                    **out.get("rules", {}),
                    **c.value,
                }  # every rule setting, none changed in place
            else:
                out[c.key] = c.value
        return out

    def apply(self, base: Profile = DEFAULT) -> Profile:
        """``base`` with the inferred conventions (keys ``base`` was given explicitly stay)."""
        inferred = apply_overrides(base, self.overrides())
        return replace(inferred, **{k: getattr(base, k) for k in base.overridden}, overridden=base.overridden)

    def text(self) -> str:
        """The profile as ``.homeops.yaml`` text, each key under a comment saying where it was read."""
        lines = [
            "# Conventions inferred from this repository by 'homeops profile infer'.",
            "# Keys not listed keep the defaults of the context document (home-ops-context.md).",
        ]
        merged = self.overrides()
        whys: dict[str, list[str]] = {}
        for c in self.conventions:
            whys.setdefault(c.key, []).append(c.why)
        for key, value in merged.items():
            lines.append("")
            lines.extend(f"# {why}" for why in whys[key])
            lines.append(yamlemit.dump_handwritten({key: value}).rstrip("\n"))
        lines.extend(["", *(f"# not inferred: {note}" for note in self.notes)] if self.notes else [])
        return "\n".join(lines) + "\n"


def _objects(renders: Iterable[ClusterRender]) -> Iterator[Resource]:
    for render in renders:
        for _rk, res in render.objects():
            yield res


def _group(res: Resource) -> str:
    return res.api_version.split("/")[0] if "/" in res.api_version else ""


# ------------------------------------------------------------------------------ secret stores
def _secret_stores(objects: list[Resource]) -> list[Convention]:
    defined: dict[tuple[str, str], Resource] = {}
    used: Counter[tuple[str, str]] = Counter()
    for res in objects:
        if _group(res) != ESO_GROUP:
            continue
        if res.kind in ("ClusterSecretStore", "SecretStore"):
            defined.setdefault((res.kind, res.name), res)
        elif res.kind in ("ExternalSecret", "ClusterExternalSecret"):
            for ref, _path in store_refs(res):
                used[(str(ref.get("kind") or "SecretStore"), str(ref.get("name") or ""))] += 1
    if not defined and not used:
        return [
            Convention(
                "rules",
                {rid: False for rid in SOPS_RULES},
                "no ExternalSecret or secret store in the render: the repository keeps its secrets with "
                f"SOPS, so the rules that move them to an external store ({', '.join(SOPS_RULES)}) do not apply",
            )
        ]
    stores = sorted(defined, key=lambda k: (-used[k], k[0] != "ClusterSecretStore", k))
    if not stores:  # defined outside the render (a chart, the bootstrap): the one most used
        stores = [used.most_common(1)[0][0]]
    (kind, name), others = stores[0], stores[1:]
    where = (
        f"defined at {defined[stores[0]].where()}" if stores[0] in defined else "not defined in the render"
    )
    out = [
        Convention(
            "secret_store_kind", kind, f"{kind}/{name} ({where}) serves {used[stores[0]]} ExternalSecrets"
        ),
        Convention("secret_store", name, "the store most ExternalSecrets read from"),
    ]
    if others:
        listed = [f"{k}/{n}" for k, n in others]
        out.append(
            Convention("secret_stores", listed, f"other stores the repository defines: {', '.join(listed)}")
        )
    return out


# ------------------------------------------------------------------------------ gateways and routes
@dataclass
class _Gateway:
    res: Resource
    listeners: dict[str, dict[str, str]]  # name -> {protocol, from: allowedRoutes.namespaces.from}
    https: str | None
    address: str

    @classmethod
    def of(cls, res: Resource) -> _Gateway:
        listeners: dict[str, dict[str, str]] = {}
        https = None
        for item in dig(res.obj, "spec", "listeners") or []:
            if not isinstance(item, dict) or not item.get("name"):
                continue
            name = str(item["name"])
            allowed = str(
                dig(item, "allowedRoutes", "namespaces", "from") or "Same"
            )  # the Gateway API default
            listeners[name] = {"protocol": str(item.get("protocol") or ""), "from": allowed}
            if https is None and str(item.get("protocol") or "").upper() == "HTTPS":
                https = name
        addresses = [a.get("value") for a in dig(res.obj, "spec", "addresses") or [] if isinstance(a, dict)]
        annotations = dig(res.obj, "spec", "infrastructure", "annotations") or {}
        ips = [v for k, v in annotations.items() if "lb-ipam-ips" in str(k) or "lbipam" in str(k)]
        address = str(next((a for a in [*addresses, *ips] if a), "") or "")
        return cls(res, listeners, https, address)

    def convention(self, key: str, role: str, uses: int) -> Convention:
        value: dict[str, Any] = {"name": self.res.name, "namespace": self.res.namespace or "default"}
        if self.address:
            value["address"] = self.address
        value["section"] = self.https or "https"
        value["listeners"] = dict(self.listeners)
        admits = ", ".join(
            f"{n} {spec['protocol']} from {spec['from']}" for n, spec in self.listeners.items()
        )
        return Convention(
            key,
            value,
            f"the {role} Gateway {self.res.name} ({self.res.where()}, {uses} routes; listeners {admits})",
        )


def _parent_refs(objects: list[Resource]) -> Counter[str]:
    refs: Counter[str] = Counter()
    for res in objects:
        routes: list[tuple[dict[str, Any], str]] = []
        if res.kind in ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute") and _group(res) == GATEWAY_GROUP:
            spec = res.obj.get("spec")
            if isinstance(spec, dict):
                routes.append((spec, res.namespace or "default"))
        elif is_helmrelease(res.obj):
            namespace = str(dig(res.obj, "spec", "targetNamespace") or res.namespace or "default")
            routes.extend((route, namespace) for _path, route in value_routes(dig(res.obj, "spec", "values")))
        for route, namespace in routes:
            for ref in route.get("parentRefs") or []:
                if isinstance(ref, dict) and ref.get("name"):
                    refs[f"{ref.get('namespace') or namespace}/{ref['name']}"] += 1
    return refs


def _gateways(
    objects: list[Resource], annotation: str, files: FileCache, paths: list[str]
) -> list[Convention]:
    gateways = [_Gateway.of(r) for r in objects if r.kind == "Gateway" and _group(r) == GATEWAY_GROUP]
    refs = _parent_refs(objects)
    if not gateways and not refs:
        return [
            Convention(
                "rules",
                {rid: False for rid in GATEWAY_API_RULES},
                "no Gateway, HTTPRoute or chart route in the render: the Gateway API rules "
                f"({', '.join(GATEWAY_API_RULES)}) do not apply",
            )
        ]
    out: list[Convention] = []
    by_role: dict[str, _Gateway] = {}
    for gw in gateways:
        for role in ("internal", "external"):
            if role in gw.res.name and role not in by_role:
                by_role[role] = gw
    if not by_role and gateways:
        busiest = max(gateways, key=lambda g: refs[f"{g.res.namespace or 'default'}/{g.res.name}"])
        by_role["internal"] = busiest
    for role, gw in by_role.items():
        uses = refs[f"{gw.res.namespace or 'default'}/{gw.res.name}"]
        out.append(gw.convention(f"gateway_{role}", role, uses))
    if not _mentions(files, paths, annotation):
        out.append(
            Convention(
                "rules",
                {codes.EXTERNAL_GATEWAY.id: False},
                f"no route is marked with {annotation}: the repository does not opt routes into the "
                "external gateway that way",
            )
        )
    return out


def _mentions(files: FileCache, paths: list[str], text: str) -> bool:
    """Does any YAML file of the repository contain ``text``?"""
    for path in paths:
        if not path.endswith((".yaml", ".yml")):
            continue
        try:
            if text in files.read_text(files.root / path):
                return True
        except HomeopsError:  # an unreadable file says nothing about the annotation
            continue
    return False


def _hostnames(objects: list[Resource]) -> Iterator[str]:
    for res in objects:
        if res.kind == "HTTPRoute" and _group(res) == GATEWAY_GROUP:
            yield from (str(h) for h in dig(res.obj, "spec", "hostnames") or [])
        elif res.kind == "Ingress":
            yield from (
                str(r.get("host"))
                for r in dig(res.obj, "spec", "rules") or []
                if isinstance(r, dict) and r.get("host")
            )
        elif is_helmrelease(res.obj):
            for _path, route in value_routes(dig(res.obj, "spec", "values")):
                yield from (str(h) for h in route.get("hostnames") or [])


def parent_domain(host: str) -> str | None:
    """The domain a route's host name sits in: the name without its first label
    (``grafana.home.example.net`` -> ``home.example.net``), never a bare top-level domain."""
    labels = [p for p in host.strip().lower().rstrip(".").split(".") if p]
    if labels and labels[0] == "*":
        labels = labels[1:]
        return ".".join(labels) if len(labels) >= 2 else None
    return ".".join(labels[1:]) if len(labels) >= 3 else None


def _domain(objects: list[Resource]) -> list[Convention]:
    domains: Counter[str] = Counter()
    for host in _hostnames(objects):
        if _TEMPLATED.search(host):
            continue
        found = parent_domain(host)
        if found:
            domains[found] += 1
    if not domains:
        return []
    domain, count = domains.most_common(1)[0]
    total = sum(domains.values())
    return [Convention("domain", domain, f"{count} of the {total} route host names are in {domain}")]


# ------------------------------------------------------------------------------ app-template
def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def _chart_sources(objects: list[Resource]) -> list[Convention]:
    """Whether the repository gives each HelmRelease an OCIRepository of its own (the document's way):
    when most releases share theirs, HO001 does not apply."""
    users: Counter[tuple[str, str]] = Counter()
    for res in objects:
        ref = dig(res.obj, "spec", "chartRef") if is_helmrelease(res.obj) else None
        if isinstance(ref, dict) and ref.get("kind") == "OCIRepository":
            namespace = str(ref.get("namespace") or res.namespace or "default")
            users[(namespace, str(ref.get("name") or ""))] += 1
    total = sum(users.values())
    shared = sum(n for n in users.values() if n > 1)
    if not total or shared * 2 <= total:
        return []
    return [
        Convention(
            "rules",
            {codes.CHART_SOURCE.id: False},
            f"{shared} of {total} HelmReleases share their OCIRepository with others: the repository does not "
            "give each app its own",
        )
    ]


def _app_template(objects: list[Resource]) -> list[Convention]:
    versions: Counter[str] = Counter()
    urls: Counter[str] = Counter()
    for res in objects:
        if res.kind == "OCIRepository" and str(dig(res.obj, "spec", "url") or "").endswith(
            "/" + APP_TEMPLATE
        ):
            tag = dig(res.obj, "spec", "ref", "tag")
            urls[str(dig(res.obj, "spec", "url"))] += 1
            if tag and not _TEMPLATED.search(str(tag)):
                versions[str(tag)] += 1
        elif is_helmrelease(res.obj) and dig(res.obj, "spec", "chart", "spec", "chart") == APP_TEMPLATE:
            version = dig(res.obj, "spec", "chart", "spec", "version")
            if version and not _TEMPLATED.search(str(version)):
                versions[str(version)] += 1
    out = []
    if urls:
        url, n = urls.most_common(1)[0]
        out.append(
            Convention("app_template_chart", url, f"{n} OCIRepositories serve app-template from {url}")
        )
    if versions:
        version = max(versions, key=lambda v: (versions[v], _version_key(v)))
        out.append(
            Convention(
                "app_template_version",
                version,
                f"{versions[version]} of {sum(versions.values())} app-template uses pin {version}",
            )
        )
    return out


# ------------------------------------------------------------------------------ backups
def _backups(
    renders: list[ClusterRender], root: Path, files: FileCache, paths: list[str]
) -> list[Convention]:
    """Components that back apps up: an app takes its claim from one of them and backup objects
    (custom resources: Volsync ReplicationSources, Kopia snapshot policies, ...) from one of them."""
    cache: dict[str, bool] = {}
    apps: dict[str, set[str]] = {}  # component -> apps it backs up
    kinds: dict[str, set[str]] = {}  # component -> kinds of its backup objects
    substitutes: dict[str, list[set[str]]] = {}  # component -> each app's postBuild.substitute keys
    for render in renders:
        for rk in render.rendered.values():
            claims: set[str] = set()
            names = {res.name for res in rk.resources if res.kind == "PersistentVolumeClaim"}
            machinery: dict[str, set[str]] = {}
            for res in rk.resources:
                component = component_dir(root, files, res.file, cache) if res.file else None
                if component is None:
                    continue
                if res.kind == "PersistentVolumeClaim":
                    claims.add(component)
                elif _group(res) not in CORE_API_GROUPS and claims_named(res.obj.get("spec")) & names:
                    machinery.setdefault(component, set()).add(res.kind)  # it points at the app's claim
            if not claims or not machinery:
                continue
            keys = {str(k) for k in ((rk.ks.post_build or {}).get("substitute") or {})}
            for component in claims | set(machinery):
                apps.setdefault(component, set()).add(rk.ks.key)
                kinds.setdefault(component, set()).update(machinery.get(component, set()))
                substitutes.setdefault(component, []).append(keys)
    found = sorted(apps)
    if not found:
        return []
    out = [
        Convention(
            "backup_components",
            found,
            "components the apps take their claims and backup objects from: "
            + "; ".join(
                f"{c} ({', '.join(sorted(kinds[c])) or 'the claim'}; {len(apps[c])} apps)" for c in found
            ),
        )
    ]
    volsync = [c for c in found if "ReplicationSource" in kinds[c]]
    if volsync:
        component = volsync[0]
        parent, name = posixpath.dirname(component), posixpath.basename(component)
        out.append(
            Convention(
                "components_dir",
                parent,
                f"where the Volsync component {component} lives",
            )
        )
        out.append(
            Convention(
                "volsync_component",
                name,
                f"{component} renders Volsync ReplicationSources",
            )
        )
        needed = _needed_variables(files, [p for p in paths if p.startswith(component + "/")])
        if needed is not None:
            every = set.intersection(*substitutes[component])
            required = [n for n in needed if n in every]
            out.append(
                Convention(
                    "volsync_variables",
                    required,
                    f"variables {component} uses without a default that every app using it sets"
                    + (
                        f" (not required: {', '.join(n for n in needed if n not in every)})"
                        if len(required) < len(needed)
                        else ""
                    ),
                )
            )
    return out


def _needed_variables(files: FileCache, paths: list[str]) -> list[str] | None:
    """Variables the files use without a default (None: one of them cannot be read or parsed)."""
    names: list[str] = []
    for path in paths:
        if not path.endswith((".yaml", ".yml")):
            continue
        try:
            missing = envsubst.find_unresolved(files.read_text(files.root / path), {})
        except (HomeopsError, envsubst.SubstitutionError):  # the render reports what Flux cannot read
            return None
        names.extend(n for n in missing if n not in names)
    return names


# ------------------------------------------------------------------------------ namespaces, scripts
def _namespaces(renders: list[ClusterRender], base: Profile) -> list[Convention]:
    names: set[str] = set()
    for render in renders:
        for rk in render.rendered.values():
            if rk.ks.target_namespace:
                names.add(rk.ks.target_namespace)
            names.update(res.name for res in rk.resources if res.kind == "Namespace")
    extra = sorted(n for n in names if not base.is_namespace_name(n) and not _TEMPLATED.search(n))
    if not extra:
        return []
    return [
        Convention(
            "reserved_namespaces",
            [*base.reserved_namespaces, *(n for n in extra if n not in base.reserved_namespaces)],
            f"namespaces the repository chose ({len(extra)} not one lowercase word)",
        )
    ]


PSS_ENFORCE = "pod-security.kubernetes.io/enforce"


def _containers(objects: list[Resource]) -> Iterator[dict[str, Any]]:
    """The effective securityContext of every container: rendered workloads and app-template
    controllers (``defaultContainerOptions`` under each container's own, as the chart merges them)."""
    for res in objects:
        spec = pod_spec(res.obj)
        if spec is not None:
            for group in ("initContainers", "containers"):
                for container in spec.get(group) or []:
                    if isinstance(container, dict):
                        own = container.get("securityContext")
                        yield own if isinstance(own, dict) else {}
            continue
        for _name, ctrl in app_template_controllers(res):
            defaults = ctrl.get("defaultContainerOptions")
            base = defaults.get("securityContext") if isinstance(defaults, dict) else None
            for _group, _cname, container in controller_containers(ctrl):
                own = container.get("securityContext")
                yield {**(base if isinstance(base, dict) else {}), **(own if isinstance(own, dict) else {})}


def _security(objects: list[Resource]) -> list[Convention]:
    """Whether the repository hardens its containers as the document does (allowPrivilegeEscalation:
    false on most of them); when it does not, HO026 reports as warnings, not errors."""
    contexts = list(_containers(objects))
    if not contexts:
        return []
    hardened = sum(1 for sc in contexts if sc.get("allowPrivilegeEscalation") is False)
    if hardened * 2 >= len(contexts):
        return []
    return [
        Convention(
            "rules",
            {codes.SECURITY_CONTEXT.id: "warning"},
            f"{hardened} of {len(contexts)} containers set allowPrivilegeEscalation: false: the repository "
            "does not follow the document's security defaults, so HO026 reports warnings",
        )
    ]


def _privileged_namespaces(objects: list[Resource], base: Profile) -> list[Convention]:
    namespaces = [r for r in objects if r.kind == "Namespace"]
    if namespaces and not any(
        str(k).startswith("pod-security.kubernetes.io/") for r in namespaces for k in r.labels
    ):
        return [
            Convention(
                "privileged_namespaces",
                ["*"],
                "no Namespace carries a pod-security.kubernetes.io label: the repository does not use Pod "
                "Security admission to fence privileged pods",
            )
        ]
    labelled = sorted({r.name for r in namespaces if str(r.labels.get(PSS_ENFORCE) or "") == "privileged"})
    names = [*labelled, *(["kube-system"] if "kube-system" not in labelled else [])]
    why = (
        f"namespaces labelled {PSS_ENFORCE}: privileged ({', '.join(labelled)}) and kube-system"
        if labelled
        else "kube-system (exempt from Pod Security admission on Talos, the system namespace elsewhere)"
    )
    return [Convention("privileged_namespaces", names, why)]


def _scripts(files: FileCache, paths: list[str]) -> list[Convention]:
    scripts = shell_scripts(files, paths, ())
    if not scripts:
        return []
    dirs = sorted({posixpath.dirname(path) or "." for path, _why in scripts})
    kept = [d for d in dirs if not any(d != o and d.startswith(o + "/") for o in dirs if o != ".")]
    globs = ["*" if d == "." else f"{d}/**" for d in kept]
    return [
        Convention(
            "script_allowed_paths",
            globs,
            f"where the repository keeps its {len(scripts)} shell scripts (the document's default allows none)",
        )
    ]


def infer_profile(
    root: Path, renders: list[ClusterRender], files: FileCache, repo_files: list[str], base: Profile = DEFAULT
) -> InferredProfile:
    """What the rendered repository shows of each convention: its modern clusters' (a deprecated
    cluster's ways are what the repository moves away from), or every cluster when all are deprecated."""
    modern = [r for r in renders if r.cluster.name not in base.deprecated_clusters]
    renders = modern or renders
    objects = list(_objects(renders))
    result = InferredProfile()
    for part in (
        _secret_stores(objects),
        _backups(renders, root, files, repo_files),
        _gateways(objects, base.internet_facing_annotation, files, repo_files),
        _domain(objects),
        _app_template(objects),
        _chart_sources(objects),
        _namespaces(renders, base),
        _privileged_namespaces(objects, base),
        _security(objects),
        _scripts(files, repo_files),
    ):
        result.conventions.extend(part)
    keys = {c.key for c in result.conventions}
    if "domain" not in keys:
        result.notes.append("domain: no route names a literal host (templated ones are skipped)")
    if "secret_store" not in keys:
        result.notes.append("secret store: no ExternalSecret or store in the render")
    if "backup_components" not in keys:
        result.notes.append("backups: no component gives apps their claims along with backup objects")
    return result
