"""``homeops init`` and ``homeops new app``: create a repository or an app in the modern pattern."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    init = commands.add_parser(
        "init", parents=parents, help="Create a repository in the modern layout, or add a cluster to one.",
        description="Create a repository in the modern layout, or add a cluster to an existing one.",
    )  # fmt: skip
    init.add_argument("directory", metavar="DIR", help="The repository's directory (created if missing).")
    init.add_argument("--cluster", required=True, help="Name of the cluster to create.")
    init.add_argument(
        "--domain", help="DNS domain the apps are served under (required unless .homeops.yaml sets it)."
    )
    init.add_argument("--gateway-internal", help="Address of the internal gateway (default: the profile's).")
    init.add_argument("--gateway-external", help="Address of the external gateway (default: the profile's).")
    init.add_argument(
        "--node", action="append", metavar="NAME=IP",
        help="A Talos node (repeatable); placeholders when omitted.",
    )  # fmt: skip
    init.add_argument(
        "--repo-url", help="Git URL Flux syncs from (default: the origin remote, else a placeholder)."
    )
    init.add_argument(
        "--age-key", action="append", metavar="KEY",
        help="age public key for .sops.yaml (repeatable); a placeholder when omitted.",
    )  # fmt: skip
    common.add_flag(init, "--force", "Overwrite files that already exist.")
    common.add_flag(init, "--dry-run", "List what would be written; write nothing.")
    init.set_defaults(handler=run_init)

    new = commands.add_parser("new", parents=parents, help="Add to the repository in the modern pattern.")
    new_sub = new.add_subparsers(metavar="app", parser_class=common.Parser)
    new.set_defaults(group_parser=new)
    app = new_sub.add_parser(
        "app", parents=parents,
        help="Add an app (HelmRelease, OCIRepository, ExternalSecret, ks.yaml) and register it.",
    )  # fmt: skip
    app.add_argument(
        "target", metavar="NAMESPACE/APP", help="A one-word namespace and a kebab-case app name."
    )
    app.add_argument(
        "--image", required=True, metavar="REF",
        help="REPOSITORY:TAG[@sha256:DIGEST]; resolved to a digest from the registry when none is given.",
    )  # fmt: skip
    app.add_argument("--port", required=True, type=_port, help="The container's HTTP port.")
    common.add_cluster(app, "Cluster to add to (default: the only one).")
    app.add_argument(
        "--route", default="internal", help="internal (default), external (internet-facing) or none."
    )
    app.add_argument("--host", help="Route host name (default: APP.DOMAIN).")
    app.add_argument(
        "--volsync", metavar="SIZE", help="Persistent volume size backed up by Volsync, e.g. 5Gi."
    )
    app.add_argument(
        "--secret", metavar="KEY", help="Doppler secret whose keys become the app's environment."
    )
    app.add_argument(
        "--chart", metavar="OCI_URL", help="oci:// URL of the app's own chart (default: app-template)."
    )
    app.add_argument("--chart-version", help="Version of --chart.")
    app.add_argument("--probe-path", help="HTTP path for liveness/readiness (default: TCP checks).")
    app.add_argument("--memory", default="512Mi", help="Memory limit (default: 512Mi).")
    app.add_argument("--memory-request", default="128Mi", help="Memory request (default: 128Mi).")
    app.add_argument("--cpu", default="10m", help="CPU request (default: 10m).")
    app.add_argument("--uid", type=_int("--uid"), default=1000, help="User the app runs as (non-root).")
    app.add_argument("--gid", type=_int("--gid"), default=1000, help="Group the app runs as.")
    app.add_argument("--mount", default="/config", help="Where the Volsync volume is mounted.")
    common.add_flag(app, "--allow-unpinned", "Accept an image without digest when none can be resolved.")
    common.add_flag(app, "--dry-run", "Print the patch; write nothing.")
    common.add_path(app)
    app.set_defaults(handler=run_new_app)


def _int(option: str) -> Any:
    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} takes a whole number, not {text!r}") from None

    return parse


_port = _int("--port")


def run_init(args: argparse.Namespace) -> int:
    from homeops.api import InitOptions, init_repository, parse_node  # start-up: loaded when a command runs

    options = InitOptions(
        cluster=args.cluster,
        domain=args.domain,
        gateway_internal=args.gateway_internal,
        gateway_external=args.gateway_external,
        nodes=tuple(parse_node(n) for n in args.node or []),
        repo_url=args.repo_url,
        age_keys=tuple(args.age_key or []),
        force=args.force,
    )
    from pathlib import Path  # start-up: loaded when the command runs

    directory = Path(args.directory)
    result = init_repository(directory, options, write=not args.dry_run)
    if args.dry_run:
        for edit in result.edits:
            print(common.escape(f"{edit.action} {edit.path}"))
        for kept in result.kept:
            print(common.escape(f"keep {kept}"))
        return 0
    what = (
        f"added cluster {args.cluster} to" if result.adding_cluster else f"created cluster {args.cluster} in"
    )
    kept = f"; kept {len(result.kept)} existing file(s)" if result.kept else ""
    print(f"homeops init: {what} {directory} ({len(result.written)} file(s) written{kept})")
    if result.placeholders:
        print("Fill in the placeholders marked 'TODO(homeops init)' in: " + ", ".join(result.placeholders))
    print(
        f"Next: homeops new app NAMESPACE/APP --image REPOSITORY:TAG@sha256:DIGEST --port N "
        f"--path {directory}; then task flux:validate"
    )
    return 0


def run_new_app(args: argparse.Namespace) -> int:
    from homeops.api import AppOptions, split_target  # start-up: the library loads when a command runs

    namespace, name = split_target(args.target)
    options = AppOptions(
        namespace=namespace,
        app=name,
        image=args.image,
        port=args.port,
        cluster=args.cluster,
        route=args.route,
        host=args.host,
        volsync=args.volsync,
        secret=args.secret,
        chart=args.chart,
        chart_version=args.chart_version,
        allow_unpinned=args.allow_unpinned,
        probe_path=args.probe_path,
        memory_limit=args.memory,
        memory_request=args.memory_request,
        cpu_request=args.cpu,
        uid=args.uid,
        gid=args.gid,
        mount=args.mount,
    )
    result = common.workspace(args).new_app(options, write=not args.dry_run)
    for warning in result.warnings:
        common.note(warning, "warning")
    if args.dry_run:
        sys.stdout.write(result.diff)
    else:
        actions = {e.path: e.action for e in result.edits}
        for written in result.written:
            print(common.escape(f"{actions[written]} {written}"))
    for text in result.notes:
        common.note(text)
    return 0
