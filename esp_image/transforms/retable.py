"""``retable``: a new flash size and/or partition table for an ESP32-family flash file.

Steps, in mp-image-tool-esp32's order so that the two give the same table: new flash size →
table source (``--table``) → app size → delete → resize → rename → add. Then every rule is
checked before anything is built (the device-safe validation plus: the app fits its new slot,
nothing signed is edited), and the new file is assembled:

- the bootloader header gets the new size (SHA-256 recomputed); app headers too;
- the table is written at its offset (MD5 recomputed);
- the app that boots moves unchanged into the first app slot (factory, else ota_0): ESP32-family
  apps run from any flash offset that is a multiple of their MMU page (64 KiB or smaller);
- other app slots, and data partitions that moved or shrank, are erased (0xFF) and reported;
  a data partition whose offset is unchanged and which did not shrink keeps its contents;
  filesystems are copied into a fresh one of the new size, NVS moves with its pages (and is
  repacked, key by key, when it shrinks);
- otadata is written as ESP-IDF would after ``esp_ota_set_boot_partition(ota_0)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError, LayoutError, UsageError
from ..formats.compiled import partition_table as table_fmt
from ..otadata import OtaData
from ..units import format_size, parse_size_option
from . import TransformResult
from .flash import FlashParams, patch_image, size_code

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..app_image import AppImage
    from ..image import Image, PartitionContent
    from ..partition_table import Partition, PartitionTable


AddSpec = tuple[str, int, int, int, int | None]
"""A parsed ``--add``: name, type, subtype, size, offset (None: the first free gap)."""


@dataclass(frozen=True)
class RetableOptions:
    """What ``retable`` should change; empty fields change nothing.

    :meth:`parse` builds one from command-line text (``-f 8MB``, ``--resize vfs=0``).
    """

    flash_size: int | None = None
    table: str | None = None
    app_size: int | None = None
    resize: tuple[tuple[str, int], ...] = ()
    add: tuple[AddSpec, ...] = ()
    delete: tuple[str, ...] = ()
    rename: tuple[tuple[str, str], ...] = ()
    erase_fs: bool = False

    @classmethod
    def parse(cls, *, flash_size: str | None = None, table: str | None = None,
              app_size: str | None = None, resize: Sequence[str] = (),
              add: Sequence[str] = (), delete: Sequence[str] = (),
              rename: Sequence[str] = (), erase_fs: bool = False) -> RetableOptions:
        """The options from command-line text: sizes such as ``8MB``, ``NAME=SIZE``
        resizes, ``NAME:TYPE:SUBTYPE:SIZE[:OFFSET]`` additions and ``OLD=NEW`` renames.

        Raises:
            UsageError: a size that does not parse, or a flash size of 0.
            ValueError: a ``--resize``/``--add``/``--rename`` spec that does not parse.
        """
        from .partitions import parse_add_spec, parse_rename_spec, parse_resize_spec

        new_size = parse_size_option(flash_size, "-f/--flash-size")
        if new_size == 0:  # not "keep the size": a flash of 0 bytes is not a size
            raise UsageError(f"-f/--flash-size: {flash_size!r} is not a flash size "
                             "(e.g. 4MB, 8MB, 16MB)")
        return cls(flash_size=new_size, table=table,
                   app_size=parse_size_option(app_size, "--app-size"),
                   resize=tuple(parse_resize_spec(r) for r in resize),
                   add=tuple(parse_add_spec(a) for a in add), delete=tuple(delete),
                   rename=tuple(parse_rename_spec(r) for r in rename), erase_fs=erase_fs)

    @property
    def empty(self) -> bool:
        """Whether nothing was requested."""
        return (self.flash_size is None and self.table is None and self.app_size is None
                and not (self.resize or self.add or self.delete or self.rename))

    def tag(self) -> str:
        """The output-name tag, as mp-image-tool-esp32 users write it: ``8MB-OTA``.

        Never contains ``=`` or ``,`` (awkward in shells, make and Windows).
        """
        tokens = []
        if self.flash_size is not None:
            tokens.append(format_size(self.flash_size))
        if self.table is not None:
            low = self.table.lower()
            tokens.append("CSV" if low.endswith(".csv") else low.upper())
        if self.app_size is not None:
            tokens.append("appsize")
        for flag, name in ((self.delete, "delete"), (self.resize, "resize"),
                           (self.rename, "rename"), (self.add, "add")):
            if flag:
                tokens.append(name)
        return "-".join(tokens) or "retable"


@dataclass(frozen=True, kw_only=True)
class RetableResult(TransformResult):
    """The new file and an account of every change (``notes``: slots grown, filesystems kept).

    Attributes:
        table: the new partition table.
        flash_size: the flash size in the new bootloader header.
    """

    table: PartitionTable
    flash_size: int


def retable(image: Image, options: RetableOptions) -> RetableResult:
    """Plan and build the new file; raises ``LayoutError`` with the reason when it must not.

    Nothing is written here: the caller writes ``result.data`` (atomically, after verifying).
    """
    from ..layouts import table_from_source
    from ..transforms import partitions as ops

    if options.empty:
        raise UsageError("nothing to change: give -f SIZE, --table, --app-size, --resize, "
                          "--add, --delete or --rename")
    chip, boot, table, base, table_address = _requirements(image, erase_fs=options.erase_fs)
    notes: list[str] = []
    actions: list[str] = []

    current_size = boot.flash_size
    flash_size = options.flash_size or current_size
    if flash_size is None:
        raise LayoutError(f"the bootloader's flash size code {boot.header.spi_size:#x} is "
                          "invalid; give -f SIZE")
    size_code(flash_size, chip)  # refuses non-power-of-two sizes and sizes the chip cannot use

    running = _running_app(image)
    app = running.image if running is not None else None
    min_app = app.end if app is not None else None

    new = table
    if options.table is not None:
        # Erasures are decided and reported by _assemble, from the real file contents.
        new, more = table_from_source(options.table, flash_size, app_size=options.app_size,
                                      min_app=min_app)
        notes.extend(more)
    elif options.app_size is not None:
        new = ops.set_app_size(new, options.app_size, flash_size=flash_size)
    for name in options.delete:
        new = ops.delete_partition(new, name)
    for name, size in options.resize:
        new = ops.resize_partition(new, name, size, flash_size=flash_size)
    for old_name, new_name in options.rename:
        new = ops.rename_partition(new, old_name, new_name)
    for name, ptype, subtype, size, offset in options.add:
        new = ops.add_partition(new, name, ptype, subtype, size, offset, flash_size=flash_size)

    # The MD5 record is always written (ESP-IDF apps refuse a table without one), so its
    # absence in the source table is not an error here.
    errors = [i for i in ops.check_table(new, flash_size=flash_size, table_offset=table_address,
                                         bootloader_offset=chip.bootloader_offset,
                                         require_md5=False) if i.is_error]
    if errors:
        raise LayoutError("the new partition table breaks the bootloader's rules: "
                          + "; ".join(i.message for i in errors))
    target = _first_app_slot(new)
    if app is not None:
        if target is None:
            raise LayoutError("the new table has no app partition for the app")
        if app.end > target.size:
            raise LayoutError(
                f"the app is {app.end:#x} bytes ({format_size(app.end)}) but {target.name!r} "
                f"holds {target.size:#x} ({format_size(target.size)}); use --app-size or "
                f"--resize {target.name}=SIZE")

    data = _assemble(image, new, base=base, table_address=table_address, running=running,
                     target=target, flash_size=flash_size,
                     size_changed=options.flash_size is not None, actions=actions, notes=notes,
                     erase_fs=options.erase_fs)
    return RetableResult(data=data, actions=tuple(actions), notes=tuple(notes), table=new,
                         flash_size=flash_size)


# ---------------------------------------------------------------------- helpers
def _requirements(image: Image, *, erase_fs: bool = False) -> tuple:  # type: ignore[type-arg]
    if image.kind != "flash" or image.esp8266 is not None:
        raise InputError(f"{image.path or 'input'} is {image.kind}: retable needs an "
                          "ESP32-family merged firmware or flash dump (bootloader + table)")
    if image.bootloader is None or image.chip is None or image.base is None:
        raise InputError(f"{image.path or 'input'}: no bootloader found in the file")
    if image.table is None or image.table_address is None:
        raise InputError(f"{image.path or 'input'}: no partition table found in the file")
    if image.table.signature is not None:
        raise LayoutError("the partition table is signed (Secure Boot v1); a new table would "
                          "not verify. Sign the new table with your key instead")
    # A damaged filesystem is for --erase-fs to discard (_carry_filesystems says so).
    skip = ("layout", "filesystem") if erase_fs else ("layout",)
    # NVS, keys, certificates and core dumps are carried byte for byte (an NVS repack refuses
    # damage itself): their findings are for verify, not a reason to refuse a new table.
    data = [(c.partition.offset - image.base, c.partition.end - image.base)
            for c in image.partitions if c.content is not None]
    bad = [c for c in image.checks if not c.valid and c.name not in skip
           and not any(lo <= c.offset < hi for lo, hi in data)]
    if bad:
        raise LayoutError("the input is damaged (" + "; ".join(
            f"{c.name}: {c.detail}" for c in bad) + "); fix it first (esp-image verify)")
    return (image.chip, image.bootloader, image.table, image.base, image.table_address)


def _running_app(image: Image) -> PartitionContent | None:
    """The app partition content the bootloader would boot (with an image in the file)."""
    apps = [c for c in image.apps if c.image is not None]
    if not apps:
        return None
    if image.boot is not None and image.table is not None:
        if image.boot.slot is None:
            wanted = image.table.factory
        else:
            slots = image.table.ota_slots
            wanted = slots[image.boot.slot] if image.boot.slot < len(slots) else None
        for content in apps:
            if wanted is not None and content.partition is wanted:
                return content
    return apps[0]


def _first_app_slot(table: PartitionTable) -> Partition | None:
    if table.factory is not None:
        return table.factory
    slots = table.ota_slots
    if slots:
        return slots[0]
    apps = table.app_partitions
    return apps[0] if apps else None


def _erase(out: bytearray, base: int, start: int, stop: int) -> None:
    """Fill flash ``start``-``stop`` with 0xFF, as far as ``out`` (from flash ``base``) covers."""
    lo, hi = max(start - base, 0), min(stop - base, len(out))
    if lo < hi:
        out[lo:hi] = b"\xff" * (hi - lo)


def _put(out: bytearray, at: int, blob: bytes) -> None:
    """Write ``blob`` at file offset ``at``, growing ``out`` with 0xFF when it ends before."""
    if at + len(blob) > len(out):
        out += b"\xff" * (at + len(blob) - len(out))
    out[at:at + len(blob)] = blob


def _assemble(image: Image, new: PartitionTable, *, base: int, table_address: int,
              running: PartitionContent | None, target: Partition | None, flash_size: int,
              size_changed: bool, actions: list[str], notes: list[str],
              erase_fs: bool = False) -> bytes:
    size = image.size
    app: AppImage | None = running.image if running is not None else None
    end = size
    if app is not None and target is not None:
        end = max(end, target.offset - base + app.end)
    out = bytearray(image.data)
    if end > size:
        out += b"\xff" * (end - size)

    boot = image.bootloader
    assert boot is not None and image.chip is not None and image.table is not None
    if size_changed and boot.flash_size != flash_size:
        start = image.bootloader_file_offset
        out[start:start + boot.end] = patch_image(boot, FlashParams(size=flash_size))
        actions.append(f"bootloader: flash size {boot.flash_size_name} -> "
                       f"{format_size(flash_size)}, SHA-256 recomputed")

    old = image.table
    table_bytes = new.to_bytes(size=table_fmt.TABLE_MAX_LEN, md5=True)
    at = table_address - base
    out[at:at + len(table_bytes)] = table_bytes
    actions.append(f"partition table at {table_address:#x} rewritten: {len(new.partitions)} "
                   "partitions, MD5 " + ("recomputed" if new.md5 is not None or
                                         old.md5 is not None else
                                         "record added (ESP-IDF apps require it)"))

    # Old app slots are emptied; the running app is placed again below.
    for part in old.app_partitions:
        _erase(out, base, part.offset, part.end)
    carried = _carry_filesystems(image, old, new, base, actions, erase_fs=erase_fs)
    carried.update(_carry_nvs(image, new, actions))
    _place_data(image, old, new, out, base=base, carried=carried, actions=actions,
                notes=notes)
    if app is not None and target is not None and running is not None:
        _place_app(out, running, target, base=base, flash_size=flash_size,
                   size_changed=size_changed, actions=actions)
    if new.otadata is not None:
        _put(out, new.otadata.offset - base, _new_otadata(new, target, actions).to_bytes())
    return bytes(out)


def _place_data(image: Image, old: PartitionTable, new: PartitionTable, out: bytearray, *,
                base: int, carried: dict[str, bytes | None], actions: list[str],
                notes: list[str]) -> None:
    """Keep data partitions that stay where they were, erase the rest, write carried ones."""
    kept: set[str] = set()
    for part in new.data_partitions:
        before = old.find(part.name)
        same = (before is not None and before.offset == part.offset
                and before.type == part.type and before.subtype == part.subtype
                and part.size >= before.size and part.name not in carried)
        if part.name in carried:
            _erase(out, base, part.offset, part.end)
            continue
        if same:
            kept.add(part.name)
            if before is not None and part.size > before.size:
                notes.append(f"{part.name}: kept (same offset, grown from "
                             f"{format_size(before.size)} to {format_size(part.size)}); a "
                             "filesystem may need to be grown to use the new space")
            continue
        covered = part.offset - base < image.size and not _erased(image, part.offset,
                                                                  part.end, base)
        _erase(out, base, part.offset, part.end)
        if covered:
            why = "new" if before is None else ("moved" if before.offset != part.offset
                                                else "shrank" if part.size < before.size
                                                else "changed type")
            actions.append(f"{part.name}: erased ({why}; its old contents would be invalid)")
    for part in old.data_partitions:
        if part.name not in kept and new.find(part.name) is None and \
                not _erased(image, part.offset, part.end, base):
            actions.append(f"{part.name}: removed from the table; its bytes were erased")
            _erase(out, base, part.offset, part.end)
    for name, blob in carried.items():
        if blob is None:
            continue
        moved = new.find(name)
        assert moved is not None
        _put(out, moved.offset - base, blob)


def _place_app(out: bytearray, running: PartitionContent, target: Partition, *, base: int,
               flash_size: int, size_changed: bool, actions: list[str]) -> None:
    """The running app in its new slot, its header's flash size patched with the
    bootloader's."""
    app = running.image
    assert app is not None
    if size_changed and not app.is_signed and app.flash_size != flash_size:
        body = patch_image(app, FlashParams(size=flash_size))
        actions.append(f"{target.name}: app header flash size -> {format_size(flash_size)} "
                       "(used with CONFIG_SPI_FLASH_SIZE_OVERRIDE), SHA-256 recomputed")
    else:
        body = app.to_bytes()
    start = target.offset - base
    out[start:start + len(body)] = body
    source = running.partition
    if source.offset == target.offset and source.name == target.name:
        actions.append(f"{target.name}: app kept at {target.offset:#x} "
                       f"({app.end / target.size:.1%} full)")
    else:
        actions.append(f"app moved from {source.name} ({source.offset:#x}) to "
                       f"{target.name} ({target.offset:#x}), {app.end / target.size:.1%} full")


