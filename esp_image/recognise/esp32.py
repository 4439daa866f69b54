"""The ESP32-family recognisers: single images, merged and dumped flash files, bare tables
and bare otadata, each as an :class:`~esp_image.image.Image`.

Flash addresses are canonical: ``base`` is the flash address of file byte 0.
"""

from __future__ import annotations

from .. import chips
from ..app_image import AppImage
from ..checks import Check, Issue
from ..errors import EspImageError, FormatError
from ..formats.compiled import esp32_image as esp32_fmt
from ..formats.compiled import otadata as ota_fmt
from ..formats.compiled import partition_table as table_fmt
from ..idf_versions import enforces
from ..image import (
    DEFAULT_TABLE_OFFSET,
    TABLE_AREA,
    Builder,
    Image,
    PartitionContent,
    TableArea,
    flash_end,
    image_summary,
    layout_check,
    prefixed,
    read_partition,
    readable_size,
    single_image,
)
from ..otadata import (
    AppSlots,
    AppStatus,
    BootSelection,
    OtaData,
    erased_otadata_note,
    looks_like_otadata,
)
from ..partition_table import PartitionTable
from ..spans import ErasedIndex, is_erased
from ..units import SECTOR, align_up, format_size

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from ..data_content import DataContent
    from ..filesystems import FileSystemInfo
    from ..image import ContentState, RegionKind
    from ..partition_table import Partition


def plausible_esp32(view: memoryview, pos: int, forced: chips.Chip | None
                     ) -> chips.Chip | None:
    """The chip of a plausible ESP32-family header at ``pos``, else None.

    The header's own chip id wins: a forced ESP32-family chip only fills in for a header too
    short to hold one or with an unknown id (a disagreeing ``--chip`` is a failed ``chip``
    check, see :func:`esp_image.recognise.chip_check`).
    """
    own = header_chip(view, pos)
    if own is not None and view[pos + 23] in (0, 1):
        return own
    return forced if forced is not None and forced.chip_id is not None else None


def header_chip(view: memoryview, pos: int) -> chips.Chip | None:
    """The released chip an ESP32-family header at ``pos`` names, else None."""
    if len(view) - pos < esp32_fmt.ImageHeader.SIZE:
        return None
    chip_id = int.from_bytes(view[pos + 12:pos + 14], "little")
    return chips.chip_by_id(chip_id) if chips.is_known_chip_id(chip_id) else None




def esp32_at_zero(view: memoryview, chip: chips.Chip) -> Image:
    """0xE9 at file offset 0: a single image, or a merged file starting at the bootloader."""
    base = chip.bootloader_offset
    table_pos = DEFAULT_TABLE_OFFSET - base
    if len(view) > table_pos + 32 and bytes(view[table_pos:table_pos + 2]) == table_fmt.MAGIC:
        return flash(view, chip, base=base)
    try:
        image = AppImage.from_bytes(view, 0)
    except FormatError as exc:
        return Image(None, len(view), "image", chip=chip, data=view,
                     checks=(Check("structure", False, 0, exc.reason),))
    # A merged file whose table was relocated (large secure-boot bootloaders push it up).
    if image.role == "bootloader" and image.trailing:
        found = _scan_for_table(view, image.end, base)
        if found is not None:
            return flash(view, chip, base=base)
    return _single(view, image)


def _single(view: memoryview, image: AppImage) -> Image:
    issues: list[Issue] = []
    notes: list[str] = []
    if image.chip is not None and image.flash_size is None:
        issues.append(Issue("warning", "flash-size-code",
                            f"flash size code {image.header.spi_size:#x} is invalid; the "
                            "bootloader treats it as 2MB"))
    if image.role_from_memory_map:
        notes.append("no bootloader descriptor (ESP-IDF < 5.2 or another build system): role "
                     "from the memory map, as every segment loads into internal RAM and the "
                     "entry point is there, which is what the boot ROM runs as the second-stage "
                     "bootloader (a RAM-only app flashed at the bootloader offset looks the same)")
    issues.extend(version_rule_issues(image, None, image.role))
    if image.role == "app" and image.chip is not None:
        from ..app_image import mmu_page_size

        page = mmu_page_size(image.segments, image.chip, image.app_desc, None)
        if page is not None and page != 0x10000:
            notes.append(f"flash-mapped segments are laid out for {page // 1024}KB MMU pages")
    return single_image(view, image, image.chip, notes, issues,
                        erased_tail=" (a partition read-out)",
                        data_tail=" (a previous image, the next partition, or unrecognised data)")


