"""rBoot (raburton/rboot, ESP8266 second-stage bootloader): the typed model.

- :class:`RbootConfig`: the config sector at flash 0x1000 (rboot.md §2), which slot boots next
  (§4);
- :class:`RbootRtc`: the optional RTC request/status record (§3);
- :func:`is_rboot`: recognise the rBoot bootloader image at flash 0x0 (§1).

Parsing is lenient (what is stored is kept, including a wrong checksum and the rest of the
4 KiB sector after the struct); building recomputes the checksum. ``MAX_ROMS`` and
``BOOT_CONFIG_CHKSUM`` are build options of rBoot that the flash does not record: the parser
guesses them (§2 heuristic, :meth:`RbootConfig.from_bytes`) unless the caller says.

This module also holds a small private walker for ESP8266 v1 (0xE9) images, used here and by
:mod:`esp_image.yaota8266` until the general ESP8266 model is available.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

from .checks import Check, compare
from .container import walk
from .errors import FormatError, TruncatedError
from .formats.compiled import esp8266 as image_fmt
from .formats.compiled import rboot as fmt
from .hashing import xor_bytes

# ---------------------------------------------------------------------- v1 image walker


@dataclass(frozen=True)
class _V1Image:
    """An ESP8266 v1 image (esp8266.md §1) as the ROM and rBoot walk it.

    Offsets are relative to the image start. ``segments`` holds ``(load_addr, length,
    data_offset)``. ``length`` is the image length including the checksum byte, or the bytes
    available when the image is truncated (``stored_checksum`` is then None).
    """

    segment_count: int
    flash_mode: int
    size_freq: int
    entry: int
    segments: tuple[tuple[int, int, int], ...]
    end: int
    length: int
    stored_checksum: int | None
    computed_checksum: int
    problems: tuple[str, ...]

    @property
    def checksum_offset(self) -> int:
        """Image offset of the checksum byte (``end | 0x0F``)."""
        return self.end | 0x0F

    @property
    def truncated(self) -> bool:
        """Whether the data ends before the checksum byte."""
        return self.stored_checksum is None

    @property
    def checksum_valid(self) -> bool:
        """Whether the stored XOR checksum matches."""
        return self.stored_checksum == self.computed_checksum

    def checks(self, base: int = 0, what: str = "image") -> list[Check]:
        """``structure`` and ``checksum`` checks, offsets shifted by ``base``."""
        if self.problems:
            out = [Check("structure", False, base, f"{what}: " + "; ".join(self.problems))]
        else:
            out = [Check("structure", True, base,
                         f"{what}: v1 image, {len(self.segments)} segments, "
                         f"length {self.length:#x}")]
        if self.stored_checksum is not None:
            c = compare("checksum", base + self.checksum_offset, self.stored_checksum,
                        self.computed_checksum)
            out.append(Check(c.name, c.valid, c.offset, f"{what}: {c.detail}"))
        return out

    def segment_data(self, view: memoryview) -> list[memoryview]:
        """Views of every segment's data in ``view`` (the image's own buffer)."""
        return [view[off:off + size] for _addr, size, off in self.segments]

    def to_dict(self) -> dict[str, object]:
        """JSON form of the image layout."""
        return {
            "format": "esp8266-v1",
            "flash_mode": self.flash_mode,
            "size_freq": self.size_freq,
            "entry": self.entry,
            "segments": [{"addr": a, "size": s, "offset": o - 8} for a, s, o in self.segments],
            "length": self.length,
            "checksum": {"stored": self.stored_checksum, "computed": self.computed_checksum},
        }


def _walk_v1(data: bytes | memoryview, offset: int = 0) -> _V1Image:
    """Walk the v1 image at ``data[offset:]`` leniently (problems are recorded, not raised).

    Raises:
        FormatError: no 0xE9 magic at ``offset``.
        TruncatedError: the 8-byte header itself is incomplete.
    """
    view = memoryview(data)[offset:]
    if not len(view) or view[0] != image_fmt.MAGIC_V1:
        found = f"{view[0]:#04x}" if len(view) else "no data"
        raise FormatError(f"expected ESP8266 image magic 0xe9, found {found}", offset,
                          "ESP8266 v1 image")
    hdr = image_fmt.ImageHeader.parse(view, 0, "ESP8266 v1 image header")
    walked = walk(view, image_fmt.ImageHeader.SIZE, hdr.segment_count)
    segments = tuple((s.load_addr, s.data_len, s.data_offset) for s in walked.segments)
    return _V1Image(hdr.segment_count, hdr.flash_mode, hdr.flash_size << 4 | hdr.flash_freq,
                    hdr.entry, segments, walked.end, walked.length, walked.stored_checksum,
                    walked.computed_checksum, walked.problems)


# ---------------------------------------------------------------------- rBoot image

RBOOT_BANNER = b"rBoot v"
"""Start of the banner every rBoot release prints (``"rBoot v1.4.2 - richardaburton@..."``)."""
_RBOOT_MESSAGES = (b"No good rom available", b"Booting rom")
"""Messages of rboot.c's find_image(), present in every release since v1.0."""


