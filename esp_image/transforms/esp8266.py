"""ESP8266 rewrites: v2 variant conversion, flash parameters, NONOS flash layouts.

Pure functions: they take bytes, return new bytes (or a frozen :class:`LayoutPlan`) and raise
:mod:`esp_image.errors` exceptions. Everything a function does not have to change is copied
byte for byte; derived fields that cover a changed byte (the v2 CRC32 trailer, the v3 SHA-256)
are recomputed. Sources: shared/docs/formats/esp8266.md §1-§4 (formats, byte 3, the gen_appbin
marker, the CRC32), §6-§8 (NONOS maps, system parameters, the relink constraint), §10 (v3).
"""

from __future__ import annotations

import hashlib
import shlex
import struct
from dataclasses import dataclass, field

from .. import chips
from ..checks import Issue
from ..errors import ChecksumMismatch, FormatError, InputError, LayoutError
from ..esp8266 import (
    FLASH_MAPS,
    Esp8266Image,
    FlashMap,
    esp8266_crc32,
    parse_esp8266_flash_size,
)
from ..formats import esp8266 as fmt
from ..recognise.esp8266 import _link_base, identify_esp8266
from ..units import SECTOR, format_size

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "LayoutEntry",
    "LayoutPlan",
    "convert_v2",
    "infer_irom_link",
    "plan_layout",
    "set_esp8266_flash_params",
]

V2_FORMS = ("gen_appbin", "esptool")

# irom link addresses worth telling apart (esp8266.md §3.3, §8): NONOS user1 (any map) and
# 1024+1024 user2, 256+256 user2, 512+512 user2, and rBoot ROMs at 0x2000 / 0x82000.
_LINK_NAMES: dict[int, str] = {
    0x40201010: "user1",
    0x40241010: "user2 of a 256+256 map",
    0x40281010: "user2 of a 512+512 map",
    0x40202010: "an rBoot ROM at 0x2000",
    0x40282010: "an rBoot ROM at 0x82000",
}


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


def _link_for_slot(address: int) -> int:
    """Run-time address of the irom data of a v2 image flashed at ``address`` (§3.1)."""
    return fmt.IROM_MAP_START + address % 0x100000 + fmt.V2_HEADER_SIZE


def infer_irom_link(image: Esp8266Image, extra: tuple[int, ...] = ()) -> int | None:
    """The address a v2 image's irom part was linked for, from its code pointers (inferred).

    Reuses the prologue/literal-pool scoring of :mod:`esp_image.esp8266`. Candidates are the
    NONOS slot links (0x40201010, 0x40241010, 0x40281010), rBoot's (0x40202010, 0x40282010)
    and ``extra``. None for v1/v3 images or when no candidate clearly wins.
    """
    if image.v2_header is None or image.truncated:
        return None
    irom = image.data[fmt.V2_HEADER_SIZE:image.header_offset]
    candidates = tuple(sorted({*_LINK_NAMES, *extra}))
    return _link_base(irom, candidates)


# The irom addresses NONOS user bins are linked for: a slot of some map (esp8266.md §8).
_NONOS_LINKS = frozenset(_link_for_slot(slot[0]) for fmap in FLASH_MAPS.values()
                         for slot in (fmap.user_slot(1), fmap.user_slot(2)) if slot)


def _link_name(link: int) -> str:
    return _LINK_NAMES.get(link, f"flash {link - fmt.IROM_MAP_START - fmt.V2_HEADER_SIZE:#x}")


def _patch_crc(out: bytearray, img: Esp8266Image, *, add: bool) -> None:
    """Recompute (or with ``add``, append when absent) the CRC32 trailer after ``img.length``."""
    crc = struct.pack("<I", esp8266_crc32(memoryview(out)[:img.length]))
    if img.stored_crc32 is not None:
        out[img.length:img.length + fmt.CRC_SIZE] = crc
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
                raise InputError("say which user bin this is (user=1 or 2): an esptool-form "
                                 f"v2 image does not record it{hint}")
            user = img.user
        link = infer_irom_link(img)
        if link in (0x40241010, 0x40281010) and user == 1:
            raise LayoutError(f"the irom is linked for {link:#x} ({_link_name(link)}); "
                              "marking it user1 would make OTA code flash it into the user1 "
                              "slot, where it cannot run; use user=2")
        out[2] = 0x00
        out[3] = user
    _patch_crc(out, img, add=True)
    return bytes(out)


