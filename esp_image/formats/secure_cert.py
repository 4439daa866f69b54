"""The ``esp_secure_cert`` partition in TLV form (espressif/esp_secure_cert_mgr).

Sources (esp_secure_cert_mgr, main branch, 2025):

- ``private_include/esp_secure_cert_tlv_private.h``: ``esp_secure_cert_tlv_header_t`` (12 bytes,
  packed: magic 0xBA5EBA11, flags, 3 reserved bytes, type, subtype, u16 length),
  ``esp_secure_cert_tlv_footer_t`` (the CRC), ``MIN_ALIGNMENT_REQUIRED`` (16) and the flag bits.
- ``include/esp_secure_cert_tlv_config.h``: ``esp_secure_cert_tlv_type_t``.
- ``srcs/esp_secure_cert_tlv_read.c``: ``esp_secure_cert_find_tlv`` walks the partition from
  offset 0 and stops at the first header without the magic; ``esp_secure_cert_verify_tlv_integrity``
  compares the footer with ``esp_crc32_le(UINT32_MAX, header, 12 + length + padding)``: the CRC
  covers the header, the data and the padding (not the footer);
  ``esp_secure_cert_verify_partition_integrity`` compares the 32-byte value of the last
  ``INTEGRITY`` TLV with SHA-256 of the partition bytes before that TLV.
- ``tools/esp_secure_cert/tlv_format.py``: the generator pads with zero bytes.

The partition is 8 KiB (``0x3F`` type, no subtype), normally erased (0xFF) after the last TLV.
Older generators wrote ``flags`` and ``reserved`` as 0xFF; the reader never looks at the
reserved bytes, so such partitions read the same.

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Bytes, Int8ul, Int16ul, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

MAGIC = 0xBA5EBA11
"""``ESP_SECURE_CERT_TLV_MAGIC``, little-endian at the start of every TLV."""
MAGIC_BYTES = b"\x11\xba\x5e\xba"
HEADER_SIZE = 12
FOOTER_SIZE = 4
ALIGNMENT = 16
"""``MIN_ALIGNMENT_REQUIRED``: data is padded to a multiple of 16 (flash-encryption block)."""
PARTITION_TYPE = 0x3F
"""``ESP_SECURE_CERT_TLV_PARTITION_TYPE`` in the partition table."""
PARTITION_NAME = "esp_secure_cert"
INTEGRITY_SIZE = 32
"""The INTEGRITY TLV holds a SHA-256."""

# --- esp_secure_cert_tlv_type_t ----------------------------------------------------------------

TYPE_CA_CERT = 0
TYPE_DEV_CERT = 1
TYPE_PRIV_KEY = 2
TYPE_DS_DATA = 3
TYPE_DS_CONTEXT = 4
TYPE_HMAC_ECDSA_KEY_SALT = 5
TYPE_SEC_CFG = 6
TYPE_TEE_SEC_STORAGE_KEY = 7
TYPE_SIGNATURE_BLOCK = 8
TYPE_INTEGRITY = 9

TYPE_NAMES: dict[int, str] = {
    TYPE_CA_CERT: "ca_cert",
    TYPE_DEV_CERT: "dev_cert",
    TYPE_PRIV_KEY: "priv_key",
    TYPE_DS_DATA: "ds_data",
    TYPE_DS_CONTEXT: "ds_context",
    TYPE_HMAC_ECDSA_KEY_SALT: "hmac_ecdsa_key_salt",
    TYPE_SEC_CFG: "sec_cfg",
    TYPE_TEE_SEC_STORAGE_KEY: "tee_sec_storage_key",
    TYPE_SIGNATURE_BLOCK: "signature_block",
    TYPE_INTEGRITY: "integrity",
    51: "user_data_1",
    52: "user_data_2",
    53: "user_data_3",
    54: "user_data_4",
    55: "user_data_5",
    201: "matter_1",
    202: "matter_2",
}
"""Names of the known types (``ESP_SECURE_CERT_*_TLV`` in lower case); others stay numbers."""

# --- flags (esp_secure_cert_tlv_private.h) ------------------------------------------------------

FLAG_STORAGE_MASK = 0xC0
"""Bits 7..6: how the data is stored."""
FLAG_HMAC_ENCRYPTION = 2 << 6
"""AES-GCM with a key derived from the HMAC_UP eFuse key."""
FLAG_HMAC_ECDSA_KEY_DERIVATION = 1 << 6
"""The ECDSA key is derived (PBKDF2) from the HMAC_UP key and the salt TLV."""
FLAG_KEY_MASK = 0x38
"""Bits 5..3: where the key lives."""
FLAG_KEY_ECDSA_PERIPHERAL = 1 << 3
"""The private key is in an eFuse block, used through the ECDSA peripheral."""

# --- structures --------------------------------------------------------------------------------

TlvHeader: Any = """``esp_secure_cert_tlv_header_t``, 12 bytes. ``magic`` is a plain field:
the reader ends the chain at the first header without it.""" * Struct(
    "magic" / Int32ul,
    "flags" / Int8ul,
    "reserved" / Bytes(3),
    "type" / Int8ul,
    "subtype" / Int8ul,
    "length" / Int16ul,
)
TlvFooter: Any = """``esp_secure_cert_tlv_footer_t``: CRC-32 (``esp_crc32_le(UINT32_MAX, ...)``)
of header, data and padding.""" * Struct(
    "crc" / Int32ul,
)


def padding_length(length: int) -> int:
    """Zero bytes between ``length`` bytes of data and the footer (to a multiple of 16)."""
    return -length % ALIGNMENT


def tlv_size(length: int) -> int:
    """Bytes one TLV with ``length`` bytes of data takes: header, data, padding, footer."""
    return HEADER_SIZE + length + padding_length(length) + FOOTER_SIZE
