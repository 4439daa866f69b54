"""Every option and argument more than one command takes, declared once.

Command modules name these in string annotations (``json: Json = False``) and import this
module only for type checking: :func:`declared` evaluates the annotations here, for the typer
app and for the fast path's generated option table, so the commands that must start quickly
import neither typer nor typing. An option only one command has is written in that command's
signature with :func:`option` (``Annotated[str | None, option("--mode", ...)]``).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer


def option(*names: str, help: str, metavar: str | None = None) -> Any:
    """One command's option: the names, the help and (for a value) the metavar."""
    return typer.Option(*names, help=help, metavar=metavar)


def argument(help: str, metavar: str) -> Any:
    """A positional argument; the metavar is what the usage line shows."""
    return typer.Argument(help=help, metavar=metavar)


def output_option(help: str) -> Any:
    """``-o/--output`` for a command whose output the default help does not describe."""
    return typer.Option("-o", "--output", metavar="FILE", help=help)


def force_option(help: str) -> Any:
    """``--force`` for a command where it overrides something more than the default name."""
    return typer.Option("--force", help=help)


def quiet_option(help: str) -> Any:
    """``-q/--quiet`` for a command whose quiet output is not just the problems."""
    return typer.Option("-q", "--quiet", help=help)


Json = Annotated[bool, typer.Option("--json", help="Print one JSON document (see the contract).")]
Debug = Annotated[bool, typer.Option("--debug", help="Show a traceback on internal errors.")]
Quiet = Annotated[bool, quiet_option("Print only problems.")]
Output = Annotated[str | None, output_option("Output file (default: the input's name with the "
                                             "change added, next to it).")]
InPlace = Annotated[bool, typer.Option("--in-place", help="Rewrite the input (atomically).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would change; write "
                                                         "nothing.")]
Force = Annotated[bool, force_option("Do it anyway: replace an existing file under the default "
                                     "output name.")]
Chip = Annotated[str | None, typer.Option("--chip", metavar="CHIP",
                                          help="Force the chip, e.g. esp32s3.")]
FileChip = Annotated[str | None, typer.Option(
    "--chip", metavar="CHIP",
    help="The chip the files must be for, e.g. esp32s3: a file that states another fails its "
         "chip check (with --port: the board's chip for esptool, default auto).")]
NoLimit = Annotated[bool, typer.Option("--no-size-limit",
                                       help="Read files larger than 128MB (the largest flash).")]
Key = Annotated[str | None, typer.Option(
    "--key", metavar="PEM",
    help="Key for a wrapped file: the RSA public key of an Arduino-signed update (verifies "
         "the signature), the private key (or 32-byte HMAC key) of a pre-encrypted OTA image "
         "(decrypts it).")]
Port = Annotated[str, typer.Option("--port", metavar="PORT",
                                   help="The board's serial port, for the printed esptool "
                                        "command.")]
Files = Annotated[list[str], argument("Firmware files, tables, otadata or dumps.", "FILE...")]
File = Annotated[str, argument("The firmware file.", "FILE")]
PageSize = Annotated[str | None, typer.Option(
    "--page-size", metavar="SIZE", help="SPIFFS logical page size, e.g. 256 (default: inferred "
                                        "from the image).")]
BlockSize = Annotated[str | None, typer.Option(
    "--block-size", metavar="SIZE", help="SPIFFS logical block size, e.g. 4096 or 8192 "
                                         "(default: inferred from the image).")]


def declared(func: Callable[..., object]) -> dict[str, Any]:
    """``func``'s parameters with their annotations evaluated against this module.

    Each value is ``Annotated[type, typer.Option/Argument]``: what typer reads, and what
    :mod:`esp_image.cli._fastgen` turns into the fast path's option table.
    """
    namespace = {**func.__globals__, **globals()}
    hints = typing.get_type_hints(func, globalns=namespace, include_extras=True)
    hints.pop("return", None)
    return hints


# retable's options: its signature is long enough without them.
FlashSize = Annotated[str | None, option("-f", "--flash-size", metavar="SIZE",
                                         help="New flash size (8MB, 16M, ...).")]
TableChoice = Annotated[str | None, option("--table", metavar="TABLE",
                                           help="ota | default | original | micropython | "
                                                "PATH.csv")]
AppSize = Annotated[str | None, option("--app-size", metavar="SIZE",
                                       help="Size of every app partition.")]
Resize = Annotated[list[str] | None, option(
    "--resize", metavar="NAME=SIZE",
    help="Resize a partition (SIZE 0: fill the free space after it); repeatable.")]
Add = Annotated[list[str] | None, option("--add", metavar="NAME:TYPE:SUBTYPE:SIZE[:OFFSET]",
                                         help="Add a partition; repeatable.")]
Delete = Annotated[list[str] | None, option("--delete", metavar="NAME",
                                            help="Remove this partition; repeatable.")]
Rename = Annotated[list[str] | None, option("--rename", metavar="OLD=NEW",
                                            help="Rename a partition; repeatable.")]
EraseFs = Annotated[bool, option("--erase-fs", help="Erase filesystems that move or change "
                                                    "size instead of copying their files.")]

