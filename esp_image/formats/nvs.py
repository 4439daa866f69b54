"""ESP-IDF NVS (non-volatile storage) partition: pages, entries, keys partition, CRC.

Sources (ESP-IDF ``components/nvs_flash``):

- ``src/nvs_page.hpp`` / ``nvs_page.cpp``: a page is one 4 KiB flash sector, a 32-byte header,
  a 32-byte entry state bitmap (2 bits per entry) and 126 entries of 32 bytes; page states;
  ``Page::NVS_VERSION`` (0xFE = format version 2, 0xFF = version 1); ``CHUNK_MAX_SIZE``.
- ``src/nvs_types.hpp`` / ``nvs_types.cpp``: ``Item`` (the entry), ``ItemType``, the header
  CRC (nsIndex..chunkIndex, key and data: everything but the CRC field itself) and the
  variable-length data CRC; ``VerOffset`` (blob versions start at chunk 0 or 128).
- ``include/nvs_flash.h``: ``nvs_sec_cfg_t`` (two 32-byte XTS keys), stored in the
  ``nvs_keys`` partition followed by a CRC32 of both keys.
- ``src/nvs_encrypted_partition.cpp``: entries are encrypted with AES-XTS in 32-byte units,
  the tweak being the entry's offset in the partition (little-endian, 16 bytes); page
  headers and entry state bitmaps stay plain.

Every CRC is ``esp_rom_crc32_le(0xFFFFFFFF, ...)``, which is ``zlib.crc32(data, 0xFFFFFFFF)``.

Pure declarations: no I/O, no policy. The page and entry CRCs are plain fields: a wrong one is
reported by the model, never rejected while parsing.
"""

from __future__ import annotations

import zlib

from construct import Bytes, Int8ul, Int16ul, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

# --- geometry (nvs_page.hpp) ----------------------------------------------------------------

PAGE_SIZE = 0x1000
"""One flash sector: the unit NVS erases and the size of a page."""
HEADER_SIZE = 32
BITMAP_OFFSET = 32
BITMAP_SIZE = 32
ENTRY_SIZE = 32
FIRST_ENTRY_OFFSET = 64
ENTRY_COUNT = 126
"""Entries per page: (4096 - 64) / 32."""
CHUNK_MAX_SIZE = ENTRY_SIZE * (ENTRY_COUNT - 1)
"""Largest variable-length payload one page holds (4000 bytes): the header entry takes one."""
MAX_KEY_LENGTH = 15
"""``Item::MAX_KEY_LENGTH``: the 16-byte key field keeps a terminating NUL."""
MIN_WRITABLE_SIZE = 3 * PAGE_SIZE
"""The generator's and nvs_tool's minimum for a read/write partition."""

# --- page states (nvs_page.hpp, PageState) ---------------------------------------------------

PAGE_EMPTY = 0xFFFFFFFF
PAGE_ACTIVE = 0xFFFFFFFE
PAGE_FULL = 0xFFFFFFFC
PAGE_FREEING = 0xFFFFFFF8
PAGE_CORRUPT = 0xFFFFFFF0
PAGE_INVALID = 0

PAGE_STATE_NAMES: dict[int, str] = {
    PAGE_EMPTY: "empty",
    PAGE_ACTIVE: "active",
    PAGE_FULL: "full",
    PAGE_FREEING: "freeing",
    PAGE_CORRUPT: "corrupt",
    PAGE_INVALID: "invalid",
}
USED_PAGE_STATES = frozenset({PAGE_ACTIVE, PAGE_FULL, PAGE_FREEING})
"""States whose header carries a sequence number and whose entries hold data."""

VERSION_1 = 0xFF
"""Page format version 1: blobs are single-page ``BLOB`` items."""
VERSION_2 = 0xFE
"""Page format version 2 (``Page::NVS_VERSION``): multi-page blobs (index + data chunks)."""

# --- entry states (nvs_page.hpp, EntryState; 2 bits per entry, entry i at bits 2i..2i+1) -----

ENTRY_EMPTY = 3
ENTRY_WRITTEN = 2
ENTRY_ERASED = 0
ENTRY_ILLEGAL = 1

# --- item types (nvs_types.hpp, ItemType) ----------------------------------------------------

U8, I8, U16, I16, U32, I32, U64, I64 = 0x01, 0x11, 0x02, 0x12, 0x04, 0x14, 0x08, 0x18
SZ = 0x21
BLOB = 0x41
"""Version-1 blob: one item with its data, like a string."""
BLOB_DATA = 0x42
BLOB_IDX = 0x48

