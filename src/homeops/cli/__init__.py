"""homeops.cli: the ``homeops`` command (argparse over :mod:`homeops.api`)."""

import sys


def main() -> None:
    """Console entry point: ``--version`` answers before any parser is built."""
    if sys.argv[1:] == ["--version"]:
        from homeops import __version__  # start-up: the version is all this needs

        print(f"homeops {__version__}")
        raise SystemExit(0)
    recorder = None
    if sys.argv[1:2] and sys.argv[1] in ("build", "get", "check"):
        from homeops.cli import replay  # start-up: an unchanged repository's answer, without the library

        if replay.replayable(sys.argv[1:]):
            code = replay.answer(sys.argv[1:])
            if code is not None:
                raise SystemExit(code)
            recorder = replay.start(sys.argv[1:])
    import importlib  # start-up: the parser loads only for real commands

    try:
        importlib.import_module("homeops.cli.main").main()
    except SystemExit as done:
        if recorder is not None:
            recorder.finish(0 if done.code is None else done.code if isinstance(done.code, int) else 1)
        raise
