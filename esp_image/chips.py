"""Chip facts as one flat, explicit table.

Sources: ESP-IDF ``esp_app_format.h`` (``esp_chip_id_t``), esptool 5.6 ``targets/*.py``
(``IMAGE_CHIP_ID``, ``BOOTLOADER_FLASH_OFFSET``, ``FLASH_FREQUENCY``), ESP-IDF
``Kconfig.soc_caps.in`` (``ESP_ROM_BOOTLOADER_OFFSET_FLASH``). See
``shared/docs/formats/esp32-image.md`` §6-§7. ``tests/test_chips.py`` holds this table against
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


def chip_by_name(name: str) -> Chip:
    """Return the chip for a name such as ``esp32s3``, ``ESP32-S3`` or ``esp32-s3``."""
    key = name.lower().replace("-", "").replace("_", "")
    try:
        return _BY_NAME[key]
    except KeyError:
        raise UnsupportedChip(
            f"unknown chip {name!r}; known: {', '.join(sorted(_BY_NAME))}"
        ) from None
