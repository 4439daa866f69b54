"""NVS partitions inside files: find them, put a changed one back, carry them to a new table.

A merged firmware or a flash dump holds its NVS partitions where its partition table says
(``data``/``nvs`` entries); a file without a table is taken as a bare NVS partition when its
pages say so. A partition the file ends before is read as erased flash, as the chip would.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError, LayoutError, NvsError
from ..formats.compiled import nvs as fmt
from ..formats.compiled import partition_table as table_fmt
from .partition import NvsPartition

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from ..image import Image
    from ..partition_table import Partition, PartitionTable
    from .keys import NvsKeys


@dataclass(frozen=True)
class FoundNvs:
    """One NVS partition of a file.

    Attributes:
        partition: its partition table entry (None for a bare NVS image).
        offset: file offset of its first byte (past the end of the file when the file ends
            before it).
        nvs: the parsed partition.
    """

    partition: Partition | None
    offset: int
    nvs: NvsPartition

    @property
    def name(self) -> str | None:
        """The partition's name (None for a bare NVS image)."""
        return self.partition.name if self.partition is not None else None


@dataclass(frozen=True)
class NvsCarry:
    """An NVS partition's new contents after a table change (see :func:`carry_nvs`).

    Attributes:
        partition: the entry in the new table.
        data: exactly ``partition.size`` bytes.
        action: one line saying what was done, for the report.
    """

    partition: Partition
    data: bytes
    action: str


def is_nvs(part: Partition) -> bool:
    """Whether a table entry is an NVS partition (``data``/``nvs``)."""
    return part.type == table_fmt.TYPE_DATA and part.subtype == table_fmt.SUBTYPE_DATA_NVS


def looks_like_nvs(data: bytes | memoryview) -> bool:
    """Whether a whole file reads as a bare NVS partition: whole 4 KiB pages, at least one of
    them in use with a header whose CRC matches (page headers are plain in encrypted NVS)."""
    if not data or len(data) % fmt.PAGE_SIZE:
        return False
    for at in range(0, len(data), fmt.PAGE_SIZE):
        head = fmt.PageHeader.parse(data, at)
        if head.state in fmt.USED_PAGE_STATES and \
                head.crc32 == fmt.header_crc(data[at:at + fmt.HEADER_SIZE]):
            return True
    return False


def _as_image(image: Image | bytes) -> Image:
    if isinstance(image, bytes | bytearray | memoryview):
        from ..image import Image

        return Image.from_bytes(image)
    return image


def _regions(image: Image) -> list[tuple[Partition | None, int, int]]:
    """``(partition, file offset, size)`` of every NVS region of the file."""
    if image.kind == "flash" and image.table is not None and image.base is not None:
        from ..image import readable_size

        return [(p, p.offset - image.base, readable_size(p, image.flash_end))
                for p in image.table if is_nvs(p) and p.offset >= image.base]
    if looks_like_nvs(image.data):
        return [(None, 0, image.size)]
    return []


def find_nvs(image: Image | bytes, keys: NvsKeys | None = None) -> list[FoundNvs]:
    """Every NVS partition of a merged firmware or flash dump (its table's ``data``/``nvs``
    entries, in table order), or the file itself when it is a bare NVS partition; [] when
    there is none. ``keys`` decrypt encrypted NVS.

    A partition with less than one page inside the flash is left out: nothing of it can be
    read. Damage is not an error: it is in each partition's ``checks``.

    Raises:
        InputError: the file is empty.
        NvsError: ``keys`` do not decrypt a partition.
    """
    from ..image import read_partition

    img = _as_image(image)
    found = []
    for part, start, size in _regions(img):
        if size >= fmt.PAGE_SIZE:
            data = read_partition(img.data, start, size)
            found.append(FoundNvs(part, start, NvsPartition.from_bytes(data, keys)))
    return found


def _chosen(img: Image, regions: list[tuple[Partition | None, int, int]], name: str | None
            ) -> tuple[Partition | None, int, int]:
    """The region named ``name``, or the only one when ``name`` is None."""
    where = img.path or "input"
    names = ", ".join(p.name for p, _, _ in regions if p is not None) or "none"
    if not regions:
        raise InputError(f"{where}: 0 NVS partitions: no data/nvs entry in a partition table, "
                         "and not a bare NVS partition image")
    if name is None:
        if len(regions) != 1:
            raise InputError(f"{where}: {len(regions)} NVS partitions ({names}); name one "
                             "with --partition NAME")
        return regions[0]
    match = [r for r in regions if r[0] is not None and r[0].name == name]
    if not match:
        if regions[0][0] is None:
            raise InputError(f"{where} is a bare NVS partition image; --partition does not "
                             "apply")
        raise InputError(f"{where}: no NVS partition {name!r} (NVS partitions: {names})")
    return match[0]


