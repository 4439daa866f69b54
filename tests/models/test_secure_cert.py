"""The esp_secure_cert partition (TLV form): corpus-2 files judged per MANIFEST facts, project
fixtures, esp-secure-cert-tool as an oracle, byte-exact round trip, mutations, hostile input."""

from __future__ import annotations

import hashlib
import re
import struct
import time

import pytest

from esp_image.errors import FormatError
from esp_image.secure_cert import SecureCert, looks_like_secure_cert, make_tlv

from ..cli.test_json_doc import assert_matches
from ..conftest import CORPUS, CORPUS2, FIXTURES, corpus_path, corpus_rows

CERT = FIXTURES / "esp-secure-cert.bin"
DAMAGED = FIXTURES / "kinds" / "esp-secure-cert-damaged.img"
_ORACLE_ENTRY = re.compile(r"@0x([0-9a-f]+) (\w+)\(type=(\d+)\)/(\d+) flags=0x([0-9a-f]+) "
                           r"len=(\d+) crc=(\w+)")


def corpus2_rows(prefix: str) -> list[dict[str, str]]:
    """corpus-2's manifest rows whose file name starts with ``prefix``."""
    return [r for r in corpus_rows() if r["local_file"].startswith(prefix)]


ROWS = {r["local_file"]: r for r in corpus2_rows("escm_")}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_corpus_file_judged_per_manifest(name: str) -> None:
    row = ROWS[name]
    data = corpus_path(name).read_bytes()
    if row["kind"].startswith("NVS partition"):
        # the legacy "nvs" flavour of esp_secure_cert is an NVS partition, not this kind
        assert not looks_like_secure_cert(data)
        with pytest.raises(FormatError):
            SecureCert.from_bytes(data)
        return
    assert row["kind"].startswith("esp_secure_cert partition (TLV")
    assert looks_like_secure_cert(data)
    cert = SecureCert.from_bytes(data)
    oracle = row[list(row)[-1]]
    expected = [(int(off, 16), int(t), int(st), int(fl, 16), int(ln), crc == "ok")
                for off, _, t, st, fl, ln, crc in _ORACLE_ENTRY.findall(oracle)]
    assert expected
    assert [(e.offset, e.type, e.subtype, e.flags, e.header.length, e.crc_ok)
            for e in cert.entries] == expected
    end = re.search(r"chain ends at 0x([0-9a-f]+) of (\d+); trailing (\d+) B", row[
        "parsed_facts(independent parser)"])
    assert end is not None
    assert (cert.end, cert.size, len(cert.trailing)) == (int(end.group(1), 16),
                                                         int(end.group(2)), int(end.group(3)))
    assert cert.valid and cert.trailing_erased
    assert cert.to_bytes() == data


def test_corpus_integrity_tlv_verified() -> None:
    data = corpus_path("escm_tlv_cert_key_userdata.bin").read_bytes()
    cert = SecureCert.from_bytes(data)
    sha = [c for c in cert.checks if c.name == "sha256"]
    assert len(sha) == 1 and sha[0].valid
    assert cert.entries[-1].type_name == "integrity"


def test_old_generator_flags_ff_read_as_plain() -> None:
    cert = SecureCert.from_bytes(corpus_path("escm_cust_flash_tlv.bin").read_bytes())
    assert [e.type_name for e in cert.entries] == ["dev_cert", "ca_cert", "priv_key"]
    assert all(e.flags == 0xFF and e.flag_names == [] for e in cert.entries)


def test_fixture_reads_and_round_trips() -> None:
    data = CERT.read_bytes()
    cert = SecureCert.from_bytes(data)
    assert cert.valid and cert.to_bytes() == data
    assert [e.type_name for e in cert.entries] == ["ca_cert", "dev_cert", "sec_cfg",
                                                   "user_data_1", "integrity"]
    assert cert.entries[2].flag_names == ["ecdsa_peripheral"]
    assert [c.name for c in cert.checks] == ["crc32"] * 4 + ["sha256", "crc32"]
    assert cert.find(1) is cert.entries[1] and cert.find(1, 5) is None
    assert cert.trailing_erased and cert.size == 0x2000
    doc = cert.to_dict()
    assert_matches("Secure cert document", doc)
    for entry in doc["entries"]:  # type: ignore[attr-defined]
        assert_matches("Secure cert entry", entry)


def test_damaged_fixture_fails_crc_and_integrity() -> None:
    data = DAMAGED.read_bytes()
    cert = SecureCert.from_bytes(data)
    assert not cert.valid and cert.to_bytes() == data
    assert {c.name for c in cert.damage} == {"crc32", "sha256"}
    bad = next(c for c in cert.damage if c.name == "crc32")
    assert bad.offset == cert.entries[1].offset + cert.entries[1].size - 4


