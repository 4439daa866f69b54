"""Descriptors embedded at image offset 0x20: ``esp_app_desc_t`` and ``esp_bootloader_desc_t``.

Follows ESP-IDF ``components/esp_app_format/include/esp_app_desc.h`` and
``components/esp_bootloader_format/include/esp_bootloader_desc.h``
(shared/docs/formats/esp32-image.md §5). Strings are fixed-size NUL-padded byte fields,
decoded leniently in the model; fields added by newer ESP-IDF releases read as 0 in older images.
"""

from __future__ import annotations

from construct import Bytes, Int8ul, Int16ul, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

APP_DESC_MAGIC = 0xABCD5432
BOOTLOADER_DESC_MAGIC = 0x50
DESC_OFFSET = 0x20  # 24-byte image header + 8-byte segment header



AppDesc: Any = "esp_app_desc_t (256 bytes)" * Struct(
    "magic_word" / Int32ul,
    "secure_version" / Int32ul,
    "reserv1" / Bytes(8),
    "version" / Bytes(32),
    "project_name" / Bytes(32),
    "time" / Bytes(16),
    "date" / Bytes(16),
    "idf_ver" / Bytes(32),
    "app_elf_sha256" / Bytes(32),
    "min_efuse_blk_rev_full" / Int16ul,
    "max_efuse_blk_rev_full" / Int16ul,
    "mmu_page_size" / Int8ul,
    "spi_flash_mode" / Int8ul,
    "reserv3" / Bytes(2),
    "reserv2" / Bytes(72),
)
BootloaderDesc: Any = "esp_bootloader_desc_t (80 bytes)" * Struct(
    "magic_byte" / Int8ul,
    "reserved" / Bytes(2),
    "secure_version" / Int8ul,
    "version" / Int32ul,
    "idf_ver" / Bytes(32),
    "date_time" / Bytes(24),
    "reserved2" / Bytes(16),
)
