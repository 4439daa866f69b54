"""The ``esp-image`` console script.

The commands people and pipelines run most (``info`` / ``verify`` with files and ``--json``,
and ``--version``) are dispatched here directly, so they do not pay for importing typer and
click (about 35 ms, a third of the tool's start-up). Anything else, including ``--help``, any
other option and every error in the arguments, goes to the typer application in
:mod:`esp_image.cli`, which calls the same :mod:`esp_image.commands` functions.
"""

from __future__ import annotations

import sys

_FAST_COMMANDS = ("info", "verify")
_FAST_FLAGS = {"--json"}


def _fast(argv: list[str]) -> int | None:
    if argv == ["--version"]:
        from . import __version__

        sys.stdout.write(f"esp-image {__version__}\n")
        return 0
    if len(argv) < 2 or argv[0] not in _FAST_COMMANDS:
        return None
    flags = [a for a in argv[1:] if a.startswith("-")]
    paths = [a for a in argv[1:] if not a.startswith("-")]
    if not paths or any(f not in _FAST_FLAGS for f in flags):
        return None
    from . import commands

    run = commands.info if argv[0] == "info" else commands.verify
    return run(paths, as_json="--json" in flags)


def main() -> None:
    """Run the command line."""
    code = _fast(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from .cli import app

    app(prog_name="esp-image")