def is_rboot(image: bytes | memoryview) -> bool:
    """Whether ``image`` (flash from 0x0) is the rBoot second-stage bootloader.

    Heuristic (rboot.md §1, checked on ``mgwr_rboot_0x00000.bin``): a v1 (0xE9) image whose
    segment headers all lie inside the data, that ends at or before the config sector (0x1000,
    rBoot must fit in sector 0), and whose segment data contains rBoot's banner
    ``"rBoot v"`` or both of find_image()'s messages ``"No good rom available"`` and
    ``"Booting rom"``. The segment layout alone (one IRAM + one DRAM segment) is not distinctive:
    Espressif's boot_v1.x and boot8266 look alike; the strings are what tells them apart. The
    checksum is not required to be valid (a damaged rBoot is still rBoot).
    """
    try:
        v1 = _walk_v1(image)
    except FormatError:
        return False
    if v1.truncated or not v1.segments or v1.length > fmt.CONFIG_OFFSET:
        return False
    text = b"".join(bytes(d) for d in v1.segment_data(memoryview(image)))
    return RBOOT_BANNER in text or all(m in text for m in _RBOOT_MESSAGES)


def rboot_version(image: bytes | memoryview) -> str | None:
    """The version in rBoot's banner (``"1.4.2"``), or None when absent."""
    view = bytes(memoryview(image)[:fmt.CONFIG_OFFSET])
    at = view.find(RBOOT_BANNER)
    if at < 0:
        return None
    raw = view[at + len(RBOOT_BANNER):at + len(RBOOT_BANNER) + 16].split(b" ", 1)[0]
    text = raw.split(b"\0", 1)[0].decode("ascii", "replace")
    return text or None


def flash_size_from_header(size_freq: int, big_flash: bool = False) -> int:
    """The flash size rBoot derives from byte 3 of its own header (rboot.md §4 step 1).

    Without ``BOOT_BIG_FLASH`` every size above 1 MB is capped at 1 MB.
    """
    size = {0: 0x80000, 1: 0x40000, 2: 0x100000, 3: 0x200000, 5: 0x200000, 4: 0x400000,
            6: 0x400000, 8: 0x800000, 9: 0x1000000}.get(size_freq >> 4, 0x80000)
    return size if big_flash else min(size, 0x100000)


# ---------------------------------------------------------------------- config sector


class BootRom(NamedTuple):
    """Which slot rBoot boots, and why. ``slot`` is None when no slot can boot."""

    slot: int | None
    reason: str


_CHKSUM_SEARCH_EXTRA = 4
"""How many ``MAX_ROMS`` values above max(4, count) the checksum heuristic tries."""


def _config_checksum(raw: bytes | memoryview) -> int:
    """``calc_chksum``: 0xEF XOR every byte before ``chksum``."""
    return (fmt.CHKSUM_INIT ^ xor_bytes(raw)) & 0xFF


