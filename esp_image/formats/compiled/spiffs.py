"""Generated from :mod:`esp_image.formats.spiffs`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

OBJ_ID_FREE = 0xFFFF
OBJ_ID_DELETED = 0
OBJ_ID_IX_FLAG = 0x8000
PAGE_IX_FREE = 0xFFFF
UNDEFINED_LEN = 0xFFFFFFFF
FLAG_USED = 1
FLAG_FINAL = 2
FLAG_INDEX = 4
FLAG_IXDELE = 0x40
FLAG_DELET = 0x80
FLAGS_INDEX_LIVE = 0xF8
FLAGS_DATA_LIVE = 0xFC
TYPE_FILE = 1
TYPE_DIR = 2
MAGIC_SEED = 0x20140529
PAGE_HEADER_SIZE = 5
INDEX_HEADER_FIXED = 13
LEGACY_INDEX_HEADER_FIXED = 11
INDEX_PAGE_TABLE = 8
LEGACY_INDEX_PAGE_TABLE = 6
DEFAULT_PAGE_SIZE = 0x100
DEFAULT_BLOCK_SIZE = 0x1000
DEFAULT_NAME_LEN = 32
DEFAULT_META_LEN = 4


def spiffs_magic(page_size: int, blocks_left: int = 0) -> int:
    """``SPIFFS_MAGIC`` of a block: ``blocks_left`` is block count - block index with
    ``SPIFFS_USE_MAGIC_LENGTH``, 0 without."""
    return (MAGIC_SEED ^ page_size ^ blocks_left) & 0xFFFF


def lookup_pages(block_size: int, page_size: int) -> int:
    """``SPIFFS_OBJ_LOOKUP_PAGES``: pages at the start of a block holding its object ids."""
    return max(1, (block_size // page_size) * 2 // page_size)


class PageHeader(Record):
    """``spiffs_page_header``: the first 5 bytes of every page that is not a
    lookup page. ``flags`` are active low (:data:`FLAG_USED` ...)."""

    __slots__ = ('obj_id', 'span_ix', 'flags')
    FIELDS = __slots__
    NAME = 'spiffs.PageHeader'
    SIZE = 5
    _STRUCT = Struct('<HHB')

    obj_id: int
    span_ix: int
    flags: int

    def __init__(self, obj_id: int, span_ix: int, flags: int) -> None:
        self.obj_id = obj_id
        self.span_ix = span_ix
        self.flags = flags

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> PageHeader:
        return cls(v[0], v[1], v[2])

    def _values(self) -> tuple[Any, ...]:
        return (self.obj_id, self.span_ix, self.flags)


class IndexHeader(Record):
    """``spiffs_page_object_ix_header`` up to the name (spiffs 0.3.3 and
    later): the name (``SPIFFS_OBJ_NAME_LEN`` bytes, NUL padded), the metadata and the page index
    table follow. The page header's fields come first, flat."""

    __slots__ = ('obj_id', 'span_ix', 'flags', 'align', 'size', 'type')
    FIELDS = __slots__
    NAME = 'spiffs.IndexHeader'
    SIZE = 13
    _STRUCT = Struct('<HHB3sLB')

    obj_id: int
    span_ix: int
    flags: int
    align: bytes
    size: int
    type: int

    def __init__(
        self,
        obj_id: int,
        span_ix: int,
        flags: int,
        align: bytes,
        size: int,
        type: int,
    ) -> None:
        self.obj_id = obj_id
        self.span_ix = span_ix
        self.flags = flags
        self.align = align
        self.size = size
        self.type = type

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> IndexHeader:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'align', self.align, 3)
        return (self.obj_id, self.span_ix, self.flags, self.align, self.size, self.type)


class LegacyIndexHeader(Record):
    """``spiffs_page_object_ix_header`` before spiffs 0.3.3, whose
    ``_align`` member is 1 byte long."""

    __slots__ = ('obj_id', 'span_ix', 'flags', 'align', 'size', 'type')
    FIELDS = __slots__
    NAME = 'spiffs.LegacyIndexHeader'
    SIZE = 11
    _STRUCT = Struct('<HHB1sLB')

    obj_id: int
    span_ix: int
    flags: int
    align: bytes
    size: int
    type: int

    def __init__(
        self,
        obj_id: int,
        span_ix: int,
        flags: int,
        align: bytes,
        size: int,
        type: int,
    ) -> None:
        self.obj_id = obj_id
        self.span_ix = span_ix
        self.flags = flags
        self.align = align
        self.size = size
        self.type = type

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> LegacyIndexHeader:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'align', self.align, 1)
        return (self.obj_id, self.span_ix, self.flags, self.align, self.size, self.type)
