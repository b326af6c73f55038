"""``homeops test [all|ks|hr] [NAME]``: does every Flux Kustomization (and HelmRelease) render?

One line per Kustomization or HelmRelease (``rendered``, ``failed`` with why, ``skipped`` with why),
then a summary line; exit 1 when anything failed, as flux-local's and flate's ``test`` do. HelmReleases
are tested with ``--enable-helm`` (their charts are downloaded and rendered).
"""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common
from homeops.core.errors import HomeopsError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any

TARGETS = ("all", "ks", "hr")
COLUMNS = ["status", "cluster", "kind", "name", "reason"]


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    test = commands.add_parser(
        "test", parents=parents, help="Render every Flux Kustomization (and HelmRelease): one line "
        "each, exit 1 on any failure.",
        description="Render every Flux Kustomization (with --enable-helm, every HelmRelease too) and say "
        "for each whether it rendered, failed (and why) or was skipped (and why). Exit 1 on any failure.",
    )  # fmt: skip
    test.add_argument(
        "target", nargs="?", default="all", metavar="all|ks|hr",
        help="What to test: all (default: Kustomizations, and HelmReleases with --enable-helm), ks, hr.",
    )  # fmt: skip
    test.add_argument("name", nargs="?", metavar="NAME", help="Only the one of this name (metadata.name).")
    test.add_argument("-n", "--namespace", help="Only those of this namespace.")
    common.add_path(test)
    common.add_cluster(test, "Cluster name or directory (default: every cluster).")
    common.add_output(test, ("table", "json"), "table")
    common.add_vars(test)
    common.add_flag(test, "--enable-helm", "Test HelmReleases too: fetch and render their charts.")
    common.add_flag(test, "--offline", "Use only the chart cache; a chart not in it fails its release.")
    common.add_render_settings(test)
    test.set_defaults(handler=run_test)


def run_test(args: argparse.Namespace) -> int:
    target = common.check_choice(args.target, TARGETS, "test target")
    output = common.check_choice(args.output, ("table", "json"), "output", "test")
    if target == "hr" and not args.enable_helm:
        raise HomeopsError(
            "test hr needs --enable-helm",
            hint="pass --enable-helm: HelmReleases are tested by rendering their charts",
        )
    ws = common.workspace(args, offline=args.offline)
    with common.progress("rendering") as tick:
        result = ws.test(
            args.cluster, kustomizations=target != "hr", releases=args.enable_helm and target != "ks",
            name=args.name, namespace=args.namespace, progress=tick,
        )  # fmt: skip
    if args.name is not None and not result.items:
        raise HomeopsError(
            f"nothing named {args.name!r} to test", hint="'homeops get ks' and 'get hr' list them"
        )
    if output == "json":
        common.print_json(result.as_json())
    else:
        rows = [
            {**i.as_json(), "name": f"{i.namespace}/{i.name}" if i.namespace else i.name}
            for i in result.items
        ]
        common.print_rows(rows, COLUMNS, "table")
        counts = result.summary()
        sys.stdout.write(", ".join(f"{n} {status}" for status, n in counts.items()) + "\n")
    return 1 if result.failed else 0
