"""Safe output: every file esp_image writes appears complete, verified and atomically.

The bytes go to a temporary file in the target directory, are flushed to disk, re-read and
verified with :class:`esp_image.Image` (the same checks as ``esp-image verify``), and only then
renamed over the final name. On any failure the temporary file is removed and nothing appears
under the final name; an existing file there (the input, with ``--in-place``) is untouched.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable

from .errors import EspImageError, InputError

MAX_FILE_SIZE = 128 * 1024 * 1024
"""Largest flash any ESP chip addresses; larger inputs are refused unless overridden."""


def read_input(path: str | os.PathLike[str], what: str = "firmware file", *,
               max_size: int | None = MAX_FILE_SIZE, allow_empty: bool = False) -> bytes:
    """Read a whole input file, refusing what cannot be one before reading it.

    A missing or unreadable file, a directory, a FIFO or device, a file larger than
    ``max_size`` (None: no limit) and, unless ``allow_empty``, an empty file raise
    :class:`InputError` with one line naming the path (exit code 2 in the CLI). Nothing is
    ever read past the limit, so a huge or growing file cannot exhaust memory.
    """
    from .units import format_size

    _refuse_nul(path)
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{path}: is a directory, not a {what}")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: not a regular file (a {what} is needed)")
        if max_size is not None and st.st_size > max_size:
            raise InputError(f"{path}: {st.st_size} bytes is larger than the largest flash "
                             f"({format_size(max_size)}); refusing to read it")
        with open(path, "rb") as fh:
            if max_size is None:
                data = fh.read()
            else:
                # Ask for the size stat saw (+1 to notice growth): read(max_size + 1) would
                # allocate and then shrink a 128 MiB buffer, about 1 ms per file.
                data = fh.read(min(st.st_size, max_size) + 1)
                if len(data) > st.st_size:  # the file grew since stat: read on, to the limit
                    data += fh.read(max_size + 1 - len(data))
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    if max_size is not None and len(data) > max_size:
        raise InputError(f"{path}: larger than the largest flash ({format_size(max_size)})")
    if not data and not allow_empty:
        raise InputError(f"{path}: file is empty")
    return data


class VerificationFailed(EspImageError):
    """The bytes about to be written do not pass esp_image's own checks."""


def verify_bytes(data: bytes, *, what: str = "output") -> None:
    """Raise :class:`VerificationFailed` unless ``data`` passes every check ``verify`` runs."""
    from .image import Image

    image = Image.from_bytes(data)
    failed = [c for c in image.checks if not c.valid]
    if image.kind == "unknown" or failed:
        detail = "; ".join(f"{c.name}: {c.detail}" for c in failed) or image.reason or "?"
        raise VerificationFailed(f"refusing to write {what}: it does not verify ({detail})")


def write_atomic(path: str, data: bytes, *, verify: Callable[[bytes], None] | None = verify_bytes,
                 mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically, after ``verify`` accepted what was written.

    Args:
        path: the final file name.
        data: the complete contents.
        verify: called with the bytes read back from the temporary file; raise to abort.
            None skips verification (for outputs esp_image cannot verify, e.g. a CSV).
        mode: permission bits of the new file.

    Raises:
        InputError: the directory is not writable, or the disk is full.
        VerificationFailed: ``verify`` rejected the bytes.
    """
    _refuse_nul(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    # A unique name in the target directory (so the rename stays on one file system), created
    # exclusively; tempfile would do the same but costs milliseconds of imports.
    tmp = os.path.join(directory, f".{base}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise InputError(f"cannot write in {directory}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if verify is not None:
            with open(tmp, "rb") as fh:
                written = fh.read()
            if written != data:
                raise InputError(f"{path}: the bytes read back differ from those written")
            verify(written)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _remove(tmp)
        raise


def _refuse_nul(path: str | os.PathLike[str]) -> None:
    """No file name holds a NUL byte; the os functions would raise a bare ValueError."""
    if "\0" in os.fspath(path):
        from .terminal import shown

        raise InputError(f"{shown(os.fspath(path))}: a file name cannot contain a NUL byte")


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def output_name(path: str, tag: str, *, suffix: str | None = None) -> str:
    """The default output name next to the input: ``dir/firmware-8MB-OTA.bin``.

    ``tag`` is inserted before the last suffix, as mp-image-tool-esp32 users already write in
    their docs (but always next to the input, never in the current directory).
    """
    directory, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    return os.path.join(directory, f"{stem}-{tag}{suffix if suffix is not None else ext}")
