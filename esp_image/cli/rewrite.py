"""``retable``, ``flash-params`` and ``otadata``: rewrite a firmware file, safely.

``retable`` is on the start-up fast path (:mod:`esp_image.entry`): this module imports
neither typer nor typing at run time; the annotations name :mod:`.options`.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from ..errors import UsageError
from ..image import Image
from .runner import (
    EXIT_OK,
    choose_output,
    emit_write,
    esptool_write_flash,
    flash_input,
    format_suffix,
    output_form,
    run_guarded,
    write_json,
)

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Annotated

    from .board import Connection
    from .options import (
        Add,
        After,
        AppSize,
        Backup,
        Baud,
        Before,
        BoardPort,
        Debug,
        Delete,
        DryRun,
        EraseFs,
        FileChip,
        FlashSize,
        Force,
        InPlace,
        Json,
        NoBackup,
        NoStub,
        OptFile,
        OutFormat,
        Output,
        Quiet,
        Rename,
        Resize,
        TableChoice,
        force_option,
        option,
    )


def retable(file: OptFile = None, flash_size: FlashSize = None, table: TableChoice = None,
            app_size: AppSize = None, resize: Resize = None, add: Add = None,
            delete: Delete = None, rename: Rename = None, erase_fs: EraseFs = False,
            output: Output = None, fmt: OutFormat = None, in_place: InPlace = False,
            dry_run: DryRun = False,
            force: Force = False, json: Json = False, quiet: Quiet = False,
            debug: Debug = False, chip: FileChip = None, port: BoardPort = None,
            baud: Baud = None, before: Before = "default-reset", after: After = "hard-reset",
            no_stub: NoStub = False, backup: Backup = None, no_backup: NoBackup = False
            ) -> int:
    """Give a merged firmware a new flash size and/or partition table, safely.

    Every rule the bootloader enforces is checked first; the bootloader header's SHA-256, the
    table MD5 and the otadata are rewritten; the app moves to the first app slot; filesystems
    and NVS that move are carried; other data partitions that moved or shrank are erased.

    Example: [bold]esp-image retable -f 8MB --table ota firmware.bin[/bold]
    (writes firmware-8MB-OTA.bin; with [bold]--port[/bold] it rewrites the board, refusing to
    move the running app unless [bold]--force[/bold])
    """
    def body() -> int:
        from ..transforms.retable import RetableOptions
        from ..transforms.retable import retable as change

        options = RetableOptions.parse(flash_size=flash_size, table=table, app_size=app_size,
                                       resize=resize or (), add=add or (),
                                       delete=delete or (), rename=rename or (),
                                       erase_fs=erase_fs)
        if port is not None or file is None:
            from .board import retable_on_board

            return retable_on_board(file, (port, baud, chip, before, after, no_stub), options,
                                    dry_run=dry_run, json=json, quiet=quiet, debug=debug,
                                    backup=backup, no_backup=no_backup, force=force)
        opened = Image.open(file, chip=chip)
        image = flash_input(opened)
        result = change(image, options)
        target = choose_output(file, output, in_place, options.tag(), force=force,
                               suffix=format_suffix(fmt))
        code = emit_write(source=file, output=target, data=result.data, actions=result.actions,
                          notes=result.notes, dry_run=dry_run, as_json=json, quiet=quiet,
                          extra={"flash_size": result.flash_size,
                                 "partitions": [p.to_dict() for p in result.table.partitions]},
                          original=image.data, flash_command=_write_command(image, target),
                          form=output_form(fmt, target, opened))
        if not json and not quiet and result.data != image.data:
            from .render import partition_table_block, plain

            sys.stdout.write(plain([partition_table_block(result.table)]))
        return code
    return run_guarded(body, debug=debug, as_json=json, path=file)


def flash_params(
    file: OptFile = None,
    size: Annotated[str | None, option(
        "--size", metavar="SIZE",
        help="Flash size (4MB, 8MB; ESP8266 also 4MB-c1, 32m-c1 ...).")] = None,
    mode: Annotated[str | None, option("--mode", metavar="MODE",
                                       help="qio | qout | dio | dout")] = None,
    freq: Annotated[str | None, option("--freq", metavar="FREQ",
                                       help="Flash clock, e.g. 40m, 80m.")] = None,
    output: Output = None, fmt: OutFormat = None, in_place: InPlace = False,
    dry_run: DryRun = False, force: Force = False, json: Json = False, quiet: Quiet = False,
    debug: Debug = False,
    chip: FileChip = None, port: BoardPort = None, baud: Baud = None,
    before: Before = "default-reset", after: After = "hard-reset", no_stub: NoStub = False,
    backup: Backup = None, no_backup: NoBackup = False,
) -> int:
    """Set flash size, mode and/or frequency in image headers (hashes and CRCs repaired).

    Works on a bootloader, an app, a merged file (bootloader and apps) and ESP8266 images.
    Signed images are refused.

    Example: [bold]esp-image flash-params --size 8MB --freq 80m firmware.bin[/bold]
    """
    def body() -> int:
        from ..transforms.flash import FlashParams, set_flash_params

        params = FlashParams.parse(size, mode, freq)
        if port is not None or file is None:
            from .board import on_board

            return on_board(file, (port, baud, chip, before, after, no_stub),
                            lambda image: set_flash_params(image, params), dry_run=dry_run,
                            json=json, quiet=quiet, debug=debug, backup=backup,
                            no_backup=no_backup)
        opened = Image.open(file, chip=chip)
        image = flash_input(opened)
        tag = "-".join(x for x in (size, mode, freq) if x) or "flash-params"
        result = set_flash_params(image, params)
        target = choose_output(file, output, in_place, tag, force=force,
                               suffix=format_suffix(fmt))
        return emit_write(source=file, output=target, data=result.data, actions=result.actions,
                          dry_run=dry_run, as_json=json, quiet=quiet, original=image.data,
                          form=output_form(fmt, target, opened))
    return run_guarded(body, debug=debug, as_json=json, path=file)


def _write_command(image: Image, target: str) -> str | None:
    """The esptool command that flashes ``target`` (retable() refuses a file without a chip and
    a base, so both are known after it)."""
    if image.chip is None or image.base is None:
        return None
    return esptool_write_flash(image.chip.name, image.base, target)


def otadata(
    file: OptFile = None,
    boot: Annotated[str | None, option("--boot", metavar="SLOT",
                                       help="Slot to boot: 0, ota_1, or a partition name.")
                    ] = None,
    state: Annotated[str | None, option(
        "--state", metavar="STATE",
        help="new | pending | valid | invalid | aborted | undefined")] = None,
    erase: Annotated[bool, option("--erase", help="Erase both copies (factory / ota_0 "
                                                  "boots).")] = False,
    slots: Annotated[int | None, option("--slots", metavar="N",
                                        help="OTA slot count for a bare otadata file "
                                             "(default 2).")] = None,
    output: Output = None, fmt: OutFormat = None, in_place: InPlace = False,
    dry_run: DryRun = False,
    force: Annotated[bool, force_option("Do it anyway: replace an existing file under the "
                                        "default output name (otadata: also select a slot "
                                        "whose app the bootloader would skip).")] = False,
    json: Json = False, quiet: Quiet = False, debug: Debug = False,
    chip: FileChip = None, port: BoardPort = None, baud: Baud = None,
    before: Before = "default-reset", after: After = "hard-reset", no_stub: NoStub = False,
    backup: Backup = None, no_backup: NoBackup = False,
) -> int:
    """Show or choose the OTA slot that boots, writing the record ESP-IDF would write.

    Without --boot, --state or --erase it only reports both records and what boots.
    Example: [bold]esp-image otadata --boot ota_1 firmware.bin[/bold]
    """
    def body() -> int:
        from ..transforms.ota import otadata_for

        if port is not None or file is None:
            return _otadata_on_board(file, (port, baud, chip, before, after, no_stub), boot,
                                     state, erase, slots, force, dry_run=dry_run, json=json,
                                     quiet=quiet, debug=debug, backup=backup,
                                     no_backup=no_backup)
        if not _change_asked(boot, state, erase, bool(output or in_place or dry_run or force)):
            return _report_otadata(file, slots, json, quiet)
        opened = Image.open(file, chip=chip)
        image = flash_input(opened)
        result = otadata_for(image, slot=boot, state=state, erase=erase, ota_slot_count=slots,
                             force=force)
        booted = Image.from_bytes(result.data).boot
        target = choose_output(file, output, in_place, "otadata", force=force,
                               suffix=format_suffix(fmt))
        return emit_write(source=file, output=target, data=result.data, actions=result.actions,
                          dry_run=dry_run, as_json=json, quiet=quiet, original=image.data,
                          extra={"boot": booted.to_dict() if booted else None},
                          form=output_form(fmt, target, opened))
    return run_guarded(body, debug=debug, as_json=json, path=file)
def _change_asked(boot: str | None, state: str | None, erase: bool, writing: bool) -> bool:
    """Whether ``otadata`` changes the records; a contradictory request is refused."""
    if erase and (boot is not None or state is not None):
        raise UsageError("--erase clears both records: give it alone, not with "
                         "--boot or --state")
    if boot is None and state is None and not erase:
        if writing:
            raise UsageError("nothing to change: give --boot, --state or --erase "
                             "(otadata FILE alone reports and writes nothing)")
        return False
    return True


def _otadata_on_board(file: str | None, connection: Connection, boot: str | None,
                      state: str | None, erase: bool, slots: int | None, force: bool, *,
                      dry_run: bool, json: bool, quiet: bool, debug: bool,
                      backup: str | None, no_backup: bool) -> int:
    """``otadata --port``: report the board's records, or write the new ones."""
    from ..transforms.ota import otadata_for
    from .board import on_board, read_board

    if not _change_asked(boot, state, erase, dry_run or force):
        return read_board(file, connection, lambda image: _report_otadata(
            connection[0] or "", slots, json, quiet, image), json=json, debug=debug)
    return on_board(file, connection, lambda image: otadata_for(
        image, slot=boot, state=state, erase=erase, ota_slot_count=slots, force=force),
        dry_run=dry_run, json=json, quiet=quiet, debug=debug, backup=backup,
        no_backup=no_backup)


