"""A simulated ESP32 or ESP32-S3 board: the ROM serial bootloader over TCP, backed by a flash
file.

It stands in for a real board on a USB serial port, which no test run has: no real board was
available to write or run these tests. esptool and ``esp-image --port`` reach it as
``socket://127.0.0.1:N``, the way esptool reaches a board behind a serial-to-TCP bridge (over a
socket esptool cannot toggle DTR/RTS, so it connects without a reset).

What it emulates, from esptool's "Serial Protocol" documentation (ESP32 target; the ESP32-S3
differences are listed after):

- SLIP framing (0xC0 ends a frame; 0xC0 and 0xDB escaped as DB DC and DB DD);
- command packets ``00 op size:u16 checksum:u32 data`` and responses
  ``01 op size:u16 value:u32 data status error 00 00`` (the ESP32 ROM's four status bytes);
- SYNC (answered eight times, as the ROM does), READ_REG/WRITE_REG on a register file that
  answers what esptool reads to detect an ESP32 (the chip magic value at 0x40001000, the MAC
  in eFuse block 0, the UART clock divider) and runs SPI flash "user commands" well enough
  for a JEDEC id read (0x9F) naming the flash size;
- SPI_ATTACH, SPI_SET_PARAMS, CHANGE_BAUDRATE (accepted; a socket has no baud rate);
- FLASH_BEGIN/DATA/END and FLASH_DEFL_BEGIN/DATA/END (zlib), erasing whole 4 KiB sectors on
  BEGIN as the ROM does and programming as NOR flash does (a write can only clear bits, so a
  write to an unerased sector shows up as damage); data checksums are checked;
- READ_FLASH_SLOW (64 bytes a command) and SPI_FLASH_MD5 (32 hex digits, as the ROM answers);
- GET_SECURITY_INFO is refused, as the ESP32 ROM refuses it, which is how esptool tells an
  ESP32 from later chips.

``chip="esp32s3"`` makes it an ESP32-S3 (the ESP32 is the default), as esptool 5's
``ESP32S3ROM`` sees one connected through a USB-UART bridge: GET_SECURITY_INFO answered (no
security feature enabled, chip id 9, which is how esptool detects an S3), the MAC, package and
revision words in its eFuse block 1 at 0x60007000 (an ESP32-S3 QFN56 v0.2 without embedded
flash or PSRAM), every flash-encryption, secure-boot and key-purpose eFuse word zero (nothing
enabled), and the SPI "user command" registers at 0x60002000 with the S3's offsets. The S3 ROM
has READ_FLASH_SLOW too (esptool's ``ESP32S3ROM`` inherits the ESP32's 64-byte reads and its
own test suite reads with ``--no-stub`` on every chip but the ESP8266), so ``--no-stub`` works
on both chips.

The flasher stub esptool uploads (MEM_BEGIN/DATA/END, then ``OHAI``) is not run, of course:
after MEM_END with an entry point the board answers as esptool's stub does (two status bytes,
a raw 16-byte MD5, READ_FLASH streaming 4 KiB packets then their MD5, ERASE_REGION,
ERASE_FLASH), so both esptool's default path and ``--no-stub`` are exercised. Every new
connection starts in the ROM loader, as after a reset. Only these two chips are emulated, no
Secure Download Mode, no USB-OTG or USB-Serial/JTAG console. Faults for tests:
``drop_after_blocks`` closes the connection after that many flash data blocks;
``corrupt_writes`` flips a bit in every block written; ``on_block`` is called after each block
(to interrupt the client mid-write).
"""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

SECTOR = 0x1000
MAGIC_REG = 0x40001000
ESP32_MAGIC = 0x00F01D83
EFUSE_BASE = 0x3FF5A000
UART_CLKDIV_REG = 0x3FF40014
SPI_BASE = 0x3FF42000  # the SPI command register; USR2 (the command byte) and W0 (the reply)
SPI_USR2_OFFS, SPI_W0_OFFS = 0x24, 0x80  # follow at these offsets
SPI_CMD_USR = 1 << 18

# ESP32-S3 facts, from esptool 5's targets/esp32s3.py (ESP32S3ROM) unless said otherwise
S3_CHIP_ID = 9  # IMAGE_CHIP_ID: what GET_SECURITY_INFO names and image headers carry
S3_MAGIC = 0x9  # the ROM word at MAGIC_REG (esptool 4's CHIP_DETECT_MAGIC_VALUE; 5 never reads it)
S3_EFUSE_BLOCK1 = 0x60007044  # EFUSE_BLOCK1_ADDR = MAC_EFUSE_REG: MAC low word, then high
S3_EFUSE_WORD3 = S3_EFUSE_BLOCK1 + 12  # package (bits 21-23) and minor revision (bits 18-20)
S3_MINOR_REVISION = 2  # v0.2, a common production revision; package 0 is the QFN56
S3_UART_CLKDIV_REG = 0x60000014
S3_UARTDEV_BUF_NO = 0x3FCEF14C  # the ROM's console: 0 is UART0 (3 USB-OTG, 4 USB-Serial/JTAG;
# esptool 4 and esptool-js read it, esptool 5 asks the host's USB VID/PID instead)
S3_SPI_BASE = 0x60002000  # SPI_REG_BASE; the user-command registers at the offsets below
S3_SPI_USR2_OFFS, S3_SPI_W0_OFFS = 0x20, 0x58

