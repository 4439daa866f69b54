"""The typer application: every command group's functions declared as typer commands.

The command functions live in typer-free modules (:mod:`.inspect`, :mod:`.rewrite`,
:mod:`.parts`, :mod:`.yaota`) and return their exit code; their string annotations name the
declarations in :mod:`.options`, evaluated here by :func:`~.options.declared`. ``fs`` and
``nvs`` are typer groups of their own (:mod:`.fs`, :mod:`.nvs`): their options come before the
subcommand.
"""

from __future__ import annotations

import inspect as _inspect
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

import typer

from .. import __version__
from . import elf, inspect, parts, rewrite, update, yaota
from .fs import fs_app
from .nvs import nvs_app
from .options import declared


def _plain_help_names() -> None:
    """Show options and arguments as a CLI user reads them, not as Python types.

    typer 0.2x prints each parameter's Python type (``<bool>`` after a flag, ``<list[str]>``
    after a repeatable option) and wraps required arguments in braces (``{FILE}``). Here a
    flag shows nothing, an option its metavar (every value option declares one), an
    argument its name, and the usage line ``FILE``/``[PATH]``/``FILE...`` as click does.
    """
    from typer import core

    argument, option = getattr(core, "TyperArgument", None), getattr(core, "TyperOption", None)
    if argument is None or option is None or not hasattr(argument, "_usage_display_name"):
        return  # an older typer that already renders click's way

    def usage_name(self: core.TyperArgument) -> str:
        name = self.metavar or self.name or ""
        if self.nargs != 1 and "..." not in name:
            name += "..."
        return name if self.required else f"[{name}]"

    def argument_type(self: core.TyperArgument, ctx: object) -> str | None:
        return None  # the name column already shows the metavar

    option_type = option.display_type_rich

    def flag_type(self: core.TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag else option_type(self, ctx)

    argument._usage_display_name = usage_name
    argument.display_type_rich = argument_type
    option.display_type_rich = flag_type


_plain_help_names()

app = typer.Typer(
    name="esp-image",
    help="Inspect, verify and rewrite ESP8266 and ESP32-family firmware images.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=True,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"esp-image {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Inspect, verify and rewrite ESP8266 and ESP32-family firmware images."""


def add_command(group: typer.Typer, func: Callable[..., int], name: str) -> None:
    """Declare ``func`` as ``group``'s command ``name``; its return value is the exit code."""
    hints = declared(func)
    signature = _inspect.signature(func)
    params = [p.replace(annotation=hints[p.name]) for p in signature.parameters.values()]

    @wraps(func)
    def run(**kwargs: Any) -> None:
        # typer drops a command's return value in standalone mode (its CliRunner); Exit
        # carries the code in both modes.
        raise typer.Exit(func(**kwargs))

    run.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=None)
    run.__annotations__ = {p.name: p.annotation for p in params}
    group.command(name)(run)


_Commands = tuple[tuple[str, Callable[..., int]], ...]
_TOP: _Commands = (("info", inspect.info), ("verify", inspect.verify),
                   ("retable", rewrite.retable), ("flash-params", rewrite.flash_params),
                   ("otadata", rewrite.otadata), ("extract", parts.extract),
                   ("merge", parts.merge), ("table", parts.table),
                   ("convert", parts.convert), ("diff", inspect.diff), ("elf", elf.elf),
                   ("check-update", update.check_update))
_YAOTA: _Commands = (("keygen", yaota.keygen), ("mkapp", yaota.mkapp), ("sign", yaota.sign),
                     ("verify", yaota.verify), ("bundle", yaota.bundle), ("send", yaota.send))
for _name, _func in _TOP:
    add_command(app, _func, _name)

layout_app = typer.Typer(help="Flash plans: what goes where, and the command to flash it.",
                         no_args_is_help=True)
app.add_typer(layout_app, name="layout")
add_command(layout_app, parts.layout_esp8266, "esp8266")
add_command(layout_app, yaota.layout_yaota8266, "yaota8266")

yaota_app = typer.Typer(
    help="yaota8266 OTA toolkit: signing keys, MicroPython main-app files, signed .ota "
         "updates and initial images.",
    no_args_is_help=True,
)
app.add_typer(yaota_app, name="yaota")
for _name, _func in _YAOTA:
    add_command(yaota_app, _func, _name)
app.add_typer(fs_app, name="fs")
app.add_typer(nvs_app, name="nvs")

from . import plan as _plan  # noqa: E402  (after the others: one line to merge)

add_command(app, _plan.plan, "plan")
