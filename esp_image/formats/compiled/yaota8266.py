"""Generated from :mod:`esp_image.formats.yaota8266`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BOOT8266_MAX_SIZE = 0x1000
OTA_SERVER_OFFSET = 0x1000
OTA_IROM_OFFSET = 0x9000
OTA_IROM_MAX = 0x33000
OTA_SERVER_MIN_EXCL = 0x7000
OTA_SERVER_MAX = 0x8000
MAIN_APP_OFFSET = 0x3C000
MERGE_ALIGN = 0x1000
PARAM_PAGE_OFFSET = 0xEF0
PARAM_FILE_OFFSET = 0xF00
GPIO_MASK_DEFAULT = 0xF035
GPIO_WAIT_MS_DEFAULT = 0xBB8
MAX_APP_SIZE = 0xC3500
RTC_REQUEST_WORDS = (1953456505, 1635020641)
RTC_REQUEST_CONSUMED = 0x746F617A
IRAM_START = 0x40100000
IRAM_END = 0x40108000
SEGS_MAX_SIZE = 0x9000
SIZE_WORD_OFFSET = 0x8FFC
MD5_SKIP = 4
MD5_SIZE = 16
MIN_PADDING = 4
OTA_FILE_MAGIC = b'yaota8266\x01'
BLK_SIZE = 0x100
SIGNATURE_SIZE = 0x40
SHA1_SIZE = 20
BODY_ALIGN = 16
UDP_PORT = 0x204A
SERVER_BUFFER = 0x1000
PKT_WAIT_MS = 0x2710
END_MARKERS = 3


def body_size(data_len: int) -> int:
    """Size of the signed body for ``data_len`` data bytes (8-byte header + data, padded)."""
    raw = 8 + data_len
    return raw + (-raw) % BODY_ALIGN


class Boot8266Param(Record):
    """The ``.param`` section of boot8266 (CONFIG_PARAM variables, boot8266.c):
    u32 gpio_mask then u32 gpio_wait_ms, at file offset 0xF00 of boot8266.bin."""

    __slots__ = ('gpio_mask', 'gpio_wait_ms')
    FIELDS = __slots__
    NAME = 'yaota8266.Boot8266Param'
    SIZE = 8
    _STRUCT = Struct('<LL')

    gpio_mask: int
    gpio_wait_ms: int

    def __init__(self, gpio_mask: int, gpio_wait_ms: int) -> None:
        self.gpio_mask = gpio_mask
        self.gpio_wait_ms = gpio_wait_ms

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> Boot8266Param:
        return cls(v[0], v[1])

    def _values(self) -> tuple[Any, ...]:
        return (self.gpio_mask, self.gpio_wait_ms)


class SizeWord(Record):
    """makeimg.py size word at +0x8FFC: 0x9000 + irom length"""

    __slots__ = ('total',)
    FIELDS = __slots__
    NAME = 'yaota8266.SizeWord'
    SIZE = 4
    _STRUCT = Struct('<L')

    total: int

    def __init__(self, total: int) -> None:
        self.total = total

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> SizeWord:
        return cls(v[0])

    def _values(self) -> tuple[Any, ...]:
        return (self.total,)


class DatagramHeader(Record):
    """OTA datagram start (ota_client.py make_pkt/add_digest): u32 seq (not
    signed), then the signed body's u16 op, u16 len, u32 offset (relative to MAIN_APP_OFFSET)."""

    __slots__ = ('seq', 'op', 'len', 'offset')
    FIELDS = __slots__
    NAME = 'yaota8266.DatagramHeader'
    SIZE = 12
    _STRUCT = Struct('<LHHL')

    seq: int
    op: int
    len: int
    offset: int

    def __init__(self, seq: int, op: int, len: int, offset: int) -> None:
        self.seq = seq
        self.op = op
        self.len = len
        self.offset = offset

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> DatagramHeader:
        return cls(v[0], v[1], v[2], v[3])

    def _values(self) -> tuple[Any, ...]:
        return (self.seq, self.op, self.len, self.offset)


class RecordLength(Record):
    """u16 length before every .ota record; 0 terminates"""

    __slots__ = ('n',)
    FIELDS = __slots__
    NAME = 'yaota8266.RecordLength'
    SIZE = 2
    _STRUCT = Struct('<H')

    n: int

    def __init__(self, n: int) -> None:
        self.n = n

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> RecordLength:
        return cls(v[0])

    def _values(self) -> tuple[Any, ...]:
        return (self.n,)


class Ack(Record):
    """ota-server's answer to a data datagram it accepted (ota.c ``confirm``): the datagram's
    u32 seq, then its op, len and offset copied into a 16-byte block whose last 8 bytes the server
    never sets."""

    __slots__ = ('seq', 'op', 'len', 'offset', 'unset')
    FIELDS = __slots__
    NAME = 'yaota8266.Ack'
    SIZE = 20
    _STRUCT = Struct('<LHHL8s')

    seq: int
    op: int
    len: int
    offset: int
    unset: bytes

    def __init__(self, seq: int, op: int, len: int, offset: int, unset: bytes) -> None:
        self.seq = seq
        self.op = op
        self.len = len
        self.offset = offset
        self.unset = unset

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> Ack:
        return cls(v[0], v[1], v[2], v[3], v[4])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'unset', self.unset, 8)
        return (self.seq, self.op, self.len, self.offset, self.unset)