(FLASH_BEGIN, FLASH_DATA, FLASH_END, MEM_BEGIN, MEM_END, MEM_DATA, SYNC, WRITE_REG, READ_REG,
 SPI_SET_PARAMS, SPI_ATTACH, READ_FLASH_SLOW, CHANGE_BAUDRATE, FLASH_DEFL_BEGIN, FLASH_DEFL_DATA,
 FLASH_DEFL_END, SPI_FLASH_MD5, GET_SECURITY_INFO) = (
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0D, 0x0E, 0x0F, 0x10, 0x11,
    0x12, 0x13, 0x14)
# the flasher stub's own commands
ERASE_FLASH, ERASE_REGION, READ_FLASH = 0xD0, 0xD1, 0xD2
# ROM error codes (the second status byte)
INVALID_MESSAGE, FAILED, BAD_CRC, WRITE_ERROR, READ_ERROR, LENGTH_ERROR, DEFLATE_ERROR = (
    0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B)

DEFAULT_MAC = bytes.fromhex("240ac4123456")


@dataclass(frozen=True)
class ChipModel:
    """What differs between the emulated chips: where esptool finds things, and whether the ROM
    answers GET_SECURITY_INFO (``chip_id`` None: it refuses it, as the ESP32's does)."""

    name: str
    mac_reg: int  # the MAC's low four bytes; the high two are in the next word
    spi_base: int
    spi_usr2_offs: int
    spi_w0_offs: int
    chip_id: int | None
    fixed_regs: dict[int, int] = field(default_factory=dict)

    def registers(self, mac: bytes) -> dict[int, int]:
        return {**self.fixed_regs, self.mac_reg: int.from_bytes(mac[2:6], "big"),
                self.mac_reg + 4: int.from_bytes(mac[0:2], "big")}

    def security_info(self) -> bytes:
        """The S3 ROM's 20 bytes (esptool's ``get_security_info`` layout ``<IBBBBBBBBII``): no
        flag set, flash_crypt_cnt 0, seven key purposes 0 (user/empty), the chip id, and an
        eco/API version of 0."""
        if self.chip_id is None:
            raise Refused(INVALID_MESSAGE)
        return struct.pack("<IB7BII", 0, 0, *bytes(7), self.chip_id, 0)


