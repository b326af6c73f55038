"""``homeops migrate``: a thin command over ``homeops.author.migrate``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from homeops.cli import common
from homeops.core.edits import apply_edits, unified_diff
from homeops.core.errors import EXIT_FINDINGS, EXIT_OK, HomeopsError


def _split(target: str) -> tuple[str, str]:
    namespace, sep, app = target.partition("/")
    if not sep or not namespace or not app or "/" in app:
        raise HomeopsError(f"{target!r} is not NAMESPACE/APP", hint="write e.g. media/jellyseerr")
    return namespace, app


def register(app: typer.Typer) -> None:
    @app.command("migrate")
    def migrate(
        target: Annotated[
            str, typer.Argument(help="NAMESPACE/APP: the app's directory in the old cluster's tree.")
        ],
        old: Annotated[str, typer.Option("--from", help="The cluster the app leaves (e.g. bitty).")],
        new: Annotated[str, typer.Option("--to", help="The modern cluster the app moves to (e.g. chongus).")],
        write: Annotated[
            bool, typer.Option("--write", help="Apply the edits (default: print the diff).")
        ] = False,
        remove_source: Annotated[
            bool,
            typer.Option("--remove-source", help="Also delete the old app directory and its registration."),
        ] = False,
        chart_url: Annotated[
            str | None,
            typer.Option(
                "--chart-url", help="oci:// URL of the chart when its repository has no known OCI location."
            ),
        ] = None,
        external: Annotated[
            bool,
            typer.Option("--external", help="Publish the routes on the external gateway (internet-facing)."),
        ] = False,
        to_helm: Annotated[
            bool,
            typer.Option(
                "--to-helm", help="Turn a simple Deployment + Service into an app-template HelmRelease."
            ),
        ] = False,
        force: Annotated[
            bool, typer.Option("--force", help="Go on despite uncommitted changes in the paths touched.")
        ] = False,
        pin: Annotated[
            bool, typer.Option("--pin", help="Resolve image tags to digests from their registries (network).")
        ] = False,
        var: Annotated[
            list[str] | None,
            typer.Option("--var", help="KEY=VALUE for variables only the old cluster knows (to render it)."),
        ] = None,
        path: Annotated[
            Path | None, typer.Option("--path", help="Repository root (default: Git top level, else .).")
        ] = None,
    ) -> None:
        """Move a legacy app into the modern pattern; without --write, print the diff and the manual steps."""
        from homeops.author.migrate import MigrateOptions, plan_migration
        from homeops.core.profile import load_profile
        from homeops.images.pin import scan_text

        namespace, name = _split(target)
        root = common.repo_root(path)
        options = MigrateOptions(
            namespace=namespace,
            app=name,
            old=old,
            new=new,
            remove_source=remove_source,
            chart_url=chart_url,
            external=external,
            to_helm=to_helm,
            force=force,
            cli_vars=common.parse_vars(var),
            pin=pin,
        )
        resolve = common.digest_resolver() if pin else None
        plan = plan_migration(root, load_profile(root), options, resolve=resolve, images=scan_text)
        if write:
            for written in apply_edits(root, plan.edits):
                action = next(e.action for e in plan.edits if e.path == written)
                typer.echo(f"{action} {written}")
        else:
            sys.stdout.write(unified_diff(plan.edits))
        for note in plan.notes:
            print(f"homeops: note: {note}", file=sys.stderr)
        if plan.steps:
            typer.echo(f"\nManual steps ({len(plan.steps)}):")
            for i, step in enumerate(plan.steps, 1):
                typer.echo(f"{i}. {step}")
        else:
            typer.echo("\nNo manual steps left.")
        if not write:
            typer.echo(f"(dry run: pass --write to apply the {len(plan.edits)} file change(s))", err=True)
            raise typer.Exit(EXIT_OK)
        raise typer.Exit(EXIT_FINDINGS if plan.steps else EXIT_OK)
