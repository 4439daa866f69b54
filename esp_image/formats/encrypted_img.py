"""ESP-IDF pre-encrypted OTA images (the ``esp_encrypted_img`` component): the 512-byte header.

Sources (espressif/idf-extra-components ``esp_encrypted_img``):

- ``tools/esp_enc_img_gen.py``: magic 0x0788B6CF (little-endian), then for RSA-3072 the 32-byte
  AES-256 key encrypted with RSA PKCS#1 v1.5 (384 bytes), for ECC-256 (ECIES) the server's
  P-256 public point X || Y (64 bytes), a 32-byte HKDF salt and 288 zero bytes in the same 384;
  then the 16-byte GCM IV, the u32 ciphertext size, the 16-byte GCM tag and 88 zero bytes;
  the AES-256-GCM ciphertext (no associated data) follows. ECIES: AES key = HKDF-SHA256
  (salt, info ``_esp_enc_img_ecc``) of the ECDH secret; the device key is derived from a 32-byte
  HMAC key with PBKDF2-HMAC-SHA256 (``PREDEFINED_SALT``, 2048 iterations);
- ``private_include/esp_encrypted_img_priv.h`` (``pre_enc_bin_header``) and
  ``src/esp_encrypted_img.c`` (``mbedtls_pk_decrypt`` / ``PSA_ALG_RSA_PKCS1V15_CRYPT``: PKCS#1
  v1.5, not OAEP).

The header carries no scheme field: the ECIES form is known by its 288 zero bytes where an RSA
ciphertext is uniformly random.

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Bytes, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

MAGIC = 0x0788B6CF
"""``echo -n esp_encrypted_img | sha256sum``, first word."""
HEADER_SIZE = 512
KEY_BLOCK_SIZE = 384
"""``ENC_GCM_KEY_SIZE``: an RSA-3072 ciphertext."""
GCM_KEY_SIZE = 32
IV_SIZE = 16
AUTH_SIZE = 16
RESERVED_SIZE = 88
ECC_POINT_SIZE = 64
KDF_SALT_SIZE = 32
ECC_RESERVED_SIZE = KEY_BLOCK_SIZE - ECC_POINT_SIZE - KDF_SALT_SIZE
HKDF_INFO = b"_esp_enc_img_ecc"
PBKDF2_SALT = bytes.fromhex("0e2160642dae76d33448e43d7720123d9f3b1eceb88e573a4e8f7fb94ff0c869")
PBKDF2_ITERATIONS = 2048
HMAC_KEY_SIZE = 32

PreEncHeader: Any = """``pre_enc_bin_header``: 512 bytes before the ciphertext.""" * Struct(
    "magic" / Int32ul,
    "key_block" / Bytes(KEY_BLOCK_SIZE),
    "iv" / Bytes(IV_SIZE),
    "bin_size" / Int32ul,
    "auth" / Bytes(AUTH_SIZE),
    "reserved" / Bytes(RESERVED_SIZE),
)

EciesKeyBlock: Any = """The key block of the ECC-256 (ECIES) form: the server's ephemeral P-256
public point (X || Y, no 0x04 prefix), the HKDF salt, zero bytes.""" * Struct(
    "server_point" / Bytes(ECC_POINT_SIZE),
    "kdf_salt" / Bytes(KDF_SALT_SIZE),
    "reserved" / Bytes(ECC_RESERVED_SIZE),
)
