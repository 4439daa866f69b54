"""Edit littlefs metadata commits in place, re-encoding the tag XOR chain and the commit CRC,
so that a mutation reaches littlefs instead of being dropped as a torn commit."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass


def lfs_crc(data: bytes, crc: int = 0xFFFFFFFF) -> int:
    """littlefs's lfs_crc: reflected CRC-32 from ``crc`` without the final inversion."""
    return zlib.crc32(data, crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


@dataclass
class Tag:
    off: int
    tag: int
    prev: int
    start: int  # where its commit starts

    @property
    def type3(self) -> int:
        return (self.tag >> 20) & 0x7FF

    @property
    def size(self) -> int:
        return self.tag & 0x3FF

    @property
    def data(self) -> slice:
        return slice(self.off + 4, self.off + 4 + (0 if self.size == 0x3FF else self.size))


def commits(block: bytes | bytearray) -> list[list[Tag]]:
    """The CRC-valid commits of one metadata block, each a list of tags ending in its CRC."""
    off, ptag, start = 4, 0xFFFFFFFF, 4
    crc = lfs_crc(bytes(block[:4]))
    out: list[list[Tag]] = []
    current: list[Tag] = []
    while off + 4 <= len(block):
        raw = struct.unpack_from(">I", block, off)[0]
        tag = raw ^ ptag
        if tag & 0x80000000:
            break
        size = tag & 0x3FF
        dsize = 4 + (0 if size == 0x3FF else size)
        if off + dsize > len(block):
            break
        crc = lfs_crc(bytes(block[off:off + 4]), crc)
        entry = Tag(off, tag, ptag, start)
        if (tag >> 20) & 0x780 == 0x500:
            if crc != struct.unpack_from("<I", block, off + 4)[0]:
                break
            out.append([*current, entry])
            current = []
            ptag = tag ^ ((((tag >> 20) & 1)) << 31)
            crc = 0xFFFFFFFF
            off += dsize
            start = off
            continue
        crc = lfs_crc(bytes(block[off + 4:off + dsize]), crc)
        current.append(entry)
        ptag = tag
        off += dsize
    return out


def reseal(block: bytearray, commit: list[Tag], tags: list[int] | None = None) -> None:
    """Write ``tags`` (decoded values, same sizes) over ``commit`` and recompute its CRC."""
    values = tags if tags is not None else [t.tag for t in commit]
    prev = commit[0].prev
    for entry, value in zip(commit, values, strict=True):
        struct.pack_into(">I", block, entry.off, value ^ prev)
        prev = value
    last = commit[-1]
    first = commit[0].start
    crc = lfs_crc(bytes(block[:4])) if first == 4 else 0xFFFFFFFF
    crc = lfs_crc(bytes(block[first:last.off + 4]), crc)
    struct.pack_into("<I", block, last.off + 4, crc)


def metadata_blocks(image: bytes | bytearray, block_size: int) -> list[int]:
    """Blocks holding at least one CRC-valid commit."""
    return [n for n in range(len(image) // block_size)
            if commits(image[n * block_size:(n + 1) * block_size])]
