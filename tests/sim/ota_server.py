"""A simulated yaota8266 ota-server on 127.0.0.1, for testing ``esp-image yaota send``.

It stands in for the ESP8266 running yaota8266's OTA mode: no real device was available to
the tests. It is written from ``ota-server/ota.c`` and ``config.h.example`` of
pfalcon/yaota8266 at 410f9d4, not from esp_image, so it checks the client independently:

- every datagram's signature is checked as axTLS ``RSA_decrypt(..., is_decryption=0)`` and
  ota.c do it: ``sig^3 mod n`` must be ``00 01``, at least 8 ``ff``, one byte axTLS skips
  unread, then exactly 36 bytes whose last 20 are the SHA-1 of the datagram after its seq and
  before the signature; anything else is dropped without an answer ("Invalid digest size in
  signature", "Invalid SHA1");
- a data datagram at the offset expected is copied into a 4 KiB buffer, written to the flash
  sector it belongs to when full, and answered with its seq and the 8 header bytes (plus 8
  bytes the C code never sets: random here, so the client must not read them);
- a datagram repeating the previous offset is answered again, not written ("rexmits");
- any other offset, or a buffer overflow, is dropped without an answer;
- a datagram with len 0 writes the last buffer and "reboots": from then on nothing is
  answered (the new app does not listen on the port);
- ``pkt_wait`` seconds without a datagram after the first forget the update
  (``PKT_WAIT_MS``; the C code keeps its buffer, and so does this).

For the tests it can also lose datagrams on the way in (``drop``), lose answers on the way
out (``drop_answers``), answer late (``delay_answers``) or never answer (``silent``). The flash
it writes is a 1 MiB bytearray of 0xff; :meth:`OtaServer.main_app` reads the main app from
``MAIN_APP_OFFSET`` as boot8266 would.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterable
from types import TracebackType

MAIN_APP_OFFSET = 0x3C000
"""config.h.example; ota.c's OTA_START."""
SECTOR = 4096
RSA_BLK_SIZE = 64
AES_BLK_SIZE = 16
SHA1_SIZE = 20
HEADER = struct.Struct("<HHI")
"""struct pkt_header: op, len, offset (after the u32 seq)."""


def signature_accepted(datagram: bytes, modulus: int) -> bool:
    """ota.c's check of one datagram, with axTLS's PKCS#1 v1.5 type 1 unpadding."""
    if len(datagram) < 4 + HEADER.size + RSA_BLK_SIZE:
        return False
    sig = int.from_bytes(datagram[-RSA_BLK_SIZE:], "big")
    block = pow(sig, 3, modulus).to_bytes(RSA_BLK_SIZE, "big")
    if block[0] != 0 or block[1] != 1:
        return False
    i, pad = 2, 0
    while i < RSA_BLK_SIZE and block[i] == 0xFF:
        i, pad = i + 1, pad + 1
    i += 1  # axTLS steps over the separator without checking that it is 0
    if i >= RSA_BLK_SIZE or pad < 8 or RSA_BLK_SIZE - i != SHA1_SIZE + AES_BLK_SIZE:
        return False
    signed = datagram[4:-RSA_BLK_SIZE]
    return block[i + AES_BLK_SIZE:] == hashlib.sha1(signed).digest()


