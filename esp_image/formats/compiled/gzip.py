"""Generated from :mod:`esp_image.formats.gzip`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAGIC = b'\x1f\x8b'
CM_DEFLATE = 8
FTEXT = 1
FHCRC = 2
FEXTRA = 4
FNAME = 8
FCOMMENT = 16
FLAGS_RESERVED = 0xE0
TRAILER_SIZE = 8
NAME_MAX = 0x400
OS_NAMES = {0: 'FAT', 3: 'Unix', 7: 'Macintosh', 11: 'NTFS', 255: 'unknown'}


class MemberHeader(Record):
    """RFC 1952 fixed member header, 10 bytes (optional fields follow when
    the flags say so)."""

    __slots__ = ('id', 'cm', 'flg', 'mtime', 'xfl', 'os')
    FIELDS = __slots__
    NAME = 'gzip.MemberHeader'
    SIZE = 10
    _STRUCT = Struct('<HBBLBB')

    id: int
    cm: int
    flg: int
    mtime: int
    xfl: int
    os: int

    def __init__(self, id: int, cm: int, flg: int, mtime: int, xfl: int, os: int) -> None:
        self.id = id
        self.cm = cm
        self.flg = flg
        self.mtime = mtime
        self.xfl = xfl
        self.os = os

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> MemberHeader:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5])

    def _values(self) -> tuple[Any, ...]:
        return (self.id, self.cm, self.flg, self.mtime, self.xfl, self.os)


class MemberTrailer(Record):
    """RFC 1952 member trailer: CRC-32 of the data, then its size mod 2**32"""

    __slots__ = ('crc32', 'isize')
    FIELDS = __slots__
    NAME = 'gzip.MemberTrailer'
    SIZE = 8
    _STRUCT = Struct('<LL')

    crc32: int
    isize: int

    def __init__(self, crc32: int, isize: int) -> None:
        self.crc32 = crc32
        self.isize = isize

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> MemberTrailer:
        return cls(v[0], v[1])

    def _values(self) -> tuple[Any, ...]:
        return (self.crc32, self.isize)


class ExtraLength(Record):
    """XLEN before the FEXTRA field"""

    __slots__ = ('xlen',)
    FIELDS = __slots__
    NAME = 'gzip.ExtraLength'
    SIZE = 2
    _STRUCT = Struct('<H')

    xlen: int

    def __init__(self, xlen: int) -> None:
        self.xlen = xlen

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> ExtraLength:
        return cls(v[0])

    def _values(self) -> tuple[Any, ...]:
        return (self.xlen,)
