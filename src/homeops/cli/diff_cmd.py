"""``homeops diff [all|ks|hr|images] [NAME]``: the rendered difference between two revisions.

Default: ``HEAD`` against the working tree; ``--base``/``--head`` name revisions, ``--path-orig DIR``
compares another copy of the repository instead (flux-local's and flate's option); ``--format html`` is
the self-contained review page. ``diff ks NAME`` and
``diff hr NAME`` narrow the diff to what one Flux Kustomization or HelmRelease renders; ``diff images``
prints the images the change adds (flate's pre-pull list). The options may come before or after the
subcommand.

Never silent: render problems of both sides are printed (those of one side as errors, those both have
as warnings), and when a cluster, a Kustomization or a chart did not render the diff says what it could
not compare and why, and exits 2 (1 with ``--exit-code``).
"""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common
from homeops.core.errors import HomeopsError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any

    from homeops.api import DiffResult, Workspace

FORMATS = ("unified", "markdown", "json", "html")
OUTPUT_ALIASES = {"diff": "unified", "github": "markdown"}  # flux-local's -o diff, flate's -o github
OUTPUT_NAMES = frozenset({*FORMATS, *OUTPUT_ALIASES})
IMAGE_OUTPUTS = ("name", "json", "list", "yaml")
EXIT_UNCOMPARABLE = 2


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    diff = commands.add_parser(
        "diff", parents=parents,
        help="The rendered difference Flux would apply between two revisions (or --path-orig DIR).",
        description="The rendered difference Flux would apply between two revisions, object by object: "
        "everything (all, the default), what Flux Kustomizations apply (ks [NAME]), what HelmReleases "
        "render (hr [NAME]), or the images the change adds (images).",
    )  # fmt: skip
    _diff_options(diff, top=True)
    diff.set_defaults(handler=run_diff, producer=None, name=None)
    sub = diff.add_subparsers(metavar="all|ks|hr|images", parser_class=common.Parser)
    every = sub.add_parser(
        "all", parents=parents, argument_default=argparse.SUPPRESS,
        help="Every changed object (the same as no subcommand).",
    )  # fmt: skip
    _diff_options(every, top=False)
    for producer, aliases, what in (
        ("ks", ["kustomization", "kustomizations"], "Flux Kustomization"),
        ("hr", ["helmrelease", "helmreleases"], "HelmRelease"),
    ):
        parser = sub.add_parser(
            producer, aliases=aliases, parents=parents, argument_default=argparse.SUPPRESS,
            help=f"What {what}s render (one {what} with NAME)"
            + (" (needs --enable-helm)." if producer == "hr" else "."),
        )  # fmt: skip
        parser.add_argument("name", nargs="?", metavar="NAME", help=f"A {what} name (metadata.name).")
        _diff_options(parser, top=False)
        parser.set_defaults(producer=producer)
    images = sub.add_parser(
        "images", parents=parents, argument_default=argparse.SUPPRESS,
        help="The images the change adds (to pre-pull): -o name (one a line), json ({\"items\": [...]}), "
        "list (a bare JSON array, flate's -o json), yaml.",
    )  # fmt: skip
    _diff_options(images, top=False, outputs=IMAGE_OUTPUTS)
    common.add_flag(images, "--include-removed", "Also the images only the base uses.")
    images.set_defaults(handler=run_diff_images, include_removed=False)


