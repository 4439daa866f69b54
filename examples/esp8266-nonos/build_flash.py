"""From NONOS SDK boot_v1.x, user1, user2 and init data to a complete ESP8266 flash image.

    python examples/esp8266-nonos/build_flash.py --map 1MB --boot boot_v1.7.bin \\
        --user1 user1.1024.new.2.bin --user2 user2.1024.new.2.bin \\
        --init-data esp_init_data_default_v08.bin -o full.bin

Plans the chosen flash map with ``esp_image.transforms.esp8266.plan_layout`` (every part is
checked against it: boot.bin is a boot_v1.x image, each user bin is intact, fits its slot and is
linked for it, the init data looks right), prints the plan, writes the complete flash image of
the map's size (verified before it appears, boot.bin's byte 3 set to the map), and prints two
esptool commands: one that writes the single image, one that writes the parts as the SDK does.

Maps: 512KB, 1MB, 2MB, 2MB-c1, 4MB, 4MB-c1, 8MB, 16MB (and the SDK's legacy names 4m ... 32m-c1).
Exit codes: 0 written, 1 a part does not fit the map (the reason is printed), 2 unusable input.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from esp_image import EspImageError, InputError, LayoutError, format_size
from esp_image.io import read_input, write_atomic
from esp_image.transforms.esp8266 import plan_layout


def build_flash(map_name: str, *, boot: str, user1: str, user2: str | None,
                init_data: str | None, output: str, port: str = "PORT",
                blank: str = "blank.bin") -> int:
    """Write the complete flash image for ``map_name``; print the plan and the commands."""
    files = {"boot": boot, "user1": user1, "blank": blank}
    if user2:
        files["user2"] = user2
    if init_data:
        files["init_data"] = init_data
    parts = {role: read_input(path, "ESP8266 image")
             for role, path in files.items() if role != "blank"}
    plan = plan_layout(map_name, **parts)

    print(f"ESP8266 flash plan: {plan.flash_map.title}")
    headers = plan.ROW_HEADERS
    rows = plan.rows
    widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(len(headers))]
    for r in (headers, *rows):
        print("  " + "  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    for issue in plan.issues:
        print(f"{issue.severity}: {issue.message}")

    data = plan.build()
    write_atomic(output, data)
    print(f"\nwrote {output} ({len(data)} bytes, {format_size(len(data))}, a verified NONOS "
          "flash image)")

    whole = ["esptool", "--chip", "esp8266", "--port", port, "write-flash", "--flash-size",
             plan.flash_map.name, "0x0", output]
    print("\nflash the image with:")
    print("  " + " ".join(shlex.quote(w) for w in whole))
    print("or the parts (blank.bin: 4KB of 0xFF, the SDK's bin/blank.bin):")
    print("  " + plan.write_flash_command(port=port, files=files))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", required=True, help="NONOS flash map, e.g. 1MB or 4MB-c1")
    parser.add_argument("--boot", required=True, help="boot_v1.x.bin")
    parser.add_argument("--user1", required=True, help="user1.bin")
    parser.add_argument("--user2", help="user2.bin (for OTA)")
    parser.add_argument("--init-data", help="esp_init_data_default.bin")
    parser.add_argument("-o", "--output", required=True, help="the complete flash image")
    parser.add_argument("--port", default="PORT", help="serial port for the printed commands")
    args = parser.parse_args(argv)
    try:
        return build_flash(args.map, boot=args.boot, user1=args.user1, user2=args.user2,
                           init_data=args.init_data, output=args.output, port=args.port)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (LayoutError, EspImageError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
