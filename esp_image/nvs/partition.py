"""The NVS partition model: read every value, verify every CRC, edit like nvs_flash."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ..checks import Check, Checked
from ..errors import InputError, NvsError, NvsFull, NvsNotFound
from ..formats.compiled import nvs as fmt
from . import values as val
from .keys import EntryCipher, NvsKeys
from .page import NvsPage, RawItem, load_items, page_checks
from .store import Store

_EMPTY_ENTRY = b"\xff" * fmt.ENTRY_SIZE


@dataclass(frozen=True)
class NvsNamespace:
    """A namespace record: ``name``, its ``index`` (1..254) and where the record is."""

    name: str
    index: int
    offset: int

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {"name": self.name, "index": self.index, "offset": self.offset}


@dataclass(frozen=True)
class NvsEntry:
    """One key and its value.

    Attributes:
        namespace, key: where it lives.
        type: ``u8`` .. ``i64``, ``string`` or ``blob``.
        value: an int, a str, or bytes for blobs (multi-page blobs joined).
        offset: partition offset of the item (a blob's index item).
        blob_version: 1 for a version-1 single-item blob, 2 for an index and chunks, else 0.
    """

    namespace: str
    key: str
    type: str
    value: val.Value
    offset: int
    blob_version: int = 0

    def to_dict(self) -> dict[str, object]:
        """The JSON form: blobs as base64 with their size."""
        out: dict[str, object] = {"namespace": self.namespace, "key": self.key,
                                  "type": self.type, "offset": self.offset}
        if isinstance(self.value, bytes):
            out.update(value=base64.b64encode(self.value).decode("ascii"), encoding="base64",
                       size=len(self.value))
        else:
            out["value"] = self.value
        return out


class NvsPartition(Checked):
    """An NVS partition (plain or encrypted), as ESP-IDF's nvs_flash reads and writes it.

    Pages and their entries are read from the bytes; damaged pages and items become failed
    :attr:`checks` and are never returned as data. Edits change only the pages nvs_flash
    would write; :meth:`to_bytes` returns the other pages byte for byte as they were read.
    """

    def __init__(self, data: bytes, keys: NvsKeys | None = None) -> None:
        if len(data) < fmt.PAGE_SIZE:
            raise InputError(f"an NVS partition needs at least one 4 KiB page, got "
                             f"{len(data)} bytes")
        self._raw = bytes(data)
        self.size = len(data)
        self.keys = keys
        self._cipher = EntryCipher(keys) if keys is not None else None
        count = len(data) // fmt.PAGE_SIZE
        self._plain = bytearray(data[:count * fmt.PAGE_SIZE])
        self._dirty: set[int] = set()
        if self._cipher is not None:
            for index in range(count):
                self._crypt_page(index, self._plain, decrypt=True)
        self._load()
        if keys is not None and self._looks_encrypted:
            raise NvsError("the NVS keys do not decrypt this partition (no entry CRC matches)")

    @classmethod
    def from_bytes(cls, data: bytes, keys: NvsKeys | None = None) -> NvsPartition:
        """Parse an NVS partition; ``keys`` decrypt an encrypted one."""
        return cls(data, keys)

    @classmethod
    def mkfs(cls, size: int, keys: NvsKeys | None = None) -> NvsPartition:
        """An empty partition of ``size`` bytes, its first page active, as the generator and
        a first ``nvs_flash_init`` leave it."""
        if size % fmt.PAGE_SIZE or size < fmt.MIN_WRITABLE_SIZE:
            raise NvsError(f"an NVS partition is a multiple of 0x1000 bytes and at least "
                           f"{fmt.MIN_WRITABLE_SIZE:#x}; got {size:#x}")
        part = cls(b"\xff" * size, keys)
        store = Store(part._plain, part.pages)
        store.initialize(store.current())
        part._commit(store)
        return part

    # --- loading -----------------------------------------------------------------------------

    def _crypt_page(self, index: int, buf: bytearray, decrypt: bool) -> None:
        """Decrypt or encrypt a page's entries in ``buf``; empty entries stay erased flash."""
        assert self._cipher is not None
        start = index * fmt.PAGE_SIZE + fmt.FIRST_ENTRY_OFFSET
        end = (index + 1) * fmt.PAGE_SIZE
        if decrypt and buf[start:end] == _EMPTY_ENTRY * fmt.ENTRY_COUNT:
            return
        states = NvsPage(buf, index).states
        before = bytes(buf[start:end])
        run = self._cipher.decrypt if decrypt else self._cipher.encrypt
        buf[start:end] = run(before, start)
        for n in range(fmt.ENTRY_COUNT):
            pos = n * fmt.ENTRY_SIZE
            if before[pos:pos + fmt.ENTRY_SIZE] == _EMPTY_ENTRY and (
                    decrypt or states[n] == fmt.ENTRY_EMPTY):
                buf[start + pos:start + pos + fmt.ENTRY_SIZE] = _EMPTY_ENTRY

    def _load(self) -> None:
        buf = self._plain
        self.pages = [NvsPage(buf, i) for i in range(len(buf) // fmt.PAGE_SIZE)]
        checks: list[Check] = []
        items: list[RawItem] = []
        used = sorted((p for p in self.pages if p.in_use), key=lambda p: p.seq)
        for page in self.pages:
            checks.extend(page_checks(buf, page))
        for page in used:
            found, item_checks = load_items(buf, page)
            items.extend(found)
            checks.extend(item_checks)
        if self.size % fmt.PAGE_SIZE:
            checks.append(Check("structure", False, len(buf),
                                f"{self.size % fmt.PAGE_SIZE} bytes after the last whole page"))
        entry_checks = [c for c in checks if c.name == "nvs-entry-crc"]
        self._looks_encrypted = bool(entry_checks) and not any(c.valid for c in entry_checks)
        if self._looks_encrypted and self.keys is None:
            checks = [c for c in checks if c.name not in ("nvs-entry-crc", "nvs-data-crc")]
            items = []
        self._items = items
        self._namespaces, self._entries = _resolve(items, checks)
        self.checks = sorted(checks, key=lambda c: c.offset)

    # --- reading -----------------------------------------------------------------------------

    @property
    def encrypted(self) -> bool:
        """Whether the entries are encrypted (keys given, or no entry CRC matches)."""
        return self.keys is not None or self._looks_encrypted

    @property
    def readable(self) -> bool:
        """False for an encrypted partition read without its keys (page headers only)."""
        return not (self._looks_encrypted and self.keys is None)

    def span_at(self, offset: int) -> int:
        """The span field of the item header at partition ``offset`` (as stored, unchecked)."""
        return int(fmt.Item.parse(memoryview(self._plain), offset).span)

    def namespaces(self) -> list[NvsNamespace]:
        """The namespace records, in the order nvs_flash reads them."""
        return list(self._namespaces.values())

    def entries(self, namespace: str | None = None) -> list[NvsEntry]:
        """Every key (of one namespace), in the order nvs_flash reads them."""
        return [e for e in self._entries if namespace is None or e.namespace == namespace]

    def get(self, namespace: str, key: str) -> NvsEntry:
        """One key.

        Raises:
            NvsNotFound: no such namespace or key.
        """
        for entry in self._entries:
            if entry.namespace == namespace and entry.key == key:
                return entry
        if namespace not in self._namespaces:
            raise NvsNotFound(f"NVS has no namespace {namespace!r}")
        raise NvsNotFound(f"NVS namespace {namespace!r} has no key {key!r}")

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "kind": "nvs", "size": self.size, "encrypted": self.encrypted,
            "readable": self.readable, "valid": self.valid,
            "pages": [p.to_dict() for p in self.pages],
            "namespaces": [dict(ns.to_dict(), keys=len(self.entries(ns.name)))
                           for ns in self.namespaces()],
            "entries": [e.to_dict() for e in self._entries],
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_bytes(self) -> bytes:
        """The partition: changed pages rebuilt (and encrypted), the rest as read."""
        out = bytearray(self._raw)
        for index in sorted(self._dirty):
            start, end = index * fmt.PAGE_SIZE, (index + 1) * fmt.PAGE_SIZE
            page = bytearray(self._plain)
            if self._cipher is not None:
                self._crypt_page(index, page, decrypt=False)
            out[start:end] = page[start:end]
        return bytes(out)

    def usage(self) -> dict[str, int]:
        """Entry counts as ``nvs_get_stats`` gives them (``available`` keeps one page free)."""
        used = sum(p.count(fmt.ENTRY_WRITTEN) for p in self.pages if p.in_use)
        erased = sum(p.count(fmt.ENTRY_ERASED) for p in self.pages if p.in_use)
        free_pages = [p for p in self.pages if not p.in_use]
        free = sum(p.count(fmt.ENTRY_EMPTY) for p in self.pages if p.in_use) \
            + len(free_pages) * fmt.ENTRY_COUNT
        return {"used_entries": used, "free_entries": free, "total_entries":
                len(self.pages) * fmt.ENTRY_COUNT,
                "available_entries": max(free - fmt.ENTRY_COUNT, 0), "erased_entries": erased}

    # --- writing -----------------------------------------------------------------------------

    def _check_readable(self) -> None:
        if not self.readable:
            raise NvsError("NVS is encrypted: give the nvs_keys partition to change it")

    def _writable(self, force: bool) -> Store:
        self._check_readable()
        if self.damage and not force:
            first = self.damage[0]
            raise NvsError(f"NVS is damaged ({len(self.damage)} finding(s), first at "
                           f"{first.offset:#x}: {first.name}, {first.detail}); write with "
                           "--force to drop the damaged items as nvs_flash does at mount")
        store = Store(self._plain, self.pages)
        if self.damage:
            self._drop_damaged(store)
        return store

    def _drop_damaged(self, store: Store) -> None:
        """What nvs_flash does at mount: items that fail a CRC or do not add up are erased
        (keys of an undefined namespace and duplicates it leaves alone)."""
        for check in self.damage:
            if check.name in ("nvs-entry-crc", "nvs-data-crc", "structure"):
                for page in store.used:
                    rel = check.offset - page.offset - fmt.FIRST_ENTRY_OFFSET
                    if 0 <= rel < fmt.ENTRY_COUNT * fmt.ENTRY_SIZE:
                        index = rel // fmt.ENTRY_SIZE
                        span = 1 if check.name != "nvs-data-crc" else \
                            fmt.Item.parse(memoryview(self._plain), check.offset).span
                        store.erase_span(page, index, span)

    def _commit(self, store: Store) -> None:
        self._dirty |= store.dirty
        self._load()

    def _transaction(self, force: bool, action: object) -> None:
        store = self._writable(force)
        before = bytes(self._plain)
        try:
            action(store)  # type: ignore[operator]
        except NvsError:
            self._plain[:] = before
            self._load()
            raise
        self._commit(store)

    def set(self, namespace: str, key: str, value: val.Value, type: str | None = None,
            force: bool = False) -> bool:
        """Store one value as nvs_flash's ``nvs_set_*`` does; False when it was already there.

        The namespace is created with the lowest free index when it is new; the type comes
        from the existing key when omitted (``str`` is a string, ``bytes`` a blob otherwise).

        Raises:
            NvsError: a key over 15 bytes, a value ESP-IDF cannot store, damage (without
                ``force``), an encrypted partition without keys.
            NvsFull: not enough room (the message says how much is needed).
        """
        self._check_readable()
        ns_raw = val.check_name(namespace, "namespace")
        key_raw = val.check_name(key)
        old = next((e for e in self._entries
                    if e.namespace == namespace and e.key == key), None)
        type_name = type or (old.type if old else val.infer_type(value))
        data = val.encode(type_name, value, key)
        if old is not None and old.type == type_name and _same(old, type_name, data):
            return False
        if type_name == "blob":
            self._check_blob_size(key, len(data))

        def action(store: Store) -> None:
            ns_index = self._namespace_index(store, namespace, ns_raw)
            if type_name == "blob":
                start = fmt.VER_0_OFFSET
                if old is not None and old.type == "blob" and old.blob_version == 2:
                    start = fmt.VER_1_OFFSET if self._blob_start(old) == fmt.VER_0_OFFSET \
                        else fmt.VER_0_OFFSET
                self._need(fmt.BLOB_IDX, key, data)
                store.write_blob(ns_index, key_raw, data, start)
            else:
                code = val.INT_TYPES.get(type_name, fmt.SZ)
                self._need(code, key, data)
                store.write_item(ns_index, code, key_raw, data)
            if old is not None:
                self._erase_old(store, ns_index, old, key)

        self._transaction(force, action)
        return True

    def _check_blob_size(self, key: str, size: int) -> None:
        pages = min(len(self.pages) - 1, fmt.MAX_BLOB_PAGES)
        if size > pages * fmt.CHUNK_MAX_SIZE:
            raise NvsError(f"{key}: blob of {size} bytes; this partition stores at most "
                           f"{pages * fmt.CHUNK_MAX_SIZE}")

    def _need(self, datatype: int, key: str, data: bytes) -> None:
        """Refuse, with the numbers, what cannot fit even after reclaiming erased entries."""
        if datatype == fmt.BLOB_IDX:
            chunks = max(1, -(-len(data) // fmt.CHUNK_MAX_SIZE))
            need = 1 + chunks + (len(data) + fmt.ENTRY_SIZE - 1) // fmt.ENTRY_SIZE
        elif datatype in fmt.VARIABLE_TYPES:
            need = 1 + (len(data) + fmt.ENTRY_SIZE - 1) // fmt.ENTRY_SIZE
        else:
            need = 1
        stats = self.usage()
        room = stats["available_entries"] + stats["erased_entries"]
        if need > room:
            raise NvsFull(f"NVS is full: {key} needs {need * fmt.ENTRY_SIZE} bytes "
                          f"({need} entries), {room * fmt.ENTRY_SIZE} bytes are free "
                          "(one 4 KiB page kept free)")

    def _namespace_index(self, store: Store, name: str, raw: bytes) -> int:
        if name in self._namespaces:
            return self._namespaces[name].index
        taken = {ns.index for ns in self._namespaces.values()}
        index = next((i for i in range(1, fmt.NS_MAX + 1) if i not in taken), None)
        if index is None:
            raise NvsFull(f"NVS has no free namespace index for {name!r} (254 in use)")
        self._need(fmt.U8, name, b"")
        store.write_item(fmt.NS_INDEX, fmt.U8, raw, bytes([index]) + b"\xff" * 7)
        self._namespaces[name] = NvsNamespace(name, index, -1)
        return index

    def _blob_start(self, entry: NvsEntry) -> int:
        item = next(i for i in self._items if i.offset == entry.offset)
        return int(fmt.BlobIndexData.parse(item.data).chunk_start)

    def _erase_old(self, store: Store, ns_index: int, old: NvsEntry, key: str) -> None:
        """Erase the previous value after the new one is written (``Storage::writeItem``).

        Garbage collection may have moved it, so it is found again: the first match in page
        order is the old one, the new one being the last item written."""
        if old.blob_version == 2:
            self._erase_blob(store, ns_index, key, self._blob_start(old))
            return
        for page in store.used:
            for item in load_items(self._plain, page)[0]:
                if item.ns == ns_index and item.key == key and \
                        fmt.TYPE_NAMES[item.datatype] == old.type:
                    store.erase_span(page, item.index, item.span)
                    return

    def _erase_blob(self, store: Store, ns_index: int, key: str, start: int | None) -> None:
        """``Storage::eraseMultiPageBlob``: the index of that version, then its chunks."""
        low, high = {None: (0, fmt.CHUNK_ANY), fmt.VER_0_OFFSET: (0, fmt.VER_1_OFFSET),
                     fmt.VER_1_OFFSET: (fmt.VER_1_OFFSET, fmt.CHUNK_ANY)}[start]
        for page in list(store.used):
            for item in load_items(self._plain, page)[0]:
                if item.ns != ns_index or item.key != key:
                    continue
                is_index = item.datatype == fmt.BLOB_IDX and (
                    start is None or fmt.BlobIndexData.parse(item.data).chunk_start == start)
                if is_index or (item.datatype == fmt.BLOB_DATA and low <= item.chunk < high):
                    store.erase_span(page, item.index, item.span)

    def remove(self, namespace: str, key: str | None = None, force: bool = False) -> int:
        """Erase one key, or every key of a namespace and its record; returns keys removed.

        Raises:
            NvsNotFound: no such namespace or key.
        """
        self._check_readable()
        if namespace not in self._namespaces:
            raise NvsNotFound(f"NVS has no namespace {namespace!r}")
        doomed = [self.get(namespace, key)] if key is not None else self.entries(namespace)
        ns = self._namespaces[namespace]

        def action(store: Store) -> None:
            for entry in doomed:
                if entry.blob_version == 2:
                    self._erase_blob(store, ns.index, entry.key, None)
                else:
                    self._erase_at(store, entry.offset)
            if key is None:
                self._erase_at(store, ns.offset)

        self._transaction(force, action)
        return len(doomed)

    def _erase_at(self, store: Store, offset: int) -> None:
        item = next(i for i in self._items if i.offset == offset)
        store.erase_span(item.page, item.index, item.span)

    def repack(self, size: int | None = None) -> NvsPartition:
        """A fresh partition of ``size`` bytes (default: the same) holding every live key,
        written in the order they are read.

        Raises:
            NvsFull: they do not fit; the message gives the bytes needed and available.
        """
        new = NvsPartition.mkfs(size or len(self.pages) * fmt.PAGE_SIZE, self.keys)
        try:
            for entry in self._entries:
                new.set(entry.namespace, entry.key, entry.value, entry.type)
        except NvsError:
            need = sum(_entry_cost(e) for e in self._entries) + len(self._namespaces)
            pages = (size or self.size) // fmt.PAGE_SIZE
            room = (pages - 1) * fmt.ENTRY_COUNT
            raise NvsFull(f"NVS content needs {need * fmt.ENTRY_SIZE} bytes ({need} entries); "
                          f"a {size:#x} partition holds {room * fmt.ENTRY_SIZE} "
                          f"({room} entries, one 4 KiB page kept free)") from None
        return new


def _same(old: NvsEntry, type_name: str, data: bytes) -> bool:
    if type_name == "blob":
        return old.value == data
    if type_name == "string":
        return val.encode("string", old.value, old.key) == data
    return val.encode(type_name, old.value, old.key) == data


def _entry_cost(entry: NvsEntry) -> int:
    if isinstance(entry.value, int):
        return 1
    size = len(val.encode(entry.type, entry.value, entry.key))
    chunks = max(1, -(-size // fmt.CHUNK_MAX_SIZE)) if entry.type == "blob" else 1
    return chunks + (size + fmt.ENTRY_SIZE - 1) // fmt.ENTRY_SIZE + (entry.type == "blob")


def _resolve(items: list[RawItem], checks: list[Check]
             ) -> tuple[dict[str, NvsNamespace], list[NvsEntry]]:
    """Namespaces and values from the loaded items (blobs joined from their chunks)."""
    namespaces: dict[str, NvsNamespace] = {}
    names: dict[int, str] = {}
    for item in items:
        if item.ns == fmt.NS_INDEX and item.datatype == fmt.U8:
            index = item.data[0]
            if item.key not in namespaces:
                namespaces[item.key] = NvsNamespace(item.key, index, item.offset)
                names[index] = item.key
    chunks = {(i.ns, i.key, i.chunk): i for i in items if i.datatype == fmt.BLOB_DATA}
    entries: list[NvsEntry] = []
    seen: set[tuple[int, str]] = set()
    for item in items:
        if item.ns == fmt.NS_INDEX or item.datatype == fmt.BLOB_DATA:
            continue
        if item.ns not in names:
            checks.append(Check("nvs-namespace", False, item.offset,
                                f"key {item.key!r} is in undefined namespace {item.ns}"))
            continue
        if (item.ns, item.key) in seen:
            checks.append(Check("nvs-duplicate", False, item.offset,
                                f"duplicate key {names[item.ns]}:{item.key}"))
            continue
        entry = _entry(item, names[item.ns], chunks, checks)
        if entry is not None:
            seen.add((item.ns, item.key))
            entries.append(entry)
    return namespaces, entries


def _entry(item: RawItem, namespace: str, chunks: dict[tuple[int, str, int], RawItem],
           checks: list[Check]) -> NvsEntry | None:
    if item.datatype in fmt.PRIMITIVE_TYPES:
        return NvsEntry(namespace, item.key, fmt.TYPE_NAMES[item.datatype], item.value(),
                        item.offset)
    if item.datatype == fmt.SZ:
        return NvsEntry(namespace, item.key, "string", val.decode_string(item.payload or b""),
                        item.offset)
    if item.datatype == fmt.BLOB:
        return NvsEntry(namespace, item.key, "blob", item.payload or b"", item.offset, 1)
    index = fmt.BlobIndexData.parse(item.data)
    parts = []
    for n in range(index.chunk_start, index.chunk_start + index.chunk_count):
        chunk = chunks.get((item.ns, item.key, n))
        if chunk is None:
            checks.append(Check("structure", False, item.offset,
                                f"blob {namespace}:{item.key}: chunk {n} is missing"))
            return None
        parts.append(chunk.payload or b"")
    data = b"".join(parts)
    if len(data) != index.data_size:
        checks.append(Check("structure", False, item.offset,
                            f"blob {namespace}:{item.key}: index says {index.data_size} "
                            f"bytes, chunks hold {len(data)}"))
        return None
    return NvsEntry(namespace, item.key, "blob", data, item.offset, 2)
