"""The yaota8266 toolkit (issue #9): keygen, mkapp, sign/verify, bundle, layout yaota8266.

Independent references written here from shared/docs/formats/yaota8266.md and the yaota8266 /
MicroPython sources it cites (not from esp_image): the ``.ota`` writer of ``ota_client.py
make_ota`` with rsa_sign.py's textbook ``pow(m, d, n)``, the signature check ``pow(s, 3, n)``
of ota.c, makeimg.py's layout, and rsa_sign.py's reading of ``openssl pkey -text``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from esp_image import Image
from esp_image.cli import inspect
from esp_image.cli.app import add_command, yaota_app
from esp_image.cli.yaota import layout_yaota8266
from esp_image.errors import ChecksumMismatch, FormatError, InputError, LayoutError
from esp_image.transforms import yaota
from esp_image.transforms.extract import extract
from esp_image.yaota8266 import check_initial_image

from ..conftest import corpus_path, input_path

BUNDLE = "uartremote_yaota8266.bin"
MAIN_APP = "uartremote_micropython_v1.15-ota.bin"
BOOT8266 = "uartremote_boot8266-0x00000.bin"
OTA_SERVER = "uartremote_ota.elf-0x00000.bin"
OTA_IROM = "uartremote_ota.elf-0x09000.bin"
NORMAL_MP = "pypi_cloudmgr_micropython-v1.8.6-firmware-combined.bin"

runner = CliRunner()


# ====================================================================== spec references
def v1_length(data: bytes) -> int:
    """esp8266.md §1: 8-byte header, segments (8-byte header + data), 0x00 until pos % 16 ==
    15, one checksum byte."""
    count = data[1]
    pos = 8
    for _ in range(count):
        pos += 8 + struct.unpack_from("<I", data, pos + 4)[0]
    return (pos | 0x0F) + 1


def v1_image(segments: list[tuple[int, bytes]], entry: int = 0x40100004) -> bytes:
    """A v1 image (esp8266.md §1.1-§1.3) with a correct XOR checksum."""
    out = bytearray([0xE9, len(segments), 0, 0x20]) + struct.pack("<I", entry)
    checksum = 0xEF
    for addr, data in segments:
        out += struct.pack("<II", addr, len(data)) + data
        for b in data:
            checksum ^= b
    while len(out) % 16 != 15:
        out.append(0)
    out.append(checksum)
    return bytes(out)


def makeimg(image: bytes, irom: bytes) -> bytes:
    """MicroPython ports/esp8266/makeimg.py, transcribed (yaota8266.md §3)."""
    pad = b"\xff" * (0x9000 - len(image))
    assert len(pad) >= 4
    body = image + pad[:-4] + struct.pack("<I", 0x9000 + len(irom)) + irom
    return body + hashlib.md5(body[4:]).digest()


def reference_ota(app: bytes, n: int, d: int) -> bytes:
    """ota_client.py make_ota + rsa_sign.sign (yaota8266.md §4.2, §4.3, §4.5), plain ints."""
    seq = 0

    def make_pkt(offset: int, data: bytes) -> bytes:
        nonlocal seq
        pkt = struct.pack("<HHI", 0, len(data), offset) + data
        pkt += b"\0" * ((16 - len(pkt) % 16) % 16)
        to_sign = b"\x01" * 16 + hashlib.sha1(pkt).digest()
        buf = b"\0\x01" + b"\xff" * (64 - len(to_sign) - 3) + b"\0" + to_sign
        sig = pow(int.from_bytes(buf, "big"), d, n).to_bytes(64, "big")
        seq += 1
        return struct.pack("<I", seq) + pkt + sig

    hashed = bytearray(b"yaota8266\x01")
    for offset in range(0, len(app), 256):
        pkt = make_pkt(offset, app[offset:offset + 256])
        hashed += struct.pack("<H", len(pkt)) + pkt
    for _ in range(3):
        pkt = make_pkt(0, b"")
        hashed += struct.pack("<H", len(pkt)) + pkt
    return bytes(hashed) + struct.pack("<H", 0) + hashlib.sha1(hashed).digest()


def parse_records(ota: bytes) -> list[tuple[int, bytes]]:
    """(file offset, datagram) of every record; asserts the §4.5 framing and SHA-1."""
    assert ota[:10] == b"yaota8266\x01"
    pos, out = 10, []
    while True:
        (size,) = struct.unpack_from("<H", ota, pos)
        if size == 0:
            break
        out.append((pos + 2, ota[pos + 2:pos + 2 + size]))
        pos += 2 + size
    assert ota[pos + 2:] == hashlib.sha1(ota[:pos]).digest()
    return out


def signature_valid(datagram: bytes, n: int) -> bool:
    """ota.c's check from the spec: s^3 mod n must be 00 01 FF.. 00 ‖ 16 bytes ‖ SHA1(body)."""
    sig = int.from_bytes(datagram[-64:], "big")
    block = pow(sig, 3, n).to_bytes(64, "big")
    digest = hashlib.sha1(datagram[4:-64]).digest()
    return block == b"\0\x01" + b"\xff" * 25 + b"\0" + b"\x01" * 16 + digest


