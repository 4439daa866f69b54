"""Identification: one ordered list of recognisers, the first that answers names the file.

Each recogniser takes the data (and the ``--chip`` given, if any) and returns the
:class:`~esp_image.image.Image` of what it recognises, or None; when none answers, the data is
``unknown`` with the reason. The order is :data:`RECOGNISERS` (documented in
:mod:`esp_image.image`, because ESP8266 and ESP32 share the 0xE9 magic). ESP8266 layouts are
recognised by :mod:`esp_image.recognise.esp8266`, imported only when they are tried.
"""

from __future__ import annotations

from dataclasses import replace

from ..checks import Check, Issue
from ..chips import Chip, chip_by_name
from ..errors import FormatError
from ..formats.compiled import esp32_image as esp32_fmt
from ..image import Image
from ..spans import is_erased
from ..units import format_size
from .esp32 import (
    bare_otadata,
    bare_table,
    direct_boot,
    esp32_at_zero,
    find_filesystem,
    flash,
    header_chip,
    plausible_esp32,
)
from .wrapped import recognise as recognise_wrapped
from .wrapped import uses_key

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from collections.abc import Callable


def identify(view: memoryview, path: str | None, forced: Chip | None,
             key: bytes | None = None) -> Image:
    """The Image of ``view`` (not empty): the first recogniser's answer, else ``unknown``;
    with ``forced``, plus the ``chip`` check comparing it with what the file states.

    ``key`` serves only a wrapper, so with one the wrapped reading is tried first (no
    recogniser ranked before it claims a wrapped file); it is noted when nothing used it.
    """
    found = recognise_wrapped(view, forced, key) if key is not None else None
    if found is None:
        found = _first(view, forced, RECOGNISERS)
    if key is not None and not uses_key(found):
        found = replace(found, notes=(*found.notes, "the key given was not used: no wrapper "
                                                    "in this file takes one"))
    return replace(found, path=path) if path is not None else found


def identify_unwrapped(view: memoryview, forced: Chip | None) -> Image:
    """What the bytes inside a wrapper are (wrappers already peeled: none is tried again)."""
    return _first(view, forced, tuple(r for r in RECOGNISERS if r is not _wrapped))


def _first(view: memoryview, forced: Chip | None,
           recognisers: tuple[Callable[[memoryview, Chip | None], Image | None], ...]) -> Image:
    for recognise in recognisers:
        found = recognise(view, forced)
        if found is not None:
            break
    else:
        found = _unknown(view, _unknown_reason(view))
    # A wrapped file's chip check was made on what it wraps, at offsets there.
    return chip_check(found, forced) if forced is not None and not found.wrappers else found


# ---------------------------------------------------------------------- recognisers
def _erased(view: memoryview, forced: Chip | None) -> Image | None:
    if not is_erased(view):
        return None
    return Image(None, len(view), "erased", data=view,
                 notes=(f"{format_size(len(view))} of erased flash (all 0xFF)",))


def _bare_table(view: memoryview, forced: Chip | None) -> Image | None:
    return bare_table(view)


def _bare_otadata(view: memoryview, forced: Chip | None) -> Image | None:
    return bare_otadata(view)


def _yaota_ota(view: memoryview, forced: Chip | None) -> Image | None:
    """A yaota8266 ``.ota`` update file (ota_client.py sign)."""
    if bytes(view[:9]) != b"yaota8266":
        return None
    from ..yaota8266 import OtaFile

    try:
        ota = OtaFile.from_bytes(view)
    except FormatError as exc:
        return _unknown(view, str(exc))
    notes = [f"{len(ota.data_datagrams)} data datagrams, "
             f"{sum(1 for d in ota.datagrams if d.has_signature)} of {len(ota.datagrams)} "
             "carry a signature (not verified without the key)"]
    try:
        app = ota.main_app()
    except FormatError as exc:
        notes.append(f"the payload is not a yaota8266 main app: {exc.reason}")
    else:
        notes.append(f"payload: main app, boot8266 verdict: {app.verdict}")
    checks = tuple(sorted((*ota.checks(0), *ota.payload_checks()), key=lambda c: c.offset))
    return Image(None, len(view), "yaota8266-ota", chip=chip_by_name("esp8266"),
                 checks=checks, notes=tuple(notes), ota_file=ota, data=view)


