"""Pure transforms of a :class:`~esp_image.partition_table.PartitionTable`.

Every function takes a table and returns a new one (``dataclasses.replace``); the input is never
changed. A transform that cannot produce a device-safe result raises
:class:`~esp_image.errors.LayoutError` naming the partition, the addresses and the rule. The
``parse_*_spec`` helpers turn command-line text into arguments and raise ``ValueError`` (like
:func:`esp_image.units.parse_size`) with the spec and the expected form.

Rules applied (shared/docs/formats/partition-table.md §5-§7):

- app partitions start on a 64 KiB boundary, every other type on a 4 KiB boundary;
- sizes given to these transforms are whole 4 KiB sectors (erase granularity; mp-image-tool
  requires the same);
- nothing may end past ``flash_size`` or overlap another partition;
- names are unique, non-empty and fit the 16-byte label.

"Following" partitions are those with a higher offset (the table's own order is kept in the
result, and an added partition is inserted before the first entry with a higher offset, so a
table in offset order stays in offset order).

:func:`check_table` is the pre-flight check the CLI runs before writing anything.
"""

from __future__ import annotations

from dataclasses import replace

from ..checks import Issue
from ..errors import LayoutError
from ..formats.compiled import partition_table as fmt
from ..partition_table import Partition, PartitionTable
from ..units import SECTOR, align_down, align_up, parse_size

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "add_partition",
    "check_table",
    "delete_partition",
    "describe_changes",
    "parse_add_spec",
    "parse_rename_spec",
    "parse_resize_spec",
    "parse_subtype",
    "parse_type",
    "rename_partition",
    "resize_partition",
    "set_app_size",
]

_TYPE_CHOICES = ", ".join(fmt.TYPES) + " or a number"


# ---------------------------------------------------------------------------- helpers


def _where(p: Partition) -> str:
    return f"{p.name!r} at {p.offset:#x} (size {p.size:#x})"


def _align_for(ptype: int) -> int:
    return fmt.APP_ALIGN if ptype == fmt.TYPE_APP else fmt.DATA_ALIGN


def _by_offset(table: PartitionTable) -> list[int]:
    """Indices of the table's partitions in offset order (ties keep table order)."""
    return sorted(range(len(table.partitions)), key=lambda i: table.partitions[i].offset)


def _index(table: PartitionTable, name: str) -> int:
    for i, p in enumerate(table.partitions):
        if p.name == name:
            return i
    names = ", ".join(repr(p.name) for p in table.partitions) or "none"
    raise LayoutError(f"no partition named {name!r} (partitions: {names})")


def _rebuilt(table: PartitionTable, partitions: Iterable[Partition]) -> PartitionTable:
    """``table`` with new partitions; the MD5 digest is recomputed if the table has one."""
    parts = tuple(partitions)
    if not parts:
        raise LayoutError("a partition table needs at least one partition")
    records = len(parts) + (1 if table.md5 is not None else 0) + 1  # + end marker
    if records * fmt.RECORD_SIZE > fmt.TABLE_MAX_LEN:
        raise LayoutError(
            f"{len(parts)} partitions do not fit in the {fmt.TABLE_MAX_LEN:#x}-byte table "
            "(at most 94 with the MD5 record)"
        )
    new = replace(table, partitions=parts, md5=None)
    if table.md5 is not None:
        new = replace(new, md5=new.computed_md5)
    return new


def _check_sector_size(size: int, what: str) -> None:
    if size < 0 or size % SECTOR:
        raise LayoutError(
            f"{what}: size {size:#x} is not a whole number of {SECTOR:#x}-byte flash sectors"
        )


def _check_name(name: str, table: PartitionTable, *, skip: int | None = None) -> None:
    if not name:
        raise LayoutError("a partition name cannot be empty")
    if "\0" in name:
        raise LayoutError(f"partition name {name!r} contains a NUL character")
    encoded = name.encode("utf-8")
    if len(encoded) > fmt.LABEL_SIZE:
        raise LayoutError(
            f"partition name {name!r} is {len(encoded)} bytes in UTF-8; the label holds "
            f"{fmt.LABEL_SIZE}"
        )
    for i, p in enumerate(table.partitions):
        if i != skip and p.name == name:
            raise LayoutError(f"a partition named {name!r} already exists (at {p.offset:#x})")


