"""gzip members around firmware (``.bin.gz`` OTA updates): header, trailer and flag constants.

Sources:

- RFC 1952 §2.3 (member header, optional fields, CRC32 and ISIZE trailer);
- esp8266/Arduino ``bootloaders/eboot/eboot.c`` ``copy_raw``: a staged update that starts with
  ``1f 8b`` is inflated with uzlib; the inflated size is read from the **last four bytes** of the
  staged data (ISIZE) and the CRC32 is not checked;
- esp8266/Arduino ``cores/esp8266/Updater.cpp`` ``_verifyHeader``/``_verifyEnd``: an upload
  may start with 0xE9 or with the gzip magic ``1f 8b``.

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Int8ul, Int16ul, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

MAGIC = b"\x1f\x8b"
"""ID1 ID2."""
CM_DEFLATE = 8
"""The only compression method RFC 1952 defines."""
FTEXT = 0x01
FHCRC = 0x02
FEXTRA = 0x04
FNAME = 0x08
FCOMMENT = 0x10
FLAGS_RESERVED = 0xE0
"""Reserved flag bits: RFC 1952 says a reader must refuse a member that sets them."""
TRAILER_SIZE = 8
NAME_MAX = 1024
"""Longest FNAME/FCOMMENT read (bounded: a hostile header has no terminator)."""

OS_NAMES: dict[int, str] = {0: "FAT", 3: "Unix", 7: "Macintosh", 11: "NTFS", 255: "unknown"}

MemberHeader: Any = """RFC 1952 fixed member header, 10 bytes (optional fields follow when
the flags say so).""" * Struct(
    "id" / Int16ul,
    "cm" / Int8ul,
    "flg" / Int8ul,
    "mtime" / Int32ul,
    "xfl" / Int8ul,
    "os" / Int8ul,
)

MemberTrailer: Any = "RFC 1952 member trailer: CRC-32 of the data, then its size mod 2**32" * (
    Struct(
        "crc32" / Int32ul,
        "isize" / Int32ul,
    )
)

ExtraLength: Any = "XLEN before the FEXTRA field" * Struct("xlen" / Int16ul)
