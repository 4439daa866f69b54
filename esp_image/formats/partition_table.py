"""ESP-IDF binary partition table: partition records, the MD5 record and the end marker.

Follows ESP-IDF ``components/bootloader_support/include/esp_flash_partitions.h``
(``esp_partition_info_t``, ``ESP_PARTITION_MAGIC``, ``ESP_PARTITION_MAGIC_MD5``,
``ESP_PARTITION_TABLE_MAX_LEN``) and ``components/partition_table/gen_esp32part.py`` (v1.5: the
name tables, the MD5 record layout, 0xFF padding to 0xC00). See
shared/docs/formats/partition-table.md.

The table is a sequence of 32-byte records; the model parses it record by record (the record
kind is decided by its first two bytes), so only the two record layouts are declared here.
"""

from __future__ import annotations

from construct import Bytes, Const, Int8ul, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

MAGIC = b"\xaa\x50"
"""``ESP_PARTITION_MAGIC`` (u16 0x50AA) as it appears on flash."""
MD5_MAGIC = b"\xeb\xeb"
"""``ESP_PARTITION_MAGIC_MD5`` (u16 0xEBEB)."""
RECORD_SIZE = 32
"""``sizeof(esp_partition_info_t)``; the MD5 record and the end marker have the same size."""
LABEL_SIZE = 16
TABLE_MAX_LEN = 0xC00
"""``ESP_PARTITION_TABLE_MAX_LEN``: only these bytes of the sector hold records."""
TABLE_SECTOR = 0x1000
"""``ESP_PARTITION_TABLE_SIZE``: the flash sector the table owns."""
END_MARKER = b"\xff" * RECORD_SIZE
"""Erased flash; the bootloader only looks at magic 0xFFFF and type/subtype 0xFF."""
DEFAULT_TABLE_OFFSET = 0x8000
"""``CONFIG_PARTITION_TABLE_OFFSET`` default on every chip."""
MAX_RECORDS = TABLE_MAX_LEN // RECORD_SIZE
"""96: the bootloader scans at most this many records, terminator included."""
MD5_PADDING = b"\xff" * 14
"""What gen_esp32part writes between the MD5 magic and the digest."""

APP_ALIGN = 0x10000
"""Offset alignment of app partitions (flash-mapped segments need 64 KiB pages)."""
DATA_ALIGN = 0x1000
"""Offset alignment of every other type (one erase sector)."""
OTADATA_SIZE = 0x2000
"""data/ota and data/tee_ota must be exactly two sectors."""
NVS_RW_MIN_SIZE = 0x3000
"""gen_esp32part ``NVS_RW_MIN_PARTITION_SIZE``: smaller NVS partitions must be readonly."""
MAX_OTA_SLOTS = 16
"""``MAX_OTA_SLOTS``: app subtypes ota_0..ota_15 (0x10..0x1F)."""

TYPE_APP = 0x00
TYPE_DATA = 0x01
TYPE_BOOTLOADER = 0x02
TYPE_PARTITION_TABLE = 0x03

SUBTYPE_APP_FACTORY = 0x00
SUBTYPE_APP_OTA_MIN = 0x10
SUBTYPE_APP_OTA_MAX = 0x1F
SUBTYPE_DATA_OTA = 0x00
SUBTYPE_DATA_COREDUMP = 0x03
SUBTYPE_DATA_PHY = 0x01
SUBTYPE_DATA_NVS = 0x02
SUBTYPE_DATA_UNDEFINED = 0x06
SUBTYPE_DATA_FAT = 0x81
SUBTYPE_DATA_SPIFFS = 0x82
SUBTYPE_DATA_LITTLEFS = 0x83  # ESP-IDF >= 5.2
SUBTYPE_DATA_TEE_OTA = 0x90  # ESP-IDF >= 5.5
SUBTYPE_PRIMARY = 0x00
"""``primary`` subtype of the bootloader and partition_table types (ESP-IDF >= 5.4)."""

TYPES: dict[str, int] = {
    "app": TYPE_APP,
    "data": TYPE_DATA,
    "bootloader": TYPE_BOOTLOADER,
    "partition_table": TYPE_PARTITION_TABLE,
}
"""Partition type keywords (gen_esp32part ``TYPES``); 0x40-0xFE are free for applications."""

SUBTYPES: dict[int, dict[str, int]] = {
    TYPE_APP: {
        "factory": SUBTYPE_APP_FACTORY,
        **{f"ota_{n}": SUBTYPE_APP_OTA_MIN + n for n in range(MAX_OTA_SLOTS)},
        "test": 0x20,
        "tee_0": 0x30,  # ESP-TEE, ESP-IDF >= 5.5
        "tee_1": 0x31,
    },
    TYPE_DATA: {
        "ota": SUBTYPE_DATA_OTA,
        "phy": SUBTYPE_DATA_PHY,
        "nvs": SUBTYPE_DATA_NVS,
        "coredump": SUBTYPE_DATA_COREDUMP,
        "nvs_keys": 0x04,
        "efuse": 0x05,
        "undefined": SUBTYPE_DATA_UNDEFINED,  # what an empty CSV subtype means for non-app types
        "esphttpd": 0x80,
        "fat": SUBTYPE_DATA_FAT,
        "spiffs": SUBTYPE_DATA_SPIFFS,
        "littlefs": SUBTYPE_DATA_LITTLEFS,
        "tee_ota": SUBTYPE_DATA_TEE_OTA,
    },
    TYPE_BOOTLOADER: {"primary": 0x00, "ota": 0x01, "recovery": 0x02},
    TYPE_PARTITION_TABLE: {"primary": 0x00, "ota": 0x01},
}
"""Subtype keywords per type (gen_esp32part ``SUBTYPES``, esp_partition.h). Each value has one
name, so the reverse lookup is unambiguous."""

FLAGS: dict[str, int] = {"encrypted": 1 << 0, "readonly": 1 << 1}
"""Flag names and their bit MASKS in the ``flags`` word (gen_esp32part stores bit numbers)."""

# Annotated Any: construct-typing types the ``"""doc""" * Struct(...)`` idiom as str.



PartitionInfo: Any = """esp_partition_info_t (32 bytes), esp_flash_partitions.h. ``label`` is
NUL-padded UTF-8 with no terminator when all 16 bytes are used; decoded leniently.""" * Struct(
    "magic" / Const(MAGIC),
    "type" / Int8ul,
    "subtype" / Int8ul,
    "offset" / Int32ul,
    "size" / Int32ul,
    "label" / Bytes(LABEL_SIZE),
    "flags" / Int32ul,
)
Md5Record: Any = """MD5 record (32 bytes, gen_esp32part ``MD5_PARTITION_BEGIN``): 0xEBEB,
14 bytes of 0xFF kept as read, then the MD5 of all preceding records at
``ESP_PARTITION_MD5_OFFSET`` (16). The digest is a plain field so a mismatch can be
reported instead of raised.""" * Struct(
    "magic" / Const(MD5_MAGIC),
    "padding" / Bytes(14),
    "digest" / Bytes(16),
)