def _diff_options(
    parser: argparse.ArgumentParser, *, top: bool, outputs: tuple[str, ...] = (*FORMATS, "diff", "github")
) -> None:
    """The options of ``diff``, on the command and on each subcommand (where their defaults are
    suppressed, so that an option given before the subcommand is kept)."""
    parser.add_argument(
        "--base", "--branch-orig", dest="base", metavar="REF", help="Base revision (default: HEAD)."
    )
    parser.add_argument("--head", metavar="REF", help="Head revision (default: the working tree).")
    parser.add_argument(
        "--path-orig", metavar="DIR",
        help="Compare with this directory (another copy of the repository) instead of a revision.",
    )  # fmt: skip
    common.add_flag(parser, "--merge-base", "Compare from the merge base of base and head.")
    common.add_cluster(parser, "One cluster (name or directory); default: all.")
    parser.add_argument(
        "-n", "--namespace", help="Only objects of this namespace's Kustomizations/HelmReleases."
    )
    if outputs == IMAGE_OUTPUTS:
        common.add_output(parser, outputs, None)  # name when none is given
    else:
        parser.add_argument(
            "--format", dest="output_format", default="unified" if top else argparse.SUPPRESS,
            metavar="FORMAT", help="unified (default; -o diff), markdown (-o github), json, or html: one "
            "self-contained review page (tree, diffs, signals; works from disk), written with -o FILE.",
        )  # fmt: skip
        parser.add_argument(
            "-o", "--output", dest="output", metavar="FORMAT|FILE",
            help="A format name (unified, diff, markdown, github, json, html: as --format, flux-local's "
            "and flate's -o) or else a FILE to write the output to.",
        )  # fmt: skip
        parser.add_argument(
            "--output-file", metavar="FILE", help="Write the output to FILE instead of standard output."
        )
        common.add_flag(
            parser, "--findings",
            "Also run the rules at both revisions: the findings the change introduces and fixes (html: always).",
        )  # fmt: skip
        common.add_flag(
            parser, "--verify-images",
            "Ask each newly referenced image's registry for its manifest (HEAD; Docker config credentials): "
            "verified, missing (404) or unverified (no answer).",
        )  # fmt: skip
        parser.add_argument(
            "--verify-timeout", type=float, default=10.0 if top else argparse.SUPPRESS, metavar="SECONDS",
            help="Timeout of each registry request of --verify-images (default 10).",
        )  # fmt: skip
        parser.add_argument(
            "--link-base", metavar="URL",
            help="html: resource links are URL + file + '#L<line>' (e.g. a forge's blob URL at the head "
            "commit); default: links to the files relative to the page.",
        )  # fmt: skip
    parser.add_argument(
        "--strip-attrs", metavar="LIST",
        help="Comma-separated keys removed before comparing (labels, annotations, any map key), "
        "e.g. helm.sh/chart,checksum/config,app.kubernetes.io/version.",
    )  # fmt: skip
    parser.add_argument(
        "--strip-attr", action="append", metavar="KEY",
        help="One key removed before comparing (flate's spelling; repeatable, added to --strip-attrs).",
    )  # fmt: skip
    parser.add_argument(
        "--limit-bytes", type=int, metavar="N",
        help="markdown: the whole report's size (default 60000); unified/json: each object's diff.",
    )  # fmt: skip
    common.add_flag(
        parser, "--exit-code", "Exit 1 when anything changed (and when something could not be compared)."
    )
    common.add_flag(parser, "--enable-helm", "Expand HelmReleases into their objects (downloads charts).")
    common.add_flag(
        parser, "--show-secrets",
        "Show Secret values and PEM blocks unredacted (local use only; refused when CI is set).",
    )  # fmt: skip
    common.add_vars(parser)
    common.add_path(parser)
    common.add_render_settings(parser)
    common.add_skip_kinds(parser)
    if not top:  # argparse gives BooleanOptionalAction an explicit default: suppress it here too
        parser.set_defaults(**{a.dest: argparse.SUPPRESS for a in parser._actions if a.default is False})


def _compute(args: argparse.Namespace, *, findings: bool = False) -> tuple[Workspace, DiffResult]:
    if args.limit_bytes is not None and args.limit_bytes < 0:
        raise HomeopsError("--limit-bytes must be positive", hint="pass a size in bytes, or 0 for no limit")
    if args.path_orig is not None and (args.base or args.head or args.merge_base):
        raise HomeopsError("--path-orig compares directories", hint="drop --base, --head and --merge-base")
    common.refuse_secrets_in_ci(args.show_secrets)
    ws = common.workspace(args)
    with common.progress("rendering") as tick:
        result = ws.diff(
            args.base, args.head, cluster=args.cluster, merge_base=args.merge_base,
            strip_attrs=[*(args.strip_attrs or "").split(","), *(args.strip_attr or [])], helm=args.enable_helm,
            show_secrets=args.show_secrets, progress=tick, base_path=args.path_orig, findings=findings,
            verify_images=getattr(args, "verify_images", False),
            verify_timeout=getattr(args, "verify_timeout", 10.0),
        )  # fmt: skip
    return ws, result


def _format_and_file(args: argparse.Namespace) -> tuple[str, str | None]:
    """``--format``, ``--output-file`` and ``-o`` (a format name, as flux-local and flate use it, or a
    file, as the review page's ``-o page.html`` does)."""
    fmt, output_file = args.output_format, args.output_file
    if args.output is not None:
        if args.output in OUTPUT_NAMES:
            fmt = args.output
        elif output_file is not None:
            raise HomeopsError(f"-o {args.output!r} and --output-file both name a file", hint="pass one")
        else:
            output_file = args.output
    fmt = OUTPUT_ALIASES.get(fmt, fmt)
    if fmt not in FORMATS:
        raise HomeopsError(
            f"unknown format {fmt!r}", hint="use unified (or diff), markdown (or github), json or html"
        )
    return fmt, output_file


