"""A plan (:mod:`esp_image.transforms.plan`) carried out on a board.

Each write and erase of the plan is first compared with the board's own flash MD5 of its
range, so a piece the board already holds is neither read nor written. The sectors that differ
are backed up (only they: a sparse Intel HEX file esptool writes back as it is), written
(an erase is a write of 0xFF sectors, which the ROM loader and the stub both take) and each
checked with the board's MD5, as :mod:`.write` does for the other commands.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from .. import chips
from ..errors import LayoutError, VerificationFailed
from ..units import SECTOR, format_size
from .link import Board, _runs
from .write import backup_name, md5_differing, write_sectors

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from ..transforms.plan import Plan, Span

ERASED = b"\xff" * SECTOR
ERASED_MD5 = hashlib.md5(ERASED).hexdigest()


@dataclass(frozen=True)
class PieceOnBoard:
    """One write or erase of the plan and the sectors of it the board did not hold yet."""

    span: Span
    action: str  # "write" or "erase"
    sectors: tuple[int, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON form (JSON.md, plan board piece)."""
        return {**self.span.to_dict(), "action": self.action,
                "sectors": [f"{s:#x}" for s in self.sectors]}


@dataclass(frozen=True)
class PlanOnBoard:
    """What carrying out a plan did (or, dry, would do): each piece, every sector written,
    the backup of what they held."""

    pieces: tuple[PieceOnBoard, ...]
    sectors: tuple[int, ...]
    backup: str | None


def sector_range(span: Span) -> tuple[int, int]:
    """The whole sectors a write or erase of ``span`` changes (esptool erases whole ones)."""
    return span.address // SECTOR * SECTOR, -(-(span.address + span.size) // SECTOR) * SECTOR


def planned_flash(plan: Plan, board: Board) -> bytes:
    """The board's whole flash as the plan leaves it where it writes or erases (0xFF
    elsewhere, which is never compared); refused when the plan is for another chip or does
    not fit the board's flash."""
    from ..transforms.plan import apply

    chip = chips.chip_by_name(board.chip).name
    if plan.chip != chip:
        raise LayoutError(f"the firmware is for an {plan.chip}, the board at "
                          f"{board.options.port} is an {chip}; nothing was written")
    end = max((sector_range(s)[1] for s in (*plan.writes, *plan.erases)), default=0)
    if end > board.flash_size:
        raise LayoutError(f"the plan writes up to {end:#x}, the board at {board.options.port} "
                          f"has {format_size(board.flash_size)} of flash; nothing was written")
    flash = bytearray(ERASED[:1]) * board.flash_size
    apply(replace(plan, base=0), flash)  # the same model of esptool the plan checks itself by
    return bytes(flash)


def write_plan(board: Board, plan: Plan, *, backup: str | bool = True,
               dry_run: bool = False) -> PlanOnBoard:
    """Compare every piece with the board's MD5, back up and write the sectors that differ,
    check each. ``backup``: True for the default name, a path, or False for none."""
    new = planned_flash(plan, board)
    spans = [(w, "write") for w in plan.writes] + [(e, "erase") for e in plan.erases]
    differing = md5_differing(board, new, [sector_range(s) for s, _ in spans])
    pieces = tuple(PieceOnBoard(span, action, tuple(
        s for s in range(*sector_range(span), SECTOR) if s in differing))
        for span, action in sorted(spans, key=lambda p: p[0].address))
    sectors = sorted(differing)
    if not sectors or dry_run:
        return PlanOnBoard(pieces, tuple(sectors), None)
    path = backup_name(board, sectors[0]).removesuffix(".bin") + ".hex" if backup is True \
        else backup or None
    if path:
        save_sparse_backup(board, differing, path)
    return PlanOnBoard(pieces, write_sectors(board, new, sectors, backup=path), path)


def save_sparse_backup(board: Board, differing: dict[int, str], path: str) -> None:
    """The board's bytes in the ``differing`` sectors as Intel HEX (``esptool write-flash 0x0
    PATH`` writes them back). A sector whose MD5 is that of erased flash is not read."""
    from ..containers import hex as intel_hex
    from ..io import write_atomic

    for start, end in _runs([s for s in sorted(differing) if differing[s] != ERASED_MD5]):
        board.read(start, end - start)  # one transfer per run
    segments = [(start, b"".join(ERASED if differing[s] == ERASED_MD5 else board.read(s, SECTOR)
                                 for s in range(start, end, SECTOR)))
                for start, end in _runs(sorted(differing))]
    text = intel_hex.encode(segments)

    def same(written: bytes) -> None:
        if list(intel_hex.decode(written).segments) != segments:
            raise VerificationFailed(f"{path}: the backup does not read back as the board's bytes")
    write_atomic(path, text, verify=same)
