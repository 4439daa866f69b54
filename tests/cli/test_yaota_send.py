"""``esp-image yaota send`` (issue 17) as a user runs it, against the simulated ota-server of
``tests/sim/ota_server.py`` on 127.0.0.1 (no real ESP8266 was available)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from esp_image.cli import yaota as yaota_cli
from esp_image.transforms import yaota

from ..conftest import ROOT, fixture_path
from ..sim.ota_server import OtaServer
from .test_json_doc import assert_matches

OTA = str(fixture_path("esp8266-firmware-ota.ota"))
APP = str(fixture_path("esp8266-firmware-ota.bin"))
KEY = str(fixture_path("esp8266-yaota-priv.key"))
FAST = ("--timeout", "0.05", "--retries", "2")


@pytest.fixture(scope="module")
def modulus() -> int:
    pytest.importorskip("cryptography")
    return yaota.key_modulus(Path(KEY).read_bytes())


def send(sim: OtaServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esp_image", "yaota", "send", *args,
                           "--to", "127.0.0.1", "--port", str(sim.port), *FAST],
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=60)


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, *says: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for text in says:
        assert text in lines[0]


def test_send_a_signed_update(modulus: int) -> None:
    with OtaServer(modulus, drop=[3]) as sim:
        result = send(sim, OTA)
        assert sim.wait_finished()
        assert sim.main_app(57360) == Path(APP).read_bytes()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"sent {OTA} to 127.0.0.1:{sim.port}: 225 datagrams "
                                    "(57360 bytes) acknowledged, 3 end markers sent")
    assert "1 datagrams resent after no answer" in result.stdout
    assert result.stderr == ""  # no progress bar off a terminal


def test_send_a_main_app_with_its_key_as_json(modulus: int) -> None:
    with OtaServer(modulus) as sim:
        result = send(sim, APP, "--key", KEY, "--json")
        assert sim.wait_finished()
        assert sim.main_app(57360) == Path(APP).read_bytes()
    doc = json.loads(result.stdout)
    assert_matches("yaota send document", doc)
    assert doc["signed"] is True and doc["datagrams"] == 225 and doc["port"] == sim.port


def test_a_wrong_key_is_one_line_exit_2(modulus: int, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    other.write_bytes(yaota.generate_key())
    with OtaServer(modulus) as sim:
        result = send(sim, APP, "--key", str(other))
    assert sim.rejected == 3
    assert_one_line(result, 2, "no answer", "datagram 1 ", "signature does not verify")


def test_a_silent_device_is_one_line_exit_2_with_a_json_error(modulus: int) -> None:
    start = time.monotonic()
    with OtaServer(modulus, silent=True) as sim:
        result = send(sim, OTA, "--json")
    assert time.monotonic() - start < 10
    assert_one_line(result, 2, "no answer from 127.0.0.1", "after 3 tries 0.05 s apart")
    assert json.loads(result.stdout)["error"] == result.stderr.strip().split(": ", 2)[2]


def test_a_damaged_or_mismatched_ota_is_refused_before_sending(modulus: int,
                                                                tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.ota"
    data = bytearray(Path(OTA).read_bytes())
    data[100] ^= 0xFF
    damaged.write_bytes(data)
    other = tmp_path / "other.key"
    other.write_bytes(yaota.generate_key())
    with OtaServer(modulus) as sim:
        assert_one_line(send(sim, str(damaged)), 1, "refused", "sha1")
        assert_one_line(send(sim, OTA, "--key", str(other)), 1, "refused", "signature")
        assert_one_line(send(sim, APP), 2, "not a .ota file")
        assert_one_line(send(sim, str(tmp_path / "missing.ota")), 2, "missing.ota")
    assert sim.received == 0


def test_progress_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with yaota_cli._send_progress(False, 512) as progress:
        assert progress is not None
        progress(256, 512)
    with yaota_cli._send_progress(True, 512) as progress:
        assert progress is None
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with yaota_cli._send_progress(False, 512) as progress:
        assert progress is None
