"""Running littlefs on untrusted bytes without risking this process. littlefs's C code asserts
(aborting the whole process) on many kinds of damaged metadata, and damaged data can make it
loop, so :func:`isolated` runs a job in a forked child with a time and memory limit and turns a
crash or a timeout into a FormatError. Results cross the pipe as marshal data; EspImageErrors
cross it as (class name, message) pairs (:func:`_attempt` / :func:`_rebuild`).
"""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import EspImageError, FormatError, InputError, LayoutError

if TYPE_CHECKING:
    from collections.abc import Callable

ISOLATION_TIMEOUT = 10.0
"""Seconds one littlefs call on untrusted data may take before its child process is killed."""
_ISOLATION_MEMORY = 512 << 20
"""Address space a child may add to what it inherits (littlefs itself needs little)."""


def isolated(job: Callable[[], Any]) -> Any:
    """``job()`` in a forked child: its result (marshal-able), or the EspImageError it raised.

    A child killed by a signal (littlefs's ``assert`` aborts), or one that does not finish in
    :data:`ISOLATION_TIMEOUT` seconds, becomes a FormatError here; the child's stderr is
    discarded (littlefs-python reports exceptions in its callbacks there). Where there is no
    ``fork`` (Windows) ``job`` runs in this process. The caller imports littlefs first: a
    child must not take the import lock.
    """
    if not hasattr(os, "fork"):
        return job()
    read_end, write_end = os.pipe()
    pid = _fork()
    if pid == 0:  # pragma: no cover - the child; its exit status is checked by the parent
        _child(job, read_end, write_end)
    os.close(write_end)
    chunks, timed_out, status = _collect(pid, read_end)
    return _verdict(chunks, timed_out, status)


def _fork() -> int:
    import warnings

    with warnings.catch_warnings():
        # Python 3.12 warns about fork() in a threaded process; the child only runs littlefs
        # on its own copy of the buffer and never returns to the caller's code.
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def _child(job: Callable[[], Any], read_end: int, write_end: int) -> NoReturn:  # pragma: no cover
    """Run ``job`` silenced and limited, send its reply down ``write_end``, and exit."""
    import marshal

    code = 0
    try:
        os.close(read_end)
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        if "faulthandler" in sys.modules:  # it writes a crash report to its own fd
            sys.modules["faulthandler"].disable()
        _limit_child()
        payload = marshal.dumps(_reply(job))
        view = memoryview(payload)
        while view:
            view = view[os.write(write_end, view):]
    except BaseException:
        code = 3
    finally:
        os._exit(code)


def _reply(job: Callable[[], Any]) -> tuple[Any, ...]:  # pragma: no cover - runs in the child
    """("ok", result) or ("error", class name, message): what the child sends back."""
    try:
        return ("ok", job())
    except FormatError as exc:
        return ("error", "FormatError", exc.reason)
    except EspImageError as exc:
        return ("error", type(exc).__name__, str(exc))
    except BaseException as exc:
        return ("error", "FormatError", f"{type(exc).__name__}: {exc}")


def _collect(pid: int, read_end: int) -> tuple[list[bytes], bool, int]:
    """The child's reply as read before the deadline, whether it timed out (and was killed),
    and its wait status; the child is always reaped."""
    import select
    import signal
    import time

    chunks: list[bytes] = []
    timed_out = False
    try:
        deadline = time.monotonic() + ISOLATION_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
                break
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.close(read_end)
        status = os.waitpid(pid, 0)[1]
    return chunks, timed_out, status


def _verdict(chunks: list[bytes], timed_out: bool, status: int) -> Any:
    """The job's result, or the error the child reported or its end makes."""
    import marshal
    import signal

    if timed_out:
        raise FormatError(f"littlefs did not finish within {ISOLATION_TIMEOUT:g} s (damaged "
                          "metadata makes it loop)", structure="littlefs")
    if os.WIFSIGNALED(status) or not chunks:
        why = (f"signal {signal.Signals(os.WTERMSIG(status)).name}"
               if os.WIFSIGNALED(status) else f"exit status {os.WEXITSTATUS(status)}")
        raise FormatError(f"littlefs crashed on this filesystem ({why}): its metadata is "
                          "damaged", structure="littlefs")
    reply = marshal.loads(b"".join(chunks))
    if reply[0] == "ok":
        return reply[1]
    raise _rebuild(reply[1:])


def _limit_child() -> None:  # pragma: no cover - runs in the child
    """Cap the child's address space (a damaged length must not exhaust the machine) and
    its CPU time (a backstop behind the parent's timeout)."""
    import resource

    try:
        with open("/proc/self/statm", "rb") as fh:
            inherited = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = inherited + _ISOLATION_MEMORY
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (OSError, ValueError):
        pass  # no /proc (macOS): the timeout still bounds the child
    with suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_CPU, (int(ISOLATION_TIMEOUT) + 2,
                                                 resource.getrlimit(resource.RLIMIT_CPU)[1]))


def _attempt(call: Callable[..., bytes], *args: Any) -> bytes | tuple[str, str]:
    """``call(*args)``, or the EspImageError it raised as (class name, message)."""
    try:
        return call(*args)
    except FormatError as exc:
        return ("FormatError", exc.reason)
    except EspImageError as exc:
        return (type(exc).__name__, str(exc))


def _rebuild(error: tuple[str, ...]) -> EspImageError:
    """The EspImageError :func:`_attempt` described."""
    kind = {"InputError": InputError, "LayoutError": LayoutError}.get(error[0])
    return kind(error[1]) if kind is not None else FormatError(error[1], structure="littlefs")
