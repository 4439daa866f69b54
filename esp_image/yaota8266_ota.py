"""The yaota8266 ``.ota`` update file (§4.5 of shared/docs/formats/yaota8266.md), as
``ota_client.py`` writes it: :class:`OtaFile` (magic, length-prefixed datagrams, a zero
terminator and a SHA-1) and its :class:`OtaDatagram` records. Signatures are located, not
verified. The main app the datagrams carry is checked with :class:`.yaota8266.MainApp`;
:mod:`esp_image.yaota8266` re-exports both classes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .checks import Check, compare_digest
from .errors import FormatError, TruncatedError
from .formats.compiled import yaota8266 as fmt

if TYPE_CHECKING:
    from .yaota8266 import MainApp


@dataclass(frozen=True)
class OtaDatagram:
    """One stored datagram (``ota_client.py make_pkt``).

    Attributes:
        file_offset: where the datagram starts in the ``.ota`` file (after its u16 length).
        size: its length ``n``.
        seq, op, length, offset: header fields (``length`` is the data length ``len``).
        has_signature: whether 64 bytes follow the padded body.
        problems: structural problems of this datagram.
    """

    file_offset: int
    size: int
    seq: int
    op: int
    length: int
    offset: int
    has_signature: bool
    problems: tuple[str, ...] = ()

    @property
    def is_end(self) -> bool:
        """Whether this is an end marker (``len = 0, offset = 0``)."""
        return self.length == 0 and self.offset == 0

    @property
    def data_offset(self) -> int:
        """File offset of the data bytes."""
        return self.file_offset + fmt.DatagramHeader.SIZE


@dataclass(frozen=True)
class OtaFile:
    """A ``.ota`` file: magic, length-prefixed datagrams, a zero terminator and a SHA-1.

    Attributes:
        datagrams: the records, in file order.
        terminated: whether the u16 0 terminator was found.
        stored_sha1: the 20 bytes after the terminator (None when missing).
        end: file offset just past the SHA-1 (or the end of the parsed records).
        problems: file-level structural problems.
    """

    datagrams: tuple[OtaDatagram, ...]
    terminated: bool
    stored_sha1: bytes | None
    end: int
    problems: tuple[str, ...]
    data: memoryview = field(repr=False, compare=False, default=memoryview(b""))

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> OtaFile:
        """Parse a ``.ota`` file leniently.

        Raises:
            FormatError: the 10-byte magic is not ``b"yaota8266\\x01"`` (ota_client.py:
                "Invalid OTA file signature").
        """
        view = memoryview(data)
        magic = bytes(view[:len(fmt.OTA_FILE_MAGIC)])
        if magic != fmt.OTA_FILE_MAGIC:
            if fmt.OTA_FILE_MAGIC.startswith(magic) and magic:
                raise TruncatedError("file ends inside the magic", 0, ".ota file")
            raise FormatError(f"Invalid OTA file signature: expected "
                              f"{fmt.OTA_FILE_MAGIC!r}, found {magic!r}", 0, ".ota file")
        pos = len(fmt.OTA_FILE_MAGIC)
        size = len(view)
        grams: list[OtaDatagram] = []
        problems: list[str] = []
        terminated = False
        while True:
            if pos + 2 > size:
                problems.append(f"truncated: no record length at {pos:#x} (no terminator)")
                break
            n = fmt.RecordLength.parse(view, pos, "record length").n
            if n == 0:
                terminated = True
                pos += 2
                break
            if pos + 2 + n > size:
                problems.append(f"truncated: record at {pos:#x} declares {n} bytes but only "
                                f"{size - pos - 2} remain")
                break
            grams.append(_datagram(view, pos + 2, n))
            pos += 2 + n
        sha1: bytes | None = None
        if terminated:
            if pos + fmt.SHA1_SIZE <= size:
                sha1 = bytes(view[pos:pos + fmt.SHA1_SIZE])
                pos += fmt.SHA1_SIZE
            else:
                problems.append(f"truncated: SHA-1 at {pos:#x} is past the end ({size:#x})")
                pos = size
        if pos < size:
            problems.append(f"{size - pos:#x} bytes after the SHA-1")
        return cls(tuple(grams), terminated, sha1, pos, tuple(problems), view)

    # ------------------------------------------------------------------ derived facts
    @property
    def _records_end(self) -> int:
        if not self.datagrams:
            return len(fmt.OTA_FILE_MAGIC)
        last = self.datagrams[-1]
        return last.file_offset + last.size

    @property
    def computed_sha1(self) -> bytes:
        """SHA-1 over the magic and every ``(u16 n, datagram)`` record (not the terminator)."""
        return hashlib.sha1(self.data[:self._records_end]).digest()

    @property
    def data_datagrams(self) -> tuple[OtaDatagram, ...]:
        """Datagrams carrying data (not end markers)."""
        return tuple(d for d in self.datagrams if not d.is_end)

    @property
    def payload(self) -> bytes:
        """The main-app bytes the datagrams carry, in file order (offsets are checked by
        :meth:`checks`)."""
        return b"".join(bytes(self.data[d.data_offset:d.data_offset + d.length])
                        for d in self.data_datagrams)

    def layout_problems(self) -> list[str]:
        """Sequence, offset and end-marker problems (§4.2, §4.4, §4.5)."""
        out: list[str] = []
        expected = 0
        for i, d in enumerate(self.datagrams):
            if d.seq != i + 1:
                out.append(f"datagram {i} has seq {d.seq}, expected {i + 1}")
                break
        data = list(self.data_datagrams)
        for d in data:
            if d.offset != expected:
                out.append(f"datagram seq {d.seq} writes offset {d.offset:#x}, expected "
                           f"{expected:#x} (the server drops it: \"Unexpected offset\")")
                break
            expected += d.length
        if not data:
            out.append("no data datagrams: the update carries no firmware, only end markers")
        ends = [i for i, d in enumerate(self.datagrams) if d.is_end]
        if not ends:
            out.append("no end marker (len 0, offset 0): the server never writes the last "
                       "sector nor reboots")
        elif ends[0] != len(self.datagrams) - len(ends):
            out.append("data datagrams follow an end marker")
        elif len(ends) != 3:
            out.append(f"{len(ends)} end markers (ota_client.py writes 3)")
        unsigned = [d.seq for d in self.datagrams if not d.has_signature]
        if unsigned:
            out.append(f"{len(unsigned)} datagrams carry no signature (the server rejects them)")
        return out

    def checks(self, base: int = 0) -> list[Check]:
        """``structure`` (records, datagram layout, offsets, end markers) and ``sha1``."""
        problems = list(self.problems)
        for i, d in enumerate(self.datagrams):
            problems += [f"datagram {i}: {p}" for p in d.problems]
        problems += self.layout_problems()
        if problems:
            out = [Check("structure", False, base, "; ".join(problems))]
        else:
            out = [Check("structure", True, base,
                         f".ota file: {len(self.data_datagrams)} data datagrams "
                         f"({len(self.payload):#x} bytes), "
                         f"{len(self.datagrams) - len(self.data_datagrams)} end markers, all "
                         "signed (signatures not verified)")]
        if self.stored_sha1 is not None:
            out.append(compare_digest("sha1", base + self.end - fmt.SHA1_SIZE, self.stored_sha1,
                                      self.computed_sha1))
        else:
            out.append(Check("sha1", False, base + self.end, "no SHA-1 stored (truncated)"))
        return out

    def payload_checks(self) -> list[Check]:
        """The main app the update writes, checked as boot8266 checks it after the update:
        :meth:`MainApp.checks` (``structure``, ``checksum``, ``yaota-md5``) with each offset
        moved to the ``.ota`` byte that carries it.

        Empty when the datagrams do not form one contiguous payload (the ``structure`` check of
        :meth:`checks` fails then). A payload that is not a main app is a failed ``structure``
        check: ota-server writes it over the main app, and boot8266 then stays in OTA mode.
        """
        data = self.data_datagrams
        if not data or self.layout_problems() or any(d.problems for d in self.datagrams):
            return []

        def file_offset(at: int) -> int:
            for d in data:
                if at < d.offset + d.length:
                    return d.data_offset + max(0, at - d.offset)
            return data[-1].data_offset + data[-1].length

        from .yaota8266 import MainApp  # it imports this module to re-export OtaFile

        try:
            app = MainApp.from_bytes(self.payload)
        except FormatError as exc:
            return [Check("structure", False, data[0].data_offset,
                          f"payload: {exc.reason}")]
        return [Check(c.name, c.valid, file_offset(c.offset), f"payload: {c.detail}")
                for c in app.checks()]

    def to_bytes(self) -> bytes:
        """Rebuild the file (SHA-1 recomputed; bytes after it kept).

        Raises:
            FormatError: the file was truncated (no terminator).
        """
        if not self.terminated:
            raise FormatError("cannot rebuild a truncated .ota file", 0, ".ota file")
        records = bytes(self.data[:self._records_end])
        tail = bytes(self.data[self.end:]) if self.stored_sha1 is not None else b""
        return records + b"\0\0" + hashlib.sha1(records).digest() + tail

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        signed = sum(1 for d in self.datagrams if d.has_signature)
        return {
            "format": "yaota8266-ota",
            "datagrams": len(self.datagrams),
            "data_datagrams": len(self.data_datagrams),
            "end_markers": len(self.datagrams) - len(self.data_datagrams),
            "payload_length": len(self.payload),
            "signatures": {"present": signed, "missing": len(self.datagrams) - signed,
                           "verified": False},
            "sha1": {"stored": self.stored_sha1.hex() if self.stored_sha1 else None,
                     "computed": self.computed_sha1.hex()},
        }

    def main_app(self) -> MainApp:
        """The main app the update writes (payload parsed as :class:`MainApp`).

        Raises:
            FormatError: the payload is not a main app.
        """
        from .yaota8266 import MainApp

        return MainApp.from_bytes(self.payload)


def _datagram(view: memoryview, at: int, n: int) -> OtaDatagram:
    """Parse the datagram of ``n`` bytes at file offset ``at``."""
    if n < fmt.DatagramHeader.SIZE:
        return OtaDatagram(at, n, 0, 0, 0, 0, False,
                           (f"{n} bytes, shorter than the 12-byte header",))
    h = fmt.DatagramHeader.parse(view, at, "datagram header")
    body = fmt.body_size(h.len)
    unsigned = 4 + body
    problems: list[str] = []
    if n == unsigned + fmt.SIGNATURE_SIZE:
        signed = True
    elif n == unsigned:
        signed = False
    else:
        signed = False
        problems.append(f"{n} bytes, expected {unsigned + fmt.SIGNATURE_SIZE} for {h.len} data "
                        "bytes (4 + padded body + 64-byte signature)")
    if h.offset % fmt.SERVER_BUFFER + h.len > fmt.SERVER_BUFFER:
        problems.append(f"{h.len} data bytes at offset {h.offset:#x} cross a 4 KiB boundary "
                        "(the server: \"Buffer overflow - wrong chunk size\")")
    if not problems:
        pad_from = at + fmt.DatagramHeader.SIZE + h.len
        if bytes(view[pad_from:at + unsigned]).strip(b"\0"):
            problems.append("body padding is not zero")
    return OtaDatagram(at, n, h.seq, h.op, h.len, h.offset, signed, tuple(problems))
