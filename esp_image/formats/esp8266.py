"""ESP8266 images and flash structures: construct declarations and encoding tables only.

Sources (see shared/docs/formats/esp8266.md):

- esptool 5.6.0 ``esptool/bin_image.py`` (``ESP8266ROMFirmwareImage``,
  ``ESP8266V2FirmwareImage``, ``ESP8266V3FirmwareImage``, ``esp8266_crc32``) and
  ``esptool/targets/esp8266.py`` (``FLASH_SIZES``, ``FLASH_FREQUENCY``, ``MEMORY_MAP``);
- ESP8266_NONOS_SDK ``tools/gen_appbin.py`` (v2 ``user1.bin``/``user2.bin``: EA bytes 2-3 are
  ``00`` and the user-bin number), ``include/user_interface.h`` (``enum flash_size_map``);
- ESP8266_RTOS_SDK ``components/spi_flash/port/port.c`` (``sys_param_t``, ``boot_param_t``:
  the flag sector and ``boot_hdr``), ``components/bootloader_support/include/esp_image_format.h``
  (the 8-byte ESP8266 ``esp_image_header_t`` used by v3 images),
  ``components/esp8266/include/esp_phy_init.h`` (128-byte ``esp_init_data_default``).

Pure declarations: no I/O, no policy. Segment data is sliced by the model, never parsed here.
"""

from __future__ import annotations

from construct import (
    Array,
    BitsInteger,
    BitStruct,
    Bytes,
    Const,
    Flag,
    Int8ul,
    Int24ul,
    Int32ul,
    Nibble,
    Struct,
)

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

MAGIC_V1 = 0xE9
MAGIC_V2 = 0xEA
V2_SEGMENT_COUNT = 4
"""Byte 1 of a v2 header: a constant that boot_v1.x and rBoot require."""
CHECKSUM_SEED = 0xEF
MAX_SEGMENTS = 16
"""esptool refuses to read more segments than this."""
SEGMENT_MAX_LEN = 0x1000000
DIGEST_SIZE = 32
IROM_MAP_START = 0x40200000
IROM_MAP_END = 0x40300000
"""The flash cache window: 1 MiB of flash mapped at a time."""
IROM_WINDOW = IROM_MAP_END - IROM_MAP_START
"""Flash offsets map into the window modulo its size."""

FLASH_MODES: dict[int, str] = {0: "qio", 1: "qout", 2: "dio", 3: "dout"}
FLASH_FREQS: dict[int, str] = {0x0: "40m", 0x1: "26m", 0x2: "20m", 0xF: "80m"}

# Header byte 3, high nibble (esp8266.md §2.1): esptool ESP8266ROM.FLASH_SIZES and the SDK's
# enum flash_size_map. code -> (esptool name, legacy esptool 1.x name, flash bytes,
# OTA slot size or None, supported by current esptool).
KB = 1024
MB = 1024 * 1024
FLASH_SIZE_CODES: dict[int, tuple[str, str | None, int, int | None, bool]] = {
    0x0: ("512KB", "4m", 512 * KB, 256 * KB, True),
    0x1: ("256KB", "2m", 256 * KB, None, True),
    0x2: ("1MB", "8m", 1 * MB, 512 * KB, True),
    0x3: ("2MB", "16m", 2 * MB, 512 * KB, True),
    0x4: ("4MB", "32m", 4 * MB, 512 * KB, True),
    0x5: ("2MB-c1", "16m-c1", 2 * MB, 1024 * KB, True),
    0x6: ("4MB-c1", "32m-c1", 4 * MB, 1024 * KB, True),
    0x7: ("4MB-c2", "32m-c2", 4 * MB, 2048 * KB, False),
    0x8: ("8MB", None, 8 * MB, 1024 * KB, True),
    0x9: ("16MB", None, 16 * MB, 1024 * KB, True),
}
SDK_MAP_NAMES: dict[int, str] = {
    0x0: "FLASH_SIZE_4M_MAP_256_256",
    0x1: "FLASH_SIZE_2M",
    0x2: "FLASH_SIZE_8M_MAP_512_512",
    0x3: "FLASH_SIZE_16M_MAP_512_512",
    0x4: "FLASH_SIZE_32M_MAP_512_512",
    0x5: "FLASH_SIZE_16M_MAP_1024_1024",
    0x6: "FLASH_SIZE_32M_MAP_1024_1024",
    0x7: "FLASH_SIZE_32M_MAP_2048_2048",
    0x8: "FLASH_SIZE_64M_MAP_1024_1024",
    0x9: "FLASH_SIZE_128M_MAP_1024_1024",
}