def version_rule_issues(image: AppImage, bootloader: AppImage | None, name: str
                        ) -> list[Issue]:
    """Warnings for the rules only newer bootloaders enforce that ``image`` breaks (errors are
    :func:`version_rule_checks`, for a file whose own bootloader enforces them)."""
    idf = _bootloader_idf(bootloader)
    return [Issue("warning", rule.code,
                  f"{name}: {message}; only ESP-IDF bootloaders from {rule.since_text} reject it"
                  + ("" if bootloader is None else
                     f" (this file's bootloader is {idf or 'older than ESP-IDF 5.2'})"))
            for rule, message in image.version_rules if not enforces(idf, rule)]


def version_rule_checks(image: AppImage, bootloader: AppImage | None, offset: int, name: str
                        ) -> list[Check]:
    """Failed checks for the rules ``image`` breaks that the file's own bootloader enforces."""
    idf = _bootloader_idf(bootloader)
    if bootloader is None:
        return []
    return [Check("structure", False, offset,
                  f"{name}: {message}; the bootloader in this file (ESP-IDF {idf}) rejects it "
                  f"(ESP-IDF bootloaders from {rule.since_text} do)")
            for rule, message in image.version_rules if enforces(idf, rule)]


def _bootloader_idf(bootloader: AppImage | None) -> str | None:
    """The ESP-IDF version a bootloader states (descriptor, or an app descriptor some custom
    bootloaders carry); None for one without (ESP-IDF < 5.2)."""
    if bootloader is None:
        return None
    if bootloader.bootloader_desc is not None:
        return bootloader.bootloader_desc.idf_ver
    return bootloader.app_desc.idf_ver if bootloader.app_desc is not None else None


DIRECT_BOOT_MAGIC = bytes.fromhex("1d04dbae") * 2
_FLASH_CODE = 0x42000000  # where the ROM maps flash for direct boot, code side
_C3_DROM = 0x3C000000  # the ESP32-C2/C3 read-only data window (chips.MEMORY_MAPS)


def direct_boot(view: memoryview, forced: chips.Chip | None) -> Image | None:
    """A direct-boot image: the ROM finds no 0xE9 image but 0xAEDB041D twice at flash 0, maps
    flash at 0x42000000 (and the C3's DROM window) and jumps to offset 8 (Espressif's
    esp32c3-direct-boot-example). The file names no chip; its data pointers can."""
    if bytes(view[:8]) != DIRECT_BOOT_MAGIC:
        return None
    sample = view[:min(len(view), 0x10000) & ~3]
    words = memoryview(bytes(sample)).cast("I")
    span = len(view)
    drom = sum(1 for w in words if _C3_DROM <= w < _C3_DROM + span)
    code = sum(1 for w in words if _FLASH_CODE <= w < _FLASH_CODE + span)
    chip = forced if forced is not None and forced.chip_id is not None else None
    if drom >= 2:
        evidence = (f"{drom} words point into 0x3C000000 (where the ESP32-C2/C3 ROM maps flash "
                    "for read-only data)")
        chip = chip or chips.chip_by_name("esp32c3")
        guess = "ESP32-C3 (an ESP32-C2 build looks the same: pass --chip esp32c2)"
    else:
        evidence = f"{code} words point into 0x42000000 and none into a separate data window"
        guess = ("a chip whose code and data share the 0x42000000 window, such as the ESP32-H2 "
                 "(pass --chip)")
    notes = ("direct boot (no second-stage bootloader): the ROM runs it only when flash 0 holds "
             "no valid 0xE9 image, secure boot is off and eFuse DIS_DIRECT_BOOT is not set; it "
             "maps flash at 0x42000000 and jumps to 0x42000008",
             f"the file does not name its chip; {evidence}: {guess}")
    detail = {"format": "direct-boot", "role": "app", "entry": _FLASH_CODE + 8,
              "segments": [], "length": len(view)}
    return Image(None, len(view), "image", chip=chip, data=view, notes=notes,
                 checks=(Check("structure", True, 0, "direct-boot magic 0xaedb041d twice; "
                                                     "the format has no checksum"),),
                 details={"image": detail})


