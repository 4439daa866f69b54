"""The NVS model against tools we did not write: ESP-IDF's generator (PyPI
``esp-idf-nvs-partition-gen``), ESP-IDF's parser and checker ``nvs_tool.py`` and its sample
CSVs (../shared/oracles), and the NVS partitions of the real corpus (../shared/corpus-2).
Everything here skips cleanly when ../shared or the generator is absent."""

from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image.nvs import NvsKeys, NvsPartition
from esp_image.nvs.csv_io import import_csv, read_csv

from ...conftest import CORPUS2, ROOT

SHARED = ROOT.parent / "shared"
SAMPLES = SHARED / "oracles" / "esp-idf-nvs-samples"
NVS_TOOL = SHARED / "oracles" / "esp-idf-nvs_partition_tool" / "nvs_tool.py"

pytestmark = pytest.mark.oracle

# (file, offset, size): bare NVS partitions, and the nvs partitions inside flash dumps
# (offsets from each dump's partition table, as listed in corpus-2/MANIFEST.tsv)
CORPUS_NVS = [
    ("relaymod_nvs.bin", 0, None),
    ("roquita_nvs_readback.bin", 0, None),
    ("escm_nvs_secure_cert_legacy.bin", 0, None),
    ("smooker_esp32_flash_2M.bin", 0x12000, 0xE000),
    ("m5acssr_c3_merged.bin", 0x9000, 0x6000),
    ("drone_esp32s2_flash_1M.bin", 0x9000, 0x5000),
]


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not available (../shared absent)")
    return path


def generate(csv_path: Path, out: Path, size: int, *extra: str, command: str = "generate"
             ) -> bytes:
    """Run ESP-IDF's generator (from PyPI) on ``csv_path``."""
    pytest.importorskip("esp_idf_nvs_partition_gen")
    result = subprocess.run(
        [sys.executable, "-m", "esp_idf_nvs_partition_gen", command, str(csv_path), out.name,
         hex(size), "--outdir", str(out.parent), *extra],
        capture_output=True, text=True, check=False, cwd=csv_path.parent)
    assert result.returncode == 0 and out.is_file(), result.stdout + result.stderr
    return out.read_bytes()


def nvs_tool(data: bytes, tmp_path: Path) -> tuple[list[str], list[dict[str, object]]]:
    """ESP-IDF's checker: the lines of ``-i`` that report a problem, and ``--dump minimal``."""
    need(NVS_TOOL)
    path = tmp_path / "nvs_tool_input.bin"
    path.write_bytes(data)
    base = [sys.executable, str(NVS_TOOL), "--color", "never", str(path)]
    check = subprocess.run([*base, "-i", "-d", "none"], capture_output=True, text=True,
                           check=False)
    if "No module named" in check.stderr:
        pytest.skip(f"nvs_tool.py cannot run: {check.stderr.strip().splitlines()[-1]}")
    problems = [line for line in (check.stdout + check.stderr).splitlines()
                if any(w in line for w in ("wrong", "rror", "WARN", "!"))]
    dump = subprocess.run([*base, "-d", "minimal", "-f", "json"], capture_output=True,
                          text=True, check=True)
    return problems, json.loads(dump.stdout)


def assert_matches_dump(part: NvsPartition, dump: list[dict[str, object]]) -> None:
    """Every value nvs_tool dumps is what esp-image reads (blob chunks joined in order)."""
    mine = {(e.namespace, e.key): e for e in part.entries()}
    chunks: dict[tuple[str, str], bytes] = {}
    for row in dump:
        where = (str(row["namespace"]), str(row["key"]))
        data = row["data"]
        if row["encoding"] == "blob_data":
            chunks[where] = chunks.get(where, b"") + base64.b64decode(str(data))
            continue
        entry = mine[where]
        if row["encoding"] == "blob":
            assert entry.value == base64.b64decode(str(data)), where
        else:
            assert entry.value == data, where
    for where, blob in chunks.items():
        assert mine[where].value == blob, where
    assert set(mine) <= {(str(r["namespace"]), str(r["key"])) for r in dump}


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """ESP-IDF's sample CSVs with their test data; the two blob files the samples name but
    ESP-IDF does not ship are made here."""
    folder = tmp_path / "samples"
    shutil.copytree(need(SAMPLES), folder)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (folder / "testdata" / "sample_singlepage_blob.bin").write_bytes(
        bytes((i * 5 + 1) % 256 for i in range(1500)))
    (folder / "testdata" / "sample_multipage_blob.bin").write_bytes(
        bytes((i * 7 + 3) % 256 for i in range(10000)))
    return folder


