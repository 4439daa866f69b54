"""FAT12/16 partitions as MicroPython and ESP-IDF make them, optionally behind ESP-IDF wear
levelling (Arduino FFat, ESP-IDF FATFS), read and written through pyfatfs (extra ``fs``).

Formatting does not use pyfatfs' ``mkfs`` (its geometry is not what a device writes); it
reproduces FatFs ``f_mkfs`` as the firmware calls it:

* MicroPython (``VfsFat.mkfs`` → oofatfs R0.12 ``f_mkfs(FM_FAT | FM_SFD, au=0)``): no partition
  table, 1 FAT, 512 root entries, cluster size chosen automatically, block size = sector size
  (4096 on esp8266/esp32), erase-block alignment 1 sector.
* ESP-IDF / Arduino FFat (``vfs_fat_spiflash.c`` → FatFs R0.15 ``f_mkfs`` with
  ``{FM_ANY | FM_SFD, n_fat=2, n_root=sector_size/32, au=sector_size}``) on the wear-levelled
  logical space; the diskio driver reports no erase-block size, so no alignment.

Both: 1 reserved sector, VBR ``EB FE 90`` + ``MSDOS5.0``, media 0xF8, 63 sectors/track,
255 heads, drive 0x80, ``NO NAME`` / ``FAT`` strings, FAT entries 0/1 = F8 FF (FF) (FF), the
data area left as erased flash (0xFF).

Every pyfatfs or decoding failure is turned into an :mod:`esp_image.errors` exception:
:class:`FormatError` for damage, :class:`InputError` for a missing or unusable path,
:class:`LayoutError` for no space.
"""

from __future__ import annotations

import contextlib
import errno
import io
import struct
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import EspImageError, FormatError, InputError, LayoutError, TruncatedError
from . import Entry, wl

if TYPE_CHECKING:
    from .wl import WlInfo

__all__ = [
    "BootSector",
    "Entry",
    "FatVolume",
    "inspect_fat",
    "mkfs_fat",
    "open_fat",
    "parse_boot_sector",
]

MAX_FAT12 = 0xFF5  # FatFs: up to 4085 clusters is FAT12
MAX_FAT16 = 0xFFF5  # FatFs: up to 65525 clusters is FAT16
_INVALID_LFN_CHARS = set('"*/:<>?\\|\x7f')
_INVALID_SFN_CHARS = set('"*+,./:;<=>?[\\]|\x7f')


# --------------------------------------------------------------------------- boot sector


@dataclass(frozen=True)
class BootSector:
    """The BPB fields FatFs reads when it mounts a volume, and what it derives from them."""

    oem_name: str
    bytes_per_sector: int
    sectors_per_cluster: int
    reserved_sectors: int
    fat_count: int
    root_entries: int
    total_sectors: int
    media: int
    fat_sectors: int
    hidden_sectors: int
    volume_id: int | None
    volume_label: str | None
    fs_type_string: str | None
    fat_type: int  # 12, 16 or 32, by cluster count as FatFs decides
    clusters: int
    root_dir_sectors: int
    first_data_sector: int

    @property
    def cluster_size(self) -> int:
        return self.bytes_per_sector * self.sectors_per_cluster

    @property
    def size(self) -> int:
        return self.total_sectors * self.bytes_per_sector


