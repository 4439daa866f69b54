"""littlefs v2 volumes, configured as MicroPython configures ``VfsLfs2`` on ESP32 and ESP8266.

MicroPython's configuration (the facts this module follows):

* block size 4096: ``esp32.Partition`` reports 4096-byte blocks for the ``vfs`` partition
  (ports/esp32/esp32_partition.c, ``BLOCK_SIZE_BYTES``/``NATIVE_BLOCK_SIZE_BYTES``); the
  esp8266 ``FlashBdev`` uses 4096-byte sectors (ports/esp8266/modules/flashbdev.py);
* block count = partition size // 4096 (the block device's ``BLOCK_COUNT`` ioctl); littlefs
  2.7+ refuses to mount a filesystem whose superblock records another count;
* read size 32, prog size 32, lookahead 32 bytes: the ``readsize``/``progsize``/``lookahead``
  defaults of ``VfsLfs2(bdev)`` and ``VfsLfs2.mkfs(bdev)`` (extmod/vfs_lfs.c);
* cache size min(block size, 4 * max(read, prog)) = 128 and block_cycles 100
  (extmod/vfs_lfsx.c, ``init_config``);
* name_max, file_max and attr_max left at 0, so littlefs writes its compiled defaults 255,
  2147483647 and 1022 into the superblock (lib/littlefs/lfs2.h ``LFS2_NAME_MAX`` ...); a
  superblock recording a larger name_max is refused by MicroPython's mount;
* the partition is mounted at "/" by ``_boot.py``; on the first boot an erased partition is
  formatted by ``inisetup.setup()`` (ports/esp32/modules/inisetup.py, which refuses a block 0
  that is neither erased nor mountable: "The filesystem appears to be corrupted").

On-disk version: MicroPython up to v1.21 bundles littlefs 2.5 (disk version 2.0 only); v1.22
and later bundle littlefs 2.8+ (writes 2.1, reads 2.0 and 2.1). :func:`mkfs_littlefs` therefore
writes 2.0, which every MicroPython with ``VfsLfs2`` mounts, and an opened filesystem keeps the
version it has (littlefs would otherwise upgrade a 2.0 filesystem to 2.1 on its first write).
"""

from __future__ import annotations

import struct
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from ..errors import EspImageError, FormatError, InputError, LayoutError
from . import Entry, FileSystemInfo, find_littlefs_superblock, normalize_path
from .lfs_isolation import _attempt, _rebuild, isolated

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "DISK_VERSION_2_0",
    "DISK_VERSION_2_1",
    "MICROPYTHON_LFS_CONFIG",
    "LittleFsVolume",
    "Superblock",
    "inspect_littlefs",
    "mkfs_littlefs",
    "parse_superblock",
]

BLOCK_SIZE = 4096
DISK_VERSION_2_0 = 0x00020000
DISK_VERSION_2_1 = 0x00020001
MICROPYTHON_LFS_CONFIG: dict[str, int] = {
    "read_size": 32,
    "prog_size": 32,
    "lookahead_size": 32,
    "cache_size": 128,
    "block_cycles": 100,
    # MicroPython leaves these 0, so its littlefs build writes the compiled defaults
    # LFS2_NAME_MAX 255, LFS2_FILE_MAX 2147483647, LFS2_ATTR_MAX 1022 into the superblock.
    # They are given explicitly: littlefs-python is compiled with a name limit of 1022, and a
    # superblock name_max above 255 makes MicroPython's mount fail (LFS_ERR_INVAL).
    "name_max": 255,
    "file_max": 2147483647,
    "attr_max": 1022,
}
"""littlefs configuration of MicroPython's ``VfsLfs2`` (besides block size and count)."""

_TYPE_DIR = 2


@dataclass(frozen=True)
class Superblock:
    """The littlefs superblock entry of the newest of blocks 0 and 1 (first commit only)."""

    block: int
    revision: int
    version: int
    block_size: int
    block_count: int
    name_max: int
    file_max: int
    attr_max: int

    @property
    def version_text(self) -> str:
        return f"littlefs {self.version >> 16}.{self.version & 0xFFFF}"


