"""The typer command-line application: argument parsing only; work happens in the library."""

from __future__ import annotations

from typing import Annotated

import typer

from . import __version__, commands

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


Files = Annotated[list[str], typer.Argument(help="Firmware files, tables, otadata or dumps.",
                                            metavar="FILE...")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document (see the contract).")]
Chip = Annotated[str | None, typer.Option("--chip", help="Force the chip, e.g. esp32s3.")]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="Print only problems.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show a traceback on internal errors.")]


@app.command()
def info(files: Files, json: Json = False, chip: Chip = None, quiet: Quiet = False,
         debug: Debug = False) -> None:
    """Identify each file, parse it completely, run every check and describe it.

    Example: [bold]esp-image info firmware.bin[/bold]  (or [bold]--json[/bold] for pipelines)
    """
    raise typer.Exit(commands.info(files, as_json=json, chip=chip, quiet=quiet, debug=debug))


@app.command()
def verify(files: Files, json: Json = False, chip: Chip = None, quiet: Quiet = False,
           debug: Debug = False) -> None:
    """Run every integrity check; exit 0 if all pass, 1 if anything is damaged.

    Example: [bold]esp-image verify build/*.bin[/bold]
    """
    raise typer.Exit(commands.verify(files, as_json=json, chip=chip, quiet=quiet, debug=debug))
