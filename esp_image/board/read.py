"""A board's flash as an :class:`~esp_image.image.Image`, reading only what is needed.

Read: the bootloader (header, segments, checksum and hash: its extent, not its slot), the
partition table sector, the otadata partition and each app image (its extent, so every check
``verify`` runs on a file runs here too). NVS, filesystems and other data partitions are read
only when asked (``contents``). What was not read is a 0xFF placeholder for the recognisers
and is then reported as ``unread`` (regions, partition states, a note): never as erased.
"""

from __future__ import annotations

import dataclasses
import itertools

from .. import chips
from ..container import MAX_SEGMENTS, SegmentHeader
from ..errors import FormatError
from ..formats.compiled import esp32_image as image_fmt
from ..formats.compiled import partition_table as table_fmt
from ..image import DEFAULT_TABLE_OFFSET, TABLE_AREA, Image, PartitionContent
from ..units import SECTOR, format_size

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Collection

    from ..partition_table import Partition
    from ..spans import Region
    from .link import Board

IMAGE_MAGIC = 0xE9
HASH_SIZE = 32  # the SHA-256 appended after the checksum


def image_extent(board: Board, start: int, limit: int) -> int:
    """Read the app image at ``start`` (within ``limit`` bytes) segment header by segment
    header, then all of it; return its length (the first sector only if it holds none)."""
    head = board.read(start, min(limit, SECTOR))
    if len(head) < image_fmt.ImageHeader.SIZE or head[0] != IMAGE_MAGIC:
        return 0
    header = image_fmt.ImageHeader.parse(head)
    pos = image_fmt.ImageHeader.SIZE
    for _ in range(min(header.segment_count, MAX_SEGMENTS)):
        if pos + SegmentHeader.SIZE > limit:
            break
        segment = SegmentHeader.parse(board.read(start + pos, SegmentHeader.SIZE))
        pos = min(limit, pos + SegmentHeader.SIZE + segment.data_len)
    # the checksum is the last byte of the 16-byte line the data ends in; the hash follows
    end = min(limit, (pos | 15) + 1 + HASH_SIZE)
    board.read(start, end)
    return end


def read_image(board: Board, *, contents: Collection[str] = (), whole: bool = False) -> Image:
    """The board's flash as an Image; ``contents`` names data partitions (or subtypes such as
    ``nvs``, ``spiffs``, ``fat``) to read whole, ``whole`` reads every partition."""
    chip = chips.chip_by_name(board.chip)
    table_offset = _table_offset(board, chip.bootloader_offset)
    _signed_extent(board, chip.bootloader_offset, table_offset - chip.bootloader_offset)
    table = _build(board).table
    for p in table.partitions if table is not None else ():
        if p.offset >= board.flash_size:
            continue  # the layout check reports a partition past the flash
        # a partition running past the flash is read as far as the flash goes, as a dump of
        # that flash holds it: its app may still end inside (and boot)
        size = min(p.size, board.flash_size - p.offset)
        if whole or (p.type_name == "data" and p.subtype_name == "ota") \
                or p.name in contents or p.subtype_name in contents:
            board.read(p.offset, size)
        elif p.type_name == "app":
            _signed_extent(board, p.offset, size)
    return mark_unread(board, _build(board))


