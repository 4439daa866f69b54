"""Wrappers around an image (issue 14 items 2 and 7): gzip, Arduino-signed updates, Matter OTA,
a bare length word, ESP-IDF pre-encrypted OTA, and erased otadata.

Each wrapper: the real-world corpus file by file (skipped when ../shared is absent), the
project's own fixtures (fixtures/wrappers/), a mutation that makes its check fail, and hostile
input that ends in an EspImageError, never anything else.
"""

from __future__ import annotations

import gzip as std_gzip
import hashlib
import importlib.util
import json
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esp_image import Image
from esp_image.errors import (
    DecompressionLimit,
    EspImageError,
    FormatError,
    InputError,
    KeyMismatch,
    TruncatedError,
)
from esp_image.io import MAX_FILE_SIZE
from esp_image.otadata import OtaData, erased_otadata_note
from esp_image.wrappers import (
    MAX_DEPTH,
    ORDER,
    Unwrapped,
    arduino_signed,
    encrypted_img,
    length_prefix,
    matter_ota,
    module,
    require_cryptography,
    unwrap,
    unwrap_all,
)
from esp_image.wrappers import gzip as wgzip

from ..conftest import CORPUS2, FIXTURES, corpus_files, corpus_path

needs_crypto = pytest.mark.skipif(importlib.util.find_spec("cryptography") is None,
                                  reason="keys need the cryptography package")

W = FIXTURES / "wrappers"
APP = (FIXTURES / "esp32-app.bin").read_bytes()
V1 = (FIXTURES / "esp8266-v1.bin").read_bytes()


def corpus2(name: str) -> bytes:
    return corpus_path(name).read_bytes()


def fixture(name: str) -> bytes:
    return (W / name).read_bytes()


