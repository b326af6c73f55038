"""The registry of finding codes: every code homeops reports, with its title and default severity.

Codes are emitted below the rules layer (the Flux render, HelmRelease expansion, ``diff``) as well as
by the rules, so the one registry lives in core. Every module names a code through the constants
here, never as text; :mod:`homeops.rules` adds each code's rationale, examples and check. HO0xx are
the patterns of the context document, HO1xx what rendering itself finds.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeops.core.findings import SEVERITIES, Finding


@dataclass(frozen=True)
class Code:
    """A finding code: its stable id, a one-line title and the severity it has unless configured."""

    id: str
    title: str
    severity: str

    def __str__(self) -> str:
        return self.id

    def finding(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        kind: str | None = None,
        name: str | None = None,
        namespace: str | None = None,
        cluster: str | None = None,
    ) -> Finding:
        """A finding of this code at its default severity (a profile may change it later)."""
        return Finding(
            rule=self.id,
            severity=self.severity,
            message=message,
            file=file,
            line=line,
            kind=kind,
            name=name,
            namespace=namespace,
            cluster=cluster,
        )


CODES: dict[str, Code] = {}
"""Every code by id, in the order registered (ids ascending)."""

RENDER_PREFIX = "HO1"
"""The family of codes rendering itself reports (accepted by ``--select``/``--ignore`` as prefixes)."""


def _register(id: str, title: str, severity: str) -> Code:
    if id in CODES:
        raise ValueError(f"code {id} registered twice")
    if severity not in SEVERITIES:
        raise ValueError(f"code {id}: unknown severity {severity!r}")
    code = CODES[id] = Code(id, title, severity)
    return code


# -- the patterns of the context document (homeops.rules)
CHART_SOURCE = _register("HO001", "Chart not from the app's own OCIRepository", "warning")
SOPS_OUTSIDE_BOOTSTRAP = _register(
    "HO002", "SOPS-encrypted file outside the bootstrap/Talos paths", "warning"
)
SUBSTITUTE_FROM_PLAIN_SECRET = _register(
    "HO003", "postBuild substitution from a Secret that no ExternalSecret produces", "warning"
)
COMPONENT_COPIED = _register(
    "HO004", "Component copied into an app, or a components: entry pointing nowhere", "warning"
)
SHELL_SCRIPT = _register("HO005", "Shell script outside the allowed paths", "warning")
INGRESS = _register("HO006", "Ingress instead of a Gateway API route", "warning")
SECRET_IN_GIT = _register("HO007", "Secret data stored in Git", "warning")
LEGACY_TREE = _register("HO008", "Legacy cluster-cd/ tree", "warning")
IMAGE_NOT_PINNED = _register("HO009", "Image without a sha256 digest", "warning")
NO_MEMORY_LIMIT = _register("HO010", "Container without a memory limit", "warning")
RAW_WORKLOAD = _register("HO011", "Raw workload manifest where a HelmRelease would do", "info")
VELERO = _register("HO012", "Velero objects or a Velero HelmRelease", "warning")
EXTERNAL_GATEWAY = _register("HO013", "Route on the external gateway without an explicit opt-in", "warning")
APP_LAYOUT = _register("HO020", "App directory off the standard layout", "warning")
APP_NOT_REGISTERED = _register("HO021", "App not registered in its namespace kustomization", "error")
NAMING = _register("HO022", "Name off the naming conventions", "warning")
SECRET_STORE = _register("HO023", "ExternalSecret not using the profile's secret store", "error")
VOLSYNC = _register("HO024", "Stateful app without Volsync, or backups off the profile", "error")
RELOADER = _register("HO025", "Workload reads a ConfigMap/Secret without the Reloader annotation", "warning")
SECURITY_CONTEXT = _register("HO026", "Container security context", "error")
OCIREPOSITORY = _register("HO027", "OCIRepository without the Helm layerSelector or a pinned ref", "error")
ROUTE = _register("HO028", "Route without sectionName https, or outside the domain", "warning")
DEPRECATED_CLUSTER = _register("HO030", "App deployed to a deprecated cluster", "info")

# -- what rendering finds (homeops.flux, homeops.diff; documented by homeops.rules.render_findings)
SCHEMA_INVALID = _register("HO100", "Object invalid against its Kubernetes or CRD schema", "error")
KS_BUILD_FAILED = _register("HO101", "A Flux Kustomization fails to build", "error")
KS_PATH_MISSING = _register("HO102", "A Flux Kustomization's path does not exist", "error")
VARIABLE_UNSET = _register("HO103", "A postBuild variable has no value", "error")
DEPENDENCY_MISSING = _register("HO104", "A dependsOn target is not in the cluster", "error")
DEPENDENCY_CYCLE = _register("HO105", "Flux Kustomizations depend on each other in a cycle", "error")
KS_SOURCE_UNKNOWN = _register("HO106", "A Flux Kustomization's source is unknown", "error")
KS_PATH_OUTSIDE = _register("HO107", "A Flux Kustomization's path leaves the repository", "error")
SUBSTITUTE_FROM_MISSING = _register("HO108", "A substituteFrom ConfigMap or Secret is missing", "error")
KS_DUPLICATE = _register("HO109", "A Flux Kustomization is defined twice", "error")
VARIABLE_NAME_INVALID = _register("HO110", "A postBuild variable name is invalid", "error")
APPLIED_TWICE = _register("HO111", "An object is applied by two Flux Kustomizations", "warning")
REVISION_UNRENDERABLE = _register("HO112", "A revision or a cluster of it cannot be rendered", "error")
OUTSIDE_ROOT = _register("HO113", "A file reference resolves outside the repository", "error")
INPUT_REFUSED = _register("HO114", "Input refused: over a limit, or not a regular file", "error")
RESOURCESET_FAILED = _register("HO115", "A flux-operator ResourceSet cannot build its objects", "error")
ROOT_SOURCE_FOREIGN = _register(
    "HO116", "The cluster's root source is another repository: nothing renders", "warning"
)
CHART_SOURCE_UNAVAILABLE = _register("HO120", "A HelmRelease's chart source cannot be fetched", "error")
CHART_RENDER_FAILED = _register("HO121", "A HelmRelease's chart fails to render", "error")
VALUES_IN_CLUSTER = _register("HO122", "A HelmRelease reads values only the cluster has", "info")

REFUSED = frozenset({OUTSIDE_ROOT.id, INPUT_REFUSED.id})
"""Codes of input homeops refuses to read: ``build``/``get`` exit 2 when one is among their errors."""
