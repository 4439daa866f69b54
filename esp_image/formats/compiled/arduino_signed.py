"""Generated from :mod:`esp_image.formats.arduino_signed`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LENGTH_SIZE = 4
RSA_SIGNATURE_SIZES = (128, 256, 384, 512)
LEGACY_LENGTH_WORD = b'\x00\x01\x00\x00'
MAGIC_IMAGE = 0xE9
MAGIC_GZIP = b'\x1f\x8b'


class SignatureLength(Record):
    """u32 signature length, the last four bytes of the file"""

    __slots__ = ('length',)
    FIELDS = __slots__
    NAME = 'arduino_signed.SignatureLength'
    SIZE = 4
    _STRUCT = Struct('<L')

    length: int

    def __init__(self, length: int) -> None:
        self.length = length

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> SignatureLength:
        return cls(v[0])

    def _values(self) -> tuple[Any, ...]:
        return (self.length,)
