"""``homeops images list|pin``: every image the cluster runs, and pinning tags to registry digests."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any

LIST_COLUMNS = ["image", "pinned", "kind", "namespace", "name", "source"]
LIST_WIDE = ["cluster", "image", "pinned", "kind", "namespace", "name", "container", "origin", "source"]
PIN_COLUMNS = ["source", "image", "status", "digest"]


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    images = commands.add_parser("images", parents=parents, help="List and pin container images.")
    images_sub = images.add_subparsers(metavar="list|pin", parser_class=common.Parser)
    images.set_defaults(group_parser=images)
    listing = images_sub.add_parser(
        "list", parents=parents,
        help="Every image in rendered workloads and chart values, with file:line and whether it is pinned.",
    )  # fmt: skip
    common.add_path(listing)
    common.add_cluster(listing, "Cluster name or directory (default: every cluster).")
    common.add_output(listing, ("table", "wide", "json"), "table")
    common.add_vars(listing)
    common.add_flag(listing, "--enable-helm", "Include workloads rendered from charts (downloads charts).")
    common.add_flag(listing, "--offline", "With --enable-helm: use only the chart cache.")
    common.add_strict(listing)
    listing.set_defaults(handler=run_list)
    pin = images_sub.add_parser(
        "pin", parents=parents,
        help="Resolve each unpinned tag to the digest its registry serves; a diff, or --write to apply it.",
    )  # fmt: skip
    common.add_path(pin)
    common.add_cluster(pin, "Cluster name or directory (default: every cluster).")
    common.add_flag(pin, "--write", "Rewrite the files in place.")
    common.add_output(pin, ("diff", "table", "json"), "diff")
    common.add_vars(pin)
    pin.set_defaults(handler=run_pin)


def run_list(args: argparse.Namespace) -> int:
    output = common.check_choice(args.output, ("table", "wide", "json"), "output")
    ws = common.workspace(args, offline=args.offline)
    with common.progress("rendering") as tick:
        renders = ws.render_all(args.cluster, helm=args.enable_helm, progress=tick)
    rows = [row.as_json() for row in ws.images(args.cluster, helm=args.enable_helm)]
    common.print_rows(rows, LIST_WIDE if output == "wide" else LIST_COLUMNS, output)
    return common.report_listing(renders, strict=args.strict)


def run_pin(args: argparse.Namespace) -> int:
    output = common.check_choice(args.output, ("diff", "table", "json"), "output", "images pin")
    ws = common.workspace(args)
    result = ws.pin_images(cluster=args.cluster, write=args.write)
    if output == "json":
        common.print_json(result.as_json())
    elif output == "table":
        common.print_rows(result.rows(), PIN_COLUMNS, "table")
    elif args.write:
        for edit in result.edits:
            count = sum(1 for row in result.rows() if row["file"] == edit.path and row["status"] == "pinned")
            print(common.escape(f"pinned {count} image{'s' if count != 1 else ''} in {edit.path}"))
    else:
        sys.stdout.write(result.diff)
    from homeops.core.limits import LimitError  # start-up: loaded with the library, when the command runs

    for error in result.errors:
        print(common.error_line(error.one_line()), file=sys.stderr)
    code = 0 if not result.errors else 2 if any(isinstance(e, LimitError) for e in result.errors) else 1
    return max(code, common.report_errors(ws.render_findings(args.cluster)))
