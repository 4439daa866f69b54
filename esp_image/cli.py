"""The typer command-line application: argument parsing only; work happens in the library."""

from __future__ import annotations

from typing import Annotated

import typer

from . import __version__, commands


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


Files = Annotated[list[str], typer.Argument(help="Firmware files, tables, otadata or dumps.",
                                            metavar="FILE...")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document (see the contract).")]
Chip = Annotated[str | None, typer.Option("--chip", metavar="CHIP",
                                          help="Force the chip, e.g. esp32s3.")]
FileChip = Annotated[str | None, typer.Option(
    "--chip", metavar="CHIP",
    help="The chip the files must be for, e.g. esp32s3: a file that states another fails its "
         "chip check.")]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="Print only problems.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show a traceback on internal errors.")]
NoLimit = Annotated[bool, typer.Option("--no-size-limit",
                                       help="Read files larger than 128MB (the largest flash).")]


@app.command()
def info(files: Files, json: Json = False, chip: FileChip = None, quiet: Quiet = False,
         debug: Debug = False, no_size_limit: NoLimit = False) -> None:
    """Identify each file, parse it completely, run every check and describe it.

    Example: [bold]esp-image info firmware.bin[/bold]  (or [bold]--json[/bold] for pipelines)
    """
    raise typer.Exit(commands.info(files, as_json=json, chip=chip, quiet=quiet, debug=debug,
                                   no_size_limit=no_size_limit))


@app.command()
def verify(files: Files, json: Json = False, chip: FileChip = None, quiet: Quiet = False,
           debug: Debug = False, no_size_limit: NoLimit = False) -> None:
    """Run every integrity check; exit 0 if all pass, 1 if anything is damaged.

    Example: [bold]esp-image verify build/*.bin[/bold]
    """
    raise typer.Exit(commands.verify(files, as_json=json, chip=chip, quiet=quiet, debug=debug,
                                     no_size_limit=no_size_limit))


# ---------------------------------------------------------------------- rewriting commands
Output = Annotated[str | None, typer.Option("-o", "--output", metavar="FILE",
                                            help="Output file (default: the input's name "
                                                 "with the change added, next to it).")]
InPlace = Annotated[bool, typer.Option("--in-place", help="Rewrite the input (atomically).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would change; write "
                                                         "nothing.")]
File = Annotated[str, typer.Argument(help="The firmware file.", metavar="FILE")]
Force = Annotated[bool, typer.Option("--force", help="Do it anyway: replace an existing file "
                                     "under the default output name (otadata: also select a slot "
                                     "whose app the bootloader would skip).")]


def _done(code: int) -> None:
    raise typer.Exit(code)


@app.command()
def retable(
    file: File,
    flash_size: Annotated[str | None, typer.Option("-f", "--flash-size", metavar="SIZE",
                                                   help="New flash size (8MB, 16M, ...).")
                          ] = None,
    table: Annotated[str | None, typer.Option(
        "--table", metavar="TABLE",
        help="ota | default | original | micropython | PATH.csv")] = None,
    app_size: Annotated[str | None, typer.Option("--app-size", metavar="SIZE",
                                                 help="Size of every app partition.")] = None,
    resize: Annotated[list[str] | None, typer.Option(
        "--resize", metavar="NAME=SIZE",
        help="Resize a partition (SIZE 0: fill the free space after it); repeatable.")] = None,
    add: Annotated[list[str] | None, typer.Option(
        "--add", metavar="NAME:TYPE:SUBTYPE:SIZE[:OFFSET]",
        help="Add a partition; repeatable.")] = None,
    delete: Annotated[list[str] | None, typer.Option("--delete", metavar="NAME",
                                                       help="Remove this partition; repeatable.")
                      ] = None,
    rename: Annotated[list[str] | None, typer.Option("--rename", metavar="OLD=NEW",
                                                       help="Rename a partition; repeatable.")
                      ] = None,
    erase_fs: Annotated[bool, typer.Option(
        "--erase-fs", help="Erase filesystems that move or change size instead of copying "
                           "their files.")] = False,
    output: Output = None, in_place: InPlace = False, dry_run: DryRun = False,
    force: Force = False, json: Json = False, quiet: Quiet = False, debug: Debug = False,
) -> None:
    """Give a merged firmware a new flash size and/or partition table, safely.

    Every rule the bootloader enforces is checked first; the bootloader header's SHA-256, the
    table MD5 and the otadata are rewritten; the app moves to the first app slot; data
    partitions that moved or shrank are erased.

    Example: [bold]esp-image retable -f 8MB --table ota firmware.bin[/bold]
    (writes firmware-8MB-OTA.bin)
    """
    _done(commands.run_retable(
        file, flash_size=flash_size, table=table, app_size=app_size, resize=resize or [],
        add=add or [], delete=delete or [], rename=rename or [], erase_fs=erase_fs,
        output=output, in_place=in_place, dry_run=dry_run, as_json=json, quiet=quiet,
        debug=debug, force=force))


