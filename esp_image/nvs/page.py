"""Reading NVS pages: header, entry state bitmap and the items in them, with their checks.

The loader follows ``Page::load`` and ``Page::mLoadEntryTable`` (ESP-IDF ``nvs_page.cpp``):
a page whose header CRC is wrong is corrupt and none of its entries is read; a written item
whose header CRC is wrong, whose span runs off the page or whose data CRC is wrong is skipped
(nvs_flash erases it at mount). Each such finding becomes a failed :class:`Check` naming the
offset; nothing from it is returned as data.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..checks import Check, compare
from ..formats.compiled import nvs as fmt

_STATES_OF_BYTE: tuple[tuple[int, int, int, int], ...] = tuple(
    (b & 3, (b >> 2) & 3, (b >> 4) & 3, (b >> 6) & 3) for b in range(256))
_ERASED_ENTRY = b"\xff" * fmt.ENTRY_SIZE
_ERASED_PAGE = b"\xff" * fmt.PAGE_SIZE


def entry_states(bitmap: bytes | bytearray) -> list[int]:
    """The 126 two-bit entry states of a page's bitmap (entry ``i`` at bits ``2i..2i+1``)."""
    out: list[int] = []
    for b in bitmap:
        out.extend(_STATES_OF_BYTE[b])
    return out[:fmt.ENTRY_COUNT]


class NvsPage:
    """One page as loaded: its header fields, entry states and usage counters.

    Attributes:
        index: page number in the partition; ``offset`` is ``index * 4096``.
        header: the page header as read (``state`` and ``seq`` below follow edits).
        state: the raw page state word (see ``PAGE_STATE_NAMES``).
        seq, version, crc_ok: header fields and whether the header CRC matched.
        states: the 126 entry states.
        next_free: the first empty entry (where nvs_flash writes next).
        erased: whether the whole sector is 0xFF.
    """

    __slots__ = ("crc_ok", "erased", "header", "index", "next_free", "offset", "seq", "state",
                 "states", "version")

    def __init__(self, buf: bytes | bytearray, index: int) -> None:
        self.index = index
        self.offset = index * fmt.PAGE_SIZE
        raw = buf[self.offset:self.offset + fmt.PAGE_SIZE]
        self.erased = raw == _ERASED_PAGE
        rec = fmt.Page.parse(memoryview(raw))
        self.header = rec.header
        self.state: int = rec.header.state
        self.seq: int = rec.header.seq
        self.version: int = rec.header.version
        self.crc_ok = rec.header.crc32 == fmt.header_crc(raw)
        self.states = entry_states(rec.entry_states)
        self.next_free = next((i for i, s in enumerate(self.states) if s == fmt.ENTRY_EMPTY),
                              fmt.ENTRY_COUNT)

    @property
    def state_name(self) -> str:
        """``empty``, ``active``, ``full``, ``freeing``, ``corrupt``, ``invalid`` or the hex."""
        return fmt.PAGE_STATE_NAMES.get(self.state, f"{self.state:#010x}")

    @property
    def in_use(self) -> bool:
        """Whether nvs_flash reads this page (a used state with a good header)."""
        return self.state in fmt.USED_PAGE_STATES and self.crc_ok and self.version in (
            fmt.VERSION_1, fmt.VERSION_2)

    def count(self, state: int) -> int:
        """How many entries are in ``state``."""
        return self.states.count(state)

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        out: dict[str, object] = {"index": self.index, "offset": self.offset,
                                  "state": self.state_name}
        if self.state in fmt.USED_PAGE_STATES:
            out.update({"seq": self.seq, "version": 2 if self.version == fmt.VERSION_2 else 1,
                        "crc_ok": self.crc_ok, "written": self.count(fmt.ENTRY_WRITTEN),
                        "erased": self.count(fmt.ENTRY_ERASED),
                        "empty": self.count(fmt.ENTRY_EMPTY)})
        return out


@dataclass(frozen=True)
class RawItem:
    """One whole written item (header entry and, for strings and blobs, its data entries).

    ``payload`` is the data of variable-length items (exactly ``data_size`` bytes), else None.
    """

    page: NvsPage
    index: int
    offset: int
    ns: int
    datatype: int
    span: int
    chunk: int
    key: str
    data: bytes
    payload: bytes | None

    def value(self) -> int | bytes:
        """An integer item's value, or the payload (strings with their NUL)."""
        if self.payload is not None:
            return self.payload
        name_fmt = fmt.PRIMITIVE_TYPES[self.datatype][1]
        return int(struct.unpack_from(name_fmt, self.data)[0])


