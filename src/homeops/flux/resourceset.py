"""flux-operator ``ResourceSet``: the objects it generates, as the operator builds them
(controlplaneio-fluxcd/flux-operator ``internal/builder/resourceset.go``, ``internal/inputs``).

* Input sets: the ResourceSet's ``spec.inputs``, then those of each ``ResourceSetInputProvider`` of
  ``spec.inputsFrom`` (by ``name`` or label ``selector``, in the ResourceSet's namespace, sorted by
  namespace and name) found in the render: a ``Static`` provider exports its ``spec.defaultValues``
  with an ``id``; any other exports its ``status.exportedInputs`` when the manifest carries them (a
  provider that asks GitHub, GitLab or a registry cannot be asked offline: it exports nothing, said in
  a note). Each set gets ``provider`` (``apiVersion``, ``kind``, ``name``, ``namespace`` of the object it
  came from). ``spec.inputStrategy.name``: ``Flatten`` (default) concatenates the sets; ``Permute`` takes
  their Cartesian product, each provider's set under its normalised name, plus an ``id``
  (``adler32`` of ``name=index/...``), at most 10000 permutations.
* Templates: each of ``spec.resources`` (written as YAML by ``JSONToYAML``), then the multi-document
  ``spec.resourcesTemplate``, or the same per ``spec.steps`` entry, executed once per input set (once
  with no inputs when there are none) as Go ``text/template`` with ``<< >>`` delimiters, slim-sprig,
  ``inputs`` (the input set), ``toYaml`` and ``slugify``. Objects annotated
  ``fluxcd.controlplane.io/reconcile: disabled`` are left out; objects are deduplicated by group, kind,
  namespace and name (the first wins).
* Each object gets the owner labels ``resourceset.fluxcd.controlplane.io/name``/``namespace`` and
  ``spec.commonMetadata``.

The templates run in Helm's own Go template engine (sprig being a superset of slim-sprig), with
``inputs`` made a template variable, ``toYaml`` given back the final newline Helm's trims, and
``slugify`` spelled as sprig's lowercasing and replacing (gosimple/slug's transliteration of non-ASCII
letters is not done). A missing input key renders as an empty string where flux-operator fails.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core import yamlio
from homeops.core.errors import HomeopsError
from homeops.core.regex import lazy_pattern
from homeops.kustomize.resource import Resource

GROUP = "fluxcd.controlplane.io"
OWNER_NAME_LABEL = "resourceset.fluxcd.controlplane.io/name"
OWNER_NAMESPACE_LABEL = "resourceset.fluxcd.controlplane.io/namespace"
RECONCILE_ANNOTATION = "fluxcd.controlplane.io/reconcile"
MAX_PERMUTATIONS = 10000

_ACTION = lazy_pattern(r"<<(.*?)>>", re.S)
_INPUTS = lazy_pattern(r"(?<![\w.$\"])inputs\b")
_SLUGIFY = lazy_pattern(r"\|\s*slugify\b")
_TO_YAML = lazy_pattern(r"\|\s*toYaml\b")
_SLUG_PIPELINE = '| include "homeops.slugify"'
_SLUG_DEFINE = (
    '{{- define "homeops.slugify" -}}'
    '{{ regexReplaceAll "[^a-z0-9]+" (lower (toString .)) "-" | trimAll "-" | trunc 63 | trimSuffix "-" }}'
    "{{- end -}}"
)


def is_resourceset(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "ResourceSet" and str(obj.get("apiVersion") or "").startswith(GROUP + "/")


def is_input_provider(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "ResourceSetInputProvider" and str(obj.get("apiVersion") or "").startswith(
        GROUP + "/"
    )


class ResourceSetError(HomeopsError):
    """A ResourceSet whose objects cannot be built (bad template, invalid spec, too many permutations)."""


@dataclass
class Expansion:
    objects: list[Resource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def input_id(text: str) -> str:
    """flux-operator's ``inputs.ID``: the adler32 checksum of the text, in decimal."""
    return str(zlib.adler32(text.encode()))


