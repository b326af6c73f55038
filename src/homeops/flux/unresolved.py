"""Variables that postBuild substitution leaves without a value, reported once where they can be fixed.

Every use of a variable with no value is recorded while the cluster renders (:class:`Unresolved`: the
place, the Flux Kustomization, and *why* the render has no value: nothing holds it, or it sits in a
SOPS-encrypted Secret, or a Secret an ExternalSecret of the repository makes in the cluster, or a
substituteFrom source missing from the render). A variable in a Flux Kustomization's ``spec.path``
stops that Kustomization from rendering at all. At the end of the render each (cluster, variable)
becomes one HO103 finding with the count of uses and the first place; its severity follows the
reason: ``error`` when nothing holds the value (Flux substitutes an empty string), ``warning`` when
only the cluster can read it (SOPS, or a source missing from the render), ``info`` when an
ExternalSecret of the repository makes it (the cluster will have it).

When the directories of the repository admit a single value for a variable in Kustomization paths
(``./apps/${CLUSTER_NAME}/media/app`` exists only for ``bitty``), that value is certain and the
finding suggests it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeops.core import codes
from homeops.core.findings import Finding, severity_rank
from homeops.core.profile import PROFILE_FILE, Profile
from homeops.core.shape import as_list, as_map
from homeops.core.variables import PLACEHOLDER_RE, ClusterVars
from homeops.flux import postbuild
from homeops.flux.model import NO_SOURCE, Unresolved
from homeops.kustomize.resource import Resource

SEVERITY = {
    NO_SOURCE: "error",
    postbuild.NOT_RENDERED: "warning",
    postbuild.SOPS: "warning",
    postbuild.OUTSIDE: "warning",
    postbuild.EXTERNAL_SECRET: "info",
}
_PATH_VAR = re.compile(r"\$\{([_A-Za-z][_A-Za-z0-9]*)[^}]*\}|\.\.PLACEHOLDER_([_A-Za-z][_A-Za-z0-9]*)\.\.")


def why_missing(name: str, variables: postbuild.Variables) -> tuple[str, str, str]:
    """(reason, source label, source origin) for a variable the substitution found no value for."""
    holder = variables.holder(name)
    if holder is None:
        return NO_SOURCE, "", ""
    return holder.state, holder.label, holder.origin


def path_variables(path: str) -> list[str]:
    """Variable names in a Kustomization path, written ``${NAME}`` or as placeholders."""
    out: list[str] = []
    for m in _PATH_VAR.finditer(path):
        name = m.group(1) or m.group(2)
        if name not in out:
            out.append(name)
    return out


# ------------------------------------------------------------------------------ ExternalSecret keys
def _spec_keys(spec: dict[str, Any]) -> frozenset[str] | None:
    """The keys of the Secret an ExternalSecret spec makes (None when they depend on the remote store)."""
    template = spec.get("target", {}).get("template") if isinstance(spec.get("target"), dict) else None
    data_keys = {
        str(item.get("secretKey"))
        for item in as_list(spec.get("data"))
        if isinstance(item, dict) and item.get("secretKey")
    }
    if isinstance(template, dict):
        if template.get("templateFrom"):
            return None
        merge = str(template.get("mergePolicy") or "Replace") == "Merge"
        keys = {str(k) for k in as_map(template.get("data"))}
        if template.get("data") and not merge:
            return frozenset(keys)
        if spec.get("dataFrom"):
            return None
        return frozenset(keys | data_keys)
    if spec.get("dataFrom"):
        return None
    return frozenset(data_keys)


class ClusterOnly(set[tuple[str, str, str]]):
    """(kind, namespace, name) of the Secrets only the cluster will hold (ExternalSecret targets), plus
    the names a ClusterExternalSecret makes in every namespace (``everywhere``), with the keys each is
    declared to have and where the ExternalSecret is written."""

    def __init__(self) -> None:
        super().__init__()
        self.everywhere: set[str] = set()
        self._keys: dict[tuple[str, str, str] | str, tuple[frozenset[str] | None, str]] = {}

    def __bool__(self) -> bool:
        return bool(len(self) or self.everywhere)

    def __contains__(self, key: object) -> bool:
        if super().__contains__(key):
            return True
        return isinstance(key, tuple) and len(key) == 3 and key[0] == "Secret" and key[2] in self.everywhere

    def declared(self, key: tuple[str, str, str]) -> tuple[frozenset[str] | None, str]:
        """The keys the Secret is declared to have (None: unknown) and where its maker is written."""
        if key in self._keys:
            return self._keys[key]
        return self._keys.get(key[2], (None, ""))

    def add_external_secret(self, res: Resource) -> None:
        raw = res.obj.get("spec")
        spec: dict[str, Any] = raw if isinstance(raw, dict) else {}
        target = spec["target"] if isinstance(spec.get("target"), dict) else {}
        key = ("Secret", res.namespace or "default", str(target.get("name") or res.name))
        self.add(key)
        self._keys[key] = (_spec_keys(spec), f"the ExternalSecret at {res.where()}")

    def add_cluster_external_secret(self, res: Resource) -> None:
        """A ClusterExternalSecret makes its ExternalSecret (and so its Secret) in every namespace its
        ``namespaces``/``namespaceSelectors`` pick: the listed ones, else any namespace (selectors are
        matched against live namespace labels, which the render cannot know)."""
        spec = as_map(res.obj.get("spec"))
        es_spec = as_map(spec.get("externalSecretSpec"))
        target = str(as_map(es_spec.get("target")).get("name") or spec.get("externalSecretName") or res.name)
        declared = (
            _spec_keys(es_spec) if isinstance(es_spec, dict) else None,
            f"the ClusterExternalSecret at {res.where()}",
        )
        namespaces = [str(n) for n in as_list(spec.get("namespaces")) if n]
        selectors = [
            s
            for s in [spec.get("namespaceSelector"), *as_list(spec.get("namespaceSelectors"))]
            if s is not None
        ]
        for ns in namespaces:
            self.add(("Secret", ns, target))
            self._keys[("Secret", ns, target)] = declared
        if selectors or not namespaces:
            self.everywhere.add(target)
            self._keys[target] = declared


# ------------------------------------------------------------------------------ certain values
def _segment_pattern(segment: str, name: str) -> re.Pattern[str] | None:
    """A path segment holding ``name`` (once or more, nothing else variable) as a regex capturing it."""
    out, pos, seen = "", 0, False
    for m in _PATH_VAR.finditer(segment):
        if (m.group(1) or m.group(2)) != name:
            return None
        out += re.escape(segment[pos : m.start()]) + ("(?P=v)" if seen else "(?P<v>[^/]+)")
        seen, pos = True, m.end()
    return re.compile(out + re.escape(segment[pos:]) + r"\Z")


def path_candidates(top: Path, path: str, name: str) -> set[str] | None:
    """The values of ``name`` for which the Kustomization path is an existing directory under ``top``
    (None when the path has another variable too)."""
    if any(v != name for v in path_variables(path)):
        return None
    segments = [s for s in path.strip().split("/") if s and s != "."]
    found: set[str] = set()

    def walk(base: Path, rest: list[str], value: str | None) -> None:
        if not rest:
            if value is not None and os.path.isdir(base):
                found.add(value)
            return
        segment, tail = rest[0], rest[1:]
        if not _PATH_VAR.search(segment):
            nxt = base / segment
            if segment == ".." or os.path.isdir(nxt):
                walk(nxt, tail, value)
            return
        pattern = _segment_pattern(segment, name)
        if pattern is None or not os.path.isdir(base):
            return
        for child in sorted(base.iterdir()):
            m = pattern.match(child.name)
            if m and os.path.isdir(child) and (value is None or m.group("v") == value):
                walk(child, tail, m.group("v"))

    walk(top, segments, None)
    return found


# ------------------------------------------------------------------------------ the findings
@dataclass
class _Variable:
    name: str
    uses: list[Unresolved] = field(default_factory=list)
    places: set[tuple[str, int, tuple[str, str, str]]] = field(default_factory=set)

    def add(self, use: Unresolved) -> None:
        place = (use.file, use.line, use.obj)
        if place in self.places and not use.path:
            return
        if place not in self.places:
            self.places.add(place)
        self.uses.append(use)


def _fix_hint(cluster: str, name: str, value: str | None, profile: Profile) -> str:
    shown = value if value is not None else "<value>"
    layer = profile.vars
    if layer.line:
        if cluster in layer.values:
            at = layer.lines.get((cluster, ""), layer.line)
            return f"add '{name}: {shown}' under '{cluster}:' at {PROFILE_FILE}:{at}"
        return f"add '{cluster}: {{{name}: {shown}}}' to vars at {PROFILE_FILE}:{layer.line}"
    return f"add to {PROFILE_FILE}: 'vars: {{{cluster}: {{{name}: {shown}}}}}'"


def _reason(use: Unresolved, ks_count: int) -> str:
    if use.why == postbuild.SOPS:
        return f"its value is in {use.source} ({use.origin}), SOPS-encrypted: only the cluster can read it"
    if use.why == postbuild.EXTERNAL_SECRET:
        made = f" by {use.origin}" if use.origin else " by an ExternalSecret"
        return f"its value comes from {use.source}, made in the cluster{made}: the cluster will have it"
    if use.why == postbuild.OUTSIDE:
        return (
            f"its value is in {use.source}, written at {use.origin} but applied outside Flux (bootstrap): "
            "the cluster has it, the render does not"
        )
    if use.why == postbuild.NOT_RENDERED:
        return f"its value may be in {use.source}, which nothing in the render makes (see HO108)"
    where = (
        "no substituteFrom source holds it" if ks_count == 1 else "no substituteFrom source of them holds it"
    )
    return f"{where} and postBuild.substitute does not set it: Flux substitutes an empty string"


def report(
    uses: Iterable[Unresolved],
    cluster: str,
    profile: Profile,
    given: ClusterVars,
    top: Path,
) -> list[Finding]:
    """One HO103 per variable of the cluster, in order of first use."""
    by_name: dict[str, _Variable] = {}
    for use in uses:
        by_name.setdefault(use.name, _Variable(use.name)).add(use)
    findings = []
    for var in by_name.values():
        first = var.uses[0]
        worst = max(var.uses, key=lambda u: severity_rank(SEVERITY[u.why]))
        severity = SEVERITY[worst.why]
        path_uses = [u for u in var.uses if u.path]
        value_uses = [u for u in var.uses if not u.path]
        kss = sorted({u.ks for u in var.uses})
        certain: str | None = None
        if path_uses:
            candidates: set[str] | None = None
            for use in path_uses:
                found = path_candidates(top, use.path, var.name)
                if found is None:
                    candidates = None
                    break
                candidates = found if candidates is None else candidates & found
            if candidates is not None and len(candidates) == 1:
                certain = next(iter(candidates))
        count = len(var.places) or len(var.uses)
        substituting = sorted({u.ks for u in value_uses}) or kss
        where = f"{count} use{'s' if count != 1 else ''} in " + (
            substituting[0] if len(substituting) == 1 else f"{len(substituting)} Flux Kustomizations"
        )
        parts = [f"variable ${{{var.name}}} has no value in cluster {cluster} ({where}"]
        if path_uses:
            n = len({u.ks for u in path_uses})
            parts.append(
                f"; {n} Flux Kustomization{'s' if n != 1 else ''} with it in spec.path cannot render"
                + (f": the paths exist only with {var.name}={certain}" if certain else "")
            )
        parts.append(")")
        reason_use = (
            worst
            if not (worst.path and value_uses)
            else max(value_uses, key=lambda u: severity_rank(SEVERITY[u.why]))
        )
        message = "".join(parts) + ": " + _reason(reason_use, len(substituting))
        if given.placeholders and value_uses:
            message += f"; rendered as ..PLACEHOLDER_{var.name}.."
        if severity != "info" or path_uses:
            if worst.why == NO_SOURCE and not path_uses:
                message += (
                    f" (set it in postBuild.substitute; if the cluster has it from elsewhere, "
                    f"{_fix_hint(cluster, var.name, certain, profile)})"
                )
            else:
                message += (
                    f" ({_fix_hint(cluster, var.name, certain, profile)}, or pass "
                    f"--var {cluster}:{var.name}={certain or '...'}"
                    + ("" if path_uses or given.placeholders else " or --placeholders")
                    + ")"
                )
        kind, namespace, name = first.obj
        findings.append(
            Finding(
                rule=codes.VARIABLE_UNSET.id,
                severity=severity,
                message=message,
                file=first.file or None,
                line=first.line or None,
                kind=kind,
                name=name,
                namespace=namespace or None,
                cluster=cluster,
                extra={
                    "ks": first.ks,
                    "kss": kss,
                    "variable": var.name,
                    "why": worst.why,
                    "uses": count,
                    "in_path": len({u.ks for u in path_uses}),
                    **({"certain": certain} if certain else {}),
                },
            )
        )
    return findings


def placeholder_in(text: str) -> bool:
    return PLACEHOLDER_RE.search(text) is not None