@pytest.mark.parametrize("name", ["sample_val", "sample_singlepage_blob",
                                  "sample_multipage_blob"])
def test_generator_samples_read_back_and_match_byte_for_byte(samples: Path, name: str,
                                                             tmp_path: Path) -> None:
    csv_path = samples / f"{name}.csv"
    generated = generate(csv_path, tmp_path / f"{name}.bin", 0x6000)
    part = NvsPartition.from_bytes(generated)
    assert part.valid
    rows = read_csv(csv_path.read_text(), samples)
    assert {(e.namespace, e.key): e.value for e in part.entries()} == {
        (ns, key): value for ns, key, _, value in rows}
    mine = import_csv(NvsPartition.mkfs(0x6000), csv_path.read_text(), base_dir=samples)
    assert mine.to_bytes() == generated


def every_type_csv(folder: Path) -> Path:
    """A CSV with every type and encoding the generator takes, at their limits."""
    (folder / "multi.bin").write_bytes(bytes(random.Random(3).randrange(256)
                                             for _ in range(9000)))
    (folder / "text.txt").write_text("from a file\nwith two lines")
    (folder / "hex.txt").write_text("deadbeef00ff")
    (folder / "b64.txt").write_text(base64.b64encode(b"base64 file").decode())
    rows = [
        "key,type,encoding,value", "first,namespace,,",
        "u8min,data,u8,0", "u8max,data,u8,255", "i8min,data,i8,-128", "i8max,data,i8,127",
        "u16max,data,u16,65535", "i16min,data,i16,-32768", "u32max,data,u32,4294967295",
        "i32min,data,i32,-2147483648", "u64max,data,u64,18446744073709551615",
        "i64min,data,i64,-9223372036854775808", 'str,data,string,"quoted, with comma"',
        "empty,data,string,", "hex,data,hex2bin,0011aabb", "b64,data,base64,aGVsbG8=",
        "second,namespace,,", "ftext,file,string,text.txt", "fhex,file,hex2bin,hex.txt",
        "fb64,file,base64,b64.txt", "fbin,file,binary,multi.bin",
        "fifteen_chars_k,data,u8,15",
    ]
    path = folder / "every.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_generator_every_type_read_back_and_match(tmp_path: Path) -> None:
    csv_path = every_type_csv(tmp_path)
    generated = generate(csv_path, tmp_path / "every.bin", 0x8000)
    part = NvsPartition.from_bytes(generated)
    assert part.valid
    rows = read_csv(csv_path.read_text(), tmp_path)
    for ns, key, type_name, value in rows:
        entry = part.get(ns, key)
        assert (entry.type, entry.value) == (type_name, value), key
    mine = import_csv(NvsPartition.mkfs(0x8000), csv_path.read_text(), base_dir=tmp_path)
    assert mine.to_bytes() == generated


def test_generator_encrypted_partition_reads_with_keys(tmp_path: Path) -> None:
    csv_path = every_type_csv(tmp_path)
    keys = NvsKeys.generate()
    (tmp_path / "keys.bin").write_bytes(keys.to_bytes())
    generated = generate(csv_path, tmp_path / "enc.bin", 0x8000, "--inputkey",
                         str(tmp_path / "keys.bin"), command="encrypt")
    part = NvsPartition.from_bytes(generated, NvsKeys.from_bytes(
        (tmp_path / "keys.bin").read_bytes()))
    assert part.valid and part.encrypted
    for ns, key, _, value in read_csv(csv_path.read_text(), tmp_path):
        assert part.get(ns, key).value == value
    mine = import_csv(NvsPartition.mkfs(0x8000, keys), csv_path.read_text(),
                      base_dir=tmp_path)
    assert mine.to_bytes() == generated
    locked = NvsPartition.from_bytes(generated)
    assert locked.encrypted and not locked.readable and locked.entries() == []


