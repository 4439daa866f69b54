"""HEX and UF2 through the commands: read as flash, written by --format / -o's suffix / the
input's own form, verified before the rename, TinyUF2 app files, one-line refusals."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from esptool.cmds import merge_bin
from intelhex import IntelHex

from esp_image import Image
from esp_image.chips import chip_by_name
from esp_image.containers import decode, encode

from ..conftest import fixture_path

FW = fixture_path("firmware-esp32-4MB.bin")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False, timeout=120, cwd=cwd)


def _flash(path: Path) -> tuple[int, bytes]:
    found = decode(path.read_bytes())
    return found.start, found.flash()


@pytest.fixture()
def fw_hex(tmp_path: Path) -> Path:
    path = tmp_path / "fw.hex"
    path.write_bytes(encode("hex", 0x1000, FW.read_bytes(), None))
    return path


def test_info_says_what_the_container_holds(fw_hex: Path) -> None:
    result = run("info", str(fw_hex))
    assert result.returncode == 0, result.stderr
    assert "intel-hex: flash from 0x1000, 3 segments" in result.stdout
    doc = json.loads(run("info", "--json", str(fw_hex)).stdout)
    layer = doc["wrappers"][0]
    assert layer["kind"] == "intel-hex" and layer["start_address"] == 0x1000
    assert layer["segments"][0]["address"] == 0x1000


def test_retable_of_a_hex_is_the_hex_of_retable_of_the_bin(tmp_path: Path, fw_hex: Path) -> None:
    shutil.copy(FW, tmp_path / "fw.bin")
    for name in ("fw.bin", "fw.hex"):
        result = run("retable", "-f", "8MB", "--table", "ota", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
    out = tmp_path / "fw-8MB-OTA.hex"  # the default name keeps the input's form
    start, flash = _flash(out)
    raw = (tmp_path / "fw-8MB-OTA.bin").read_bytes()
    assert start == 0x1000 and raw.startswith(flash) and not raw[len(flash):].strip(b"\xff")
    ih = IntelHex(str(out))  # the independent reader agrees
    assert ih.tobinstr(0x1000, 0x1000 + len(flash) - 1) == flash
    result = run("otadata", "--boot", "ota_1", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["format"] == "hex"
    after = Image.open(tmp_path / "fw-8MB-OTA-otadata.hex")
    assert after.boot is not None and after.boot.slot == 1


def test_format_and_suffix_choose_the_output_form(tmp_path: Path, fw_hex: Path) -> None:
    shutil.copy(FW, tmp_path / "fw.bin")
    result = run("flash-params", "--freq", "80m", str(tmp_path / "fw.bin"), "--format", "uf2")
    assert result.returncode == 0, result.stderr
    uf2 = (tmp_path / "fw-80m.uf2").read_bytes()
    assert Image.from_bytes(uf2).wrappers[0].kind == "uf2"
    result = run("flash-params", "--freq", "80m", str(fw_hex), "-o", str(tmp_path / "x.bin"))
    assert result.returncode == 0, result.stderr
    assert decode(uf2).flash() == (tmp_path / "x.bin").read_bytes().rstrip(b"\xff")


def test_an_unchanged_conversion_still_writes(tmp_path: Path, fw_hex: Path) -> None:
    result = run("flash-params", "--size", "4MB", str(fw_hex), "-o", str(tmp_path / "o.uf2"),
                 "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["written"] and doc["format"] == "uf2"


def test_merge_writes_what_esptool_merge_bin_writes(tmp_path: Path) -> None:
    parts = {0x1000: "esp32-bootloader.bin", 0x8000: "partitions-4MiB.bin",
             0x10000: "esp32-app.bin"}
    pairs = [f"{a:#x}={fixture_path(n)}" for a, n in parts.items()]
    for form in ("hex", "uf2"):
        result = run("merge", "-o", str(tmp_path / f"ours.{form}"), *pairs)
        assert result.returncode == 0, result.stderr
        merge_bin([(a, str(fixture_path(n))) for a, n in parts.items()], "esp32",
                  output=str(tmp_path / f"esptool.{form}"), format=form)
        ours, theirs = _flash(tmp_path / f"ours.{form}"), _flash(tmp_path / f"esptool.{form}")
        assert ours == theirs
    # and a HEX part is merged as the flash it describes
    result = run("merge", "-o", str(tmp_path / "again.bin"), f"0x1000={tmp_path / 'ours.hex'}")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "again.bin").read_bytes()[0x1000:] == _flash(tmp_path / "ours.hex")[1]


def test_extract_keeps_the_form_and_the_address(tmp_path: Path, fw_hex: Path) -> None:
    result = run("extract", str(fw_hex), "factory")
    assert result.returncode == 0, result.stderr
    start, flash = _flash(tmp_path / "fw-factory.hex")
    app = Image.open(FW)
    part = next(p for p in app.partitions if p.partition.name == "factory")
    assert start == part.partition.offset and bytes(app.data[start - 0x1000:]).startswith(flash)


def test_extract_tinyuf2(tmp_path: Path) -> None:
    fw = tmp_path / "s3.bin"
    shutil.copy(fixture_path("firmware-esp32s3.bin"), fw)
    image = Image.open(fw)
    app = next(p for p in image.partitions if p.image is not None)
    name = app.partition.name
    result = run("extract", str(fw), name, "-o", str(tmp_path / "app.uf2"), "--tinyuf2")
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "app.uf2").read_bytes()
    found = decode(written)
    assert found.start == 0 and found.chip is chip_by_name("esp32s3")
    assert "TinyUF2 app" in run("info", str(tmp_path / "app.uf2")).stdout
    for args, why in [((name, "-o", str(tmp_path / "a.hex")), "writes UF2"),
                      (("partition-table", "-o", str(tmp_path / "t.uf2")), "not an app"),
                      ]:
        result = run("extract", str(fw), *args, "--tinyuf2")
        assert result.returncode == 2 and why in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    result = run("extract", str(FW), "factory", "-o", str(tmp_path / "e.uf2"), "--tinyuf2")
    assert result.returncode == 2 and "not ESP32" in result.stderr


@pytest.mark.parametrize("text", [
    b":0400000000000000FC\n:0400020001020304F0\n:00000001FF\n",           # overlap
    b":0100000001FE\n:020000048000FA\n:0100000001FE\n:00000001FF\n",      # 2 GiB apart
    b":0100000001FE\n:10000000zz\n:00000001FF\n",                          # broken record
])
@pytest.mark.parametrize("command", [["info"], ["verify"], ["retable", "-f", "8MB"],
                                     ["extract", "--format", "hex"]])
def test_unusable_containers_exit_2_in_one_line(tmp_path: Path, text: bytes,
                                                command: list[str]) -> None:
    bad = tmp_path / "bad.hex"
    bad.write_bytes(text)
    args = [*command, str(bad)] + (["factory"] if command[0] == "extract" else [])
    result = run(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_uf2_needs_a_chip_and_hex_an_address(tmp_path: Path) -> None:
    table = fixture_path("partitions-4MiB.bin")
    result = run("merge", "-o", str(tmp_path / "t.uf2"), f"0x8000={table}")
    assert result.returncode == 2 and "family id" in result.stderr
    result = run("flash-params", "--size", "8MB", str(fixture_path("esp32-app.bin")),
                 "-o", str(tmp_path / "a.hex"))
    assert result.returncode == 2 and "flash address" in result.stderr


def test_merge_runs_on_the_fast_path_and_typer_names_a_missing_output(tmp_path: Path) -> None:
    from esp_image.entry import _parse_fast

    parsed = _parse_fast("merge", ["-o", "x.uf2", "0x1000=a.bin", "--format", "uf2"])
    assert parsed == (["0x1000=a.bin"], {**parsed[1], "output": "x.uf2", "fmt": "uf2"}) \
        if parsed else False
    assert _parse_fast("merge", ["0x1000=a.bin"]) is None  # -o is required: typer says so
    code = ("import sys\n"
            f"sys.argv = ['esp-image', 'merge', '-o', {str(tmp_path / 'o.uf2')!r}, "
            f"'0x1000={FW}']\n"
            "from esp_image.entry import main\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
            "sys.stderr.write(repr([m for m in ('typer', 'click') if m in sys.modules]))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.stderr == "[]", result.stderr
    result = run("merge", f"0x1000={FW}")
    assert result.returncode == 2 and "Missing option '-o'" in result.stderr


def test_json_documents_match_json_md(tmp_path: Path, fw_hex: Path) -> None:
    from .test_json_doc import assert_matches, esp_image

    uf2 = tmp_path / "fw.uf2"
    uf2.write_bytes(encode("uf2", 0x1000, FW.read_bytes(), chip_by_name("esp32")))
    for path in (fw_hex, uf2):
        doc = esp_image("info", "--json", str(path))
        assert_matches("File document", doc)
        for layer in doc["wrappers"]:
            assert_matches("Wrapper", layer)
        for check in doc["checks"]:
            assert_matches("Check", check)
    for args in (["retable", "-f", "8MB", str(fw_hex)], ["extract", str(uf2), "factory"],
                 ["merge", "-o", str(tmp_path / "m.uf2"), f"0x1000={FW}"]):
        assert_matches("Write document", esp_image(*args, "--dry-run", "--json"))


def test_fs_and_nvs_edit_a_container_and_write_it_back(tmp_path: Path) -> None:
    esp32 = chip_by_name("esp32")
    for name in ("lfs", "nvs"):
        data = fixture_path(f"firmware-esp32-{name}.bin").read_bytes()
        (tmp_path / f"{name}.uf2").write_bytes(encode("uf2", 0x1000, data, esp32))
    (tmp_path / "hello.txt").write_text("hi\n")
    result = run("fs", str(tmp_path / "lfs.uf2"), "put", str(tmp_path / "hello.txt"), "/")
    assert result.returncode == 0, result.stderr
    assert "hello.txt" in run("fs", str(tmp_path / "lfs-fs.uf2"), "ls").stdout
    assert decode((tmp_path / "lfs-fs.uf2").read_bytes()).kind == "uf2"
    result = run("nvs", str(tmp_path / "nvs.uf2"), "--format", "hex", "set", "ns", "k", "5")
    assert result.returncode == 0, result.stderr
    assert decode((tmp_path / "nvs-nvs.hex").read_bytes()).kind == "intel-hex"
    assert run("nvs", str(tmp_path / "nvs-nvs.hex"), "get", "ns", "k").stdout.strip() == "5"


def test_table_and_layout_write_containers(tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text(run("table", str(fixture_path("partitions-4MiB.bin"))).stdout)
    result = run("table", str(csv), "--format", "hex")
    assert result.returncode == 0, result.stderr
    assert run("table", str(csv), "-o", str(tmp_path / "p.bin")).returncode == 0
    found = decode((tmp_path / "p.hex").read_bytes())
    raw = (tmp_path / "p.bin").read_bytes()
    assert found.start == 0x8000 and raw.startswith(found.flash())
    assert not raw[len(found.flash()):].strip(b"\xff")
    result = run("layout", "esp8266", "--map", "1MB", "--boot",
                 str(fixture_path("esp8266-nonos-boot.bin")), "--user1",
                 str(fixture_path("esp8266-user1.bin")), "-o", str(tmp_path / "full.uf2"), "-q")
    assert result.returncode == 0, result.stderr
    image = Image.open(tmp_path / "full.uf2")
    assert image.chip is chip_by_name("esp8266") and image.valid


def test_diff_and_table_read_a_container_as_its_flash(tmp_path: Path, fw_hex: Path) -> None:
    shutil.copy(FW, tmp_path / "fw.bin")
    result = run("diff", str(fw_hex), str(tmp_path / "fw.bin"))
    assert result.returncode == 0 and "identical" in result.stdout, result.stdout
    result = run("table", str(fw_hex))
    assert result.returncode == 0, result.stderr
    assert result.stdout == run("table", str(tmp_path / "fw.bin")).stdout