def bare_table(view: memoryview) -> Image | None:
    """A bare partition table (``AA 50`` at 0)."""
    if bytes(view[:2]) != table_fmt.MAGIC:
        return None
    try:
        table = PartitionTable.from_bytes(view[:TABLE_AREA])
    except FormatError as exc:
        return Image(None, len(view), "partition-table", data=view,
                     checks=(Check("structure", False, exc.offset or 0, str(exc)),))
    checks = [Check("structure", True, 0, f"{len(table.partitions)} partitions"),
              *table.checks(0)]
    issues = tuple(table.validate())
    checks.insert(1, layout_check(issues, 0, "partition layout passes the bootloader's rules"))
    notes: list[str] = []
    if table.signature is not None:
        notes.append(f"the table is signed (Secure Boot v1 signature at "
                     f"{table_fmt.TABLE_MAX_LEN:#x}); editing it breaks the signature")
    if len(view) > TABLE_AREA:
        notes.append(f"{len(view) - TABLE_AREA:#x} bytes after the 4KB table sector")
    return Image(None, len(view), "partition-table", table=table, checks=tuple(checks),
                 issues=issues, notes=tuple(notes), data=view)


def bare_otadata(view: memoryview) -> Image | None:
    """Bare otadata: exactly 8 KiB shaped like two OTA selection records, or all erased (ESP-IDF's
    ``ota_data_initial.bin``, which ``idf.py flash`` writes to a fresh otadata partition)."""
    if len(view) == ota_fmt.OTADATA_SIZE and is_erased(view):
        return _erased_otadata(view)
    if not looks_like_otadata(view):
        return None
    otadata = OtaData.from_bytes(view)
    checks = [Check("structure", True, 0, "two OTA selection records"), *otadata.checks(0)]
    # Without a table the slot count is unknown; report for the common two-slot layout.
    boot = otadata.select(ota_slot_count=2, has_factory=False)
    notes = ("boot slot assumes a table with two OTA slots and no factory app",)
    return Image(None, len(view), "otadata", otadata=otadata, boot=boot, checks=tuple(checks),
                 notes=notes, data=view)


def _erased_otadata(view: memoryview) -> Image:
    otadata = OtaData.erased()
    checks = [Check("structure", True, 0, "two erased OTA selection records"),
              *otadata.checks(0)]
    # bootloader_utility_get_selected_boot_partition: both copies blank -> FACTORY_INDEX;
    # bootloader_utility_load_boot_image then falls back to test, then ota_0, ota_1 ...
    notes = (f"{erased_otadata_note(view)}; 8 KiB of erased flash reads the same",)
    boot = otadata.select(ota_slot_count=2, has_factory=False)
    return Image(None, len(view), "otadata", otadata=otadata, boot=boot, checks=tuple(checks),
                 notes=notes, data=view)


TABLE_SCAN_END = 0x100000
"""A table not at the default offset is looked for on 4 KiB boundaries up to this flash
address (ESP-IDF's CONFIG_PARTITION_TABLE_OFFSET values stay well below it)."""


def _scan_for_table(view: memoryview, after: int, base: int) -> int | None:
    """File offset of a partition table at a 4 KiB boundary after ``after``, if any.

    A table whose MD5 record matches wins; failing that, the first one that parses (so that a
    damaged relocated table is reported by its ``md5`` check instead of going unnoticed).
    """
    start = align_up(after, SECTOR)
    stop = min(len(view), TABLE_SCAN_END - base)
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
def flash(view: memoryview, chip: chips.Chip, base: int) -> Image:
    """A flash file whose byte 0 is flash ``base``: bootloader, table, partitions."""
    b = Builder(view, base)
    bootloader = _bootloader(b, chip)
    flash_size = bootloader.flash_size if bootloader else None
    boot_end = chip.bootloader_offset - base + (bootloader.end if bootloader else 0)
    table_pos, table = _table(b, boot_end)
    contents: list[PartitionContent] = []
    otadata: OtaData | None = None
    boot: BootSelection | None = None
    table_address = table_pos + base if table_pos is not None else None
    if table is not None and table_pos is not None:
        contents, otadata, boot = _table_and_partitions(b, chip, bootloader, table, table_pos)
    end_address = base + len(view)
    if flash_size is not None and end_address > flash_size:
        b.issues.append(Issue("warning", "file-past-flash-size",
                              f"the file reaches flash {end_address:#x}, past the "
                              f"{format_size(flash_size)} in the bootloader header"))
    return b.finish("flash", chip, bootloader=bootloader, table=table,
                    table_address=table_address, otadata=otadata, boot=boot,
                    partitions=tuple(contents))