def run_diff(args: argparse.Namespace) -> int:
    from homeops.api import narrow_diff  # start-up: loaded when diffing
    from homeops.diff import formats, scope

    fmt, output_file = _format_and_file(args)
    if args.producer == "hr" and not args.enable_helm:
        raise HomeopsError(
            "diff hr needs --enable-helm",
            hint="pass --enable-helm: HelmReleases are compared by rendering their charts",
        )
    if args.show_secrets and fmt == "html":
        raise HomeopsError(
            "--show-secrets cannot be used with --format html", hint="a page is shared; drop --show-secrets"
        )
    ws, result = _compute(args, findings=args.findings or fmt == "html")
    if args.name is not None and not scope.known(result, args.producer, args.name, args.namespace):
        kind = "Flux Kustomization" if args.producer == "ks" else "HelmRelease"
        known = ", ".join(scope.names(result, args.producer)) or "none"
        raise HomeopsError(f"no {kind} named {args.name!r} at either side", hint=f"known: {known}")
    result = narrow_diff(
        result, producer=args.producer, name=args.name, namespace=args.namespace,
        skip_kinds=common.skip_kinds(args),
    )  # fmt: skip
    if fmt == "json":
        common.write_output(formats.format_json(result, limit=args.limit_bytes), output_file)
    elif fmt == "markdown":
        limit = formats.DEFAULT_MARKDOWN_LIMIT if args.limit_bytes is None else args.limit_bytes
        common.write_output(formats.format_markdown(result, limit=limit), output_file)
    elif fmt == "html":
        from homeops.web.review import review_page  # start-up: loaded when writing the page

        page = review_page(result, root=ws.root, page_path=output_file, link_base=args.link_base)
        common.write_output(page, output_file)
    else:
        color = common.use_color() and not output_file
        common.write_output(formats.format_unified(result, color=color, limit=args.limit_bytes), output_file)
    sys.stdout.flush()
    report_problems(result)
    return exit_code(result, exit_code_flag=args.exit_code, changed=bool(result.changes))


def run_diff_images(args: argparse.Namespace) -> int:
    output = common.check_choice(args.output or "name", IMAGE_OUTPUTS, "output", "diff images")
    _ws, result = _compute(args)
    images = result.added_images(include_removed=args.include_removed)
    if output == "json":  # the contract's shape for JSON lists
        common.print_json({"items": images})
    elif output == "list":  # a bare JSON array, as flate's -o json prints it, for pre-pull scripts
        common.print_json(images)
    elif output == "yaml":
        from homeops.core import yamlemit  # start-up: only when printing YAML

        sys.stdout.write(yamlemit.dump(images))
    else:
        sys.stdout.write("".join(f"{common.escape(i)}\n" for i in images))
    sys.stdout.flush()
    report_problems(result)
    return exit_code(result, exit_code_flag=args.exit_code, changed=bool(images))


def report_problems(result: DiffResult) -> None:
    """Every render problem on stderr: one side's as errors, both sides' as warnings, then the notes
    (among them what could not be compared, and why)."""
    for side, f in result.render_errors:
        label = result.base_label if side == "base" else result.head_label
        print(common.error_line(f"{common.finding_line(f)} (only at {side}: {label})"), file=sys.stderr)
    for f in result.shared_errors:
        common.note(f"{common.finding_line(f)} (at both sides)", "warning")
    for text in result.notes:
        common.note(text)
    for img in result.images:
        if img.check is None or img.check.status == "verified":
            continue
        text = f"image {img.check.reference} is {img.check.status}" + (
            f": {img.check.message}" if img.check.message else ""
        )
        if img.check.status == "missing":
            print(common.error_line(text), file=sys.stderr)
        else:
            common.note(text, "warning")


def exit_code(result: DiffResult, *, exit_code_flag: bool, changed: bool) -> int:
    """2 when part of the clusters could not be compared (1 with ``--exit-code``), 1 for a render error
    only the head has, or anything changed with ``--exit-code``; else 0."""
    if result.unrendered:
        return 1 if exit_code_flag else EXIT_UNCOMPARABLE
    missing_images = any(img.check is not None and img.check.status == "missing" for img in result.images)
    return 1 if result.new_head_errors or missing_images or (exit_code_flag and changed) else 0
