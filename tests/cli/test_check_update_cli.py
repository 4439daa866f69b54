"""``esp-image check-update``: exit codes, text and the JSON document (JSON.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import FIXTURES, ROOT, corpus_path
from .test_json_doc import assert_matches


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", "check-update", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


NONOS = str(FIXTURES / "esp8266-nonos-flash-512K.bin")


def test_yes_exits_0_with_the_slot() -> None:
    result = run(str(FIXTURES / "esp8266-user1.bin"), "--against", NONOS)
    assert result.returncode == 0, result.stderr
    assert "boots on" in result.stdout and ": yes" in result.stdout
    assert "slot: user1" in result.stdout and result.stderr == ""


def test_no_exits_1_listing_every_reason() -> None:
    result = run(str(FIXTURES / "esp32-app.bin"), "--against",
                 str(FIXTURES / "firmware-esp32-4MB.bin"))
    assert result.returncode == 1
    assert "reason: slot: the partition table has no ota_N" in result.stdout
    assert "FAIL slot" in result.stdout


def test_json_document() -> None:
    result = run(str(FIXTURES / "esp8266-user2.bin"), "--against", NONOS, "--json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert_matches("Check-update document", doc)
    assert_matches("Update slot", doc["slot"])
    for check in doc["checks"]:
        assert_matches("Check", check)
    assert doc["boots"] is False and doc["reasons"][0].startswith("link-address:")


@pytest.mark.parametrize("args", [
    ("/nonexistent.bin", "--against", NONOS),
    (str(FIXTURES / "esp32-app.bin"), "--against", str(FIXTURES / "esp32-app.bin")),
    (str(FIXTURES / "esp32-app.bin"),),
    (str(FIXTURES / "esp32-app.bin"), "--against", str(FIXTURES / "esp8266-rboot-flash-512K.bin")),
])
def test_unusable_input_exits_2_with_one_line(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_unusable_input_json_gets_the_error_document() -> None:
    result = run(str(FIXTURES / "esp32-app.bin"), "--against",
                 str(FIXTURES / "esp32-app.bin"), "--json")
    assert result.returncode == 2
    assert_matches("Error document", json.loads(result.stdout))


@pytest.mark.parametrize("name", ["smooker_esp32_flash_2M.bin", "drone_esp32s2_flash_1M.bin"])
def test_real_dump_takes_its_own_running_app(name: str, tmp_path: Path) -> None:
    """A real OTA device's running app, offered again, goes to the other slot and boots."""
    from esp_image import Image
    from esp_image.update_check import running_partition

    dump = corpus_path(name)
    image = Image.open(dump)
    running = running_partition(image)
    content = next(c for c in image.partitions if c.partition is running)
    assert content.image is not None
    app = tmp_path / "app.bin"
    app.write_bytes(bytes(content.image.data))
    result = run(str(app), "--against", str(dump), "--json")
    doc = json.loads(result.stdout)
    assert result.returncode == 0, doc["reasons"]
    assert running is not None and running.ota_index is not None
    assert doc["slot"]["running"] == f"ota_{running.ota_index}" != doc["slot"]["label"]


@pytest.mark.parametrize("name", ["esptool_ESP32_GENERIC-20240602-v1.23.0.bin",
                                  "tjc_mpy_esp32-20220618-v1.19.1.bin",
                                  "m5acssr_c3_merged.bin"])
def test_real_factory_only_firmware_has_no_ota_slot(name: str) -> None:
    dump = corpus_path(name)
    result = run(str(FIXTURES / "esp32-app.bin"), "--against", str(dump), "--json")
    doc = json.loads(result.stdout)
    assert result.returncode == 1
    assert any(r.startswith("slot: the partition table has no ota_N") for r in doc["reasons"])


def test_real_yaota8266_device_takes_its_main_app() -> None:
    result = run(str(corpus_path("uartremote_micropython_v1.15-ota.bin")), "--against",
                 str(corpus_path("uartremote_yaota8266.bin")))
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("user,code", [(1, 1), (2, 0)])
def test_real_nonos_device_running_user1(user: int, code: int) -> None:
    """The Tuya dump's system parameters run user1: the SDK writes user2, so only gen_appbin's
    user2.bin (NONOS 3.0.6 AT) boots there."""
    update = corpus_path(f"nonos306_at_user{user}.1024.new.2.bin")
    result = run(str(update), "--against", str(corpus_path("tphome_tuya_flash_1M.bin")))
    assert result.returncode == code, result.stdout
