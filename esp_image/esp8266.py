"""ESP8266 images, flash maps, init data and system parameters: the typed model.

Parsing is lenient (what is on flash is kept, damage is reported by ``checks()``); building is
strict (XOR checksum, CRC32 trailer, SHA-256 and counts are recomputed). Segment data is never
copied while parsing: models keep a memoryview of the caller's buffer.
See shared/docs/formats/esp8266.md (and rboot.md, yaota8266.md for those layouts).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import chips
from .checks import Check, compare, compare_digest
from .container import walk
from .errors import FormatError, TruncatedError
from .esp8266_parts import _bootloader_name
from .formats.compiled import esp8266 as fmt
from .hashing import xor_checksum
from .units import SECTOR, format_size, parse_size

if TYPE_CHECKING:

    from .container import Segment

CHIP = chips.chip_by_name("esp8266")


def _u32(view: memoryview | bytes, off: int) -> int:
    return int.from_bytes(view[off:off + 4], "little")


# ====================================================================== CRC32 trailer
def esp8266_crc32(data: bytes | memoryview) -> int:
    """The v2 CRC32 trailer value for ``data`` (everything before the trailer), esp8266.md §4.

    ``u = zlib.crc32(data)``; the SDK stores ``~u`` when ``u >= 2**31`` and ``u + 1`` otherwise
    (the same as gen_appbin under Python 2 and the device's ``upgrade_crc_check``).
    """
    u = zlib.crc32(data) & 0xFFFFFFFF
    return (u ^ 0xFFFFFFFF) if u & 0x80000000 else u + 1


# ====================================================================== flash maps
@dataclass(frozen=True)
class FlashMap:
    """One NONOS SDK flash map: what header byte 3's high nibble declares (esp8266.md §2.1, §6).

    Attributes:
        code: the nibble (0-9), equal to the SDK's ``enum flash_size_map`` value.
        name: esptool's name (``4MB-c1``); ``legacy_name`` the esptool 1.x one (``32m-c1``).
        sdk_map: the SDK enum name.
        size: flash size in bytes.
        slot_size: the OTA slot size (None for the 256 KB map, which has no OTA).
        supported: False for code 7 (``4MB-c2``), which current esptool and the SDK reject.
    """

    code: int
    name: str
    legacy_name: str | None
    sdk_map: str
    size: int
    slot_size: int | None
    supported: bool

    @property
    def boot(self) -> int | None:
        """Flash address of boot.bin (None without OTA: the image at 0 is the app)."""
        return 0 if self.slot_size else None

    @property
    def user1(self) -> int | None:
        """Flash address of user1.bin."""
        return 0x1000 if self.slot_size else None

    @property
    def user2(self) -> int | None:
        """Flash address of user2.bin (slot size + 0x1000)."""
        return self.slot_size + 0x1000 if self.slot_size else None

    def user_slot(self, number: int) -> tuple[int, int] | None:
        """``(address, size)`` of the user1 or user2 slot (None without OTA).

        A slot runs to the next slot, or to the RF-cal sector when that comes first: on the
        256+256 and 512+512 maps of 512 KB and 1 MB the system sectors sit inside the second
        half, so user2 is 0x5000 shorter than user1 (488 KB on the 1 MB map, esp8266.md §6).
        This is the one definition ``info``, the dump reader and ``layout esp8266`` share.
        """
        if not self.slot_size or number not in (1, 2):
            return None
        address = self.slot_size * (number - 1) + SECTOR
        end = min(self.slot_size * number, self.rf_cal)
        return address, end - address

    @property
    def shared_link(self) -> bool:
        """Whether user1 and user2 run from one link: the irom window maps 1 MB, so slots
        1 MB apart (the 1024+1024 maps) map to the same addresses; only the marker differs."""
        return bool(self.slot_size and self.slot_size >= 0x100000)

    @property
    def max_user_bin(self) -> int | None:
        """Largest user bin the SDK's OTA code accepts (slot size - 0x5000, ``local_ota.c``)."""
        return self.slot_size - 0x5000 if self.slot_size else None

    @property
    def rf_cal(self) -> int:
        """RF calibration sector (N - 0x5000)."""
        return self.size - 0x5000

    @property
    def init_data(self) -> int:
        """esp_init_data_default sector (N - 0x4000)."""
        return self.size - 0x4000

    @property
    def system_params(self) -> int:
        """First of the three system-parameter sectors (save0 at N - 0x3000)."""
        return self.size - 0x3000

    @property
    def save0(self) -> int:
        """System parameters, copy 0."""
        return self.size - 0x3000

    @property
    def save1(self) -> int:
        """System parameters, copy 1 (where blank.bin goes)."""
        return self.size - 0x2000

    @property
    def flag(self) -> int:
        """The flag sector that says which copy is live."""
        return self.size - 0x1000

    @property
    def title(self) -> str:
        """``4MB-c1 (1024KB+1024KB)``."""
        if self.slot_size:
            slot = format_size(self.slot_size)
            return f"{self.name} ({slot}+{slot})"
        return f"{self.name} (no OTA)"

    def addresses(self) -> list[tuple[str, int, int, str]]:
        """The map as rows ``(name, address, size, what goes there)``, in address order."""
        rows: list[tuple[str, int, int, str]] = []
        user1, user2 = self.user_slot(1), self.user_slot(2)
        if user1 is not None and user2 is not None:
            rows.append(("boot", 0, 0x1000, "boot_v1.x.bin (second-stage bootloader)"))
            rows.append(("user1", *user1, "user1.bin"))
            rows.append(("user2", *user2, "user2.bin (OTA slot 2)"))
        rows.append(("rf_cal", self.rf_cal, 0x1000, "RF calibration (written by the SDK)"))
        rows.append(("init_data", self.init_data, 0x1000, "esp_init_data_default.bin"))
        rows.append(("system_params", self.system_params, 0x3000,
                     f"system parameters: save0, save1 (blank.bin at {self.save1:#x}), flag"))
        return rows

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "code": self.code, "name": self.name, "legacy_name": self.legacy_name,
            "sdk_map": self.sdk_map, "size": self.size, "slot_size": self.slot_size,
            "supported": self.supported, "boot": self.boot, "user1": self.user1,
            "user2": self.user2, "max_user_bin": self.max_user_bin, "rf_cal": self.rf_cal,
            "init_data": self.init_data, "system_params": self.system_params,
            "save0": self.save0, "save1": self.save1, "flag": self.flag,
        }


