"""The ESP8266 recognisers: what an ESP8266 file is, as an :class:`~esp_image.image.Image`.

Each recogniser takes the data (and, after an ``E9`` image at 0, that image) and returns the
Image of its layout, or None when the layout is not there; the first that answers wins
(esp8266.md §11.3). The order is :data:`RECOGNISERS` and :data:`AFTER_IMAGE`.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass, field

from ..checks import Check, Issue, compare_digest
from ..chips import ESP32_FLASH_SIZES, chip_by_name
from ..errors import FormatError, TruncatedError
from ..esp8266 import Esp8266Image, FlashMap
from ..esp8266_parts import InitData, SystemParams, looks_like_init_data
from ..formats.compiled import esp8266 as fmt
from ..formats.compiled import partition_table as table_fmt
from ..image import Builder, Image, TableArea, image_summary, prefixed, single_image
from ..spans import is_erased
from ..units import SECTOR, format_size

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..image import Esp8266Shape, ImageKind, RegionKind

CHIP = chip_by_name("esp8266")


def _u32(view: memoryview | bytes, off: int) -> int:
    return int.from_bytes(view[off:off + 4], "little")


def _finish(b: Builder, kind: ImageKind, shape: Esp8266Shape, flash_map: FlashMap | None,
            **fields: Any) -> Image:
    return b.finish(kind, CHIP, shape=shape, flash_map=flash_map, **fields)


# ---------------------------------------------------------------------- identification
def identify_esp8266(view: memoryview) -> Image | None:
    """The ESP8266 reading of the data (esp8266.md §11.3), or None when it is not ESP8266.

    The first of :data:`RECOGNISERS` that answers wins. Erased data is left to the caller
    (returns None). Unrecognised data that is still ESP8266 (raw irom code, an image followed by
    unknown bytes) is an ``unknown`` Image with the reason.
    """
    view = memoryview(view).cast("B") if view.format != "B" else view
    if not len(view):
        return None
    for recognise in RECOGNISERS:
        found = recognise(view)
        if found is not None:
            return found
    return None


def _plausible_v1(view: memoryview, off: int = 0) -> bool:
    """An E9 header whose fields and first segment header make sense for an ESP8266."""
    if off + 16 > len(view) or view[off] != fmt.MAGIC_V1:
        return False
    count, mode = view[off + 1], view[off + 2]
    if not 1 <= count <= fmt.MAX_SEGMENTS or mode > 3:
        return False
    addr, length = struct.unpack_from("<II", view, off + 8)
    plausible_addr = (0x3FF00000 <= addr < 0x40000000 or 0x40100000 <= addr < 0x40110000
                      or fmt.IROM_MAP_START <= addr < fmt.IROM_MAP_END
                      or 0x60000000 <= addr < 0x60002000)
    return bool(plausible_addr and length < fmt.SEGMENT_MAX_LEN)


def _single(view: memoryview, image: Esp8266Image) -> Image:
    notes: list[str] = []
    issues = [Issue("warning", "image", w) for w in image.warnings]
    if image.crc32_status == "absent":
        notes.append("no CRC32 trailer (esptool < 2.4.0, esp-open-rtos): boot_v1.x and rBoot "
                     "boot it, but the SDK's OTA download check needs the trailer")
    if image.variant == "gen_appbin":
        notes.append(f"gen_appbin user{image.user}.bin: EA byte 3 is the user-bin number; the "
                     "flash parameters are in the inner header only")
    if image.format == "esp8266-v1" and image.role == "app" and not any(
            fmt.IROM_MAP_START <= s.load_addr < fmt.IROM_MAP_END for s in image.segments):
        where = _irom_link_hint(image.data[:image.length])
        notes.append("the flash-mapped irom0 code is not in this file: flash this image at 0x0 "
                     "and its …-0x10000.bin (NONOS SDK >= 2.0) or …-0x40000.bin (SDK <= 1.x) "
                     "next to it" + (f"; its code points into irom linked for flash {where:#x} "
                                     "(inferred)" if where is not None else ""))
    if image.flash_size_ambiguous:
        esp32 = ESP32_FLASH_SIZES.get(image.flash_size_code)
        notes.append(f"RTOS SDK v3 app: size code {image.flash_size_code:#x} is "
                     f"{image.flash_size_name} in the ESP8266 table but "
                     f"{format_size(esp32) if esp32 else '?'} in the ESP32 table the SDK's "
                     "esptool uses; take the flash size from the bootloader at 0x0")
    return single_image(view, image, CHIP, notes, issues, erased_tail="", data_tail="",
                        shape="image", flash_map=image.flash_map)


def _e9_image(view: memoryview) -> Image | None:
    """A v1/v3 image at 0, alone or followed by what :data:`AFTER_IMAGE` recognises."""
    if not _plausible_v1(view):
        return None
    image = Esp8266Image.from_bytes(view)
    if image.format == "esp8266-v3" or image.truncated or not image.trailing:
        return _single(view, image)
    for recognise in AFTER_IMAGE:
        found = recognise(view, image)
        if found is not None:
            return found
    return _image_and_rest(view, image)


def _v2_image(view: memoryview) -> Image | None:
    if view[0] != fmt.MAGIC_V2 or len(view) < fmt.V2Header.SIZE \
            or view[1] != fmt.V2_SEGMENT_COUNT:
        return None
    return _single(view, Esp8266Image.from_bytes(view))


def _image_and_rest(view: memoryview, image: Esp8266Image) -> Image:
    """The fallback after an image at 0: the image alone, or ``unknown`` when much follows."""
    end = image.end
    tail = view[end:]
    if is_erased(tail) or len(tail) <= SECTOR:
        return _single(view, image)
    reason = (f"an ESP8266 {image.format} {image.role} image ({end:#x} bytes) followed by "
              f"{len(tail):#x} bytes of unrecognised data (no irom at 0x9000/0x10000/0x40000, "
              "no second image)")
    b = Builder(view)
    b.checks.append(Check("structure", False, 0, reason))
    b.image(image, 0, "image")
    return _finish(b, "unknown", "unknown", image.flash_map, reason=reason)


# ---------------------------------------------------------------------- NONOS dumps
def _slot_image(b: Builder, addr: int, bound: int, name: str) -> Esp8266Image | None:
    """Parse the image in one slot ``[addr, bound)`` of the file, adding region and checks."""
    view = b.view
    if addr >= len(view):
        return None
    stop = min(bound, len(view))
    first = view[addr]
    if first in (fmt.MAGIC_V1, fmt.MAGIC_V2) and stop - addr >= fmt.V2Header.SIZE:
        try:
            img = Esp8266Image.from_bytes(view[:stop], addr, flash_offset=addr + b.base)
        except FormatError as exc:
            b.checks.append(Check("structure", False, addr, f"{name}: {exc.reason}"))
            b.region(addr, stop - addr, "data", name, "not a valid image")
            return None
        b.image(img, addr, name)
        if img.truncated and stop == bound:
            b.issues.append(Issue("error", "image-too-large",
                                  f"{name} at {addr + b.base:#x} runs past the end of its slot "
                                  f"({bound + b.base:#x})"))
        return img
    if is_erased(view[addr:stop]):
        b.region(addr, stop - addr, "erased", name, "empty slot")
    else:
        b.region(addr, stop - addr, "data", name, "not an image")
    return None


def _system_areas(b: Builder, fmap: FlashMap) -> SystemParams | None:
    view = b.view
    size = len(view)
    rf = fmap.rf_cal - b.base
    if 0 <= rf < size:
        erased = is_erased(view[rf:rf + SECTOR])
        b.region(rf, SECTOR, "erased" if erased else "data", "rf_cal",
                 "RF calibration" + (" (erased; the SDK writes it)" if erased else ""))
    init = fmap.init_data - b.base
    if 0 <= init < size:
        sector = view[init:init + SECTOR]
        if len(sector) >= fmt.INIT_DATA_SIZE and sector[0] == fmt.INIT_DATA_MARKER:
            data = InitData.from_bytes(sector)
            b.region(init, SECTOR, "init-data", "init_data",
                     f"esp_init_data_default, version {data.version}", model=data)
            b.details["init_data"] = data.to_dict()
        elif is_erased(sector):
            b.region(init, SECTOR, "erased", "init_data", "erased: the SDK will not start "
                     "without esp_init_data_default")
            b.issues.append(Issue("warning", "no-init-data",
                                  f"esp_init_data_default is missing at {fmap.init_data:#x}"))
        else:
            b.region(init, SECTOR, "data", "init_data", "not esp_init_data_default")
    sys_at = fmap.system_params - b.base
    if sys_at >= 0 and sys_at + SystemParams.SIZE <= size:
        params = SystemParams.from_bytes(view, sys_at, fmap.system_params)
        b.region(sys_at, SystemParams.SIZE, "system-params", "system_params",
                 f"live copy save{params.live_copy}, next boot user{params.next_user} "
                 "(inferred)", model=params)
        b.details["system_params"] = params.to_dict()
        return params
    if 0 <= sys_at < size:
        b.region(sys_at, size - sys_at, "data", "system_params", "partly in the file")
    return None


def _nonos_flash(view: memoryview, boot: Esp8266Image) -> Image | None:
    """A NONOS SDK flash dump: boot_v1.x, user1/user2 slots, the system areas."""
    name = boot.bootloader_name
    size = len(view)
    if not (name and name.startswith("boot_v") and size > 0x1000):
        return None
    b = Builder(view)
    b.image(boot, 0, "boot")
    fmap = boot.flash_map
    if fmap is None or fmap.slot_size is None:
        b.notes.append(f"boot.bin byte 3 declares size code {boot.flash_size_code:#x}, which "
                       "has no OTA map; only user1 at 0x1000 was examined")
        _slot_image(b, 0x1000, size, "user1")
        return _finish(b, "flash", "nonos-flash", fmap)
    users: dict[int, Esp8266Image | None] = {}
    for number in (1, 2):
        addr, room = fmap.user_slot(number) or (0, 0)
        users[number] = _slot_image(b, addr, addr + room, f"user{number}")
        img = users[number]
        limit = fmap.max_user_bin
        if img is not None and limit is not None and img.end > limit:
            b.issues.append(Issue("warning", "ota-size-limit",
                                  f"user{number} is {img.end:#x} bytes; the SDK's OTA code "
                                  f"accepts at most {limit:#x} for this map"))
        if img is not None and img.user is not None and img.user != number:
            same_link = fmap.shared_link
            b.issues.append(Issue(
                "warning" if same_link else "error", "wrong-slot",
                f"user{number} slot at {addr:#x} holds gen_appbin user{img.user}.bin"
                + ("; 1024+1024 maps use one link for both slots, only the marker differs"
                   if same_link else "; it is linked for the other slot and cannot run here")))
    params = _system_areas(b, fmap)
    b.details["flash_map"] = fmap.to_dict()
    if params is not None:
        nxt = users.get(params.next_user)
        if nxt is None or not nxt.valid:
            b.issues.append(Issue("warning", "next-slot-empty",
                                  f"the system parameters select user{params.next_user} "
                                  "(inferred) but that slot holds no valid image"))
    if size < fmap.size:
        b.notes.append(f"the file covers flash 0x0-{size:#x} of the {fmap.name} map "
                       f"({fmap.size:#x}); areas past it are not in the file")
    elif size > fmap.size:
        b.issues.append(Issue("warning", "file-past-flash-size",
                              f"the file ({size:#x} bytes) is larger than the {fmap.name} flash "
                              "boot.bin declares"))
    b.notes.append("boot.bin byte 3 is the flash map the bootloader uses "
                   f"({fmap.title}); the user bins' own byte 3 is not consulted")
    b.layout(f"user bins fit their slots of the {fmap.title} map")
    return _finish(b, "flash", "nonos-flash", fmap)


def _rtos_flash(view: memoryview, boot: Esp8266Image) -> Image | None:
    """An ESP8266 RTOS SDK flash: bootloader, partition table at 0x8000, apps."""
    at, area = table_fmt.DEFAULT_TABLE_OFFSET, table_fmt.TABLE_SECTOR
    if boot.role != "bootloader" or len(view) < at + table_fmt.RECORD_SIZE \
            or bytes(view[at:at + 2]) != table_fmt.MAGIC:
        return None
    from ..partition_table import PartitionTable

    b = Builder(view)
    b.image(boot, 0, "bootloader")
    size = len(view)
    try:
        table = PartitionTable.from_bytes(view[at:at + area])
    except FormatError as exc:
        b.checks.append(Check("structure", False, at, f"partition table: {exc.reason}"))
        return _finish(b, "flash", "rtos-sdk-flash", boot.flash_map)
    b.region(at, area, "partition-table", "partition-table",
             f"{len(table.partitions)} partitions (ESP8266 RTOS SDK)",
             model=TableArea(table, area))
    b.checks.append(Check("structure", True, at,
                          f"partition table: {len(table.partitions)} partitions"))
    b.checks.extend(prefixed(table.checks(at), "partition table"))
    for part in table.partitions:
        if part.offset >= size:
            continue
        stop = min(part.end, size)
        if part.is_app:
            _slot_image(b, part.offset, stop, part.name)
        else:
            erased = is_erased(view[part.offset:stop])
            b.region(part.offset, stop - part.offset, "erased" if erased else "data",
                     part.name)
    b.notes.append("ESP8266 RTOS SDK layout: apps are linked for their partition offset and "
                   "cannot be moved without a relink")
    b.layout("app images fit their partitions")
    return _finish(b, "flash", "rtos-sdk-flash", boot.flash_map)


# ---------------------------------------------------------------------- rBoot
def _rboot_flash(view: memoryview, boot: Esp8266Image) -> Image | None:
    """An rBoot flash: rBoot, its config sector at 0x1000, the ROM slots."""
    size = len(view)
    if boot.bootloader_name != "rboot" or size <= 0x1000:
        return None
    from ..rboot import RbootConfig, flash_size_from_header, looks_like_rboot_config

    b = Builder(view)
    b.image(boot, 0, "rboot")
    sector = view[0x1000:0x2000]
    rom_flash = flash_size_from_header(boot.flash_size_freq)
    cfg: RbootConfig | None = None
    if looks_like_rboot_config(sector):
        cfg = RbootConfig.from_bytes(sector)
        b.region(0x1000, SECTOR, "rboot-config", "rboot-config", "rBoot config sector", model=cfg)
        b.checks.extend(prefixed(cfg.checks(0x1000), "rboot config"))
        b.details["rboot_config"] = cfg.to_dict()
        roms = list(cfg.slots)
    else:
        kind: RegionKind = "erased" if is_erased(sector) else "data"
        b.region(0x1000, SECTOR, kind, "rboot-config",
                 "blank: rBoot writes its default config on first boot" if kind == "erased"
                 else "not an rBoot config: rBoot replaces it with its default")
        roms = list(RbootConfig.default(rom_flash).slots)
        b.notes.append(f"no rBoot config in the file: rBoot uses its default ROM slots "
                       f"{', '.join(hex(r) for r in roms)} (from the {format_size(rom_flash)} "
                       "its own header gives, capped at 1MB without BOOT_BIG_FLASH)")
    images: dict[int, Esp8266Image | None] = {}
    addresses = sorted({r for r in roms if 0 < r < size})
    for i, addr in enumerate(addresses):
        bound = addresses[i + 1] if i + 1 < len(addresses) else size
        images[addr] = _slot_image(b, addr, bound, f"rom{roms.index(addr)}")
    if cfg is not None:
        def ok(addr: int) -> bool:
            img = images.get(addr)
            return img is not None and not img.problems and img.checksum_valid

        choice = cfg.boot_rom_with(ok, rom_flash)
        b.details["rboot_boot"] = {"slot": choice.slot, "reason": choice.reason,
                                   "only_slots_in_file": True}
    b.notes.append("rBoot checks only the magic and the XOR checksum of a ROM; ROMs are linked "
                   "for their slot (irom0 at 0x40200000 + slot + 0x10)")
    b.layout("ROM images fit their slots")
    return _finish(b, "flash", "rboot-flash", boot.flash_map)


# ---------------------------------------------------------------------- Arduino
def _arduino(view: memoryview, eboot: Esp8266Image) -> Image | None:
    """Arduino-ESP8266 (esp_image.arduino): eboot in a 0xAA-padded sector, the sketch at
    0x1000, elf2bin's length/CRC words, and in a whole-flash dump the core's flash split."""
    if eboot.bootloader_name != "eboot" or not _plausible_v1(view, 0x1000):
        return None
    from ..arduino import ArduinoBuild
    from .arduino import arduino_after_sketch

    build = ArduinoBuild.from_bytes(view, eboot)
    words = build.words_offset
    b = Builder(view)
    b.region(0, eboot.end, "image", "eboot", image_summary(eboot), model=eboot)
    pad_end = words if words == 0xFF8 else 0x1000
    b.region(eboot.end, pad_end - eboot.end, "data", "padding", "0xAA padding (elf2bin)")
    if words == 0xFF8:
        b.region(words, 8, "data", "elf2bin-crc", "file length and CRC (core 2.7.x)",
                 model=build.part(words, 0x1000))
    sketch = build.sketch
    b.region(0x1000, sketch.end, "image", "app", image_summary(sketch)
             + (", length and CRC at 0x1010" if words == 0x1010 else ""),
             model=build.part(0x1000, build.sketch_end))
    b.checks.extend(build.checks())
    for owner, img in (("eboot", eboot), ("sketch", sketch)):
        b.issues.extend(Issue("warning", "image", f"{owner}: {w}") for w in img.warnings)
    b.details["arduino"] = build.to_dict()
    arduino_after_sketch(b, build)
    b.layout("eboot fits below 0x1000")
    return _finish(b, "flash", "arduino", eboot.flash_map)


# ---------------------------------------------------------------------- MicroPython
MP_SIZE_WORD = 0x8FFC
MP_IROM = 0x9000


@dataclass(frozen=True)
class MicroPythonFirmware:
    """MicroPython esp8266 ``firmware-combined.bin`` (``makeimg.py``, esp8266.md §11.1).

    v1 image, 0xFF padding, u32 total at 0x8FFC, raw irom at 0x9000, MD5 of ``[4:total]``.
    """

    image: Esp8266Image
    total: int
    stored_md5: bytes
    computed_md5: bytes
    data: memoryview = field(repr=False, compare=False)

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, image: Esp8266Image | None = None
                   ) -> MicroPythonFirmware:
        """Parse the layout at ``data[0:]``.

        Raises:
            FormatError: the size word or MD5 is not where the layout puts them.
        """
        view = memoryview(data)
        img = image or Esp8266Image.from_bytes(view)
        if len(view) < MP_IROM:
            raise TruncatedError("shorter than 0x9000", 0, "MicroPython firmware")
        total = _u32(view, MP_SIZE_WORD)
        if not MP_IROM < total <= len(view) - 16:
            raise FormatError(f"size word {total:#x} does not fit the file", MP_SIZE_WORD,
                              "MicroPython firmware")
        return cls(img, total, bytes(view[total:total + 16]),
                   hashlib.md5(view[4:total]).digest(), view[:total + 16])

    @property
    def irom_size(self) -> int:
        """Bytes of raw irom at 0x9000."""
        return self.total - MP_IROM

    def checks(self, base: int = 0) -> list[Check]:
        """``md5`` over ``[4:total]`` and ``structure`` (image ends before the size word)."""
        out: list[Check] = []
        fits = self.image.end <= MP_SIZE_WORD - 4
        out.append(Check("structure", fits, base + MP_SIZE_WORD,
                         f"size word {self.total:#x}, irom {self.irom_size:#x} bytes at 0x9000"
                         + ("" if fits else f"; the v1 image ends at {self.image.end:#x}, "
                            "past the 0xFF padding before 0x8FFC")))
        out.append(compare_digest("md5", base + self.total, self.stored_md5, self.computed_md5))
        return out

    def to_bytes(self) -> bytes:
        """Rebuild: image, padding and irom kept, size word and MD5 recomputed."""
        body = bytearray(self.data[:self.total])
        try:
            built = self.image.to_bytes()
        except FormatError:
            built = b""
        body[:len(built)] = built
        body[MP_SIZE_WORD:MP_IROM] = struct.pack("<I", len(body))
        return bytes(body) + hashlib.md5(body[4:]).digest()

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"total": self.total, "irom_offset": MP_IROM, "irom_size": self.irom_size,
                "md5": self.stored_md5.hex(), "md5_valid": self.stored_md5 == self.computed_md5}


def _micropython(view: memoryview, image: Esp8266Image) -> Image | None:
    """MicroPython firmware-combined.bin, or its yaota8266 main-app build."""
    size = len(view)
    end = image.end
    if image.role != "app" or size < MP_IROM + 16 or end > MP_SIZE_WORD \
            or not is_erased(view[end:MP_SIZE_WORD]):
        return None
    total = _u32(view, MP_SIZE_WORD)
    if not MP_IROM < total <= size - 16:
        return None
    irom = view[MP_IROM:total]
    ota = _link_base(irom, (0x40209000, 0x40245000)) == 0x40245000
    if ota:
        return _yaota_main_app(view, image)
    fw = MicroPythonFirmware.from_bytes(view, image)
    b = Builder(view)
    b.image(image, 0, "firmware", model=fw)
    b.region(end, MP_SIZE_WORD - end, "erased", "padding")
    b.region(MP_SIZE_WORD, 4, "data", "size-word", f"{total:#x}")
    b.region(MP_IROM, total - MP_IROM, "irom", "irom0", "raw irom0 (linked at 0x40209000)")
    b.region(total, 16, "data", "md5", "MD5 of [4:total]")
    b.checks.extend(prefixed(fw.checks(0), "micropython"))
    b.details["micropython"] = fw.to_dict()
    b.notes.append("MicroPython esp8266 firmware: flash the whole file at 0x0; nothing at boot "
                   "checks the MD5 (esp.check_fw() does at run time)")
    return _finish(b, "flash", "micropython", image.flash_map)


# ---------------------------------------------------------------------- yaota8266
YAOTA_MAIN_APP_OFFSET = 0x3C000


def _yaota_bundle(view: memoryview, boot: Esp8266Image) -> Image | None:
    """yaota8266.bin: boot8266 and the ota-server image (and a main app, if present)."""
    if boot.bootloader_name != "boot8266" or not _plausible_v1(view, 0x1000):
        return None
    from ..yaota8266 import Boot8266Params, check_bundle, check_initial_image

    size = len(view)
    try:
        initial = check_initial_image(view)
        bundle = initial[0] if initial is not None else check_bundle(view)
    except FormatError:
        initial, bundle = None, None
    main_at = bundle.main_app_offset if bundle is not None else YAOTA_MAIN_APP_OFFSET
    b = Builder(view)
    # The bundle check covers boot8266, the ota-server image, the §1.1 rules and the main app.
    b.region(0, boot.end, "image", "boot8266", image_summary(boot), model=boot)
    params = Boot8266Params.from_image(view)
    if params is not None:
        b.details["boot8266"] = params.to_dict()
    if boot.end < 0x1000:
        b.region(boot.end, 0x1000 - boot.end, "erased", "padding")
    server = Esp8266Image.from_bytes(view[:min(0x9000, size)], 0x1000, flash_offset=0x1000)
    b.region(0x1000, server.end, "image", "ota-server", image_summary(server), model=server)
    stop = min(main_at, size)
    if stop > 0x9000:
        used = len(bytes(view[0x9000:stop]).rstrip(b"\xff"))
        b.region(0x9000, used, "irom", "ota-server irom0", "raw irom0 (linked at 0x40209000)")
    if bundle is not None:
        b.checks.extend(prefixed(bundle.checks(0), "yaota8266"))
        b.issues.extend(bundle.issues)
        b.details["yaota8266"] = bundle.to_dict()
    else:
        b.checks.extend(prefixed(boot.checks(0), "boot8266"))
        b.checks.extend(prefixed(server.checks(0x1000), "ota-server"))
    shape: Esp8266Shape = "yaota8266-bundle"
    if initial is not None:
        shape = "yaota8266-initial"
        _main_app_regions(b, main_at, initial[1])
    elif size > main_at:
        b.notes.append(f"no main app at {main_at:#x}: boot8266 would stay in OTA mode")
    else:
        b.notes.append(f"yaota8266.bin: flash it at 0x0 and the MicroPython firmware-ota.bin "
                       f"at {main_at:#x}")
    return _finish(b, "flash", shape, boot.flash_map)


def _main_app_regions(b: Builder, at: int, app: Any) -> None:
    """Regions (and details) of a MicroPython OTA main app at file offset ``at``."""
    view = b.view
    inner = Esp8266Image.from_bytes(view[:min(len(view), at + MP_SIZE_WORD)], at,
                                    flash_offset=at + b.base)
    # MainApp.to_bytes rewrites the size word to the irom it found; when the stored word
    # disagrees (a cut-off initial image) the bytes are kept as they are instead.
    b.region(at, inner.end, "image", "main app", image_summary(inner) + ", MicroPython OTA",
             model=app if app.size_word == app.irom_end else None)
    for warning in inner.warnings:
        b.issues.append(Issue("warning", "image", f"main app: {warning}"))
    if inner.end < MP_SIZE_WORD:
        b.region(at + inner.end, MP_SIZE_WORD - inner.end, "erased", "main app padding")
    b.region(at + MP_SIZE_WORD, 4, "data", "size-word", f"{app.size_word:#x}")
    if app.irom_length > 0:
        b.region(at + MP_IROM, app.irom_length, "irom", "main app irom0",
                 "raw irom0 (linked at 0x40245000)")
    if app.stored_md5 is not None:
        b.region(at + app.irom_end, 16, "data", "md5", "MD5 of [4:total]")
    b.details["main_app"] = {**app.to_dict(), "offset": at + b.base}


def _yaota_main_app(view: memoryview, image: Esp8266Image) -> Image:
    from ..yaota8266 import MainApp

    app = MainApp.from_bytes(view)
    b = Builder(view, base=YAOTA_MAIN_APP_OFFSET)
    b.checks.extend(prefixed(app.checks(0), "main app"))
    _main_app_regions(b, 0, app)
    b.notes.append("MicroPython firmware-ota.bin for yaota8266: its irom is linked for flash "
                   f"{YAOTA_MAIN_APP_OFFSET + MP_IROM:#x} (inferred from its code pointers); "
                   f"flash it at {YAOTA_MAIN_APP_OFFSET:#x} behind yaota8266.bin; boot8266 "
                   f"verdict: {app.verdict}")
    return _finish(b, "flash", "yaota8266-main-app", image.flash_map)


# ---------------------------------------------------------------------- noboot / NodeMCU
def _noboot(view: memoryview, image: Esp8266Image) -> Image | None:
    """A v1 app at 0 plus raw irom at 0x10000 or 0x40000 (noboot, NodeMCU)."""
    size, end = len(view), image.end
    irom_at = next((at for at in (0x10000, 0x40000) if image.role == "app"
                    and size > at + 16 and end <= at and is_erased(view[end:at])
                    and _looks_like_irom(view[at:])), None)
    if irom_at is None:
        return None
    b = Builder(view)
    b.image(image, 0, "eagle.flash")
    b.region(image.end, irom_at - image.end, "erased", "padding")
    link = fmt.IROM_MAP_START + irom_at
    b.region(irom_at, len(view) - irom_at, "irom", "irom0",
             f"raw irom0 (linked at {link:#x}, inferred from its position)")
    nodemcu = bytes(view[irom_at:]).find(b"NodeMCU") >= 0
    shape: Esp8266Shape = "nodemcu" if nodemcu else "noboot"
    b.notes.append(("NodeMCU build: " if nodemcu else "")
                   + f"v1 image at 0x0 plus raw irom0 at {irom_at:#x} (the noboot layout, "
                   "no CRC, no MD5); flash the whole file at 0x0")
    return _finish(b, "flash", shape, image.flash_map)


# ---------------------------------------------------------------------- no magic
def _rboot_config(view: memoryview) -> Image | None:
    """A bare rBoot config sector."""
    size = len(view)
    if view[0] != 0xE1 or size > SECTOR:
        return None
    from ..rboot import RbootConfig, looks_like_rboot_config

    if not looks_like_rboot_config(view):
        return None
    cfg = RbootConfig.from_bytes(view)
    b = Builder(view)
    b.region(0, size, "rboot-config", "rboot-config", "rBoot config sector", model=cfg)
    b.checks.append(Check("structure", True, 0, "rBoot config sector"))
    b.checks.extend(cfg.checks(0))
    b.details["rboot_config"] = cfg.to_dict()
    return _finish(b, "rboot-config", "rboot-config", None)


def _init_data(view: memoryview) -> Image | None:
    """A bare esp_init_data_default (128 bytes or its 4 KiB sector)."""
    if not looks_like_init_data(view):
        return None
    data = InitData.from_bytes(view)
    b = Builder(view)
    b.region(0, len(view), "init-data", "init_data", f"version {data.version}", model=data)
    b.checks.append(Check("structure", True, 0, f"esp_init_data_default, version {data.version}"))
    b.details["init_data"] = data.to_dict()
    if data.version not in (0, 8):
        b.notes.append(f"version byte {data.version:#04x} is not one of the SDK defaults "
                       "(0x00, 0x08)")
    b.notes.append("flash it at N - 0x4000 (0x3FC000 for 4 MB, 0xFC000 for 1 MB)")
    return _finish(b, "esp8266-init-data", "init-data", None)


def _raw_irom(view: memoryview) -> Image | None:
    """Raw irom0 code without an image header: ESP8266, but ``unknown`` with the reason."""
    if view[0] in (fmt.MAGIC_V1, fmt.MAGIC_V2) or len(view) < 1024 \
            or not _looks_like_irom(view):
        return None
    link = _link_base(view, (0x40209000, 0x40210000, 0x40240000))
    where = {0x40209000: "0x9000 (MicroPython / yaota8266 -0x09000.bin)",
             0x40210000: "0x10000 (NONOS SDK >= 2.0)",
             0x40240000: "0x40000 (SDK <= 1.x)"}.get(link or 0)
    reason = ("raw ESP8266 irom0 code (no image header): the …-0x10000.bin/…-0x40000.bin "
              "half of an 'esptool elf2image --version=1' pair; it belongs at 0x10000 or "
              "0x40000 next to a 0x00000.bin"
              + (f"; its code pointers suggest it was linked for flash {where} (inferred)"
                 if where else ""))
    return Image(None, len(view), "unknown", chip=CHIP, reason=reason, shape="irom",
                 checks=(Check("structure", False, 0, reason),),
                 details={"irom_link_address": link}, data=view)


def _words(view: memoryview, limit: int = 0x40000) -> tuple[int, ...]:
    chunk = bytes(view[:limit])
    n = len(chunk) // 4
    return struct.unpack_from(f"<{n}I", chunk) if n else ()


def _looks_like_irom(view: memoryview) -> bool:
    """Xtensa code with literal pools: pointers into ESP8266 memory and ``addi a1`` prologues.

    Thresholds measured on the corpus (irom blobs: >= 0.7% pointer words, >= 9 prologues per
    KiB; ESP32 dumps, ciphertext: <= 0.05%, 0.02).
    """
    sample = view[:0x10000]
    words = _words(sample, 0x10000)
    if len(words) < 64:
        return False
    irom = sum(1 for w in words if fmt.IROM_MAP_START <= w < fmt.IROM_MAP_END)
    ram = sum(1 for w in words if 0x3FFE8000 <= w < 0x40000000 or 0x40100000 <= w < 0x40108000)
    prologues = bytes(sample).count(b"\x12\xc1")
    return (irom + ram) / len(words) > 0.005 and irom / len(words) > 0.002 and \
        prologues * 1000 / len(sample) > 3


def _link_base(view: memoryview, candidates: tuple[int, ...]) -> int | None:
    """The candidate address raw irom code was linked for, or None when unclear (inferred).

    Function entries start with ``addi a1, a1, -N`` (``12 c1 ..``); literal pools hold the
    addresses of called functions. For the right link address ``B`` many pointer words ``w``
    land on a prologue at blob offset ``w - B``; for wrong ones almost none do (corpus: 50-971
    hits against at most 156 for any other candidate).
    """
    sample = bytes(view[:0x100000])
    prologues = {m.start() for m in re.finditer(rb"\x12\xc1", sample)}
    words = _words(memoryview(sample))
    pointers = [w for w in words if fmt.IROM_MAP_START <= w < fmt.IROM_MAP_END]
    scores = sorted(((sum(1 for w in pointers if w - base in prologues), base)
                     for base in candidates), reverse=True)
    if not scores or scores[0][0] < 10:
        return None
    if len(scores) > 1 and scores[0][0] < 3 * max(scores[1][0], 1):
        return None
    return scores[0][1]


def _irom_link_hint(image: memoryview) -> int | None:
    """Flash offset the separate irom file of a v1 app was linked for (from code pointers)."""
    words = _words(image)
    counts = {0x10000: 0, 0x40000: 0, 0x9000: 0}
    for w in words:
        if 0x40210000 <= w < 0x40240000:
            counts[0x10000] += 1
        elif 0x40240000 <= w < 0x40300000:
            counts[0x40000] += 1
        elif 0x40209000 <= w < 0x40210000:
            counts[0x9000] += 1
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] >= 8 else None


# The order of esp8266.md §11.3: the first that answers wins.
RECOGNISERS: tuple[Callable[[memoryview], Image | None], ...] = (
    _e9_image, _v2_image, _rboot_config, _init_data, _raw_irom)

# What follows an image at 0, most specific first; :func:`_image_and_rest` is the fallback.
AFTER_IMAGE: tuple[Callable[[memoryview, Esp8266Image], Image | None], ...] = (
    _rtos_flash, _yaota_bundle, _arduino, _rboot_flash, _nonos_flash, _micropython, _noboot)

__all__ = ["AFTER_IMAGE", "RECOGNISERS", "MicroPythonFirmware", "identify_esp8266"]
