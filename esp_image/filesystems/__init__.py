"""Filesystems inside data partitions: identify them, and read and change their files.

Four kinds are recognised in a partition's bytes (or a bare partition image):

* ``littlefs`` — littlefs v2 as MicroPython's ``VfsLfs2`` makes it (see :mod:`.lfs`);
* ``fat`` — a FAT volume starting at the partition's first byte, as MicroPython's
  ``VfsFat`` makes it (esp8266, older esp32 builds);
* ``fat-wl`` — FAT behind ESP-IDF's wear-levelling layer (ESP-IDF FATFS, Arduino FFat);
* ``spiffs`` — SPIFFS as ESP-IDF and mkspiffs make it, read-only (see :mod:`.spiffs`).

An all-0xFF partition is ``erased``; anything else is ``unknown``. :func:`detect` is cheap and
never raises anything but :class:`~esp_image.errors.EspImageError` (in practice it returns a
report with ``valid=False`` for damaged data). littlefs-python and pyfatfs (the optional ``fs``
extra) are imported only when a littlefs or FAT header was seen.

Editing goes through a :class:`Volume`: :func:`open_volume` for what is there, :func:`mkfs` for
a fresh filesystem, :func:`copy_tree` to move every file from one volume to another. Every
failure is an :class:`~esp_image.errors.EspImageError`: :class:`~esp_image.errors.FormatError`
for a damaged filesystem, :class:`~esp_image.errors.InputError` for a path that does not exist
or cannot be used, :class:`~esp_image.errors.LayoutError` when the filesystem is full.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import EspImageError, FormatError, InputError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "KINDS",
    "Entry",
    "FileSystemInfo",
    "Volume",
    "copy_tree",
    "detect",
    "mkfs",
    "normalize_path",
    "open_volume",
]

KINDS = ("littlefs", "fat", "fat-wl", "spiffs", "erased", "unknown")
"""Every value :attr:`FileSystemInfo.type` takes."""

LFS_MAGIC = b"littlefs"
LFS_BLOCK_SIZES = (4096, 512, 1024, 2048, 8192, 16384, 32768, 65536)
"""Block sizes tried when looking for littlefs's second superblock (block 1): MicroPython's
4096 first."""


@dataclass(frozen=True)
class FileSystemInfo:
    """What :func:`detect` found in a partition.

    Attributes:
        type: one of :data:`KINDS`.
        block_size: the filesystem's block (littlefs), cluster (FAT) or SPIFFS block size.
        block_count: how many of those blocks the filesystem has.
        used: bytes in use, or None when not known.
        free: bytes free, or None when not known.
        version: e.g. ``"littlefs 2.0"``, ``"FAT12"``, ``"wear levelling 2"``.
        label: the volume label, when the filesystem has one.
        detail: one line for a human (the reason when ``valid`` is False).
        valid: False for a damaged filesystem (or one the device will not mount).
    """

    type: str
    block_size: int | None = None
    block_count: int | None = None
    used: int | None = None
    free: int | None = None
    version: str | None = None
    label: str | None = None
    detail: str = ""
    valid: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (``partitions[].filesystem``)."""
        return asdict(self)


@dataclass(frozen=True)
class Entry:
    """One directory entry: ``name`` in its directory, absolute ``path`` ("/lib/x.py")."""

    name: str
    path: str
    is_dir: bool
    size: int


