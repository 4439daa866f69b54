"""ESP8266 rewrites: v2 variant conversion and flash parameters (NONOS flash layouts are in
:mod:`esp_image.transforms.esp8266_layout`, and importable from here).

Pure functions: they take bytes, return new bytes (or a frozen :class:`LayoutPlan`) and raise
:mod:`esp_image.errors` exceptions. Everything a function does not have to change is copied
byte for byte; derived fields that cover a changed byte (the v2 CRC32 trailer, the v3 SHA-256)
are recomputed. Sources: shared/docs/formats/esp8266.md §1-§4 (formats, byte 3, the gen_appbin
marker, the CRC32), §6-§8 (NONOS maps, system parameters, the relink constraint), §10 (v3).
"""

from __future__ import annotations

import hashlib

from .. import chips
from ..errors import ChecksumMismatch, FormatError, InputError, LayoutError, UsageError
from ..esp8266 import (
    Esp8266Image,
    FlashMap,
    esp8266_crc32,
)
from ..formats.compiled import esp8266 as fmt
from ..recognise.esp8266 import identify_esp8266
from .esp8266_layout import (  # the layout names are re-exported: they were defined here
    _NONOS_LINKS,
    DEFAULT_FILES,
    LayoutEntry,
    LayoutPlan,
    _link_name,
    _slot_fit,
    infer_irom_link,
    plan_layout,
)
from .flash import FlashParams, check_size_table, encode, esp8266_flash_map

__all__ = [
    "DEFAULT_FILES",
    "LayoutEntry",
    "LayoutPlan",
    "convert_v2",
    "infer_irom_link",
    "plan_layout",
    "set_esp8266_flash_params",
]

V2_FORMS = ("gen_appbin", "esptool")
_ESP8266 = chips.chip_by_name("esp8266")


# ====================================================================== helpers
def _parse(data: bytes | memoryview, what: str) -> tuple[bytes, Esp8266Image]:
    raw = bytes(data)
    if not raw:
        raise InputError(f"{what}: no data")
    img = Esp8266Image.from_bytes(raw)
    return raw, img


def _require_intact(img: Esp8266Image, what: str) -> None:
    if img.problems:
        raise FormatError("; ".join(img.problems), 0, what)
    if img.truncated:
        raise FormatError("the image is truncated", 0, what)


def _patch_crc(out: bytearray, img: Esp8266Image, *, add: bool) -> None:
    """Recompute (or with ``add``, append when absent) the CRC32 trailer after ``img.length``."""
    crc = fmt.CrcTrailer(esp8266_crc32(memoryview(out)[:img.length])).build()
    if img.stored_crc32 is not None:
        out[img.length:img.length + fmt.CrcTrailer.SIZE] = crc
    elif add:
        out[img.length:img.length] = crc


def _refuse_bad_crc(img: Esp8266Image, what: str, ignore_invalid: bool) -> None:
    if img.crc32_status == "invalid" and not ignore_invalid:
        assert img.stored_crc32 is not None and img.computed_crc32 is not None
        raise ChecksumMismatch(
            f"{what}: stored CRC32 {img.stored_crc32:#010x} does not match the computed "
            f"{img.computed_crc32:#010x}; the file may be damaged (the CRC32 is the only check "
            "that covers the irom part), so it is not recomputed over it (pass "
            "ignore_invalid=True to recompute it anyway)")


# ====================================================================== convert
def _refuse_not_v2(img: Esp8266Image, what: str) -> None:
    if img.format == "esp8266-v1":
        raise FormatError(
            "this is a v1 (0xE9) image, not a v2 (0xEA) user bin; a v1 image has no "
            "user1/user2 form and no CRC32 trailer. Build a v2 image from the ELF instead: "
            "'esptool elf2image --version=2' (or the SDK's gen_appbin.py with boot_mode 2), "
            "then convert that", 0, what)
    if img.format == "esp8266-v3":
        raise FormatError(
            "this is an ESP8266 RTOS SDK v3 app (0xE9 header, appended SHA-256), not a v2 "
            "(0xEA) user bin; v3 apps are flashed into partitions by the SDK's bootloader and "
            "have no gen_appbin form", 0, what)