def _report_otadata(path: str, slots: int | None, as_json: bool, quiet: bool,
                    board: Image | None = None) -> int:
    """Both records and the boot answer; a file without otadata is described, not refused.
    ``board``: the Image of a board read for ``path`` (its port)."""
    from ..transforms.ota import otadata_location

    image = board if board is not None else Image.open(path).unwrapped()
    if not (image.kind == "flash" and image.table is not None
            and image.table.otadata is None):
        otadata_location(image, slots)  # one line for a file that holds no otadata
    boot = image.boot
    if image.kind == "otadata" and slots not in (None, 2) and image.otadata is not None:
        boot = image.otadata.select(ota_slot_count=slots or 2, has_factory=False)
        image = replace(image, boot=boot)
    issues = [i for i in image.issues if i.code == "boot-fallback"]
    if as_json:
        write_json({"path": path, "kind": image.kind,
                    "otadata": image.otadata.to_dict() if image.otadata is not None else None,
                    "boot": boot.to_dict() if boot is not None else None,
                    "issues": [i.to_dict() for i in issues],
                    "notes": list(image.notes) if image.kind == "otadata" else []})
        return EXIT_OK
    if not quiet or issues:
        from .render import otadata_report, plain

        sys.stdout.write(plain(otadata_report(image, issues, quiet=quiet)))
    return EXIT_OK