def _wrapped(view: memoryview, forced: Chip | None) -> Image | None:
    """gzip, an Arduino signature, a Matter OTA header, esp_encrypted_img or a length word
    around what the other recognisers read (see :mod:`esp_image.recognise.wrapped`)."""
    return recognise_wrapped(view, forced)


def _data_partition(view: memoryview, forced: Chip | None) -> Image | None:
    """A bare NVS, nvs_keys, esp_secure_cert or core dump partition image: each starts with
    a mark no image has (page state words with a header CRC, a CRC over the keys, the TLV
    magic, a dump version word where an image holds its entry address)."""
    from ..data_content import read_bare

    found = read_bare(view)
    if found is None:
        return None
    issues = tuple(Issue("warning", "nvs-recoverable", w) for w in found.warnings)
    chip = getattr(found.model, "chip", None) if found.kind == "coredump" else None
    return Image(None, len(view), found.kind, chip=chip_by_name(chip) if chip else None,
                 checks=tuple(found.checks), issues=issues, notes=tuple(found.notes),
                 content=found, data=view)


def _esp8266_forced(view: memoryview, forced: Chip | None) -> Image | None:
    """``--chip esp8266``: ESP8266 images carry no chip id, so their reading comes first;
    with none, the file is identified as usual and the chip check names what it is."""
    if forced is None or forced.chip_id is not None:
        return None
    found = _esp8266(view)
    return found if found is not None and found.kind != "unknown" else None


def _e9_at_zero(view: memoryview, forced: Chip | None) -> Image | None:
    """0xE9 at 0: an ESP32-family image or merged file, else an ESP8266 one."""
    if view[0] != esp32_fmt.MAGIC:
        return None
    head = plausible_esp32(view, 0, forced)
    if head is None:
        return _esp8266(view) or _unknown(view, _esp8266_reason(view))
    result = esp32_at_zero(view, head)
    if result.valid:
        return result
    # ESP8266 and ESP32 share the magic; a damaged "ESP32" reading loses to an intact ESP8266
    # one (an ESP8266 segment length can look like a known chip id).
    alt = _esp8266(view)
    return alt if alt is not None and alt.valid else result


def _esp32_dump(view: memoryview, forced: Chip | None) -> Image | None:
    """A flash dump from address 0: a bootloader where its chip boots from (0x1000/0x2000)."""
    for pos in (0x1000, 0x2000):
        if pos < len(view) and view[pos] == esp32_fmt.MAGIC:
            head = plausible_esp32(view, pos, forced)
            if head is not None and head.bootloader_offset == pos:
                return flash(view, head, base=0)
    return None


def _esp8266_any(view: memoryview, forced: Chip | None) -> Image | None:
    return _esp8266(view)


def _bare_filesystem(view: memoryview, forced: Chip | None) -> Image | None:
    """A partition image holding a filesystem (littlefs, FAT, wear-levelled FAT, SPIFFS)."""
    found = find_filesystem(view)
    if found is None:
        return None
    check = Check("structure", found.valid, 0, f"{found.type}: {found.detail}")
    return Image(None, len(view), "filesystem", checks=(check,), filesystem=found, data=view)


# The detection order of esp_image.image's docstring; _unknown is the fallback.
RECOGNISERS: tuple[Callable[[memoryview, Chip | None], Image | None], ...] = (
    _bare_otadata, _erased, _bare_table, _yaota_ota, direct_boot, _data_partition, _wrapped,
    _esp8266_forced, _e9_at_zero, _esp32_dump, _esp8266_any, _bare_filesystem)


def _esp8266(view: memoryview) -> Image | None:
    """The ESP8266 reading, or None; unrecognised ESP8266 data states no chip."""
    # Imported here: ESP32 files never pay for the ESP8266 modules.
    from .esp8266 import identify_esp8266

    found = identify_esp8266(view)
    if found is not None and found.kind == "unknown":
        return replace(found, chip=None)
    return found


