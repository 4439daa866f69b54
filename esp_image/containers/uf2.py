"""UF2: 512-byte blocks, each naming the flash address of its payload (see
:mod:`esp_image.formats.uf2`).

Written exactly as esptool's ``UF2Writer`` writes it, so ESP USB Bridge takes it: 452-byte
payloads, each followed by the MD5 part, flags family id | MD5, block numbers and the block
count per segment (esptool numbers per file added). Read with or without the MD5 part; block
numbers, totals, payload sizes, the MD5 parts and the family id are checks.
"""

from __future__ import annotations

import hashlib
import struct

from ..checks import Check
from ..errors import InputError, UsageError
from ..formats.compiled import uf2 as fmt
from . import Decoded, Segment, check_layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..chips import Chip
    from ..wrappers import Kind, Unwrapped

KIND: Kind = "uf2"
_HEAD = fmt.MAGIC_START0.to_bytes(4, "little") + fmt.MAGIC_START1.to_bytes(4, "little")
_END = fmt.MAGIC_END.to_bytes(4, "little")
_START0, _START1, _MAGIC_END = fmt.MAGIC_START0, fmt.MAGIC_START1, fmt.MAGIC_END
_NOT_FLASH = fmt.FLAG_NOT_MAIN_FLASH | fmt.FLAG_FILE_CONTAINER
_FLAG_MD5, _FLAG_FAMILY = fmt.FLAG_MD5, fmt.FLAG_FAMILY_ID
_DATA_AREA, _MD5_SIZE = fmt.DATA_AREA, fmt.MD5_PART
_md5 = hashlib.md5
# (names bound once: the loop over thousands of blocks looks each up per block otherwise)
_MD5_HEAD = struct.Struct("<II")
"""The MD5 part's address and length words (microsoft/uf2 README, flag 0x4000)."""


def looks_like(data: bytes | memoryview) -> bool:
    """A first 512-byte block with both start magics and the end magic."""
    return (len(data) >= fmt.BLOCK_SIZE and bytes(data[:8]) == _HEAD
            and bytes(data[fmt.BLOCK_SIZE - 4:fmt.BLOCK_SIZE]) == _END)


class _Reader:
    """The checks over the blocks, gathered as they are read (one failure of a kind each)."""

    def __init__(self) -> None:
        self.failed: dict[str, Check] = {}
        self.families: dict[int, int] = {}
        self.md5_blocks = 0
        self.skipped = 0
        self.numbers: list[tuple[int, int]] = []
        """(block number, block count) of every block read, for :func:`_numbering`."""

    def fail(self, name: str, offset: int, detail: str) -> None:
        self.failed.setdefault(name, Check(name, False, offset, detail))

    def runs(self, view: memoryview) -> list[tuple[int, bytearray]]:
        """The payloads of the blocks that describe main flash, as runs of contiguous
        addresses (the start, the payloads in order); ``view`` holds whole blocks. One loop
        over thousands of blocks, so its names are bound locally and nothing is called per
        block but struct, slicing and MD5."""
        head, md5, fail = _MD5_HEAD.pack, _md5, self.fail
        runs: list[tuple[int, bytearray]] = []
        parts = bytearray()
        run_end = -1
        families, numbers = self.families, self.numbers.append
        for at, (magic0, magic1, flags, address, size, number, count, family, area,
                 magic_end) in zip(range(0, len(view), fmt.BLOCK_SIZE),
                                   fmt.Block.unpack_all(view), strict=True):
            numbers((number, count))
            if magic0 != _START0 or magic1 != _START1 or magic_end != _MAGIC_END:
                fail("uf2-magic", at, f"block at offset {at}: a start or end magic is wrong "
                                      "(the block is not read)")
                continue
            if flags & _NOT_FLASH:
                self.skipped += 1  # not flash contents: UF2 loaders skip these blocks too
                continue
            has_md5 = flags & _FLAG_MD5
            if size > (_DATA_AREA - _MD5_SIZE if has_md5 else _DATA_AREA):
                fail("uf2-payload", at, f"block {number} at offset {at}: payload size {size} "
                                        "is more than the data area holds (the block is not "
                                        "read)")
                continue
            payload = area[:size]
            if has_md5:
                self.md5_blocks += 1
                if area[size:size + _MD5_SIZE] != head(address, size) + md5(payload).digest():
                    fail("uf2-md5", at, f"block {number} at offset {at}: the MD5 part does not "
                                        "match the payload's address, size and MD5")
            if flags & _FLAG_FAMILY:
                families[family] = families.get(family, 0) + 1
            if not size:
                continue
            if address != run_end:
                parts = bytearray()
                runs.append((address, parts))
            parts += payload
            run_end = address + size
        return runs


