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
import re
import struct
from dataclasses import dataclass, field

from ..checks import Check
from ..errors import ChecksumMismatch, FormatError, InputError, LayoutError, VerificationFailed
from ..formats.compiled import esp8266 as image_fmt
from ..formats.compiled import yaota8266 as fmt
from ..rboot import _walk_v1
from ..units import SECTOR
from ..yaota8266 import (
    Boot8266Params,
    BundleCheck,
    MainApp,
    OtaFile,
    check_bundle,
    check_initial_image,
)
from .yaota_keys import (  # re-exported: they were defined here
    KEY_BITS,
    KEY_BYTES,
    PUBLIC_EXPONENT,
    RSA_WARNING,
    _load_private,
    _PrivateKey,
    _require_yaota_key,
    generate_key,
    key_modulus,
    modulus_line,
    parse_modulus,
    public_key_pem,
)
from .yaota_plan import DEFAULT_FILES, PlanEntry, YaotaPlan, yaota_plan  # re-exported

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "AES_KEY",
    "DEFAULT_FILES",
    "KEY_BITS",
    "KEY_BYTES",
    "PUBLIC_EXPONENT",
    "RSA_WARNING",
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

AES_KEY = b"\x01" * 16
"""``ota_client.py``: the unused "AES key" that prefixes the signed digest (§4.3)."""
SIGNED_MESSAGE_SIZE = len(AES_KEY) + 20
IROM_MAP_START = image_fmt.IROM_MAP_START
FLASH_WINDOW = image_fmt.IROM_WINDOW
"""The flash cache maps 1 MiB: the irom must end within it."""

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


def _check_main_app_parts(image: bytes, irom: bytes) -> None:
    """Refuse what makeimg would wrap into an app that cannot boot: a v1 image that is
    damaged, padded, too long or with two IRAM segments, and an irom that is empty or a v1
    image itself (the arguments swapped)."""
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
    _check_main_app_parts(image, irom)
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

