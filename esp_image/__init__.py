"""esp_image: inspect, verify and rewrite ESP8266 and ESP32-family firmware images.

    >>> from esp_image import Image
    >>> image = Image.open("fixtures/firmware-esp32-4MB.bin")
    >>> image.kind, image.chip.name, image.valid
    ('flash', 'esp32', True)

Public names are loaded on first use, so ``import esp_image`` itself costs almost nothing.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

__version__ = "0.1.0"

_EXPORTS = {
    "Image": "image",
    "Region": "image",
    "PartitionContent": "image",
    "AppImage": "app_image",
    "Esp8266Image": "esp8266",
    "PartitionTable": "partition_table",
    "Partition": "partition_table",
    "OtaData": "otadata",
    "OtaEntry": "otadata",
    "BootSelection": "otadata",
    "Check": "checks",
    "Issue": "checks",
    "Chip": "chips",
    "EspImageError": "errors",
    "InputError": "errors",
    "FormatError": "errors",
    "TruncatedError": "errors",
    "LayoutError": "errors",
    "ChecksumMismatch": "errors",
    "UnsupportedChip": "errors",
    "UsageError": "errors",
    "parse_size": "units",
    "format_size": "units",
}

__all__ = [
    "AppImage",
    "BootSelection",
    "Check",
    "ChecksumMismatch",
    "Chip",
    "Esp8266Image",
    "EspImageError",
    "FormatError",
    "Image",
    "InputError",
    "Issue",
    "LayoutError",
    "OtaData",
    "OtaEntry",
    "Partition",
    "PartitionContent",
    "PartitionTable",
    "Region",
    "TruncatedError",
    "UnsupportedChip",
    "UsageError",
    "__version__",
    "format_size",
    "parse_size",
]

if TYPE_CHECKING:
    from typing import Any

    from .app_image import AppImage
    from .checks import Check, Issue
    from .chips import Chip
    from .errors import (
        ChecksumMismatch,
        EspImageError,
        FormatError,
        InputError,
        LayoutError,
        TruncatedError,
        UnsupportedChip,
        UsageError,
    )
    from .esp8266 import Esp8266Image
    from .image import Image, PartitionContent, Region
    from .otadata import BootSelection, OtaData, OtaEntry
    from .partition_table import Partition, PartitionTable
    from .units import format_size, parse_size


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'esp_image' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
