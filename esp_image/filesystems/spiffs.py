"""Reading SPIFFS: ESP-IDF's ``spiffsgen.py``, mkspiffs (Arduino ESP8266 and ESP32, PlatformIO)
and whatever a device wrote since.

SPIFFS stores none of its build options, so they are inferred from the data, as a person with a
hex dump would: the block and page size from the magic SPIFFS writes into every block (or, for a
build without ``SPIFFS_USE_MAGIC``, from which geometry makes the lookup pages agree with the
pages they describe), then the name length, metadata length, index-table alignment and spiffs
version from the one place they matter, the offset of an index header's page table: the layout
whose first table entry points at the object's data page 0 wins. ``page_size`` and
``block_size`` override the first step.

Read-only: SPIFFS is flat (a name holds the whole path, "/css/a.css"), so directories are
implied by the names. Every loop runs over pages of the image, so damaged data costs at most one
pass and never an allocation larger than the image; damage is a
:class:`~esp_image.errors.FormatError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from itertools import product

from ..errors import FormatError, InputError, UsageError
from ..formats.compiled import spiffs as fmt
from . import Entry, FileSystemInfo, normalize_path

GEOMETRIES = ((4096, 256), (8192, 256), (4096, 512), (8192, 512), (16384, 256), (4096, 128),
              (32768, 256), (65536, 256), (2048, 256), (8192, 128), (16384, 512))
"""(block size, page size) pairs tried, most common first: ESP-IDF's and Arduino ESP32's
4096/256, Arduino ESP8266's 8192/256, then rarer builds."""
PAGE_SIZES = (256, 512, 128, 1024, 64, 2048)
BLOCK_SIZES = (4096, 8192, 16384, 32768, 65536, 2048, 1024, 131072)
"""What an override of one of the two is combined with."""


@dataclass(frozen=True)
class Geometry:
    """Block and page size, block count and which magic the blocks carry."""

    block_size: int
    page_size: int
    blocks: int
    magic: str
    """``"length"`` (SPIFFS_USE_MAGIC_LENGTH), ``"plain"`` or ``"none"``."""
    magic_hits: int = 0
    fs_blocks: int = 0
    """The filesystem's block count as the magic states it (0: not stated)."""

    @property
    def pages_per_block(self) -> int:
        return self.block_size // self.page_size

    @property
    def lookup_pages(self) -> int:
        return fmt.lookup_pages(self.block_size, self.page_size)

    @property
    def entries(self) -> int:
        """Lookup entries per block: one per page that is not a lookup page."""
        return self.pages_per_block - self.lookup_pages

    @property
    def data_size(self) -> int:
        """``SPIFFS_DATA_PAGE_SIZE``: file bytes one data page holds."""
        return self.page_size - fmt.PAGE_HEADER_SIZE


@dataclass(frozen=True)
class Layout:
    """Where an index header's name and page table are: build options of the image."""

    name_len: int
    meta_len: int
    aligned: bool
    legacy: bool = False

    @property
    def fixed(self) -> int:
        return fmt.LEGACY_INDEX_HEADER_FIXED if self.legacy else fmt.INDEX_HEADER_FIXED

    @property
    def table(self) -> int:
        """Offset of the header page's page-index table (``sizeof(...ix_header)``)."""
        end = self.fixed + self.name_len + self.meta_len
        return end + (end & 1) if self.aligned else end

    @property
    def index_table(self) -> int:
        """Offset of the page-index table in index pages after the header."""
        return fmt.LEGACY_INDEX_PAGE_TABLE if self.legacy else fmt.INDEX_PAGE_TABLE


LAYOUTS = tuple(Layout(name, meta, aligned, legacy) for legacy, name, meta, aligned in product(
    (False, True), (32, 64, 48, 128, 16), (4, 0, 8), (False, True)))
"""Candidates, most likely first: spiffsgen's defaults (32-byte names, 4 bytes of metadata),
mkspiffs for Arduino ESP8266 (no metadata), then other name and metadata lengths."""
DEFAULT_LAYOUT = LAYOUTS[0]


