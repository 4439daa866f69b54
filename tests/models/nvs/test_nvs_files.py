"""NVS partitions inside whole files: ``find_nvs``, ``replace_nvs`` and ``carry_nvs`` on
merged firmware the test builds with esp-image's own merge (fixtures/ parts), on bare NVS
images, and on the flash dumps of ../shared/corpus-2 that hold NVS; and that the NVS package
runs without construct."""

from __future__ import annotations

from dataclasses import replace

import pytest

from esp_image import Image, PartitionTable
from esp_image.errors import InputError, LayoutError
from esp_image.formats.compiled import nvs as fmt
from esp_image.nvs import NvsKeys, NvsPartition, carry_nvs, find_nvs, replace_nvs
from esp_image.transforms.merge import merge

from ...conftest import FIXTURES, corpus_path, fixture_path, run_python

BASE = 0x1000

TABLE_CSV = """\
nvs,      data, nvs,     0x9000,  0x6000,
phy_init, data, phy,     0xf000,  0x1000,
factory,  app,  factory, 0x10000, 0x100000,
"""


def table_csv(offset: int, size: int, name: str = "nvs") -> str:
    """TABLE_CSV with the NVS partition ``name`` at ``offset`` (rows in flash order)."""
    rows = [line for line in TABLE_CSV.splitlines() if not line.startswith("nvs")]
    rows.append(f"{name}, data, nvs, {offset:#x}, {size:#x},")
    return "\n".join(sorted(rows, key=lambda row: int(row.split(",")[3], 0))) + "\n"


def sample(size: int = 0x6000, keys: NvsKeys | None = None) -> NvsPartition:
    part = NvsPartition.mkfs(size, keys)
    part.set("wifi", "ssid", "home")
    part.set("wifi", "channel", 6, "u8")
    part.set("cal", "table", bytes(range(256)) * 10)
    return part


def content(part: NvsPartition) -> set[tuple[str, str, str, object]]:
    """What the partition holds, whatever the page layout or blob version."""
    return {(e.namespace, e.key, e.type, e.value) for e in part.entries()}


def firmware(csv: str = TABLE_CSV, nvs: bytes | None = None, nvs_at: int = 0x9000) -> bytes:
    """A merged firmware from flash 0x1000 (bootloader, table, app of fixtures/), with
    ``nvs`` placed at ``nvs_at`` when given; it ends after the app."""
    parts = [(0x1000, fixture_path("esp32-bootloader.bin").read_bytes()),
             (0x8000, PartitionTable.from_csv(csv).to_bytes()),
             (0x10000, fixture_path("esp32-app.bin").read_bytes())]
    if nvs is not None:
        parts.append((nvs_at, nvs))
    return merge(parts, target_offset=BASE).data


def need(name: str) -> bytes:
    path = corpus_path(name)
    return path.read_bytes()


def test_nvs_runs_without_construct() -> None:
    proc = run_python(
        "import sys\n"
        "from esp_image.nvs import NvsPartition, find_nvs\n"
        "part = NvsPartition.mkfs(0x4000)\n"
        "part.set('ns', 'k', 'v')\n"
        "back = NvsPartition.from_bytes(part.to_bytes())\n"
        "assert back.get('ns', 'k').value == 'v' and back.valid\n"
        f"assert find_nvs(open({str(FIXTURES / 'firmware-esp32-4MB.bin')!r}, 'rb').read())\n"
        "assert 'construct' not in sys.modules, 'construct imported'\n")
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------------------- find_nvs

def test_find_in_a_merged_firmware_whose_nvs_is_erased() -> None:
    found = find_nvs(Image.open(FIXTURES / "firmware-esp32-4MB.bin"))
    assert [(f.name, f.offset, f.nvs.size) for f in found] == [("nvs", 0x9000 - BASE, 0x6000)]
    assert found[0].nvs.entries() == [] and found[0].nvs.valid


def test_find_in_a_merged_firmware_holding_nvs() -> None:
    data = firmware(nvs=sample().to_bytes())
    for image in (data, Image.from_bytes(data)):
        (found,) = find_nvs(image)
        assert found.partition is not None and found.partition.offset == 0x9000
        assert found.offset == 0x8000
        assert content(found.nvs) == content(sample())


def test_find_every_nvs_partition_in_table_order() -> None:
    csv = TABLE_CSV + "nvs2, data, nvs, 0x110000, 0x3000,\n"
    found = find_nvs(firmware(csv, nvs=sample().to_bytes()))
    assert [f.name for f in found] == ["nvs", "nvs2"]
    # the file ends before nvs2: read as erased flash, as the chip would
    assert found[1].offset == 0x110000 - BASE and found[1].nvs.entries() == []


