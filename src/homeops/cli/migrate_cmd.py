"""``homeops migrate``: move a legacy app into the modern pattern (a diff, or ``--write``)."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    migrate = commands.add_parser(
        "migrate", parents=parents, help="Move a legacy app into the modern pattern.",
        description="Move a legacy app into the modern pattern; without --write, print the diff and the "
        "manual steps.",
    )  # fmt: skip
    migrate.add_argument(
        "target", metavar="NAMESPACE/APP", help="The app's directory in the old cluster's tree."
    )
    migrate.add_argument(
        "--from", dest="old", required=True, metavar="OLD", help="The cluster the app leaves (e.g. bitty)."
    )
    migrate.add_argument(
        "--to",
        dest="new",
        required=True,
        metavar="NEW",
        help="The modern cluster it moves to (e.g. chongus).",
    )
    common.add_flag(migrate, "--write", "Apply the edits (default: print the diff).")
    common.add_flag(migrate, "--remove-source", "Also delete the old app directory and its registration.")
    migrate.add_argument(
        "--chart-url",
        metavar="OCI_URL",
        help="oci:// URL of the chart when its repository has no known OCI location.",
    )
    common.add_flag(migrate, "--external", "Publish the routes on the external gateway (internet-facing).")
    common.add_flag(
        migrate, "--to-helm", "Turn a simple Deployment + Service into an app-template HelmRelease."
    )
    common.add_flag(migrate, "--force", "Go on despite uncommitted changes in the paths touched.")
    common.add_flag(migrate, "--pin", "Resolve image tags to digests from their registries (network).")
    common.add_vars(migrate, "KEY=VALUE for variables only the old cluster knows (to render it).")
    common.add_path(migrate)
    migrate.set_defaults(handler=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    from homeops.api import MigrateOptions, split_target  # start-up: the library loads when a command runs

    namespace, name = split_target(args.target, example="media/jellyseerr")
    options = MigrateOptions(
        namespace=namespace,
        app=name,
        old=args.old,
        new=args.new,
        remove_source=args.remove_source,
        chart_url=args.chart_url,
        external=args.external,
        to_helm=args.to_helm,
        force=args.force,
        pin=args.pin,
    )
    result = common.workspace(args).migrate(options, write=args.write)
    if args.write:
        actions = {e.path: e.action for e in result.edits}
        for written in result.written:
            print(common.escape(f"{actions[written]} {written}"))
    else:
        sys.stdout.write(result.diff)
    for text in result.notes:
        common.note(text)
    if result.steps:
        print(f"\nManual steps ({len(result.steps)}):")
        for i, step in enumerate(result.steps, 1):
            print(f"{i}. {common.escape(step)}")
    else:
        print("\nNo manual steps left.")
    if not args.write:
        print(f"(dry run: pass --write to apply the {len(result.edits)} file change(s))", file=sys.stderr)
        return 0
    return 1 if result.steps else 0
