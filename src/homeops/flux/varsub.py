"""Flux postBuild variable substitution, ported from the Go sources rather than approximated.

What Flux does for each object of a built Kustomization (fluxcd/pkg ``kustomize/kustomize_varsub.go``,
``SubstituteVariables``, called from kustomize-controller ``internal/controller/kustomization_controller.go``):

1. An object labelled *or* annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled`` is left alone.
2. Variables come from ``postBuild.substituteFrom`` (ConfigMaps, Secrets) overlaid by the inline
   ``postBuild.substitute`` map; every ``\\n`` is removed from every value.
3. Nothing happens when there are no variables at all, unless ``substituteStrategy: Always``.
   Otherwise every variable *name* must match ``^[_[:alpha:]][_[:alpha:][:digit:]]*$`` (ASCII only).
4. The text substituted is the object's YAML serialisation, all of it (keys, labels, annotations,
   block scalars): kustomize ``Resource.AsYAML``, that is JSON, then sigs.k8s.io/yaml ``JSONToYAML``,
   that is goyaml.v2 output. Quotes written in the source file are gone by then (``replicas: "${N}"``
   is substituted as ``replicas: ${N}``); goyaml.v2 quotes only what would not read back as a string,
   and folds long scalars at 80 columns: ``yamlemit.dump``.
5. The substituted text goes through envsubst (fluxcd/pkg ``envsubst``, a drone/envsubst fork).
   In strict mode (controller feature gate ``StrictPostBuildSubstitutions``, on by default since
   kustomize-controller v1.9) a variable that is not set fails the build unless a default operator
   (``=``, ``:=``, ``:-``, ``:+``, ``:?``) handles it; otherwise it becomes the empty string.
6. The result is always re-parsed, changed or not: sigs.k8s.io/yaml ``YAMLToJSON`` (goyaml.v2, YAML 1.1
   resolution: ``yes``/``on``/``y`` are booleans, ``0777`` is octal, ``1_000`` is 1000, timestamps stay
   strings, ``y:`` as a key becomes ``"true"``, ``.nan`` fails), then kyaml ``RNode.UnmarshalJSON``,
   which decodes every number as a float64 (integers beyond 2**53 lose precision).

envsubst itself is :mod:`homeops.flux.envsubst`; goyaml.v2 decoding is :mod:`homeops.core.gocompat.goyaml_v2`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeops.core import yamlio
from homeops.core.gocompat import goyaml_v2
from homeops.core.variables import VAR_NAME_PATTERN, VAR_NAME_RE
from homeops.flux.envsubst import SubstitutionError, substitute

__all__ = [
    "DISABLED_VALUE",
    "SUBSTITUTE_KEY",
    "VAR_NAME_PATTERN",
    "VAR_NAME_RE",
    "SubstitutionError",
    "is_substitution_disabled",
    "reparse",
    "resolve_plain_scalar",
    "substitute_object",
    "validate_var_name",
]

SUBSTITUTE_KEY: Final = "kustomize.toolkit.fluxcd.io/substitute"
DISABLED_VALUE: Final = "disabled"


def validate_var_name(name: str) -> bool:
    """Whether Flux accepts ``name`` as a key of postBuild.substitute / substituteFrom data."""
    return VAR_NAME_RE.match(name) is not None


# ----------------------------------------------------------------------------------------------
# Re-parse: sigs.k8s.io/yaml YAMLToJSON (goyaml.v2 resolution, JSON-safe keys) followed by the
# float64 round trip of kyaml's RNode.UnmarshalJSON.


def reparse(text: str) -> dict[str, Any]:
    """Parse substituted YAML as Flux does: YAMLToJSON, then kyaml's RNode.UnmarshalJSON."""
    try:
        data = goyaml_v2.yaml_to_json(text)
    except goyaml_v2.GoYAMLError as exc:
        raise SubstitutionError(f"YAMLToJSON: {exc}") from None
    if data is None:
        return {}  # JSON null leaves the object empty, it is no error
    if not isinstance(data, dict):
        raise SubstitutionError("UnmarshalJSON: the substituted document is not a mapping")
    return data


def resolve_plain_scalar(text: str) -> Any:
    """The value Flux ends up with for ``text`` written as an unquoted YAML scalar after substitution."""
    try:
        return goyaml_v2.resolve_plain_scalar(text)
    except goyaml_v2.GoYAMLError as exc:
        raise SubstitutionError(f"YAMLToJSON: {exc}") from None


# ----------------------------------------------------------------------------------------------
# One object


def is_substitution_disabled(obj: Mapping[str, Any]) -> bool:
    """The opt-out Flux honours: ``kustomize.toolkit.fluxcd.io/substitute: disabled`` as a label or
    an annotation (exact value)."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return False
    for field_name in ("labels", "annotations"):
        entries = metadata.get(field_name)
        if isinstance(entries, Mapping) and entries.get(SUBSTITUTE_KEY) == DISABLED_VALUE:
            return True
    return False


def _copy(obj: Mapping[str, Any]) -> dict[str, Any]:
    copied = yamlio.deep_copy(obj)
    return copied if isinstance(copied, dict) else dict(copied)


def substitute_object(
    obj: Mapping[str, Any], variables: Mapping[str, str], *, strict: bool, always: bool = False
) -> dict[str, Any]:
    """What kustomize-controller does to one built object; returns a new dict, ``obj`` is untouched.

    ``always`` is ``postBuild.substituteStrategy: Always``: substitute (and re-type) even with no
    variables. Without it, an empty variable set leaves the object exactly as it was.
    """
    if is_substitution_disabled(obj):
        return _copy(obj)
    values = {name: value.replace("\n", "") for name, value in variables.items()}
    if not values and not always:
        return _copy(obj)
    for name in sorted(values):
        if not validate_var_name(name):
            raise SubstitutionError(f"'{name}' var name is invalid, must match '{VAR_NAME_PATTERN}'", name)
    from homeops.core import yamlemit  # start-up: the emitter loads only for an object substituted as text

    return reparse(substitute(yamlemit.dump(obj), values, strict=strict))