def _guess_layout(view: memoryview, count: int) -> tuple[int, bool]:
    """Guess ``(MAX_ROMS, BOOT_CONFIG_CHKSUM)`` from the bytes (rboot.md §2 heuristic).

    Tries ``MAX_ROMS`` from max(4, count) upwards (a few values): the first for which the byte
    after ``roms[]`` equals the checksum of the bytes before it wins. No match: no checksum,
    ``MAX_ROMS`` = max(4, count). A chance match has probability 1/256 per candidate.
    """
    low = max(fmt.MAX_ROMS, count)
    for max_roms in range(low, low + _CHKSUM_SEARCH_EXTRA + 1):
        at = fmt.config_size(max_roms, False)
        if at >= len(view):
            break
        if view[at] == _config_checksum(view[:at]):
            return max_roms, True
    return low, False


def looks_like_rboot_config(data: bytes | memoryview) -> bool:
    """Whether ``data`` (the sector at 0x1000) holds an rBoot config rBoot would accept.

    Requires magic 0xE1, version 1, 1 <= ``count`` <= 64 and every used slot address
    sector-aligned. A blank sector (all 0xFF or 0x00) is *not* a config, although rBoot treats it
    as "write the default config" (see :meth:`RbootConfig.effective`).
    """
    view = memoryview(data)
    if len(view) < fmt.config_size() or view[0] != fmt.BOOT_CONFIG_MAGIC:
        return False
    if view[1] != fmt.BOOT_CONFIG_VERSION:
        return False
    count = view[5]
    if not 1 <= count <= 64 or len(view) < fmt.config_size(max(count, fmt.MAX_ROMS)):
        return False
    roms = [int.from_bytes(view[8 + 4 * i:12 + 4 * i], "little") for i in range(count)]
    return all(r % fmt.SECTOR_SIZE == 0 or r == 0xFFFFFFFF for r in roms)