def _bootloader(b: Builder, chip: chips.Chip) -> AppImage | None:
    """The stretch before the bootloader and the bootloader itself."""
    view = b.view
    boot_pos = chip.bootloader_offset - b.base
    if boot_pos > 0:
        if is_erased(view[:boot_pos]):
            b.region(0, boot_pos, "erased", "(before bootloader)")
        elif chip.name == "esp32":
            b.region(0, boot_pos, "data", "secure-boot-digest",
                     "not erased: Secure Boot v1 IV + digest block (ESP32 reflashable mode)")
        else:
            b.region(0, boot_pos, "data", "(before bootloader)", "not erased")
    try:
        bootloader = AppImage.from_bytes(view, boot_pos, flash_offset=chip.bootloader_offset,
                                         role_hint="bootloader")
    except FormatError as exc:
        b.checks.append(Check("structure", False, boot_pos, f"bootloader: {exc.reason}"))
        return None
    b.image(bootloader, boot_pos, "bootloader")
    if bootloader.chip is not None and bootloader.chip != chip:
        b.issues.append(Issue("error", "chip-mismatch",
                              f"bootloader is for {bootloader.chip.title}, expected "
                              f"{chip.title}"))
    return bootloader


def _table(b: Builder, boot_end: int) -> tuple[int | None, PartitionTable | None]:
    """The partition table: at the default offset, else the first valid one after the
    bootloader; its file offset (None when there is none) and the parsed table."""
    view = b.view
    default_pos = DEFAULT_TABLE_OFFSET - b.base
    table_pos: int | None = None
    if len(view) > default_pos + 32 and bytes(view[default_pos:default_pos + 2]) == table_fmt.MAGIC:
        table_pos = default_pos
    else:
        table_pos = _scan_for_table(view, boot_end, b.base)
        if table_pos is not None:
            b.notes.append(f"partition table found at {table_pos + b.base:#x}, not at the "
                           f"default {DEFAULT_TABLE_OFFSET:#x}")
    if table_pos is None:
        b.issues.append(Issue("warning", "no-table", "no partition table found in the file"))
        return None, None
    try:
        return table_pos, PartitionTable.from_bytes(view[table_pos:table_pos + TABLE_AREA])
    except FormatError as exc:
        b.checks.append(Check("structure", False, table_pos, f"partition table: {exc}"))
        return table_pos, None


def _table_and_partitions(b: Builder, chip: chips.Chip, bootloader: AppImage | None,
                          table: PartitionTable, table_pos: int
                          ) -> tuple[list[PartitionContent], OtaData | None,
                                     BootSelection | None]:
    """The table's region and checks, every partition's contents, the boot answer."""
    base = b.base
    table_address = table_pos + base
    flash_size = bootloader.flash_size if bootloader else None
    b.region(table_pos, TABLE_AREA, "partition-table", "partition-table",
             f"{len(table.partitions)} partitions",
             model=TableArea(table, min(TABLE_AREA, len(b.view) - table_pos)))
    b.checks.append(Check("structure", True, table_pos,
                          f"partition table: {len(table.partitions)} partitions"))
    b.checks.extend(prefixed(table.checks(table_pos), "partition table"))
    if table.signature is not None:
        b.notes.append(f"the partition table is signed (Secure Boot v1 signature at "
                       f"{table_address + table_fmt.TABLE_MAX_LEN:#x}); editing it breaks the "
                       "signature")
    table_issues = list(table.validate(flash_size=flash_size, table_offset=table_address,
                                       bootloader_offset=chip.bootloader_offset))
    if bootloader is not None and chip.bootloader_offset + bootloader.end > table_address:
        table_issues.append(Issue(
            "error", "bootloader-overlaps-table",
            f"bootloader ends at {chip.bootloader_offset + bootloader.end:#x}, past the "
            f"partition table at {table_address:#x}"))
    contents, otadata, more_checks, more_issues = _partitions(b.view, base, table, chip,
                                                              bootloader)
    b.checks.extend(more_checks)
    table_issues.extend(more_issues)
    b.checks.append(layout_check(table_issues, table_pos,
                                 "partition layout passes the bootloader's rules"))
    b.issues.extend(table_issues)
    boot = _boot_selection(table, otadata, contents, b.notes, chip, bootloader=bootloader)
    b.issues.extend(_boot_issues(boot))
    for content in contents:
        if content.covered:
            _content_region(b, content, otadata)
    if _looks_like_micropython(contents):
        b.notes.append("no vfs/ffat partition: MicroPython >= 1.26 creates a vfs at run time "
                       "from the end of the last partition to the physical end of flash")
    return contents, otadata, boot


