"""The NVS model on partitions the test makes itself (no ../shared needed): read, edit,
damage, encryption, CSV and repack."""

from __future__ import annotations

import time

import pytest

from esp_image.errors import ChecksumMismatch, EspImageError, NvsError, NvsFull, NvsNotFound
from esp_image.formats import nvs as fmt
from esp_image.nvs import NvsKeys, NvsPartition
from esp_image.nvs.csv_io import export_csv, import_csv, read_csv
from esp_image.nvs.page import entry_states

EVERY_TYPE: list[tuple[str, str, object]] = [
    ("u8", "u8", 255), ("i8", "i8", -128), ("u16", "u16", 65535), ("i16", "i16", -32768),
    ("u32", "u32", 4294967295), ("i32", "i32", -2147483648), ("u64", "u64", 2**64 - 1),
    ("i64", "i64", -(2**63)), ("str", "string", "hello, NVS\nsecond line"),
    ("small", "blob", b"\x00\x01\x02"), ("big", "blob", bytes(range(256)) * 30),
]


def sample(size: int = 0x6000) -> NvsPartition:
    """A project-made NVS partition holding one key of every type."""
    part = NvsPartition.mkfs(size)
    for key, type_name, value in EVERY_TYPE:
        part.set("storage", key, value, type_name)  # type: ignore[arg-type]
    return part


def states_of(data: bytes, page: int) -> list[int]:
    off = page * fmt.PAGE_SIZE + fmt.BITMAP_OFFSET
    return entry_states(data[off:off + fmt.BITMAP_SIZE])


def test_mkfs_is_an_active_first_page_and_blank_rest() -> None:
    data = NvsPartition.mkfs(0x4000).to_bytes()
    assert int.from_bytes(data[0:4], "little") == fmt.PAGE_ACTIVE
    assert int.from_bytes(data[4:8], "little") == 0
    assert data[8] == fmt.VERSION_2
    assert int.from_bytes(data[28:32], "little") == fmt.header_crc(data[:32])
    assert data[32:] == b"\xff" * (0x4000 - 32)


@pytest.mark.parametrize("size", [0x2000, 0x3001, 0])
def test_mkfs_refuses_sizes_nvs_cannot_use(size: int) -> None:
    with pytest.raises(NvsError, match="0x3000"):
        NvsPartition.mkfs(size)


def test_every_type_round_trips_through_bytes() -> None:
    data = sample().to_bytes()
    back = NvsPartition.from_bytes(data)
    assert back.valid
    got = {e.key: (e.type, e.value) for e in back.entries()}
    assert got == {k: (t, v) for k, t, v in EVERY_TYPE}
    assert back.get("storage", "big").blob_version == 2
    assert [ns.to_dict() for ns in back.namespaces()] == [
        {"name": "storage", "index": 1, "offset": 64}]


def test_multi_page_blob_is_chunked_across_pages() -> None:
    part = NvsPartition.mkfs(0x6000)
    blob = bytes(i % 251 for i in range(9000))
    part.set("ns", "blob", blob)
    assert part.get("ns", "blob").value == blob
    data = part.to_bytes()
    chunks = [data[p * fmt.PAGE_SIZE + fmt.FIRST_ENTRY_OFFSET:][:32] for p in range(3)]
    kinds = {c[1] for c in chunks}
    assert fmt.BLOB_DATA in kinds
    assert [p.state_name for p in NvsPartition.from_bytes(data).pages][:3] == [
        "full", "full", "active"]


def test_set_overwrite_erases_old_entry_and_leaves_other_pages_identical() -> None:
    part = NvsPartition.mkfs(0x6000)
    for n in range(130):  # fill page 0 and start page 1
        part.set("ns", f"k{n}", n, "u32")
    before = part.to_bytes()
    part.set("ns", "k5", 1234)  # type from the existing key
    after = part.to_bytes()
    entry = part.get("ns", "k5")
    assert (entry.type, entry.value) == ("u32", 1234)
    # the old k5 (page 0, entry 6 after the namespace record) is marked erased, nothing else
    assert states_of(after, 0)[6] == fmt.ENTRY_ERASED
    assert states_of(before, 0)[6] == fmt.ENTRY_WRITTEN
    bitmap = slice(fmt.BITMAP_OFFSET, fmt.BITMAP_OFFSET + fmt.BITMAP_SIZE)
    assert before[:fmt.PAGE_SIZE][:32] == after[:32]
    assert before[fmt.PAGE_SIZE * 0 + 64:fmt.PAGE_SIZE] == after[64:fmt.PAGE_SIZE]
    assert before[bitmap] != after[bitmap]
    assert before[2 * fmt.PAGE_SIZE:] == after[2 * fmt.PAGE_SIZE:]


