"""Sizes, alignment and their text forms.

Sizes are integers in bytes everywhere in the library; only this module and the renderer
turn them into or out of text.
"""

from __future__ import annotations

import re

SECTOR = 0x1000
"""Flash erase sector size (4 KiB)."""

KiB = 1024
MiB = 1024 * 1024

_SIZE_RE = re.compile(r"^\s*(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*([km]?)(i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Parse a size as the CLI contract accepts it.

    Accepted forms: ``4MB``, ``4M``, ``4MiB``, ``0x400000``, ``4194304``, ``512K``, ``512KB``,
    ``1024k``; K and M are powers of 1024, case-insensitive.

    Raises:
        ValueError: the text is not a size.
    """
    m = _SIZE_RE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r} (use e.g. 4MB, 512K, 0x400000)")
    number, unit, suffix = m.group(1), m.group(2).lower(), m.group(3)
    if suffix and not unit and suffix.lower() != "b":
        raise ValueError(f"not a size: {text!r}")
    value = float(int(number, 16)) if number.lower().startswith("0x") else float(number)
    value *= {"": 1, "k": KiB, "m": MiB}[unit]
    if value != int(value):
        raise ValueError(f"not a whole number of bytes: {text!r}")
    return int(value)


def parse_size_option(text: str | None, option: str) -> int | None:
    """:func:`parse_size` for a command-line option: None stays None, and a bad value is a
    :class:`~esp_image.errors.UsageError` naming the option."""
    from .errors import UsageError

    if text is None:
        return None
    try:
        return parse_size(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def format_size(size: int) -> str:
    """Return a short human form: ``4MB``, ``512KB``, ``1.5MB`` or ``123B``."""
    if size >= MiB:
        value = size / MiB
        return f"{value:g}MB" if value == int(value) else f"{value:.1f}MB"
    if size >= KiB:
        value = size / KiB
        return f"{value:g}KB" if value == int(value) else f"{value:.1f}KB"
    return f"{size}B"


def format_hex_size(size: int) -> str:
    """Return a size as hex plus human units, e.g. ``0x1f0000 (1.9MB)``."""
    return f"{size:#x} ({format_size(size)})"


def align_up(value: int, alignment: int) -> int:
    """Round ``value`` up to a multiple of ``alignment``."""
    return (value + alignment - 1) // alignment * alignment


def align_down(value: int, alignment: int) -> int:
    """Round ``value`` down to a multiple of ``alignment``."""
    return value // alignment * alignment