def parse_boot_sector(data: bytes) -> BootSector:
    """Validate a FAT volume boot record the way FatFs ``find_volume`` does."""
    where = "FAT boot sector"
    if len(data) < 512:
        raise TruncatedError(f"{len(data)} bytes, a boot sector needs 512", 0, where)
    if data[510:512] != b"\x55\xaa":
        blank = data[:512] == b"\xff" * 512
        raise FormatError(
            "no boot sector (erased flash)" if blank else "no 55 AA signature", 510, where
        )
    if data[0] not in (0xEB, 0xE9, 0xE8):
        raise FormatError(f"jump instruction {data[0]:#04x} is not EB/E9/E8", 0, where)
    (ss, spc, rsv, nfats, nroot, tot16, media, fatsz16) = struct.unpack_from("<HBHBHHBH", data, 11)
    hidden, tot32 = struct.unpack_from("<II", data, 28)
    if ss not in (512, 1024, 2048, 4096):
        raise FormatError(f"bytes per sector {ss} is not 512..4096", 11, where)
    if spc == 0 or spc & (spc - 1):
        raise FormatError(f"sectors per cluster {spc} is not a power of two", 13, where)
    if rsv == 0:
        raise FormatError("no reserved sectors", 14, where)
    if nfats not in (1, 2):
        raise FormatError(f"{nfats} FATs (FatFs accepts 1 or 2)", 16, where)
    if nroot % (ss // 32):
        raise FormatError(f"{nroot} root entries do not fill whole sectors", 17, where)
    total = tot16 or tot32
    if total == 0:
        raise FormatError("total sector count is 0", 19, where)
    fatsz = fatsz16 or struct.unpack_from("<I", data, 36)[0]
    if fatsz == 0:
        raise FormatError("FAT size is 0", 22, where)
    fat32 = fatsz16 == 0
    if fat32 and nroot:
        raise FormatError("FAT32 volume with a fixed root directory", 17, where)
    if not fat32 and nroot == 0:
        raise FormatError("FAT12/16 volume without root directory entries", 17, where)
    root_sectors = nroot * 32 // ss
    sysect = rsv + fatsz * nfats + root_sectors
    if total < sysect:
        raise FormatError(f"{total} sectors cannot hold the {sysect} system sectors", 19, where)
    clusters = (total - sysect) // spc
    if clusters == 0:
        raise FormatError("no data clusters", 19, where)
    fat_type = 12 if clusters <= MAX_FAT12 else 16 if clusters <= MAX_FAT16 else 32
    if fat32 != (fat_type == 32):
        raise FormatError(
            f"{clusters} clusters make FAT{fat_type}, the BPB layout says otherwise", 22, where
        )
    if fat_type == 12 and clusters == MAX_FAT12:
        raise FormatError(
            "4085 clusters: FatFs reads FAT12, other implementations FAT16; ambiguous", 19, where
        )
    n_entries = clusters + 2
    fat_bytes = {12: n_entries * 3 // 2 + (n_entries & 1), 16: n_entries * 2, 32: n_entries * 4}
    if fatsz < (fat_bytes[fat_type] + ss - 1) // ss:
        raise FormatError(f"FAT of {fatsz} sectors is too small for {clusters} clusters", 22, where)
    ext = 64 if fat32 else 36  # offset of BS_DrvNum
    volume_id = label = fstype = None
    if data[ext + 2] == 0x29:  # extended boot signature
        volume_id = struct.unpack_from("<I", data, ext + 3)[0]
        label = data[ext + 7 : ext + 18].decode("ascii", "replace").rstrip()
        fstype = data[ext + 18 : ext + 26].decode("ascii", "replace").rstrip()
    return BootSector(
        oem_name=data[3:11].decode("ascii", "replace").rstrip(),
        bytes_per_sector=ss,
        sectors_per_cluster=spc,
        reserved_sectors=rsv,
        fat_count=nfats,
        root_entries=nroot,
        total_sectors=total,
        media=media,
        fat_sectors=fatsz,
        hidden_sectors=hidden,
        volume_id=volume_id,
        volume_label=label,
        fs_type_string=fstype,
        fat_type=fat_type,
        clusters=clusters,
        root_dir_sectors=root_sectors,
        first_data_sector=sysect,
    )


# --------------------------------------------------------------------------- mkfs


@dataclass(frozen=True)
class _MkfsParams:
    n_fats: int
    n_root: int
    au: int  # cluster size in sectors, 0 = FatFs automatic choice
    min_sectors: int


def _micropython_params(ss: int) -> _MkfsParams:
    return _MkfsParams(n_fats=1, n_root=512, au=0, min_sectors=128)  # R0.12 says 50; R0.15 128


def _esp_idf_params(ss: int) -> _MkfsParams:
    return _MkfsParams(n_fats=2, n_root=ss // 32, au=1, min_sectors=128)


def _fatfs_geometry(sz_vol: int, ss: int, p: _MkfsParams) -> tuple[int, int, int, int, int]:
    """FatFs ``f_mkfs`` for FAT12/16 (sz_blk = 1): returns (fat_type, au, rsv, fat, dir)."""
    if sz_vol < p.min_sectors:
        raise LayoutError(
            f"a FAT volume needs at least {p.min_sectors} sectors of {ss} bytes; "
            f"this one would have {sz_vol} (FatFs refuses to format or mount it)"
        )
    cst = (1, 4, 16, 64, 256, 512)  # cluster size boundaries in 4K-sector units
    au = p.au
    while True:
        pau = au
        if pau == 0:
            n = sz_vol // 0x1000
            pau = 1
            for bound in cst:
                if bound > n:
                    break
                pau <<= 1
        n_clst = sz_vol // pau
        fat_type = 16 if n_clst > MAX_FAT12 else 12
        n = n_clst * 2 + 4 if fat_type == 16 else (n_clst * 3 + 1) // 2 + 3
        sz_fat = (n + ss - 1) // ss
        sz_rsv = 1
        sz_dir = p.n_root * 32 // ss
        b_data = sz_rsv + sz_fat * p.n_fats + sz_dir
        if sz_vol < b_data + pau * 16:
            raise LayoutError(f"{sz_vol} sectors of {ss} bytes is too small for a FAT volume")
        n_clst = (sz_vol - sz_rsv - sz_fat * p.n_fats - sz_dir) // pau
        if fat_type == 16:
            if n_clst > MAX_FAT16:
                if p.au == 0 and pau * 2 <= 128:
                    au = pau * 2
                    continue
                raise LayoutError("volume too large for FAT16 (FAT32 is not generated)")
            if n_clst <= MAX_FAT12:
                if p.au == 0 and pau * 2 <= 128:
                    au = pau * 2
                    continue
                raise LayoutError(
                    f"{sz_vol} sectors fall between FAT12 and FAT16 for a {pau}-sector cluster "
                    "(FatFs f_mkfs aborts here too); use a slightly different size"
                )
        return fat_type, pau, sz_rsv, sz_fat, sz_dir


def _build_fat(
    size: int, ss: int, params: _MkfsParams, *, label: str | None, volume_id: int | None
) -> bytes:
    if ss not in (512, 1024, 2048, 4096):
        raise LayoutError(f"FAT sector size {ss} is not 512, 1024, 2048 or 4096")
    sz_vol = size // ss
    fat_type, pau, sz_rsv, sz_fat, sz_dir = _fatfs_geometry(sz_vol, ss, params)
    if volume_id is None:
        volume_id = zlib.crc32(struct.pack("<III", size, ss, params.n_fats))
    vbr = bytearray(ss)
    vbr[0:11] = b"\xeb\xfe\x90MSDOS5.0"
    struct.pack_into(
        "<HBHBHHBHHHI", vbr, 11, ss, pau, sz_rsv, params.n_fats, params.n_root,
        sz_vol if sz_vol < 0x10000 else 0, 0xF8, sz_fat, 63, 255, 0,
    )  # fmt: skip
    if sz_vol >= 0x10000:
        struct.pack_into("<I", vbr, 32, sz_vol)
    vbr[36] = 0x80  # drive number
    vbr[38] = 0x29  # extended boot signature
    struct.pack_into("<I", vbr, 39, volume_id & 0xFFFFFFFF)
    vbr[43:54] = _label_bytes(label) if label else b"NO NAME    "
    vbr[54:62] = b"FAT     "
    vbr[510:512] = b"\x55\xaa"
    out = bytearray(b"\xff" * (sz_vol * ss))
    out[0:ss] = vbr
    fat = bytearray(sz_fat * ss)
    fat[0:4] = b"\xf8\xff\xff\x00" if fat_type == 12 else b"\xf8\xff\xff\xff"
    for i in range(params.n_fats):
        start = (sz_rsv + i * sz_fat) * ss
        out[start : start + len(fat)] = fat
    root = bytearray(sz_dir * ss)
    if label:
        root[0:11] = _label_bytes(label)
        root[11] = 0x08  # ATTR_VOLUME_ID
    start = (sz_rsv + params.n_fats * sz_fat) * ss
    out[start : start + len(root)] = root
    return bytes(out) + b"\xff" * (size - len(out))


def _label_bytes(label: str) -> bytes:
    text = label.upper()
    if len(text) > 11 or any(c in _INVALID_SFN_CHARS or ord(c) < 0x20 for c in text):
        bad = "".join(sorted(_INVALID_SFN_CHARS))
        raise InputError(f"volume label {label!r}: at most 11 characters, none of {bad}")
    try:
        return text.encode("ascii").ljust(11, b" ")
    except UnicodeEncodeError:
        raise InputError(f"volume label {label!r} must be ASCII") from None


# --------------------------------------------------------------------------- pyfatfs glue


def _pyfatfs() -> Any:
    try:
        import pyfatfs.PyFat
        import pyfatfs.PyFatFS
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError("FAT support needs pyfatfs: pip install 'esp-image[fs]'") from None
    return pyfatfs


class _Device(io.BytesIO):
    """An in-memory block device pyfatfs cannot close."""

    def close(self) -> None:  # pyfatfs closes its file object on unmount
        pass


def _make_fs(device: _Device, boot: BootSector, notes: list[str] | None = None) -> Any:
    """Open pyfatfs on ``device`` with the fixes FatFs-made volumes need."""
    import datetime

    import fs.base as fs_base

    pyfatfs = _pyfatfs()
    base_pyfat = pyfatfs.PyFat.PyFat
    base_fs = pyfatfs.PyFatFS.PyFatFS
    n_clusters = boot.clusters
    fat_type = boot.fat_type

    class _PyFat(base_pyfat):  # type: ignore[misc,valid-type]
        def _parse_fat(self) -> None:
            super()._parse_fat()
            # Entries past the last cluster exist only because the FAT fills whole sectors;
            # pyfatfs would allocate them (writing past the volume). Hide them.
            del self.fat[n_clusters + 2 :]

        def get_cluster_chain(self, first_cluster: int) -> Iterator[int]:
            last = n_clusters + 1
            eoc = 0xFF8 if fat_type == 12 else 0xFFF8 if fat_type == 16 else 0x0FFFFFF8
            seen: set[int] = set()
            cluster = first_cluster
            while True:
                if not 2 <= cluster <= last:
                    raise FormatError(f"cluster chain points at cluster {cluster:#x}", None, "FAT")
                if cluster in seen:
                    raise FormatError(f"cluster chain loops at cluster {cluster}", None, "FAT")
                seen.add(cluster)
                value = self.fat[cluster]
                yield cluster
                if value >= eoc or (fat_type == 12 and value == 0xFF0):
                    return
                if value == 0:
                    raise FormatError(
                        f"cluster chain runs into free cluster {cluster}", None, "FAT"
                    )
                cluster = value

    class _Fs(base_fs):  # type: ignore[misc,valid-type]
        def __init__(self, fp: io.BytesIO) -> None:
            fs_base.FS.__init__(self)  # what PyFatBytesIOFS does, with our PyFat
            self.preserve_case = True
            self.fs = _PyFat(encoding="ibm437", offset=0, lazy_load=True)
            self.fs.set_fp(fp)
            self.tz = datetime.timezone.utc

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filesystem = _Fs(device)
    if notes is not None:
        notes.extend(str(w.message) for w in caught)
    if filesystem.fs.fat_type != boot.fat_type:  # pragma: no cover - guarded by parse_boot_sector
        raise FormatError(
            f"pyfatfs reads FAT{filesystem.fs.fat_type}, FatFs FAT{boot.fat_type}", 0, "FAT"
        )
    return filesystem


def _is_lfn_problem(exc: BaseException) -> bool:
    return type(exc).__name__ in ("NotAnLFNEntryException", "BrokenLFNEntryException")


def _translate(exc: BaseException, what: str) -> EspImageError:
    """Map a pyfatfs / PyFilesystem2 / decoding exception to an esp_image error."""
    if isinstance(exc, EspImageError):
        return exc
    name = type(exc).__name__
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "not enough free space" in str(exc).lower():
        return LayoutError(f"{what}: no space left on the FAT volume ({exc})")
    if name in ("ResourceNotFound",) or code == errno.ENOENT:
        return InputError(f"{what}: no such file or directory")
    if name in ("DirectoryNotEmpty",):
        return InputError(f"{what}: directory not empty")
    if name in ("DirectoryExists", "FileExists") or code == errno.EEXIST:
        return InputError(f"{what}: already exists ({exc})")
    if name in ("DirectoryExpected",) or code == errno.ENOTDIR:
        return InputError(f"{what}: not a directory")
    if name in ("FileExpected",) or code == errno.EISDIR:
        return InputError(f"{what}: is a directory")
    if code in (errno.ENAMETOOLONG, errno.EINVAL):
        return InputError(f"{what}: invalid name ({exc})")
    return FormatError(f"{what}: damaged FAT volume ({name}: {exc})", None, "FAT")


@contextlib.contextmanager
def _guard(what: str) -> Iterator[None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except EspImageError:
        raise
    except RecursionError:
        raise FormatError(f"{what}: directory tree too deep or cyclic", None, "FAT") from None
    except Exception as exc:  # pyfatfs raises anything on damaged input
        raise _translate(exc, what) from exc


def _split(path: str) -> list[str]:
    if not isinstance(path, str):
        raise InputError(f"path must be a string, not {type(path).__name__}")
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InputError(f"{path!r}: '..' is not allowed")
    return parts


def _check_name(name: str, long_names: bool) -> None:
    if name != name.rstrip(" .") or not name:
        raise InputError(f"{name!r}: FAT names cannot end with a space or a dot")
    if any(c in _INVALID_LFN_CHARS or ord(c) < 0x20 for c in name):
        raise InputError(f'{name!r}: FAT names cannot contain control characters or \\/:*?"<>|')
    if len(name.encode("utf-16-le")) > 255 * 2:
        raise InputError(f"{name!r}: longer than 255 characters")
    if not long_names:
        base, _, ext = name.partition(".")
        if (
            len(base) > 8
            or len(ext) > 3
            or "." in ext
            or not base
            or any(c in _INVALID_SFN_CHARS or ord(c) > 0x7E for c in base + ext)
        ):
            raise InputError(
                f"{name!r} is not an 8.3 name and long file names are off for this volume"
            )


class FatVolume:
    """A FAT volume in memory (plain, or the logical space of a wear-levelled partition).

    Paths are ``/``-separated and matched case-insensitively like FatFs does.  Writes create
    a long-name entry when a name is not plain 8.3 upper case (MicroPython and Arduino build
    FatFs with long names; ESP-IDF's default ``FATFS_LFN_NONE`` shows the 8.3 alias).
    """

    def __init__(
        self,
        logical: bytes,
        *,
        partition: bytes | None = None,
        wl_info: WlInfo | None = None,
        long_names: bool = True,
    ) -> None:
        self._original = bytes(logical)
        self.boot = parse_boot_sector(logical)
        if self.boot.size > len(logical):
            raise TruncatedError(
                f"the boot sector describes {self.boot.size} bytes, only {len(logical)} present",
                len(logical),
                "FAT volume",
            )
        self._partition = partition
        self.wl_info = wl_info
        self.long_names = long_names
        self._device = _Device(bytes(logical))
        self.warnings: list[str] = []
        with _guard("opening the FAT volume"):
            self._fs = _make_fs(self._device, self.boot, self.warnings)
        self._modified = False

    # -- helpers --------------------------------------------------------------------------

    @property
    def wear_levelling(self) -> bool:
        return self.wl_info is not None

    @property
    def fat_type(self) -> int:
        return self.boot.fat_type

    def _resolve(self, parts: list[str], path: str) -> Any:
        entry = self._fs.fs.root_dir
        for i, part in enumerate(parts):
            if not entry.is_directory():
                raise InputError(f"{path!r}: {'/'.join(parts[:i])!r} is not a directory")
            entry = self._child(entry, part)
            if entry is None:
                raise InputError(f"{path!r}: no such file or directory")
        return entry

    @staticmethod
    def _child(directory: Any, name: str) -> Any:
        wanted = name.upper()
        dirs, files, _ = directory.get_entries()
        for child in dirs + files:
            if repr(child).upper() == wanted or child.get_short_name().upper() == wanted:
                return child
        return None

    @staticmethod
    def _canonical(entry: Any) -> str:
        names = []
        root_seen = 0
        while True:
            try:
                parent = entry.get_parent_dir()
            except Exception:
                break
            names.append(repr(entry))
            entry = parent
            root_seen += 1
            if root_seen > 256:
                raise FormatError("directory tree too deep", None, "FAT")
        return "/" + "/".join(reversed(names))

    def _mutate(self, what: str, action: Any) -> None:
        snapshot = self._device.getvalue()
        try:
            with _guard(what):
                action()
                self._fs.fs.flush_fat()
        except BaseException:
            self._device = _Device(snapshot)
            with _guard("reopening the FAT volume"):
                self._fs = _make_fs(self._device, self.boot)
            raise
        self._modified = True

    def _to_entry(self, child: Any, parent_path: str) -> Entry:
        name = repr(child)
        path = (parent_path.rstrip("/") + "/" + name) if parent_path != "/" else "/" + name
        is_dir = bool(child.is_directory())
        return Entry(name=name, path=path, is_dir=is_dir,
                     size=0 if is_dir else int(child.filesize))

    # -- Volume protocol -------------------------------------------------------------------

    def listdir(self, path: str = "/") -> list[Entry]:
        parts = _split(path)
        shown = "/" + "/".join(parts)
        with _guard(f"listing {shown}"):
            directory = self._resolve(parts, path)
            if not directory.is_directory():
                raise InputError(f"{path!r}: not a directory")
            dirs, files, _ = directory.get_entries()
            entries = [self._to_entry(c, shown) for c in dirs + files]
        return sorted(entries, key=lambda e: e.name)

    def walk(self) -> list[Entry]:
        out: list[Entry] = []
        seen: set[int] = set()

        def visit(directory: Any, path: str, depth: int) -> None:
            if depth > 64:
                raise FormatError(f"{path}: directories nested too deep", None, "FAT")
            dirs, files, _ = directory.get_entries()
            for child in sorted(dirs + files, key=repr):
                entry = self._to_entry(child, path)
                out.append(entry)
                if entry.is_dir:
                    cluster = int(child.get_cluster())
                    if cluster in seen or cluster < 2:
                        raise FormatError(f"{entry.path}: directory loop", None, "FAT")
                    seen.add(cluster)
                    visit(child, entry.path, depth + 1)

        with _guard("walking the FAT volume"):
            visit(self._fs.fs.root_dir, "/", 0)
        return out

    def read(self, path: str) -> bytes:
        parts = _split(path)
        with _guard(f"reading {path}"):
            entry = self._resolve(parts, path)
            if entry.is_directory():
                raise InputError(f"{path!r}: is a directory")
            size = int(entry.filesize)
            if size == 0:
                return b""
            pf = self._fs.fs
            first = entry.get_cluster()
            out = bytearray()
            for cluster in pf.get_cluster_chain(first):
                out += pf.read_cluster_contents(cluster)
                if len(out) >= size:
                    break
            if len(out) < size:
                raise FormatError(
                    f"{path}: {size} bytes long but its cluster chain holds {len(out)}",
                    None,
                    "FAT",
                )
            return bytes(out[:size])

    def write(self, path: str, data: bytes) -> None:
        parts = _split(path)
        if not parts:
            raise InputError("cannot write to the root directory")
        name = parts[-1]
        _check_name(name, self.long_names)
        data = bytes(data)

        def action() -> None:
            parent = self._make_dirs(parts[:-1], path)
            existing = self._child(parent, name)
            parent_path = self._canonical(parent) if parts[:-1] else ""
            stored = name
            if existing is not None:  # FatFs keeps the entry (and its name) and truncates
                if existing.is_directory():
                    raise InputError(f"{path!r}: is a directory")
                stored = repr(existing)
                self._fs.remove(self._canonical(existing))
                self._fs.fs.flush_fat()
            target = parent_path + "/" + stored
            self._fs.create(target)
            if data:
                with self._fs.openbin(target, "r+") as fh:
                    fh.write(data)

        self._mutate(f"writing {path}", action)

    def mkdir(self, path: str) -> None:
        """Make a directory and any missing parents; nothing happens if it exists."""
        parts = _split(path)
        for name in parts:
            _check_name(name, self.long_names)
        if not parts:
            return
        with _guard(f"looking up {path}"):
            try:
                if self._resolve(parts, path).is_directory():
                    return  # nothing to change: keep the image byte for byte
            except InputError:
                pass
        self._mutate(f"creating directory {path}", lambda: self._make_dirs(parts, path))

    def _make_dirs(self, parts: list[str], path: str) -> Any:
        """Resolve ``parts`` as directories, creating the missing ones (inside _mutate)."""
        entry = self._fs.fs.root_dir
        for i, name in enumerate(parts):
            child = self._child(entry, name)
            if child is None:
                _check_name(name, self.long_names)
                parent_path = self._canonical(entry) if i else ""
                self._fs.makedir(parent_path + "/" + name)
                child = self._child(entry, name)
                if child is None:  # pragma: no cover - pyfatfs did not add it
                    raise FormatError(f"{path}: could not create {name!r}", None, "FAT")
            elif not child.is_directory():
                shown = "/" + "/".join(parts[: i + 1])
                raise InputError(f"{path!r}: {shown} is a file, not a directory")
            entry = child
        return entry

    def remove(self, path: str) -> None:
        """Remove a file or an empty directory."""
        parts = _split(path)
        if not parts:
            raise InputError("cannot remove the root directory")

        def action() -> None:
            entry = self._resolve(parts, path)
            canonical = self._canonical(entry)
            if entry.is_directory():
                if not entry.is_empty():
                    raise InputError(f"{path!r}: directory not empty")
                self._fs.removedir(canonical)
            else:
                self._fs.remove(canonical)

        self._mutate(f"removing {path}", action)

    def df(self) -> tuple[int, int]:
        """(used, total) bytes of data clusters, as ``f_getfree`` counts them."""
        with _guard("counting free clusters"):
            fat = self._fs.fs.fat
            free = sum(1 for v in fat[2 : self.boot.clusters + 2] if v == 0)
        total = self.boot.clusters * self.boot.cluster_size
        return total - free * self.boot.cluster_size, total

    def logical_image(self) -> bytes:
        """The FAT volume bytes (the wear-levelled logical space for ``fat-wl``)."""
        if not self._modified:
            return self._original
        with _guard("flushing the FAT volume"):
            self._fs.fs._mark_clean()
        return self._device.getvalue()

    def image(self) -> bytes:
        """The partition bytes: the FAT volume, or the wear-levelled partition around it."""
        logical = self.logical_image()
        if self._partition is None:
            return logical
        if not self._modified:
            return self._partition
        return wl.rewrap(self._partition, logical, self.wl_info)

    def close(self) -> None:
        """Nothing to release (kept for symmetry with other volumes)."""


# --------------------------------------------------------------------------- public API


def _detect_wl(data: bytes) -> bool:
    return wl.is_wear_levelled(data)


def _kind_to_wl(kind: str | None, wear_levelling: bool | None) -> bool | None:
    if kind is None:
        return wear_levelling
    if kind not in ("fat", "fat-wl"):
        raise InputError(f"unknown FAT kind {kind!r} (fat or fat-wl)")
    if wear_levelling is not None and wear_levelling != (kind == "fat-wl"):
        raise InputError(f"kind={kind!r} contradicts wear_levelling={wear_levelling}")
    return kind == "fat-wl"


def open_fat(
    data: bytes,
    *,
    wear_levelling: bool | None = None,
    long_names: bool = True,
    kind: str | None = None,
) -> FatVolume:
    """Open a FAT partition image; ``wear_levelling=None`` detects the ESP-IDF WL layer.

    ``kind`` ("fat" / "fat-wl", as :func:`esp_image.filesystems.detect` names them) is another
    way to say ``wear_levelling``.
    """
    wear_levelling = _kind_to_wl(kind, wear_levelling)
    data = bytes(data)
    if not data:
        raise InputError("empty partition image")
    if wear_levelling is None:
        wear_levelling = _detect_wl(data)
        if not wear_levelling and wl.looks_wear_levelled(data):
            try:
                parse_boot_sector(data)
            except FormatError:
                wear_levelling = True  # damaged WL: let unwrap report it
    if wear_levelling:
        logical, info = wl.unwrap(data)
        return FatVolume(logical, partition=data, wl_info=info, long_names=long_names)
    return FatVolume(data, long_names=long_names)


def mkfs_fat(
    size: int,
    *,
    wear_levelling: bool = False,
    sector_size: int = 4096,
    label: str | None = None,
    long_names: bool = True,
    volume_id: int | None = None,
    kind: str | None = None,
) -> FatVolume:
    """Format an empty FAT partition of ``size`` bytes.

    Plain: as MicroPython's ``VfsFat.mkfs`` on a block device of ``sector_size`` blocks.
    Wear-levelled: as ESP-IDF's ``esp_vfs_fat_spiflash_mount_rw_wl`` (Arduino FFat) formats
    the WL logical space, wrapped as ``wl_fatfsgen.py`` writes it.
    """
    if kind is not None:
        wear_levelling = bool(_kind_to_wl(kind, None))
    if size <= 0:
        raise LayoutError(f"partition size {size} must be positive")
    if wear_levelling:
        if sector_size not in (512, 4096):
            raise LayoutError(f"wear-levelled FAT uses 512 or 4096-byte sectors, not {sector_size}")
        logical_size = wl.logical_size(size, fat_sector_size=sector_size)
        logical = _build_fat(
            logical_size, sector_size, _esp_idf_params(sector_size), label=label,
            volume_id=volume_id,
        )  # fmt: skip
        partition = wl.wrap(logical, size)
        logical, info = wl.unwrap(partition)
        return FatVolume(logical, partition=partition, wl_info=info, long_names=long_names)
    logical = _build_fat(
        size, sector_size, _micropython_params(sector_size), label=label, volume_id=volume_id
    )
    return FatVolume(logical, long_names=long_names)


def inspect_fat(data: bytes) -> dict[str, Any]:
    """Describe a FAT or wear-levelled FAT partition; damage gives ``valid: False``."""
    data = bytes(data)
    report: dict[str, Any] = {
        "type": "fat",
        "valid": False,
        "reason": None,
        "size": len(data),
        "fat_type": None,
        "wear_levelling": None,
        "warnings": [],
    }
    is_wl = _detect_wl(data) or (wl.looks_wear_levelled(data) and not _boot_sector_ok(data))
    logical = data
    if is_wl:
        report["type"] = "fat-wl"
        try:
            geo, s1, s2, cfg = wl.parse(data)
            report["wear_levelling"] = {
                "state1_valid": s1.crc_ok,
                "state2_valid": s2.crc_ok,
                "config_valid": cfg.crc_ok,
                "version": s1.version if s1.crc_ok else s2.version if s2.crc_ok else None,
                "logical_size": geo.flash_size,
            }
            logical, info = wl.unwrap(data)
            report["wear_levelling"] = info.as_dict()
            report["warnings"].extend(info.notes)
        except EspImageError as exc:
            report["reason"] = str(exc)
            return report
    report["logical_size"] = len(logical)
    try:
        boot = parse_boot_sector(logical)
    except EspImageError as exc:
        report["reason"] = str(exc)
        return report
    report.update(
        fat_type=f"FAT{boot.fat_type}",
        sector_size=boot.bytes_per_sector,
        cluster_size=boot.cluster_size,
        sectors_per_cluster=boot.sectors_per_cluster,
        clusters=boot.clusters,
        reserved_sectors=boot.reserved_sectors,
        fat_count=boot.fat_count,
        fat_sectors=boot.fat_sectors,
        root_entries=boot.root_entries,
        total_sectors=boot.total_sectors,
        oem_name=boot.oem_name,
        volume_id=boot.volume_id,
        volume_label=boot.volume_label,
        dirty=bool(logical[37] & 1) if boot.fat_type != 32 else bool(logical[65] & 1),
    )
    if boot.fat_type != 32 and boot.total_sectors < 128:
        report["warnings"].append(
            "fewer than 128 sectors: ESP-IDF v5 FatFs (R0.15) does not mount such a volume"
        )
    try:
        volume = FatVolume(logical)
        label = _root_label(volume)
        if label is not None:
            report["volume_label"] = label
        used, total = volume.df()
        entries = volume.walk()
        report.update(
            used_bytes=used,
            free_bytes=total - used,
            total_bytes=total,
            files=sum(1 for e in entries if not e.is_dir),
            directories=sum(1 for e in entries if e.is_dir),
        )
        for e in entries:
            if not e.is_dir:
                volume.read(e.path)
        report["warnings"].extend(volume.warnings)
    except EspImageError as exc:
        report["reason"] = str(exc)
        return report
    report["valid"] = True
    return report


def _boot_sector_ok(data: bytes) -> bool:
    try:
        parse_boot_sector(data)
    except EspImageError:
        return False
    return True


def _root_label(volume: FatVolume) -> str | None:
    with _guard("reading the volume label"):
        _, _, specials = volume._fs.fs.root_dir.get_entries()
        for entry in specials:
            if entry.is_volume_id():
                return str(entry.get_short_name()).strip() or None
    return None
