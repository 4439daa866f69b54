"""Regions of a flash file, erased flash and unclaimed stretches, shared by every flash model."""

from __future__ import annotations

from dataclasses import dataclass, field

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, TypeVar

    from .image import Image, RegionKind

    R = TypeVar("R", bound="Region")


@dataclass(frozen=True)
class Region:
    """A contiguous part of a flash file.

    Attributes:
        offset: file offset.
        size: bytes of the file it covers.
        address: flash address of its first byte.
        kind: what the bytes are (:data:`~esp_image.image.RegionKind`).
        name: ``bootloader``, ``partition-table``, the partition's name, ``boot``, ``user1``,
            ``irom0``...
        detail: one line for a person.
        model: the parsed object that rebuilds this region (``to_bytes()``), if any.
    """

    offset: int
    size: int
    address: int
    kind: RegionKind
    name: str
    detail: str = ""
    model: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, object]:
        """JSON form (``flash.regions[]``)."""
        return {"offset": self.offset, "size": self.size, "address": self.address,
                "kind": self.kind, "name": self.name, "detail": self.detail}


_FF_CHUNK = b"\xff" * 0x10000


def is_erased(view: memoryview | bytes) -> bool:
    """Whether every byte is 0xFF (erased flash), compared in 64 KiB chunks."""
    view = memoryview(view)
    step = len(_FF_CHUNK)
    for start in range(0, len(view), step):
        # Copying a chunk to bytes and comparing is about 7x faster than comparing the
        # memoryview, which goes element by element.
        chunk = bytes(view[start:start + step])
        if chunk != (_FF_CHUNK if len(chunk) == step else _FF_CHUNK[:len(chunk)]):
            return False
    return True


class ErasedIndex:
    """:func:`is_erased` for many ranges of one buffer, each 4 KiB sector examined at most once.

    A hostile table can list dozens of overlapping partitions of nearly the whole file; asking
    :func:`is_erased` for each would scan the file once per partition.
    """

    SECTOR = 0x1000
    _FF_SECTOR = b"\xff" * SECTOR

    def __init__(self, view: memoryview) -> None:
        self._view = view
        # Per sector: 0 not yet examined, 1 erased, 2 not erased.
        self._state = bytearray(-(-len(view) // self.SECTOR))

    def erased(self, start: int, stop: int) -> bool:
        """Whether the buffer's bytes ``[start, stop)`` (clipped to the buffer) are all 0xFF."""
        view, sector = self._view, self.SECTOR
        start, stop = max(start, 0), min(stop, len(view))
        first, last = -(-start // sector), stop // sector  # the whole sectors in the range
        if first >= last:
            return is_erased(view[start:stop])
        if not (is_erased(view[start:first * sector]) and is_erased(view[last * sector:stop])):
            return False
        state = self._state
        if state.find(2, first, last) != -1:
            return False
        pos = state.find(0, first, last)
        while pos != -1:
            if bytes(view[pos * sector:(pos + 1) * sector]) == self._FF_SECTOR:
                state[pos] = 1
            else:
                state[pos] = 2
                return False
            pos = state.find(0, pos + 1, last)
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


def fill_gaps(regions: list[R], view: memoryview, base: int, cls: type[R]) -> list[R]:
    """``regions`` plus a ``cls`` region (erased or gap) per unclaimed stretch, by offset."""
    ordered = sorted(regions, key=lambda r: r.offset)
    unclaimed = [cls(a, b - a, a + base, "erased", "(unused)") if erased else
                 cls(a, b - a, a + base, "gap", "(unused)", "not erased")
                 for a, b, erased in gaps(view, ((r.offset, r.size) for r in ordered))]
    return sorted([*ordered, *unclaimed], key=lambda r: r.offset)


def layout_spans(image: Image) -> tuple[int, list[tuple[str, int, int, str]]] | None:
    """A flash file's layout as the maps draw it: the flash end and its (name, start, end,
    kind) spans in flash addresses; the bootloader, table and partitions when there is a
    table, else the file's regions that hold something. None for a file that is not a flash
    file or has nothing to draw."""
    if image.base is None:
        return None
    spans: list[tuple[str, int, int, str]] = []
    if image.bootloader is not None and image.chip is not None:
        boot = image.chip.bootloader_offset
        spans.append(("bootloader", boot, boot + image.bootloader.end, "bootloader"))
    if image.table is not None and image.table_address is not None:
        spans.append(("partition-table", image.table_address, image.table_address + 0x1000,
                      "partition-table"))
        for p in image.table.partitions:
            kind = "app" if p.is_app else "otadata" if p.is_otadata else "data"
            spans.append((p.name, p.offset, p.end, kind))
    elif image.regions:
        spans += [(r.name, r.address, r.address + r.size, r.kind) for r in image.regions
                  if r.kind not in ("erased", "gap")]
    if not spans:
        return None
    flash = image.bootloader.flash_size if image.bootloader is not None else None
    return max([flash or 0, image.base + len(image.data), *(e for _, _, e, _ in spans)]), spans
