"""homeops.cli: the ``homeops`` command (argparse over :mod:`homeops.api`)."""

import sys

_REPLAYED = ("build", "get", "check")


def main() -> None:
    """Console entry point: ``--version`` answers before any parser is built; an unchanged repository's
    kept answer is given again; a running start-up daemon takes the command; else it runs here."""
    argv = sys.argv[1:]
    if argv == ["--version"]:
        from homeops import __version__  # start-up: the version is all this needs

        print(f"homeops {__version__}")
        raise SystemExit(0)
    if argv[:1] and argv[0] in _REPLAYED:
        from homeops.cli import replay  # start-up: an unchanged repository's answer, without the library

        if replay.replayable(argv):
            code = replay.answer(argv)
            if code is not None:
                raise SystemExit(code)
    from homeops.cli import forward  # start-up: the daemon's client imports nothing of the library

    served = forward.forward(argv)
    if served is not None:
        raise SystemExit(served)
    raise SystemExit(run_here(argv))


def run_here(argv: list[str]) -> object:
    """Run a command line in this process, keeping its answer when it is replayable; what the command
    exits with (an exit code, or a message for ``SystemExit``)."""
    recorder = None
    if argv[:1] and argv[0] in _REPLAYED:
        from homeops.cli import replay  # start-up: cheap, and only for the replayed commands

        if replay.replayable(argv):
            recorder = replay.start(argv)
    import importlib  # start-up: the parser loads only for real commands

    try:
        importlib.import_module("homeops.cli.main").main()
    except SystemExit as done:
        if recorder is not None:
            recorder.finish(0 if done.code is None else done.code if isinstance(done.code, int) else 1)
        return done.code
    return 0