# ====================================================================== flash parameters
_MODE_CODES = {name: code for code, name in fmt.FLASH_MODES.items()}
_FREQ_CODES = {name: code for code, name in fmt.FLASH_FREQS.items()}
_FREQ_ALIASES = {"26.7m": 0x1, "40mhz": 0x0, "26mhz": 0x1, "20mhz": 0x2, "80mhz": 0xF}
_SIZE_TABLES = ("esp8266", "esp32")


def _mode_code(mode: str) -> int:
    try:
        return _MODE_CODES[mode.strip().lower()]
    except KeyError:
        raise InputError(f"unknown flash mode {mode!r}; use one of "
                         f"{', '.join(_MODE_CODES)}") from None


def _freq_code(freq: str) -> int:
    key = freq.strip().lower()
    code = _FREQ_CODES.get(key, _FREQ_ALIASES.get(key))
    if code is None:
        raise InputError(f"the ESP8266 has no flash frequency {freq!r}; use one of "
                         f"{', '.join(_FREQ_CODES)}")
    return code


def _flash_map(size: str | int | FlashMap) -> FlashMap:
    if isinstance(size, FlashMap):
        fmap = size
    else:
        text = hex(size) if isinstance(size, int) else size
        try:
            fmap = parse_esp8266_flash_size(text)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    if not fmap.supported:
        raise InputError(f"flash size {fmap.name} ({fmap.sdk_map}) is not supported by the SDK "
                         "or current esptool; use 4MB-c1 or 4MB")
    return fmap


