"""``homeops diff``: the rendered difference between two Git revisions (default: HEAD vs the working tree)."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common
from homeops.core.errors import HomeopsError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any

FORMATS = ("unified", "markdown", "json", "html")


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
        help="unified (default), markdown, json, or html: one self-contained review page (tree, "
        "diffs, signals; works from disk) — write it with -o FILE.",
    )  # fmt: skip
    diff.add_argument(
        "-o", "--output", dest="output_file", metavar="FILE",
        help="Write the output to FILE instead of standard output.",
    )  # fmt: skip
    common.add_flag(
        diff, "--findings",
        "Also run the rules at both revisions: the findings the change introduces and fixes (html: always).",
    )  # fmt: skip
    common.add_flag(
        diff, "--verify-images",
        "Ask each newly referenced image's registry for its manifest (HEAD; Docker config credentials): "
        "verified, missing (404) or unverified (no answer).",
    )  # fmt: skip
    diff.add_argument(
        "--verify-timeout", type=float, default=10.0, metavar="SECONDS",
        help="Timeout of each registry request of --verify-images (default 10).",
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
    diff.add_argument(
        "--link-base", metavar="URL",
        help="html: resource links are URL + file + '#L<line>' (e.g. a forge's blob URL at the head "
        "commit); default: links to the files relative to the page.",
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
        raise HomeopsError(
            f"unknown format {args.output_format!r}", hint="use unified, markdown, json or html"
        )
    if args.limit_bytes is not None and args.limit_bytes < 0:
        raise HomeopsError("--limit-bytes must be positive", hint="pass a size in bytes, or 0 for no limit")
    common.refuse_secrets_in_ci(args.show_secrets)
    if args.show_secrets and args.output_format == "html":
        raise HomeopsError(
            "--show-secrets cannot be used with --format html", hint="a page is shared; drop --show-secrets"
        )
    ws = common.workspace(args)
    with common.progress("rendering") as tick:
        result = ws.diff(
            args.base, args.head, cluster=args.cluster, merge_base=args.merge_base,
            strip_attrs=(args.strip_attrs or "").split(","), helm=args.enable_helm,
            show_secrets=args.show_secrets, progress=tick,
            findings=args.findings or args.output_format == "html", verify_images=args.verify_images,
            verify_timeout=args.verify_timeout,
        )  # fmt: skip
    if args.output_format == "json":
        common.write_output(formats.format_json(result, limit=args.limit_bytes), args.output_file)
    elif args.output_format == "markdown":
        limit = formats.DEFAULT_MARKDOWN_LIMIT if args.limit_bytes is None else args.limit_bytes
        common.write_output(formats.format_markdown(result, limit=limit), args.output_file)
    elif args.output_format == "html":
        from homeops.web.review import review_page  # start-up: loaded when writing the page

        page = review_page(result, root=ws.root, page_path=args.output_file, link_base=args.link_base)
        common.write_output(page, args.output_file)
    else:
        color = common.use_color() and not args.output_file
        common.write_output(
            formats.format_unified(result, color=color, limit=args.limit_bytes), args.output_file
        )
        for side, f in result.render_errors:
            label = result.base_label if side == "base" else result.head_label
            print(common.error_line(f"{common.finding_line(f)} (only at {side}: {label})"), file=sys.stderr)
        for text in result.notes:
            common.note(text)
    unsure = [img for img in result.images if img.check is not None and img.check.status != "verified"]
    for img in unsure:
        assert img.check is not None
        text = f"image {img.check.reference} is {img.check.status}" + (
            f": {img.check.message}" if img.check.message else ""
        )
        if img.check.status == "missing":
            print(common.error_line(text), file=sys.stderr)
        else:
            common.note(text, "warning")
    sys.stdout.flush()
    missing_images = any(img.check is not None and img.check.status == "missing" for img in result.images)
    return 1 if result.new_head_errors or missing_images or (args.exit_code and result.changes) else 0
