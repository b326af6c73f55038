"""Field specs: where kustomize's builtin transformers look inside each kind of object.

The tables below state, as data, the field paths kustomize's builtin configuration names
(labels, annotations, namespace, images, replicas, name references). A path is ``/``-separated;
a sequence met on the way is entered element by element; ``\\/`` escapes a slash inside a key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeops.core.errors import KustomizeError
from homeops.core.yamlio import YMap
from homeops.kustomize.resource import Gvk, Resource, split_api_version


@dataclass(frozen=True, slots=True)
class FieldSpec:
    path: str
    group: str = ""
    version: str = ""
    kind: str = ""
    create: bool = False

    @property
    def parts(self) -> list[str]:
        return split_path(self.path)

    def matches(self, obj: dict[str, Any]) -> bool:
        if self.kind and self.kind != obj.get("kind"):
            return False
        if self.group or self.version:
            group, version = split_api_version(str(obj.get("apiVersion") or ""))
            if self.group and self.group != group:
                return False
            if self.version and self.version != version:
                return False
        return True

    def selects(self, gvk: Gvk) -> bool:
        return gvk.selected_by(self.group, self.version, self.kind)

    @classmethod
    def parse(cls, data: Any) -> FieldSpec:
        if not isinstance(data, dict):
            raise KustomizeError(f"a fieldSpec must be a mapping, got {data!r}")
        return cls(
            path=str(data.get("path") or ""),
            group=str(data.get("group") or ""),
            version=str(data.get("version") or ""),
            kind=str(data.get("kind") or ""),
            create=bool(data.get("create", False)),
        )


def split_path(path: str) -> list[str]:
    """Split on ``/`` but not on ``\\/``."""
    parts: list[str] = []
    current = ""
    i = 0
    while i < len(path):
        ch = path[i]
        if ch == "\\" and i + 1 < len(path) and path[i + 1] == "/":
            current += "/"
            i += 2
            continue
        if ch == "/":
            parts.append(current)
            current = ""
        else:
            current += ch
        i += 1
    parts.append(current)
    return parts


Setter = Callable[[Any, Any], None]
"""Called with (container, key): the value is ``container[key]``; the setter may replace it."""


def visit(obj: Any, parts: list[str], setter: Setter, *, create: Any = None, where: str = "") -> None:
    """Walk ``parts`` inside ``obj`` and call ``setter`` on each field found.

    ``create`` is a factory for a missing leaf (None: missing fields are skipped). Intermediate
    mappings are created when ``create`` is given, as kustomize's ``LookupCreate`` does.
    """
    _visit(obj, parts, 0, setter, create, where)


def _visit(node: Any, parts: list[str], index: int, setter: Setter, create: Any, where: str) -> None:
    if node is None:
        return
    if isinstance(node, list):
        for element in node:
            _visit(element, parts, index, setter, create, where)
        return
    if not isinstance(node, dict):
        raise KustomizeError(f"expected sequence or mapping node at {'/'.join(parts[:index])} in {where}")
    name = parts[index]
    is_seq = name.endswith("[]")
    if is_seq:
        name = name[:-2]
    last = index == len(parts) - 1
    if name not in node or node[name] is None:
        if create is None or is_seq:
            return
        node[name] = create() if last else YMap()
    if last:
        setter(node, name)
        return
    _visit(node[name], parts, index + 1, setter, create, where)


def apply_specs(
    res: Resource, specs: Iterable[FieldSpec], setter: Setter, *, create: Callable[[], Any] | None = None
) -> None:
    """Apply ``setter`` at every field spec that matches the resource."""
    obj = res.obj
    for spec in specs:
        if not spec.matches(obj):
            continue
        visit(obj, spec.parts, setter, create=create if spec.create else None, where=res.cur_id.describe())


def merge_specs(first: Iterable[FieldSpec], second: Iterable[FieldSpec]) -> list[FieldSpec]:
    """Union keeping order; a spec equal to one already present is dropped (kustomize's MergeAll)."""
    out: list[FieldSpec] = []
    seen: set[tuple[str, str, str, str]] = set()
    for spec in (*first, *second):
        key = (spec.path, spec.group, spec.version, spec.kind)
        if key in seen:
            continue
        seen.add(key)
        out.append(spec)
    return out


# ---------------------------------------------------------------------------------------------
# Builtin tables

_WORKLOAD_TEMPLATE_KINDS = (("", "v1", "ReplicationController"), ("", "", "Deployment"), ("", "", "ReplicaSet"),
                            ("", "", "DaemonSet"), ("apps", "", "StatefulSet"), ("batch", "", "Job"))  # fmt: skip


def _metadata_specs(field: str) -> list[FieldSpec]:
    specs = [FieldSpec(f"metadata/{field}", create=True)]
    for group, version, kind in _WORKLOAD_TEMPLATE_KINDS:
        specs.append(FieldSpec(f"spec/template/metadata/{field}", group, version, kind, True))
    specs.append(FieldSpec(f"spec/jobTemplate/metadata/{field}", "batch", "", "CronJob", True))
    specs.append(FieldSpec(f"spec/jobTemplate/spec/template/metadata/{field}", "batch", "", "CronJob", True))
    return specs


METADATA_LABELS = _metadata_specs("labels")
VOLUME_CLAIM_TEMPLATE_LABELS = [
    FieldSpec("spec/volumeClaimTemplates[]/metadata/labels", "apps", "", "StatefulSet", True)
]
# kustomize v5.5's templateLabels (metadataLabelsFieldSpecs): the workload templates and, with them,
# a StatefulSet's volumeClaimTemplates (``labels: [{includeTemplates: true}]`` labels both)
TEMPLATE_LABELS = METADATA_LABELS + VOLUME_CLAIM_TEMPLATE_LABELS

_AFFINITY_SELECTORS = [
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
]


def _common_label_specs() -> list[FieldSpec]:
    specs = [
        FieldSpec("spec/selector", "", "v1", "Service", True),
        FieldSpec("spec/selector", "", "v1", "ReplicationController", True),
        FieldSpec("spec/selector/matchLabels", "", "", "Deployment", True),
        *[FieldSpec(p, "apps", "", "Deployment") for p in _AFFINITY_SELECTORS],
        FieldSpec("spec/selector/matchLabels", "", "", "ReplicaSet", True),
        FieldSpec("spec/selector/matchLabels", "", "", "DaemonSet", True),
        FieldSpec("spec/selector/matchLabels", "apps", "", "StatefulSet", True),
        *[FieldSpec(p, "apps", "", "StatefulSet") for p in _AFFINITY_SELECTORS],
        FieldSpec("spec/selector/matchLabels", "batch", "", "Job"),
        FieldSpec("spec/jobTemplate/spec/selector/matchLabels", "batch", "", "CronJob"),
        FieldSpec("spec/selector/matchLabels", "policy", "", "PodDisruptionBudget"),
        FieldSpec("spec/podSelector/matchLabels", "networking.k8s.io", "", "NetworkPolicy"),
        FieldSpec("spec/ingress/from/podSelector/matchLabels", "networking.k8s.io", "", "NetworkPolicy"),
        FieldSpec("spec/egress/to/podSelector/matchLabels", "networking.k8s.io", "", "NetworkPolicy"),
    ]
    return specs + METADATA_LABELS + VOLUME_CLAIM_TEMPLATE_LABELS


COMMON_LABELS = _common_label_specs()
COMMON_ANNOTATIONS = [
    FieldSpec("metadata/annotations", create=True),
    *[FieldSpec("spec/template/metadata/annotations", g if k != "StatefulSet" else "", v, k, True)
      for g, v, k in _WORKLOAD_TEMPLATE_KINDS],
    FieldSpec("spec/jobTemplate/metadata/annotations", "batch", "", "CronJob", True),
    FieldSpec("spec/jobTemplate/spec/template/metadata/annotations", "batch", "", "CronJob", True),
]  # fmt: skip

NAMESPACE = [
    FieldSpec("metadata/name", "", "", "Namespace", True),
    FieldSpec("spec/service/namespace", "apiregistration.k8s.io", "", "APIService", True),
    FieldSpec("spec/conversion/webhook/clientConfig/service/namespace", "apiextensions.k8s.io", "", "CustomResourceDefinition"),
]  # fmt: skip

NAME_PREFIX = [FieldSpec("metadata/name")]
NAME_SUFFIX = [FieldSpec("metadata/name")]

IMAGES = [
    FieldSpec(p, create=True)
    for p in (
        "spec/containers[]/image",
        "spec/initContainers[]/image",
        "spec/volumes[]/image/reference",
        "spec/template/spec/containers[]/image",
        "spec/template/spec/initContainers[]/image",
        "spec/template/spec/volumes[]/image/reference",
    )
]

REPLICAS = [
    FieldSpec("spec/replicas", kind=k, create=True)
    for k in ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")
]


@dataclass(frozen=True, slots=True)
class NameReference:
    """Fields (``referrers``) that hold the name of an object of kind ``target``."""

    target: Gvk
    referrers: tuple[FieldSpec, ...]


_POD_SPEC_PREFIXES: dict[str, tuple[str, str]] = {
    # kind -> (prefix of the pod spec, version constraint)
    "Pod": ("spec", "v1"),
    "PodTemplate": ("template/spec", ""),
    "Deployment": ("spec/template/spec", ""),
    "ReplicaSet": ("spec/template/spec", ""),
    "DaemonSet": ("spec/template/spec", ""),
    "StatefulSet": ("spec/template/spec", ""),
    "Job": ("spec/template/spec", ""),
    "CronJob": ("spec/jobTemplate/spec/template/spec", ""),
}
_CONFIGMAP_POD_FIELDS = ("volumes/configMap/name", "containers/env/valueFrom/configMapKeyRef/name",
                         "initContainers/env/valueFrom/configMapKeyRef/name", "containers/envFrom/configMapRef/name",
                         "initContainers/envFrom/configMapRef/name", "volumes/projected/sources/configMap/name")  # fmt: skip
_SECRET_POD_FIELDS = ("volumes/secret/secretName", "containers/env/valueFrom/secretKeyRef/name",
                      "initContainers/env/valueFrom/secretKeyRef/name", "containers/envFrom/secretRef/name",
                      "initContainers/envFrom/secretRef/name", "imagePullSecrets/name",
                      "volumes/projected/sources/secret/name")  # fmt: skip
_SIMPLE_POD_KINDS = (
    "Pod",
    "StatefulSet",
    "Deployment",
    "ReplicationController",
    "CronJob",
    "Job",
    "DaemonSet",
)


def _pod_refs(fields: Iterable[str], kinds: Iterable[str]) -> list[FieldSpec]:
    out: list[FieldSpec] = []
    for kind in kinds:
        prefix, version = _POD_SPEC_PREFIXES.get(kind, ("spec/template/spec", ""))
        for f in fields:
            out.append(FieldSpec(f"{prefix}/{f}", version=version, kind=kind))
    return out


def _default_name_references() -> list[NameReference]:
    pod_kinds = (
        "Pod",
        "PodTemplate",
        "Deployment",
        "ReplicaSet",
        "DaemonSet",
        "StatefulSet",
        "Job",
        "CronJob",
    )
    hpa = (FieldSpec("spec/scaleTargetRef/name", kind="HorizontalPodAutoscaler"),)
    refs = [
        NameReference(Gvk("", "", k), hpa)
        for k in ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")
    ]
    refs.append(
        NameReference(
            Gvk("", "v1", "ConfigMap"),
            (
                *_pod_refs(_CONFIGMAP_POD_FIELDS, pod_kinds),
                FieldSpec("spec/configSource/configMap", kind="Node"),
                FieldSpec("rules/resourceNames", kind="Role"),
                FieldSpec("rules/resourceNames", kind="ClusterRole"),
                FieldSpec(
                    "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap",
                    kind="Ingress",
                ),
            ),
        )
    )
    refs.append(
        NameReference(
            Gvk("", "v1", "Secret"),
            (
                *_pod_refs(_SECRET_POD_FIELDS, pod_kinds),
                FieldSpec("spec/tls/secretName", kind="Ingress"),
                FieldSpec("metadata/annotations/ingress.kubernetes.io\\/auth-secret", kind="Ingress"),
                FieldSpec("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret", kind="Ingress"),
                FieldSpec(
                    "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret", kind="Ingress"
                ),
                FieldSpec("imagePullSecrets/name", kind="ServiceAccount"),
                FieldSpec("parameters/secretName", kind="StorageClass"),
                FieldSpec("parameters/adminSecretName", kind="StorageClass"),
                FieldSpec("parameters/userSecretName", kind="StorageClass"),
                FieldSpec("parameters/secretRef", kind="StorageClass"),
                FieldSpec("rules/resourceNames", kind="Role"),
                FieldSpec("rules/resourceNames", kind="ClusterRole"),
                FieldSpec(
                    "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
                    "serving.knative.dev",
                    "v1",
                    "Service",
                ),
                FieldSpec("spec/azureFile/secretName", kind="PersistentVolume"),
            ),
        )
    )
    refs.append(
        NameReference(
            Gvk("", "v1", "Service"),
            (
                FieldSpec("spec/serviceName", "apps", "", "StatefulSet"),
                FieldSpec("spec/rules/http/paths/backend/serviceName", kind="Ingress"),
                FieldSpec("spec/backend/serviceName", kind="Ingress"),
                FieldSpec("spec/rules/http/paths/backend/service/name", kind="Ingress"),
                FieldSpec("spec/defaultBackend/service/name", kind="Ingress"),
                FieldSpec("spec/service/name", "apiregistration.k8s.io", "", "APIService"),
                FieldSpec(
                    "webhooks/clientConfig/service",
                    "admissionregistration.k8s.io",
                    "",
                    "ValidatingWebhookConfiguration",
                ),
                FieldSpec(
                    "webhooks/clientConfig/service",
                    "admissionregistration.k8s.io",
                    "",
                    "MutatingWebhookConfiguration",
                ),
            ),
        )
    )
    rbac = "rbac.authorization.k8s.io"
    refs.append(NameReference(Gvk(rbac, "", "Role"), (FieldSpec("roleRef/name", rbac, "", "RoleBinding"),)))
    refs.append(
        NameReference(
            Gvk(rbac, "", "ClusterRole"),
            (
                FieldSpec("roleRef/name", rbac, "", "RoleBinding"),
                FieldSpec("roleRef/name", rbac, "", "ClusterRoleBinding"),
            ),
        )
    )
    refs.append(
        NameReference(
            Gvk("", "v1", "ServiceAccount"),
            (
                FieldSpec("subjects", rbac, "", "RoleBinding"),
                FieldSpec("subjects", rbac, "", "ClusterRoleBinding"),
                FieldSpec("spec/serviceAccountName", kind="Pod"),
                *[
                    FieldSpec(
                        f"{_POD_SPEC_PREFIXES.get(k, ('spec/template/spec', ''))[0]}/serviceAccountName",
                        kind=k,
                    )
                    for k in _SIMPLE_POD_KINDS[1:]
                ],
            ),
        )
    )
    refs.append(
        NameReference(
            Gvk("", "v1", "PersistentVolumeClaim"),
            (
                FieldSpec("spec/volumes/persistentVolumeClaim/claimName", kind="Pod"),
                *[
                    FieldSpec(
                        f"{_POD_SPEC_PREFIXES.get(k, ('spec/template/spec', ''))[0]}/volumes/persistentVolumeClaim/claimName",
                        kind=k,
                    )
                    for k in _SIMPLE_POD_KINDS[1:]
                ],
            ),
        )
    )
    refs.append(
        NameReference(
            Gvk("", "v1", "PersistentVolume"),
            (
                FieldSpec("spec/volumeName", kind="PersistentVolumeClaim"),
                FieldSpec("rules/resourceNames", kind="ClusterRole"),
            ),
        )
    )
    refs.append(
        NameReference(
            Gvk("storage.k8s.io", "v1", "StorageClass"),
            (
                FieldSpec("spec/storageClassName", kind="PersistentVolume"),
                FieldSpec("spec/storageClassName", kind="PersistentVolumeClaim"),
                FieldSpec("spec/volumeClaimTemplates/spec/storageClassName", kind="StatefulSet"),
            ),
        )
    )
    refs.append(
        NameReference(
            Gvk("scheduling.k8s.io", "v1", "PriorityClass"),
            (
                FieldSpec("spec/priorityClassName", kind="Pod"),
                *[
                    FieldSpec(
                        f"{_POD_SPEC_PREFIXES.get(k, ('spec/template/spec', ''))[0]}/priorityClassName",
                        kind=k,
                    )
                    for k in _SIMPLE_POD_KINDS[1:]
                ],
            ),
        )
    )
    refs.append(
        NameReference(
            Gvk("networking.k8s.io/v1", "v1", "IngressClass"),
            (FieldSpec("spec/ingressClassName", kind="Ingress"),),
        )
    )
    refs.append(
        NameReference(
            Gvk("admissionregistration.k8s.io", "", "ValidatingAdmissionPolicy"),
            (
                FieldSpec(
                    "spec/policyName", "admissionregistration.k8s.io", "", "ValidatingAdmissionPolicyBinding"
                ),
            ),
        )
    )
    return refs  # fmt: skip


NAME_REFERENCES = _default_name_references()


@dataclass
class TransformerConfig:
    """The field specs in force for one kustomization (builtin plus ``configurations:`` files)."""

    name_prefix: list[FieldSpec]
    name_suffix: list[FieldSpec]
    namespace: list[FieldSpec]
    common_labels: list[FieldSpec]
    labels: list[FieldSpec]
    template_labels: list[FieldSpec]
    common_annotations: list[FieldSpec]
    images: list[FieldSpec]
    replicas: list[FieldSpec]
    name_references: list[NameReference]

    @classmethod
    def default(cls) -> TransformerConfig:
        return cls(
            name_prefix=list(NAME_PREFIX),
            name_suffix=list(NAME_SUFFIX),
            namespace=list(NAMESPACE),
            common_labels=list(COMMON_LABELS),
            labels=list(METADATA_LABELS[:1]),
            template_labels=list(TEMPLATE_LABELS),
            common_annotations=list(COMMON_ANNOTATIONS),
            images=list(IMAGES),
            replicas=list(REPLICAS),
            name_references=list(NAME_REFERENCES),
        )

    def merged_with(self, data: dict[str, Any]) -> TransformerConfig:
        """Add the field specs of a ``configurations:`` file."""
        keys = {
            "namePrefix": "name_prefix", "nameSuffix": "name_suffix", "namespace": "namespace",
            "commonLabels": "common_labels", "labels": "labels", "templateLabels": "template_labels",
            "commonAnnotations": "common_annotations", "images": "images", "replicas": "replicas",
        }  # fmt: skip
        if not isinstance(data, dict):
            raise KustomizeError("a transformer configuration must be a mapping of field spec lists")
        new = TransformerConfig(**{k: list(v) for k, v in self.__dict__.items()})
        for key, value in data.items():
            if value is not None and not isinstance(value, list):
                raise KustomizeError(f"{key} in a transformer configuration must be a list of field specs")
            if key in keys:
                attr = keys[key]
                setattr(new, attr, merge_specs(getattr(new, attr), [FieldSpec.parse(v) for v in value or []]))
            elif key == "nameReference":
                for entry in value or []:
                    if not isinstance(entry, dict):
                        raise KustomizeError("a nameReference entry must be a mapping")
                    group, version = split_api_version(str(entry.get("version") or ""))
                    target = Gvk(str(entry.get("group") or group), version, str(entry.get("kind") or ""))
                    field_specs = entry.get("fieldSpecs")
                    if field_specs is not None and not isinstance(field_specs, list):
                        raise KustomizeError(
                            "fieldSpecs of a nameReference entry must be a list of field specs"
                        )
                    specs = tuple(FieldSpec.parse(s) for s in field_specs or [])
                    new.name_references = _merge_name_reference(new.name_references, target, specs)
            elif key in ("varReference", "nameSuffix"):
                continue
            else:
                raise KustomizeError(f"unknown transformer configuration field {key!r}")
        return new


def _merge_name_reference(
    refs: list[NameReference], target: Gvk, specs: tuple[FieldSpec, ...]
) -> list[NameReference]:
    out = []
    merged = False
    for ref in refs:
        if ref.target == target:
            out.append(NameReference(target, tuple(merge_specs(ref.referrers, specs))))
            merged = True
        else:
            out.append(ref)
    if not merged:
        out.append(NameReference(target, specs))
    return out
