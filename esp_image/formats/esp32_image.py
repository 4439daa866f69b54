"""ESP32-family app and bootloader image: header, segment header, signature blocks.

Follows ESP-IDF ``components/bootloader_support/include/esp_app_format.h``
(``esp_image_header_t``, ``esp_image_segment_header_t``), ``esp_secure_boot.h``
(``esp_secure_boot_sig_block_t``, Secure Boot v1) and ``rom/secure_boot.h``
(``ets_secure_boot_sig_block_t``, Secure Boot v2). See shared/docs/formats/esp32-image.md.

Only headers are declared with construct: megabytes of segment data are sliced, never parsed.
"""

from __future__ import annotations

from construct import BitStruct, Bytes, Const, Int8ul, Int16ul, Int32ul, Nibble, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

MAGIC = 0xE9
CHECKSUM_SEED = 0xEF
MAX_SEGMENTS = 16
DIGEST_SIZE = 32
SEGMENT_MAX_LEN = 0x1000000
LOADED_ADDR_MIN = 0x10000000  # ESP-IDF should_load(): lower addresses are not loaded
SPI_MODES = {0: "qio", 1: "qout", 2: "dio", 3: "dout", 4: "fast_read", 5: "slow_read"}


SBV2_MAGIC = 0xE7
SBV2_SECTOR_SIZE = 4096
SBV2_CRC_COVERS = 1196
SBV2_VERSION_RSA = 0x02
SBV2_VERSION_ECDSA = 0x03
SBV2_RSA_KEY_SIZE = 776  # ets_rsa_pubkey_t: n (384), e (4), rinv (384), mdash (4)

# Annotated Any: construct-typing types the ``"""doc""" * Struct(...)`` idiom as str.

ImageHeader: Any = """esp_image_header_t (24 bytes). spi_speed is the LOW nibble of
byte 3 (C bitfield ``spi_speed:4; spi_size:4``); BitStruct is MSB first, so size comes
first.""" * Struct(
    "magic" / Const(b"\xe9"),
    "segment_count" / Int8ul,
    "spi_mode" / Int8ul,
    "spi" / BitStruct("spi_size" / Nibble, "spi_speed" / Nibble),
    "entry_addr" / Int32ul,
    "wp_pin" / Int8ul,
    "spi_pin_drv" / Bytes(3),
    "chip_id" / Int16ul,
    "min_chip_rev" / Int8ul,
    "min_chip_rev_full" / Int16ul,
    "max_chip_rev_full" / Int16ul,
    "reserved" / Bytes(4),
    "hash_appended" / Int8ul,
)
SegmentHeader: Any = "esp_image_segment_header_t (8 bytes)" * Struct(
    "load_addr" / Int32ul,
    "data_len" / Int32ul,
)
SecureBootV1Block: Any = """esp_secure_boot_sig_block_t: version 0 then an ECDSA P-256 r||s
signature (big-endian halves) over everything before the block.""" * Struct(
    "version" / Int32ul,
    "signature" / Bytes(64),
)
SignatureBlockV2: Any = """ets_secure_boot_sig_block_t (1216 bytes). Bytes 2-3 are padding
for RSA and (sha_version, padding) for ECDSA; ``body`` holds the digest, key and signature,
whose layout depends on the scheme (decoded in the model). ``block_crc`` is zlib.crc32 of
bytes 0..1195.""" * (
    Struct(
        "magic" / Const(b"\xe7"),
        "version" / Int8ul,
        "sha_version" / Int8ul,
        "_pad" / Bytes(1),
        "body" / Bytes(1192),
        "block_crc" / Int32ul,
        "_pad2" / Bytes(16),
    )
)
