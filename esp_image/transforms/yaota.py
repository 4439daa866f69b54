"""The yaota8266 toolkit: keys, the main-app file, signed ``.ota`` updates, initial images and
the flash plan.

Pure functions: bytes in, bytes (or frozen results) out; errors are :mod:`esp_image.errors`
exceptions. Every output is checked with the typed models of :mod:`esp_image.yaota8266`
before it is returned. Section numbers refer to shared/docs/formats/yaota8266.md.

- :func:`generate_key` / :func:`modulus_line`: an RSA-512 key with e = 3 (``gen_keys.sh``:
  ``openssl genrsa -3 512``) as PEM, and the ``#define MODULUS`` line of ota-server's
  ``config.h`` (``rsa_sign.py dump_modulus``);
- :func:`make_main_app`: ``firmware-ota.bin`` exactly as MicroPython's ``makeimg.py`` builds
  it (§3), refusing an irom linked for another address and an app boot8266 rejects;
- :func:`sign_ota` / :func:`verify_ota`: the ``.ota`` file of ``ota_client.py sign`` (§4.2,
  §4.3, §4.5) and its full verification (file SHA-1, every datagram's RSA signature);
- :func:`make_initial_image`: ``yaota8266.bin`` padded to ``MAIN_APP_OFFSET`` plus the main
  app, with the §1.1 consistency checks;
- :func:`yaota_plan`: the flash plan, the esptool command and the steps of the OTA workflow.

The RSA operations use plain integers (the scheme is textbook PKCS#1 v1.5 type 1 without a
DigestInfo, which no library signs directly); ``cryptography`` (the ``yaota`` extra) is used
only to read and write PEM keys, imported lazily.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import shlex
import struct
from dataclasses import dataclass, field

from ..checks import Check, Issue
from ..errors import ChecksumMismatch, FormatError, InputError, LayoutError, VerificationFailed
from ..formats.compiled import esp8266 as image_fmt
from ..formats.compiled import yaota8266 as fmt
from ..rboot import _walk_v1
from ..units import SECTOR, format_size
from ..yaota8266 import (
    Boot8266Params,
    BundleCheck,
    MainApp,
    OtaFile,
    check_bundle,
    check_initial_image,
)

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "AES_KEY",
    "KEY_BITS",
    "PUBLIC_EXPONENT",
    "OtaVerification",
    "PlanEntry",
    "YaotaPlan",
    "generate_key",
    "initial_image_notes",
    "key_modulus",
    "make_initial_image",
    "make_main_app",
    "modulus_line",
    "parse_modulus",
    "public_key_pem",
    "sign_ota",
    "verify_ota",
    "yaota_plan",
]

KEY_BITS = 512
"""ota-server's ``MODULUS`` is 64 bytes (``RSA_BLK_SIZE = sizeof(MOD) - 1``)."""
KEY_BYTES = KEY_BITS // 8
PUBLIC_EXPONENT = 3
"""Hard-coded in ota.c (``RSA_pub_key_new(..., "\\x03", 1)``)."""
AES_KEY = b"\x01" * 16
"""``ota_client.py``: the unused "AES key" that prefixes the signed digest (§4.3)."""
SIGNED_MESSAGE_SIZE = len(AES_KEY) + 20
IROM_MAP_START = image_fmt.IROM_MAP_START
FLASH_WINDOW = image_fmt.IROM_WINDOW
"""The flash cache maps 1 MiB: the irom must end within it."""
RSA_WARNING = ("RSA-512 keys can be factored with modest resources; yaota8266 cannot use "
               "anything stronger, so treat its signatures as protection against accidents, "
               "not against a determined attacker")

_INSTALL_HINT = ("RSA keys need the 'cryptography' package: install esp-image[yaota] "
                 "(pip install 'esp-image[yaota]')")


# ====================================================================== keys
@dataclass(frozen=True)
class _PrivateKey:
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


# ====================================================================== main app (§3)
_LINK_NOTES = {
    0x40209000: "flash 0x9000: a normal (non-OTA) MicroPython build, firmware.elf-0x09000.bin",
    0x40245000: "flash 0x45000: MicroPython's OTA build for MAIN_APP_OFFSET 0x3c000, "
                "firmware.elf-0x45000.bin",
    0x40210000: "flash 0x10000: a NONOS SDK >= 2.0 irom (eagle.irom0text.bin)",
    0x40240000: "flash 0x40000: a NONOS SDK 1.x irom",
}
_PROLOGUE = re.compile(rb"\x12\xc1")  # addi a1, a1, -N: a function entry
_IROM_NAME_RE = re.compile(r"0x([0-9a-fA-F]{5,6})\.bin$")


