"""The ``--port`` form of the commands: the same library calls on a board's Image.

``info``/``verify`` render the board's Image as they render a file's. The writing commands
hand their transform to :func:`write_board`, which computes the new flash contents, refuses
what would not verify, backs up, writes only the changed sectors and checks each.
"""

from __future__ import annotations

import sys
import time

from ..errors import UsageError
from .runner import EXIT_DAMAGED, EXIT_OK, report_lines, run_guarded, write_json

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.progress import Progress, TaskID

    from ..board import Board, BoardOptions
    from ..board.write import BoardWrite
    from ..image import Image
    from ..transforms import TransformResult

    Change = Callable[[Image], TransformResult]
    Guard = Callable[[Image, bytes, list[int]], None]


def board_options(port: str, baud: str | None, chip: str | None, before: str, after: str,
                  no_stub: bool) -> BoardOptions:
    """The connection the options ask for (``--chip`` names esptool's chip, default auto)."""
    from ..board import BoardOptions

    try:
        speed = int(baud, 0) if baud is not None else None
    except ValueError:
        raise UsageError(f"--baud takes a number, got {baud!r}") from None
    return BoardOptions(port, **({"baud": speed} if speed is not None else {}),
                        chip=chip or "auto", before=before, after=after, stub=not no_stub)


def chosen_port(files: object, port: str | None) -> str:
    """The board's port: one of FILE or --port must be given, not both and not neither."""
    if port is not None and files:
        raise UsageError("give FILE or --port, not both")
    if port is None:
        raise UsageError("missing FILE (or --port PORT for a connected board)")
    return port


def inspect_board(options: BoardOptions, *, verify: bool, json: bool, quiet: bool,
                  debug: bool) -> int:
    """``info --port`` and ``verify --port``: the board's Image, rendered as a file's is."""
    def body() -> int:
        from ..board import open_board, read_image
        from ..board.write import summary_line

        with open_board(options) as board:
            board.progress = progress_bars()
            image = read_image(board)
            if json:
                write_json({**image.to_dict(), "board": board.summary()})
            else:
                from .render import write_descriptions, write_problems, write_verdicts

                if verify:
                    write_verdicts([] if quiet and image.valid else [image])
                else:
                    (write_problems if quiet else write_descriptions)([image])
                if not quiet:
                    sys.stdout.write(summary_line(board) + "\n")
        return EXIT_DAMAGED if verify and not image.valid else EXIT_OK
    return run_guarded(body, debug=debug, as_json=json, path=options.port)


def write_board(options: BoardOptions, change: Change, *, dry_run: bool, json: bool,
                quiet: bool, debug: bool, backup: str | None, no_backup: bool,
                whole: bool = False, guard: Guard | None = None) -> int:
    """Apply ``change`` to the board's Image and write the sectors that differ."""
    def body() -> int:
        if backup is not None and no_backup:
            raise UsageError("--backup PATH and --no-backup contradict each other")
        from ..board import open_board, read_image
        from ..board.write import apply, changed_sectors

        with open_board(options) as board:
            board.progress = progress_bars()
            image = read_image(board, whole=whole)
            result = change(image)
            new = fit(board, image, result.data)
            if guard is not None:
                guard(image, new, changed_sectors(board, image, new))
            from ..io import verify_bytes

            verify_bytes(new, what=f"the new flash contents of {options.port}")
            done = apply(board, image, new, backup=False if no_backup else backup or True,
                         dry_run=dry_run)
            report(board, result, done, dry_run=dry_run, json=json, quiet=quiet)
        return EXIT_OK
    return run_guarded(body, debug=debug, as_json=json, path=options.port)


def fit(board: Board, image: Image, data: bytes) -> bytes:
    """The transform's output as the board's whole flash: a shorter one keeps the rest of the
    board as it is, a longer one cannot be written."""
    if len(data) > board.flash_size:
        raise UsageError(f"the result is {len(data)} bytes; the board at {board.options.port} "
                         f"has {board.flash_size} bytes of flash")
    return bytes(data) + bytes(image.data[len(data):])


def report(board: Board, result: TransformResult, done: BoardWrite, *, dry_run: bool,
           json: bool, quiet: bool) -> None:
    """What was written where, the backup, and the bytes read and written."""
    from ..board.write import summary_line
    from .runner import esptool_write_flash

    runs = ", ".join(f"{a:#x}-{b:#x}" for a, b in done.runs())
    restore = None if done.backup is None or done.backup_address is None else \
        esptool_write_flash(board.chip, done.backup_address, done.backup, board.options.port)
    if json:
        write_json({"input": board.options.port, "written": bool(done.sectors) and not dry_run,
                    "changed": bool(done.sectors), "actions": list(result.actions),
                    "notes": list(result.notes), **done.to_dict(), "restore": restore,
                    "board": board.summary()})
        return
    if quiet:
        return
    if not done.sectors:
        head = f"nothing to change: {board.options.port} already is what was asked"
    else:
        verb = "would write" if dry_run else "wrote"
        head = (f"{verb} {len(done.sectors)} sectors of {board.options.port} ({runs})"
                + ("" if dry_run else ", each checked with the board's MD5"))
    lines = [head, *report_lines(result.actions if done.sectors else (), result.notes)]
    if done.backup is not None:
        lines += [f"backup of what was overwritten: {done.backup}", f"  restore: {restore}"]
    from ..terminal import shown_lines

    sys.stdout.write(shown_lines("\n".join([*lines, summary_line(board)])) + "\n")


def progress_bars() -> Callable[[str, int], Callable[[int], None]] | None:
    """Progress bars on stderr for transfers that take more than a second (a terminal only)."""
    if not sys.stderr.isatty():
        return None
    return _Bar


class _Bar:
    """One transfer's bar, shown (rich imported) only once a second has passed."""

    def __init__(self, what: str, total: int) -> None:
        self.what, self.total, self.began = what, total, time.monotonic()
        self.shown: tuple[Progress, TaskID] | None = None

    def __call__(self, done: int) -> None:
        if self.shown is None:
            if time.monotonic() - self.began < 1 or done >= self.total:
                return
            from rich.console import Console
            from rich.progress import Progress

            progress = Progress(console=Console(stderr=True), transient=True)
            progress.start()
            self.shown = (progress, progress.add_task(self.what, total=self.total))
        progress, task = self.shown
        progress.update(task, completed=done)
        if done >= self.total:
            progress.stop()
