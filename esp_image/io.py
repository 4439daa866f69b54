"""Safe output: every file esp_image writes appears complete, verified and atomically.

The bytes go to a temporary file in the target directory, are flushed to disk, re-read and
verified with :class:`esp_image.Image` (the same checks as ``esp-image verify``), and only then
renamed over the final name. On any failure (SIGTERM and Ctrl-C included) the temporary file is
removed and nothing appears under the final name; an existing file there (the input, with
``--in-place``) is untouched. :func:`check_output` keeps an output off the inputs and off
existing files under default names.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator

from .errors import InputError, Interrupted, VerificationFailed

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


def verify_bytes(data: bytes, *, what: str = "output", allow_unknown: bool = False) -> None:
    """Raise :class:`VerificationFailed` unless ``data`` passes every check ``verify`` runs.

    ``allow_unknown`` accepts bytes esp_image does not recognise (a data partition such as
    nvs, which ``verify`` does not model either); anything it recognises must still pass.
    """
    from .image import Image

    image = Image.from_bytes(data)
    if image.kind == "unknown" and allow_unknown:
        return
    failed = [c for c in image.checks if not c.valid]
    if image.kind == "unknown" or failed:
        detail = "; ".join(f"{c.name}: {c.detail}" for c in failed) or image.reason or "?"
        raise VerificationFailed(f"refusing to write {what}: it does not verify ({detail})")


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def unwind_on_signals() -> None:
    """Make SIGINT and SIGTERM raise :class:`Interrupted` (the console script calls this).

    Without it Ctrl-C is a KeyboardInterrupt (a traceback, or click's blank line) and SIGTERM
    kills the process before a temporary file can be removed.
    """
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:  # nohup and background jobs: ignored
            signal.signal(sig, _raise_interrupted)


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While a temporary file exists, SIGTERM unwinds instead of killing outright.

    Only where SIGTERM still has its default action (a program with its own handler keeps
    it), and only in the main thread, the one place Python can set a handler.
    """
    import signal

    installed = False
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _raise_interrupted)
            installed = True
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Signals wait until the block is done: a half-copied file must not be left behind."""
    import signal

    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:  # Windows: no signal masks
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = mask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, previous)


def same_file(a: str | os.PathLike[str] | int, b: str | os.PathLike[str] | int) -> bool:
    """Whether two names (or open descriptors) reach the same file (symlinks followed, hard
    links included)."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def check_output(output: str, inputs: Iterable[str | None] = (), *, default: bool = False,
                 force: bool = False) -> None:
    """Refuse an output that would replace an input, or an existing file under a default name.

    Args:
        output: the file about to be written.
        inputs: the files the command reads; writing one of them needs ``--in-place``.
        default: ``output`` is a name the command chose, not one the user gave with ``-o``.
        force: replace an existing file under a default name.

    Raises:
        InputError: one line naming ``--in-place``, or ``-o`` and ``--force``.
    """
    for source in inputs:
        if source is not None and same_file(output, source):
            raise InputError(f"{output} is the input file {source}; use --in-place to "
                             "rewrite it (nothing was written)")
    if default and not force and os.path.lexists(output):
        raise InputError(f"{output} already exists; give -o NAME for another name, or "
                         "--force to replace it (nothing was written)")


def write_atomic(path: str, data: bytes, *, verify: Callable[[bytes], None] | None = verify_bytes,
                 mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically, after ``verify`` accepted what was written.

    The bytes are always read back and compared. A symlink is followed (the file it names is
    replaced, the link stays); an existing file keeps its permission bits; a file with other
    hard links is rewritten in its own inode after the temporary copy verified, so every
    name sees the new bytes (that last copy is not atomic: signals wait until it is done).
    A device or FIFO (``/dev/null``, ``/dev/stdout``, a named pipe) is never renamed over:
    ``data`` is verified in memory and written through; a FIFO nobody reads is refused.

    Args:
        path: the final file name.
        data: the complete contents.
        verify: called with the bytes read back from the temporary file; raise to abort.
            None skips the checks (for outputs esp_image cannot verify, e.g. a CSV).
        mode: permission bits of a new file.

    Raises:
        InputError: the directory is not writable, the disk is full, or ``path`` is a
            directory.
        VerificationFailed: ``verify`` rejected the bytes.
    """
    _refuse_nul(path)
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        st = None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}"
                         ) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot write {path}: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_through(path, data, verify, fifo=stat.S_ISFIFO(st.st_mode))
        return
    # Only now: /dev/stdout on a pipe resolves to "/proc/PID/fd/pipe:[N]", which is no path.
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    # A short unique name in the target directory (the rename stays on one file system, and a
    # long output name plus a suffix would pass NAME_MAX), created exclusively; tempfile
    # would do the same but costs milliseconds of imports.
    tmp = os.path.join(directory, f".esp-image-{os.getpid()}-{os.urandom(6).hex()}.tmp")
    with _sigterm_unwinds():
        try:
            # Inside the try: a signal just after the file appears must still remove it.
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as exc:
                raise InputError(f"cannot write in {directory}: {exc.strerror or exc}"
                                 ) from None
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            with open(tmp, "rb") as fh:
                written = fh.read()
            if written != data:
                raise InputError(f"{path}: the bytes read back differ from those written")
            if verify is not None:
                verify(written)
            if st is not None and st.st_nlink > 1:
                # A rename would give this name a new inode and leave the other names on the
                # old bytes: write into the inode itself.
                with _signals_held(), open(target, "r+b") as fh:
                    fh.write(data)
                    fh.truncate()
                    fh.flush()
                    os.fsync(fh.fileno())
                _remove(tmp)
                return
            os.chmod(tmp, stat.S_IMODE(st.st_mode) if st is not None else mode)
            os.replace(tmp, target)
        except OSError as exc:
            _remove(tmp)
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
        except BaseException:
            _remove(tmp)
            raise


def _write_through(path: str, data: bytes, verify: Callable[[bytes], None] | None, *,
                   fifo: bool) -> None:
    """Write to a device or FIFO: verified first, since nothing can be taken back after."""
    if verify is not None:
        verify(data)
    try:
        # O_NONBLOCK: opening a FIFO no process reads fails (ENXIO) instead of waiting forever.
        fd = os.open(path, os.O_WRONLY | (os.O_NONBLOCK if fifo else 0))
    except OSError as exc:
        reason = "no process reads it" if exc.errno == errno.ENXIO else exc.strerror or exc
        raise InputError(f"cannot write {path}: {reason}") from None
    try:
        os.set_blocking(fd, True)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


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
    tagged = f"{stem}-{tag}" if tag else stem  # no tag: only the suffix changes (app.elf)
    return os.path.join(directory, f"{tagged}{suffix if suffix is not None else ext}")
