"""What the CLI writes must reach any terminal or pipe without harm and without a traceback.

- :func:`shown` escapes text that comes from files or paths (partition labels, file names):
  an escape sequence or control character in a label must not drive the user's terminal.
- :func:`guard_streams` makes stdout and stderr fall back to ASCII where their encoding cannot
  show a character (a cp1252 Windows console, ``PYTHONIOENCODING=ascii``), and makes a closed
  stdout pipe (``esp-image verify *.bin | head -1``) end the output quietly while the command
  finishes its work and returns its own exit code.
"""

from __future__ import annotations

import codecs
import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import TextIO

_FALLBACK_ERRORS = "esp-image-ascii"
_ASCII = {"→": "->", "…": "...", "—": "--", "–": "-", "−": "-", "‖": "||", "§": "section ",
          "×": "x", "≥": ">=", "≤": "<=", "±": "+/-", "µ": "u", "°": " deg", "≈": "~",
          "‘": "'", "’": "'", "“": '"', "”": '"'}


def shown(text: str) -> str:
    """``text`` with every non-printable character escaped, for human output.

    Control characters, escape sequences, NUL, bidirectional overrides and other invisible
    characters become ``\\x1b``/``\\u202e``; a byte that was not UTF-8 in a file name
    (Python's surrogate escape) becomes ``\\xff``, the byte it stands for.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def shown_lines(text: str) -> str:
    """:func:`shown` for each line of ``text``: its own line breaks are kept."""
    return "\n".join(shown(line) for line in text.split("\n"))


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte itself
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start:exc.end]
    return "".join(_ASCII.get(ch) or _escape(ch) for ch in text), exc.end


class _PipeGuard:
    """stdout that stops writing, quietly, once the reader has gone away.

    The Python documentation's recipe: on ``BrokenPipeError`` point the file descriptor at
    devnull, so nothing more (not even the interpreter's final flush) fails. The command runs
    on, so its exit code still says whether its work succeeded.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.closed_pipe = False

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._to_devnull()
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._to_devnull()

    def _to_devnull(self) -> None:
        self.closed_pipe = True
        _devnull_over(self._stream)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _devnull_over(stream: object) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())  # type: ignore[attr-defined]
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # no descriptor (a test's StringIO)
        pass


def stdout_closed() -> None:
    """The reader of stdout has gone (a BrokenPipeError from ``sys.stdout.buffer``)."""
    if isinstance(sys.stdout, _PipeGuard):
        sys.stdout._to_devnull()
    else:
        _devnull_over(sys.stdout)


def guard_streams() -> None:
    """Install the ASCII fallback on stdout and stderr and the closed-pipe guard on stdout.

    Decided once per stream, from its encoding: the fallback only ever replaces characters
    the stream's encoding cannot represent, so a UTF-8 terminal is unchanged.
    """
    try:
        codecs.lookup_error(_FALLBACK_ERRORS)
    except LookupError:
        codecs.register_error(_FALLBACK_ERRORS, _ascii_fallback)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            reconfigure(errors=_FALLBACK_ERRORS)
    if sys.stdout is not None and not isinstance(sys.stdout, _PipeGuard):
        sys.stdout = _PipeGuard(sys.stdout)
