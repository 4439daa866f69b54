"""Generated from :mod:`esp_image.formats.otadata`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

import zlib
from struct import Struct

from .._records import Record, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

OTADATA_SIZE = 0x2000
SECTOR = 0x1000
ENTRY_SIZE = 32
SEQ_LABEL_SIZE = 20
TAIL_SIZE = 0xFE0
ERASED_TAIL = b'\xff' * 4064
ERASED_LABEL = b'\xff' * 20
NEW = 0
PENDING_VERIFY = 1
VALID = 2
INVALID = 3
ABORTED = 4
UNDEFINED = 0xFFFFFFFF
STATE_NAMES = {0: 'new',
 1: 'pending_verify',
 2: 'valid',
 3: 'invalid',
 4: 'aborted',
 4294967295: 'undefined'}
SEQ_ERASED = 0xFFFFFFFF
U32_MASK = 0xFFFFFFFF
CRC_POLY = 0x104C11DB7
CRC_INIT_CRCMOD = 0xFFFFFFFF
CRC_REV = True
CRC_XOR_OUT = 0xFFFFFFFF
CRC_CHECK = 0xD202D277
CRCMOD_PARAMS = {'poly': 4374732215, 'initCrc': 4294967295, 'rev': True, 'xorOut': 4294967295}


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


class OtaSelectEntry(Record):
    """``esp_ota_select_entry_t`` (esp_flash_partitions.h), 32 bytes.

    ``ota_state`` stays an integer (unknown values exist); ``crc`` is a plain field holding what
    is stored (CRC of the 4 bytes of ``ota_seq`` only, see :func:`ota_crc`)."""

    __slots__ = ('ota_seq', 'seq_label', 'ota_state', 'crc')
    FIELDS = __slots__
    NAME = 'otadata.OtaSelectEntry'
    SIZE = 32
    _STRUCT = Struct('<L20sLL')

    ota_seq: int
    seq_label: bytes
    ota_state: int
    crc: int

    def __init__(self, ota_seq: int, seq_label: bytes, ota_state: int, crc: int) -> None:
        self.ota_seq = ota_seq
        self.seq_label = seq_label
        self.ota_state = ota_state
        self.crc = crc

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> OtaSelectEntry:
        return cls(v[0], v[1], v[2], v[3])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'seq_label', self.seq_label, 20)
        return (self.ota_seq, self.seq_label, self.ota_state, self.crc)


class OtaSelectSector(Record):
    """One 4 KiB otadata sector: the record, then the rest of the sector kept
    byte for byte (erased flash, 0xFF, when built without a ``tail``)."""

    __slots__ = ('entry', 'tail')
    FIELDS = __slots__
    NAME = 'otadata.OtaSelectSector'
    SIZE = 4096
    _STRUCT = Struct('<L20sLL4064s')

    entry: OtaSelectEntry
    tail: bytes

    def __init__(self, entry: OtaSelectEntry, tail: bytes = b'\xff' * 4064) -> None:
        self.entry = entry
        self.tail = tail

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> OtaSelectSector:
        return cls(OtaSelectEntry._from_values(v[0:4], offset), v[4])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'tail', self.tail, 4064)
        return (*self.entry._values(), self.tail)


class OtaData(Record):
    """The whole 0x2000-byte otadata partition: copy 0 at +0x0000, copy 1 at
    +0x1000."""

    __slots__ = ('copies',)
    FIELDS = __slots__
    NAME = 'otadata.OtaData'
    SIZE = 8192
    _STRUCT = Struct('<L20sLL4064sL20sLL4064s')

    copies: tuple[OtaSelectSector, ...]

    def __init__(self, copies: tuple[OtaSelectSector, ...]) -> None:
        self.copies = copies

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> OtaData:
        return cls(
            tuple(OtaSelectSector._from_values(v[i:i + 5], offset) for i in range(0, 10, 5)),
        )

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'copies', self.copies, 2)
        return (*(x for r in self.copies for x in r._values()),)
