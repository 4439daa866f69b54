"""The ``esp-image`` console script.

The commands people and pipelines run most (``info``, ``verify``, ``retable``, ``merge``
and ``--version``) are dispatched here directly, so they do not pay for importing typer and
click (about 35 ms, a third of the tool's start-up). Their options are parsed with the table
generated from the typer declarations (:mod:`esp_image.cli._fastgen`), and the same command
functions run. Anything else, including ``--help``, ``--debug``, an option the table does not
hold and every error in the arguments, goes to the typer application in
:mod:`esp_image.cli.app`.
"""

from __future__ import annotations

import gc
import importlib
import sys
import types


def _parse_fast(command: str, args: list[str]) -> tuple[list[str], dict[str, object]] | None:
    """Positional arguments and keywords, or None when typer must handle the arguments."""
    from .cli._fast import DEFAULTS, OPTIONS

    spec = OPTIONS[command]
    values = dict(DEFAULTS[command])
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
            values[key], i = True, i + 1
            continue
        if not eq and i + 1 == len(args):
            return None  # the value is missing
        value, i = (inline, i + 1) if eq else (args[i + 1], i + 2)
        if kind == "multi":
            earlier = values[key]
            values[key] = [*(earlier if isinstance(earlier, list) else ()), value]
        else:
            values[key] = value
    if any(key not in values for key, _ in spec.values()):
        return None  # a required option is missing: typer says which
    return positional, values


def _fast(argv: list[str]) -> int | None:
    if argv == ["--version"]:
        from . import __version__

        sys.stdout.write(f"esp-image {__version__}\n")
        return 0
    from .cli._fast import COMMANDS

    if not argv or argv[0] not in COMMANDS:
        return None
    parsed = _parse_fast(argv[0], argv[1:])
    if parsed is None:
        return None
    positional, values = parsed
    module, function, parameter, repeatable = COMMANDS[argv[0]]
    if not positional or (len(positional) > 1 and not repeatable):
        return None
    run = getattr(importlib.import_module(module), function)
    _started()
    code: int = run(**{parameter: positional if repeatable else positional[0]}, **values)
    return code


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
    ``construct.core`` imports ``pickle``, ``dataclasses`` imports ``inspect`` (with ast, dis
    and tokenize) and calls it only for a class without a docstring: several milliseconds
    of every start-up for features esp-image never uses. Done only in the CLI's own
    process, never when esp_image is imported as a library. (importlib's LazyLoader does
    not help here: the import statement reads ``module.__spec__``, which makes it load at
    once.)
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
        _defer_imports("pdb", "pickle", "inspect")
    from .errors import Interrupted
    from .io import unwind_on_signals

    unwind_on_signals()
    try:
        code = _fast(argv)
        if code is None:
            code = _typer_main(sys.argv[1:])
    except Interrupted as exc:
        # Ctrl-C or SIGTERM: a file being written is already removed (io.write_atomic).
        what = "interrupted" if exc.signum == 2 else "terminated"
        sys.stderr.write(f"esp-image: {what}{'; ' + exc.detail if exc.detail else ''}\n")
        code = 128 + exc.signum
    sys.exit(code)


def _typer_main(argv: list[str]) -> int:
    """Run the typer app; a usage error becomes one line on stderr and exit code 2."""
    import typer

    from .cli.app import app

    _started()
    try:
        code = app(argv, prog_name="esp-image", standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("esp-image: aborted\n")
        return 130
    except typer.TyperException as exc:  # click's usage errors (unknown option, missing file)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if message:
            from .cli.runner import error_line

            # The context of the (sub)command that failed: 'esp-image fs FILE get --help'.
            ctx = getattr(exc, "ctx", None)
            path = getattr(ctx, "command_path", "") or "esp-image"
            error_line(f"{message} (see '{path} --help')")
        return int(getattr(exc, "exit_code", 2))
    return code if isinstance(code, int) else 0
