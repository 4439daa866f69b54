"""``extract``, ``check-update`` and ``plan`` with ``--port``: the same library calls on what
is read from a connected board (:mod:`esp_image.board`), reading only what each needs."""

from __future__ import annotations

import sys

from ..errors import UsageError
from .board import progress_bars
from .runner import EXIT_OK, write_json

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from ..board import Board, BoardOptions
    from ..board.plan import PlanOnBoard
    from ..image import Image
    from ..transforms.plan import Plan
    from .parts import PartOutput


def update_target(options: BoardOptions) -> tuple[Image, dict[str, object], str]:
    """``check-update --port``: the board as the device (its Image, the ``board`` summary and
    the transfers line). The checks need the bootloader with its Secure Boot signature, the
    table, otadata and the apps' images: what :func:`~esp_image.board.read_image` reads."""
    from ..board import open_board, read_image
    from ..board.write import summary_line

    with open_board(options) as board:
        board.progress = progress_bars()
        return read_image(board), board.summary(), summary_line(board)


def extract_from_board(options: BoardOptions, what: str, ask: PartOutput) -> int:
    """``extract --port PORT WHAT``: the part read from the board (an app or the bootloader up
    to its image's end unless ``--raw``; any other part whole), written as ``extract FILE
    WHAT`` writes it. The default name is ``MAC-WHAT.bin`` in the working directory."""
    from ..board import open_board
    from ..board.write import summary_line
    from ..transforms.extract import extract as cut
    from .parts import write_part

    with open_board(options) as board:
        board.progress = progress_bars()
        image = _image_with(board, what, ask.raw)
        part = cut(image, what, raw=ask.raw)
        summary, transfers = board.summary(), summary_line(board)
    return write_part(options.port, image, part, what, ask, stem=board.mac.replace(":", ""),
                      extra={"board": summary}, note=transfers)


def _image_with(board: Board, what: str, raw: bool) -> Image:
    """The board's Image with ``what`` read: read_image reads an image (bootloader, app) up to
    its end already; its whole region is read only for ``raw``, any other part whole."""
    from ..board import read_image
    from ..transforms.extract import _find_partition
    from ..transforms.extract import extract as cut

    image = read_image(board)
    content = _find_partition(image, what)
    if content is not None and (raw or not content.partition.is_app):
        start = content.partition.offset
        board.read(start, max(0, min(content.partition.end, board.flash_size) - start))
    elif content is None and raw:
        region = cut(image, what, raw=True)  # the bootloader's or the table's; else one line
        if region.address is not None:
            board.read(region.address, len(region.data))
    else:
        return image
    return read_image(board)


def plan_on_board(file: str, plan: Plan, connection: tuple[str, str | None, str, str, bool], *,
                  output: str | None, dry_run: bool, json: bool, quiet: bool,
                  backup: str | None, no_backup: bool) -> int:
    """``plan FILE --port PORT``: carry the plan out on the board (see
    :func:`esp_image.board.plan.write_plan`) and report each piece. ``connection`` is (port,
    baud, before, after, no_stub): the chip is detected, then compared with the plan's."""
    from ..board import open_board
    from ..board.plan import write_plan
    from .board import board_options

    if output is not None:
        raise UsageError("-o DIR is where the pieces go; with --port the plan is written to "
                         "the board, not to files")
    if backup is not None and no_backup:
        raise UsageError("--backup PATH and --no-backup contradict each other")
    port, baud, before, after, no_stub = connection
    with open_board(board_options(port, baud, None, before, after, no_stub)) as board:
        board.progress = progress_bars()
        done = write_plan(board, plan, backup=False if no_backup else backup or True,
                          dry_run=dry_run)
        _report_plan(file, plan, done, board, dry_run=dry_run, json=json, quiet=quiet)
    return EXIT_OK


def _report_plan(file: str, plan: Plan, done: PlanOnBoard, board: Board, *, dry_run: bool,
                 json: bool, quiet: bool) -> None:
    from ..board.write import summary_line
    from .runner import esptool_command

    port = board.options.port
    restore = None if done.backup is None else \
        esptool_command(plan.chip, port, ["write-flash", "0x0", done.backup])
    if json:
        write_json({"input": file, "port": port, "written": bool(done.sectors) and not dry_run,
                    "changed": bool(done.sectors), "chip": plan.chip, "base": plan.base,
                    "pieces": [p.to_dict() for p in done.pieces],
                    "left": [s.to_dict() for s in plan.left], "kept": list(plan.kept),
                    "warnings": list(plan.warnings), "assume_erased": plan.assume_erased,
                    "sectors": [f"{s:#x}" for s in done.sectors], "backup": done.backup,
                    "restore": restore, "board": board.summary()})
        return
    if quiet:
        return
    held = sum(not p.sectors for p in done.pieces)
    lines = [f"plan for {file} on {port}: {len(plan.writes)} writes, {len(plan.erases)} "
             f"erases; {held} already on the board"]
    for piece in done.pieces:
        verb = ("would write" if dry_run else "wrote") if piece.action == "write" else \
            ("would erase" if dry_run else "erased")
        n = len(piece.sectors)
        state = f"{verb} {n} sector{'s' * (n != 1)}" if n else "already there"
        lines.append(f"  {piece.action} {piece.span.address:#9x} {piece.span.size:#9x}  "
                     f"{piece.span.partition}: {state}")
    lines += [f"  left  {s.address:#9x} {s.size:#9x}  {s.partition} (the board's bytes stay)"
              for s in plan.left]
    lines += [f"  kept  {name}" for name in plan.kept]
    lines += [f"  warning: {w}" for w in plan.warnings]
    if done.sectors and not dry_run:
        lines.append(f"wrote {len(done.sectors)} sectors, each checked with the board's MD5")
    if done.backup is not None:
        lines += [f"backup of what was overwritten: {done.backup}", f"  restore: {restore}"]
    from ..terminal import shown_lines

    sys.stdout.write(shown_lines("\n".join([*lines, summary_line(board)])) + "\n")

