"""``homeops get ks|hr|sources|images|clusters|all``: list what the rendered clusters hold.

Names and outputs as flux-local and flate users know them: ``get ks [NAME] -o wide``, ``get hr -A``,
``get cluster``, ``-o yaml|json|name``; ``get images -o name`` is one image per line, deduplicated.
"""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from collections.abc import Callable, Sequence
    from typing import Any

    from homeops.api import Workspace

OUTPUTS = ("table", "wide", "json", "yaml", "name")
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
    "images": "Container images in rendered workloads and chart values (-o name: one per line).",
}
ALIASES = {
    "ks": ["kustomization", "kustomizations"],
    "hr": ["helmrelease", "helmreleases"],
    "sources": ["source"],
    "images": ["image"],
}
NAME_KEY = {"ks": "name", "hr": "name", "sources": "name", "images": "image"}


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    get = commands.add_parser("get", parents=parents, help="List objects of the rendered cluster.")
    get_sub = get.add_subparsers(metavar="ks|hr|sources|images|clusters|all", parser_class=common.Parser)
    get.set_defaults(group_parser=get)
    for what, help_text in GET_HELP.items():
        sub = get_sub.add_parser(
            what, aliases=ALIASES[what], parents=parents, help=help_text, description=help_text
        )
        if what in ("ks", "hr"):
            sub.add_argument(
                "name", nargs="?", metavar="NAME", help="Only the one of this name (metadata.name)."
            )
        _listing_options(sub)
        sub.set_defaults(handler=run_get, what=what)
    everything = get_sub.add_parser(
        "all", parents=parents, help="How many Kustomizations, HelmReleases, sources and images each "
        "cluster renders (flate's get all).",
    )  # fmt: skip
    _listing_options(everything, outputs=("table", "json", "yaml"))
    everything.set_defaults(handler=run_get_all)
    clusters = get_sub.add_parser(
        "clusters", aliases=["cluster", "cl"], parents=parents,
        help="Clusters of the repository and their root directories.",
    )  # fmt: skip
    common.add_path(clusters)
    common.add_output(clusters, ("table", "wide", "json", "yaml", "name"), "table")
    common.add_no_cache(clusters)
    clusters.set_defaults(handler=run_get_clusters)


def _listing_options(parser: argparse.ArgumentParser, outputs: Sequence[str] = OUTPUTS) -> None:
    common.add_path(parser)
    common.add_cluster(parser, "Cluster name or directory (default: every cluster).")
    parser.add_argument(
        "-A", "--all-namespaces", action="store_true", help="Every namespace (the default; overrides -n)."
    )
    parser.add_argument("-n", "--namespace", help="Only objects of this namespace.")
    common.add_output(parser, outputs, "table")
    common.add_vars(parser)
    common.add_render_settings(parser, helm=False)
    common.add_strict(parser)


def _rows(ws: Workspace, what: str, cluster: str | None) -> list[Any]:
    listing: dict[str, Callable[[str | None], list[Any]]] = {
        "ks": ws.kustomizations,
        "hr": ws.helmreleases,
        "sources": ws.sources,
        "images": ws.image_uses,
    }
    return listing[what](cluster)


def print_listing(rows: Sequence[dict[str, Any]], columns: Sequence[str], output: str, name_key: str) -> None:
    """Rows as a table, ``{"items": [...]}``, a YAML stream (one document per row) or one name a line."""
    if output == "yaml":
        from homeops.core import yamlemit  # start-up: only when printing YAML

        sys.stdout.write(yamlemit.dump_all(rows))
    elif output == "name":
        names = dict.fromkeys(str(r.get(name_key) or "") for r in rows)
        sys.stdout.write("".join(f"{common.escape(n)}\n" for n in names if n))
    else:
        common.print_rows(rows, columns, output)


def run_get(args: argparse.Namespace) -> int:
    output = common.check_choice(args.output, OUTPUTS, "output", f"get {args.what}")
    ws = common.workspace(args)
    namespace = None if args.all_namespaces else args.namespace
    with common.progress("rendering") as tick:
        renders = ws.render_all(args.cluster, progress=tick)
    rows = [r.as_json() for r in _rows(ws, args.what, args.cluster)]
    rows = [r for r in rows if namespace is None or r.get("namespace") == namespace]
    name = getattr(args, "name", None)
    if name is not None:
        rows = [r for r in rows if r.get("name") == name]
        if not rows:
            from homeops.core.errors import HomeopsError

            what = "Flux Kustomization" if args.what == "ks" else "HelmRelease"
            raise HomeopsError(f"no {what} named {name!r}", hint="'homeops get " + args.what + "' lists them")
    if args.what == "images" and output == "name":
        rows = sorted(rows, key=lambda r: str(r.get("image")))
    columns, wide = GET_COLUMNS[args.what]
    print_listing(rows, wide if output == "wide" else columns, output, NAME_KEY[args.what])
    return common.report_listing(renders, strict=args.strict)


def run_get_all(args: argparse.Namespace) -> int:
    output = common.check_choice(args.output, ("table", "json", "yaml"), "output", "get all")
    ws = common.workspace(args)
    namespace = None if args.all_namespaces else args.namespace
    with common.progress("rendering") as tick:
        renders = ws.render_all(args.cluster, progress=tick)
    rows = []
    for rendering in renders:
        cluster = rendering.cluster.name
        counts: dict[str, Any] = {"cluster": cluster}
        for what, key in (("ks", "kustomizations"), ("hr", "helmReleases"), ("sources", "sources")):
            found = [r.as_json() for r in _rows(ws, what, cluster)]
            counts[key] = sum(1 for r in found if namespace is None or r.get("namespace") == namespace)
        counts["images"] = len({i.image for i in ws.image_uses(cluster) if namespace in (None, i.namespace)})
        counts["errors"] = len(rendering.errors)
        rows.append(counts)
    columns = ["cluster", "kustomizations", "helmReleases", "sources", "images", "errors"]
    print_listing(rows, columns, output, "cluster")
    return common.report_listing(renders, strict=args.strict)


def run_get_clusters(args: argparse.Namespace) -> int:
    output = common.check_choice(
        args.output, ("table", "wide", "json", "yaml", "name"), "output", "get clusters"
    )
    rows = [c.as_json() for c in common.workspace(args).clusters()]
    print_listing(rows, ["name", "path"], output, "name")
    return 0
