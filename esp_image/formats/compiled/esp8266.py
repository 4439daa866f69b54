"""Generated from :mod:`esp_image.formats.esp8266`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record, bad_magic, check_bits, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAGIC_V1 = 0xE9
MAGIC_V2 = 0xEA
V2_SEGMENT_COUNT = 4
CHECKSUM_SEED = 0xEF
MAX_SEGMENTS = 16
SEGMENT_MAX_LEN = 0x1000000
DIGEST_SIZE = 32
IROM_MAP_START = 0x40200000
IROM_MAP_END = 0x40300000
IROM_WINDOW = 0x100000
FLASH_MODES = {0: 'qio', 1: 'qout', 2: 'dio', 3: 'dout'}
FLASH_FREQS = {0: '40m', 1: '26m', 2: '20m', 15: '80m'}
KB = 0x400
MB = 0x100000
FLASH_SIZE_CODES = {0: ('512KB', '4m', 524288, 262144, True),
 1: ('256KB', '2m', 262144, None, True),
 2: ('1MB', '8m', 1048576, 524288, True),
 3: ('2MB', '16m', 2097152, 524288, True),
 4: ('4MB', '32m', 4194304, 524288, True),
 5: ('2MB-c1', '16m-c1', 2097152, 1048576, True),
 6: ('4MB-c1', '32m-c1', 4194304, 1048576, True),
 7: ('4MB-c2', '32m-c2', 4194304, 2097152, False),
 8: ('8MB', None, 8388608, 1048576, True),
 9: ('16MB', None, 16777216, 1048576, True)}
SDK_MAP_NAMES = {0: 'FLASH_SIZE_4M_MAP_256_256',
 1: 'FLASH_SIZE_2M',
 2: 'FLASH_SIZE_8M_MAP_512_512',
 3: 'FLASH_SIZE_16M_MAP_512_512',
 4: 'FLASH_SIZE_32M_MAP_512_512',
 5: 'FLASH_SIZE_16M_MAP_1024_1024',
 6: 'FLASH_SIZE_32M_MAP_1024_1024',
 7: 'FLASH_SIZE_32M_MAP_2048_2048',
 8: 'FLASH_SIZE_64M_MAP_1024_1024',
 9: 'FLASH_SIZE_128M_MAP_1024_1024'}
INIT_DATA_SIZE = 0x80
INIT_DATA_MARKER = 5
VDD33_CONST_OFFSET = 0x6B
RF_CAL_MODE_OFFSET = 0x72
SYS_PARAM_SECTORS = 3
FLAG_MAGIC1 = 0x55AA55AA
FLAG_MAGIC2 = 0xAA55AA55


class ImageHeader(Record):
    """ESP8266 v1 image header (8 bytes; also the RTOS SDK v3 header and the inner
    header of a v2 image). Byte 3: size/map code in the HIGH nibble, clock in the low nibble;
    BitStruct is MSB first, so flash_size is listed first."""

    __slots__ = ('segment_count', 'flash_mode', 'flash_size', 'flash_freq', 'entry')
    FIELDS = __slots__
    NAME = 'esp8266.ImageHeader'
    SIZE = 8
    _STRUCT = Struct('<1sBBBL')

    segment_count: int
    flash_mode: int
    flash_size: int
    flash_freq: int
    entry: int

    def __init__(
        self,
        segment_count: int,
        flash_mode: int,
        flash_size: int,
        flash_freq: int,
        entry: int,
    ) -> None:
        self.segment_count = segment_count
        self.flash_mode = flash_mode
        self.flash_size = flash_size
        self.flash_freq = flash_freq
        self.entry = entry

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> ImageHeader:
        if v[0] != b'\xe9':
            raise bad_magic(cls.NAME, offset, b'\xe9', v[0])
        return cls(v[1], v[2], v[3] >> 4 & 0xf, v[3] & 0xf, v[4])

    def _values(self) -> tuple[Any, ...]:
        flash = (check_bits(self.NAME, 'flash_size', self.flash_size, 4) << 4
            | check_bits(self.NAME, 'flash_freq', self.flash_freq, 4))
        return (b'\xe9', self.segment_count, self.flash_mode, flash, self.entry)


class SegmentHeader(Record):
    """ESP8266 segment header (8 bytes): the same bytes as
    esp32_image.SegmentHeader, which the shared container walker reads for every family."""

    __slots__ = ('load_addr', 'length')
    FIELDS = __slots__
    NAME = 'esp8266.SegmentHeader'
    SIZE = 8
    _STRUCT = Struct('<LL')

    load_addr: int
    length: int

    def __init__(self, load_addr: int, length: int) -> None:
        self.load_addr = load_addr
        self.length = length

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> SegmentHeader:
        return cls(v[0], v[1])

    def _values(self) -> tuple[Any, ...]:
        return (self.load_addr, self.length)


class V2Header(Record):
    """ESP8266 v2 (0xEA) outer header plus the irom segment header (16 bytes).
    Bytes 2-3 are flash_mode / flash_size_freq in esptool's writer, but 0x00 and the user-bin
    number (1 or 2) in Espressif's gen_appbin; the model decides which."""

    __slots__ = ('segment_count', 'byte2', 'byte3', 'entry', 'irom_addr', 'irom_len')
    FIELDS = __slots__
    NAME = 'esp8266.V2Header'
    SIZE = 16
    _STRUCT = Struct('<1sBBBLLL')

    segment_count: int
    byte2: int
    byte3: int
    entry: int
    irom_addr: int
    irom_len: int

    def __init__(
        self,
        segment_count: int,
        byte2: int,
        byte3: int,
        entry: int,
        irom_addr: int,
        irom_len: int,
    ) -> None:
        self.segment_count = segment_count
        self.byte2 = byte2
        self.byte3 = byte3
        self.entry = entry
        self.irom_addr = irom_addr
        self.irom_len = irom_len

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> V2Header:
        if v[0] != b'\xea':
            raise bad_magic(cls.NAME, offset, b'\xea', v[0])
        return cls(v[1], v[2], v[3], v[4], v[5], v[6])

    def _values(self) -> tuple[Any, ...]:
        return (
            b'\xea',
            self.segment_count,
            self.byte2,
            self.byte3,
            self.entry,
            self.irom_addr,
            self.irom_len,
        )


