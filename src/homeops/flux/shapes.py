"""The shapes of the Flux objects the render reads, as their CRDs' schemas state them.

The API server refuses an object whose fields do not fit its (CRD's) schema ("spec.sourceRef: Invalid
value: "string": spec.sourceRef in body must be of type object"), so kustomize-controller fails the
Flux Kustomization that applies it, and the dry-run of its other objects fails with it. The render
does the same: :func:`flux_object_problem` is checked for every Flux Kustomization before it is
rendered and for every Flux object its build outputs, and a problem is that Kustomization's one
error, at the field's line. Only the fields the render reads are described (types per
``kustomize.toolkit.fluxcd.io/v1``, ``helm.toolkit.fluxcd.io/v2``, ``source.toolkit.fluxcd.io/v1``),
plus the metadata every object has and the data of ConfigMaps and Secrets.
"""

from __future__ import annotations

from typing import Any

from homeops.core.shape import ANY, BOOL, SCALAR, Fields, ListOf, MapOf, Problem, Shape, problem
from homeops.flux.model import is_flux_kustomization, is_helmrelease, is_source

_STRINGS = MapOf(SCALAR)
METADATA = Fields({"name": SCALAR, "namespace": SCALAR, "labels": _STRINGS, "annotations": _STRINGS})
OBJECT = Fields({"apiVersion": SCALAR, "kind": SCALAR, "metadata": METADATA})

_REF = Fields({"kind": SCALAR, "name": SCALAR, "namespace": SCALAR, "apiVersion": SCALAR})
_SELECTOR = Fields(
    {
        "group": SCALAR, "version": SCALAR, "kind": SCALAR, "name": SCALAR, "namespace": SCALAR,
        "labelSelector": SCALAR, "annotationSelector": SCALAR,
    }
)  # fmt: skip
_PATCH = Fields({"patch": SCALAR, "target": _SELECTOR})
_IMAGE = Fields({"name": SCALAR, "newName": SCALAR, "newTag": SCALAR, "digest": SCALAR})
_COMMON_METADATA = Fields({"labels": _STRINGS, "annotations": _STRINGS})

KUSTOMIZATION_SPEC = Fields(
    {
        "path": SCALAR,
        "sourceRef": _REF,
        "dependsOn": ListOf(Fields({"name": SCALAR, "namespace": SCALAR})),
        "targetNamespace": SCALAR,
        "namePrefix": SCALAR,
        "nameSuffix": SCALAR,
        "suspend": BOOL,
        "prune": BOOL,
        "force": BOOL,
        "wait": BOOL,
        "ignoreMissingComponents": BOOL,
        "interval": SCALAR,
        "timeout": SCALAR,
        "postBuild": Fields(
            {
                "substitute": _STRINGS,
                "substituteFrom": ListOf(Fields({"kind": SCALAR, "name": SCALAR, "optional": BOOL})),
            }
        ),
        "patches": ListOf(_PATCH),
        "patchesStrategicMerge": ListOf(ANY),
        "patchesJson6902": ListOf(Fields({"patch": ListOf(ANY), "target": _SELECTOR})),
        "components": ListOf(SCALAR),
        "images": ListOf(_IMAGE),
        "commonMetadata": _COMMON_METADATA,
        "decryption": Fields({"provider": SCALAR, "secretRef": _REF}),
        "kubeConfig": Fields({"secretRef": Fields({"name": SCALAR, "key": SCALAR})}),
        "healthChecks": ListOf(_REF),
        "serviceAccountName": SCALAR,
    }
)

_CHART_SPEC = Fields(
    {"chart": SCALAR, "version": SCALAR, "sourceRef": _REF, "valuesFiles": ListOf(SCALAR), "interval": SCALAR}
)
HELMRELEASE_SPEC = Fields(
    {
        "chart": Fields({"spec": _CHART_SPEC, "metadata": _COMMON_METADATA}),
        "chartRef": _REF,
        "releaseName": SCALAR,
        "targetNamespace": SCALAR,
        "storageNamespace": SCALAR,
        "suspend": BOOL,
        "values": MapOf(ANY),
        "valuesFrom": ListOf(
            Fields(
                {"kind": SCALAR, "name": SCALAR, "valuesKey": SCALAR, "targetPath": SCALAR, "optional": BOOL}
            )
        ),
        "dependsOn": ListOf(Fields({"name": SCALAR, "namespace": SCALAR})),
        "install": Fields({"crds": SCALAR}),
        "upgrade": Fields({"crds": SCALAR}),
        "postRenderers": ListOf(
            Fields({"kustomize": Fields({"patches": ListOf(_PATCH), "images": ListOf(_IMAGE)})})
        ),
        "commonMetadata": _COMMON_METADATA,
        "interval": SCALAR,
    }
)

_SOURCE_REF = Fields(
    {
        "branch": SCALAR, "tag": SCALAR, "semver": SCALAR, "name": SCALAR, "commit": SCALAR,
        "digest": SCALAR, "semverFilter": SCALAR,
    }
)  # fmt: skip
SOURCE_SPEC = Fields(
    {
        "url": SCALAR,
        "ref": _SOURCE_REF,
        "layerSelector": Fields({"mediaType": SCALAR, "operation": SCALAR}),
        "ignore": SCALAR,
        "include": ListOf(Fields({"repository": _REF, "fromPath": SCALAR, "toPath": SCALAR})),
        "type": SCALAR,
        "chart": SCALAR,
        "version": SCALAR,
        "sourceRef": _REF,
        "valuesFiles": ListOf(SCALAR),
        "insecure": BOOL,
        "suspend": BOOL,
        "interval": SCALAR,
        "secretRef": Fields({"name": SCALAR}),
        "certSecretRef": Fields({"name": SCALAR}),
        "provider": SCALAR,
        "bucketName": SCALAR,
        "endpoint": SCALAR,
        "artifacts": ListOf(ANY),
    }
)


DATA = Fields({"data": _STRINGS, "stringData": _STRINGS, "binaryData": _STRINGS})
"""ConfigMaps and Secrets: the render reads their data for postBuild substitution and chart values."""


def _spec_shape(obj: dict[str, Any]) -> Shape | None:
    if is_flux_kustomization(obj):
        return KUSTOMIZATION_SPEC
    if is_helmrelease(obj):
        return HELMRELEASE_SPEC
    if is_source(obj):
        return SOURCE_SPEC
    return None


def is_flux_object(obj: Any) -> bool:
    return isinstance(obj, dict) and _spec_shape(obj) is not None


def flux_object_problem(obj: dict[str, Any]) -> Problem | None:
    """The first field of a Flux object that does not fit its CRD's schema (None when all fit)."""
    found = problem(obj, OBJECT)
    if found is not None:
        return found
    if obj.get("kind") in ("ConfigMap", "Secret") and obj.get("apiVersion") == "v1":
        return problem(obj, DATA)
    shape = _spec_shape(obj)
    if shape is None:
        return None
    if "spec" in obj and not isinstance(obj["spec"], dict):
        return problem(obj, Fields({"spec": Fields({})}))
    return problem(obj, shape, ("spec",))


HINT = "the API server refuses an object whose fields do not fit its schema: fix the field's type"


def describe_problem(obj: dict[str, Any], found: Problem) -> str:
    """``<Kind> <namespace>/<name>: <field> must be ..., not ...``."""
    meta = obj.get("metadata")
    name = str(meta.get("name") or "") if isinstance(meta, dict) else ""
    namespace = str(meta.get("namespace") or "") if isinstance(meta, dict) else ""
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else "object"
    label = f"{namespace}/{name}" if namespace else name
    return f"{kind} {label}: {found.message()}"
