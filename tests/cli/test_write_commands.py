"""Writing commands: flash-params, otadata; atomic output; the input is never modified."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from esp_image import Image
from esp_image.errors import LayoutError, UsageError, VerificationFailed
from esp_image.io import output_name, write_atomic
from esp_image.transforms.flash import FlashParams, patch_image, set_flash_params
from esp_image.transforms.ota import otadata_for

from ..conftest import FIXTURES, corpus_path, run_python


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False, timeout=120, cwd=cwd)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    for name in ("firmware-esp32-4MB.bin", "esp32-app.bin", "esp32-bootloader.bin",
                 "otadata-ota0.bin", "partitions-4MiB-ota.bin"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path


# --------------------------------------------------------------------- flash-params
def test_flash_params_merged_file(work: Path) -> None:
    src = work / "firmware-esp32-4MB.bin"
    before = sha(src)
    result = run("flash-params", "--size", "8MB", "--freq", "80m", str(src))
    assert result.returncode == 0, result.stderr
    out = work / "firmware-esp32-4MB-8MB-80m.bin"
    image = Image.open(out)
    assert image.valid and image.bootloader is not None
    assert image.bootloader.flash_size_name == "8MB" and image.bootloader.flash_freq == "80m"
    app = image.apps[0].image
    assert app is not None and app.flash_size_name == "8MB"
    assert sha(src) == before
    # Only header bytes 2-3 and the two SHA-256s differ.
    a, b = src.read_bytes(), out.read_bytes()
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    boot_end = Image.open(src).bootloader.end  # type: ignore[union-attr]
    assert all(i == 3 or boot_end - 32 <= i < boot_end or i == 0xF003 or i >= 0xF000 + 0x24050
               - 32 for i in diff)


@pytest.mark.oracle
def test_flash_params_esptool_accepts(work: Path) -> None:
    from esptool.bin_image import LoadFirmwareImage

    data = set_flash_params(Image.open(work / "esp32-bootloader.bin"),
                            FlashParams.parse("16MB", "qio", "40m")).data
    theirs = LoadFirmwareImage("esp32", data)
    assert theirs.flash_size_freq == 0x40 and theirs.flash_mode == 0
    assert theirs.calc_digest == theirs.stored_digest
    assert theirs.checksum == theirs.calculate_checksum()


def test_flash_params_refusals() -> None:
    image = Image.open(FIXTURES / "firmware-esp32-4MB.bin")
    with pytest.raises(UsageError, match="power of two"):
        set_flash_params(image, FlashParams.parse("3MB"))
    with pytest.raises(LayoutError, match="too small for the partition table"):
        set_flash_params(image, FlashParams.parse("2MB"))
    with pytest.raises(UsageError, match="larger than the 16MB the ESP32"):
        set_flash_params(image, FlashParams.parse("32MB"))
    signed = Image.open(corpus_path("esptool_test_bootloader_signed_sbv1.bin"))
    assert signed.firmware is not None
    with pytest.raises(LayoutError, match="signed"):
        patch_image(signed.firmware, FlashParams.parse("4MB"))  # type: ignore[arg-type]


def test_flash_params_cli_refusal_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "signed.bin"
    shutil.copy(corpus_path("khiem_YOLO_BIT_sbv1_signed.bin"), src)
    result = run("flash-params", "--size", "8MB", str(src))
    assert result.returncode == 1
    assert result.stderr.startswith("esp-image: error: refused:") and "signed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signed.bin"]


# --------------------------------------------------------------------- otadata
def test_otadata_switch_bare(work: Path) -> None:
    src = work / "otadata-ota0.bin"
    result = run("otadata", "--boot", "ota_1", "--json", str(src))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["boot"]["slot"] == 1
    image = Image.open(doc["output"])
    assert image.boot is not None and image.boot.slot == 1 and image.valid
    # ESP-IDF writes the other copy with the next sequence number.
    assert image.otadata is not None and image.otadata.entries[1].ota_seq == 2


@pytest.mark.parametrize("state", ["new", "pending", "valid", "undefined"])
def test_otadata_states(state: str) -> None:
    image = Image.open(FIXTURES / "otadata-ota0.bin")
    data = otadata_for(image, slot=1, state=state).data
    after = Image.from_bytes(data)
    assert after.otadata is not None and after.boot is not None
    assert after.boot.slot == 1
    assert after.otadata.entries[after.boot.copy or 0].state_name.startswith(state[:4])


def test_otadata_in_merged_file_and_erase(work: Path) -> None:
    fw = bytearray((work / "firmware-esp32-4MB.bin").read_bytes())
    table = (work / "partitions-4MiB-ota.bin").read_bytes()
    fw[0x7000:0x7000 + len(table)] = table
    image = Image.from_bytes(bytes(fw))
    result = otadata_for(image, slot=1)
    data, actions = result.data, result.actions
    after = Image.from_bytes(data)
    assert after.boot is not None and after.boot.slot == 1 and "ota_1" in actions[0]
    erased = otadata_for(after, erase=True).data
    assert Image.from_bytes(erased).otadata.is_erased  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="does not exist"):
        otadata_for(image, slot=2)


def test_otadata_invalid_state_and_slot_names(work: Path) -> None:
    result = run("otadata", "--boot", "ota_0", "--state", "bogus", str(work / "otadata-ota0.bin"))
    assert result.returncode == 2 and "unknown OTA state" in result.stderr
    result = run("otadata", "--boot", "nosuch", str(work / "otadata-ota0.bin"))
    assert result.returncode == 2


# --------------------------------------------------------------------- atomic output
def test_output_names() -> None:
    assert output_name("dir/firmware.bin", "8MB-OTA") == "dir/firmware-8MB-OTA.bin"
    assert output_name("fw", "DEFAULT") == "fw-DEFAULT"


def test_failed_verification_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    data = bytearray((FIXTURES / "esp32-app.bin").read_bytes())
    data[0x3000] ^= 1
    with pytest.raises(VerificationFailed, match="checksum"):
        write_atomic(str(target), bytes(data))
    assert list(tmp_path.iterdir()) == []


def test_in_place_keeps_original_until_complete(work: Path) -> None:
    src = work / "esp32-app.bin"
    result = run("flash-params", "--mode", "qio", "--in-place", str(src))
    assert result.returncode == 0, result.stderr
    image = Image.open(src)
    assert image.valid and image.firmware is not None and image.firmware.header.flash_mode == "qio"
    assert sorted(p.name for p in work.iterdir() if p.name.startswith(".")) == []


def test_crash_mid_write_leaves_no_output(work: Path) -> None:
    """A process killed while writing leaves the input intact and nothing at the final name."""
    src = work / "firmware-esp32-4MB.bin"
    before = sha(src)
    code = (
        "import os, sys\n"
        "import esp_image.io as io\n"
        "real = os.fsync\n"
        "def crash(fd):\n"
        "    os._exit(9)  # the machine dies after the bytes, before the rename\n"
        "io.os.fsync = crash\n"
        "from esp_image.entry import main\n"
        f"sys.argv = ['esp-image', 'flash-params', '--size', '8MB', '--in-place', {str(src)!r}]\n"
        "main()\n"
    )
    result = run_python(code)
    assert result.returncode == 9
    assert sha(src) == before
    assert Image.open(src).valid
    leftovers = [p.name for p in work.iterdir() if "8MB" in p.name]
    assert leftovers == []


@pytest.mark.parametrize("args", [
    ["flash-params", "--size", "8MB"],
    ["flash-params", "--mode", "dout"],
    ["otadata", "--erase"],
])
def test_input_unchanged_without_in_place(work: Path, args: list[str]) -> None:
    src = work / ("otadata-ota0.bin" if args[0] == "otadata" else "firmware-esp32-4MB.bin")
    before = sha(src)
    result = run(*args, str(src))
    assert result.returncode == 0, result.stderr
    assert sha(src) == before


def test_dry_run_writes_nothing(work: Path) -> None:
    before = sorted(p.name for p in work.iterdir())
    result = run("flash-params", "--size", "8MB", "--dry-run", str(work / "esp32-app.bin"))
    assert result.returncode == 0 and "would write" in result.stdout
    assert sorted(p.name for p in work.iterdir()) == before
