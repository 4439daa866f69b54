"""The layout rules behind :meth:`esp_image.partition_table.PartitionTable.validate`.

gen_esp32part's checks (partition-table.md §5) and the bootloader's (§6), each group a
function that appends :class:`~esp_image.checks.Issue` values in rule order: per partition,
placement, otadata, OTA slots, and where the table sits.
"""

from __future__ import annotations

from collections.abc import Callable

from .checks import Issue
from .errors import LayoutError
from .formats.compiled import partition_table as fmt
from .partition_table import _ALL_SUBTYPE_KEYWORDS, _KNOWN_FLAGS, _TYPE_NAMES, Partition
from .units import SECTOR

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from .partition_table import PartitionTable

_Add = Callable[[str, str, str], None]


def _who(p: Partition) -> str:
    return f"partition {p.name!r} at {p.offset:#x}"


def validate_table(table: PartitionTable, *, flash_size: int | None, table_offset: int,
                   bootloader_offset: int | None) -> list[Issue]:
    """The issues :meth:`PartitionTable.validate` reports, in rule order."""
    issues: list[Issue] = []

    def add(severity: str, code: str, message: str) -> None:
        issues.append(Issue(severity, code, message))

    for p in table.partitions:
        _partition_rules(p, flash_size, add)
    first_free = table_offset + fmt.TABLE_SECTOR
    _placement_rules(table, table_offset, first_free, add)
    _otadata_rules(table, add)
    _ota_slot_rules(table, add)
    _table_offset_rules(table, table_offset, first_free, bootloader_offset, add)
    return issues


def _partition_rules(p: Partition, flash_size: int | None, add: _Add) -> None:
    """gen_esp32part ``PartitionDefinition.verify``, plus §6 / §8."""
    align = fmt.APP_ALIGN if p.is_app else fmt.DATA_ALIGN
    if p.offset % align:
        add("error", "misaligned", f"{_who(p)}: offset is not aligned to {align:#x}")
    if p.is_app and p.size % SECTOR:
        add("error", "size-misaligned",
            f"{_who(p)}: app size {p.size:#x} is not a multiple of {SECTOR:#x}")
    if p.name in fmt.TYPES and fmt.TYPES[p.name] != p.type:
        add("warning", "name-mismatch",
            f"{_who(p)}: named like the type {p.name!r} but has type {p.type:#x}")
    elif (p.name in _ALL_SUBTYPE_KEYWORDS
          and fmt.SUBTYPES.get(p.type, {}).get(p.name) != p.subtype):
        add("warning", "name-mismatch",
            f"{_who(p)}: named like the subtype {p.name!r} but has type {p.type:#x} "
            f"subtype {p.subtype:#x}")
    if (p.type == fmt.TYPE_DATA and p.readonly
            and p.subtype in (fmt.SUBTYPE_DATA_OTA, fmt.SUBTYPE_DATA_COREDUMP)):
        add("error", "readonly-not-allowed",
            f"{_who(p)}: data/{p.subtype_name} is always read-write and cannot be readonly")
    if (p.type == fmt.TYPE_DATA and p.subtype == fmt.SUBTYPE_DATA_NVS
            and p.size < fmt.NVS_RW_MIN_SIZE and not p.readonly):
        add("warning", "nvs-too-small",
            f"{_who(p)}: read-write NVS of {p.size:#x} bytes is below "
            f"{fmt.NVS_RW_MIN_SIZE:#x}; flag it readonly (ESP-IDF >= 5.5 refuses it)")
    unknown_flags = p.flags & ~_KNOWN_FLAGS
    if unknown_flags:
        add("warning", "unknown-flags",
            f"{_who(p)}: unknown flag bits {unknown_flags:#x} (kept as they are)")
    if p.type not in _TYPE_NAMES and not 0x40 <= p.type <= 0xFE:
        add("warning", "unknown-type",
            f"{_who(p)}: type {p.type:#x} is reserved for ESP-IDF but unknown")
    elif p.type != fmt.TYPE_DATA and p.type in _TYPE_NAMES and p.subtype_name is None:
        # Data subtypes are open (0x8F romfs, 0x99 eeprom occur in the field); app,
        # bootloader and partition_table subtypes are a closed set.
        add("warning", "subtype-out-of-range",
            f"{_who(p)}: subtype {p.subtype:#x} is not defined for type {p.type_name}")
    try:
        p.label_bytes()
    except LayoutError as exc:
        add("error", "label-too-long", str(exc))
    if flash_size is not None and (p.offset > flash_size or p.size > flash_size - p.offset):
        add("error", "past-flash-end",
            f"{_who(p)}: ends at {p.end:#x}, beyond the {flash_size:#x}-byte flash "
            "(the bootloader rejects the whole table)")