FLASH_MAPS: dict[int, FlashMap] = {
    code: FlashMap(code, name, legacy, fmt.SDK_MAP_NAMES[code], size, slot, supported)
    for code, (name, legacy, size, slot, supported) in fmt.FLASH_SIZE_CODES.items()
}
_LEGACY_NAMES = {m.legacy_name: m for m in FLASH_MAPS.values() if m.legacy_name}
_PLAIN_BY_SIZE = {m.size: m for m in sorted(FLASH_MAPS.values(), key=lambda m: -m.code)
                  if "-c" not in m.name}
_C_SUFFIX = re.compile(r"^(?P<size>.+?)-c(?P<n>[12])$", re.IGNORECASE)


def parse_esp8266_flash_size(text: str) -> FlashMap:
    """Parse an ESP8266 flash size or map name into its :class:`FlashMap`.

    Accepted: esptool names (``512KB``, ``1MB``, ``4MB-c1``, ``8MB``), esptool 1.x legacy
    megabit names (``4m``, ``8m``, ``32m``, ``32m-c1``: lowercase ``m`` without ``B`` means
    megabit, as in esptool 1.x), and any size ``units.parse_size`` accepts (``4M``, ``4MiB``,
    ``0x400000``), which picks the 512+512 map for 1-4 MB. A ``-c1``/``-c2`` suffix selects the
    1024+1024 / 2048+2048 map of that size.

    Raises:
        ValueError: not an ESP8266 flash size.
    """
    t = text.strip()
    if t in _LEGACY_NAMES:
        return _LEGACY_NAMES[t]
    for m in FLASH_MAPS.values():
        if t.lower() == m.name.lower():
            return m
    match = _C_SUFFIX.match(t)
    try:
        if match:
            base = match.group("size")
            size = parse_size(base) if base not in _LEGACY_NAMES else _LEGACY_NAMES[base].size
            slot = 1024 * 1024 if match.group("n") == "1" else 2048 * 1024
            for m in FLASH_MAPS.values():
                if m.size == size and m.slot_size == slot and "-c" in m.name:
                    return m
        else:
            size = parse_size(t)
            if size in _PLAIN_BY_SIZE:
                return _PLAIN_BY_SIZE[size]
    except ValueError:
        pass
    names = ", ".join(m.name for m in FLASH_MAPS.values())
    legacy = ", ".join(_LEGACY_NAMES)
    raise ValueError(f"not an ESP8266 flash size: {text!r} (use one of {names}; "
                     f"legacy names {legacy})")


