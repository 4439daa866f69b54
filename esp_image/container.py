"""The container every ESP image format shares: segments after a header, then the checksum.

ESP8266 v1/v3 images, the inner image of a v2 one, rBoot ROMs, yaota8266 main apps and the
ESP32 family all continue their header the same way (esp32-image.md §2, esp8266.md §1):
``segment_count`` segments, each an 8-byte header (load address, length) and its data, then
padding up to the last byte of a 16-byte line, which holds the XOR of all segment data seeded
with 0xEF. :func:`walk` reads that part leniently for every model; the rules and their wording
live only here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .formats.compiled import esp32_image as fmt
from .hashing import xor_checksum

MAX_SEGMENTS = fmt.MAX_SEGMENTS
"""ESP-IDF's bootloader and esptool refuse images with more segments (ESP8266 too)."""
SegmentHeader = fmt.SegmentHeader
"""The 8-byte segment header (load address, length) of every family."""


@dataclass(frozen=True)
class Segment:
    """One segment: ``offset`` is the image offset of its 8-byte header."""

    load_addr: int
    data_len: int
    offset: int

    @property
    def data_offset(self) -> int:
        """Image offset of the segment's data."""
        return self.offset + SegmentHeader.SIZE

    @property
    def end(self) -> int:
        """Image offset just past the segment's data."""
        return self.data_offset + self.data_len


class Walk:
    """What :func:`walk` found after the header (a plain class: a dataclass costs about 1 ms of
    every start-up to create).

    Attributes:
        segments: the complete segments, in order.
        end: image offset just past the last complete segment.
        checksum_offset: where the checksum byte is (None when the data ends before it).
        stored_checksum / computed_checksum: the byte found and the XOR of the segments' data.
        padding: the bytes between ``end`` and the checksum byte, kept as found.
        length: the image length including the checksum byte, or the bytes available when
            the image is truncated.
        problems: segment-count and truncation problems, one sentence each.
    """

    __slots__ = ("checksum_offset", "computed_checksum", "end", "length", "padding", "problems",
                 "segments", "stored_checksum")

    def __init__(self, segments: tuple[Segment, ...], *, end: int,
                 checksum_offset: int | None, stored_checksum: int | None,
                 computed_checksum: int, padding: bytes, length: int,
                 problems: tuple[str, ...]) -> None:
        self.segments = segments
        self.end = end
        self.checksum_offset = checksum_offset
        self.stored_checksum = stored_checksum
        self.computed_checksum = computed_checksum
        self.padding = padding
        self.length = length
        self.problems = problems

    @property
    def truncated(self) -> bool:
        """Whether the data ends before the checksum byte."""
        return self.checksum_offset is None


def walk(view: memoryview, first: int, segment_count: int) -> Walk:
    """Walk the segments starting at ``view[first]`` up to and including the checksum byte.

    Args:
        view: the image, from its first header byte.
        first: image offset of the first segment header (just past the image header).
        segment_count: the header's count; every declared segment is read while the data
            lasts, however many that is (the count rule is reported, not enforced).
    """
    problems: list[str] = []
    if segment_count == 0:
        problems.append("segment_count is 0")
    elif segment_count > MAX_SEGMENTS:
        problems.append(f"segment_count {segment_count} exceeds the limit of {MAX_SEGMENTS} "
                        "(ESP-IDF's bootloader and esptool refuse it)")
    size = len(view)
    segments: list[Segment] = []
    pos = first
    truncated = False
    for index in range(segment_count):
        if pos + SegmentHeader.SIZE > size:
            problems.append(f"truncated: segment {index} header at {pos:#x} is past the end "
                            f"of the data ({size:#x})")
            truncated = True
            break
        header = SegmentHeader.parse(view, pos)
        seg = Segment(header.load_addr, header.data_len, pos)
        if seg.end > size:
            problems.append(f"truncated: segment {index} at {pos:#x} declares "
                            f"{seg.data_len:#x} bytes but only {size - seg.data_offset:#x} "
                            "remain")
            truncated = True
            break
        segments.append(seg)
        pos = seg.end
    computed = xor_checksum((view[s.data_offset:s.end] for s in segments), fmt.CHECKSUM_SEED)
    checksum_offset = pos | 0x0F
    if not truncated and checksum_offset >= size:
        problems.append(f"truncated: checksum byte at {checksum_offset:#x} is past the end "
                        f"of the data ({size:#x})")
        truncated = True
    if truncated:
        return Walk(tuple(segments), end=pos, checksum_offset=None, stored_checksum=None,
                    computed_checksum=computed, padding=b"", length=size,
                    problems=tuple(problems))
    return Walk(tuple(segments), end=pos, checksum_offset=checksum_offset,
                stored_checksum=view[checksum_offset], computed_checksum=computed,
                padding=bytes(view[pos:checksum_offset]), length=checksum_offset + 1,
                problems=tuple(problems))
