"""Generated from :mod:`esp_image.formats.esp32_image`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from dataclasses import dataclass
from struct import Struct

from .._records import Record, bad_magic, check_bits, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAGIC = 0xE9
CHECKSUM_SEED = 0xEF
MAX_SEGMENTS = 16
DIGEST_SIZE = 32
SEGMENT_MAX_LEN = 0x1000000
LOADED_ADDR_MIN = 0x10000000
SPI_MODES = {0: 'qio', 1: 'qout', 2: 'dio', 3: 'dout', 4: 'fast_read', 5: 'slow_read'}
SBV2_MAGIC = 0xE7
SBV2_SECTOR_SIZE = 0x1000
SBV2_CRC_COVERS = 0x4AC
SBV2_VERSION_RSA = 2
SBV2_VERSION_ECDSA = 3
SBV2_RSA_KEY_SIZE = 0x308


@dataclass(frozen=True, slots=True)
class ImageHeader(Record):
    """esp_image_header_t (24 bytes). spi_speed is the LOW nibble of
    byte 3 (C bitfield ``spi_speed:4; spi_size:4``); BitStruct is MSB first, so size comes
    first."""

    FIELDS = (
        'segment_count',
        'spi_mode',
        'spi_size',
        'spi_speed',
        'entry_addr',
        'wp_pin',
        'spi_pin_drv',
        'chip_id',
        'min_chip_rev',
        'min_chip_rev_full',
        'max_chip_rev_full',
        'reserved',
        'hash_appended',
    )
    NAME = 'esp32_image.ImageHeader'
    SIZE = 24
    _STRUCT = Struct('<1sBBBLB3sHBHH4sB')

    segment_count: int
    spi_mode: int
    spi_size: int
    spi_speed: int
    entry_addr: int
    wp_pin: int
    spi_pin_drv: bytes
    chip_id: int
    min_chip_rev: int
    min_chip_rev_full: int
    max_chip_rev_full: int
    reserved: bytes
    hash_appended: int

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> ImageHeader:
        if v[0] != b'\xe9':
            raise bad_magic(cls.NAME, offset, b'\xe9', v[0])
        return cls(
            v[1],
            v[2],
            v[3] >> 4 & 0xf,
            v[3] & 0xf,
            v[4],
            v[5],
            v[6],
            v[7],
            v[8],
            v[9],
            v[10],
            v[11],
            v[12],
        )

    def _values(self) -> tuple[Any, ...]:
        spi = (check_bits(self.NAME, 'spi_size', self.spi_size, 4) << 4
            | check_bits(self.NAME, 'spi_speed', self.spi_speed, 4))
        check_len(self.NAME, 'spi_pin_drv', self.spi_pin_drv, 3)
        check_len(self.NAME, 'reserved', self.reserved, 4)
        return (
            b'\xe9',
            self.segment_count,
            self.spi_mode,
            spi,
            self.entry_addr,
            self.wp_pin,
            self.spi_pin_drv,
            self.chip_id,
            self.min_chip_rev,
            self.min_chip_rev_full,
            self.max_chip_rev_full,
            self.reserved,
            self.hash_appended,
        )


class SegmentHeader(Record):
    """esp_image_segment_header_t (8 bytes)"""

    __slots__ = ('load_addr', 'data_len')
    FIELDS = __slots__
    NAME = 'esp32_image.SegmentHeader'
    SIZE = 8
    _STRUCT = Struct('<LL')

    load_addr: int
    data_len: int

    def __init__(self, load_addr: int, data_len: int) -> None:
        self.load_addr = load_addr
        self.data_len = data_len

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> SegmentHeader:
        return cls(v[0], v[1])

    def _values(self) -> tuple[Any, ...]:
        return (self.load_addr, self.data_len)


class SecureBootV1Block(Record):
    """esp_secure_boot_sig_block_t: version 0 then an ECDSA P-256 r||s
    signature (big-endian halves) over everything before the block."""

    __slots__ = ('version', 'signature')
    FIELDS = __slots__
    NAME = 'esp32_image.SecureBootV1Block'
    SIZE = 68
    _STRUCT = Struct('<L64s')

    version: int
    signature: bytes

    def __init__(self, version: int, signature: bytes) -> None:
        self.version = version
        self.signature = signature

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> SecureBootV1Block:
        return cls(v[0], v[1])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'signature', self.signature, 64)
        return (self.version, self.signature)


class SignatureBlockV2(Record):
    """ets_secure_boot_sig_block_t (1216 bytes). Bytes 2-3 are padding
    for RSA and (sha_version, padding) for ECDSA; ``body`` holds the digest, key and signature,
    whose layout depends on the scheme (decoded in the model). ``block_crc`` is zlib.crc32 of
    bytes 0..1195."""

    __slots__ = ('version', 'sha_version', '_pad', 'body', 'block_crc', '_pad2')
    FIELDS = __slots__
    NAME = 'esp32_image.SignatureBlockV2'
    SIZE = 1216
    _STRUCT = Struct('<1sBB1s1192sL16s')

    version: int
    sha_version: int
    _pad: bytes
    body: bytes
    block_crc: int
    _pad2: bytes

    def __init__(
        self,
        version: int,
        sha_version: int,
        _pad: bytes,
        body: bytes,
        block_crc: int,
        _pad2: bytes,
    ) -> None:
        self.version = version
        self.sha_version = sha_version
        self._pad = _pad
        self.body = body
        self.block_crc = block_crc
        self._pad2 = _pad2

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> SignatureBlockV2:
        if v[0] != b'\xe7':
            raise bad_magic(cls.NAME, offset, b'\xe7', v[0])
        return cls(v[1], v[2], v[3], v[4], v[5], v[6])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, '_pad', self._pad, 1)
        check_len(self.NAME, 'body', self.body, 1192)
        check_len(self.NAME, '_pad2', self._pad2, 16)
        return (
            b'\xe7',
            self.version,
            self.sha_version,
            self._pad,
            self.body,
            self.block_crc,
            self._pad2,
        )
