"""ESP32-family app and bootloader images: the typed model.

Parsing is lenient (what is on flash is kept, damage is reported by :meth:`AppImage.checks`);
building is strict (checksum and SHA-256 are recomputed). Segment data is never copied while
parsing: the model keeps a memoryview of the caller's buffer.
See shared/docs/formats/esp32-image.md.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field

from . import chips
from .checks import Check, compare, compare_digest
from .container import Segment, walk
from .errors import FormatError, TruncatedError
from .formats.compiled import app_desc as desc_fmt
from .formats.compiled import esp32_image as fmt
from .idf_versions import APP_DESC_SEGMENT, VersionRule
from .units import align_up, format_size

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:

    from .app_extras import Signature, SignatureBlock

_EXTRAS = frozenset({"Signature", "SignatureBlock"})


def __getattr__(name: str) -> object:
    # Signatures are rare (Secure Boot) and live in app_extras, loaded on first use: two
    # dataclasses fewer to generate on every start-up. Importing them from here keeps working.
    if name in _EXTRAS:
        from . import app_extras

        return getattr(app_extras, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

MMU_PAGE_DEFAULT = 0x10000


def _text(raw: bytes) -> str:
    """Decode a NUL-padded C string leniently."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


class ImageHeader(fmt.ImageHeader):
    """``esp_image_header_t``: the 24-byte header of an ESP32-family image (the generated
    record, plus what its codes mean)."""

    __slots__ = ()
    NAME = "ESP32 image header"

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, offset: int = 0) -> ImageHeader:
        """Parse the header at ``data[offset:]``."""
        return cls.parse(data, offset)

    def to_bytes(self) -> bytes:
        """Build the 24 header bytes."""
        return self.build()

    @property
    def flash_size(self) -> int | None:
        """Flash size in bytes from the size nibble, or None for an invalid code (>= 8)."""
        return chips.ESP32_FLASH_SIZES.get(self.spi_size)

    @property
    def flash_mode(self) -> str:
        """SPI flash mode name (``dio``...), or the number when unknown."""
        return fmt.SPI_MODES.get(self.spi_mode, f"{self.spi_mode:#x}?")


@dataclass(frozen=True)
class AppDescriptor:
    """``esp_app_desc_t``: what an app says about itself."""

    secure_version: int
    version: str
    project_name: str
    time: str
    date: str
    idf_ver: str
    app_elf_sha256: bytes
    min_efuse_blk_rev_full: int
    max_efuse_blk_rev_full: int
    mmu_page_size: int
    spi_flash_mode: int

    def to_dict(self) -> dict[str, object]:
        """JSON form (the contract's ``image.app``)."""
        return {
            "project": self.project_name, "version": self.version, "idf": self.idf_ver,
            "date": self.date, "time": self.time, "secure_version": self.secure_version,
            "elf_sha256": self.app_elf_sha256.hex(),
            "min_efuse_blk_rev_full": self.min_efuse_blk_rev_full,
            "max_efuse_blk_rev_full": self.max_efuse_blk_rev_full,
            "mmu_page_size": (1 << self.mmu_page_size) if self.mmu_page_size else None,
        }


@dataclass(frozen=True)
class BootloaderDescriptor:
    """``esp_bootloader_desc_t``: what a bootloader (ESP-IDF >= 5.2) says about itself."""

    secure_version: int
    version: int
    idf_ver: str
    date_time: str

    def to_dict(self) -> dict[str, object]:
        """JSON form (``image.bootloader``)."""
        return {"version": self.version, "idf": self.idf_ver, "date_time": self.date_time,
                "secure_version": self.secure_version}


