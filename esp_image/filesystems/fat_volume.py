"""The pyfatfs-backed :class:`FatVolume`: pyfatfs opened with the fixes FatFs-made volumes need,
every pyfatfs or PyFilesystem2 failure translated into an :mod:`esp_image.errors` exception, FAT
name rules for writes, and edits that roll back to the previous bytes when they fail.
"""

from __future__ import annotations

import contextlib
import errno
import io
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import EspImageError, FormatError, InputError, LayoutError, TruncatedError
from . import Entry, wl
from .fat_boot import _INVALID_LFN_CHARS, _INVALID_SFN_CHARS, BootSector, parse_boot_sector

if TYPE_CHECKING:
    from .wl import WlInfo


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


def _root_label(volume: FatVolume) -> str | None:
    with _guard("reading the volume label"):
        _, _, specials = volume._fs.fs.root_dir.get_entries()
        for entry in specials:
            if entry.is_volume_id():
                return str(entry.get_short_name()).strip() or None
    return None
