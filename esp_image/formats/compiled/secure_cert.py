"""Generated from :mod:`esp_image.formats.secure_cert`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAGIC = 0xBA5EBA11
MAGIC_BYTES = b'\x11\xba^\xba'
HEADER_SIZE = 12
FOOTER_SIZE = 4
ALIGNMENT = 16
PARTITION_TYPE = 63
PARTITION_NAME = 'esp_secure_cert'
INTEGRITY_SIZE = 32
TYPE_CA_CERT = 0
TYPE_DEV_CERT = 1
TYPE_PRIV_KEY = 2
TYPE_DS_DATA = 3
TYPE_DS_CONTEXT = 4
TYPE_HMAC_ECDSA_KEY_SALT = 5
TYPE_SEC_CFG = 6
TYPE_TEE_SEC_STORAGE_KEY = 7
TYPE_SIGNATURE_BLOCK = 8
TYPE_INTEGRITY = 9
TYPE_NAMES = {0: 'ca_cert',
 1: 'dev_cert',
 2: 'priv_key',
 3: 'ds_data',
 4: 'ds_context',
 5: 'hmac_ecdsa_key_salt',
 6: 'sec_cfg',
 7: 'tee_sec_storage_key',
 8: 'signature_block',
 9: 'integrity',
 51: 'user_data_1',
 52: 'user_data_2',
 53: 'user_data_3',
 54: 'user_data_4',
 55: 'user_data_5',
 201: 'matter_1',
 202: 'matter_2'}
FLAG_STORAGE_MASK = 0xC0
FLAG_HMAC_ENCRYPTION = 0x80
FLAG_HMAC_ECDSA_KEY_DERIVATION = 0x40
FLAG_KEY_MASK = 56
FLAG_KEY_ECDSA_PERIPHERAL = 8


def padding_length(length: int) -> int:
    """Zero bytes between ``length`` bytes of data and the footer (to a multiple of 16)."""
    return -length % ALIGNMENT


def tlv_size(length: int) -> int:
    """Bytes one TLV with ``length`` bytes of data takes: header, data, padding, footer."""
    return HEADER_SIZE + length + padding_length(length) + FOOTER_SIZE


class TlvHeader(Record):
    """``esp_secure_cert_tlv_header_t``, 12 bytes. ``magic`` is a plain field:
    the reader ends the chain at the first header without it."""

    __slots__ = ('magic', 'flags', 'reserved', 'type', 'subtype', 'length')
    FIELDS = __slots__
    NAME = 'secure_cert.TlvHeader'
    SIZE = 12
    _STRUCT = Struct('<LB3sBBH')

    magic: int
    flags: int
    reserved: bytes
    type: int
    subtype: int
    length: int

    def __init__(
        self,
        magic: int,
        flags: int,
        reserved: bytes,
        type: int,
        subtype: int,
        length: int,
    ) -> None:
        self.magic = magic
        self.flags = flags
        self.reserved = reserved
        self.type = type
        self.subtype = subtype
        self.length = length

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> TlvHeader:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'reserved', self.reserved, 3)
        return (self.magic, self.flags, self.reserved, self.type, self.subtype, self.length)


class TlvFooter(Record):
    """``esp_secure_cert_tlv_footer_t``: CRC-32 (``esp_crc32_le(UINT32_MAX, ...)``)
    of header, data and padding."""

    __slots__ = ('crc',)
    FIELDS = __slots__
    NAME = 'secure_cert.TlvFooter'
    SIZE = 4
    _STRUCT = Struct('<L')

    crc: int

    def __init__(self, crc: int) -> None:
        self.crc = crc

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> TlvFooter:
        return cls(v[0])

    def _values(self) -> tuple[Any, ...]:
        return (self.crc,)