@dataclass(frozen=True)
class AppImage:
    """An ESP32-family app or bootloader image, parsed from a buffer.

    Attributes:
        header: the 24-byte header.
        chip: the chip from ``chip_id`` (None when the id is unknown).
        segments: segment headers in image order.
        length: image length including the checksum byte and the SHA-256 (if any); for a
            truncated image, the bytes available.
        stored_checksum / computed_checksum: the XOR checksum byte and its recomputation.
        stored_digest / computed_digest: the appended SHA-256 (None without ``hash_appended``).
        signature: a Secure Boot v1 block or v2 sector that follows the image, if any.
        app_desc / bootloader_desc: the embedded descriptor, if any.
        role: ``app``, ``bootloader`` or ``unknown``.
        problems: structural problems (truncation, broken verifier rules); empty when sound.
        trailing: bytes after the image (and signature) in the buffer it was parsed from.
        version_rules: rules only some bootloaders enforce that the image breaks, as
            (rule, message) (see :mod:`esp_image.idf_versions`); not in ``problems``.
        role_from_memory_map: the role was inferred from where the segments load (no
            descriptor, no position in a flash file said it).
        stale_digest: for a bootloader whose SHA-256 is that of the same image with other
            flash parameters (header bytes 2-3, which esptool rewrites at flash time after the
            digest was made), those two bytes; else None. Without secure boot the ROM only warns
            about such a digest and boots the bootloader (esp32-image.md §8).
    """

    header: ImageHeader
    chip: chips.Chip | None
    segments: tuple[Segment, ...]
    length: int
    padding: bytes
    stored_checksum: int | None
    computed_checksum: int
    stored_digest: bytes | None
    computed_digest: bytes | None
    signature: Signature | None
    app_desc: AppDescriptor | None
    bootloader_desc: BootloaderDescriptor | None
    role: str
    problems: tuple[str, ...]
    trailing: int
    flash_offset: int | None = None
    data: memoryview = field(repr=False, compare=False, default=memoryview(b""))
    version_rules: tuple[tuple[VersionRule, str], ...] = ()
    role_from_memory_map: bool = False
    stale_digest: tuple[int, int] | None = None

    # ------------------------------------------------------------------ parsing
    @classmethod
    def from_bytes(cls, data: bytes | memoryview, offset: int = 0, *,
                   flash_offset: int | None = None, role_hint: str | None = None) -> AppImage:
        """Parse the image starting at ``data[offset:]``.

        Args:
            data: the buffer (not copied; the model keeps a view of it).
            offset: where the image's 0xE9 magic is.
            flash_offset: the flash address of the image, if known (used for the MMU page
                alignment rule and the bootloader role).
            role_hint: ``"bootloader"`` when the caller found it at the bootloader offset.

        Raises:
            FormatError: no 0xE9 magic, or fewer than 24 header bytes.
        """
        view = memoryview(data)[offset:]
        if len(view) < fmt.ImageHeader.SIZE:
            if len(view) and view[0] == fmt.MAGIC:
                raise TruncatedError(
                    f"only {len(view)} bytes; an ESP32 image header needs {fmt.ImageHeader.SIZE}",
                    offset, "ESP32 image")
            raise FormatError("no 0xE9 image magic", offset, "ESP32 image")
        header = ImageHeader.from_bytes(view)
        chip = chips.chip_by_id(header.chip_id) if chips.is_known_chip_id(header.chip_id) else None
        problems: list[str] = []
        if chip is None:
            problems.append(f"unknown chip id {header.chip_id:#x}")
        if header.hash_appended not in (0, 1):
            problems.append(f"hash_appended is {header.hash_appended}, expected 0 or 1")

        size = len(view)
        walked = walk(view, fmt.ImageHeader.SIZE, header.segment_count)
        problems.extend(walked.problems)
        segments, length, truncated = walked.segments, walked.length, walked.truncated
        stored_digest: bytes | None = None
        computed_digest: bytes | None = None
        if not truncated and header.hash_appended == 1:
            if length + fmt.DIGEST_SIZE > size:
                problems.append(f"truncated: SHA-256 at {length:#x} is past the end of "
                                f"the data ({size:#x})")
                truncated = True
            else:
                computed_digest = hashlib.sha256(view[:length]).digest()
                stored_digest = bytes(view[length:length + fmt.DIGEST_SIZE])
                length += fmt.DIGEST_SIZE
        if truncated:
            length = size

        app_desc, boot_desc = _descriptors(view, segments)
        signature = None if truncated else _find_signature(view, length)
        end = signature.offset + signature.size if signature else length
        role = _role(app_desc, boot_desc, segments, chip, role_hint)
        from_map = False
        version_rules: tuple[tuple[VersionRule, str], ...] = ()
        if role == "unknown" and rom_loadable(chip, segments, header.entry_addr):
            role, from_map = "bootloader", True
        if chip is not None:
            problems.extend(_segment_rules(segments, chip, role, app_desc, flash_offset))
            version_rules = _version_rules(segments, role)
        stale = None
        if role == "bootloader" and signature is None and stored_digest != computed_digest \
                and stored_digest is not None \
                and walked.stored_checksum == walked.computed_checksum:
            stale = _stale_digest(view[:length - fmt.DIGEST_SIZE], stored_digest)
        return cls(header, chip, segments, length, walked.padding, walked.stored_checksum,
                   walked.computed_checksum, stored_digest, computed_digest, signature, app_desc,
                   boot_desc, role, tuple(problems), size - end, flash_offset, view[:end],
                   version_rules, from_map, stale)

    # ------------------------------------------------------------------ derived facts
    @property
    def truncated(self) -> bool:
        """Whether the data ends before the image does."""
        return self.stored_checksum is None or (
            self.header.hash_appended == 1 and self.stored_digest is None)

    @property
    def end(self) -> int:
        """Image offset just past the image and its signature."""
        return self.signature.offset + self.signature.size if self.signature else self.length

    @property
    def is_signed(self) -> bool:
        """Whether a Secure Boot signature follows the image (header edits would break it)."""
        return self.signature is not None

    @property
    def checksum_valid(self) -> bool:
        """Whether the stored XOR checksum matches."""
        return self.stored_checksum == self.computed_checksum

    @property
    def digest_valid(self) -> bool | None:
        """Whether the appended SHA-256 matches (None when there is none)."""
        if self.stored_digest is None:
            return None
        return self.stored_digest == self.computed_digest

    @property
    def flash_size(self) -> int | None:
        """Flash size from the header, in bytes."""
        return self.header.flash_size

    @property
    def flash_freq(self) -> str:
        """Flash clock from the header, per chip (``40m``; ``40m/80m`` for code 0 on C6)."""
        if self.chip is None:
            return f"{self.header.spi_speed:#x}?"
        return self.chip.freq_name(self.header.spi_speed)

    @property
    def flash_size_name(self) -> str:
        """Flash size as text (``4MB``), or a description of an invalid code."""
        size = self.header.flash_size
        return format_size(size) if size else f"invalid code {self.header.spi_size:#x}"

    def checks(self, base: int = 0) -> list[Check]:
        """Every integrity check that applies, with offsets shifted by ``base``.

        Names: ``structure`` (parsed completely, verifier rules), ``checksum``, ``sha256`` and,
        for Secure Boot v2, ``signature-crc`` and ``signature-digest`` per block.
        """
        out: list[Check] = []
        if self.problems:
            out.append(Check("structure", False, base, "; ".join(self.problems)))
        else:
            out.append(Check("structure", True, base,
                             f"{len(self.segments)} segments, image length {self.length:#x}"))
        if self.stored_checksum is not None:
            out.append(compare("checksum", base + self.length - 1
                               - (fmt.DIGEST_SIZE if self.stored_digest is not None else 0),
                               self.stored_checksum, self.computed_checksum))
        if self.stale_digest is not None:
            mode, size_freq = self.stale_digest
            out.append(Check("sha256", True, base + self.length - fmt.DIGEST_SIZE,
                             f"the stored SHA-256 is this bootloader's with flash bytes 2-3 "
                             f"{mode:#04x} {size_freq:#04x} (esptool rewrote them after the "
                             "digest was made); without secure boot the ROM warns 'SHA-256 "
                             "comparison failed ... Attempting to boot anyway' and boots it"))
        elif self.stored_digest is not None and self.computed_digest is not None:
            out.append(compare_digest("sha256", base + self.length - fmt.DIGEST_SIZE,
                                      self.stored_digest, self.computed_digest))
        if self.signature is not None:
            for i, block in enumerate(self.signature.blocks):
                where = base + block.offset
                check = compare("signature-crc", where, block.block_crc, block.computed_crc, 8)
                out.append(Check(check.name, check.valid, where, f"block {i}: {check.detail}"))
                wanted = self.signature.covered_digest.get(len(block.image_digest), b"")
                ok = block.image_digest == wanted
                out.append(Check("signature-digest", ok, where + 4,
                                 f"block {i}: signed digest "
                                 + ("matches the image" if ok else
                                    f"{block.image_digest.hex()} differs from the image's "
                                    f"{wanted.hex()}")))
        return out

    @property
    def valid(self) -> bool:
        """Whether every check passes."""
        return all(c.valid for c in self.checks())

    # ------------------------------------------------------------------ building
    def to_bytes(self) -> bytes:
        """Rebuild the image bytes (header, segments, padding, checksum, SHA-256, signature).

        The checksum and SHA-256 are recomputed, so for a valid image the result equals the
        parsed bytes exactly (a bootloader's :attr:`stale_digest` is kept while its header is
        unchanged).

        Raises:
            FormatError: the image was truncated and cannot be rebuilt.
        """
        if self.truncated:
            raise FormatError("cannot rebuild a truncated image", 0, "ESP32 image")
        parts: list[bytes | memoryview] = [self.header.to_bytes()]
        for seg in self.segments:
            parts.append(fmt.SegmentHeader(seg.load_addr, seg.data_len).build())
            parts.append(self.data[seg.data_offset:seg.end])
        parts.append(self.padding)
        # computed_checksum was computed from these very segment bytes when the image was
        # parsed (a model is immutable), so it is the checksum of what is built here.
        parts.append(bytes([self.computed_checksum]))
        body = bytearray().join(parts)
        if self.stale_digest is not None and self.stored_digest is not None \
                and self.header.to_bytes() == self.data[:fmt.ImageHeader.SIZE]:
            body += self.stored_digest  # unchanged: what the ROM boots stays as it was
        elif self.header.hash_appended == 1:
            body += hashlib.sha256(body).digest()
        if self.signature is not None:
            body += self.data[self.length:self.end]
        return bytes(body)

    def to_dict(self) -> dict[str, object]:
        """The contract's ``image`` object."""
        chip_name = self.chip.name if self.chip else None
        return {
            "format": "esp32",
            "role": self.role,
            "chip_id": self.header.chip_id,
            "flash": {"size": self.flash_size_name, "mode": self.header.flash_mode,
                      "freq": self.flash_freq},
            "entry": self.header.entry_addr,
            "segments": [
                {"addr": s.load_addr, "size": s.data_len, "offset": s.offset,
                 "region": "/".join(chips.memory_regions(chip_name or "", s.load_addr))}
                for s in self.segments
            ],
            "length": self.length,
            "hash_appended": self.header.hash_appended == 1,
            "min_chip_rev_full": self.header.min_chip_rev_full,
            "max_chip_rev_full": self.header.max_chip_rev_full,
            "app": self.app_desc.to_dict() if self.app_desc else None,
            "bootloader": self.bootloader_desc.to_dict() if self.bootloader_desc else None,
            "signature": self.signature.to_dict() if self.signature else None,
        }