class CrcTrailer(Record):
    """v2 CRC32 trailer: esp8266_crc32(file[:-4]) (esp8266.md §4)"""

    __slots__ = ('crc32',)
    FIELDS = __slots__
    NAME = 'esp8266.CrcTrailer'
    SIZE = 4
    _STRUCT = Struct('<L')

    crc32: int

    def __init__(self, crc32: int) -> None:
        self.crc32 = crc32

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> CrcTrailer:
        return cls(v[0])

    def _values(self) -> tuple[Any, ...]:
        return (self.crc32,)


class InitData(Record):
    """esp_init_data_default (128 bytes, esp_phy_init.h ``uint8_t params[128]``).
    Byte 0 is 0x05, byte 1 the version (0x00 in v05, 0x08 in v08), byte 107 vdd33_const (ADC
    mode), byte 114 the power-up RF calibration mode (inferred)."""

    __slots__ = (
        'marker',
        'version',
        'params_2',
        'vdd33_const',
        'params_108',
        'rf_cal_mode',
        'params_115',
    )
    FIELDS = __slots__
    NAME = 'esp8266.InitData'
    SIZE = 128
    _STRUCT = Struct('<BB105sB6sB13s')

    marker: int
    version: int
    params_2: bytes
    vdd33_const: int
    params_108: bytes
    rf_cal_mode: int
    params_115: bytes

    def __init__(
        self,
        marker: int,
        version: int,
        params_2: bytes,
        vdd33_const: int,
        params_108: bytes,
        rf_cal_mode: int,
        params_115: bytes,
    ) -> None:
        self.marker = marker
        self.version = version
        self.params_2 = params_2
        self.vdd33_const = vdd33_const
        self.params_108 = params_108
        self.rf_cal_mode = rf_cal_mode
        self.params_115 = params_115

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> InitData:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5], v[6])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'params_2', self.params_2, 105)
        check_len(self.NAME, 'params_108', self.params_108, 6)
        check_len(self.NAME, 'params_115', self.params_115, 13)
        return (
            self.marker,
            self.version,
            self.params_2,
            self.vdd33_const,
            self.params_108,
            self.rf_cal_mode,
            self.params_115,
        )