def test_find_a_bare_nvs_image_and_nothing_in_other_files() -> None:
    data = sample().to_bytes()
    (found,) = find_nvs(data)
    assert (found.partition, found.offset, found.name) == (None, 0, None)
    assert content(found.nvs) == content(sample())
    assert find_nvs(fixture_path("esp32-app.bin").read_bytes()) == []
    assert find_nvs(b"\xff" * 0x3000) == []  # erased flash is not taken for NVS
    assert find_nvs(data[:-1]) == []  # not whole pages
    with pytest.raises(InputError, match="empty"):
        find_nvs(b"")


def test_find_reads_encrypted_nvs_with_its_keys() -> None:
    keys = NvsKeys.generate()
    data = firmware(nvs=sample(keys=keys).to_bytes())
    (locked,) = find_nvs(data)
    assert locked.nvs.encrypted and not locked.nvs.readable
    (opened,) = find_nvs(data, keys)
    assert content(opened.nvs) == content(sample())


# ---------------------------------------------------------------------------- replace_nvs

def test_replace_changes_only_the_partition() -> None:
    old = firmware(nvs=sample().to_bytes())
    edited = sample()
    edited.set("wifi", "ssid", "office")
    new = replace_nvs(old, "nvs", edited.to_bytes())
    start, end = 0x9000 - BASE, 0xF000 - BASE
    assert len(new) == len(old)
    assert new[:start] == old[:start] and new[end:] == old[end:]
    assert new[start:end] == edited.to_bytes()
    assert find_nvs(new)[0].nvs.get("wifi", "ssid").value == "office"
    assert Image.from_bytes(new).valid
    assert replace_nvs(Image.from_bytes(old), None, edited.to_bytes()) == new


def test_replace_extends_a_file_that_ends_before_the_partition() -> None:
    old = firmware(table_csv(0x110000, 0x6000))
    new = replace_nvs(old, "nvs", sample().to_bytes())
    start = 0x110000 - BASE
    assert new[:len(old)] == old
    assert new[len(old):start] == b"\xff" * (start - len(old))
    assert new[start:] == sample().to_bytes()
    assert content(find_nvs(new)[0].nvs) == content(sample())


def test_replace_a_bare_image() -> None:
    edited = sample()
    edited.remove("cal")
    assert replace_nvs(sample().to_bytes(), None, edited.to_bytes()) == edited.to_bytes()


def test_replace_refuses_what_it_cannot_place() -> None:
    two = firmware(TABLE_CSV + "nvs2, data, nvs, 0x110000, 0x3000,\n")
    with pytest.raises(InputError, match=r"no NVS partition 'phy_init' \(NVS partitions: "
                                         r"nvs, nvs2\)"):
        replace_nvs(two, "phy_init", b"")
    with pytest.raises(InputError, match="2 NVS partitions"):
        replace_nvs(two, None, b"")
    with pytest.raises(InputError, match="0x3000 bytes; nvs is 0x6000"):
        replace_nvs(two, "nvs", NvsPartition.mkfs(0x3000).to_bytes())
    with pytest.raises(InputError, match="0 NVS partitions"):
        replace_nvs(fixture_path("esp32-app.bin").read_bytes(), None, b"")


# ---------------------------------------------------------------------------- carry_nvs

def retabled(offset: int, size: int, name: str = "nvs") -> PartitionTable:
    return PartitionTable.from_csv(table_csv(offset, size, name))


def test_carry_keeps_the_bytes_when_the_partition_moves() -> None:
    old = Image.from_bytes(firmware(nvs=sample().to_bytes()))
    (moved,) = carry_nvs(old, retabled(0x110000, 0x6000))
    assert moved.partition.offset == 0x110000
    assert moved.data == sample().to_bytes()
    assert moved.action == "nvs: NVS moved from 0x9000 to 0x110000, contents kept (0x6000 bytes)"


def test_carry_grows_with_erased_pages_that_nvs_flash_uses() -> None:
    old = Image.from_bytes(firmware(nvs=sample().to_bytes()))
    (grown,) = carry_nvs(old, retabled(0x110000, 0xA000))
    assert grown.data == sample().to_bytes() + b"\xff" * 0x4000
    part = NvsPartition.from_bytes(grown.data)
    assert part.valid and content(part) == content(sample())
    part.set("cal", "more", bytes(0x3000))  # the new pages take data
    assert NvsPartition.from_bytes(part.to_bytes()).valid


