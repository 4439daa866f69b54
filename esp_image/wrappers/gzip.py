"""gzip around an image (``.bin.gz``): Arduino-ESP8266 updates that eboot inflates, and gzip'ed
ESP32 apps for web updaters.

Reads one gzip member (RFC 1952), inflates it with a hard size limit, and checks the member's
CRC-32 and ISIZE. eboot itself takes the inflated size from the last four bytes of the upload and
never checks the CRC (``eboot.c`` ``copy_raw``), so bytes after the member mislead it: they are a
failed ``structure`` check.
"""

from __future__ import annotations

import zlib

from ..checks import Check, compare
from ..errors import DecompressionLimit, FormatError, TruncatedError
from ..formats.compiled import gzip as fmt
from ..io import MAX_FILE_SIZE
from ..units import format_size
from . import Unwrapped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import Kind

KIND: Kind = "gzip"
STRUCTURE = "gzip member"

MAX_INFLATED = MAX_FILE_SIZE
"""Inflation stops here: no flash any ESP chip addresses is larger (128 MiB)."""
_CHUNK = 1 << 20


def looks_like(data: bytes | memoryview) -> bool:
    """The gzip magic, deflate, no reserved flags, and room for a header and trailer."""
    return (len(data) >= fmt.MemberHeader.SIZE + fmt.TRAILER_SIZE
            and bytes(data[:2]) == fmt.MAGIC and data[2] == fmt.CM_DEFLATE
            and not data[3] & fmt.FLAGS_RESERVED)


def _zero_terminated(view: memoryview, pos: int, what: str) -> tuple[str, int]:
    window = bytes(view[pos:pos + fmt.NAME_MAX + 1])
    end = window.find(b"\0")
    if end < 0:
        raise FormatError(f"{what} has no terminating NUL within {fmt.NAME_MAX} bytes", pos,
                          STRUCTURE)
    return window[:end].decode("latin-1"), pos + end + 1


def _header(view: memoryview) -> tuple[dict[str, object], int, list[Check]]:
    """The member header's facts, where the deflate stream starts, and the FHCRC check."""
    h = fmt.MemberHeader.parse(view, 0, STRUCTURE)
    if not looks_like(view):
        raise FormatError("not a gzip member (magic 1f 8b, method 8, no reserved flags)", 0,
                          STRUCTURE)
    facts: dict[str, object] = {"method": "deflate", "flags": h.flg, "mtime": h.mtime,
                                "xfl": h.xfl, "os": fmt.OS_NAMES.get(h.os, str(h.os))}
    pos = fmt.MemberHeader.SIZE
    if h.flg & fmt.FEXTRA:
        xlen = fmt.ExtraLength.parse(view, pos, STRUCTURE).xlen
        pos += 2 + xlen
    if h.flg & fmt.FNAME:
        facts["name"], pos = _zero_terminated(view, pos, "FNAME")
    if h.flg & fmt.FCOMMENT:
        facts["comment"], pos = _zero_terminated(view, pos, "FCOMMENT")
    checks = []
    if h.flg & fmt.FHCRC:
        if pos + 2 > len(view):
            raise TruncatedError("the header CRC is past the end of the data", pos, STRUCTURE)
        stored = int.from_bytes(view[pos:pos + 2], "little")
        checks.append(compare("gzip-header-crc", pos, stored,
                              zlib.crc32(view[:pos]) & 0xFFFF, 4))
        pos += 2
    if pos > len(view):
        raise TruncatedError("the header runs past the end of the data", 0, STRUCTURE)
    return facts, pos, checks


def inflate(view: memoryview, start: int, limit: int = MAX_INFLATED) -> tuple[bytes, int]:
    """Inflate the raw deflate stream at ``view[start:]``; return the bytes and where it ended.

    Raises:
        DecompressionLimit: more than ``limit`` bytes come out.
        TruncatedError: the stream ends before its last block.
        FormatError: the deflate data is corrupt.
    """
    d = zlib.decompressobj(-zlib.MAX_WBITS)
    out: list[bytes] = []
    produced = 0
    pos = start
    try:
        while not d.eof:
            if d.unconsumed_tail:
                chunk = d.unconsumed_tail
            elif pos < len(view):
                chunk = bytes(view[pos:pos + _CHUNK])
                pos += len(chunk)
            else:
                raise TruncatedError("the deflate stream ends before its final block",
                                     start, STRUCTURE)
            piece = d.decompress(chunk, limit + 1 - produced)
            produced += len(piece)
            if produced > limit:
                why = ("more than any ESP flash holds" if limit == MAX_INFLATED
                       else "the limit")
                raise DecompressionLimit(f"gzip: inflates past {format_size(limit)} ({why}); "
                                         "not inflated further")
            out.append(piece)
    except zlib.error as exc:
        raise FormatError(f"corrupt deflate data: {exc}", start, STRUCTURE) from None
    return b"".join(out), pos - len(d.unused_data)


def open(data: bytes | memoryview, key: bytes | None = None, *,
         limit: int = MAX_INFLATED) -> Unwrapped:
    """Inflate the gzip member at the start of ``data`` and check its CRC-32 and ISIZE.

    Args:
        data: the ``.bin.gz`` file.
        key: ignored (gzip takes no key).
        limit: most bytes inflated (default :data:`MAX_INFLATED`).

    Raises:
        FormatError: not a gzip member, or corrupt deflate data.
        TruncatedError: the member or its trailer is cut short.
        DecompressionLimit: it inflates past ``limit``.
    """
    del key
    view = memoryview(data)
    facts, start, checks = _header(view)
    inner, end = inflate(view, start, limit)
    trailer_at = end
    t = fmt.MemberTrailer.parse(view, trailer_at, "gzip trailer")
    crc = zlib.crc32(inner) & 0xFFFFFFFF
    size_mod = len(inner) & 0xFFFFFFFF
    checks.append(compare("gzip-crc32", trailer_at, t.crc32, crc, 8))
    checks.append(Check("gzip-isize", t.isize == size_mod, trailer_at + 4,
                        f"stored {t.isize}, inflated {len(inner)} bytes"))
    member_end = trailer_at + fmt.TRAILER_SIZE
    trailing = len(view) - member_end
    if trailing:
        checks.append(Check("structure", False, member_end,
                            f"{trailing} bytes follow the gzip member; eboot reads the inflated "
                            "size from the last 4 bytes of the upload, so it would inflate the "
                            "wrong length"))
    facts.update({"compressed_size": end - start, "member_size": member_end,
                  "inner_size": len(inner), "crc32": f"{t.crc32:#010x}", "isize": t.isize,
                  "crc_ok": t.crc32 == crc, "trailing": trailing})
    notes = ("eboot (Arduino-ESP8266) inflates a staged gzip upload itself; it does not check "
             "the CRC-32",)
    return Unwrapped(KIND, facts, inner, start, True, tuple(checks), notes)