class Volume(Protocol):
    """A mounted filesystem held in memory; :meth:`image` gives the partition bytes back.

    Paths are absolute or relative to the root, "/" separated ("/lib/a.py", "lib/a.py").
    Every method raises only :class:`~esp_image.errors.EspImageError` subclasses:
    InputError for a missing path, a file where a directory is needed (or the reverse), a
    non-empty directory to remove or a name the filesystem cannot hold; LayoutError when
    there is no space left; FormatError when the filesystem turns out to be damaged.
    """

    def listdir(self, path: str = "/") -> list[Entry]:
        """The entries of a directory, sorted by name (InputError if not a directory)."""
        ...

    def read(self, path: str) -> bytes:
        """A file's bytes."""
        ...

    def write(self, path: str, data: bytes) -> None:
        """Create or replace a file; missing parent directories are created."""
        ...

    def mkdir(self, path: str) -> None:
        """Make a directory and any missing parents; nothing happens if it exists."""
        ...

    def remove(self, path: str) -> None:
        """Remove a file or an empty directory."""
        ...

    def df(self) -> tuple[int, int]:
        """(used, total) bytes."""
        ...

    def walk(self) -> list[Entry]:
        """Every directory and file below the root, each directory before its contents."""
        ...

    def image(self) -> bytes:
        """The partition's bytes with every change so far (same length as opened)."""
        ...


def normalize_path(path: str) -> str:
    """``path`` as "/a/b" ("/" for the root); "." parts dropped, ".." refused."""
    parts = [p for p in str(path).replace("\\", "/").split("/") if p and p != "."]
    if ".." in parts:
        raise InputError(f"{path}: '..' is not allowed in a path inside the filesystem")
    return "/" + "/".join(parts)


# --- detection ------------------------------------------------------------------------------


def detect(data: bytes | bytearray | memoryview) -> FileSystemInfo:
    """Identify the filesystem in a partition's bytes (see the module docstring).

    Order: erased, littlefs (its superblock in block 0 or 1), ESP-IDF wear levelling (its
    config sector at the end), a FAT boot sector at offset 0, SPIFFS (its per-block magic, or
    lookup pages that agree with their pages), else unknown. A recognised but damaged
    filesystem comes back with ``valid=False``.
    """
    try:
        raw = bytes(data)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot read the partition's bytes: {exc}") from None
    try:
        return _detect(raw)
    except EspImageError:
        raise
    except Exception as exc:  # never let a library's own exception escape (damaged data)
        return FileSystemInfo("unknown", valid=False,
                              detail=f"could not be examined: {type(exc).__name__}: {exc}")


def _detect(raw: bytes) -> FileSystemInfo:
    if not raw:
        return FileSystemInfo("unknown", detail="no data")
    if raw.count(0xFF) == len(raw):
        return FileSystemInfo("erased",
                              detail=f"all {len(raw)} bytes are 0xFF (no filesystem yet)")
    if find_littlefs_superblock(raw) is not None:
        from .lfs import inspect_littlefs

        return inspect_littlefs(raw)
    wl = parse_wl_config(raw)
    if wl is not None:
        return _fat_report(raw, "fat-wl", _basic_wl_report(raw, wl))
    bpb = parse_fat_boot_sector(raw)
    if bpb is not None:
        return _fat_report(raw, "fat", _basic_fat_report(raw, bpb))
    from .spiffs import detect_spiffs

    spiffs = detect_spiffs(raw)
    if spiffs is not None:
        return spiffs
    return FileSystemInfo("unknown", detail="no littlefs, FAT, wear-levelling or SPIFFS "
                                            "signature found")


def find_littlefs_superblock(raw: bytes) -> tuple[int, int] | None:
    """(block, byte offset) of a littlefs superblock: "littlefs" at offset 8 of block 0 or of
    block 1 (block sizes from :data:`LFS_BLOCK_SIZES` tried) after a valid first tag (type
    superblock, id 0, length 8), else None."""
    candidates = [(0, 0)] + [(1, bs) for bs in LFS_BLOCK_SIZES]
    for block, offset in candidates:
        if len(raw) < offset + 16 or raw[offset + 8:offset + 16] != LFS_MAGIC:
            continue
        tag = struct.unpack_from(">I", raw, offset + 4)[0] ^ 0xFFFFFFFF
        if (tag >> 20) & 0x7FF == 0x0FF and (tag >> 10) & 0x3FF == 0 and tag & 0x3FF == 8:
            return block, offset
    return None


