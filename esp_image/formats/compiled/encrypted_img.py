"""Generated from :mod:`esp_image.formats.encrypted_img`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAGIC = 0x788B6CF
HEADER_SIZE = 0x200
KEY_BLOCK_SIZE = 0x180
GCM_KEY_SIZE = 32
IV_SIZE = 16
AUTH_SIZE = 16
RESERVED_SIZE = 0x58
ECC_POINT_SIZE = 0x40
KDF_SALT_SIZE = 32
ECC_RESERVED_SIZE = 0x120
HKDF_INFO = b'_esp_enc_img_ecc'
PBKDF2_SALT = b'\x0e!`d-\xaev\xd34H\xe4=w \x12=\x9f;\x1e\xce\xb8\x8eW:N\x8f\x7f\xb9O\xf0\xc8i'
PBKDF2_ITERATIONS = 0x800
HMAC_KEY_SIZE = 32


class PreEncHeader(Record):
    """``pre_enc_bin_header``: 512 bytes before the ciphertext."""

    __slots__ = ('magic', 'key_block', 'iv', 'bin_size', 'auth', 'reserved')
    FIELDS = __slots__
    NAME = 'encrypted_img.PreEncHeader'
    SIZE = 512
    _STRUCT = Struct('<L384s16sL16s88s')

    magic: int
    key_block: bytes
    iv: bytes
    bin_size: int
    auth: bytes
    reserved: bytes

    def __init__(
        self,
        magic: int,
        key_block: bytes,
        iv: bytes,
        bin_size: int,
        auth: bytes,
        reserved: bytes,
    ) -> None:
        self.magic = magic
        self.key_block = key_block
        self.iv = iv
        self.bin_size = bin_size
        self.auth = auth
        self.reserved = reserved

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> PreEncHeader:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'key_block', self.key_block, 384)
        check_len(self.NAME, 'iv', self.iv, 16)
        check_len(self.NAME, 'auth', self.auth, 16)
        check_len(self.NAME, 'reserved', self.reserved, 88)
        return (self.magic, self.key_block, self.iv, self.bin_size, self.auth, self.reserved)


class EciesKeyBlock(Record):
    """The key block of the ECC-256 (ECIES) form: the server's ephemeral P-256
    public point (X || Y, no 0x04 prefix), the HKDF salt, zero bytes."""

    __slots__ = ('server_point', 'kdf_salt', 'reserved')
    FIELDS = __slots__
    NAME = 'encrypted_img.EciesKeyBlock'
    SIZE = 384
    _STRUCT = Struct('<64s32s288s')

    server_point: bytes
    kdf_salt: bytes
    reserved: bytes

    def __init__(self, server_point: bytes, kdf_salt: bytes, reserved: bytes) -> None:
        self.server_point = server_point
        self.kdf_salt = kdf_salt
        self.reserved = reserved

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> EciesKeyBlock:
        return cls(v[0], v[1], v[2])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'server_point', self.server_point, 64)
        check_len(self.NAME, 'kdf_salt', self.kdf_salt, 32)
        check_len(self.NAME, 'reserved', self.reserved, 288)
        return (self.server_point, self.kdf_salt, self.reserved)