def _superblock_at(raw: bytes, offset: int, block: int) -> Superblock | None:
    if len(raw) < offset + 44 or raw[offset + 8:offset + 16] != b"littlefs":
        return None
    revision = struct.unpack_from("<I", raw, offset)[0]
    tag1 = struct.unpack_from(">I", raw, offset + 4)[0] ^ 0xFFFFFFFF
    if (tag1 >> 20) & 0x7FF != 0x0FF or tag1 & 0x3FF != 8:
        return None
    tag2 = struct.unpack_from(">I", raw, offset + 16)[0] ^ tag1
    if (tag2 >> 20) & 0x7FF != 0x201 or (tag2 >> 10) & 0x3FF != 0 or tag2 & 0x3FF < 24:
        return None
    fields = struct.unpack_from("<6I", raw, offset + 20)
    return Superblock(block, revision, *fields)


def parse_superblock(raw: bytes) -> Superblock | None:
    """The superblock from block 0 or block 1 (the newer revision when both hold one)."""
    found = find_littlefs_superblock(raw)
    if found is None:
        return None
    first = _superblock_at(raw, 0, 0)
    block_size = first.block_size if first is not None and _sane_block_size(
        first.block_size) else found[1] or BLOCK_SIZE
    second = _superblock_at(raw, block_size, 1)
    if first is None or second is None:
        return first or second
    # littlefs compares revisions with sequence arithmetic
    newer = ((second.revision - first.revision) & 0xFFFFFFFF) < 0x80000000
    return second if newer and second.revision != first.revision else first


def _sane_block_size(value: int) -> bool:
    return 128 <= value <= 1 << 20 and value & (value - 1) == 0


def _littlefs() -> Any:
    try:
        import littlefs
    except ImportError as exc:
        raise InputError(f"littlefs support needs littlefs-python ({exc}); "
                         f"install esp-image[fs]") from None
    return littlefs


_NOT_FOUND = -2
_EXISTS = -17
_NOT_DIR = -20
_IS_DIR = -21
_NOT_EMPTY = -39
_NO_SPACE = -28
_TOO_BIG = -27
_NAME_TOO_LONG = -36


def _translate(exc: BaseException, path: str, action: str) -> EspImageError:
    """An esp_image error for an exception littlefs-python raised."""
    if isinstance(exc, EspImageError):
        return exc
    code = getattr(exc, "code", None)
    cause = exc.__cause__ if exc.__cause__ is not None else exc.__context__
    if code is None and cause is not None:
        code = getattr(cause, "code", None)
    if isinstance(exc, FileNotFoundError) or code == _NOT_FOUND:
        return InputError(f"{path}: no such file or directory")
    if isinstance(exc, FileExistsError) or code == _EXISTS:
        return InputError(f"{path}: already exists")
    if isinstance(exc, IsADirectoryError) or code == _IS_DIR:
        return InputError(f"{path}: is a directory")
    if isinstance(exc, NotADirectoryError) or code == _NOT_DIR:
        return InputError(f"{path}: not a directory (or a file is in the way)")
    if code == _NOT_EMPTY:
        return InputError(f"{path}: directory not empty")
    if code == _NAME_TOO_LONG:
        return InputError(f"{path}: name longer than littlefs's 255 bytes")
    if code in (_NO_SPACE, _TOO_BIG):
        return LayoutError(f"{path}: no space left in the littlefs filesystem ({action})")
    if isinstance(exc, UnicodeError):
        return FormatError(f"{path}: a name is not UTF-8 ({exc})", structure="littlefs")
    return FormatError(f"{action} {path} failed: {exc or type(exc).__name__}",
                       structure="littlefs")


@contextmanager
def _errors(path: str, action: str) -> Iterator[None]:
    try:
        yield
    except EspImageError:
        raise
    except Exception as exc:
        raise _translate(exc, path, action) from None