# FAT --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootSector:
    """The BIOS parameter block of a FAT boot sector (only what detection needs)."""

    bytes_per_sector: int
    sectors_per_cluster: int
    reserved_sectors: int
    num_fats: int
    root_entries: int
    total_sectors: int
    sectors_per_fat: int
    fat_type: str
    clusters: int
    label: str | None


def parse_fat_boot_sector(raw: bytes, offset: int = 0) -> BootSector | None:
    """A FAT12/16/32 boot sector at ``offset`` (0x55AA at 510, sane BPB), else None."""
    if len(raw) < offset + 512 or raw[offset + 510:offset + 512] != b"\x55\xaa":
        return None
    if raw[offset] not in (0xEB, 0xE9):
        return None
    bps, spc, reserved, nfats, root_entries, total16, _media, spf16 = struct.unpack_from(
        "<HBHBHHBH", raw, offset + 11)
    total32, spf32 = struct.unpack_from("<I", raw, offset + 32)[0], \
        struct.unpack_from("<I", raw, offset + 36)[0]
    if bps not in (512, 1024, 2048, 4096) or spc == 0 or spc & (spc - 1) or spc > 128:
        return None
    if reserved == 0 or nfats not in (1, 2):
        return None
    total = total16 or total32
    spf = spf16 or spf32
    if total == 0 or spf == 0:
        return None
    root_sectors = (root_entries * 32 + bps - 1) // bps
    data_start = reserved + nfats * spf + root_sectors
    if data_start >= total:
        return None
    clusters = (total - data_start) // spc
    fat_type = "FAT12" if clusters < 4085 else "FAT16" if clusters < 65525 else "FAT32"
    if fat_type == "FAT32" and spf16 != 0:
        return None
    label_at = 71 if spf16 == 0 else 43
    label: str | None = None
    if raw[offset + label_at - 5] == 0x29:  # extended boot signature: label is meaningful
        label = raw[offset + label_at:offset + label_at + 11].decode("latin-1").strip() or None
        if label == "NO NAME":
            label = None
    return BootSector(bps, spc, reserved, nfats, root_entries, total, spf, fat_type, clusters,
                      label)


def _basic_fat_report(raw: bytes, bpb: BootSector) -> FileSystemInfo:
    cluster = bpb.bytes_per_sector * bpb.sectors_per_cluster
    size = bpb.total_sectors * bpb.bytes_per_sector
    valid, detail = True, (f"{bpb.fat_type}, {bpb.bytes_per_sector}-byte sectors, "
                           f"{bpb.clusters} clusters of {cluster} bytes")
    if size > len(raw):
        valid = False
        detail = f"the FAT volume ({size} bytes) is larger than the partition ({len(raw)})"
    return FileSystemInfo("fat", block_size=cluster, block_count=bpb.clusters,
                          version=bpb.fat_type, label=bpb.label, detail=detail, valid=valid)


# ESP-IDF wear levelling ---------------------------------------------------------------------

WL_CONFIG_FIELDS = ("start_addr", "full_mem_size", "page_size", "sector_size", "updaterate",
                    "wr_size", "version", "temp_buff_size")
WL_STATE_SIZE = 64
"""sizeof(wl_state_t): 8 words, 7 reserved, crc."""
WL_STATE_RECORD = 16
"""wr_size: one position record per sector after the state header."""


def wl_crc(data: bytes) -> int:
    """ESP-IDF's crc32_le(UINT32_MAX, data) (the ROM CRC the wear-levelling layer uses)."""
    return zlib.crc32(data, 0xFFFFFFFF) & 0xFFFFFFFF


