"""Arduino-ESP8266 signed updates: image (or gzip of it), signature, u32 signature length.

Sources (esp8266/Arduino at f946290):

- ``tools/signing.py`` ``sign_and_write``: ``openssl dgst -sha256 -sign KEY`` over the whole
  input file, then ``struct.pack("<L", len(signature))``; ``sign_and_write_legacy`` (core
  2.5.x form, the ``--legacy`` output): ``openssl rsautl -sign`` over the raw 32-byte SHA-256,
  i.e. PKCS#1 v1.5 type-1 padding without a DigestInfo;
- ``cores/esp8266/Updater.cpp`` ``end()``: the last four bytes must equal the verifier's
  ``length()``; the signature precedes them; the SHA-256 covers everything before it;
- ``libraries/ESP8266WiFi/src/BearSSLHelpers.cpp`` ``SigningVerifier``: RSA keys verify with
  ``br_rsa_pkcs1_vrfy`` and the SHA-256 OID (PKCS#1 v1.5 with DigestInfo), ``length()`` is the
  modulus size in bytes; EC keys use ``br_ecdsa_vrfy_raw`` with ``length()`` = the public point
  size (65 for P-256), which signing.py's DER signatures never match;
- ``doc/ota_updates/readme.rst``: "sign the gzip compressed file *after* compression".

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

LENGTH_SIZE = 4
RSA_SIGNATURE_SIZES = (128, 256, 384, 512)
"""RSA-1024/2048/3072/4096 moduli in bytes: the signature lengths BearSSL can check."""
LEGACY_LENGTH_WORD = b"\x00\x01\x00\x00"
"""The 2.5.0 signing.py wrote this constant (256) instead of the real length."""
MAGIC_IMAGE = 0xE9
MAGIC_GZIP = b"\x1f\x8b"

SignatureLength: Any = "u32 signature length, the last four bytes of the file" * Struct(
    "length" / Int32ul,
)
