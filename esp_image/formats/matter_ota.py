"""Matter OTA image files (``*-ota.bin`` of esp-matter): fixed header, TLV header constants.

Sources (project-chip/connectedhomeip):

- ``src/app/ota_image_tool.py``: ``FIXED_HEADER_FORMAT = '<IQI'`` (magic, total size, size of
  the TLV header), the anonymous TLV structure with context tags 0..9 (``HeaderTag``) and the
  digest algorithm ids (``DIGEST_ALGORITHM_ID``, the IANA Named Information registry); the
  digest covers the payload (every input file, concatenated);
- ``src/lib/core/OTAImageHeader.cpp`` ``OTAImageHeaderParser``: refuses a TLV header larger
  than 1024 bytes, reads the tags in order (0, 1, 2, 3, 4, optional 5, 6, 7, then 8 and 9),
  limits the version string to 64 and the release-notes URL to 256 bytes;
- ``src/controller/python/chip/tlv/__init__.py``: the TLV control byte (element type in the low
  5 bits, tag control in the high 3).

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Int32ul, Int64ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

MAGIC = 0x1BEEF11E
"""``kOTAImageFileIdentifier``."""
FIXED_HEADER_SIZE = 16
MAX_HEADER_SIZE = 1024
"""``kMaxHeaderSize``: the largest TLV header a Matter device accepts."""
MAX_VERSION_STRING = 64
MAX_RELEASE_NOTES_URL = 256

# HeaderTag (context tags of the anonymous header structure)
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

DIGESTS: dict[int, tuple[str, str, int]] = {
    1: ("sha256", "sha256", 32),
    2: ("sha256_128", "sha256", 16),
    3: ("sha256_120", "sha256", 15),
    4: ("sha256_96", "sha256", 12),
    5: ("sha256_64", "sha256", 8),
    6: ("sha256_32", "sha256", 4),
    7: ("sha384", "sha384", 48),
    8: ("sha512", "sha512", 64),
    9: ("sha3_224", "sha3_224", 28),
    10: ("sha3_256", "sha3_256", 32),
    11: ("sha3_384", "sha3_384", 48),
    12: ("sha3_512", "sha3_512", 64),
}
"""Digest type id -> (name, hashlib algorithm, digest bytes); the truncated SHA-256 forms keep
the first bytes of the SHA-256."""

# TLV element types (low 5 bits of the control byte)
TLV_SIGNED_INT = 0x00
"""0x00..0x03: 1, 2, 4, 8 bytes."""
TLV_UNSIGNED_INT = 0x04
"""0x04..0x07: 1, 2, 4, 8 bytes."""
TLV_FALSE = 0x08
TLV_TRUE = 0x09
TLV_FLOAT = 0x0A
TLV_DOUBLE = 0x0B
TLV_UTF8 = 0x0C
"""0x0C..0x0F: length field of 1, 2, 4, 8 bytes."""
TLV_BYTES = 0x10
"""0x10..0x13: length field of 1, 2, 4, 8 bytes."""
TLV_NULL = 0x14
TLV_STRUCTURE = 0x15
TLV_ARRAY = 0x16
TLV_LIST = 0x17
TLV_END = 0x18
TAG_CONTROL_SIZES: dict[int, int] = {0x00: 0, 0x20: 1, 0x40: 2, 0x60: 4, 0x80: 2, 0xA0: 4,
                                     0xC0: 6, 0xE0: 8}
"""Tag control (high 3 bits) -> bytes of tag that follow the control byte."""
TAG_CONTEXT = 0x20
MAX_TLV_DEPTH = 8

FixedHeader: Any = """The fixed part of a Matter OTA image header, 16 bytes: file
identifier, total file size (u64) and the size of the TLV header that follows.""" * Struct(
    "magic" / Int32ul,
    "total_size" / Int64ul,
    "header_size" / Int32ul,
)
