"""postBuild variable substitution, as kustomize-controller applies it to each built object.

Flux serialises each object to YAML, runs envsubst over the text and parses the result again with
YAML 1.1 rules (``port: ${PORT}`` becomes an integer, ``enabled: ${ON}`` with ``ON=yes`` a boolean).
We substitute scalar by scalar, which keeps every source line, and resolve a substituted plain
scalar with the same YAML 1.1 rules; the rare cases where the text form would behave differently (a
value with a newline or YAML syntax, a variable in a key) go through the whole-object path.

Unlike Flux, a variable with no value and no default is not blanked: the ``${VAR}`` text stays (or,
when asked, a visibly fake ``..PLACEHOLDER_VAR..``) and the variable is reported, so that a render
never invents values. Each substituteFrom source is recorded with what the render can see of it, so
that a missing value can say where it lives (a SOPS Secret, an ExternalSecret-made Secret) or that
nothing holds it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from homeops.core import yamlio
from homeops.core.shape import as_list, as_map
from homeops.core.variables import placeholder
from homeops.flux import envsubst, varsub
from homeops.flux.model import SUBSTITUTE_KEY, FluxKustomization
from homeops.kustomize.resource import Resource

_PLAIN_UNSAFE = re.compile(r"""^[-?:,\[\]{}#&*!|>'"%@`\s]|: | #|\s$|[\n\t]""")


# What a substituteFrom source lets the render see of its values.
PLAIN = "plain"  # a ConfigMap or plain Secret in the render: values known
SOPS = "sops"  # a SOPS-encrypted Secret: key names known, values only the cluster can decrypt
EXTERNAL_SECRET = "external-secret"  # made in the cluster by an ExternalSecret of the render
NOT_RENDERED = "not-rendered"  # nothing in the render makes it
OUTSIDE = "outside"  # the repository writes it but no Kustomization applies it (bootstrap): in the cluster


@dataclass(frozen=True)
class Source:
    """One substituteFrom reference as the render sees it: its state and the variable names it is
    known to hold (None: unknown, e.g. an ExternalSecret extracting a whole remote secret)."""

    label: str
    state: str
    keys: frozenset[str] | None = None
    origin: str = ""  # where the object that holds or makes it is written (file:line)


@dataclass
class Variables:
    """The variables of one Flux Kustomization and where each set came from."""

    values: dict[str, str] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)

    @property
    def missing_sources(self) -> list[str]:
        """substituteFrom objects not found (optional ones left out)."""
        return [s.label for s in self.sources if s.state == NOT_RENDERED and s.keys != frozenset()]

    def holder(self, name: str) -> Source | None:
        """The source that must hold a variable with no value, most certain first: a SOPS Secret
        listing the key, an ExternalSecret-made Secret declaring it (or of unknown keys), a source
        missing from the render. None: no source can hold it."""
        for state in (SOPS, OUTSIDE, EXTERNAL_SECRET):
            for src in self.sources:
                if src.state == state and (src.keys is None or name in src.keys):
                    return src
        return next((s for s in self.sources if s.state == NOT_RENDERED), None)


