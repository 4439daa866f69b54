"""ESP8266 images, flash maps, init data and system parameters: the typed model.

Parsing is lenient (what is on flash is kept, damage is reported by ``checks()``); building is
strict (XOR checksum, CRC32 trailer, SHA-256 and counts are recomputed). Segment data is never
copied while parsing: models keep a memoryview of the caller's buffer.
See shared/docs/formats/esp8266.md (and rboot.md, yaota8266.md for those layouts).
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from . import chips
from .checks import Check, Issue, compare, compare_digest
from .container import walk
from .errors import FormatError, TruncatedError
from .formats.compiled import esp8266 as fmt
from .formats.compiled import partition_table as table_fmt
from .hashing import xor_checksum
from .spans import Region, fill_gaps, is_erased
from .units import SECTOR, format_size, parse_size

if TYPE_CHECKING:
    from collections.abc import Iterable

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


_BOOT_VERSION = re.compile(rb"2nd boot version : (\d+\.\d+)")


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
            if size < fmt.V2Header.SIZE:
                raise TruncatedError(f"only {size} bytes; a v2 header needs "
                                     f"{fmt.V2Header.SIZE}", offset, "ESP8266 v2 image")
            v2 = V2Header.parse(view)
            if v2.segment_count != fmt.V2_SEGMENT_COUNT:
                problems.append(f"v2 header byte 1 is {v2.segment_count}; boot_v1.x and rBoot "
                                f"only boot a v2 image when it is {fmt.V2_SEGMENT_COUNT}")
            header_offset = fmt.V2Header.SIZE + v2.irom_len
            if header_offset + fmt.ImageHeader.SIZE > size:
                problems.append(f"truncated: irom part declares {v2.irom_len:#x} bytes; the "
                                f"inner image header at {header_offset:#x} is past the end of "
                                f"the data ({size:#x})")
                return cls._truncated_v2(view, v2, problems, flash_offset)
            if view[header_offset] != fmt.MAGIC_V1:
                problems.append(f"no inner 0xE9 image at {header_offset:#x} (found "
                                f"{view[header_offset]:#04x}); irom length {v2.irom_len:#x} "
                                "is wrong or the file is damaged")
                return cls._truncated_v2(view, v2, problems, flash_offset)
        elif size < fmt.ImageHeader.SIZE:
            raise TruncatedError(f"only {size} bytes; an ESP8266 image header needs "
                                 f"{fmt.ImageHeader.SIZE}", offset, "ESP8266 image")
        h = fmt.ImageHeader.parse(view, header_offset, "ESP8266 image header")
        walked = walk(view, header_offset + fmt.ImageHeader.SIZE, h.segment_count)
        problems.extend(walked.problems)
        segments, length, truncated = walked.segments, walked.length, walked.truncated

        # v3 (RTOS SDK): flash-mapped segments and an appended SHA-256 of the image.
        mapped = any(fmt.IROM_MAP_START <= s.load_addr < fmt.IROM_MAP_END for s in segments)
        image_format = "esp8266-v2" if v2 is not None else "esp8266-v1"
        stored_sha: bytes | None = None
        computed_sha: bytes | None = None
        if v2 is None and mapped and not truncated and size - length >= fmt.DIGEST_SIZE:
            digest = hashlib.sha256(view[:length]).digest()
            candidate = bytes(view[length:length + fmt.DIGEST_SIZE])
            if candidate == digest or size - length == fmt.DIGEST_SIZE:
                image_format = "esp8266-v3"
                stored_sha, computed_sha = candidate, digest
                length += fmt.DIGEST_SIZE
        elif v2 is None and mapped and not truncated and 0 < size - length < fmt.DIGEST_SIZE:
            image_format = "esp8266-v3"
            problems.append(f"truncated: {size - length} bytes after the checksum where a v3 "
                            "image's 32-byte SHA-256 would be")
            truncated = True

        stored_crc: int | None = None
        computed_crc: int | None = None
        end = length
        if v2 is not None and not truncated:
            rest = size - length
            if rest >= fmt.CrcTrailer.SIZE:
                value = fmt.CrcTrailer.parse(view, length).crc32
                crc = esp8266_crc32(view[:length])
                if value == crc or rest == fmt.CrcTrailer.SIZE or value != 0xFFFFFFFF:
                    stored_crc, computed_crc = value, crc
                    end = length + fmt.CrcTrailer.SIZE
            elif rest:
                problems.append(f"truncated: {rest} bytes after the image where a 4-byte CRC32 "
                                "trailer would be")
                end = size

        variant: str | None = None
        user: int | None = None
        if v2 is not None:
            inner = (h.flash_mode, h.flash_size << 4 | h.flash_freq)
            if (v2.byte2, v2.byte3) == inner:
                variant = "esptool"
            elif v2.byte2 == 0 and v2.byte3 in (1, 2):
                variant, user = "gen_appbin", v2.byte3
            else:
                variant = "esptool"
                warnings.append(f"flash parameters in the first header ({v2.byte2:#04x} "
                                f"{v2.byte3:#04x}) disagree with the inner header "
                                f"({inner[0]:#04x} {inner[1]:#04x}); bootloaders and esptool "
                                "use the inner one")
            if v2.irom_addr != 0:
                warnings.append(f"irom load address field is {v2.irom_addr:#x}; esptool and "
                                "gen_appbin write 0")
        for i, seg in enumerate(segments):
            if seg.data_len % 4:
                warnings.append(f"segment {i} length {seg.data_len:#x} is not a multiple of 4")
        if h.flash_size not in fmt.FLASH_SIZE_CODES:
            warnings.append(f"flash size code {h.flash_size:#x} is not defined")
        if h.flash_freq not in fmt.FLASH_FREQS:
            warnings.append(f"flash frequency code {h.flash_freq:#x} is not defined")
        if h.flash_mode not in fmt.FLASH_MODES:
            warnings.append(f"flash mode {h.flash_mode} is not defined")
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


def _regions(addr: int) -> tuple[str, ...]:
    if fmt.IROM_MAP_START <= addr < fmt.IROM_MAP_END:
        return ("IROM",)
    return chips.memory_regions("esp8266", addr)


def _bootloader_name(view: memoryview, length: int) -> tuple[str | None, str | None]:
    """Name a v1 image that is a known second-stage bootloader (strings and layout)."""
    body = bytes(view[:length])
    m = _BOOT_VERSION.search(body)
    if m:
        version = m.group(1).decode()
        full = body[m.start(1):m.start(1) + 24].split(b"\0", 1)[0].split(b"\n", 1)[0]
        return f"boot_v{version}", full.decode("ascii", "replace").strip() or version
    from .rboot import is_rboot, rboot_version

    if is_rboot(body):
        return "rboot", rboot_version(body)
    from .yaota8266 import Boot8266Params

    if Boot8266Params.from_image(body) is not None:
        return "boot8266", None
    if b"2nd stage bootloader" in body and b"ESP-IDF" in body:
        return "esp8266-rtos-sdk", None
    # Arduino eboot: elf2bin pads it with 0xAA to exactly 4096 bytes (esp8266.md §12).
    if length < 0x1000 <= len(view):
        pad = bytes(view[length:0x1000])
        if pad and pad == b"\xaa" * len(pad):
            return "eboot", None
    return None, None


# ====================================================================== init data
@dataclass(frozen=True)
class InitData:
    """``esp_init_data_default``: 128 bytes of RF/PHY parameters (esp8266.md §9).

    Attributes:
        raw: the 128 bytes.
        marker: byte 0 (0x05 in every SDK default).
        version: byte 1 (0x00 in v05, 0x08 in v08).
        vdd33_const: byte 107: 0xFF makes the ADC read VDD33; 18-36 give the supply voltage in
            0.1 V; any other value lets the ADC read the TOUT pin.
        rf_cal_mode: byte 114, the power-up RF calibration mode (inferred).
    """

    raw: bytes
    marker: int
    version: int
    vdd33_const: int
    rf_cal_mode: int

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, offset: int = 0) -> InitData:
        """Parse 128 bytes at ``data[offset:]``.

        Raises:
            FormatError: byte 0 is not 0x05 (not init data); TruncatedError: < 128 bytes.
        """
        c = fmt.InitData.parse(data, offset, "esp_init_data_default")
        if c.marker != fmt.INIT_DATA_MARKER:
            raise FormatError(f"byte 0 is {c.marker:#04x}, expected 0x05", offset,
                              "esp_init_data_default")
        raw = bytes(memoryview(data)[offset:offset + fmt.INIT_DATA_SIZE])
        return cls(raw, c.marker, c.version, c.vdd33_const, c.rf_cal_mode)

    @property
    def adc_mode(self) -> str:
        """What ``vdd33_const`` makes the ADC measure."""
        if self.vdd33_const == 0xFF:
            return "VDD33 (supply voltage)"
        if 18 <= self.vdd33_const <= 36:
            return f"TOUT pin; supply assumed {self.vdd33_const / 10:.1f} V"
        return "TOUT pin; supply assumed 3.3 V"

    def to_bytes(self) -> bytes:
        """Build the 128 bytes (byte 0/1/107/114 from the fields, the rest kept)."""
        kept = fmt.InitData.parse(self.raw, 0, "esp_init_data_default")
        return kept.replace(marker=self.marker, version=self.version,
                            vdd33_const=self.vdd33_const, rf_cal_mode=self.rf_cal_mode
                            ).build("esp_init_data_default")

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"marker": self.marker, "version": self.version,
                "vdd33_const": self.vdd33_const, "adc_mode": self.adc_mode,
                "rf_cal_mode": self.rf_cal_mode, "rf_cal_mode_inferred": True}


def looks_like_init_data(data: bytes | memoryview) -> bool:
    """128 bytes (or a 4 KiB sector starting with them, rest erased) beginning ``05 00..0F``."""
    view = memoryview(data)
    if len(view) == fmt.INIT_DATA_SIZE:
        pass
    elif len(view) == SECTOR:
        if not is_erased(view[fmt.INIT_DATA_SIZE:]):
            return False
    else:
        return False
    return view[0] == fmt.INIT_DATA_MARKER and view[1] <= 0x0F


# ====================================================================== system parameters
class BootHdr(fmt.BootHdr):
    """``struct boot_hdr``: the first 8 bytes of the live save sector (esp8266.md §7).

    The field layout is from Espressif's open ``port.c``; boot_v1.x itself is closed source.
    """

    __slots__ = ()
    NAME = "boot_hdr"

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, offset: int = 0) -> BootHdr:
        """Parse 8 bytes."""
        return cls.parse(data, offset)

    def to_bytes(self) -> bytes:
        """Build the 8 bytes."""
        return self.build()

    @property
    def running_user(self) -> int:
        """1 or 2: the user bin boot_v1.x runs, per port.c ``esp_get_updated_partition_table_addr``.

        usr_bin 1 + status 1 → user2; usr_bin 1 + status 0 → user1; other usr_bin + status 1 →
        user1; other usr_bin + status 0 → user1 if version == 4, else user2.
        """
        if self.usr_bin == 1:
            return 2 if self.boot_status == 1 else 1
        if self.boot_status == 1:
            return 1
        return 1 if self.version == 4 else 2

    @property
    def erased(self) -> bool:
        """Whether the record reads as erased flash."""
        return self.to_bytes() == b"\xff" * fmt.BootHdr.SIZE

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"usr_bin": self.usr_bin, "boot_status": self.boot_status,
                "to_qio": self.to_qio, "version": self.version,
                "test_pass_flag": self.test_pass_flag, "test_start_flag": self.test_start_flag,
                "enhance_boot_flag": self.enhance_boot_flag,
                "test_bin_addr": self.test_bin_addr, "user_bin_addr": self.user_bin_addr,
                "erased": self.erased}


@dataclass(frozen=True)
class SystemParams:
    """The three system-parameter sectors at the end of flash: save0, save1, flag (§7).

    Attributes:
        address: flash address of save0 (N - 0x3000), when known.
        flag: byte 0 of the flag sector: 0 selects save0, anything else (0xFF too) save1.
        live_copy: 0 or 1: the save sector that holds the current parameters.
        boot_hdr: the ``boot_hdr`` at the start of the live copy.
        flag_magic1 / flag_write_count / flag_magic2: words 1, 2 and 7 of the flag record as
            NONOS 3.x writes them (reverse-engineered; inferred).
        raw: the 0x3000 bytes.
    """

    address: int | None
    flag: int
    live_copy: int
    boot_hdr: BootHdr
    flag_magic1: int
    flag_write_count: int
    flag_magic2: int
    raw: bytes = field(repr=False)

    SIZE = fmt.SYS_PARAM_SECTORS * SECTOR

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, offset: int = 0,
                   address: int | None = None) -> SystemParams:
        """Parse the 0x3000 bytes at ``data[offset:]`` (save0, save1, flag).

        Raises:
            TruncatedError: fewer than 0x3000 bytes.
        """
        view = memoryview(data)[offset:offset + cls.SIZE]
        if len(view) < cls.SIZE:
            raise TruncatedError(f"needs {cls.SIZE:#x} bytes, only {len(view):#x} left",
                                 offset, "system parameters")
        c = fmt.SysParam.parse(view, 2 * SECTOR, "sys_param_t")
        live = 0 if c.flag == 0 else 1
        boot = BootHdr.from_bytes(view, live * SECTOR)
        return cls(address, c.flag, live, boot, c.reserved2[0], c.reserved2[1],
                   c.reserved2[6], bytes(view))

    @property
    def live_address(self) -> int | None:
        """Flash address of the live save sector."""
        return None if self.address is None else self.address + self.live_copy * SECTOR

    @property
    def next_user(self) -> int:
        """1 or 2: the user bin boot_v1.x boots next (inferred from port.c; see BootHdr)."""
        return self.boot_hdr.running_user

    @property
    def erased(self) -> bool:
        """Whether all three sectors are erased (a fresh chip or blank.bin everywhere)."""
        return is_erased(self.raw)

    def to_bytes(self) -> bytes:
        """Rebuild the three sectors (flag byte and live boot_hdr from the model)."""
        out = bytearray(self.raw)
        out[2 * SECTOR] = self.flag
        start = self.live_copy * SECTOR
        out[start:start + fmt.BootHdr.SIZE] = self.boot_hdr.to_bytes()
        return bytes(out)

    def to_dict(self) -> dict[str, object]:
        """JSON form; ``inferred`` marks semantics taken from Espressif's open port.c and
        reverse engineering rather than from the closed boot_v1.x."""
        return {
            "address": self.address,
            "flag": self.flag,
            "live_copy": f"save{self.live_copy}",
            "live_address": self.live_address,
            "erased": self.erased,
            "boot_hdr": self.boot_hdr.to_dict(),
            "next_user_bin": f"user{self.next_user}",
            "flag_record": {"magic1": self.flag_magic1, "write_count": self.flag_write_count,
                            "magic2": self.flag_magic2,
                            "valid_magics": self.flag_magic1 == fmt.FLAG_MAGIC1},
            "inferred": True,
            "inferred_note": "boot_v1.x is closed source: the boot_hdr layout and slot rule are "
                             "from ESP8266_RTOS_SDK port.c; the flag-record words after byte 0 "
                             "are reverse-engineered",
        }


# ====================================================================== findings
class _Buildable(Protocol):
    def to_bytes(self) -> bytes: ...


@dataclass(frozen=True)
class Esp8266Region(Region):
    """A contiguous part of an ESP8266 file: a :class:`~esp_image.spans.Region` with its model.

    Attributes:
        kind: ``image``, ``irom``, ``erased``, ``data``, ``init-data``, ``system-params``,
            ``rboot-config``, ``partition-table`` or ``gap``.
        name: ``boot``, ``user1``, ``irom0``, ``rf_cal``...
        model: the parsed object that rebuilds this region (``to_bytes()``), if any.
    """

    model: _Buildable | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Esp8266Finding:
    """What an ESP8266 file is, with every part parsed and checked.

    Attributes:
        kind: ``image``, ``flash``, ``esp8266-init-data``, ``rboot-config`` or ``unknown``.
        shape: a finer name: ``image``, ``nonos-flash``, ``rboot-flash``, ``micropython``,
            ``noboot``, ``nodemcu``, ``arduino``, ``yaota8266-bundle``, ``yaota8266-initial``,
            ``yaota8266-main-app``, ``rtos-sdk-flash``, ``init-data``, ``rboot-config``,
            ``irom``, ``unknown``.
        base: flash address of file byte 0.
        firmware: the single image (``kind == "image"``).
        regions: the file's parts in file order (file offsets).
        checks: every integrity check, in file order, details prefixed with the component.
        issues / notes: findings that are not stored-vs-computed checks, and plain facts.
        flash_map: what the image header at 0 (or the single image) declares.
        reason: why the data is ``unknown``.
        details: extra JSON (``system_params``, ``rboot_config``, ``yaota8266``, ``init_data``,
            ``micropython``, ``boot8266``, ``main_app``...).
    """

    kind: str
    shape: str
    base: int = 0
    firmware: Esp8266Image | None = None
    regions: tuple[Esp8266Region, ...] = ()
    checks: tuple[Check, ...] = ()
    issues: tuple[Issue, ...] = ()
    notes: tuple[str, ...] = ()
    flash_map: FlashMap | None = None
    reason: str | None = None
    details: dict[str, object] = field(default_factory=dict)
    data: memoryview = field(repr=False, compare=False, default=memoryview(b""))

    @property
    def chip(self) -> chips.Chip:
        """The ESP8266."""
        return CHIP

    @property
    def valid(self) -> bool:
        """Every check passed (error issues appear as a failed ``layout`` check) and the data
        was recognised."""
        if self.kind == "unknown":
            return False
        return all(c.valid for c in self.checks)

    def to_bytes(self) -> bytes:
        """Rebuild the whole file from the parsed models; unmodelled bytes are kept raw.

        A model that cannot be rebuilt (truncated image) leaves its bytes as they are.
        """
        out = bytearray(self.data)
        if self.kind == "image" and self.firmware is not None:
            _put(out, 0, self.firmware)
        for region in self.regions:
            if region.model is not None:
                _put(out, region.offset, region.model)
        return bytes(out)

    def to_dict(self) -> dict[str, object]:
        """The contract document for this file (without ``path`` and ``size``)."""
        out: dict[str, object] = {
            "kind": self.kind, "chip": "esp8266", "valid": self.valid,
            "checks": [c.to_dict() for c in self.checks],
            "esp8266": {"shape": self.shape,
                        "flash_map": self.flash_map.to_dict() if self.flash_map else None,
                        **self.details},
        }
        if self.firmware is not None:
            out["image"] = self.firmware.to_dict()
        if self.kind == "flash" or self.regions:
            out["flash"] = {"base": self.base, "regions": [r.to_dict() for r in self.regions]}
        if self.issues:
            out["issues"] = [i.to_dict() for i in self.issues]
        if self.notes:
            out["notes"] = list(self.notes)
        if self.reason:
            out["reason"] = self.reason
        return out


def _put(out: bytearray, offset: int, model: _Buildable) -> None:
    try:
        built = model.to_bytes()
    except FormatError:
        return
    if offset + len(built) > len(out):
        raise FormatError(f"rebuilt part ({len(built):#x} bytes) does not fit the file",
                          offset, type(model).__name__)
    out[offset:offset + len(built)] = built


def _prefixed(checks: Iterable[Check], label: str, rename: dict[str, str] | None = None
              ) -> list[Check]:
    return [Check((rename or {}).get(c.name, c.name), c.valid, c.offset,
                  c.detail if c.detail.startswith(f"{label}:") else f"{label}: {c.detail}")
            for c in checks]


class _Builder:
    """Collects regions, checks, issues and notes for one flash file."""

    def __init__(self, view: memoryview, base: int = 0) -> None:
        self.view = view
        self.base = base
        self.regions: list[Esp8266Region] = []
        self.checks: list[Check] = []
        self.issues: list[Issue] = []
        self.notes: list[str] = []
        self.details: dict[str, object] = {}

    def region(self, offset: int, size: int, kind: str, name: str, detail: str = "", *,
               model: _Buildable | None = None) -> None:
        size = max(0, min(size, len(self.view) - offset))
        if size:
            self.regions.append(Esp8266Region(offset, size, offset + self.base, kind, name,
                                              detail, model))

    def image(self, img: Esp8266Image, offset: int, name: str,
              model: _Buildable | None = None) -> None:
        self.checks.extend(_prefixed(img.checks(offset), name))
        self.region(offset, img.end, "image", name, _image_summary(img), model=model or img)
        for warning in img.warnings:
            self.issues.append(Issue("warning", "image", f"{name}: {warning}"))

    def layout(self, what: str) -> None:
        """Add the ``layout`` check: fails when an error issue was found."""
        errors = [i.message for i in self.issues if i.is_error]
        self.checks.append(Check("layout", not errors, 0, "; ".join(errors) if errors else what))

    def finish(self, kind: str, shape: str, flash_map: FlashMap | None) -> Esp8266Finding:
        regions = fill_gaps(self.regions, self.view, self.base, Esp8266Region)
        checks = sorted(self.checks, key=lambda c: c.offset)
        return Esp8266Finding(kind, shape, self.base, None, tuple(regions), tuple(checks),
                              tuple(self.issues), tuple(self.notes), flash_map, None,
                              self.details, self.view)


def _image_summary(img: Esp8266Image) -> str:
    what = img.bootloader_name or img.role
    extra = ""
    if img.variant == "gen_appbin":
        extra = f", gen_appbin user{img.user}.bin"
    elif img.variant == "esptool":
        extra = ", esptool v2"
    if img.crc32_status == "absent":
        extra += ", no CRC32 trailer"
    return f"{img.format} {what} image, {img.end:#x} bytes{extra}"


# ---------------------------------------------------------------------- identification
def identify_esp8266(view: memoryview) -> Esp8266Finding | None:
    """Identify ESP8266 data (esp8266.md §11.3) or return None when it is not ESP8266 at all.

    Probe order: ``E9`` with a plausible ESP8266 header (single image, then what follows it:
    RTOS SDK partition table, yaota8266, Arduino eboot, rBoot, NONOS boot_v1.x dump,
    MicroPython size word and MD5, raw irom at 0x10000/0x40000); ``EA 04`` (v2 image); no magic:
    rBoot config sector, esp_init_data_default, raw irom code (``unknown`` with a reason).
    Erased data is left to the caller (returns None).
    """
    view = memoryview(view).cast("B") if view.format != "B" else view
    if not len(view):
        return None
    first = view[0]
    if first == fmt.MAGIC_V1:
        return _from_e9(view)
    if first == fmt.MAGIC_V2:
        if len(view) < fmt.V2Header.SIZE or view[1] != fmt.V2_SEGMENT_COUNT:
            return None
        return _single(view, Esp8266Image.from_bytes(view))
    return _no_magic(view)


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


def _single(view: memoryview, image: Esp8266Image, notes: list[str] | None = None
            ) -> Esp8266Finding:
    notes = list(notes or [])
    issues = [Issue("warning", "image", w) for w in image.warnings]
    if image.trailing:
        tail = view[image.end:]
        if is_erased(tail):
            notes.append(f"{image.trailing:#x} bytes of erased flash (0xFF) follow the image")
        else:
            notes.append(f"{image.trailing:#x} bytes of non-erased data follow the image")
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
        esp32 = chips.ESP32_FLASH_SIZES.get(image.flash_size_code)
        notes.append(f"RTOS SDK v3 app: size code {image.flash_size_code:#x} is "
                     f"{image.flash_size_name} in the ESP8266 table but "
                     f"{format_size(esp32) if esp32 else '?'} in the ESP32 table the SDK's "
                     "esptool uses; take the flash size from the bootloader at 0x0")
    return Esp8266Finding("image", "image", 0, image, (), tuple(image.checks(0)), tuple(issues),
                          tuple(notes), image.flash_map, None, {}, view)


def _from_e9(view: memoryview) -> Esp8266Finding | None:
    if not _plausible_v1(view):
        return None
    image = Esp8266Image.from_bytes(view)
    size = len(view)
    if image.format == "esp8266-v3" or image.truncated or not image.trailing:
        return _single(view, image)
    end = image.end
    table_at = table_fmt.DEFAULT_TABLE_OFFSET
    if (image.role == "bootloader" and size >= table_at + table_fmt.RECORD_SIZE
            and bytes(view[table_at:table_at + 2]) == table_fmt.MAGIC):
        return _rtos_flash(view, image)
    name = image.bootloader_name
    if name == "boot8266" and _plausible_v1(view, 0x1000):
        return _yaota_bundle(view, image)
    if name == "eboot" and _plausible_v1(view, 0x1000):
        return _arduino(view, image)
    if name == "rboot" and size > 0x1000:
        return _rboot_flash(view, image)
    if name and name.startswith("boot_v") and size > 0x1000:
        return _nonos_flash(view, image)
    if image.role == "app":
        found = _micropython(view, image)
        if found is not None:
            return found
        for irom_at in (0x10000, 0x40000):
            if (size > irom_at + 16 and end <= irom_at and is_erased(view[end:irom_at])
                    and _looks_like_irom(view[irom_at:])):
                return _noboot(view, image, irom_at)
    tail = view[end:]
    if is_erased(tail) or len(tail) <= SECTOR:
        return _single(view, image)
    reason = (f"an ESP8266 {image.format} {image.role} image ({end:#x} bytes) followed by "
              f"{len(tail):#x} bytes of unrecognised data (no irom at 0x9000/0x10000/0x40000, "
              "no second image)")
    b = _Builder(view)
    b.image(image, 0, "image")
    found_unknown = b.finish("unknown", "unknown", image.flash_map)
    return Esp8266Finding("unknown", "unknown", 0, None, found_unknown.regions,
                          (Check("structure", False, 0, reason), *found_unknown.checks),
                          found_unknown.issues, (), image.flash_map, reason, {}, view)


# ---------------------------------------------------------------------- NONOS dumps
def _slot_image(b: _Builder, addr: int, bound: int, name: str) -> Esp8266Image | None:
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


def _system_areas(b: _Builder, fmap: FlashMap) -> SystemParams | None:
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


def _nonos_flash(view: memoryview, boot: Esp8266Image) -> Esp8266Finding:
    b = _Builder(view)
    size = len(view)
    b.image(boot, 0, "boot")
    fmap = boot.flash_map
    if fmap is None or fmap.slot_size is None:
        b.notes.append(f"boot.bin byte 3 declares size code {boot.flash_size_code:#x}, which "
                       "has no OTA map; only user1 at 0x1000 was examined")
        _slot_image(b, 0x1000, size, "user1")
        return b.finish("flash", "nonos-flash", fmap)
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
            same_link = fmap.slot_size >= 0x100000
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
    return b.finish("flash", "nonos-flash", fmap)


def _rtos_flash(view: memoryview, boot: Esp8266Image) -> Esp8266Finding:
    from .partition_table import PartitionTable

    b = _Builder(view)
    b.image(boot, 0, "bootloader")
    size = len(view)
    at, area = table_fmt.DEFAULT_TABLE_OFFSET, table_fmt.TABLE_SECTOR
    try:
        table = PartitionTable.from_bytes(view[at:at + area])
    except FormatError as exc:
        b.checks.append(Check("structure", False, at, f"partition table: {exc.reason}"))
        return b.finish("flash", "rtos-sdk-flash", boot.flash_map)
    b.region(at, area, "partition-table", "partition-table",
             f"{len(table.partitions)} partitions (ESP8266 RTOS SDK)",
             model=_TableModel(table))
    b.checks.append(Check("structure", True, at,
                          f"partition table: {len(table.partitions)} partitions"))
    b.checks.extend(_prefixed(table.checks(at), "partition table"))
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
    return b.finish("flash", "rtos-sdk-flash", boot.flash_map)


@dataclass(frozen=True)
class _TableModel:
    table: Any

    def to_bytes(self) -> bytes:
        return bytes(self.table.to_bytes(size=0x1000))


# ---------------------------------------------------------------------- rBoot
def _rboot_flash(view: memoryview, boot: Esp8266Image) -> Esp8266Finding:
    from .rboot import RbootConfig, flash_size_from_header, looks_like_rboot_config

    b = _Builder(view)
    size = len(view)
    b.image(boot, 0, "rboot")
    sector = view[0x1000:0x2000]
    rom_flash = flash_size_from_header(boot.flash_size_freq)
    cfg: RbootConfig | None = None
    if looks_like_rboot_config(sector):
        cfg = RbootConfig.from_bytes(sector)
        b.region(0x1000, SECTOR, "rboot-config", "rboot-config", "rBoot config sector", model=cfg)
        b.checks.extend(_prefixed(cfg.checks(0x1000), "rboot config"))
        b.details["rboot_config"] = cfg.to_dict()
        roms = list(cfg.slots)
    else:
        kind = "erased" if is_erased(sector) else "data"
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
    return b.finish("flash", "rboot-flash", boot.flash_map)


# ---------------------------------------------------------------------- Arduino
def _arduino(view: memoryview, eboot: Esp8266Image) -> Esp8266Finding:
    b = _Builder(view)
    b.image(eboot, 0, "eboot")
    if eboot.end < 0x1000:
        b.region(eboot.end, 0x1000 - eboot.end, "data", "padding", "0xAA padding (elf2bin)")
    _slot_image(b, 0x1000, len(view), "app")
    b.layout("eboot fits below 0x1000")
    b.notes.append("Arduino-ESP8266 layout: eboot does not verify the app's XOR checksum; "
                   "elf2bin writes the file length and a CRC at 0x1010/0x1014 after computing "
                   "it, so a checksum mismatch in the app can be normal (inferred)")
    return b.finish("flash", "arduino", eboot.flash_map)


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


def _micropython(view: memoryview, image: Esp8266Image) -> Esp8266Finding | None:
    size = len(view)
    end = image.end
    if size < MP_IROM + 16 or end > MP_SIZE_WORD or not is_erased(view[end:MP_SIZE_WORD]):
        return None
    total = _u32(view, MP_SIZE_WORD)
    if not MP_IROM < total <= size - 16:
        return None
    irom = view[MP_IROM:total]
    ota = _link_base(irom, (0x40209000, 0x40245000)) == 0x40245000
    if ota:
        return _yaota_main_app(view, image)
    fw = MicroPythonFirmware.from_bytes(view, image)
    b = _Builder(view)
    b.image(image, 0, "firmware", model=fw)
    b.region(end, MP_SIZE_WORD - end, "erased", "padding")
    b.region(MP_SIZE_WORD, 4, "data", "size-word", f"{total:#x}")
    b.region(MP_IROM, total - MP_IROM, "irom", "irom0", "raw irom0 (linked at 0x40209000)")
    b.region(total, 16, "data", "md5", "MD5 of [4:total]")
    b.checks.extend(_prefixed(fw.checks(0), "micropython"))
    b.details["micropython"] = fw.to_dict()
    b.notes.append("MicroPython esp8266 firmware: flash the whole file at 0x0; nothing at boot "
                   "checks the MD5 (esp.check_fw() does at run time)")
    return b.finish("flash", "micropython", image.flash_map)


# ---------------------------------------------------------------------- yaota8266
YAOTA_MAIN_APP_OFFSET = 0x3C000


def _yaota_bundle(view: memoryview, boot: Esp8266Image) -> Esp8266Finding:
    from .yaota8266 import Boot8266Params, check_bundle, check_initial_image

    size = len(view)
    try:
        initial = check_initial_image(view)
        bundle = initial[0] if initial is not None else check_bundle(view)
    except FormatError:
        initial, bundle = None, None
    main_at = bundle.main_app_offset if bundle is not None else YAOTA_MAIN_APP_OFFSET
    b = _Builder(view)
    # The bundle check covers boot8266, the ota-server image, the §1.1 rules and the main app.
    b.region(0, boot.end, "image", "boot8266", _image_summary(boot), model=boot)
    params = Boot8266Params.from_image(view)
    if params is not None:
        b.details["boot8266"] = params.to_dict()
    if boot.end < 0x1000:
        b.region(boot.end, 0x1000 - boot.end, "erased", "padding")
    server = Esp8266Image.from_bytes(view[:min(0x9000, size)], 0x1000, flash_offset=0x1000)
    b.region(0x1000, server.end, "image", "ota-server", _image_summary(server), model=server)
    stop = min(main_at, size)
    if stop > 0x9000:
        used = len(bytes(view[0x9000:stop]).rstrip(b"\xff"))
        b.region(0x9000, used, "irom", "ota-server irom0", "raw irom0 (linked at 0x40209000)")
    if bundle is not None:
        b.checks.extend(_prefixed(bundle.checks(0), "yaota8266"))
        b.issues.extend(bundle.issues)
        b.details["yaota8266"] = bundle.to_dict()
    else:
        b.checks.extend(_prefixed(boot.checks(0), "boot8266"))
        b.checks.extend(_prefixed(server.checks(0x1000), "ota-server"))
    shape = "yaota8266-bundle"
    if initial is not None:
        shape = "yaota8266-initial"
        _main_app_regions(b, main_at, initial[1])
    elif size > main_at:
        b.notes.append(f"no main app at {main_at:#x}: boot8266 would stay in OTA mode")
    else:
        b.notes.append(f"yaota8266.bin: flash it at 0x0 and the MicroPython firmware-ota.bin "
                       f"at {main_at:#x}")
    return b.finish("flash", shape, boot.flash_map)


def _main_app_regions(b: _Builder, at: int, app: Any) -> None:
    """Regions (and details) of a MicroPython OTA main app at file offset ``at``."""
    view = b.view
    inner = Esp8266Image.from_bytes(view[:min(len(view), at + MP_SIZE_WORD)], at,
                                    flash_offset=at + b.base)
    # MainApp.to_bytes rewrites the size word to the irom it found; when the stored word
    # disagrees (a cut-off initial image) the bytes are kept as they are instead.
    b.region(at, inner.end, "image", "main app", _image_summary(inner) + ", MicroPython OTA",
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


def _yaota_main_app(view: memoryview, image: Esp8266Image) -> Esp8266Finding:
    from .yaota8266 import MainApp

    app = MainApp.from_bytes(view)
    b = _Builder(view, base=YAOTA_MAIN_APP_OFFSET)
    b.checks.extend(_prefixed(app.checks(0), "main app"))
    _main_app_regions(b, 0, app)
    b.notes.append("MicroPython firmware-ota.bin for yaota8266: its irom is linked for flash "
                   f"{YAOTA_MAIN_APP_OFFSET + MP_IROM:#x} (inferred from its code pointers); "
                   f"flash it at {YAOTA_MAIN_APP_OFFSET:#x} behind yaota8266.bin; boot8266 "
                   f"verdict: {app.verdict}")
    return b.finish("flash", "yaota8266-main-app", image.flash_map)


# ---------------------------------------------------------------------- noboot / NodeMCU
def _noboot(view: memoryview, image: Esp8266Image, irom_at: int) -> Esp8266Finding:
    b = _Builder(view)
    b.image(image, 0, "eagle.flash")
    b.region(image.end, irom_at - image.end, "erased", "padding")
    link = fmt.IROM_MAP_START + irom_at
    b.region(irom_at, len(view) - irom_at, "irom", "irom0",
             f"raw irom0 (linked at {link:#x}, inferred from its position)")
    nodemcu = bytes(view[irom_at:]).find(b"NodeMCU") >= 0
    shape = "nodemcu" if nodemcu else "noboot"
    b.notes.append(("NodeMCU build: " if nodemcu else "")
                   + f"v1 image at 0x0 plus raw irom0 at {irom_at:#x} (the noboot layout, "
                   "no CRC, no MD5); flash the whole file at 0x0")
    return b.finish("flash", shape, image.flash_map)


# ---------------------------------------------------------------------- no magic
def _no_magic(view: memoryview) -> Esp8266Finding | None:
    size = len(view)
    if view[0] == 0xE1 and size <= SECTOR:
        from .rboot import RbootConfig, looks_like_rboot_config

        if looks_like_rboot_config(view):
            cfg = RbootConfig.from_bytes(view)
            b = _Builder(view)
            b.region(0, size, "rboot-config", "rboot-config", "rBoot config sector", model=cfg)
            b.checks.append(Check("structure", True, 0, "rBoot config sector"))
            b.checks.extend(cfg.checks(0))
            b.details["rboot_config"] = cfg.to_dict()
            return b.finish("rboot-config", "rboot-config", None)
    if looks_like_init_data(view):
        data = InitData.from_bytes(view)
        b = _Builder(view)
        b.region(0, size, "init-data", "init_data", f"version {data.version}", model=data)
        b.checks.append(Check("structure", True, 0,
                              f"esp_init_data_default, version {data.version}"))
        b.details["init_data"] = data.to_dict()
        if data.version not in (0, 8):
            b.notes.append(f"version byte {data.version:#04x} is not one of the SDK defaults "
                           "(0x00, 0x08)")
        b.notes.append("flash it at N - 0x4000 (0x3FC000 for 4 MB, 0xFC000 for 1 MB)")
        return b.finish("esp8266-init-data", "init-data", None)
    if size >= 1024 and _looks_like_irom(view):
        link = _link_base(view, (0x40209000, 0x40210000, 0x40240000))
        where = {0x40209000: "0x9000 (MicroPython / yaota8266 -0x09000.bin)",
                 0x40210000: "0x10000 (NONOS SDK >= 2.0)",
                 0x40240000: "0x40000 (SDK <= 1.x)"}.get(link or 0)
        reason = ("raw ESP8266 irom0 code (no image header): the …-0x10000.bin/…-0x40000.bin "
                  "half of an 'esptool elf2image --version=1' pair; it belongs at 0x10000 or "
                  "0x40000 next to a 0x00000.bin"
                  + (f"; its code pointers suggest it was linked for flash {where} (inferred)"
                     if where else ""))
        return Esp8266Finding("unknown", "irom", 0, None, (),
                              (Check("structure", False, 0, reason),), (), (), None, reason,
                              {"irom_link_address": link}, view)
    return None


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


__all__ = [
    "BootHdr", "Esp8266Finding", "Esp8266Image", "Esp8266Region", "FlashMap", "InitData",
    "MicroPythonFirmware", "SystemParams", "V2Header", "esp8266_crc32", "flash_map_for",
    "identify_esp8266", "looks_like_init_data", "parse_esp8266_flash_size",
]