class LittleFsVolume:
    """A littlefs filesystem held in memory (see :class:`esp_image.filesystems.Volume`).

    ``data`` is the whole partition (or partition image). The filesystem is mounted with
    MicroPython's configuration and the geometry its superblock records; FormatError when
    there is no superblock or littlefs does not mount it.

    littlefs's C code asserts (aborting the whole process) on many kinds of damaged metadata,
    and damaged data can make it loop, so every littlefs call on bytes esp_image did not write
    itself runs in a forked child process with a time and memory limit (see
    :func:`_isolated`); a crash there is a FormatError here. ``trusted`` (a filesystem
    :func:`mkfs_littlefs` made) runs in this process. Every change is made on a copy that is
    kept only when the change succeeded, so a failed change leaves the volume as it was.
    """

    def __init__(self, data: bytes | bytearray | memoryview, *, trusted: bool = False) -> None:
        self._buffer = bytes(data)
        sb = parse_superblock(self._buffer)
        if sb is None:
            raise FormatError("no littlefs superblock in block 0 or 1", structure="littlefs")
        if not _sane_block_size(sb.block_size) or sb.block_count < 2:
            raise FormatError(f"superblock records block size {sb.block_size} and "
                              f"{sb.block_count} blocks", structure="littlefs")
        if sb.block_size * sb.block_count > len(self._buffer):
            raise FormatError(f"the filesystem ({sb.block_count} blocks of {sb.block_size} "
                              f"bytes) is larger than the partition ({len(self._buffer)} bytes)",
                              structure="littlefs")
        if sb.version >> 16 != 2 or sb.version & 0xFFFF > 1:
            raise FormatError(f"unsupported on-disk version {sb.version_text}",
                              structure="littlefs")
        self.block_size = sb.block_size
        self.block_count = sb.block_count
        self.disk_version = sb.version
        self.limits = _limits(sb)
        self._trusted = trusted
        self._survey: _Survey | None = None
        self._contents: dict[str, bytes | tuple[str, str]] | None = None
        self._load_survey()

    @property
    def problem(self) -> str | None:
        """Why littlefs cannot use this filesystem although it mounts (None when it can):
        a directory that cannot be read, a directory cycle, or pending move/orphan state
        that littlefs fails to repair on its first write."""
        return self._load_survey().problem

    # -- reading --------------------------------------------------------------------------

    def listdir(self, path: str = "/") -> list[Entry]:
        where = normalize_path(path)
        survey = self._load_survey()
        if survey.problem is None:
            if where in survey.dirs:
                return list(survey.dirs[where])
            if any(e.path == where for e in survey.entries):
                raise InputError(f"{where}: not a directory (or a file is in the way)")
            raise InputError(f"{where}: no such file or directory")
        entries: list[Entry] = self._run(lambda fs, ctx: _listdir(fs, where))
        return entries

    def read(self, path: str) -> bytes:
        where = normalize_path(path)
        survey = self._load_survey()
        if survey.problem is not None:
            data: bytes = self._run(lambda fs, ctx: _read(fs, where))
            return data
        if where in survey.dirs:
            raise InputError(f"{where}: is a directory")
        if self._contents is None:
            # One child reads every file (callers read many: copy_tree, fs get, fs put's
            # checks); the files together are never larger than the partition.
            files = [e.path for e in survey.entries if not e.is_dir]
            self._contents = self._run(lambda fs, ctx: {p: _attempt(_read, fs, p)
                                                        for p in files})
        found = self._contents.get(where)
        if found is None:
            raise InputError(f"{where}: no such file or directory")
        if isinstance(found, tuple):
            raise _rebuild(found)
        return found

    def walk(self) -> list[Entry]:
        survey = self._load_survey()
        if survey.problem is not None:
            raise FormatError(survey.problem, structure="littlefs")
        return list(survey.entries)

    def df(self) -> tuple[int, int]:
        return self._load_survey().used * self.block_size, self.block_count * self.block_size

    def image(self) -> bytes:
        return self._buffer

    # -- changing ---------------------------------------------------------------------------

    def write(self, path: str, data: bytes) -> None:
        where = normalize_path(path)
        if where == "/":
            raise InputError("/: is a directory")
        parent = where.rsplit("/", 1)[0] or "/"
        payload = bytes(data)

        def change(fs: Any) -> None:
            _mkdirs(fs, parent)
            if _kind(fs, where) == "dir":
                raise InputError(f"{where}: is a directory")
            with _errors(where, "writing"), fs.open(where, "wb") as fh:
                fh.write(payload)
        self._change(change)

    def mkdir(self, path: str) -> None:
        where = normalize_path(path)
        self._change(lambda fs: _mkdirs(fs, where))

    def remove(self, path: str) -> None:
        where = normalize_path(path)
        if where == "/":
            raise InputError("/: the root directory cannot be removed")

        def change(fs: Any) -> None:
            with _errors(where, "removing"):
                fs.remove(where)
        self._change(change)

    # -- helpers ----------------------------------------------------------------------------

    @property
    def _dir_limit(self) -> int:
        return max(2, self.block_count // 2)

    @property
    def _geometry(self) -> tuple[int, int, int, dict[str, int]]:
        return self.block_size, self.block_count, self.disk_version, self.limits

    def _load_survey(self) -> _Survey:
        if self._survey is None:
            limit = self._dir_limit
            self._survey = self._run(lambda fs, ctx: _survey(fs, ctx, limit))
        return self._survey

    def _change(self, change: Callable[[Any], None]) -> None:
        """Apply ``change`` to a copy; keep the copy only when it succeeded. A damaged
        filesystem is never changed (littlefs would write on top of the damage)."""
        problem = None if self._trusted else self.problem
        if problem is not None:
            raise FormatError(f"{problem}; refusing to change a damaged filesystem",
                              structure="littlefs")

        trusted, limit, geometry = self._trusted, self._dir_limit, self._geometry

        def work(fs: Any, ctx: Any) -> tuple[bytes, _Survey | None]:
            change(fs)
            with _errors("/", "unmounting"):
                fs.unmount()
            if trusted:
                return bytes(ctx.buffer), None
            # littlefs writing on top of damage it did not notice can leave worse damage:
            # the change is kept only if the result is usable (a crash here refuses it too)
            after_fs, after_ctx = _mount(bytearray(ctx.buffer), *geometry)
            after = _survey(after_fs, after_ctx, limit)
            if after.problem is not None:
                raise FormatError(f"the change would leave the filesystem unusable "
                                  f"({after.problem}): it is damaged", structure="littlefs")
            return bytes(ctx.buffer), after
        self._buffer, self._survey = self._run(work)
        self._contents = None

    def _run(self, work: Callable[[Any, Any], Any]) -> Any:
        """``work(fs, context)`` on a freshly mounted copy of the buffer; isolated unless
        the volume is trusted."""
        buffer, geometry = self._buffer, self._geometry

        def job() -> Any:
            fs, ctx = _mount(bytearray(buffer), *geometry)
            return work(fs, ctx)
        return job() if self._trusted else _isolated(job)


@dataclass(frozen=True)
class _Survey:
    """What one mount learns: used blocks, the whole tree, and what makes it unusable."""

    used: int
    entries: tuple[Entry, ...]
    dirs: dict[str, tuple[Entry, ...]]
    problem: str | None


def _survey(fs: Any, ctx: Any, limit: int) -> _Survey:
    lfs = _littlefs()
    with _errors("/", "counting the used blocks of"):
        used = int(lfs.lfs.fs_size(fs.fs))
    dirs: dict[str, tuple[Entry, ...]] = {}
    entries: list[Entry] = []
    problem: str | None = None
    try:
        _walk(fs, ctx, limit, dirs, entries)
        # Pending move/orphan state is repaired by littlefs on the first write, and damaged
        # state is where its asserts fire: try the repair on this copy now.
        with _errors("/", "repairing pending move/orphan state of"):
            fs.fs_mkconsistent()
    except EspImageError as exc:
        problem = exc.reason if isinstance(exc, FormatError) else str(exc)
    return _Survey(used, tuple(entries), dirs, problem)


def _walk(fs: Any, ctx: Any, limit: int, dirs: dict[str, tuple[Entry, ...]],
          out: list[Entry]) -> None:
    """Every entry below the root, each directory before its contents.

    A directory is identified by the metadata block littlefs read last while listing it (the
    newest block of its last metadata pair): two directories sharing one is a cycle (a
    directory entry pointing at an ancestor), which littlefs would otherwise walk forever.
    Each directory needs its own pair of blocks, so more than block_count / 2 of them is also
    damage.
    """
    seen: dict[int, str] = {}
    pending = ["/"]
    while pending:
        directory = pending.pop()
        if len(dirs) >= limit:
            raise FormatError(f"more than {limit} directories in {limit * 2} blocks: the "
                              "directory tree is damaged (a cycle?)", structure="littlefs")
        ctx.last_block = -1
        listing = _listdir(fs, directory)
        if ctx.last_block >= 0:
            other = seen.setdefault(ctx.last_block, directory)
            if other != directory:
                raise FormatError(f"directory cycle: {directory} is {other} again (block "
                                  f"{ctx.last_block})", structure="littlefs")
        dirs[directory] = tuple(listing)
        out.extend(listing)
        pending.extend(e.path for e in reversed(listing) if e.is_dir)
    # ``pending`` is a stack: restore "each directory before its contents", depth first
    out.sort(key=lambda e: e.path.split("/"))


def _listdir(fs: Any, where: str) -> list[Entry]:
    with _errors(where, "listing"):
        stats = list(fs.scandir(where))
    base = where.rstrip("/")
    for st in stats:
        name = st.name
        if name in ("", ".", "..") or "/" in name or "\0" in name:
            raise FormatError(f"{base}/: an entry is named {name!r}, which no littlefs path "
                              "can reach (damaged directory)", structure="littlefs")
    return sorted((Entry(st.name, f"{base}/{st.name}", st.type == _TYPE_DIR,
                         0 if st.type == _TYPE_DIR else st.size) for st in stats),
                  key=lambda e: e.name)


def _read(fs: Any, where: str) -> bytes:
    if _kind(fs, where) == "dir":
        raise InputError(f"{where}: is a directory")
    with _errors(where, "reading"), fs.open(where, "rb") as fh:
        data: bytes = fh.read()
    return data


def _kind(fs: Any, where: str) -> str | None:
    """"dir", "file" or None (missing)."""
    if where == "/":
        return "dir"
    try:
        st = fs.stat(where)
    except Exception as exc:
        err = _translate(exc, where, "looking up")
        if isinstance(err, InputError) and "no such file" in str(err):
            return None
        raise err from None
    return "dir" if st.type == _TYPE_DIR else "file"


def _mkdirs(fs: Any, where: str) -> None:
    current = ""
    for part in [p for p in where.split("/") if p]:
        current += "/" + part
        kind = _kind(fs, current)
        if kind == "file":
            raise InputError(f"{current}: is a file, not a directory")
        if kind is None:
            with _errors(current, "making directory"):
                fs.mkdir(current)


@cache
def _recording_context() -> Any:
    """littlefs-python's in-memory block device, remembering the last block read."""
    base = _littlefs().UserContext

    class Recording(base):  # type: ignore[misc, valid-type]
        last_block = -1

        def read(self, cfg: Any, block: int, off: int, size: int) -> Any:
            self.last_block = block
            return super().read(cfg, block, off, size)
    return Recording


def _mount(buffer: bytearray, block_size: int, block_count: int, disk_version: int,
           limits: dict[str, int]) -> tuple[Any, Any]:
    """littlefs-python's LittleFS on ``buffer`` (never formats), mounted, and its context."""
    lfs = _littlefs()
    config = {**MICROPYTHON_LFS_CONFIG, **limits}
    ctx = _recording_context()(buffer=buffer)
    with _errors("/", "mounting"):
        fs = lfs.LittleFS(context=ctx, mount=False, block_size=block_size,
                          block_count=block_count, disk_version=disk_version, **config)
    try:
        fs.mount()
    except Exception as exc:
        raise FormatError(f"littlefs does not mount: {exc}", structure="littlefs") from None
    return fs, ctx


def _isolated(job: Callable[[], Any]) -> Any:
    """``job()`` in a forked child (see :func:`.lfs_isolation.isolated`), with Entry and
    _Survey results carried across the pipe."""
    _littlefs()  # import in the parent: a child must not take the import lock
    return _from_wire(isolated(lambda: _to_wire(job())))


def _to_wire(value: Any) -> Any:
    """``value`` with Entry and _Survey turned into marshal-able tuples."""
    if isinstance(value, Entry):
        return ("\0entry", value.name, value.path, value.is_dir, value.size)
    if isinstance(value, _Survey):
        return ("\0survey", value.used, _to_wire(value.entries),
                {k: _to_wire(v) for k, v in value.dirs.items()}, value.problem)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_wire(v) for v in value)
    return value