class SysParam(Record):
    """Flag record at the start of the flag sector (port.c ``sys_param_t``, 32 bytes):
    ``flag == 0`` selects save copy 0, any other value (erased 0xFF too) copy 1. The rest is
    ``reserved`` in port.c; NONOS 3.x fills it with magic1 0x55AA55AA, a write counter, two
    lengths, two checksums and magic2 0xAA55AA55 (reverse-engineered, inferred)."""

    __slots__ = ('flag', 'reserved1', 'reserved2')
    FIELDS = __slots__
    NAME = 'esp8266.SysParam'
    SIZE = 32
    _STRUCT = Struct('<B3sLLLLLLL')

    flag: int
    reserved1: bytes
    reserved2: tuple[int, ...]

    def __init__(self, flag: int, reserved1: bytes, reserved2: tuple[int, ...]) -> None:
        self.flag = flag
        self.reserved1 = reserved1
        self.reserved2 = reserved2

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> SysParam:
        return cls(v[0], v[1], tuple(v[2:9]))

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'reserved1', self.reserved1, 3)
        check_len(self.NAME, 'reserved2', self.reserved2, 7)
        return (self.flag, self.reserved1, *self.reserved2)


class BootHdr(Record):
    """struct boot_hdr (8 bytes at the start of the live save sector; port.c
    ``boot_param_t.boot_base``). C bitfields are LSB first; BitStruct is MSB first, so each byte
    lists its fields from the high bit down."""

    __slots__ = (
        'reserved',
        'to_qio',
        'boot_status',
        'usr_bin',
        'enhance_boot_flag',
        'test_start_flag',
        'test_pass_flag',
        'version',
        'test_bin_addr',
        'user_bin_addr',
    )
    FIELDS = __slots__
    NAME = 'esp8266.BootHdr'
    SIZE = 8
    _STRUCT = Struct('<BB3s3s')

    reserved: int
    to_qio: bool
    boot_status: int
    usr_bin: int
    enhance_boot_flag: bool
    test_start_flag: bool
    test_pass_flag: bool
    version: int
    test_bin_addr: int
    user_bin_addr: int

    def __init__(
        self,
        reserved: int,
        to_qio: bool,
        boot_status: int,
        usr_bin: int,
        enhance_boot_flag: bool,
        test_start_flag: bool,
        test_pass_flag: bool,
        version: int,
        test_bin_addr: int,
        user_bin_addr: int,
    ) -> None:
        self.reserved = reserved
        self.to_qio = to_qio
        self.boot_status = boot_status
        self.usr_bin = usr_bin
        self.enhance_boot_flag = enhance_boot_flag
        self.test_start_flag = test_start_flag
        self.test_pass_flag = test_pass_flag
        self.version = version
        self.test_bin_addr = test_bin_addr
        self.user_bin_addr = user_bin_addr

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> BootHdr:
        return cls(
            v[0] >> 4 & 0xf,
            bool(v[0] >> 3 & 0x1),
            v[0] >> 2 & 0x1,
            v[0] & 0x3,
            bool(v[1] >> 7 & 0x1),
            bool(v[1] >> 6 & 0x1),
            bool(v[1] >> 5 & 0x1),
            v[1] & 0x1f,
            int.from_bytes(v[2], "little"),
            int.from_bytes(v[3], "little"),
        )

    def _values(self) -> tuple[Any, ...]:
        b0 = (check_bits(self.NAME, 'reserved', self.reserved, 4) << 4
            | int(self.to_qio) << 3
            | check_bits(self.NAME, 'boot_status', self.boot_status, 1) << 2
            | check_bits(self.NAME, 'usr_bin', self.usr_bin, 2))
        b1 = (int(self.enhance_boot_flag) << 7
            | int(self.test_start_flag) << 6
            | int(self.test_pass_flag) << 5
            | check_bits(self.NAME, 'version', self.version, 5))
        return (
            b0,
            b1,
            self.test_bin_addr.to_bytes(3, "little"),
            self.user_bin_addr.to_bytes(3, "little"),
        )
