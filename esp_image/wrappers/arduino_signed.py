"""Arduino-ESP8266 signed updates (``signing.py``): the signed part, its signature, and a u32
signature length at the very end.

The trailer has no magic, so :func:`looks_like` claims a file only when the length word is an
RSA signature size and the signed part is exactly one whole update as the Updater accepts it: an
ESP8266 image (or eboot followed by the app at 0x1000) ending exactly where the signature
starts, or one gzip member ending there.

Signature schemes (see :mod:`esp_image.formats.arduino_signed`): ``pkcs1v15-sha256`` (core 2.6
and later: PKCS#1 v1.5 with the SHA-256 DigestInfo) and ``legacy-raw-sha256`` (core 2.5.x: the
bare 32-byte digest PKCS#1-padded, ``signing.py --legacy``), which the current Updater rejects.
"""

from __future__ import annotations

import hashlib

from ..checks import Check
from ..errors import FormatError, KeyMismatch
from ..formats.compiled import arduino_signed as fmt
from ..formats.compiled import gzip as gz_fmt
from . import Unwrapped, load_pem_key, require_cryptography, u32

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import Kind

KIND: Kind = "arduino-signed"
ARDUINO_APP = 0x1000
"""Where the sketch starts in an Arduino-ESP8266 ``firmware.bin`` (after eboot)."""


def _signature_length(data: bytes | memoryview) -> int | None:
    if len(data) < fmt.LENGTH_SIZE:
        return None
    length = u32(data, len(data) - fmt.LENGTH_SIZE)
    if length not in fmt.RSA_SIGNATURE_SIZES or len(data) <= length + fmt.LENGTH_SIZE:
        return None
    return length


def _image_end(view: memoryview) -> int | None:
    """Where the ESP8266 image(s) at the start of ``view`` end (eboot + app for Arduino)."""
    from ..esp8266 import Esp8266Image

    try:
        first = Esp8266Image.from_bytes(view)
        if first.problems:
            return None
        if first.end <= ARDUINO_APP < len(view) and view[ARDUINO_APP] == fmt.MAGIC_IMAGE:
            app = Esp8266Image.from_bytes(view, ARDUINO_APP)
            return None if app.problems else ARDUINO_APP + app.end
    except FormatError:
        return None
    return first.end


def _gzip_end(view: memoryview) -> int | None:
    """Where the gzip member at the start of ``view`` ends (its trailer included)."""
    from ..errors import EspImageError
    from . import gzip

    if not gzip.looks_like(view):
        return None
    try:
        opened = gzip.open(view)
    except EspImageError:
        return None
    size = opened.outer["member_size"]
    return size if isinstance(size, int) else None


def _signed_content(signed: memoryview) -> str | None:
    """``image`` or ``gzip`` when the signed part is exactly one of them, else None."""
    if not signed:
        return None
    if signed[0] == fmt.MAGIC_IMAGE and _image_end(signed) == len(signed):
        return "image"
    if bytes(signed[:2]) == gz_fmt.MAGIC and _gzip_end(signed) == len(signed):
        return "gzip"
    return None


def looks_like(data: bytes | memoryview) -> bool:
    """An RSA signature length in the last 4 bytes and, before the signature, exactly one
    ESP8266 image (or eboot + app) or one gzip member."""
    length = _signature_length(data)
    if length is None:
        return False
    view = memoryview(data)
    return _signed_content(view[:len(view) - length - fmt.LENGTH_SIZE]) is not None


def _verify(signed: bytes, signature: bytes, key: bytes) -> tuple[str | None, str]:
    """The scheme the signature verifies under with ``key`` (None if none), and the key's name.

    Raises:
        KeyMismatch: not an RSA key, or its modulus is not the signature's size.
    """
    require_cryptography()
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    loaded = load_pem_key(key, "signing key")
    public = loaded.public_key() if isinstance(loaded, rsa.RSAPrivateKey) else loaded
    if not isinstance(public, rsa.RSAPublicKey):
        raise KeyMismatch(f"signing key: {type(public).__name__} is not an RSA key; signing.py "
                          "signs with RSA (the Updater's EC path expects raw signatures "
                          "signing.py never writes)")
    if public.key_size // 8 != len(signature):
        raise KeyMismatch(f"signing key: RSA-{public.key_size} makes {public.key_size // 8}-byte "
                          f"signatures; this file carries a {len(signature)}-byte signature")
    name = f"RSA-{public.key_size}"
    try:
        public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        return "pkcs1v15-sha256", name
    except InvalidSignature:
        pass
    try:
        recovered = public.recover_data_from_signature(signature, padding.PKCS1v15(), None)
    except InvalidSignature:
        return None, name
    if recovered == hashlib.sha256(signed).digest():
        return "legacy-raw-sha256", name
    return None, name


def _signature_check(signed: bytes, signature: bytes, key: bytes, at: int) -> Check:
    scheme, name = _verify(signed, signature, key)
    if scheme == "pkcs1v15-sha256":
        return Check("signature", True, at, f"{name} PKCS#1 v1.5 SHA-256 signature verifies "
                                            "with the given public key")
    if scheme == "legacy-raw-sha256":
        return Check("signature", False, at,
                     f"{name} legacy signature (signing.py --legacy: raw SHA-256, no DigestInfo) "
                     "verifies, but Updater in core 2.6.0 and later rejects this form")
    return Check("signature", False, at,
                 f"the signature does not verify with the given {name} key (other key, or the "
                 "signed bytes changed)")


def open(data: bytes | memoryview, key: bytes | None = None) -> Unwrapped:
    """Split a signed update and, with ``key`` (PEM, public or private RSA), verify it.

    Raises:
        FormatError: :func:`looks_like` does not hold.
        KeyMismatch: ``key`` is not an RSA key of the signature's size.
        InputError: ``key`` given but ``cryptography`` is not installed.
    """
    length = _signature_length(data)
    view = memoryview(data)
    signed_len = len(view) - (length or 0) - fmt.LENGTH_SIZE
    content = _signed_content(view[:signed_len]) if length else None
    if length is None or content is None:
        raise FormatError("no Arduino signature trailer (RSA signature length in the last 4 "
                          "bytes after exactly one image or gzip member)",
                          max(len(view) - fmt.LENGTH_SIZE, 0), "Arduino signed update")
    signed = bytes(view[:signed_len])
    signature = bytes(view[signed_len:signed_len + length])
    digest = hashlib.sha256(signed).hexdigest()
    facts: dict[str, object] = {"signed_length": signed_len, "signed_content": content,
                                "signature_length": length, "sha256": digest,
                                "legacy_length_word": bytes(view[-4:]) == fmt.LEGACY_LENGTH_WORD}
    checks: list[Check] = []
    notes = [f"signed part: {signed_len} bytes, SHA-256 {digest}"]
    if key is None:
        notes.append("signature not verified: give the signing public key")
    else:
        checks.append(_signature_check(signed, signature, key, signed_len))
    return Unwrapped(KIND, facts, signed, 0, False, tuple(checks), tuple(notes))
