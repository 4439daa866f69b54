"""An image behind a plain 4-byte little-endian length word (the length of what follows).

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

PREFIX_SIZE = 4
IMAGE_MAGICS = (0xE9, 0xEA)
"""What the prefixed bytes must start with: an ESP32-family/ESP8266 v1 or ESP8266 v2 image."""
MIN_IMAGE = 24
"""Smallest image worth a claim: an ESP32 header (24 bytes) or ESP8266 header plus a segment."""

LengthWord: Any = "u32 length of the image that follows" * Struct(
    "length" / Int32ul,
)