def _words(data: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(data) // 4}I", data[:len(data) // 4 * 4])


def _irom_link(v1: bytes, irom: bytes, candidates: Sequence[int]) -> tuple[int | None,
                                                                            dict[int, int]]:
    """The candidate address the irom was linked for, judged from code pointers (inferred).

    Pointer words in the v1 image (which calls into the irom) and in the irom's own literal
    pools that land on a function prologue (``12 c1``) for a candidate base count for it.
    On the corpus the right base wins by 4x (v1.15 OTA: 89 vs 20; v1.8.6: 113 vs 4).
    Returns (winner or None when unclear, scores).
    """
    sample = irom[:FLASH_WINDOW]
    prologues = {m.start() for m in _PROLOGUE.finditer(sample)}
    pointers = [w for w in (*_words(v1), *_words(sample))
                if IROM_MAP_START <= w < IROM_MAP_START + FLASH_WINDOW]
    scores = {base: sum(1 for w in pointers if w - base in prologues) for base in candidates}
    ranked = sorted(scores.values(), reverse=True)
    best = max(scores, key=lambda b: scores[b])
    if ranked[0] < 10 or (len(ranked) > 1 and ranked[0] < 3 * max(ranked[1], 1)):
        return None, scores
    return best, scores


def _link_text(link: int) -> str:
    return _LINK_NOTES.get(link, f"flash {link - IROM_MAP_START:#x}")


def _check_app_offset(main_app_offset: int) -> None:
    if main_app_offset < 0 or main_app_offset % SECTOR:
        raise InputError(f"main-app offset {main_app_offset:#x} is not a sector-aligned flash "
                         "address")


def make_main_app(image: bytes, irom: bytes, *, main_app_offset: int = fmt.MAIN_APP_OFFSET,
                  irom_name: str | None = None) -> bytes:
    """``firmware-ota.bin`` from ``firmware.elf-0x00000.bin`` and the irom file, byte for byte
    as MicroPython's ``ports/esp8266/makeimg.py`` writes it.

    Layout (§3): the v1 image file as given, 0xFF up to +0x8FFC, u32 ``0x9000 + len(irom)``,
    the irom at +0x9000, then MD5 over everything from byte 4. ``main_app_offset=0`` gives
    the normal (non-OTA) MicroPython ``firmware-combined.bin`` (esp8266.md §11.1).

    Args:
        image: the v1 image (``firmware.elf-0x00000.bin``).
        irom: the raw irom (``firmware.elf-0x45000.bin`` for the OTA build).
        main_app_offset: where boot8266 loads the app (``MAIN_APP_OFFSET``, 0x3C000).
        irom_name: the irom's file name; esptool names it after its link address
            (``...-0x45000.bin``), which is used when the code itself does not tell.

    Raises:
        FormatError: ``image`` is not a complete v1 image (or the arguments are swapped),
            or ``irom`` is empty or is itself a v1 image.
        ChecksumMismatch: the v1 image's XOR checksum is wrong (damaged input).
        LayoutError: the irom is linked for another address, the v1 image does not leave
            the 4 bytes makeimg asserts, it has more than one IRAM segment (boot8266 loads
            only one), or the app exceeds boot8266's 800000-byte limit or the 1 MiB flash
            window.
        VerificationFailed: the result does not pass boot8266's check (a bug).
    """
    _check_app_offset(main_app_offset)
    image, irom = bytes(image), bytes(irom)
    if not image:
        raise InputError("the v1 image file is empty")
    if not irom:
        raise FormatError("the irom file is empty", 0, "irom")
    if image[0] != image_fmt.MAGIC_V1:
        hint = (" (are the arguments swapped? the v1 image firmware.elf-0x00000.bin comes "
                "first, the irom second)" if irom[0] == image_fmt.MAGIC_V1 else "")
        raise FormatError(f"expected the v1 image magic 0xe9, found {image[0]:#04x}{hint}", 0,
                          "v1 image")
    v1 = _walk_v1(image)
    if v1.problems:
        raise FormatError("; ".join(v1.problems), 0, "v1 image")
    if not v1.checksum_valid:
        raise ChecksumMismatch(f"v1 image: stored XOR checksum {v1.stored_checksum:#04x}, "
                               f"computed {v1.computed_checksum:#04x}: the file is damaged")
    if len(image) != v1.length:
        raise FormatError(f"{len(image) - v1.length:#x} bytes follow the v1 image "
                          f"({v1.length:#x} bytes); give esptool's firmware.elf-0x00000.bin "
                          "itself, not a combined or padded file", v1.length, "v1 image")
    if len(image) > fmt.SIZE_WORD_OFFSET:
        raise LayoutError(f"the v1 image is {len(image):#x} bytes; makeimg needs it to end by "
                          f"{fmt.SIZE_WORD_OFFSET:#x} (the size word), so .text + .data + "
                          ".rodata must shrink")
    iram = [s for s in v1.segments if fmt.IRAM_START <= s[0] < fmt.IRAM_END]
    if len(iram) > 1:
        raise LayoutError(f"the v1 image has {len(iram)} IRAM segments; boot8266 loads only "
                          "the last one, so the app would crash")
    if irom[0] == image_fmt.MAGIC_V1:
        try:
            inner = _walk_v1(irom)
        except FormatError:
            inner = None
        if inner is not None and not inner.problems and inner.checksum_valid:
            raise FormatError("the irom file is a v1 image, not raw irom code (give "
                              "firmware.elf-0x00000.bin first and the irom second)", 0, "irom")
    total = fmt.SEGS_MAX_SIZE + len(irom)
    if total > fmt.MAX_APP_SIZE:
        raise LayoutError(f"the main app would be {total} bytes (0x9000 + irom {len(irom):#x}); "
                          f"boot8266 rejects anything above {fmt.MAX_APP_SIZE} "
                          "(\"Invalid main app size\") and stays in OTA mode: the irom may be "
                          f"at most {fmt.MAX_APP_SIZE - fmt.SEGS_MAX_SIZE} bytes")
    if main_app_offset + total > FLASH_WINDOW:
        raise LayoutError(f"the irom would end at flash {main_app_offset + total:#x}, past the "
                          "1 MiB the flash cache maps")
    expected = IROM_MAP_START + main_app_offset + fmt.SEGS_MAX_SIZE
    candidates = sorted({expected, *_LINK_NOTES})
    link, scores = _irom_link(image, irom, candidates)
    if link is None and irom_name:
        named = _IROM_NAME_RE.search(irom_name)
        if named and IROM_MAP_START + int(named.group(1), 16) != expected:
            link = IROM_MAP_START + int(named.group(1), 16)
    if link is not None and link != expected:
        raise LayoutError(f"the irom is linked for {_link_text(link)}, but at main-app offset "
                          f"{main_app_offset:#x} it is mapped at "
                          f"{expected:#x} (flash {expected - IROM_MAP_START:#x}); rebuild it "
                          f"for that address (MicroPython's OTA variant links it with "
                          f"esp8266_ota.ld) - code pointer evidence: "
                          + ", ".join(f"{b:#x}: {s}" for b, s in scores.items()))
    pad = b"\xff" * (fmt.SEGS_MAX_SIZE - len(image) - 4)
    body = image + pad + fmt.SizeWord(total).build() + irom
    out = body + hashlib.md5(body[fmt.MD5_SKIP:]).digest()
    _require_main_app(out, "the built main app", VerificationFailed)
    return out


def _require_main_app(data: bytes, what: str, error: type[Exception] = LayoutError) -> MainApp:
    """The parsed main app, or ``error`` saying why boot8266 would not boot it."""
    if Boot8266Params.from_image(data) is not None:
        raise error(f"{what} starts with boot8266: it is yaota8266.bin or an initial image, "
                    "not the main app (OTA offsets are relative to MAIN_APP_OFFSET, so it "
                    "would be written over the main app's place; use firmware-ota.bin)")
    try:
        app = MainApp.from_bytes(data)
    except FormatError as exc:
        raise error(f"{what} is not a MicroPython firmware-ota.bin: {exc}") from None
    problems = app.problems()
    if problems or not app.boots:
        raise error(f"{what}: " + "; ".join([*problems, f"boot8266: {app.verdict}"]))
    return app


# ====================================================================== .ota (§4)
def _encode(digest: bytes) -> int:
    """The integer that is signed: ``00 01 FF.. 00 ‖ AES_KEY ‖ SHA1`` (64 bytes, big-endian)."""
    message = AES_KEY + digest
    block = b"\x00\x01" + b"\xff" * (KEY_BYTES - len(message) - 3) + b"\x00" + message
    return int.from_bytes(block, "big")


def _datagram(key: _PrivateKey, seq: int, offset: int, data: bytes) -> bytes:
    """``ota_client.py make_pkt`` + ``add_digest``."""
    header = fmt.DatagramHeader(seq, 0, len(data), offset).build()
    pkt = (header[4:] + data).ljust(fmt.body_size(len(data)), b"\0")  # the signed body
    sig = key.sign_int(_encode(hashlib.sha1(pkt).digest()))
    return header[:4] + pkt + sig.to_bytes(KEY_BYTES, "big")


def sign_ota(main_app: bytes, key_pem: bytes, *, check_app: bool = True) -> bytes:
    """The ``.ota`` file ``ota_client.py sign`` writes for ``main_app``, byte for byte.

    256-byte blocks at offsets 0, 256, ... with ``seq`` 1, 2, ...; then three end datagrams
    (``len = 0, offset = 0``) continuing the sequence; each datagram is
    ``u32 seq ‖ body zero-padded to 16 ‖ RSA signature`` (§4.2, §4.3); the file is
    ``b"yaota8266\\x01"``, ``u16 n ‖ datagram`` records, ``u16 0`` and the SHA-1 of the
    magic and the records (§4.5). The signature is deterministic, so the same key gives the
    same file as ota_client.py.

    Args:
        main_app: ``firmware-ota.bin``.
        key_pem: the private key (``priv.key``).
        check_app: refuse data that is not a main app boot8266 would boot (ota_client.py signs
            anything, including the initial image the 2023-2025 MicroPython Makefile passed).

    Raises:
        InputError: empty input, or an unusable key (not RSA-512 with e = 3, or cryptography
            missing).
        LayoutError: with ``check_app``, ``main_app`` is not a bootable main app.
        VerificationFailed: the result does not verify (a bug).
    """
    main_app = bytes(main_app)
    if not main_app:
        raise InputError("nothing to sign: the file is empty")
    key = _load_private(key_pem)
    if check_app:
        _require_main_app(main_app, "the file to sign")
    records = [fmt.OTA_FILE_MAGIC]
    seq = 0
    for offset in range(0, len(main_app), fmt.BLK_SIZE):
        seq += 1
        pkt = _datagram(key, seq, offset, main_app[offset:offset + fmt.BLK_SIZE])
        records += [fmt.RecordLength(len(pkt)).build(), pkt]
    for _ in range(3):
        seq += 1
        pkt = _datagram(key, seq, 0, b"")
        records += [fmt.RecordLength(len(pkt)).build(), pkt]
    signed = b"".join(records)
    out = signed + fmt.RecordLength(0).build() + hashlib.sha1(signed).digest()
    result = verify_ota(out, modulus=key.n)
    if not (result.ok if check_app else result.intact):  # pragma: no cover - a bug
        raise VerificationFailed("the signed .ota file does not verify: " + "; ".join(
            c.detail for c in result.checks if not c.valid))
    return out


@dataclass(frozen=True)
class OtaVerification:
    """The result of :func:`verify_ota`.

    Attributes:
        checks: ``structure`` (records, seq numbers, offsets, end markers), ``sha1`` (the file
            checksum ota_client.py validates), ``main-app`` (the payload is a main app
            boot8266 boots) and, with a key or modulus, one ``signature`` check per datagram
            in file order (its detail starts with ``datagram N``).
        failed_datagram: index of the first datagram whose signature fails (None when all
            pass or no key was given).
        ok: whether every check passed.
        signatures_verified: whether a key or modulus was given.
        modulus: the modulus used.
        ota: the parsed file.
    """

    checks: tuple[Check, ...]
    failed_datagram: int | None
    ok: bool
    signatures_verified: bool
    modulus: int | None
    ota: OtaFile = field(repr=False, compare=False)

    @property
    def intact(self) -> bool:
        """Whether every check except ``main-app`` passed: the file is exactly what was signed,
        whatever it carries."""
        return all(c.valid for c in self.checks if c.name != "main-app")

    @property
    def signature_checks(self) -> tuple[Check, ...]:
        """The per-datagram ``signature`` checks."""
        return tuple(c for c in self.checks if c.name == "signature")

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        sigs = self.signature_checks
        return {
            "valid": self.ok,
            "failed_datagram": self.failed_datagram,
            "signatures_verified": self.signatures_verified,
            "signatures_valid": sum(1 for c in sigs if c.valid),
            "signatures_checked": len(sigs),
            "modulus": f"{self.modulus:0{KEY_BYTES * 2}x}" if self.modulus else None,
            "checks": [c.to_dict() for c in self.checks],
            "ota": self.ota.to_dict(),
        }


def _signature_problem(datagram: bytes, n: int) -> str | None:
    """Why ota-server would reject this datagram's signature (None: it accepts it).

    As ota.c: the last 64 bytes are raised to the power 3 modulo n; the result must be a
    PKCS#1 v1.5 type 1 block whose message is 36 bytes; bytes 16..35 of the message must be
    SHA1(datagram[4:-64]). The 16-byte prefix is not compared by the server.
    """
    if len(datagram) < 4 + 8 + KEY_BYTES:
        return f"{len(datagram)} bytes: too short to hold a header and a signature"
    sig = int.from_bytes(datagram[-KEY_BYTES:], "big")
    if sig >= n:
        return "signature value is not below the modulus (signed with another key?)"
    block = pow(sig, PUBLIC_EXPONENT, n).to_bytes(KEY_BYTES, "big")
    sep = block.find(b"\x00", 2)
    padding = block[2:sep] if sep > 0 else b""
    if block[:2] != b"\x00\x01" or sep < 0 or len(padding) < 8 or padding.strip(b"\xff"):
        return ("Invalid digest size in signature: the signature does not decode with this "
                "modulus (another key, or the signature bytes were changed)")
    message = block[sep + 1:]
    if len(message) != SIGNED_MESSAGE_SIZE:
        return (f"Invalid digest size in signature: {len(message)}-byte message, ota-server "
                f"expects {SIGNED_MESSAGE_SIZE}")
    if message[len(AES_KEY):] != hashlib.sha1(datagram[4:-KEY_BYTES]).digest():
        return ("Invalid SHA1: the op/len/offset/data/padding bytes were changed after "
                "signing")
    return None


def verify_ota(data: bytes, *, key_pem: bytes | None = None,
               modulus: int | None = None) -> OtaVerification:
    """Check a ``.ota`` file completely: structure, file SHA-1, the payload, and with the key
    (private or public PEM) or the modulus, every datagram's signature as ota-server checks it.

    Raises:
        FormatError: the magic is wrong (ota_client.py: "Invalid OTA file signature").
        InputError: both or an unusable key/modulus given.
    """
    if key_pem is not None and modulus is not None:
        raise InputError("give the key or the modulus, not both")
    n = key_modulus(key_pem) if key_pem is not None else modulus
    if n is not None:
        _require_yaota_key(n, PUBLIC_EXPONENT, "modulus")
    view = memoryview(data)
    ota = OtaFile.from_bytes(view)
    checks = ota.checks()
    structure_ok = checks[0].valid
    checks.append(_payload_check(ota, structure_ok))
    failed: int | None = None
    if n is not None:
        for i, d in enumerate(ota.datagrams):
            problem = _signature_problem(bytes(view[d.file_offset:d.file_offset + d.size]), n)
            where = (f"datagram {i} (seq {d.seq}, "
                     + ("end marker" if d.is_end else f"data offset {d.offset:#x}, "
                        f"{d.length} bytes") + ")")
            checks.append(Check("signature", problem is None, d.file_offset,
                                f"{where}: " + (problem or "signature valid")))
            if problem is not None and failed is None:
                failed = i
    return OtaVerification(tuple(checks), failed, all(c.valid for c in checks), n is not None,
                           n, ota)


def _payload_check(ota: OtaFile, structure_ok: bool) -> Check:
    at = ota.datagrams[0].data_offset if ota.datagrams else len(fmt.OTA_FILE_MAGIC)
    if not structure_ok:
        return Check("main-app", False, at, "payload not checked: the datagrams do not form "
                                            "one contiguous image")
    payload = ota.payload
    try:
        app = _require_main_app(payload, "the payload")
    except LayoutError as exc:
        return Check("main-app", False, at, str(exc))
    return Check("main-app", True, at,
                 f"payload is a main app of {app.length:#x} bytes: boot8266 {app.verdict}")


# ====================================================================== initial image (§1)
def _bundle_errors(bundle: BundleCheck) -> list[str]:
    return [i.message for i in bundle.issues
            if i.is_error and i.code != "main-app-offset"]


def make_initial_image(bundle: bytes, main_app: bytes) -> bytes:
    """The initial full image for flashing at 0x0: ``yaota8266.bin`` padded with 0xFF to
    ``MAIN_APP_OFFSET``, then ``firmware-ota.bin``.

    ``MAIN_APP_OFFSET`` is boot8266's compile-time value (found in its literal pool; the
    default 0x3C000 when it cannot be found). The §1.1 checks run on the bundle (boot8266
    image and size, ota-server size so its irom lands at 0x9000, irom size), the bundle
    length against the offset, the main app (boot8266's check, its irom link address) and,
    finally, on the result.

    Raises:
        FormatError: ``bundle`` is not yaota8266.bin (or already holds a main app);
            ``main_app`` is not a main app.
        LayoutError: a §1.1 rule is broken: the bundle is longer than MAIN_APP_OFFSET, its
            parts are misplaced, the main app fails boot8266's check or is linked for
            another offset.
        VerificationFailed: the result does not verify as a consistent initial image.
    """
    bundle, main_app = bytes(bundle), bytes(main_app)
    check = check_bundle(bundle)
    if check is None:
        raise FormatError("not yaota8266.bin: expected boot8266 at 0x0 and the ota-server v1 "
                          "image at 0x1000", 0, "yaota8266.bin")
    offset = check.main_app_offset
    if check.bundle_length < len(bundle):
        raise FormatError(f"it already holds a main app at {offset:#x} (an initial image or a "
                          "flash dump); give the yaota8266.bin built by merge.py", offset,
                          "yaota8266.bin")
    errors = _bundle_errors(check)
    if errors:
        raise LayoutError("yaota8266.bin breaks the layout rules: " + "; ".join(errors))
    if check.boot8266 is not None and check.boot8266.main_app_offset is None \
            and len(bundle) != offset:
        raise LayoutError(f"MAIN_APP_OFFSET cannot be found in boot8266 and yaota8266.bin is "
                          f"{len(bundle):#x} bytes, not the default {offset:#x}: cannot tell "
                          "where boot8266 looks for the main app")
    if len(bundle) > offset:
        raise LayoutError(f"yaota8266.bin is {len(bundle):#x} bytes but boot8266 loads the main "
                          f"app from MAIN_APP_OFFSET {offset:#x}: the app would overwrite the "
                          "end of the bundle (rebuild yaota8266 with MAIN_APP_OFFSET = the "
                          "size of yaota8266.bin, as config.h.example says)")
    app = _require_main_app(main_app, "the main app")
    image_end = app.image.length
    expected = IROM_MAP_START + offset + fmt.SEGS_MAX_SIZE
    link, _ = _irom_link(main_app[:image_end], main_app[fmt.SEGS_MAX_SIZE:app.irom_end],
                         sorted({expected, *_LINK_NOTES}))
    if link is not None and link != expected:
        raise LayoutError(f"the main app's irom is linked for {_link_text(link)}, but boot8266 "
                          f"loads the app from {offset:#x}, where the irom is mapped at "
                          f"{expected:#x}: relink MicroPython for MAIN_APP_OFFSET {offset:#x}")
    out = bundle + b"\xff" * (offset - len(bundle)) + main_app
    found = check_initial_image(out)
    if found is None:  # pragma: no cover - guarded above
        raise VerificationFailed("the result is not recognised as a yaota8266 initial image")
    full, _ = found
    failed = [f"{c.name} at {c.offset:#x}: {c.detail}" for c in full.checks() if not c.valid]
    if not full.consistent or failed:
        raise VerificationFailed("the initial image does not verify: "
                                 + "; ".join(failed or [i.message for i in full.issues]))
    return out


def initial_image_notes(bundle: bytes, initial: bytes) -> list[str]:
    """Plain facts about an initial image built by :func:`make_initial_image` (padding added,
    boot8266 warnings such as ``gpio_mask == 0``)."""
    notes: list[str] = []
    found = check_initial_image(initial)
    if found is None:
        return notes
    full, app = found
    if len(bundle) < full.main_app_offset:
        notes.append(f"yaota8266.bin is {len(bundle):#x} bytes; padded with 0xFF to "
                     f"MAIN_APP_OFFSET {full.main_app_offset:#x}")
    notes += [i.message for i in full.issues if not i.is_error]
    notes.append(f"main app at {full.main_app_offset:#x}: {app.length:#x} bytes, boot8266 "
                 f"{app.verdict}")
    return notes


# ====================================================================== flash plan
@dataclass(frozen=True)
class PlanEntry:
    """One area of the yaota8266 flash plan.

    Attributes:
        name: ``boot8266``, ``ota-server``, ``ota-server irom``, ``main app``,
            ``main app irom``.
        address: flash address.
        size: bytes reserved for it (the area up to the next one; for the main app, the
            boot8266 limit).
        file: the file that carries it.
        length: bytes actually used, when the file was given.
        detail: one line for a person.
    """

    name: str
    address: int
    size: int
    file: str
    length: int | None
    detail: str

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"name": self.name, "address": self.address, "size": self.size,
                "file": self.file, "length": self.length, "detail": self.detail}


