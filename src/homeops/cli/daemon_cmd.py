"""``homeops daemon start|stop|status|run``: the start-up daemon (see :mod:`homeops.cli.daemon`)."""

from __future__ import annotations

import argparse
import sys

from homeops.cli import common

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy knows the name)
if TYPE_CHECKING:  # annotations only: nothing more loads at start-up
    from typing import Any

START_SECONDS = 30.0
"""How long ``start`` waits for the new daemon to answer."""


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    daemon = commands.add_parser(
        "daemon", parents=parents, help="Keep the library loaded between commands (start-up daemon).",
        description="A background process that has imported homeops once and runs each later command "
        "line in a forked worker, so commands skip ~0.1 s of start-up. While it runs, every homeops "
        "command of this installation and user uses it (set HOMEOPS_DAEMON=0 to run one without it; "
        "HOMEOPS_DAEMON=auto starts one when none runs). Output, exit codes and files written are "
        "the same as without it.",
    )  # fmt: skip
    sub = daemon.add_subparsers(metavar="start|stop|status|run", parser_class=common.Parser)
    daemon.set_defaults(group_parser=daemon)
    start = sub.add_parser(
        "start", parents=parents, help="Start the daemon in the background.",
        description="Start the daemon in the background (nothing happens when one is running).",
    )  # fmt: skip
    run = sub.add_parser(
        "run", parents=parents, help="Run the daemon in the foreground (what 'start' runs).",
        description="Run the daemon in the foreground until it is idle, stopped or sent SIGTERM.",
    )  # fmt: skip
    for parser in (start, run):
        parser.add_argument(
            "--idle", type=float, default=None, metavar="MINUTES",
            help="Stop after this many minutes without a command (default 30).",
        )  # fmt: skip
    start.set_defaults(handler=run_start)
    run.set_defaults(handler=run_serve)
    stop = sub.add_parser("stop", parents=parents, help="Stop the running daemon.")
    stop.set_defaults(handler=run_stop)
    status = sub.add_parser(
        "status", parents=parents, help="Whether a daemon runs (exit 1 when none).",
        description="Say whether a daemon runs for this installation: its process, socket, age and "
        "how many commands it served. Exit 0 when one runs, 1 when none.",
    )  # fmt: skip
    status.add_argument("-o", "--output", choices=("text", "json"), default="text")
    status.set_defaults(handler=run_status)


def _idle_seconds(args: argparse.Namespace) -> float:
    from homeops.cli import daemon

    minutes = daemon.DEFAULT_IDLE_MINUTES if args.idle is None else args.idle
    if minutes <= 0:
        raise common.UsageError("--idle must be a positive number of minutes (see 'homeops daemon --help')")
    return minutes * 60


def run_serve(args: argparse.Namespace) -> int:
    from homeops.cli import daemon, forward

    daemon.serve(forward.socket_path(), _idle_seconds(args))
    return 0


def run_start(args: argparse.Namespace) -> int:
    import os
    import subprocess
    import tempfile
    import time

    from homeops.cli import daemon, forward
    from homeops.core.errors import HomeopsError

    idle = _idle_seconds(args)
    found = daemon.query("status")
    if found is not None:
        common.say(f"a daemon is already running (pid {found['pid']}, socket {found['socket']})")
        return 0
    path = forward.socket_path()
    daemon.ensure_private_dir(os.path.dirname(path))
    env = {k: v for k, v in os.environ.items() if k != forward.ENV_DAEMON}
    with tempfile.TemporaryFile() as errors:  # what the daemon says if it fails, never a closed pipe
        proc = subprocess.Popen(
            [sys.executable, "-m", "homeops", "daemon", "run", "--idle", str(idle / 60)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
            env=env,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            found = daemon.query("status")
            if found is not None:
                common.say(
                    f"daemon running (pid {found['pid']}, socket {found['socket']}); it stops after "
                    f"{idle / 60:g} idle minutes, or with 'homeops daemon stop'"
                )
                return 0
            if proc.poll() is not None:
                errors.seek(0)
                why = errors.read().decode("utf-8", "replace").strip().splitlines()
                raise HomeopsError(
                    f"the daemon did not start: {why[-1] if why else 'exit ' + str(proc.returncode)}",
                    hint="run 'homeops daemon run' to see it in the foreground",
                )
            time.sleep(0.05)
    proc.kill()
    raise HomeopsError(
        f"the daemon did not answer within {START_SECONDS:g} s", hint="run 'homeops daemon run' to see why"
    )


def run_stop(_args: argparse.Namespace) -> int:
    from homeops.cli import daemon

    reply = daemon.query("stop")
    common.say("daemon stopped" if reply is not None else "no daemon was running")
    return 0


def run_status(args: argparse.Namespace) -> int:
    import time

    from homeops.cli import daemon, forward

    found = daemon.query("status")
    if args.output == "json":
        common.print_json({"running": found is not None, **(found or {"socket": forward.socket_path()})})
        return 0 if found is not None else 1
    if found is None:
        print(f"no daemon running (socket {forward.socket_path()})")
        return 1
    age = time.time() - float(found["started"])  # type: ignore[arg-type]
    print(
        f"daemon running: pid {found['pid']}, socket {found['socket']}, up {age:.0f} s, "
        f"{found['served']} commands served, {found['modules']} modules loaded, "
        f"stops after {float(found['idle_seconds']) / 60:g} idle minutes"  # type: ignore[arg-type]
    )
    return 0
