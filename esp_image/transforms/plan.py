"""The smallest set of flash writes that brings a board to a merged firmware file or dump.

The file is cut into 4 KiB sectors on the flash address grid. Non-erased sectors are written;
adjacent ones merge into one write, but a write never crosses from one *zone* to the next:
the bootloader (up to the table), the partition table sector, each partition of the table,
and the stretches between them (``unpartitioned``). ESP8266 layouts have no table; their
zones are the regions the project recognises (``boot``, ``user1``, ``irom0``, ``rf_cal``...),
each starting at the sector its region starts in.

Leaving an erased sector out is only right on a blank board. On a used one the old bytes
stay, so the plan erases (``erase-region``, no data sent) every erased run whose old contents
would change what the board does:

- data partitions (otadata, nvs, phy_init, filesystems, core dump...) and the table sector,
  whole: the firmware reads all of them, and a stale otadata picks another app;
- the bootloader and every app slot up to the end of the image it holds, and at least the
  slot's first sector, so an erased slot never keeps a stale app the bootloader could choose;
- nothing in ``unpartitioned`` stretches or after an image's end: nothing reads them.

Erased runs the plan leaves alone are listed in :attr:`Plan.left`. ``assume_erased`` (the
board is known blank) leaves every erased run alone. Kept zones (``keep``) get neither writes
nor erases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UsageError, VerificationFailed

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from ..image import Image
    from ..spans import Region

SECTOR = 0x1000
UNPARTITIONED = "unpartitioned"
# Regions of an ESP8266 layout that belong to the zone around them rather than starting one.
_ESP8266_FILLERS = frozenset({"padding", "main app padding", "size-word", "md5", "elf2bin-crc"})
_UNNAMED = frozenset({"(unused)", "(before bootloader)"})


@dataclass(frozen=True)
class Zone:
    """A stretch of flash writes are named by (a partition, the bootloader, the table...).

    Attributes:
        name: what writes in it are called.
        start, end: its flash addresses (end exclusive).
        needed_end: erased runs below this address are erased on a used board (see the
            module's rules); ``start`` for a zone nothing reads.
        kind: ``bootloader``, ``partition-table``, ``app``, ``data`` or ``unpartitioned``.
        aliases: other names ``--keep`` accepts for it (``data:nvs``, ``nvs``, ``otadata``).
    """

    name: str
    start: int
    end: int
    needed_end: int
    kind: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Span:
    """A flash range the plan erases or leaves alone, and the zone it lies in."""

    address: int
    size: int
    partition: str

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"address": self.address, "size": self.size, "partition": self.partition}


@dataclass(frozen=True)
class Write(Span):
    """One piece to write: ``data`` belongs at ``address``; ``file`` is its default name."""

    file: str = ""
    data: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class Plan:
    """What to write and erase so a board holds ``source``'s firmware.

    Attributes:
        chip: the chip's name (as esptool's ``--chip`` takes it).
        base, size: the flash address of the file's byte 0, and its length.
        flash_mode, flash_size: from the bootloader header (None when it does not say).
        writes: the pieces, by address.
        erases: erased runs to erase on a used board (sizes in whole sectors).
        left: erased runs the plan leaves as the board has them.
        kept: the zones never touched.
        warnings: kept zones the firmware changes (the board may not boot it).
        assume_erased: the board is taken to be blank (no erases).
    """

    chip: str
    base: int
    size: int
    flash_mode: str | None
    flash_size: str | None
    writes: tuple[Write, ...]
    erases: tuple[Span, ...]
    left: tuple[Span, ...]
    kept: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    assume_erased: bool = False

    @property
    def bytes_written(self) -> int:
        """Bytes the writes send to the board."""
        return sum(w.size for w in self.writes)

    def to_dict(self, directory: str = "") -> dict[str, object]:
        """JSON form; each write's ``file`` is its name inside ``directory``."""
        import os

        return {
            "chip": self.chip, "base": self.base, "flash_mode": self.flash_mode,
            "flash_size": self.flash_size,
            "writes": [{**w.to_dict(), "file": os.path.join(directory, w.file)}
                       for w in self.writes],
            "erases": [e.to_dict() for e in self.erases],
            "left": [s.to_dict() for s in self.left],
            "kept": list(self.kept), "warnings": list(self.warnings),
            "assume_erased": self.assume_erased,
            "bytes_written": self.bytes_written,
            "bytes_erased": sum(e.size for e in self.erases),
            "file_size": self.size,
        }