DEFAULT_FILES = {"yaota8266": "yaota8266.bin", "main_app": "firmware-ota.bin",
                 "initial": "initial.bin", "ota": "firmware-ota.bin.ota", "key": "priv.key"}
"""File names the plan uses unless told otherwise."""


@dataclass(frozen=True)
class YaotaPlan:
    """The yaota8266 flash plan (§1) and the OTA workflow.

    Attributes:
        main_app_offset: where boot8266 loads the main app.
        entries: the areas, in address order.
        issues: findings about the given bundle / main app (§1.1).
        notes: plain facts worth printing.
        boot8266: the bundle's boot8266 parameters, when a bundle was given.
    """

    ROW_HEADERS = ("Address", "Size", "Part", "File", "Contents")

    main_app_offset: int
    entries: tuple[PlanEntry, ...]
    issues: tuple[Issue, ...] = ()
    notes: tuple[str, ...] = ()
    boot8266: Boot8266Params | None = None

    @property
    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """The human table (headers in :attr:`ROW_HEADERS`)."""
        return self.rows_for()

    def rows_for(self, files: Mapping[str, str] | None = None
                 ) -> list[tuple[str, str, str, str, str]]:
        """:attr:`rows` naming the files given by role (``files``) instead of the defaults."""
        given = {DEFAULT_FILES[k]: v for k, v in (files or {}).items() if k in DEFAULT_FILES}
        out = []
        for e in self.entries:
            used = f" ({format_size(e.length)} used)" if e.length is not None else ""
            out.append((f"{e.address:#07x}", format_size(e.size), e.name,
                        given.get(e.file, e.file) + used, e.detail))
        return out

    def write_flash_command(self, port: str = "PORT",
                            files: Mapping[str, str] | None = None) -> str:
        """The esptool 5 command that flashes the initial image.

        With ``files["initial"]`` (the output of ``esp-image yaota bundle``): ``... 0x0
        initial.bin``; otherwise the two parts: ``0x0 yaota8266.bin 0x3c000 firmware-ota.bin``
        (the same bytes on flash). ``--flash-size detect`` lets esptool set boot8266's header
        to the chip's flash size, as MicroPython's instructions do (only header bytes 2-3 at
        0x0 change; neither boot8266's checksum nor the main app's MD5 covers them).
        """
        given = dict(files or {})
        words = ["esptool", "--chip", "esp8266", "--port", port, "write-flash",
                 "--flash-size", "detect"]
        if "initial" in given:
            words += ["0x0", given["initial"]]
        else:
            names = {**DEFAULT_FILES, **given}
            words += ["0x0", names["yaota8266"], f"{self.main_app_offset:#x}",
                      names["main_app"]]
        return " ".join(shlex.quote(w) for w in words)

    @property
    def steps(self) -> list[str]:
        """What a user does, in order (default file names and port): see :meth:`steps_for`."""
        return self.steps_for()

    def steps_for(self, port: str = "PORT", files: Mapping[str, str] | None = None
                  ) -> list[str]:
        """What a user does, in order: keys, builds, the initial flash, then each update.

        ``files`` overrides :data:`DEFAULT_FILES` by role (``yaota8266``, ``main_app``,
        ``initial``, ``ota``, ``key``)."""
        names = {**DEFAULT_FILES, **(files or {})}
        p = self.boot8266
        mask = p.gpio_mask if p else fmt.GPIO_MASK_DEFAULT
        wait = p.gpio_wait_ms if p else fmt.GPIO_WAIT_MS_DEFAULT
        off = self.main_app_offset
        ota_mode = (f"reset the device and change one of the GPIOs in gpio_mask {mask:#x} "
                    f"within {wait} ms" if mask else
                    "reset it (gpio_mask is 0: boot8266 always enters OTA mode)")
        if p is None or p.rtc_request:
            ota_mode += ("; with ulno's fork, from MicroPython: "
                         'machine.RTC().memory(b"yaotaota"); machine.reset()')
        return [
            f"Create the signing key once: esp-image yaota keygen -o {names['key']} (keep it "
            "secret and backed up: only it can sign updates for devices built with it).",
            "Copy config.h.example to config.h in yaota8266, replace its MODULUS line with the "
            f"one keygen printed, keep MAIN_APP_OFFSET {off:#x}, and build (make) to get "
            f"{names['yaota8266']}.",
            f"Build MicroPython's OTA variant (esp8266 'make ota', later BOARD_VARIANT=OTA) to "
            f"get {names['main_app']}, or assemble it from its parts: esp-image yaota mkapp "
            "firmware.elf-0x00000.bin "
            f"firmware.elf-0x{off + fmt.SEGS_MAX_SIZE:05x}.bin -o {names['main_app']}.",
            f"Build the initial image: esp-image yaota bundle {names['yaota8266']} "
            f"{names['main_app']} -o {names['initial']}.",
            "Flash it once over serial: "
            + self.write_flash_command(port, {"initial": names["initial"]}) + ".",
            f"For every update, build a new {names['main_app']} and sign it: esp-image yaota "
            f"sign {names['main_app']} --key {names['key']} -o {names['ota']}; check it with "
            f"esp-image yaota verify {names['ota']} --key {names['key']}.",
            f"Put the device into OTA mode: {ota_mode}. The ota-server then listens on UDP "
            f"port {fmt.UDP_PORT} (and reboots after 60 s without a session).",
            f"Send the update from yaota8266's ota-client directory: python3 ota_client.py ota "
            f"{names['ota']} -a DEVICE_IP. The server writes the app at {off:#x} sector by "
            "sector and reboots after the end marker.",
            "boot8266 then checks the app's size word and MD5 and boots it; if the check "
            "fails it stays in OTA mode, so the update can simply be sent again.",
        ]

    def to_dict(self, port: str = "PORT", files: Mapping[str, str] | None = None
                ) -> dict[str, object]:
        """JSON form."""
        return {
            "main_app_offset": self.main_app_offset,
            "entries": [e.to_dict() for e in self.entries],
            "boot8266": self.boot8266.to_dict() if self.boot8266 else None,
            "issues": [i.to_dict() for i in self.issues],
            "notes": list(self.notes),
            "write_flash": self.write_flash_command(port, files),
            "steps": self.steps_for(port, files),
        }