def _content_region(b: Builder, content: PartitionContent, otadata: OtaData | None) -> None:
    part = content.partition
    kind: RegionKind = "image" if content.state == "image" else \
        "erased" if content.state == "erased" else "data"
    if content.content is not None:
        kind = content.content.kind
    elif content.filesystem is not None:
        kind = "filesystem"
    model: object = content.image
    if part.is_otadata and otadata is not None:
        kind = "otadata"
        # The otadata model rebuilds its two sectors only where the file holds both.
        model = otadata if content.covered >= ota_fmt.OTADATA_SIZE else None
    b.region(part.offset - b.base, content.covered, kind, part.name, _content_summary(content),
             model=model)


def _partitions(view: memoryview, base: int, table: PartitionTable, chip: chips.Chip,
                bootloader: AppImage | None
                ) -> tuple[list[PartitionContent], OtaData | None, list[Check], list[Issue]]:
    flash_size = bootloader.flash_size if bootloader else None
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
        if part.is_app:
            contents.append(_app_partition(
                view, part, start, stop, covered=covered, chip=chip, bootloader=bootloader,
                erased_index=erased_index, parsed=parsed, checks=checks, issues=issues))
            continue
        erased = erased_index.erased(start, stop)
        if part.is_otadata and covered >= ota_fmt.OTADATA_SIZE and not erased:
            try:
                otadata = OtaData.from_bytes(view[start:start + ota_fmt.OTADATA_SIZE])
            except FormatError as exc:
                checks.append(Check("structure", False, start, f"{part.name}: {exc.reason}"))
            else:
                checks.extend(prefixed(otadata.checks(start), part.name))
        elif part.is_otadata and covered >= ota_fmt.OTADATA_SIZE:
            otadata = OtaData.erased()
        found = content = None
        if not erased and not part.is_otadata and part.subtype not in _NOT_FS \
                and id(part) not in overlapping:
            found = find_filesystem(read_partition(view, start, readable_size(part, end)))
            if found is not None and not found.valid:
                # the device cannot use it (MicroPython reformats or refuses it): damage
                checks.append(Check("filesystem", False, start,
                                    f"{part.name}: damaged {found.type} ({found.detail})"))
        if not erased and found is None and not part.is_otadata and id(part) not in overlapping:
            content = _data_content(view, table, part, start, end, checks=checks,
                                    issues=issues)
        contents.append(PartitionContent(part, covered, "erased" if erased else "data",
                                         filesystem=found, content=content))
    return contents, otadata, checks, issues


def _app_partition(view: memoryview, part: Partition, start: int, stop: int, *, covered: int,
                   chip: chips.Chip, bootloader: AppImage | None, erased_index: ErasedIndex,
                   parsed: dict[tuple[int, int], AppImage | FormatError],
                   checks: list[Check], issues: list[Issue]) -> PartitionContent:
    """An app partition's contents, its checks and the bootloader's rules it breaks (an image
    is parsed once per span: ``parsed`` is shared by every partition of the table)."""
    sub = view[:stop]
    if sub[start] != esp32_fmt.MAGIC:
        state: ContentState = "erased" if erased_index.erased(start, stop) else "invalid"
        if state == "invalid":
            issues.append(Issue("warning", "no-app-image",
                                f"app partition {part.name!r} at {part.offset:#x} does "
                                "not start with an image"))
        return PartitionContent(part, covered, state)
    if (start, stop) not in parsed:
        try:
            parsed[start, stop] = AppImage.from_bytes(sub, start, flash_offset=part.offset,
                                                      role_hint="app")
        except FormatError as exc:
            parsed[start, stop] = exc
    image = parsed[start, stop]
    if isinstance(image, FormatError):
        checks.append(Check("structure", False, start, f"{part.name}: {image.reason}"))
        return PartitionContent(part, covered, "invalid")
    checks.extend(prefixed(image.checks(start), part.name))
    checks.extend(version_rule_checks(image, bootloader, start, part.name))
    issues.extend(version_rule_issues(image, bootloader, f"app in {part.name!r}"))
    issues.extend(_app_issues(image, part, covered, chip, bootloader))
    return PartitionContent(part, covered, "image", image)


