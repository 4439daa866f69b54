"""Writing a board: only the 4 KiB sectors that change, each checked with the board's MD5,
after a backup of everything about to be overwritten.

The new flash contents come from the library's transforms, applied to the Image of the board
(:func:`~esp_image.board.read.read_image`); this module only compares, backs up, writes and
checks. A failure part-way says which sectors were written and where the backup is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..errors import BoardError, Interrupted, LayoutError
from ..units import SECTOR, format_size
from .link import Board, _runs

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..image import Image


@dataclass(frozen=True)
class BoardWrite:
    """What a write did: the sectors written (flash addresses), the backup file, the bytes."""

    sectors: tuple[int, ...]
    backup: str | None
    backup_address: int | None

    def runs(self) -> list[tuple[int, int]]:
        return _runs(list(self.sectors))

    def to_dict(self) -> dict[str, object]:
        return {"sectors": [f"{s:#x}" for s in self.sectors], "backup": self.backup,
                "backup_address": self.backup_address}


def changed_sectors(board: Board, old: Image, new: bytes,
                    defined: Sequence[tuple[int, int]] = ()) -> list[int]:
    """The sectors whose bytes ``new`` changes. A sector the board's Image did not read is a
    0xFF placeholder there: where ``new`` keeps the placeholder the transform did not touch
    it, unless the sector is in a ``defined`` range (one the transform lays out afresh, such
    as a moved partition it erases), where the board's MD5 tells; where ``new`` changes it,
    the board's sector is read first and compared."""
    if len(new) != board.flash_size:
        raise LayoutError(f"the new flash contents are {len(new)} bytes, the board's flash "
                          f"{board.flash_size}")
    differ, kept = [], []
    for s in range(0, board.flash_size, SECTOR):
        if new[s:s + SECTOR] != old.data[s:s + SECTOR]:
            differ.append(s)
        elif s not in board.sectors and any(a <= s < b for a, b in defined):
            kept.append(s)
    for start, end in _runs([s for s in differ if s not in board.sectors]):
        board.read(start, end - start)  # one transfer per run, not per sector
    out = [s for s in differ if new[s:s + SECTOR] != board.read(s, SECTOR)]
    out += md5_differing(board, new, _runs(kept))
    return sorted(out)


def md5_differing(board: Board, new: bytes, runs: Sequence[tuple[int, int]]) -> dict[int, str]:
    """The sectors of ``runs`` whose bytes on the board differ from ``new``'s (the whole
    flash), with the board's MD5 of each, nothing read: one MD5 per run, then one per sector
    only where the run differs."""
    out: dict[int, str] = {}
    for start, end in runs:
        if board.md5(start, end - start) == hashlib.md5(new[start:end]).hexdigest():
            continue
        for s in range(start, end, SECTOR):
            theirs = board.md5(s, SECTOR)
            if theirs != hashlib.md5(new[s:s + SECTOR]).hexdigest():
                out[s] = theirs
    return out


def backup_name(board: Board, address: int) -> str:
    """``esp-image-backup-<MAC>-<time>-<address>.bin`` in the working directory."""
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S")
    return f"esp-image-backup-{board.mac.replace(':', '')}-{stamp}-{address:#x}.bin"


def save_backup(board: Board, sectors: list[int], path: str) -> int:
    """Save the board's bytes from the first changed sector to the end of the last (one file
    esptool can write back at that address); return that address."""
    from ..io import write_atomic

    start, end = sectors[0], sectors[-1] + SECTOR
    write_atomic(path, board.read(start, end - start), verify=None)
    return start


def write_sectors(board: Board, new: bytes, sectors: list[int], *,
                  backup: str | None) -> tuple[int, ...]:
    """Write ``sectors`` of ``new`` run by run, checking each sector's MD5 on the board."""
    done: list[int] = []
    where = f"; backup: {backup}" if backup else "; no backup was made"
    for start, end in _runs(sectors):
        try:
            board.write(start, new[start:end])
            for s in range(start, end, SECTOR):
                expected = hashlib.md5(new[s:s + SECTOR]).hexdigest()
                if board.md5(s, SECTOR) != expected:
                    raise BoardError(f"{board.options.port}: the board's MD5 of sector {s:#x} "
                                     "does not match what was written")
                done.append(s)
        except BoardError as exc:
            written = _describe(done, sectors, start, end)
            raise BoardError(f"{exc}; {written}{where}") from None
        except Interrupted as exc:  # Ctrl-C mid-write: the same account, then exit 128+signal
            raise Interrupted(exc.signum, _describe(done, sectors, start, end) + where) from None
    return tuple(done)


def _describe(done: list[int], sectors: list[int], start: int, end: int) -> str:
    checked = ", ".join(f"{a:#x}-{b:#x}" for a, b in _runs(done)) or "none"
    partly = ", ".join(f"{a:#x}-{b:#x}" for a, b in _runs(
        [s for s in sectors if start <= s < end and s not in done]))
    return (f"sectors written and checked: {checked}; being written when it failed "
            f"(contents unknown): {partly}")


def apply(board: Board, old: Image, new: bytes, *, backup: str | bool | None = True,
          dry_run: bool = False, defined: Sequence[tuple[int, int]] = ()) -> BoardWrite:
    """Back up, write and check the sectors where ``new`` differs from the board.

    ``backup``: True for the default name, a path, or False for none.
    """
    sectors = changed_sectors(board, old, new, defined)
    if not sectors or dry_run:
        return BoardWrite(tuple(sectors), None, None)
    path = backup_name(board, sectors[0]) if backup is True else backup or None
    address = save_backup(board, sectors, path) if path else None
    return BoardWrite(write_sectors(board, new, sectors, backup=path), path, address)


def summary_line(board: Board) -> str:
    """``read 176KB, wrote 8KB``: the transfers, the last line of every board command."""
    return (f"{board.options.port}: read {format_size(board.bytes_read)}, wrote "
            f"{format_size(board.bytes_written)}")