def yaota_plan(bundle: bytes | None = None, main_app: bytes | None = None) -> YaotaPlan:
    """The yaota8266 flash plan: the defaults of config.h.example, or the given files' facts.

    Args:
        bundle: ``yaota8266.bin`` (its real part sizes, MAIN_APP_OFFSET and boot8266
            parameters are used, and its §1.1 rules checked).
        main_app: ``firmware-ota.bin`` (its length and boot8266 verdict are shown).

    Raises:
        FormatError: ``bundle`` is not yaota8266.bin.
    """
    issues: list[Issue] = []
    notes: list[str] = []
    check: BundleCheck | None = None
    if bundle is not None:
        check = check_bundle(bytes(bundle))
        if check is None:
            raise FormatError("not yaota8266.bin: expected boot8266 at 0x0 and the ota-server "
                              "v1 image at 0x1000", 0, "yaota8266.bin")
        issues += list(check.issues)
    offset = check.main_app_offset if check else fmt.MAIN_APP_OFFSET
    params = check.boot8266 if check else None
    mask = params.gpio_mask if params else fmt.GPIO_MASK_DEFAULT
    wait = params.gpio_wait_ms if params else fmt.GPIO_WAIT_MS_DEFAULT
    irom_at = check.ota_irom_offset if check else fmt.OTA_IROM_OFFSET
    app_length: int | None = None
    if main_app is not None:
        try:
            app = _require_main_app(bytes(main_app), "firmware-ota.bin")
            app_length = app.length
            notes.append(f"main app: {app.length:#x} bytes, boot8266 {app.verdict}")
        except LayoutError as exc:
            issues.append(Issue("error", "main-app-check", str(exc)))
            app_length = len(main_app)
    bundle_name = DEFAULT_FILES["yaota8266"]
    entries = (
        PlanEntry("boot8266", 0, fmt.OTA_SERVER_OFFSET, bundle_name,
                  check.boot_image.length if check else None,
                  f"first-stage loader (v1 image, checksum checked by the ROM); gpio_mask "
                  f"{mask:#x} and gpio_wait_ms {wait} at 0xF00"),
        PlanEntry("ota-server", fmt.OTA_SERVER_OFFSET, irom_at - fmt.OTA_SERVER_OFFSET,
                  bundle_name, check.ota_server.length if check else None,
                  "UDP OTA server (v1 image), booted by boot8266 in OTA mode"),
        PlanEntry("ota-server irom", irom_at, offset - irom_at, bundle_name,
                  check.ota_irom_length if check else None,
                  "the ota-server's raw .irom0.text (linked at 0x40209000)"),
        PlanEntry("main app", offset, fmt.MAX_APP_SIZE + fmt.MD5_SIZE, DEFAULT_FILES["main_app"],
                  app_length,
                  "MicroPython firmware-ota.bin: v1 image, 0xFF to +0x8FFC, size word, irom at "
                  f"+0x9000, MD5; boot8266 accepts at most {fmt.MAX_APP_SIZE} bytes; replaced "
                  "by every OTA update"),
        PlanEntry("main app irom", offset + fmt.SEGS_MAX_SIZE,
                  fmt.MAX_APP_SIZE - fmt.SEGS_MAX_SIZE, DEFAULT_FILES["main_app"],
                  app_length - fmt.SEGS_MAX_SIZE - fmt.MD5_SIZE if app_length else None,
                  f"inside firmware-ota.bin; linked at "
                  f"{IROM_MAP_START + offset + fmt.SEGS_MAX_SIZE:#x}"),
    )
    notes.append(f"yaota8266.bin must be exactly MAIN_APP_OFFSET ({offset:#x}) bytes long; "
                 "the initial image is yaota8266.bin followed by firmware-ota.bin, flashed "
                 "at 0x0")
    notes.append(RSA_WARNING)
    return YaotaPlan(offset, entries, tuple(issues), tuple(notes), params)
