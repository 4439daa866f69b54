"""The fixtures of the families a clone without ../shared used not to test at all (issue 12,
item 26): rBoot, NONOS flash with system parameters, yaota8266 (bundle, main app, signed .ota)
and Secure Boot v1/v2 signatures. Each case checks what the parser must find, and where an
independent implementation exists (espsecure), that it agrees."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from esp_image import Image
from esp_image.esp8266 import Esp8266Image
from esp_image.esp8266_parts import SystemParams
from esp_image.rboot import RbootConfig, is_rboot, rboot_version
from esp_image.transforms.esp8266 import infer_irom_link
from esp_image.yaota8266 import Boot8266Params, check_bundle, check_initial_image

from ..conftest import fixture_path


def _read(name: str) -> bytes:
    return fixture_path(name).read_bytes()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", *args], capture_output=True,
                          text=True, check=False)


# ---------------------------------------------------------------------- rBoot
def test_rboot_bootloader_and_config() -> None:
    boot = _read("esp8266-rboot-boot.bin")
    assert is_rboot(boot)
    assert rboot_version(boot) == "1.4.2"
    assert Esp8266Image.from_bytes(boot).bootloader_name == "rboot"
    cfg = RbootConfig.from_bytes(_read("esp8266-rboot-config.bin"))
    assert (cfg.count, cfg.current_rom, cfg.slots) == (2, 1, (0x2000, 0x42000))
    assert cfg.has_checksum and cfg.accepted
    assert cfg.to_bytes() == _read("esp8266-rboot-config.bin")


def test_rboot_flash_boots_rom1_linked_for_its_slot() -> None:
    data = _read("esp8266-rboot-flash-512K.bin")
    doc = Image.from_bytes(data).to_dict()["esp8266"]
    assert doc["shape"] == "rboot-flash"
    assert doc["rboot_boot"]["slot"] == 1
    assert Esp8266Image.from_bytes(data[0x42000:]).valid
    rom0 = _read("esp8266-rboot-rom0.bin")
    assert data[0x2000:0x2000 + len(rom0)] == rom0


def test_rboot_config_damage_is_found() -> None:
    sector = bytearray(_read("esp8266-rboot-config.bin"))
    sector[3] ^= 1  # current_rom, under the checksum
    # The checksum is a build option the flash does not record: with it stated, rBoot refuses.
    damaged = RbootConfig.from_bytes(bytes(sector), max_roms=4, has_checksum=True)
    assert not damaged.accepted
    assert any(c.name == "rboot-checksum" and not c.valid for c in damaged.checks())


# ---------------------------------------------------------------------- NONOS
def test_nonos_flash_has_boot_users_init_data_and_system_params() -> None:
    data = _read("esp8266-nonos-flash-512K.bin")
    image = Image.from_bytes(data)
    assert image.valid
    doc = image.to_dict()["esp8266"]
    assert doc["shape"] == "nonos-flash"
    assert doc["flash_map"]["name"] == "512KB"
    assert doc["init_data"]["version"] == 8
    assert doc["system_params"]["next_user_bin"] == "user2"
    assert doc["system_params"]["flag_record"]["valid_magics"]
    assert Esp8266Image.from_bytes(data).bootloader_name == "boot_v1.7"
    params = SystemParams.from_bytes(data, 0x7D000, 0x7D000)
    assert (params.live_copy, params.next_user) == (0, 2)
    assert params.to_bytes() == data[0x7D000:]
    for user, link in ((1, 0x40201010), (2, 0x40241010)):
        slot = Esp8266Image.from_bytes(data[0x1000 if user == 1 else 0x41000:])
        assert (slot.user, infer_irom_link(slot)) == (user, link)


def test_nonos_next_slot_empty_is_reported() -> None:
    data = bytearray(_read("esp8266-nonos-flash-512K.bin"))
    data[0x41000:0x7C000] = b"\xff" * (0x7C000 - 0x41000)
    codes = [i["code"] for i in Image.from_bytes(bytes(data)).to_dict()["issues"]]
    assert "next-slot-empty" in codes


# ---------------------------------------------------------------------- yaota8266
def test_yaota_bundle_and_initial_image() -> None:
    bundle = _read("esp8266-yaota8266.bin")
    params = Boot8266Params.from_image(bundle)
    assert params is not None
    assert (params.gpio_mask, params.gpio_wait_ms, params.param_offset,
            params.main_app_offset, params.image_length) == (0xF035, 3000, 0xF00, 0x3C000,
                                                              0x1000)
    check = check_bundle(bundle)
    assert check is not None and check.consistent, check and check.issues
    initial = check_initial_image(_read("esp8266-yaota8266-initial.bin"))
    assert initial is not None
    full, app = initial
    assert full.consistent and app.boots
    assert app.to_bytes() == _read("esp8266-firmware-ota.bin")


def test_yaota_signed_ota_verifies_with_its_key_only() -> None:
    pytest.importorskip("cryptography")
    from esp_image.transforms.yaota import generate_key, verify_ota

    ota = _read("esp8266-firmware-ota.ota")
    result = verify_ota(ota, key_pem=_read("esp8266-yaota-priv.key"))
    assert result.ok and result.signatures_verified
    assert sum(c.name == "signature" for c in result.checks) == -(-len(
        _read("esp8266-firmware-ota.bin")) // 256) + 3
    assert not verify_ota(ota, key_pem=generate_key()).ok
    tampered = bytearray(ota)
    tampered[100] ^= 1
    assert not verify_ota(bytes(tampered), key_pem=_read("esp8266-yaota-priv.key")).ok


def test_yaota_cli_verify() -> None:
    pytest.importorskip("cryptography")
    done = _cli("yaota", "verify", str(fixture_path("esp8266-firmware-ota.ota")), "--key",
                str(fixture_path("esp8266-yaota-priv.key")))
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------------- Secure Boot
def _espsecure_verify(version: str, name: str) -> None:
    espsecure = pytest.importorskip("espsecure")
    key = io.BytesIO(_read("signing-key-ecdsa256.pem"))
    data = io.BytesIO(_read(name))
    espsecure.verify_signature(version, False, None, key, data)  # raises when invalid


def test_sbv1_signed_bootloader() -> None:
    image = Image.from_bytes(_read("bootloader-sbv1-signed.bin"))
    assert image.valid
    assert image.to_dict()["image"]["signature"]["scheme"] == "sbv1"
    _espsecure_verify("1", "bootloader-sbv1-signed.bin")


def test_sbv2_signed_app() -> None:
    image = Image.from_bytes(_read("app-esp32c6-sbv2-signed.bin"))
    assert image.valid and image.chip is not None and image.chip.name == "esp32c6"
    assert image.to_dict()["image"]["signature"]["scheme"] == "sbv2-ecdsa"
    names = {c.name for c in image.checks if c.valid}
    assert {"signature-crc", "signature-digest"} <= names
    _espsecure_verify("2", "app-esp32c6-sbv2-signed.bin")


def test_sbv2_digest_mismatch_after_an_edit() -> None:
    data = bytearray(_read("app-esp32c6-sbv2-signed.bin"))
    data[0x100] ^= 1  # segment data: image checksum and the signed digest both change
    image = Image.from_bytes(bytes(data))
    assert any(c.name == "signature-digest" and not c.valid for c in image.checks)


@pytest.mark.parametrize("name", ["esp8266-rboot-flash-512K.bin", "esp8266-nonos-flash-512K.bin",
                                  "esp8266-yaota8266-initial.bin", "esp8266-firmware-ota.ota",
                                  "app-esp32c6-sbv2-signed.bin", "bootloader-sbv1-signed.bin"])
def test_cli_info_and_verify(name: str) -> None:
    for command in ("info", "verify"):
        done = _cli(command, str(fixture_path(name)))
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert done.stdout and not done.stderr


def test_diff_signed_vs_unsigned_bootloader_reports_only_the_signature() -> None:
    from esp_image.diff import Change, diff

    unsigned = Image.from_bytes(_read("esp32-bootloader.bin"))
    signed = Image.from_bytes(_read("bootloader-sbv1-signed.bin"))
    end = len(_read("esp32-bootloader.bin"))
    assert diff(unsigned, signed).changes == (
        Change("signature", "scheme", None, "sbv1", f"added: sbv1 at {end:#x}, 68 bytes"),)


def test_diff_nonos_user_bins_report_marker_and_link() -> None:
    from esp_image.diff import diff

    data = _read("esp8266-nonos-flash-512K.bin")
    user1 = Image.from_bytes(data[0x1000:0x41000].rstrip(b"\xff"))
    user2 = Image.from_bytes(data[0x41000:0x7C000].rstrip(b"\xff"))
    changes = {(c.section, c.field): (c.before, c.after) for c in diff(user1, user2).changes}
    assert changes[("esp8266", "user")] == (1, 2)
    assert changes[("esp8266", "irom address")] == (0x40201010, 0x40241010)


def test_corpus_absent_skips_fold_into_one_summary_line() -> None:
    """Without ../shared, skips that only say a corpus (corpus or corpus-2) is missing fold
    into one -ra line, so any other skip stands out."""
    import os

    from ..conftest import ROOT

    env = {**os.environ, "ESP_IMAGE_CORPUS": "/nonexistent/corpus"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "-n", "0", "tests/models/nvs/test_nvs_files.py",
                           "tests/models/test_rboot.py"],
                          capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stdout[-2000:]
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and "corpus-only cases" in skipped[0], skipped
