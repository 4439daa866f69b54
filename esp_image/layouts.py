"""Named partition-table sources for ``retable --table``: pure functions returning new tables.

Every function returns ``(table, notes)``: a :class:`PartitionTable` with an MD5 record (so
``to_bytes()`` writes it) and a list of one-line notes for the user (e.g. that the app slots
grew to fit the real app). All layouts assume the table at 0x8000 and the first partition at
0x9000, with the first app at 0x10000, like MicroPython and mp-image-tool-esp32.

Sources:

``ota``, ``default``, ``original``
    mp-image-tool-esp32's ``--table`` layouts (``mp_image_tool_esp32/layouts.py``), byte for
    byte, including its ``-a/--app-size`` handling:

    - ``ota``: nvs 0x9000/0x5000, otadata 0xe000/0x2000, ota_0 0x10000, ota_1 after it, vfs
      (data/fat) filling the rest. Slots are 0x180000 up to 4 MB of flash, 0x200000 up to 8 MB,
      0x270000 above.
    - ``default``: nvs 0x9000/0x7000, factory 0x10000/0x1f0000, vfs 0x200000 to the end.
    - ``original``: nvs 0x9000/0x6000, phy_init 0xf000/0x1000, factory 0x10000/0x1f0000, vfs
      0x200000 to the end.

    With ``app_size`` (mp-image-tool ``-a``) the layout is built and then every app partition is
    resized as mp-image-tool does (:func:`~esp_image.transforms.partitions.set_app_size`):
    growing moves the following partitions up and shrinks vfs; shrinking ``factory`` leaves vfs
    at 0x200000 (mp-image-tool's output has the same gap).

    Unlike mp-image-tool, when ``min_app`` (the real app image length) does not fit the standard
    app partitions, they grow to ``align_up(min_app, 0x10000)`` and a note says so
    (mp-image-tool stops with "App size exceeds 'ota_0' partition size"); for ``ota`` on 4 MB
    with a 0x198660-byte app this is exactly mp-image-tool's ``--table ota -a 0x1a0000``.

``micropython``
    MicroPython's own tables (partition-table.md §9): nvs 0x9000, phy_init 0xf000 and the apps
    at 0x10000 as in ``ports/esp32/partitions-*.csv``. By default with an explicit ``vfs``
    (data/fat) partition filling the rest of flash, the form of v1.21-v1.25, which every
    MicroPython version mounts (v1.26+ uses an explicit vfs instead of its run-time one):

    ========== ==================================================================
    OTA, 4 MB+ ``partitions-4MiB-ota.csv``: nvs 0x4000, otadata 0xd000, ota_0/ota_1 0x180000
    OTA, 8 MB+ ``partitions-8MiBplus-ota.csv`` (v1.26; = ``partitions-16MiB-ota.csv`` and
               ``-32MiB-ota.csv`` of v1.21-v1.25 for 16/32 MB): ota_0/ota_1 0x270000
    no OTA     ``partitions-4MiB.csv`` (= 8/16/32 MiB tables): factory 0x1f0000, vfs 0x200000
    no OTA 2MB ``partitions-2MiB.csv``: factory 0x160000, vfs 0x170000/0x50000 (as shipped:
               the official table leaves the last 0x40000 bytes unused)
    ========== ==================================================================

    With ``vfs=False`` the tables are the v1.26+ ones without vfs (MicroPython >= 1.26 then
    creates vfs at run time from the end of the last partition to the physical flash end; older
    versions would have no filesystem). There is no official OTA table below 4 MB.
"""

from __future__ import annotations

import os
from dataclasses import replace

from .errors import LayoutError, UsageError
from .formats.compiled import partition_table as fmt
from .partition_table import Partition, PartitionTable
from .transforms.partitions import describe_changes, resize_partition, set_app_size
from .units import SECTOR, align_down, align_up

__all__ = [
    "SOURCES",
    "default_layout",
    "micropython_layout",
    "original_layout",
    "ota_layout",
    "table_from_source",
]

SOURCES = ("ota", "default", "original", "micropython")
"""Named table sources accepted by :func:`table_from_source` (besides a ``.csv`` path)."""

