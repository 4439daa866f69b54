"""``yaota8266_send`` (issue 17): the client side of yaota8266's update protocol, against the
simulated ota-server of ``tests/sim/ota_server.py`` (no real ESP8266 was available).

The server checks every datagram's signature itself and assembles the firmware in its flash;
each test compares that flash with the input.
"""

from __future__ import annotations

import socket
import time

import pytest

from esp_image.errors import BoardError, InputError, UsageError, VerificationFailed
from esp_image.transforms import yaota
from esp_image.yaota8266_ota import OtaFile
from esp_image.yaota8266_send import prepare_update, send_update

from ..conftest import fixture_path
from ..sim.ota_server import MAIN_APP_OFFSET, SECTOR, OtaServer, signature_accepted

FAST = {"timeout": 0.05, "end_gap": 0.0}


@pytest.fixture(scope="module")
def key() -> bytes:
    pytest.importorskip("cryptography")
    return fixture_path("esp8266-yaota-priv.key").read_bytes()


@pytest.fixture(scope="module")
def modulus(key: bytes) -> int:
    return yaota.key_modulus(key)


@pytest.fixture(scope="module")
def app() -> bytes:
    return fixture_path("esp8266-firmware-ota.bin").read_bytes()


@pytest.fixture(scope="module")
def ota(key: bytes) -> OtaFile:
    update, signed = prepare_update(fixture_path("esp8266-firmware-ota.ota").read_bytes(), key)
    assert not signed
    return update


