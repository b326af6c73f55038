"""Resources as kustomize tracks them: the object, where it came from, and its name history."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from homeops.core.yamlio import YMap

# Kinds the built-in OpenAPI schema of kustomize knows as cluster-scoped, by apiVersion and kind.
# Anything else (including every custom resource) is treated as namespaced, as kustomize does.
CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {(f"admissionregistration.k8s.io/{v}", k) for v in ("v1", "v1beta1")
     for k in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")}
    | {("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"),
       ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding")}
    | {(f"apiextensions.k8s.io/{v}", "CustomResourceDefinition") for v in ("v1", "v1beta1")}
    | {(f"apiregistration.k8s.io/{v}", "APIService") for v in ("v1", "v1beta1")}
    | {(f"certificates.k8s.io/{v}", "CertificateSigningRequest") for v in ("v1", "v1beta1")}
    | {("flowcontrol.apiserver.k8s.io/v1beta1", k) for k in ("FlowSchema", "PriorityLevelConfiguration")}
    | {(f"networking.k8s.io/{v}", "IngressClass") for v in ("v1", "v1beta1")}
    | {(f"node.k8s.io/{v}", "RuntimeClass") for v in ("v1", "v1beta1")}
    | {("policy/v1beta1", "PodSecurityPolicy")}
    | {(f"rbac.authorization.k8s.io/{v}", k) for v in ("v1", "v1beta1") for k in ("ClusterRole", "ClusterRoleBinding")}
    | {(f"scheduling.k8s.io/{v}", "PriorityClass") for v in ("v1", "v1beta1")}
    | {(f"storage.k8s.io/{v}", k) for v in ("v1", "v1beta1")
       for k in ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment")}
    | {("v1", k) for k in ("ComponentStatus", "Namespace", "Node", "NodeProxyOptions", "PersistentVolume")}
)  # fmt: skip


@lru_cache(maxsize=4096)
def gvk_of(api_version: str, kind: str) -> Gvk:
    group, version = split_api_version(api_version)
    return Gvk(group, version, kind)


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> (``apps``, ``v1``); ``v1`` -> (``""``, ``v1``)."""
    if "/" in api_version:
        group, _, version = api_version.rpartition("/")
        return group, version
    return "", api_version


@dataclass(frozen=True, slots=True)
class Gvk:
    group: str
    version: str
    kind: str

    def selected_by(self, group: str | None, version: str | None, kind: str | None) -> bool:
        """kustomize's ``IsSelected``: empty selector fields match anything."""
        return (
            (not group or group == self.group)
            and (not version or version == self.version)
            and (not kind or kind == self.kind)
        )

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def __str__(self) -> str:  # kustomize's Gvk.String()
        return ".".join((self.kind or "[noKind]", self.version or "[noVer]", self.group or "[noGrp]"))


@dataclass(frozen=True, slots=True)
class ResId:
    gvk: Gvk
    name: str
    namespace: str

    @property
    def cluster_scoped(self) -> bool:
        return (self.gvk.api_version, self.gvk.kind) in CLUSTER_SCOPED

    @property
    def effective_namespace(self) -> str:
        if self.cluster_scoped:
            return "_non_namespaceable_"
        return self.namespace or "default"

    def same(self, other: ResId) -> bool:
        """kustomize's ``ResId.Equals``: same GVK and name, namespaces equal after defaulting."""
        return (
            self.gvk == other.gvk
            and self.name == other.name
            and self.effective_namespace == other.effective_namespace
        )

    def __str__(self) -> str:
        ns = self.namespace or "[noNs]"
        return f"{self.gvk}/{self.name}.{ns}"

    def describe(self) -> str:
        ns = f" in namespace {self.namespace}" if self.namespace else ""
        return f"{self.gvk.kind} {self.name}{ns}"


@dataclass(slots=True)
class Resource:
    """One object being built, with the build-time state kustomize keeps in internal annotations."""

    obj: dict[str, Any]
    file: str | None = None
    line: int = 0
    prev_ids: list[ResId] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    needs_hash: bool = False
    behavior: str = "create"
    generated: bool = False
    configured_by: dict[str, str] | None = (
        None  # the generator that made it (buildMetadata originAnnotations)
    )

    @classmethod
    def from_obj(cls, obj: dict[str, Any], file: str | None = None) -> Resource:
        line = obj.line if isinstance(obj, YMap) else 0
        return cls(obj=obj, file=file if file is not None else getattr(obj, "file", None), line=line)

    # --- identity
    @property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion") or "")

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind") or "")

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.obj.get("metadata")
        if not isinstance(meta, dict):
            meta = YMap()
            self.obj["metadata"] = meta
        return meta

    @property
    def name(self) -> str:
        meta = self.obj.get("metadata") or {}
        return str(meta.get("name") or "") if isinstance(meta, dict) else ""

    @name.setter
    def name(self, value: str) -> None:
        self.metadata["name"] = value

    @property
    def namespace(self) -> str:
        meta = self.obj.get("metadata") or {}
        return str(meta.get("namespace") or "") if isinstance(meta, dict) else ""

    @property
    def gvk(self) -> Gvk:
        return gvk_of(self.api_version, self.kind)

    @property
    def cur_id(self) -> ResId:
        return ResId(self.gvk, self.name, self.namespace)

    @property
    def org_id(self) -> ResId:
        return self.prev_ids[0] if self.prev_ids else self.cur_id

    def all_ids(self) -> list[ResId]:
        return [self.cur_id, *self.prev_ids]

    def store_previous_id(self) -> None:
        """Remember the current id before a rename (kustomize's StorePreviousId)."""
        cur = self.cur_id
        # kustomize stores the effective namespace (``default`` for none) of namespaced objects
        namespace = cur.namespace if cur.cluster_scoped else (cur.namespace or "default")
        self.prev_ids.append(ResId(cur.gvk, cur.name, namespace))

    def prev_ids_as_gvk(self) -> list[ResId]:
        """Previous ids with the current group/version, as kustomize rebuilds them from annotations."""
        gvk = self.gvk
        return [ResId(Gvk(gvk.group, gvk.version, p.gvk.kind), p.name, p.namespace) for p in self.prev_ids]

    @property
    def labels(self) -> dict[str, Any]:
        meta = self.obj.get("metadata") or {}
        labels = meta.get("labels") if isinstance(meta, dict) else None
        return labels if isinstance(labels, dict) else {}

    @property
    def annotations(self) -> dict[str, Any]:
        meta = self.obj.get("metadata") or {}
        ann = meta.get("annotations") if isinstance(meta, dict) else None
        return ann if isinstance(ann, dict) else {}

    def where(self) -> str:
        if self.file:
            return f"{self.file}:{self.line}" if self.line else self.file
        return "(generated)"


def has_build_annotations(res: Resource) -> bool:
    """Whether kustomize carries build annotations on the object by now (so ``metadata.annotations``
    exists for JSON patches and field specs): it generated it, or stored a previous id (namespace,
    prefix or suffix transformers, ``patches:`` JSON patches, name or kind changes)."""
    return res.generated or bool(res.prev_ids)