# ---------------------------------------------------------------------- --chip
def chip_check(image: Image, forced: Chip) -> Image:
    """``image`` with a ``chip`` check comparing ``--chip`` with what the file states.

    ESP32-family files state their chip in the header of the image at 0 (the bootloader of a
    flash file); ESP8266 files by their format (they carry no chip id). Files that state no
    chip (tables, otadata, filesystems, erased or unknown data, a header whose chip id is not a
    released chip) get no check: there ``--chip`` only fills in what the file does not say.
    """
    if (image.shape is not None and image.kind != "unknown") or image.ota_file is not None:
        stated, offset = chip_by_name("esp8266"), 0
        how = "an ESP8266 format, which carries no chip id"
    elif image.kind == "flash" or (image.kind == "image" and image.firmware is not None):
        offset = image.bootloader_file_offset if image.kind == "flash" else 0
        header = header_chip(image.data, offset)
        if header is None:
            return image
        stated, how = header, f"chip id {header.chip_id} in its header"
        offset += 12
    else:
        return image
    if stated == forced:
        check = Check("chip", True, offset, f"--chip {forced.name}: the file is for "
                                            f"{stated.title} ({how})")
    else:
        check = Check("chip", False, offset, f"--chip {forced.name} ({forced.title}) given, "
                                             f"but the file is for {stated.title} ({how})")
    checks = tuple(sorted((*image.checks, check), key=lambda c: c.offset))
    return replace(image, checks=checks)


# ---------------------------------------------------------------------- unknown data
def _unknown(view: memoryview, reason: str) -> Image:
    return Image(None, len(view), "unknown", reason=reason, data=view,
                 checks=(Check("structure", False, 0, reason),))


def _entropy(view: memoryview) -> float:
    import math  # only unknown data is measured: recognised firmware does not load it

    sample = bytes(view[:0x10000])
    counts = [0] * 256
    for b in sample:
        counts[b] += 1
    n = len(sample)
    return -sum(c / n * math.log2(c / n) for c in counts if c)


_CHECKED = ("no ESP image (0xE9) at offset 0, 0x1000 or 0x2000, no direct-boot magic, partition "
            "table (AA 50), otadata or filesystem")
_NOT_IROM = (", and not ESP8266 irom0 code (too few Xtensa function prologues and flash "
             "pointers)")


def _incompressible(view: memoryview) -> bool:
    import zlib

    sample = bytes(view[:0x10000])
    return len(zlib.compress(sample, 1)) > 0.98 * len(sample)


def _unknown_reason(view: memoryview) -> str:
    """Why nothing recognised the data: what was checked, and what it looks like only where the
    bytes show it (near-random bytes, text)."""
    if not any(view[:0x10000]):
        return "all zeros: not firmware (erased flash reads as 0xFF, not 0x00)"
    first = f"first bytes {bytes(view[:8]).hex(' ')}"
    checked = _CHECKED + (_NOT_IROM if len(view) >= 1024 else "")  # the irom test's minimum
    entropy = _entropy(view)
    if entropy > 7.9 and len(view) >= 4096 and _incompressible(view):
        # uniform and incompressible bytes are what ciphertext and compressed data have in
        # common (a counter or a pattern is uniform too, but compresses); nothing says which
        return (f"{checked} ({first}); byte entropy {entropy:.2f} bits/byte, near random: "
                "consistent with encrypted flash contents or compressed data")
    sample = bytes(view[:0x10000])
    printable = sum(1 for b in sample if 32 <= b < 127 or b in (9, 10, 13)) / len(sample)
    if printable > 0.95:
        return f"{checked}; {printable:.0%} of the bytes are printable text ({first})"
    return f"{checked} ({first}, byte entropy {entropy:.2f} bits/byte)"


def _esp8266_reason(view: memoryview) -> str:
    if len(view) < esp32_fmt.ImageHeader.SIZE:
        return (f"truncated: image magic 0xE9 but only {len(view)} bytes (an ESP32 image header "
                f"needs {esp32_fmt.ImageHeader.SIZE}, an ESP8266 one 8 plus its segments)")
    chip_id = int.from_bytes(view[12:14], "little")
    return (f"image magic 0xE9 but neither an ESP32-family header (chip id {chip_id:#x}, "
            f"hash_appended {view[23]}) nor a plausible ESP8266 image")


__all__ = ["RECOGNISERS", "chip_check", "identify"]
