"""yaota8266 keys: RSA-512 with e = 3, as PEM, and the ``MODULUS`` of ota-server's config.h.

:func:`generate_key` is ``gen_keys.sh`` (``openssl genrsa -3 512``); :func:`modulus_line` is
``rsa_sign.py dump_modulus``; :func:`parse_modulus` reads the modulus back from any form people
have. ``cryptography`` (the ``yaota`` extra) reads and writes PEM, imported lazily; signing
uses plain integers (:class:`_PrivateKey`). Importable from :mod:`esp_image.transforms.yaota`.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass

from ..errors import InputError

KEY_BITS = 512
"""ota-server's ``MODULUS`` is 64 bytes (``RSA_BLK_SIZE = sizeof(MOD) - 1``)."""
KEY_BYTES = KEY_BITS // 8
PUBLIC_EXPONENT = 3
"""Hard-coded in ota.c (``RSA_pub_key_new(..., "\\x03", 1)``)."""
RSA_WARNING = ("RSA-512 keys can be factored with modest resources; yaota8266 cannot use "
               "anything stronger, so treat its signatures as protection against accidents, "
               "not against a determined attacker")

_INSTALL_HINT = ("RSA keys need the 'cryptography' package: install esp-image[yaota] "
                 "(pip install 'esp-image[yaota]')")


# ====================================================================== keys
@dataclass(frozen=True)
class _PrivateKey:
    """An RSA private key's numbers, as PKCS#1 lists them."""

    n: int
    d: int
    p: int
    q: int
    dmp1: int
    dmq1: int
    iqmp: int

    def sign_int(self, m: int) -> int:
        """``m ** d mod n`` with the CRT (the same value as ``pow(m, d, n)``, four times
        faster), checked with the public exponent against a fault."""
        m1 = pow(m, self.dmp1, self.p)
        m2 = pow(m, self.dmq1, self.q)
        s = m2 + (self.iqmp * (m1 - m2) % self.p) * self.q
        if pow(s, PUBLIC_EXPONENT, self.n) != m:  # pragma: no cover - a key/arithmetic fault
            raise InputError("the private key is inconsistent: a signature does not verify")
        return s


def _require_cryptography() -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise InputError(_INSTALL_HINT) from None


def _require_yaota_key(n: int, e: int, what: str) -> None:
    if e != PUBLIC_EXPONENT:
        raise InputError(f"{what}: public exponent {e}; yaota8266's ota-server hard-codes "
                         f"e = {PUBLIC_EXPONENT} (gen_keys.sh: openssl genrsa -3 512)")
    if n.bit_length() != KEY_BITS:
        raise InputError(f"{what}: a {n.bit_length()}-bit modulus; yaota8266 needs exactly "
                         f"{KEY_BITS} bits (ota-server's MODULUS is {KEY_BYTES} bytes and every "
                         f"datagram carries a {KEY_BYTES}-byte signature)")


def _load_private(pem: bytes) -> _PrivateKey:
    _require_cryptography()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InputError(f"the key is {type(key).__name__}, not an RSA private key")
    numbers = key.private_numbers()
    pub = numbers.public_numbers
    _require_yaota_key(pub.n, pub.e, "private key")
    return _PrivateKey(pub.n, numbers.d, numbers.p, numbers.q, numbers.dmp1, numbers.dmq1,
                       numbers.iqmp)


def key_modulus(pem: bytes) -> int:
    """The RSA modulus of a PEM key, private (``priv.key``) or public (``pub.key``).

    Raises:
        InputError: not a PEM RSA key, not 512 bits with e = 3, or cryptography is missing.
    """
    _require_cryptography()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if b"PRIVATE KEY-----" in pem:
        return _load_private(pem).n
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a PEM RSA key: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise InputError(f"the key is {type(key).__name__}, not an RSA key")
    numbers = key.public_numbers()
    _require_yaota_key(numbers.n, numbers.e, "public key")
    return numbers.n


_SMALL_PRIMES = (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73,
                 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157)


def _probable_prime(n: int, rounds: int = 64) -> bool:
    """Miller-Rabin with random bases (error below 4**-rounds)."""
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for _ in range(rounds):
        x = pow(2 + secrets.randbelow(n - 3), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int) -> int:
    """A random prime of exactly ``bits`` bits, top two bits set (so p*q has 2*bits bits),
    with ``p mod 3 == 2`` (so 3 is invertible modulo p - 1)."""
    while True:
        c = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if c % 3 != 2 or any(c % s == 0 for s in _SMALL_PRIMES):
            continue
        if _probable_prime(c):
            return c