def private_numbers(pem: bytes) -> tuple[int, int]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.private_numbers()
    return numbers.public_numbers.n, numbers.d


def resign_sha1(ota: bytes) -> bytes:
    """Recompute the trailing file SHA-1 after an edit, so only the signatures can tell."""
    records = ota[:-22]
    return records + b"\0\0" + hashlib.sha1(records).digest()


def yaota_cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(yaota_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def layout_cli(*args: str) -> tuple[int, str, str]:
    app = typer.Typer()
    add_command(app, layout_yaota8266, "yaota8266")
    app.command("other")(lambda: None)  # keep "yaota8266" a subcommand, as under `layout`
    result = runner.invoke(app, ["yaota8266", *args])
    return result.exit_code, result.stdout, result.stderr


# ====================================================================== fixtures
@pytest.fixture(scope="module")
def key_pem() -> bytes:
    pytest.importorskip("cryptography")
    return yaota.generate_key()


# Each real file, and the project's fixture of the same kind (fixtures/ names never clash).
@pytest.fixture(scope="module", params=[MAIN_APP, "esp8266-firmware-ota.bin"])
def main_app(request: pytest.FixtureRequest) -> bytes:
    return input_path(request.param).read_bytes()


@pytest.fixture(scope="module", params=[BUNDLE, "esp8266-yaota8266.bin"])
def bundle(request: pytest.FixtureRequest) -> bytes:
    return input_path(request.param).read_bytes()


@pytest.fixture(params=[NORMAL_MP, "esp8266-combined.bin"])
def normal_mp(request: pytest.FixtureRequest) -> bytes:
    """A normal (non-OTA) MicroPython firmware-combined.bin: makeimg's layout at offset 0."""
    return input_path(request.param).read_bytes()


@pytest.fixture(scope="module")
def signed(main_app: bytes, key_pem: bytes) -> bytes:
    return yaota.sign_ota(main_app, key_pem)


@pytest.fixture(scope="module")
def small_ota(key_pem: bytes) -> bytes:
    """700 bytes of non-app data: 3 data datagrams (256, 256, 188 bytes) + 3 end markers."""
    payload = bytes(range(256)) * 2 + bytes(range(188))
    return yaota.sign_ota(payload, key_pem, check_app=False)


# ====================================================================== 1. corpus: bundle, mkapp
def test_bundle_of_the_real_files_is_a_consistent_initial_image(bundle: bytes,
                                                                 main_app: bytes) -> None:
    initial = yaota.make_initial_image(bundle, main_app)
    assert len(bundle) == 0x3C000
    assert initial == bundle + main_app  # the bundle is exactly MAIN_APP_OFFSET long
    image = Image.from_bytes(initial)
    assert image.kind == "flash" and image.valid
    assert image.esp8266 is not None and image.esp8266.shape == "yaota8266-initial"
    doc = image.to_dict()
    assert doc["esp8266"]["yaota8266"]["consistent"] is True  # type: ignore[index]
    found = check_initial_image(initial)
    assert found is not None
    full, app = found
    assert full.consistent and app.boots and full.main_app_offset == 0x3C000
    assert all(c.valid for c in full.checks())


def test_bundle_cli_writes_a_verifying_initial_image(tmp_path: Path) -> None:
    out = tmp_path / "initial.bin"
    code, stdout, stderr = yaota_cli("bundle", str(corpus_path(BUNDLE)),
                                     str(corpus_path(MAIN_APP)), "-o", str(out),
                                     "--port", "/dev/ttyUSB0")
    assert code == 0, stderr
    assert out.read_bytes() == corpus_path(BUNDLE).read_bytes() + corpus_path(
        MAIN_APP).read_bytes()
    assert ("esptool --chip esp8266 --port /dev/ttyUSB0 write-flash --flash-size detect 0x0 "
            f"{out}") in stdout
    assert inspect.verify([str(out)], quiet=True) == 0
    code, stdout, _ = yaota_cli("bundle", str(corpus_path(BUNDLE)), str(corpus_path(MAIN_APP)),
                                "-o", str(tmp_path / "x.bin"), "--json", "--dry-run")
    doc = json.loads(stdout)
    assert code == 0 and doc["main_app_offset"] == 0x3C000 and not doc["written"]
    assert not (tmp_path / "x.bin").exists()


def test_mkapp_rebuilds_the_real_main_app_from_its_extracted_parts(main_app: bytes) -> None:
    # The parts come from `extract` (regions "main app" = the v1 image at 0, and
    # "main app irom0" = the raw irom at 0x9000); cross-checked against spec slicing.
    image = Image.from_bytes(main_app)
    v1 = extract(image, "main app").data
    irom = extract(image, "main app irom0").data
    total = struct.unpack_from("<I", main_app, 0x8FFC)[0]
    assert v1 == main_app[:v1_length(main_app)]
    assert irom == main_app[0x9000:total]
    rebuilt = yaota.make_main_app(v1, irom)
    assert rebuilt == main_app
    assert rebuilt == makeimg(v1, irom)


def test_mkapp_cli_byte_identical(tmp_path: Path, main_app: bytes) -> None:
    image = Image.from_bytes(main_app)
    (tmp_path / "firmware.elf-0x00000.bin").write_bytes(extract(image, "main app").data)
    (tmp_path / "firmware.elf-0x45000.bin").write_bytes(extract(image, "main app irom0").data)
    code, stdout, stderr = yaota_cli("mkapp", str(tmp_path / "firmware.elf-0x00000.bin"),
                                     str(tmp_path / "firmware.elf-0x45000.bin"), "-o",
                                     str(tmp_path / "firmware-ota.bin"))
    assert code == 0, stderr
    assert (tmp_path / "firmware-ota.bin").read_bytes() == main_app
    assert f"size word {struct.unpack_from('<I', main_app, 0x8FFC)[0]:#x}" in stdout  # 0x98cc4


def test_mkapp_offset_zero_rebuilds_a_normal_micropython_firmware(normal_mp: bytes) -> None:
    data = normal_mp
    total = struct.unpack_from("<I", data, 0x8FFC)[0]
    v1, irom = data[:v1_length(data)], data[0x9000:total]
    assert yaota.make_main_app(v1, irom, main_app_offset=0) == data


def test_mkapp_refuses_an_irom_linked_for_the_normal_build(normal_mp: bytes) -> None:
    data = normal_mp
    total = struct.unpack_from("<I", data, 0x8FFC)[0]
    with pytest.raises(LayoutError, match=r"linked for flash 0x9000.*mapped at 0x40245000"):
        yaota.make_main_app(data[:v1_length(data)], data[0x9000:total])


def test_mkapp_refuses_the_ota_irom_for_the_normal_layout(main_app: bytes) -> None:
    total = struct.unpack_from("<I", main_app, 0x8FFC)[0]
    with pytest.raises(LayoutError, match="linked for flash 0x45000"):
        yaota.make_main_app(main_app[:v1_length(main_app)], main_app[0x9000:total],
                            main_app_offset=0)


SMALL_V1 = v1_image([(0x40100000, b"\x12\xc1\xf0\x00" * 16), (0x3FFE8000, b"\x01" * 32)])


def test_mkapp_uses_the_file_name_when_the_code_cannot_tell() -> None:
    irom = b"\x00" * 0x400  # no code pointers: nothing to judge from
    built = yaota.make_main_app(SMALL_V1, irom, irom_name="firmware.elf-0x45000.bin")
    assert built == makeimg(SMALL_V1, irom)
    assert yaota.make_main_app(SMALL_V1, irom) == built
    with pytest.raises(LayoutError, match="linked for flash 0x9000"):
        yaota.make_main_app(SMALL_V1, irom, irom_name="firmware.elf-0x09000.bin")


def test_mkapp_refuses_an_app_above_boot8266s_limit() -> None:
    limit = 800000 - 0x9000
    assert len(yaota.make_main_app(SMALL_V1, b"\0" * limit)) == 800000 + 16
    with pytest.raises(LayoutError, match="800000"):
        yaota.make_main_app(SMALL_V1, b"\0" * (limit + 4))


def test_mkapp_refusals_of_unusable_parts() -> None:
    irom = b"\x00" * 0x100
    with pytest.raises(FormatError, match="swapped"):
        yaota.make_main_app(b"\x38" + SMALL_V1[1:], SMALL_V1)
    with pytest.raises(FormatError, match="is a v1 image"):
        yaota.make_main_app(SMALL_V1, SMALL_V1)
    with pytest.raises(FormatError, match="follow the v1 image"):
        yaota.make_main_app(SMALL_V1 + b"\xff" * 16, irom)
    broken = bytearray(SMALL_V1)
    broken[20] ^= 1
    with pytest.raises(ChecksumMismatch):
        yaota.make_main_app(bytes(broken), irom)
    two_iram = v1_image([(0x40100000, b"\0" * 16), (0x40104000, b"\0" * 16)])
    with pytest.raises(LayoutError, match="IRAM segments"):
        yaota.make_main_app(two_iram, irom)
    big = v1_image([(0x40100000, b"\0" * 0x9000)])
    with pytest.raises(LayoutError, match="0x8ffc"):
        yaota.make_main_app(big, irom)
    with pytest.raises(FormatError, match="empty"):
        yaota.make_main_app(SMALL_V1, b"")


def test_mkapp_cli_refusal_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "a-0x00000.bin").write_bytes(SMALL_V1)
    (tmp_path / "a-0x09000.bin").write_bytes(b"\0" * 0x100)
    code, _, stderr = yaota_cli("mkapp", str(tmp_path / "a-0x00000.bin"),
                                str(tmp_path / "a-0x09000.bin"), "-o", str(tmp_path / "o.bin"))
    assert code == 1 and "refused" in stderr and "linked for flash 0x9000" in stderr
    code, _, stderr = yaota_cli("mkapp", str(tmp_path / "a-0x09000.bin"),
                                str(tmp_path / "a-0x00000.bin"), "-o", str(tmp_path / "o.bin"))
    assert code == 2 and "swapped" in stderr
    assert not (tmp_path / "o.bin").exists()
    code, _, stderr = yaota_cli("mkapp", str(tmp_path / "a-0x00000.bin"),
                                str(tmp_path / "a-0x09000.bin"), "--offset", "0",
                                "-o", str(tmp_path / "o.bin"))
    assert code == 0, stderr
    assert (tmp_path / "o.bin").read_bytes() == makeimg(SMALL_V1, b"\0" * 0x100)