def edited_partition() -> NvsPartition:
    """A partition after many nvs_flash-style edits: overwrites, type changes, removals,
    multi-page blobs and garbage collection."""
    rnd = random.Random(11)
    part = NvsPartition.mkfs(0x6000)
    for n in range(600):
        key = f"k{rnd.randrange(25)}"
        kind = rnd.choice(["u32", "i8", "string", "blob"])
        value: int | str | bytes = {
            "u32": rnd.randrange(2**32), "i8": rnd.randrange(-128, 128),
            "string": "s" * rnd.randrange(60),
            "blob": bytes(rnd.randrange(256) for _ in range(rnd.randrange(600)))}[kind]
        part.set(rnd.choice(["alpha", "beta"]), key, value, kind)
        if n % 37 == 0:
            entry = rnd.choice(part.entries())
            part.remove(entry.namespace, entry.key)
    return part


def test_nvs_tool_finds_no_error_in_what_esp_image_writes(tmp_path: Path) -> None:
    from .test_nvs_model import sample

    for part in (sample(), edited_partition(), NvsPartition.mkfs(0x3000)):
        data = part.to_bytes()
        problems, dump = nvs_tool(data, tmp_path)
        assert problems == []
        assert_matches_dump(NvsPartition.from_bytes(data), dump)


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "offset", "size"), CORPUS_NVS)
def test_corpus_nvs_reads_like_nvs_tool(name: str, offset: int, size: int | None,
                                        tmp_path: Path) -> None:
    raw = need(CORPUS2 / name).read_bytes()
    data = raw[offset:offset + size] if size else raw
    part = NvsPartition.from_bytes(data)
    assert part.valid, part.damage
    assert part.to_bytes() == data
    _, dump = nvs_tool(data, tmp_path)
    assert_matches_dump(part, dump)


@pytest.mark.corpus
def test_old_blob_format_sample_reads_like_nvs_tool(tmp_path: Path) -> None:
    data = need(SAMPLES / "part_old_blob_format.bin").read_bytes()
    part = NvsPartition.from_bytes(data)
    assert part.valid
    assert {e.blob_version for e in part.entries() if e.type == "blob"} == {1}
    assert_matches_dump(part, nvs_tool(data, tmp_path)[1])


@pytest.mark.corpus
def test_encrypted_corpus_partition() -> None:
    data = need(CORPUS2 / "ntls_nvs_encrypted.bin").read_bytes()
    keys = NvsKeys.from_bytes(need(CORPUS2 / "ntls_nvs_keys.bin").read_bytes())
    part = NvsPartition.from_bytes(data, keys)
    assert part.valid and part.encrypted
    assert [(e.key, e.value) for e in part.entries("setup")] == [
        ("model", "IR_SW_BL10"), ("serial", "10000"), ("firmware", "RTOS3.4"),
        ("application", "V1"), ("aeskey", "0123456789123456"), ("identity", "@asp432")]
    part.set("setup", "serial", "10001")
    again = NvsPartition.from_bytes(part.to_bytes(), keys)
    assert again.get("setup", "serial").value == "10001" and again.valid
    locked = NvsPartition.from_bytes(data)
    assert locked.encrypted and not locked.readable and locked.valid
    assert [p["state"] for p in locked.to_dict()["pages"]] == [  # type: ignore[union-attr]
        "full", "full", "empty"]


@pytest.mark.corpus
def test_edit_corpus_partition_keeps_other_pages(tmp_path: Path) -> None:
    data = need(CORPUS2 / "roquita_nvs_readback.bin").read_bytes()
    part = NvsPartition.from_bytes(data)
    part.set("main", "ssid", "another")
    out = part.to_bytes()
    changed = {i // 0x1000 for i in range(len(data)) if data[i] != out[i]}
    assert changed == {0, 5}  # the old value's page (erased bit) and the active page
    problems, dump = nvs_tool(out, tmp_path)
    assert problems == []
    assert_matches_dump(NvsPartition.from_bytes(out), dump)
