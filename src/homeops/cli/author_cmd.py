"""``homeops init`` and ``homeops new app``: thin commands over ``homeops.author``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from homeops.cli import common
from homeops.core.edits import apply_edits, unified_diff


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        directory: Annotated[Path, typer.Argument(help="The repository's directory (created if missing).")],
        cluster: Annotated[str, typer.Option("--cluster", help="Name of the cluster to create.")],
        domain: Annotated[
            str | None,
            typer.Option(
                "--domain",
                help="DNS domain the apps are served under (required unless .homeops.yaml sets it).",
            ),
        ] = None,
        gateway_internal: Annotated[
            str | None,
            typer.Option(
                "--gateway-internal", help="Address of the internal gateway (default: the profile's)."
            ),
        ] = None,
        gateway_external: Annotated[
            str | None,
            typer.Option(
                "--gateway-external", help="Address of the external gateway (default: the profile's)."
            ),
        ] = None,
        node: Annotated[
            list[str] | None,
            typer.Option("--node", help="NAME=IP of a Talos node (repeatable); placeholders when omitted."),
        ] = None,
        repo_url: Annotated[
            str | None,
            typer.Option(
                "--repo-url", help="Git URL Flux syncs from (default: the origin remote, else a placeholder)."
            ),
        ] = None,
        age_key: Annotated[
            list[str] | None,
            typer.Option(
                "--age-key", help="age public key for .sops.yaml (repeatable); a placeholder when omitted."
            ),
        ] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")] = False,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="List what would be written; write nothing.")
        ] = False,
    ) -> None:
        """Create a repository in the modern layout, or add a cluster to an existing one."""
        from homeops.author.init import InitOptions, parse_node, plan_init

        options = InitOptions(
            cluster=cluster,
            domain=domain,
            gateway_internal=gateway_internal,
            gateway_external=gateway_external,
            nodes=tuple(parse_node(n) for n in node or []),
            repo_url=repo_url,
            age_keys=tuple(age_key or []),
            force=force,
        )
        plan = plan_init(directory, options)
        if dry_run:
            for edit in plan.edits:
                typer.echo(f"{edit.action} {edit.path}")
            for path in plan.kept:
                typer.echo(f"keep {path}")
            return
        directory.mkdir(parents=True, exist_ok=True)
        written = apply_edits(directory.resolve(), plan.edits)
        what = f"added cluster {cluster} to" if plan.adding_cluster else f"created cluster {cluster} in"
        kept = f"; kept {len(plan.kept)} existing file(s)" if plan.kept else ""
        typer.echo(f"homeops init: {what} {directory} ({len(written)} file(s) written{kept})")
        if plan.placeholders:
            typer.echo(
                "Fill in the placeholders marked 'TODO(homeops init)' in: " + ", ".join(plan.placeholders)
            )
        typer.echo(
            f"Next: homeops new app NAMESPACE/APP --image REPOSITORY:TAG@sha256:DIGEST --port N "
            f"--path {directory}; then task flux:validate"
        )

    new_app = typer.Typer(help="Add to the repository in the modern pattern.", no_args_is_help=True)
    app.add_typer(new_app, name="new")

    @new_app.command("app")
    def new_app_cmd(
        target: Annotated[
            str, typer.Argument(help="NAMESPACE/APP: a one-word namespace and a kebab-case app name.")
        ],
        image: Annotated[
            str,
            typer.Option(
                "--image",
                help="REPOSITORY:TAG[@sha256:DIGEST]; resolved to a digest "
                "from the registry when none is given.",
            ),
        ],
        port: Annotated[int, typer.Option("--port", help="The container's HTTP port.")],
        cluster: Annotated[
            str | None, typer.Option("--cluster", help="Cluster to add to (default: the only one).")
        ] = None,
        route: Annotated[
            str, typer.Option("--route", help="internal (default), external (internet-facing) or none.")
        ] = "internal",
        host: Annotated[
            str | None, typer.Option("--host", help="Route host name (default: APP.DOMAIN).")
        ] = None,
        volsync: Annotated[
            str | None,
            typer.Option("--volsync", help="Persistent volume size backed up by Volsync, e.g. 5Gi."),
        ] = None,
        secret: Annotated[
            str | None,
            typer.Option("--secret", help="Doppler secret whose keys become the app's environment."),
        ] = None,
        chart: Annotated[
            str | None,
            typer.Option(
                "--chart", help="oci:// URL of the app's own chart (default: the profile's app-template)."
            ),
        ] = None,
        chart_version: Annotated[
            str | None, typer.Option("--chart-version", help="Version of --chart.")
        ] = None,
        probe_path: Annotated[
            str | None,
            typer.Option("--probe-path", help="HTTP path for liveness/readiness (default: TCP checks)."),
        ] = None,
        memory: Annotated[str, typer.Option("--memory", help="Memory limit.")] = "512Mi",
        memory_request: Annotated[str, typer.Option("--memory-request", help="Memory request.")] = "128Mi",
        cpu: Annotated[str, typer.Option("--cpu", help="CPU request.")] = "10m",
        uid: Annotated[int, typer.Option("--uid", help="User the app runs as (non-root).")] = 1000,
        gid: Annotated[int, typer.Option("--gid", help="Group the app runs as.")] = 1000,
        mount: Annotated[
            str, typer.Option("--mount", help="Where the Volsync volume is mounted.")
        ] = "/config",
        allow_unpinned: Annotated[
            bool,
            typer.Option(
                "--allow-unpinned", help="Accept an image without digest when none can be resolved."
            ),
        ] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the patch; write nothing.")] = False,
        path: Annotated[
            Path | None, typer.Option("--path", help="Repository root (default: Git top level, else .).")
        ] = None,
    ) -> None:
        """Add an app (HelmRelease, OCIRepository, ExternalSecret, ks.yaml) and register it in its namespace."""
        from homeops.author.new_app import AppOptions, plan_new_app, split_target
        from homeops.core.profile import load_profile

        namespace, name = split_target(target)
        root = common.repo_root(path)
        options = AppOptions(
            namespace=namespace,
            app=name,
            image=image,
            port=port,
            cluster=cluster,
            route=route,
            host=host,
            volsync=volsync,
            secret=secret,
            chart=chart,
            chart_version=chart_version,
            allow_unpinned=allow_unpinned,
            probe_path=probe_path,
            memory_limit=memory,
            memory_request=memory_request,
            cpu_request=cpu,
            uid=uid,
            gid=gid,
            mount=mount,
        )
        plan = plan_new_app(root, load_profile(root), options, resolve=common.digest_resolver())
        for warning in plan.warnings:
            print(f"homeops: warning: {warning}", file=sys.stderr)
        if dry_run:
            sys.stdout.write(unified_diff(plan.edits))
        else:
            for written in apply_edits(root, plan.edits):
                action = next(e.action for e in plan.edits if e.path == written)
                typer.echo(f"{action} {written}")
        for note in plan.notes:
            print(f"homeops: note: {note}", file=sys.stderr)