# ====================================================================== bundle refusals
def test_bundle_shorter_than_the_offset_is_padded(bundle: bytes, main_app: bytes) -> None:
    short = bundle.rstrip(b"\xff")
    assert len(short) < 0x3C000
    initial = yaota.make_initial_image(short, main_app)
    assert initial == bundle + main_app
    assert any("padded with 0xFF" in n for n in yaota.initial_image_notes(short, initial))


def test_bundle_refusals(bundle: bytes, main_app: bytes) -> None:
    with pytest.raises(LayoutError, match="0x3d000 bytes but boot8266 loads"):
        yaota.make_initial_image(bundle + b"\xff" * 0x1000, main_app)
    with pytest.raises(FormatError, match="already holds a main app"):
        yaota.make_initial_image(bundle + main_app, main_app)
    with pytest.raises(FormatError, match=r"not yaota8266\.bin"):
        yaota.make_initial_image(main_app, main_app)
    with pytest.raises(LayoutError, match="starts with boot8266"):
        yaota.make_initial_image(bundle, bundle)
    damaged = bytearray(main_app)
    damaged[0x5000] ^= 0xFF
    with pytest.raises(LayoutError, match="MD5 mismatch"):
        yaota.make_initial_image(bundle, bytes(damaged))


def test_bundle_refuses_an_ota_server_that_puts_its_irom_elsewhere(bundle: bytes,
                                                                    main_app: bytes) -> None:
    # A 0x40-byte ota-server image: merge.py would put its irom at 0x2000, not 0x9000.
    small = v1_image([(0x40100000, b"\0" * 32)])
    bad = bytearray(bundle)
    bad[0x1000:0x9000] = b"\xff" * 0x8000
    bad[0x1000:0x1000 + len(small)] = small
    with pytest.raises(LayoutError, match="ota-server"):
        yaota.make_initial_image(bytes(bad), main_app)


