"""Turn a downloaded MicroPython ESP32 firmware into an 8MB OTA firmware and say how to flash it.

    python examples/micropython-ota/make_ota.py ESP32_GENERIC-20240602-v1.23.0.bin firmware-ota.bin

Steps: open the firmware, give it an 8MB flash size and the OTA table (nvs, otadata, ota_0,
ota_1, vfs) with ``retable``, write the result atomically (it is verified before it appears),
open the written file again to check it is valid and boots ota_0, and print the esptool command
that flashes it. Uses only the library API; the CLI equivalent is
``esp-image retable -f 8MB --table ota FIRMWARE -o OUTPUT``.

Exit codes: 0 written and verified, 1 refused (the change would give the device something it
rejects) or the output does not verify, 2 unusable input.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from esp_image import EspImageError, Image, InputError, format_size
from esp_image.io import write_atomic
from esp_image.transforms.retable import RetableOptions, retable

FLASH_SIZE = 8 * 1024 * 1024


def make_ota(firmware: str, output: str, *, port: str = "PORT") -> int:
    """Write the 8MB OTA version of ``firmware`` to ``output``; print what was done."""
    image = Image.open(firmware)
    if image.kind != "flash" or image.chip is None or image.base is None:
        print(f"{firmware}: not a merged ESP32-family firmware ({image.kind})", file=sys.stderr)
        return 2
    if not image.valid:
        failed = ", ".join(c.name for c in image.checks if not c.valid)
        print(f"{firmware}: damaged ({failed}); download it again", file=sys.stderr)
        return 1

    result = retable(image, RetableOptions(flash_size=FLASH_SIZE, table="ota"))
    write_atomic(output, result.data)
    print(f"wrote {output} ({len(result.data)} bytes)")
    for action in result.actions:
        print(f"  - {action}")
    for note in result.notes:
        print(f"  note: {note}")

    # Read back what is on disk, as the device will see it.
    written = Image.open(output)
    boot = written.boot.target if written.boot is not None else "?"
    flash = written.bootloader.flash_size if written.bootloader is not None else None
    print(f"verified: {'valid' if written.valid else 'INVALID'}, flash "
          f"{format_size(flash) if flash else '?'}, boots {boot}")
    for content in written.apps:
        fill = f", {content.fill:.1%} full" if content.fill is not None else ""
        print(f"  {content.partition.name:<8} {content.partition.offset:>#9x} "
              f"{format_size(content.partition.size):>7}  {content.state}{fill}")
    if not written.valid:
        return 1

    assert written.chip is not None and written.base is not None
    words = ["esptool", "--chip", written.chip.name, "--port", port, "write-flash",
             "--flash-size", format_size(FLASH_SIZE), f"{written.base:#x}", output]
    print("\nflash it with:")
    print("  " + " ".join(shlex.quote(w) for w in words))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("firmware", help="a merged MicroPython firmware.bin for an ESP32 chip")
    parser.add_argument("output", help="where to write the 8MB OTA firmware")
    parser.add_argument("--port", default="PORT", help="serial port for the printed command")
    args = parser.parse_args(argv)
    try:
        return make_ota(args.firmware, args.output, port=args.port)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except EspImageError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