# HEX/UF2 output: every command that writes flash bytes takes it.
OutFormat = Annotated[str | None, typer.Option(
    "--format", metavar="FORM",
    help="Write raw | hex | uf2 (default: from -o's suffix .hex/.uf2, else the input's own "
         "form).")]
# elf's option: which image of a flash file.
Partition = Annotated[str | None, option(
    "--partition", metavar="NAME",
    help="The app partition (or ESP8266 region) to convert, or bootloader (default: the app "
         "the bootloader boots).")]
# check-update's operands.
UpdateFile = Annotated[str, argument("The OTA update: an app image (or a wrapped one).", "UPDATE")]
Against = Annotated[str | None, option("--against", metavar="TARGET",
                                       help="The device: a merged firmware file or a flash "
                                            "dump (or --port PORT: a connected board).")]
# plan's options.
Keep = Annotated[list[str] | None, option(
    "--keep", metavar="NAMES",
    help="Never touch these partitions (comma list, repeatable): labels, bootloader, "
         "partition-table, or a subtype / TYPE:SUBTYPE such as nvs or data:nvs.")]
AssumeErased = Annotated[bool, option(
    "--assume-erased", help="The board is blank (erased): leave out the erase-region "
                            "commands for the firmware's erased parts.")]
PieceDir = Annotated[str | None, option(
    "-o", "--output", metavar="DIR",
    help="Directory for the pieces (default: the input's name with -plan, next to it).")]
# yaota send's network options. Its --port is the ota-server's UDP port, not the serial PORT of
# the printed esptool commands (Port above), so it is an option of its own.
OtaHost = Annotated[str, option("--to", metavar="HOST",
                                help="The device in OTA mode: its IP address or host name.")]
UdpPort = Annotated[str, option("--port", metavar="N",
                                help="The ota-server's UDP port (yaota8266 listens on 8266).")]
AckTimeout = Annotated[str, option("--timeout", metavar="SECONDS",
                                   help="How long to wait for each acknowledgement "
                                        "(ota_client.py waits 0.3 s).")]
Retries = Annotated[str, option("--retries", metavar="N",
                                help="Resends of an unanswered datagram before giving up (the "
                                     "device forgets an update after 10 s without one).")]
# A connected board (esp_image.board), esptool's options with esptool's names. --port is the
# board's serial port everywhere (merge and yaota print it in the esptool command they show).
BoardPort = Annotated[str | None, typer.Option(
    "--port", "-p", metavar="PORT",
    help="Read (and write) the board on this serial port, or socket://HOST:PORT, through "
         "esptool, instead of a file.")]
Baud = Annotated[str | None, typer.Option("--baud", "-b", metavar="BAUD",
                                          help="Serial speed after connecting (default "
                                               "460800).")]
Before = Annotated[str, typer.Option("--before", metavar="RESET",
                                     help="default-reset | usb-reset | no-reset | "
                                          "no-reset-no-sync")]
After = Annotated[str, typer.Option("--after", metavar="RESET",
                                    help="hard-reset | soft-reset | no-reset | no-reset-stub "
                                         "| watchdog-reset")]
NoStub = Annotated[bool, typer.Option("--no-stub", help="Talk to the ROM loader; do not "
                                                        "upload esptool's flasher stub.")]
Backup = Annotated[str | None, typer.Option(
    "--backup", metavar="PATH",
    help="Save what a board write overwrites here (default: esp-image-backup-MAC-TIME-"
         "ADDRESS.bin).")]
NoBackup = Annotated[bool, typer.Option("--no-backup", help="Write the board without saving "
                                                            "what is overwritten.")]
OptFiles = Annotated[list[str] | None, argument("Firmware files, tables, otadata or dumps "
                                                "(none with --port).", "FILE...")]
OptFile = Annotated[str | None, argument("The firmware file (none with --port).", "FILE")]
# The report's outputs (info, diff).
Html = Annotated[str | None, typer.Option(
    "--html", metavar="OUT.html",
    help="Also write a self-contained HTML report (verdict, flash map, tables, checks).")]
Svg = Annotated[str | None, typer.Option(
    "--svg", metavar="OUT.svg", help="Also write the file's flash map as SVG (one FILE).")]
# --port on extract, check-update and plan (issue 17): esptool's chip for the board, and plan's
# --port, which connects and writes the plan instead of printing esptool commands.
BoardChip = Annotated[str | None, typer.Option(
    "--chip", metavar="CHIP", help="With --port: the board's chip for esptool (default: "
                                   "detect).")]
PlanPort = Annotated[str | None, typer.Option(
    "--port", "-p", metavar="PORT",
    help="Write the plan to the board on this serial port, or socket://HOST:PORT, through "
         "esptool: only the pieces the board does not already hold, each checked with its "
         "flash MD5 (without it: pieces and esptool commands naming PORT).")]
OptWhat = Annotated[str | None, argument("bootloader | partition-table | otadata | a partition "
                                         "name (with --port: the only argument).", "WHAT")]
# fs and nvs on a board: -p is their --partition, so the board's port is --port alone.
GroupPort = Annotated[str | None, typer.Option(
    "--port", metavar="PORT",
    help="Read (and write) the partition on the board at this serial port, or "
         "socket://HOST:PORT, through esptool, instead of FILE.")]
