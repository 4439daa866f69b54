"""The generated records in esp_image/formats/compiled/ agree with the construct declarations."""

from __future__ import annotations

import importlib
import inspect
import struct
from typing import TYPE_CHECKING, Any

import construct
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esp_image.errors import FormatError, TruncatedError
from esp_image.formats import _compile, _compiled

from ..conftest import CORPUS2, FIXTURES, corpus_path

if TYPE_CHECKING:
    from esp_image.formats._records import Record


def _pairs() -> list[tuple[str, type[Record], Any]]:
    out = []
    for module in _compile.MODULES:
        fmt = importlib.import_module(f"esp_image.formats.{module}")
        out += [(f"{module}.{name}", _compiled.RECORDS[f"{module}.{name}"], declared)
                for name, declared in _compile.declarations(fmt).items()]
    assert len(out) == len(_compiled.RECORDS)
    return out


PAIRS = _pairs()


def plain(value: Any) -> Any:
    """A construct container as plain dicts and lists: private keys and magics dropped, bit
    fields flattened, as the records hold them."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if str(k).startswith("_io"):
                continue
            if isinstance(v, dict) and not _is_record_field(v):
                out.update(plain(v))
            else:
                out[k] = plain(v)
        return out
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _is_record_field(v: dict[str, Any]) -> bool:
    """A nested Struct (kept nested) rather than a BitStruct (flattened)."""
    return not all(isinstance(x, (int, bool)) for k, x in v.items() if not k.startswith("_io"))


def _theirs(declared: Any, raw: bytes) -> dict[str, Any]:
    consts = {sc.name for sc in _compile._unwrap(declared).subcons
              if isinstance(_compile._unwrap(sc.subcon), construct.Const)}
    return {k: v for k, v in plain(declared.parse(raw)).items() if k not in consts}


def test_generated_files_are_up_to_date() -> None:
    assert _compile.main(["--check"]) == 0


def test_every_format_module_is_compiled() -> None:
    names = {p.stem for p in _compile.OUTPUT.glob("*.py")} - {"__init__"}
    assert names == set(_compile.MODULES)


@pytest.mark.parametrize(("name", "record", "declared"), PAIRS, ids=[p[0] for p in PAIRS])
def test_sizes_agree(name: str, record: type[Record], declared: Any) -> None:
    assert record.SIZE == declared.sizeof() == record._STRUCT.size


def test_constants_are_copied() -> None:
    for module in _compile.MODULES:
        fmt = importlib.import_module(f"esp_image.formats.{module}")
        compiled = importlib.import_module(f"esp_image.formats.compiled.{module}")
        for name, value in _compile.constants(fmt).items():
            assert getattr(compiled, name) == value, f"{module}.{name}"
        for name in _compile.FUNCTIONS.get(module, ()):
            ours, theirs = getattr(compiled, name), getattr(fmt, name)
            assert inspect.getsource(ours) == inspect.getsource(theirs), f"{module}.{name}"


def _samples() -> list[tuple[str, bytes]]:
    """Real structures from the corpus: (record name, bytes)."""
    out: list[tuple[str, bytes]] = []
    for file in ("esf_esp32_bootloader.bin", "esf_esp32_hello_world.bin",
                 "esf_esp32c6_hello_world.bin", "knot_s3_bootloader.bin"):
        data = corpus_path(file).read_bytes()
        out.append(("esp32_image.ImageHeader", data[:24]))
        out.append(("esp32_image.SegmentHeader", data[24:32]))
        if data[0x20:0x24] == (0xABCD5432).to_bytes(4, "little"):
            out.append(("app_desc.AppDesc", data[0x20:0x120]))
        else:
            out.append(("app_desc.BootloaderDesc", data[0x20:0x70]))
    signed = corpus_path("esptool_test_bootloader_multi_signed_v2_rsa.bin").read_bytes()
    out += [("esp32_image.SignatureBlockV2", signed[0x8000 + i * 1216:0x8000 + (i + 1) * 1216])
            for i in range(3)]
    sbv1 = corpus_path("esptool_test_bootloader_signed_sbv1.bin").read_bytes()
    out.append(("esp32_image.SecureBootV1Block", sbv1[-68:]))
    table = corpus_path("knot_partition-table.bin").read_bytes()
    out += [("partition_table.PartitionInfo", table[i:i + 32]) for i in range(0, 6 * 32, 32)]
    out.append(("partition_table.Md5Record", table[6 * 32:7 * 32]))
    for file in ("ard106_boot_app0.bin", "knot_otadata_boot_from_ota0.bin"):
        data = corpus_path(file).read_bytes()
        out += [("otadata.OtaSelectEntry", data[:32]),
                ("otadata.OtaSelectEntry", data[0x1000:0x1020]),
                ("otadata.OtaSelectSector", data[:0x1000]), ("otadata.OtaData", data)]
    rtos = corpus_path("esf_esp8266_rtos_hello-world.bin").read_bytes()
    out += [("esp8266.ImageHeader", rtos[:8]), ("esp8266.SegmentHeader", rtos[8:16])]
    user1 = corpus_path("esptool_test_esp8266_sdk_4096_user1.bin").read_bytes()
    out += [("esp8266.V2Header", user1[:16]), ("esp8266.CrcTrailer", user1[-4:])]
    for file in ("nonos_esp_init_data_default_v05.bin", "nonos_esp_init_data_default_v08.bin"):
        out.append(("esp8266.InitData", corpus_path(file).read_bytes()[:128]))
    boot8266 = corpus_path("uartremote_boot8266-0x00000.bin").read_bytes()
    out.append(("yaota8266.Boot8266Param", boot8266[0xF00:0xF08]))
    main_app = corpus_path("uartremote_micropython_v1.15-ota.bin").read_bytes()
    out.append(("yaota8266.SizeWord", main_app[0x8FFC:0x9000]))
    return (out + _nvs_samples() + _kind_samples() + _wrapper_samples() + _spiffs_samples()
            + _arduino_samples() + _uf2_samples())


def _uf2_samples() -> list[tuple[str, bytes]]:
    """UF2 blocks as esptool's UF2Writer writes them (with and without the MD5 part), of a
    corpus app: no corpus file is a UF2."""
    import tempfile
    from pathlib import Path

    from esptool.uf2_writer import UF2Writer

    app = corpus_path("esf_esp32_hello_world.bin").read_bytes()[:2000]
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for md5 in (True, False):
            path = Path(folder) / "app.uf2"
            with UF2Writer(0x1C5F21B0, str(path), None, md5_enabled=md5) as writer:
                writer.add_file(0x10000, app)
            data = path.read_bytes()
            out += [("uf2.Block", data[i:i + 512]) for i in range(0, len(data), 512)]
    return out


def _arduino_samples() -> list[tuple[str, bytes]]:
    """elf2bin's length/CRC words: the project's builds, and corpus-2's when it is there."""
    core27 = (FIXTURES / "esp8266-arduino-core2.7.bin").read_bytes()
    core3 = (FIXTURES / "esp8266-arduino-core3.bin").read_bytes()
    out = [("arduino.CrcWords", core27[0xFF8:0x1000]), ("arduino.CrcWords", core3[0x1010:0x1018])]
    for name, at in (("soccer_d1mini_firmware.bin", 0xFF8),
                     ("dkclock_d1mini_firmware.bin", 0x1010)):
        if (CORPUS2 / name).is_file():
            out.append(("arduino.CrcWords", (CORPUS2 / name).read_bytes()[at:at + 8]))
    return out