@app.command("flash-params")
def flash_params(
    file: File,
    size: Annotated[str | None, typer.Option(
        "--size", metavar="SIZE",
        help="Flash size (4MB, 8MB; ESP8266 also 4MB-c1, 32m-c1 ...).")] = None,
    mode: Annotated[str | None, typer.Option("--mode", metavar="MODE",
                                                  help="qio | qout | dio | dout")] = None,
    freq: Annotated[str | None, typer.Option("--freq", metavar="FREQ",
                                                  help="Flash clock, e.g. 40m, 80m.")
                    ] = None,
    output: Output = None, in_place: InPlace = False, dry_run: DryRun = False,
    force: Force = False, json: Json = False, quiet: Quiet = False, debug: Debug = False,
) -> None:
    """Set flash size, mode and/or frequency in image headers (hashes and CRCs repaired).

    Works on a bootloader, an app, a merged file (bootloader and apps) and ESP8266 images.
    Signed images are refused.

    Example: [bold]esp-image flash-params --size 8MB --freq 80m firmware.bin[/bold]
    """
    _done(commands.run_flash_params(file, size=size, mode=mode, freq=freq, output=output,
                                    in_place=in_place, dry_run=dry_run, as_json=json,
                                    debug=debug, quiet=quiet, force=force))


@app.command()
def otadata(
    file: File,
    boot: Annotated[str | None, typer.Option("--boot", metavar="SLOT",
                                                  help="Slot to boot: 0, ota_1, or a "
                                                            "partition name.")] = None,
    state: Annotated[str | None, typer.Option(
        "--state", metavar="STATE",
        help="new | pending | valid | invalid | aborted | undefined")] = None,
    erase: Annotated[bool, typer.Option("--erase", help="Erase both copies (factory / "
                                                        "ota_0 boots).")] = False,
    slots: Annotated[int | None, typer.Option("--slots", metavar="N",
                                                  help="OTA slot count for a bare "
                                                              "otadata file (default 2).")
                     ] = None,
    output: Output = None, in_place: InPlace = False, dry_run: DryRun = False,
    force: Force = False, json: Json = False, quiet: Quiet = False, debug: Debug = False,
) -> None:
    """Show or choose the OTA slot that boots, writing the record ESP-IDF would write.

    Without --boot, --state or --erase it only reports both records and what boots.
    Example: [bold]esp-image otadata --boot ota_1 firmware.bin[/bold]
    """
    _done(commands.run_otadata(file, boot=boot, state=state, erase=erase, slots=slots,
                               output=output, in_place=in_place, dry_run=dry_run, as_json=json,
                               debug=debug, quiet=quiet, force=force))