def assert_flashed(sim: OtaServer, payload: bytes) -> None:
    """The main app is the payload, the rest of its last sector erased, nothing else written."""
    assert sim.wait_finished()
    assert sim.main_app(len(payload)) == payload
    end = MAIN_APP_OFFSET + len(payload)
    tail = -end % SECTOR
    assert sim.flash[end:end + tail] == b"\xff" * tail
    sectors = -(-len(payload) // SECTOR)
    assert sim.sectors_written == [MAIN_APP_OFFSET + i * SECTOR for i in range(sectors)]
    assert sim.flash[:MAIN_APP_OFFSET].count(0xFF) == MAIN_APP_OFFSET
    assert sim.rejected == 0


def test_a_good_update_arrives_whole(ota: OtaFile, modulus: int, app: bytes) -> None:
    with OtaServer(modulus) as sim:
        result = send_update(ota, "127.0.0.1", sim.port, **FAST)
        assert_flashed(sim, app)
    assert (result.datagrams, result.payload_length, result.end_markers) == (225, len(app), 3)
    assert (result.retransmits, result.stale_answers, sim.duplicates) == (0, 0, 0)
    assert result.to_dict()["port"] == sim.port


def test_a_main_app_is_signed_on_the_way(key: bytes, modulus: int, app: bytes) -> None:
    update, signed = prepare_update(app, key)
    assert signed
    assert update.to_bytes() == fixture_path("esp8266-firmware-ota.ota").read_bytes()
    with OtaServer(modulus) as sim:
        send_update(update, "127.0.0.1", sim.port, **FAST)
        assert_flashed(sim, app)


@pytest.mark.parametrize("size", [700, SECTOR, 2 * SECTOR + 256])
def test_every_sector_boundary_case(key: bytes, modulus: int, size: int) -> None:
    """A payload that ends on a sector boundary is written with its last full buffer; the end
    marker writes only a partial one."""
    payload = bytes(range(251)) * (size // 251) + bytes(size % 251)
    update = OtaFile.from_bytes(yaota.sign_ota(payload, key, check_app=False))
    with OtaServer(modulus) as sim:
        send_update(update, "127.0.0.1", sim.port, **FAST)
        assert_flashed(sim, payload)


def test_lost_datagrams_and_lost_answers_are_resent(ota: OtaFile, modulus: int,
                                                    app: bytes) -> None:
    with OtaServer(modulus, drop=[1, 5, 5, 17], drop_answers=[7, 16]) as sim:
        result = send_update(ota, "127.0.0.1", sim.port, **FAST)
        assert_flashed(sim, app)
    assert result.retransmits == 6
    assert sim.duplicates == 2  # the server acknowledged 7 and 16 again without rewriting


def test_a_late_answer_is_skipped_not_taken_for_the_next(ota: OtaFile, modulus: int,
                                                         app: bytes) -> None:
    # 10's first answer comes while 11 is still unanswered (11 is lost three times).
    with OtaServer(modulus, delay_answers={10: 0.12}, drop=[11, 11, 11]) as sim:
        result = send_update(ota, "127.0.0.1", sim.port, **FAST)
        assert_flashed(sim, app)
    assert result.retransmits == 4
    assert result.stale_answers == 1


def test_a_wrong_key_is_rejected_by_the_device(app: bytes, modulus: int) -> None:
    other = yaota.generate_key()
    update, _ = prepare_update(app, other)
    first = update.datagrams[0]
    datagram = bytes(update.data[first.file_offset:first.file_offset + first.size])
    assert signature_accepted(datagram, yaota.key_modulus(other))
    assert not signature_accepted(datagram, modulus)
    with OtaServer(modulus) as sim, pytest.raises(BoardError) as err:
        send_update(update, "127.0.0.1", sim.port, retries=2, **FAST)
    assert sim.rejected == 3
    assert sim.flash.count(0xFF) == len(sim.flash)
    message = str(err.value)
    assert "datagram 1 " in message and "after 3 tries" in message
    assert "signature does not verify" in message and "nothing was written" in message


def test_a_silent_device_times_out(ota: OtaFile, modulus: int) -> None:
    start = time.monotonic()
    with OtaServer(modulus, silent=True) as sim, pytest.raises(BoardError,
                                                               match="after 4 tries"):
        send_update(ota, "127.0.0.1", sim.port, retries=3, **FAST)
    assert time.monotonic() - start < 2


@pytest.mark.parametrize(("lost", "says"), [
    (5, "after 4 of 225 datagrams were acknowledged: nothing was written yet"),
    (20, "after 19 of 225 datagrams were acknowledged: the device's main app is partly "
         "overwritten"),
])
def test_a_device_silent_mid_transfer_says_how_far_it_got(ota: OtaFile, modulus: int,
                                                          lost: int, says: str) -> None:
    with OtaServer(modulus, drop=[lost] * 10) as sim, pytest.raises(BoardError) as err:
        send_update(ota, "127.0.0.1", sim.port, retries=2, **FAST)
    assert says in str(err.value)
    assert f"datagram {lost} " in str(err.value)


def test_nothing_listening(ota: OtaFile) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(BoardError, match="port unreachable"):
        send_update(ota, "127.0.0.1", port, retries=1, **FAST)


def test_a_host_that_does_not_resolve(ota: OtaFile) -> None:
    with pytest.raises(InputError, match="cannot resolve"):
        send_update(ota, "no-such-host.invalid", **FAST)


def test_prepare_refuses_what_it_cannot_send(key: bytes, app: bytes) -> None:
    good = fixture_path("esp8266-firmware-ota.ota").read_bytes()
    with pytest.raises(UsageError, match=r"not a \.ota file"):
        prepare_update(app)
    with pytest.raises(InputError, match="empty"):
        prepare_update(b"", key)
    damaged = bytearray(good)
    damaged[40] ^= 1
    with pytest.raises(VerificationFailed, match="sha1"):
        prepare_update(bytes(damaged))
    with pytest.raises(VerificationFailed, match="first failing datagram: 0"):
        prepare_update(good, yaota.generate_key())
    not_an_app = yaota.sign_ota(bytes(700), key, check_app=False)
    with pytest.raises(VerificationFailed, match="main-app"):
        prepare_update(not_an_app, key)
    assert prepare_update(not_an_app, key, force=True)[0].payload == bytes(700)