def test_bundle_refuses_a_main_app_linked_for_another_offset(bundle: bytes,
                                                             normal_mp: bytes) -> None:
    normal = normal_mp  # a makeimg app that passes boot8266's MD5
    with pytest.raises(LayoutError, match="linked for flash 0x9000"):
        yaota.make_initial_image(bundle, normal)


def test_bundle_parts_rebuild_the_corpus_bundle() -> None:
    """merge.py from the spec (pad to 4 KiB before each part and at the end) over the three
    corpus parts gives the corpus yaota8266.bin, which `bundle` accepts."""
    out = bytearray()
    for name in (BOOT8266, OTA_SERVER, OTA_IROM):
        out += b"\xff" * (-len(out) % 0x1000)
        out += corpus_path(name).read_bytes()
    out += b"\xff" * (-len(out) % 0x1000)
    assert bytes(out) == corpus_path(BUNDLE).read_bytes()


# ====================================================================== 2. sign / verify
def test_sign_equals_the_reference_ota_client(main_app: bytes, key_pem: bytes,
                                              signed: bytes) -> None:
    n, d = private_numbers(key_pem)
    assert signed == reference_ota(main_app, n, d)


@pytest.mark.parametrize("size", [1, 8, 24, 255, 256, 257, 256 + 8, 600])
def test_sign_equals_the_reference_for_every_padding_case(size: int, key_pem: bytes) -> None:
    """Bodies of 8 + len bytes: len = 8 or 24 needs no padding, the others up to 15 bytes."""
    n, d = private_numbers(key_pem)
    payload = bytes((i * 7 + 3) & 0xFF for i in range(size))
    assert yaota.sign_ota(payload, key_pem, check_app=False) == reference_ota(payload, n, d)