def parse_wl_config(raw: bytes, sector_size: int = 4096) -> dict[str, int] | None:
    """ESP-IDF's wl_config_t from the last sector of the partition, when its CRC holds.

    The config is 8 little-endian words (start_addr, full_mem_size, page_size, sector_size,
    updaterate, wr_size, version, temp_buff_size) followed by crc32_le(UINT32_MAX) over them
    (components/wear_levelling, wl_fatfsgen.py); some IDF versions' WL_Config.h put 5
    reserved words before the CRC, which is accepted too.
    """
    at = len(raw) - sector_size
    if at < 0 or len(raw) % sector_size:
        return None
    head = raw[at:at + 56]
    values = dict(zip(WL_CONFIG_FIELDS, struct.unpack_from("<8I", head), strict=True))
    crc_ok = struct.unpack_from("<I", head, 32)[0] == wl_crc(head[:32]) or \
        struct.unpack_from("<I", head, 52)[0] == wl_crc(head[:52])
    if not crc_ok:
        return None
    if values["sector_size"] not in (512, 4096) or values["page_size"] < values["sector_size"]:
        return None
    if values["full_mem_size"] == 0 or values["full_mem_size"] > len(raw):
        return None
    return values


def wl_geometry(cfg: dict[str, int]) -> dict[str, int]:
    """Where WL_Flash::config() puts the state copies and how big the FAT inside is."""
    sector, full = cfg["sector_size"], cfg["full_mem_size"]
    state_size = sector
    need = WL_STATE_SIZE + (full // sector) * cfg["wr_size"]
    if state_size < need:
        state_size = (need + sector - 1) // sector * sector
    cfg_size = (48 + sector - 1) // sector * sector
    addr_cfg = cfg["start_addr"] + full - cfg_size
    addr_state1 = cfg["start_addr"] + full - 2 * state_size - cfg_size
    addr_state2 = cfg["start_addr"] + full - state_size - cfg_size
    flash_size = ((full - 2 * state_size - cfg_size) // cfg["page_size"] - 1) * cfg["page_size"]
    return {"state_size": state_size, "cfg_size": cfg_size, "addr_cfg": addr_cfg,
            "addr_state1": addr_state1, "addr_state2": addr_state2, "flash_size": flash_size}


def _basic_wl_report(raw: bytes, cfg: dict[str, int]) -> FileSystemInfo:
    geo = wl_geometry(cfg)
    states_ok = []
    for key in ("addr_state1", "addr_state2"):
        at = geo[key]
        state = raw[at:at + WL_STATE_SIZE]
        # version 2: crc over the first 60 bytes at 60; version 1: over 28 bytes at 28
        states_ok.append(len(state) == WL_STATE_SIZE and any(
            struct.unpack_from("<I", state, n)[0] == wl_crc(state[:n]) for n in (60, 28)))
    valid = any(states_ok) and geo["flash_size"] > 0
    detail = (f"ESP-IDF wear levelling v{cfg['version']}, {cfg['sector_size']}-byte sectors, "
              f"{geo['flash_size']} bytes for FAT")
    if not valid:
        detail += "; both wear-levelling state copies are damaged"
    elif not all(states_ok):
        detail += "; one wear-levelling state copy is damaged (the device repairs it)"
    return FileSystemInfo("fat-wl", block_size=cfg["sector_size"],
                          block_count=geo["flash_size"] // cfg["sector_size"],
                          version=f"wear levelling {cfg['version']}", detail=detail,
                          valid=valid)


def _fat_report(raw: bytes, kind: str, basic: FileSystemInfo) -> FileSystemInfo:
    """Ask the FAT module (another optional part) for the full report; else ``basic``."""
    try:
        from .fat import inspect_fat
    except ImportError:
        return basic
    try:
        info = inspect_fat(raw)
    except EspImageError as exc:
        return FileSystemInfo(kind, basic.block_size, basic.block_count, version=basic.version,
                              detail=str(exc), valid=False)
    except Exception as exc:  # a library exception on damaged data: report, never crash
        return FileSystemInfo(kind, basic.block_size, basic.block_count, version=basic.version,
                              detail=f"{type(exc).__name__}: {exc}", valid=False)
    if isinstance(info, FileSystemInfo):
        return info
    if not isinstance(info, dict):
        return basic
    detail = info.get("reason") or basic.detail
    if info.get("wear_levelling"):
        detail = f"{detail}; behind ESP-IDF wear levelling" if detail else \
            "behind ESP-IDF wear levelling"
    return FileSystemInfo(str(info.get("type") or kind), info.get("cluster_size"),
                          info.get("clusters"), info.get("used_bytes"), info.get("free_bytes"),
                          info.get("fat_type") or basic.version, info.get("volume_label"),
                          detail, bool(info.get("valid", True)))


# --- volumes --------------------------------------------------------------------------------


def open_volume(data: bytes | bytearray | memoryview, *, kind: str | None = None,
                page_size: int | None = None, block_size: int | None = None) -> Volume:
    """The filesystem in ``data`` as a :class:`Volume` (``kind`` skips detection).

    ``page_size`` and ``block_size`` are SPIFFS's (inferred when None; giving either means
    SPIFFS). A SPIFFS volume is read-only: its changing methods raise UsageError.
    FormatError for an erased or unknown partition ("no filesystem: use mkfs") and for a
    damaged filesystem.
    """
    raw = bytes(data)
    if kind is None and (page_size or block_size):
        kind = "spiffs"
    if kind is None:
        info = detect(raw)
        kind = info.type
        if kind in ("erased", "unknown"):
            raise FormatError(f"no filesystem ({info.detail or kind}): use mkfs",
                              structure="filesystem")
    if kind == "littlefs":
        from .lfs import LittleFsVolume

        return LittleFsVolume(raw)
    if kind in ("fat", "fat-wl"):
        open_fat = _fat_function("open_fat")
        return _guard(lambda: open_fat(raw, kind=kind))
    if kind == "spiffs":
        from .spiffs import SpiffsVolume

        return SpiffsVolume(raw, page_size=page_size, block_size=block_size)
    raise InputError(f"unknown filesystem kind {kind!r} (one of littlefs, fat, fat-wl, spiffs)")


def mkfs(size: int, *, kind: str = "littlefs", block_size: int = 4096) -> Volume:
    """A fresh, empty filesystem of ``size`` bytes, formatted as the device would."""
    if kind == "littlefs":
        from .lfs import mkfs_littlefs

        return mkfs_littlefs(size, block_size=block_size)
    if kind in ("fat", "fat-wl"):
        mkfs_fat = _fat_function("mkfs_fat")
        return _guard(lambda: mkfs_fat(size, kind=kind))
    raise InputError(f"cannot make a {kind!r} filesystem (one of littlefs, fat, fat-wl)")


def copy_tree(src: Volume, dst: Volume) -> list[str]:
    """Copy every directory and file of ``src`` into ``dst``; returns the paths copied.

    LayoutError when ``dst`` runs out of space (``dst`` then holds part of the tree).
    """
    copied: list[str] = []

    def visit(directory: str) -> None:
        for entry in src.listdir(directory):
            if entry.is_dir:
                dst.mkdir(entry.path)
                copied.append(entry.path)
                visit(entry.path)
            else:
                dst.write(entry.path, src.read(entry.path))
                copied.append(entry.path)

    visit("/")
    return copied


def _fat_function(name: str) -> Callable[..., Volume]:
    try:
        from . import fat
    except ImportError as exc:
        raise InputError(f"FAT support is not available ({exc}); install esp-image[fs]"
                         ) from None
    function: Callable[..., Volume] = getattr(fat, name)
    return function


def _guard(call: Callable[[], Volume]) -> Volume:
    try:
        return call()
    except EspImageError:
        raise
    except Exception as exc:
        raise FormatError(f"{type(exc).__name__}: {exc}", structure="filesystem") from None
