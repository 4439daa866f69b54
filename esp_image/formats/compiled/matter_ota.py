"""Generated from :mod:`esp_image.formats.matter_ota`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAGIC = 0x1BEEF11E
FIXED_HEADER_SIZE = 16
MAX_HEADER_SIZE = 0x400
MAX_VERSION_STRING = 0x40
MAX_RELEASE_NOTES_URL = 0x100
TAG_VENDOR_ID = 0
TAG_PRODUCT_ID = 1
TAG_VERSION = 2
TAG_VERSION_STRING = 3
TAG_PAYLOAD_SIZE = 4
TAG_MIN_VERSION = 5
TAG_MAX_VERSION = 6
TAG_RELEASE_NOTES_URL = 7
TAG_DIGEST_TYPE = 8
TAG_DIGEST = 9
REQUIRED_TAGS = (0, 1, 2, 3, 4, 8, 9)
DIGESTS = {1: ('sha256', 'sha256', 32),
 2: ('sha256_128', 'sha256', 16),
 3: ('sha256_120', 'sha256', 15),
 4: ('sha256_96', 'sha256', 12),
 5: ('sha256_64', 'sha256', 8),
 6: ('sha256_32', 'sha256', 4),
 7: ('sha384', 'sha384', 48),
 8: ('sha512', 'sha512', 64),
 9: ('sha3_224', 'sha3_224', 28),
 10: ('sha3_256', 'sha3_256', 32),
 11: ('sha3_384', 'sha3_384', 48),
 12: ('sha3_512', 'sha3_512', 64)}
TLV_SIGNED_INT = 0
TLV_UNSIGNED_INT = 4
TLV_FALSE = 8
TLV_TRUE = 9
TLV_FLOAT = 10
TLV_DOUBLE = 11
TLV_UTF8 = 12
TLV_BYTES = 16
TLV_NULL = 20
TLV_STRUCTURE = 21
TLV_ARRAY = 22
TLV_LIST = 23
TLV_END = 24
TAG_CONTROL_SIZES = {0: 0, 32: 1, 64: 2, 96: 4, 128: 2, 160: 4, 192: 6, 224: 8}
TAG_CONTEXT = 32
MAX_TLV_DEPTH = 8


class FixedHeader(Record):
    """The fixed part of a Matter OTA image header, 16 bytes: file
    identifier, total file size (u64) and the size of the TLV header that follows."""

    __slots__ = ('magic', 'total_size', 'header_size')
    FIELDS = __slots__
    NAME = 'matter_ota.FixedHeader'
    SIZE = 16
    _STRUCT = Struct('<LQL')

    magic: int
    total_size: int
    header_size: int

    def __init__(self, magic: int, total_size: int, header_size: int) -> None:
        self.magic = magic
        self.total_size = total_size
        self.header_size = header_size

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> FixedHeader:
        return cls(v[0], v[1], v[2])

    def _values(self) -> tuple[Any, ...]:
        return (self.magic, self.total_size, self.header_size)
