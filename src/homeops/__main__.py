"""``python -m homeops``: the same command as the ``homeops`` entry point."""

from homeops.cli import main

main()
