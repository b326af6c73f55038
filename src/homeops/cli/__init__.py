"""homeops.cli: the ``homeops`` command (argparse over :mod:`homeops.api`)."""

import sys


def main() -> None:
    """Console entry point: ``--version`` answers before any parser is built."""
    if sys.argv[1:] == ["--version"]:
        from homeops import __version__  # start-up: the version is all this needs

        print(f"homeops {__version__}")
        raise SystemExit(0)
    import importlib  # start-up: the parser loads only for real commands

    importlib.import_module("homeops.cli.main").main()