MiB = 0x100000
_APP_OFFSET = 0x10000
_DATA, _APP = fmt.TYPE_DATA, fmt.TYPE_APP
_NVS, _PHY, _OTA, _FAT = (fmt.SUBTYPE_DATA_NVS, fmt.SUBTYPE_DATA_PHY, fmt.SUBTYPE_DATA_OTA,
                          fmt.SUBTYPE_DATA_FAT)
_FACTORY, _OTA_0 = fmt.SUBTYPE_APP_FACTORY, fmt.SUBTYPE_APP_OTA_MIN


class _Entry:
    """One row of a layout: ``size`` None fills to ``end`` (default: the flash end)."""

    # A plain class: a dataclass would cost ~0.5 ms of code generation on retable's path.
    __slots__ = ("end", "name", "size", "subtype", "type")

    def __init__(self, name: str, type: int, subtype: int, size: int | None,
                 end: int | None = None) -> None:
        self.name, self.type, self.subtype, self.size, self.end = name, type, subtype, size, end


def _build(rows: list[_Entry], flash_size: int, what: str) -> PartitionTable:
    """Place the rows one after another from 0x9000 at their type's alignment."""
    if flash_size <= 0:
        raise LayoutError(f"flash size must be positive, got {flash_size:#x}")
    offset = fmt.DEFAULT_TABLE_OFFSET + fmt.TABLE_SECTOR
    parts: list[Partition] = []
    for row in rows:
        offset = align_up(offset, fmt.APP_ALIGN if row.type == _APP else fmt.DATA_ALIGN)
        if row.size is None:
            end = flash_size if row.end is None else min(row.end, flash_size)
            size = align_down(end - offset, SECTOR) if end > offset else 0
            if size <= 0:
                raise LayoutError(
                    f"the {what} layout does not fit the {flash_size:#x}-byte flash: "
                    f"{row.name!r} would start at {offset:#x}, leaving no space for it"
                )
        else:
            size = row.size
            if offset + size > flash_size:
                raise LayoutError(
                    f"the {what} layout does not fit the {flash_size:#x}-byte flash: "
                    f"{row.name!r} at {offset:#x} with size {size:#x} would end at "
                    f"{offset + size:#x}"
                )
        parts.append(Partition(row.name, row.type, row.subtype, offset, size))
        offset += size
    table = PartitionTable(tuple(parts), md5=None)
    return replace(table, md5=table.computed_md5)


def _check_app_size(app_size: int | None, min_app: int | None) -> None:
    if app_size is None:
        return
    if app_size <= 0 or app_size % SECTOR:
        raise LayoutError(
            f"app size {app_size:#x} must be a positive multiple of {SECTOR:#x} (4 KiB)"
        )
    if min_app is not None and min_app > app_size:
        raise LayoutError(
            f"the {min_app:#x}-byte app does not fit the requested {app_size:#x}-byte app "
            f"partitions; use an app size of at least {align_up(min_app, fmt.APP_ALIGN):#x}"
        )


def _slot_size(
    standard: int, app_size: int | None, min_app: int | None, names: str
) -> tuple[int, list[str]]:
    """The app partition size and the growth note, if any."""
    _check_app_size(app_size, min_app)
    if app_size is not None:
        return app_size, []
    if min_app is not None and min_app > standard:
        grown = align_up(min_app, fmt.APP_ALIGN)
        return grown, [
            f"{names} grown from {standard:#x} to {grown:#x} to fit the {min_app:#x}-byte app"
        ]
    return standard, []


def _mp_ota_slot(flash_size: int) -> int:
    """mp-image-tool ``OTA_PART_SIZES``: > 8 MB 0x270000, > 4 MB 0x200000, else 0x180000."""
    if flash_size > 8 * MiB:
        return 0x270000
    if flash_size > 4 * MiB:
        return 0x200000
    return 0x180000


