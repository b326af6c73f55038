"""What ``build`` does on one thing rather than a cluster: ``kustomize build DIR`` by the native engine
(printed as kustomize prints, so a string kustomize cannot print is refused as it refuses it), and one
HelmRelease's chart rendered as helm-controller would."""

from __future__ import annotations

from pathlib import Path

from homeops.api.repository import repository_of
from homeops.api.results import ReleaseRendering
from homeops.core.errors import HomeopsError
from homeops.core.profile import Profile
from homeops.flux.model import is_helmrelease
from homeops.flux.rendered import ClusterRender
from homeops.flux.settings import RenderSettings
from homeops.kustomize.build import Builder, BuildOptions


def build_release(
    root: Path,
    result: ClusterRender,
    name: str,
    namespace: str | None,
    *,
    offline: bool,
    profile: Profile,
    settings: RenderSettings,
) -> ReleaseRendering:
    """The HelmRelease ``name`` (in ``namespace``, or the only one so named) of a cluster's render, its
    chart rendered with its values as helm-controller would (downloads the chart unless ``offline``)."""
    from homeops.flux.helm_expand import Expander, find_release  # start-up: Helm only when asked

    matches = find_release(result, name, namespace)
    if not matches:
        known = sorted(
            f"{r.namespace or 'default'}/{r.name}" for _, r in result.objects() if is_helmrelease(r.obj)
        )
        where = f" in namespace {namespace}" if namespace else ""
        raise HomeopsError(
            f"no HelmRelease named {name!r}{where} in cluster {result.cluster.name}",
            hint=f"known: {', '.join(known)}" if known else "the cluster renders no HelmRelease",
        )
    if len(matches) > 1:
        spaces = ", ".join(sorted(r.namespace or "default" for _, r in matches))
        raise HomeopsError(
            f"HelmRelease {name!r} exists in several namespaces: {spaces}", hint="pass -n NAMESPACE"
        )
    rk, release = matches[0]
    out = Expander(root, result, offline=offline, profile=profile, settings=settings).render_release(
        rk, release
    )
    return ReleaseRendering(
        out.name, out.namespace, release.where(), [res.obj for res in out.objects], list(out.findings)
    )


def kustomize_directory(root: Path, directory: str | Path, load_restrictor: str) -> list[dict[str, object]]:
    """``kustomize build DIR`` by the native engine: the objects, in kustomize's output order. Reads stay
    inside the repository holding DIR (:func:`repository_of`), even with ``--load-restrictor none``."""
    if load_restrictor not in ("rootOnly", "none"):
        raise HomeopsError(f"unknown load restrictor {load_restrictor!r}", hint="use rootOnly or none")
    target = Path(directory)
    if not target.is_dir():
        raise HomeopsError(
            f"'{directory}' is not a directory", str(directory), None, "pass a kustomization directory"
        )
    builder = Builder(repository_of(target, root), options=BuildOptions(load_restrictor=load_restrictor))
    resources = builder.build(target)
    from homeops.core import yamlemit  # start-up: the emitter loads only for `build DIR`

    for res in resources:  # kustomize prints through goyaml.v2, which refuses these characters
        bad = yamlemit.unreadable(res.obj)
        if bad is not None:
            raise HomeopsError(
                f"{res.kind}/{res.name}: yaml: control characters are not allowed "
                f"(a string holds {bad!r}, which kustomize cannot print)",
                res.file,
                res.line or None,
                "remove the control character",
            )
    return [r.obj for r in resources]