# ---------------------------------------------------------------------- helpers
def _stale_digest(body: memoryview, stored: bytes) -> tuple[int, int] | None:
    """Header bytes 2-3 (flash mode; size and frequency) under which ``body`` (an image up to
    its digest) hashes to ``stored``, or None: at most 6 x 256 hashes, for a bootloader whose
    digest is wrong while its checksum is right."""
    data = bytearray(body)
    for mode in range(6):  # qio, qout, dio, dout, fast read, slow read
        for size_freq in range(256):
            data[2], data[3] = mode, size_freq
            if hashlib.sha256(data).digest() == stored:
                return mode, size_freq
    return None


def _descriptors(view: memoryview, segments: tuple[Segment, ...]
                 ) -> tuple[AppDescriptor | None, BootloaderDescriptor | None]:
    if not segments or segments[0].data_offset != desc_fmt.DESC_OFFSET:
        return None, None
    first = segments[0]
    if first.data_len >= desc_fmt.AppDesc.SIZE:
        raw = view[desc_fmt.DESC_OFFSET:desc_fmt.DESC_OFFSET + 4]
        if int.from_bytes(raw, "little") == desc_fmt.APP_DESC_MAGIC:
            c = desc_fmt.AppDesc.parse(view, desc_fmt.DESC_OFFSET, "esp_app_desc_t")
            return AppDescriptor(c.secure_version, _text(c.version), _text(c.project_name),
                                 _text(c.time), _text(c.date), _text(c.idf_ver),
                                 bytes(c.app_elf_sha256), c.min_efuse_blk_rev_full,
                                 c.max_efuse_blk_rev_full, c.mmu_page_size,
                                 c.spi_flash_mode), None
    if (first.data_len >= desc_fmt.BootloaderDesc.SIZE
            and view[desc_fmt.DESC_OFFSET] == desc_fmt.BOOTLOADER_DESC_MAGIC):
        b = desc_fmt.BootloaderDesc.parse(view, desc_fmt.DESC_OFFSET, "esp_bootloader_desc_t")
        return None, BootloaderDescriptor(b.secure_version, b.version, _text(b.idf_ver),
                                          _text(b.date_time))
    return None, None