def test_oracle_esp_secure_cert_tool_agrees() -> None:
    parser = pytest.importorskip("esp_secure_cert.tlv_parser")
    files = [CERT, DAMAGED, *(CORPUS2 / n for n in ROWS if n.startswith("escm_tlv"))]
    for path in [p for p in files if p.is_file()]:
        data = path.read_bytes()
        cert = SecureCert.from_bytes(data)
        for entry in cert.entries:
            header, _ = parser.parse_tlv_header(data, entry.offset)
            footer, _ = parser.parse_tlv_footer(data, entry.offset + entry.size - 4)
            ok, crc = parser.verify_tlv_integrity(header, data[entry.offset:], footer)
            assert (header["type"], header["subtype"], header["flags"], header["length"]) == (
                entry.type, entry.subtype, entry.flags, entry.header.length)
            assert parser.get_tlv_total_length(header) == entry.size
            assert (ok, crc) == (entry.crc_ok, entry.computed_crc), (path.name, entry.offset)


def test_type_names_cover_the_tool_types() -> None:
    tlv_format = pytest.importorskip("esp_secure_cert.tlv_format")
    from esp_image.formats.compiled.secure_cert import TYPE_NAMES

    for member in tlv_format.tlv_type_t:
        if member.name != "TLV_END":
            assert member.value in TYPE_NAMES, member


def test_make_tlv_matches_the_generator_layout() -> None:
    raw = make_tlv(51, 2, b"abc", flags=0x40)
    assert len(raw) == 12 + 16 + 4
    assert raw[:12] == struct.pack("<IB3sBBH", 0xBA5EBA11, 0x40, bytes(3), 51, 2, 3)
    entry = SecureCert.from_bytes(raw).entries[0]
    assert entry.crc_ok and entry.flag_names == ["hmac_ecdsa_key_derivation"]
    assert entry.padding == bytes(13)
    with pytest.raises(FormatError):
        make_tlv(0, 0, bytes(0x10000))


def test_every_flipped_byte_of_the_chain_is_damage() -> None:
    data = CERT.read_bytes()
    end = SecureCert.from_bytes(data).end
    for at in range(end):
        mutated = bytearray(data)
        mutated[at] ^= 0x01
        if at < 4:
            assert not looks_like_secure_cert(bytes(mutated))
            continue
        assert not SecureCert.from_bytes(bytes(mutated)).valid, hex(at)


def test_integrity_of_wrong_size_is_damage() -> None:
    body = make_tlv(0, 0, b"cert")
    cert = SecureCert.from_bytes(body + make_tlv(9, 0, hashlib.sha256(body).digest()[:16]))
    assert [c.name for c in cert.damage] == ["sha256"]


@pytest.mark.parametrize("data", [
    make_tlv(0, 0, b"x")[:12] + b"\0" * 4,                        # header only, length 1
    struct.pack("<IB3sBBH", 0xBA5EBA11, 0, bytes(3), 0, 0, 0xFFFF),  # length 0xFFFF, no data
    make_tlv(0, 0, b"x") + b"\x11\xba\x5e\xba\0\0",              # second magic, header cut
    make_tlv(0, 0, b"x") + make_tlv(1, 0, b"y")[:20],             # second TLV cut
])
def test_truncated_chain_is_structure_damage(data: bytes) -> None:
    cert = SecureCert.from_bytes(data)
    assert "structure" in {c.name for c in cert.damage}
    assert cert.to_bytes() == data


def test_garbage_after_chain_is_damage() -> None:
    cert = SecureCert.from_bytes(make_tlv(0, 0, b"x") + b"\xff\x00junk")
    assert [c.name for c in cert.damage] == ["structure"]
    assert SecureCert.from_bytes(make_tlv(0, 0, b"x") + bytes(64)).valid


def test_hostile_input_is_bounded() -> None:
    start = time.perf_counter()
    # 64 KiB of back-to-back empty TLV headers with hostile lengths and random CRCs
    chunk = struct.pack("<IB3sBBH", 0xBA5EBA11, 0xFF, b"\xff" * 3, 0xFF, 0xFF, 0)
    data = (chunk + b"\xde\xad\xbe\xef") * 4096
    cert = SecureCert.from_bytes(data)
    assert len(cert.entries) == 4096 and not cert.valid
    assert time.perf_counter() - start < 5
    for bad in (b"", b"\x11\xba\x5e", b"\xff" * 16, b"\x00" * 8192):
        assert not looks_like_secure_cert(bad)
        with pytest.raises(FormatError):
            SecureCert.from_bytes(bad)


def test_detector_claims_no_other_corpus_file() -> None:
    for folder in (CORPUS, CORPUS2):
        for path in sorted(folder.glob("*.bin")) if folder.is_dir() else []:
            with path.open("rb") as fh:
                head = fh.read(16)
            expected = path.name.startswith("escm_tlv") or path.name == "escm_cust_flash_tlv.bin"
            assert looks_like_secure_cert(head) == expected, path.name
