"""Erased flash and the unclaimed stretches of a file, shared by every flash-file model."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Iterable

_FF_CHUNK = b"\xff" * 0x10000


def is_erased(view: memoryview | bytes) -> bool:
    """Whether every byte is 0xFF (erased flash), compared in chunks without copying."""
    view = memoryview(view)
    step = len(_FF_CHUNK)
    for start in range(0, len(view), step):
        chunk = view[start:start + step]
        if chunk != _FF_CHUNK[:len(chunk)]:
            return False
    return True


def gaps(view: memoryview, claimed: Iterable[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """The stretches of ``view`` that no ``(offset, size)`` in ``claimed`` covers, in file
    order, as ``(start, stop, erased)``; ``claimed`` must be sorted by offset."""
    out: list[tuple[int, int, bool]] = []
    pos = 0
    for offset, size in claimed:
        if offset > pos:
            out.append((pos, offset, is_erased(view[pos:offset])))
        pos = max(pos, offset + size)
    if pos < len(view):
        out.append((pos, len(view), is_erased(view[pos:])))
    return out
