"""PlatformIO post-build step: verify firmware.bin, fail the build on damage, write a merged image.

platformio.ini:

    [env:esp32dev]
    platform = espressif32
    board = esp32dev
    framework = arduino
    extra_scripts = post:extra_script.py

After ``$BUILD_DIR/${PROGNAME}.bin`` is built, :func:`esp_image_post_build` opens it with
``esp_image.Image`` and stops the build (``env.Exit(1)``) when any check fails. Then it verifies
``bootloader.bin`` and ``partitions.bin`` from the same build directory, merges the three (the
bootloader at its chip's offset, read from the bootloader itself: 0x1000 on the ESP32, 0x0 on
the ESP32-S3/C3/C6...; the table at 0x8000; the app at ``$ESP32_APP_OFFSET``, 0x10000 when
unset) and writes ``${PROGNAME}-merged.bin``, a flash image from 0x0, verified before it
appears. Flash it with ``esptool write-flash 0x0 .pio/build/ENV/firmware-merged.bin``.
First it writes ``${PROGNAME}-report.html`` beside the firmware (``esp-image info --html``:
verdict, flash map, tables and checks), damaged or not, for the person reading the build.

esp-image must be installed in PlatformIO's own Python:
``~/.platformio/penv/bin/pip install esp-image``.

The callback is a plain function of ``(source, target, env)`` so that it can be tested without
PlatformIO; only ``env.subst()`` and ``env.Exit()`` are used.
"""

from __future__ import annotations

import os
import subprocess
import sys

from esp_image import EspImageError, Image
from esp_image.io import read_input, write_atomic
from esp_image.transforms.merge import merge

PARTITIONS_OFFSET = 0x8000
DEFAULT_APP_OFFSET = 0x10000


def _fail(env, message: str) -> None:  # type: ignore[no-untyped-def]
    print(f"esp-image: {message}")
    env.Exit(1)


def _verified(env, path: str, what: str) -> Image | None:  # type: ignore[no-untyped-def]
    """The opened image, or None after failing the build (damaged, unknown or unreadable)."""
    try:
        image = Image.open(path)
    except EspImageError as exc:
        _fail(env, f"{what}: {exc}")
        return None
    failed = [c for c in image.checks if not c.valid]
    if image.kind == "unknown" or failed:
        print(f"esp-image: {path}: {what} is damaged, failing the build")
        for check in failed:
            print(f"     {check.name} at {check.offset:#x}: {check.detail}")
        if image.reason:
            print(f"     {image.reason}")
        env.Exit(1)
        return None
    print(f"esp-image: OK   {path}: {image.kind} {image.chip.name if image.chip else '-'}, "
          f"{len(image.checks)} checks passed")
    return image


def _write_report(firmware: str, report: str) -> None:
    """The HTML report beside the firmware; a report that cannot be written is only noted."""
    result = subprocess.run([sys.executable, "-m", "esp_image", "info", "-q", "--html", report,
                             firmware], capture_output=True, text=True, check=False)
    if os.path.isfile(report):
        print(f"esp-image: wrote {report}")
    else:
        print(f"esp-image: no HTML report: {result.stderr.strip()}")


def esp_image_post_build(source, target, env) -> int:  # type: ignore[no-untyped-def]
    """Verify ``$BUILD_DIR/${PROGNAME}.bin`` and write ``${PROGNAME}-merged.bin`` beside it.

    Returns 0 on success; on damage calls ``env.Exit(1)`` (which ends the build) and returns 1
    if that call returns.
    """
    build_dir = env.subst("$BUILD_DIR")
    progname = env.subst("${PROGNAME}") or "firmware"
    firmware = os.path.join(build_dir, f"{progname}.bin")
    bootloader = os.path.join(build_dir, "bootloader.bin")
    partitions = os.path.join(build_dir, "partitions.bin")

    _write_report(firmware, os.path.join(build_dir, f"{progname}-report.html"))
    app = _verified(env, firmware, "firmware")
    if app is None:
        return 1
    if not (os.path.isfile(bootloader) and os.path.isfile(partitions)):
        print(f"esp-image: no bootloader.bin/partitions.bin in {build_dir}; nothing to merge")
        return 0
    boot = _verified(env, bootloader, "bootloader")
    table = _verified(env, partitions, "partition table")
    if boot is None or table is None:
        return 1
    if boot.chip is None or boot.chip.chip_id is None:
        print("esp-image: the bootloader is not an ESP32-family image; nothing to merge")
        return 0

    app_offset = int(env.subst("$ESP32_APP_OFFSET") or hex(DEFAULT_APP_OFFSET), 0)
    merged = os.path.join(build_dir, f"{progname}-merged.bin")
    try:
        result = merge([(boot.chip.bootloader_offset, read_input(bootloader)),
                        (PARTITIONS_OFFSET, read_input(partitions)),
                        (app_offset, read_input(firmware))],
                       names=["bootloader.bin", "partitions.bin", f"{progname}.bin"])
        write_atomic(merged, result.data)
    except EspImageError as exc:
        _fail(env, f"cannot write {merged}: {exc}")
        return 1
    print(f"esp-image: wrote {merged} ({len(result.data)} bytes, flash it at 0x0)")
    for note in result.notes:
        print(f"     {note}")
    return 0


try:  # inside PlatformIO (SCons) Import() is a builtin of the script; elsewhere it is not
    Import("env")  # type: ignore[name-defined]
except NameError:
    pass
else:
    env.AddPostAction("$BUILD_DIR/${PROGNAME}.bin", esp_image_post_build)  # type: ignore[name-defined]  # noqa: F821