def select_nvs(image: Image | bytes, name: str | None = None, keys: NvsKeys | None = None
               ) -> FoundNvs:
    """The NVS partition ``name`` of a file (None: the only one, or a bare image), parsed.

    Raises:
        InputError: no such NVS partition, or several and no name (the message lists them).
        NvsError: ``keys`` do not decrypt it.
    """
    from ..image import read_partition

    img = _as_image(image)
    part, start, size = _chosen(img, _regions(img), name)
    if size < fmt.PAGE_SIZE:
        raise InputError(f"{img.path or 'input'}: NVS partition {name} has less than one "
                         "4 KiB page inside the file's flash")
    return FoundNvs(part, start, NvsPartition.from_bytes(
        read_partition(img.data, start, size), keys))


def replace_nvs(image: Image | bytes, name: str | None, new_bytes: bytes) -> bytes:
    """The whole file with NVS partition ``name`` (None: the only one, or a bare image)
    replaced by ``new_bytes``; every other byte as it was. A file that ends before the
    partition is extended with erased flash (0xFF) up to it.

    Raises:
        InputError: no such NVS partition (the message lists them), several and no name, or
            ``new_bytes`` is not the partition's size.
    """
    from ..transforms.fs import FsTarget, put_back

    img = _as_image(image)
    part, start, size = _chosen(img, _regions(img), name)
    if len(new_bytes) != size:
        raise InputError(f"the new NVS data is {len(new_bytes):#x} bytes; "
                         f"{name or 'the partition'} is {size:#x}")
    address = part.offset if part is not None else None
    target = FsTarget(name or "image", start, size, address, max(0, start + size - img.size))
    return put_back(img, target, new_bytes)


def carry_nvs(old_image: Image, new_table: PartitionTable, keys: NvsKeys | None = None
              ) -> list[NvsCarry]:
    """The contents of each NVS partition that ``new_table`` moves or resizes.

    A partition that moves or grows keeps its bytes (encrypted NVS too: its tweak is the
    offset inside the partition), the new pages erased; nvs_flash takes them as free pages.
    One that shrinks is repacked: every live key written afresh, as ``nvs_flash`` would.
    Partitions that stay put, are new, or hold no NVS data (erased, or no page in use) are
    left to the caller.

    Raises:
        LayoutError: a shrinking partition whose keys do not fit (with the bytes needed and
            available), that is damaged, or that is encrypted and ``keys`` are not given.
    """
    carried: list[NvsCarry] = []
    old_table = old_image.table
    if old_table is None:
        return carried
    for part in new_table:
        before = old_table.find(part.name)
        if not is_nvs(part) or before is None or not is_nvs(before) or (
                before.offset == part.offset and before.size == part.size):
            continue
        data = old_image.partition_bytes(before)
        if not looks_like_nvs(data):
            continue
        if part.size >= len(data):
            action = (f"{part.name}: NVS moved from {before.offset:#x} to {part.offset:#x}"
                      if part.offset != before.offset else f"{part.name}: NVS")
            carried.append(NvsCarry(part, data + b"\xff" * (part.size - len(data)),
                                    f"{action}, contents kept ({part.size:#x} bytes)"))
            continue
        carried.append(NvsCarry(part, _repack(part, data, keys),
                                f"{part.name}: NVS repacked from {len(data):#x} into "
                                f"{part.size:#x} bytes at {part.offset:#x}"))
    return carried


def _repack(part: Partition, data: bytes, keys: NvsKeys | None) -> bytes:
    try:
        old = NvsPartition.from_bytes(data, keys)
        if not old.readable:
            raise NvsError("it is encrypted; give its nvs_keys to repack it")
        if not old.valid:
            first = old.damage[0]
            raise NvsError(f"it is damaged ({first.detail} at {first.offset:#x}); repacking "
                           "would drop data")
        return old.repack(part.size).to_bytes()
    except NvsError as exc:
        raise LayoutError(f"{part.name}: NVS cannot shrink to {part.size:#x} bytes: "
                          f"{exc}") from None