CHIPS = {
    # eFuse block 0 words 1 and 2 hold the MAC behind a CRC byte (esptool drops it)
    "esp32": ChipModel("ESP32", EFUSE_BASE + 4, SPI_BASE, SPI_USR2_OFFS, SPI_W0_OFFS, None,
                       {MAGIC_REG: ESP32_MAGIC,
                        # a 40 MHz crystal at the ROM's baud rate
                        UART_CLKDIV_REG: 40_000_000 // 115200}),
    "esp32s3": ChipModel("ESP32-S3", S3_EFUSE_BLOCK1, S3_SPI_BASE, S3_SPI_USR2_OFFS,
                         S3_SPI_W0_OFFS, S3_CHIP_ID,
                         {MAGIC_REG: S3_MAGIC, S3_EFUSE_WORD3: S3_MINOR_REVISION << 18,
                          S3_UART_CLKDIV_REG: 40_000_000 // 115200, S3_UARTDEV_BUF_NO: 0}),
}


class Refused(Exception):
    """A command the ROM answers with a failure status (the error code is the argument)."""


def slip_encode(payload: bytes) -> bytes:
    body = payload.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc")
    return b"\xc0" + body + b"\xc0"


def slip_decode(frame: bytes) -> bytes:
    return frame.replace(b"\xdb\xdc", b"\xc0").replace(b"\xdb\xdd", b"\xdb")


def data_checksum(data: bytes) -> int:
    value = 0xEF
    for b in data:
        value ^= b
    return value


class SimulatedBoard:
    """An ESP32 (or, with ``chip="esp32s3"``, an ESP32-S3) in its serial bootloader, listening
    on 127.0.0.1 (a random free port).

    Use as a context manager; :attr:`port` is what esptool's ``--port`` takes. The flash file
    is read at start and every flash change is written back to it at once, so a test can read
    it at any time after a client finished.
    """

    def __init__(self, flash: str | Path, *, mac: bytes = DEFAULT_MAC, chip: str = "esp32",
                 timeout: float = 10.0) -> None:
        self.path = Path(flash)
        self.flash = bytearray(self.path.read_bytes())
        size = len(self.flash)
        if size < 0x10000 or size & (size - 1):
            raise ValueError(f"{flash}: a flash file is a power of two of 64 KiB or more")
        if chip not in CHIPS:
            raise ValueError(f"{chip}: the simulator is one of {', '.join(CHIPS)}")
        self.chip = CHIPS[chip]
        self.mac = mac
        self.timeout = timeout
        self.regs = self.chip.registers(mac)
        self.drop_after_blocks: int | None = None
        self.on_block: Callable[[int], None] | None = None
        """Called with the count of flash data blocks written so far, before the reply
        (a test interrupts the client mid-write from here)."""
        self.corrupt_writes = False
        self.blocks_written = 0
        self.commands: list[int] = []
        self.stub = False
        self._write: tuple[int, int, int, zlib._Decompress | None] | None = None
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> str:
        return f"socket://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> SimulatedBoard:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    # ------------------------------------------------------------------ transport
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(0.1)
                # small replies must not wait for the client's delayed ACK (Nagle)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.stub = False
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        buffer = b""
        idle = 0.0
        while not self._stop.is_set() and idle < self.timeout:
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                idle += 0.1
                continue
            except OSError:
                return
            if not chunk:
                return
            idle = 0.0
            buffer += chunk
            while (end := buffer.find(b"\xc0", 1)) != -1:
                frame, buffer = buffer[:end + 1], buffer[end + 1:]
                body = frame.strip(b"\xc0")
                if not body:  # two delimiters in a row: an empty frame
                    buffer = b"\xc0" + buffer
                    continue
                for reply in self._handle(slip_decode(body)):
                    conn.sendall(slip_encode(reply))
                if self.drop_after_blocks is not None \
                        and self.blocks_written >= self.drop_after_blocks:
                    return
            if buffer and not buffer.startswith(b"\xc0"):  # noise before a frame
                buffer = buffer[buffer.find(b"\xc0"):] if b"\xc0" in buffer else b""

    def _handle(self, packet: bytes) -> list[bytes]:
        if len(packet) < 8 or packet[0] != 0:
            return []
        op, size, chk = struct.unpack_from("<BHI", packet, 1)
        data = packet[8:8 + size]
        self.commands.append(op)
        status = 2 if self.stub else 4  # the ROM sends two reserved bytes more
        try:
            value, body, *more = self._command(op, data, chk)
        except Refused as exc:
            failed = bytes((1, exc.args[0])).ljust(status, b"\0")
            return [struct.pack("<BBHI", 1, op, status, 0) + failed]
        reply = struct.pack("<BBHI", 1, op, len(body) + status, value) + body + bytes(status)
        return [reply] * (8 if op == SYNC else 1) + list(more)

    # ------------------------------------------------------------------ commands
    def _command(self, op: int, data: bytes, chk: int) -> tuple[Any, ...]:
        if op == SYNC:
            if data != b"\x07\x07\x12\x20" + b"\x55" * 32:
                raise Refused(INVALID_MESSAGE)
            # the ROM answers with a non-zero value; a stub with 0
            return (0 if self.stub else 0x20120707), b""
        if op in (MEM_BEGIN, MEM_DATA, MEM_END, ERASE_FLASH, ERASE_REGION, READ_FLASH):
            return self._stub_command(op, data, chk)
        if op == READ_REG:
            return self._read_reg(struct.unpack("<I", data[:4])[0]), b""
        if op == WRITE_REG:
            for i in range(0, len(data) - 15, 16):
                self._write_reg(*struct.unpack_from("<IIII", data, i)[:3])
            return 0, b""
        if op in (SPI_ATTACH, SPI_SET_PARAMS, CHANGE_BAUDRATE):
            return 0, b""
        if op in (FLASH_BEGIN, FLASH_DEFL_BEGIN):
            return self._begin(data, deflate=op == FLASH_DEFL_BEGIN)
        if op in (FLASH_DATA, FLASH_DEFL_DATA):
            return self._data(data, chk, deflate=op == FLASH_DEFL_DATA)
        if op in (FLASH_END, FLASH_DEFL_END):
            self._write = None
            return 0, b""
        if op == READ_FLASH_SLOW:
            offset, length = struct.unpack("<II", data[:8])
            if length > 64 or offset + length > len(self.flash):
                raise Refused(LENGTH_ERROR)
            return 0, bytes(self.flash[offset:offset + length]).ljust(64, b"\xff")
        if op == SPI_FLASH_MD5:
            offset, length = struct.unpack("<II", data[:8])
            if offset + length > len(self.flash):
                raise Refused(READ_ERROR)
            digest = hashlib.md5(self.flash[offset:offset + length])
            return 0, digest.digest() if self.stub else digest.hexdigest().encode()
        if op == GET_SECURITY_INFO:
            return 0, self.chip.security_info()
        raise Refused(INVALID_MESSAGE)

    def _stub_command(self, op: int, data: bytes, chk: int) -> tuple[Any, ...]:
        """Loading the stub into RAM (ROM), and the commands only the stub has."""
        if op == MEM_BEGIN:
            return 0, b""
        if op == MEM_DATA:
            length = struct.unpack("<I", data[:4])[0]
            if data_checksum(data[16:16 + length]) != chk & 0xFF:
                raise Refused(BAD_CRC)
            return 0, b""
        if op == MEM_END:
            entry = struct.unpack("<II", data[:8])[1]
            if entry and not self.stub:
                self.stub = True
                return 0, b"", b"OHAI"  # the stub greets once it runs
            return 0, b""
        if not self.stub:
            raise Refused(INVALID_MESSAGE)
        if op == ERASE_FLASH:
            self._erase(0, len(self.flash))
            return 0, b""
        if op == ERASE_REGION:
            offset, length = struct.unpack("<II", data[:8])
            if offset % SECTOR or length % SECTOR or offset + length > len(self.flash):
                raise Refused(FAILED)
            self._erase(offset, offset + length)
            return 0, b""
        offset, length, packet, _in_flight = struct.unpack("<IIII", data[:16])
        if offset + length > len(self.flash) or not packet:
            raise Refused(READ_ERROR)
        blob = bytes(self.flash[offset:offset + length])
        # all packets at once: the host's acknowledgements only pace a real UART
        packets = [blob[i:i + packet] for i in range(0, length, packet)]
        return (0, b"", *packets, hashlib.md5(blob).digest())

    def _erase(self, start: int, end: int) -> None:
        self.flash[start:end] = b"\xff" * (end - start)
        self._save(start, end)

    def _read_reg(self, address: int) -> int:
        if address == self.chip.spi_base:
            return 0  # a user command finishes at once
        return self.regs.get(address, 0)

    def _write_reg(self, address: int, value: int, mask: int) -> None:
        old = self.regs.get(address, 0)
        self.regs[address] = (old & ~mask) | (value & mask)
        base = self.chip.spi_base  # the SPI command register is the first
        if address == base and value & SPI_CMD_USR:
            command = self.regs.get(base + self.chip.spi_usr2_offs, 0) & 0xFF
            size_id = len(self.flash).bit_length() - 1
            # JEDEC id read: manufacturer (Winbond), memory type, log2(capacity)
            self.regs[base + self.chip.spi_w0_offs] = \
                (0xEF | 0x40 << 8 | size_id << 16) if command == 0x9F else 0

    def _begin(self, data: bytes, *, deflate: bool) -> tuple[int, bytes]:
        erase, _blocks, block_size, offset = struct.unpack("<IIII", data[:16])
        if offset % SECTOR or offset + erase > len(self.flash):
            raise Refused(FAILED)
        self._erase(offset, -(-(offset + erase) // SECTOR) * SECTOR)
        self._write = (offset, block_size, 0, zlib.decompressobj() if deflate else None)
        return 0, b""

    def _data(self, data: bytes, chk: int, *, deflate: bool) -> tuple[int, bytes]:
        if self._write is None or (self._write[3] is not None) != deflate:
            raise Refused(FAILED)
        length, seq = struct.unpack("<II", data[:8])
        block = data[16:16 + length]
        if len(block) != length or data_checksum(block) != chk & 0xFF:
            raise Refused(BAD_CRC)
        offset, block_size, written, inflater = self._write
        if inflater is not None:
            try:
                plain = inflater.decompress(block)
            except zlib.error:
                raise Refused(DEFLATE_ERROR) from None
            start = offset + written
        else:
            plain, start = block, offset + seq * block_size
        if start + len(plain) > len(self.flash):
            raise Refused(WRITE_ERROR)
        if self.corrupt_writes and plain:
            plain = bytes((plain[0] ^ 1,)) + plain[1:]
        # NOR flash programming clears bits only; erased (0xFF) bytes take the data
        old = self.flash[start:start + len(plain)]
        self.flash[start:start + len(plain)] = bytes(a & b for a, b in zip(old, plain, strict=True))
        self._write = (offset, block_size, written + len(plain), inflater)
        self.blocks_written += 1
        self._save(start, start + len(plain))
        if self.on_block is not None:
            self.on_block(self.blocks_written)
        return 0, b""

    def _save(self, start: int, end: int) -> None:
        with self.path.open("r+b") as fh:
            fh.seek(start)
            fh.write(self.flash[start:end])