def convert_v2(data: bytes | memoryview, *, to: str, user: int | None = None,
               ignore_invalid: bool = False) -> bytes:
    """Convert a v2 (0xEA) image between the esptool and gen_appbin forms (esp8266.md §3.2).

    ``to="gen_appbin"``: EA byte 2 = 0x00, byte 3 = the user-bin number (the flash parameters
    stay in the inner header). ``to="esptool"``: EA bytes 2-3 = the inner header's flash mode
    and size/freq byte. The CRC32 trailer is recomputed, and added when missing (esptool <
    2.4.0 images). Every other byte is kept, so an esptool ``elf2image --version=2`` image
    becomes byte-identical to gen_appbin's ``userN.bin`` for the same segments.

    Args:
        data: the v2 image, and nothing after it.
        to: ``"gen_appbin"`` or ``"esptool"``.
        user: 1 or 2 for ``to="gen_appbin"``; may be omitted when the input already is a
            gen_appbin image (its marker is kept). Not allowed with ``to="esptool"``.
        ignore_invalid: recompute a CRC32 trailer that does not match instead of refusing.

    Raises:
        InputError: bad ``to``/``user``, or no data.
        FormatError: not a v2 image (v1/v3: what to do instead), damaged, truncated, or with
            data after the image.
        ChecksumMismatch: the XOR checksum or the stored CRC32 does not match.
        LayoutError: ``user=1`` for an image whose irom is linked for the user2 slot of a
            256+256 or 512+512 map (0x40241010 / 0x40281010). A 0x40201010 link may be either
            (user1, or user2 of a 1024+1024 map), so both markers are accepted for it.
    """
    if to not in V2_FORMS:
        raise InputError(f"unknown v2 form {to!r}; use 'gen_appbin' or 'esptool'")
    if to == "esptool" and user is not None:
        raise InputError("the user-bin number only exists in the gen_appbin form; drop it "
                         "for to='esptool'")
    if user is not None and user not in (1, 2):
        raise InputError(f"user must be 1 or 2, not {user!r}")
    raw, img = _parse(data, "convert")
    what = "ESP8266 v2 image"
    _refuse_not_v2(img, what)
    _require_intact(img, what)
    if img.trailing:
        raise FormatError(
            f"{img.trailing:#x} bytes follow the image (it ends at {img.end:#x}); a CRC32 "
            "trailer must be the last 4 bytes of the file, so cut the file at the image end "
            "first", img.end, what)
    if not img.checksum_valid:
        raise ChecksumMismatch(
            f"convert: the inner image's XOR checksum does not match (stored "
            f"{img.stored_checksum:#04x}, computed {img.computed_checksum:#04x}); refusing to "
            "put a fresh CRC32 on a damaged image")
    _refuse_bad_crc(img, "convert", ignore_invalid)
    out = bytearray(raw[:img.end])
    if to == "esptool":
        out[2] = img.flash_mode_code
        out[3] = img.flash_size_freq
    else:
        if user is None:
            if img.user is None:
                link = infer_irom_link(img)
                hint = (f"; its irom is linked for {link:#x} ({_link_name(link)}"
                        + (", or either slot of a 1024+1024 map)" if link == 0x40201010 else ")")
                        if link else "")
                raise InputError("say which user bin this is (--user 1 or 2): an esptool-form "
                                 f"v2 image does not record it{hint}")
            user = img.user
        link = infer_irom_link(img)
        if link in (0x40241010, 0x40281010) and user == 1:
            raise LayoutError(f"the irom is linked for {link:#x} ({_link_name(link)}); "
                              "marking it user1 would make OTA code flash it into the user1 "
                              "slot, where it cannot run; use --user 2")
        out[2] = 0x00
        out[3] = user
    _patch_crc(out, img, add=True)
    return bytes(out)