def test_same_value_is_not_written_again() -> None:
    part = sample()
    before = part.to_bytes()
    assert part.set("storage", "u8", 255) is False
    assert part.to_bytes() == before


def test_changing_the_type_erases_the_old_type() -> None:
    part = sample()
    part.set("storage", "u8", "now text", "string")
    assert part.get("storage", "u8").type == "string"
    assert [e.key for e in part.entries()].count("u8") == 1
    assert NvsPartition.from_bytes(part.to_bytes()).get("storage", "u8").value == "now text"


def test_blob_rewrite_toggles_chunk_version() -> None:
    part = NvsPartition.mkfs(0x6000)
    part.set("ns", "b", b"first")
    part.set("ns", "b", b"second")
    part.set("ns", "b", b"third!")
    back = NvsPartition.from_bytes(part.to_bytes())
    assert back.get("ns", "b").value == b"third!"
    starts = [i.chunk for i in back._items if i.datatype == fmt.BLOB_DATA]
    assert starts == [fmt.VER_0_OFFSET]
    part.set("ns", "b", b"fourth")
    assert [i.chunk for i in part._items if i.datatype == fmt.BLOB_DATA] == [fmt.VER_1_OFFSET]


def test_new_namespace_takes_the_lowest_free_index() -> None:
    part = NvsPartition.mkfs(0x4000)
    for name in ("a", "b", "c"):
        part.set(name, "k", 1, "u8")
    part.remove("b")
    part.set("d", "k", 1, "u8")
    assert {ns.name: ns.index for ns in part.namespaces()} == {"a": 1, "c": 3, "d": 2}


def test_remove_key_and_namespace() -> None:
    part = sample()
    part.remove("storage", "big")
    with pytest.raises(NvsNotFound, match="no key 'big'"):
        part.get("storage", "big")
    back = NvsPartition.from_bytes(part.to_bytes())
    assert back.valid and "big" not in [e.key for e in back.entries()]
    assert [i.key for i in back._items if i.datatype == fmt.BLOB_DATA] == ["small"]
    assert part.remove("storage") == len(EVERY_TYPE) - 1
    assert NvsPartition.from_bytes(part.to_bytes()).namespaces() == []
    with pytest.raises(NvsNotFound, match="no namespace"):
        part.remove("storage")


def test_garbage_collection_keeps_one_page_free() -> None:
    part = NvsPartition.mkfs(0x3000)
    for n in range(1000):
        part.set("ns", f"k{n % 10}", n, "u32")
    assert {e.key: e.value for e in part.entries()} == {f"k{n}": 990 + n for n in range(10)}
    back = NvsPartition.from_bytes(part.to_bytes())
    assert back.valid
    assert sum(p.state_name == "empty" for p in back.pages) == 1


@pytest.mark.parametrize(("key", "type_name", "value", "message"), [
    ("sixteen_chars_xx", "u8", 1, "at most 15"),
    ("k", "u8", 256, r"does not fit u8 \(0\.\.255\)"),
    ("k", "i16", -40000, "does not fit i16"),
    ("k", "string", "a\0b", "cannot contain NUL"),
    ("k", "string", "x" * 4000, "at most 4000"),
    ("k", "float", 1, "unknown NVS type"),
    ("k", None, 5, "needs a type"),
    ("k", "blob", b"x" * 8001, "at most 8000"),
])
def test_refuses_what_esp_idf_cannot_store(key: str, type_name: str | None, value: object,
                                           message: str) -> None:
    part = NvsPartition.mkfs(0x3000)
    before = part.to_bytes()
    with pytest.raises(NvsError, match=message):
        part.set("ns", key, value, type_name)  # type: ignore[arg-type]
    assert part.to_bytes() == before


def test_refuses_when_full_saying_bytes_needed() -> None:
    part = NvsPartition.mkfs(0x3000)
    part.set("ns", "a", b"a" * 3900)
    part.set("ns", "b", b"b" * 3900)
    before = part.to_bytes()
    with pytest.raises(NvsFull, match=r"needs \d+ bytes \(\d+ entries\), \d+ bytes are free"):
        part.set("ns", "c", b"c" * 3900)
    assert part.to_bytes() == before
    assert isinstance(NvsFull("x"), EspImageError)