@app.command()
def extract(
    file: File,
    what: Annotated[str, typer.Argument(help="bootloader | partition-table | otadata | "
                                             "a partition name", metavar="WHAT")],
    output: Output = None,
    raw: Annotated[bool, typer.Option("--raw", help="The whole region, not just the image.")
                   ] = False,
    dry_run: DryRun = False, force: Force = False, json: Json = False, quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Cut a bootloader, table, otadata or partition out of a firmware file.

    Apps and bootloaders end at their real image end (signatures included).

    Example: [bold]esp-image extract firmware.bin factory -o app.bin[/bold]
    """
    _done(commands.run_extract(file, what, output=output, raw=raw, as_json=json, debug=debug,
                               quiet=quiet, dry_run=dry_run, force=force))


@app.command()
def merge(
    parts: Annotated[list[str], typer.Argument(help="ADDR=FILE pairs.", metavar="ADDR=FILE...")],
    output: Annotated[str, typer.Option("-o", "--output", metavar="FILE",
                                                help="The merged file.")],
    pad_to: Annotated[str | None, typer.Option("--pad-to", metavar="SIZE",
                                                  help="Pad with 0xFF to this size.")
                      ] = None,
    chip: Chip = None,
    flash_size: Annotated[str | None, typer.Option(
        "--flash-size", metavar="SIZE", help="Set the bootloader header's flash size (4MB, "
                                             "8MB ...), as esptool merge-bin does.")] = None,
    flash_mode: Annotated[str | None, typer.Option(
        "--flash-mode", metavar="MODE", help="Set the bootloader header's flash mode: qio | "
                                             "qout | dio | dout.")] = None,
    flash_freq: Annotated[str | None, typer.Option(
        "--flash-freq", metavar="FREQ", help="Set the bootloader header's flash clock (40m, "
                                             "80m ...; the chip decides which exist).")] = None,
    target_offset: Annotated[str | None, typer.Option(
        "--target-offset", metavar="ADDR",
        help="Flash address of the output's first byte.")] = None,
    dry_run: DryRun = False, json: Json = False, quiet: Quiet = False, debug: Debug = False,
) -> None:
    """Build one flash image from parts, like esptool merge-bin, refusing overlaps.

    Example: [bold]esp-image merge -o full.bin 0x1000=bootloader.bin 0x8000=partitions.bin
    0x10000=app.bin[/bold]
    """
    _done(commands.run_merge(parts, output=output, pad_to=pad_to, chip=chip,
                             flash_size=flash_size, flash_mode=flash_mode, flash_freq=flash_freq,
                             target_offset=target_offset, as_json=json, debug=debug,
                             quiet=quiet, dry_run=dry_run))


@app.command()
def table(
    file: File,
    output: Annotated[str | None, typer.Option(
        "-o", "--output", metavar="FILE",
        help="Write here (default: a table is printed as CSV; a CSV is compiled to NAME.bin "
             "next to it).")] = None,
    offset: Annotated[str, typer.Option("--offset", metavar="ADDR",
                                        help="Table offset for CSV input.")] = "0x8000",
    flash_size: Annotated[str | None, typer.Option("--flash-size", metavar="SIZE",
                                                   help="Check the table fits.")] = None,
    dry_run: DryRun = False, force: Force = False, json: Json = False, quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Print a table as ESP-IDF CSV, or compile a CSV to a binary table (like gen_esp32part).

    Example: [bold]esp-image table firmware.bin[/bold]  or
    [bold]esp-image table partitions.csv -o partitions.bin[/bold]
    """
    _done(commands.run_table(file, output=output, offset=offset, flash_size=flash_size,
                             as_json=json, debug=debug, quiet=quiet, dry_run=dry_run,
                             force=force))


@app.command()
def convert(
    file: File,
    to: Annotated[str, typer.Option("--to", metavar="FORM",
                                        help="gen_appbin | esptool")],
    user: Annotated[int | None, typer.Option(
        "--user", metavar="N", help="1 or 2: which gen_appbin user bin this is.")] = None,
    output: Output = None, in_place: InPlace = False, dry_run: DryRun = False,
    force: Force = False, json: Json = False, quiet: Quiet = False, debug: Debug = False,
) -> None:
    """Convert an ESP8266 v2 image between esptool's and gen_appbin's form (CRC repaired).

    Example: [bold]esp-image convert app.bin --to gen_appbin --user 1[/bold]
    """
    _done(commands.run_convert(file, to=to, user=user, output=output, in_place=in_place,
                               dry_run=dry_run, as_json=json, debug=debug, quiet=quiet,
                               force=force))


layout_app = typer.Typer(help="Flash plans: what goes where, and the command to flash it.",
                         no_args_is_help=True)
app.add_typer(layout_app, name="layout")


@layout_app.command("esp8266")
def layout_esp8266(
    map_name: Annotated[str, typer.Option("--map", metavar="MAP",
                                          help="NONOS map: 1MB, 4MB-c1, 32m-c1 ...")],
    boot: Annotated[str | None, typer.Option("--boot", metavar="FILE",
                                                  help="The bootloader, boot_v1.x.bin.")] = None,
    user1: Annotated[str | None, typer.Option("--user1", metavar="FILE",
                                                   help="The user1.bin app.")] = None,
    user2: Annotated[str | None, typer.Option("--user2", metavar="FILE",
                                                   help="The user2.bin app.")] = None,
    init_data: Annotated[str | None, typer.Option(
        "--init-data", metavar="FILE", help="The RF init data, esp_init_data_default.bin.")] = None,
    output: Annotated[str | None, typer.Option(
        "-o", "--output", metavar="FILE",
        help="Also write the complete flash image here (nothing is written without -o).")
                      ] = None,
    port: Annotated[str, typer.Option("--port", metavar="PORT",
                                      help="Serial port for the printed command.")] = "PORT",
    dry_run: DryRun = False, json: Json = False, quiet: Quiet = False, debug: Debug = False,
) -> None:
    """The ESP8266 NONOS flash plan for a map, the esptool command, and the full image.

    Example: [bold]esp-image layout esp8266 --map 4MB-c1 --boot boot_v1.7.bin --user1
    user1.bin -o full.bin[/bold]
    """
    _done(commands.run_layout_esp8266(map_name, boot=boot, user1=user1, user2=user2,
                                      init_data=init_data, output=output, port=port,
                                      as_json=json, debug=debug, quiet=quiet,
                                      dry_run=dry_run))


# yaota8266: keys, main-app files, signed .ota updates, initial images, the flash plan.
from .cli_yaota import layout_yaota8266, yaota_app  # noqa: E402  (after layout_app exists)

app.add_typer(yaota_app, name="yaota")
layout_app.command("yaota8266")(layout_yaota8266)

# diff: what changed between two images or firmware files.
from .cli_diff import diff_command  # noqa: E402

app.command("diff")(diff_command)

# fs: files inside firmware images and partition images.
from .cli_fs import fs_app  # noqa: E402

app.add_typer(fs_app, name="fs")