def _is_flash_mapped(chip: chips.Chip | None, addr: int) -> bool:
    if chip is None:
        return False
    return any(n in chips.FLASH_MAPPED for n in chips.memory_regions(chip.name, addr))


def _role(app_desc: AppDescriptor | None, boot_desc: BootloaderDescriptor | None,
          segments: tuple[Segment, ...], chip: chips.Chip | None, hint: str | None) -> str:
    if app_desc is not None:
        return "app"
    if boot_desc is not None:
        return "bootloader"
    if hint in ("app", "bootloader"):
        return hint
    if any(_is_flash_mapped(chip, s.load_addr) for s in segments):
        return "app"
    # ESP32 bootloaders before ESP-IDF 5.2 carry no descriptor but always load their
    # iram_loader_seg into the APP CPU cache region 0x40078000-0x40080000, which apps never use.
    if _esp32_loader_seg(chip, segments):
        return "bootloader"
    return "unknown"


def _esp32_loader_seg(chip: chips.Chip | None, segments: tuple[Segment, ...]) -> bool:
    return chip is not None and chip.name == "esp32" and any(
        0x40078000 <= s.load_addr < 0x40080000 for s in segments)


def rom_loadable(chip: chips.Chip | None, segments: tuple[Segment, ...], entry: int) -> bool:
    """Whether the boot ROM can run the image as a second-stage bootloader: by the chip's memory
    map, every loaded segment goes to internal RAM (none to the flash-mapped IROM/DROM windows,
    which the ROM does not map) and the entry point is internal code RAM. Segments below
    0x10000000 are not loaded (padding, ESP-IDF ``should_load``)."""
    if chip is None or not segments:
        return False
    loaded = [s for s in segments if s.load_addr >= 0x10000000]
    return bool(loaded) and all(
        chips.is_internal_ram(chip.name, s.load_addr, s.data_len) for s in loaded) and \
        chips.is_internal_code(chip.name, entry)