def test_carry_repacks_a_shrinking_partition_when_the_keys_fit() -> None:
    big = sample()
    for n in range(40):  # erased entries: the live ones fit in less
        big.set("wifi", "channel", n, "u8")
    old = Image.from_bytes(firmware(nvs=big.to_bytes()))
    (small,) = carry_nvs(old, retabled(0x9000, 0x3000))
    assert len(small.data) == 0x3000 and "repacked from 0x6000 into 0x3000" in small.action
    part = NvsPartition.from_bytes(small.data)
    assert part.valid and content(part) == content(big)


def test_carry_refuses_to_shrink_below_what_the_keys_need() -> None:
    big = NvsPartition.mkfs(0x6000)
    big.set("cal", "table", bytes(9000))
    old = Image.from_bytes(firmware(nvs=big.to_bytes()))
    with pytest.raises(LayoutError, match=r"nvs: NVS cannot shrink to 0x3000 bytes: NVS "
                                          r"content needs \d+ bytes .* holds 8064"):
        carry_nvs(old, retabled(0x9000, 0x3000))
    with pytest.raises(LayoutError, match="0x3000"):  # smaller than nvs_flash can use
        carry_nvs(old, retabled(0x9000, 0x2000))


def test_carry_shrinks_encrypted_nvs_only_with_its_keys() -> None:
    keys = NvsKeys.generate()
    old = Image.from_bytes(firmware(nvs=sample(keys=keys).to_bytes()))
    new_table = retabled(0x9000, 0x4000)
    with pytest.raises(LayoutError, match="encrypted; give its nvs_keys"):
        carry_nvs(old, new_table)
    (small,) = carry_nvs(old, new_table, keys)
    assert content(NvsPartition.from_bytes(small.data, keys)) == content(sample())
    (moved,) = carry_nvs(old, retabled(0x110000, 0x6000))
    assert content(NvsPartition.from_bytes(moved.data, keys)) == content(sample())


def test_carry_refuses_to_repack_damaged_nvs() -> None:
    data = bytearray(sample().to_bytes())
    data[fmt.FIRST_ENTRY_OFFSET + 8] ^= 1  # a key byte of the first item: its CRC fails
    old = Image.from_bytes(firmware(nvs=bytes(data)))
    with pytest.raises(LayoutError, match="damaged"):
        carry_nvs(old, retabled(0x9000, 0x4000))


def test_carry_leaves_unmoved_new_and_erased_partitions_alone() -> None:
    old = Image.from_bytes(firmware(nvs=sample().to_bytes()))
    assert carry_nvs(old, PartitionTable.from_csv(TABLE_CSV)) == []
    assert carry_nvs(old, retabled(0x110000, 0x6000, "cfg")) == []
    erased = Image.open(FIXTURES / "firmware-esp32-4MB.bin")
    assert carry_nvs(erased, retabled(0x300000, 0x6000)) == []


# ---------------------------------------------------------------------------- corpus-2

@pytest.mark.corpus
@pytest.mark.parametrize(("name", "address", "size", "keys"), [
    ("smooker_esp32_flash_2M.bin", 0x12000, 0xE000, 36),
    ("m5acssr_c3_merged.bin", 0x9000, 0x6000, 4),
    ("drone_esp32s2_flash_1M.bin", 0x9000, 0x5000, 0),
])
def test_corpus_dumps(name: str, address: int, size: int, keys: int) -> None:
    data = need(name)
    (found,) = find_nvs(data)
    assert (found.name, found.offset, found.nvs.size) == ("nvs", address, size)
    assert found.nvs.valid and len(found.nvs.entries()) == keys
    assert found.nvs.to_bytes() == data[address:address + size]

    edited = NvsPartition.from_bytes(found.nvs.to_bytes())
    edited.set("esp-image", "test", 1, "u8")
    new = replace_nvs(data, "nvs", edited.to_bytes())
    assert new[:address] == data[:address] and new[address + size:] == data[address + size:]
    assert find_nvs(new)[0].nvs.get("esp-image", "test").value == 1


@pytest.mark.corpus
def test_corpus_values_survive_a_move_and_a_repack() -> None:
    data = need("smooker_esp32_flash_2M.bin")
    old = Image.from_bytes(data)
    before = content(find_nvs(old)[0].nvs)
    assert ("UART", "rate", "i32", 115200) in before

    def table_with(offset: int, size: int) -> PartitionTable:
        assert old.table is not None
        parts = [p if p.name != "nvs" else replace(p, offset=offset, size=size)
                 for p in old.table]
        return replace(old.table, partitions=tuple(parts))

    (moved,) = carry_nvs(old, table_with(0x1CB000, 0xE000))
    assert moved.data == data[0x12000:0x20000]
    (small,) = carry_nvs(old, table_with(0x12000, 0x4000))  # version-1 pages, written as v2
    repacked = NvsPartition.from_bytes(small.data)
    assert repacked.valid and content(repacked) == before
