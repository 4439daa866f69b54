"""ESP-IDF pre-encrypted OTA images (``esp_encrypted_img``): the 512-byte header, and with the
private key the decrypted image.

Two key schemes share the header (:mod:`esp_image.formats.encrypted_img`): ``rsa-3072`` (the
AES key RSA-encrypted, PKCS#1 v1.5) and ``ecies-p256`` (ECDH with a server key in the header,
HKDF-SHA256). The key for ``ecies-p256`` is the device's P-256 private key as PEM, or the raw
32-byte HMAC key (``device_hmac_key.bin``) it is derived from.
"""

from __future__ import annotations

from ..checks import Check
from ..errors import FormatError, KeyMismatch, TruncatedError
from ..formats.compiled import encrypted_img as fmt
from . import Unwrapped, load_pem_key, require_cryptography

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

    from . import Kind

KIND: Kind = "esp-encrypted-img"
STRUCTURE = "esp_encrypted_img header"


def looks_like(data: bytes | memoryview) -> bool:
    """The magic 0x0788B6CF and a whole 512-byte header."""
    return len(data) >= fmt.HEADER_SIZE and int.from_bytes(data[:4], "little") == fmt.MAGIC


def scheme_of(key_block: bytes) -> str:
    """``ecies-p256`` when the key block ends in the ECIES form's 288 zero bytes, else
    ``rsa-3072`` (an RSA ciphertext is never that regular)."""
    reserved = key_block[fmt.ECC_POINT_SIZE + fmt.KDF_SALT_SIZE:]
    return "ecies-p256" if reserved == bytes(fmt.ECC_RESERVED_SIZE) else "rsa-3072"