def _placement_rules(table: PartitionTable, table_offset: int, first_free: int,
                     add: _Add) -> None:
    """Unique names; nothing below the table sector; no overlaps."""
    seen: dict[str, Partition] = {}
    for p in table.partitions:
        if p.name in seen:
            add("error", "duplicate-name",
                f"{_who(p)}: name already used by the partition at {seen[p.name].offset:#x}")
        else:
            seen[p.name] = p

    ordered = sorted(table.partitions, key=lambda q: q.offset)  # stable: ties in file order
    previous: Partition | None = None
    for p in ordered:
        if p.offset < first_free and not p._is_primary_fixed:
            add("error", "below-table",
                f"{_who(p)}: starts below {first_free:#x} (table at {table_offset:#x} "
                f"occupies {table_offset:#x}-{first_free - 1:#x})")
        if previous is not None and p.offset < previous.end:
            add("error", "overlap",
                f"{_who(p)} overlaps {previous.name!r} at "
                f"{previous.offset:#x}-{previous.end - 1:#x}")
        if previous is None or p.end > previous.end:
            previous = p


def _otadata_rules(table: PartitionTable, add: _Add) -> None:
    """One otadata (and one TEE otadata) of the fixed size; room for every record."""
    for subtype, what in ((fmt.SUBTYPE_DATA_OTA, "otadata"),
                          (fmt.SUBTYPE_DATA_TEE_OTA, "TEE otadata")):
        found = [p for p in table.partitions
                 if p.type == fmt.TYPE_DATA and p.subtype == subtype]
        if len(found) > 1:
            add("error", "otadata-count",
                f"{len(found)} {what} partitions ("
                + ", ".join(f"{p.name!r} at {p.offset:#x}" for p in found)
                + "); only one is allowed")
        for p in found:
            if p.size != fmt.OTADATA_SIZE:
                add("error", "otadata-size",
                    f"{_who(p)}: {what} size is {p.size:#x}, must be {fmt.OTADATA_SIZE:#x}")

    records = len(table.partitions) + (1 if table.md5 is not None else 0)
    if (records + 1) * fmt.RECORD_SIZE > fmt.TABLE_MAX_LEN:
        add("error", "too-many-partitions",
            f"{len(table.partitions)} partitions do not fit in {fmt.TABLE_MAX_LEN:#x} bytes "
            "with MD5 record and end marker")


def _ota_slot_rules(table: PartitionTable, add: _Add) -> None:
    """OTA slots: unique, contiguous from ota_0, not too many, with an otadata."""
    slots = table.ota_slots
    indices = [p.ota_index for p in slots if p.ota_index is not None]
    by_index: dict[int, list[Partition]] = {}
    for p in slots:
        by_index.setdefault(p.ota_index or 0, []).append(p)
    for index, group in sorted(by_index.items()):
        if len(group) > 1:
            add("error", "ota-duplicate",
                f"ota_{index} is used by " + ", ".join(_who(p) for p in group))
    if indices:
        missing = [i for i in range(max(indices) + 1) if i not in by_index]
        if missing:
            add("error", "ota-gap",
                "OTA slots are not contiguous from ota_0: missing "
                + ", ".join(f"ota_{i}" for i in missing)
                + " (the app counts only contiguous slots; later slots are unbootable)")
    if len(slots) > fmt.MAX_OTA_SLOTS:
        add("error", "too-many-ota-slots",
            f"{len(slots)} OTA app partitions; at most {fmt.MAX_OTA_SLOTS} are supported")
    if len(slots) == 1:
        add("warning", "single-ota-slot",
            f"only one OTA slot ({_who(slots[0])}): over-the-air updates need two")
    otadata = table.otadata
    if otadata is not None and not slots:
        add("warning", "otadata-without-slots",
            f"{_who(otadata)}: otadata without OTA app slots (the bootloader boots factory)")
    if slots and otadata is None:
        add("warning", "slots-without-otadata",
            "OTA app slots without an otadata partition (the bootloader always boots "
            f"{'factory' if table.factory else 'ota_0'})")


def _table_offset_rules(table: PartitionTable, table_offset: int, first_free: int,
                        bootloader_offset: int | None, add: _Add) -> None:
    """The table sector: aligned, above the bootloader, clear of a bootloader entry."""
    if table_offset % SECTOR:
        add("error", "table-misaligned",
            f"table offset {table_offset:#x} is not a multiple of {SECTOR:#x}")
    if bootloader_offset is not None and table_offset <= bootloader_offset < first_free:
        add("error", "table-overlaps-bootloader",
            f"table sector {table_offset:#x}-{first_free - 1:#x} overlaps the bootloader "
            f"at {bootloader_offset:#x}")
    elif bootloader_offset is not None and table_offset < bootloader_offset:
        add("error", "table-overlaps-bootloader",
            f"table at {table_offset:#x} lies below the bootloader at {bootloader_offset:#x}")
    for p in table.partitions:
        if (p.type == fmt.TYPE_BOOTLOADER and p.subtype == fmt.SUBTYPE_PRIMARY
                and p.offset < first_free and p.end > table_offset):
            add("error", "table-overlaps-bootloader",
                f"{_who(p)}: bootloader region {p.offset:#x}-{p.end - 1:#x} overlaps the "
                f"table sector at {table_offset:#x}")