def normalise(name: str) -> str:
    """``NormalizeKeyForTemplate``: lower case, punctuation and spaces to ``_``, only [a-z0-9_] kept,
    empty words dropped."""
    lowered = re.sub(r"[\s\W_]", "_", name.lower(), flags=re.ASCII)
    kept = re.sub(r"[^a-z0-9_]", "", lowered)
    return "_".join(word for word in kept.split("_") if word)


def _provider(obj: Mapping[str, Any], kind: str, name: str, namespace: str) -> dict[str, str]:
    return {
        "apiVersion": str(obj.get("apiVersion") or f"{GROUP}/v1"),
        "kind": kind,
        "name": name,
        "namespace": namespace,
    }


def _matches(labels: Mapping[str, Any], selector: Mapping[str, Any]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if str(labels.get(key)) != str(value):
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        present = key in labels
        if operator == "In" and not (present and str(labels[key]) in values):
            return False
        if operator == "NotIn" and present and str(labels[key]) in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def provider_inputs(provider: Resource, notes: list[str]) -> list[dict[str, Any]]:
    spec = _spec(provider.obj)
    status = provider.obj.get("status") if isinstance(provider.obj.get("status"), Mapping) else {}
    namespace = provider.namespace or "default"
    if spec.get("type") == "Static":
        defaults = dict(spec.get("defaultValues") or {})
        sets = [{**defaults, "id": input_id(f"{namespace}/{provider.name}")}]
    elif status and status.get("exportedInputs") is not None:
        sets = [dict(s) for s in status.get("exportedInputs") or [] if isinstance(s, Mapping)]
    else:
        notes.append(
            f"ResourceSetInputProvider {namespace}/{provider.name} (type {spec.get('type')}) asks an outside "
            "service for its inputs: it exports none offline (write status.exportedInputs in the manifest)"
        )
        sets = []
    owner = _provider(provider.obj, "ResourceSetInputProvider", provider.name, namespace)
    return [{**s, "provider": dict(owner)} for s in sets]


def combined_inputs(
    rset: Resource, providers: Sequence[Resource], notes: list[str]
) -> tuple[list[dict[str, Any]], bool]:
    """The input sets of a ResourceSet, and whether it has any source of inputs at all."""
    spec = _spec(rset.obj)
    namespace = rset.namespace or "default"
    inline = [dict(s) for s in spec.get("inputs") or [] if isinstance(s, Mapping)]
    own = _provider(rset.obj, "ResourceSet", rset.name, namespace)
    sources: list[tuple[str, list[dict[str, Any]]]] = [
        (rset.name, [{**s, "provider": dict(own)} for s in inline])
    ]
    chosen: dict[tuple[str, str], Resource] = {}
    for ref in spec.get("inputsFrom") or []:
        if not isinstance(ref, Mapping):
            continue
        for candidate in providers:
            if (candidate.namespace or "default") != namespace:
                continue
            if ref.get("name") and candidate.name != ref.get("name"):
                continue
            if isinstance(ref.get("selector"), Mapping) and not _matches(
                (candidate.obj.get("metadata") or {}).get("labels") or {}, ref["selector"]
            ):
                continue
            chosen[(candidate.namespace or "default", candidate.name)] = candidate
        if ref.get("name") and not any(n == ref.get("name") for _ns, n in chosen):
            notes.append(
                f"ResourceSet {namespace}/{rset.name}: ResourceSetInputProvider {ref.get('name')} is not in the render"
            )
    for key in sorted(chosen):
        sources.append((chosen[key].name, provider_inputs(chosen[key], notes)))
    has_sources = bool(spec.get("inputs")) or bool(spec.get("inputsFrom"))
    strategy = (spec.get("inputStrategy") or {}) if isinstance(spec.get("inputStrategy"), Mapping) else {}
    if strategy.get("name", "Flatten") == "Flatten":
        return [s for _name, sets in sources for s in sets], has_sources
    if strategy.get("name") != "Permute":
        raise ResourceSetError(
            f"ResourceSet {namespace}/{rset.name}: unknown input strategy {strategy.get('name')!r}"
        )
    return _permute(rset, sources, bool(strategy.get("includeEmptyProviders"))), has_sources


def _permute(
    rset: Resource, sources: list[tuple[str, list[dict[str, Any]]]], include_empty: bool
) -> list[dict[str, Any]]:
    scoped = []
    total = 1
    for name, sets in sources:
        if not sets and not include_empty:
            continue
        total *= len(sets)
        if total > MAX_PERMUTATIONS:
            raise ResourceSetError(
                f"ResourceSet {rset.namespace}/{rset.name}: {total} permutations, over the {MAX_PERMUTATIONS} allowed"
            )
        key = normalise(name)
        if not key:
            raise ResourceSetError(
                f"ResourceSet {rset.namespace}/{rset.name}: provider name {name!r} normalises to nothing"
            )
        scoped.append((key, sets))
    if not scoped or any(not sets for _k, sets in scoped):
        return []
    out = []
    for picks in itertools.product(*(range(len(sets)) for _k, sets in scoped)):
        perm: dict[str, Any] = {key: sets[j] for (key, sets), j in zip(scoped, picks, strict=True)}
        perm["id"] = input_id("/".join(f"{key}={j}" for (key, _s), j in zip(scoped, picks, strict=True)))
        out.append(perm)
    return out


def go_template(text: str) -> str:
    """A ``<< >>`` flux-operator template as a Helm template: literal ``{{``/``}}`` kept literal,
    ``inputs`` the variable ``$inputs``, ``toYaml`` ending in a newline, ``slugify`` spelled in sprig."""
    out = []
    last = 0
    for match in _ACTION().finditer(text):
        out.append(_literal(text[last : match.start()]))
        action = _INPUTS().sub("$inputs", match.group(1))
        action = _TO_YAML().sub(lambda _m: '| toYaml | printf "%s\\n"', action)
        action = _SLUGIFY().sub(lambda _m: _SLUG_PIPELINE, action)
        out.append("{{" + action + "}}")
        last = match.end()
    out.append(_literal(text[last:]))
    return "".join(out)


def _literal(text: str) -> str:
    return re.sub(r"\{\{|\}\}", lambda m: '{{ "' + m.group() + '" }}', text)


@dataclass
class _Template:
    text: str
    single: bool  # one object (from spec.resources) rather than a multi-document template


def _templates(spec: Mapping[str, Any]) -> list[_Template]:
    groups = [spec]
    if spec.get("steps"):
        if spec.get("resources") or spec.get("resourcesTemplate"):
            raise ResourceSetError(
                "spec.steps is mutually exclusive with spec.resources and spec.resourcesTemplate"
            )
        groups = [s for s in spec["steps"] if isinstance(s, Mapping)]
    from homeops.core import yamlemit  # start-up: the emitter loads only for ResourceSets

    out = []
    for group in groups:
        out += [
            _Template(yamlemit.dump(r), True) for r in group.get("resources") or [] if isinstance(r, Mapping)
        ]
        if group.get("resourcesTemplate"):
            out.append(_Template(str(group["resourcesTemplate"]), False))
    return out


Render = Callable[[Path, dict[str, Any]], list[tuple[str, str]]]
"""Helm's engine over a chart directory with values: ``[(template file, rendered text)]``."""


def build(rset: Resource, providers: Sequence[Resource], render: Render) -> Expansion:
    """The objects ``rset`` generates. ``render(chart_dir, values)`` runs Helm's engine over a chart
    and returns ``[(template file, text)]``."""
    expansion = Expansion()
    namespace = rset.namespace or "default"
    label = f"ResourceSet {namespace}/{rset.name}"
    spec = _spec(rset.obj)
    try:
        sets, _has = combined_inputs(rset, providers, expansion.notes)
        templates = _templates(spec)
    except ResourceSetError as exc:
        raise ResourceSetError(
            f"{label}: {exc.what}" if not exc.what.startswith("ResourceSet") else exc.what,
            rset.file,
            rset.line,
        ) from None
    if spec.get("inputsFrom") and not sets:  # the operator reconciles an empty set: nothing is built
        return expansion
    runs: list[dict[str, Any] | None] = list(sets) if sets else [None]
    files: dict[str, str] = {}
    order: list[tuple[str, bool]] = []
    # flux-operator builds every object template for every input set first, then the multi-document one
    for t_index, template in enumerate(t for t in templates if t.single):
        for i_index, _inputs in enumerate(runs):
            name = f"a{t_index:04d}-{i_index:05d}.yaml"
            files[name] = f"{{{{- $inputs := index .Values.sets {i_index} }}}}\n" + go_template(template.text)
            order.append((name, True))
    for t_index, template in enumerate(t for t in templates if not t.single):
        for i_index, _inputs in enumerate(runs):
            name = f"b{t_index:04d}-{i_index:05d}.yaml"
            files[name] = f"{{{{- $inputs := index .Values.sets {i_index} }}}}\n" + go_template(template.text)
            order.append((name, False))
    if not files:
        return expansion
    import tempfile  # start-up: only for a ResourceSet's templates

    with tempfile.TemporaryDirectory(prefix="homeops-resourceset-") as tmp:
        chart = Path(tmp) / "resourceset"
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text("apiVersion: v2\nname: resourceset\nversion: 0.0.0\n")
        (chart / "templates" / "_slugify.tpl").write_text(_SLUG_DEFINE)
        for name, text in files.items():
            (chart / "templates" / name).write_text(text, encoding="utf-8")
        try:
            rendered = render(chart, {"sets": [s if s is not None else {} for s in runs]})
        except HomeopsError as exc:
            raise ResourceSetError(f"{label}: template failed: {exc.what}", rset.file, rset.line) from None
    by_file: dict[str, list[str]] = {}
    for source, text in rendered:
        by_file.setdefault(source.rsplit("/", 1)[-1], []).append(text)
    seen: set[tuple[str, str, str, str]] = set()
    for name, _single in order:
        for text in by_file.get(name, []):
            for obj in yamlio.load_all(text, f"{rset.file}: {label}"):
                if not isinstance(obj, dict):
                    continue
                meta = obj.get("metadata") or {}
                if (meta.get("annotations") or {}).get(RECONCILE_ANNOTATION) == "disabled":
                    continue
                group = str(obj.get("apiVersion") or "").rpartition("/")[0]
                key = (group, str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name")))
                if key in seen:
                    continue
                seen.add(key)
                _own(obj, rset)
                res = Resource.from_obj(yamlio.deep_copy(obj), rset.file)
                res.line = rset.line
                res.generated = True
                expansion.objects.append(res)
    return expansion


def _own(obj: dict[str, Any], rset: Resource) -> None:
    meta = obj.setdefault("metadata", {})
    labels = meta.setdefault("labels", {})
    labels[OWNER_NAME_LABEL] = rset.name
    labels[OWNER_NAMESPACE_LABEL] = rset.namespace or "default"
    common = _spec(rset.obj).get("commonMetadata")
    if isinstance(common, Mapping):
        for key in ("labels", "annotations"):
            extra = common.get(key)
            if isinstance(extra, Mapping) and extra:
                target = meta.setdefault(key, {})
                target.update({str(k): str(v) for k, v in extra.items()})


def dependencies(rset: Resource) -> list[tuple[str, str, str, str]]:
    """``spec.dependsOn``: (apiVersion, kind, namespace, name) of the objects the ResourceSet waits for."""
    out = []
    for dep in _spec(rset.obj).get("dependsOn") or []:
        if isinstance(dep, Mapping) and dep.get("kind") and dep.get("name"):
            out.append(
                (
                    str(dep.get("apiVersion") or ""),
                    str(dep["kind"]),
                    str(dep.get("namespace") or rset.namespace or ""),
                    str(dep["name"]),
                )
            )
    return out
