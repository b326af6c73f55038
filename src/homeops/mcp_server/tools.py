"""The read-only tools: what an assistant may ask the rendered repository.

Each tool is a name, a description, a JSON schema for its input and a handler that calls
:mod:`homeops.api` and returns the JSON the matching CLI command prints (``-o json`` /
``--format json``), paged when it is a long list.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from homeops.api import RenderedObject, Workspace, list_rules
from homeops.api.results import summary
from homeops.core.errors import HomeopsError
from homeops.core.profile import PROFILE_FILE
from homeops.core.variables import ClusterVars
from homeops.mcp_server.paging import CHUNK_PROPERTY, PAGE_PROPERTIES, page, text_chunk

Handler = Callable[["Session", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    schema: dict[str, Any]
    handler: Handler
    write: bool = False


class Session:
    """The repository the server serves. A workspace (and its renders) is kept while no file of the
    repository changes; any change (the assistant edits a file, a write tool applies) starts afresh."""

    def __init__(
        self, root: Path, vars: ClusterVars | Mapping[str, Any] | None = None, *, offline: bool = False
    ) -> None:
        self.root = root
        self.vars = ClusterVars.of(vars)
        self.offline = offline
        self._workspace: Workspace | None = None
        self._stamp: tuple[tuple[str, int, int], ...] | None = None

    def workspace(self) -> Workspace:
        stamp = _stamp(self.root)
        if self._workspace is None or stamp != self._stamp:
            self._workspace = Workspace(self.root, vars=self.vars, offline=self.offline)
            self._stamp = stamp
        return self._workspace


def _stamp(root: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime) of every file: cheap enough to take on every call (a few thousand stats)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".venv", "node_modules", "__pycache__")]
        for name in filenames:
            try:
                st = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue
            out.append((os.path.join(dirpath, name), st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


def shown(obj: RenderedObject) -> dict[str, Any]:
    """A rendered object as a tool shows it: an item of ``build ks --redact -o json`` (Secret values and
    PEM blocks redacted: what an assistant reads may end up anywhere)."""
    return obj.redacted().as_json()


# ------------------------------------------------------------------------------ schemas
def schema(properties: dict[str, Any] | None = None, required: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties or {}, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def string_property(description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "description": description}


CLUSTER = {"cluster": string_property("A cluster name (see list_clusters); every cluster when left out.")}
ONE_CLUSTER = {"cluster": string_property("The cluster (needed only when the name exists in several).")}


# ------------------------------------------------------------------------------ handlers
def list_clusters(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    return {"items": [c.as_json() for c in session.workspace().clusters()]}


def list_kustomizations(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for ks in session.workspace().kustomizations(args.get("cluster")):
        row = ks.as_json()
        if ks.reason:
            row["reason"] = ks.reason
        rows.append(row)
    return page(rows, args)


def list_helmreleases(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    """``get hr`` rows with a status: ``source found`` when the rendered cluster has a source of the kind
    and name the release names, else ``source missing`` and why. Whether the chart itself renders is
    what ``build_helmrelease`` tells."""
    ws = session.workspace()
    sources = {(s.cluster, s.kind, s.name) for s in ws.sources(args.get("cluster"))}
    rows = []
    for h in ws.helmreleases(args.get("cluster")):
        row = h.as_json()
        if (h.cluster, h.source_kind, h.source_name) in sources:
            row["status"] = "source found"
        else:
            row["status"] = "source missing"
            source = (
                f"{h.source_kind} {h.source_name}" if h.source_kind else "no chartRef or chart.spec.sourceRef"
            )
            row["reason"] = f"{source}: not in the rendered cluster {h.cluster}"
        rows.append(row)
    return page(rows, args)


def _cluster_of(ws: Workspace, found: list[str], what: str, cluster: str | None) -> str:
    """The one cluster holding ``what`` (``found``: the clusters that do)."""
    if cluster is not None:
        return cluster
    if not found:
        raise HomeopsError(
            f"no {what} in any cluster", hint="list them with list_kustomizations / list_helmreleases"
        )
    if len(set(found)) > 1:
        raise HomeopsError(f"{what} exists in clusters {', '.join(sorted(set(found)))}", hint="pass cluster")
    return found[0]


def build_kustomization(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    ws = session.workspace()
    name, namespace = args["name"], args.get("namespace")
    matches = [
        k for k in ws.kustomizations(args.get("cluster"))
        if k.name == name and (namespace is None or k.namespace == namespace)
    ]  # fmt: skip
    what = f"Flux Kustomization {namespace + '/' if namespace else ''}{name}"
    cluster = _cluster_of(ws, [k.cluster for k in matches], what, args.get("cluster"))
    if not matches:
        raise HomeopsError(f"no {what} in cluster {cluster}", hint="see list_kustomizations")
    if len(matches) > 1:
        spaces = ", ".join(sorted(k.namespace for k in matches))
        raise HomeopsError(f"{what} exists in several namespaces: {spaces}", hint="pass namespace")
    ks = matches[0]
    if ks.status == "error":
        raise HomeopsError(f"{what} does not render: {ks.reason}")
    objects = ws.render(cluster).select(name, ks.namespace)
    result = page([shown(o) for o in objects], args)
    return {"kustomization": {**ks.as_json(), "reason": ks.reason}, **result}


def build_helmrelease(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    ws = session.workspace()
    name, namespace = args["name"], args.get("namespace")
    found = [
        h.cluster for h in ws.helmreleases(args.get("cluster"))
        if h.name == name and (namespace is None or h.namespace == namespace)
    ]  # fmt: skip
    cluster = _cluster_of(ws, found, f"HelmRelease {name}", args.get("cluster"))
    release = ws.build_release(name, namespace, cluster=cluster).redacted()
    errors = [f for f in release.findings if f.severity == "error"]
    if errors and not release.objects:  # nothing rendered: the first error, as the CLI prints it
        raise HomeopsError(f"{errors[0].message} [{errors[0].rule}]", errors[0].file, errors[0].line)
    findings = [f.as_json() for f in release.findings]
    return {"release": release.as_json()["release"], "findings": findings, **page(release.objects, args)}


def show_object(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    kind, name, namespace = args["kind"].lower(), args["name"], args.get("namespace")
    items = [
        {"cluster": rendering.cluster.name, **shown(o)}
        for rendering in session.workspace().render_all(args.get("cluster"))
        for o in rendering.objects
        if o.kind.lower() == kind and o.name == name and (namespace is None or o.namespace == namespace)
    ]
    if not items:
        where = f" in namespace {namespace}" if namespace else ""
        raise HomeopsError(f"no {args['kind']} named {name!r}{where} in the rendered clusters")
    return {"items": items}


def check(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    result = session.workspace().check(select=args.get("rules"), cluster=args.get("cluster"))
    findings = result.findings
    path = str(args.get("path") or "").strip("/")
    if path:
        findings = [f for f in findings if f.file and (f.file == path or f.file.startswith(path + "/"))]
    out = page([f.as_json() for f in findings], args, key="findings")
    return {**out, "summary": summary(findings)}


def explain_rule(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    rule = list_rules().get(args["rule"].strip().upper())
    if rule is None:
        raise HomeopsError(
            f"unknown rule id {args['rule']!r}", hint="see the anti-patterns resource or check"
        )
    return rule.as_json()


def diff(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    result = (
        session.workspace().diff(args.get("base"), args.get("head"), cluster=args.get("cluster")).as_json()
    )
    name = args.get("name")
    if name is None:
        changes = [{k: v for k, v in c.items() if k != "diff"} for c in result["changes"]]
        rest = {k: v for k, v in result.items() if k != "changes"}
        return {**page(changes, args, key="changes"), **rest}
    kind, namespace = args.get("kind"), args.get("namespace")
    matches = [
        c for c in result["changes"]
        if c["name"] == name and (kind is None or str(c["kind"]).lower() == kind.lower())
        and (namespace is None or c["namespace"] == namespace)
    ]  # fmt: skip
    if not matches:
        raise HomeopsError(
            f"no change to an object named {name!r}", hint="call diff without name for the summary"
        )
    if len(matches) > 1:
        which = ", ".join(f"{c['kind']} {c['namespace']}/{c['name']} ({c['cluster']})" for c in matches)
        raise HomeopsError(f"several changed objects match: {which}", hint="pass kind and namespace")
    change = dict(matches[0])
    return {
        "change": {k: v for k, v in change.items() if k != "diff"},
        **text_chunk(str(change["diff"]), args),
    }


def list_images(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    rows = [i.as_json() for i in session.workspace().images(args.get("cluster"))]
    if args.get("unpinned"):
        rows = [r for r in rows if not r["pinned"]]
    return page(rows, args)


def show_profile(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    """The profile ``check`` uses: ``.homeops.yaml`` over homeops' defaults, or, without that file, the
    conventions read from the repository (each with where it was read, as ``homeops profile infer``)."""
    ws = session.workspace()
    profile = ws.profile  # read first: it sets profile_origin
    inferred = ws.profile_origin == "inferred"
    out: dict[str, Any] = {
        "source": PROFILE_FILE if ws.profile_origin == "file" else ws.profile_origin,
        "inferred": inferred,
        "profile": asdict(profile),
    }
    if inferred:
        found = ws.infer_profile()
        out["conventions"] = [{"key": c.key, "value": c.value, "why": c.why} for c in found.conventions]
        out["not_inferred"] = list(found.notes)
    return out


def docs_status(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    result = session.workspace().docs(args.get("file") or "CLAUDE.md").as_json()
    return {**{k: v for k, v in result.items() if k != "diff"}, **text_chunk(result["diff"], args)}


READ_TOOLS: list[ToolSpec] = [
    ToolSpec("list_clusters", "The clusters of the repository and the directory of each one's root Flux objects "
             "(homeops get clusters).", schema(), list_clusters),
    ToolSpec("list_kustomizations", "Every Flux Kustomization with its path, dependencies, source file:line and "
             "status: rendered, error (with the reason) or external (homeops get ks -A).",
             schema({**CLUSTER, **PAGE_PROPERTIES}), list_kustomizations),
    ToolSpec("list_helmreleases", "Every HelmRelease with its chart, version and source (homeops get hr -A), and "
             "whether its chart source is in the rendered cluster (status, reason).",
             schema({**CLUSTER, **PAGE_PROPERTIES}), list_helmreleases),
    ToolSpec("build_kustomization", "The objects one Flux Kustomization applies, as Flux would render them, each "
             "with its file:line (homeops build ks NAME -o json), paged.",
             schema({"name": string_property("The Flux Kustomization's name."),
                     "namespace": string_property("Its namespace, when the name is not unique."),
                     **ONE_CLUSTER, **PAGE_PROPERTIES}, ("name",)), build_kustomization),
    ToolSpec("build_helmrelease", "One HelmRelease's chart rendered with its values (homeops build hr NAME -o json), "
             "paged; downloads the chart unless the server runs --offline.",
             schema({"name": string_property("The HelmRelease's name."),
                     "namespace": string_property("Its namespace, when the name is not unique."),
                     **ONE_CLUSTER, **PAGE_PROPERTIES}, ("name",)), build_helmrelease),
    ToolSpec("show_object", "One rendered object (any kind) with the Flux Kustomization that applies it and the "
             "file:line it comes from.",
             schema({"kind": string_property("Its kind, e.g. HelmRelease, HTTPRoute, ConfigMap."),
                     "name": string_property("Its metadata.name."), "namespace": string_property("Its namespace."), **CLUSTER},
                    ("kind", "name")), show_object),
    ToolSpec("check", "Findings of the rules on the rendered repository (homeops check --format json): all rules "
             "or the selected ones, optionally only those in one file or directory; paged.",
             schema({"rules": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z]+[0-9]*$"},
                               "description": "Rule ids or prefixes, e.g. [\"HO009\", \"HO02\"]."},
                     "path": string_property("A file or directory of the repository: only findings there."),
                     **CLUSTER, **PAGE_PROPERTIES}), check),
    ToolSpec("explain_rule", "A rule's title, severity, rationale, bad and good example and whether it has an "
             "autofix (homeops rules ID -o json).",
             schema({"rule": string_property("A rule id, e.g. HO009.")}, ("rule",)), explain_rule),
    ToolSpec("diff", "The rendered difference between two Git revisions (default: HEAD against the working tree). "
             "Without name: the summary of changed objects (paged), images and dangers; with name: that "
             "object's unified diff.",
             schema({"base": string_property("Base revision (default HEAD)."),
                     "head": string_property("Head revision (default: the working tree)."), **CLUSTER,
                     "kind": string_property("Kind of the object whose diff to show."),
                     "name": string_property("Name of the object whose diff to show."),
                     "namespace": string_property("Namespace of that object."), **PAGE_PROPERTIES, **CHUNK_PROPERTY}),
             diff),
    ToolSpec("list_images", "Every container image the clusters run, with file:line and whether it is pinned to a "
             "digest (homeops images list -o json); paged.",
             schema({**CLUSTER, "unpinned": {"type": "boolean", "default": False,
                                             "description": "Only images without a digest."},
                     **PAGE_PROPERTIES}), list_images),
    ToolSpec("show_profile", "The conventions in force: gateways, domain, secret store, backups, layout, "
             "deprecated clusters. .homeops.yaml over homeops' defaults, or without it the conventions read "
             "from the repository, each with where it was read (homeops profile infer).",
             schema(), show_profile),
    ToolSpec("docs_status", "Whether the context document's generated sections match the repository "
             "(homeops docs --check -o json): the stale sections and the diff that would update them.",
             schema({"file": string_property("The document (default CLAUDE.md)."), **CHUNK_PROPERTY}), docs_status),
]  # fmt: skip


@dataclass
class Registry:
    """The tools a server offers, by name."""

    tools: dict[str, ToolSpec] = field(default_factory=dict)

    def add(self, spec: ToolSpec) -> None:
        self.tools[spec.name] = spec
