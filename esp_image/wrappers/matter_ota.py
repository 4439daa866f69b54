"""Matter OTA image files (esp-matter ``*-ota.bin``): the header, its TLV, and the payload digest.

The TLV reader handles the element types Matter defines, with every length and the nesting
depth bounded by the 1024-byte header a device accepts (``OTAImageHeaderParser``).
"""

from __future__ import annotations

import hashlib

from ..checks import Check, compare_digest
from ..errors import FormatError, TruncatedError
from ..formats.compiled import matter_ota as fmt
from . import Unwrapped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import Kind

KIND: Kind = "matter-ota"
STRUCTURE = "Matter OTA header TLV"

TlvValue = int | bool | float | str | bytes | None | list["TlvElement"]
TlvElement = tuple["int | None", TlvValue]
"""(context tag or None for any other tag, value); containers hold a list of elements."""

_FIXED_WIDTH = {0: 1, 1: 2, 2: 4, 3: 8}


def looks_like(data: bytes | memoryview) -> bool:
    """The file identifier 0x1BEEF11E and a TLV header size a device accepts."""
    if len(data) < fmt.FIXED_HEADER_SIZE:
        return False
    magic = int.from_bytes(data[:4], "little")
    header_size = int.from_bytes(data[12:16], "little")
    return magic == fmt.MAGIC and 0 < header_size <= fmt.MAX_HEADER_SIZE


class _Reader:
    def __init__(self, data: bytes, base: int) -> None:
        self.data = data
        self.pos = 0
        self.base = base  # file offset of data[0], for messages

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise TruncatedError(f"a TLV element needs {n} bytes, {len(self.data) - self.pos} "
                                 "are left in the header", self.base + self.pos, STRUCTURE)
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "little")

    def element(self, depth: int) -> TlvElement | None:
        """One element (None at an end-of-container)."""
        at = self.base + self.pos
        control = self.uint(1)
        etype, tag_control = control & 0x1F, control & 0xE0
        if etype == fmt.TLV_END:
            return None
        tag_bytes = self.take(fmt.TAG_CONTROL_SIZES[tag_control])
        tag = tag_bytes[0] if tag_control == fmt.TAG_CONTEXT else None
        return tag, self._value(etype, depth, at)

    def _value(self, etype: int, depth: int, at: int) -> TlvValue:
        if etype <= 0x07:
            width = _FIXED_WIDTH[etype & 3]
            return int.from_bytes(self.take(width), "little", signed=etype < fmt.TLV_UNSIGNED_INT)
        if etype in (fmt.TLV_FALSE, fmt.TLV_TRUE):
            return etype == fmt.TLV_TRUE
        if etype in (fmt.TLV_FLOAT, fmt.TLV_DOUBLE):
            import struct

            code = "<f" if etype == fmt.TLV_FLOAT else "<d"
            return float(struct.unpack(code, self.take(struct.calcsize(code)))[0])
        if fmt.TLV_UTF8 <= etype <= 0x13:
            raw = self.take(self.uint(_FIXED_WIDTH[etype & 3]))
            if etype < fmt.TLV_BYTES:
                try:
                    return raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise FormatError("a UTF-8 string that is not UTF-8", at, STRUCTURE) from None
            return raw
        if etype == fmt.TLV_NULL:
            return None
        if etype in (fmt.TLV_STRUCTURE, fmt.TLV_ARRAY, fmt.TLV_LIST):
            if depth >= fmt.MAX_TLV_DEPTH:
                raise FormatError(f"containers nested deeper than {fmt.MAX_TLV_DEPTH}", at,
                                  STRUCTURE)
            items: list[TlvElement] = []
            while (item := self.element(depth + 1)) is not None:
                items.append(item)
            return items
        raise FormatError(f"unknown TLV element type {etype:#04x}", at, STRUCTURE)


def parse_tlv_header(data: bytes, base: int = 0) -> list[TlvElement]:
    """The elements of the anonymous structure that a Matter OTA TLV header is.

    Args:
        data: the TLV header bytes (at most :data:`MAX_HEADER_SIZE` are meaningful).
        base: file offset of ``data[0]`` (for error messages).

    Raises:
        FormatError: not one anonymous structure, an unknown element type, bad UTF-8.
        TruncatedError: an element runs past the end.
    """
    reader = _Reader(data, base)
    first = reader.element(0)
    if first is None or first[0] is not None or not isinstance(first[1], list) \
            or data[0] & 0x1F != fmt.TLV_STRUCTURE:
        raise FormatError("the header is not an anonymous TLV structure", base, STRUCTURE)
    if reader.pos != len(data):
        raise FormatError(f"{len(data) - reader.pos} bytes follow the header structure",
                          base + reader.pos, STRUCTURE)
    return first[1]