def decode_key(raw: bytes) -> str:
    """A key or namespace name from its 16-byte NUL-padded field."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def page_checks(buf: bytes | bytearray, page: NvsPage) -> list[Check]:
    """The header findings of one page: CRC, version, a state nvs_flash cannot use."""
    off = page.offset
    if page.state == fmt.PAGE_EMPTY:
        if page.erased:
            return []
        return [Check("structure", False, off,
                      f"page {page.index} is marked empty but holds data")]
    if page.state not in fmt.USED_PAGE_STATES:
        return [Check("structure", False, off,
                      f"page {page.index} is in state {page.state_name}")]
    checks = [compare("nvs-page-crc", off, page.header.crc32,
                      fmt.header_crc(buf[off:off + fmt.HEADER_SIZE]), 8)]
    if page.version not in (fmt.VERSION_1, fmt.VERSION_2):
        checks.append(Check("structure", False, off + 8,
                            f"page {page.index} has format version byte {page.version:#04x}, "
                            "newer than ESP-IDF's version 2"))
    return checks


def load_items(buf: bytes | bytearray, page: NvsPage) -> tuple[list[RawItem], list[Check]]:
    """Every trustworthy written item of a page in use, and one check per item read."""
    items: list[RawItem] = []
    checks: list[Check] = []
    states = page.states
    base = page.offset + fmt.FIRST_ENTRY_OFFSET
    i = 0
    while i < fmt.ENTRY_COUNT:
        if states[i] != fmt.ENTRY_WRITTEN:
            i += 1
            continue
        off = base + i * fmt.ENTRY_SIZE
        entry = bytes(buf[off:off + fmt.ENTRY_SIZE])
        rec = fmt.Item.parse(entry, 0, f"NVS entry at {off:#x}")
        crc = compare("nvs-entry-crc", off, rec.crc32, fmt.item_crc(entry), 8)
        checks.append(crc)
        if not crc.valid:
            i += 1
            continue
        item, problem = _item(buf, page, i, rec)
        if problem is not None:
            checks.append(problem)
            i += 1
            continue
        assert item is not None
        if item.payload is not None:
            size_crc = fmt.VarLengthData.parse(item.data)
            checks.append(compare("nvs-data-crc", off, size_crc.data_crc32,
                                  fmt.nvs_crc(item.payload), 8))
            if not checks[-1].valid:
                i += item.span
                continue
        items.append(item)
        i += item.span
    return items, checks


def _item(buf: bytes | bytearray, page: NvsPage, i: int, rec: fmt.Item
          ) -> tuple[RawItem | None, Check | None]:
    off = page.offset + fmt.FIRST_ENTRY_OFFSET + i * fmt.ENTRY_SIZE
    datatype, span = rec.datatype, rec.span
    key = decode_key(rec.key)
    where = f"entry {i} of page {page.index} ({key!r})"
    if datatype not in fmt.TYPE_NAMES:
        return None, Check("structure", False, off, f"{where} has unknown type {datatype:#04x}")
    payload: bytes | None = None
    if datatype in fmt.VARIABLE_TYPES:
        size = fmt.VarLengthData.parse(rec.data).data_size
        need = 1 + (size + fmt.ENTRY_SIZE - 1) // fmt.ENTRY_SIZE
        if span != need or i + span > fmt.ENTRY_COUNT:
            return None, Check("structure", False, off,
                               f"{where}: span {span} does not fit {size} data bytes "
                               f"in the page")
        if any(s != fmt.ENTRY_WRITTEN for s in page.states[i + 1:i + span]):
            return None, Check("structure", False, off,
                               f"{where}: a data entry is not marked written")
        start = off + fmt.ENTRY_SIZE
        payload = bytes(buf[start:start + size])
    elif span != 1:
        return None, Check("structure", False, off, f"{where}: span {span}, expected 1")
    return RawItem(page, i, off, rec.ns_index, datatype, span, rec.chunk_index, key, rec.data,
                   payload), None
