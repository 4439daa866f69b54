"""An image behind a bare 4-byte little-endian length word.

The word has no magic, so the claim is narrow: the word equals the number of bytes after it
exactly, and those bytes start with an image magic (0xE9 or 0xEA).
"""

from __future__ import annotations

from ..checks import Check
from ..errors import FormatError
from ..formats.compiled import length_prefix as fmt
from . import Unwrapped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import Kind

KIND: Kind = "length-prefixed"


def looks_like(data: bytes | memoryview) -> bool:
    """The length word equals ``len(data) - 4`` and an image magic follows it."""
    if len(data) < fmt.PREFIX_SIZE + fmt.MIN_IMAGE:
        return False
    length = int.from_bytes(data[:fmt.PREFIX_SIZE], "little")
    return length == len(data) - fmt.PREFIX_SIZE and data[fmt.PREFIX_SIZE] in fmt.IMAGE_MAGICS


def open(data: bytes | memoryview, key: bytes | None = None) -> Unwrapped:
    """Slice the image out from behind its length word.

    Raises:
        FormatError: :func:`looks_like` does not hold.
    """
    del key
    if not looks_like(data):
        raise FormatError("no 4-byte length equal to the rest of the file followed by an image "
                          "magic (0xE9/0xEA)", 0, "length prefix")
    length = fmt.LengthWord.parse(data, 0).length
    inner = bytes(data[fmt.PREFIX_SIZE:])
    check = Check("structure", True, 0,
                  f"length word {length:#x} = the {length} bytes that follow; image magic "
                  f"{inner[0]:#04x} at {fmt.PREFIX_SIZE:#x}")
    return Unwrapped(KIND, {"length": length}, inner, fmt.PREFIX_SIZE, False, (check,))