def _numbering(blocks: Sequence[tuple[int, int]], reader: _Reader) -> None:
    """Block numbers count 0..total-1 with one total per run (esptool starts a run per file
    it adds; uf2conv one for the whole file)."""
    expect, total = 0, None
    for i, (number, count) in enumerate(blocks):
        if number == 0 and expect == (total or 0):
            expect, total = 0, count
        if number != expect or count != total or number >= count:
            at = i * fmt.BLOCK_SIZE
            reader.fail("uf2-blocks", at, f"block at offset {at}: number {number} of {count}, "
                                          f"expected {expect} of {total}")
            return
        expect += 1
    if total is not None and expect != total:
        reader.fail("uf2-blocks", len(blocks) * fmt.BLOCK_SIZE,
                    f"the last run of blocks ends at {expect} of {total}: blocks are missing")


def decode(data: bytes | memoryview) -> Decoded:
    """Read every block.

    Raises:
        InputError: no block describes flash, or the payloads overlap or span more than the
            largest flash.
    """
    view = memoryview(data)
    reader = _Reader()
    whole = len(view) // fmt.BLOCK_SIZE * fmt.BLOCK_SIZE
    runs = reader.runs(view[:whole])
    if whole != len(view):
        reader.fail("structure", whole, f"{len(view) - whole} bytes after the last whole "
                                        "512-byte block (not read)")
    _numbering(reader.numbers, reader)
    if not runs:
        raise InputError("UF2: no block describes main flash")
    segments = check_layout([(a, bytes(p)) for a, p in runs], "UF2")
    chip, facts = _family(reader)
    facts.update({"blocks": len(reader.numbers), "md5_blocks": reader.md5_blocks,
                  "skipped_blocks": reader.skipped})
    checks = list(reader.failed.values()) or [
        Check("uf2-blocks", True, 0, f"{len(reader.numbers)} blocks, numbered in order"
              + (", every MD5 part matches" if reader.md5_blocks else ""))]
    return Decoded(KIND, tuple(segments), facts, tuple(checks), chip)


def _family(reader: _Reader) -> tuple[Chip | None, dict[str, object]]:
    """The chip the family id names, the facts, and a failed check for an id that names no
    Espressif chip or for blocks that disagree."""
    from ..chips import chip_by_uf2_family

    if not reader.families:
        return None, {"family_id": None}
    family = max(reader.families, key=lambda f: reader.families[f])
    facts: dict[str, object] = {"family_id": f"{family:#010x}"}
    if len(reader.families) > 1:
        reader.fail("uf2-family", 0, "blocks name different family ids: "
                    + ", ".join(f"{f:#010x}" for f in reader.families))
    chip = chip_by_uf2_family(family)
    if chip is None:
        reader.fail("uf2-family", 0, f"family id {family:#010x} is not an Espressif chip's")
    return chip, facts


def encode(segments: Sequence[Segment], chip: Chip | None) -> bytes:
    """The UF2 blocks of ``segments`` for ``chip``, as esptool's ``UF2Writer`` writes them.

    Raises:
        UsageError: no chip, or one without a UF2 family id.
    """
    from ..chips import UF2_FAMILIES

    if chip is None or chip.name not in UF2_FAMILIES:
        what = "the chip is not known" if chip is None else f"{chip.title} has none"
        raise UsageError(f"UF2 needs the chip's family id and {what}; write raw or hex")
    family = UF2_FAMILIES[chip.name]
    flags = _FLAG_FAMILY | _FLAG_MD5
    pack, head, md5, size = fmt.Block.pack_values, _MD5_HEAD.pack, _md5, fmt.CHUNK
    out: list[bytes] = []
    add = out.append
    for address, data in segments:
        total = -(-len(data) // size)
        for number in range(total):
            lo = number * size
            chunk = data[lo:lo + size]
            at, n = address + lo, len(chunk)
            # the data area is a fixed-size bytes field: struct pads a short one with zeros
            add(pack(_START0, _START1, flags, at, n, number, total, family,
                     chunk + head(at, n) + md5(chunk).digest(), _MAGIC_END))
    return b"".join(out)


TINYUF2_CHIPS = ("esp32s2", "esp32s3")
"""The chips adafruit/tinyuf2's ESP32 port serves (ports/espressif: the native USB ones)."""


def check_tinyuf2(chip: Chip | None, data: bytes, what: str) -> None:
    """Refuse (one line) an app-only TinyUF2 file that would not be one: a chip TinyUF2
    does not serve, or data that is not an app image.

    Raises:
        UsageError: see above.
    """
    if chip is None or chip.name not in TINYUF2_CHIPS:
        name = chip.title if chip is not None else "an unknown chip"
        raise UsageError(f"--tinyuf2: TinyUF2 serves ESP32-S2 and ESP32-S3, not {name}")
    from ..image import Image

    found = Image.from_bytes(data)
    if found.kind != "image" or getattr(found.firmware, "role", None) != "app":
        raise UsageError(f"--tinyuf2: {what!r} is not an app image (TinyUF2 flashes only an "
                         "app into the app partition)")


def open(data: bytes | memoryview, key: bytes | None = None) -> Unwrapped:
    """The wrapper framework's view: the flash bytes described, from the lowest address."""
    from . import unwrapped

    del key
    return unwrapped(decode(data))