PRIMITIVE_TYPES: dict[int, tuple[str, str]] = {
    U8: ("u8", "<B"), I8: ("i8", "<b"), U16: ("u16", "<H"), I16: ("i16", "<h"),
    U32: ("u32", "<I"), I32: ("i32", "<i"), U64: ("u64", "<Q"), I64: ("i64", "<q"),
}
"""Integer item types: name and :mod:`struct` format of the value at the start of ``data``."""
VARIABLE_TYPES = frozenset({SZ, BLOB, BLOB_DATA})
"""Types whose payload follows in the next ``span - 1`` entries."""
TYPE_NAMES: dict[int, str] = {
    **{code: name for code, (name, _) in PRIMITIVE_TYPES.items()},
    SZ: "string", BLOB: "blob", BLOB_DATA: "blob_data", BLOB_IDX: "blob_index",
}

NS_INDEX = 0
"""Namespace records live in namespace 0: a ``U8`` item, key = name, value = index."""
NS_MAX = 254
"""Namespace indexes run 1..254 (0 is the records, 255 is "any")."""
CHUNK_ANY = 0xFF
"""``chunkIndex`` of every item that is not a blob data chunk."""
VER_0_OFFSET = 0x00
VER_1_OFFSET = 0x80
"""The two chunk-index ranges a blob alternates between when it is rewritten."""
MAX_BLOB_PAGES = (CHUNK_ANY - 1) // 2
"""``writeMultiPageBlob``: at most 127 chunks (pages) per blob."""

# --- nvs_keys partition (nvs_flash.h, nvs_sec_cfg_t) -------------------------------------------

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


# --- structures -----------------------------------------------------------------------------

# Annotated Any: construct-typing types the ``"""doc""" * Struct(...)`` idiom as str.

PageHeader: Any = """``Page::Header`` (nvs_page.hpp), 32 bytes.

``crc32`` covers bytes 4..28 (:func:`header_crc`); the state word stays outside it because
nvs_flash rewrites it in place as the page fills.""" * Struct(
    "state" / Int32ul,
    "seq" / Int32ul,
    "version" / Int8ul,
    "reserved" / Bytes(19),
    "crc32" / Int32ul,
)
Item: Any = """``Item`` (nvs_types.hpp), one 32-byte entry.

``key`` is NUL-padded; ``data`` is interpreted by type (the integer, :data:`VarLengthData` or
:data:`BlobIndexData`); ``crc32`` covers everything but itself (:func:`item_crc`).""" * Struct(
    "ns_index" / Int8ul,
    "datatype" / Int8ul,
    "span" / Int8ul,
    "chunk_index" / Int8ul,
    "crc32" / Int32ul,
    "key" / Bytes(16),
    "data" / Bytes(8),
)
VarLengthData: Any = """``Item::varLength``: the ``data`` field of ``SZ``, ``BLOB`` and
``BLOB_DATA`` items; the payload follows in the item's next ``span - 1`` entries.""" * Struct(
    "data_size" / Int16ul,
    "reserved" / Int16ul,
    "data_crc32" / Int32ul,
)
BlobIndexData: Any = """``Item::blobIndex``: the ``data`` field of a ``BLOB_IDX`` item.""" * Struct(
    "data_size" / Int32ul,
    "chunk_count" / Int8ul,
    "chunk_start" / Int8ul,
    "reserved" / Int16ul,
)
Page: Any = """One 4 KiB page: header, entry state bitmap, then 126 :data:`Item` entries.

The entries stay bytes here: only written ones mean anything (empty ones are erased flash,
encrypted ones need the keys first), so the loader parses them one by one.""" * Struct(
    "header" / PageHeader,
    "entry_states" / Bytes(BITMAP_SIZE),
    "entries" / Bytes(ENTRY_COUNT * ENTRY_SIZE),
)
SecurityConfig: Any = """``nvs_sec_cfg_t`` (nvs_flash.h) as stored at the start of the
``nvs_keys`` partition, then its CRC (:func:`nvs_crc` of the 64 key bytes); the rest of the
sector is erased.""" * Struct(
    "eky" / Bytes(KEY_SIZE),
    "tky" / Bytes(KEY_SIZE),
    "crc32" / Int32ul,
)
