"""Send a signed yaota8266 update to a device in OTA mode: the client side of the update
protocol, over UDP, as ota-server (``ota-server/ota.c``) implements it and ``ota_client.py``
speaks it. :func:`prepare_update` gives the ``.ota`` file to send (checked, or signed from a
main app with the existing :func:`.transforms.yaota.sign_ota`); :func:`send_update` sends it.

What the server does (ota.c at 410f9d4), which decides what the client must do:

- it listens on UDP port 8266 and silently drops a datagram whose signature does not verify
  with its modulus, whose offset is not the next one it expects, or which would overflow its
  4 KiB buffer; so a wrong key looks exactly like a silent device;
- it answers an accepted data datagram with its seq, op, len and offset (``Ack``); a datagram
  repeating the previous offset is answered again without being written twice, so resending
  after a lost answer is safe;
- a datagram with len 0 ends the update: it writes its last buffer and reboots, answering
  nothing, so the client sends the end markers a few times and waits for no answer;
- it forgets a started update after ``PKT_WAIT_MS`` without a datagram and expects offset 0
  again: retrying longer than that cannot succeed.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from .errors import BoardError, InputError, UsageError, VerificationFailed
from .formats.compiled import yaota8266 as fmt
from .yaota8266_ota import OtaFile

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Callable

    from .yaota8266_ota import OtaDatagram

ACK_TIMEOUT = 0.3
"""Seconds to wait for each answer (ota_client.py's socket timeout)."""
RETRIES = 30
"""Resends of one datagram before giving up: with ACK_TIMEOUT just under PKT_WAIT_MS, after
which the device has forgotten the update anyway (ota_client.py retries forever)."""
END_GAP = 0.1
"""Seconds between the end markers (ota_client.py ``send_ota_end``)."""
ANSWER_MAX = 1024
"""Largest answer read; ota-server's are 20 bytes."""


@dataclass(frozen=True)
class SendResult:
    """What :func:`send_update` did.

    Attributes:
        host, port: where the update went.
        datagrams: data datagrams sent and acknowledged.
        payload_length: firmware bytes they carry.
        end_markers: end datagrams sent (never answered: the device reboots).
        retransmits: datagrams sent again after no answer came in time.
        stale_answers: answers that did not acknowledge the datagram waited for (a late
            answer to an earlier try, or not the device's protocol).
        seconds: wall time of the transfer.
    """

    host: str
    port: int
    datagrams: int
    payload_length: int
    end_markers: int
    retransmits: int
    stale_answers: int
    seconds: float

    def to_dict(self) -> dict[str, object]:
        """JSON form (JSON.md, "yaota send document")."""
        return {"host": self.host, "port": self.port, "datagrams": self.datagrams,
                "payload_length": self.payload_length, "end_markers": self.end_markers,
                "retransmits": self.retransmits, "stale_answers": self.stale_answers,
                "seconds": round(self.seconds, 3)}


def prepare_update(data: bytes, key_pem: bytes | None = None, *,
                   force: bool = False) -> tuple[OtaFile, bool]:
    """The ``.ota`` file to send, and whether it was signed here.

    A ``.ota`` file (its magic) is sent as it is, after the checks ``ota_client.py ota`` makes
    (the file SHA-1) and more: its datagrams, the app it carries and, with ``key_pem`` (private
    or public), every signature. Anything else is a main app, signed with ``key_pem``.

    Raises:
        UsageError: not a ``.ota`` file and no key to sign it with.
        VerificationFailed: the ``.ota`` file is damaged, its signatures do not verify with
            ``key_pem``, or (without ``force``) it carries no main app boot8266 boots.
        LayoutError: without ``force``, the file to sign is not a bootable main app.
        InputError: empty input or an unusable key.
    """
    from .transforms.yaota import sign_ota, verify_ota

    data = bytes(data)
    if not data:
        raise InputError("the file is empty")
    if not data.startswith(fmt.OTA_FILE_MAGIC):
        if key_pem is None:
            raise UsageError("not a .ota file (no yaota8266 magic): give --key priv.key to "
                             "sign it as a main app, or sign it first with esp-image yaota "
                             "sign")
        return OtaFile.from_bytes(sign_ota(data, key_pem, check_app=not force)), True
    result = verify_ota(data, key_pem=key_pem)
    failed = [c for c in result.checks
              if not c.valid and (c.name != "main-app" or not force)]
    if failed:
        where = (f" (first failing datagram: {result.failed_datagram})"
                 if result.failed_datagram is not None else "")
        first = failed[0]
        raise VerificationFailed(f"the .ota file does not verify{where}: {first.name} at "
                                 f"{first.offset:#x}: {first.detail}")
    return result.ota, False


def send_update(ota: OtaFile, host: str, port: int = fmt.UDP_PORT, *,
                timeout: float = ACK_TIMEOUT, retries: int = RETRIES,
                end_gap: float = END_GAP,
                progress: Callable[[int, int], None] | None = None) -> SendResult:
    """Send every datagram of ``ota`` to the ota-server at ``host``:``port``.

    Each data datagram is sent until the server acknowledges it (up to ``retries`` resends,
    ``timeout`` seconds apart); then the end markers, ``end_gap`` apart, unanswered.
    ``progress(bytes_acknowledged, total)`` is called after each acknowledgement.

    Raises:
        InputError: ``host`` does not resolve.
        BoardError: no answer after the retries (not in OTA mode, another address, or
            it rejects the signatures), nothing listening, or a network error; the message
            says how far the update got.
    """
    data = [d for d in ota.datagrams if not d.is_end]
    ends = [d for d in ota.datagrams if d.is_end]
    total = sum(d.length for d in data)
    start = time.monotonic()
    with _connect(host, port) as sock:
        link = _Link(sock, f"{host}:{port}", timeout, retries, len(data))
        for gram in data:
            link.deliver(_raw(ota, gram), gram)
            if progress is not None:
                progress(link.acked_bytes, total)
        for i, gram in enumerate(ends):
            if i:
                time.sleep(end_gap)
            try:
                link.send(_raw(ota, gram), gram)
            except BoardError:
                # The device reboots on the first end marker it gets, so the repeats may
                # find nobody; only the first must go out.
                if not i:
                    raise
    return SendResult(host, port, len(data), total, len(ends), link.retransmits,
                      link.stale, time.monotonic() - start)


def _raw(ota: OtaFile, gram: OtaDatagram) -> bytes:
    return bytes(ota.data[gram.file_offset:gram.file_offset + gram.size])


def _connect(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_DGRAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"cannot resolve {host!r}: {exc}") from None
    sock = socket.socket(family, kind, proto)
    try:
        # connect() makes the kernel drop datagrams from other peers and report ICMP
        # "port unreachable" as ConnectionRefusedError.
        sock.connect(address)
    except OSError as exc:
        sock.close()
        raise BoardError(f"cannot reach {host}:{port}: {exc.strerror or exc}") from None
    return sock


class _Link:
    """One socket to the server, with the counters of :class:`SendResult`."""

    def __init__(self, sock: socket.socket, peer: str, timeout: float, retries: int,
                 total: int) -> None:
        self.sock, self.peer = sock, peer
        self.timeout, self.retries, self.total = timeout, retries, total
        self.retransmits = self.stale = self.acked = self.acked_bytes = 0

    def send(self, raw: bytes, gram: OtaDatagram) -> None:
        try:
            self.sock.send(raw)
        except OSError as exc:
            raise self._failure(exc, gram) from None

    def deliver(self, raw: bytes, gram: OtaDatagram) -> None:
        """Send ``raw`` until its acknowledgement arrives."""
        for attempt in range(self.retries + 1):
            if attempt:
                self.retransmits += 1
            self.send(raw, gram)
            if self._acknowledged(gram):
                self.acked += 1
                self.acked_bytes += gram.length
                return
        raise self._silent(gram)

    def _acknowledged(self, gram: OtaDatagram) -> bool:
        """Whether the answer to ``gram`` arrives within the timeout; other answers (late ones
        to an earlier try of this or the previous datagram) are counted and skipped."""
        deadline = time.monotonic() + self.timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                answer = self.sock.recv(ANSWER_MAX)
            except TimeoutError:
                return False
            except OSError as exc:
                raise self._failure(exc, gram) from None
            if len(answer) >= fmt.Ack.SIZE:
                ack = fmt.Ack.parse(answer, 0, "ota-server answer")
                # ota_client.py accepts an answer by seq, len and offset; op is always 0.
                if (ack.seq, ack.len, ack.offset) == (gram.seq, gram.length, gram.offset):
                    return True
            self.stale += 1
        return False

    def _progress(self) -> str:
        if not self.acked:
            return "before the first datagram was acknowledged (nothing was written)"
        done = f"after {self.acked} of {self.total} datagrams were acknowledged"
        if self.acked_bytes < fmt.SERVER_BUFFER:
            # ota-server writes flash only from a full 4 KiB buffer (or on the end marker).
            return f"{done}: nothing was written yet, the old app still boots"
        return (f"{done}: the device's main app is partly overwritten, so boot8266 will stay "
                "in OTA mode until a complete update arrives; send it again")

    def _silent(self, gram: OtaDatagram) -> BoardError:
        tries = self.retries + 1
        why = ("check that the device is in OTA mode (yaota8266 waits for the first "
               "datagram only a limited time after boot) at this address, and that the update "
               "is signed with the key whose MODULUS its yaota8266 was built with: ota-server "
               "drops a datagram whose signature does not verify, without answering"
               if not self.acked else
               "the device went silent mid-transfer (out of range, reset, or powered off)")
        return BoardError(
            f"no answer from {self.peer} to datagram {gram.seq} (offset "
            f"{gram.offset:#x}) after {tries} tries {self.timeout:g} s apart, "
            f"{self._progress()}; {why}")

    def _failure(self, exc: OSError, gram: OtaDatagram) -> BoardError:
        if isinstance(exc, ConnectionRefusedError):
            what = (f"nothing listens at UDP {self.peer} (it answered \"port unreachable\": the "
                    "device is not in OTA mode, or it is another port)")
        else:
            what = f"network error talking to {self.peer}: {exc.strerror or exc}"
        return BoardError(f"{what}, at datagram {gram.seq}, "
                                 f"{self._progress()}")