def keep_names(values: Iterable[str]) -> list[str]:
    """``--keep`` values: comma lists and repeats, blanks dropped, first mention kept."""
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            if (name := name.strip()) and name not in names:
                names.append(name)
    return names


def plan(image: Image, *, keep: Sequence[str] = (), assume_erased: bool = False) -> Plan:
    """The writes and erases that bring a board to ``image`` (a merged file or a dump).

    Args:
        image: a flash file (``kind == "flash"``): an ESP32-family merged file or dump, or an
            ESP8266 layout.
        keep: zones never touched: partition labels, ``bootloader``, ``partition-table``, or
            (when no label is that name) a subtype (``nvs``, ``spiffs``, ``ota``), a
            ``type:subtype`` pair (``data:nvs``) or ``otadata``.
        assume_erased: the board is blank, so erased runs need no erase.

    Raises:
        UsageError: the file is not a flash file, or a kept name matches nothing (the message
            lists the names there are).
        VerificationFailed: the plan, applied to a blank and to a used board, does not give
            the file's bytes outside what it keeps and leaves (a bug).
    """
    if image.kind != "flash" or image.chip is None or image.base is None:
        raise UsageError(f"{image.path or 'input'}: a plan needs a merged firmware file or a "
                         f"flash dump, not {_kind_text(image)}")
    zones = _esp8266_zones(image) if image.esp8266 is not None else _esp32_zones(image)
    kept = _kept(zones, keep)
    writes, erases, left = _pieces(image, zones, kept, assume_erased)
    mode, size = _flash_params(image)
    result = Plan(image.chip.name, image.base, len(image.data), mode, size, tuple(writes),
                  tuple(erases), tuple(left), tuple(sorted(kept)),
                  tuple(_warnings(image, zones, kept)), assume_erased)
    _self_check(result, image, zones, kept)
    return result


def _kind_text(image: Image) -> str:
    return f"a {image.kind} file" if image.kind != "image" else "a single image"


# ---------------------------------------------------------------------- zones
def _esp32_zones(image: Image) -> list[Zone]:
    """Bootloader, table sector and partitions, with the stretches between them."""
    assert image.chip is not None
    boot = image.chip.bootloader_offset
    table_at = image.table_address
    out: list[Zone] = []
    if image.bootloader is not None:
        end = table_at if table_at is not None and table_at > boot else \
            _ceil(boot + image.bootloader.end)
        out.append(Zone("bootloader", boot, end, boot + image.bootloader.end, "bootloader"))
    if table_at is not None:
        out.append(Zone("partition-table", table_at, table_at + SECTOR, table_at + SECTOR,
                        "partition-table"))
    for content in image.partitions:
        part = content.partition
        aliases = tuple(a for a in (part.subtype_name,
                                    f"{part.type_name}:{part.subtype_name}"
                                    if part.type_name and part.subtype_name else None,
                                    "otadata" if part.is_otadata else None) if a)
        if part.is_app:
            image_end = content.image.end if content.image is not None else 0
            needed = part.offset + max(SECTOR, image_end)
            out.append(Zone(part.name, part.offset, part.end, needed, "app", aliases))
        else:
            out.append(Zone(part.name, part.offset, part.end, part.end, "data", aliases))
    return _tile(out, image, lambda address: _hole_name(image, address))


def _hole_name(image: Image, address: int) -> str:
    """A stretch outside every zone is named by the region there when it has a name of its
    own (a Secure Boot v1 digest before the bootloader), else ``unpartitioned``."""
    for region in image.regions:
        if region.address <= address < region.address + region.size:
            if region.name not in _UNNAMED and region.kind not in ("erased", "gap"):
                return region.name
            break
    return UNPARTITIONED


