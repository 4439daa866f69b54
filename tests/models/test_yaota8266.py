"""yaota8266: boot8266 parameters, the main-app check, bundles, initial images, .ota files.

Reference: shared/docs/formats/yaota8266.md (section numbers below refer to it).
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esp_image.errors import FormatError, TruncatedError
from esp_image.formats import yaota8266 as fmt
from esp_image.yaota8266 import (
    Boot8266Params,
    BundleCheck,
    MainApp,
    OtaFile,
    check_bundle,
    check_initial_image,
    patch_boot8266,
)

from ..conftest import input_path


def corpus(name: str) -> bytes:
    """A corpus file, or the fixture of that name (fixtures/ names never clash with it)."""
    return input_path(name).read_bytes()


# ---------------------------------------------------------------------- independent oracles
def v1_image(segments: list[tuple[int, bytes]], entry: int = 0x40100004,
             size_freq: int = 0x20) -> bytes:
    """An ESP8266 v1 image written out from esp8266.md §1 (0x00 padding, XOR from 0xEF)."""
    out = bytes([0xE9, len(segments), 0, size_freq]) + struct.pack("<I", entry)
    chk = 0xEF
    for addr, data in segments:
        out += struct.pack("<II", addr, len(data)) + data
        chk = functools.reduce(operator.xor, data, chk)
    out += b"\0" * (15 - len(out) % 16)
    return out + bytes([chk])


def makeimg(flash: bytes, rom: bytes) -> bytes:
    """MicroPython ports/esp8266/makeimg.py, transcribed."""
    md5 = hashlib.md5(flash[4:])
    pad = b"\xff" * (0x9000 - len(flash))
    assert len(pad) >= 4
    len_data = struct.pack("I", 0x9000 + len(rom))
    body = flash + pad[:-4] + len_data + rom
    md5.update(pad[:-4] + len_data + rom)
    return body + md5.digest()


def merge(*parts: bytes) -> bytes:
    """yaota8266 merge.py, transcribed (pad each part and the end to 4 KiB with 0xFF)."""
    out = b""
    for part in parts:
        out += b"\xff" * (-len(out) % 0x1000) + part
    return out + b"\xff" * (-len(out) % 0x1000)


def boot8266_check(flash: bytes, base: int) -> bool | str:
    """boot8266.c check_main_app(), transcribed chunk by chunk."""
    sz = struct.unpack_from("<I", flash, base + 0x8FFC)[0]
    if sz > 800000:
        return f"Invalid main app size: {sz}"
    ctx = hashlib.md5()
    off = base
    while sz != 0:
        chunk = min(sz, 4096)
        buf = flash[off:off + chunk]
        ctx.update(buf[4:chunk] if off == base else buf)
        sz -= chunk
        off += chunk
    return flash[off:off + 16] == ctx.digest()


def expected_verdict(flash: bytes, base: int = 0) -> str:
    result = boot8266_check(flash, base)
    if result is True:
        return "boots the main app"
    if result is False:
        return "MD5 mismatch; falls back to OTA mode"
    return f"{result}; falls back to OTA mode"


def small_app() -> bytes:
    flash = v1_image([(0x40100000, bytes(range(256)) * 4), (0x3FFE8000, b"\x11" * 64)],
                     entry=0x40100010)
    return makeimg(flash, bytes(range(7, 250)) * 9)


# ---------------------------------------------------------------------- boot8266 (§2.3)
def test_corpus_boot8266_params() -> None:
    params = Boot8266Params.from_image(corpus("uartremote_boot8266-0x00000.bin"))
    assert params is not None
    assert params.gpio_mask == 0xF035 == fmt.GPIO_MASK_DEFAULT
    assert params.gpio_wait_ms == 3000
    assert params.param_offset == 0xF00
    assert params.main_app_offset == 0x3C000
    assert params.rtc_request  # UartRemote ships ulno's fork ("yaotaota")
    assert params.image_length == 0x1000 and params.checksum_valid
    assert params.issues() == []
    d = params.to_dict()
    json.dumps(d)
    assert d["gpio_mask"] == 0xF035 and d["gpio_wait_ms"] == 3000
    assert d["main_app_offset"] == 0x3C000


@pytest.mark.parametrize(("boot", "bundle"), [
    ("uartremote_boot8266-0x00000.bin", "uartremote_yaota8266.bin"),
    ("esp8266-boot8266.bin", "esp8266-yaota8266.bin"),
])
def test_boot8266_params_inside_bundle(boot: str, bundle: str) -> None:
    alone = Boot8266Params.from_image(corpus(boot))
    inside = Boot8266Params.from_image(corpus(bundle))
    assert alone == inside


@pytest.mark.parametrize("name", [
    "nonos_boot_v1.7.bin", "nonos_boot_v1.2.bin", "mgwr_rboot_0x00000.bin",
    "uartremote_ota.elf-0x00000.bin", "uartremote_ota.elf-0x09000.bin",
    "uartremote_micropython_v1.15-ota.bin", "mgwr_rboot_rom0_0x02000.bin",
    "esp8266-nonos-boot.bin", "esp8266-rboot-boot.bin", "esp8266-v1.bin",
    "esp8266-firmware-ota.bin", "esp8266-rboot-rom0.bin",
])
def test_not_boot8266(name: str) -> None:
    assert Boot8266Params.from_image(corpus(name)) is None


def test_boot8266_truncated_or_garbage() -> None:
    data = corpus("uartremote_boot8266-0x00000.bin")
    assert Boot8266Params.from_image(data[:0x800]) is None
    assert Boot8266Params.from_image(b"") is None
    assert Boot8266Params.from_image(b"\xe9\x01") is None


def test_patch_boot8266() -> None:
    data = corpus("uartremote_boot8266-0x00000.bin")
    patched = patch_boot8266(data, gpio_mask=0x1, gpio_wait_ms=500)
    diff = [i for i in range(len(data)) if data[i] != patched[i]]
    assert set(diff) <= {0xF00, 0xF01, 0xF02, 0xF03, 0xF04, 0xF05, 0xF06, 0xF07, 0xFFF}
    params = Boot8266Params.from_image(patched)
    assert params is not None and (params.gpio_mask, params.gpio_wait_ms) == (1, 500)
    assert params.checksum_valid
    # independent checksum: one IRAM segment whose data is bytes 0x10..0xFF4
    assert functools.reduce(operator.xor, patched[0x10:0xFF4], 0xEF) == patched[0xFFF]
    assert patch_boot8266(patched, gpio_mask=0xF035, gpio_wait_ms=3000) == data
    with pytest.raises(FormatError):
        patch_boot8266(corpus("nonos_boot_v1.7.bin"), gpio_mask=0)
    with pytest.raises(FormatError):
        patch_boot8266(data, gpio_mask=1 << 32)


# ---------------------------------------------------------------------- main app (§2.2, §3)
def test_corpus_main_app() -> None:
    data = corpus("uartremote_micropython_v1.15-ota.bin")
    app = MainApp.from_bytes(data)
    assert app.size_word == 0x98CC4 and app.irom_length == 0x98CC4 - 0x9000
    assert app.length == len(data) and app.trailing == 0
    assert app.verdict == expected_verdict(data) == "boots the main app"
    assert app.boots
    checks = app.checks()
    assert [c.name for c in checks] == ["structure", "checksum", "yaota-md5"]
    assert all(c.valid for c in checks), checks
    assert checks[2].offset == 0x98CC4
    assert app.to_bytes() == data
    d = app.to_dict()
    assert d["verdict"] == "boots the main app" and d["size_word"] == 0x98CC4
    assert d["md5"]["stored"] == d["md5"]["computed"]  # type: ignore[index]


@pytest.mark.parametrize(("where", "xor"), [
    (0x9000 + 0x1234, 0x01),   # irom byte
    (0x50000, 0x80),           # irom byte
    (0x8FFC, 0x04),            # size word: 0x98CC0, MD5 read at the wrong place
    (0x8FFE, 0x10),            # size word: 0xA8CC4 (still <= 800000), past the MD5
    (0x8FFF, 0x01),            # size word: > 800000
    (0x8800, 0x01),            # padding byte before the size word
    (0x20, 0x01),              # v1 segment data: XOR checksum and MD5 both break
])
def test_main_app_one_byte_corruption(where: int, xor: int) -> None:
    data = bytearray(corpus("uartremote_micropython_v1.15-ota.bin"))
    data[where] ^= xor
    raw = bytes(data)
    app = MainApp.from_bytes(raw)
    expected = expected_verdict(raw)
    assert app.verdict.startswith(expected.split(";")[0])
    assert not app.boots
    md5 = {c.name: c for c in app.checks()}["yaota-md5"]
    assert not md5.valid
    if 0x8FFC <= where < 0x9000:
        assert "falls back to OTA mode" in app.verdict
    if where == 0x8FFF:
        assert app.verdict == f"Invalid main app size: {0x01098CC4}; falls back to OTA mode"
        assert md5.offset == 0x8FFC
        assert not app.checks()[0].valid
    if where >= 0x9000 or where == 0x8800:
        assert app.verdict == "MD5 mismatch; falls back to OTA mode"
        assert {c.name: c for c in app.checks()}["checksum"].valid
    if where == 0x20:
        assert not {c.name: c for c in app.checks()}["checksum"].valid
    if where == 0x8800:
        assert "not all 0xFF" in app.checks()[0].detail


def test_main_app_flash_params_are_outside_md5() -> None:
    data = bytearray(corpus("uartremote_micropython_v1.15-ota.bin"))
    data[2] = 0x02  # esptool --flash-mode dio
    data[3] = 0x4F  # 4MB, 80 MHz
    app = MainApp.from_bytes(bytes(data))
    assert app.boots and all(c.valid for c in app.checks())
    assert app.to_bytes() == bytes(data)


def test_main_app_repair() -> None:
    data = bytearray(corpus("uartremote_micropython_v1.15-ota.bin"))
    good = bytes(data)
    data[0x40000] ^= 0xFF
    app = MainApp.from_bytes(bytes(data))
    rebuilt = app.to_bytes()
    assert rebuilt[:0x98CC4] == bytes(data)[:0x98CC4]
    assert rebuilt != good
    assert MainApp.from_bytes(rebuilt).boots


def test_synthetic_main_app_and_edges() -> None:
    raw = small_app()
    app = MainApp.from_bytes(raw)
    assert app.boots and app.to_bytes() == raw
    assert app.irom_length == 243 * 9
    # trailing data is kept
    app2 = MainApp.from_bytes(raw + b"\xff" * 100)
    assert app2.trailing == 100 and app2.to_bytes() == raw + b"\xff" * 100
    assert "0x64 bytes after it" in app2.checks()[0].detail
    # embedded at an offset
    app3 = MainApp.from_bytes(b"\xaa" * 0x3C000 + raw, 0x3C000)
    assert app3.boots and app3.to_bytes() == raw
    # size word 0: MD5("") against the first 16 bytes
    zero = bytearray(raw)
    zero[0x8FFC:0x9000] = b"\0\0\0\0"
    assert MainApp.from_bytes(bytes(zero)).verdict == "MD5 mismatch; falls back to OTA mode"
    assert boot8266_check(bytes(zero), 0) is False
    two = bytearray(raw)
    two[0x8FFC:0x9000] = struct.pack("<I", 2)
    assert "undefined behaviour" in MainApp.from_bytes(bytes(two)).verdict


def test_main_app_truncated() -> None:
    data = corpus("uartremote_micropython_v1.15-ota.bin")
    with pytest.raises(TruncatedError):
        MainApp.from_bytes(data[:0x8000])
    with pytest.raises(TruncatedError):
        MainApp.from_bytes(data[:4])
    cut = MainApp.from_bytes(data[:0x20000])
    assert not cut.boots and "past the end" in cut.verdict
    assert not cut.checks()[0].valid
    assert [c.valid for c in cut.checks()][1:] == [True, False]
    tiny = MainApp.from_bytes(data[:0x9008])
    assert tiny.stored_md5 is None
    with pytest.raises(FormatError):
        tiny.to_bytes()


@pytest.mark.parametrize("name", [
    "uartremote_ota.elf-0x09000.bin",   # raw irom, no 0xE9
    "mgwr_nonos_0x00000.bin",            # v1 image longer than 0x8FFC
    "uartremote_boot8266-0x00000.bin",   # too short for a size word
    "mgwr_rboot_rom0_0x02000.bin",       # 0xEA v2 image
    "esp8266-boot8266.bin", "esp8266-rboot-rom0.bin", "esp8266-init-data.bin",
])
def test_not_a_main_app(name: str) -> None:
    with pytest.raises(FormatError):
        MainApp.from_bytes(corpus(name))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 0x9000 + 243 * 9 + 15), st.integers(1, 255))
def test_main_app_any_corruption(where: int, xor: int) -> None:
    raw = bytearray(small_app())
    raw[where] ^= xor
    data = bytes(raw)
    try:
        app = MainApp.from_bytes(data)
    except FormatError:
        return
    verdict = expected_verdict(data) if struct.unpack_from("<I", data, 0x8FFC)[0] >= 4 else None
    if verdict is not None and struct.unpack_from("<I", data, 0x8FFC)[0] + 16 <= len(data):
        assert app.verdict == verdict
    assert app.boots == (boot8266_check(data, 0) is True)
    app.checks()
    app.to_dict()


# ---------------------------------------------------------------------- bundle (§1, §1.1)
def test_corpus_bundle_is_merge_of_parts() -> None:
    parts = [corpus("uartremote_boot8266-0x00000.bin"), corpus("uartremote_ota.elf-0x00000.bin"),
             corpus("uartremote_ota.elf-0x09000.bin")]
    assert merge(*parts) == corpus("uartremote_yaota8266.bin")


def test_corpus_bundle() -> None:
    data = corpus("uartremote_yaota8266.bin")
    bundle = check_bundle(data)
    assert isinstance(bundle, BundleCheck)
    assert bundle.consistent and bundle.issues == ()
    checks = bundle.checks()
    assert all(c.valid for c in checks), [c for c in checks if not c.valid]
    codes = [c.detail.split(":")[0] for c in checks if c.name == "layout"]
    assert codes == ["boot8266-image", "boot8266-size", "ota-server-image", "ota-server-size",
                     "ota-irom-size", "merge-padding", "main-app-offset"]
    assert bundle.main_app_offset == 0x3C000 == bundle.bundle_length
    assert bundle.ota_server.length == len(corpus("uartremote_ota.elf-0x00000.bin"))
    assert bundle.ota_irom_length == len(corpus("uartremote_ota.elf-0x09000.bin"))
    assert bundle.ota_irom_offset == 0x9000
    assert bundle.boot8266 == Boot8266Params.from_image(data)
    assert bundle.main_app is None
    d = bundle.to_dict()
    assert d["consistent"] is True and d["main_app_offset"] == 0x3C000
    assert [c.offset for c in bundle.checks(0x100)][:2] == [0x100, 0x100 + 0xFFF]


@pytest.mark.parametrize("name", [
    "uartremote_boot8266-0x00000.bin", "uartremote_micropython_v1.15-ota.bin",
    "mgwr_rboot_0x00000.bin", "nonos_boot_v1.7.bin", "uartremote_ota.elf-0x00000.bin",
    "esp8266-boot8266.bin", "esp8266-firmware-ota.bin", "esp8266-rboot-flash-512K.bin",
    "esp8266-nonos-flash-512K.bin",
    "esp8266-combined.bin",
])
def test_not_a_bundle(name: str) -> None:
    assert check_bundle(corpus(name)) is None
    assert check_initial_image(corpus(name)) is None


def test_bundle_small_ota_server_and_large_irom() -> None:
    boot = corpus("uartremote_boot8266-0x00000.bin")
    small_ota = v1_image([(0x40100000, b"\x22" * 0x5000)])
    irom = b"\x33" * 0x34000
    bundle = check_bundle(merge(boot, small_ota, irom))
    assert bundle is not None and not bundle.consistent
    codes = {i.code for i in bundle.issues}
    assert {"ota-server-size", "ota-irom-size", "main-app-offset"} <= codes
    assert "boot8266-size" not in codes
    assert any(not c.valid for c in bundle.checks())


def test_bundle_boot8266_damage_and_params() -> None:
    data = bytearray(corpus("uartremote_yaota8266.bin"))
    data[0x100] ^= 0x40
    bundle = check_bundle(bytes(data))
    assert bundle is not None and not bundle.consistent
    assert {i.code for i in bundle.issues} == {"boot8266-image"}
    assert not next(c for c in bundle.checks() if c.name == "checksum").valid
    always_ota = patch_boot8266(corpus("uartremote_yaota8266.bin"), gpio_mask=0)
    bundle = check_bundle(always_ota)
    assert bundle is not None and bundle.consistent
    assert [i.code for i in bundle.issues] == ["gpio-mask-zero"]
    assert bundle.issues[0].severity == "warning"


def test_bundle_gap_not_erased() -> None:
    data = bytearray(corpus("uartremote_yaota8266.bin"))
    data[0x8800] = 0x00  # between the ota-server image and its irom
    bundle = check_bundle(bytes(data))
    assert bundle is not None and bundle.consistent  # warning only
    assert [i.code for i in bundle.issues] == ["merge-padding"]


# ---------------------------------------------------------------------- initial image
def test_initial_image() -> None:
    bundle_bytes = corpus("uartremote_yaota8266.bin")
    app_bytes = corpus("uartremote_micropython_v1.15-ota.bin")
    data = bundle_bytes + app_bytes
    result = check_initial_image(data)
    assert result is not None
    bundle, app = result
    assert bundle.consistent and bundle.issues == ()
    checks = bundle.checks()
    assert all(c.valid for c in checks)
    md5 = [c for c in checks if c.name == "yaota-md5"]
    assert len(md5) == 1 and md5[0].offset == 0x3C000 + 0x98CC4
    assert app.to_bytes() == app_bytes and app.boots
    assert bundle.to_dict()["main_app"] is not None
    json.dumps(bundle.to_dict())
    json.dumps([c.to_dict() for c in checks])
    # check_bundle only looks at the bundle part
    plain = check_bundle(data)
    assert plain is not None and plain.main_app is None and plain.bundle_length == 0x3C000
    assert plain.consistent


def test_initial_image_with_bad_app() -> None:
    data = bytearray(corpus("uartremote_yaota8266.bin") + corpus(
        "uartremote_micropython_v1.15-ota.bin"))
    data[0x3C000 + 0x60000] ^= 1
    result = check_initial_image(bytes(data))
    assert result is not None
    bundle, app = result
    assert not bundle.consistent
    assert [i.code for i in bundle.issues] == ["main-app-check"]
    assert app.verdict == expected_verdict(bytes(data), 0x3C000)
    assert "MD5 mismatch" in bundle.issues[0].message


def test_initial_image_misplaced_app() -> None:
    data = corpus("uartremote_yaota8266.bin") + b"\xff" * 0x1000 + small_app()
    assert check_initial_image(data) is None
    bundle = check_bundle(data)
    assert bundle is not None and "main-app-offset" in {i.code for i in bundle.issues}


# ---------------------------------------------------------------------- .ota file (§4.5)
SIG = bytes(range(64))

DATAGRAM_GOLDEN = bytes.fromhex(
    "01 00 00 00"              # seq = 1 (not signed)
    "00 00"                    # op = 0
    "01 00"                    # len = 1
    "00 00 00 00"              # offset = 0
    "ab"                       # data
    "00 00 00 00 00 00 00"     # zero padding to 16 body bytes
) + SIG                        # 64-byte RSA signature


def make_ota(firmware: bytes, signed: bool = True, block: int = 256) -> bytes:
    """ota_client.py make_ota(), transcribed, with a fixed fake signature."""
    seq = 0
    records = b"yaota8266\x01"

    def pkt(offset: int, data: bytes) -> bytes:
        nonlocal seq
        body = struct.pack("<HHI", 0, len(data), offset) + data
        body += b"\0" * ((16 - len(body) % 16) % 16)
        seq += 1
        return struct.pack("<I", seq) + body + (SIG if signed else b"")

    offset = 0
    while offset < len(firmware):
        chunk = firmware[offset:offset + block]
        p = pkt(offset, chunk)
        records += struct.pack("<H", len(p)) + p
        offset += len(chunk)
    for _ in range(3):
        p = pkt(0, b"")
        records += struct.pack("<H", len(p)) + p
    return records + b"\0\0" + hashlib.sha1(records).digest()


def test_datagram_golden_and_sizes() -> None:
    assert len(DATAGRAM_GOLDEN) == 84
    assert fmt.body_size(256) == 272 and 4 + fmt.body_size(256) + 64 == 340
    assert 4 + fmt.body_size(0) + 64 == 84
    records = b"yaota8266\x01" + struct.pack("<H", 84) + DATAGRAM_GOLDEN
    end = bytes.fromhex("02000000 0000 0000 00000000") + b"\0" * 8 + SIG
    for i in range(3):
        records += struct.pack("<H", 84) + struct.pack("<I", 2 + i) + end[4:]
    data = records + b"\0\0" + hashlib.sha1(records).digest()
    ota = OtaFile.from_bytes(data)
    first = ota.datagrams[0]
    assert (first.seq, first.op, first.length, first.offset, first.size) == (1, 0, 1, 0, 84)
    assert first.has_signature and first.data_offset == 12 + 12
    assert ota.payload == b"\xab"
    assert all(c.valid for c in ota.checks()), ota.checks()
    assert ota.to_bytes() == data


def test_ota_file_round_trip() -> None:
    fw = small_app()
    data = make_ota(fw)
    ota = OtaFile.from_bytes(data)
    assert ota.payload == fw
    assert len(ota.data_datagrams) == -(-len(fw) // 256)
    assert len(ota.datagrams) == len(ota.data_datagrams) + 3
    checks = ota.checks()
    assert [c.name for c in checks] == ["structure", "sha1"]
    assert all(c.valid for c in checks), checks
    assert checks[1].offset == len(data) - 20
    assert ota.to_bytes() == data
    assert ota.main_app().boots
    d = ota.to_dict()
    json.dumps(d)
    assert d["signatures"] == {"present": len(ota.datagrams), "missing": 0, "verified": False}
    assert d["sha1"]["stored"] == d["sha1"]["computed"]  # type: ignore[index]


def test_ota_file_corpus_main_app() -> None:
    fw = corpus("uartremote_micropython_v1.15-ota.bin")
    data = make_ota(fw)
    ota = OtaFile.from_bytes(data)
    assert all(c.valid for c in ota.checks())
    assert ota.payload == fw and ota.to_bytes() == data
    assert ota.main_app().verdict == "boots the main app"


def test_ota_file_corruption() -> None:
    data = bytearray(make_ota(small_app()))
    data[500] ^= 1
    ota = OtaFile.from_bytes(bytes(data))
    assert not {c.name: c for c in ota.checks()}["sha1"].valid
    assert ota.to_bytes() != bytes(data)  # SHA-1 recomputed
    assert OtaFile.from_bytes(ota.to_bytes()).checks()[1].valid


def test_ota_file_unsigned_and_bad_offsets() -> None:
    unsigned = OtaFile.from_bytes(make_ota(small_app(), signed=False))
    check = unsigned.checks()[0]
    assert not check.valid and "no signature" in check.detail
    assert unsigned.checks()[1].valid
    assert unsigned.to_dict()["signatures"]["present"] == 0  # type: ignore[index]
    # drop the second datagram: offsets jump
    data = make_ota(small_app())
    ota = OtaFile.from_bytes(data)
    second = ota.datagrams[1]
    cut = data[:second.file_offset - 2] + data[second.file_offset + second.size:]
    broken = OtaFile.from_bytes(cut)
    detail = broken.checks()[0].detail
    assert "Unexpected offset" in detail and "seq" in detail
    # odd block size crossing a 4 KiB boundary
    odd = OtaFile.from_bytes(make_ota(small_app(), block=300))
    assert "Buffer overflow" in odd.checks()[0].detail


def test_ota_file_errors() -> None:
    data = make_ota(small_app())
    with pytest.raises(FormatError, match="Invalid OTA file signature"):
        OtaFile.from_bytes(b"yaota8266\x02" + data[10:])
    with pytest.raises(TruncatedError):
        OtaFile.from_bytes(data[:5])
    for cut in (len(data) - 10, len(data) - 22, 600, 12):
        ota = OtaFile.from_bytes(data[:cut])
        checks = ota.checks()
        assert not all(c.valid for c in checks)
        if not ota.terminated:
            with pytest.raises(FormatError):
                ota.to_bytes()
    extra = OtaFile.from_bytes(data + b"junk")
    assert not extra.checks()[0].valid and extra.to_bytes() == data + b"junk"


def test_ota_file_bad_record_length() -> None:
    records = b"yaota8266\x01" + struct.pack("<H", 90) + DATAGRAM_GOLDEN + b"\0" * 6
    records += struct.pack("<H", 5) + b"\0" * 5
    data = records + b"\0\0" + hashlib.sha1(records).digest()
    ota = OtaFile.from_bytes(data)
    detail = ota.checks()[0].detail
    assert "expected 84" in detail and "shorter than the 12-byte header" in detail
    assert ota.checks()[1].valid and ota.to_bytes() == data


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_ota_fuzz(data: bytes) -> None:
    try:
        ota = OtaFile.from_bytes(b"yaota8266\x01" + data)
    except FormatError:
        return
    ota.checks()
    ota.to_dict()
    if ota.terminated:
        ota.to_bytes()
