"""``homeops kustomize`` and ``build all|ks|hr``: render as kustomize and Flux would."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common
from homeops.core.errors import HomeopsError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from collections.abc import Sequence
    from typing import Any

    from homeops.api import RenderedObject, Workspace

ENABLE_HELM_HINT = (
    "pass --enable-helm: rendering a HelmRelease downloads its chart from the registry or Helm "
    "repository and runs Helm's template engine"
)


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    kustomize = commands.add_parser(
        "kustomize", parents=parents, help="Build one kustomization like 'kustomize build DIR'.",
        description="Build one kustomization: a YAML stream on stdout, equal to `kubectl kustomize DIR`.",
    )  # fmt: skip
    kustomize.add_argument("directory", metavar="DIR", help="The kustomization directory.")
    kustomize.add_argument(
        "--engine", default="native", help="native (default, never falls back) or kubectl."
    )
    common.add_path(kustomize, "Repository root (for file names in errors).")
    kustomize.add_argument(
        "--load-restrictor", default="rootOnly", help="rootOnly (kustomize's default) or none (Flux's)."
    )
    add_redact(kustomize)
    common.add_no_cache(kustomize)
    kustomize.set_defaults(handler=run_kustomize)

    build = commands.add_parser(
        "build", parents=parents, help="Render what Flux would apply (flux-local/flate: build all|ks|hr).",
        description="Render what Flux would apply: the whole cluster (all), one Flux Kustomization or "
        "every one (ks), one HelmRelease's chart or every one (hr, needs --enable-helm).",
    )  # fmt: skip
    build_sub = build.add_subparsers(metavar="all|ks|hr", parser_class=common.Parser)
    build.set_defaults(group_parser=build)
    everything = build_sub.add_parser(
        "all", parents=parents, help="Render every Flux Kustomization of the cluster (and, with "
        "--enable-helm, every HelmRelease's chart)."
    )  # fmt: skip
    _build_options(everything, name=False)
    everything.set_defaults(handler=run_build_ks, name=None, namespace=None)
    ks = build_sub.add_parser(
        "ks", aliases=["kustomization", "kustomizations"], parents=parents,
        help="Render one Flux Kustomization by name, or the whole cluster.",
    )  # fmt: skip
    _build_options(ks, name=True, what="Flux Kustomization")
    ks.set_defaults(handler=run_build_ks)
    hr = build_sub.add_parser(
        "hr", aliases=["helmrelease", "helmreleases"], parents=parents,
        help="Render one HelmRelease's chart with its values, or every one (needs --enable-helm).",
    )  # fmt: skip
    _build_options(hr, name=True, what="HelmRelease")
    common.add_flag(hr, "--offline", "Use only the chart cache; say what is missing.")
    hr.set_defaults(handler=run_build_hr)


def _build_options(parser: argparse.ArgumentParser, *, name: bool, what: str = "") -> None:
    if name:
        parser.add_argument(
            "name", nargs="?", metavar="NAME", help=f"A {what} name (metadata.name; default: every one)."
        )
        parser.add_argument("-n", "--namespace", help=f"Namespace of the {what}.")
    common.add_path(parser)
    common.add_cluster(parser)
    common.add_output(parser, ("yaml", "json"), "yaml")
    common.add_vars(parser)
    common.add_flag(parser, "--enable-helm", "Expand HelmReleases into their objects (downloads charts).")
    common.add_render_settings(parser)
    common.add_skip_kinds(parser)
    add_redact(parser)


def add_redact(parser: argparse.ArgumentParser) -> None:
    common.add_flag(
        parser, "--redact", "Replace Secret values with a placeholder and collapse PEM blocks (for sharing)."
    )


def _dump(objects: Sequence[Any], *, keep: bool = False) -> str:
    """The objects as YAML; with ``keep``, each document's text is kept across runs (only when no given
    values are in play: ``Workspace.keeps_results``)."""
    from homeops.core import yamlemit  # start-up: only when printing

    return yamlemit.dump_all_kept(objects) if keep else yamlemit.dump_all(objects)


def _redacted(objects: Sequence[Any]) -> list[Any]:
    from homeops.api import redact  # start-up: only when printing

    return [redact(obj) for obj in objects]


def _redacted_stream(text: str) -> str:
    """A YAML stream (kubectl's output) with its Secrets redacted."""
    from homeops.core import yamlio  # start-up: only when printing

    return _dump(_redacted([obj for obj in yamlio.load_all(text) if obj is not None]))


def run_kustomize(args: argparse.Namespace) -> int:
    import subprocess  # start-up: loaded when the command runs
    from pathlib import Path

    directory = Path(args.directory)
    if not directory.is_dir():
        raise HomeopsError(
            f"'{directory}' is not a directory", str(directory), None, "pass a kustomization directory"
        )
    if args.engine == "kubectl":
        if args.load_restrictor == "none":  # kubectl would read anywhere: only the native engine is confined
            raise HomeopsError(
                "--load-restrictor none is refused with --engine kubectl: kubectl would read files "
                "outside the repository",
                hint="use the native engine, which reaches the rest of the repository and nothing beyond",
            )
        cmd = ["kubectl", "kustomize", str(directory)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            raise HomeopsError(f"kubectl kustomize: {lines[-1] if lines else 'failed'}", str(directory))
        sys.stdout.write(_redacted_stream(proc.stdout) if args.redact else proc.stdout)
        return 0
    if args.engine != "native":
        raise HomeopsError(f"unknown engine {args.engine!r}", hint="use native or kubectl")
    ws = common.workspace(args)
    objects = ws.kustomize(directory, load_restrictor=args.load_restrictor)
    sys.stdout.write(_dump(_redacted(objects) if args.redact else objects, keep=ws.keeps_results))
    return 0


def run_build_ks(args: argparse.Namespace) -> int:
    output = common.check_choice(args.output, ("yaml", "json"), "output", "build ks")
    ws = common.workspace(args)
    with common.progress("rendering") as tick:
        rendering = ws.render(args.cluster, progress=tick)
    keys = {f"{k.namespace}/{k.name}" for k in rendering.kustomizations
            if args.name is None or (k.name == args.name and args.namespace in (None, k.namespace))}  # fmt: skip
    if not keys and args.name is not None:
        known = ", ".join(sorted({k.name for k in rendering.kustomizations}))
        raise HomeopsError(
            f"no Flux Kustomization named {args.name!r} in cluster {rendering.cluster.name}",
            hint=f"known: {known}",
        )
    if args.name is not None:  # asked for by name: say why one that rendered nothing did not
        for k in rendering.kustomizations:
            if f"{k.namespace}/{k.name}" in keys and k.status == "external" and k.reason:
                common.note(f"Flux Kustomization {k.namespace}/{k.name} is not rendered: {k.reason}")
    if args.enable_helm:
        rendering = ws.expand_releases(rendering, keys)
    skip = common.skip_kinds(args)
    selected = [o for o in rendering.select(args.name, args.namespace) if o.kind not in skip]
    _print_objects(selected, output, redact=args.redact, keep=ws.keeps_results)
    files = {o.file for o in selected}
    errors = [
        f for f in rendering.errors
        if args.name is None
        or keys.intersection(f.extra.get("kss") or [f.extra.get("ks")])
        or ("ks" not in f.extra and f.file in files)
    ]  # fmt: skip
    _note_missing(rendering, keys, errors, nothing_printed=not selected and args.name is None)
    return common.report_errors(errors)


_NAMED_MISSING = 3
"""Kustomizations missing from the output named one per line; more make one line."""


def _note_missing(rendering: Any, keys: set[str], errors: Sequence[Any], *, nothing_printed: bool) -> None:
    """The output lacks the objects of a Flux Kustomization that failed to render for a reason that is
    no error of the repository (a remote resource offline: a warning), which no error line names: say
    so, with why. When nothing at all was printed because every Kustomization's source is external (a
    repository pushed as OCI artifacts), say that too, instead of printing nothing."""
    named = {k for f in errors for k in (f.extra.get("kss") or [f.extra.get("ks")]) if k}
    missing = [
        k
        for k in rendering.kustomizations
        if f"{k.namespace}/{k.name}" in keys
        and k.status == "error"
        and f"{k.namespace}/{k.name}" not in named
    ]
    if (
        len(missing) > _NAMED_MISSING
    ):  # one line, not one per Kustomization (a legacy cluster can miss dozens)
        shown = ", ".join(f"{k.namespace}/{k.name}" for k in missing[:_NAMED_MISSING])
        common.note(
            f"{len(missing)} Flux Kustomizations are not rendered, their objects are not in the output "
            f"({shown} and {len(missing) - _NAMED_MISSING} more; the first: {missing[0].reason}): "
            "'homeops get ks -A' says why for each"
        )
    else:
        for k in missing:
            common.note(
                f"Flux Kustomization {k.namespace}/{k.name} is not rendered, its objects are not in the output: "
                f"{k.reason}"
            )
    external = [
        k for k in rendering.kustomizations if f"{k.namespace}/{k.name}" in keys and k.status == "external"
    ]
    if nothing_printed and external:
        common.note(
            f"nothing rendered in cluster {rendering.cluster.name}: {len(external)} of its {len(keys)} Flux "
            "Kustomizations have a source other than this checkout ('homeops get ks -A' lists them); "
            "--sources NAMESPACE/NAME=DIR renders one whose artifact is a directory of this repository"
        )


def run_build_hr(args: argparse.Namespace) -> int:
    output = common.check_choice(args.output, ("yaml", "json"), "output", "build hr")
    if not args.enable_helm:
        raise HomeopsError("build hr needs --enable-helm", hint=ENABLE_HELM_HINT)
    ws = common.workspace(args, offline=args.offline)
    skip = common.skip_kinds(args)
    if args.name is None:
        return _build_every_release(ws, args, output, skip)
    release = ws.build_release(args.name, args.namespace, cluster=args.cluster)
    if args.redact:
        release = release.redacted()
    objects = [o for o in release.objects if str(o.get("kind") or "") not in skip]
    if output == "yaml":
        sys.stdout.write(_dump(objects, keep=ws.keeps_results))
    else:
        common.print_json({**release.as_json(), "items": objects})
    code = 0
    for f in release.findings:
        if f.severity == "error":
            code = max(code, common.report_errors([f]))
        else:
            common.note(common.finding_line(f))
    return code


def _build_every_release(ws: Workspace, args: argparse.Namespace, output: str, skip: frozenset[str]) -> int:
    """``build hr`` without a name: what every HelmRelease's chart renders (flux-local's ``build hr``)."""
    with common.progress("rendering") as tick:
        rendering = ws.render(args.cluster, helm=True, progress=tick)
    selected = [
        o for o in rendering.objects
        if o.helmrelease is not None and o.kind not in skip
        and (args.namespace is None or o.helmrelease.startswith(args.namespace + "/"))
    ]  # fmt: skip
    _print_objects(selected, output, redact=args.redact, keep=ws.keeps_results)
    return common.report_errors(rendering.errors)


def _print_objects(selected: Sequence[RenderedObject], output: str, *, redact: bool, keep: bool) -> None:
    shown = [o.redacted() for o in selected] if redact else selected
    if output == "yaml":
        sys.stdout.write(_dump([o.object for o in shown], keep=keep))
    else:
        common.print_json({"items": [o.as_json() for o in shown]})
