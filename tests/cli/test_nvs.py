"""``esp-image nvs`` (issue 15): every command on a bare NVS partition, a merged firmware and a
flash dump, checked against ESP-IDF's own parser (``nvs_tool.py``) and generator
(``esp-idf-nvs-partition-gen``), and every bad request with its exit code and one line.

The commands run in-process through the console script's own entry (``_typer_main``), and once
as a separate interpreter; corpus files skip cleanly when ../shared is absent."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from esp_image.entry import _typer_main
from esp_image.nvs import NvsKeys, NvsPartition, find_nvs, select_nvs

from ..conftest import CORPUS2, FIXTURES
from ..models.nvs.test_nvs_oracles import assert_matches_dump, generate, nvs_tool
from .test_json_doc import assert_matches

FIXTURE = FIXTURES / "firmware-esp32-nvs.bin"
NVS_AT = 0x8000  # file offset of the fixture's nvs partition (flash 0x9000, file base 0x1000)
NVS_SIZE = 0x6000

# What fixtures/_tools/make_fixtures.py's NVS_CSV stores (the generator wrote it)
FIXTURE_KEYS = {
    ("wifi", "ssid"): ("string", "home-network"),
    ("wifi", "password"): ("string", "correct horse battery staple"),
    ("wifi", "channel"): ("u8", 6),
    ("wifi", "rssi_min"): ("i8", -70),
    ("app", "boot_count"): ("u32", 42),
    ("app", "serial"): ("i64", -1234567890123),
    ("app", "mac"): ("blob", bytes.fromhex("246f28a1b2c3")),
}


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
        ) -> Cli:
    """``cli("nvs", FILE, ...)``: run esp-image in ``tmp_path``, as the console script does."""
    monkeypatch.chdir(tmp_path)

    def run(*args: object) -> Result:
        capsys.readouterr()
        code = _typer_main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)
    return run


def need(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} not available (../shared absent)")
    return path


@dataclass(frozen=True)
class Target:
    """A file holding NVS, where its partition lies, and what ``--partition`` it needs."""

    path: Path
    offset: int
    size: int
    args: tuple[str, ...] = ()

    def nvs(self, path: Path | None = None) -> bytes:
        data = (path or self.path).read_bytes()
        return data[self.offset:self.offset + self.size]


@pytest.fixture(params=["bare", "merged", "dump"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """The fixture's NVS partition on its own, the merged fixture firmware, and a real
    2 MB flash dump whose nvs is at 0x12000 (../shared/corpus-2)."""
    if request.param == "bare":
        path = tmp_path / "nvs.bin"
        path.write_bytes(FIXTURE.read_bytes()[NVS_AT:NVS_AT + NVS_SIZE])
        return Target(path, 0, NVS_SIZE)
    if request.param == "merged":
        path = tmp_path / "firmware.bin"
        shutil.copy(FIXTURE, path)
        return Target(path, NVS_AT, NVS_SIZE)
    path = tmp_path / "dump.bin"
    shutil.copy(need(CORPUS2 / "smooker_esp32_flash_2M.bin"), path)
    return Target(path, 0x12000, 0xE000, ("--partition", "nvs"))


def assert_only_nvs_changed(target: Target, out: Path, tmp_path: Path) -> NvsPartition:
    """Every byte outside the NVS partition as it was; ESP-IDF's checker finds no error in
    the partition the input did not have, and dumps what esp-image reads."""
    before, after = target.path.read_bytes(), out.read_bytes()
    assert len(after) == len(before)
    end = target.offset + target.size
    assert after[:target.offset] == before[:target.offset]
    assert after[end:] == before[end:]
    part = NvsPartition.from_bytes(target.nvs(out))
    assert part.valid, part.damage
    problems, dump = nvs_tool(target.nvs(out), tmp_path)
    assert set(problems) <= set(nvs_tool(target.nvs(), tmp_path)[0])
    assert_matches_dump(part, dump)
    return part


# ------------------------------------------------------------------------------- reading

def test_ls_fixture_lists_what_the_generator_wrote(cli: Cli) -> None:
    result = cli("nvs", FIXTURE, "ls", "--json")
    assert result.code == 0, result.err
    doc = result.json()
    found = {(e["namespace"], e["key"]): e for e in doc}
    for where, (type_name, value) in FIXTURE_KEYS.items():
        entry = found[where]
        assert entry["type"] == type_name
        if isinstance(value, bytes):
            assert (entry["encoding"], entry["size"]) == ("base64", len(value))
            assert base64.b64decode(entry["value"]) == value
        else:
            assert entry["value"] == value
    cal = found[("app", "cal")]
    assert cal["size"] == 5000 and len(base64.b64decode(cal["value"])) == 5000
    banner = found[("app", "banner")]["value"]
    assert len(banner) == 71  # complete in JSON
    for entry in doc:
        assert_matches("NVS entry", entry)


def test_ls_text_shortens_long_strings_and_blobs(cli: Cli) -> None:
    result = cli("nvs", FIXTURE, "ls")
    assert result.code == 0 and result.err == ""
    assert "nvs (0x9000): 9 key(s) in 2 namespace(s)" in result.out
    assert re.search(r"app +banner +string +Welcome to the fixture.*\.\.\. \(71 chars\)",
                     result.out)
    assert re.search(r"app +cal +blob +[0-9a-f]{32}\.\.\. \(5000 bytes\)", result.out)
    assert re.search(r"app +mac +blob +246f28a1b2c3 \(6 bytes\)", result.out)
    assert "correct horse battery staple" in result.out
    only = cli("nvs", FIXTURE, "ls", "wifi")
    assert "wifi" in only.out and " app " not in only.out


def test_ls_and_get_on_every_target(cli: Cli, target: Target, tmp_path: Path) -> None:
    result = cli("nvs", target.path, *target.args, "ls", "--json")
    assert result.code == 0, result.err
    listed = result.json()
    part = NvsPartition.from_bytes(target.nvs())
    assert listed == [e.to_dict() for e in part.entries()]
    _, dump = nvs_tool(target.nvs(), tmp_path)
    assert_matches_dump(part, dump)
    for entry in part.entries():
        got = cli("nvs", target.path, *target.args, "get", entry.namespace, entry.key, "--json")
        assert got.code == 0 and got.json() == entry.to_dict()
        text = cli("nvs", target.path, *target.args, "get", entry.namespace, entry.key)
        expected = entry.value.hex() if isinstance(entry.value, bytes) else str(entry.value)
        assert text.out == expected + "\n"


def test_get_writes_a_multi_page_blob_whole(cli: Cli, tmp_path: Path) -> None:
    result = cli("nvs", FIXTURE, "get", "app", "cal", "-o", "cal.bin")
    assert result.code == 0 and result.out == "wrote cal.bin (5000 bytes)\n"
    stored = NvsPartition.from_bytes(FIXTURE.read_bytes()[NVS_AT:NVS_AT + NVS_SIZE])
    assert (tmp_path / "cal.bin").read_bytes() == stored.get("app", "cal").value
    assert stored.get("app", "cal").blob_version == 2
    assert cli("nvs", FIXTURE, "get", "wifi", "ssid", "-o", "ssid.txt").code == 0
    assert (tmp_path / "ssid.txt").read_bytes() == b"home-network"
    doc = cli("nvs", FIXTURE, "get", "wifi", "channel", "-o", "ch.txt", "--json").json()
    assert doc["output"] == "ch.txt" and (tmp_path / "ch.txt").read_bytes() == b"6\n"
    assert_matches("NVS entry", doc)


# ------------------------------------------------------------------------------- writing

def test_set_then_get_on_every_target(cli: Cli, target: Target, tmp_path: Path) -> None:
    (tmp_path / "payload.bin").write_bytes(bytes(range(256)) * 20)
    values = [("u16", "0x1234", 0x1234), ("i32", "-5", -5), ("u64", "18446744073709551615",
                                                               2**64 - 1),
              ("string", "hello, world", "hello, world"), ("blob", "raw", b"raw"),
              ("hex2bin", "00ff10", b"\x00\xff\x10"), ("base64", "aGk=", b"hi"),
              ("file", "payload.bin", bytes(range(256)) * 20)]
    current = target.path
    for n, (type_name, text, value) in enumerate(values):
        out = tmp_path / f"out{n}.bin"
        result = cli("nvs", current, *target.args, "-o", out, "set", "esp_image_test",
                     f"k_{type_name}", text, "--type", type_name)
        assert result.code == 0, result.err
        got = cli("nvs", out, *target.args, "get", "esp_image_test", f"k_{type_name}",
                  "--json").json()
        stored = base64.b64decode(got["value"]) if got["type"] == "blob" else got["value"]
        assert stored == value
        current = out
    final = Target(current, target.offset, target.size)
    part = assert_only_nvs_changed(target, current, tmp_path)
    before = NvsPartition.from_bytes(target.nvs())
    assert {(e.namespace, e.key, e.value) for e in before.entries()} <= {
        (e.namespace, e.key, e.value) for e in part.entries()}
    # the type comes from the existing key when --type is omitted
    assert cli("nvs", final.path, *target.args, "--in-place", "set", "esp_image_test",
               "k_u16", "7").code == 0
    assert select_nvs(final.path.read_bytes(), target.args[1] if target.args else None
                      ).nvs.get("esp_image_test", "k_u16").value == 7


def test_set_changes_only_the_pages_nvs_flash_writes(cli: Cli, tmp_path: Path) -> None:
    shutil.copy(FIXTURE, tmp_path / "fw.bin")
    result = cli("nvs", "fw.bin", "set", "wifi", "ssid", "office")
    assert result.code == 0
    assert result.out.splitlines() == ["wrote fw-nvs.bin (208976 bytes)",
                                       "  - nvs (0x9000): set wifi:ssid (string) = office"]
    before = FIXTURE.read_bytes()
    after = (tmp_path / "fw-nvs.bin").read_bytes()
    pages = {(i - NVS_AT) // 0x1000 for i in range(len(before)) if before[i] != after[i]}
    # the old value's page (its entry-state bits) and the active page that gets the new value
    old = NvsPartition.from_bytes(before[NVS_AT:NVS_AT + NVS_SIZE])
    active = [p.index for p in old.pages if p.state_name == "active"]
    assert pages == {old.get("wifi", "ssid").offset // 0x1000, *active}
    again = cli("nvs", "fw-nvs.bin", "-o", "same.bin", "set", "wifi", "ssid", "office")
    assert again.code == 0 and again.out.startswith("nothing to change")
    assert not (tmp_path / "same.bin").exists()


def test_set_negative_number_is_a_value(cli: Cli, tmp_path: Path) -> None:
    shutil.copy(FIXTURE, tmp_path / "fw.bin")
    assert cli("nvs", "fw.bin", "--in-place", "set", "wifi", "rssi_min", "-80").code == 0
    assert cli("nvs", "fw.bin", "get", "wifi", "rssi_min").out == "-80\n"


def test_rm_key_and_namespace_on_every_target(cli: Cli, target: Target, tmp_path: Path
                                              ) -> None:
    part = NvsPartition.from_bytes(target.nvs())
    first = part.entries()[0]
    out = tmp_path / "rm1.bin"
    assert cli("nvs", target.path, *target.args, "-o", out, "rm", first.namespace,
               first.key).code == 0
    assert cli("nvs", out, *target.args, "get", first.namespace, first.key).code == 2
    after = assert_only_nvs_changed(target, out, tmp_path)
    assert len(after.entries()) == len(part.entries()) - 1
    out2 = tmp_path / "rm2.bin"
    result = cli("nvs", out, *target.args, "-o", out2, "rm", first.namespace, "--json")
    assert result.code == 0 and result.json()["written"] is True
    assert_matches("Write document", result.json())
    gone = assert_only_nvs_changed(target, out2, tmp_path)
    assert first.namespace not in {ns.name for ns in gone.namespaces()}
    assert [e for e in gone.entries() if e.namespace == first.namespace] == []


def test_export_import_round_trip_on_every_target(cli: Cli, target: Target, tmp_path: Path
                                                  ) -> None:
    result = cli("nvs", target.path, *target.args, "export", "-o", "nvs.csv")
    assert result.code == 0, result.err
    csv_text = (tmp_path / "nvs.csv").read_text()
    assert csv_text.startswith("key,type,encoding,value\n")
    out = tmp_path / "replaced.bin"
    result = cli("nvs", target.path, *target.args, "-o", out, "--force", "import", "nvs.csv",
                 "--replace")
    assert result.code == 0, result.err
    before = NvsPartition.from_bytes(target.nvs())
    if out.exists():  # a partition written in CSV order is rewritten byte for byte
        after = assert_only_nvs_changed(target, out, tmp_path)
        assert {(e.namespace, e.key, e.type, e.value) for e in after.entries()} == {
            (e.namespace, e.key, e.type, e.value) for e in before.entries()}
    # ESP-IDF's generator reads the exported CSV and stores the same keys
    generated = NvsPartition.from_bytes(generate(tmp_path / "nvs.csv", tmp_path / "gen.bin",
                                                 target.size))
    assert {(e.namespace, e.key, e.value) for e in generated.entries()} == {
        (e.namespace, e.key, e.value) for e in before.entries()}


def test_import_merges_and_matches_the_generator_byte_for_byte(cli: Cli, tmp_path: Path
                                                               ) -> None:
    (tmp_path / "blob.bin").write_bytes(bytes(range(200)) * 30)
    (tmp_path / "new.csv").write_text(
        "key,type,encoding,value\nwifi,namespace,,\nssid,data,string,imported\n"
        "extra,namespace,,\ncount,data,u16,512\nblob,file,binary,blob.bin\n")
    assert cli("nvs", FIXTURE, "-o", "merged.bin", "import", "new.csv").code == 0
    part = select_nvs((tmp_path / "merged.bin").read_bytes()).nvs
    assert part.get("wifi", "ssid").value == "imported"
    assert part.get("wifi", "channel").value == 6  # merged: the other keys stay
    assert part.get("extra", "blob").value == bytes(range(200)) * 30
    # into a fresh partition, what esp-image writes is what ESP-IDF's generator writes
    assert cli("nvs", "fresh.bin", "mkfs", "--size", "0x5000").code == 0
    assert cli("nvs", "fresh.bin", "--in-place", "import", "new.csv").code == 0
    assert (tmp_path / "fresh.bin").read_bytes() == generate(
        tmp_path / "new.csv", tmp_path / "gen.bin", 0x5000)


def test_mkfs_new_file_and_inside_a_firmware(cli: Cli, tmp_path: Path) -> None:
    result = cli("nvs", "empty.bin", "mkfs", "--size", "12K", "--json")
    assert result.code == 0 and result.json()["size"] == 0x3000
    assert_matches("Write document", result.json())
    problems, dump = nvs_tool((tmp_path / "empty.bin").read_bytes(), tmp_path)
    assert problems == [] and dump == []
    assert cli("nvs", "default.bin", "mkfs").code == 0
    assert (tmp_path / "default.bin").stat().st_size == 0x6000
    target = Target(FIXTURE, NVS_AT, NVS_SIZE)
    assert cli("nvs", FIXTURE, "-o", "wiped.bin", "mkfs").code == 0
    wiped = assert_only_nvs_changed(target, tmp_path / "wiped.bin", tmp_path)
    assert wiped.entries() == []
    missing = cli("nvs", "missing.bin", "-o", "x.bin", "mkfs")  # -o: FILE is read
    assert missing.code == 2 and "missing.bin" in missing.err
    bad = cli("nvs", FIXTURE, "-o", "x.bin", "mkfs", "--size", "0x3000")
    assert bad.code == 2 and "0x3000 bytes; nvs is 0x6000" in bad.err


# ------------------------------------------------------------------------------- encrypted

def test_encrypted_nvs_without_and_with_keys(cli: Cli, tmp_path: Path) -> None:
    data = need(CORPUS2 / "ntls_nvs_encrypted.bin")
    keys = need(CORPUS2 / "ntls_nvs_keys.bin")
    locked = cli("nvs", data, "ls")
    assert locked.code == 2
    assert locked.err.splitlines() == [
        "esp-image: error: NVS partition image: the NVS entries are encrypted; give --keys "
        "NVS_KEYS_FILE (its nvs_keys partition) to read them"]
    assert "page headers" in locked.out and re.search(r"0 +0x0 +full +0 +13", locked.out)
    doc = cli("nvs", data, "get", "setup", "serial", "--json").json()
    assert doc["encrypted"] is True and len(doc["pages"]) == 3
    assert_matches("Error document", doc)
    for page in doc["pages"]:
        assert_matches("NVS page", page)
    assert cli("nvs", data, "-o", "x.bin", "set", "setup", "serial", "1").code == 2
    assert not (tmp_path / "x.bin").exists()
    opened = cli("nvs", data, "--keys", keys, "get", "setup", "model")
    assert opened.code == 0 and opened.out == "IR_SW_BL10\n"
    assert cli("nvs", data, "--keys", keys, "-o", "enc.bin", "set", "setup", "serial",
               "10001").code == 0
    again = NvsPartition.from_bytes((tmp_path / "enc.bin").read_bytes(),
                                    NvsKeys.from_bytes(keys.read_bytes()))
    assert again.valid and again.get("setup", "serial").value == "10001"
    assert cli("nvs", "enc.bin", "ls").code == 2  # still encrypted on flash
    wrong = tmp_path / "wrong-keys.bin"
    wrong.write_bytes(NvsKeys.generate().to_bytes())
    bad = cli("nvs", data, "--keys", wrong, "ls")
    assert bad.code == 2 and "do not decrypt" in bad.err


# ------------------------------------------------------------------------------- bad input

def _files(tmp_path: Path) -> None:
    """two.bin: a firmware with two NVS partitions; damaged.bin: an NVS image with one entry
    broken; full.bin: an NVS image with no room left."""
    from ..models.nvs.test_nvs_files import TABLE_CSV, firmware, sample

    table = TABLE_CSV.replace("0x9000,  0x6000", "0x9000,  0x5000").replace(
        "phy_init, data, phy,     0xf000,  0x1000,", "nvs2,     data, nvs,     0xe000,  0x2000,")
    (tmp_path / "two.bin").write_bytes(firmware(table, sample(0x5000).to_bytes()))
    damaged = bytearray(sample().to_bytes())
    damaged[0x68] ^= 0xFF  # inside the first key's entry, after the namespace record
    (tmp_path / "damaged.bin").write_bytes(bytes(damaged))
    full = NvsPartition.mkfs(0x3000)
    full.set("ns", "a", bytes(3900))
    full.set("ns", "b", bytes(3900))
    (tmp_path / "full.bin").write_bytes(full.to_bytes())
    shutil.copy(FIXTURE, tmp_path / "fw.bin")


# (arguments, exit code, what the one line says)
BAD = [
    ("two.bin ls", 2, "2 NVS partitions (nvs, nvs2); name one with --partition NAME"),
    ("two.bin --partition nvs3 ls", 2, "no NVS partition 'nvs3' (NVS partitions: nvs, nvs2)"),
    ("damaged.bin --partition nvs ls", 2, "bare NVS partition image; --partition does not"),
    ("damaged.bin -o x.bin set wifi ssid x", 2, "NVS is damaged (2 finding(s), first at 0x60"),
    ("damaged.bin -o x.bin rm wifi", 2, "write with --force"),
    ("full.bin -o x.bin set ns c " + "a" * 1000, 2, "NVS is full: c needs 1056 bytes"),
    ("fw.bin -o x.bin set wifi sixteen_chars_ke 1", 2, "is 16 bytes; ESP-IDF allows at most 15"),
    ("fw.bin -o x.bin set sixteen_chars_ns k 1", 2, "namespace 'sixteen_chars_ns' is 16 bytes"),
    ("fw.bin -o x.bin set wifi channel 256", 2, "channel: 256 does not fit u8 (0..255)"),
    ("fw.bin -o x.bin set wifi k 1 --type u128", 2, "unknown NVS value type 'u128'"),
    ("fw.bin -o x.bin set wifi k zz --type hex2bin", 2, "hex2bin value 'zz'"),
    ("fw.bin -o x.bin set wifi k !!! --type base64", 2, "base64 value '!!!'"),
    ("fw.bin -o x.bin set wifi k missing.bin --type file", 2, "cannot read 'missing.bin'"),
    ("fw.bin -o x.bin set wifi k " + "s" * 4000, 2, "string of 4001 bytes (with its NUL)"),
    ("fw.bin -o x.bin rm nope", 2, "NVS has no namespace 'nope'"),
    ("fw.bin -o x.bin rm wifi nope", 2, "NVS namespace 'wifi' has no key 'nope'"),
    ("fw.bin -o x.bin import missing.csv", 2, "missing.csv"),
    ("fw.bin get wifi nope", 2, "NVS namespace 'wifi' has no key 'nope'"),
    ("fw.bin ls nope", 2, "NVS has no namespace 'nope'"),
    ("fw.bin export", 2, "export needs -o FILE.csv"),
    ("fw.bin -o fw.bin set wifi ssid x", 2, "--in-place"),
    ("fw.bin -o x.bin --in-place set wifi ssid x", 2, "either -o/--output or --in-place"),
    ("fw.bin get wifi ssid -o fw.bin", 2, "--in-place"),
    ("fw.bin mkfs --size 12Q -o x.bin", 2, "--size"),
    ("fw.bin --keys missing.bin ls", 2, "missing.bin"),
    ("fw.bin", 2, "nvs needs a COMMAND after FILE: one of ls, get, export, set, rm, import"),
    ("fw.bin set wifi", 2, "Missing argument"),
    ("fw.bin ls --bogus", 2, "No such option: --bogus"),
    ("missing.bin ls", 2, "missing.bin"),
    (f"{FIXTURES / 'esp32-app.bin'} ls", 2, "0 NVS partitions"),
]


@pytest.mark.parametrize(("line", "code", "says"), BAD, ids=[b[0][:50] for b in BAD])
def test_bad_input_one_line_and_exit_code(cli: Cli, tmp_path: Path, line: str, code: int,
                                          says: str) -> None:
    _files(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = cli("nvs", *line.split())
    lines = result.err.splitlines()
    assert result.code == code, result.err
    assert len(lines) == 1 and lines[0].startswith("esp-image: error: "), result.err
    assert says in lines[0]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing written


def test_json_errors_are_one_document(cli: Cli, tmp_path: Path) -> None:
    _files(tmp_path)
    result = cli("nvs", "two.bin", "ls", "--json")
    assert result.code == 2
    assert_matches("Error document", result.json())


def test_damaged_nvs_is_listed_with_its_damage_and_written_with_force(cli: Cli, tmp_path: Path
                                                                     ) -> None:
    _files(tmp_path)
    listed = cli("nvs", "damaged.bin", "ls")
    assert listed.code == 1
    assert "wifi:ssid" not in listed.out and " ssid " not in listed.out  # never trusted
    assert re.search(r"damage: NVS partition image: nvs-entry-crc at partition offset 0x60",
                     listed.err)
    forced = cli("nvs", "damaged.bin", "-o", "fixed.bin", "--force", "set", "wifi", "ssid",
                 "x")
    assert forced.code == 0, forced.err
    fixed = (tmp_path / "fixed.bin").read_bytes()
    assert NvsPartition.from_bytes(fixed).valid
    problems, _ = nvs_tool(fixed, tmp_path)
    assert problems == []
    assert cli("nvs", "fixed.bin", "ls").code == 0


def test_several_partitions_by_name(cli: Cli, tmp_path: Path) -> None:
    _files(tmp_path)
    assert cli("nvs", "two.bin", "--partition", "nvs2", "-o", "out.bin", "set", "n", "k",
               "v").code == 0
    found = {f.name: f.nvs for f in find_nvs((tmp_path / "out.bin").read_bytes())}
    assert found["nvs2"].get("n", "k").value == "v"
    assert all(e.namespace != "n" for e in found["nvs"].entries())


def test_console_script_runs_nvs(tmp_path: Path) -> None:
    """A separate interpreter, as a user runs it (the fast path hands nvs to typer)."""
    result = subprocess.run([sys.executable, "-m", "esp_image", "nvs", str(FIXTURE), "get",
                             "wifi", "ssid"], capture_output=True, text=True, check=False,
                            timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (0, "home-network\n", "")
