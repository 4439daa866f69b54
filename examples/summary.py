"""Print one line per firmware file: kind, chip, flash size, app slots and verdict.

    python examples/summary.py fixtures/*.bin

Uses only the public library API (``esp_image.Image``).
"""

from __future__ import annotations

import sys

from esp_image import EspImageError, Image, format_size


def summarize(path: str) -> str:
    """One line describing ``path``."""
    try:
        image = Image.open(path)
    except EspImageError as exc:
        return f"{path}: cannot read ({exc})"
    chip = image.chip.name if image.chip else "-"
    parts = [f"{path}: {image.kind}", chip]
    if image.firmware is not None:
        parts.append(f"{image.firmware.role} {format_size(image.firmware.end)}")
    if image.bootloader is not None and image.bootloader.flash_size:
        parts.append(f"flash {format_size(image.bootloader.flash_size)}")
    for app in image.apps:
        if app.fill is not None:
            parts.append(f"{app.partition.name} {app.fill:.0%} full")
    parts.append("valid" if image.valid else "INVALID")
    return ", ".join(parts)


def main(paths: list[str]) -> int:
    """Print a summary of every path; exit 1 if any file is invalid."""
    lines = [summarize(p) for p in paths]
    print("\n".join(lines))
    return 0 if all(line.endswith(", valid") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
