"""``elf``: an app or bootloader as an ELF32 file for debuggers and disassemblers."""

from __future__ import annotations

from ..image import Image
from .runner import emit_write, run_guarded

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from .options import Chip, Debug, DryRun, File, Force, Json, Output, Partition, Quiet


def elf(
    file: File, output: Output = None, partition: Partition = None, chip: Chip = None,
    dry_run: DryRun = False, force: Force = False, json: Json = False, quiet: Quiet = False,
    debug: Debug = False,
) -> int:
    """Write an app or bootloader as an ELF32 file for debuggers and disassemblers.

    One PT_LOAD per segment at its load address, the entry point, sections named by memory
    region.

    Example: [bold]esp-image elf firmware.bin -o app.elf[/bold]
    """
    def body() -> int:
        from ..io import check_output
        from ..transforms.elf import check_written, default_elf_name, to_elf

        image = Image.open(file, chip=chip).unwrapped()
        result = to_elf(image, partition)
        target = output or default_elf_name(file, image, result.name)
        check_output(target, [file], default=not output, force=force)
        prog = result.program
        info = {"name": result.name, "machine": prog.machine, "flags": prog.flags,
                "entry": prog.entry,
                "segments": [{"address": s.address, "size": len(s.data), "section": s.section,
                              "flags": s.flags} for s in prog.segments]}
        return emit_write(source=file, output=target, data=result.data,
                          actions=list(result.actions), notes=list(result.notes),
                          as_json=json, quiet=quiet, dry_run=dry_run, extra={"elf": info},
                          verify=lambda written: check_written(written, prog))
    return run_guarded(body, debug=debug, as_json=json, path=file)
