"""Where a filesystem lives in a file, and putting a changed one back.

A merged firmware usually ends before its filesystem partition (MicroPython's ``firmware.bin``
stops after the app); the region is then taken as erased flash (0xFF) up to the partition's end,
and the rewritten file is extended to hold it, which the caller reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..formats.compiled import partition_table as table_fmt

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from ..image import Image

# Data subtypes that hold filesystems (partition-table.md §3) and the names boards use.
FS_SUBTYPES = {table_fmt.SUBTYPE_DATA_FAT: "fat", table_fmt.SUBTYPE_DATA_SPIFFS: "spiffs",
               table_fmt.SUBTYPE_DATA_LITTLEFS: "littlefs"}
FS_NAMES = ("vfs", "ffat", "fat", "spiffs", "littlefs", "storage")


@dataclass(frozen=True)
class FsTarget:
    """The bytes of a file that hold a filesystem.

    Attributes:
        name: the partition's name, or ``"image"`` for a bare partition image.
        start: file offset of the region.
        size: the region's size: the partition's, clipped at the end of flash (a table entry
            may claim more than any chip has).
        address: its flash address (None for a bare image).
        missing: bytes of the region past the end of the file (read as erased flash).
    """

    name: str
    start: int
    size: int
    address: int | None
    missing: int


def locate(image: Image, partition: str | None = None) -> FsTarget:
    """The filesystem region of ``image``: a named partition, the first filesystem partition
    of a flash file, the filesystem of an Arduino-ESP8266 flash dump (where its flash map puts
    it), or the whole of a bare partition image.

    Raises:
        InputError: no such partition, not a data partition, or nothing that can hold one.
    """
    if image.kind == "flash" and image.table is not None and image.base is not None:
        parts = image.table.partitions
        if partition is not None:
            chosen = image.table.find(partition)
            if chosen is None:
                names = ", ".join(p.name for p in parts)
                raise InputError(f"{image.path or 'input'}: no partition {partition!r} "
                                 f"(the table has {names})")
            if chosen.is_app or chosen.is_otadata:
                raise InputError(f"{image.path or 'input'}: {partition!r} is not a data "
                                 "partition for a filesystem")
        else:
            candidates = [p for p in parts if not p.is_app and (
                p.subtype in FS_SUBTYPES or p.name in FS_NAMES)]
            if not candidates:
                raise InputError(f"{image.path or 'input'}: no filesystem partition in the "
                                 "table (give --partition NAME, or add one with retable --add)")
            chosen = candidates[0]
        start = chosen.offset - image.base
        if start < 0:
            raise InputError(f"{chosen.name!r} at {chosen.offset:#x} lies before the start of "
                             f"the file (flash {image.base:#x})")
        from ..image import readable_size

        size = readable_size(chosen, image.flash_end)
        missing = max(0, start + size - image.size)
        return FsTarget(chosen.name, start, size, chosen.offset, missing)
    arduino = image.details.get("filesystem") if image.esp8266 is not None else None
    if isinstance(arduino, dict) and partition is None:
        # an Arduino-ESP8266 dump: the filesystem where the core's flash map puts it
        start, size = int(arduino["offset"]), int(arduino["size"])
        return FsTarget(str(arduino["type"]), start, size, start + (image.base or 0),
                        max(0, start + size - image.size))
    if partition is not None:
        raise InputError(f"{image.path or 'input'} is {image.kind}, not a flash file with a "
                         "partition table; --partition does not apply")
    if image.kind in ("image", "partition-table", "otadata") or image.esp8266 is not None:
        raise InputError(f"{image.path or 'input'} is {image.kind}: give a flash file or a "
                         "partition image")
    return FsTarget("image", 0, image.size, None, 0)


def region(image: Image, target: FsTarget) -> bytes:
    """The region's bytes, erased flash (0xFF) where the file ends early."""
    from ..image import read_partition

    return read_partition(image.data, target.start, target.size)


def put_back(image: Image, target: FsTarget, data: bytes) -> bytes:
    """The whole file with ``data`` (the region's new bytes) in place, extended if needed."""
    if len(data) != target.size:
        raise InputError(f"the new filesystem is {len(data):#x} bytes, the region "
                         f"{target.size:#x}")
    out = bytearray(image.data)
    end = target.start + target.size
    if end > len(out):
        out += b"\xff" * (end - len(out))
    out[target.start:end] = data
    return bytes(out)
