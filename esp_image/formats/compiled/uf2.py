"""Generated from :mod:`esp_image.formats.uf2`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BLOCK_SIZE = 0x200
DATA_AREA = 0x1DC
MD5_PART = 24
CHUNK = 0x1C4
MAGIC_START0 = 0xA324655
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0xAB16F30
FLAG_NOT_MAIN_FLASH = 1
FLAG_FILE_CONTAINER = 0x1000
FLAG_FAMILY_ID = 0x2000
FLAG_MD5 = 0x4000
FLAG_EXTENSION_TAGS = 0x8000


class Block(Record):
    """one 512-byte UF2 block"""

    __slots__ = (
        'magic_start0',
        'magic_start1',
        'flags',
        'target_addr',
        'payload_size',
        'block_no',
        'num_blocks',
        'family_id',
        'data',
        'magic_end',
    )
    FIELDS = __slots__
    NAME = 'uf2.Block'
    SIZE = 512
    _STRUCT = Struct('<LLLLLLLL476sL')

    magic_start0: int
    magic_start1: int
    flags: int
    target_addr: int
    payload_size: int
    block_no: int
    num_blocks: int
    family_id: int
    data: bytes
    magic_end: int

    def __init__(
        self,
        magic_start0: int,
        magic_start1: int,
        flags: int,
        target_addr: int,
        payload_size: int,
        block_no: int,
        num_blocks: int,
        family_id: int,
        data: bytes,
        magic_end: int,
    ) -> None:
        self.magic_start0 = magic_start0
        self.magic_start1 = magic_start1
        self.flags = flags
        self.target_addr = target_addr
        self.payload_size = payload_size
        self.block_no = block_no
        self.num_blocks = num_blocks
        self.family_id = family_id
        self.data = data
        self.magic_end = magic_end

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> Block:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'data', self.data, 476)
        return (
            self.magic_start0,
            self.magic_start1,
            self.flags,
            self.target_addr,
            self.payload_size,
            self.block_no,
            self.num_blocks,
            self.family_id,
            self.data,
            self.magic_end,
        )