NVS_CORPUS = [("relaymod_nvs.bin", 0, 0x5000), ("roquita_nvs_readback.bin", 0, 0x6000),
              ("escm_nvs_secure_cert_legacy.bin", 0, 0x3000),
              ("smooker_esp32_flash_2M.bin", 0x12000, 0xE000),
              ("m5acssr_c3_merged.bin", 0x9000, 0x6000)]
"""NVS partitions in ../shared/corpus-2 (offsets from each dump's partition table)."""


def _nvs_samples() -> list[tuple[str, bytes]]:
    """NVS structures: a partition and keys esp-image makes (every record, always), plus the
    NVS partitions and nvs_keys of ../shared/corpus-2 when it is there."""
    from esp_image.nvs import NvsKeys, NvsPartition

    made = NvsPartition.mkfs(0x5000)
    made.set("storage", "n", 7, "u32")
    made.set("storage", "s", "text", "string")
    made.set("storage", "b", bytes(range(256)) * 20, "blob")
    parts = [made.to_bytes()]
    keys = [NvsKeys.generate().to_bytes()]
    for name, start, size in NVS_CORPUS:
        if (CORPUS2 / name).is_file():
            parts.append((CORPUS2 / name).read_bytes()[start:start + size])
    if (CORPUS2 / "ntls_nvs_keys.bin").is_file():
        keys.append((CORPUS2 / "ntls_nvs_keys.bin").read_bytes())
    out = [("nvs.SecurityConfig", k[:68]) for k in keys]
    for data in parts:
        out += _nvs_page_samples(data)
    return out