def _version_rules(segments: tuple[Segment, ...], role: str
                   ) -> tuple[tuple[VersionRule, str], ...]:
    """The rules of :mod:`esp_image.idf_versions` the image breaks."""
    if role == "app" and segments and segments[0].data_len < desc_fmt.AppDesc.SIZE:
        return ((APP_DESC_SEGMENT,
                 f"segment 0 holds {segments[0].data_len:#x} bytes, too short for the 256-byte "
                 "esp_app_desc_t"),)
    return ()


def _segment_rules(segments: tuple[Segment, ...], chip: chips.Chip, role: str,
                   app_desc: AppDescriptor | None, flash_offset: int | None) -> list[str]:
    """The segment rules of ESP-IDF's verifier (esp_image_format.c), esp32-image.md §3.2."""
    problems = []
    for i, seg in enumerate(segments):
        if seg.data_len % 4:
            problems.append(f"segment {i} length {seg.data_len:#x} is not a multiple of 4")
        if seg.data_len >= fmt.SEGMENT_MAX_LEN:
            problems.append(f"segment {i} length {seg.data_len:#x} is not below 16 MiB")
    if role != "bootloader":
        mapped = [(i, s) for i, s in enumerate(segments) if _is_flash_mapped(chip, s.load_addr)]
        if mapped and mmu_page_size(segments, chip, app_desc, flash_offset) is None:
            page = _page_candidates(chip, app_desc)[0]
            base = flash_offset or 0
            for i, seg in mapped:
                if (base + seg.data_offset) % page != seg.load_addr % page:
                    problems.append(
                        f"segment {i} maps {seg.load_addr:#x} but its data is at flash "
                        f"{base + seg.data_offset:#x}; they must agree modulo the MMU page "
                        f"({page:#x})")
    return problems