def flash_map_for(size_code_or_name: int | str) -> FlashMap:
    """The flash map for a header size nibble (``byte3 >> 4``, 0-9) or a name/size text.

    Raises:
        ValueError: an unknown code (10-15) or name.
    """
    if isinstance(size_code_or_name, int):
        try:
            return FLASH_MAPS[size_code_or_name]
        except KeyError:
            raise ValueError(f"ESP8266 flash size code {size_code_or_name:#x} is not defined "
                             "(0-9 are)") from None
    return parse_esp8266_flash_size(size_code_or_name)


# ====================================================================== images
class V2Header(fmt.V2Header):
    """The 16-byte outer header of a v2 (0xEA) image, including the irom segment header."""

    __slots__ = ()
    NAME = "ESP8266 v2 header"

    def to_bytes(self, irom_len: int | None = None) -> bytes:
        """Build the 16 bytes (``irom_len`` overrides the stored length)."""
        return (self if irom_len is None else self.replace(irom_len=irom_len)).build()


@dataclass(frozen=True)
class Esp8266Image:
    """An ESP8266 v1, v2 or v3 image parsed from a buffer.

    Offsets (segments, ``header_offset``, ``checksum_offset``) are relative to the image start.

    Attributes:
        format: ``esp8266-v1``, ``esp8266-v2`` or ``esp8266-v3``.
        variant: for v2, ``esptool`` (EA bytes 2-3 are flash mode/size) or ``gen_appbin``
            (``00`` and the user-bin number); None otherwise.
        user: the gen_appbin user-bin number (1 or 2), else None.
        role: ``app`` or ``bootloader``.
        bootloader_name: ``boot_v1.7``, ``rboot``, ``boot8266``, ``eboot``,
            ``esp8266-rtos-sdk`` or None.
        bootloader_version: e.g. ``1.7(5d6f877)`` or ``1.4.2`` when the image says so.
        chip: always the ESP8266.
        header: the E9 header (the inner one for v2, which is what bootloaders and esptool
            use); ``segment_count``, ``flash_mode_code``, ``flash_size_code``,
            ``flash_freq_code`` and ``entry`` read it.
        v2_header: the 0xEA header (v2 only).
        header_offset: image offset of the E9 header (16 + irom length for v2, else 0).
        segments: the E9 image's segments (the v2 irom part is :attr:`irom_offset`/``irom_size``).
        padding: bytes between the last segment and the checksum byte.
        stored_checksum / computed_checksum: XOR checksum (None stored when truncated).
        checksum_offset: image offset of the checksum byte.
        stored_crc32 / computed_crc32: the v2 CRC32 trailer; both None when it is absent.
        stored_sha256 / computed_sha256: the SHA-256 a v3 image appends.
        length: image length through the checksum (and SHA-256); the available bytes if
            truncated.
        end: ``length`` plus the CRC32 trailer, if any.
        trailing: bytes after ``end`` in the buffer.
        flash_offset: the flash address the image was found at, when known.
        problems: structural damage (makes the ``structure`` check fail).
        warnings: oddities that do not stop a bootloader.
    """

    format: str
    variant: str | None
    user: int | None
    role: str
    bootloader_name: str | None
    bootloader_version: str | None
    header: fmt.ImageHeader
    v2_header: V2Header | None
    header_offset: int
    segments: tuple[Segment, ...]
    padding: bytes
    stored_checksum: int | None
    computed_checksum: int
    checksum_offset: int | None
    stored_crc32: int | None
    computed_crc32: int | None
    stored_sha256: bytes | None
    computed_sha256: bytes | None
    length: int
    end: int
    trailing: int
    flash_offset: int | None
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    data: memoryview = field(repr=False, compare=False, default=memoryview(b""))
    chip: chips.Chip = field(default=CHIP, repr=False)

    # ------------------------------------------------------------------ parsing
    @classmethod
    def from_bytes(cls, data: bytes | memoryview, offset: int = 0, *,
                   flash_offset: int | None = None) -> Esp8266Image:
        """Parse the image at ``data[offset:]`` (not copied).

        Args:
            data: the buffer.
            offset: where the 0xE9/0xEA magic is.
            flash_offset: the image's flash address, if known (irom run-time address).

        Raises:
            FormatError: no 0xE9/0xEA magic (not an ESP8266 image at all).
            TruncatedError: fewer bytes than the 8-byte (v1) or 16-byte (v2) header.
        """
        view = memoryview(data)[offset:]
        size = len(view)
        if not size or view[0] not in (fmt.MAGIC_V1, fmt.MAGIC_V2):
            raise FormatError("no 0xE9 or 0xEA image magic", offset, "ESP8266 image")
        problems: list[str] = []
        warnings: list[str] = []
        v2: V2Header | None = None
        header_offset = 0
        if view[0] == fmt.MAGIC_V2:
            v2 = _v2_header(view, offset, problems)
            header_offset = fmt.V2Header.SIZE + v2.irom_len
            if problems and problems[-1].startswith(("truncated: irom", "no inner")):
                return cls._truncated_v2(view, v2, problems, flash_offset)
        elif size < fmt.ImageHeader.SIZE:
            raise TruncatedError(f"only {size} bytes; an ESP8266 image header needs "
                                 f"{fmt.ImageHeader.SIZE}", offset, "ESP8266 image")
        h = fmt.ImageHeader.parse(view, header_offset, "ESP8266 image header")
        walked = walk(view, header_offset + fmt.ImageHeader.SIZE, h.segment_count)
        problems.extend(walked.problems)
        segments, length, truncated = walked.segments, walked.length, walked.truncated
        image_format = "esp8266-v2" if v2 is not None else "esp8266-v1"
        stored_sha = computed_sha = None
        if v2 is None and not truncated:
            v3 = _v3_digest(view, length, segments, problems)
            if v3 is not None:
                image_format, stored_sha, computed_sha, length, truncated = v3
        stored_crc = computed_crc = None
        end = length
        if v2 is not None and not truncated:
            stored_crc, computed_crc, end = _crc_trailer(view, length, problems)
        variant, user = _variant(v2, h, warnings) if v2 is not None else (None, None)
        _header_warnings(h, segments, warnings)
        if truncated:
            length = end = size
        name, version = (None, None)
        if image_format == "esp8266-v1" and not truncated:
            name, version = _bootloader_name(view, length)
        role = "bootloader" if name else "app"
        return cls(image_format, variant, user, role, name, version, h, v2, header_offset,
                   segments, walked.padding, walked.stored_checksum, walked.computed_checksum,
                   walked.checksum_offset, stored_crc, computed_crc, stored_sha, computed_sha,
                   length, end, size - end,
                   flash_offset, tuple(problems), tuple(warnings), view[:end])

    @classmethod
    def _truncated_v2(cls, view: memoryview, v2: V2Header, problems: list[str],
                      flash_offset: int | None) -> Esp8266Image:
        size = len(view)
        header = fmt.ImageHeader(0, v2.byte2, v2.byte3 >> 4, v2.byte3 & 0xF, v2.entry)
        return cls("esp8266-v2", "esptool", None, "app", None, None, header, v2,
                   min(size, fmt.V2Header.SIZE + v2.irom_len),
                   (), b"", None, fmt.CHECKSUM_SEED, None, None, None, None, None, size, size,
                   0, flash_offset, tuple(problems), (), view)

    # ------------------------------------------------------------------ derived facts
    @property
    def segment_count(self) -> int:
        """The E9 header's segment count."""
        return self.header.segment_count

    @property
    def flash_mode_code(self) -> int:
        """E9 header byte 2."""
        return self.header.flash_mode

    @property
    def flash_size_code(self) -> int:
        """The high nibble of E9 header byte 3 (the flash map code)."""
        return self.header.flash_size

    @property
    def flash_freq_code(self) -> int:
        """The low nibble of E9 header byte 3."""
        return self.header.flash_freq

    @property
    def entry(self) -> int:
        """The E9 header's entry point."""
        return self.header.entry

    @property
    def truncated(self) -> bool:
        """Whether the data ends before the image does (the image cannot be rebuilt)."""
        return self.stored_checksum is None or any(
            p.startswith("truncated") for p in self.problems)

    @property
    def checksum_valid(self) -> bool:
        """Whether the stored XOR checksum matches."""
        return self.stored_checksum == self.computed_checksum

    @property
    def crc32_status(self) -> str | None:
        """``valid``, ``invalid``, ``absent`` or ``truncated`` for v2 images; None otherwise."""
        if self.v2_header is None:
            return None
        if self.truncated:
            return "truncated"
        if self.stored_crc32 is None:
            return "absent"
        return "valid" if self.stored_crc32 == self.computed_crc32 else "invalid"

    @property
    def sha256_valid(self) -> bool | None:
        """Whether the v3 SHA-256 matches (None without one)."""
        if self.stored_sha256 is None:
            return None
        return self.stored_sha256 == self.computed_sha256

    @property
    def irom_offset(self) -> int | None:
        """Image offset of the v2 irom data (16), else None."""
        return fmt.V2Header.SIZE if self.v2_header is not None else None

    @property
    def irom_size(self) -> int | None:
        """Bytes of v2 irom data (the header's irom length, 16-aligned in current tools)."""
        return self.v2_header.irom_len if self.v2_header is not None else None

    @property
    def irom_address(self) -> int | None:
        """Run-time address of the v2 irom data: 0x40200000 + flash offset + 16 (if known)."""
        if self.v2_header is None:
            return None
        where = self.flash_offset
        fmap = self.flash_map
        if where is None and self.user is not None and fmap is not None and fmap.slot_size:
            where = fmap.user1 if self.user == 1 else fmap.user2
        if where is None:
            return None
        return fmt.IROM_MAP_START + (where % fmt.IROM_WINDOW) + fmt.V2Header.SIZE

    @property
    def flash_size_freq(self) -> int:
        """Header byte 3 as a number (the inner header's for v2)."""
        return self.flash_size_code << 4 | self.flash_freq_code

    @property
    def flash_mode(self) -> str:
        """Flash mode name (``qio``...), or the code with ``?``."""
        return fmt.FLASH_MODES.get(self.flash_mode_code, f"{self.flash_mode_code:#x}?")

    @property
    def flash_freq(self) -> str:
        """Flash clock name (``40m``...), or the code with ``?``."""
        return fmt.FLASH_FREQS.get(self.flash_freq_code, f"{self.flash_freq_code:#x}?")

    @property
    def flash_size_name(self) -> str:
        """Flash size per the ESP8266 table (``4MB-c1``), or a note on an invalid code."""
        fmap = FLASH_MAPS.get(self.flash_size_code)
        return fmap.name if fmap else f"invalid code {self.flash_size_code:#x}"

    @property
    def flash_map(self) -> FlashMap | None:
        """The NONOS flash map the header's size nibble declares."""
        return FLASH_MAPS.get(self.flash_size_code)

    @property
    def flash_size_ambiguous(self) -> bool:
        """True for v3 apps: the RTOS SDK's own esptool writes ESP32 size codes (§10)."""
        return self.format == "esp8266-v3"

    @property
    def valid(self) -> bool:
        """Whether every check passes."""
        return all(c.valid for c in self.checks())

    def checks(self, base: int = 0) -> list[Check]:
        """Every integrity check that applies, offsets shifted by ``base``.

        Names: ``structure``, ``checksum``, ``crc32`` (only when a trailer exists) and
        ``sha256`` (v3).
        """
        out: list[Check] = []
        if self.problems:
            out.append(Check("structure", False, base, "; ".join(self.problems)))
        else:
            irom = f", irom {self.irom_size:#x} bytes" if self.v2_header is not None else ""
            out.append(Check("structure", True, base,
                             f"{self.format}, {len(self.segments)} segments{irom}, image "
                             f"length {self.length:#x}"))
        if self.stored_checksum is not None and self.checksum_offset is not None:
            out.append(compare("checksum", base + self.checksum_offset, self.stored_checksum,
                               self.computed_checksum))
        if self.stored_sha256 is not None and self.computed_sha256 is not None:
            out.append(compare_digest("sha256", base + self.length - fmt.DIGEST_SIZE,
                                      self.stored_sha256, self.computed_sha256))
        if self.stored_crc32 is not None and self.computed_crc32 is not None:
            out.append(compare("crc32", base + self.length, self.stored_crc32,
                               self.computed_crc32, 8))
        return out

    # ------------------------------------------------------------------ building
    def to_bytes(self) -> bytes:
        """Rebuild ``[0:end]``: headers, irom, segments, padding, checksum, SHA-256, CRC32.

        Derived fields (segment count, irom length, checksum, SHA-256, CRC32) are recomputed,
        so a valid image rebuilds byte-identically.

        Raises:
            FormatError: the image was truncated or damaged and cannot be rebuilt.
        """
        if self.truncated:
            raise FormatError("cannot rebuild a truncated or damaged image", 0, "ESP8266 image")
        parts: list[bytes | memoryview] = []
        if self.v2_header is not None:
            irom = self.data[fmt.V2Header.SIZE:self.header_offset]
            parts += [self.v2_header.to_bytes(len(irom)), irom]
        count = self.segment_count if self.segment_count > fmt.MAX_SEGMENTS else len(
            self.segments)
        parts.append(self.header.replace(segment_count=count).build("ESP8266 image header"))
        seg_data = [self.data[s.data_offset:s.end] for s in self.segments]
        for seg, chunk in zip(self.segments, seg_data, strict=True):
            parts += [fmt.SegmentHeader(seg.load_addr, seg.data_len).build(), chunk]
        parts.append(self.padding)
        body = b"".join(parts)
        body += bytes([xor_checksum(seg_data, fmt.CHECKSUM_SEED)])
        if self.stored_sha256 is not None:
            body += hashlib.sha256(body).digest()
        if self.stored_crc32 is not None:
            body += fmt.CrcTrailer(esp8266_crc32(body)).build()
        return body

    def to_dict(self) -> dict[str, object]:
        """The contract's ``image`` object plus ESP8266 extras."""
        flash: dict[str, object] = {"size": self.flash_size_name, "mode": self.flash_mode,
                                    "freq": self.flash_freq, "byte3": self.flash_size_freq}
        if self.flash_size_ambiguous:
            esp32 = chips.ESP32_FLASH_SIZES.get(self.flash_size_code)
            flash["size_ambiguous"] = True
            flash["size_if_esp32_code"] = format_size(esp32) if esp32 else None
        out: dict[str, object] = {
            "format": self.format,
            "role": self.role,
            "flash": flash,
            "entry": self.entry,
            "segments": [
                {"addr": s.load_addr, "size": s.data_len, "offset": s.offset,
                 "region": "/".join(_regions(s.load_addr))}
                for s in self.segments
            ],
            "variant": self.variant,
            "user": self.user,
            "bootloader": self.bootloader_name,
            "bootloader_version": self.bootloader_version,
            "length": self.length,
            "end": self.end,
            "checksum": {"stored": self.stored_checksum, "computed": self.computed_checksum,
                         "offset": self.checksum_offset},
        }
        if self.v2_header is not None:
            out["irom"] = {"offset": self.irom_offset, "size": self.irom_size,
                           "address": self.irom_address}
            out["inner_header_offset"] = self.header_offset
            out["crc32"] = {"status": self.crc32_status, "stored": self.stored_crc32,
                            "computed": self.computed_crc32}
        if self.stored_sha256 is not None:
            out["sha256"] = {"stored": self.stored_sha256.hex(),
                             "valid": self.sha256_valid}
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def _v2_header(view: memoryview, offset: int, problems: list[str]) -> V2Header:
    """The 0xEA header; a problem starting ``truncated: irom`` or ``no inner`` means the inner
    image cannot be read."""
    size = len(view)
    if size < fmt.V2Header.SIZE:
        raise TruncatedError(f"only {size} bytes; a v2 header needs {fmt.V2Header.SIZE}",
                             offset, "ESP8266 v2 image")
    v2 = V2Header.parse(view)
    if v2.segment_count != fmt.V2_SEGMENT_COUNT:
        problems.append(f"v2 header byte 1 is {v2.segment_count}; boot_v1.x and rBoot "
                        f"only boot a v2 image when it is {fmt.V2_SEGMENT_COUNT}")
    header_offset = fmt.V2Header.SIZE + v2.irom_len
    if header_offset + fmt.ImageHeader.SIZE > size:
        problems.append(f"truncated: irom part declares {v2.irom_len:#x} bytes; the "
                        f"inner image header at {header_offset:#x} is past the end of "
                        f"the data ({size:#x})")
    elif view[header_offset] != fmt.MAGIC_V1:
        problems.append(f"no inner 0xE9 image at {header_offset:#x} (found "
                        f"{view[header_offset]:#04x}); irom length {v2.irom_len:#x} "
                        "is wrong or the file is damaged")
    return v2