def _is_otadata_kind(ptype: int, subtype: int) -> bool:
    """data/ota or data/tee_ota: exactly 0x2000 bytes, at most one of each (spec §5 rule 9)."""
    return ptype == fmt.TYPE_DATA and subtype in (fmt.SUBTYPE_DATA_OTA, fmt.SUBTYPE_DATA_TEE_OTA)


def _number(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None


# ---------------------------------------------------------------------------- type names


def parse_type(value: str | int) -> int:
    """A partition type from a keyword (``app``, ``data``, ``bootloader``, ``partition_table``,
    any case) or a number (``int(x, 0)``), 0..0xFE.

    Raises:
        ValueError: neither a keyword nor a number in range.
    """
    if isinstance(value, str):
        text = value.strip()
        number = fmt.TYPES.get(text.lower(), _number(text))
        if number is None:
            raise ValueError(f"{value!r} is not a partition type ({_TYPE_CHOICES})")
    else:
        number = value
    if not 0 <= number <= 0xFE:
        raise ValueError(f"partition type {number:#x} is out of range (0x00-0xfe)")
    return number


def parse_subtype(ptype: int, value: str | int) -> int:
    """A subtype of ``ptype`` from the type's keyword (any ESP-IDF name: ``factory``, ``ota_3``,
    ``nvs``, ``spiffs``, ``littlefs``, ``coredump``, ``nvs_keys``, ``efuse``, ``undefined``, ...)
    or a number (``0x8f``). Empty means ``undefined`` (0x06) for every type but app, as in an
    ESP-IDF CSV.

    Raises:
        ValueError: unknown keyword, empty app subtype, or a number outside 0..0xFF.
    """
    if isinstance(value, str):
        text = value.strip()
        keywords = fmt.SUBTYPES.get(ptype, {})
        if not text:
            if ptype == fmt.TYPE_APP:
                raise ValueError("an app partition needs a subtype (factory, ota_0..ota_15, test)")
            return fmt.SUBTYPE_DATA_UNDEFINED
        number = keywords.get(text.lower(), _number(text))
        if number is None:
            known = ", ".join(keywords) if keywords else "none for this type"
            raise ValueError(
                f"{value!r} is not a subtype of type {ptype:#04x} (known names: {known}; "
                "or a number)"
            )
    else:
        number = value
    if not 0 <= number <= 0xFF:
        raise ValueError(f"partition subtype {number:#x} is out of range (0x00-0xff)")
    return number


# ---------------------------------------------------------------------------- transforms


def _resize_at(table: PartitionTable, index: int, size: int, *, flash_size: int) -> PartitionTable:
    parts = list(table.partitions)
    p = parts[index]
    _check_sector_size(size, f"cannot resize {_where(p)}")
    order = _by_offset(table)
    following = order[order.index(index) + 1 :]
    if size == 0:
        limit = min(parts[following[0]].offset, flash_size) if following else flash_size
        size = align_down(limit - p.offset, SECTOR) if limit > p.offset else 0
        if size <= 0:
            after = f"{parts[following[0]].name!r}" if following else "the end of flash"
            raise LayoutError(
                f"cannot grow {_where(p)} into free space: {after} starts at {limit:#x}"
            )
    if _is_otadata_kind(p.type, p.subtype) and size != fmt.OTADATA_SIZE:
        raise LayoutError(
            f"cannot resize {_where(p)}: an otadata partition must be exactly "
            f"{fmt.OTADATA_SIZE:#x} bytes"
        )
    resized = replace(p, size=size)
    if resized.end > flash_size:
        raise LayoutError(
            f"{p.name!r} at {p.offset:#x} with size {size:#x} would end at {resized.end:#x}, "
            f"past the end of the {flash_size:#x}-byte flash"
        )
    parts[index] = resized
    prev_end = resized.end
    for k, j in enumerate(following):
        q = parts[j]
        if q.offset < prev_end:
            q = replace(q, offset=align_up(prev_end, _align_for(q.type)))
        if q.end > flash_size:
            room = align_down(flash_size - q.offset, SECTOR) if flash_size > q.offset else 0
            if k != len(following) - 1 or room <= 0:
                raise LayoutError(
                    f"no room: with {p.name!r} at size {size:#x}, {q.name!r} would start at "
                    f"{q.offset:#x} and end at {q.end:#x}, past the end of the "
                    f"{flash_size:#x}-byte flash"
                )
            if q.is_app or q.is_otadata:
                kind = "app" if q.is_app else "otadata"
                raise LayoutError(
                    f"no room: with {p.name!r} at size {size:#x}, the last partition {q.name!r} "
                    f"({kind}) would have to shrink from {q.size:#x} to {room:#x} to end within "
                    f"the {flash_size:#x}-byte flash; resize or delete it first"
                )
            q = replace(q, size=room)
        parts[j] = q
        prev_end = max(prev_end, q.end)
    return _rebuilt(table, parts)


def resize_partition(
    table: PartitionTable, name: str, size: int, *, flash_size: int
) -> PartitionTable:
    """Resize partition ``name`` (mp-image-tool ``--resize NAME=SIZE``).

    ``size`` 0 grows the partition into the free space after it: up to the next partition's
    offset or the end of flash. Growing moves every following partition that would overlap up
    to the end of the previous one (apps to the next 64 KiB boundary); the last partition, if it
    then runs past the flash end, is shrunk to end exactly there. Shrinking leaves the following
    partitions where they are (their contents stay valid), as mp-image-tool does.

    Differences from mp-image-tool: moved apps keep their 64 KiB alignment (mp-image-tool moves
    them to unaligned offsets and then fails its own check), an app or otadata partition is never
    shrunk to make room, and every failure is a LayoutError with the reason.

    Raises:
        LayoutError: unknown name, size not a multiple of 0x1000, an otadata size other than
            0x2000, the partition itself would end past the flash, a following partition would
            be pushed past it, or no free space.
    """
    return _resize_at(table, _index(table, name), size, flash_size=flash_size)


def set_app_size(table: PartitionTable, size: int, *, flash_size: int) -> PartitionTable:
    """Resize every app partition to ``size`` in offset order (mp-image-tool ``-a SIZE``).

    Each step is :func:`resize_partition`, so following partitions move up and the last one
    shrinks to fit the flash.

    Raises:
        LayoutError: ``size`` not positive or not a multiple of 0x1000, no app partition, or a
            resize step fails.
    """
    if size <= 0:
        raise LayoutError(f"app size must be positive, got {size:#x}")
    _check_sector_size(size, "app size")
    apps = [i for i in _by_offset(table) if table.partitions[i].is_app]
    if not apps:
        raise LayoutError("the table has no app partition to resize")
    for i in apps:
        table = _resize_at(table, i, size, flash_size=flash_size)
    return table


def delete_partition(table: PartitionTable, name: str) -> PartitionTable:
    """Remove partition ``name`` (mp-image-tool ``--delete``); the space becomes free.

    Raises:
        LayoutError: unknown name, or it is the only partition.
    """
    index = _index(table, name)
    return _rebuilt(table, (p for i, p in enumerate(table.partitions) if i != index))


def rename_partition(table: PartitionTable, old: str, new: str) -> PartitionTable:
    """Relabel partition ``old`` as ``new`` (mp-image-tool ``--rename OLD=NEW``).

    Raises:
        LayoutError: ``old`` unknown, ``new`` empty, longer than 16 bytes in UTF-8, containing
            NUL, or already used by another partition.
    """
    index = _index(table, old)
    if new == old:
        return table
    _check_name(new, table, skip=index)
    parts = list(table.partitions)
    parts[index] = replace(parts[index], name=new, label=None)
    return _rebuilt(table, parts)


def _free_gaps(table: PartitionTable, first_free: int, flash_size: int) -> list[tuple[int, int]]:
    gaps: list[tuple[int, int]] = []
    cursor = first_free
    for p in sorted(table.partitions, key=lambda q: q.offset):
        if p.size == 0:
            continue
        if p.offset > cursor:
            gaps.append((cursor, min(p.offset, flash_size)))
        cursor = max(cursor, p.end)
    if flash_size > cursor:
        gaps.append((cursor, flash_size))
    return [(lo, hi) for lo, hi in gaps if hi > lo]


def _otadata_size(table: PartitionTable, name: str, ptype: int, psub: int, size: int) -> int:
    """The size of a new otadata partition: 0x2000, and only one of each kind."""
    twin = next((q for q in table.partitions if (q.type, q.subtype) == (ptype, psub)), None)
    if twin is not None:
        raise LayoutError(
            f"cannot add {name!r}: the table already has an otadata partition of this kind, "
            f"{_where(twin)}; only one is allowed"
        )
    if size not in (0, fmt.OTADATA_SIZE):
        raise LayoutError(
            f"cannot add {name!r}: an otadata partition must be exactly "
            f"{fmt.OTADATA_SIZE:#x} bytes, not {size:#x}"
        )
    return fmt.OTADATA_SIZE


def _place_in_gap(table: PartitionTable, name: str, size: int, align: int, *,
                  first_free: int, flash_size: int) -> tuple[int, int]:
    """Offset and size of a new partition in the first free gap that holds it (size 0:
    the whole gap)."""
    gaps = _free_gaps(table, first_free, flash_size)
    for lo, hi in gaps:
        start = align_up(lo, align)
        room = align_down(hi - start, SECTOR) if hi > start else 0
        if room > 0 and room >= size:
            return start, size or room
    free = ", ".join(f"{lo:#x}-{hi:#x}" for lo, hi in gaps) or "none"
    want = f"{size:#x} bytes" if size else "any space"
    raise LayoutError(
        f"cannot add {name!r}: no free gap holds {want} at {align:#x} alignment within "
        f"the {flash_size:#x}-byte flash (free: {free})"
    )


def _place_at(table: PartitionTable, name: str, offset: int, size: int,
              flash_size: int) -> int:
    """The size of a new partition at ``offset`` (size 0: up to the next partition or the
    end of flash), refused where it would not fit."""
    for q in table.partitions:
        if q.offset <= offset < q.end:
            raise LayoutError(
                f"cannot add {name!r} at {offset:#x}: it lies inside {_where(q)}"
            )
    if size == 0:
        limit = min([q.offset for q in table.partitions if q.offset > offset] + [flash_size])
        size = align_down(limit - offset, SECTOR) if limit > offset else 0
        if size <= 0:
            raise LayoutError(f"cannot add {name!r} at {offset:#x}: no free space there")
    end = offset + size
    if end > flash_size:
        raise LayoutError(
            f"cannot add {name!r} at {offset:#x} with size {size:#x}: it would end at "
            f"{end:#x}, past the end of the {flash_size:#x}-byte flash"
        )
    for q in table.partitions:
        if q.offset < end and offset < q.end:
            raise LayoutError(
                f"cannot add {name!r} at {offset:#x}-{end:#x}: it overlaps {_where(q)}"
            )
    return size


def add_partition(  # noqa: PLR0917 - mirrors NAME:TYPE:SUBTYPE:SIZE[:OFFSET]
    table: PartitionTable,
    name: str,
    type: str | int,
    subtype: str | int,
    size: int,
    offset: int | None = None,
    *,
    flash_size: int,
    flags: int = 0,
    table_offset: int = fmt.DEFAULT_TABLE_OFFSET,
) -> PartitionTable:
    """Add a partition (``--add NAME:TYPE:SUBTYPE:SIZE[:OFFSET]``).

    ``type`` and ``subtype`` are ESP-IDF keywords or numbers (:func:`parse_type`,
    :func:`parse_subtype`): every subtype works, including spiffs, littlefs, coredump, nvs_keys,
    efuse, undefined and custom numbers such as 0x8f (mp-image-tool knows 9 names, peers.md D5).

    ``offset`` None places the partition in the first free gap (from ``table_offset + 0x1000``)
    that holds ``size`` at the type's alignment (64 KiB for apps, 4 KiB otherwise);
    mp-image-tool always places it after the last partition. ``size`` 0 fills the gap (with an
    explicit offset: up to the next partition or the end of flash), except for otadata
    (data/ota, data/tee_ota), which is always exactly 0x2000 bytes and may exist only once.

    Raises:
        LayoutError: bad name/type/subtype/flags, size not a multiple of 0x1000, a misaligned
            offset, an offset in the table sector or below it, an overlap (naming the partition),
            an end past the flash, no free gap, or too many partitions for the table.
    """
    try:
        ptype = parse_type(type)
        psub = parse_subtype(ptype, subtype)
    except ValueError as exc:
        raise LayoutError(f"cannot add {name!r}: {exc}") from None
    _check_name(name, table)
    _check_sector_size(size, f"cannot add {name!r}")
    if _is_otadata_kind(ptype, psub):
        size = _otadata_size(table, name, ptype, psub, size)
    if not 0 <= flags <= 0xFFFFFFFF:
        raise LayoutError(f"cannot add {name!r}: flags {flags:#x} out of range")
    align = _align_for(ptype)
    first_free = table_offset + fmt.TABLE_SECTOR
    primary_fixed = (
        ptype in (fmt.TYPE_BOOTLOADER, fmt.TYPE_PARTITION_TABLE) and psub == fmt.SUBTYPE_PRIMARY
    )
    if offset is None:
        offset, size = _place_in_gap(table, name, size, align, first_free=first_free,
                                     flash_size=flash_size)
    else:
        if offset < 0 or offset % align:
            kind = "app partitions" if ptype == fmt.TYPE_APP else "this type"
            raise LayoutError(
                f"cannot add {name!r}: offset {offset:#x} is not aligned to {align:#x} "
                f"(required for {kind})"
            )
        if offset < first_free and not primary_fixed:
            raise LayoutError(
                f"cannot add {name!r}: offset {offset:#x} is below {first_free:#x} (the table "
                f"sector at {table_offset:#x} and what precedes it)"
            )
        size = _place_at(table, name, offset, size, flash_size)
    new = Partition(name, ptype, psub, offset, size, flags)
    parts = list(table.partitions)
    position = next((i for i, q in enumerate(parts) if q.offset > offset), len(parts))
    parts.insert(position, new)
    return _rebuilt(table, parts)


# ---------------------------------------------------------------------------- CLI specs


def _spec_size(text: str, spec: str, option: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise ValueError(f"{option} {spec!r}: {exc}") from None


def _spec_name(text: str, spec: str, option: str) -> str:
    name = text.strip()
    if not name:
        raise ValueError(f"{option} {spec!r}: the partition name is empty")
    if len(name.encode("utf-8")) > fmt.LABEL_SIZE:
        raise ValueError(
            f"{option} {spec!r}: name {name!r} is longer than {fmt.LABEL_SIZE} bytes"
        )
    return name


def parse_add_spec(spec: str) -> tuple[str, int, int, int, int | None]:
    """Parse ``NAME:TYPE:SUBTYPE:SIZE[:OFFSET]`` into ``(name, type, subtype, size, offset)``.

    TYPE and SUBTYPE are keywords or numbers (an empty SUBTYPE means ``undefined`` for non-app
    types); SIZE and OFFSET use :func:`~esp_image.units.parse_size` (``1M``, ``64K``,
    ``0x3f0000``). SIZE 0 fills the free space; a missing or empty OFFSET means "first free gap".
    Note the field order differs from mp-image-tool's ``NAME:SUBTYPE:OFFSET:SIZE``.

    Raises:
        ValueError: wrong number of fields, or a field that does not parse.
    """
    fields = [f.strip() for f in spec.split(":")]
    if len(fields) not in (4, 5):
        raise ValueError(
            f"--add {spec!r}: expected NAME:TYPE:SUBTYPE:SIZE[:OFFSET], "
            "e.g. fs:data:littlefs:1M or coredump:data:coredump:64K:0x3f0000"
        )
    name = _spec_name(fields[0], spec, "--add")
    try:
        ptype = parse_type(fields[1])
        psub = parse_subtype(ptype, fields[2])
    except ValueError as exc:
        raise ValueError(f"--add {spec!r}: {exc}") from None
    size = _spec_size(fields[3], spec, "--add")
    offset = _spec_size(fields[4], spec, "--add") if len(fields) == 5 and fields[4] else None
    return name, ptype, psub, size, offset


def parse_resize_spec(spec: str) -> tuple[str, int]:
    """Parse ``NAME=SIZE`` into ``(name, size)``; SIZE 0 means "fill the free space after it".

    Raises:
        ValueError: no ``=``, an empty name, or a size that does not parse.
    """
    name, sep, size_text = spec.rpartition("=")
    if not sep:
        raise ValueError(f"--resize takes NAME=SIZE, got {spec!r} (e.g. vfs=0 or factory=2M)")
    return _spec_name(name, spec, "--resize"), _spec_size(size_text, spec, "--resize")


def parse_rename_spec(spec: str) -> tuple[str, str]:
    """Parse ``OLD=NEW`` into ``(old, new)``.

    Raises:
        ValueError: not exactly one ``=``, an empty name, or NEW longer than 16 bytes.
    """
    parts = spec.split("=")
    if len(parts) != 2:
        raise ValueError(f"--rename takes OLD=NEW, got {spec!r} (e.g. ffat=vfs)")
    return _spec_name(parts[0], spec, "--rename"), _spec_name(parts[1], spec, "--rename")


# ---------------------------------------------------------------------------- checks


def check_table(
    table: PartitionTable,
    *,
    flash_size: int,
    table_offset: int = fmt.DEFAULT_TABLE_OFFSET,
    bootloader_offset: int | None = None,
    apps: Mapping[str, int] | None = None,
    require_md5: bool = True,
) -> list[Issue]:
    """The device-safe pre-flight check run before a table is written.

    :meth:`PartitionTable.validate` (gen_esp32part's rules and the bootloader's: alignment,
    overlaps, unique names, one otadata of 0x2000, OTA slot numbering, everything inside
    ``flash_size``, labels, table/bootloader overlap), plus:

    - ``nvs-too-small`` becomes an error: gen_esp32part >= 5.5 rejects such a table;
    - ``no-app`` (error): no app partition, nothing to boot;
    - ``missing-md5`` (error when ``require_md5``): ESP32-family apps refuse a table without
      the MD5 record (pass False for ESP8266 RTOS SDK tables, which have none);
    - ``app-too-large`` / ``app-partition-missing`` (error): for each ``apps`` entry
      (partition name → app image length in bytes), the image must fit its partition;
    - ``empty-partition`` (warning): a partition of size 0;
    - ``size-not-sector-multiple`` (warning): a non-app size that is not whole 4 KiB sectors
      (gen_esp32part accepts it, but the last sector cannot be erased on its own).

    Returns:
        Issues; the table is safe to write when none has severity ``"error"``.
    """
    issues = table.validate(
        flash_size=flash_size, table_offset=table_offset, bootloader_offset=bootloader_offset
    )
    # A read/write NVS below 0x3000 is only a warning when reading a table, but ESP-IDF's
    # gen_esp32part (>= 5.5) rejects it, so a table esp-image writes must not have one.
    issues = [Issue("error", i.code, i.message + " (ESP-IDF's gen_esp32part rejects it: make it "
                    "at least 0x3000 or flag it readonly)") if i.code == "nvs-too-small" else i
              for i in issues]
    if not table.app_partitions:
        issues.append(Issue("error", "no-app", "the table has no app partition to boot"))
    if require_md5 and table.md5 is None:
        issues.append(Issue("error", "missing-md5",
                            "the table has no MD5 record; ESP32-family apps refuse to load it"))
    for name, length in (apps or {}).items():
        p = table.find(name)
        if p is None or not p.is_app:
            what = "no partition" if p is None else "no app partition"
            issues.append(Issue("error", "app-partition-missing",
                                f"{what} named {name!r} to hold the {length:#x}-byte app"))
        elif length > p.size:
            issues.append(Issue("error", "app-too-large",
                                f"the {length:#x}-byte app does not fit {_where(p)}"))
    for p in table.partitions:
        if p.size == 0:
            issues.append(Issue("warning", "empty-partition", f"{_where(p)} is empty"))
        elif not p.is_app and p.size % SECTOR:
            issues.append(Issue("warning", "size-not-sector-multiple",
                                f"{_where(p)}: size is not a multiple of {SECTOR:#x}"))
    return issues


def describe_changes(old: PartitionTable, new: PartitionTable) -> list[str]:
    """One line per partition (matched by name) that was removed, added, moved or resized.

    Data partitions that moved or shrank lose their contents (a filesystem is not relocatable)
    and should be erased; moved apps need their image copied to the new offset.
    """
    notes: list[str] = []
    new_names = {p.name for p in new.partitions}
    for p in old.partitions:
        if p.name not in new_names:
            notes.append(f"removed {_where(p)}")
    for p in new.partitions:
        before = old.find(p.name)
        if before is None:
            notes.append(f"added {_where(p)}")
            continue
        moved, shrank, grew = p.offset != before.offset, p.size < before.size, p.size > before.size
        if not (moved or shrank or grew):
            continue
        flags = (("moved", moved), ("shrank", shrank), ("grew", grew))
        change = ", ".join(word for word, flag in flags if flag)
        line = (f"{p.name!r}: {before.offset:#x} size {before.size:#x} -> {p.offset:#x} size "
                f"{p.size:#x} ({change})")
        if p.is_app and moved:
            line += "; the app image must be copied to the new offset"
        elif not p.is_app and (moved or shrank):
            line += "; its old contents are not valid there and should be erased"
        notes.append(line)
    return notes
