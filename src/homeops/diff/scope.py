"""A diff narrowed the way flux-local's and flate's ``diff ks|hr [NAME]`` narrow theirs.

* ``ks``: the objects Flux Kustomizations apply themselves (a HelmRelease object included, the
  objects its chart renders not), of every Kustomization or of the ones named ``NAME``;
* ``hr``: the HelmRelease objects and what their charts render, of every HelmRelease or of the ones
  named ``NAME``;
* ``skip_kinds``: kinds left out of the output (flux-local's ``--skip-secrets``/``--skip-crds``/
  ``--skip-kinds``).

A name is matched against the bare ``metadata.name`` (``-n`` narrows the namespace), as both tools do.
Render problems and notes are kept whole: a narrowed diff still says what did not render.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from homeops.diff.blast import change_label
from homeops.diff.compare import DiffResult
from homeops.diff.imagediff import image_changes
from homeops.diff.model import Change, NotCompared

PRODUCERS = ("ks", "hr")


def _split(key: str) -> tuple[str, str]:
    namespace, _, name = key.rpartition("/")
    return namespace, name


def _matches(key: str | None, name: str | None, namespace: str | None) -> bool:
    if key is None:
        return False
    ns, bare = _split(key)
    return (name is None or bare == name) and (namespace is None or ns == namespace)


def keep(change: Change, producer: str | None, name: str | None, namespace: str | None) -> bool:
    """Is ``change`` part of the diff of ``producer`` (``ks``, ``hr``; None: everything)?"""
    from_chart = change.helmrelease is not None and change.kind != "HelmRelease"
    if producer == "ks":
        return not from_chart and _matches(change.ks, name, namespace)
    if producer == "hr":
        return change.helmrelease is not None and _matches(change.helmrelease, name, namespace)
    return (
        name is None or _matches(change.ks, name, namespace) or _matches(change.helmrelease, name, namespace)
    )


def narrow(
    result: DiffResult,
    *,
    producer: str | None = None,
    name: str | None = None,
    namespace: str | None = None,
    skip_kinds: Collection[str] = (),
) -> DiffResult:
    """``result`` with only the changes of ``producer``/``name``/``namespace``, without ``skip_kinds``."""
    if producer is not None and producer not in PRODUCERS:
        raise ValueError(f"unknown producer {producer!r}")
    if producer is None and name is None and namespace is None and not skip_kinds:
        return result
    changes = [c for c in result.changes if c.kind not in skip_kinds and keep(c, producer, name, namespace)]
    kept = {(c.cluster, c.kind, c.namespace, c.name) for c in changes}
    dangers = [d for d in result.dangers if (d.cluster, d.kind, d.namespace, d.name) in kept]
    unrendered = [u for u in result.unrendered if _concerns(u, producer, name, namespace)]
    labels = {change_label(c) for c in changes}
    blast = [
        replace(b, objects=[o for o in b.objects if o in labels]) for b in result.blast_radius
    ]  # fmt: skip
    return replace(
        result,
        changes=changes,
        images=image_changes(changes),
        dangers=dangers,
        unrendered=unrendered,
        blast_radius=[b for b in blast if b.objects],
        unattributed=[u for u in result.unattributed if u in labels],
    )


def _concerns(part: NotCompared, producer: str | None, name: str | None, namespace: str | None) -> bool:
    """Does a part that could not be compared matter to this narrowed diff? A cluster always; a
    Kustomization to ``ks`` and to any diff without a name; a HelmRelease's chart to ``hr`` and to any
    diff without a name; with a name, only the one of that name."""
    if part.kind == "cluster":
        return True
    if producer is not None and part.kind != ("Kustomization" if producer == "ks" else "HelmRelease"):
        return producer == "hr" and name is None  # a Kustomization that failed hides HelmReleases too
    return _matches(part.name, name, namespace)


def known(result: DiffResult, producer: str, name: str, namespace: str | None) -> bool:
    """Is there a Kustomization (``ks``) or HelmRelease (``hr``) of that name on either side?"""
    keys = result.kustomizations if producer == "ks" else result.helmreleases
    return any(_matches(key, name, namespace) for key in keys)


def names(result: DiffResult, producer: str) -> list[str]:
    """The bare names of every Kustomization or HelmRelease of both sides (for a hint)."""
    keys = result.kustomizations if producer == "ks" else result.helmreleases
    return sorted({_split(key)[1] for key in keys})
