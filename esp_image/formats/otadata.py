"""ESP-IDF OTA selection data (the ``data/ota`` partition): records, constants and CRC.

Sources (see ``shared/docs/formats/otadata.md``):

- ESP-IDF ``components/bootloader_support/include/esp_flash_partitions.h``:
  ``esp_ota_select_entry_t`` and ``esp_ota_img_states_t``.
- ESP-IDF ``components/bootloader_support/src/bootloader_common_loader.c``:
  ``bootloader_common_ota_select_crc`` (``esp_rom_crc32_le(UINT32_MAX, &ota_seq, 4)``).
- ESP-IDF ``components/esp_rom/include/esp_rom_crc.h`` (the ROM helper inverts the register
  before and after processing).

The partition is 0x2000 bytes: copy 0 at +0x0000 and copy 1 at +0x1000, each a 32-byte record
at the start of its own 4 KiB sector, the rest of the sector normally erased (0xFF).

Pure declarations: no I/O, no policy. The CRC is a plain field (never ``Checksum``): the stored
value is part of ESP-IDF's state machine and must be reported, not rejected, when it is wrong.
"""

from __future__ import annotations

import zlib

from construct import Array, Bytes, Default, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

# --- sizes (otadata.md §1) -------------------------------------------------------------------

OTADATA_SIZE = 0x2000
"""Size of the otadata partition: two 4 KiB sectors."""
SECTOR = 0x1000
"""Flash sector size; copy *i* starts at ``i * SECTOR``."""
ENTRY_SIZE = 32
"""``sizeof(esp_ota_select_entry_t)``."""
SEQ_LABEL_SIZE = 20
"""``seq_label[20]``: never written by ESP-IDF, normally 0xFF."""
TAIL_SIZE = SECTOR - ENTRY_SIZE
"""Bytes of each sector after the record (normally erased)."""
ERASED_TAIL = b"\xff" * TAIL_SIZE
ERASED_LABEL = b"\xff" * SEQ_LABEL_SIZE

# --- esp_ota_img_states_t (otadata.md §2) ---------------------------------------------------

NEW = 0
"""ESP_OTA_IMG_NEW: just written with rollback enabled."""
PENDING_VERIFY = 1
"""ESP_OTA_IMG_PENDING_VERIFY: first boot in progress."""
VALID = 2
"""ESP_OTA_IMG_VALID: confirmed by the app or seeded by the bootloader."""
INVALID = 3
"""ESP_OTA_IMG_INVALID: marked bad."""
ABORTED = 4
"""ESP_OTA_IMG_ABORTED: first boot was not confirmed."""
UNDEFINED = 0xFFFFFFFF
"""ESP_OTA_IMG_UNDEFINED: written when rollback is disabled."""

STATE_NAMES: dict[int, str] = {
    NEW: "new",
    PENDING_VERIFY: "pending_verify",
    VALID: "valid",
    INVALID: "invalid",
    ABORTED: "aborted",
    UNDEFINED: "undefined",
}
"""Known ``ota_state`` values. Other values occur and are kept as integers."""

SEQ_ERASED = 0xFFFFFFFF
"""``ota_seq`` of an erased / unused record."""
U32_MASK = 0xFFFFFFFF

# --- CRC (otadata.md §3) --------------------------------------------------------------------
# Effective parameters of esp_rom_crc32_le(0xFFFFFFFF, ...): width 32, polynomial 0x04C11DB7
# (reflected 0xEDB88320), reflected in and out, initial register 0x00000000, final XOR
# 0xFFFFFFFF; check value ("123456789") 0xD202D277 (standard CRC-32 gives 0xCBF43926).
# The crcmod form is the declarative definition; it is deliberately NOT imported here
# (CLI start-up time; crcmod is source-only on PyPI and may run as pure Python).

CRC_POLY = 0x104C11DB7
"""crcmod polynomial (with the implicit x^32 term)."""
CRC_INIT_CRCMOD = 0xFFFFFFFF
"""crcmod ``initCrc``: crcmod's value is "initial register XOR final XOR" = 0 ^ 0xFFFFFFFF."""
CRC_REV = True
"""Reflected input and output."""
CRC_XOR_OUT = 0xFFFFFFFF
"""Final XOR."""
CRC_CHECK = 0xD202D277
"""CRC of b"123456789" under these parameters."""
CRCMOD_PARAMS: dict[str, int | bool] = {
    "poly": CRC_POLY,
    "initCrc": CRC_INIT_CRCMOD,
    "rev": CRC_REV,
    "xorOut": CRC_XOR_OUT,
}
"""Keyword arguments for ``crcmod.mkCrcFun`` that reproduce :func:`ota_crc_bytes`."""


def ota_crc_bytes(data: bytes) -> int:
    """Return ``esp_rom_crc32_le(0xFFFFFFFF, data, len(data))``.

    zlib uses the same invert-in/invert-out convention as the ROM helper, so passing the
    start value 0xFFFFFFFF gives the ROM's result. Plain ``zlib.crc32(data)`` is wrong.
    """
    return zlib.crc32(data, 0xFFFFFFFF) & 0xFFFFFFFF


def ota_crc(seq: int) -> int:
    """Return the otadata record CRC for ``ota_seq`` (the CRC covers the 4 seq bytes only).

    Args:
        seq: ``ota_seq`` as an unsigned 32-bit integer.
    """
    return zlib.crc32(seq.to_bytes(4, "little"), 0xFFFFFFFF) & 0xFFFFFFFF


# --- structures -----------------------------------------------------------------------------

# Annotated Any: construct-typing types the ``"""doc""" * Struct(...)`` idiom as str.

OtaSelectEntry: Any = """``esp_ota_select_entry_t`` (esp_flash_partitions.h), 32 bytes.

``ota_state`` stays an integer (unknown values exist); ``crc`` is a plain field holding what
is stored (CRC of the 4 bytes of ``ota_seq`` only, see :func:`ota_crc`).""" * Struct(
    "ota_seq" / Int32ul,
    "seq_label" / Bytes(SEQ_LABEL_SIZE),
    "ota_state" / Int32ul,
    "crc" / Int32ul,
)
OtaSelectSector: Any = """One 4 KiB otadata sector: the record, then the rest of the sector kept
byte for byte (erased flash, 0xFF, when built without a ``tail``).""" * Struct(
    "entry" / OtaSelectEntry,
    "tail" / Default(Bytes(TAIL_SIZE), ERASED_TAIL),
)
OtaData: Any = """The whole 0x2000-byte otadata partition: copy 0 at +0x0000, copy 1 at
+0x1000.""" * Struct(
    "copies" / Array(2, OtaSelectSector),
)