def _new_otadata(new: PartitionTable, target: Partition | None, actions: list[str]) -> OtaData:
    """Otadata that boots ``target`` when it is an OTA slot, else erased (factory boots)."""
    slots = new.ota_slots
    if target is not None and target.ota_index is not None and slots:
        nxt = slots[(target.ota_index + 1) % len(slots)].name
        actions.append(f"otadata: {target.name} boots (seq {target.ota_index + 1}), "
                       f"{nxt} is next for an update")
        return OtaData.erased().switch(target.ota_index, ota_slot_count=len(slots))
    actions.append("otadata: erased (the factory app boots)")
    return OtaData.erased()


def _carry_filesystems(image: Image, old: PartitionTable, new: PartitionTable, base: int,
                       actions: list[str], *, erase_fs: bool = False
                       ) -> dict[str, bytes | None]:
    """New filesystem images for data partitions that moved or changed size but hold files
    (None: erased, with an action line saying so, because of ``erase_fs``).

    Filesystems are not relocatable (littlefs even records its block count), so the files are
    copied into a fresh filesystem of the same kind and the new size. A filesystem partition
    whose old contents cannot be read (damaged, or data that is no filesystem esp-image
    edits) is never dropped silently: LayoutError naming the reason, unless ``erase_fs``.
    """
    from .fs import FS_NAMES, FS_SUBTYPES

    carried: dict[str, bytes | None] = {}
    for part in new.data_partitions:
        before = old.find(part.name)
        if before is None or (before.offset == part.offset and before.size == part.size):
            continue
        lo = max(before.offset - base, 0)
        hi = min(before.end - base, image.size)
        if before.offset < base or lo >= hi or _erased(image, before.offset, before.end, base):
            continue
        from ..errors import EspImageError
        from ..filesystems import copy_tree, detect, mkfs, open_volume

        data = image.partition_bytes(before)
        found = detect(data)
        holds_fs = found.type not in ("unknown", "erased") or \
            before.subtype in FS_SUBTYPES or before.name in FS_NAMES
        if not holds_fs:
            continue  # nvs, phy_init...: erased and reported by _assemble
        if found.type == "unknown" and before.offset == part.offset and \
                part.size >= before.size and \
                before.type == part.type and before.subtype == part.subtype:
            continue  # kept byte for byte by _assemble (with a note): nothing is dropped
        what = f"{found.type} filesystem" if found.type != "unknown" else "data"
        if erase_fs:
            carried[part.name] = None
            actions.append(f"{part.name}: its {what} was erased (--erase-fs), not copied")
            continue
        problem = None
        if found.type not in ("littlefs", "fat", "fat-wl"):
            problem = (f"holds {found.type} data esp-image cannot copy ({found.detail})"
                       if found.type != "unknown" else
                       f"holds data that is no filesystem esp-image can read ({found.detail})")
        elif not found.valid:
            problem = f"its {found.type} filesystem is damaged ({found.detail})"
        if problem is None:
            try:
                fresh = mkfs(part.size, kind=found.type)
                copy_tree(open_volume(data), fresh)
            except LayoutError as exc:
                raise LayoutError(f"{part.name}: its files do not fit the new size "
                                  f"{format_size(part.size)} ({exc}); make it larger, or pass "
                                  "--erase-fs to discard them") from None
            except EspImageError as exc:
                problem = f"its {found.type} filesystem cannot be read ({exc})"
        if problem is not None:
            raise LayoutError(f"{part.name} {problem}, so its files cannot be carried to the "
                              "new partition; pass --erase-fs to erase it")
        carried[part.name] = fresh.image()
        files = sum(1 for entry in fresh.walk() if not entry.is_dir)
        actions.append(f"{part.name}: {found.type} with {files} file(s) copied into a new "
                       f"{format_size(part.size)} filesystem at {part.offset:#x} "
                       "(--erase-fs discards them instead)")
    return carried


