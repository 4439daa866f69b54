"""The ``esp-image`` console script.

The commands people and pipelines run most (``info`` / ``verify`` with files and ``--json``,
and ``--version``) are dispatched here directly, so they do not pay for importing typer and
click (about 35 ms, a third of the tool's start-up). Anything else, including ``--help``, any
other option and every error in the arguments, goes to the typer application in
:mod:`esp_image.cli`, which calls the same :mod:`esp_image.commands` functions.
"""

from __future__ import annotations

import gc
import importlib
import sys
import types

# The options each fast command accepts: option -> (keyword, kind). kind is "flag", "value"
# or "multi" (repeatable). tests/test_cli.py holds this table against the typer commands'
# declared options, so the two cannot drift apart; anything not in it goes to typer.
_FAST: dict[str, dict[str, tuple[str, str]]] = {
    "info": {"--json": ("as_json", "flag")},
    "verify": {"--json": ("as_json", "flag")},
    "retable": {
        "-f": ("flash_size", "value"), "--flash-size": ("flash_size", "value"),
        "--table": ("table", "value"), "--app-size": ("app_size", "value"),
        "--resize": ("resize", "multi"), "--add": ("add", "multi"),
        "--delete": ("delete", "multi"), "--rename": ("rename", "multi"),
        "-o": ("output", "value"), "--output": ("output", "value"),
        "--in-place": ("in_place", "flag"), "--dry-run": ("dry_run", "flag"),
        "--erase-fs": ("erase_fs", "flag"), "--force": ("force", "flag"),
        "--json": ("as_json", "flag"), "-q": ("quiet", "flag"), "--quiet": ("quiet", "flag"),
    },
}
_DEFAULTS: dict[str, dict[str, object]] = {
    "retable": {"flash_size": None, "table": None, "app_size": None, "resize": [], "add": [],
                "delete": [], "rename": [], "output": None, "in_place": False,
                "dry_run": False, "as_json": False, "quiet": False, "erase_fs": False,
                "force": False},
}


def _parse_fast(command: str, args: list[str]) -> tuple[list[str], dict[str, object]] | None:
    """Positional arguments and keywords, or None when typer must handle the arguments."""
    spec = _FAST[command]
    values: dict[str, object] = {k: (list(v) if isinstance(v, list) else v)
                                 for k, v in _DEFAULTS.get(command, {}).items()}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positional.extend(args[i + 1:])
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            i += 1
            continue
        name, eq, inline = arg.partition("=")
        if name not in spec:
            return None
        key, kind = spec[name]
        if kind == "flag":
            if eq:
                return None
            values[key] = True
            i += 1
            continue
        if eq:
            value = inline
            i += 1
        elif i + 1 < len(args):
            value = args[i + 1]
            i += 2
        else:
            return None
        if kind == "multi":
            current = values.setdefault(key, [])
            assert isinstance(current, list)
            current.append(value)
        else:
            values[key] = value
    return positional, values


def _fast(argv: list[str]) -> int | None:
    if argv == ["--version"]:
        from . import __version__

        sys.stdout.write(f"esp-image {__version__}\n")
        return 0
    if not argv or argv[0] not in _FAST:
        return None
    parsed = _parse_fast(argv[0], argv[1:])
    if parsed is None:
        return None
    positional, values = parsed
    from . import commands

    _started()
    if argv[0] == "retable":
        if len(positional) != 1:
            return None
        return commands.run_retable(positional[0], **values)  # type: ignore[arg-type]
    if not positional:
        return None
    run = commands.info if argv[0] == "info" else commands.verify
    return run(positional, as_json=bool(values.get("as_json")))


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


def _started() -> None:
    """Start-up imports are done: keep their objects out of every later collection."""
    gc.freeze()
    gc.enable()


def main() -> None:
    """Run the command line."""
    argv = sys.argv[1:]
    # Start-up creates thousands of long-lived objects (modules, classes, the dataclass
    # methods) and the collector would walk them again and again for nothing: collecting is
    # off until the command's modules are imported, then they are frozen (about 4 ms of a
    # 60 ms retable). Only the CLI's own process does this, never a library import.
    gc.disable()
    from .terminal import guard_streams

    guard_streams()
    if argv != ["--version"]:
        _defer_imports("pdb", "pickle")
    from .errors import Interrupted
    from .io import unwind_on_signals

    unwind_on_signals()
    try:
        code = _fast(argv)
        if code is None:
            code = _typer_main(sys.argv[1:])
    except Interrupted as exc:
        # Ctrl-C or SIGTERM: a file being written is already removed (io.write_atomic).
        sys.stderr.write(f"esp-image: {'interrupted' if exc.signum == 2 else 'terminated'}\n")
        code = 128 + exc.signum
    sys.exit(code)


def _typer_main(argv: list[str]) -> int:
    """Run the typer app; a usage error becomes one line on stderr and exit code 2."""
    import typer

    from .cli import app

    _started()
    try:
        code = app(argv, prog_name="esp-image", standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("esp-image: aborted\n")
        return 130
    except typer.TyperException as exc:  # click's usage errors (unknown option, missing file)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if message:
            from .commands import error_line

            # The context of the (sub)command that failed: 'esp-image fs FILE get --help'.
            ctx = getattr(exc, "ctx", None)
            path = getattr(ctx, "command_path", "") or "esp-image"
            error_line(f"{message} (see '{path} --help')")
        return int(getattr(exc, "exit_code", 2))
    return code if isinstance(code, int) else 0
