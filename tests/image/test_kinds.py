"""The kinds nvs, nvs-keys, esp-secure-cert, coredump and filesystem: as bare files and as regions
of flash files, with their checks joining the file's (issue 14 item 5, item 7; issue 15 info)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image.data_content import nvs_findings
from esp_image.formats.compiled import nvs as fmt
from esp_image.image import Image
from esp_image.nvs import NvsKeys, NvsPartition

from ..conftest import FIXTURES, ROOT, corpus_path

CORPUS = ROOT.parent / "shared" / "corpus"

# file -> (kind, valid); every data-partition file of corpus-2 and the dumps holding them.
CORPUS_KINDS = {
    "roquita_nvs_readback.bin": ("nvs", True),
    "relaymod_nvs.bin": ("nvs", True),
    "escm_nvs_secure_cert_legacy.bin": ("nvs", True),
    "ntls_nvs_encrypted.bin": ("nvs", True),
    "ntls_nvs_keys.bin": ("nvs-keys", True),
    "escm_tlv_cert_key_userdata.bin": ("esp-secure-cert", True),
    "escm_tlv_ds_rsa.bin": ("esp-secure-cert", True),
    "escm_cust_flash_tlv.bin": ("esp-secure-cert", True),
    "escm_tlv_signed.bin": ("esp-secure-cert", True),
    "cdump_esp32_elf_crc32.bin": ("coredump", True),
    "cdump_esp32_bin_v2_1.bin": ("coredump", True),
    "cdump_esp32c6_elf_sha256.bin": ("coredump", True),
    "soccer_littlefs.bin": ("filesystem", True),
    "jackoske_esp8266_littlefs.bin": ("filesystem", True),
    "teesmo_esp32_littlefs_dump.bin": ("filesystem", True),
    "jackoske_esp8266_spiffs.bin": ("filesystem", True),
    "bschulten_esp32_spiffs.bin": ("filesystem", True),
    "gcota_fatfs.bin": ("filesystem", True),
    "smooker_esp32_flash_2M.bin": ("flash", True),
}


def info_json(path: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "esp_image", "info", "--json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    doc: dict[str, object] = json.loads(out)
    return doc


@pytest.mark.parametrize("name", sorted(CORPUS_KINDS))
def test_corpus_file_kind_and_verdict(name: str) -> None:
    path = corpus_path(name)
    doc = info_json(path)
    assert (doc["kind"], doc["valid"]) == CORPUS_KINDS[name]


def _corpus(name: str) -> Image:
    path = corpus_path(name)
    return Image.open(path)


def test_corpus_nvs_namespaces_and_counts() -> None:
    doc = _corpus("smooker_esp32_flash_2M.bin").to_dict()
    nvs = next(p for p in doc["partitions"] if p["name"] == "nvs")  # type: ignore[attr-defined]
    counts = {n["name"]: n["keys"] for n in nvs["nvs"]["namespaces"]}
    assert counts == {"UART": 5, "misc": 1, "nvs.net80211": 27, "phy": 3, "NVM_005": 0}
    region = next(r for r in doc["flash"]["regions"]  # type: ignore[index]
                  if r["name"] == "nvs")
    assert region["kind"] == "nvs" and "UART: 5 keys" in region["detail"]
    # version-1 pages of an old IDF: their CRCs are checked and joined to the file's checks
    assert any(c["name"] == "nvs-entry-crc" and c["detail"].startswith("nvs: 41 ")
               for c in doc["checks"])  # type: ignore[attr-defined]


def test_corpus_merged_file_nvs_region() -> None:
    image = _corpus("m5acssr_c3_merged.bin")
    region = next(r for r in image.regions if r.name == "nvs")
    assert region.kind == "nvs"
    assert "SELECT_MODE: 4 keys" in region.detail
    assert not [c for c in image.checks if c.detail.startswith("nvs:") and not c.valid]


def test_corpus_encrypted_nvs_says_so() -> None:
    image = _corpus("ntls_nvs_encrypted.bin")
    doc = image.to_dict()["nvs"]
    assert doc["encrypted"] is True and doc["readable"] is False  # type: ignore[index]
    assert image.content is not None and "encrypted NVS" in image.content.summary


def test_dump_with_leftover_nvs_pages_stays_valid() -> None:
    """khiem's dump: two NVS pages hold leftover text, which nvs_flash takes as free pages."""
    path = CORPUS / "khiem_flash_dump_0x0_0x20000.bin"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    image = Image.open(path)
    assert image.kind == "flash" and image.valid
    assert [i.code for i in image.issues if i.code == "nvs-recoverable"] == ["nvs-recoverable"] * 2


