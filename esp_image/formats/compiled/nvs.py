"""Generated from :mod:`esp_image.formats.nvs`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

import zlib
from struct import Struct

from .._records import Record, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PAGE_SIZE = 0x1000
HEADER_SIZE = 32
BITMAP_OFFSET = 32
BITMAP_SIZE = 32
ENTRY_SIZE = 32
FIRST_ENTRY_OFFSET = 0x40
ENTRY_COUNT = 0x7E
CHUNK_MAX_SIZE = 0xFA0
MAX_KEY_LENGTH = 15
MIN_WRITABLE_SIZE = 0x3000
PAGE_EMPTY = 0xFFFFFFFF
PAGE_ACTIVE = 0xFFFFFFFE
PAGE_FULL = 0xFFFFFFFC
PAGE_FREEING = 0xFFFFFFF8
PAGE_CORRUPT = 0xFFFFFFF0
PAGE_INVALID = 0
PAGE_STATE_NAMES = {4294967295: 'empty',
 4294967294: 'active',
 4294967292: 'full',
 4294967288: 'freeing',
 4294967280: 'corrupt',
 0: 'invalid'}
USED_PAGE_STATES = frozenset({4294967288, 4294967292, 4294967294})
VERSION_1 = 0xFF
VERSION_2 = 0xFE
ENTRY_EMPTY = 3
ENTRY_WRITTEN = 2
ENTRY_ERASED = 0
ENTRY_ILLEGAL = 1
U8 = 1
I8 = 17
U16 = 2
I16 = 18
U32 = 4
I32 = 20
U64 = 8
I64 = 24
SZ = 33
BLOB = 0x41
BLOB_DATA = 0x42
BLOB_IDX = 0x48
PRIMITIVE_TYPES = {1: ('u8', '<B'),
 17: ('i8', '<b'),
 2: ('u16', '<H'),
 18: ('i16', '<h'),
 4: ('u32', '<I'),
 20: ('i32', '<i'),
 8: ('u64', '<Q'),
 24: ('i64', '<q')}
VARIABLE_TYPES = frozenset({65, 33, 66})
TYPE_NAMES = {1: 'u8',
 17: 'i8',
 2: 'u16',
 18: 'i16',
 4: 'u32',
 20: 'i32',
 8: 'u64',
 24: 'i64',
 33: 'string',
 65: 'blob',
 66: 'blob_data',
 72: 'blob_index'}
NS_INDEX = 0
NS_MAX = 0xFE
CHUNK_ANY = 0xFF
VER_0_OFFSET = 0
VER_1_OFFSET = 0x80
MAX_BLOB_PAGES = 0x7F
KEY_SIZE = 32
KEYS_PARTITION_SIZE = 0x1000


def nvs_crc(data: bytes | bytearray | memoryview) -> int:
    """``esp_rom_crc32_le(0xFFFFFFFF, data, len)``, the CRC of every NVS structure."""
    return zlib.crc32(data, 0xFFFFFFFF) & 0xFFFFFFFF


def item_crc(entry: bytes | bytearray | memoryview) -> int:
    """``Item::calculateCrc32``: bytes 0..4 and 8..32 of the 32-byte entry (not the CRC)."""
    return zlib.crc32(entry[8:32], zlib.crc32(entry[0:4], 0xFFFFFFFF)) & 0xFFFFFFFF


def header_crc(header: bytes | bytearray | memoryview) -> int:
    """``Page::Header::calculateCrc32``: sequence number, version and reserved bytes (4..28)."""
    return nvs_crc(header[4:28])


class PageHeader(Record):
    """``Page::Header`` (nvs_page.hpp), 32 bytes.

    ``crc32`` covers bytes 4..28 (:func:`header_crc`); the state word stays outside it because
    nvs_flash rewrites it in place as the page fills."""

    __slots__ = ('state', 'seq', 'version', 'reserved', 'crc32')
    FIELDS = __slots__
    NAME = 'nvs.PageHeader'
    SIZE = 32
    _STRUCT = Struct('<LLB19sL')

    state: int
    seq: int
    version: int
    reserved: bytes
    crc32: int

    def __init__(self, state: int, seq: int, version: int, reserved: bytes, crc32: int) -> None:
        self.state = state
        self.seq = seq
        self.version = version
        self.reserved = reserved
        self.crc32 = crc32

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> PageHeader:
        return cls(v[0], v[1], v[2], v[3], v[4])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'reserved', self.reserved, 19)
        return (self.state, self.seq, self.version, self.reserved, self.crc32)


class Item(Record):
    """``Item`` (nvs_types.hpp), one 32-byte entry.

    ``key`` is NUL-padded; ``data`` is interpreted by type (the integer, :data:`VarLengthData` or
    :data:`BlobIndexData`); ``crc32`` covers everything but itself (:func:`item_crc`)."""

    __slots__ = ('ns_index', 'datatype', 'span', 'chunk_index', 'crc32', 'key', 'data')
    FIELDS = __slots__
    NAME = 'nvs.Item'
    SIZE = 32
    _STRUCT = Struct('<BBBBL16s8s')

    ns_index: int
    datatype: int
    span: int
    chunk_index: int
    crc32: int
    key: bytes
    data: bytes

    def __init__(
        self,
        ns_index: int,
        datatype: int,
        span: int,
        chunk_index: int,
        crc32: int,
        key: bytes,
        data: bytes,
    ) -> None:
        self.ns_index = ns_index
        self.datatype = datatype
        self.span = span
        self.chunk_index = chunk_index
        self.crc32 = crc32
        self.key = key
        self.data = data

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> Item:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5], v[6])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'key', self.key, 16)
        check_len(self.NAME, 'data', self.data, 8)
        return (
            self.ns_index,
            self.datatype,
            self.span,
            self.chunk_index,
            self.crc32,
            self.key,
            self.data,
        )


class VarLengthData(Record):
    """``Item::varLength``: the ``data`` field of ``SZ``, ``BLOB`` and
    ``BLOB_DATA`` items; the payload follows in the item's next ``span - 1`` entries."""

    __slots__ = ('data_size', 'reserved', 'data_crc32')
    FIELDS = __slots__
    NAME = 'nvs.VarLengthData'
    SIZE = 8
    _STRUCT = Struct('<HHL')

    data_size: int
    reserved: int
    data_crc32: int

    def __init__(self, data_size: int, reserved: int, data_crc32: int) -> None:
        self.data_size = data_size
        self.reserved = reserved
        self.data_crc32 = data_crc32

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> VarLengthData:
        return cls(v[0], v[1], v[2])

    def _values(self) -> tuple[Any, ...]:
        return (self.data_size, self.reserved, self.data_crc32)


