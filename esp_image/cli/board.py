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
    from typing import Any

    from rich.progress import Progress, TaskID

    from ..board import Board, BoardOptions
    from ..board.write import BoardWrite
    from ..image import Image
    from ..transforms import TransformResult
    from ..transforms.retable import RetableOptions

    Change = Callable[[Image], TransformResult]
    Guard = Callable[[Image, bytes, Callable[[], list[int]]], None]
    Connection = tuple[str | None, str | None, str | None, str, str, bool]
    Layout = Callable[[Image, TransformResult], tuple[tuple[str, ...], list[tuple[int, int]]]]
    Contents = Callable[[Image], tuple[str, ...]]


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
                layout: Layout | None = None, guard: Guard | None = None,
                contents: Contents | None = None) -> int:
    """Apply ``change`` to the board's Image and write the sectors that differ.

    ``contents`` (fs, nvs) names, from the board's table, the data partitions the change
    works on: read before the change is made. ``layout`` (retable) names the partitions the
    change needs the contents of (read, then the change is made again) and the flash ranges
    it lays out afresh; ``guard`` may refuse the new contents before anything is written.
    """
    def body() -> int:
        if backup is not None and no_backup:
            raise UsageError("--backup PATH and --no-backup contradict each other")
        from ..board import open_board, read_image
        from ..board.write import apply, changed_sectors

        with open_board(options) as board:
            board.progress = progress_bars()
            image = _read_named(board, contents)
            result = change(image)
            new = fit(board, image, result.data)
            needed, defined = layout(image, result) if layout is not None else ((), [])
            if guard is not None:  # before reading what moves: a refusal need not wait
                guard(image, new, lambda: changed_sectors(board, image, new, defined))
            if needed:
                image = read_image(board, contents=needed)
                result = change(image)
                new = fit(board, image, result.data)
            from ..io import verify_bytes

            verify_bytes(new, what=f"the new flash contents of {options.port}")
            done = apply(board, image, new, backup=False if no_backup else backup or True,
                         dry_run=dry_run, defined=defined)
            report(board, result, done, dry_run=dry_run, json=json, quiet=quiet)
        return EXIT_OK
    return run_guarded(body, debug=debug, as_json=json, path=options.port)


def on_board(file: str | None, connection: Connection, change: Change, **kwargs: Any) -> int:
    """A write command's ``--port`` form: ``connection`` is (port, baud, chip, before, after,
    no_stub) as the options gave them; the rest goes to :func:`write_board`."""
    port, baud, chip, before, after, no_stub = connection

    def body() -> int:
        options = board_options(chosen_port(file, port), baud, chip, before, after, no_stub)
        return write_board(options, change, **kwargs)
    return run_guarded(body, debug=kwargs["debug"], as_json=kwargs["json"], path=port)


def read_board(file: str | None, connection: Connection, render: Callable[[Image], int], *,
               json: bool, debug: bool) -> int:
    """A command that only reports (``otadata`` without a change) on the board's Image."""
    port, baud, chip, before, after, no_stub = connection

    def body() -> int:
        from ..board import board_image

        options = board_options(chosen_port(file, port), baud, chip, before, after, no_stub)
        return render(board_image(options)[0])
    return run_guarded(body, debug=debug, as_json=json, path=port)


def read_contents(connection: Connection, contents: Contents
                  ) -> tuple[Image, dict[str, object], str]:
    """The board's Image with the data partitions ``contents`` names (from its table) read
    whole, the ``board`` summary and the transfers line (fs and nvs reading a board)."""
    from ..board import open_board
    from ..board.write import summary_line

    port, baud, chip, before, after, no_stub = connection
    with open_board(board_options(chosen_port(None, port), baud, chip, before, after,
                                  no_stub)) as board:
        board.progress = progress_bars()
        image = _read_named(board, contents)
        return image, board.summary(), summary_line(board)


def _read_named(board: Board, contents: Contents | None) -> Image:
    """What every board Image holds, then the partitions ``contents`` names from its table:
    only the table says which one a command means (--partition, or the first of a kind)."""
    from ..board import read_image

    image = read_image(board)
    return image if contents is None else read_image(board, contents=contents(image))


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


def retable_on_board(file: str | None, connection: Connection, options: RetableOptions, *,
                     force: bool, **kwargs: Any) -> int:
    """``retable --port``: the new layout on the board, carrying what moves, refusing (unless
    ``force``) to overwrite or move the app the board runs."""
    from ..transforms.retable import retable

    return on_board(file, connection, lambda image: retable(image, options),
                    layout=lambda image, result: moved(image, result, options.erase_fs),
                    guard=None if force else keep_running_app, **kwargs)


def moved(image: Image, result: TransformResult,
          erase_fs: bool) -> tuple[tuple[str, ...], list[tuple[int, int]]]:
    """The data partitions whose contents retable carries (read them first; filesystems not
    with ``--erase-fs``), and the flash ranges of every new partition not where it was."""
    from ..transforms.retable import RetableResult

    assert isinstance(result, RetableResult)
    old = {(p.name, p.offset, p.size) for p in image.table.partitions} if image.table else set()
    fresh = [p for p in result.table.partitions if (p.name, p.offset, p.size) not in old]
    olds = {p.name: p for p in image.table.partitions} if image.table else {}
    carried = tuple(p.name for p in fresh if p.name in olds and olds[p.name].type_name == "data"
                    and (p.subtype_name == "nvs" or not erase_fs))
    return carried, [(p.offset, p.end) for p in fresh]


def keep_running_app(image: Image, new: bytes, sectors: Callable[[], list[int]]) -> None:
    """Refuse a write that overwrites the app the board boots, or boots another one: cut off
    part-way, it would leave the board without a bootable app."""
    from ..errors import LayoutError
    from ..image import Image as Flash
    from ..transforms.retable import _running_app
    from ..units import SECTOR

    running = _running_app(image)
    if running is None or running.image is None:
        return
    start, end = running.partition.offset, running.partition.offset + running.image.end
    after = _running_app(Flash.from_bytes(new))
    if after is None or after.partition.offset != start \
            or any(s < end and s + SECTOR > start for s in sectors()):
        raise LayoutError(f"the board runs the app at {start:#x} ({running.partition.name}); "
                          "this change would move or overwrite it, and a write cut off part-way "
                          "would leave the board without an app to boot (--force to do it "
                          "anyway)")