_NVS_KEYS = table_fmt.SUBTYPES[table_fmt.TYPE_DATA]["nvs_keys"]
_NVS = table_fmt.SUBTYPE_DATA_NVS


def _carry_nvs(image: Image, new: PartitionTable, actions: list[str]) -> dict[str, bytes]:
    """The contents of the NVS partitions ``new`` moves or resizes: kept when the partition
    moves or grows, repacked when it shrinks (LayoutError with the numbers when the keys do
    not fit); an action line each with how many keys went along. Encrypted NVS is repacked
    with the file's own nvs_keys partition."""
    assert image.table is not None
    kept = {(p.name, p.offset, p.size) for p in new
            if p.type == table_fmt.TYPE_DATA and p.subtype == _NVS}
    changed = [c for c in image.partitions if c.partition.type == table_fmt.TYPE_DATA
               and c.partition.subtype == _NVS
               and (c.partition.name, c.partition.offset, c.partition.size) not in kept]
    if all(c.state in ("erased", "absent") for c in changed):
        return {}  # nothing to carry: the NVS model is not even imported (start-up cost)
    from ..data_content import file_nvs_keys
    from ..nvs.locate import carry_nvs
    from ..nvs.partition import NvsPartition

    keys = file_nvs_keys([(p, image.partition_bytes(p)[:0x44]) for p in image.table
                          if p.type == table_fmt.TYPE_DATA and p.subtype == _NVS_KEYS
                          and p.offset >= (image.base or 0)])
    out: dict[str, bytes] = {}
    for moved in carry_nvs(image, new, keys):
        nvs = NvsPartition.from_bytes(moved.data)
        if not nvs.readable and keys is not None:
            nvs = NvsPartition.from_bytes(moved.data, keys)
        count = (f"{len(nvs.entries())} keys in {len(nvs.namespaces())} namespaces"
                 if nvs.readable else "encrypted, keys not counted")
        actions.append(f"{moved.action}: {count}")
        out[moved.partition.name] = moved.data
    return out


def _erased(image: Image, start: int, stop: int, base: int) -> bool:
    from ..spans import is_erased

    lo, hi = max(start - base, 0), min(stop - base, image.size)
    return lo >= hi or is_erased(image.data[lo:hi])
