"""The connection to a board, through esptool's Python API (never by running esptool).

esptool is imported here only, and only when a board is opened: the file commands never pay
for it. Every esptool or serial failure becomes one :class:`~esp_image.errors.BoardError`
line.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

from ..errors import BoardError, UsageError
from ..units import SECTOR

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

BEFORE = ("default-reset", "usb-reset", "no-reset", "no-reset-no-sync")
AFTER = ("hard-reset", "soft-reset", "no-reset", "no-reset-stub", "watchdog-reset")
ROM_BAUD = 115200
DEFAULT_BAUD = 460800  # esptool's default


@dataclass(frozen=True)
class BoardOptions:
    """How to reach a board: esptool's ``--port``, ``--baud``, ``--chip``, ``--before``,
    ``--after`` and ``--no-stub``, with esptool's names and defaults."""

    port: str
    baud: int = DEFAULT_BAUD
    chip: str = "auto"
    before: str = "default-reset"
    after: str = "hard-reset"
    stub: bool = True

    def __post_init__(self) -> None:
        if self.before not in BEFORE:
            raise UsageError(f"--before must be one of {', '.join(BEFORE)}, got {self.before!r}")
        if self.after not in AFTER:
            raise UsageError(f"--after must be one of {', '.join(AFTER)}, got {self.after!r}")
        if self.baud <= 0:
            raise UsageError(f"--baud must be a positive number, got {self.baud}")