def _kind_samples() -> list[tuple[str, bytes]]:
    """esp_secure_cert TLV headers and footers and core dump headers, task records, ELF headers,
    program headers and notes: of the kinds/ fixtures, and of ../shared/corpus-2 when present."""
    from esp_image.coredump import CoreDump
    from esp_image.secure_cert import SecureCert

    files = sorted((FIXTURES / "kinds").glob("*.img"))
    files += sorted(CORPUS2.glob("escm_tlv*.bin")) + sorted(CORPUS2.glob("cdump_*.bin"))
    out: list[tuple[str, bytes]] = []
    for path in files:
        data = path.read_bytes()
        if path.name.startswith(("esp-secure-cert", "escm_")):
            for e in SecureCert.from_bytes(data).entries:
                out += [("secure_cert.TlvHeader", data[e.offset:e.offset + 12]),
                        ("secure_cert.TlvFooter", data[e.offset + e.size - 4:e.offset + e.size])]
            continue
        dump = CoreDump.from_bytes(data)
        out.append((f"coredump.Header{dump.layout.upper()}",
                    data[:dump.header_size]))
        out += [("coredump.TaskHeader", data[t.offset:t.offset + 12]) for t in dump.tasks]
        out += [("coredump.NoteHeader", data[n.offset:n.offset + 12]) for n in dump.notes]
        if dump.format == "elf":
            elf = data[dump.header_size:]
            phoff, phnum = int.from_bytes(elf[28:32], "little"), elf[44]
            out.append(("elf.Elf32_Ehdr", elf[:52]))
            out += [("elf.Elf32_Phdr", elf[phoff + 32 * i:phoff + 32 * (i + 1)])
                    for i in range(phnum)]
    return out


def _spiffs_samples() -> list[tuple[str, bytes]]:
    """SPIFFS page headers and index headers: the project's fixture (spiffs 0.3.7 layout) and
    the mkspiffs images of ../shared/corpus-2 when it is there (the first block's pages)."""
    images = [FIXTURES / "spiffs-64K.bin"] + [
        CORPUS2 / name for name in ("jackoske_esp8266_spiffs.bin", "bschulten_esp32_spiffs.bin")
        if (CORPUS2 / name).is_file()]
    out: list[tuple[str, bytes]] = []
    for path in images:
        data = path.read_bytes()
        for pix in range(1, 16):  # block 0: lookup page 0, then 15 pages
            page = data[pix * 256:(pix + 1) * 256]
            if page[:2] == b"\xff\xff":
                continue
            out.append(("spiffs.PageHeader", page[:5]))
            if page[1] & 0x80 and page[2:4] == b"\0\0":  # index page, span 0: a header
                out.append(("spiffs.IndexHeader", page[:13]))
    return out


def _nvs_page_samples(data: bytes) -> list[tuple[str, bytes]]:
    """Each used page, its header, and its written entries: items, and the ``data`` field of
    strings, blobs and blob indexes (datatype byte 1: 0x21, 0x41, 0x42 and 0x48)."""
    out: list[tuple[str, bytes]] = []
    for at in range(0, len(data), 0x1000):
        page = data[at:at + 0x1000]
        if page[:4] == b"\xff" * 4:
            continue
        out += [("nvs.Page", page), ("nvs.PageHeader", page[:32])]
        bitmap = int.from_bytes(page[32:64], "little")
        for i in range(126):
            if bitmap >> 2 * i & 3 != 2:  # not written
                continue
            entry = page[64 + 32 * i:96 + 32 * i]
            out.append(("nvs.Item", entry))
            if entry[1] in (0x21, 0x41, 0x42):
                out.append(("nvs.VarLengthData", entry[24:]))
            elif entry[1] == 0x48:
                out.append(("nvs.BlobIndexData", entry[24:]))
    return out


def _wrapper_samples() -> list[tuple[str, bytes]]:
    """The wrappers of ../shared/corpus-2 (a .bin.gz, a Matter OTA and a pre-encrypted OTA),
    or the project's own when it is absent."""
    def real(name: str, fixture: str) -> bytes:
        path = CORPUS2 / name
        return (path if path.is_file() else FIXTURES / "wrappers" / fixture).read_bytes()

    gz = real("tasmaht10_tasmota.bin.gz", "esp32-app.bin.gz")
    matter = real("hexh_matter_light-ota.bin", "esp32-app-matter.ota")
    encrypted = real("hmalp_pre_encrypted_ota.bin", "esp32-app-rsa.enc")
    return [("gzip.MemberHeader", gz[:10]), ("gzip.MemberTrailer", gz[-8:]),
            ("matter_ota.FixedHeader", matter[:16]),
            ("encrypted_img.PreEncHeader", encrypted[:512])]


