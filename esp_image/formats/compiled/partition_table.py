"""Generated from :mod:`esp_image.formats.partition_table`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record, bad_magic, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAGIC = b'\xaaP'
MD5_MAGIC = b'\xeb\xeb'
RECORD_SIZE = 32
LABEL_SIZE = 16
TABLE_MAX_LEN = 0xC00
TABLE_SECTOR = 0x1000
END_MARKER = b'\xff' * 32
DEFAULT_TABLE_OFFSET = 0x8000
MAX_RECORDS = 0x60
MD5_PADDING = b'\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'
APP_ALIGN = 0x10000
DATA_ALIGN = 0x1000
OTADATA_SIZE = 0x2000
NVS_RW_MIN_SIZE = 0x3000
MAX_OTA_SLOTS = 16
TYPE_APP = 0
TYPE_DATA = 1
TYPE_BOOTLOADER = 2
TYPE_PARTITION_TABLE = 3
SUBTYPE_APP_FACTORY = 0
SUBTYPE_APP_OTA_MIN = 16
SUBTYPE_APP_OTA_MAX = 31
SUBTYPE_DATA_OTA = 0
SUBTYPE_DATA_COREDUMP = 3
SUBTYPE_DATA_PHY = 1
SUBTYPE_DATA_NVS = 2
SUBTYPE_DATA_UNDEFINED = 6
SUBTYPE_DATA_FAT = 0x81
SUBTYPE_DATA_SPIFFS = 0x82
SUBTYPE_DATA_LITTLEFS = 0x83
SUBTYPE_DATA_TEE_OTA = 0x90
SUBTYPE_PRIMARY = 0
TYPES = {'app': 0, 'data': 1, 'bootloader': 2, 'partition_table': 3}
SUBTYPES = {0: {'factory': 0,
     'ota_0': 16,
     'ota_1': 17,
     'ota_2': 18,
     'ota_3': 19,
     'ota_4': 20,
     'ota_5': 21,
     'ota_6': 22,
     'ota_7': 23,
     'ota_8': 24,
     'ota_9': 25,
     'ota_10': 26,
     'ota_11': 27,
     'ota_12': 28,
     'ota_13': 29,
     'ota_14': 30,
     'ota_15': 31,
     'test': 32,
     'tee_0': 48,
     'tee_1': 49},
 1: {'ota': 0,
     'phy': 1,
     'nvs': 2,
     'coredump': 3,
     'nvs_keys': 4,
     'efuse': 5,
     'undefined': 6,
     'esphttpd': 128,
     'fat': 129,
     'spiffs': 130,
     'littlefs': 131,
     'tee_ota': 144},
 2: {'primary': 0, 'ota': 1, 'recovery': 2},
 3: {'primary': 0, 'ota': 1}}
FLAGS = {'encrypted': 1, 'readonly': 2}


class PartitionInfo(Record):
    """esp_partition_info_t (32 bytes), esp_flash_partitions.h. ``label`` is
    NUL-padded UTF-8 with no terminator when all 16 bytes are used; decoded leniently."""

    __slots__ = ('type', 'subtype', 'offset', 'size', 'label', 'flags')
    FIELDS = __slots__
    NAME = 'partition_table.PartitionInfo'
    SIZE = 32
    _STRUCT = Struct('<2sBBLL16sL')

    type: int
    subtype: int
    offset: int
    size: int
    label: bytes
    flags: int

    def __init__(
        self,
        type: int,
        subtype: int,
        offset: int,
        size: int,
        label: bytes,
        flags: int,
    ) -> None:
        self.type = type
        self.subtype = subtype
        self.offset = offset
        self.size = size
        self.label = label
        self.flags = flags

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> PartitionInfo:
        if v[0] != b'\xaaP':
            raise bad_magic(cls.NAME, offset, b'\xaaP', v[0])
        return cls(v[1], v[2], v[3], v[4], v[5], v[6])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'label', self.label, 16)
        return (b'\xaaP', self.type, self.subtype, self.offset, self.size, self.label, self.flags)


class Md5Record(Record):
    """MD5 record (32 bytes, gen_esp32part ``MD5_PARTITION_BEGIN``): 0xEBEB,
    14 bytes of 0xFF kept as read, then the MD5 of all preceding records at
    ``ESP_PARTITION_MD5_OFFSET`` (16). The digest is a plain field so a mismatch can be
    reported instead of raised."""

    __slots__ = ('padding', 'digest')
    FIELDS = __slots__
    NAME = 'partition_table.Md5Record'
    SIZE = 32
    _STRUCT = Struct('<2s14s16s')

    padding: bytes
    digest: bytes

    def __init__(self, padding: bytes, digest: bytes) -> None:
        self.padding = padding
        self.digest = digest

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> Md5Record:
        if v[0] != b'\xeb\xeb':
            raise bad_magic(cls.NAME, offset, b'\xeb\xeb', v[0])
        return cls(v[1], v[2])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'padding', self.padding, 14)
        check_len(self.NAME, 'digest', self.digest, 16)
        return (b'\xeb\xeb', self.padding, self.digest)