def _esp8266_zones(image: Image) -> list[Zone]:
    """A zone per named region, from the sector it starts in to the next zone; fillers join
    their neighbour (a size word joins the irom it prefixes)."""
    starts: list[tuple[int, Region]] = []
    regions = list(image.regions)
    for i, region in enumerate(regions):
        if region.name in _ESP8266_FILLERS:
            continue
        start = region.address
        if i and regions[i - 1].name == "size-word":
            start = regions[i - 1].address
        # A named region claims the sector it starts in; an unused stretch only whole ones.
        start = _ceil(start) if region.name in _UNNAMED else start - start % SECTOR
        starts.append((start, region))
    out: list[Zone] = []
    for i, (start, region) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else 1 << 40
        if region.name in _UNNAMED:
            out.append(Zone(UNPARTITIONED, start, end, start, UNPARTITIONED))
        elif region.kind in ("image", "irom"):
            kind = "bootloader" if region.address == 0 and region.kind == "image" else "app"
            needed = max(start + SECTOR, region.address + region.size)
            out.append(Zone(region.name, start, end, needed, kind))
        else:
            out.append(Zone(region.name, start, end, end, "data"))
    return _tile(out, image, lambda address: UNPARTITIONED)


def _tile(zones: list[Zone], image: Image, hole_name: Callable[[int], str]) -> list[Zone]:
    """The zones cut to tile the file: an overlap goes to the earlier zone, a hole becomes a
    zone of its own, everything is clipped to the file. A zone the file does not reach stays
    (empty), so ``--keep`` can still name it."""
    from dataclasses import replace

    base = image.base or 0
    stop = base + len(image.data)
    out: list[Zone] = []
    pos = base
    for zone in sorted(zones, key=lambda z: z.start):
        start = min(max(zone.start, pos), stop)
        end = max(min(zone.end, stop), start)
        if start > pos:
            out.append(Zone(hole_name(pos), pos, start, pos, UNPARTITIONED))
        out.append(replace(zone, start=start, end=end,
                           needed_end=min(max(zone.needed_end, start), end)))
        pos = max(pos, end)
    if pos < stop:
        out.append(Zone(hole_name(pos), pos, stop, pos, UNPARTITIONED))
    return out


