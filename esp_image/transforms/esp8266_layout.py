"""NONOS SDK flash layouts, and the rule for where a user bin can run (esp8266.md §6-§8).

:func:`plan_layout` checks boot.bin, the user bins and the init data against a flash map and
returns a frozen :class:`LayoutPlan` (the table ``layout esp8266`` prints, the esptool command,
the built image). :func:`slot_fit` is the slot rule it shares with ``flash-params``: a user
bin fits its slot and is linked for the slot's mapped irom address.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from ..checks import Issue
from ..errors import FormatError, LayoutError
from ..esp8266 import FLASH_MAPS, Esp8266Image, FlashMap
from ..formats.compiled import esp8266 as fmt
from ..recognise.esp8266 import _link_base, identify_esp8266
from ..units import SECTOR, format_size
from .flash import esp8266_flash_map

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from collections.abc import Mapping


# irom link addresses worth telling apart (esp8266.md §3.3, §8): NONOS user1 (any map) and
# 1024+1024 user2, 256+256 user2, 512+512 user2, and rBoot ROMs at 0x2000 / 0x82000.
_LINK_NAMES: dict[int, str] = {
    0x40201010: "user1",
    0x40241010: "user2 of a 256+256 map",
    0x40281010: "user2 of a 512+512 map",
    0x40202010: "an rBoot ROM at 0x2000",
    0x40282010: "an rBoot ROM at 0x82000",
}



def _link_for_slot(address: int) -> int:
    """Run-time address of the irom data of a v2 image flashed at ``address`` (§3.1)."""
    return fmt.IROM_MAP_START + address % fmt.IROM_WINDOW + fmt.V2Header.SIZE


def infer_irom_link(image: Esp8266Image, extra: tuple[int, ...] = ()) -> int | None:
    """The address a v2 image's irom part was linked for, from its code pointers (inferred).

    Reuses the prologue/literal-pool scoring of :mod:`esp_image.esp8266`. Candidates are the
    NONOS slot links (0x40201010, 0x40241010, 0x40281010), rBoot's (0x40202010, 0x40282010)
    and ``extra``. None for v1/v3 images or when no candidate clearly wins.
    """
    if image.v2_header is None or image.truncated:
        return None
    irom = image.data[fmt.V2Header.SIZE:image.header_offset]
    candidates = tuple(sorted({*_LINK_NAMES, *extra}))
    return _link_base(irom, candidates)


# The irom addresses NONOS user bins are linked for: a slot of some map (esp8266.md §8).
_NONOS_LINKS = frozenset(_link_for_slot(slot[0]) for fmap in FLASH_MAPS.values()
                         for slot in (fmap.user_slot(1), fmap.user_slot(2)) if slot)


def _link_name(link: int) -> str:
    return _LINK_NAMES.get(link, f"flash {link - fmt.IROM_MAP_START - fmt.V2Header.SIZE:#x}")



# ====================================================================== layouts
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
        return self.rows_for()

    def rows_for(self, files: Mapping[str, str] | None = None
                 ) -> list[tuple[str, str, str, str, str]]:
        """:attr:`rows` naming the files given by role (``files``) instead of the SDK names."""
        names = {**DEFAULT_FILES, **(files or {})}
        out = []
        for e in self.entries:
            file = names[e.file_role] if e.file_role else "-"
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
        from .esp8266 import set_esp8266_flash_params

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
    fmap = esp8266_flash_map(map_name)
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
                 "esptool's 'write-flash --flash-size' and the full image (layout -o) set it")
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
             f"{fmap.name}; the full image (layout -o) and esptool's 'write-flash "
             f"--flash-size {fmap.name}' set it")


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
