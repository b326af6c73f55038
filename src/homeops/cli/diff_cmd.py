"""``homeops diff``: the rendered difference between two Git revisions (default: HEAD vs the working tree)."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common
from homeops.core.errors import HomeopsError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any

FORMATS = ("unified", "markdown", "json")


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    diff = commands.add_parser(
        "diff", parents=parents, help="The rendered difference Flux would apply between two revisions.",
        description="The rendered difference Flux would apply between two revisions, object by object.",
    )  # fmt: skip
    diff.add_argument("--base", metavar="REF", help="Base revision (default: HEAD).")
    diff.add_argument("--head", metavar="REF", help="Head revision (default: the working tree).")
    common.add_flag(diff, "--merge-base", "Compare from the merge base of base and head.")
    common.add_cluster(diff, "One cluster (name or directory); default: all.")
    diff.add_argument(
        "--format", dest="output_format", default="unified", metavar="FORMAT",
        help="unified (default), markdown or json.",
    )  # fmt: skip
    diff.add_argument(
        "--strip-attrs", metavar="LIST",
        help="Comma-separated keys removed before comparing (labels, annotations, any map key), "
        "e.g. helm.sh/chart,checksum/config,app.kubernetes.io/version.",
    )  # fmt: skip
    diff.add_argument(
        "--limit-bytes", type=int, metavar="N",
        help="markdown: the whole report's size (default 60000); unified/json: each object's diff.",
    )  # fmt: skip
    common.add_flag(diff, "--exit-code", "Exit 1 when anything changed.")
    common.add_flag(diff, "--enable-helm", "Expand HelmReleases into their objects (downloads charts).")
    common.add_flag(
        diff, "--show-secrets",
        "Show Secret values and PEM blocks unredacted (local use only; refused when CI is set).",
    )  # fmt: skip
    common.add_vars(diff)
    common.add_path(diff)
    diff.set_defaults(handler=run_diff)


def run_diff(args: argparse.Namespace) -> int:
    from homeops.diff import formats  # start-up: loaded when diffing

    if args.output_format not in FORMATS:
        raise HomeopsError(f"unknown format {args.output_format!r}", hint="use unified, markdown or json")
    if args.limit_bytes is not None and args.limit_bytes < 0:
        raise HomeopsError("--limit-bytes must be positive", hint="pass a size in bytes, or 0 for no limit")
    common.refuse_secrets_in_ci(args.show_secrets)
    ws = common.workspace(args)
    with common.progress("rendering") as tick:
        result = ws.diff(
            args.base, args.head, cluster=args.cluster, merge_base=args.merge_base,
            strip_attrs=(args.strip_attrs or "").split(","), helm=args.enable_helm,
            show_secrets=args.show_secrets, progress=tick,
        )  # fmt: skip
    if args.output_format == "json":
        sys.stdout.write(formats.format_json(result, limit=args.limit_bytes))
    elif args.output_format == "markdown":
        limit = formats.DEFAULT_MARKDOWN_LIMIT if args.limit_bytes is None else args.limit_bytes
        sys.stdout.write(formats.format_markdown(result, limit=limit))
    else:
        sys.stdout.write(formats.format_unified(result, color=common.use_color(), limit=args.limit_bytes))
        for side, f in result.render_errors:
            label = result.base_label if side == "base" else result.head_label
            print(common.error_line(f"{common.finding_line(f)} (only at {side}: {label})"), file=sys.stderr)
        for text in result.notes:
            common.note(text)
    sys.stdout.flush()
    return 1 if result.new_head_errors or (args.exit_code and result.changes) else 0