def _page_candidates(chip: chips.Chip, app_desc: AppDescriptor | None) -> list[int]:
    if app_desc is not None and app_desc.mmu_page_size:
        return [1 << app_desc.mmu_page_size]
    return sorted(chip.mmu_page_sizes or (MMU_PAGE_DEFAULT,), reverse=True)


def mmu_page_size(segments: tuple[Segment, ...] | tuple[Segment, ...], chip: chips.Chip,
                  app_desc: AppDescriptor | None, flash_offset: int | None) -> int | None:
    """The MMU page size the image's flash-mapped segments were laid out for.

    The app descriptor names it (ESP-IDF >= 5.4); otherwise the largest page size the chip
    supports that the segments agree with (ESP-IDF picks smaller pages for small flash on
    C6/H2-class chips). None when no supported page size fits. An app whose page is P can be
    placed at any flash offset that is a multiple of P; a bare image is judged at offset 0.
    """
    base = flash_offset or 0
    mapped = [s for s in segments if _is_flash_mapped(chip, s.load_addr)]
    for page in _page_candidates(chip, app_desc):
        if all((base + s.data_offset) % page == s.load_addr % page for s in mapped):
            return page
    return None


def _find_signature(view: memoryview, end: int) -> Signature | None:
    size = len(view)
    # Secure Boot v2: one 4 KiB sector at the next 4 KiB boundary, starting with 0xE7 0x02/0x03.
    sector = align_up(end, 0x1000)
    if sector + 2 <= size and view[sector] == fmt.SBV2_MAGIC and view[sector + 1] in (
            fmt.SBV2_VERSION_RSA, fmt.SBV2_VERSION_ECDSA):
        return _parse_sbv2(view, sector)
    # Secure Boot v1: 68 bytes right after the image: version 0, then a signature that is
    # neither erased nor zero, and nothing but erased flash (or the end of data) after it.
    block_end = end + fmt.SecureBootV1Block.SIZE
    if block_end <= size:
        block = fmt.SecureBootV1Block.parse(view, end)
        rest = view[block_end:block_end + 16]
        if (block.version == 0 and block.signature not in (b"\xff" * 64, b"\0" * 64)
                and all(b == 0xFF for b in rest)):
            from .app_extras import Signature

            return Signature("sbv1", end, fmt.SecureBootV1Block.SIZE)
    return None


def _parse_sbv2(view: memoryview, sector: int) -> Signature:
    from .app_extras import Signature, SignatureBlock

    blocks: list[SignatureBlock] = []
    available = min(len(view) - sector, fmt.SBV2_SECTOR_SIZE)
    scheme = "sbv2-rsa"
    for i in range(3):
        off = sector + i * fmt.SignatureBlockV2.SIZE
        if off + fmt.SignatureBlockV2.SIZE > sector + available or view[off] != fmt.SBV2_MAGIC:
            break
        c = fmt.SignatureBlockV2.parse(view, off, "signature block")
        if c.version == fmt.SBV2_VERSION_RSA:
            digest = bytes(c.body[:32])
            key = c.body[32:32 + fmt.SBV2_RSA_KEY_SIZE]
        else:
            scheme = "sbv2-ecdsa"
            digest = bytes(c.body[:48] if c.sha_version == 1 else c.body[:32])
            # ets_ecdsa_pubkey_t: the curve id, then the point (P-384 with SHA-384 blocks)
            key = c.body[len(digest):len(digest) + 1 + (96 if c.sha_version == 1 else 64)]
        crc = zlib.crc32(view[off:off + fmt.SBV2_CRC_COVERS]) & 0xFFFFFFFF
        blocks.append(SignatureBlock(off, c.version, scheme, digest, c.block_crc, crc,
                                     hashlib.sha256(key).digest()))
    covered = view[:sector]
    digests = {32: hashlib.sha256(covered).digest()}
    if any(len(b.image_digest) == 48 for b in blocks):
        digests[48] = hashlib.sha384(covered).digest()
    return Signature(scheme, sector, fmt.SBV2_SECTOR_SIZE, tuple(blocks), digests)