def _app_issues(image: AppImage, part: Partition, covered: int, chip: chips.Chip,
                bootloader: AppImage | None) -> list[Issue]:
    """Size, flash-size and chip disagreements between an app and its partition and bootloader."""
    flash_size = bootloader.flash_size if bootloader else None
    issues = []
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
    return issues


def _data_content(view: memoryview, table: PartitionTable, part: Partition, start: int,
                  end: int, *, checks: list[Check], issues: list[Issue]) -> DataContent | None:
    """NVS, nvs_keys, esp_secure_cert or a core dump in a data partition, its checks and
    warnings added (prefixed with the partition's name); encrypted NVS is read with the
    file's own nvs_keys partition when it has one."""
    from ..data_content import file_nvs_keys, read_partition_content, shifted

    keys = None
    base = part.offset - start
    if part.type == table_fmt.TYPE_DATA and part.subtype == table_fmt.SUBTYPE_DATA_NVS:
        keys = file_nvs_keys([(p, read_partition(view, p.offset - base,
                                                 min(0x44, readable_size(p, end))))
                              for p in table if p.type == table_fmt.TYPE_DATA
                              and p.subtype == _NVS_KEYS and p.offset >= base])
    content = read_partition_content(
        part, read_partition(view, start, readable_size(part, end)), keys)
    if content is not None:
        checks.extend(prefixed(shifted(content.checks, start), part.name))
        issues.extend(Issue("warning", "nvs-recoverable", f"{part.name}: {w}")
                      for w in content.warnings)
    return content


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
_NVS_KEYS = table_fmt.SUBTYPES[table_fmt.TYPE_DATA]["nvs_keys"]
_FS = frozenset({table_fmt.SUBTYPE_DATA_FAT, table_fmt.SUBTYPE_DATA_SPIFFS,
                 table_fmt.SUBTYPE_DATA_LITTLEFS})


def find_filesystem(data: bytes | memoryview) -> FileSystemInfo | None:
    """The filesystem in a partition's bytes."""
    from ..filesystems import detect

    try:
        found = detect(data)
    except EspImageError:
        return None
    return found if found.type not in ("unknown", "erased") else None


def _boot_selection(table: PartitionTable, otadata: OtaData | None,
                    contents: list[PartitionContent], notes: list[str],
                    chip: chips.Chip, *, bootloader: AppImage | None) -> BootSelection | None:
    slots = table.ota_slots
    apps = app_slots(contents, chip, _bootloader_idf(bootloader))
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


def app_slots(contents: list[PartitionContent], chip: chips.Chip,
              bootloader_idf: str | None = None) -> AppSlots:
    """The bootloader's partition scan (``bootloader_utility_load_partition_table``), by a
    bootloader of ESP-IDF ``bootloader_idf`` (None: one older than 5.2).

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
        status = _app_status(content, chip, bootloader_idf) if part.size else None
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


def _app_status(content: PartitionContent, chip: chips.Chip, bootloader_idf: str | None
                ) -> AppStatus:
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
    enforced = [message for rule, message in image.version_rules
                if enforces(bootloader_idf, rule)]
    if enforced:
        return AppStatus("invalid", "; ".join(enforced))
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




def _content_summary(content: PartitionContent) -> str:
    if content.image is not None:
        return f"{image_summary(content.image)}, fills {content.fill:.1%}"
    if content.content is not None:
        return content.content.summary
    if content.filesystem is not None:
        fs = content.filesystem
        return f"{fs.version or fs.type}: {fs.detail}" if fs.detail else fs.version or fs.type
    if content.covered < content.partition.size:
        return f"{content.state}, file covers {content.covered:#x} of {content.partition.size:#x}"
    return content.state