def _rsa_gcm_key(key_block: bytes, key: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    private = load_pem_key(key, "decryption key")
    if not isinstance(private, rsa.RSAPrivateKey):
        raise KeyMismatch("decryption key: the rsa-3072 scheme needs the RSA private key "
                          f"(got {type(private).__name__})")
    if private.key_size // 8 != fmt.KEY_BLOCK_SIZE:
        raise KeyMismatch(f"decryption key: RSA-{private.key_size}; esp_encrypted_img encrypts "
                          "the image key with RSA-3072")
    try:
        gcm_key = private.decrypt(key_block, padding.PKCS1v15())
    except ValueError:
        raise KeyMismatch("decryption key: the RSA key does not decrypt the image key (not the "
                          "key this image was encrypted for)") from None
    if len(gcm_key) != fmt.GCM_KEY_SIZE:
        # OpenSSL's implicit rejection returns random bytes instead of failing
        raise KeyMismatch("decryption key: the RSA key does not decrypt the image key (not the "
                          "key this image was encrypted for)")
    return gcm_key


def _device_ec_key(key: bytes) -> EllipticCurvePrivateKey:
    import hashlib

    from cryptography.hazmat.primitives.asymmetric import ec

    if len(key) == fmt.HMAC_KEY_SIZE and not key.startswith(b"-----"):
        raw = hashlib.pbkdf2_hmac("sha256", key, fmt.PBKDF2_SALT, fmt.PBKDF2_ITERATIONS)
        try:
            return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        except ValueError:
            raise KeyMismatch("decryption key: this HMAC key derives no valid P-256 key") from None
    private = load_pem_key(key, "decryption key")
    if not isinstance(private, ec.EllipticCurvePrivateKey) \
            or not isinstance(private.curve, ec.SECP256R1):
        raise KeyMismatch("decryption key: the ecies-p256 scheme needs the device's P-256 "
                          "private key (PEM) or its 32-byte HMAC key")
    return private


def _ecies_gcm_key(key_block: bytes, key: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    block = fmt.EciesKeyBlock.parse(key_block, 0, STRUCTURE)
    private = _device_ec_key(key)
    try:
        server = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b"\x04" + block.server_point)
    except ValueError:
        raise FormatError("the server public key is not a P-256 point", 4, STRUCTURE) from None
    secret = private.exchange(ec.ECDH(), server)
    return HKDF(algorithm=hashes.SHA256(), length=fmt.GCM_KEY_SIZE, salt=block.kdf_salt,
                info=fmt.HKDF_INFO).derive(secret)


def decrypt(data: bytes | memoryview, key: bytes) -> tuple[bytes | None, Check]:
    """Decrypt the image with ``key``: the plaintext (None when the GCM tag fails) and the
    ``gcm-tag`` check.

    Raises:
        KeyMismatch: the key is of the wrong kind or does not open the image key.
        FormatError / TruncatedError: the header is not usable.
        InputError: ``cryptography`` is not installed.
    """
    require_cryptography()
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    h = fmt.PreEncHeader.parse(data, 0, STRUCTURE)
    end = fmt.HEADER_SIZE + h.bin_size
    if end > len(data):
        raise TruncatedError(f"{h.bin_size} bytes of ciphertext declared, "
                             f"{len(data) - fmt.HEADER_SIZE} present", 0, STRUCTURE)
    scheme = scheme_of(h.key_block)
    gcm_key = (_ecies_gcm_key(h.key_block, key) if scheme == "ecies-p256"
               else _rsa_gcm_key(h.key_block, key))
    ciphertext = bytes(data[fmt.HEADER_SIZE:end])
    tag_at = 4 + fmt.KEY_BLOCK_SIZE + fmt.IV_SIZE + 4
    try:
        plain = AESGCM(gcm_key).decrypt(h.iv, ciphertext + h.auth, None)
    except InvalidTag:
        # RSA: the key decrypted a 32-byte image key, so the data (or that block) changed;
        # ECIES: any device key derives some AES key, so a wrong key looks the same
        cause = ("the header or ciphertext was altered" if scheme == "rsa-3072"
                 else "not this image's device key, or the header or ciphertext was altered")
        return None, Check("gcm-tag", False, tag_at, f"AES-GCM tag does not match: {cause}")
    return plain, Check("gcm-tag", True, tag_at,
                        f"AES-256-GCM tag {h.auth.hex()} matches; {len(plain)} bytes decrypted")


def open(data: bytes | memoryview, key: bytes | None = None) -> Unwrapped:
    """Read the header and, with the private key, decrypt the image.

    Raises:
        FormatError: not an ``esp_encrypted_img`` file.
        KeyMismatch: ``key`` is of the wrong kind or does not open the image key.
        InputError: ``key`` given but ``cryptography`` is not installed.
    """
    if not looks_like(data):
        raise FormatError("no esp_encrypted_img magic 0x0788B6CF with a 512-byte header", 0,
                          STRUCTURE)
    h = fmt.PreEncHeader.parse(data, 0, STRUCTURE)
    scheme = scheme_of(h.key_block)
    available = len(data) - fmt.HEADER_SIZE
    facts: dict[str, object] = {"scheme": scheme, "header_size": fmt.HEADER_SIZE,
                                "bin_size": h.bin_size, "iv": h.iv.hex(),
                                "auth_tag": h.auth.hex(),
                                "reserved_zero": h.reserved == bytes(fmt.RESERVED_SIZE)}
    if scheme == "ecies-p256":
        block = fmt.EciesKeyBlock.parse(h.key_block, 0, STRUCTURE)
        facts["server_public_key"] = block.server_point.hex()
        facts["kdf_salt"] = block.kdf_salt.hex()
    size_ok = available == h.bin_size
    checks = [Check("size", size_ok, 4 + fmt.KEY_BLOCK_SIZE + fmt.IV_SIZE,
                    f"ciphertext size {h.bin_size}, {available} bytes after the header")]
    notes: list[str] = []
    inner = None
    if key is None:
        notes.append("encrypted: give the private key to decrypt and judge the image")
    elif available >= h.bin_size:
        inner, tag = decrypt(data, key)
        checks.append(tag)
    return Unwrapped(KIND, facts, inner, fmt.HEADER_SIZE, True, tuple(checks), tuple(notes))
