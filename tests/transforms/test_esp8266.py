"""ESP8266 rewrites on real corpus files: v2 form conversion, flash parameters, NONOS layouts."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib

import pytest

from esp_image.errors import (
    ChecksumMismatch,
    FormatError,
    InputError,
    LayoutError,
    TruncatedError,
    UsageError,
)
from esp_image.esp8266 import FLASH_MAPS, Esp8266Image, esp8266_crc32
from esp_image.recognise.esp8266 import identify_esp8266
from esp_image.transforms.esp8266 import (
    LayoutPlan,
    convert_v2,
    infer_irom_link,
    plan_layout,
    set_esp8266_flash_params,
)

from ..conftest import input_path

USER1 = "nonos306_at_user1.1024.new.2.bin"
USER2 = "nonos306_at_user2.1024.new.2.bin"
ESPTOOL_V2 = "esptool_test_esp8266_sdk_4096_user1.bin"
RBOOT_ROM0 = "mgwr_rboot_rom0_0x02000.bin"
BOOT = "nonos_boot_v1.7.bin"
V1_APP = "mgwr_nonos_0x00000.bin"
V3_APP = "esf_esp8266_rtos_hello-world.bin"
INIT = "nonos_esp_init_data_default_v08.bin"


def _read(name: str) -> bytes:
    """A corpus file, or the fixture of that name (fixtures/ names never clash with it)."""
    return input_path(name).read_bytes()


# the project's fixtures of the same kinds (a clone without the corpus runs these)
FX_USER1, FX_USER2 = "esp8266-user1.bin", "esp8266-user2.bin"
FX_ROM0 = "esp8266-rboot-rom0.bin"


def _diff(a: bytes, b: bytes) -> list[int]:
    assert len(a) == len(b)
    return [i for i in range(len(a)) if a[i] != b[i]]


def _crc(data: bytes) -> int:
    return int(struct.unpack_from("<I", data, len(data) - 4)[0])


def _esptool_crc(data: bytes) -> int:
    bin_image = pytest.importorskip("esptool.bin_image")
    return int(bin_image.esp8266_crc32(data))


# ====================================================================== convert_v2
@pytest.mark.parametrize(("name", "user"), [(USER1, 1), (USER2, 2), (FX_USER1, 1), (FX_USER2, 2)])
def test_gen_appbin_to_esptool_and_back_is_byte_identical(name: str, user: int) -> None:
    original = _read(name)
    assert original[:4] == bytes([0xEA, 4, 0, user])
    esptool_form = convert_v2(original, to="esptool")
    img = Esp8266Image.from_bytes(esptool_form)
    assert esptool_form[:4] == b"\xea\x04\x00\x20"  # inner header: QIO, 1MB, 40 MHz
    assert img.variant == "esptool" and img.user is None and img.valid
    assert img.crc32_status == "valid"
    # Only EA byte 3 and the CRC32 trailer change.
    assert [i for i in _diff(original, esptool_form) if i < len(original) - 4] == [3]
    assert convert_v2(esptool_form, to="gen_appbin", user=user) == original
    # An already-gen_appbin input keeps its marker when no user is given.
    assert convert_v2(original, to="gen_appbin") == original


@pytest.mark.parametrize("name", [USER1, USER2, FX_USER1, FX_USER2])
def test_esptool_form_equals_esptool_v2_writer(name: str) -> None:
    bin_image = pytest.importorskip("esptool.bin_image")
    original = _read(name)
    loaded = bin_image.ESP8266V2FirmwareImage(io.BytesIO(original))
    # esptool's loader sets the irom segment's address to 0, which its own writer then no
    # longer recognises as irom; any address in the irom window restores it.
    loaded.segments[0].addr = 0x40201010
    assert convert_v2(original, to="esptool") == loaded.save(None)


@pytest.mark.parametrize("name", [USER1, USER2, ESPTOOL_V2, RBOOT_ROM0, FX_USER1, FX_USER2,
                                  FX_ROM0])
def test_crc_agrees_with_esptool(name: str) -> None:
    original = _read(name)
    for form, user in (("esptool", None), ("gen_appbin", 1), ("gen_appbin", 2)):
        if name in (USER2, FX_USER2) and user == 1:
            continue  # refused: user2 link (tested below)
        out = convert_v2(original, to=form, user=user)
        assert _crc(out) == _esptool_crc(out[:-4]) == esp8266_crc32(out[:-4])


def test_crc_high_bit_case_is_the_inverted_form() -> None:
    # nonos306 user2: zlib.crc32 >= 2**31, where the naive "crc + 1" is wrong (esp8266.md §4.3).
    original = _read(USER2)
    assert zlib.crc32(original[:-4]) == 0x8F20514B
    back = convert_v2(convert_v2(original, to="esptool"), to="gen_appbin", user=2)
    assert _crc(back) == 0x70DFAEB4 == 0x8F20514B ^ 0xFFFFFFFF


@pytest.mark.parametrize("name", [RBOOT_ROM0, ESPTOOL_V2, FX_ROM0])
def test_missing_crc_trailer_is_added(name: str) -> None:
    original = _read(name)
    cut = original[:-4]
    img = Esp8266Image.from_bytes(cut)
    assert img.crc32_status == "absent"
    assert convert_v2(cut, to="esptool") == original
    gen = convert_v2(cut, to="gen_appbin", user=1)
    assert len(gen) == len(original)
    assert gen[:4] == b"\xea\x04\x00\x01"
    assert Esp8266Image.from_bytes(gen).crc32_status == "valid"
    assert _crc(gen) == _esptool_crc(gen[:-4])


def test_esptool_image_to_gen_appbin_keeps_inner_params() -> None:
    original = _read(ESPTOOL_V2)
    assert original[:4] == b"\xea\x04\x00\x60"
    gen = convert_v2(original, to="gen_appbin", user=1)
    img = Esp8266Image.from_bytes(gen)
    assert img.variant == "gen_appbin" and img.user == 1 and img.valid
    assert img.flash_size_name == "4MB-c1"
    assert [i for i in _diff(original, gen) if i < len(gen) - 4] == [3]
    assert convert_v2(gen, to="esptool") == original


def test_convert_with_non_qio_mode() -> None:
    # Every corpus v2 image is QIO (mode 0); a DIO one shows that EA byte 2 really moves.
    dio = set_esp8266_flash_params(_read(ESPTOOL_V2), mode="dio")
    assert dio[:4] == b"\xea\x04\x02\x60"
    gen = convert_v2(dio, to="gen_appbin", user=1)
    assert gen[:4] == b"\xea\x04\x00\x01"
    inner = Esp8266Image.from_bytes(gen).header_offset
    assert gen[inner + 2:inner + 4] == b"\x02\x60"
    assert convert_v2(gen, to="esptool") == dio


def test_convert_refuses_v1_and_says_what_to_do() -> None:
    with pytest.raises(FormatError, match=r"v1 .*elf2image --version=2"):
        convert_v2(_read(V1_APP), to="gen_appbin", user=1)


def test_convert_refuses_v3() -> None:
    with pytest.raises(FormatError, match="RTOS SDK v3"):
        convert_v2(_read(V3_APP), to="esptool")


def test_convert_refuses_truncated_and_trailing_data() -> None:
    original = _read(USER1)
    with pytest.raises(FormatError, match="truncated"):
        convert_v2(original[: len(original) // 2], to="esptool")
    with pytest.raises(TruncatedError, match="a v2 header needs 16"):
        convert_v2(original[:10], to="esptool")
    with pytest.raises(FormatError, match="follow the image"):
        convert_v2(original + b"\xff" * 16, to="esptool")


def test_convert_refuses_damage() -> None:
    original = bytearray(_read(USER1))
    bad_crc = bytes(original[:-1]) + bytes([original[-1] ^ 1])
    with pytest.raises(ChecksumMismatch, match="CRC32"):
        convert_v2(bad_crc, to="esptool")
    assert convert_v2(bad_crc, to="gen_appbin", ignore_invalid=True) == bytes(original)
    img = Esp8266Image.from_bytes(bytes(original))
    original[img.segments[0].data_offset] ^= 0xFF
    with pytest.raises(ChecksumMismatch, match="XOR checksum"):
        convert_v2(bytes(original), to="esptool")


def test_convert_argument_errors() -> None:
    original = _read(USER1)
    esptool_form = convert_v2(original, to="esptool")
    with pytest.raises(InputError, match="unknown v2 form"):
        convert_v2(original, to="v3")
    with pytest.raises(InputError, match="gen_appbin form"):
        convert_v2(original, to="esptool", user=1)
    with pytest.raises(InputError, match="1 or 2"):
        convert_v2(original, to="gen_appbin", user=3)
    with pytest.raises(InputError, match=r"--user 1 or 2.*0x40201010"):
        convert_v2(esptool_form, to="gen_appbin")
    with pytest.raises(InputError, match="no data"):
        convert_v2(b"", to="esptool")
    with pytest.raises(FormatError):
        convert_v2(b"\x00" * 64, to="esptool")


def test_convert_refuses_marking_a_user2_link_as_user1() -> None:
    esptool_form = convert_v2(_read(USER2), to="esptool")
    with pytest.raises(LayoutError, match=r"0x40281010 \(user2 of a 512\+512 map\)"):
        convert_v2(esptool_form, to="gen_appbin", user=1)


def test_irom_link_inference_on_corpus() -> None:
    assert infer_irom_link(Esp8266Image.from_bytes(_read(USER1))) == 0x40201010
    assert infer_irom_link(Esp8266Image.from_bytes(_read(USER2))) == 0x40281010
    assert infer_irom_link(Esp8266Image.from_bytes(_read(RBOOT_ROM0))) == 0x40202010
    assert infer_irom_link(Esp8266Image.from_bytes(_read(BOOT))) is None


# ====================================================================== flash params
def _esptool_params(data: bytes) -> tuple[int, int]:
    bin_image = pytest.importorskip("esptool.bin_image")
    loaded = bin_image.LoadFirmwareImage("esp8266", data)
    return int(loaded.flash_mode), int(loaded.flash_size_freq)


@pytest.mark.parametrize("name", [BOOT, V1_APP, "esp8266-nonos-boot.bin",
                                  "esp8266-rboot-boot.bin"])
def test_flash_params_v1(name: str) -> None:
    original = _read(name)
    out = set_esp8266_flash_params(original, size="4MB-c1", mode="dio", freq="80m")
    assert _diff(original, out) == [2, 3]
    assert out[2:4] == b"\x02\x6f"
    img = Esp8266Image.from_bytes(out)
    assert img.valid
    assert (img.flash_size_name, img.flash_mode, img.flash_freq) == ("4MB-c1", "dio", "80m")
    assert _esptool_params(out) == (2, 0x6F)
    assert set_esp8266_flash_params(original, size="32m-c1", mode="dio", freq="80m") == out


def test_flash_params_keep_what_is_not_given() -> None:
    original = _read(BOOT)
    out = set_esp8266_flash_params(original, size="4MB")
    assert out[2] == original[2]
    assert out[3] == 0x40 | (original[3] & 0x0F)
    assert set_esp8266_flash_params(original) == original
    assert set_esp8266_flash_params(original, size="keep", mode="keep", freq="keep") == original
    assert set_esp8266_flash_params(original, size=0x100000)[3] >> 4 == 0x2
    assert set_esp8266_flash_params(original, size=FLASH_MAPS[5])[3] >> 4 == 0x5
    assert set_esp8266_flash_params(original, size="8m")[3] >> 4 == 0x2  # legacy megabits


def test_flash_params_v2_esptool_form() -> None:
    original = _read(ESPTOOL_V2)
    inner = Esp8266Image.from_bytes(original).header_offset
    out = set_esp8266_flash_params(original, size="1MB", mode="dout", freq="20m")
    n = len(out)
    assert _diff(original, out) == [2, 3, inner + 2, inner + 3, n - 4, n - 3, n - 2, n - 1]
    assert out[2:4] == out[inner + 2:inner + 4] == b"\x03\x22"
    img = Esp8266Image.from_bytes(out)
    assert img.valid and img.variant == "esptool" and img.crc32_status == "valid"
    assert _crc(out) == _esptool_crc(out[:-4])
    assert _esptool_params(out) == (3, 0x22)


@pytest.mark.parametrize(("name", "user"), [(USER1, 1), (USER2, 2), (FX_USER1, 1), (FX_USER2, 2)])
def test_flash_params_v2_gen_appbin_keeps_marker(name: str, user: int) -> None:
    original = _read(name)
    inner = Esp8266Image.from_bytes(original).header_offset
    out = set_esp8266_flash_params(original, size="4MB", freq="80m")
    n = len(out)
    assert _diff(original, out) == [inner + 3, n - 4, n - 3, n - 2, n - 1]
    assert out[:4] == bytes([0xEA, 4, 0, user])
    img = Esp8266Image.from_bytes(out)
    assert img.valid and img.variant == "gen_appbin" and img.user == user
    assert (img.flash_size_name, img.flash_freq, img.flash_mode) == ("4MB", "80m", "qio")
    assert _crc(out) == _esptool_crc(out[:-4])


def test_flash_params_v2_without_trailer_stays_without() -> None:
    cut = _read(RBOOT_ROM0)[:-4]
    out = set_esp8266_flash_params(cut, mode="dio")
    assert len(out) == len(cut)
    img = Esp8266Image.from_bytes(out)
    assert img.crc32_status == "absent" and img.valid and img.flash_mode == "dio"


def test_flash_params_v3_recomputes_sha256() -> None:
    original = _read(V3_APP)
    with pytest.raises(UsageError, match="ambiguous"):
        set_esp8266_flash_params(original, size="4MB")
    out = set_esp8266_flash_params(original, size="4MB", size_table="esp32", mode="dio")
    img = Esp8266Image.from_bytes(out)
    assert img.format == "esp8266-v3" and img.valid and img.sha256_valid
    assert out[3] >> 4 == 0x2  # 4MB in the ESP32 table
    assert out[3] & 0xF == original[3] & 0xF
    diff = _diff(original, out)
    assert all(i in (2, 3) or i >= img.length - 32 for i in diff)
    assert out[img.length - 32:img.length] == hashlib.sha256(out[:img.length - 32]).digest()
    esp8266_table = set_esp8266_flash_params(original, size="4MB", size_table="esp8266")
    assert esp8266_table[3] >> 4 == 0x4
    # Mode/freq alone need no table.
    assert Esp8266Image.from_bytes(set_esp8266_flash_params(original, freq="80m")).valid
    with pytest.raises(UsageError, match="ESP32 size table"):
        set_esp8266_flash_params(original, size="4MB-c1", size_table="esp32")


def test_flash_params_on_a_flash_dump_patches_boot_bin_only() -> None:
    plan = plan_layout("1MB", boot=_read(BOOT), user1=_read(USER1))
    dump = plan.build()
    out = set_esp8266_flash_params(dump, size="1MB", mode="dout")
    assert _diff(dump, out) == [2]
    found = identify_esp8266(memoryview(out))
    assert found is not None and found.shape == "nonos-flash" and found.valid


def test_flash_params_refusals() -> None:
    boot = _read(BOOT)
    with pytest.raises(UsageError, match="flash mode"):
        set_esp8266_flash_params(boot, mode="quad")
    with pytest.raises(UsageError, match="frequency"):
        set_esp8266_flash_params(boot, freq="48m")
    with pytest.raises(UsageError, match="not supported"):
        set_esp8266_flash_params(boot, size="4MB-c2")
    with pytest.raises(UsageError, match="not an ESP8266 flash size"):
        set_esp8266_flash_params(boot, size="3MB")
    with pytest.raises(UsageError, match="device"):
        set_esp8266_flash_params(boot, size="detect")
    with pytest.raises(UsageError, match="size_table"):
        set_esp8266_flash_params(boot, size="4MB", size_table="esp32s3")
    with pytest.raises(FormatError):
        set_esp8266_flash_params(b"\x00" * 32, mode="dio")
    user = bytearray(_read(USER1))
    user[-1] ^= 1
    with pytest.raises(ChecksumMismatch):
        set_esp8266_flash_params(bytes(user), mode="dio")
    assert Esp8266Image.from_bytes(
        set_esp8266_flash_params(bytes(user), mode="dio", ignore_invalid=True)).valid
    v3 = bytearray(_read(V3_APP))
    v3[-1] ^= 1
    with pytest.raises(ChecksumMismatch, match="SHA-256"):
        set_esp8266_flash_params(bytes(v3), mode="dio")
    with pytest.raises(FormatError, match="truncated"):
        set_esp8266_flash_params(_read(USER1)[:5000], mode="dio")


# ====================================================================== layouts
# esp8266.md §6: map -> (user2, RF cal, init data, save0, save1, flag); user1 is always 0x1000.
SECTION6 = {
    "512KB": (0x41000, 0x7B000, 0x7C000, 0x7D000, 0x7E000, 0x7F000),
    "256KB": (None, 0x3B000, 0x3C000, 0x3D000, 0x3E000, 0x3F000),
    "1MB": (0x81000, 0xFB000, 0xFC000, 0xFD000, 0xFE000, 0xFF000),
    "2MB": (0x81000, 0x1FB000, 0x1FC000, 0x1FD000, 0x1FE000, 0x1FF000),
    "4MB": (0x81000, 0x3FB000, 0x3FC000, 0x3FD000, 0x3FE000, 0x3FF000),
    "2MB-c1": (0x101000, 0x1FB000, 0x1FC000, 0x1FD000, 0x1FE000, 0x1FF000),
    "4MB-c1": (0x101000, 0x3FB000, 0x3FC000, 0x3FD000, 0x3FE000, 0x3FF000),
    "8MB": (0x101000, 0x7FB000, 0x7FC000, 0x7FD000, 0x7FE000, 0x7FF000),
    "16MB": (0x101000, 0xFFB000, 0xFFC000, 0xFFD000, 0xFFE000, 0xFFF000),
}


@pytest.mark.parametrize("name", list(SECTION6))
def test_plan_addresses_match_section_6(name: str) -> None:
    plan = plan_layout(name)
    user2, rf, init, save0, save1, flag = SECTION6[name]
    got = {e.name: e.address for e in plan.entries}
    expected: dict[str, int] = {"rf_cal": rf, "init_data": init, "save0": save0,
                                "save1": save1, "flag": flag}
    if user2 is not None:
        expected.update(boot=0, user1=0x1000, user2=user2)
    assert got == expected
    addresses = [e.address for e in plan.entries]
    assert addresses == sorted(addresses)
    for a, b in zip(plan.entries, plan.entries[1:], strict=False):
        assert a.address + a.size <= b.address
    assert len(plan.rows) == len(plan.entries)
    assert {e.name for e in plan.entries if e.file_role == "blank"} == {"save0", "save1", "flag"}


@pytest.mark.parametrize(("legacy", "name"), [("32m-c1", "4MB-c1"), ("4m", "512KB"),
                                              ("8m", "1MB"), ("16m-c1", "2MB-c1"),
                                              ("32m", "4MB"), ("4MB-c1", "4MB-c1")])
def test_plan_accepts_legacy_names(legacy: str, name: str) -> None:
    assert plan_layout(legacy).flash_map.name == name


def test_plan_unknown_or_unsupported_map() -> None:
    with pytest.raises(UsageError, match="not an ESP8266 flash size"):
        plan_layout("5MB")
    with pytest.raises(UsageError, match="not supported"):
        plan_layout("32m-c2")
    with pytest.raises(LayoutError, match="no boot/user slots"):
        plan_layout("256KB", user1=_read(USER1))


def test_relink_refusal_user1_at_user2_on_512_512() -> None:
    u1 = _read(USER1)
    with pytest.raises(LayoutError) as info:
        plan_layout("1MB", boot=_read(BOOT), user1=u1, user2=u1)
    message = str(info.value)
    assert "user2.bin is linked for 0x40201010 (user1)" in message
    assert "the 512+512 map needs a user2 build" in message
    # The esptool form carries no marker: the refusal comes from the irom link address.
    with pytest.raises(LayoutError, match=r"user2.bin is linked for 0x40201010 \(user1\)"):
        plan_layout("4MB", user2=convert_v2(u1, to="esptool"))
    with pytest.raises(LayoutError, match=r"user1.bin is linked for 0x40281010"):
        plan_layout("2MB", user1=convert_v2(_read(USER2), to="esptool"))
    # A 512+512 user2 build cannot run from a 1024+1024 slot either.
    with pytest.raises(LayoutError, match=r"user2.bin is linked for 0x40281010"):
        plan_layout("4MB-c1", user2=_read(USER2))


def test_relink_refusal_on_256_256() -> None:
    # The 256+256 map also needs separate links; a user1 link is refused at 0x41000 (it is
    # also too large for the slot).
    with pytest.raises(LayoutError) as info:
        plan_layout("512KB", user2=_read(ESPTOOL_V2))
    assert "user2.bin is linked for 0x40201010 (user1); the 256+256 map" in str(info.value)
    assert "holds" in str(info.value)


def test_plan_refuses_bin_larger_than_slot() -> None:
    with pytest.raises(LayoutError, match=r"user1.bin is 0x60e64 bytes; its slot at 0x1000 "
                                          r"holds 0x3f000"):
        plan_layout("512KB", user1=_read(USER1))


def test_plan_refuses_wrong_boot_and_init_data() -> None:
    with pytest.raises(LayoutError, match="must be a v1"):
        plan_layout("1MB", boot=_read(USER1))
    with pytest.raises(LayoutError, match=r"rboot, not Espressif's boot_v1\.x"):
        plan_layout("1MB", boot=_read("mgwr_rboot_0x00000.bin"))
    with pytest.raises(LayoutError, match="not esp_init_data_default"):
        plan_layout("1MB", init_data=b"\x00" * 128)
    with pytest.raises(LayoutError, match="its sector holds"):
        plan_layout("1MB", init_data=_read(INIT) + b"\xff" * 0x1000)
    with pytest.raises(LayoutError, match="not an ESP8266 image"):
        plan_layout("1MB", user1=b"\x12" * 64)
    with pytest.raises(LayoutError, match="RTOS SDK v3"):
        plan_layout("1MB", user1=_read(V3_APP))


def test_plan_warnings() -> None:
    u1 = _read(USER1)
    plan = plan_layout("4MB-c1", boot=_read(BOOT), user1=u1, user2=u1)
    codes = {i.code for i in plan.issues}
    assert codes == {"boot-map", "wrong-marker", "no-init-data"}
    assert all(not i.is_error for i in plan.issues)
    assert plan.links == {"user1": 0x40201010, "user2": 0x40201010}
    cut = plan_layout("4MB-c1", user1=_read(ESPTOOL_V2)[:-4])
    assert "no-crc32" in {i.code for i in cut.issues}
    # An rBoot ROM is linked for its own slot (0x2000), not for a NONOS slot.
    with pytest.raises(LayoutError, match=r"0x40202010 \(an rBoot ROM at 0x2000\)"):
        plan_layout("4MB-c1", user1=_read(RBOOT_ROM0))


def test_build_is_a_valid_nonos_dump_with_the_same_regions() -> None:
    boot, u1, u2, init = _read(BOOT), _read(USER1), _read(USER2), _read(INIT)
    plan = plan_layout("8m", boot=boot, user1=u1, user2=u2, init_data=init)
    assert isinstance(plan, LayoutPlan)
    assert plan.links == {"user1": 0x40201010, "user2": 0x40281010}
    out = plan.build()
    assert len(out) == 0x100000
    assert out[3] == 0x20 | (boot[3] & 0x0F)  # boot.bin's byte 3 set to the map
    assert _diff(boot, out[:len(boot)]) == ([3] if boot[3] >> 4 != 2 else [])
    assert out[0x1000:0x1000 + len(u1)] == u1
    assert out[0x81000:0x81000 + len(u2)] == u2
    assert out[0xFC000:0xFC000 + len(init)] == init
    assert out[0xFB000:0xFC000] == b"\xff" * 0x1000
    assert out[0xFD000:] == b"\xff" * 0x3000
    assert out[0x1000 + len(u1):0x81000] == b"\xff" * (0x80000 - len(u1))
    found = identify_esp8266(memoryview(out))
    assert found is not None
    assert (found.kind, found.shape, found.valid) == ("flash", "nonos-flash", True)
    assert found.flash_map is not None and found.flash_map.name == "1MB"
    regions = {r.name: (r.address, r.kind) for r in found.regions if r.name != "(unused)"}
    assert regions == {"boot": (0, "image"), "user1": (0x1000, "image"),
                       "user2": (0x81000, "image"), "rf_cal": (0xFB000, "erased"),
                       "init_data": (0xFC000, "init-data"),
                       "system_params": (0xFD000, "system-params")}


def test_build_4mb_c1_with_a_converted_user2() -> None:
    u1 = _read(USER1)
    u2 = convert_v2(u1, to="gen_appbin", user=2)  # 1024+1024: same link, other marker
    plan = plan_layout("32m-c1", boot=_read(BOOT), user1=u1, user2=u2, init_data=_read(INIT))
    assert {i.code for i in plan.issues} == {"boot-map"}
    out = plan.build()
    assert len(out) == 4 * 1024 * 1024 and out[3] >> 4 == 0x6
    found = identify_esp8266(memoryview(out))
    assert found is not None and found.shape == "nonos-flash" and found.valid
    assert not found.issues


def test_build_needs_boot_and_user1() -> None:
    with pytest.raises(LayoutError, match=r"needs boot.bin and user1.bin"):
        plan_layout("1MB").build()
    with pytest.raises(LayoutError, match=r"needs user1.bin"):
        plan_layout("1MB", boot=_read(BOOT)).build()


def test_write_flash_command() -> None:
    plan = plan_layout("4MB-c1", boot=_read(BOOT), user1=_read(USER1))
    assert plan.write_flash_command() == (
        "esptool --chip esp8266 --port PORT write-flash --flash-size 4MB-c1 "
        "0x0 boot.bin 0x1000 user1.bin 0x3fc000 esp_init_data_default.bin "
        "0x3fd000 blank.bin 0x3fe000 blank.bin 0x3ff000 blank.bin")
    files = {"boot": "bin/boot_v1.7.bin", "user2": "my user2.bin"}
    assert plan.write_flash_command("/dev/ttyUSB0", files, erase_all=True) == (
        "esptool --chip esp8266 --port /dev/ttyUSB0 write-flash --erase-all --flash-size "
        "4MB-c1 0x0 bin/boot_v1.7.bin 0x1000 user1.bin 0x101000 'my user2.bin' "
        "0x3fc000 esp_init_data_default.bin 0x3fd000 blank.bin 0x3fe000 blank.bin "
        "0x3ff000 blank.bin")
    no_boot = plan_layout("512KB").write_flash_command()
    assert no_boot.startswith("esptool --chip esp8266 --port PORT write-flash --flash-size "
                              "512KB 0x0 boot.bin 0x1000 user1.bin 0x7c000 ")


@pytest.mark.parametrize("name", list(SECTION6))
def test_flash_size_names_are_esptools(name: str) -> None:
    esp8266 = pytest.importorskip("esptool.targets.esp8266")
    plan = plan_layout(name)
    assert plan.flash_map.name in esp8266.ESP8266ROM.FLASH_SIZES
    assert f"--flash-size {name} " in plan.write_flash_command()


def test_plan_to_dict_is_json() -> None:
    plan = plan_layout("1MB", boot=_read(BOOT), user1=_read(USER1), init_data=_read(INIT))
    doc = json.loads(json.dumps(plan.to_dict()))
    assert doc["flash_map"]["name"] == "1MB"
    assert doc["write_flash"] == plan.write_flash_command()
    assert [e["name"] for e in doc["entries"]] == [
        "boot", "user1", "user2", "rf_cal", "init_data", "save0", "save1", "flag"]
    assert doc["entries"][1]["length"] == len(_read(USER1))
    assert doc["links"] == {"user1": 0x40201010}