NO_REAL_SAMPLE = {"gzip.ExtraLength", "arduino_signed.SignatureLength",
                  "length_prefix.LengthWord", "encrypted_img.EciesKeyBlock",
                  "esp8266.SysParam", "esp8266.BootHdr", "rboot.ConfigHeader",
                  "rboot.rboot_config", "rboot.rboot_config_chksum", "rboot.rboot_rtc_data",
                  "yaota8266.DatagramHeader", "yaota8266.RecordLength", "yaota8266.Ack",
                  "coredump.HeaderV1", "coredump.HeaderV2", "coredump.MemSegmentHeader",
                  "spiffs.LegacyIndexHeader", "elf.Elf32_Shdr"}
"""Not in ../shared/corpus (flash-dump sectors, RTC memory, .ota files, ota-server's network
answers, spiffs before 0.3.3; core dumps have no section headers): random data only."""


@pytest.mark.corpus
def test_parse_and_build_agree_on_real_structures() -> None:
    targets = {name: (record, declared) for name, record, declared in PAIRS}
    samples = _samples()
    assert {name for name, _ in samples} | NO_REAL_SAMPLE == set(targets)
    for name, raw in samples:
        record, declared = targets[name]
        ours = record.parse(raw)
        assert ours.as_dict() == _theirs(declared, raw), name
        assert ours.build() == bytes(declared.build(declared.parse(raw))) == raw, name


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PAIRS), st.randoms(use_true_random=False))
def test_parse_and_build_agree_on_random_bytes(pair: tuple[str, type[Record], Any],
                                               rnd: Any) -> None:
    name, record, declared = pair
    raw = bytearray(rnd.randbytes(record.SIZE))
    consts = _consts(declared)
    for at, value in consts:  # keep magics right half of the time so fields get compared
        if rnd.random() < 0.5:
            raw[at:at + len(value)] = value
    try:
        declared.parse(bytes(raw))
    except construct.ConstError:
        with pytest.raises(FormatError, match="bad magic"):
            record.parse(bytes(raw))
        return
    ours = record.parse(bytes(raw))
    assert ours.as_dict() == _theirs(declared, bytes(raw)), name
    if any(isinstance(v, bool) for v in ours.as_dict().values()):
        return  # construct's Flag builds any non-zero bit back as 1, like the record
    assert ours.build() == bytes(declared.build(declared.parse(bytes(raw)))) == raw, name


def _consts(declared: Any) -> list[tuple[int, bytes]]:
    out = []
    offset = 0
    for sc in _compile._unwrap(declared).subcons:
        inner = _compile._unwrap(sc.subcon)
        if isinstance(inner, construct.Const):
            out.append((offset, bytes(inner.value)))
        offset += sc.sizeof()
    return out


def test_parse_refuses_short_data() -> None:
    from esp_image.formats.compiled import esp32_image

    with pytest.raises(TruncatedError, match="needs 24 bytes, only 23 left"):
        esp32_image.ImageHeader.parse(b"\xe9" * 23)


@pytest.mark.parametrize("change", [{"spi_size": 16}, {"spi_pin_drv": b"\0"},
                                    {"entry_addr": -1}, {"entry_addr": 1 << 32}])
def test_build_refuses_values_that_do_not_fit(change: dict[str, Any]) -> None:
    from esp_image.formats.compiled import esp32_image

    header = esp32_image.ImageHeader.parse(corpus_path("esf_esp32_hello_world.bin").read_bytes())
    with pytest.raises(FormatError, match="cannot build"):
        header.replace(**change).build()


def test_records_are_values() -> None:
    from esp_image.formats.compiled import esp32_image

    a = esp32_image.SegmentHeader(0x3F400020, 0x100)
    assert a == esp32_image.SegmentHeader.parse(a.build())
    assert hash(a) == hash(a.replace())
    assert a.replace(data_len=1) != a
    assert repr(a) == "SegmentHeader(load_addr=1061158944, data_len=256)"
    with pytest.raises(TypeError, match="no field nope"):
        a.replace(nope=1)
    assert struct.calcsize("<LL") == a.SIZE
