"""``plan``: the smallest set of flash writes (and erases) that brings a board to a firmware."""

from __future__ import annotations

import os
import sys

from ..image import Image
from .runner import EXIT_OK, run_guarded, write_json

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from ..transforms.plan import Plan
    from .options import (
        After,
        AssumeErased,
        Backup,
        Baud,
        Before,
        Chip,
        Debug,
        DryRun,
        File,
        Force,
        Json,
        Keep,
        NoBackup,
        NoStub,
        PieceDir,
        PlanPort,
        Quiet,
    )


def plan(
    file: File, keep: Keep = None, assume_erased: AssumeErased = False, output: PieceDir = None,
    port: PlanPort = None, chip: Chip = None, dry_run: DryRun = False, force: Force = False,
    json: Json = False, quiet: Quiet = False, debug: Debug = False, baud: Baud = None,
    before: Before = "default-reset", after: After = "hard-reset", no_stub: NoStub = False,
    backup: Backup = None, no_backup: NoBackup = False,
) -> int:
    """The fewest flash writes that bring a board to this merged firmware or dump.

    Erased 4 KiB sectors are left out; on a used board the parts whose old contents would
    change what it does are erased instead (esptool erase-region), unless --assume-erased.
    Partitions named by --keep are never touched. The pieces are written to a directory,
    or with --port straight to the board (only what it does not hold yet).

    Example: [bold]esp-image plan firmware.bin --keep nvs,vfs[/bold]
    """
    def body() -> int:
        from ..transforms.plan import keep_names
        from ..transforms.plan import plan as make_plan

        image = Image.open(file, chip=chip).unwrapped()
        result = make_plan(image, keep=keep_names(keep or ()), assume_erased=assume_erased)
        if port is not None:
            from .port_commands import plan_on_board

            return plan_on_board(file, result, (port, baud, before, after, no_stub),
                                 output=output, dry_run=dry_run, json=json, quiet=quiet,
                                 backup=backup, no_backup=no_backup)
        target = _piece_dir(file, output, force=force)
        if not dry_run:
            _write_pieces(result, image, target, file)
        commands = _commands(result, target, "PORT")
        if json:
            write_json({"input": file, "output": target, "written": not dry_run,
                        **result.to_dict(target), "esptool": commands[0],
                        "erase_commands": commands[1:]})
        elif not quiet:
            sys.stdout.write(_render(file, result, target, commands, dry_run))
        return EXIT_OK
    return run_guarded(body, debug=debug, as_json=json, path=file)


def _piece_dir(file: str, output: str | None, *, force: bool) -> str:
    """``-o`` or ``<input stem>-plan`` next to the input; an existing non-empty default
    directory needs --force, and an existing file is never taken for a directory."""
    from ..errors import InputError, UsageError

    target = output or os.path.splitext(file)[0] + "-plan"
    if os.path.lexists(target) and not os.path.isdir(target):
        raise UsageError(f"{target} exists and is not a directory; give -o DIR for the pieces")
    if not output and not force and os.path.isdir(target) and os.listdir(target):
        raise InputError(f"{target} already exists and is not empty; give -o DIR for another "
                         "directory, or --force to write into it (nothing was written)")
    return target


def _write_pieces(result: Plan, image: Image, target: str, source: str) -> None:
    """Each piece written atomically, accepted only when its bytes are the source's range."""
    from ..errors import InputError, VerificationFailed
    from ..io import check_output, write_atomic

    try:
        os.makedirs(target, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {target}: {exc.strerror or exc}") from None
    base = result.base
    for piece in result.writes:
        path = os.path.join(target, piece.file)
        check_output(path, [source])
        expected = bytes(image.data[piece.address - base:piece.address - base + piece.size])

        def same(written: bytes, expected: bytes = expected, path: str = path) -> None:
            if written != expected:
                raise VerificationFailed(f"refusing to write {path}: it differs from the "
                                         "firmware's bytes at its address")
        write_atomic(path, piece.data, verify=same)


def _commands(result: Plan, target: str, port: str) -> list[str | None]:
    """The write-flash command (None when everything is kept or erased), then one
    erase-region command per erase."""
    from .runner import esptool_command, esptool_write_flash_pieces

    write = esptool_write_flash_pieces(
        result.chip, [(w.address, os.path.join(target, w.file)) for w in result.writes], port,
        flash_mode=result.flash_mode, flash_size=result.flash_size) if result.writes else None
    return [write, *(esptool_command(result.chip, port, ["erase-region", f"{e.address:#x}",
                                                         f"{e.size:#x}"])
                     for e in result.erases)]


def _render(file: str, result: Plan, target: str, commands: list[str | None],
            dry_run: bool) -> str:
    from ..terminal import shown_lines

    lines = [f"plan for {file}: {len(result.writes)} writes, {result.bytes_written} of "
             f"{result.size} bytes; {len(result.erases)} erases"
             + ("" if result.assume_erased else " (skip them on a blank board: "
                "--assume-erased)")]
    lines += [f"  write {w.address:#9x} {w.size:#9x}  {w.partition}" for w in result.writes]
    lines += [f"  erase {e.address:#9x} {e.size:#9x}  {e.partition}" for e in result.erases]
    lines += [f"  left  {s.address:#9x} {s.size:#9x}  {s.partition} (erased here; the "
              "board's bytes stay)" for s in result.left]
    lines += [f"  kept  {name}" for name in result.kept]
    lines += [f"  warning: {w}" for w in result.warnings]
    lines.append(f"{'would write' if dry_run else 'wrote'} {len(result.writes)} pieces in "
                 f"{target}")
    lines += ["flash it with:", *(f"  {c}" for c in commands if c is not None)]
    return shown_lines("\n".join(lines)) + "\n"