def _ceil(address: int) -> int:
    return -(-address // SECTOR) * SECTOR


# ---------------------------------------------------------------------- keep
def _kept(zones: list[Zone], keep: Sequence[str]) -> set[str]:
    """The names of the zones ``keep`` names: by label first, else by alias."""
    kept: set[str] = set()
    for name in keep:
        found = {z.name for z in zones if z.name == name} or \
            {z.name for z in zones if name in z.aliases}
        if not found:
            labels = list(dict.fromkeys(z.name for z in zones))
            raise UsageError(f"--keep {name!r}: no such partition; there are "
                             f"{', '.join(labels)}")
        kept |= found
    for zone in zones:
        # esptool erases whole sectors around what it writes: a kept zone off the sector
        # grid would lose the part of its sector next to a write.
        if zone.name in kept and zone.end > zone.start and (zone.start % SECTOR or (
                zone.end % SECTOR and zone.end != zones[-1].end)):
            raise UsageError(f"--keep {zone.name!r}: it does not start and end on 4 KiB "
                             "sectors, so writing next to it would erase part of it")
    return kept


def _warnings(image: Image, zones: list[Zone], kept: set[str]) -> list[str]:
    """Kept zones the board must already hold as this firmware has them to boot it."""
    from ..spans import is_erased

    base = image.base or 0
    out: list[str] = []
    for zone in zones:
        if zone.name in kept and zone.kind in ("bootloader", "partition-table", "app") and \
                not is_erased(image.data[zone.start - base:zone.end - base]):
            out.append(f"{zone.name} is kept, but this firmware has its own {zone.kind} "
                       "there: the board may not boot this firmware")
    return out


# ---------------------------------------------------------------------- pieces
def _pieces(image: Image, zones: list[Zone], kept: set[str], assume_erased: bool
            ) -> tuple[list[Write], list[Span], list[Span]]:
    """Writes of the non-erased sector runs of each zone not kept; its erased runs erased
    (up to its ``needed_end``) or left."""
    from .extract import default_extract_name

    base = image.base or 0
    data = image.data
    writes: list[Write] = []
    erases: list[Span] = []
    left: list[Span] = []
    for zone in zones:
        if zone.name in kept:
            continue
        for start, stop, erased in _runs(data, base, zone):
            if not erased:
                writes.append(Write(start, stop - start, zone.name,
                                    default_extract_name(f"{start:#x}", zone.name),
                                    bytes(data[start - base:stop - base])))
                continue
            cut = start if assume_erased else min(stop, max(start, _ceil(zone.needed_end)))
            if cut > start:  # esptool erases whole sectors only: a file's last one rounds up
                erases.append(Span(start, _ceil(cut) - start, zone.name))
            if stop > cut:
                left.append(Span(cut, stop - cut, zone.name))
    return writes, erases, left


def _runs(data: memoryview, base: int, zone: Zone) -> list[tuple[int, int, bool]]:
    """``zone`` as runs of sectors ``(start, stop, erased)`` on the flash address grid. A
    sector only partly in the zone counts as erased only when esptool can erase it whole
    (it ends the file); otherwise it is written."""
    from ..spans import is_erased

    stop_of_file = base + len(data)
    runs: list[tuple[int, int, bool]] = []
    address = zone.start
    while address < zone.end:
        nxt = min(address - address % SECTOR + SECTOR, zone.end)
        whole = address % SECTOR == 0 and (nxt % SECTOR == 0 or nxt == stop_of_file)
        erased = whole and is_erased(data[address - base:nxt - base])
        if runs and runs[-1][2] == erased and runs[-1][1] == address:
            runs[-1] = (runs[-1][0], nxt, erased)
        else:
            runs.append((address, nxt, erased))
        address = nxt
    return runs


def _flash_params(image: Image) -> tuple[str | None, str | None]:
    """Flash mode and size as the bootloader header states them (None where it does not)."""
    from ..units import format_size

    if image.bootloader is not None:
        header = image.bootloader.header
        return (None if header.flash_mode.endswith("?") else header.flash_mode,
                format_size(header.flash_size) if header.flash_size else None)
    first = next((r.model for r in image.regions if r.address == 0 and r.kind == "image"),
                 None)
    first = getattr(first, "image", first)  # a MicroPython firmware wraps its v1 image
    mode = getattr(first, "flash_mode", None)
    size = None if getattr(first, "flash_size_ambiguous", True) else \
        getattr(first, "flash_size_name", None)
    return (mode if isinstance(mode, str) and not mode.endswith("?") else None,
            size if isinstance(size, str) else None)


# ---------------------------------------------------------------------- checking
def apply(plan: Plan, flash: bytearray) -> None:
    """Do to ``flash`` (its byte 0 at ``plan.base``) what esptool does with the plan: erase
    each erase range, and for each write erase the sectors it touches, then write it."""
    base = plan.base

    def erase(start: int, stop: int) -> None:
        lo, hi = max(start - base, 0), min(stop - base, len(flash))
        if hi > lo:
            flash[lo:hi] = b"\xff" * (hi - lo)

    for span in plan.erases:
        erase(span.address, span.address + span.size)
    for write in plan.writes:
        erase(write.address - write.address % SECTOR, _ceil(write.address + write.size))
        flash[write.address - base:write.address - base + write.size] = write.data


def _self_check(result: Plan, image: Image, zones: list[Zone], kept: set[str]) -> None:
    """The plan on a blank board and on one full of old bytes gives the file's bytes, except
    in kept zones and the runs it leaves, which keep the old bytes."""
    base, data = result.base, bytes(image.data)
    untouched = [(z.start - base, z.end - base) for z in zones if z.name in kept] + \
        [(s.address - base, s.address + s.size - base) for s in result.left]
    for old in (0xFF, 0x00):
        flash = bytearray([old]) * len(data)
        apply(result, flash)
        expected = bytearray(data)
        for start, stop in untouched:
            expected[start:stop] = bytes([old]) * (stop - start)
        if flash != expected:
            at = next(i for i, (a, b) in enumerate(zip(flash, expected, strict=True)) if a != b)
            raise VerificationFailed(f"plan for {image.path or 'input'}: the board would "
                                     f"differ from the file at {base + at:#x}")