def _from_wire(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        if value and value[0] == "\0entry":
            return Entry(*value[1:])
        if value and value[0] == "\0survey":
            return _Survey(value[1], _from_wire(value[2]),
                           {k: _from_wire(v) for k, v in value[3].items()}, value[4])
        return type(value)(_from_wire(v) for v in value)
    return value


# littlefs-python's compiled limits (LFS_NAME_MAX, LFS_FILE_MAX, LFS_ATTR_MAX): a larger
# configured value trips an assert in lfs_init.
_COMPILED_MAX = {"name_max": 1022, "file_max": 2147483647, "attr_max": 1022}


def _limits(sb: Superblock) -> dict[str, int]:
    """name/file/attr limits to mount with: MicroPython's, or the superblock's when larger
    (so that such a filesystem can still be read; :func:`inspect_littlefs` flags it), but
    never above what littlefs-python was compiled with (its mount then refuses the volume)."""
    return {name: min(max(getattr(sb, name), MICROPYTHON_LFS_CONFIG[name]), top)
            for name, top in _COMPILED_MAX.items()}


def mkfs_littlefs(size: int, *, block_size: int = BLOCK_SIZE,
                  disk_version: int = DISK_VERSION_2_0) -> LittleFsVolume:
    """A fresh littlefs of ``size`` bytes, as ``VfsLfs2.mkfs`` on the partition makes it.

    The block count is ``size // block_size``; trailing bytes of a partial block stay 0xFF.
    LayoutError when fewer than two blocks fit (littlefs's superblock pair needs two).
    """
    if not _sane_block_size(block_size):
        raise InputError(f"block size {block_size} is not a power of two from 128 to 1 MB")
    if size < 2 * block_size:
        raise LayoutError(f"{size} bytes is too small for littlefs (two {block_size}-byte "
                          f"blocks at least)")
    if disk_version not in (DISK_VERSION_2_0, DISK_VERSION_2_1):
        raise InputError(f"littlefs disk version {disk_version:#x} is not 2.0 or 2.1")
    lfs = _littlefs()
    buffer = bytearray(b"\xff" * size)
    with _errors("/", "formatting"):
        fs = lfs.LittleFS(context=lfs.UserContext(buffer=buffer), mount=False,
                          block_size=block_size, block_count=size // block_size,
                          disk_version=disk_version, **MICROPYTHON_LFS_CONFIG)
        fs.format()
    return LittleFsVolume(buffer, trusted=True)


def inspect_littlefs(data: bytes | memoryview) -> FileSystemInfo:
    """Version, geometry and used/free space of the littlefs in ``data``.

    ``valid`` is False (with the reason in ``detail``) when the superblock is damaged,
    littlefs does not mount it, a directory cannot be read, or its block count differs from
    the partition's (MicroPython mounts with the partition's count and would refuse it).
    """
    raw = bytes(data)
    sb = parse_superblock(raw)
    if sb is None:
        return FileSystemInfo("littlefs", valid=False,
                              detail="'littlefs' magic found but the superblock is damaged")

    def report(detail: str, valid: bool) -> FileSystemInfo:
        return FileSystemInfo("littlefs", sb.block_size, sb.block_count,
                              version=sb.version_text, detail=detail, valid=valid)

    try:
        volume = LittleFsVolume(raw)
    except InputError as exc:  # littlefs-python missing: report what the superblock says
        return report(str(exc), True)
    except EspImageError as exc:
        return report(str(exc), False)
    if volume.problem is not None:
        return report(volume.problem, False)
    used, total = volume.df()
    entries = volume.walk()
    files = sum(1 for e in entries if not e.is_dir)
    dirs = len(entries) - files
    detail = (f"{sb.block_count} blocks of {sb.block_size} bytes, {files} files, {dirs} "
              f"directories")
    valid = True
    partition_blocks = len(raw) // sb.block_size
    too_large = [f"{name} {getattr(sb, name)} > {MICROPYTHON_LFS_CONFIG[name]}"
                 for name in ("name_max", "file_max", "attr_max")
                 if getattr(sb, name) > MICROPYTHON_LFS_CONFIG[name]]
    if too_large:
        valid = False
        detail += f"; superblock {', '.join(too_large)}: MicroPython will not mount it"
    if sb.block_count != partition_blocks:
        valid = False
        detail += (f"; the partition holds {partition_blocks} blocks but the filesystem "
                   f"records {sb.block_count}: MicroPython will not mount it")
    elif sb.block_size != BLOCK_SIZE:
        detail += f"; MicroPython on ESP32/ESP8266 mounts with {BLOCK_SIZE}-byte blocks"
    return FileSystemInfo("littlefs", sb.block_size, sb.block_count, used=used,
                          free=total - used, version=sb.version_text, detail=detail,
                          valid=valid)