def _keep(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() == "keep" else value


def _size_code(size: str | int | FlashMap, table: str) -> int:
    fmap = _flash_map(size)
    if table == "esp8266":
        return fmap.code
    if "-c" in fmap.name:
        raise InputError(f"{fmap.name} is an ESP8266 map name; the ESP32 size table has only "
                         "plain sizes (1MB, 2MB, 4MB, ...)")
    for code, nbytes in chips.ESP32_FLASH_SIZES.items():
        if nbytes == fmap.size:
            return code
    raise InputError(f"{format_size(fmap.size)} has no code in the ESP32 size table "
                     "(1MB-128MB)")


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
        InputError: a bad value, or a v3 size without ``size_table``.
        FormatError: not an ESP8266 image, or a damaged/truncated one.
        ChecksumMismatch: the CRC32/SHA-256 that would be recomputed does not match now.
    """
    size_value = _keep(size) if isinstance(size, str) else size
    if isinstance(size_value, str) and size_value.strip().lower() == "detect":
        raise InputError("flash size 'detect' needs a device; give a size such as 4MB-c1")
    mode_value, freq_value = _keep(mode), _keep(freq)
    if size_table is not None and size_table not in _SIZE_TABLES:
        raise InputError(f"size_table must be 'esp8266' or 'esp32', not {size_table!r}")
    mode_code = _mode_code(mode_value) if mode_value is not None else None
    freq_code = _freq_code(freq_value) if freq_value is not None else None
    raw, img = _parse(data, "flash-params")
    what = f"ESP8266 {img.format[-2:]} image"
    _require_intact(img, what)
    if img.format == "esp8266-v3" and size_value is not None and size_table is None:
        raise InputError(
            "this is an ESP8266 RTOS SDK v3 app: its size code is ambiguous (the SDK's own "
            "esptool writes ESP32 codes, upstream esptool ESP8266 codes; this one reads as "
            f"{img.flash_size_name} in the ESP8266 table). Say which table to write with "
            "size_table='esp32' or 'esp8266'; the chip takes the flash size from the "
            "bootloader at 0x0, so set it there")
    table = size_table or "esp8266"
    size_code = _size_code(size_value, table) if size_value is not None else None
    if size_value is not None and table == "esp8266" and size_code != img.flash_size_code:
        _refuse_unrunnable(raw, img, _flash_map(size_value))

    def new_params(mode_byte: int, size_freq: int) -> tuple[int, int]:
        b2 = mode_byte if mode_code is None else mode_code
        sc = size_freq >> 4 if size_code is None else size_code
        fc = size_freq & 0xF if freq_code is None else freq_code
        return b2, sc << 4 | fc

    out = bytearray(raw)
    inner = img.header_offset
    out[inner + 2], out[inner + 3] = new_params(img.flash_mode_code, img.flash_size_freq)
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


# ====================================================================== NONOS layouts
DEFAULT_FILES: dict[str, str] = {
    "boot": "boot.bin",
    "user1": "user1.bin",
    "user2": "user2.bin",
    "init_data": "esp_init_data_default.bin",
    "blank": "blank.bin",
}
"""File names the write-flash command uses unless told otherwise (the SDK's ``bin/`` names)."""


@dataclass(frozen=True)
class LayoutEntry:
    """One area of a NONOS flash map and what goes there.

    Attributes:
        name: ``boot``, ``user1``, ``user2``, ``rf_cal``, ``init_data``, ``save0``, ``save1``
            or ``flag``.
        address: flash address.
        size: bytes the area spans (a slot ends at the next area).
        file_role: key of the file written there by the flash recipe (``boot``, ``user1``,
            ``user2``, ``init_data``, ``blank``), or None (left as it is / erased).
        length: bytes of the part given to :func:`plan_layout` (None when not given).
        detail: one line for a person.
    """

    name: str
    address: int
    size: int
    file_role: str | None
    length: int | None
    detail: str

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"name": self.name, "address": self.address, "size": self.size,
                "file": DEFAULT_FILES.get(self.file_role) if self.file_role else None,
                "file_role": self.file_role, "length": self.length, "detail": self.detail}


@dataclass(frozen=True)
class LayoutPlan:
    """The flash plan of one NONOS SDK map (esp8266.md §6), checked against the given parts.

    Attributes:
        flash_map: the map.
        entries: every area, in address order.
        issues: warnings (errors make :func:`plan_layout` raise instead).
        notes: plain facts worth printing.
        parts: the bytes given for ``boot``, ``user1``, ``user2``, ``init_data``.
        images: the parsed boot/user images.
        links: the inferred irom link address of each v2 user bin (None when unclear).
    """

    ROW_HEADERS = ("Address", "Size", "Part", "File", "Contents")

    flash_map: FlashMap
    entries: tuple[LayoutEntry, ...]
    issues: tuple[Issue, ...] = ()
    notes: tuple[str, ...] = ()
    parts: Mapping[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    images: Mapping[str, Esp8266Image] = field(default_factory=dict, repr=False, compare=False)
    links: Mapping[str, int | None] = field(default_factory=dict, compare=False)

    def entry(self, name: str) -> LayoutEntry:
        """The entry called ``name``.

        Raises:
            KeyError: no such area in this map.
        """
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(name)

    @property
    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """The human table, one row per area (headers in :attr:`ROW_HEADERS`)."""
        out = []
        for e in self.entries:
            file = DEFAULT_FILES[e.file_role] if e.file_role else "-"
            if e.name in self.parts:
                file += f" ({format_size(e.length or 0)})"
            out.append((f"{e.address:#08x}", format_size(e.size), e.name, file, e.detail))
        return out

    def flash_items(self, files: Mapping[str, str] | None = None) -> list[tuple[int, str]]:
        """``(address, file)`` pairs of the flash recipe: boot, user1, user2 (when given),
        init data, and blank.bin over the three system-parameter sectors."""
        names = {**DEFAULT_FILES, **(files or {})}
        items: list[tuple[int, str]] = []
        for e in self.entries:
            if e.file_role is None:
                continue
            if e.file_role == "user2" and "user2" not in self.parts and "user2" not in (
                    files or {}):
                continue
            items.append((e.address, names[e.file_role]))
        return items

    def write_flash_command(self, port: str = "PORT", files: Mapping[str, str] | None = None,
                            *, erase_all: bool = False) -> str:
        """The equivalent esptool 5 command line.

        ``esptool --chip esp8266 --port PORT write-flash --flash-size 4MB-c1 0x0 boot.bin
        0x1000 user1.bin ...``: ``--flash-size`` makes esptool patch boot.bin's byte 3 to the
        map, as :meth:`build` does. user2 is included only when given (as a part or in
        ``files``). blank.bin (4 KiB of 0xFF, the SDK's ``bin/blank.bin``) resets all three
        system-parameter sectors. ``erase_all`` adds ``--erase-all`` so every other area is
        erased too, which makes the result equal to :meth:`build`.

        Args:
            port: the serial port text.
            files: file names by role (``boot``, ``user1``, ``user2``, ``init_data``,
                ``blank``) to use instead of :data:`DEFAULT_FILES`.
        """
        words = ["esptool", "--chip", "esp8266", "--port", port, "write-flash"]
        if erase_all:
            words.append("--erase-all")
        words += ["--flash-size", self.flash_map.name]
        for address, name in self.flash_items(files):
            words += [f"{address:#x}", name]
        return " ".join(shlex.quote(w) for w in words)

    def build(self) -> bytes:
        """The complete flash image of the map's size, verified.

        0xFF everywhere, boot.bin at 0 with byte 3's size nibble set to the map, the user bins
        in their slots, init data at N - 0x4000, RF-cal and the system-parameter sectors erased
        (as blank.bin leaves them).

        Raises:
            LayoutError: boot.bin or user1.bin was not given, or the result does not identify
                as a valid NONOS flash image.
        """
        fmap = self.flash_map
        missing = [n for n in ("boot", "user1") if n not in self.parts]
        if missing:
            raise LayoutError(f"a complete {fmap.name} flash image needs "
                              f"{' and '.join(m + '.bin' for m in missing)}")
        out = bytearray(b"\xff") * fmap.size
        boot = set_esp8266_flash_params(self.parts["boot"], size=fmap)
        places = {"boot": (0, boot)}
        for name in ("user1", "user2", "init_data"):
            if name in self.parts:
                places[name] = (self.entry(name).address, self.parts[name])
        for address, blob in places.values():
            out[address:address + len(blob)] = blob
        found = identify_esp8266(memoryview(out))
        if found is None or found.shape != "nonos-flash" or not found.valid:
            failed = [f"{c.name} at {c.offset:#x}: {c.detail}"
                      for c in (found.checks if found else ()) if not c.valid]
            raise LayoutError(f"the built {fmap.name} image does not verify as a NONOS flash "
                              f"image ({found.shape if found else 'not ESP8266'}): "
                              + ("; ".join(failed) or "unrecognised"))
        return bytes(out)

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "flash_map": self.flash_map.to_dict(),
            "entries": [e.to_dict() for e in self.entries],
            "links": dict(self.links),
            "issues": [i.to_dict() for i in self.issues],
            "notes": list(self.notes),
            "write_flash": self.write_flash_command(),
        }


def _resolve_map(map_name: str | FlashMap) -> FlashMap:
    try:
        return _flash_map(map_name)
    except InputError as exc:
        raise LayoutError(str(exc)) from None


def _boot_version(name: str | None) -> tuple[int, int] | None:
    if not name or not name.startswith("boot_v"):
        return None
    try:
        major, minor = name[len("boot_v"):].split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return None


def plan_layout(map_name: str | FlashMap, *, boot: bytes | None = None,
                user1: bytes | None = None, user2: bytes | None = None,
                init_data: bytes | None = None) -> LayoutPlan:
    """Plan a NONOS SDK flash: every address of the map and which file goes where.

    Checks each part against the map: boot.bin is a v1 image (Espressif's boot_v1.x, below
    0x1000, byte 3 vs the map: a warning, :meth:`LayoutPlan.build` and esptool's
    ``--flash-size`` fix it); each user bin is an intact image that fits its slot, and a v2
    user bin is linked for its slot (the irom link address is inferred from the code; for
    256+256 and 512+512 maps user1 and user2 are different links, §8) and carries the right
    gen_appbin marker; init data is 128 bytes (or one sector) starting with 0x05.

    Args:
        map_name: ``4MB-c1``, ``1MB``, legacy ``32m-c1``..., or a :class:`FlashMap`.
        boot, user1, user2, init_data: the parts, each optional.

    Raises:
        LayoutError: an unknown or unsupported map, a part in the wrong place or too large, a
            damaged image (all errors found, in one message).
    """
    fmap = _resolve_map(map_name)
    given = {k: bytes(v) for k, v in (("boot", boot), ("user1", user1), ("user2", user2),
                                      ("init_data", init_data)) if v is not None}
    f = _Findings()
    errors, notes = f.errors, f.notes
    entries: list[LayoutEntry] = []

    slot1, slot2 = fmap.user_slot(1), fmap.user_slot(2)
    if slot1 is None or slot2 is None:
        placed = [f"{k}.bin" for k in ("boot", "user1", "user2") if k in given]
        if placed:
            errors.append(f"the {fmap.name} map ({fmap.sdk_map}) has no boot/user slots: "
                          f"{', '.join(placed)} cannot be placed; flash a non-OTA build "
                          "(eagle.flash.bin at 0x0, eagle.irom0text.bin at 0x10000) instead")
        notes.append(f"{fmap.name} has no OTA: the app at 0x0 is a non-OTA build")
    else:
        entries.append(LayoutEntry("boot", 0, SECTOR, "boot", _len(given, "boot"),
                                   "boot_v1.x.bin: second-stage bootloader; its byte 3 is the "
                                   "flash map"))
        for number, (address, room) in ((1, slot1), (2, slot2)):
            name = f"user{number}"
            detail = (f"{name}.bin, slot up to {address + room:#x}, irom linked for "
                      f"{_link_for_slot(address):#x}")
            entries.append(LayoutEntry(name, address, room, name, _len(given, name), detail))
        if "boot" in given:
            _check_boot(f, given["boot"], fmap)
        for number in (1, 2):
            name = f"user{number}"
            if name in given:
                _check_user(f, number, given[name], fmap, entries[number])
        if "user1" not in given:
            notes.append("no user1.bin given: the recipe needs one at 0x1000")
    entries.append(LayoutEntry("rf_cal", fmap.rf_cal, SECTOR, None, None,
                               "RF calibration: left erased, the SDK writes it"))
    entries.append(LayoutEntry("init_data", fmap.init_data, SECTOR, "init_data",
                               _len(given, "init_data"), "esp_init_data_default.bin (128 "
                               "bytes of RF/PHY parameters)"))
    for name, address, what in (("save0", fmap.save0, "system parameters, copy 0"),
                                ("save1", fmap.save1, "system parameters, copy 1"),
                                ("flag", fmap.flag, "flag sector: which copy is live")):
        entries.append(LayoutEntry(name, address, SECTOR, "blank",
                                   None, f"{what}: blank.bin (erased = defaults, user1)"))
    if "init_data" in given:
        _check_init_data(f, given["init_data"])
    else:
        f.warn("no-init-data", f"no esp_init_data_default.bin given: the SDK does not start "
             f"without it at {fmap.init_data:#x}")
    if errors:
        raise LayoutError("; ".join(errors))
    notes.append("the bootloader reads the flash map from byte 3 of boot.bin at 0x0; "
                 "'write-flash --flash-size' and build() set it")
    return LayoutPlan(fmap, tuple(sorted(entries, key=lambda e: e.address)), tuple(f.issues),
                      tuple(notes), given, f.images, f.links)


@dataclass
class _Findings:
    """What plan_layout's checks collect."""

    errors: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    images: dict[str, Esp8266Image] = field(default_factory=dict)
    links: dict[str, int | None] = field(default_factory=dict)

    def warn(self, code: str, message: str) -> None:
        self.issues.append(Issue("warning", code, message))


def _len(given: Mapping[str, bytes], name: str) -> int | None:
    return len(given[name]) if name in given else None


def _image(blob: bytes, name: str, errors: list[str]) -> Esp8266Image | None:
    try:
        return Esp8266Image.from_bytes(blob)
    except FormatError as exc:
        errors.append(f"{name}.bin is not an ESP8266 image ({exc.reason})")
        return None


def _damage(img: Esp8266Image, name: str, errors: list[str]) -> bool:
    if img.problems:
        errors.append(f"{name}.bin is damaged: {'; '.join(img.problems)}")
        return True
    if not img.checksum_valid:
        errors.append(f"{name}.bin's XOR checksum does not match (stored "
                      f"{img.stored_checksum:#04x}, computed {img.computed_checksum:#04x})")
        return True
    return False


def _check_boot(f: _Findings, blob: bytes, fmap: FlashMap) -> None:
    errors, warn = f.errors, f.warn
    img = _image(blob, "boot", errors)
    if img is None:
        return
    f.images["boot"] = img
    if img.format != "esp8266-v1":
        errors.append(f"boot.bin is an {img.format} image; the boot loader at 0x0 must be a "
                      "v1 (0xE9) image such as boot_v1.7.bin")
        return
    if _damage(img, "boot", errors):
        return
    if img.end > SECTOR:
        errors.append(f"boot.bin is {img.end:#x} bytes and would overlap user1 at 0x1000")
    name = img.bootloader_name
    if name is not None and not name.startswith("boot_v"):
        errors.append(f"boot.bin is {name}, not Espressif's boot_v1.x; the NONOS map needs "
                      "boot_v1.x")
    elif name is None:
        warn("unknown-boot", "boot.bin is not recognisably Espressif's boot_v1.x")
    version = _boot_version(name)
    if version is not None and version < (1, 4) and fmap.slot_size == 0x100000:
        warn("old-boot", f"{name} predates boot_v1.4, which the 1024+1024 maps need")
    if img.flash_size_code != fmap.code:
        warn("boot-map", f"boot.bin's byte 3 declares {img.flash_size_name}, not "
             f"{fmap.name}; build() and 'write-flash --flash-size {fmap.name}' set it")


def _check_user(f: _Findings, number: int, blob: bytes, fmap: FlashMap,
                entry: LayoutEntry) -> None:
    errors, warn, notes = f.errors, f.warn, f.notes
    name, address, room = entry.name, entry.address, entry.size
    img = _image(blob, name, errors)
    if img is None:
        return
    f.images[name] = img
    if img.format == "esp8266-v3":
        errors.append(f"{name}.bin is an RTOS SDK v3 app; it needs the RTOS SDK bootloader and "
                      "partition table, not a NONOS map")
        return
    if _damage(img, name, errors):
        return
    link, problems = _slot_fit(img, len(blob), number, fmap)
    errors.extend(problems)
    if len(blob) <= room and fmap.max_user_bin is not None and img.end > fmap.max_user_bin:
        warn("ota-size-limit", f"{name}.bin is {img.end:#x} bytes; the SDK's OTA code accepts "
             f"at most {fmap.max_user_bin:#x} for this map")
    if img.format == "esp8266-v1":
        warn("v1-user-bin", f"{name}.bin is a v1 image: boot_v1.x loads it in place, but NONOS "
             "user bins are v2 (gen_appbin boot_mode 2); its irom is not in the file")
        return
    expected = _link_for_slot(address)
    f.links[name] = link
    if link is None:
        warn("link-unknown", f"{name}.bin: the irom link address could not be inferred; it "
             f"must be linked for {expected:#x} to run at {address:#x}")
    if img.user is not None and img.user != number and link in (None, expected) \
            and not _own_links(fmap):
        warn("wrong-marker", f"{name}.bin is gen_appbin user{img.user}.bin (EA byte 3 = "
             f"{img.user}); 1024+1024 maps use one link for both slots, but OTA code that "
             f"checks the marker will be confused (esp-image convert --to gen_appbin --user "
             f"{number} fixes it)")
    if img.crc32_status == "invalid":
        errors.append(f"{name}.bin's CRC32 trailer does not match (stored "
                      f"{img.stored_crc32:#010x}, computed {img.computed_crc32:#010x}): damaged?")
    elif img.crc32_status == "absent":
        warn("no-crc32", f"{name}.bin has no CRC32 trailer: it boots, but the SDK's OTA check "
             "needs one (esp-image convert adds it)")
    if img.variant == "esptool":
        notes.append(f"{name}.bin is an esptool-form v2 image (flash parameters in EA byte 3); "
                     "OTA code that checks the user1/user2 marker needs the gen_appbin form "
                     f"(esp-image convert --to gen_appbin --user {number})")
    if img.flash_size_code != fmap.code:
        notes.append(f"{name}.bin's own header says {img.flash_size_name}; the bootloader "
                     f"uses boot.bin's map ({fmap.name})")


def _own_links(fmap: FlashMap) -> bool:
    """Whether each slot of the map needs its own build: 256+256 and 512+512 (esp8266.md §8);
    1024+1024 slots map to the same irom address."""
    return fmap.slot_size is not None and fmap.slot_size < 0x100000


def _slot_fit(img: Esp8266Image, length: int, number: int, fmap: FlashMap
              ) -> tuple[int | None, list[str]]:
    """Why a user bin of ``length`` bytes cannot run in slot ``number`` of ``fmap``, and the
    irom link inferred for a v2 image (None for v1 or when unclear).

    The rule ``layout esp8266`` and ``flash-params`` share: the bin fits the slot, its irom is
    linked for the slot's mapped address, and on maps whose slots have their own links its
    gen_appbin marker names this slot.
    """
    name = f"user{number}"
    slot = fmap.user_slot(number)
    if slot is None:
        return None, [f"the {fmap.name} map ({fmap.sdk_map}) has no boot/user slots: "
                      f"{name}.bin cannot be placed"]
    address, room = slot
    errors: list[str] = []
    if length > room:
        errors.append(f"{name}.bin is {length:#x} bytes; its slot at {address:#x} holds "
                      f"{room:#x}")
    if img.format != "esp8266-v2":
        return None, errors
    slot_kb = (fmap.slot_size or 0) // 1024
    slots = f"{slot_kb}+{slot_kb}"
    expected = _link_for_slot(address)
    link = infer_irom_link(img, (expected,))
    if link is not None and link != expected:
        errors.append(f"{name}.bin is linked for {link:#x} ({_link_name(link)}); the {slots} "
                      f"map needs a {name} build (irom at {expected:#x})")
    elif img.user is not None and img.user != number and _own_links(fmap):
        errors.append(f"{name}.bin is gen_appbin user{img.user}.bin (EA byte 3 = {img.user})"
                      f"; the {slots} map needs a {name} build")
    return link, errors


def _check_init_data(f: _Findings, blob: bytes) -> None:
    errors, warn = f.errors, f.warn
    if len(blob) > SECTOR:
        errors.append(f"init data is {len(blob):#x} bytes; its sector holds {SECTOR:#x} "
                      f"(esp_init_data_default is {fmt.INIT_DATA_SIZE} bytes)")
        return
    if len(blob) < fmt.INIT_DATA_SIZE or blob[0] != fmt.INIT_DATA_MARKER:
        errors.append(f"init data ({len(blob)} bytes) is not esp_init_data_default (128 bytes "
                      "starting with 0x05)")
        return
    if len(blob) != fmt.INIT_DATA_SIZE and blob[fmt.INIT_DATA_SIZE:].strip(b"\xff"):
        warn("init-data-size", f"init data is {len(blob)} bytes; esp_init_data_default is "
             f"{fmt.INIT_DATA_SIZE} (the rest is written too)")