class BlobIndexData(Record):
    """``Item::blobIndex``: the ``data`` field of a ``BLOB_IDX`` item."""

    __slots__ = ('data_size', 'chunk_count', 'chunk_start', 'reserved')
    FIELDS = __slots__
    NAME = 'nvs.BlobIndexData'
    SIZE = 8
    _STRUCT = Struct('<LBBH')

    data_size: int
    chunk_count: int
    chunk_start: int
    reserved: int

    def __init__(self, data_size: int, chunk_count: int, chunk_start: int, reserved: int) -> None:
        self.data_size = data_size
        self.chunk_count = chunk_count
        self.chunk_start = chunk_start
        self.reserved = reserved

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> BlobIndexData:
        return cls(v[0], v[1], v[2], v[3])

    def _values(self) -> tuple[Any, ...]:
        return (self.data_size, self.chunk_count, self.chunk_start, self.reserved)


class Page(Record):
    """One 4 KiB page: header, entry state bitmap, then 126 :data:`Item` entries.

    The entries stay bytes here: only written ones mean anything (empty ones are erased flash,
    encrypted ones need the keys first), so the loader parses them one by one."""

    __slots__ = ('header', 'entry_states', 'entries')
    FIELDS = __slots__
    NAME = 'nvs.Page'
    SIZE = 4096
    _STRUCT = Struct('<LLB19sL32s4032s')

    header: PageHeader
    entry_states: bytes
    entries: bytes

    def __init__(self, header: PageHeader, entry_states: bytes, entries: bytes) -> None:
        self.header = header
        self.entry_states = entry_states
        self.entries = entries

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> Page:
        return cls(PageHeader._from_values(v[0:5], offset), v[5], v[6])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'entry_states', self.entry_states, 32)
        check_len(self.NAME, 'entries', self.entries, 4032)
        return (*self.header._values(), self.entry_states, self.entries)


class SecurityConfig(Record):
    """``nvs_sec_cfg_t`` (nvs_flash.h) as stored at the start of the
    ``nvs_keys`` partition, then its CRC (:func:`nvs_crc` of the 64 key bytes); the rest of the
    sector is erased."""

    __slots__ = ('eky', 'tky', 'crc32')
    FIELDS = __slots__
    NAME = 'nvs.SecurityConfig'
    SIZE = 68
    _STRUCT = Struct('<32s32sL')

    eky: bytes
    tky: bytes
    crc32: int

    def __init__(self, eky: bytes, tky: bytes, crc32: int) -> None:
        self.eky = eky
        self.tky = tky
        self.crc32 = crc32

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> SecurityConfig:
        return cls(v[0], v[1], v[2])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'eky', self.eky, 32)
        check_len(self.NAME, 'tky', self.tky, 32)
        return (self.eky, self.tky, self.crc32)