# ====================================================================== flash parameters
def set_esp8266_flash_params(data: bytes | memoryview, *,
                             size: str | int | FlashMap | None = None,
                             mode: str | None = None, freq: str | None = None,
                             size_table: str | None = None,
                             ignore_invalid: bool = False) -> bytes:
    """Rewrite the flash mode, size (map) and clock of the ESP8266 image at ``data[0:]``.

    - v1 (boot.bin, any v1 image, or a flash dump whose image at 0 is v1): header bytes 2-3
      only; the XOR checksum does not cover the header (esp8266.md §1.3). This is the byte the
      bootloader reads the flash map from (§6).
    - v2 esptool form: EA bytes 2-3 and the inner header's bytes 2-3; CRC32 recomputed.
    - v2 gen_appbin form: the inner header only (EA bytes 2-3 keep ``00 <user>``); CRC32
      recomputed. A missing trailer stays missing (``convert_v2`` adds it).
    - an Arduino-ESP8266 build (eboot at 0): eboot's bytes 2-3 and elf2bin's length/CRC words,
      which cover the whole build (:mod:`esp_image.arduino`); refused when the CRC does not
      match before the edit.
    - v3 (RTOS SDK app): bytes 2-3 and the appended SHA-256 (it covers the header, §10). The
      size code is ambiguous (the SDK's own esptool writes ESP32 codes): ``size_table`` must
      say which table to write when ``size`` is given.

    Everything else, including data after the image, is kept byte for byte. Callers verify.

    Args:
        data: the image (or a file starting with one).
        size: ``4MB-c1``, ``1MB``, legacy ``32m-c1``/``8m``, a byte count, a :class:`FlashMap`,
            ``"keep"`` or None (keep).
        mode: ``qio``, ``qout``, ``dio``, ``dout``, ``"keep"`` or None.
        freq: ``40m``, ``26m``, ``20m``, ``80m``, ``"keep"`` or None.
        size_table: v3 only: ``"esp8266"`` or ``"esp32"``.
        ignore_invalid: recompute a CRC32/SHA-256 that does not match now instead of refusing.

    Raises:
        UsageError: a value the header cannot hold, or a v3 size without ``size_table``.
        FormatError: not an ESP8266 image, or a damaged/truncated one.
        ChecksumMismatch: the CRC32/SHA-256/elf2bin CRC that would be recomputed does not
            match now.
    """
    if size_table is not None:
        check_size_table(size_table)
    params = FlashParams.parse(size, mode, freq)
    table = size_table or "esp8266"
    encode(params, _ESP8266, 0, 0, table=table)  # the request is refused before the input
    raw, img = _parse(data, "flash-params")
    what = f"ESP8266 {img.format[-2:]} image"
    _require_intact(img, what)
    if img.format == "esp8266-v3" and params.size is not None and size_table is None:
        raise UsageError(
            "this is an ESP8266 RTOS SDK v3 app: its size code is ambiguous (the SDK's own "
            "esptool writes ESP32 codes, upstream esptool ESP8266 codes; this one reads as "
            f"{img.flash_size_name} in the ESP8266 table). Say which table to write with "
            "size_table='esp32' or 'esp8266'; the chip takes the flash size from the "
            "bootloader at 0x0, so set it there")
    if params.size is not None and table == "esp8266":
        fmap = esp8266_flash_map(params.size)
        if fmap.code != img.flash_size_code:
            _refuse_unrunnable(raw, img, fmap)

    out = bytearray(raw)
    inner = img.header_offset
    out[inner + 2], out[inner + 3] = encode(params, _ESP8266, img.flash_mode_code,
                                            img.flash_size_freq, table=table)
    if img.format == "esp8266-v2":
        _refuse_bad_crc(img, "flash-params", ignore_invalid)
        if img.variant != "gen_appbin":
            out[2], out[3] = out[inner + 2], out[inner + 3]
        _patch_crc(out, img, add=False)
    elif img.format == "esp8266-v3":
        if img.sha256_valid is False and not ignore_invalid:
            raise ChecksumMismatch(
                "flash-params: the appended SHA-256 does not match the image; refusing to "
                "recompute it over a damaged image (pass ignore_invalid=True to do it anyway)")
        start = img.length - fmt.DIGEST_SIZE
        out[start:img.length] = hashlib.sha256(memoryview(out)[:start]).digest()
    else:
        # An Arduino build's elf2bin CRC covers eboot's header too (core 2.7 and later).
        from ..arduino import reseal

        reseal(raw, out, ignore_invalid=ignore_invalid)
    return bytes(out)


def _refuse_unrunnable(raw: bytes, img: Esp8266Image, fmap: FlashMap) -> None:
    """Refuse a new map under which a NONOS user bin can no longer run (layout's rule).

    A bare v2 user bin must fit a slot of the new map (the one its gen_appbin marker names,
    else either); a NONOS dump's user bins must each sit at a slot of the new map, since
    boot.bin's byte 3 is what moves the slots. rBoot ROMs and bins whose link cannot be
    inferred are not NONOS user bins as far as can be told, and pass.

    Raises:
        LayoutError: a user bin would be out of its slot or linked for another address.
    """
    if img.format == "esp8266-v2":
        link = infer_irom_link(img)
        if img.user is None and link not in _NONOS_LINKS:
            return
        fits = {n: _slot_fit(img, img.end, n, fmap)[1] for n in ([img.user] if img.user
                                                                  else [1, 2])}
        if all(fits.values()):
            problems = [p for errors in fits.values() for p in errors]
            raise LayoutError(f"at flash size {fmap.name} this user bin cannot run: "
                              + "; ".join(dict.fromkeys(problems)))
        return
    found = identify_esp8266(memoryview(raw)) if len(raw) > img.end else None
    if found is None or found.shape != "nonos-flash":
        return
    problems = []
    slots = {fmap.user_slot(n): n for n in (1, 2)}
    for region in found.regions:
        user = region.model
        if region.name not in ("user1", "user2") or not isinstance(user, Esp8266Image):
            continue
        number = next((n for slot, n in slots.items() if slot and slot[0] == region.address),
                      None)
        if number is None:
            where = ", ".join(f"user{n} at {s[0]:#x}" for s, n in slots.items() if s)
            problems.append(f"{region.name} at {region.address:#x} is in no slot of the "
                            f"{fmap.name} map ({where or 'no user slots'})")
            continue
        problems += _slot_fit(user, user.end, number, fmap)[1]
    if problems:
        raise LayoutError(f"boot.bin's byte 3 sets the flash map, and under {fmap.name} the "
                          "user bins of this dump cannot run: " + "; ".join(problems))