def flip(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0x01
    return bytes(out)


def failed(layer: Unwrapped) -> set[str]:
    return {c.name for c in layer.checks if not c.valid}


# ============================================================================ corpus, file by file
@pytest.mark.parametrize(("name", "isize", "plain"), [
    ("tasmaht10_tasmota.bin.gz", 632256, "tasmaht10_tasmota.bin"),
    ("clockspring_esp32_firmware.bin.gz", 1394976, None),
    ("rp3elrs_firmware.bin.gz", 552064, None),
])
def test_corpus_gzip(name: str, isize: int, plain: str | None) -> None:
    data = corpus2(name)
    layer = unwrap(data)
    assert layer is not None and layer.kind == "gzip" and layer.valid
    assert layer.outer["isize"] == layer.inner_size == isize
    assert layer.outer["crc_ok"] is True and layer.outer["trailing"] == 0
    assert layer.outer["name"] in ("tasmota.bin", "firmware.bin")
    assert layer.inner == std_gzip.decompress(data)
    if plain:
        assert layer.inner == corpus2(plain)
    assert layer.inner is not None
    assert layer.inner[0] == 0xE9


def test_corpus_gzip_esp32_app_is_judged_valid() -> None:
    layer = unwrap(corpus2("clockspring_esp32_firmware.bin.gz"))
    assert layer is not None and layer.inner is not None
    image = Image.from_bytes(layer.inner)
    assert (image.kind, image.chip and image.chip.name, image.valid) == ("image", "esp32", True)


def test_corpus_matter_ota() -> None:
    layer = unwrap(corpus2("hexh_matter_light-ota.bin"))
    assert layer is not None and layer.kind == "matter-ota" and layer.valid
    o = layer.outer
    assert (o["vendor_id"], o["product_id"], o["software_version"]) == (0x143D, 0x1002, 19)
    assert (o["software_version_string"], o["header_size"], o["digest_type"]) == \
        ("1.2.5", 65, "sha256")
    assert (layer.inner_offset, layer.inner_size, o["total_size"]) == (0x51, 1904640, 1904721)
    assert {c.name for c in layer.checks} == {"structure", "size", "sha256"}
    assert layer.inner is not None
    image = Image.from_bytes(layer.inner)
    assert (image.kind, image.chip and image.chip.name, image.valid) == ("image", "esp32h2", True)


@needs_crypto
def test_corpus_pre_encrypted_ota_without_its_key() -> None:
    data = corpus2("hmalp_pre_encrypted_ota.bin")
    layer = unwrap(data)
    assert layer is not None and layer.kind == "esp-encrypted-img" and layer.valid
    assert layer.outer["scheme"] == "rsa-3072" and layer.outer["bin_size"] == 953904
    assert layer.outer["iv"] == "761bd48e3e4b30901dfd320a04577057"
    assert layer.outer["auth_tag"] == "b69ed27e42b3c0f0fcfb8b2c452b63c0"
    assert layer.outer["reserved_zero"] is True
    assert (layer.inner, layer.inner_offset, layer.transformed) == (None, 512, True)
    assert "private key" in layer.notes[0]
    # another RSA-3072 key is refused as such: it does not open the image key
    with pytest.raises(KeyMismatch, match="does not decrypt the image key"):
        unwrap(data, fixture("pre-encrypted-rsa3072-key.pem"))


def _all_corpus_files() -> list[Path]:
    return sorted(corpus_files())


WRAPPED_CORPUS = {"tasmaht10_tasmota.bin.gz": "gzip", "clockspring_esp32_firmware.bin.gz": "gzip",
                  "rp3elrs_firmware.bin.gz": "gzip", "hexh_matter_light-ota.bin": "matter-ota",
                  "hmalp_pre_encrypted_ota.bin": "esp-encrypted-img"}


def test_no_other_corpus_file_is_claimed() -> None:
    """The wrappers without a magic of their own (signed, length word) claim nothing else."""
    files = _all_corpus_files()
    if not files:
        pytest.skip("corpus absent")
    claimed = {}
    for path in files:
        layer = unwrap(path.read_bytes())
        if layer is not None:
            claimed[path.name] = layer.kind
    assert claimed == {k: v for k, v in WRAPPED_CORPUS.items() if (CORPUS2 / k).is_file()}


@needs_crypto
@pytest.mark.parametrize("name", ["dkclock_d1mini_firmware.bin", "soccer_d1mini_firmware.bin",
                                  "lanterns_d1mini_firmware.bin"])
def test_corpus_arduino_builds_signed_with_the_fixture_key(name: str) -> None:
    """An Arduino build (eboot + app at 0x1000) signed as signing.py signs it is claimed, its
    signed length and hash reported, and the signature verifies."""
    plain = corpus2(name)
    assert unwrap(plain) is None
    signed = _sign(plain)
    layer = unwrap(signed, fixture("arduino-signing-public.pem"))
    assert layer is not None and layer.kind == "arduino-signed" and layer.valid
    assert layer.outer["signed_length"] == len(plain) and layer.outer["signed_content"] == "image"
    assert layer.outer["sha256"] == hashlib.sha256(plain).hexdigest()
    assert layer.inner == plain


@needs_crypto
# ============================================================================ fixtures
@pytest.mark.parametrize(("name", "kinds", "key", "inner"), [
    ("esp8266-v1.bin.gz", ["gzip"], None, V1),
    ("esp32-app.bin.gz", ["gzip"], None, APP),
    ("esp8266-v1.bin.signed", ["arduino-signed"], "arduino-signing-public.pem", V1),
    ("esp8266-v1.bin.gz.signed", ["arduino-signed", "gzip"], "arduino-signing-key.pem", V1),
    ("esp32-app-matter.ota", ["matter-ota"], None, APP),
    ("esp32-app-length-prefixed.dat", ["length-prefixed"], None, APP),
    ("esp32-app-rsa.enc", ["esp-encrypted-img"], "pre-encrypted-rsa3072-key.pem",
     APP),
    ("esp32-app-ecc.enc", ["esp-encrypted-img"], "pre-encrypted-ecc-hmac.key",
     APP),
])
def test_fixture_unwraps_to_its_image(name: str, kinds: list[str], key: str | None,
                                      inner: bytes) -> None:
    data = fixture(name)
    layers = unwrap_all(data, fixture(key) if key else None)
    assert [layer.kind for layer in layers] == kinds
    assert all(layer.valid for layer in layers), [c for x in layers for c in x.checks]
    assert all(layer.checks for layer in layers)
    assert layers[-1].inner == inner
    for layer in layers:
        json.dumps(layer.to_dict())  # JSON-ready facts
        assert module(layer.kind).looks_like(data)
        if not layer.transformed and layer.inner is not None:
            assert data[layer.inner_offset:layer.inner_offset + len(layer.inner)] == layer.inner
        data = layer.inner or b""
    assert Image.from_bytes(inner).valid


def test_fixture_gzip_matches_the_standard_library() -> None:
    for name in ("esp8266-v1.bin.gz", "esp32-app.bin.gz"):
        data = fixture(name)
        assert wgzip.open(data).inner == std_gzip.decompress(data)


def test_gzip_header_fields_and_compressed_streams() -> None:
    """FEXTRA, FNAME, FCOMMENT and FHCRC are read; real deflate (not stored) inflates."""
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = body.compress(APP) + body.flush()
    head = (b"\x1f\x8b\x08" + bytes([0x02 | 0x04 | 0x08 | 0x10]) + bytes(4) + b"\x02\x03"
            + struct.pack("<H", 3) + b"xyz" + b"app.bin\0" + b"a comment\0")
    head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
    data = head + deflated + struct.pack("<II", zlib.crc32(APP), len(APP))
    layer = wgzip.open(data)
    assert layer.valid and layer.inner == APP and layer.inner_offset == len(head)
    assert (layer.outer["name"], layer.outer["comment"], layer.outer["os"]) == \
        ("app.bin", "a comment", "Unix")
    assert "gzip-header-crc" in {c.name for c in layer.checks}
    assert failed(wgzip.open(flip(data, 5))) == {"gzip-header-crc"}


# ============================================================================ mutations
def test_gzip_mutations_fail_their_checks() -> None:
    data = fixture("esp32-app.bin.gz")
    layer = wgzip.open(data)
    assert failed(wgzip.open(flip(data, layer.inner_offset + 100))) == {"gzip-crc32"}
    assert failed(wgzip.open(flip(data, len(data) - 8))) == {"gzip-crc32"}
    assert failed(wgzip.open(flip(data, len(data) - 4))) == {"gzip-isize"}
    trailing = wgzip.open(data + b"\xff" * 16)
    assert failed(trailing) == {"structure"} and trailing.outer["trailing"] == 16
    assert "eboot" in next(c.detail for c in trailing.checks if c.name == "structure")


def test_gzip_cut_short_or_corrupt_is_an_error() -> None:
    data = fixture("esp32-app.bin.gz")
    with pytest.raises(TruncatedError):
        wgzip.open(data[:len(data) // 2])
    with pytest.raises(TruncatedError):
        wgzip.open(data[:-4])
    compressed = std_gzip.compress(APP, mtime=0)
    with pytest.raises(FormatError, match="corrupt deflate"):
        wgzip.open(compressed[:10] + b"\xff" * 64 + compressed[74:])


def test_gzip_inflation_is_capped() -> None:
    bomb = std_gzip.compress(bytes(4 << 20), mtime=0)  # 4 MiB of zeros in ~4 KB
    assert len(bomb) < 8192
    with pytest.raises(DecompressionLimit, match=r"inflates past 1MB \(the limit\)"):
        wgzip.open(bomb, limit=1 << 20)
    assert wgzip.open(bomb, limit=4 << 20).inner_size == 4 << 20
    assert wgzip.MAX_INFLATED == MAX_FILE_SIZE
    assert isinstance(DecompressionLimit("x"), InputError)


def test_matter_mutations_fail_their_checks() -> None:
    data = fixture("esp32-app-matter.ota")
    start = unwrap(data).inner_offset  # type: ignore[union-attr]
    assert failed(matter_ota.open(flip(data, start + 1000))) == {"sha256"}
    assert failed(matter_ota.open(data + b"\0")) == {"size"}
    bigger = bytearray(data)
    bigger[4:12] = struct.pack("<Q", len(data) + 1)
    assert failed(matter_ota.open(bytes(bigger))) == {"size"}


def _matter(tlv: bytes, payload: bytes = APP) -> bytes:
    return struct.pack("<IQI", 0x1BEEF11E, 16 + len(tlv) + len(payload), len(tlv)) + tlv + payload


def _tlv(fields: list[bytes]) -> bytes:
    return b"\x15" + b"".join(fields) + b"\x18"


def _uint(tag: int, value: int) -> bytes:
    return bytes([0x26, tag]) + struct.pack("<I", value)


def _digest_fields(dtype: int, digest: bytes) -> list[bytes]:
    return [_uint(8, dtype), bytes([0x30, 9, len(digest)]) + digest]


def _base_fields(payload: bytes = APP) -> list[bytes]:
    return [_uint(0, 0xFFF1), _uint(1, 0x8000), _uint(2, 3), bytes([0x2C, 3, 1]) + b"3",
            _uint(4, len(payload))]


def test_matter_truncated_digests_order_and_unknown_types() -> None:
    truncated = _matter(_tlv(_base_fields() + _digest_fields(2, hashlib.sha256(APP).digest()[:16])))
    layer = matter_ota.open(truncated)
    assert layer.valid and layer.outer["digest_type"] == "sha256_128"
    assert {c.name for c in layer.checks} >= {"sha256-128"}
    fields = _base_fields() + _digest_fields(1, hashlib.sha256(APP).digest())
    swapped = _matter(_tlv([fields[1], fields[0], *fields[2:]]))
    assert failed(matter_ota.open(swapped)) == {"structure"}
    unknown = _matter(_tlv(_base_fields() + _digest_fields(99, bytes(32))))
    assert failed(matter_ota.open(unknown)) == {"digest"}


@pytest.mark.parametrize(("tlv", "error", "match"), [
    (_tlv(_base_fields()), FormatError, "required header tags missing"),
    (b"\x15" + b"\x15" * 40, FormatError, "nested deeper"),
    (b"\x15" + bytes([0x30, 9, 0xFF]) + b"\x18", TruncatedError, "needs 255 bytes"),
    (b"\x15\x1f\x18", FormatError, "unknown TLV element type"),
    (b"\x04\x05", FormatError, "not an anonymous TLV structure"),
    (_tlv(_base_fields() + _digest_fields(1, bytes(32))) + b"\0", FormatError, "follow"),
    (_tlv([bytes([0x2C, 3, 2]) + b"\xff\xfe"]), FormatError, "not UTF-8"),
])
def test_matter_hostile_tlv(tlv: bytes, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        matter_ota.open(_matter(tlv))


def test_matter_header_size_is_bounded() -> None:
    huge = struct.pack("<IQI", 0x1BEEF11E, 0, 1025) + bytes(2000)
    assert not matter_ota.looks_like(huge) and unwrap(huge) is None
    cut = struct.pack("<IQI", 0x1BEEF11E, 0, 900) + b"\x15"
    with pytest.raises(TruncatedError, match="past the end"):
        matter_ota.open(cut)


def _sign(data: bytes, legacy: bool = False) -> bytes:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = serialization.load_pem_private_key(fixture("arduino-signing-key.pem"), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    if legacy:  # openssl rsautl -sign over the bare digest
        n = key.private_numbers()
        em = b"\0\1" + b"\xff" * (256 - 3 - 32) + b"\0" + hashlib.sha256(data).digest()
        sig = pow(int.from_bytes(em, "big"), n.d, n.public_numbers.n).to_bytes(256, "big")
    else:
        sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return data + sig + struct.pack("<L", len(sig))


def test_signed_without_key_reports_length_and_hash() -> None:
    data = fixture("esp8266-v1.bin.signed")
    layer = arduino_signed.open(data)
    assert layer.checks == () and layer.valid
    assert layer.outer["signed_length"] == len(V1) and layer.outer["signature_length"] == 256
    assert layer.outer["sha256"] == hashlib.sha256(V1).hexdigest()
    assert layer.outer["legacy_length_word"] is True  # 256 is also the 2.5.0 constant
    assert any("not verified" in n for n in layer.notes)


@needs_crypto
def test_signed_mutations_and_wrong_keys() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    data = fixture("esp8266-v1.bin.signed")
    public = fixture("arduino-signing-public.pem")
    # a flipped byte in the signature (the image still parses, so the file is still claimed)
    assert failed(arduino_signed.open(flip(data, len(V1) + 10), public)) == {"signature"}
    # a byte of segment data flipped: the image still parses, the signature breaks
    assert failed(arduino_signed.open(flip(data, 100), public)) == {"signature"}
    assert arduino_signed.open(data, public).valid
    other = rsa.generate_private_key(65537, 2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert failed(arduino_signed.open(data, other)) == {"signature"}
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(KeyMismatch, match="not an RSA key"):
        arduino_signed.open(data, ec_key)
    with pytest.raises(KeyMismatch, match="384-byte signatures"):
        arduino_signed.open(data, fixture("pre-encrypted-rsa3072-key.pem"))
    with pytest.raises(KeyMismatch, match="not an unencrypted PEM key"):
        arduino_signed.open(data, b"-----BEGIN PUBLIC KEY-----\nnonsense\n")


@needs_crypto
def test_signed_legacy_form_is_recognised_but_not_accepted() -> None:
    layer = arduino_signed.open(_sign(V1, legacy=True), fixture("arduino-signing-public.pem"))
    check = next(c for c in layer.checks if c.name == "signature")
    assert not check.valid and "legacy" in check.detail and "2.6.0" in check.detail


def test_signed_trailer_needs_a_whole_image_or_gzip_before_it() -> None:
    good = fixture("esp8266-v1.bin.signed")
    assert not arduino_signed.looks_like(good[:100] + good[-260:])
    assert not arduino_signed.looks_like(V1 + b"\0" * 256 + struct.pack("<L", 200))
    # the image must end where the signature starts: one byte more and the claim is off
    assert not arduino_signed.looks_like(V1 + b"\xff" + good[len(V1):])
    with pytest.raises(FormatError, match="no Arduino signature trailer"):
        arduino_signed.open(V1)
    assert unwrap(V1) is None


@needs_crypto
def test_encrypted_mutations_fail_the_tag() -> None:
    for name, key in (("esp32-app-rsa.enc", "pre-encrypted-rsa3072-key.pem"),
                      ("esp32-app-ecc.enc", "pre-encrypted-ecc-hmac.key")):
        data, k = fixture(name), fixture(key)
        for offset in (600, len(data) - 1, 4 + 384 + 16 + 4 + 3, 4 + 384 + 2):
            layer = encrypted_img.open(flip(data, offset), k)
            assert failed(layer) == {"gcm-tag"} and layer.inner is None, (name, offset)


@needs_crypto
def test_encrypted_ecc_scheme_keys() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    data = fixture("esp32-app-ecc.enc")
    layer = encrypted_img.open(data)
    assert layer.outer["scheme"] == "ecies-p256" and len(str(layer.outer["server_public_key"])) \
        == 128
    hmac_key = fixture("pre-encrypted-ecc-hmac.key")
    scalar = int.from_bytes(hashlib.pbkdf2_hmac(
        "sha256", hmac_key, encrypted_img.fmt.PBKDF2_SALT, 2048), "big")
    pem = ec.derive_private_key(scalar, ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    assert encrypted_img.open(data, pem).inner == APP
    wrong = encrypted_img.open(data, bytes(32))
    assert failed(wrong) == {"gcm-tag"} and "device key" in wrong.checks[-1].detail
    with pytest.raises(KeyMismatch, match="P-256"):
        encrypted_img.open(data, fixture("pre-encrypted-rsa3072-key.pem"))


@needs_crypto
def test_encrypted_rsa_scheme_wrong_keys() -> None:
    data = fixture("esp32-app-rsa.enc")
    with pytest.raises(KeyMismatch, match="RSA private key"):
        encrypted_img.open(data, fixture("arduino-signing-public.pem"))
    with pytest.raises(KeyMismatch, match="RSA-2048"):
        encrypted_img.open(data, fixture("arduino-signing-key.pem"))
    with pytest.raises(KeyMismatch, match="RSA private key"):
        encrypted_img.open(data, _ec_pem())


def _ec_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


@needs_crypto
def test_encrypted_size_mismatch() -> None:
    data = fixture("esp32-app-rsa.enc")
    key = fixture("pre-encrypted-rsa3072-key.pem")
    short = encrypted_img.open(data[:-100], key)
    assert failed(short) == {"size"} and short.inner is None
    longer = encrypted_img.open(data + b"\xff" * 4, key)
    assert failed(longer) == {"size"} and longer.inner == APP
    with pytest.raises(TruncatedError, match="declared"):
        encrypted_img.decrypt(data[:-1], key)
    assert not encrypted_img.looks_like(data[:511])


def test_length_prefix_claims_only_an_exact_image() -> None:
    data = fixture("esp32-app-length-prefixed.dat")
    assert length_prefix.open(data).outer["length"] == len(APP)
    assert not length_prefix.looks_like(data + b"\0")
    assert not length_prefix.looks_like(data[:-1])
    assert not length_prefix.looks_like(data[:4] + b"\x00" + data[5:])
    with pytest.raises(FormatError):
        length_prefix.open(data[:-1])


# ============================================================================ order, API, otadata
def test_order_and_nesting() -> None:
    assert ORDER.index("arduino-signed") < ORDER.index("gzip")
    assert ORDER[-1] == "length-prefixed"
    signed_gz = fixture("esp8266-v1.bin.gz.signed")
    outer = unwrap(signed_gz)
    assert outer is not None and outer.kind == "arduino-signed"
    assert outer.outer["signed_content"] == "gzip"
    # Matter OTA files around a gzip: peeled layer by layer, at most MAX_DEPTH of them
    payload = fixture("esp8266-v1.bin.gz")
    once = _matter(_tlv(_base_fields(payload)
                        + _digest_fields(1, hashlib.sha256(payload).digest())), payload)
    layers = unwrap_all(once)
    assert [x.kind for x in layers] == ["matter-ota", "gzip"] and layers[-1].inner == V1
    deep = payload
    for _ in range(MAX_DEPTH + 2):
        deep = _matter(_tlv(_base_fields(deep) + _digest_fields(1, hashlib.sha256(deep).digest())),
                       deep)
    assert [x.kind for x in unwrap_all(deep)] == ["matter-ota"] * MAX_DEPTH
    assert unwrap_all(APP) == [] and unwrap(b"") is None


def test_unwrapped_is_immutable_and_json_ready() -> None:
    layer = unwrap(fixture("esp32-app-matter.ota"))
    assert layer is not None
    with pytest.raises(AttributeError):
        layer.inner = b""  # type: ignore[misc]
    with pytest.raises(TypeError):
        layer.outer["vendor_id"] = 1  # type: ignore[index]
    doc = layer.to_dict()
    assert doc["kind"] == "matter-ota" and doc["inner_offset"] == layer.inner_offset
    assert json.loads(json.dumps(doc))["checks"][0]["name"] == "structure"


def test_missing_cryptography_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(InputError, match="cryptography"):
        require_cryptography()
    with pytest.raises(InputError, match="cryptography"):
        arduino_signed.open(fixture("esp8266-v1.bin.signed"), b"key")


def test_erased_otadata_says_what_boots() -> None:
    data = (FIXTURES / "ota_data_initial.bin").read_bytes()
    note = erased_otadata_note(data)
    assert note is not None and "factory app, or ota_0" in note
    assert erased_otadata_note(data[:-1]) is None
    assert erased_otadata_note(b"\xff" * 0x3000) is None
    assert erased_otadata_note((FIXTURES / "otadata-ota0.bin").read_bytes()) is None
    assert OtaData.from_bytes(data).is_erased
    assert unwrap(data) is None


# ============================================================================ hostile input
SEEDS = {name: fixture(name)[:2048] for name in (
    "esp8266-v1.bin.gz", "esp32-app-matter.ota", "esp32-app-rsa.enc",
    "esp32-app-length-prefixed.dat")}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SEEDS)), st.lists(st.tuples(st.integers(0, 2047),
                                                          st.integers(0, 255)), max_size=8),
       st.integers(0, 2048))
def test_mutated_wrappers_fail_only_with_esp_image_errors(name: str,
                                                          edits: list[tuple[int, int]],
                                                          cut: int) -> None:
    data = bytearray(SEEDS[name])
    for offset, value in edits:
        data[offset % len(data)] = value
    try:
        for layer in unwrap_all(bytes(data[:cut or None])):
            assert isinstance(layer, Unwrapped)
    except EspImageError:
        pass
