"""Generated from :mod:`esp_image.formats.arduino`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

APP_START = 0x1000
EBOOT_PAD = 0xAA
CRC_IN_EBOOT_SECTOR = 0xFF8
CRC_IN_SKETCH = 0x1010
IROM_START = 0x40201010
CRC_POLY = 0x4C11DB7
CRC_INIT = 0xFFFFFFFF
CORE_RELEASES = {3238664672: '2.0.0',
 1521892815: '2.1.0',
 3727710460: '2.2.0',
 159542381: '2.3.0',
 1290452649: '2.4.0',
 1632599090: '2.4.1',
 3140015267: '2.4.2',
 2501570554: '2.5.0',
 2885857269: '2.5.1',
 2341051410: '2.5.2',
 1681834499: '2.6.0',
 1210390243: '2.6.1',
 3156232859: '2.6.2',
 1024626268: '2.6.3',
 2622942495: '2.7.0',
 2772641317: '2.7.1',
 969383323: '2.7.2',
 1564143973: '2.7.3',
 675521964: '2.7.4',
 4021302298: '3.0.0',
 3421786035: '3.0.1',
 3480220868: '3.0.2',
 2330132692: '3.1.0',
 240989580: '3.1.1',
 554211311: '3.1.2'}
FS_BLOCK_SMALL = 0x1000
FS_BLOCK_LARGE = 0x2000
FS_LARGE_FROM = 0x80000
EEPROM_FROM_END = 0x5000
RF_CAL_FROM_END = 0x4000
SDK_SETTINGS_FROM_END = 0x3000
FS_SIZES_KB = {524288: (32, 64, 128),
 1048576: (64, 128, 144, 160, 192, 256, 512),
 2097152: (64, 128, 256, 512, 1024),
 4194304: (1024, 2048, 3072),
 8388608: (6144, 7168),
 16777216: (14336, 15360)}


class CrcWords(Record):
    """elf2bin add_crc: the file length, then crc8266 of the file with both words zeroed"""

    __slots__ = ('length', 'crc')
    FIELDS = __slots__
    NAME = 'arduino.CrcWords'
    SIZE = 8
    _STRUCT = Struct('<LL')

    length: int
    crc: int

    def __init__(self, length: int, crc: int) -> None:
        self.length = length
        self.crc = crc

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> CrcWords:
        return cls(v[0], v[1])

    def _values(self) -> tuple[Any, ...]:
        return (self.length, self.crc)
