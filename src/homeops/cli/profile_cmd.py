"""``homeops profile infer``: the conventions the repository itself follows, as ``.homeops.yaml``."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    profile = commands.add_parser(
        "profile", parents=parents, help="The conventions homeops checks against.",
        description="The conventions homeops checks against (the profile).",
    )  # fmt: skip
    profile_sub = profile.add_subparsers(metavar="infer", parser_class=common.Parser)
    profile.set_defaults(group_parser=profile)
    infer = profile_sub.add_parser(
        "infer", parents=parents,
        help="Write the profile the repository itself follows, as .homeops.yaml text.",
        description="Read the repository's conventions from its render (secret stores, backup "
        "components, gateways and listeners, domain, app-template version, namespaces, script "
        "locations) and print them as .homeops.yaml text, each key under a comment saying where it "
        "was read. 'check' uses them when the repository has no .homeops.yaml.",
    )  # fmt: skip
    common.add_path(infer)
    common.add_vars(infer)
    common.add_flag(infer, "--write", "Write .homeops.yaml (refused when it exists).")
    infer.set_defaults(handler=run_infer)


def run_infer(args: argparse.Namespace) -> int:
    ws = common.workspace(args)
    with common.progress("rendering") as tick:
        inferred = ws.infer_profile(progress=tick)
    text = inferred.text()
    if not args.write:
        sys.stdout.write(text)
        return 0
    written = ws.write_profile(text)
    common.say(f"wrote {written}")
    return 0