def _signed_extent(board: Board, start: int, limit: int) -> None:
    """Read the image at ``start`` and the sector after it, where a Secure Boot signature
    block sits (v2: at the next 4 KiB boundary after the image), so ``verify`` on the board
    judges signatures as on a file; 4 KiB more per image when there is none."""
    if end := image_extent(board, start, limit):
        board.read(start, min(limit, -(-end // SECTOR) * SECTOR + SECTOR))


def _table_offset(board: Board, boot_offset: int) -> int:
    """Where the partition table is: the default offset, else the first 4 KiB boundary after
    the bootloader's start holding a table whose MD5 record matches (failing that, the first
    that parses), as a file is scanned (:mod:`esp_image.recognise.esp32`). Two bytes are read
    at each boundary and a sector only where the magic is (a relocated table costs a second
    or so of probes); the default offset when none is found (the Image reports no table)."""
    from ..partition_table import PartitionTable
    from ..recognise.esp32 import TABLE_SCAN_END

    if board.read(DEFAULT_TABLE_OFFSET, 2) == table_fmt.MAGIC:
        return DEFAULT_TABLE_OFFSET
    first: int | None = None
    for pos in range(boot_offset + SECTOR, min(board.flash_size, TABLE_SCAN_END), SECTOR):
        if pos == DEFAULT_TABLE_OFFSET or board.peek(pos, 2) != table_fmt.MAGIC:
            continue
        try:
            table = PartitionTable.from_bytes(board.read(pos, TABLE_AREA))
        except FormatError:
            continue
        if table.md5 is None or table.md5 == table.computed_md5:
            return pos
        first = pos if first is None else first  # a damaged table is reported, not hidden
    return DEFAULT_TABLE_OFFSET if first is None else first


def _build(board: Board) -> Image:
    buffer = bytearray(b"\xff" * board.flash_size)
    for start, end in board.read_map():
        buffer[start:end] = board.read(start, end - start)
    return Image.from_bytes(buffer, path=board.options.port, chip=board.chip)


def mark_unread(board: Board, image: Image) -> Image:
    """Replace what the placeholder made look erased by ``unread``, and say what was read."""
    read = board.read_map()
    regions: list[Region] = []
    for r in image.regions:
        regions += _split(r, read) if r.kind in ("erased", "gap", "data") else [r]
    partitions = tuple(_partition(c, read) for c in image.partitions)
    unread = _complement(read, board.flash_size)
    note = (f"read from the board at {board.options.port}: {format_size(board.bytes_read)} "
            f"({', '.join(f'{a:#x}-{b:#x}' for a, b in read)}); the rest of its "
            f"{format_size(board.flash_size)} flash was not read")
    return dataclasses.replace(image, regions=tuple(regions), partitions=partitions,
                               notes=(*image.notes, note) if unread else image.notes)


def _overlap(start: int, end: int, read: list[tuple[int, int]]) -> int:
    return sum(max(0, min(end, b) - max(start, a)) for a, b in read)


def _split(region: Region, read: list[tuple[int, int]]) -> list[Region]:
    """A placeholder-derived region cut into its read parts and its ``unread`` parts."""
    start, end = region.address, region.address + region.size
    if _overlap(start, end, read) == region.size:
        return [region]
    if region.kind == "data":  # a data region that was partly read is still data
        return [region] if _overlap(start, end, read) else [
            dataclasses.replace(region, kind="unread", detail="not read from the board")]
    cuts = sorted({start, end, *(x for a, b in read for x in (a, b) if start < x < end)})
    out = []
    for a, b in itertools.pairwise(cuts):
        was_read = _overlap(a, b, read) == b - a
        out.append(dataclasses.replace(
            region, offset=region.offset + a - start, size=b - a, address=a,
            kind=region.kind if was_read else "unread",
            detail=region.detail if was_read else "not read from the board"))
    return out


def _partition(content: PartitionContent, read: list[tuple[int, int]]) -> PartitionContent:
    p: Partition = content.partition
    covered = _overlap(p.offset, p.end, read)
    if content.image is not None or covered == p.size:
        return dataclasses.replace(content, covered=covered)
    if covered:  # a header was read and held no image: what the rest holds is unknown
        return dataclasses.replace(content, covered=covered)
    return dataclasses.replace(content, covered=0, state="unread", filesystem=None,
                               content=None)


def _complement(read: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    out, pos = [], 0
    for a, b in read:
        if a > pos:
            out.append((pos, a))
        pos = b
    if pos < size:
        out.append((pos, size))
    return out