def ota_layout(
    flash_size: int, *, app_size: int | None = None, min_app: int | None = None
) -> tuple[PartitionTable, list[str]]:
    """mp-image-tool-esp32's ``-f SIZE --table ota [-a APP_SIZE]`` table.

    nvs 0x9000/0x5000, otadata 0xe000/0x2000, ota_0 at 0x10000, ota_1 after it (at the next
    64 KiB boundary), vfs (data/fat) to the end of flash. Slots: ``app_size`` if given, else
    0x180000 up to 4 MB, 0x200000 up to 8 MB, 0x270000 above, grown to
    ``align_up(min_app, 0x10000)`` when the app needs more (with a note).

    Raises:
        LayoutError: the layout does not fit the flash, ``app_size`` is not a positive multiple
            of 0x1000, or ``min_app`` exceeds an explicit ``app_size``.
    """
    slot, notes = _slot_size(_mp_ota_slot(flash_size), app_size, min_app, "ota_0/ota_1")
    # mp-image-tool: nvs size = first app offset - 0x9000 - otadata size = 0x5000.
    nvs = _APP_OFFSET - (fmt.DEFAULT_TABLE_OFFSET + fmt.TABLE_SECTOR) - fmt.OTADATA_SIZE
    rows = [
        _Entry("nvs", _DATA, _NVS, nvs),
        _Entry("otadata", _DATA, _OTA, fmt.OTADATA_SIZE),
        _Entry("ota_0", _APP, _OTA_0, slot),
        _Entry("ota_1", _APP, _OTA_0 + 1, slot),
        _Entry("vfs", _DATA, _FAT, None),
    ]
    return _build(rows, flash_size, "ota"), notes


def _factory_layout(
    rows: list[_Entry], what: str, flash_size: int, app_size: int | None, min_app: int | None
) -> tuple[PartitionTable, list[str]]:
    """Build a fixed factory layout, then apply ``-a`` or the growth as mp-image-tool's resize."""
    _check_app_size(app_size, min_app)
    table = _build(rows, flash_size, what)
    if app_size is not None:
        return set_app_size(table, app_size, flash_size=flash_size), []
    factory = table.find("factory")
    assert factory is not None
    size, notes = _slot_size(factory.size, None, min_app, "factory")
    if size != factory.size:
        table = resize_partition(table, "factory", size, flash_size=flash_size)
    return table, notes


def default_layout(
    flash_size: int, *, app_size: int | None = None, min_app: int | None = None
) -> tuple[PartitionTable, list[str]]:
    """mp-image-tool-esp32's ``--table default [-a APP_SIZE]`` table.

    nvs 0x9000/0x7000, factory 0x10000/0x1f0000, vfs 0x200000 to the end of flash; then
    ``app_size`` or the growth for ``min_app`` as described in the module docstring.

    Raises:
        LayoutError: as :func:`ota_layout`.
    """
    rows = [
        _Entry("nvs", _DATA, _NVS, 0x7000),
        _Entry("factory", _APP, _FACTORY, 0x1F0000),
        _Entry("vfs", _DATA, _FAT, None),
    ]
    return _factory_layout(rows, "default", flash_size, app_size, min_app)


def original_layout(
    flash_size: int, *, app_size: int | None = None, min_app: int | None = None
) -> tuple[PartitionTable, list[str]]:
    """mp-image-tool-esp32's ``--table original [-a APP_SIZE]`` table (MicroPython's classic
    ``partitions-4MiB.csv`` with vfs filling the flash).

    nvs 0x9000/0x6000, phy_init 0xf000/0x1000, factory 0x10000/0x1f0000, vfs 0x200000 to the
    end of flash; then ``app_size`` or the growth for ``min_app``.

    Raises:
        LayoutError: as :func:`ota_layout`.
    """
    rows = [
        _Entry("nvs", _DATA, _NVS, 0x6000),
        _Entry("phy_init", _DATA, _PHY, 0x1000),
        _Entry("factory", _APP, _FACTORY, 0x1F0000),
        _Entry("vfs", _DATA, _FAT, None),
    ]
    return _factory_layout(rows, "original", flash_size, app_size, min_app)


