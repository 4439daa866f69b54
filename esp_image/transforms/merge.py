"""Build one flash image from parts placed at flash addresses, like ``esptool merge-bin``.

Byte-compatible with esptool 5.6 ``merge_bin(..., format="raw")`` for the inputs both accept:
parts sorted by address, gaps filled with 0xFF, the file starting at ``target_offset``, optional
padding to a flash address, and ``flash_mode``/``flash_freq``/``flash_size`` patched only into
the image at the chip's bootloader offset, whose SHA-256 is then recomputed over the image up to
its checksum byte (esptool ``cmds._update_image_flash_params``; peers.md §2.1). Everything else
is copied unchanged.

Where esptool writes a file that cannot boot, this refuses instead (esp32-image.md §3.2, §6, §9):
overlapping parts, an ESP32-family bootloader at an address its chip does not boot from, an app
that is not on a 64 KiB boundary, images for a different chip than the bootloader, a header edit
on a signed bootloader, a flash size that is not a power of two or is larger than the chip
addresses, and flash parameters asked for when there is no bootloader image to put them in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from .. import chips
from ..app_image import AppImage
from ..errors import FormatError, InputError, LayoutError
from ..formats.compiled import esp32_image as esp32_fmt
from ..formats.compiled import partition_table as table_fmt
from ..io import MAX_FILE_SIZE
from ..units import format_size
from . import TransformResult

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from .flash import FlashParams

APP_ALIGN = table_fmt.APP_ALIGN
"""App images must sit on a 64 KiB MMU page (ESP-IDF ``APP_TYPE`` alignment)."""
BOOTLOADER_AREA = table_fmt.DEFAULT_TABLE_OFFSET
"""Default partition table offset: an image below it is in the bootloader area."""


@dataclass(frozen=True, kw_only=True)
class MergeResult(TransformResult):
    """A merged flash image: ``data`` starts at flash address ``target_offset``; ``notes``
    say what was done and what a person should know (one line each).

    Attributes:
        chip: the chip name (``esp32``...), given or detected; None when nothing said.
    """

    chip: str | None


@dataclass(frozen=True)
class _Part:
    """One input placed at its flash address (label: its name in messages)."""

    address: int
    data: bytes
    label: str

    @property
    def end(self) -> int:
        return self.address + len(self.data)

    @property
    def span(self) -> str:
        return f"{self.label} ({self.address:#x}-{self.end:#x})"


def _placed_parts(parts: Sequence[tuple[int, bytes]], names: Sequence[str] | None,
                  target_offset: int, fill: int) -> list[_Part]:
    """The parts sorted by address, refused (with the arguments) when one starts below
    ``target_offset`` or two overlap."""
    if not parts:
        raise InputError("nothing to merge: give at least one ADDRESS=FILE part")
    if names is not None and len(names) != len(parts):
        raise InputError(f"{len(names)} names for {len(parts)} parts")
    if not 0 <= fill <= 0xFF:
        raise InputError(f"fill byte {fill:#x} is not a byte value")
    if target_offset < 0:
        raise InputError(f"target offset {target_offset:#x} is negative")
    labels = list(names) if names is not None else [f"part {i + 1}" for i in range(len(parts))]
    items = sorted((_Part(addr, bytes(data), label)
                    for (addr, data), label in zip(parts, labels, strict=True)),
                   key=lambda p: (p.address, p.end))

    for part in items:
        if part.address < target_offset:
            raise LayoutError(f"{part.span} starts below the target offset {target_offset:#x} "
                              "(the first byte of the output)")
    reach: _Part | None = None  # the non-empty part reaching furthest so far
    for cur in items:
        if not cur.data:
            continue
        if reach is not None and cur.address < reach.end:
            raise LayoutError(f"{cur.span} overlaps {reach.span} by "
                              f"{min(reach.end, cur.end) - cur.address:#x} bytes")
        if reach is None or cur.end > reach.end:
            reach = cur
    return items


def merge(parts: Sequence[tuple[int, bytes]], *, chip: str | None = None,
          pad_to: int | None = None, flash_size: str | int | None = None,
          flash_mode: str | None = None, flash_freq: str | None = None, fill: int = 0xFF,
          target_offset: int = 0, names: Sequence[str] | None = None) -> MergeResult:
    """Place ``parts`` at their flash addresses in one image.

    Args:
        parts: ``(flash address, bytes)`` pairs in any order.
        chip: the chip (``esp32s3``); detected from the bootloader image when None.
        pad_to: pad the output with ``fill`` up to this flash address (e.g. the flash size).
        flash_size: new flash size for the bootloader header (``"4MB"``, ``4 * 2**20``).
        flash_mode: new flash mode (``qio``, ``qout``, ``dio``, ``dout``).
        flash_freq: new flash clock (``40m``, ``80m`` ...; the chip decides the valid ones).
        fill: the byte for gaps and padding (0xFF: erased flash).
        target_offset: the flash address of the output's first byte, like esptool's
            ``--target-offset``; parts below it are refused.
        names: labels for error messages (file names), in the order of ``parts``.

    Raises:
        LayoutError: overlapping parts, a part below ``target_offset`` or past ``pad_to``, an
            image at an address its chip cannot boot it from, mixed chips.
        InputError: no parts, bad arguments, flash parameters with no bootloader image to hold
            them or on a signed bootloader.
        UsageError: a flash size, mode or clock the chip's header cannot hold (the refusal
            ``flash-params`` gives, from :func:`esp_image.transforms.flash.encode`).
        UnsupportedChip: an unknown chip name.
    """
    items = _placed_parts(parts, names, target_offset, fill)
    notes: list[str] = []

    forced = chips.chip_by_name(chip) if chip else None
    detected = _check_images(items, forced, notes)
    _check_tables(items, detected)

    if flash_size is not None or flash_mode is not None or flash_freq is not None:
        # imported only here: a plain merge (the common case) does not pay for it
        from .flash import FlashParams

        params = FlashParams.parse(flash_size, flash_mode, flash_freq)
        if not params.empty:
            if detected is None:
                raise InputError("cannot set flash parameters: the chip is unknown (no "
                                 "bootloader image among the parts); give the chip")
            items = _patch_flash_params(items, detected, notes, params)

    end = max(p.end for p in items)
    if pad_to is not None:
        if pad_to < end:
            raise LayoutError(f"the parts end at flash {end:#x}, past the pad-to size "
                              f"{pad_to:#x} ({format_size(pad_to)})")
        end = pad_to
    if end - target_offset > MAX_FILE_SIZE:
        # Checked before allocating: an address or --pad-to is a number the user typed.
        raise InputError(f"the output would cover flash {target_offset:#x}-{end:#x} "
                         f"({format_size(end - target_offset)}), more than the largest flash "
                         f"({format_size(MAX_FILE_SIZE)})")
    out = bytearray([fill]) * (end - target_offset)
    for part in items:
        start = part.address - target_offset
        out[start:start + len(part.data)] = part.data
    if pad_to is not None:
        notes.append(f"padded with {fill:#04x} to flash {pad_to:#x} ({format_size(pad_to)})")
    notes.append(f"merged {len(items)} parts into {len(out):#x} bytes covering flash "
                 f"{target_offset:#x}-{end:#x}")
    _note_flash_size(items, detected, end, notes)
    return MergeResult(data=bytes(out), notes=tuple(notes),
                       chip=detected.name if detected else None)


# ---------------------------------------------------------------------- image checks
_TABLE_OFFSET = table_fmt.DEFAULT_TABLE_OFFSET


def _check_tables(items: list[_Part], chip: chips.Chip | None) -> None:
    """Refuse a part the bootloader would read as a partition table but that is not one.

    A CSV merged where the binary table belongs (a common slip) gives a file whose bootloader
    finds no table and boots nothing.
    """
    for part in items:
        head = part.data[:64]
        text = bool(head) and all(32 <= b < 127 or b in (9, 10, 13) for b in head)
        if text and (b"," in head or head.startswith(b"#")):
            raise InputError(f"{part.span} is text (a partition CSV?); compile it first: "
                              "esp-image table FILE.csv -o partitions.bin")
        if (chip is not None and chip.chip_id is not None and part.address == _TABLE_OFFSET
                and part.data[:2] != table_fmt.MAGIC):
            raise LayoutError(f"{part.span} sits at the partition table offset "
                              f"{_TABLE_OFFSET:#x} but is not a partition table (no AA 50 "
                              "magic)")


def _check_images(items: list[_Part], forced: chips.Chip | None,
                  notes: list[str]) -> chips.Chip | None:
    """Detect the chip and refuse images placed where their chip cannot boot them."""
    if forced is not None and forced.chip_id is None:
        _check_esp8266(items, notes)
        return forced
    images: list[tuple[_Part, AppImage]] = []
    for part in items:
        img = _esp32_image(part)
        if img is not None:
            images.append((part, img))

    bootloaders = [(p, img) for p, img in images if _is_bootloader(p, img)]
    for part, img in bootloaders:
        assert img.chip is not None
        if part.address != img.chip.bootloader_offset:
            raise LayoutError(
                f"{part.span} is an {img.chip.title} bootloader, but the {img.chip.title} boots "
                f"from {img.chip.bootloader_offset:#x}, not {part.address:#x}")
    detected = forced
    if detected is None and bootloaders:
        detected = bootloaders[0][1].chip
        notes.append(f"chip {detected.title if detected else '?'} detected from the bootloader "
                     f"at {bootloaders[0][0].address:#x}")
    if detected is None:
        if _esp8266_at_zero(items):
            notes.append("chip ESP8266 detected from the image at 0x0")
            _check_esp8266(items, notes)
            return chips.chip_by_name("esp8266")
        if images:
            detected = images[0][1].chip
            notes.append(f"chip {detected.title if detected else '?'} assumed from the image "
                         f"at {images[0][0].address:#x} (no bootloader among the parts)")
    for part, img in images:
        if detected is not None and img.chip is not None and img.chip != detected:
            raise LayoutError(f"{part.span} is an image for the {img.chip.title}, but the merge "
                              f"is for the {detected.title}; its bootloader would reject it")
        if img.role == "app" and part.address % APP_ALIGN:
            raise LayoutError(f"{part.span} is an app image; apps must start on a 64 KiB "
                              f"boundary (MMU page), {part.address:#x} is not one")
    return detected


def _esp32_image(part: _Part) -> AppImage | None:
    """The ESP32-family image a part holds, if it is one (a clean header and segment walk)."""
    data = part.data
    if len(data) < esp32_fmt.ImageHeader.SIZE or data[0] != esp32_fmt.MAGIC:
        return None
    if not chips.is_known_chip_id(int.from_bytes(data[12:14], "little")) or data[23] not in (0, 1):
        return None
    try:
        # Judged at offset 0: the placement rules are checked by the caller, so that an app at
        # a wrong address is reported as misplaced rather than as "not an image".
        img = AppImage.from_bytes(data, 0)
    except FormatError:
        return None
    if img.truncated or img.chip is None or img.problems:
        return None
    return img


def _is_bootloader(part: _Part, img: AppImage) -> bool:
    """A bootloader: says so (descriptor, ESP32 loader segment), or a non-app image below the
    partition table, where only the bootloader lives."""
    if img.role == "bootloader":
        return True
    return img.role != "app" and part.address < BOOTLOADER_AREA


def _esp8266_at_zero(items: list[_Part]) -> bool:
    first = next((p for p in items if p.address == 0), None)
    if first is None or not first.data or first.data[0] != esp32_fmt.MAGIC:
        return False
    from ..esp8266 import Esp8266Image

    try:
        img = Esp8266Image.from_bytes(first.data, 0, flash_offset=0)
    except FormatError:
        return False
    return not img.problems


def _check_esp8266(items: list[_Part], notes: list[str]) -> None:
    for part in items:
        img = _esp32_image(part)
        if img is not None and img.chip is not None and img.role in ("app", "bootloader"):
            raise LayoutError(f"{part.span} is an {img.chip.title} {img.role} image, but the "
                              "merge is for the ESP8266")


# ---------------------------------------------------------------------- flash parameters
def _patch_flash_params(items: list[_Part], chip: chips.Chip, notes: list[str],
                        params: FlashParams) -> list[_Part]:
    """Patch header bytes 2-3 of the image at the bootloader offset (esptool's rule)."""
    target = next((p for p in items if p.address == chip.bootloader_offset and p.data), None)
    if target is None:
        raise InputError(f"cannot set flash parameters: no part at the {chip.title} bootloader "
                         f"offset {chip.bootloader_offset:#x} (esptool patches only the image "
                         "there; the bootloader configures the flash from its own header)")
    if chip.chip_id is None:
        patched = _patch_esp8266(target, notes, params)
    else:
        patched = _patch_esp32(target, chip, items, notes, params)
    return [patched if p is target else p for p in items]


def _patch_esp32(part: _Part, chip: chips.Chip, items: list[_Part], notes: list[str],
                 params: FlashParams) -> _Part:
    img = _esp32_image(part)
    where = f"{part.label} at {part.address:#x}"
    if img is None:
        raise InputError(f"cannot set flash parameters: {where} is not a valid "
                         f"{chip.title} image")
    data = bytearray(part.data)
    from .flash import encode

    mode, size_freq = encode(params, chip, data[2], data[3])
    new = bytes([mode, size_freq])
    if new == bytes(data[2:4]):
        notes.append(f"flash parameters of {where} already {new.hex()} (unchanged)")
        return part
    if img.signature is not None:
        raise InputError(f"refusing to change the flash parameters of {where}: it carries a "
                         f"{_scheme_text(img.signature.scheme)}, which covers the header; the "
                         "edited bootloader would fail signature verification and not boot. "
                         "Rebuild and re-sign it with the wanted flash settings instead")
    digest_block = next((p for p in items if p.address == 0 and p.address < part.address
                         and p.data[:0x1000].strip(b"\xff")), None)
    if chip.name == "esp32" and digest_block is not None:
        raise InputError(f"refusing to change the flash parameters of {where}: "
                         f"{digest_block.label} at 0x0 is not erased, which on the ESP32 is the "
                         "Secure Boot v1 IV + digest of the bootloader; an edited header would "
                         "no longer match it")
    old = bytes(data[2:4])
    data[2:4] = new
    changed = [f"flash parameters set to {new.hex()} (were {old.hex()})"]
    if img.header.hash_appended == 1:
        hashed = img.length - esp32_fmt.DIGEST_SIZE
        data[hashed:img.length] = hashlib.sha256(data[:hashed]).digest()
        changed.append("SHA-256 recomputed")
    notes.append(f"{where}: " + ", ".join(changed) + f" (size "
                 f"{format_size(chips.ESP32_FLASH_SIZES[size_freq >> 4])}"
                 f", mode {esp32_fmt.SPI_MODES.get(mode, hex(mode))}, "
                 f"clock {chip.freq_name(size_freq & 0xF)})")
    return _Part(part.address, bytes(data), part.label)


def _patch_esp8266(part: _Part, notes: list[str], params: FlashParams) -> _Part:
    from ..esp8266 import Esp8266Image, flash_map_for

    where = f"{part.label} at {part.address:#x}"
    try:
        img = Esp8266Image.from_bytes(part.data, 0, flash_offset=0)
    except FormatError:
        img = None
    if (img is None or img.format != "esp8266-v1" or img.problems
            or img.stored_sha256 is not None or img.stored_crc32 is not None):
        raise InputError(f"setting flash parameters of {where} is not supported here: only a "
                         "plain ESP8266 v1 image at 0x0 can be patched in place; use the "
                         "flash-params command")
    data = bytearray(part.data)
    from .flash import encode

    mode, size_freq = encode(params, chips.chip_by_name("esp8266"), data[2], data[3])
    new = bytes([mode, size_freq])
    if new == bytes(data[2:4]):
        notes.append(f"flash parameters of {where} already {new.hex()} (unchanged)")
        return part
    old = bytes(data[2:4])
    data[2:4] = new
    notes.append(f"{where}: flash parameters set to {new.hex()} (were {old.hex()}; ESP8266 "
                 f"map {flash_map_for(size_freq >> 4).name}); the header is not covered by the "
                 "checksum")
    return _Part(part.address, bytes(data), part.label)


def _scheme_text(scheme: str) -> str:
    return {"sbv1": "Secure Boot v1 signature", "sbv2-rsa": "Secure Boot v2 (RSA) signature",
            "sbv2-ecdsa": "Secure Boot v2 (ECDSA) signature"}.get(scheme, f"{scheme} signature")


def _note_flash_size(items: list[_Part], chip: chips.Chip | None, end: int,
                     notes: list[str]) -> None:
    if chip is None or chip.chip_id is None:
        return
    boot = next((p for p in items if p.address == chip.bootloader_offset), None)
    img = _esp32_image(boot) if boot is not None else None
    if img is None or img.flash_size is None:
        return
    if end > img.flash_size:
        notes.append(f"warning: the image reaches flash {end:#x}, past the "
                     f"{format_size(img.flash_size)} the bootloader header declares")
    for part in items:
        if part is boot:
            continue
        other = _esp32_image(part)
        if other is not None and other.role == "app" and other.flash_size not in (
                None, img.flash_size):
            notes.append(f"{part.label} at {part.address:#x} keeps its header flash size "
                         f"{other.flash_size_name}; the bootloader's "
                         f"{format_size(img.flash_size)} is used unless the app was built with "
                         "CONFIG_SPI_FLASH_SIZE_OVERRIDE")


__all__ = ["MergeResult", "merge"]
