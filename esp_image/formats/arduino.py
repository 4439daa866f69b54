"""Arduino-ESP8266 builds (esp8266/Arduino ``tools/elf2bin.py``, ``bootloaders/eboot``).

Sources, esp8266/Arduino at f946290 and its history (see shared/docs/formats/esp8266.md §12):

- ``tools/elf2bin.py``: eboot (``.text``, ``.rodata``) as a v1 image padded with 0xAA to
  4096 bytes, then the sketch as a v1 image whose first segment is ``.irom0.text``; then
  ``add_crc``: the file length and ``crc8266`` of the whole file (with those 8 bytes zeroed)
  stored as two little-endian words. Where: ``crcsize_offset = 4088`` from 52d84b1 (core
  2.7.0) until 07b4c09 (core 3.0.0) moved them to ``4096 + 16``, the first 8 bytes of the
  sketch's irom segment (``__crc_len``/``__crc_val``, two ``LONG(0)`` placeholders in
  ``tools/sdk/ld/eagle.app.v6.common.ld.h``), after the sketch's XOR checksum was computed.
  Cores before 2.7.0 (esptool-ck, or elf2bin 2.5.1-2.6.x) store no length and no CRC.
- ``cores/esp8266/crc32.cpp``: the CRC is MSB-first, polynomial 0x04C11DB7, initial value
  0xFFFFFFFF, no final XOR (CRC-32/MPEG-2); ``EspClass::checkFlashCRC`` checks it at run time.
- ``core_esp8266_main.cpp``: ``core_version`` (``ARDUINO_ESP8266_GIT_VER``, the core's git
  commit as a u32) in section ``.ver_number``, the first thing of ``.irom0.text`` after the
  CRC placeholders (so at 0x1010 before core 3.0.0, at 0x1018 from it).
- ``tools/boards.txt.py`` ``flash_map``: the flash split ``sketch | empty | fs | eeprom |
  rf-cal | sdk-wifi-settings``: the last 12 KB SDK settings, 4 KB RF calibration before them,
  4 KB EEPROM before that; the filesystem ends at the EEPROM sector (rounded down to its block
  size: 8 KB from a 512 KB filesystem up, else 4 KB).

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

APP_START = 0x1000
"""``APP_START_OFFSET`` (eboot's ``flash.h``): where eboot reads the sketch's header."""
EBOOT_PAD = 0xAA
"""elf2bin fills the eboot sector with this byte after the eboot image."""
CRC_IN_EBOOT_SECTOR = 0xFF8
"""Core 2.7.x: ``crcsize_offset = 4088``, the last 8 bytes of the eboot sector."""
CRC_IN_SKETCH = 0x1010
"""Core 3.x: ``crcsize_offset = 4096 + 16``, the first 8 bytes of the sketch's irom segment."""
IROM_START = 0x40201010
"""The sketch's irom segment address (``irom0_0_seg`` origin in ``eagle.flash.*.ld``)."""
CRC_POLY = 0x04C11DB7
CRC_INIT = 0xFFFFFFFF

CORE_RELEASES: dict[int, str] = {
    0xC10A19E0: "2.0.0", 0x5AB63DCF: "2.1.0", 0xDE3058FC: "2.2.0", 0x09826C6D: "2.3.0",
    0x4CEABEA9: "2.4.0", 0x614F7C32: "2.4.1", 0xBB28D4A3: "2.4.2", 0x951AEFFA: "2.5.0",
    0xAC02AFF5: "2.5.1", 0x8B899C12: "2.5.2", 0x643EC203: "2.6.0", 0x482516E3: "2.6.1",
    0xBC204A9B: "2.6.2", 0x3D128E5C: "2.6.3", 0x9C56ED1F: "2.7.0", 0xA5432625: "2.7.1",
    0x39C79D9B: "2.7.2", 0x5D3AF165: "2.7.3", 0x2843A5AC: "2.7.4", 0xEFB0341A: "3.0.0",
    0xCBF44FB3: "3.0.1", 0xCF6FF4C4: "3.0.2", 0x8AE300D4: "3.1.0", 0x0E5D358C: "3.1.1",
    0x210897EF: "3.1.2",
}
"""``ARDUINO_ESP8266_GIT_VER`` of each release: the first 8 hex digits of the tag's commit in
esp8266/Arduino (a build from another commit or fork stores that commit's)."""

FS_BLOCK_SMALL = 0x1000
FS_BLOCK_LARGE = 0x2000
FS_LARGE_FROM = 512 * 1024
"""boards.txt.py: 8 KB filesystem blocks from a 512 KB filesystem up."""
EEPROM_FROM_END = 0x5000
RF_CAL_FROM_END = 0x4000
SDK_SETTINGS_FROM_END = 0x3000
FS_SIZES_KB: dict[int, tuple[int, ...]] = {
    512 * 1024: (32, 64, 128),
    1024 * 1024: (64, 128, 144, 160, 192, 256, 512),
    2 * 1024 * 1024: (64, 128, 256, 512, 1024),
    4 * 1024 * 1024: (1024, 2048, 3072),
    8 * 1024 * 1024: (6144, 7168),
    16 * 1024 * 1024: (14336, 15360),
}
"""The filesystem sizes (KB) boards.txt.py's ``all_flash_map`` offers for each flash size."""

CrcWords: Any = "elf2bin add_crc: the file length, then crc8266 of the file with both " \
    "words zeroed" * Struct(
        "length" / Int32ul,
        "crc" / Int32ul,
    )