def micropython_layout(
    flash_size: int,
    *,
    ota: bool = True,
    app_size: int | None = None,
    min_app: int | None = None,
    vfs: bool = True,
) -> tuple[PartitionTable, list[str]]:
    """MicroPython's official ESP32 table for ``flash_size`` (see the module docstring).

    ``app_size`` sets the app partition size(s) directly (vfs follows them); ``min_app`` grows
    them to ``align_up(min_app, 0x10000)`` with a note when the app does not fit.

    Raises:
        LayoutError: no official table for the size (OTA below 4 MB, anything below 2 MB), or
            the (grown) layout does not fit.
    """
    if ota:
        if flash_size < 4 * MiB:
            raise LayoutError(
                f"MicroPython has no OTA partition table for {flash_size:#x} bytes of flash "
                "(the smallest is partitions-4MiB-ota.csv for 4 MB)"
            )
        standard = 0x270000 if flash_size >= 8 * MiB else 0x180000
        slot, notes = _slot_size(standard, app_size, min_app, "ota_0/ota_1")
        rows = [
            _Entry("nvs", _DATA, _NVS, 0x4000),
            _Entry("otadata", _DATA, _OTA, fmt.OTADATA_SIZE),
            _Entry("phy_init", _DATA, _PHY, 0x1000),
            _Entry("ota_0", _APP, _OTA_0, slot),
            _Entry("ota_1", _APP, _OTA_0 + 1, slot),
        ]
        vfs_end = None
    else:
        if flash_size < 2 * MiB:
            raise LayoutError(
                f"MicroPython has no partition table for {flash_size:#x} bytes of flash "
                "(the smallest is partitions-2MiB.csv for 2 MB)"
            )
        standard = 0x1F0000 if flash_size >= 4 * MiB else 0x160000
        slot, notes = _slot_size(standard, app_size, min_app, "factory")
        rows = [
            _Entry("nvs", _DATA, _NVS, 0x6000),
            _Entry("phy_init", _DATA, _PHY, 0x1000),
            _Entry("factory", _APP, _FACTORY, slot),
        ]
        # partitions-2MiB.csv (v1.21-v1.25): vfs 0x170000/0x50000, ending 0x40000 before 2 MB.
        vfs_end = 0x1C0000 if flash_size == 2 * MiB and slot == standard else None
    if vfs:
        rows.append(_Entry("vfs", _DATA, _FAT, None, vfs_end))
    return _build(rows, flash_size, "micropython"), notes


def _read_csv(path: str) -> str:
    from .io import read_input

    # The guarded reader: a FIFO, a device, a directory or a huge file is refused before reading.
    from .partition_csv import decode_csv

    return decode_csv(read_input(path, "partition CSV"), path)


def table_from_source(
    source: str,
    flash_size: int,
    *,
    app_size: int | None = None,
    min_app: int | None = None,
    current: PartitionTable | None = None,
    table_offset: int = fmt.DEFAULT_TABLE_OFFSET,
) -> tuple[PartitionTable, list[str]]:
    """The table for ``--table SOURCE``: ``ota``, ``default``, ``original``, ``micropython``
    (any case) or the path of an ESP-IDF partition CSV (ending in ``.csv``, or any existing
    path).

    A CSV is compiled like gen_esp32part (blank offsets, K/M suffixes, any type/subtype,
    flags; ``table_offset`` is its ``--offset``), then ``app_size`` resizes its app partitions
    as mp-image-tool's ``--from-csv ... -a`` does. A CSV is taken as written otherwise:
    ``min_app`` does not grow it (check the fit with ``check_table(apps=...)``).

    With ``current`` (the table being replaced) the notes also list what changes for
    partitions of the same name (:func:`~esp_image.transforms.partitions.describe_changes`),
    e.g. data partitions whose contents will not survive.

    Raises:
        LayoutError: unknown source name (listing the valid ones) or a layout that does not fit.
        InputError: the CSV file cannot be read.
        FormatError: a CSV line does not parse (the message names the line).
    """
    name = source.strip()
    key = name.lower()
    table: PartitionTable
    if key == "ota":
        table, notes = ota_layout(flash_size, app_size=app_size, min_app=min_app)
    elif key == "default":
        table, notes = default_layout(flash_size, app_size=app_size, min_app=min_app)
    elif key == "original":
        table, notes = original_layout(flash_size, app_size=app_size, min_app=min_app)
    elif key == "micropython":
        table, notes = micropython_layout(flash_size, app_size=app_size, min_app=min_app)
    elif key.endswith(".csv") or os.path.exists(name):
        # Any existing path is read as a CSV, so that /dev/zero, a FIFO or a directory is
        # refused as unusable input rather than reported as an unknown layout name.
        table = PartitionTable.from_csv(_read_csv(name), table_offset=table_offset)
        if app_size is not None:
            _check_app_size(app_size, min_app)
            table = set_app_size(table, app_size, flash_size=flash_size)
        notes = []
    else:
        raise UsageError(
            f"unknown table source {source!r}: use one of {', '.join(SOURCES)} "
            "or the path of an ESP-IDF partition CSV file ending in .csv"
        )
    if current is not None:
        notes = [*notes, *describe_changes(current, table)]
    return table, notes