@dataclass(frozen=True)
class RbootConfig:
    """``rboot_config``: the rBoot config sector (flash 0x1000), as stored.

    Attributes:
        version: ``BOOT_CONFIG_VERSION`` (1); anything else makes rBoot write its default.
        mode: ``MODE_*`` bit flags (``fmt.MODE_NAMES``).
        current_rom: slot for the next standard boot.
        gpio_rom: slot for a GPIO boot (``MODE_GPIO_ROM``).
        count: number of slots in use.
        roms: all ``MAX_ROMS`` slot addresses (``len(roms)`` is the build's ``MAX_ROMS``).
        chksum: the stored checksum byte, or None for a build without ``BOOT_CONFIG_CHKSUM``.
        unused: the 2 padding bytes, kept.
        tail: everything after the struct in the data parsed (the rest of the 4 KiB sector),
            kept byte for byte.
        layout_guessed: whether ``MAX_ROMS`` / checksum presence were guessed from the bytes
            rather than given by the caller.
    """

    version: int
    mode: int
    current_rom: int
    gpio_rom: int
    count: int
    roms: tuple[int, ...]
    chksum: int | None = None
    unused: bytes = b"\0\0"
    tail: bytes = b""
    layout_guessed: bool = False
    magic: int = fmt.BOOT_CONFIG_MAGIC

    # ------------------------------------------------------------------ parsing
    @classmethod
    def from_bytes(cls, data: bytes | memoryview, *, max_roms: int | None = None,
                   has_checksum: bool | None = None) -> RbootConfig:
        """Parse a config struct or a whole config sector.

        Args:
            data: the struct (24/25 bytes by default) or the 4 KiB sector at 0x1000.
            max_roms: rBoot's ``MAX_ROMS``, if known; guessed otherwise.
            has_checksum: whether rBoot was built with ``BOOT_CONFIG_CHKSUM``, if known;
                guessed otherwise (the byte after ``roms[]`` matching its checksum).

        Raises:
            FormatError: the magic is not 0xE1 (e.g. a blank sector).
            TruncatedError: the data ends inside the struct.
        """
        view = memoryview(data)
        if not view or view[0] != fmt.BOOT_CONFIG_MAGIC:
            found = f"{view[0]:#04x}" if view else "no data"
            raise FormatError(f"expected rBoot config magic 0xe1, found {found}", 0,
                              "rboot_config")
        if len(view) < fmt.CONFIG_HEADER_SIZE:
            raise TruncatedError(f"needs at least {fmt.CONFIG_HEADER_SIZE} bytes, got "
                                 f"{len(view)}", 0, "rboot_config")
        count = view[5]
        guessed = max_roms is None or has_checksum is None
        if max_roms is not None and max_roms < 1:
            raise FormatError(f"MAX_ROMS must be at least 1, got {max_roms}", 0, "rboot_config")
        if max_roms is None and has_checksum is None:
            max_roms, has_checksum = _guess_layout(view, count)
        elif max_roms is None:
            g_roms, g_sum = _guess_layout(view, count)
            max_roms = g_roms if g_sum == has_checksum else max(fmt.MAX_ROMS, count)
        elif has_checksum is None:
            at = fmt.config_size(max_roms, False)
            has_checksum = at < len(view) and view[at] == _config_checksum(view[:at])
        assert max_roms is not None and has_checksum is not None  # for mypy
        size = fmt.config_size(max_roms, has_checksum)
        if len(view) < size:
            raise TruncatedError(f"needs {size} bytes, only {len(view)} left", 0, "rboot_config")
        c = fmt.ConfigHeader.parse(view, 0, "rboot_config")
        # roms[MAX_ROMS] is sized by a build option, so it is read here, not by a record.
        roms = struct.unpack_from(f"<{max_roms}I", view, fmt.ConfigHeader.SIZE)
        return cls(c.version, c.mode, c.current_rom, c.gpio_rom, c.count, roms,
                   view[size - 1] if has_checksum else None, c.unused, bytes(view[size:]),
                   guessed, c.magic)

    @classmethod
    def default(cls, flash_size: int = 0x100000, *, big_flash: bool = False,
                max_roms: int = fmt.MAX_ROMS, has_checksum: bool = False,
                mode: int = fmt.MODE_STANDARD) -> RbootConfig:
        """The config rBoot writes when the stored one is invalid (rboot.md §2).

        Args:
            flash_size: the chip's flash size in bytes (as rBoot reads it from its header).
            big_flash: rBoot built with ``BOOT_BIG_FLASH`` (otherwise sizes are capped at 1 MB).
            max_roms / has_checksum: the build's ``MAX_ROMS`` / ``BOOT_CONFIG_CHKSUM``.
            mode: ``MODE_GPIO_ROM`` or ``MODE_GPIO_SKIP`` for builds that set them by default.
        """
        size = flash_size if big_flash else min(flash_size, 0x100000)
        roms = [0] * max_roms
        roms[0] = 2 * fmt.SECTOR_SIZE
        if max_roms > 1:
            roms[1] = size // 2 + 2 * fmt.SECTOR_SIZE
        cfg = cls(fmt.BOOT_CONFIG_VERSION, mode, 0, 0, 2, tuple(roms),
                  0 if has_checksum else None)
        return replace(cfg, chksum=cfg.computed_checksum) if has_checksum else cfg

    @classmethod
    def effective(cls, data: bytes | memoryview, flash_size: int = 0x100000, *,
                  big_flash: bool = False, max_roms: int | None = None,
                  has_checksum: bool | None = None) -> RbootConfig:
        """The config rBoot will use for sector ``data``: the stored one if rBoot accepts it
        (magic, version and, when present, checksum), else :meth:`default`."""
        try:
            cfg = cls.from_bytes(data, max_roms=max_roms, has_checksum=has_checksum)
        except FormatError:
            cfg = None
        if cfg is not None and cfg.accepted:
            return cfg
        return cls.default(flash_size, big_flash=big_flash,
                           max_roms=max_roms or fmt.MAX_ROMS, has_checksum=bool(has_checksum))

    # ------------------------------------------------------------------ derived facts
    @property
    def max_roms(self) -> int:
        """The ``MAX_ROMS`` of this layout."""
        return len(self.roms)

    @property
    def has_checksum(self) -> bool:
        """Whether the struct carries a checksum byte (``BOOT_CONFIG_CHKSUM``)."""
        return self.chksum is not None

    @property
    def struct_size(self) -> int:
        """Packed size of the struct (without the sector tail)."""
        return fmt.config_size(self.max_roms, self.has_checksum)

    def _struct_bytes(self, chksum: int) -> bytes:
        header = fmt.ConfigHeader(self.magic, self.version, self.mode, self.current_rom,
                                  self.gpio_rom, self.count, self.unused).build("rboot_config")
        try:
            roms = struct.pack(f"<{self.max_roms}I", *self.roms)
        except struct.error as exc:
            raise FormatError(f"cannot build: roms: {exc}", None, "rboot_config") from None
        return header + roms + (bytes([chksum]) if self.has_checksum else b"")

    @property
    def computed_checksum(self) -> int:
        """``calc_chksum`` over the struct bytes before ``chksum``."""
        raw = self._struct_bytes(0)
        return _config_checksum(raw[:fmt.config_size(self.max_roms, False)])

    @property
    def accepted(self) -> bool:
        """Whether rBoot keeps this config (magic, version and, if present, checksum match);
        otherwise it writes :meth:`default`."""
        return (self.magic == fmt.BOOT_CONFIG_MAGIC and self.version == fmt.BOOT_CONFIG_VERSION
                and (self.chksum is None or self.chksum == self.computed_checksum))

    @property
    def slots(self) -> tuple[int, ...]:
        """Addresses of the slots in use (``roms[0:count]``, bounded by ``MAX_ROMS``)."""
        return self.roms[:self.count]

    @property
    def mode_names(self) -> list[str]:
        """Names of the set mode flags (``["standard"]`` when none); unknown bits as hex."""
        names = [n for bit, n in fmt.MODE_NAMES.items() if self.mode & bit]
        unknown = self.mode & ~sum(fmt.MODE_NAMES)
        if unknown:
            names.append(f"{unknown:#04x}")
        return names or ["standard"]

    def _standard_start(self) -> BootRom:
        if not self.accepted:
            return BootRom(0, "the stored config is not accepted (" + self._rejection()
                           + "): rBoot writes its default config and boots slot 0")
        if self.current_rom >= self.count:
            return BootRom(0, f"current_rom {self.current_rom} is not below count "
                              f"{self.count}: rBoot resets it to slot 0")
        return BootRom(self.current_rom, f"current_rom is {self.current_rom}")

    def _rejection(self) -> str:
        if self.version != fmt.BOOT_CONFIG_VERSION:
            return f"version {self.version}, expected {fmt.BOOT_CONFIG_VERSION}"
        return (f"checksum stored {self.chksum or 0:#04x}, computed "
                f"{self.computed_checksum:#04x}")

    def _overrides(self) -> str:
        notes = []
        if self.accepted and self.mode & fmt.MODE_GPIO_ROM:
            notes.append(f"unless the GPIO is held low (MODE_GPIO_ROM: slot {self.gpio_rom})")
        if self.accepted and self.mode & fmt.MODE_GPIO_SKIP:
            notes.append("unless the GPIO is held low (MODE_GPIO_SKIP: the next slot)")
        notes.append("with BOOT_RTC_ENABLED an RTC temp-rom request can override it once")
        return "; " + "; ".join(notes)

    @property
    def boot_rom(self) -> BootRom:
        """Which slot a standard boot starts with (rboot.md §4), before image checks.

        ``reason`` says why, and mentions the GPIO and RTC overrides that the flash cannot
        tell. Whether the slot's image passes rBoot's check (§5) is :meth:`boot_rom_with`.
        """
        start = self._standard_start()
        return BootRom(start.slot, start.reason + self._overrides())

    def boot_rom_with(self, image_ok: Callable[[int], bool],
                      flash_size: int = 0x100000) -> BootRom:
        """Which slot a standard boot ends up in, given which images pass (rboot.md §4 step 5).

        Args:
            image_ok: called with a slot's flash address; True when rBoot's ``check_image``
                accepts the image there. Addresses 0 and 0xFFFFFFFF are rejected without
                calling it.

        Returns:
            flash_size: rBoot's (capped) flash size, for the default config it writes when the
                stored one is not accepted.

        Returns:
            the slot and the reason; ``slot`` is None with rBoot's "No good rom available."
        """
        start = self._standard_start()
        cfg = self if self.accepted else RbootConfig.default(flash_size, max_roms=self.max_roms)
        count = max(cfg.count, 1)

        def ok(slot: int) -> bool:
            addr = cfg.roms[slot] if slot < len(cfg.roms) else 0
            return addr not in (0, 0xFFFFFFFF) and image_ok(addr)

        first = start.slot or 0
        if ok(first):
            return start
        slot = first
        while True:
            slot -= 1
            if slot < 0:
                slot = count - 1
            if slot == first:
                return BootRom(None, f"Rom {first} is bad; no other slot passes: "
                                     "No good rom available.")
            if ok(slot):
                return BootRom(slot, f"Rom {first} is bad; rBoot falls back to slot {slot} "
                                     "and makes it current_rom")

    # ------------------------------------------------------------------ checks, building
    def checks(self, base: int = 0) -> list[Check]:
        """``structure`` and, when the struct carries one, ``rboot-checksum``.

        ``base`` is the file offset of the struct (0x1000 in a flash dump).
        """
        problems: list[str] = []
        notes: list[str] = []
        if self.version != fmt.BOOT_CONFIG_VERSION:
            problems.append(f"version {self.version}, expected {fmt.BOOT_CONFIG_VERSION} "
                            "(rBoot would overwrite the config with its default)")
        if self.count == 0:
            problems.append("count is 0 (no slots)")
        if self.count > self.max_roms:
            problems.append(f"count {self.count} exceeds MAX_ROMS {self.max_roms}")
        for i, addr in enumerate(self.slots):
            if addr in (0, 0xFFFFFFFF):
                problems.append(f"slot {i} address {addr:#x} is rejected by rBoot")
            elif addr % fmt.SECTOR_SIZE:
                problems.append(f"slot {i} address {addr:#x} is not sector-aligned")
        if self.count and self.current_rom >= self.count:
            notes.append(f"current_rom {self.current_rom} >= count {self.count} (rBoot resets "
                         "it to 0)")
        if self.mode & fmt.MODE_GPIO_ROM and self.gpio_rom >= max(self.count, 1):
            notes.append(f"gpio_rom {self.gpio_rom} >= count {self.count}")
        how = "guessed" if self.layout_guessed else "given"
        if self.has_checksum:
            layout = f"MAX_ROMS {self.max_roms}, checksum present ({how})"
        else:
            layout = (f"MAX_ROMS {self.max_roms}, no checksum byte: BOOT_CONFIG_CHKSUM is off "
                      f"({how}; a build with the option on and a wrong checksum looks the same)")
        detail = "; ".join(problems) if problems else (
            f"rboot_config, {self.count} slots: "
            + ", ".join(f"{a:#x}" for a in self.slots))
        detail += f"; {layout}"
        if notes:
            detail += "; " + "; ".join(notes)
        out = [Check("structure", not problems, base, detail)]
        if self.chksum is not None:
            out.append(compare("rboot-checksum", base + fmt.config_size(self.max_roms, False),
                               self.chksum, self.computed_checksum))
        return out

    def to_bytes(self) -> bytes:
        """The struct (checksum recomputed when present) followed by the kept ``tail``."""
        chksum = self.computed_checksum if self.has_checksum else 0
        return self._struct_bytes(chksum) + self.tail

    def with_current_rom(self, slot: int) -> RbootConfig:
        """A copy that boots ``slot`` next (``rboot_set_current_rom``); the checksum, if any,
        is recomputed.

        Raises:
            FormatError: ``slot`` is not below ``count``.
        """
        if not 0 <= slot < self.count:
            raise FormatError(f"slot {slot} is not in use (count is {self.count})", None,
                              "rboot_config")
        cfg = replace(self, current_rom=slot)
        return replace(cfg, chksum=cfg.computed_checksum) if cfg.has_checksum else cfg

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        boot = self.boot_rom
        return {
            "magic": self.magic,
            "version": self.version,
            "mode": self.mode,
            "mode_names": self.mode_names,
            "current_rom": self.current_rom,
            "gpio_rom": self.gpio_rom,
            "count": self.count,
            "roms": list(self.slots),
            "max_roms": self.max_roms,
            "checksum": {"present": self.has_checksum, "guessed": self.layout_guessed,
                         "stored": self.chksum,
                         "computed": self.computed_checksum if self.has_checksum else None},
            "boot_rom": {"slot": boot.slot, "reason": boot.reason},
        }


