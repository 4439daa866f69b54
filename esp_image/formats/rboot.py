"""rBoot (raburton/rboot) on-flash and RTC structures.

Follows ``rboot.h`` (``rboot_config``, ``rboot_rtc_data``, the ``MODE_*`` flags and magics) and
``rboot-private.h`` (``rom_header``, ``section_header``, ``rom_header_new``: how rBoot itself
reads ESP8266 images) of raburton/rboot at 614f336 (v1.4.2). See
shared/docs/formats/rboot.md §2-§5.

``MAX_ROMS`` and ``BOOT_CONFIG_CHKSUM`` are build options of rBoot, so the config layout is a
family of structs: :func:`config_struct` builds the one for a given build; ``rboot_config`` is
the ``rboot.h`` default (4 slots, no checksum). Checksums are plain fields (never construct's
``Checksum``): the model reports a wrong stored value instead of refusing to parse it.

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Array, Bytes, Int8ul, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

# --- rboot.h constants -----------------------------------------------------------------------

MAX_ROMS = 4
"""Default ``MAX_ROMS`` ("increase if required")."""
CHKSUM_INIT = 0xEF
"""Seed of ``calc_chksum`` (and of the ESP8266 image XOR checksum)."""
SECTOR_SIZE = 0x1000
BOOT_CONFIG_SECTOR = 1
CONFIG_OFFSET = BOOT_CONFIG_SECTOR * SECTOR_SIZE
"""Flash address of the config sector (0x1000)."""
BOOT_CONFIG_MAGIC = 0xE1
BOOT_CONFIG_VERSION = 0x01
CONFIG_HEADER_SIZE = 8
"""magic, version, mode, current_rom, gpio_rom, count, unused[2]."""

MODE_STANDARD = 0x00
MODE_GPIO_ROM = 0x01
MODE_TEMP_ROM = 0x02
MODE_GPIO_ERASES_SDKCONFIG = 0x04
MODE_GPIO_SKIP = 0x08
MODE_NAMES: dict[int, str] = {
    MODE_GPIO_ROM: "gpio_rom",
    MODE_TEMP_ROM: "temp_rom",
    MODE_GPIO_ERASES_SDKCONFIG: "gpio_erases_sdkconfig",
    MODE_GPIO_SKIP: "gpio_skip",
}
"""Names of the ``mode`` bit flags; 0 is ``standard``."""

RBOOT_RTC_MAGIC = 0x2334AE68
RBOOT_RTC_ADDR = 64
"""RTC user-memory block of the record: address 0x60001100 + 4 * 64 = 0x60001200."""
# ``rboot_rtc_data`` packs into 9 bytes (C ``sizeof`` is 12).

# --- rboot-private.h -------------------------------------------------------------------------
# ``rom_header``, ``section_header`` and ``rom_header_new`` are the ESP8266 v1 image header,
# segment header and v2 header: declared once, in :mod:`esp_image.formats.esp8266`.


def config_size(max_roms: int = MAX_ROMS, chksum: bool = False) -> int:
    """Packed size of ``rboot_config`` for a build: ``8 + 4 * max_roms (+ 1)``."""
    return CONFIG_HEADER_SIZE + 4 * max_roms + (1 if chksum else 0)


_config_header = Struct(
    "magic" / Int8ul,
    "version" / Int8ul,
    "mode" / Int8ul,
    "current_rom" / Int8ul,
    "gpio_rom" / Int8ul,
    "count" / Int8ul,
    "unused" / Bytes(2),
)
ConfigHeader: Any = """The first 8 bytes of rboot_config, the same in every build; ``roms``
(``MAX_ROMS`` u32) and, with BOOT_CONFIG_CHKSUM, ``chksum`` follow.""" * _config_header


def config_struct(max_roms: int = MAX_ROMS, chksum: bool = False) -> Any:
    """``rboot_config`` for an rBoot built with ``MAX_ROMS = max_roms`` and, if ``chksum``,
    ``BOOT_CONFIG_CHKSUM`` (packed, without the C tail padding)."""
    fields: list[Any] = [*_config_header.subcons, "roms" / Array(max_roms, Int32ul)]
    if chksum:
        fields.append("chksum" / Int8ul)
    return Struct(*fields)


rboot_config: Any = """rboot_config (rboot.h) as built by default: MAX_ROMS = 4, no
BOOT_CONFIG_CHKSUM; 24 bytes. The magic stays a plain byte so that a blank or foreign sector
can be reported rather than rejected by construct.""" * config_struct(MAX_ROMS, False)

rboot_config_chksum: Any = """rboot_config (rboot.h) with BOOT_CONFIG_CHKSUM and MAX_ROMS = 4:
25 bytes, ``chksum`` = 0xEF XOR bytes 0..23 (calc_chksum in rboot.c).""" * config_struct(
    MAX_ROMS, True)

rboot_rtc_data: Any = """rboot_rtc_data (rboot.h, BOOT_RTC_ENABLED): 9 packed bytes at RTC
user memory block 64; ``chksum`` = 0xEF XOR bytes 0..7.""" * Struct(
    "magic" / Int32ul,
    "next_mode" / Int8ul,
    "last_mode" / Int8ul,
    "last_rom" / Int8ul,
    "temp_rom" / Int8ul,
    "chksum" / Int8ul,
)
