"""SPIFFS (pellepl/spiffs) as ESP-IDF, mkspiffs (Arduino, PlatformIO) and ESP-IDF's
``spiffsgen.py`` lay it out: pages, page flags, object index headers, the block magic.

Sources: ``src/spiffs_nucleus.h`` of pellepl/spiffs (0.3.7: ``spiffs_page_header``,
``spiffs_page_object_ix_header``, ``spiffs_page_object_ix``, the ``SPIFFS_PH_FLAG_*`` bits,
``SPIFFS_MAGIC``, ``SPIFFS_OBJ_LOOKUP_PAGES``, ``SPIFFS_MAGIC_PADDR``) and ESP-IDF
``components/spiffs/spiffsgen.py`` (its defaults: 256-byte pages, 4096-byte blocks, 32-byte
names, 4 bytes of metadata, magic with length, unaligned index tables).

A filesystem is a run of equal blocks; each block starts with its object lookup pages (one
little-endian object id per page of the block that is not a lookup page: 0xFFFF free, 0x0000
deleted, the top bit set for an index page), the magic in the second-last id slot of the last
lookup page and the erase count in the last. Every other page starts with a
:data:`PageHeader`; an object's index header page (span 0) holds its size, type and name and then
page indexes of its first data pages, further index pages (span 1, 2, ...) the rest.

Build options that move bytes, so a reader infers them: the page and block size, the name
length (``SPIFFS_OBJ_NAME_LEN``), the metadata length (``SPIFFS_OBJ_META_LEN``, 0 before
ESP-IDF), ``SPIFFS_ALIGNED_OBJECT_INDEX_TABLES`` (page index table on a 2-byte boundary) and
the spiffs version: before 0.3.3 (August 2015) the ``_align`` member took 1 byte instead of 3
(an operator precedence slip in its length), which shifts everything after the page header.

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Bytes, Int8ul, Int16ul, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

# --- ids and flags (spiffs_nucleus.h) --------------------------------------------------------

OBJ_ID_FREE = 0xFFFF
"""Lookup entry of a page never written since its block was erased."""
OBJ_ID_DELETED = 0x0000
"""Lookup entry of a deleted page."""
OBJ_ID_IX_FLAG = 0x8000
"""Top bit of an object id: set for the object's index pages, clear for its data pages."""
PAGE_IX_FREE = 0xFFFF
"""An index table slot that points nowhere."""
UNDEFINED_LEN = 0xFFFFFFFF
"""``size`` of an object created but never written (reads as empty)."""

FLAG_USED = 1 << 0
"""Clear once the page is written."""
FLAG_FINAL = 1 << 1
"""Clear once the write is finished."""
FLAG_INDEX = 1 << 2
"""Clear on index pages, set on data pages."""
FLAG_IXDELE = 1 << 6
"""Clear while an index header's object is being deleted."""
FLAG_DELET = 1 << 7
"""Clear once the page is deleted."""
FLAGS_INDEX_LIVE = 0xF8
"""Flags of a finished index page (spiffsgen's ``SPIFFS_PH_FLAG_USED_FINAL_INDEX``)."""
FLAGS_DATA_LIVE = 0xFC
"""Flags of a finished data page (spiffsgen's ``SPIFFS_PH_FLAG_USED_FINAL``)."""

TYPE_FILE = 1
TYPE_DIR = 2

MAGIC_SEED = 0x20140529
"""``SPIFFS_MAGIC``: this, xor the page size, xor (block count - block index) with
``SPIFFS_USE_MAGIC_LENGTH``, cut to the 16-bit object id."""

# --- layout ---------------------------------------------------------------------------------

PAGE_HEADER_SIZE = 5
"""``sizeof(spiffs_page_header)`` (packed): data bytes of a page follow it."""
INDEX_HEADER_FIXED = 13
"""Bytes of ``spiffs_page_object_ix_header`` before the name (0.3.3 and later)."""
LEGACY_INDEX_HEADER_FIXED = 11
"""The same before spiffs 0.3.3 (a 1-byte ``_align``)."""
INDEX_PAGE_TABLE = 8
"""``sizeof(spiffs_page_object_ix)``: where an index page's (span > 0) table starts."""
LEGACY_INDEX_PAGE_TABLE = 6
DEFAULT_PAGE_SIZE = 256
DEFAULT_BLOCK_SIZE = 4096
DEFAULT_NAME_LEN = 32
DEFAULT_META_LEN = 4
"""spiffsgen's defaults (ESP-IDF ``CONFIG_SPIFFS_*``)."""


def spiffs_magic(page_size: int, blocks_left: int = 0) -> int:
    """``SPIFFS_MAGIC`` of a block: ``blocks_left`` is block count - block index with
    ``SPIFFS_USE_MAGIC_LENGTH``, 0 without."""
    return (MAGIC_SEED ^ page_size ^ blocks_left) & 0xFFFF


def lookup_pages(block_size: int, page_size: int) -> int:
    """``SPIFFS_OBJ_LOOKUP_PAGES``: pages at the start of a block holding its object ids."""
    return max(1, (block_size // page_size) * 2 // page_size)


# --- structures -----------------------------------------------------------------------------

# Annotated Any: construct-typing types the ``"""doc""" * Struct(...)`` idiom as str.

PageHeader: Any = """``spiffs_page_header``: the first 5 bytes of every page that is not a
lookup page. ``flags`` are active low (:data:`FLAG_USED` ...).""" * Struct(
    "obj_id" / Int16ul,
    "span_ix" / Int16ul,
    "flags" / Int8ul,
)
IndexHeader: Any = """``spiffs_page_object_ix_header`` up to the name (spiffs 0.3.3 and
later): the name (``SPIFFS_OBJ_NAME_LEN`` bytes, NUL padded), the metadata and the page index
table follow. The page header's fields come first, flat.""" * Struct(
    "obj_id" / Int16ul,
    "span_ix" / Int16ul,
    "flags" / Int8ul,
    "align" / Bytes(3),
    "size" / Int32ul,
    "type" / Int8ul,
)
LegacyIndexHeader: Any = """``spiffs_page_object_ix_header`` before spiffs 0.3.3, whose
``_align`` member is 1 byte long.""" * Struct(
    "obj_id" / Int16ul,
    "span_ix" / Int16ul,
    "flags" / Int8ul,
    "align" / Bytes(1),
    "size" / Int32ul,
    "type" / Int8ul,
)
