"""Intel HEX: text records ``:LLAAAATT<data>CC`` (I32HEX, as esptool merge-bin writes it).

Record types 00 (data), 01 (end of file), 02 (extended segment address: base = value * 16),
03/05 (start address, kept as a fact), 04 (extended linear address: base = value << 16). The
reader and the writer are small and here, not ``intelhex``'s: intelhex keeps one dict entry per
byte (a 4 MiB flash is 4 million entries, about 0.4 s to read MicroPython's 1.7 MB firmware
and gigabytes for a hostile 128 MiB file), while the records parse in a few tens of ms. The
writer's output is byte for byte what ``intelhex.IntelHex.write_hex_file`` writes for the same
segments (16 data bytes a record, a new record at every gap and 64 KiB boundary, an 04 record
when the upper address changes, only when some address is above 0xFFFF); the tests hold both
equal and read every output back with intelhex.
"""

from __future__ import annotations

import binascii

from ..checks import Check
from ..errors import InputError
from . import HEX_SNIFF as _SNIFF
from . import Decoded, Segment, check_layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..chips import Chip
    from ..wrappers import Kind, Unwrapped

KIND: Kind = "intel-hex"
RECORD_BYTES = 16


def _parsed(line: bytes) -> bytes | None:
    """The bytes of one record (``line`` stripped), None when it is not well formed: a colon,
    hex digits, as many data bytes as its length byte says."""
    if line[:1] != b":":
        return None
    try:
        rec = binascii.unhexlify(line[1:])
    except binascii.Error:
        return None
    return rec if len(rec) >= 5 and len(rec) == 5 + rec[0] else None


def looks_like(data: bytes | memoryview) -> bool:
    """ASCII text whose first non-blank character is ':' and whose first record is well
    formed (only the first KiB is looked at)."""
    head = bytes(data[:_SNIFF]).lstrip()
    if not head.startswith(b":"):
        return False
    first = head.split(b"\n", 1)[0].strip()
    whole = len(first) < len(head) or len(data) <= _SNIFF  # a record is at most 521 chars
    return whole and _parsed(first) is not None


class _Reader:
    """Collects data records into contiguous runs and the facts the others state."""

    def __init__(self) -> None:
        self.runs: list[tuple[int, bytearray]] = []
        self.base = 0
        self.records = 0
        self.start_address: str | None = None
        self.checks: list[Check] = []

    def data(self, address: int, payload: bytes) -> None:
        if self.runs and self.runs[-1][0] + len(self.runs[-1][1]) == address:
            self.runs[-1][1].extend(payload)
        elif payload:
            self.runs.append((address, bytearray(payload)))

    def record(self, rec: bytes, offset: int, number: int) -> bool:
        """Apply one record; True at the end-of-file record."""
        length, kind, value = rec[0], rec[3], rec[4:-1]
        address = rec[1] << 8 | rec[2]
        if sum(rec) & 0xFF:
            self.checks.append(Check("hex-checksum", False, offset,
                                     f"record {number}: checksum {rec[-1]:#04x} does not "
                                     "match its bytes"))
        if kind == 0:
            self.data(self.base + address, value)
        elif kind == 1:
            return True
        elif kind in (2, 4) and length == 2:
            self.base = int.from_bytes(value, "big") << (4 if kind == 2 else 16)
        elif kind in (3, 5) and length == 4:
            self.start_address = f"{int.from_bytes(value, 'big'):#010x}"
        else:
            raise InputError(f"Intel HEX record {number} (offset {offset}): record type "
                             f"{kind:#04x} with {length} data bytes is not a valid record")
        return False


def decode(data: bytes | memoryview) -> Decoded:
    """Read the records.

    A record whose checksum does not match, a missing end-of-file record and text after it are
    failed checks (the data is still read); a line that is not a record, an unknown record type
    and addresses that overlap or span more than the largest flash are refused (one line).

    Raises:
        InputError: the data cannot be had (see above).
    """
    text = bytes(data)
    reader = _Reader()
    offset, ended = 0, False
    for number, raw in enumerate(text.split(b"\n"), 1):
        line = raw.strip()
        if line and ended:
            reader.checks.append(Check("structure", False, offset,
                                       f"line {number}: text after the end-of-file record "
                                       "(not read)"))
            break
        if line:
            rec = _parsed(line)
            if rec is None:
                raise InputError(f"Intel HEX line {number} (offset {offset}): not a "
                                 f"well-formed record ({line[:24].decode('latin-1')!r})")
            reader.records += 1
            ended = reader.record(rec, offset, number)
        offset += len(raw) + 1
    if not ended:
        reader.checks.append(Check("structure", False, len(text),
                                   "no end-of-file record (:00000001FF): the file may be cut "
                                   "short"))
    segments = check_layout([(a, bytes(b)) for a, b in reader.runs], "Intel HEX")
    facts: dict[str, object] = {"records": reader.records}
    if reader.start_address is not None:
        facts["start_record"] = reader.start_address
    if not reader.checks:
        reader.checks.append(Check("hex-records", True, 0,
                                   f"{reader.records} records, every checksum matches"))
    return Decoded(KIND, tuple(segments), facts, tuple(reader.checks))


_HEX = [b"%02X" % i for i in range(256)]


def _record(address: int, kind: int, payload: bytes) -> bytes:
    rec = bytes((len(payload), address >> 8 & 0xFF, address & 0xFF, kind)) + payload
    return b":" + binascii.hexlify(rec).upper() + _HEX[-sum(rec) & 0xFF]


def encode(segments: Sequence[Segment], chip: Chip | None = None) -> bytes:
    """The HEX text of ``segments`` (sorted, not overlapping), as intelhex writes it."""
    del chip  # HEX names no chip
    lines: list[bytes] = []
    last = segments[-1][0] + len(segments[-1][1]) - 1 if segments else 0
    high: int | None = None
    for address, data in segments:
        digits = binascii.hexlify(data).upper()
        pos = 0
        while pos < len(data):
            at = address + pos
            if last > 0xFFFF and at >> 16 != high:
                high = at >> 16
                lines.append(_record(0, 4, high.to_bytes(2, "big")))
            n = min(RECORD_BYTES, 0x10000 - (at & 0xFFFF), len(data) - pos)
            lo = at & 0xFFFF
            # the record's bytes are already in hex; only its header and checksum are new
            lines.append(b":%s%s%s00%s%s" % (_HEX[n], _HEX[lo >> 8], _HEX[lo & 0xFF],
                                             digits[2 * pos:2 * (pos + n)],
                                             _HEX[-(n + (lo >> 8) + lo + sum(data[pos:pos + n]))
                                                  & 0xFF]))
            pos += n
    lines.append(b":00000001FF")
    return b"\n".join(lines) + b"\n"


def open(data: bytes | memoryview, key: bytes | None = None) -> Unwrapped:
    """The wrapper framework's view: the flash bytes described, from the lowest address."""
    from . import unwrapped

    del key
    return unwrapped(decode(data))
