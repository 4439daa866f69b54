"""The Arduino-ESP8266 parts of the ESP8266 recogniser (``_arduino`` in
:mod:`esp_image.recognise.esp8266`): its note, and the flash split of a whole-flash dump.

The rules themselves (layouts, CRC, core versions) are :mod:`esp_image.arduino`; the flash split
is esp8266/Arduino ``tools/boards.txt.py`` ``flash_map`` (:mod:`esp_image.formats.arduino`).
"""

from __future__ import annotations

from ..checks import Check
from ..formats.compiled import arduino as ard
from ..spans import is_erased
from ..units import format_size
from .esp32 import find_filesystem

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

    from ..arduino import ArduinoBuild
    from ..image import Builder


def arduino_after_sketch(b: Builder, build: ArduinoBuild) -> None:
    """What follows the sketch: a whole flash's split, or data after the build; then the note
    on what boots the build."""
    arduino_flash_split(b, build.sketch_end)
    after = len(b.view) - build.sketch_end
    if after > 0 and "arduino_flash" not in b.details:
        b.notes.append(f"{after:#x} bytes follow the build (it ends at {build.sketch_end:#x}): "
                       "eboot does not load them and no CRC covers them")
    b.notes.append(arduino_note(build))


def arduino_note(build: ArduinoBuild) -> str:
    """The note on what boots the build and what shows damage."""
    release = f" {build.core_release}" if build.core_release else ""
    version = (f"; core_version {build.core_version:#010x} (esp8266/Arduino{release})"
               if build.core_version else "")
    what = ("the elf2bin CRC shows damage (ESP.checkFlashCRC() compares it at run time)"
            if build.words is not None else
            "this build has no elf2bin CRC, so only the XOR checksums show damage")
    return (f"Arduino-ESP8266 {build.generation}{version}: the ROM checks eboot's checksum; "
            "eboot loads the sketch at 0x1000 without checking its checksum or CRC; " + what)


_TAIL = (("eeprom", ard.EEPROM_FROM_END, 0x1000, "EEPROM library sector"),
         ("rf_cal", ard.RF_CAL_FROM_END, 0x1000, "RF calibration (SDK)"),
         ("sdk_settings", ard.SDK_SETTINGS_FROM_END, 0x3000,
          "SDK Wi-Fi settings and system parameters"))
"""boards.txt.py's last 0x5000 bytes: (name, distance from the end, size, what)."""


def arduino_flash_split(b: Builder, sketch_end: int) -> None:
    """A whole-flash dump: the EEPROM, RF-cal and SDK-settings sectors at the end and the
    filesystem before them (tools/boards.txt.py ``flash_map``), for a flash the file's size."""
    view = b.view
    size = len(view)
    if size not in ard.FS_SIZES_KB:
        return
    for name, back, length, what in _TAIL:
        start = size - back
        erased = is_erased(view[start:start + length])
        b.region(start, length, "erased" if erased else "data", name,
                 what + (" (erased)" if erased else ""))
    found = _filesystem(view, sketch_end)
    if found is not None:
        start, stop, fs, kb, block = found
        b.region(start, stop - start, "data", fs.type,
                 f"{fs.type} filesystem ({kb} KB, {block}-byte blocks in Arduino's flash map)")
        b.details["filesystem"] = {"offset": start, "size": stop - start, "type": fs.type,
                                   "block_size": block, "detected": fs.to_dict()}
        # SPIFFS detection infers the block size (it may pick 4 KB for Arduino's 8 KB blocks
        # and then miss half the magics), so only other filesystems' damage is a check.
        if not fs.valid and fs.type != "spiffs":
            b.checks.append(Check("filesystem", False, start,
                                  f"{fs.type}: damaged ({fs.detail})"))
    b.details["arduino_flash"] = {"size": size, "eeprom": size - ard.EEPROM_FROM_END,
                                  "rf_cal": size - ard.RF_CAL_FROM_END,
                                  "sdk_settings": size - ard.SDK_SETTINGS_FROM_END}
    b.notes.append(f"flash split of Arduino's eagle.flash.*.ld for a {format_size(size)} flash "
                   "(the file's size): EEPROM, RF calibration and SDK settings in the last "
                   "0x5000 bytes, the filesystem before them")


def _filesystem(view: memoryview, sketch_end: int
                        ) -> tuple[int, int, Any, int, int] | None:
    """The filesystem at one of the starts Arduino's flash maps give this flash size, the
    largest (earliest) first; None when none of them holds one."""

    size = len(view)
    fs_end = size - ard.EEPROM_FROM_END
    for kb in sorted(ard.FS_SIZES_KB[size], reverse=True):
        start = (fs_end if size <= 0x100000 else size) - kb * 1024
        block = ard.FS_BLOCK_LARGE if kb * 1024 >= ard.FS_LARGE_FROM else ard.FS_BLOCK_SMALL
        stop = start + block * ((fs_end - start) // block)
        if start < sketch_end or is_erased(view[start:stop]):
            continue
        fs = find_filesystem(view[start:stop])
        if fs is not None:
            return start, stop, fs, kb, block
    return None