def _fields(elements: list[TlvElement], base: int) -> dict[int, TlvValue]:
    fields: dict[int, TlvValue] = {}
    for tag, value in elements:
        if tag is None or tag in fields:
            raise FormatError("header fields must carry distinct context tags", base, STRUCTURE)
        fields[tag] = value
    missing = [t for t in fmt.REQUIRED_TAGS if t not in fields]
    if missing:
        raise FormatError(f"required header tags missing: {missing}", base, STRUCTURE)
    for tag in (0, 1, 2, 4, 5, 6, 8):
        if tag in fields and (not isinstance(fields[tag], int) or isinstance(fields[tag], bool)
                              or int(fields[tag] or 0) < 0):  # type: ignore[arg-type]
            raise FormatError(f"tag {tag} must be an unsigned integer", base, STRUCTURE)
    for tag in (3, 7):
        if tag in fields and not isinstance(fields[tag], str):
            raise FormatError(f"tag {tag} must be a UTF-8 string", base, STRUCTURE)
    if not isinstance(fields[9], bytes):
        raise FormatError("tag 9 (image digest) must be an octet string", base, STRUCTURE)
    return fields


def _header_checks(fields: dict[int, TlvValue], order: list[int | None], base: int
                   ) -> list[Check]:
    problems = []
    expected = [t for t in range(10) if t in fields]
    if order != expected:
        problems.append(f"tags in order {order}; OTAImageHeaderParser reads them as {expected}")
    if len(str(fields[3])) > fmt.MAX_VERSION_STRING:
        problems.append(f"version string longer than {fmt.MAX_VERSION_STRING} bytes")
    if len(str(fields.get(7, ""))) > fmt.MAX_RELEASE_NOTES_URL:
        problems.append(f"release notes URL longer than {fmt.MAX_RELEASE_NOTES_URL} bytes")
    detail = "; ".join(problems) or "TLV header as OTAImageHeaderParser reads it"
    return [Check("structure", not problems, base, detail)]


def open(data: bytes | memoryview, key: bytes | None = None) -> Unwrapped:
    """Parse the Matter OTA header, check the sizes and the payload digest.

    Raises:
        FormatError: not a Matter OTA file, or its TLV header cannot be read.
        TruncatedError: the file ends inside the header.
    """
    del key
    view = memoryview(data)
    if not looks_like(view):
        raise FormatError("no Matter OTA file identifier 0x1BEEF11E with a TLV header of at "
                          f"most {fmt.MAX_HEADER_SIZE} bytes", 0, "Matter OTA header")
    fixed = fmt.FixedHeader.parse(view, 0)
    start = fmt.FIXED_HEADER_SIZE + fixed.header_size
    if start > len(view):
        raise TruncatedError(f"the TLV header ends at {start:#x}, past the end of the file",
                             fmt.FIXED_HEADER_SIZE, STRUCTURE)
    elements = parse_tlv_header(bytes(view[fmt.FIXED_HEADER_SIZE:start]), fmt.FIXED_HEADER_SIZE)
    fields = _fields(elements, fmt.FIXED_HEADER_SIZE)
    checks = _header_checks(fields, [t for t, _ in elements], fmt.FIXED_HEADER_SIZE)
    payload_size = int(fields[4])  # type: ignore[arg-type]
    available = len(view) - start
    checks.append(Check("size", fixed.total_size == len(view), 4,
                        f"total size {fixed.total_size}, file {len(view)} bytes"))
    checks.append(Check("size", payload_size == available, start,
                        f"payload size {payload_size}, {available} bytes after the header"))
    payload = bytes(view[start:start + payload_size])
    digest_type = int(fields[8])  # type: ignore[arg-type]
    stored = bytes(fields[9])  # type: ignore[arg-type]
    algo = fmt.DIGESTS.get(digest_type)
    if algo is None:
        checks.append(Check("digest", False, start, f"unknown digest type {digest_type}"))
    else:
        computed = hashlib.new(algo[1], payload).digest()[:algo[2]]
        checks.append(compare_digest(algo[0].replace("_", "-"), start, stored, computed))
    facts: dict[str, object] = {
        "total_size": fixed.total_size, "header_size": fixed.header_size,
        "vendor_id": fields[0], "product_id": fields[1], "software_version": fields[2],
        "software_version_string": fields[3], "payload_size": payload_size,
        "min_applicable_version": fields.get(5), "max_applicable_version": fields.get(6),
        "release_notes_url": fields.get(7),
        "digest_type": algo[0] if algo else digest_type, "digest": stored.hex()}
    notes = (f"payload (the image) at {start:#x}; an OTA requestor strips the header and "
             "writes the payload to the next OTA slot",)
    return Unwrapped(KIND, facts, payload, start, False, tuple(checks), notes)
