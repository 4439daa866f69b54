"""Chip facts as one flat, explicit table.

Sources: ESP-IDF ``esp_app_format.h`` (``esp_chip_id_t``), esptool 5.6 ``targets/*.py``
(``IMAGE_CHIP_ID``, ``BOOTLOADER_FLASH_OFFSET``, ``FLASH_FREQUENCY``), ESP-IDF
``Kconfig.soc_caps.in`` (``ESP_ROM_BOOTLOADER_OFFSET_FLASH``). See
``shared/docs/formats/esp32-image.md`` §6-§7. ``tests/image/test_chips.py`` holds this table against
esptool's target classes. There are deliberately no defaults: an unknown chip id is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UnsupportedChip
from .units import MiB

KiB = 1024

# ESP32-family header byte 3, high nibble: code n means 1 MB << n (esp_image_flash_size_t).
ESP32_FLASH_SIZES: dict[int, int] = {n: MiB << n for n in range(8)}


@dataclass(frozen=True)
class Chip:
    """Facts about one chip.

    Attributes:
        name: esptool's chip name (``esp32``, ``esp32s3`` ...).
        title: display name (``ESP32-S3``).
        chip_id: ``esp_chip_id_t`` value in the image header (None for ESP8266).
        bootloader_offset: flash address of the second-stage bootloader.
        mmu_page_sizes: the MMU page sizes the chip supports (bytes).
        max_flash: the largest flash size the chip can address, per esptool's documentation.
        flash_freq: header byte 3 low nibble → flash clock, e.g. ``{0x0: "40m", 0xF: "80m"}``.
    """

    name: str
    title: str
    chip_id: int | None
    bootloader_offset: int
    mmu_page_sizes: tuple[int, ...]
    max_flash: int
    flash_freq: dict[int, str]

    def freq_name(self, code: int) -> str:
        """Return the flash clock for a header frequency code (``"0x5?"`` if unknown)."""
        if self.name == "esp32c6" and code == 0:
            # esptool writes 80m as code 0 on the C6 (ROM divider workaround), so 0 is ambiguous.
            return "40m/80m"
        return self.flash_freq.get(code, f"{code:#x}?")

    def freq_code(self, name: str) -> int:
        """Return the header code for a flash clock such as ``"80m"``."""
        wanted = name.lower().removesuffix("hz")
        for code, freq in self.flash_freq.items():
            if freq == wanted:
                return code
        if self.name == "esp32c6" and wanted == "80m":
            return 0
        raise UnsupportedChip(f"{self.title} has no flash frequency {name!r}; "
                              f"choose one of {', '.join(self.flash_freq.values())}")


_F_40 = {0x0: "40m", 0x1: "26m", 0x2: "20m", 0xF: "80m"}
_F_C2 = {0x0: "30m", 0x1: "20m", 0x2: "15m", 0xF: "60m"}
_F_H2 = {0x0: "24m", 0x1: "16m", 0x2: "12m", 0xF: "48m"}
_F_C5 = {0x0: "40m", 0x2: "20m", 0xF: "80m"}
_F_C6 = {0x0: "40m", 0x2: "20m"}
_F_H4 = {0x0: "24m", 0xF: "48m"}
_P64 = (64 * KiB,)
_P8_64 = (8 * KiB, 16 * KiB, 32 * KiB, 64 * KiB)

CHIPS: tuple[Chip, ...] = (
    Chip("esp8266", "ESP8266", None, 0x0, (), 16 * MiB, _F_40),
    Chip("esp32", "ESP32", 0, 0x1000, _P64, 16 * MiB, _F_40),
    Chip("esp32s2", "ESP32-S2", 2, 0x1000, _P64, 128 * MiB, _F_40),
    Chip("esp32c3", "ESP32-C3", 5, 0x0, _P64, 16 * MiB, _F_40),
    Chip("esp32s3", "ESP32-S3", 9, 0x0, _P64, 128 * MiB, _F_40),
    Chip("esp32c2", "ESP32-C2", 12, 0x0, (16 * KiB, 32 * KiB, 64 * KiB), 16 * MiB, _F_C2),
    Chip("esp32c6", "ESP32-C6", 13, 0x0, _P8_64, 16 * MiB, _F_C6),
    Chip("esp32h2", "ESP32-H2", 16, 0x0, _P8_64, 16 * MiB, _F_H2),
    Chip("esp32p4", "ESP32-P4", 18, 0x2000, _P64, 64 * MiB, _F_40),
    Chip("esp32c61", "ESP32-C61", 20, 0x0, _P8_64, 32 * MiB, _F_C5),
    Chip("esp32c5", "ESP32-C5", 23, 0x2000, _P64, 32 * MiB, _F_C5),
    Chip("esp32h21", "ESP32-H21", 25, 0x0, _P8_64, 16 * MiB, _F_H4),
    Chip("esp32h4", "ESP32-H4", 28, 0x2000, _P8_64, 32 * MiB, _F_H4),
    Chip("esp32e22", "ESP32-E22", 31, 0x0, _P64, 128 * MiB, _F_40),
    Chip("esp32s31", "ESP32-S31", 32, 0x2000, (32 * KiB, 64 * KiB, 128 * KiB, 256 * KiB),
         128 * MiB, _F_C5),
)

_BY_ID = {c.chip_id: c for c in CHIPS if c.chip_id is not None}

UF2_FAMILIES: dict[str, int] = {
    "esp8266": 0x7EAB61ED, "esp32": 0x1C5F21B0, "esp32s2": 0xBFDD4EEE, "esp32c3": 0xD42BA06C,
    "esp32s3": 0xC47E5767, "esp32c2": 0x2B88D29C, "esp32c6": 0x540DDF62, "esp32h2": 0x332726F6,
    "esp32p4": 0x3D308E94, "esp32c61": 0x77D850C4, "esp32c5": 0xF71C0343, "esp32h21": 0xB6DD00AF,
    "esp32h4": 0x9E0BAA8A, "esp32s31": 0x3101F7C1,
}
"""UF2 family id of each chip (esptool 5.6 ``targets/*.py`` ``UF2_FAMILY_ID``, the ids
microsoft/uf2 ``utils/uf2families.json`` lists); a chip esptool gives none has none."""
_BY_NAME = {c.name: c for c in CHIPS}

# Beta chip ids used only by esptool <= 4 (esp32-image.md §6); recognised to give a clear message.
BETA_CHIP_IDS = {4: "ESP32-S3(beta2)", 7: "ESP32-C6(beta)", 10: "ESP32-H2(beta1)",
                 14: "ESP32-H2(beta2)", 17: "ESP32-C5(beta3)"}


def chip_by_id(chip_id: int) -> Chip:
    """Return the chip for an ``esp_chip_id_t`` value.

    Raises:
        UnsupportedChip: the id is not a released chip.
    """
    try:
        return _BY_ID[chip_id]
    except KeyError:
        beta = BETA_CHIP_IDS.get(chip_id)
        if beta:
            raise UnsupportedChip(f"chip id {chip_id} is the pre-release {beta}") from None
        raise UnsupportedChip(f"unknown chip id {chip_id:#x}") from None


def is_known_chip_id(chip_id: int) -> bool:
    """Return whether ``chip_id`` names a released ESP32-family chip."""
    return chip_id in _BY_ID


def chip_by_uf2_family(family_id: int) -> Chip | None:
    """The chip a UF2 family id names, None for an id that is not an Espressif chip's."""
    for name, fid in UF2_FAMILIES.items():
        if fid == family_id:
            return _BY_NAME[name]
    return None


def chip_by_name(name: str) -> Chip:
    """Return the chip for a name such as ``esp32s3``, ``ESP32-S3`` or ``esp32-s3``."""
    key = name.lower().replace("-", "").replace("_", "")
    try:
        return _BY_NAME[key]
    except KeyError:
        raise UnsupportedChip(
            f"unknown chip {name!r}; known: {', '.join(sorted(_BY_NAME))}"
        ) from None


# Memory regions a segment can load into, per chip (start, end, name): the subset of esptool
# 5.6's ``MEMORY_MAP`` that image segments use. IROM/DROM are the flash-mapped (cache) windows.
# On ESP32, esptool also labels the mask ROM 0x40000000-0x40070000 "IROM"; it is named
# IROM_MASK here so that "IROM" always means flash-mapped code. tests/image/test_chips.py
# holds these against esptool.
_M = tuple[tuple[int, int, str], ...]
_RISCV_MAP: _M = ((0x42000000, 0x43000000, "DROM"), (0x42000000, 0x43000000, "IROM"),
                  (0x40800000, 0x40880000, "DRAM"), (0x40800000, 0x40880000, "IRAM"),
                  (0x50000000, 0x50004000, "RTC_DRAM"), (0x50000000, 0x50004000, "RTC_IRAM"))
MEMORY_MAPS: dict[str, _M] = {
    "esp8266": ((0x3FFE8000, 0x40000000, "DRAM"), (0x40100000, 0x40108000, "IRAM"),
                (0x40201010, 0x402E1010, "IROM")),
    "esp32": ((0x3F400000, 0x3F800000, "DROM"), (0x3F800000, 0x3FC00000, "EXTRAM_DATA"),
              (0x3FF80000, 0x3FF82000, "RTC_DRAM"), (0x3FFAE000, 0x40000000, "DRAM"),
              (0x40000000, 0x40070000, "IROM_MASK"), (0x40070000, 0x40078000, "CACHE_PRO"),
              (0x40078000, 0x40080000, "CACHE_APP"), (0x40080000, 0x400A0000, "IRAM"),
              (0x400C0000, 0x400C2000, "RTC_IRAM"), (0x400D0000, 0x40400000, "IROM"),
              (0x50000000, 0x50002000, "RTC_DATA")),
    "esp32s2": ((0x3F000000, 0x3FF80000, "DROM"), (0x3FF9E000, 0x3FFA0000, "RTC_DRAM"),
                (0x3FFB0000, 0x40000000, "DRAM"), (0x40020000, 0x40070000, "IRAM"),
                (0x40070000, 0x40072000, "RTC_IRAM"), (0x40080000, 0x40800000, "IROM"),
                (0x50000000, 0x50002000, "RTC_DATA")),
    "esp32s3": ((0x3C000000, 0x3D000000, "DROM"), (0x3D000000, 0x3E000000, "EXTRAM_DATA"),
                (0x3FC88000, 0x3FD00000, "DRAM"), (0x40370000, 0x403E0000, "IRAM"),
                (0x42000000, 0x42800000, "IROM"), (0x50000000, 0x50002000, "RTC_DATA"),
                (0x600FE000, 0x60100000, "RTC_IRAM")),
    "esp32c3": ((0x3C000000, 0x3C800000, "DROM"), (0x3FC80000, 0x3FCE0000, "DRAM"),
                (0x42000000, 0x42800000, "IROM"), (0x4037C000, 0x403E0000, "IRAM"),
                (0x50000000, 0x50002000, "RTC_IRAM")),
    "esp32c2": ((0x3C000000, 0x3C400000, "DROM"), (0x3FCA0000, 0x3FCE0000, "DRAM"),
                (0x42000000, 0x42400000, "IROM"), (0x4037C000, 0x403C0000, "IRAM")),
    "esp32c6": _RISCV_MAP,
    "esp32h2": _RISCV_MAP,
    "esp32c61": ((0x42000000, 0x44000000, "DROM"), (0x42000000, 0x44000000, "IROM"),
                 (0x40800000, 0x40860000, "DRAM"), (0x40800000, 0x40860000, "IRAM"),
                 (0x50000000, 0x50004000, "RTC_DRAM"), (0x50000000, 0x50004000, "RTC_IRAM")),
    "esp32c5": ((0x42000000, 0x44000000, "DROM"), (0x42000000, 0x44000000, "IROM"),
                (0x40800000, 0x40860000, "DRAM"), (0x40800000, 0x40860000, "IRAM"),
                (0x50000000, 0x50004000, "RTC_DRAM"), (0x50000000, 0x50004000, "RTC_IRAM")),
    "esp32h21": ((0x42000000, 0x43000000, "DROM"), (0x42000000, 0x43000000, "IROM"),
                 (0x40800000, 0x40850000, "DRAM"), (0x40800000, 0x40850000, "IRAM"),
                 (0x50000000, 0x50001000, "RTC_DRAM"), (0x50000000, 0x50001000, "RTC_IRAM")),
    "esp32h4": ((0x42000000, 0x44000000, "DROM"), (0x42000000, 0x44000000, "IROM"),
                (0x40810000, 0x40860000, "DRAM"), (0x40810000, 0x40860000, "IRAM")),
    "esp32p4": ((0x40000000, 0x4C000000, "DROM"), (0x40000000, 0x4C000000, "IROM"),
                (0x4FF00000, 0x4FFA0000, "DRAM"), (0x4FF00000, 0x4FFA0000, "IRAM"),
                (0x50108000, 0x50110000, "RTC_DRAM"), (0x50108000, 0x50110000, "RTC_IRAM")),
    "esp32e22": ((0x3C000000, 0x40000000, "DROM"), (0x3C000000, 0x40000000, "IROM"),
                 (0x31000000, 0x31200000, "DRAM"), (0x30FE0000, 0x31200000, "IRAM"),
                 (0xC0000000, 0xC0008000, "RTC_DRAM"), (0xC0000000, 0xC0008000, "RTC_IRAM")),
    "esp32s31": ((0x40000000, 0x54000000, "DROM"), (0x40000000, 0x54000000, "IROM"),
                 (0x2F000000, 0x2F080000, "DRAM"), (0x2F000000, 0x2F080000, "IRAM"),
                 (0x2E000000, 0x2E008000, "RTC_DRAM"), (0x2E000000, 0x2E008000, "RTC_IRAM")),
}

FLASH_MAPPED = frozenset({"IROM", "DROM"})
# Internal SRAM, which the boot ROM loads a second-stage bootloader into (the ESP32's
# bootloader also uses the APP CPU's cache RAM, CACHE_APP), and the parts of it that execute.
INTERNAL_RAM = frozenset({"IRAM", "DRAM", "RTC_IRAM", "RTC_DRAM", "RTC_DATA", "CACHE_APP",
                          "CACHE_PRO"})
INTERNAL_CODE = frozenset({"IRAM", "RTC_IRAM", "CACHE_APP", "CACHE_PRO"})


def _inside(chip: str, start: int, end: int, names: frozenset[str]) -> bool:
    return any(lo <= start and end <= hi and n in names
               for lo, hi, n in MEMORY_MAPS.get(chip, ()))


def is_internal_ram(chip: str, addr: int, size: int = 0) -> bool:
    """Whether ``[addr, addr + size)`` lies in one internal-RAM region of ``chip`` and in no
    flash-mapped window (on RISC-V chips IROM and DROM share addresses with nothing internal)."""
    end = addr + max(size, 1)
    return _inside(chip, addr, end, INTERNAL_RAM) and not _inside(chip, addr, addr + 1,
                                                                   FLASH_MAPPED)


def is_internal_code(chip: str, addr: int) -> bool:
    """Whether ``addr`` is in internal RAM that ``chip`` executes from (an entry point)."""
    return _inside(chip, addr, addr + 1, INTERNAL_CODE) and not _inside(chip, addr, addr + 1,
                                                                        FLASH_MAPPED)


def memory_regions(chip: str, addr: int) -> tuple[str, ...]:
    """Return the names of the memory regions of ``chip`` that contain ``addr``.

    Address 0 is esptool's padding segment; other addresses below 0x10000000 are not loaded
    (ESP-IDF ``should_load``), e.g. address 4 marks an MD5 segment.
    """
    if addr == 0:
        return ("PADDING",)
    names = tuple(n for start, end, n in MEMORY_MAPS.get(chip, ()) if start <= addr < end)
    return names or ("?",)
