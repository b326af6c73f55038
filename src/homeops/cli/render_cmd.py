"""``homeops kustomize``, ``build ks|hr`` and ``get``: render as kustomize and Flux would, and list."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common
from homeops.core.errors import HomeopsError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from collections.abc import Callable, Sequence
    from typing import Any

    from homeops.api import Workspace

ENABLE_HELM_HINT = (
    "pass --enable-helm: rendering a HelmRelease downloads its chart from the registry or Helm "
    "repository and runs Helm's template engine"
)

GET_COLUMNS: dict[str, tuple[list[str], list[str]]] = {
    "ks": (
        ["cluster", "namespace", "name", "path", "status"],
        ["cluster", "namespace", "name", "path", "targetNamespace", "dependsOn", "suspend", "objects",
         "status", "source"],
    ),
    "hr": (
        ["cluster", "namespace", "name", "chart", "version", "ks"],
        ["cluster", "namespace", "name", "chart", "version", "sourceKind", "sourceName", "ks", "source"],
    ),
    "sources": (
        ["cluster", "namespace", "name", "kind", "url"],
        ["cluster", "namespace", "name", "kind", "url", "ref", "ks", "source"],
    ),
    "images": (
        ["cluster", "image", "pinned", "kind", "name"],
        ["cluster", "image", "pinned", "kind", "namespace", "name", "container", "origin", "source"],
    ),
}  # fmt: skip
GET_HELP = {
    "ks": "Flux Kustomizations: name, path, dependencies, source line.",
    "hr": "HelmReleases: chart, version, source line.",
    "sources": "Flux sources (Git, OCI, Helm repositories).",
    "images": "Container images in rendered workloads and chart values.",
}


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
    kustomize.set_defaults(handler=run_kustomize)

    build = commands.add_parser("build", parents=parents, help="Render what Flux would apply.")
    build_sub = build.add_subparsers(metavar="ks|hr", parser_class=common.Parser)
    build.set_defaults(group_parser=build)
    ks = build_sub.add_parser(
        "ks", parents=parents, help="Render one Flux Kustomization by name, or the whole cluster."
    )
    ks.add_argument(
        "name", nargs="?", metavar="NAME", help="A Flux Kustomization name (default: the whole cluster)."
    )
    common.add_path(ks)
    common.add_cluster(ks)
    ks.add_argument("-n", "--namespace", help="Namespace of the Kustomization.")
    common.add_output(ks, ("yaml", "json"), "yaml")
    common.add_vars(ks)
    common.add_flag(ks, "--enable-helm", "Expand HelmReleases into their objects (downloads charts).")
    add_redact(ks)
    ks.set_defaults(handler=run_build_ks)

    hr = build_sub.add_parser(
        "hr", parents=parents, help="Render one HelmRelease's chart with its values (needs --enable-helm)."
    )
    hr.add_argument("name", metavar="NAME", help="The HelmRelease name.")
    hr.add_argument("-n", "--namespace", help="Namespace of the HelmRelease.")
    common.add_path(hr)
    common.add_cluster(hr)
    common.add_output(hr, ("yaml", "json"), "yaml")
    common.add_vars(hr)
    common.add_flag(hr, "--enable-helm", "Allow fetching the chart (network) and rendering it.")
    common.add_flag(hr, "--offline", "Use only the chart cache; say what is missing.")
    add_redact(hr)
    hr.set_defaults(handler=run_build_hr)

    get = commands.add_parser("get", parents=parents, help="List objects of the rendered cluster.")
    get_sub = get.add_subparsers(metavar="ks|hr|sources|images|clusters", parser_class=common.Parser)
    get.set_defaults(group_parser=get)
    for what, help_text in GET_HELP.items():
        sub = get_sub.add_parser(what, parents=parents, help=help_text, description=help_text)
        common.add_path(sub)
        common.add_cluster(sub, "Cluster name or directory (default: every cluster).")
        sub.add_argument("-A", "--all-namespaces", action="store_true", help="Every namespace (the default).")
        sub.add_argument("-n", "--namespace", help="Only objects of this namespace.")
        common.add_output(sub, ("table", "wide", "json"), "table")
        common.add_vars(sub)
        common.add_strict(sub)
        sub.set_defaults(handler=run_get, what=what)
    clusters = get_sub.add_parser(
        "clusters", parents=parents, help="Clusters of the repository and their root directories."
    )
    common.add_path(clusters)
    common.add_output(clusters, ("table", "json"), "table")
    clusters.set_defaults(handler=run_get_clusters)


def add_redact(parser: argparse.ArgumentParser) -> None:
    common.add_flag(
        parser, "--redact", "Replace Secret values with a placeholder and collapse PEM blocks (for sharing)."
    )


def _dump(objects: Sequence[Any]) -> str:
    from homeops.core import yamlemit  # start-up: only when printing

    return yamlemit.dump_all(objects)


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
        cmd = ["kubectl", "kustomize", str(directory)]
        if args.load_restrictor == "none":
            cmd.append("--load-restrictor=LoadRestrictionsNone")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            raise HomeopsError(f"kubectl kustomize: {lines[-1] if lines else 'failed'}", str(directory))
        sys.stdout.write(_redacted_stream(proc.stdout) if args.redact else proc.stdout)
        return 0
    if args.engine != "native":
        raise HomeopsError(f"unknown engine {args.engine!r}", hint="use native or kubectl")
    objects = common.workspace(args).kustomize(directory, load_restrictor=args.load_restrictor)
    sys.stdout.write(_dump(_redacted(objects) if args.redact else objects))
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
    if args.enable_helm:
        rendering = ws.expand_releases(rendering, keys)
    selected = rendering.select(args.name, args.namespace)
    if args.redact:
        selected = [o.redacted() for o in selected]
    if output == "yaml":
        sys.stdout.write(_dump([o.object for o in selected]))
    else:
        common.print_json({"items": [o.as_json() for o in selected]})
    files = {o.file for o in selected}
    errors = [
        f for f in rendering.errors
        if args.name is None
        or keys.intersection(f.extra.get("kss") or [f.extra.get("ks")])
        or ("ks" not in f.extra and f.file in files)
    ]  # fmt: skip
    return common.report_errors(errors)


def run_build_hr(args: argparse.Namespace) -> int:
    output = common.check_choice(args.output, ("yaml", "json"), "output", "build hr")
    if not args.enable_helm:
        raise HomeopsError("build hr needs --enable-helm", hint=ENABLE_HELM_HINT)
    ws = common.workspace(args, offline=args.offline)
    release = ws.build_release(args.name, args.namespace, cluster=args.cluster)
    if args.redact:
        release = release.redacted()
    if output == "yaml":
        sys.stdout.write(_dump(release.objects))
    else:
        common.print_json(release.as_json())
    code = 0
    for f in release.findings:
        if f.severity == "error":
            print(common.error_line(common.finding_line(f)), file=sys.stderr)
            code = 1
        else:
            common.note(common.finding_line(f))
    return code


def _rows(ws: Workspace, what: str, cluster: str | None) -> list[Any]:
    listing: dict[str, Callable[[str | None], list[Any]]] = {
        "ks": ws.kustomizations,
        "hr": ws.helmreleases,
        "sources": ws.sources,
        "images": ws.image_uses,
    }
    return listing[what](cluster)


def run_get(args: argparse.Namespace) -> int:
    output = common.check_choice(args.output, ("table", "wide", "json"), "output")
    ws = common.workspace(args)
    namespace = None if args.all_namespaces else args.namespace
    with common.progress("rendering") as tick:
        renders = ws.render_all(args.cluster, progress=tick)
    rows = [r.as_json() for r in _rows(ws, args.what, args.cluster)]
    rows = [r for r in rows if namespace is None or r.get("namespace") == namespace]
    columns, wide = GET_COLUMNS[args.what]
    common.print_rows(rows, wide if output == "wide" else columns, output)
    return common.report_listing(renders, strict=args.strict)


def run_get_clusters(args: argparse.Namespace) -> int:
    output = common.check_choice(args.output, ("table", "wide", "json"), "output")
    rows = [c.as_json() for c in common.workspace(args).clusters()]
    common.print_rows(rows, ["name", "path"], output)
    return 0
