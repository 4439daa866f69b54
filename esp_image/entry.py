"""The ``esp-image`` console script.

The commands people and pipelines run most (``info`` / ``verify`` with files and ``--json``,
and ``--version``) are dispatched here directly, so they do not pay for importing typer and
click (about 35 ms, a third of the tool's start-up). Anything else, including ``--help``, any
other option and every error in the arguments, goes to the typer application in
:mod:`esp_image.cli`, which calls the same :mod:`esp_image.commands` functions.
"""

from __future__ import annotations

import importlib
import sys
import types

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


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its attributes is used, then imports it."""

    def __getattr__(self, attr: str) -> object:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        module = importlib.import_module(name)
        self.__dict__.update(module.__dict__)
        return getattr(module, attr)


def _defer_imports(*names: str) -> None:
    """Defer modules that construct imports but uses only at run time.

    ``construct.debug`` imports ``pdb`` (with bdb, cmd, code, glob, pprint, signal) and
    ``construct.core`` imports ``pickle``: several milliseconds of every start-up for
    features esp-image never uses. Done only in the CLI's own process, never when esp_image is
    imported as a library. (importlib's LazyLoader does not help here: the import statement
    reads ``module.__spec__``, which makes it load at once.)
    """
    for name in names:
        if name not in sys.modules:
            sys.modules[name] = _Deferred(name)


def main() -> None:
    """Run the command line."""
    argv = sys.argv[1:]
    if argv != ["--version"]:
        _defer_imports("pdb", "pickle")
    code = _fast(argv)
    if code is not None:
        sys.exit(code)
    sys.exit(_typer_main(sys.argv[1:]))


def _typer_main(argv: list[str]) -> int:
    """Run the typer app; a usage error becomes one line on stderr and exit code 2."""
    import typer

    from .cli import app

    try:
        code = app(argv, prog_name="esp-image", standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("esp-image: aborted\n")
        return 130
    except typer.TyperException as exc:  # click's usage errors (unknown option, missing file)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if message:
            known = {c.name or getattr(c.callback, "__name__", "") for c in app.registered_commands}
            command = next((a for a in argv if a in known), "")
            hint = f"esp-image {command} --help" if command else "esp-image --help"
            sys.stderr.write(f"esp-image: error: {message} (see '{hint}')\n")
        return int(getattr(exc, "exit_code", 2))
    return code if isinstance(code, int) else 0