def corrupt(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0x01
    return bytes(out)


def test_damaged_page_header_is_reported_and_not_read() -> None:
    data = corrupt(sample().to_bytes(), 5)  # sequence number of page 0
    part = NvsPartition.from_bytes(data)
    assert (part.damage[0].name, part.damage[0].offset) == ("nvs-page-crc", 0)
    assert not [e for e in part.entries() if e.offset < fmt.PAGE_SIZE]
    # page 0 held the namespace record: the keys left on other pages are reported, not read
    assert [c.detail for c in part.damage[1:]] == ["key 'big' is in undefined namespace 1"]
    assert "big" not in [e.key for e in part.entries()]


def test_damaged_entry_and_data_are_reported_with_offset() -> None:
    data = sample().to_bytes()
    u8_off = 64 + 32  # entry 1 of page 0: the first key after the namespace record
    part = NvsPartition.from_bytes(corrupt(data, u8_off + 24))
    assert [(c.name, c.offset) for c in part.damage] == [("nvs-entry-crc", u8_off)]
    assert "u8" not in [e.key for e in part.entries()]
    str_off = next(e.offset for e in part.entries() if e.key == "str")
    part = NvsPartition.from_bytes(corrupt(data, str_off + 40))
    assert [(c.name, c.offset) for c in part.damage] == [("nvs-data-crc", str_off)]
    assert "str" not in [e.key for e in part.entries()]


def test_empty_page_with_data_is_damage() -> None:
    data = bytearray(NvsPartition.mkfs(0x3000).to_bytes())
    data[0x2100] = 0
    part = NvsPartition.from_bytes(bytes(data))
    assert [(c.name, c.offset) for c in part.damage] == [("structure", 0x2000)]


def test_writes_refuse_damage_unless_forced() -> None:
    data = sample().to_bytes()
    u8_off = 64 + 32
    part = NvsPartition.from_bytes(corrupt(data, u8_off + 24))
    with pytest.raises(NvsError, match=r"damaged .* --force"):
        part.set("storage", "new", 1, "u8")
    part.set("storage", "new", 1, "u8", force=True)
    back = NvsPartition.from_bytes(part.to_bytes())
    assert back.valid  # nvs_flash erases the bad entry at mount; so does a forced write
    assert back.get("storage", "new").value == 1


def test_key_of_undefined_namespace_is_reported_and_kept_by_forced_writes() -> None:
    part = NvsPartition.mkfs(0x3000)
    part.set("a", "k", 1, "u8")
    record = part.namespaces()[0].offset
    part._transaction(False, lambda store: part._erase_at(store, record))
    orphan = NvsPartition.from_bytes(part.to_bytes())
    assert [(c.name, c.offset) for c in orphan.damage] == [("nvs-namespace", record + 32)]
    orphan.set("b", "x", 2, "u8", force=True)
    after = NvsPartition.from_bytes(orphan.to_bytes())
    assert states_of(after.to_bytes(), 0)[1] == fmt.ENTRY_WRITTEN
    # nvs_flash hands out indexes by namespace record only: "b" takes the free index 1,
    # and with it the orphaned key
    assert after.valid and after.get("b", "k").value == 1


def test_truncated_or_empty_input_is_one_clear_error() -> None:
    with pytest.raises(EspImageError, match="at least one 4 KiB page"):
        NvsPartition.from_bytes(b"\xff" * 100)
    part = NvsPartition.from_bytes(sample().to_bytes() + b"\xff" * 10)
    assert [c.detail for c in part.damage] == ["10 bytes after the last whole page"]


def test_garbage_never_raises_anything_but_esp_image_errors() -> None:
    import random

    rnd = random.Random(7)
    base = sample().to_bytes()
    for _ in range(200):
        data = bytearray(base)
        for _ in range(rnd.randrange(1, 40)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        part = NvsPartition.from_bytes(bytes(data))
        part.to_dict()
        for entry in part.entries():
            entry.to_dict()


def test_encrypted_round_trip_and_without_keys() -> None:
    keys = NvsKeys.generate()
    part = NvsPartition.mkfs(0x6000, keys)
    for key, type_name, value in EVERY_TYPE:
        part.set("storage", key, value, type_name)  # type: ignore[arg-type]
    data = part.to_bytes()
    assert b"hello, NVS" not in data
    back = NvsPartition.from_bytes(data, NvsKeys.from_bytes(keys.to_bytes()))
    assert back.valid and back.encrypted and back.readable
    assert {e.key: e.value for e in back.entries()} == {k: v for k, _, v in EVERY_TYPE}
    back.set("storage", "u8", 7)
    again = NvsPartition.from_bytes(back.to_bytes(), keys)
    assert again.get("storage", "u8").value == 7
    unchanged = slice(fmt.PAGE_SIZE, 2 * fmt.PAGE_SIZE)
    assert back.to_bytes()[unchanged] == data[unchanged]

    locked = NvsPartition.from_bytes(data)
    assert locked.encrypted and not locked.readable and locked.valid
    assert locked.entries() == []
    assert [c.name for c in locked.checks] == ["nvs-page-crc"] * 3
    assert locked.to_dict()["pages"][0]["state"] == "full"
    with pytest.raises(NvsError, match="encrypted"):
        locked.set("storage", "u8", 1)
    with pytest.raises(NvsError, match="do not decrypt"):
        NvsPartition.from_bytes(data, NvsKeys.generate())


def test_keys_partition_crc_and_erased() -> None:
    keys = NvsKeys.generate()
    raw = keys.to_bytes()
    assert len(raw) == 0x1000 and NvsKeys.from_bytes(raw) == keys
    with pytest.raises(ChecksumMismatch, match="nvs_keys"):
        NvsKeys.from_bytes(corrupt(raw, 3))
    with pytest.raises(EspImageError, match="erased"):
        NvsKeys.from_bytes(b"\xff" * 0x1000)
    with pytest.raises(EspImageError, match="needs 68 bytes"):
        NvsKeys.from_bytes(b"\x00" * 10)


def test_csv_export_import_round_trip(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    part = sample()
    text = export_csv(part)
    assert text.splitlines()[:3] == ["key,type,encoding,value", "storage,namespace,,",
                                     "u8,data,u8,255"]
    copy = import_csv(NvsPartition.mkfs(0x6000), text)
    assert copy.to_bytes() == part.to_bytes()
    with_files = export_csv(part, tmp_path)
    assert "big,file,binary," in with_files
    rows = read_csv(with_files, tmp_path)
    assert rows[-1] == ("storage", "big", "blob", bytes(range(256)) * 30)


def test_csv_merge_and_replace() -> None:
    part = sample()
    text = "key,type,encoding,value\nother,namespace,,\nx,data,hex2bin,00ff\nu8,data,u8,3\n"
    merged = import_csv(part, text)
    assert merged is part and len(part.entries()) == len(EVERY_TYPE) + 2
    replaced = import_csv(sample(), text, replace=True)
    assert [(e.namespace, e.key, e.value) for e in replaced.entries()] == [
        ("other", "x", b"\x00\xff"), ("other", "u8", 3)]


@pytest.mark.parametrize(("text", "message"), [
    ("k,data,u8,1\n", "before any namespace"),
    ("ns,namespace,,\nk,data,float,1\n", "not supported"),
    ("ns,namespace,,\nk,data,hex2bin,abc\n", "line 2"),
    ("ns,namespace,,\nk,blob,u8,1\n", "not namespace, data or file"),
])
def test_csv_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(NvsError, match=message):
        read_csv(text)


def test_repack_shrinks_or_refuses_with_numbers() -> None:
    part = NvsPartition.mkfs(0x8000)
    for n in range(50):
        part.set("ns", f"k{n}", n, "u16")
    small = part.repack(0x3000)
    assert small.size == 0x3000
    assert [(e.key, e.value) for e in small.entries()] == [(e.key, e.value)
                                                            for e in part.entries()]
    part.set("ns", "blob", b"z" * 9000)
    with pytest.raises(NvsFull, match=r"needs \d+ bytes .* 0x3000 partition holds 8064"):
        part.repack(0x3000)


def test_to_dict_lists_pages_namespaces_entries_and_checks() -> None:
    info = sample().to_dict()
    assert info["kind"] == "nvs" and info["valid"] is True and info["encrypted"] is False
    assert info["namespaces"] == [{"name": "storage", "index": 1, "offset": 64,
                                   "keys": len(EVERY_TYPE)}]
    small = next(e for e in info["entries"] if e["key"] == "small")  # type: ignore[union-attr]
    assert small == {"namespace": "storage", "key": "small", "type": "blob",
                     "value": "AAEC", "encoding": "base64", "size": 3,
                     "offset": small["offset"]}


def test_parse_is_fast() -> None:
    data = sample().to_bytes()
    best = min(_timed(NvsPartition.from_bytes, data) for _ in range(5))
    assert best < 0.010


def _timed(func: object, arg: bytes) -> float:
    start = time.perf_counter()
    func(arg)  # type: ignore[operator]
    return time.perf_counter() - start