class OtaServer:
    """The simulated ota-server; use it as a context manager (it runs in a thread).

    Attributes:
        port: the UDP port it listens on (an ephemeral one unless given).
        flash: the device's flash.
        received, rejected, unexpected, duplicates: datagrams that arrived, failed the
            signature check, had an unexpected offset, repeated the previous offset.
        answers: answers sent (lost ones included).
        finished: an end datagram arrived; the device "rebooted".
    """

    def __init__(self, modulus: int, *, drop: Iterable[int] = (),
                 drop_answers: Iterable[int] = (), delay_answers: dict[int, float] | None = None,
                 silent: bool = False, pkt_wait: float = 10.0, port: int = 0) -> None:
        self.modulus = modulus
        self.drop = Counter(drop)
        self.drop_answers = Counter(drop_answers)
        self.delay_answers = dict(delay_answers or {})
        self.silent = silent
        self.pkt_wait = pkt_wait
        self.flash = bytearray(b"\xff" * 0x100000)
        self.received = self.rejected = self.unexpected = self.duplicates = self.answers = 0
        self.finished = False
        self._rebooted = threading.Event()
        self.sectors_written: list[int] = []
        self._session_init()
        self._buf_init()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", port))
        self._sock.settimeout(0.02)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._timers: list[threading.Timer] = []

    # ------------------------------------------------------------------ ota.c state
    def _session_init(self) -> None:
        self.ota_offset = 0
        self.ota_prev_offset: int | None = None  # ota.c: -1
        self.last_pkt_time = 0.0

    def _buf_init(self) -> None:
        self.buf = bytearray(b"\xff" * SECTOR)
        self.buf_sz = 0

    def _write_buf(self) -> None:
        if self.buf_sz > 0:
            off = MAIN_APP_OFFSET + self.ota_offset
            off = off & ~(SECTOR - 1) if off % SECTOR else off - SECTOR
            self.flash[off:off + SECTOR] = self.buf  # SPIEraseSector + SPIWrite of all 4 KiB
            self.sectors_written.append(off)
        self._buf_init()

    def handle(self, datagram: bytes) -> bytes | None:
        """One datagram as ota_udp_incoming handles it; the answer, or None."""
        if self.finished or self.silent:
            return None
        self.received += 1
        now = time.monotonic()
        if self.ota_prev_offset is not None and now - self.last_pkt_time > self.pkt_wait:
            self._session_init()  # ota.c's timer_handler, checked when the next one arrives
        if len(datagram) < HEADER.size or not signature_accepted(datagram, self.modulus):
            self.rejected += 1
            return None
        _op, length, offset = HEADER.unpack_from(datagram, 4)
        if length == 0:
            self._write_buf()
            self.finished = True
            self._rebooted.set()
            return None
        if offset == self.ota_prev_offset:
            self.duplicates += 1
        elif offset != self.ota_offset or self.buf_sz + length > SECTOR:
            self.unexpected += 1
            return None
        else:
            data = datagram[4 + HEADER.size:4 + HEADER.size + length]
            self.buf[self.buf_sz:self.buf_sz + length] = data
            self.ota_prev_offset = self.ota_offset
            self.ota_offset += length
            self.buf_sz += length
            if self.buf_sz == SECTOR:
                self._write_buf()
        self.last_pkt_time = now
        return datagram[:4] + datagram[4:4 + HEADER.size] + os.urandom(8)

    def wait_finished(self, timeout: float = 5.0) -> bool:
        """Whether an end datagram arrives within ``timeout`` (the client returns as soon as it
        has sent them; this thread may not have read them yet)."""
        return self._rebooted.wait(timeout)

    def main_app(self, length: int) -> bytes:
        """``length`` bytes of the flash from MAIN_APP_OFFSET."""
        return bytes(self.flash[MAIN_APP_OFFSET:MAIN_APP_OFFSET + length])

    # ------------------------------------------------------------------ the network side
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                datagram, peer = self._sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            seq = int.from_bytes(datagram[:4], "little")
            if self.drop[seq] > 0:
                self.drop[seq] -= 1
                continue
            answer = self.handle(datagram)
            if answer is None:
                continue
            self.answers += 1
            if self.drop_answers[seq] > 0:
                self.drop_answers[seq] -= 1
            elif seq in self.delay_answers:
                timer = threading.Timer(self.delay_answers.pop(seq), self._answer,
                                        (answer, peer))
                self._timers.append(timer)
                timer.start()
            else:
                self._answer(answer, peer)

    def _answer(self, answer: bytes, peer: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):  # closed by __exit__ while a late answer waited
            self._sock.sendto(answer, peer)

    def __enter__(self) -> OtaServer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        for timer in self._timers:
            timer.cancel()
        self._thread.join()
        self._sock.close()