@dataclass
class Board:
    """A connected board: its chip, MAC and flash size, and a 4 KiB-sector cache of what was
    read (what was not read is never guessed)."""

    esp: Any
    options: BoardOptions
    chip: str
    mac: str
    flash_size: int
    sectors: dict[int, bytes] = field(default_factory=dict)
    bytes_read: int = 0
    bytes_written: int = 0
    progress: Callable[[str, int], Callable[[int], None]] | None = None

    # ------------------------------------------------------------------ reading
    def read(self, address: int, size: int) -> bytes:
        """The flash bytes ``[address, address + size)``, reading only sectors not read yet."""
        if address < 0 or size < 0 or address + size > self.flash_size:
            raise BoardError(f"{self.options.port}: {address:#x}+{size:#x} is outside the "
                             f"board's {self.flash_size // 1024} KiB flash")
        first, stop = address // SECTOR * SECTOR, -(-(address + size) // SECTOR) * SECTOR
        for start, end in _runs([s for s in range(first, stop, SECTOR)
                                 if s not in self.sectors]):
            data = self._read_run(start, end - start)
            for s in range(start, end, SECTOR):
                self.sectors[s] = data[s - start:s - start + SECTOR]
        return b"".join(self.sectors[s] for s in range(first, stop, SECTOR))[
            address - first:address - first + size]

    def _read_run(self, address: int, size: int) -> bytes:
        tick = self.progress(f"reading {address:#x}", size) if self.progress else None

        def report(done: int, total: int, offset: int) -> None:
            if tick is not None:
                tick(done)
        data = self.call(lambda: self.esp.read_flash(address, size, report),
                         f"reading {size} bytes at {address:#x}")
        if len(data) != size:
            raise BoardError(f"{self.options.port}: asked for {size} bytes at {address:#x}, "
                             f"got {len(data)}")
        self.bytes_read += size
        return bytes(data)

    def peek(self, address: int, size: int) -> bytes:
        """Exactly ``size`` bytes at ``address`` (a few, to look for a magic), not kept as a
        read sector: the whole sector is read only where something is found."""
        data = self.call(lambda: self.esp.read_flash(address, size),
                         f"reading {size} bytes at {address:#x}")
        self.bytes_read += len(data)
        return bytes(data)

    def md5(self, address: int, size: int) -> str:
        """The board's own MD5 of a flash range (lower-case hex), nothing transferred."""
        digest = self.call(lambda: self.esp.flash_md5sum(address, size),
                           f"the MD5 of {address:#x}+{size:#x}")
        return str(digest).lower()

    def summary(self) -> dict[str, object]:
        """The board and the transfers made (the ``board`` object of the JSON documents)."""
        return {"port": self.options.port, "chip": self.chip, "mac": self.mac,
                "flash_size": self.flash_size, "bytes_read": self.bytes_read,
                "bytes_written": self.bytes_written,
                "read": [[a, b] for a, b in self.read_map()]}

    def read_map(self) -> list[tuple[int, int]]:
        """The flash ranges read so far, as (start, end) runs."""
        return _runs(sorted(self.sectors))

    # ------------------------------------------------------------------ writing
    def write(self, address: int, data: bytes) -> None:
        """Write whole sectors (compressed; the loader erases them first)."""
        import zlib

        if address % SECTOR or len(data) % SECTOR:
            raise BoardError(f"internal: unaligned write {address:#x}+{len(data):#x}")
        packed = zlib.compress(data, 9)
        block = self.esp.FLASH_WRITE_SIZE
        tick = self.progress(f"writing {address:#x}", len(data)) if self.progress else None

        def run() -> None:
            blocks = self.esp.flash_defl_begin(len(data), len(packed), address)
            for seq in range(blocks):
                self.esp.flash_defl_block(packed[seq * block:(seq + 1) * block], seq)
                if tick is not None:
                    tick(min(len(data), (seq + 1) * len(data) // max(blocks, 1)))
            if self.esp.IS_STUB:  # the ROM loader would leave its loader on FLASH_DEFL_END
                self.esp.flash_defl_finish(False)
        self.call(run, f"writing {len(data)} bytes at {address:#x}")
        self.bytes_written += len(data)
        for s in range(address, address + len(data), SECTOR):
            self.sectors.pop(s, None)  # what is there now is known only after a check

    def call(self, action: Callable[[], Any], what: str) -> Any:
        """Run an esptool call; its failures (and a lost connection) become a BoardError."""
        try:
            return action()
        except BoardError:
            raise
        except Exception as exc:  # esptool's FatalError, serial and socket errors
            raise BoardError(f"{self.options.port}: {what} failed: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _runs(sectors: list[int]) -> list[tuple[int, int]]:
    """Sorted sector addresses as contiguous (start, end) runs."""
    runs: list[tuple[int, int]] = []
    for s in sectors:
        if runs and runs[-1][1] == s:
            runs[-1] = (runs[-1][0], s + SECTOR)
        else:
            runs.append((s, s + SECTOR))
    return runs


@contextlib.contextmanager
def open_board(options: BoardOptions) -> Iterator[Board]:
    """Connect to the board, attach its flash, and reset it as ``options.after`` says at the
    end (also after a failure, when the board still answers)."""
    esp = _open(options)
    board: Board | None = None
    try:
        board = _describe(esp, options)
        yield board
    finally:
        try:
            from esptool.cmds import reset_chip

            reset_chip(board.esp if board is not None else esp, options.after)
        except Exception:  # a board that went away cannot be reset; the error is elsewhere
            pass
        with contextlib.suppress(Exception):
            esp._port.close()


def _open(options: BoardOptions) -> Any:
    _quiet_esptool()
    from esptool.cmds import connect_esp, run_stub

    start = time.monotonic()
    try:
        esp = connect_esp(options.port, chip=options.chip,
                          initial_baud=min(ROM_BAUD, options.baud), before=options.before,
                          connect_attempts=3)
    except Exception as exc:
        raise BoardError(f"{options.port}: no ESP board answered "
                         f"({_reason(exc)}; after {time.monotonic() - start:.1f} s)") from None
    try:
        if esp.CHIP_NAME == "ESP8266":
            raise BoardError(f"{options.port}: an ESP8266 answered; esp-image reads ESP32-family "
                             "boards only (read the flash with esptool read-flash)")
        if options.stub:
            esp = run_stub(esp)
        if options.baud > ROM_BAUD:
            esp.change_baud(options.baud)
        return esp
    except BoardError:
        esp._port.close()
        raise
    except Exception as exc:
        esp._port.close()
        raise BoardError(f"{options.port}: preparing the board failed: {_reason(exc)}") from None


def _describe(esp: Any, options: BoardOptions) -> Board:
    from esptool.cmds import attach_flash, detect_flash_size
    from esptool.util import flash_size_bytes

    try:
        attach_flash(esp)
        size_name = detect_flash_size(esp)
        if size_name is None:
            raise BoardError(f"{options.port}: the flash chip did not tell its size "
                             f"(id {esp.flash_id():#x})")
        size = int(flash_size_bytes(size_name))
        esp.flash_set_parameters(size)
        mac = ":".join(f"{b:02x}" for b in esp.read_mac())
    except BoardError:
        raise
    except Exception as exc:
        raise BoardError(f"{options.port}: reading the board's flash id failed: "
                         f"{_reason(exc)}") from None
    chip = str(esp.CHIP_NAME).lower().replace("-", "")
    return Board(esp=esp, options=options, chip=chip, mac=mac, flash_size=size)


def _quiet_esptool() -> None:
    """esptool prints its own progress on stdout; esp-image's output is its own."""
    from esptool.logger import log

    log.set_verbosity("silent")