def test_sign_output_verified_independently(main_app: bytes, key_pem: bytes,
                                            signed: bytes) -> None:
    n, _ = private_numbers(key_pem)
    records = parse_records(signed)
    assert len(records) == -(-len(main_app) // 256) + 3
    payload = bytearray()
    for index, (_, dg) in enumerate(records):
        seq, op, length, offset = struct.unpack_from("<IHHI", dg)
        assert seq == index + 1 and op == 0
        body = dg[4:-64]
        assert len(body) % 16 == 0 and len(body) - 8 - length < 16
        assert not body[8 + length:].strip(b"\0")
        assert signature_valid(dg, n), index
        if index < len(records) - 3:
            assert offset == len(payload) and 0 < length <= 256
            payload += body[8:8 + length]
        else:
            assert (length, offset, len(dg)) == (0, 0, 84)
    assert bytes(payload) == main_app
    assert len(records[0][1]) == 340


def test_sign_signatures_recovered_by_cryptography(key_pem: bytes, signed: bytes) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    public = serialization.load_pem_private_key(key_pem, None).public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    for _, dg in parse_records(signed):
        recovered = public.recover_data_from_signature(dg[-64:], padding.PKCS1v15(), None)
        assert recovered == b"\x01" * 16 + hashlib.sha1(dg[4:-64]).digest()


def test_verify_accepts_the_signed_file(signed: bytes, key_pem: bytes) -> None:
    n, _ = private_numbers(key_pem)
    for result in (yaota.verify_ota(signed, key_pem=key_pem),
                   yaota.verify_ota(signed, modulus=n),
                   yaota.verify_ota(signed, key_pem=yaota.public_key_pem(key_pem))):
        assert result.ok and result.failed_datagram is None and result.signatures_verified
        assert len(result.signature_checks) == len(parse_records(signed))
        assert [c.name for c in result.checks[:3]] == ["structure", "sha1", "main-app"]
    unsigned_check = yaota.verify_ota(signed)
    assert unsigned_check.ok and not unsigned_check.signature_checks


def test_verify_names_the_datagram_with_a_changed_byte(signed: bytes, key_pem: bytes,
                                                       main_app: bytes) -> None:
    n, _ = private_numbers(key_pem)
    records = parse_records(signed)
    last_data, first_end, last_end = len(records) - 4, len(records) - 3, len(records) - 1
    mid = min(777, last_data - 1)
    # the last block's body: 8-byte header + its data, zero-padded to 16 (212 -> 224 for the
    # real app)
    body = -(-(8 + (len(main_app) % 256 or 256)) // 16) * 16
    # (datagram, byte within it): op, len, offset, data, last body byte (padding), signature
    picks = [(0, 4), (1, 6), (mid, 8), (last_data, 12), (first_end, 84 - 65), (last_end, 83),
             (0, 339), (mid, 200), (last_data, 4 + body - 1)]
    assert len(records[last_data][1]) == 4 + body + 64
    for index, rel in picks:
        at, _ = records[index]
        edited = bytearray(signed)
        edited[at + rel] ^= 0x20
        plain = yaota.verify_ota(bytes(edited))
        assert not plain.ok
        assert not next(c for c in plain.checks if c.name == "sha1").valid
        result = yaota.verify_ota(resign_sha1(bytes(edited)), modulus=n)
        assert not result.ok and result.failed_datagram == index, (index, rel)
        bad = [c for c in result.signature_checks if not c.valid]
        assert len(bad) == 1 and bad[0].detail.startswith(f"datagram {index} ")


def test_every_byte_of_every_datagram_is_covered(small_ota: bytes, key_pem: bytes) -> None:
    """Exhaustive on a small file: any one-byte change is detected; with the file SHA-1
    recomputed, a change in the signed part or the signature names its datagram, and a change
    of seq (not signed, §4.3) is caught by the sequence check."""
    n, _ = private_numbers(key_pem)

    def integrity(result: yaota.OtaVerification) -> bool:
        return result.intact

    assert integrity(yaota.verify_ota(small_ota, modulus=n))
    records = parse_records(small_ota)
    assert len(records) == 6
    for index, (at, dg) in enumerate(records):
        for rel in range(len(dg)):
            edited = bytearray(small_ota)
            edited[at + rel] ^= 0x01
            assert not integrity(yaota.verify_ota(bytes(edited), modulus=n)), (index, rel)
            result = yaota.verify_ota(resign_sha1(bytes(edited)), modulus=n)
            assert not integrity(result)
            if rel < 4:
                assert result.failed_datagram is None
                assert not result.checks[0].valid and "seq" in result.checks[0].detail
            else:
                assert result.failed_datagram == index, (index, rel)


def test_verify_with_the_wrong_key_fails_at_datagram_0(signed: bytes) -> None:
    other = yaota.generate_key()
    result = yaota.verify_ota(signed, key_pem=other)
    assert not result.ok and result.failed_datagram == 0
    assert not any(c.valid for c in result.signature_checks)


def test_verify_flags_a_signed_initial_image(key_pem: bytes, bundle: bytes,
                                             main_app: bytes) -> None:
    """The 2023-2025 MicroPython Makefile signed the concatenated file (§3)."""
    ota = yaota.sign_ota(bundle + main_app, key_pem, check_app=False)
    result = yaota.verify_ota(ota, key_pem=key_pem)
    assert result.failed_datagram is None and not result.ok
    app_check = next(c for c in result.checks if c.name == "main-app")
    assert not app_check.valid and "starts with boot8266" in app_check.detail
    with pytest.raises(LayoutError, match="starts with boot8266"):
        yaota.sign_ota(bundle + main_app, key_pem)


def test_verify_bad_magic_is_unusable(signed: bytes) -> None:
    with pytest.raises(FormatError, match="Invalid OTA file signature"):
        yaota.verify_ota(b"yaota8267" + signed[9:])


def test_sign_and_verify_cli(tmp_path: Path, key_pem: bytes, main_app: bytes,
                             signed: bytes) -> None:
    (tmp_path / "priv.key").write_bytes(key_pem)
    (tmp_path / "firmware-ota.bin").write_bytes(main_app)
    code, stdout, stderr = yaota_cli("sign", str(tmp_path / "firmware-ota.bin"), "--key",
                                     str(tmp_path / "priv.key"))
    assert code == 0, stderr
    ota = tmp_path / "firmware-ota.bin.ota"
    assert ota.read_bytes() == signed
    blocks = -(-len(main_app) // 256)  # 2445 for the real app
    assert f"{blocks} data datagrams" in stdout
    code, stdout, _ = yaota_cli("verify", str(ota), "--key", str(tmp_path / "priv.key"))
    assert code == 0 and stdout.startswith("OK")
    assert f"{blocks + 3} of {blocks + 3} signatures valid" in stdout
    n, _ = private_numbers(key_pem)
    line = yaota.modulus_line(key_pem)
    for modulus in (f"{n:x}", line, line.split('"')[1]):
        code, _, stderr = yaota_cli("verify", str(ota), "--modulus", modulus)
        assert code == 0, stderr
    (tmp_path / "config.h").write_text(f"#define MAIN_APP_OFFSET 0x3c000\n{line}\n")
    assert yaota_cli("verify", str(ota), "--modulus", str(tmp_path / "config.h"))[0] == 0
    edited = bytearray(signed)
    at, _ = parse_records(signed)[42]
    edited[at + 20] ^= 0xFF
    ota.write_bytes(resign_sha1(bytes(edited)))
    code, stdout, _ = yaota_cli("verify", str(ota), "--key", str(tmp_path / "priv.key"),
                                "--json")
    doc = json.loads(stdout)
    assert code == 1 and doc["failed_datagram"] == 42 and doc["valid"] is False and "ok" not in doc
    code, stdout, _ = yaota_cli("verify", str(ota), "--key", str(tmp_path / "priv.key"))
    assert code == 1 and "first failing datagram: 42" in stdout
    ota.write_bytes(b"not an ota file")
    assert yaota_cli("verify", str(ota))[0] == 2


def test_sign_cli_refuses_the_initial_image(tmp_path: Path, key_pem: bytes, bundle: bytes,
                                            main_app: bytes) -> None:
    (tmp_path / "priv.key").write_bytes(key_pem)
    (tmp_path / "initial.bin").write_bytes(bundle + main_app)
    code, _, stderr = yaota_cli("sign", str(tmp_path / "initial.bin"), "--key",
                                str(tmp_path / "priv.key"))
    assert code == 1 and "starts with boot8266" in stderr
    assert not (tmp_path / "initial.bin.ota").exists()


# ====================================================================== 3. keygen
def test_keygen_key_is_rsa512_e3_and_the_modulus_line_matches(key_pem: bytes) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    assert key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(key_pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    assert numbers.public_numbers.e == 3 and n.bit_length() == 512
    assert numbers.p * numbers.q == n
    line = yaota.modulus_line(key_pem)
    m = re.fullmatch(r'#define MODULUS "((?:\\x[0-9a-f]{2}){64})"', line)
    assert m is not None
    assert bytes.fromhex(m.group(1).replace("\\x", "")) == n.to_bytes(64, "big")
    assert yaota.parse_modulus(line) == n
    assert yaota.generate_key() != key_pem


def test_keygen_key_signs_and_verifies(key_pem: bytes, small_ota: bytes) -> None:
    n, _ = private_numbers(key_pem)
    assert all(signature_valid(dg, n) for _, dg in parse_records(small_ota))
    assert all(c.valid for c in yaota.verify_ota(small_ota, key_pem=key_pem).signature_checks)


@pytest.mark.oracle
def test_openssl_reads_the_key_as_rsa_sign_py_does(tmp_path: Path, key_pem: bytes,
                                                   main_app: bytes, signed: bytes) -> None:
    """rsa_sign.py load_key/dump_modulus/sign over `openssl pkey -text`, transcribed."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    (tmp_path / "priv.key").write_bytes(key_pem)
    text = subprocess.run(["openssl", "pkey", "-in", "priv.key", "-text"], cwd=tmp_path,
                          capture_output=True, text=True, check=True).stdout
    comps: dict[str, str] = {}
    last = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if line and line[0] != " " and line[-1] == ":":
            last = line[:-1]
        elif line.startswith("    "):
            comps[last] = comps.get(last, "") + line.lstrip()
    assert comps["modulus"].startswith("00:")
    dumped = '#define MODULUS "{}"'.format(comps["modulus"][2:].replace(":", "\\x"))
    assert dumped == yaota.modulus_line(key_pem)
    n = int(comps["modulus"].replace(":", ""), 16)
    d = int(comps["privateExponent"].replace(":", ""), 16)
    assert reference_ota(main_app, n, d) == signed


def test_keygen_cli(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    key, pub = tmp_path / "priv.key", tmp_path / "pub.key"
    code, stdout, stderr = yaota_cli("keygen", "-o", str(key), "--pub", str(pub))
    assert code == 0, stderr
    assert os.stat(key).st_mode & 0o777 == 0o600
    pem = key.read_bytes()
    assert yaota.modulus_line(pem) in stdout.splitlines()
    assert yaota.key_modulus(pub.read_bytes()) == yaota.key_modulus(pem)
    assert "RSA-512" in stdout
    code, _, stderr = yaota_cli("keygen", "-o", str(key))
    assert code == 2 and "already exists" in stderr and key.read_bytes() == pem
    code, stdout, _ = yaota_cli("keygen", "-o", str(key), "--force", "--json")
    assert code == 0 and key.read_bytes() != pem
    assert json.loads(stdout)["modulus_line"] == yaota.modulus_line(key.read_bytes())


def test_without_cryptography_keys_need_the_extra(monkeypatch: pytest.MonkeyPatch,
                                                  small_ota: bytes, key_pem: bytes) -> None:
    n, _ = private_numbers(key_pem)
    for name in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(InputError, match=r"esp-image\[yaota\]"):
        yaota.generate_key()
    with pytest.raises(InputError, match=r"esp-image\[yaota\]"):
        yaota.sign_ota(b"x", key_pem, check_app=False)
    result = yaota.verify_ota(small_ota, modulus=n)  # the public operation needs no library
    assert all(c.valid for c in result.signature_checks)


def test_parse_modulus_forms_and_refusals() -> None:
    example = ('#define MODULUS "\\xce\\x4a\\xaf\\x65\\x0d\\x4a\\x74\\xda\\xc1\\x30\\x59\\x80'
               '\\xcf\\xdd\\xe8\\x2a\\x2e\\x1d\\xf7\\xa8\\xc9\\x6c\\xa9\\x4a\\x2c\\xb7\\x8a\\x5a'
               '\\x2a\\x25\\xc0\\x2b\\x7b\\x2f\\x58\\x4c\\xa8\\xcb\\x82\\x07\\x06\\x08\\x7e\\xff'
               '\\x1f\\xce\\x47\\x13\\x67\\x94\\x5f\\x9a\\xac\\x5e\\x7d\\xcf\\x63\\xf0\\x08\\xe9'
               '\\x51\\x98\\x95\\x01"')  # yaota8266 config.h.example
    n = yaota.parse_modulus(example)
    assert f"{n:x}".startswith("ce4aaf650d4a74da") and f"{n:x}".endswith("08e951989501")
    assert yaota.parse_modulus(f"// x\n{example}\n#define PKT_WAIT_MS 10000\n") == n
    as_openssl = ":".join(f"{b:02x}" for b in b"\0" + n.to_bytes(64, "big"))
    assert yaota.parse_modulus(as_openssl) == n
    assert yaota.parse_modulus(f"0x{n:X}") == n
    with pytest.raises(InputError, match="1024-bit"):
        yaota.parse_modulus(f"{(1 << 1023) | 1:x}")
    with pytest.raises(InputError, match="neither hex"):
        yaota.parse_modulus("not a modulus")
    with pytest.raises(InputError, match="63 bytes"):
        yaota.parse_modulus('"' + "\\xff" * 63 + '"')


# ====================================================================== layout yaota8266
def test_default_plan() -> None:
    plan = yaota.yaota_plan()
    assert [(e.name, e.address) for e in plan.entries] == [
        ("boot8266", 0), ("ota-server", 0x1000), ("ota-server irom", 0x9000),
        ("main app", 0x3C000), ("main app irom", 0x45000)]
    assert plan.write_flash_command("COM3") == (
        "esptool --chip esp8266 --port COM3 write-flash --flash-size detect 0x0 yaota8266.bin "
        "0x3c000 firmware-ota.bin")
    assert plan.write_flash_command(files={"initial": "my image.bin"}).endswith(
        "0x0 'my image.bin'")
    assert plan.steps == plan.steps_for("PORT")
    steps = " ".join(plan.steps)
    for needle in ("yaota keygen", "config.h", "yaota mkapp", "yaota bundle", "write-flash",
                   "yaota sign", "yaota verify", "ota_client.py ota", "UDP port 8266",
                   "yaotaota"):
        assert needle in steps, needle


def test_plan_from_the_real_bundle(bundle: bytes, main_app: bytes) -> None:
    plan = yaota.yaota_plan(bundle, main_app)
    assert plan.main_app_offset == 0x3C000 and not plan.issues
    assert plan.boot8266 is not None and plan.boot8266.gpio_mask == 0xF035
    by_name = {e.name: e for e in plan.entries}
    # the parts merge.py joined (test_yaota8266 shows the real bundle is exactly that merge)
    assert by_name["ota-server"].length == v1_length(bundle[0x1000:])
    assert by_name["ota-server irom"].length == len(bundle[0x9000:].rstrip(b"\xff"))
    assert by_name["main app"].length == len(main_app)
    bad = yaota.yaota_plan(bundle, bundle)
    assert [i.code for i in bad.issues] == ["main-app-check"]


def test_layout_cli(tmp_path: Path) -> None:
    code, stdout, stderr = layout_cli("--port", "/dev/ttyUSB0")
    assert code == 0, stderr
    assert "0x3c000" in stdout and "ota-server irom" in stdout and "steps:" in stdout
    assert "--port /dev/ttyUSB0 write-flash" in stdout
    code, stdout, _ = layout_cli("--bundle", str(corpus_path(BUNDLE)), "--app",
                                 str(corpus_path(MAIN_APP)), "--json")
    doc = json.loads(stdout)
    assert code == 0 and doc["main_app_offset"] == 0x3C000
    assert doc["boot8266"]["gpio_wait_ms"] == 3000
    assert doc["write_flash"].endswith(f"0x3c000 {corpus_path(MAIN_APP)}")
    code, _, _ = layout_cli("--bundle", str(corpus_path(BUNDLE)), "--app",
                            str(corpus_path(BUNDLE)))
    assert code == 1
    code, _, stderr = layout_cli("--bundle", str(corpus_path(MAIN_APP)))
    assert code == 2 and "not yaota8266.bin" in stderr


def test_every_command_has_an_example() -> None:
    for command in yaota_app.registered_commands:
        assert command.callback is not None and "Example:" in (command.callback.__doc__ or "")
    assert "Example:" in (layout_yaota8266.__doc__ or "")
    for name in ("keygen", "mkapp", "sign", "verify", "bundle"):
        code, stdout, _ = yaota_cli(name, "--help")
        assert code == 0 and "Example" in stdout, name


def test_unusable_inputs_exit_2_with_one_line(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.bin"
    os.mkfifo(fifo)
    (tmp_path / "empty.bin").write_bytes(b"")
    (tmp_path / "big.key").write_bytes(b"-" * (65 * 1024))
    cases = [
        ("verify", str(fifo)), ("verify", str(tmp_path)), ("verify", str(tmp_path / "no.ota")),
        ("verify", str(tmp_path / "empty.bin")),
        ("mkapp", str(fifo), str(fifo), "-o", str(tmp_path / "o.bin")),
        ("bundle", str(fifo), str(fifo), "-o", str(tmp_path / "o.bin")),
        ("sign", str(tmp_path / "empty.bin"), "--key", str(tmp_path / "big.key")),
    ]
    for args in cases:
        code, _, stderr = yaota_cli(*args)
        assert code == 2, args
        assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, args
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.key", "empty.bin", "pipe.bin"]
