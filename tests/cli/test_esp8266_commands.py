"""Issue 12 items 2, 3 and 5: --chip must agree with the file, a yaota8266 .ota is verified
down to the app it carries, and the NONOS flash maps come from one definition that
``info``, ``layout esp8266`` and ``flash-params`` share."""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import struct
from pathlib import Path

import pytest

from esp_image import Image
from esp_image.cli import inspect
from esp_image.errors import LayoutError
from esp_image.esp8266 import FLASH_MAPS, Esp8266Image, parse_esp8266_flash_size
from esp_image.transforms.esp8266 import plan_layout, set_esp8266_flash_params

from ..conftest import corpus_path, fixture_path
from ..image.test_esp8266_layouts import v1_image

USER1 = "nonos306_at_user1.1024.new.2.bin"   # NONOS AT, 512+512 map, irom at 0x40201010
USER2 = "nonos306_at_user2.1024.new.2.bin"   # the same, user2: irom at 0x40281010
RBOOT_ROM1 = "mgwr_rboot_rom1_0x82000.bin"   # rBoot ROM: not a NONOS slot link


def _run(command: str, *args: str) -> tuple[int, str, str]:
    """Run a command through the installed CLI (fresh process: exit code, stdout, stderr)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "esp_image", command, *args],
                          capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


# ====================================================================== 5. NONOS flash maps
OTA_MAPS = [m for m in FLASH_MAPS.values() if m.slot_size and m.supported]


@pytest.mark.parametrize("fmap", FLASH_MAPS.values(), ids=lambda m: m.name)
def test_flash_map_rows_never_overlap(fmap) -> None:  # type: ignore[no-untyped-def]
    rows = fmap.addresses()
    for (name, addr, size, _), (after, nxt, _, _) in itertools.pairwise(rows):
        assert addr + size <= nxt, f"{name} ends at {addr + size:#x}, past {after} at {nxt:#x}"
    last = rows[-1]
    assert last[1] + last[2] == fmap.size


def test_user2_of_the_1mb_map_stops_at_rf_cal() -> None:
    rows = {name: (addr, size) for name, addr, size, _ in FLASH_MAPS[2].addresses()}
    assert rows["user1"] == (0x1000, 0x7F000)        # 508 KB: the first half less boot
    assert rows["user2"] == (0x81000, 0x7A000)       # 488 KB: RF cal is at 0xFB000
    assert rows["user2"][0] + rows["user2"][1] == rows["rf_cal"][0] == 0xFB000


@pytest.mark.parametrize("fmap", OTA_MAPS, ids=lambda m: m.name)
def test_info_and_layout_give_the_same_slots(fmap) -> None:  # type: ignore[no-untyped-def]
    info_rows = {name: (addr, size) for name, addr, size, _ in fmap.addresses()}
    plan = plan_layout(fmap)
    for name in ("user1", "user2"):
        entry = plan.entry(name)
        assert info_rows[name] == (entry.address, entry.size) == fmap.user_slot(int(name[-1]))


def test_info_prints_the_488kb_user2_slot(tmp_path: Path) -> None:
    # Any image whose header declares the 1 MB map (byte 3 = 0x20) shows the map's table.
    path = tmp_path / "app.bin"
    path.write_bytes(v1_image([(0x40100000, b"\x11" * 64)], size_freq=0x20))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert inspect.info([str(path)]) == 0
    user2 = next(line for line in out.getvalue().splitlines() if line.split()[:1] == ["user2"])
    assert user2.split()[1:4] == ["0x81000", "0x7a000", "(488KB)"]
    layout = plan_layout("1MB").entry("user2")
    assert (layout.address, layout.size) == (0x81000, 0x7A000)


# ---------------------------------------------------------------------- flash-params --size
@pytest.mark.corpus
@pytest.mark.parametrize(("name", "size", "reason"), [
    (USER2, "512KB", "needs a user2 build (irom at 0x40241010)"),
    (USER2, "4MB-c1", "needs a user2 build (irom at 0x40201010)"),
    (USER2, "256KB", "has no boot/user slots"),
    (USER1, "512KB", "its slot at 0x1000 holds 0x3f000"),
])
def test_flash_params_refuses_a_map_the_link_cannot_run_in(name: str, size: str,
                                                           reason: str) -> None:
    with pytest.raises(LayoutError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        set_esp8266_flash_params(corpus_path(name).read_bytes(), size=size)


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "size"), [
    (USER2, "4MB"), (USER2, "2MB"), (USER1, "4MB-c1"), (USER1, "16MB"), (RBOOT_ROM1, "4MB-c1"),
])
def test_flash_params_allows_maps_the_link_runs_in(name: str, size: str) -> None:
    out = set_esp8266_flash_params(corpus_path(name).read_bytes(), size=size)
    assert Esp8266Image.from_bytes(out).flash_map == parse_esp8266_flash_size(size)


@pytest.mark.corpus
def test_flash_params_cli_refusal_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "user2.bin"
    src.write_bytes(corpus_path(USER2).read_bytes())
    code, stdout, stderr = _run("flash-params", "--size", "512KB", str(src))
    assert code == 1 and stdout == ""
    assert stderr.count("\n") == 1 and "refused" in stderr and "0x40281010" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["user2.bin"]


@pytest.mark.corpus
def test_flash_params_on_a_nonos_dump_checks_every_user_bin() -> None:
    from ..image.test_esp8266_layouts import _nonos_dump

    dump = _nonos_dump()                             # 1 MB map: user2 at 0x81000
    with pytest.raises(LayoutError, match=r"user2 at 0x81000 is in no slot of the 4MB-c1"):
        set_esp8266_flash_params(dump, size="4MB-c1")
    assert set_esp8266_flash_params(dump, size="4MB")[3] >> 4 == 4
    # Without a user2 bin, only user1 (linked for 0x40201010) has to run: any OTA map does.
    assert set_esp8266_flash_params(_nonos_dump(user2=False), size="4MB-c1")[3] >> 4 == 6


# ====================================================================== 3. yaota8266 .ota
def _main_app() -> bytes:
    """A makeimg main app (v1 image + irom at +0x9000 + MD5) that boot8266 boots."""
    from esp_image.transforms.yaota import make_main_app

    image = v1_image([(0x40100000, b"\x11" * 0x100), (0x3FFE8000, b"\x22" * 0x40)])
    return make_main_app(image, bytes(range(256)) * 4, irom_name="firmware.elf-0x45000.bin")


def _ota(payload: bytes, *, chunk: int = 256) -> bytes:
    """A .ota file laid out as ota_client.py signs it (fake 64-byte signatures, §4.5)."""
    records = b"yaota8266\x01"
    chunks = [(i, payload[i:i + chunk]) for i in range(0, len(payload), chunk)]
    for seq, (offset, data) in enumerate([*chunks, (0, b""), (0, b""), (0, b"")], 1):
        body = struct.pack("<HHI", 0, len(data), offset) + data
        body += bytes(-len(body) % 16)
        gram = struct.pack("<I", seq) + body + b"\x55" * 64
        records += struct.pack("<H", len(gram)) + gram
    return records + b"\0\0" + hashlib.sha1(records).digest()


def _payload_byte(at: int) -> int:
    """File offset of payload byte ``at`` in an ``_ota`` file (256-byte chunks)."""
    gram = 10 + (at // 256) * (2 + 4 + 16 + 256 + 64)
    return gram + 2 + 12 + at % 256


def _failed(image: Image) -> dict[str, str]:
    return {c.name: c.detail for c in image.checks if not c.valid}


def test_ota_carrying_a_booting_main_app_verifies() -> None:
    app = _main_app()
    image = Image.from_bytes(_ota(app))
    assert image.kind == "yaota8266-ota" and image.valid, _failed(image)
    md5 = next(c for c in image.checks if c.name == "yaota-md5")
    assert md5.offset == _payload_byte(len(app) - 16)   # where the MD5 is in the file
    assert [c.offset for c in image.checks] == sorted(c.offset for c in image.checks)


def test_ota_whose_firmware_no_longer_matches_its_md5_fails_verify(tmp_path: Path) -> None:
    app = bytearray(_main_app())
    app[0x9000 + 5] ^= 0x40                     # an irom byte: covered by the MD5 only
    ota = _ota(bytes(app))                      # file SHA-1 is fresh: only the MD5 can tell
    image = Image.from_bytes(ota)
    assert set(_failed(image)) == {"yaota-md5"}
    assert "MD5 mismatch" in _failed(image)["yaota-md5"]
    path = tmp_path / "firmware-ota.bin.ota"
    path.write_bytes(ota)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert inspect.verify([str(path)]) == 1
    assert "yaota-md5" in out.getvalue()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert inspect.verify([str(path)], json=True) == 1
    doc = json.loads(out.getvalue())
    assert doc["valid"] is False
    assert [c["name"] for c in doc["checks"] if not c["valid"]] == ["yaota-md5"]


def test_ota_holding_only_end_markers_fails_verify(tmp_path: Path) -> None:
    image = Image.from_bytes(_ota(b""))
    assert image.kind == "yaota8266-ota"
    assert "no data datagrams" in _failed(image)["structure"]
    path = tmp_path / "empty.ota"
    path.write_bytes(_ota(b""))
    assert _run("verify", str(path))[0] == 1


def test_ota_whose_payload_is_not_a_main_app_fails_verify() -> None:
    image = Image.from_bytes(_ota(bytes(range(256)) * 8))
    assert set(_failed(image)) == {"structure"}
    assert "payload: not a yaota8266 main app" in _failed(image)["structure"]
    assert image.to_dict()["valid"] is False


# ====================================================================== 2. --chip
FIRMWARE = fixture_path("firmware-esp32-4MB.bin")   # merged ESP32 firmware (chip id 0)
APP = fixture_path("esp32-app.bin")


@pytest.mark.parametrize("chip", ["esp32s3", "esp32c3", "esp32p4", "esp8266"])
@pytest.mark.parametrize("shape", ["merged", "app", "dump"])
def test_chip_that_disagrees_with_the_header_fails(chip: str, shape: str) -> None:
    data = {"merged": FIRMWARE.read_bytes(), "app": APP.read_bytes(),
            "dump": b"\xff" * 0x1000 + FIRMWARE.read_bytes()}[shape]
    image = Image.from_bytes(data, chip=chip)
    assert image.chip is not None and image.chip.name == "esp32"   # read as what it is
    failed = _failed(image)
    assert set(failed) == {"chip"}
    assert chip in failed["chip"] and "ESP32 (chip id 0" in failed["chip"]
    assert image.to_dict()["valid"] is False


def test_chip_that_agrees_is_a_passing_check() -> None:
    image = Image.from_bytes(FIRMWARE.read_bytes(), chip="esp32")
    assert image.valid
    assert [c.valid for c in image.checks if c.name == "chip"] == [True]
    # Without --chip there is nothing to compare: no chip check.
    assert "chip" not in [c.name for c in Image.from_bytes(FIRMWARE.read_bytes()).checks]


def test_verify_and_info_with_a_wrong_chip() -> None:
    code, stdout, stderr = _run("verify", "--chip", "esp32s3", str(FIRMWARE))
    assert code == 1 and stderr == ""
    assert "FAIL" in stdout and "chip" in stdout and "esp32s3" in stdout and "ESP32 " in stdout
    code, stdout, _ = _run("verify", "--chip", "esp32s3", "--json", str(FIRMWARE))
    doc = json.loads(stdout)
    assert code == 1 and doc["valid"] is False and doc["chip"] == "esp32"
    assert [c["name"] for c in doc["checks"] if not c["valid"]] == ["chip"]
    code, stdout, _ = _run("info", "--chip", "esp32s3", str(FIRMWARE))
    assert code == 0 and "verdict: INVALID (1 failed check)" in stdout
    assert _run("verify", "--chip", "esp32", str(FIRMWARE))[0] == 0


def test_esp8266_files_state_their_family(tmp_path: Path) -> None:
    data = v1_image([(0x40100000, b"\x11" * 64)])
    assert Image.from_bytes(data, chip="esp8266").valid
    image = Image.from_bytes(data, chip="esp32")
    assert image.chip is not None and image.chip.name == "esp8266"
    assert "ESP8266" in _failed(image)["chip"]
    path = tmp_path / "app.bin"
    path.write_bytes(data)
    code, stdout, _ = _run("verify", "--chip", "esp32s3", "--json", str(path))
    assert code == 1 and [c["name"] for c in json.loads(stdout)["checks"]
                          if not c["valid"]] == ["chip"]
    code, stdout, _ = _run("info", "--chip", "esp32s3", str(path))
    assert code == 0 and "chip" in stdout and "FAILED" in stdout
    ota = Image.from_bytes(_ota(_main_app()), chip="esp32c3")
    assert set(_failed(ota)) == {"chip"}


def test_files_that_state_no_chip_get_no_chip_check() -> None:
    table = fixture_path("partitions-4MiB.bin").read_bytes()
    for data in (table, b"\xff" * 4096, fixture_path("otadata-ota0.bin").read_bytes()):
        image = Image.from_bytes(data, chip="esp32s3")
        assert "chip" not in [c.name for c in image.checks] and image.valid