def _v3_digest(view: memoryview, length: int, segments: tuple[Segment, ...],
               problems: list[str]) -> tuple[str, bytes | None, bytes | None, int, bool] | None:
    """v3 (RTOS SDK): flash-mapped segments and an appended SHA-256 of the image; the format,
    stored and computed digest, new length and truncation, or None for a v1 image."""
    if not any(fmt.IROM_MAP_START <= s.load_addr < fmt.IROM_MAP_END for s in segments):
        return None
    rest = len(view) - length
    if rest >= fmt.DIGEST_SIZE:
        digest = hashlib.sha256(view[:length]).digest()
        candidate = bytes(view[length:length + fmt.DIGEST_SIZE])
        if candidate == digest or rest == fmt.DIGEST_SIZE:
            return "esp8266-v3", candidate, digest, length + fmt.DIGEST_SIZE, False
        return None
    if rest > 0:
        problems.append(f"truncated: {rest} bytes after the checksum where a v3 "
                        "image's 32-byte SHA-256 would be")
        return "esp8266-v3", None, None, length, True
    return None


def _crc_trailer(view: memoryview, length: int, problems: list[str]
                 ) -> tuple[int | None, int | None, int]:
    """A v2 image's CRC32 trailer: stored, computed, and where the image ends."""
    rest = len(view) - length
    if rest >= fmt.CrcTrailer.SIZE:
        value = fmt.CrcTrailer.parse(view, length).crc32
        crc = esp8266_crc32(view[:length])
        if value == crc or rest == fmt.CrcTrailer.SIZE or value != 0xFFFFFFFF:
            return value, crc, length + fmt.CrcTrailer.SIZE
    elif rest:
        problems.append(f"truncated: {rest} bytes after the image where a 4-byte CRC32 "
                        "trailer would be")
        return None, None, len(view)
    return None, None, length