@dataclass(frozen=True)
class SpiffsFile:
    """One object: its id (without the index flag), name, size and index header page."""

    obj_id: int
    name: str
    size: int
    header_page: int


def _live(flags: int, index: bool) -> bool:
    """A finished, not deleted page of the given kind (the flags are active low)."""
    if flags & (fmt.FLAG_USED | fmt.FLAG_FINAL) or not flags & fmt.FLAG_DELET:
        return False
    return not flags & fmt.FLAG_INDEX if index else bool(flags & fmt.FLAG_INDEX)


# --- geometry ---------------------------------------------------------------------------------


def _candidates(size: int, page_size: int | None, block_size: int | None
                ) -> list[tuple[int, int]]:
    if page_size is None and block_size is None:
        return [(b, p) for b, p in GEOMETRIES if size // b >= 2]
    for value, what in ((page_size, "--page-size"), (block_size, "--block-size")):
        if value is not None and (value < 64 or value & (value - 1)):
            raise UsageError(f"{what} {value}: SPIFFS needs a power of two of at least 64")
    pages = (page_size,) if page_size else PAGE_SIZES
    blocks = (block_size,) if block_size else BLOCK_SIZES
    found = [(b, p) for b in blocks for p in pages if b >= 4 * p and size // b >= 2]
    if not found:
        raise UsageError(f"no SPIFFS geometry fits a {size}-byte image with --page-size "
                         f"{page_size or 'any'} and --block-size {block_size or 'any'} (a "
                         "block holds at least 4 pages, the image at least 2 blocks)")
    return found


def _magic_geometry(raw: bytes, candidates: list[tuple[int, int]]) -> Geometry | None:
    """The candidate with the most blocks carrying SPIFFS's magic (at least half and two of
    them), then the highest share. Without the length, a magic repeats at the same offset for
    any multiple of the block size: read as 16 KiB, an 8 KiB-block image shows the magic in
    every block, but only in half as many as read as 8 KiB, whereas read as 4 KiB it shows
    as many hits in twice as many blocks."""
    best: Geometry | None = None
    for block_size, page_size in candidates:
        blocks = len(raw) // block_size
        at = fmt.lookup_pages(block_size, page_size) * page_size - 4
        stored = [struct.unpack_from("<H", raw, bix * block_size + at)[0]
                  for bix in range(blocks)]
        # With the length, block 0's magic names the filesystem's block count: more than the
        # data holds when the image is the start of a longer partition (a partial read).
        total = stored[0] ^ fmt.spiffs_magic(page_size)
        counts = [("length", blocks), ("plain", 0)] + ([("length", total)] if total > blocks
                                                        else [])
        for kind, count in counts:
            hits = sum(value == fmt.spiffs_magic(page_size, count - bix if count else 0)
                       for bix, value in enumerate(stored))
            if hits < 2 or hits * 2 < blocks:
                continue
            if best is None or (hits, hits * best.blocks) > \
                    (best.magic_hits, best.magic_hits * blocks):
                best = Geometry(block_size, page_size, blocks, kind, hits, count or blocks)
    return best


def _structure_score(raw: bytes, geo: Geometry) -> tuple[int, int]:
    """(pages whose header echoes their lookup entry, index headers among them); (-1, 0) once
    mismatches outnumber matches, which random data and wrong geometries soon do."""
    good = headers = bad = 0
    for bix in range(geo.blocks):
        for pix, obj_id in _lookup(raw, geo, bix):
            head = fmt.PageHeader.parse(raw, pix * geo.page_size)
            index = bool(obj_id & fmt.OBJ_ID_IX_FLAG)
            if head.obj_id == obj_id and _live(head.flags, index):
                good += 1
                headers += index and head.span_ix == 0
            elif head.obj_id != fmt.OBJ_ID_FREE:
                bad += 1
        if bad > good + 16:
            return -1, 0
    return (good, headers) if bad * 8 <= good else (-1, 0)


def _structural_geometry(raw: bytes, candidates: list[tuple[int, int]]) -> Geometry | None:
    """For images without the magic: the geometry under which the most pages agree with their
    lookup entries, with at least one object index header."""
    best: tuple[int, Geometry] | None = None
    for block_size, page_size in candidates:
        geo = Geometry(block_size, page_size, len(raw) // block_size, "none")
        good, headers = _structure_score(raw, geo)
        if headers and (best is None or good > best[0]):
            best = (good, geo)
    return best[1] if best else None


def find_geometry(raw: bytes, *, page_size: int | None = None, block_size: int | None = None
                  ) -> Geometry | None:
    """The SPIFFS geometry of ``raw``, or None when it does not look like SPIFFS."""
    candidates = _candidates(len(raw), page_size, block_size)
    return _magic_geometry(raw, candidates) or _structural_geometry(raw, candidates)


def _lookup(raw: bytes, geo: Geometry, bix: int) -> list[tuple[int, int]]:
    """(page index, object id) of every used lookup entry of block ``bix``."""
    base = bix * geo.block_size
    ids = struct.unpack_from(f"<{geo.entries}H", raw, base)
    first = bix * geo.pages_per_block + geo.lookup_pages
    return [(first + i, obj_id) for i, obj_id in enumerate(ids)
            if obj_id not in (fmt.OBJ_ID_FREE, fmt.OBJ_ID_DELETED)]


# --- the volume -------------------------------------------------------------------------------


class SpiffsVolume:
    """A SPIFFS image, read-only (see the module docstring); the methods of
    :class:`~esp_image.filesystems.Volume` that change it raise :class:`UsageError`."""

    def __init__(self, data: bytes, *, page_size: int | None = None,
                 block_size: int | None = None) -> None:
        self._raw = bytes(data)
        geo = find_geometry(self._raw, page_size=page_size, block_size=block_size)
        if geo is None:
            raise FormatError("no SPIFFS found (no block magic, and no page size and block "
                              "size make its lookup pages agree with its pages; try "
                              "--page-size/--block-size)", structure="spiffs")
        self.geometry = geo
        self._scan()
        self.layout = self._infer_layout()
        self.files = self._files()
        self._dir_set = self._dirs()

    # scanning

    def _scan(self) -> None:
        """Every live index page by (object id, span) and every live data page's header."""
        geo = self.geometry
        self._index: dict[tuple[int, int], int] = {}
        self.used = self.deleted = 0
        for bix in range(geo.blocks):
            ids = struct.unpack_from(f"<{geo.entries}H", self._raw, bix * geo.block_size)
            self.deleted += ids.count(fmt.OBJ_ID_DELETED)
            for pix, obj_id in _lookup(self._raw, geo, bix):
                self.used += 1
                if not obj_id & fmt.OBJ_ID_IX_FLAG:
                    continue
                head = fmt.PageHeader.parse(self._raw, pix * geo.page_size)
                if head.obj_id != obj_id or not _live(head.flags, index=True):
                    continue
                if head.span_ix == 0 and not head.flags & fmt.FLAG_IXDELE:
                    continue  # an object half deleted: spiffs no longer finds it
                self._index.setdefault((obj_id & ~fmt.OBJ_ID_IX_FLAG, head.span_ix), pix)

    def _data_page_ok(self, pix: int, obj_id: int, span: int) -> bool:
        geo = self.geometry
        if pix >= geo.blocks * geo.pages_per_block or pix % geo.pages_per_block < \
                geo.lookup_pages:
            return False
        head = fmt.PageHeader.parse(self._raw, pix * geo.page_size)
        return head.obj_id == obj_id and head.span_ix == span and _live(head.flags, False)

    def _infer_layout(self) -> Layout:
        """The candidate layout whose first table entry points at data page 0 of the most
        objects (objects without data say nothing: the default then stands)."""
        headers = [(obj_id, pix) for (obj_id, span), pix in self._index.items() if span == 0]
        best, best_score = DEFAULT_LAYOUT, 0
        seen: set[tuple[int, int]] = set()
        for layout in LAYOUTS:
            if layout.table + 2 > self.geometry.page_size or \
                    (layout.table, layout.fixed) in seen:
                continue
            seen.add((layout.table, layout.fixed))
            score = 0
            for obj_id, pix in headers:
                at = pix * self.geometry.page_size
                entry = struct.unpack_from("<H", self._raw, at + layout.table)[0]
                score += self._data_page_ok(entry, obj_id, 0)
            if score > best_score:
                best, best_score = layout, score
        return best

    def _files(self) -> dict[str, SpiffsFile]:
        layout, page = self.layout, self.geometry.page_size
        record = fmt.LegacyIndexHeader if layout.legacy else fmt.IndexHeader
        files: dict[str, SpiffsFile] = {}
        for (obj_id, span), pix in sorted(self._index.items(), key=lambda kv: kv[1]):
            if span:
                continue
            header = record.parse(self._raw, pix * page)
            raw_name = self._raw[pix * page + layout.fixed:pix * page + layout.fixed +
                                 layout.name_len].split(b"\0", 1)[0]
            name = raw_name.decode("utf-8", "replace")
            size = 0 if header.size == fmt.UNDEFINED_LEN else header.size
            path = "/" + "/".join(p for p in name.split("/") if p and p != ".")
            if path != "/":  # an empty name cannot be opened by path on the device either
                files.setdefault(path, SpiffsFile(obj_id, name, size, pix))
        return files

    # reading

    def _page_of(self, obj: SpiffsFile, span: int) -> int:
        """Page index of data span ``span`` of ``obj``, from its index pages."""
        geo, layout = self.geometry, self.layout
        head_len = (geo.page_size - layout.table) // 2
        if span < head_len:
            at = obj.header_page * geo.page_size + layout.table + 2 * span
        else:
            per_page = (geo.page_size - layout.index_table) // 2
            ix_span, entry = divmod(span - head_len, per_page)
            ix_page = self._index.get((obj.obj_id, ix_span + 1))
            if ix_page is None:
                raise FormatError(f"{obj.name}: index page {ix_span + 1} (for byte "
                                  f"{span * geo.data_size}) is missing", structure="spiffs")
            at = ix_page * geo.page_size + layout.index_table + 2 * entry
        pix: int = struct.unpack_from("<H", self._raw, at)[0]
        if not self._data_page_ok(pix, obj.obj_id, span):
            raise FormatError(f"{obj.name}: data page {span} (for byte {span * geo.data_size}) "
                              f"is missing or damaged", structure="spiffs")
        return pix

    def _content(self, obj: SpiffsFile) -> bytes:
        geo = self.geometry
        capacity = geo.blocks * geo.entries * geo.data_size
        if obj.size > capacity:
            raise FormatError(f"{obj.name}: size {obj.size} is more than the filesystem holds "
                              f"({capacity})", structure="spiffs")
        out = []
        for span in range(-(-obj.size // geo.data_size)):
            at = self._page_of(obj, span) * geo.page_size + fmt.PAGE_HEADER_SIZE
            out.append(self._raw[at:at + min(geo.data_size, obj.size - span * geo.data_size)])
        return b"".join(out)

    def check(self) -> None:
        """FormatError for the first file whose pages cannot all be found."""
        geo = self.geometry
        for obj in self.files.values():
            if obj.size > geo.blocks * geo.entries * geo.data_size:
                self._content(obj)  # raises with the reason
            for span in range(-(-obj.size // geo.data_size)):
                self._page_of(obj, span)

    # Volume

    def _dirs(self) -> set[str]:
        dirs = {"/"}
        for path in self.files:
            parts = path.split("/")[1:-1]
            dirs.update("/" + "/".join(parts[:i + 1]) for i in range(len(parts)))
        return dirs

    def listdir(self, path: str = "/") -> list[Entry]:
        where = normalize_path(path)
        if where not in self._dir_set:
            raise InputError(f"{path}: {'not a' if where in self.files else 'no such'} "
                             "directory")
        prefix = where.rstrip("/") + "/"
        entries: dict[str, Entry] = {}
        for child in sorted(self._dir_set | set(self.files)):
            if child == where or not child.startswith(prefix):
                continue
            name = child[len(prefix):].split("/", 1)[0]
            full = prefix + name
            if full in self.files and name not in entries:
                entries[name] = Entry(name, full, False, self.files[full].size)
            elif full not in self.files:
                entries.setdefault(name, Entry(name, full, True, 0))
        return [entries[name] for name in sorted(entries)]

    def read(self, path: str) -> bytes:
        where = normalize_path(path)
        obj = self.files.get(where)
        if obj is None:
            what = "a directory" if where in self._dir_set else "no such file"
            raise InputError(f"{path}: {what}")
        return self._content(obj)

    def walk(self) -> list[Entry]:
        out: list[Entry] = []

        def visit(directory: str) -> None:
            for entry in self.listdir(directory):
                out.append(entry)
                if entry.is_dir:
                    visit(entry.path)
        visit("/")
        return out

    def df(self) -> tuple[int, int]:
        """(used, total) as ``SPIFFS_info`` reports them: data bytes of the pages in use, and
        of every page but two blocks' worth (spiffs keeps them free for its garbage
        collection) plus one."""
        geo = self.geometry
        total = ((geo.blocks - 2) * geo.entries + 1) * geo.data_size
        return self.used * geo.data_size, max(total, 0)

    def image(self) -> bytes:
        return self._raw

    def write(self, path: str, data: bytes) -> None:
        raise read_only("put")

    def mkdir(self, path: str) -> None:
        raise read_only("mkdir")

    def remove(self, path: str) -> None:
        raise read_only("rm")

    def info(self) -> FileSystemInfo:
        """The filesystem report :func:`~esp_image.filesystems.detect` gives."""
        geo, layout = self.geometry, self.layout
        used, total = self.df()
        magic = {"length": "magic with length", "plain": "magic without length",
                 "none": "no magic"}[geo.magic]
        detail = (f"{len(self.files)} files, {geo.blocks} blocks of {geo.block_size} bytes, "
                  f"{geo.page_size}-byte pages, {magic}, {layout.name_len}-byte names, "
                  f"{layout.meta_len}-byte metadata"
                  f"{', aligned index tables' if layout.aligned else ''}"
                  f"{', spiffs before 0.3.3' if layout.legacy else ''}")
        valid = True
        if geo.fs_blocks > geo.blocks:
            detail += (f"; the magic says {geo.fs_blocks} blocks: the image holds only the "
                       f"first {geo.blocks}")
        missing = geo.blocks - geo.magic_hits if geo.magic != "none" else 0
        if missing == 1:
            detail += "; one block lacks the magic (an erase was interrupted: spiffs erases " \
                      "it again at mount)"
        elif missing > 1:
            valid = False
            detail += f"; {missing} blocks lack the magic (spiffs refuses to mount it)"
        try:
            self.check()
        except FormatError as exc:
            valid, detail = False, f"{detail}; {exc}"
        return FileSystemInfo("spiffs", block_size=geo.block_size, block_count=geo.blocks,
                              used=used, free=max(0, total - used), version="SPIFFS",
                              detail=detail, valid=valid)


def read_only(command: str) -> UsageError:
    """The refusal of every change to a SPIFFS image."""
    return UsageError(f"SPIFFS is read-only here: {command} is not supported (ls, cat, get "
                      "and df work; fs mkfs replaces it with littlefs or FAT)")


def detect_spiffs(raw: bytes) -> FileSystemInfo | None:
    """The report for a SPIFFS image, or None when ``raw`` is not SPIFFS."""
    try:
        return SpiffsVolume(raw).info()
    except FormatError:
        return None
