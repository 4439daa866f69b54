"""The whole-file view: identify what a file is, parse every part, check everything.

Detection order (documented because ESP8266 and ESP32 share the 0xE9 magic):

1. empty → error; all 0xFF → ``erased``;
2. ``AA 50`` at 0 → bare partition table;
3. exactly 8 KiB shaped like two OTA records → bare ``otadata``;
4. 0xE9 at 0 with a plausible ESP32-family header (known chip id, ``hash_appended`` 0/1):
   a merged firmware if a partition table sits where that chip's layout puts it (base =
   bootloader offset), otherwise a single image;
5. a plausible ESP32-family bootloader at 0x1000 or 0x2000 whose chip boots from there → a flash
   dump from address 0;
6. anything else → ``unknown`` with the reason.

Flash addresses are canonical: ``base`` is the flash address of file byte 0.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from . import chips
from .app_image import AppImage
from .checks import Check, Issue
from .errors import EspImageError, FormatError, InputError
from .formats.compiled import esp32_image as esp32_fmt
from .formats.compiled import otadata as ota_fmt
from .formats.compiled import partition_table as table_fmt
from .io import MAX_FILE_SIZE
from .otadata import AppSlots, AppStatus, BootSelection, OtaData, looks_like_otadata
from .partition_table import Partition, PartitionTable
from .spans import ErasedIndex, Region, fill_gaps, is_erased
from .units import SECTOR, align_up, format_size

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from .esp8266 import Esp8266Finding, Esp8266Image
    from .filesystems import FileSystemInfo
    from .yaota8266 import OtaFile


TABLE_AREA = table_fmt.TABLE_SECTOR
DEFAULT_TABLE_OFFSET = table_fmt.DEFAULT_TABLE_OFFSET


@dataclass(frozen=True)
class PartitionContent:
    """What a flash file holds for one partition.

    Attributes:
        partition: the table entry.
        covered: bytes of the partition present in the file (0 when the file ends before it).
        state: ``absent`` (not in the file), ``erased``, ``image`` (an app image was parsed),
            ``data`` (non-erased bytes) or ``invalid`` (an app slot holding no image).
        image: the app image in an app partition, if one starts there.
    """

    partition: Partition
    covered: int
    state: str
    image: AppImage | None = None
    filesystem: FileSystemInfo | None = None

    @property
    def fill(self) -> float | None:
        """Fraction of the partition the app image uses (real image length, not file length)."""
        if self.image is None or not self.partition.size:
            return None
        return self.image.end / self.partition.size

    def to_dict(self) -> dict[str, object]:
        """JSON form: the partition entry plus what the file holds for it."""
        out = self.partition.to_dict()
        out["covered"] = self.covered
        out["state"] = self.state
        if self.filesystem is not None:
            out["filesystem"] = self.filesystem.to_dict()
        if self.image is not None:
            out["image_size"] = self.image.end
            out["fill"] = round(self.fill or 0.0, 4)
            out["image"] = self.image.to_dict()
        return out


@dataclass(frozen=True)
class Image:
    """Everything esp_image found in one file.

    Use :meth:`open` or :meth:`from_bytes`; the result is immutable.

    Attributes:
        path: where it was read from (None for bytes).
        size: bytes in the file.
        kind: ``image``, ``flash``, ``partition-table``, ``otadata``, ``erased`` or ``unknown``.
        chip: the chip, when known.
        base: flash address of file byte 0 (``kind == "flash"``).
        firmware: the single image (``kind == "image"``).
        bootloader: the bootloader found in a flash file.
        table: the partition table (bare or found in a flash file).
        table_address: flash address of that table.
        otadata: the OTA selection data (bare, or from the flash file's otadata partition).
        boot: which app slot the bootloader picks, when a table is known.
        partitions: per-partition contents of a flash file.
        regions: the file's regions in file order (``kind == "flash"``).
        checks: every integrity check that was run, in file order.
        issues: layout errors and warnings (errors also appear as a failed ``layout`` check).
        notes: facts worth telling a person that are not problems.
        reason: why the data is ``unknown``.
        esp8266: everything found in an ESP8266 file (images, flash map, system parameters,
            rBoot and yaota8266 details); None for other files.
        ota_file: a yaota8266 ``.ota`` update file (``kind == "yaota8266-ota"``).
    """

    path: str | None
    size: int
    kind: str
    chip: chips.Chip | None = None
    base: int | None = None
    firmware: AppImage | Esp8266Image | None = None
    bootloader: AppImage | None = None
    table: PartitionTable | None = None
    table_address: int | None = None
    otadata: OtaData | None = None
    boot: BootSelection | None = None
    partitions: tuple[PartitionContent, ...] = ()
    regions: tuple[Region, ...] = ()
    checks: tuple[Check, ...] = ()
    issues: tuple[Issue, ...] = ()
    notes: tuple[str, ...] = ()
    reason: str | None = None
    esp8266: Esp8266Finding | None = None
    ota_file: OtaFile | None = None
    filesystem: FileSystemInfo | None = None
    data: memoryview = field(repr=False, compare=False, default=memoryview(b""))

    # ------------------------------------------------------------------ construction
    @classmethod
    def open(cls, path: str | os.PathLike[str], *, chip: str | None = None,
             max_size: int | None = MAX_FILE_SIZE) -> Image:
        """Read and identify a file.

        Args:
            path: the file.
            chip: the chip the file must be for (e.g. ``"esp32s3"``): a file that states
                another fails its ``chip`` check; where the file states none, it is read as
                this chip.
            max_size: refuse larger files (None: no limit).

        Raises:
            InputError: the file is missing, unreadable, not a regular file, empty or too large.
        """
        from .io import read_input

        data = read_input(path, max_size=max_size)
        return cls.from_bytes(data, path=str(path), chip=chip)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, *, path: str | None = None,
                   chip: str | None = None) -> Image:
        """Identify and parse a buffer (not copied).

        Raises:
            InputError: the buffer is empty.
        """
        view = memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)
        if not len(view):
            raise InputError(f"{path or 'input'}: file is empty")
        forced = chips.chip_by_name(chip) if chip else None
        found = _identify(view, path, forced)
        return _chip_check(found, forced) if forced is not None else found

    # ------------------------------------------------------------------ derived
    @property
    def valid(self) -> bool:
        """Every check that applies passed and the structure parsed completely."""
        if self.kind in ("unknown",):
            return False
        return all(c.valid for c in self.checks)

    @property
    def apps(self) -> tuple[PartitionContent, ...]:
        """Contents of the app partitions of a flash file."""
        return tuple(p for p in self.partitions if p.partition.is_app)

    def app_slots(self) -> AppSlots | None:
        """What the bootloader finds in each app partition (None without a table in a flash
        file): the input of :meth:`BootSelection.loaded_from`."""
        if self.kind != "flash" or self.table is None or self.chip is None:
            return None
        return _app_slots(list(self.partitions), self.chip)

    def to_bytes(self) -> bytes:
        """Rebuild the file from the parsed models (byte-identical for valid input).

        Regions esp_image does not model (gaps, data partitions, trailing data) are kept
        byte for byte; every parsed structure is rebuilt from its model.
        """
        if self.esp8266 is not None:
            return self.esp8266.to_bytes()
        if self.ota_file is not None:
            return self.ota_file.to_bytes() + bytes(self.data[self.ota_file.end:])
        if self.kind == "image" and self.firmware is not None:
            return self.firmware.to_bytes() + bytes(self.data[self.firmware.end:])
        if self.kind == "partition-table" and self.table is not None:
            built = self.table.to_bytes(size=min(self.size, TABLE_AREA))
            return built + bytes(self.data[len(built):])
        if self.kind == "otadata" and self.otadata is not None:
            return self.otadata.to_bytes()
        if self.kind != "flash" or self.base is None:
            return bytes(self.data)
        out = bytearray(self.data)
        if self.bootloader is not None:
            start = self.bootloader_file_offset
            out[start:start + self.bootloader.end] = self.bootloader.to_bytes()
        if self.table is not None and self.table_address is not None:
            start = self.table_address - self.base
            area = min(TABLE_AREA, self.size - start)
            out[start:start + area] = self.table.to_bytes(size=area)
        for content in self.partitions:
            start = content.partition.offset - self.base
            if content.image is not None:
                out[start:start + content.image.end] = content.image.to_bytes()
            elif content.partition.is_otadata and self.otadata is not None \
                    and content.covered >= ota_fmt.OTADATA_SIZE:
                out[start:start + ota_fmt.OTADATA_SIZE] = self.otadata.to_bytes()
        return bytes(out)

    def partition_bytes(self, part: Partition) -> bytes:
        """``part``'s bytes in a flash file, as the chip reads them (see :func:`read_partition`).

        Raises:
            InputError: this is not a flash file, or the partition starts before the file.
        """
        if self.base is None or part.offset < self.base:
            raise InputError(f"{self.path or 'input'}: partition {part.name!r} at "
                             f"{part.offset:#x} is not in this file")
        return read_partition(self.data, part.offset - self.base,
                              readable_size(part, self.flash_end))

    @property
    def flash_end(self) -> int:
        """The end of flash for reading partitions (see :func:`flash_end`)."""
        return flash_end(self.bootloader.flash_size if self.bootloader is not None else None,
                         self.chip)

    @property
    def _table_file_offset(self) -> int:
        if self.table_address is None or self.base is None:
            return 0
        return self.table_address - self.base

    @property
    def bootloader_file_offset(self) -> int:
        """File offset of the bootloader in a flash file."""
        if self.base is None or self.chip is None:
            return 0
        return self.chip.bootloader_offset - self.base

    def to_dict(self) -> dict[str, object]:
        """The JSON document of cli-contract.md for this file."""
        if self.esp8266 is not None:
            doc: dict[str, object] = {"path": self.path, "size": self.size,
                                      **self.esp8266.to_dict()}
            doc["chip"] = self.chip.name if self.chip else None
            if self.table is not None:
                doc["partitions"] = [p.to_dict() for p in self.table.partitions]
            doc.setdefault("issues", [])
            return doc
        out: dict[str, object] = {
            "path": self.path,
            "size": self.size,
            "kind": self.kind,
            "chip": self.chip.name if self.chip else None,
            "valid": self.valid,
            "checks": [c.to_dict() for c in self.checks],
        }
        if self.kind == "image" and self.firmware is not None:
            out["image"] = self.firmware.to_dict()
        if self.kind == "flash":
            flash: dict[str, object] = {
                "base": self.base,
                "regions": [r.to_dict() for r in self.regions],
            }
            if self.bootloader is not None:
                flash["bootloader"] = self.bootloader.to_dict()
                flash["size"] = self.bootloader.flash_size_name
            if self.table_address is not None:
                flash["table_address"] = self.table_address
            out["flash"] = flash
        if self.table is not None and self.table.signature is not None:
            out["table_signature"] = {"scheme": "sbv1", "offset": self._table_file_offset
                                      + table_fmt.TABLE_MAX_LEN, "size": len(self.table.signature)}
        if self.table is not None:
            if self.partitions:
                out["partitions"] = [p.to_dict() for p in self.partitions]
            else:
                out["partitions"] = [p.to_dict() for p in self.table.partitions]
        if self.otadata is not None:
            out["otadata"] = self.otadata.to_dict()
        if self.ota_file is not None:
            out["yaota8266_ota"] = self.ota_file.to_dict()
        if self.filesystem is not None:
            out["filesystem"] = self.filesystem.to_dict()
        if self.boot is not None:
            out["boot"] = self.boot.to_dict()
        out["issues"] = [i.to_dict() for i in self.issues]
        if self.notes:
            out["notes"] = list(self.notes)
        if self.reason:
            out["reason"] = self.reason
        return out


# ---------------------------------------------------------------------- identification
def _identify(view: memoryview, path: str | None, forced: chips.Chip | None) -> Image:
    size = len(view)
    if is_erased(view):
        return Image(path, size, "erased", data=view,
                     notes=(f"{format_size(size)} of erased flash (all 0xFF)",))
    if bytes(view[:2]) == table_fmt.MAGIC:
        return _bare_table(view, path)
    if looks_like_otadata(view):
        return _bare_otadata(view, path)
    if bytes(view[:9]) == b"yaota8266":
        return _yaota_ota(view, path)
    if forced is not None and forced.chip_id is None:
        # --chip esp8266: ESP8266 images carry no chip id, so their reading comes first; with
        # none, the file is identified as usual and the chip check names what it is.
        found = _esp8266(view, path)
        if found is not None and found.kind != "unknown":
            return found
        forced = None
    if view[0] == esp32_fmt.MAGIC:
        head = _plausible_esp32(view, 0, forced)
        if head is not None:
            result = _esp32_at_zero(view, path, head)
            if result.valid:
                return result
            # ESP8266 and ESP32 share the magic; a damaged "ESP32" reading loses to an intact
            # ESP8266 one (an ESP8266 segment length can look like a known chip id).
            alt = _esp8266(view, path)
            return alt if alt is not None and alt.valid else result
        return _esp8266(view, path) or _unknown(view, path, _esp8266_reason(view))
    if forced is None or forced.chip_id is not None:
        for pos in (0x1000, 0x2000):
            if pos < size and view[pos] == esp32_fmt.MAGIC:
                head = _plausible_esp32(view, pos, forced)
                if head is not None and head.bootloader_offset == pos:
                    return _flash(view, path, head, base=0)
    return _esp8266(view, path) or _bare_filesystem(view, path) or \
        _unknown(view, path, _unknown_reason(view))


def _bare_filesystem(view: memoryview, path: str | None) -> Image | None:
    """A partition image holding a filesystem (littlefs, FAT, wear-levelled FAT, SPIFFS)."""
    found = _filesystem(view)
    if found is None:
        return None
    check = Check("structure", found.valid, 0, f"{found.type}: {found.detail}")
    return Image(path, len(view), "filesystem", checks=(check,), filesystem=found, data=view)


def _yaota_ota(view: memoryview, path: str | None) -> Image:
    """A yaota8266 ``.ota`` update file (ota_client.py sign)."""
    from .yaota8266 import OtaFile

    try:
        ota = OtaFile.from_bytes(view)
    except FormatError as exc:
        return _unknown(view, path, str(exc))
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
    return Image(path, len(view), "yaota8266-ota", chip=chips.chip_by_name("esp8266"),
                 checks=checks, notes=tuple(notes), ota_file=ota, data=view)


def _esp8266(view: memoryview, path: str | None) -> Image | None:
    """The ESP8266 reading of the data, or None when it is not ESP8266 at all."""
    # Imported here: ESP32 files never pay for the ESP8266 modules.
    from .esp8266 import identify_esp8266

    finding = identify_esp8266(view)
    if finding is None:
        return None
    regions = tuple(Region(r.offset, r.size, r.address, r.kind, r.name, r.detail)
                    for r in finding.regions)
    table = next((r.model for r in finding.regions if isinstance(r.model, PartitionTable)),
                 None)
    known = finding.kind != "unknown"
    return Image(path, len(view), finding.kind, chip=finding.chip if known else None,
                 base=finding.base if finding.kind == "flash" else None,
                 firmware=finding.firmware, table=table,
                 table_address=next((r.address for r in finding.regions
                                     if r.model is table and table is not None), None),
                 regions=regions, checks=finding.checks, issues=finding.issues,
                 notes=finding.notes, reason=finding.reason, esp8266=finding, data=view)


def _plausible_esp32(view: memoryview, pos: int, forced: chips.Chip | None
                     ) -> chips.Chip | None:
    """The chip of a plausible ESP32-family header at ``pos``, else None.

    The header's own chip id wins: a forced ESP32-family chip only fills in for a header too
    short to hold one or with an unknown id (a disagreeing ``--chip`` is a failed ``chip``
    check, see :func:`_chip_check`).
    """
    own = _header_chip(view, pos)
    if own is not None and view[pos + 23] in (0, 1):
        return own
    return forced if forced is not None and forced.chip_id is not None else None


def _header_chip(view: memoryview, pos: int) -> chips.Chip | None:
    """The released chip an ESP32-family header at ``pos`` names, else None."""
    if len(view) - pos < esp32_fmt.ImageHeader.SIZE:
        return None
    chip_id = int.from_bytes(view[pos + 12:pos + 14], "little")
    return chips.chip_by_id(chip_id) if chips.is_known_chip_id(chip_id) else None


def _chip_check(image: Image, forced: chips.Chip) -> Image:
    """``image`` with a ``chip`` check comparing ``--chip`` with what the file states.

    ESP32-family files state their chip in the header of the image at 0 (the bootloader of a
    flash file); ESP8266 files by their format (they carry no chip id). Files that state no
    chip (tables, otadata, filesystems, erased or unknown data, a header whose chip id is not a
    released chip) get no check: there ``--chip`` only fills in what the file does not say.
    """
    from dataclasses import replace

    if (image.esp8266 is not None and image.kind != "unknown") or image.ota_file is not None:
        stated, offset = chips.chip_by_name("esp8266"), 0
        how = "an ESP8266 format, which carries no chip id"
    elif image.kind in ("image", "flash"):
        offset = image.bootloader_file_offset if image.kind == "flash" else 0
        header = _header_chip(image.data, offset)
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
    if image.esp8266 is not None:
        return replace(image, checks=checks, esp8266=replace(image.esp8266, checks=checks))
    return replace(image, checks=checks)


def _esp32_at_zero(view: memoryview, path: str | None, chip: chips.Chip) -> Image:
    """0xE9 at file offset 0: a single image, or a merged file starting at the bootloader."""
    base = chip.bootloader_offset
    table_pos = DEFAULT_TABLE_OFFSET - base
    if len(view) > table_pos + 32 and bytes(view[table_pos:table_pos + 2]) == table_fmt.MAGIC:
        return _flash(view, path, chip, base=base)
    try:
        image = AppImage.from_bytes(view, 0)
    except FormatError as exc:
        return Image(path, len(view), "image", chip=chip, data=view,
                     checks=(Check("structure", False, 0, exc.reason),))
    # A merged file whose table was relocated (large secure-boot bootloaders push it up).
    if image.role == "bootloader" and image.trailing:
        found = _scan_for_table(view, image.end, base)
        if found is not None:
            return _flash(view, path, chip, base=base)
    return _single(view, path, image)


def _single(view: memoryview, path: str | None, image: AppImage) -> Image:
    checks = image.checks()
    issues: list[Issue] = []
    notes: list[str] = []
    if image.trailing:
        tail = view[image.end:]
        if is_erased(tail):
            notes.append(f"{image.trailing:#x} bytes of erased flash (0xFF) follow the image "
                         "(a partition read-out)")
        else:
            notes.append(f"{image.trailing:#x} bytes of non-erased data follow the image "
                         "(a previous image, the next partition, or unrecognised data)")
    if image.chip is not None and image.flash_size is None:
        issues.append(Issue("warning", "flash-size-code",
                            f"flash size code {image.header.spi_size:#x} is invalid; the "
                            "bootloader treats it as 2MB"))
    if image.role == "app" and image.chip is not None:
        from .app_image import mmu_page_size

        page = mmu_page_size(image.segments, image.chip, image.app_desc, None)
        if page is not None and page != 0x10000:
            notes.append(f"flash-mapped segments are laid out for {page // 1024}KB MMU pages")
    return Image(path, len(view), "image", chip=image.chip, firmware=image, checks=tuple(checks),
                 issues=tuple(issues), notes=tuple(notes), data=view)


def _bare_table(view: memoryview, path: str | None) -> Image:
    try:
        table = PartitionTable.from_bytes(view[:TABLE_AREA])
    except FormatError as exc:
        return Image(path, len(view), "partition-table", data=view,
                     checks=(Check("structure", False, exc.offset or 0, str(exc)),))
    checks = [Check("structure", True, 0, f"{len(table.partitions)} partitions"),
              *table.checks(0)]
    issues = tuple(table.validate())
    checks.insert(1, _layout_check(issues, 0))
    notes: list[str] = []
    if table.signature is not None:
        notes.append("the table is signed (Secure Boot v1 signature at 0xc00); editing it "
                     "breaks the signature")
    if len(view) > TABLE_AREA:
        notes.append(f"{len(view) - TABLE_AREA:#x} bytes after the 4KB table sector")
    return Image(path, len(view), "partition-table", table=table, checks=tuple(checks),
                 issues=issues, notes=tuple(notes), data=view)


def _bare_otadata(view: memoryview, path: str | None) -> Image:
    otadata = OtaData.from_bytes(view)
    checks = [Check("structure", True, 0, "two OTA selection records"), *otadata.checks(0)]
    # Without a table the slot count is unknown; report for the common two-slot layout.
    boot = otadata.select(ota_slot_count=2, has_factory=False)
    notes = ("boot slot assumes a table with two OTA slots and no factory app",)
    return Image(path, len(view), "otadata", otadata=otadata, boot=boot, checks=tuple(checks),
                 notes=notes, data=view)


def _layout_check(issues: tuple[Issue, ...] | list[Issue], offset: int) -> Check:
    errors = [i.message for i in issues if i.is_error]
    if errors:
        return Check("layout", False, offset, "; ".join(errors))
    return Check("layout", True, offset, "partition layout passes the bootloader's rules")


def _scan_for_table(view: memoryview, after: int, base: int) -> int | None:
    """File offset of a partition table at a 4 KiB boundary after ``after``, if any.

    A table whose MD5 record matches wins; failing that, the first one that parses (so that a
    damaged relocated table is reported by its ``md5`` check instead of going unnoticed).
    """
    start = align_up(after, SECTOR)
    stop = min(len(view), 0x100000 - base)
    first: int | None = None
    for pos in range(start, stop, SECTOR):
        if bytes(view[pos:pos + 2]) != table_fmt.MAGIC:
            continue
        try:
            table = PartitionTable.from_bytes(view[pos:pos + TABLE_AREA])
        except FormatError:
            continue
        if table.md5 is None or table.md5 == table.computed_md5:
            return pos
        if first is None:
            first = pos
    return first


# ---------------------------------------------------------------------- flash files
def _flash(view: memoryview, path: str | None, chip: chips.Chip, base: int) -> Image:
    size = len(view)
    boot_pos = chip.bootloader_offset - base
    checks: list[Check] = []
    issues: list[Issue] = []
    notes: list[str] = []
    regions: list[Region] = []

    def region(offset: int, length: int, kind: str, name: str, detail: str = "") -> None:
        length = max(0, min(length, size - offset))
        if length:
            regions.append(Region(offset, length, offset + base, kind, name, detail))

    if boot_pos > 0:
        head = view[:boot_pos]
        if is_erased(head):
            region(0, boot_pos, "erased", "(before bootloader)")
        elif chip.name == "esp32":
            region(0, boot_pos, "data", "secure-boot-digest",
                   "not erased: Secure Boot v1 IV + digest block (ESP32 reflashable mode)")
        else:
            region(0, boot_pos, "data", "(before bootloader)", "not erased")

    bootloader: AppImage | None = None
    try:
        bootloader = AppImage.from_bytes(view, boot_pos, flash_offset=chip.bootloader_offset,
                                         role_hint="bootloader")
    except FormatError as exc:
        checks.append(Check("structure", False, boot_pos, f"bootloader: {exc.reason}"))
    boot_end = boot_pos
    if bootloader is not None:
        boot_end = boot_pos + bootloader.end
        checks.extend(_prefixed(bootloader.checks(boot_pos), "bootloader"))
        region(boot_pos, bootloader.end, "image", "bootloader",
               _image_summary(bootloader))
        if bootloader.chip is not None and bootloader.chip != chip:
            issues.append(Issue("error", "chip-mismatch",
                                f"bootloader is for {bootloader.chip.title}, expected "
                                f"{chip.title}"))
    flash_size = bootloader.flash_size if bootloader else None

    # The partition table: default offset, else the first valid one after the bootloader.
    table: PartitionTable | None = None
    table_pos: int | None = None
    default_pos = DEFAULT_TABLE_OFFSET - base
    if size > default_pos + 32 and bytes(view[default_pos:default_pos + 2]) == table_fmt.MAGIC:
        table_pos = default_pos
    else:
        table_pos = _scan_for_table(view, boot_end, base)
        if table_pos is not None:
            notes.append(f"partition table found at {table_pos + base:#x}, not at the default "
                         f"{DEFAULT_TABLE_OFFSET:#x}")
    if table_pos is not None:
        try:
            table = PartitionTable.from_bytes(view[table_pos:table_pos + TABLE_AREA])
        except FormatError as exc:
            checks.append(Check("structure", False, table_pos, f"partition table: {exc}"))
    else:
        issues.append(Issue("warning", "no-table", "no partition table found in the file"))

    contents: list[PartitionContent] = []
    otadata: OtaData | None = None
    boot: BootSelection | None = None
    table_address = table_pos + base if table_pos is not None else None
    if table is not None and table_pos is not None and table_address is not None:
        region(table_pos, TABLE_AREA, "partition-table", "partition-table",
               f"{len(table.partitions)} partitions")
        checks.append(Check("structure", True, table_pos,
                            f"partition table: {len(table.partitions)} partitions"))
        checks.extend(_prefixed(table.checks(table_pos), "partition table"))
        if table.signature is not None:
            signature_at = table_address + table_fmt.TABLE_MAX_LEN
            notes.append(f"the partition table is signed (Secure Boot v1 signature at "
                         f"{signature_at:#x}); editing it breaks the signature")
        table_issues = list(table.validate(flash_size=flash_size, table_offset=table_address,
                                           bootloader_offset=chip.bootloader_offset))
        if bootloader is not None and chip.bootloader_offset + bootloader.end > table_address:
            table_issues.append(Issue(
                "error", "bootloader-overlaps-table",
                f"bootloader ends at {chip.bootloader_offset + bootloader.end:#x}, past the "
                f"partition table at {table_address:#x}"))
        contents, otadata, more_checks, more_issues = _partitions(view, base, table, chip,
                                                                  flash_size)
        checks.extend(more_checks)
        table_issues.extend(more_issues)
        checks.append(_layout_check(table_issues, table_pos))
        issues.extend(table_issues)
        boot = _boot_selection(table, otadata, contents, notes, chip)
        issues.extend(_boot_issues(boot))
        for content in contents:
            start = content.partition.offset - base
            if content.covered:
                kind = {"image": "image", "erased": "erased"}.get(content.state, "data")
                if content.partition.is_otadata and otadata is not None:
                    kind = "otadata"
                region(start, content.covered, kind, content.partition.name,
                       _content_summary(content))
        if _looks_like_micropython(contents):
            notes.append("no vfs/ffat partition: MicroPython >= 1.26 creates a vfs at run time "
                         "from the end of the last partition to the physical end of flash")

    end_address = base + size
    if flash_size is not None and end_address > flash_size:
        issues.append(Issue("warning", "file-past-flash-size",
                            f"the file reaches flash {end_address:#x}, past the "
                            f"{format_size(flash_size)} in the bootloader header"))
    regions.sort(key=lambda r: r.offset)
    regions = fill_gaps(regions, view, base, Region)
    checks.sort(key=lambda c: c.offset)
    return Image(path, size, "flash", chip=chip, base=base, bootloader=bootloader, table=table,
                 table_address=table_address, otadata=otadata, boot=boot,
                 partitions=tuple(contents), regions=tuple(regions), checks=tuple(checks),
                 issues=tuple(issues), notes=tuple(notes), data=view)


def _partitions(view: memoryview, base: int, table: PartitionTable, chip: chips.Chip,
                flash_size: int | None
                ) -> tuple[list[PartitionContent], OtaData | None, list[Check], list[Issue]]:
    size = len(view)
    contents: list[PartitionContent] = []
    checks: list[Check] = []
    issues: list[Issue] = []
    otadata: OtaData | None = None
    # Work is bounded by the file, not by the table's sizes: erasure is judged once per sector,
    # an image is parsed once per span, and a partition overlapping an earlier one (already a
    # layout error) is not examined for a filesystem, so at most the flash is examined once.
    erased_index = ErasedIndex(view)
    end = flash_end(flash_size, chip)
    parsed: dict[tuple[int, int], AppImage | FormatError] = {}
    overlapping = _overlapping(table)
    for part in table.partitions:
        start = part.offset - base
        stop = min(part.end - base, size)
        covered = max(0, stop - max(start, 0)) if start < size else 0
        if start < 0 or covered == 0:
            contents.append(PartitionContent(part, 0, "absent"))
            continue
        sub = view[:stop]
        if part.is_app:
            if sub[start] != esp32_fmt.MAGIC:
                state = "erased" if erased_index.erased(start, stop) else "invalid"
                contents.append(PartitionContent(part, covered, state))
                if state == "invalid":
                    issues.append(Issue("warning", "no-app-image",
                                        f"app partition {part.name!r} at {part.offset:#x} does "
                                        "not start with an image"))
                continue
            if (start, stop) not in parsed:
                try:
                    parsed[start, stop] = AppImage.from_bytes(sub, start, flash_offset=part.offset,
                                                              role_hint="app")
                except FormatError as exc:
                    parsed[start, stop] = exc
            image = parsed[start, stop]
            if isinstance(image, FormatError):
                checks.append(Check("structure", False, start, f"{part.name}: {image.reason}"))
                contents.append(PartitionContent(part, covered, "invalid"))
                continue
            checks.extend(_prefixed(image.checks(start), part.name))
            contents.append(PartitionContent(part, covered, "image", image))
            if image.end > part.size:
                issues.append(Issue("error", "app-too-large",
                                    f"app in {part.name!r} is {image.end:#x} bytes, larger than "
                                    f"its partition ({part.size:#x})"))
            elif image.truncated and covered == part.size:
                issues.append(Issue("error", "app-too-large",
                                    f"app in {part.name!r} runs past the end of its partition"))
            if flash_size is not None and image.flash_size not in (None, flash_size):
                issues.append(Issue(
                    "warning", "app-flash-size",
                    f"app in {part.name!r} says {image.flash_size_name} flash, the bootloader "
                    f"{format_size(flash_size)}; the bootloader's value is used unless the app "
                    "was built with CONFIG_SPI_FLASH_SIZE_OVERRIDE"))
            if image.chip is not None and image.chip != chip:
                issues.append(Issue("error", "chip-mismatch",
                                    f"app in {part.name!r} is for {image.chip.title}, the "
                                    f"bootloader for {chip.title}; the bootloader rejects it"))
            continue
        erased = erased_index.erased(start, stop)
        if part.is_otadata and covered >= ota_fmt.OTADATA_SIZE and not erased:
            try:
                otadata = OtaData.from_bytes(view[start:start + ota_fmt.OTADATA_SIZE])
            except FormatError as exc:
                checks.append(Check("structure", False, start, f"{part.name}: {exc.reason}"))
            else:
                checks.extend(_prefixed(otadata.checks(start), part.name))
        elif part.is_otadata and covered >= ota_fmt.OTADATA_SIZE:
            otadata = OtaData.erased()
        found = None
        if not erased and not part.is_otadata and part.subtype not in _NOT_FS \
                and id(part) not in overlapping:
            found = _filesystem(read_partition(view, start, readable_size(part, end)))
            if found is not None and not found.valid:
                # the device cannot use it (MicroPython reformats or refuses it): damage
                checks.append(Check("filesystem", False, start,
                                    f"{part.name}: damaged {found.type} ({found.detail})"))
        contents.append(PartitionContent(part, covered, "erased" if erased else "data",
                                         filesystem=found))
    return contents, otadata, checks, issues


def _overlapping(table: PartitionTable) -> set[int]:
    """ids of the partitions that start inside an earlier one (by offset, ties in table order;
    ids because two identical entries are equal)."""
    out: set[int] = set()
    reach = -1
    for part in sorted(table.partitions, key=lambda p: p.offset):
        if part.offset < reach:
            out.add(id(part))
        reach = max(reach, part.end)
    return out


# Data subtypes that never hold a filesystem (phy, nvs, coredump, nvs_keys, efuse).
_NOT_FS = frozenset(table_fmt.SUBTYPES[table_fmt.TYPE_DATA][name]
                    for name in ("phy", "nvs", "coredump", "nvs_keys", "efuse"))
_FS = frozenset({table_fmt.SUBTYPE_DATA_FAT, table_fmt.SUBTYPE_DATA_SPIFFS,
                 table_fmt.SUBTYPE_DATA_LITTLEFS})


def flash_end(flash_size: int | None, chip: chips.Chip | None) -> int:
    """The flash address partition contents are read up to.

    Table entries and headers are not trusted: nothing past the flash size in the bootloader
    header, the most the chip addresses, or the largest flash of any chip exists on the chip,
    so nothing is read or allocated for it.
    """
    end = min(flash_size or MAX_FILE_SIZE, MAX_FILE_SIZE)
    return min(end, chip.max_flash) if chip is not None else end


def readable_size(part: Partition, end: int) -> int:
    """How many of ``part``'s bytes lie below ``end`` (a :func:`flash_end`)."""
    return max(0, min(part.end, end) - part.offset)


def read_partition(view: memoryview, start: int, size: int) -> bytes:
    """``size`` bytes from file offset ``start``: the file's, then erased flash (0xFF) past the
    end of the file; one allocation (callers bound ``size`` with :func:`readable_size`)."""
    return bytes(view[start:start + size]).ljust(size, b"\xff")


def _filesystem(data: bytes | memoryview) -> FileSystemInfo | None:
    """The filesystem in a partition's bytes."""
    from .filesystems import detect

    try:
        found = detect(data)
    except EspImageError:
        return None
    return found if found.type not in ("unknown", "erased") else None


def _boot_selection(table: PartitionTable, otadata: OtaData | None,
                    contents: list[PartitionContent], notes: list[str],
                    chip: chips.Chip) -> BootSelection | None:
    slots = table.ota_slots
    apps = _app_slots(contents, chip)
    if table.otadata is None:
        if not table.app_partitions:
            return None
        # No otadata partition: the loader starts at the factory index (§5.1).
        return BootSelection(slot=None, copy=None, reason="no otadata partition",
                             factory_fallback=table.factory is not None).loaded_from(apps)
    if otadata is None:
        notes.append("otadata is not in the file; on a freshly erased flash the bootloader "
                     "boots " + ("the factory app" if table.factory else "ota_0"))
        otadata = OtaData.erased()
    return otadata.select(ota_slot_count=len(slots), has_factory=table.factory is not None,
                          apps=apps)


_TEST_SUBTYPE = table_fmt.SUBTYPES[table_fmt.TYPE_APP]["test"]


def _app_slots(contents: list[PartitionContent], chip: chips.Chip) -> AppSlots:
    """The bootloader's partition scan (``bootloader_utility_load_partition_table``).

    A later partition of the same role replaces an earlier one, as in ``bs->ota[]``; every
    OTA partition counts towards ``app_count``, so a gap in the ota_N numbers is a slot
    without a partition.
    """
    slots: dict[int, AppStatus] = {}
    factory: AppStatus | None = None
    test: AppStatus | None = None
    count = 0
    for content in contents:
        part = content.partition
        if not part.is_app:
            continue
        status = _app_status(content, chip) if part.size else None
        if part.is_factory:
            factory = status
        elif part.subtype == _TEST_SUBTYPE:
            test = status
        elif part.ota_index is not None:
            count += 1
            if status is None:
                slots.pop(part.ota_index, None)
            else:
                slots[part.ota_index] = status
    return AppSlots(count, slots, factory, test)


def _app_status(content: PartitionContent, chip: chips.Chip) -> AppStatus:
    """Whether ``bootloader_load_image`` accepts this partition's app, as far as the file shows."""
    part = content.partition
    if content.state == "absent":
        return AppStatus("unknown", f"not in the file (flash {part.offset:#x})")
    if content.state == "erased":
        return AppStatus("invalid", "erased")
    image = content.image
    if image is None:
        return AppStatus("invalid", "no app image")
    if image.truncated and content.covered < part.size:
        return AppStatus("unknown", "the file ends inside its app image")
    if image.problems:
        return AppStatus("invalid", "; ".join(image.problems))
    if image.end > part.size:
        return AppStatus("invalid", f"its {image.end:#x}-byte app is larger than the partition")
    # The checks below are the ones CONFIG_BOOTLOADER_SKIP_VALIDATE_* turns off.
    failed = []
    if image.chip is not None and image.chip != chip:
        failed.append(f"built for {image.chip.title}")
    if not image.checksum_valid:
        failed.append("bad checksum")
    if image.digest_valid is False:
        failed.append("bad SHA-256")
    if failed:
        return AppStatus("invalid", ", ".join(failed), validation_only=True)
    return AppStatus("valid")


def _boot_issues(boot: BootSelection | None) -> list[Issue]:
    """Warn when the bootloader passes over apps: the selected one does not start."""
    if boot is None or not boot.apps_checked:
        return []
    found = []
    if boot.skipped:
        passed = ", ".join(f"{target} ({why})" for target, why in boot.skipped)
        outcome = ("no app boots: the bootloader resets" if boot.target == "none"
                   else f"{boot.target} boots")
        found.append(Issue("warning", "boot-fallback",
                           f"{boot.selected_target} is selected but the bootloader skips "
                           f"{passed}; {outcome}"))
    elif boot.target == "none" and not boot.depends:
        found.append(Issue("warning", "boot-fallback",
                           "no app partition the bootloader can load: it resets"))
    return found


def _looks_like_micropython(contents: list[PartitionContent]) -> bool:
    """A MicroPython table without an explicit filesystem (v1.26 and later).

    MicroPython builds leave the app descriptor's project name and version empty.
    """
    if any(c.partition.name in ("vfs", "ffat") or c.partition.subtype in _FS
           for c in contents if not c.partition.is_app):
        return False
    apps = [c.image for c in contents if c.image is not None and c.image.app_desc is not None]
    return bool(apps) and all(a.app_desc is not None and not a.app_desc.project_name
                              and not a.app_desc.version for a in apps)


def _prefixed(checks: list[Check], label: str) -> list[Check]:
    return [Check(c.name, c.valid, c.offset, f"{label}: {c.detail}") for c in checks]


def _image_summary(image: AppImage) -> str:
    desc = ""
    if image.app_desc is not None:
        desc = " ".join(x for x in (image.app_desc.project_name, image.app_desc.version,
                                    f"IDF {image.app_desc.idf_ver}") if x)
    elif image.bootloader_desc is not None:
        desc = f"IDF {image.bootloader_desc.idf_ver}"
    return f"{image.role} image, {image.end:#x} bytes" + (f", {desc}" if desc else "")


def _content_summary(content: PartitionContent) -> str:
    if content.image is not None:
        return f"{_image_summary(content.image)}, fills {content.fill:.1%}"
    if content.covered < content.partition.size:
        return f"{content.state}, file covers {content.covered:#x} of {content.partition.size:#x}"
    return content.state


# ---------------------------------------------------------------------- unknown data
def _unknown(view: memoryview, path: str | None, reason: str) -> Image:
    return Image(path, len(view), "unknown", reason=reason, data=view,
                 checks=(Check("structure", False, 0, reason),))


def _entropy(view: memoryview) -> float:
    sample = bytes(view[:0x10000])
    counts = [0] * 256
    for b in sample:
        counts[b] += 1
    n = len(sample)
    return -sum(c / n * math.log2(c / n) for c in counts if c)


def _unknown_reason(view: memoryview) -> str:
    if not any(view[:0x10000]):
        return "all zeros: not firmware (erased flash reads as 0xFF, not 0x00)"
    entropy = _entropy(view)
    if entropy > 7.9 and len(view) >= 4096:
        return (f"no ESP image, partition table or otadata found; byte entropy {entropy:.2f} "
                "bits/byte: looks like encrypted flash contents or compressed data")
    return (f"no ESP image (0xE9), partition table (AA 50) or otadata found at offset 0, "
            f"0x1000 or 0x2000 (first bytes {bytes(view[:8]).hex(' ')}); if this is a raw "
            "ESP8266 irom0 blob, it belongs at 0x10000 or 0x40000 next to its 0x00000.bin")


def _esp8266_reason(view: memoryview) -> str:
    if len(view) < esp32_fmt.ImageHeader.SIZE:
        return (f"truncated: image magic 0xE9 but only {len(view)} bytes (an ESP32 image header "
                f"needs {esp32_fmt.ImageHeader.SIZE}, an ESP8266 one 8 plus its segments)")
    chip_id = int.from_bytes(view[12:14], "little")
    return (f"image magic 0xE9 but neither an ESP32-family header (chip id {chip_id:#x}, "
            f"hash_appended {view[23]}) nor a plausible ESP8266 image")


__all__ = ["EspImageError", "Image", "PartitionContent", "Region", "is_erased"]