# ---------------------------------------------------------------------- built here
NVS_FIXTURE = FIXTURES / "nvs-24K.bin"
FLASH_NVS = FIXTURES / "firmware-esp32-nvs.bin"
NVS_AT = 0x9000 - 0x1000  # the nvs partition's file offset in firmware-esp32-nvs.bin


def _item_offsets(nvs: NvsPartition) -> list[int]:
    return [c.offset for c in nvs.checks if c.name == "nvs-entry-crc"]


def _first_key(data: bytes) -> int:
    """The offset of the first key's item (not a namespace record), in a full page."""
    return NvsPartition.from_bytes(data).entries()[0].offset


def test_bare_nvs_fixture() -> None:
    image = Image.open(NVS_FIXTURE)
    assert image.kind == "nvs" and image.valid
    doc = image.to_dict()["nvs"]
    assert {n["name"]: n["keys"] for n in doc["namespaces"]} == {  # type: ignore[index]
        "wifi": 4, "app": 5}
    assert "entries" not in doc  # values are for `esp-image nvs ls`


def _flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1:]


def test_damaged_entry_in_a_full_page_fails_verify(tmp_path: Path) -> None:
    data = NVS_FIXTURE.read_bytes()
    first = _first_key(data)
    bad = tmp_path / "nvs.bin"
    bad.write_bytes(_flip(data, first + 24))  # a byte of the first item's data
    image = Image.open(bad)
    assert image.kind == "nvs" and not image.valid
    failed = [c for c in image.checks if not c.valid]
    # the item's data entries are then read as items of their own, as nvs_flash reads them
    assert failed[0].offset == first and all(c.name == "nvs-entry-crc" for c in failed)
    result = subprocess.run([sys.executable, "-m", "esp_image", "verify", str(bad)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1


def test_damaged_nvs_in_a_flash_file_is_prefixed(tmp_path: Path) -> None:
    data = FLASH_NVS.read_bytes()
    first = _first_key(data[NVS_AT:NVS_AT + 0x6000])
    bad = tmp_path / "firmware.bin"
    bad.write_bytes(_flip(data, NVS_AT + first + 24))
    image = Image.open(bad)
    failed = [c for c in image.checks if not c.valid]
    assert (failed[0].name, failed[0].offset) == ("nvs-entry-crc", NVS_AT + first)
    assert all(c.detail.startswith("nvs: ") for c in failed)
    assert Image.open(FLASH_NVS).valid


def _active_with_last_item_damaged() -> bytes:
    nvs = NvsPartition.mkfs(0x3000)
    nvs.set("ns", "a", 1, "u8")
    nvs.set("ns", "b", 2, "u8")
    data = bytearray(nvs.to_bytes())
    last = _item_offsets(NvsPartition.from_bytes(bytes(data)))[-1]
    data[last + 24] ^= 0x01
    return bytes(data)


def test_interrupted_last_write_is_a_warning() -> None:
    """Power lost while nvs_flash wrote the active page's last item: it discards it at mount."""
    image = Image.from_bytes(_active_with_last_item_damaged())
    assert image.kind == "nvs" and image.valid
    assert [i.code for i in image.issues] == ["nvs-recoverable"]
    assert "interrupted write" in image.issues[0].message


def test_damage_before_the_last_item_is_damage() -> None:
    nvs = NvsPartition.mkfs(0x3000)
    for n in range(3):
        nvs.set("ns", f"k{n}", n, "u8")
    data = bytearray(nvs.to_bytes())
    offsets = _item_offsets(NvsPartition.from_bytes(bytes(data)))
    data[offsets[1] + 24] ^= 0x01  # k0 lies before the last item: not an interrupted write
    checks, warnings = nvs_findings(NvsPartition.from_bytes(bytes(data)))
    assert not warnings and [c.offset for c in checks if not c.valid] == [offsets[1]]


def test_leftover_data_in_an_unused_page_is_a_warning() -> None:
    nvs = NvsPartition.mkfs(0x3000)
    nvs.set("ns", "a", 1, "u8")
    data = bytearray(nvs.to_bytes())
    data[0x2000:0x2010] = b"leftover junk!!!"
    image = Image.from_bytes(bytes(data))
    assert image.kind == "nvs" and image.valid
    assert "free page" in image.issues[0].message


def test_bare_nvs_keys(tmp_path: Path) -> None:
    keys = NvsKeys.generate().to_bytes()
    image = Image.from_bytes(keys)
    assert image.kind == "nvs-keys" and image.valid
    assert image.to_dict()["nvs_keys"] == {"size": 68, "crc_ok": True}


def _flash_with(data: bytes, name: str, type_: str, subtype: str, partition: bytes) -> bytes:
    """firmware-esp32-nvs.bin with its phy_init partition (0xf000, 4 KiB) replaced by
    ``partition`` as ``name`` (``type_``/``subtype``); the table grows to fit it."""
    from esp_image.partition_table import PartitionTable

    table_at = 0x8000 - 0x1000
    table = PartitionTable.from_bytes(data[table_at:table_at + 0x1000])
    csv = table.to_csv().replace("phy_init", name)
    lines = [line if not line.startswith(name) else
             f"{name}, {type_}, {subtype}, 0xf000, {len(partition):#x},"
             for line in csv.splitlines()]
    new = PartitionTable.from_csv("\n".join(lines)).to_bytes()
    out = bytearray(data)
    out[table_at:table_at + len(new)] = new
    if 0xf000 - 0x1000 + len(partition) > len(out):
        raise AssertionError("partition does not fit the fixture")
    out[0xe000:0xe000 + len(partition)] = partition
    return bytes(out)


def test_coredump_and_nvs_keys_regions_in_a_flash_file() -> None:
    data = FLASH_NVS.read_bytes()
    dump = (FIXTURES / "coredump-esp32-bin-crc32.bin").read_bytes()[:0x1000]
    flash = _flash_with(data, "coredump", "data", "coredump", dump)
    image = Image.from_bytes(flash)
    region = next(r for r in image.regions if r.name == "coredump")
    assert region.kind == "coredump" and "2 tasks" in region.detail
    assert image.valid
    bad = bytearray(flash)
    bad[0xe000 + 0x40] ^= 0xFF
    image = Image.from_bytes(bytes(bad))
    assert [c.name for c in image.checks if not c.valid] == ["crc32"]
    keys = _flash_with(data, "nvs_keys", "data", "nvs_keys", NvsKeys.generate().to_bytes())
    region = next(r for r in Image.from_bytes(keys).regions if r.name == "nvs_keys")
    assert region.kind == "nvs-keys"


def test_erased_coredump_partition_is_fine() -> None:
    flash = _flash_with(FLASH_NVS.read_bytes(), "coredump", "data", "coredump",
                        b"\xff" * 0x1000)
    image = Image.from_bytes(flash)
    assert image.valid
    assert next(r for r in image.regions if r.name == "coredump").kind == "erased"


def test_secure_cert_region_by_name() -> None:
    cert = (FIXTURES / "esp-secure-cert.bin").read_bytes()[:0x1000]
    flash = _flash_with(FLASH_NVS.read_bytes(), "esp_secure_cert", "0x3f", "0", cert)
    image = Image.from_bytes(flash)
    region = next(r for r in image.regions if r.name == "esp_secure_cert")
    assert region.kind == "esp-secure-cert"
    assert any(c.name == "crc32" and c.detail.startswith("esp_secure_cert: ")
               for c in image.checks)


def test_encrypted_nvs_read_with_the_files_keys() -> None:
    keys = NvsKeys.generate()
    plain = NvsPartition.mkfs(0x3000, keys)
    plain.set("wifi", "ssid", "home")
    encrypted = plain.to_bytes()
    assert not NvsPartition.from_bytes(encrypted).readable
    data = FLASH_NVS.read_bytes()
    flash = bytearray(_flash_with(data, "nvs_keys", "data", "nvs_keys", keys.to_bytes()))
    flash[NVS_AT:NVS_AT + 0x6000] = encrypted + b"\xff" * 0x3000
    image = Image.from_bytes(bytes(flash))
    nvs = next(p for p in image.partitions if p.partition.name == "nvs")
    assert nvs.content is not None and "wifi: 1 key" in nvs.content.summary
    assert any("nvs_keys" in n for n in nvs.content.notes)


def test_filesystem_partitions_are_filesystem_regions() -> None:
    image = Image.open(FIXTURES / "firmware-esp32-lfs.bin")
    assert next(r for r in image.regions if r.name == "vfs").kind == "filesystem"


def test_a_dump_is_not_taken_for_bare_nvs() -> None:
    """A dump holds NVS pages too; its other sectors keep it a flash file."""
    dump = (b"\xff" * 0x1000 + FLASH_NVS.read_bytes()).ljust(0x40000, b"\xff")
    assert len(dump) % fmt.PAGE_SIZE == 0
    assert Image.from_bytes(dump).kind == "flash"