def _variant(v2: V2Header, h: fmt.ImageHeader, warnings: list[str]) -> tuple[str, int | None]:
    """Who wrote a v2 image (``esptool`` or ``gen_appbin``) and, for gen_appbin, user1/2."""
    inner = (h.flash_mode, h.flash_size << 4 | h.flash_freq)
    variant, user = "esptool", None
    if (v2.byte2, v2.byte3) == inner:
        pass
    elif v2.byte2 == 0 and v2.byte3 in (1, 2):
        variant, user = "gen_appbin", v2.byte3
    else:
        warnings.append(f"flash parameters in the first header ({v2.byte2:#04x} "
                        f"{v2.byte3:#04x}) disagree with the inner header "
                        f"({inner[0]:#04x} {inner[1]:#04x}); bootloaders and esptool "
                        "use the inner one")
    if v2.irom_addr != 0:
        warnings.append(f"irom load address field is {v2.irom_addr:#x}; esptool and "
                        "gen_appbin write 0")
    return variant, user


def _header_warnings(h: fmt.ImageHeader, segments: tuple[Segment, ...],
                     warnings: list[str]) -> None:
    """Oddities a bootloader tolerates: odd segment lengths, undefined flash codes."""
    for i, seg in enumerate(segments):
        if seg.data_len % 4:
            warnings.append(f"segment {i} length {seg.data_len:#x} is not a multiple of 4")
    if h.flash_size not in fmt.FLASH_SIZE_CODES:
        warnings.append(f"flash size code {h.flash_size:#x} is not defined")
    if h.flash_freq not in fmt.FLASH_FREQS:
        warnings.append(f"flash frequency code {h.flash_freq:#x} is not defined")
    if h.flash_mode not in fmt.FLASH_MODES:
        warnings.append(f"flash mode {h.flash_mode} is not defined")


def _regions(addr: int) -> tuple[str, ...]:
    if fmt.IROM_MAP_START <= addr < fmt.IROM_MAP_END:
        return ("IROM",)
    return chips.memory_regions("esp8266", addr)


__all__ = [
    "Esp8266Image", "FlashMap", "V2Header", "esp8266_crc32", "flash_map_for",
    "parse_esp8266_flash_size",
]
