"""``homeops report`` (a static site of the repository) and ``homeops serve`` (the report and the
review of the working tree on a local server, refreshed when files change)."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common
from homeops.core.errors import HomeopsError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report", parents=parents, help="A static site of the repository as Flux applies it.",
        description="Write a static site (works offline): clusters, the Kustomization tree and dependsOn "
        "graph, apps (chart, images, routes, secrets, backups), findings by rule, images by registry.",
    )  # fmt: skip
    report.add_argument("-o", "--output", dest="output_dir", metavar="DIR", required=True,
                        help="Directory to write the pages into (created if needed).")  # fmt: skip
    common.add_vars(report)
    common.add_path(report)
    report.set_defaults(handler=run_report)

    serve = commands.add_parser(
        "serve", parents=parents, help="Serve the report and the review of the working tree locally.",
        description="A read-only local server: the report and the review of the working tree against "
        "--base, rendered again when files change (pages reload themselves).",
    )  # fmt: skip
    serve.add_argument("--host", default="127.0.0.1", help="Address to listen on (default: 127.0.0.1).")
    serve.add_argument("--port", type=int, default=8765, help="Port (default 8765; 0: any free port).")
    serve.add_argument("--base", metavar="REF", help="Base revision of the review (default: HEAD).")
    serve.add_argument("--poll", type=float, default=1.0, metavar="SECONDS",
                       help="How often to look for changed files (default 1).")  # fmt: skip
    common.add_cluster(serve, "One cluster (name or directory) for the review; default: all.")
    common.add_vars(serve)
    common.add_path(serve)
    serve.set_defaults(handler=run_serve)


def run_report(args: argparse.Namespace) -> int:
    from homeops.web.site import build_site  # start-up: loaded when writing the site

    ws = common.workspace(args)
    with common.progress("rendering"):
        site = build_site(ws)
    try:
        written = site.write(args.output_dir)
    except OSError as exc:
        raise HomeopsError(
            f"cannot write the site into '{args.output_dir}': {exc.strerror}", hint="check the path"
        ) from None
    common.say(f"wrote {len(written)} pages to {args.output_dir}/index.html")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from homeops.web.server import ReviewServer, listen, serve  # start-up: loaded when serving

    if args.poll <= 0:
        raise HomeopsError("--poll must be positive", hint="pass a number of seconds, e.g. 1")
    ws = common.workspace(args)
    if args.host not in LOOPBACK:
        common.note(
            f"listening on {args.host}: anyone who can reach it can read this repository's render", "warning"
        )
    server = ReviewServer(ws.root, base=args.base, cluster=args.cluster, vars=ws.vars, poll=args.poll,
                          debug=bool(getattr(args, "debug", False)))  # fmt: skip
    sock = listen(args.host, args.port)
    host, port = sock.getsockname()[:2]
    server.start()
    shown = f"[{host}]" if ":" in host else host
    common.say(f"serving http://{shown}:{port}/ (read-only; Ctrl-C to stop)")
    if server.current.error:
        common.note(server.current.error, "warning")
    sys.stderr.flush()
    try:
        serve(server, sock)
    except KeyboardInterrupt:  # Ctrl-C is how a server is stopped
        return 0
    return 0