def generate_key() -> bytes:
    """A new RSA-512 private key with public exponent 3, as PEM.

    The format is the traditional ``-----BEGIN RSA PRIVATE KEY-----`` (PKCS#1) that
    ``openssl genrsa -3 512`` wrote when yaota8266 was published; ``rsa_sign.py`` reads it
    through ``openssl pkey -in priv.key -text`` (which reads PKCS#8 too). The primes come from
    :mod:`secrets` and a Miller-Rabin test, because ``cryptography`` refuses to generate keys
    below 1024 bits; ``cryptography`` then checks the key and writes the PEM. d = 3^-1 mod
    lcm(p-1, q-1).

    Raises:
        InputError: cryptography is not installed (``esp-image[yaota]``).
    """
    _require_cryptography()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    half = KEY_BITS // 2
    while True:
        p, q = _prime(half), _prime(half)
        if p != q and (p * q).bit_length() == KEY_BITS:
            break
    if p < q:  # OpenSSL's convention (p > q); only cosmetic
        p, q = q, p
    d = pow(PUBLIC_EXPONENT, -1, math.lcm(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p, q=q, d=d, dmp1=rsa.rsa_crt_dmp1(d, p), dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q), public_numbers=rsa.RSAPublicNumbers(PUBLIC_EXPONENT, p * q))
    key = numbers.private_key()  # cryptography (OpenSSL) checks the key here
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def public_key_pem(pem: bytes) -> bytes:
    """The public key of a private PEM key as ``openssl rsa -pubout`` writes it (``pub.key``
    of gen_keys.sh: SubjectPublicKeyInfo PEM).

    Raises:
        InputError: as :func:`key_modulus`.
    """
    _require_cryptography()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    n = _load_private(pem).n
    public = rsa.RSAPublicNumbers(PUBLIC_EXPONENT, n).public_key()
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


def modulus_line(pem: bytes) -> str:
    """The ``config.h`` line for ota-server: ``#define MODULUS "\\xce\\x4a..."``.

    Exactly what ``rsa_sign.py dump_modulus`` prints: the 64 modulus bytes, big-endian, each
    as a lower-case ``\\xNN`` escape (``config.h.example`` has the same form).

    Raises:
        InputError: as :func:`key_modulus`.
    """
    n = key_modulus(pem)
    return '#define MODULUS "' + "".join(f"\\x{b:02x}" for b in n.to_bytes(KEY_BYTES, "big")) + '"'


_DEFINE_RE = re.compile(r'#\s*define\s+MODULUS\s+"((?:\\x[0-9a-fA-F]{2})+)"')
_ESCAPES_RE = re.compile(r'^"?((?:\\x[0-9a-fA-F]{2})+)"?$')


def parse_modulus(text: str) -> int:
    """The public modulus from any of the forms people have at hand.

    Accepted: hex digits (``ce4aaf65...``, optionally ``0x``-prefixed, with ``:`` or spaces as
    ``openssl pkey -text`` prints it), the C string ``"\\xce\\x4a..."``, the
    ``#define MODULUS "..."`` line, or a whole ``config.h`` containing that line.

    Raises:
        InputError: none of these forms, or not a 512-bit modulus.
    """
    found = _DEFINE_RE.search(text)
    stripped = text.strip()
    escapes = _ESCAPES_RE.match(stripped)
    if found or escapes:
        match = found or escapes
        assert match is not None
        body = match.group(1)
        raw = bytes(int(h, 16) for h in re.findall(r"\\x([0-9a-fA-F]{2})", body))
        if len(raw) != KEY_BYTES:
            raise InputError(f"the MODULUS string holds {len(raw)} bytes; ota-server needs "
                             f"{KEY_BYTES}")
        n = int.from_bytes(raw, "big")
    else:
        digits = re.sub(r"[\s:]", "", stripped)
        if digits[:2].lower() == "0x":
            digits = digits[2:]
        if not digits or not re.fullmatch(r"[0-9a-fA-F]+", digits):
            if "\n" in stripped or "#define" in stripped:
                raise InputError('no #define MODULUS "\\x.." line with a 64-byte string found')
            shown = stripped[:40] + ("..." if len(stripped) > 40 else "")
            raise InputError(f"the modulus {shown!r} is neither hex digits nor a config.h "
                             "MODULUS string")
        n = int(digits, 16)
    _require_yaota_key(n, PUBLIC_EXPONENT, "modulus")
    if n % 2 == 0:
        raise InputError("the modulus is even: not an RSA modulus")
    return n