# ---------------------------------------------------------------------- RTC record


@dataclass(frozen=True)
class RbootRtc:
    """``rboot_rtc_data``: rBoot's RTC record (RTC memory 0x60001200, rboot.md §3).

    It exists only at run time (e.g. read from a RAM dump or built to write one). ``tail`` keeps
    whatever followed the 9 packed bytes in the data parsed.
    """

    next_mode: int
    last_mode: int
    last_rom: int
    temp_rom: int
    chksum: int | None = None
    tail: bytes = b""
    magic: int = fmt.RBOOT_RTC_MAGIC

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> RbootRtc:
        """Parse the record.

        Raises:
            TruncatedError: fewer than 9 bytes.
            FormatError: the magic is not 0x2334AE68.
        """
        c = fmt.rboot_rtc_data.parse(data, 0, "rboot_rtc_data")
        if c.magic != fmt.RBOOT_RTC_MAGIC:
            raise FormatError(f"expected rBoot RTC magic {fmt.RBOOT_RTC_MAGIC:#010x}, found "
                              f"{c.magic:#010x}", 0, "rboot_rtc_data")
        return cls(c.next_mode, c.last_mode, c.last_rom, c.temp_rom, c.chksum,
                   bytes(memoryview(data)[fmt.rboot_rtc_data.SIZE:]), c.magic)

    def _packed(self, chksum: int) -> bytes:
        return fmt.rboot_rtc_data(self.magic, self.next_mode, self.last_mode, self.last_rom,
                                  self.temp_rom, chksum).build("rboot_rtc_data")

    @property
    def computed_checksum(self) -> int:
        """0xEF XOR bytes 0..7."""
        return _config_checksum(self._packed(0)[:fmt.rboot_rtc_data.SIZE - 1])

    @property
    def temp_boot_requested(self) -> bool:
        """Whether the next boot is a one-off boot of ``temp_rom`` (valid record required)."""
        return bool(self.next_mode & fmt.MODE_TEMP_ROM) and self.chksum == self.computed_checksum

    def checks(self, base: int = 0) -> list[Check]:
        """``rboot-rtc-checksum`` (rBoot ignores a record whose checksum is wrong)."""
        where = base + fmt.rboot_rtc_data.SIZE - 1
        if self.chksum is None:
            return [Check("rboot-rtc-checksum", False, where, "no checksum stored")]
        return [compare("rboot-rtc-checksum", where, self.chksum, self.computed_checksum)]

    def to_bytes(self) -> bytes:
        """The 9 packed bytes (checksum recomputed) followed by ``tail``."""
        return self._packed(self.computed_checksum) + self.tail

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"magic": self.magic, "next_mode": self.next_mode, "last_mode": self.last_mode,
                "last_rom": self.last_rom, "temp_rom": self.temp_rom, "chksum": self.chksum,
                "checksum_valid": self.chksum == self.computed_checksum,
                "temp_boot_requested": self.temp_boot_requested}
