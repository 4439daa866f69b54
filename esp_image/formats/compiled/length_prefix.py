"""Generated from :mod:`esp_image.formats.length_prefix`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PREFIX_SIZE = 4
IMAGE_MAGICS = (233, 234)
MIN_IMAGE = 24


class LengthWord(Record):
    """u32 length of the image that follows"""

    __slots__ = ('length',)
    FIELDS = __slots__
    NAME = 'length_prefix.LengthWord'
    SIZE = 4
    _STRUCT = Struct('<L')

    length: int

    def __init__(self, length: int) -> None:
        self.length = length

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> LengthWord:
        return cls(v[0])

    def _values(self) -> tuple[Any, ...]:
        return (self.length,)
