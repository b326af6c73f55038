"""``homeops migrate``: move a legacy app into the modern pattern (a diff, or ``--write``)."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common
from homeops.core.errors import HomeopsError

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
        "targets", nargs="*", metavar="NAMESPACE/APP",
        help="The app's directory in the old cluster's tree (several: one report at the end).",
    )  # fmt: skip
    common.add_flag(migrate, "--all", "Every app of the old cluster (one report at the end).")
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
    common.add_flag(
        migrate, "--keep-helm-repository",
        "A chart with no known OCI location keeps spec.chart from a HelmRepository of the app's own.",
    )  # fmt: skip
    common.add_vars(migrate, "[CLUSTER:]NAME=VALUE for a variable only the old cluster knows (to render it).")
    common.add_path(migrate)
    migrate.set_defaults(handler=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    from homeops.api import MigrateOptions, split_target  # start-up: the library loads when a command runs

    if args.all and args.targets:
        raise HomeopsError("give NAMESPACE/APP targets or --all, not both", hint="drop one of them")
    if not args.all and not args.targets:
        raise HomeopsError("no app to migrate", hint="give NAMESPACE/APP (one or more) or --all")
    if args.all or len(args.targets) > 1:
        return _run_batch(args)
    namespace, name = split_target(args.targets[0], example="media/jellyseerr")
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
        keep_helm_repository=args.keep_helm_repository,
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


def _run_batch(args: argparse.Namespace) -> int:
    """Several apps, or ``--all``: each app's diff (or files written) and notes, then one report."""
    from homeops.api import MigrateOptions, split_target  # start-up: the library loads when a command runs

    for target in args.targets:
        split_target(target, example="media/jellyseerr")
    options = MigrateOptions(
        namespace="", app="", old=args.old, new=args.new, remove_source=args.remove_source,
        chart_url=args.chart_url, external=args.external, to_helm=args.to_helm, force=args.force,
        pin=args.pin, keep_helm_repository=args.keep_helm_repository,
    )  # fmt: skip
    batch = common.workspace(args).migrate_many(options, None if args.all else args.targets, write=args.write)
    for app in batch.apps:
        if app.result is None:
            continue
        if args.write:
            actions = {e.path: e.action for e in app.result.edits}
            for written in app.result.written:
                print(f"{actions[written]} {written}")
        else:
            sys.stdout.write(app.result.diff)
        for text in app.result.notes:
            common.note(f"{app.target}: {text}")
    inferred = ", ".join(f"{k}={v}" for k, v in sorted(batch.inferred.items()))
    print(f"\nMigration report: {batch.old} -> {batch.new}, {len(batch.apps)} app(s)"
          + (f" ({inferred} inferred from the old cluster's paths)" if inferred else ""))  # fmt: skip
    width = max((len(a.target) for a in batch.apps), default=0)
    for app in batch.apps:
        if app.result is None and app.error is not None:
            print(f"  {app.target:<{width}}  refused: {common.escape(app.error.one_line())}")
            continue
        steps = app.result.steps if app.result is not None else []
        print(f"  {app.target:<{width}}  {app.status}" + (f" ({len(steps)})" if steps else ""))
        for i, step in enumerate(steps, 1):
            print(f"  {'':<{width}}    {i}. {step}")
    migrated = [a for a in batch.apps if a.result is not None]
    with_steps = sum(1 for a in migrated if a.result is not None and a.result.steps)
    print(f"Total: {len(migrated)} migrated ({with_steps} with manual steps), "
          f"{len(batch.apps) - len(migrated)} refused.")  # fmt: skip
    if not args.write:
        edits = sum(len(a.result.edits) for a in migrated if a.result is not None)
        print(f"(dry run: pass --write to apply the {edits} file change(s))", file=sys.stderr)
        return 2 if batch.apps and not migrated else 0
    return batch.exit_code