ImageHeader: Any = """ESP8266 v1 image header (8 bytes; also the RTOS SDK v3 header and the inner
header of a v2 image). Byte 3: size/map code in the HIGH nibble, clock in the low nibble;
BitStruct is MSB first, so flash_size is listed first.""" * Struct(
    "magic" / Const(b"\xe9"),
    "segment_count" / Int8ul,
    "flash_mode" / Int8ul,
    "flash" / BitStruct("flash_size" / Nibble, "flash_freq" / Nibble),
    "entry" / Int32ul,
)

SegmentHeader: Any = """ESP8266 segment header (8 bytes): the same bytes as
esp32_image.SegmentHeader, which the shared container walker reads for every family.""" * Struct(
    "load_addr" / Int32ul,
    "length" / Int32ul,
)

V2Header: Any = """ESP8266 v2 (0xEA) outer header plus the irom segment header (16 bytes).
Bytes 2-3 are flash_mode / flash_size_freq in esptool's writer, but 0x00 and the user-bin
number (1 or 2) in Espressif's gen_appbin; the model decides which.""" * Struct(
    "magic" / Const(b"\xea"),
    "segment_count" / Int8ul,
    "byte2" / Int8ul,
    "byte3" / Int8ul,
    "entry" / Int32ul,
    "irom_addr" / Int32ul,
    "irom_len" / Int32ul,
)

CrcTrailer: Any = "v2 CRC32 trailer: esp8266_crc32(file[:-4]) (esp8266.md §4)" * Struct(
    "crc32" / Int32ul,
)

# ---------------------------------------------------------------------- RF/PHY init data
INIT_DATA_SIZE = 128
INIT_DATA_MARKER = 0x05
VDD33_CONST_OFFSET = 107
RF_CAL_MODE_OFFSET = 114

InitData: Any = """esp_init_data_default (128 bytes, esp_phy_init.h ``uint8_t params[128]``).
Byte 0 is 0x05, byte 1 the version (0x00 in v05, 0x08 in v08), byte 107 vdd33_const (ADC
mode), byte 114 the power-up RF calibration mode (inferred).""" * Struct(
    "marker" / Int8ul,
    "version" / Int8ul,
    "params_2" / Bytes(VDD33_CONST_OFFSET - 2),
    "vdd33_const" / Int8ul,
    "params_108" / Bytes(RF_CAL_MODE_OFFSET - VDD33_CONST_OFFSET - 1),
    "rf_cal_mode" / Int8ul,
    "params_115" / Bytes(INIT_DATA_SIZE - RF_CAL_MODE_OFFSET - 1),
)

# ---------------------------------------------------------------------- system parameters
SYS_PARAM_SECTORS = 3
"""save0, save1, flag: the last three 4 KiB sectors of flash."""

SysParam: Any = """Flag record at the start of the flag sector (port.c ``sys_param_t``, 32 bytes):
``flag == 0`` selects save copy 0, any other value (erased 0xFF too) copy 1. The rest is
``reserved`` in port.c; NONOS 3.x fills it with magic1 0x55AA55AA, a write counter, two
lengths, two checksums and magic2 0xAA55AA55 (reverse-engineered, inferred).""" * Struct(
    "flag" / Int8ul,
    "reserved1" / Bytes(3),
    "reserved2" / Array(7, Int32ul),
)
FLAG_MAGIC1 = 0x55AA55AA
FLAG_MAGIC2 = 0xAA55AA55

BootHdr: Any = """struct boot_hdr (8 bytes at the start of the live save sector; port.c
``boot_param_t.boot_base``). C bitfields are LSB first; BitStruct is MSB first, so each byte
lists its fields from the high bit down.""" * Struct(
    "b0" / BitStruct(
        "reserved" / BitsInteger(4),
        "to_qio" / Flag,
        "boot_status" / BitsInteger(1),
        "usr_bin" / BitsInteger(2),
    ),
    "b1" / BitStruct(
        "enhance_boot_flag" / Flag,
        "test_start_flag" / Flag,
        "test_pass_flag" / Flag,
        "version" / BitsInteger(5),
    ),
    "test_bin_addr" / Int24ul,
    "user_bin_addr" / Int24ul,
)
