"""``homeops docs``: keep the generated sections of the context document (CLAUDE.md) true."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    docs = commands.add_parser(
        "docs", parents=parents,
        help="Write the repository facts of the context document (CLAUDE.md) between its markers.",
        description="Generate the repository-facts sections of the context document (clusters, layout, "
        "apps, routes, backups, components, conventions, anti-patterns, procedures) between "
        "'<!-- homeops:begin NAME -->' and '<!-- homeops:end NAME -->' markers; every other line is kept "
        "as it is. --check exits 1 with a unified diff when a section is stale.",
    )  # fmt: skip
    docs.add_argument(
        "--file", default="CLAUDE.md", metavar="FILE",
        help="The Markdown document, relative to the repository root (default: CLAUDE.md).",
    )  # fmt: skip
    common.add_flag(docs, "--check", "Write nothing; exit 1 with the diff when a section is stale.")
    common.add_output(docs, ("text", "json"), "text")
    common.add_vars(docs)
    common.add_path(docs)
    docs.set_defaults(handler=run_docs)


def run_docs(args: argparse.Namespace) -> int:
    output = common.check_choice(args.output, ("text", "json"), "output", "docs")
    ws = common.workspace(args)
    result = ws.docs(args.file, write=not args.check)
    if output == "json":
        common.print_json(result.as_json())
    elif args.check:
        sys.stdout.write(result.diff)
        if result.stale:
            common.say(f"{result.path} is stale: {', '.join(result.stale)} (run 'homeops docs' to update it)")
    elif result.written:
        common.say(f"updated {result.path}: {', '.join(result.stale)}")
    else:
        common.say(f"{result.path} is up to date")
    return 1 if args.check and not result.current else 0