def _secret_values(obj: dict[str, Any]) -> dict[str, str] | None:
    """Plain values of a Secret, or None when it is SOPS-encrypted."""
    if "sops" in obj:
        return None
    out: dict[str, str] = {}
    for key, value in as_map(obj.get("data")).items():
        try:
            out[str(key)] = base64.b64decode(str(value)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            out[str(key)] = ""
    for key, value in as_map(obj.get("stringData")).items():
        out[str(key)] = "" if value is None else str(value)
    return out


def _key_names(obj: dict[str, Any]) -> frozenset[str]:
    """The keys of a Secret (SOPS leaves key names in clear text)."""
    names = [*as_map(obj.get("data")), *as_map(obj.get("stringData"))]
    return frozenset(str(k) for k in names)


class ClusterOnlySecrets(Protocol):
    """Secrets only the cluster will hold, with the keys they are declared to have."""

    def __contains__(self, key: object) -> bool: ...

    def declared(self, key: tuple[str, str, str]) -> tuple[frozenset[str] | None, str]: ...


def gather_variables(
    ks: FluxKustomization,
    objects: Mapping[tuple[str, str, str], Resource],
    cli_vars: Mapping[str, str],
    cluster_only: ClusterOnlySecrets | None = None,
) -> Variables:
    """substituteFrom (in order, later wins), then ``--var`` for what only the cluster knows, then substitute."""
    result = Variables()
    pb = ks.post_build or {}
    for ref in as_list(pb.get("substituteFrom")):
        kind = str(ref.get("kind") or "")
        name = str(ref.get("name") or "")
        key = (kind, ks.namespace, name)
        res = objects.get(key)
        label = f"{kind}/{ks.namespace}/{name}"
        if res is None and cluster_only is not None and key in cluster_only:
            keys, origin = cluster_only.declared(
                key
            )  # an ExternalSecret makes it: values live in the cluster
            result.sources.append(Source(label, EXTERNAL_SECRET, keys, origin))
            continue
        if res is None:
            # an optional source that is missing holds nothing; a required one might hold anything
            result.sources.append(Source(label, NOT_RENDERED, frozenset() if ref.get("optional") else None))
            continue
        if kind == "ConfigMap":
            data = {str(k): "" if v is None else str(v) for k, v in as_map(res.obj.get("data")).items()}
        else:
            secret = _secret_values(res.obj)
            if secret is None:
                result.sources.append(Source(label, SOPS, _key_names(res.obj), res.where()))
                continue
            data = secret
        result.sources.append(Source(label, PLAIN, frozenset(data), res.where()))
        for key_name, value in data.items():
            result.values[key_name] = value.replace("\n", "")
    for var, value in cli_vars.items():
        result.values.setdefault(var, value)
    for var, value in as_map(pb.get("substitute")).items():
        result.values[str(var)] = ("" if value is None else str(value)).replace("\n", "")
    return result


def disabled(res: Resource) -> bool:
    return res.labels.get(SUBSTITUTE_KEY) == "disabled" or res.annotations.get(SUBSTITUTE_KEY) == "disabled"


def _has_var(node: Any) -> bool:
    if isinstance(node, str):
        return "$" in node
    if isinstance(node, dict):
        return any(_has_var(k) or _has_var(v) for k, v in node.items())
    if isinstance(node, list):
        return any(_has_var(v) for v in node)
    return False


def resolve_yaml11(text: str) -> Any:
    """A substituted plain scalar as Flux ends up with it (goyaml.v2 rules, then JSON)."""
    return varsub.resolve_plain_scalar(text)


class _NeedsWholeObject(Exception):
    pass


# One parse per distinct string: each string is asked for its unresolved variables and then
# substituted, and components repeat the same strings across apps. Parse trees are only read.
@lru_cache(maxsize=32768)
def _parsed(text: str) -> list[envsubst.Node]:
    return envsubst.parse(text)


def substitute_resource(
    res: Resource, variables: dict[str, str], *, strict: bool = False, placeholders: bool = False
) -> list[str]:
    """Substitute in place; return the names of variables left unresolved. Their ``${NAME}`` text stays,
    or with ``placeholders`` becomes ``..PLACEHOLDER_NAME..``."""

    def stand_in(name: str) -> str:
        return placeholder(name) if placeholders else "${" + name + "}"

    if not _has_var(res.obj):
        return []
    unresolved: list[str] = []

    def sub(text: str) -> str:
        nodes = _parsed(text)
        missing = envsubst.unresolved(nodes, variables)
        unresolved.extend(m for m in missing if m not in unresolved)
        if missing and (
            placeholders or not strict
        ):  # every unresolved one keeps its text, even if seen before
            keep = {**variables, **{m: stand_in(m) for m in missing}}
            return envsubst.evaluate(nodes, keep, strict=False)
        return envsubst.evaluate(nodes, variables, strict=strict)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            for key in list(node.keys()):
                if isinstance(key, str) and "$" in key and sub(key) != key:
                    raise _NeedsWholeObject
                node[key] = walk(node[key])
            return node
        if isinstance(node, list):
            for i, value in enumerate(node):
                node[i] = walk(value)
            return node
        if isinstance(node, str) and "$" in node:
            new = sub(node)
            if new == node:
                return node
            if "\n" in node:
                if "\n" in new.strip("\n") and new.count("\n") != node.count("\n"):
                    raise _NeedsWholeObject
                return new
            if "\n" in new:
                raise _NeedsWholeObject
            if _PLAIN_UNSAFE.search(node):
                return new  # emitted quoted by Flux: stays a string
            if _PLAIN_UNSAFE.search(new):
                raise _NeedsWholeObject
            return resolve_yaml11(new)
        return node

    original = res.obj
    try:
        res.obj = walk(yamlio.deep_copy(original))
    except _NeedsWholeObject:
        from homeops.core import (
            yamlemit,
        )  # start-up: the emitter loads only for an object substituted as text

        unresolved.clear()
        res.obj = original
        text = yamlemit.dump(original)
        unresolved.extend(envsubst.find_unresolved(text, variables))
        if placeholders or not strict:
            keep = {**variables, **{m: stand_in(m) for m in unresolved}}
            res.obj = varsub.substitute_object(original, keep, strict=False)
        else:
            res.obj = varsub.substitute_object(original, variables, strict=strict)
    return unresolved
