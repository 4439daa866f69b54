"""Writing NVS the way ESP-IDF's ``nvs_flash`` does, on a plain-text partition buffer.

The rules are those of ``Page::writeItem`` / ``Page::eraseItem`` / ``Page::copyItems``
(``nvs_page.cpp``), ``PageManager::requestNewPage`` / ``activatePage``
(``nvs_pagemanager.cpp``) and ``Storage::writeMultiPageBlob`` (``nvs_storage.cpp``):

- items go into the current (last by sequence number) page, entries in order;
- a page that cannot take an item is marked full and the next free page (lowest index) is
  activated with the next sequence number;
- when only one free page is left, the used page with the most unused entries is first
  copied onto it and erased ("garbage collection"): one page always stays free;
- a blob is cut into chunks that fill each page's tailroom, then its index is written.
"""

from __future__ import annotations

from ..errors import NvsFull
from ..formats.compiled import nvs as fmt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .page import NvsPage

_BLANK = b"\xff" * fmt.PAGE_SIZE
_RESERVED = b"\xff" * 19
"""``Page::Header::mReserved`` as nvs_flash leaves it: erased flash."""


class Store:
    """The page manager of one write operation over ``buf`` (mutated in place).

    Args:
        buf: the whole partition, entries in plain text.
        pages: the pages as loaded from ``buf``.
    """

    def __init__(self, buf: bytearray, pages: list[NvsPage]) -> None:
        self.buf = buf
        self.pages = pages
        self.used = sorted((p for p in pages if p.in_use), key=lambda p: p.seq)
        self.free = [p for p in pages if not p.in_use]
        self.next_seq = self.used[-1].seq + 1 if self.used else 0
        self.dirty: set[int] = set()
        self.written_entries = 0

    # --- pages -------------------------------------------------------------------------------

    def current(self) -> NvsPage:
        """The page being written (activating the first free one on a new partition)."""
        if not self.used:
            self._activate()
        return self.used[-1]

    def _activate(self) -> None:
        if not self.free:
            raise NvsFull("NVS has no free page left")
        page = self.free.pop(0)
        if not page.erased:
            self._erase_page(page)
        page.seq = self.next_seq
        self.next_seq += 1
        self.used.append(page)

    def _erase_page(self, page: NvsPage) -> None:
        self.buf[page.offset:page.offset + fmt.PAGE_SIZE] = _BLANK
        page.state, page.erased, page.next_free = fmt.PAGE_EMPTY, True, 0
        page.states = [fmt.ENTRY_EMPTY] * fmt.ENTRY_COUNT
        self.dirty.add(page.index)

    def initialize(self, page: NvsPage) -> None:
        header = fmt.PageHeader(fmt.PAGE_ACTIVE, page.seq, fmt.VERSION_2, _RESERVED, 0)
        head = header.replace(crc32=fmt.header_crc(header.build())).build()
        self.buf[page.offset:page.offset + fmt.HEADER_SIZE] = head
        page.state, page.version, page.crc_ok, page.erased = (
            fmt.PAGE_ACTIVE, fmt.VERSION_2, True, False)
        self.dirty.add(page.index)

    def set_page_state(self, page: NvsPage, state: int) -> None:
        """Rewrite the state word (outside the header CRC, as on flash)."""
        self.buf[page.offset:page.offset + 4] = state.to_bytes(4, "little")
        page.state = state
        self.dirty.add(page.index)

    def mark_full(self, page: NvsPage) -> None:
        """``Page::markFull`` (an uninitialised page stays blank)."""
        if page.state == fmt.PAGE_ACTIVE:
            self.set_page_state(page, fmt.PAGE_FULL)

    def request_new_page(self) -> None:
        """``PageManager::requestNewPage``: activate a free page, collecting garbage first
        when it is the last one."""
        if not self.free:
            raise NvsFull("NVS has no free page left")
        if len(self.free) >= 2:
            self._activate()
            return
        victim, most = None, 0
        for page in self.used:
            unused = fmt.ENTRY_COUNT - page.states.count(fmt.ENTRY_WRITTEN)
            if unused > most:
                victim, most = page, unused
        if victim is None:
            raise NvsFull("NVS is full: every entry of every page holds live data")
        self.set_page_state(victim, fmt.PAGE_FREEING)
        self._activate()
        self._copy_items(victim, self.used[-1])
        self.used.remove(victim)
        self._erase_page(victim)
        self.free.append(victim)

    def _copy_items(self, src: NvsPage, dst: NvsPage) -> None:
        i = 0
        while i < fmt.ENTRY_COUNT:
            if src.states[i] != fmt.ENTRY_WRITTEN:
                i += 1
                continue
            off = src.offset + fmt.FIRST_ENTRY_OFFSET + i * fmt.ENTRY_SIZE
            span = max(1, min(fmt.Item.parse(memoryview(self.buf), off).span, fmt.ENTRY_COUNT - i))
            self._put_entries(dst, bytes(self.buf[off:off + span * fmt.ENTRY_SIZE]))
            i += span

    # --- entries -----------------------------------------------------------------------------

    def _put_entries(self, page: NvsPage, data: bytes) -> None:
        if page.state == fmt.PAGE_EMPTY:
            self.initialize(page)
        count = len(data) // fmt.ENTRY_SIZE
        start = page.offset + fmt.FIRST_ENTRY_OFFSET + page.next_free * fmt.ENTRY_SIZE
        self.buf[start:start + len(data)] = data
        for i in range(page.next_free, page.next_free + count):
            self.set_entry_state(page, i, fmt.ENTRY_WRITTEN)
        page.next_free += count
        self.written_entries += count

    def set_entry_state(self, page: NvsPage, index: int, state: int) -> None:
        """Set one entry's two bitmap bits."""
        pos = page.offset + fmt.BITMAP_OFFSET + index // 4
        shift = (index % 4) * 2
        self.buf[pos] = (self.buf[pos] & ~(3 << shift) & 0xFF) | (state << shift)
        page.states[index] = state
        self.dirty.add(page.index)

    def erase_span(self, page: NvsPage, index: int, span: int) -> None:
        """``Page::eraseEntryAndSpan``: mark an item's entries erased."""
        for i in range(index, min(index + span, fmt.ENTRY_COUNT)):
            self.set_entry_state(page, i, fmt.ENTRY_ERASED)

    def try_write(self, page: NvsPage, ns: int, datatype: int, key: bytes, data: bytes, *,
                  chunk: int = fmt.CHUNK_ANY) -> bool:
        """``Page::writeItem``: False when the page cannot take the item."""
        if page.state == fmt.PAGE_FULL:
            return False
        variable = datatype in fmt.VARIABLE_TYPES
        count = 1 + (len(data) + fmt.ENTRY_SIZE - 1) // fmt.ENTRY_SIZE if variable else 1
        if page.next_free + count > fmt.ENTRY_COUNT:
            return False
        if variable:
            field = fmt.VarLengthData(len(data), 0xFFFF, fmt.nvs_crc(data)).build()
            body = data.ljust((count - 1) * fmt.ENTRY_SIZE, b"\xff")
        else:
            field, body = data, b""
        item = fmt.Item(ns, datatype, count, chunk, 0, key.ljust(16, b"\0"), field)
        head = item.replace(crc32=fmt.item_crc(item.build())).build()
        self._put_entries(page, head + body)
        return True

    def write_item(self, ns: int, datatype: int, key: bytes, data: bytes) -> None:
        """``Storage::writeItem`` for everything but blobs."""
        page = self.current()
        if self.try_write(page, ns, datatype, key, data):
            return
        self.mark_full(page)
        self.request_new_page()
        if not self.try_write(self.current(), ns, datatype, key, data):
            raise NvsFull(f"NVS: {key.decode(errors='replace')} needs "
                          f"{_entries(datatype, data) * fmt.ENTRY_SIZE} bytes in one page")

    def tailroom(self, page: NvsPage) -> int:
        """``Page::getVarDataTailroom``."""
        if page.state == fmt.PAGE_EMPTY:
            return fmt.CHUNK_MAX_SIZE
        if page.state == fmt.PAGE_FULL or page.next_free >= fmt.ENTRY_COUNT - 1:
            return 0
        return (fmt.ENTRY_COUNT - page.next_free - 1) * fmt.ENTRY_SIZE

    def write_blob(self, ns: int, key: bytes, data: bytes, chunk_start: int) -> None:
        """``Storage::writeMultiPageBlob``: data chunks, then the index."""
        count, offset, remaining = 0, 0, len(data)
        while True:
            page = self.current()
            room = self.tailroom(page)
            if count == 0 and (room < len(data) or (room == 0 and not data)) \
                    and room < fmt.CHUNK_MAX_SIZE // 10:
                self.mark_full(page)
                self.request_new_page()
                if self.tailroom(self.current()) == room:
                    raise NvsFull(f"NVS: no page has room for blob {key.decode(errors='replace')}")
                continue
            if not room:
                raise NvsFull(f"NVS: {remaining} bytes of blob {key.decode(errors='replace')} "
                              "do not fit")
            size = min(remaining, room)
            remaining -= size
            self.try_write(page, ns, fmt.BLOB_DATA, key, data[offset:offset + size],
                           chunk=chunk_start + count)
            count += 1
            if remaining or room - size < fmt.ENTRY_SIZE:
                self.mark_full(page)
                self.request_new_page()
            offset += size
            if not remaining:
                index = fmt.BlobIndexData(len(data), count, chunk_start, 0xFFFF).build()
                if not self.try_write(self.current(), ns, fmt.BLOB_IDX, key, index):
                    raise NvsFull("NVS: no room for the blob index")
                return


def _entries(datatype: int, data: bytes) -> int:
    if datatype in fmt.VARIABLE_TYPES:
        return 1 + (len(data) + fmt.ENTRY_SIZE - 1) // fmt.ENTRY_SIZE
    return 1
