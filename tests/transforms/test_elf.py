"""Apps and bootloaders as ELF32 files, held against pyelftools, binutils and esptool's own ELF
reader and elf2image, over the fixtures and every app and bootloader of both corpora."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from esp_image import Image
from esp_image.chips import CHIPS
from esp_image.elf import ElfProgram, ElfSegment, machine
from esp_image.errors import EspImageError, FormatError, InputError, VerificationFailed
from esp_image.transforms.elf import check_written, to_elf
from tests.conftest import FIXTURES, corpus_path, corpus_rows

EM_XTENSA, EM_RISCV = 94, 243


def _sources() -> list[tuple[str, str | None]]:
    """(path, --partition) of every fixture and corpus file that holds an app or bootloader:
    the default choice, and the bootloader of each flash file that has one."""
    paths = sorted(FIXTURES.glob("*.bin")) + [Path(r["path"]) for r in corpus_rows()]
    out: list[tuple[str, str | None]] = []
    for path in paths:
        try:
            image = Image.open(path).unwrapped()
        except EspImageError:  # files esp_image cannot open are not sources here
            continue
        for choice in (None, "bootloader"):
            try:
                to_elf(image, choice)
            except (InputError, FormatError, VerificationFailed):
                continue
            out.append((str(path), choice))
    return out


SOURCES = _sources()


def _loaded(image: Image, partition: str | None) -> tuple[list[tuple[int, bytes]], int]:
    """The image's segments a loader loads (address 0 is esptool's padding), and its entry."""
    from esp_image.transforms.elf import _pick_esp32

    _, img = _pick_esp32(image, partition)
    segments = [(s.load_addr, bytes(img.data[s.data_offset:s.end])) for s in img.segments
                if s.load_addr]
    return segments, img.header.entry_addr


def test_sources_cover_fixtures_and_corpora() -> None:
    names = {Path(p).name for p, _ in SOURCES}
    assert {"firmware-esp32-4MB.bin", "esp32-bootloader.bin", "esp8266-user1.bin",
            "app-esp32c6-sbv2-signed.bin"} <= names


@pytest.mark.parametrize(("path", "partition"), SOURCES, ids=lambda v: Path(str(v)).name)
def test_pyelftools_and_esptool_read_every_segment(path: str, partition: str | None) -> None:
    from elftools.elf.elffile import ELFFile
    from esptool.bin_image import ELFFile as EsptoolElf

    image = Image.open(path).unwrapped()
    result = to_elf(image, partition)
    prog = result.program
    chip = image.chip or image.firmware.chip  # type: ignore[union-attr]
    assert chip is not None
    assert (prog.machine, prog.flags) == machine(chip)

    elf = ELFFile(io.BytesIO(result.data))
    assert elf.header.e_machine == ("EM_XTENSA" if prog.machine == EM_XTENSA else "EM_RISCV")
    assert elf.header.e_type == "ET_EXEC" and elf.header.e_entry == prog.entry
    assert elf.header.e_flags == prog.flags
    loads = [s for s in elf.iter_segments() if s.header.p_type == "PT_LOAD"]
    assert [(s.header.p_vaddr, s.header.p_paddr, s.data()) for s in loads] == \
        [(s.address, s.address, s.data) for s in prog.segments]
    sections = [s for s in elf.iter_sections() if s.header.sh_type == "SHT_PROGBITS"]
    assert [(s.name, s.header.sh_addr, s.data()) for s in sections] == \
        [(s.section, s.address, s.data) for s in prog.segments]
    assert elf.get_section(elf.header.e_shstrndx).name == ".shstrtab"
    assert all(s.section.startswith(".") for s in prog.segments)

    theirs = EsptoolElf(result.data)
    assert theirs.entrypoint == prog.entry
    # esptool's segments pad their data with zeros to a multiple of 4 bytes
    ours = [(s.address, s.data + bytes(-len(s.data) % 4)) for s in prog.segments]
    assert [(s.addr, s.data) for s in theirs.segments] == ours
    assert [(s.addr, s.data) for s in theirs.sections] == ours
    if image.esp8266 is None:
        assert [(s.address, s.data) for s in prog.segments] == _loaded(image, partition)[0]
    assert ElfProgram.from_bytes(result.data) == prog


def _merged(segments: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """In address order (elf2image may write RAM segments in another order), adjacent
    segments joined, as elf2image joins them."""
    out: list[tuple[int, bytes]] = []
    for addr, data in sorted(segments):
        if out and out[-1][0] + len(out[-1][1]) == addr:
            out[-1] = (out[-1][0], out[-1][1] + data)
        else:
            out.append((addr, data))
    return out


ESP32_SOURCES = [(p, c) for p, c in SOURCES
                 if (Image.open(p).unwrapped().chip or CHIPS[0]).name != "esp8266"]


@pytest.mark.parametrize(("path", "partition"), ESP32_SOURCES,
                         ids=lambda v: Path(str(v)).name)
def test_esptool_elf2image_rebuilds_the_segments(tmp_path: Path, path: str,
                                                 partition: str | None) -> None:
    """esptool elf2image of the ELF: an image with the original's segments and entry."""
    from esptool.bin_image import LoadFirmwareImage
    from esptool.cmds import elf2image

    image = Image.open(path).unwrapped()
    chip = image.chip or image.firmware.chip  # type: ignore[union-attr]
    assert chip is not None
    from esp_image.app_image import mmu_page_size
    from esp_image.transforms.elf import _pick_esp32

    (tmp_path / "x.elf").write_bytes(to_elf(image, partition).data)
    out = tmp_path / "x.bin"
    # The MMU page the app was laid out for: elf2image reads it from a .flash.appdesc
    # section, which these ELFs leave out (elf2image would rewrite the ELF SHA-256 in it).
    img = _pick_esp32(image, partition)[1]
    page = mmu_page_size(img.segments, chip, img.app_desc, None)
    kwargs = {"flash_mmu_page_size": f"{page // 1024}KB"} if page else {}
    elf2image(str(tmp_path / "x.elf"), chip.name, output=str(out), **kwargs)
    rebuilt = LoadFirmwareImage(chip.name, str(out))
    segments, entry = _loaded(image, partition)
    assert rebuilt.entrypoint == entry
    theirs = [(s.addr, bytes(s.data)) for s in rebuilt.segments if s.addr]
    assert _merged(theirs) == _merged(segments)


@pytest.mark.skipif(shutil.which("readelf") is None or shutil.which("objdump") is None,
                    reason="binutils (readelf, objdump) not installed")
@pytest.mark.parametrize("name", ["firmware-esp32-4MB.bin", "app-esp32c6-sbv2-signed.bin",
                                  "esp8266-user1.bin", "esp32-bootloader.bin"])
def test_binutils_read_headers_and_sections(tmp_path: Path, name: str) -> None:
    result = to_elf(Image.open(FIXTURES / name))
    elf = tmp_path / "x.elf"
    elf.write_bytes(result.data)
    readelf = subprocess.run(["readelf", "-lW", str(elf)], capture_output=True, text=True,
                             check=True)
    assert f"Entry point 0x{result.program.entry:x}" in readelf.stdout
    loads = [line.split() for line in readelf.stdout.splitlines()
             if line.strip().startswith("LOAD")]
    assert [(int(w[2], 16), int(w[3], 16), int(w[4], 16)) for w in loads] == \
        [(s.address, s.address, len(s.data)) for s in result.program.segments]
    assert "warning" not in readelf.stderr.lower()
    objdump = subprocess.run(["objdump", "-h", str(elf)], capture_output=True, text=True,
                             check=True)
    rows = [line.split() for line in objdump.stdout.splitlines()
            if line.strip()[:1].isdigit()]
    assert [(w[1], int(w[3], 16), int(w[2], 16)) for w in rows] == \
        [(s.section, s.address, len(s.data)) for s in result.program.segments]


def test_machine_of_every_chip() -> None:
    xtensa = {"esp8266", "esp32", "esp32s2", "esp32s3"}
    for chip in CHIPS:
        e_machine, flags = machine(chip)
        if chip.name in xtensa:
            assert (e_machine, flags) == (EM_XTENSA, 0x300), chip.name
        else:
            assert e_machine == EM_RISCV and flags & 0x1, chip.name  # RVC
            assert flags & 0x2 == (0x2 if chip.name == "esp32p4" else 0), chip.name


def test_section_names_on_risc_v_shared_memory() -> None:
    """On the C6, code and data share addresses: the first flash segment (the app
    descriptor's) is rodata, the RAM segment holding the entry point is code."""
    result = to_elf(Image.open(FIXTURES / "app-esp32c6-sbv2-signed.bin"))
    sections = {s.section: s for s in result.program.segments}
    assert list(sections) == [".flash.rodata", ".iram0.text", ".flash.text"]
    iram = sections[".iram0.text"]
    assert iram.address <= result.program.entry < iram.address + len(iram.data)
    assert iram.flags == 0x7 and sections[".flash.rodata"].flags == 0x4
    assert sections[".flash.text"].flags == 0x5


def test_esp32_regions_by_name() -> None:
    result = to_elf(Image.open(FIXTURES / "firmware-esp32-4MB.bin"))
    assert [(s.section, s.flags) for s in result.program.segments] == [
        (".flash.rodata", 4), (".dram0.data", 6), (".iram0.text", 5), (".flash.text", 5)]
    assert result.name == "factory"
    assert any("padding segment at address 0 left out" in n for n in result.notes)
    boot = to_elf(Image.open(FIXTURES / "firmware-esp32-4MB.bin"), "bootloader")
    assert ".iram_loader.text" in [s.section for s in boot.program.segments]


def test_esp8266_v2_irom_at_its_mapped_address() -> None:
    image = Image.open(FIXTURES / "esp8266-user2.bin")
    fw = image.firmware
    result = to_elf(image)
    irom = result.program.segments[-1]
    assert (irom.section, irom.address) == (".flash.text", 0x40281010)
    assert irom.data == bytes(fw.data[16:16 + fw.irom_size])  # type: ignore[union-attr]


def test_esp8266_v2_irom_from_a_flash_layout() -> None:
    image = Image.open(FIXTURES / "esp8266-rboot-flash-512K.bin")
    result = to_elf(image, "rom1")
    assert result.program.segments[-1].address == 0x40200000 + 0x42000 + 16


def test_nonos_irom0_at_0x40210000() -> None:
    image = Image.open(corpus_path("esptool_test_nodemcu-master-7-modules-2017-01-19-integer.bin"))
    result = to_elf(image)
    irom = result.program.segments[-1]
    region = next(r for r in image.regions if r.name == "irom0")
    assert region.address == 0x10000
    assert (irom.section, irom.address) == (".flash.text", 0x40210000)
    assert irom.data == bytes(image.data[region.offset:region.offset + region.size])


def test_micropython_irom0_at_0x40209000() -> None:
    result = to_elf(Image.open(FIXTURES / "esp8266-combined.bin"))
    assert result.name == "firmware"
    assert result.program.segments[-1].address == 0x40209000


def test_bare_esptool_v2_image_is_refused_with_the_reason() -> None:
    with pytest.raises(InputError, match="flash address the image is written to"):
        to_elf(Image.open(FIXTURES / "esp8266-rboot-rom0.bin"))


def test_esp8266_flash_without_an_app_is_refused() -> None:
    data = bytearray((FIXTURES / "esp8266-nonos-flash-512K.bin").read_bytes())
    image = Image.from_bytes(data)
    for region in image.regions:
        if region.name in ("user1", "user2"):
            data[region.offset:region.offset + region.size] = b"\xff" * region.size
    with pytest.raises(InputError, match="no app images"):
        to_elf(Image.from_bytes(bytes(data), path="flash.bin"))


def test_several_apps_are_refused_naming_the_choices() -> None:
    with pytest.raises(InputError, match="--partition: boot, user1, user2"):
        to_elf(Image.open(FIXTURES / "esp8266-nonos-flash-512K.bin"))
    assert to_elf(Image.open(FIXTURES / "esp8266-nonos-flash-512K.bin"), "user1").name == "user1"


def test_unknown_partition_names_the_choices() -> None:
    with pytest.raises(InputError, match="choose one of bootloader, factory"):
        to_elf(Image.open(FIXTURES / "firmware-esp32-4MB.bin"), "nvs")


def test_damaged_and_truncated_images_are_refused() -> None:
    data = bytearray((FIXTURES / "esp32-bootloader.bin").read_bytes())
    data[0x40] ^= 0xFF
    with pytest.raises(VerificationFailed, match="damaged"):
        to_elf(Image.from_bytes(bytes(data)))
    app = (FIXTURES / "esp32-app.bin").read_bytes()
    with pytest.raises((FormatError, InputError)):
        to_elf(Image.from_bytes(app[:0x2000]))


def test_not_an_image_is_refused() -> None:
    with pytest.raises(InputError, match="converts an app or bootloader"):
        to_elf(Image.open(FIXTURES / "otadata-ota0.bin"))


def test_written_elf_is_read_back_and_compared() -> None:
    result = to_elf(Image.open(FIXTURES / "esp32-app.bin"))
    check_written(result.data, result.program)
    changed = bytearray(result.data)
    first = result.program.segments[0]
    at = result.data.index(first.data)
    changed[at] ^= 1
    with pytest.raises(VerificationFailed, match="does not read back as"):
        check_written(bytes(changed), result.program)
    with pytest.raises(VerificationFailed, match="does not read back"):
        check_written(result.data[:100], result.program)


def test_own_reader_refuses_damaged_elf() -> None:
    data = ElfProgram(EM_XTENSA, 0x300, 0x40080000,
                      (ElfSegment(0x40080000, b"\x01\x02\x03\x04", ".iram0.text", 5),)).to_bytes()
    assert ElfProgram.from_bytes(data).segments[0].section == ".iram0.text"
    with pytest.raises(FormatError):
        ElfProgram.from_bytes(b"\x7fELF\x02" + data[5:])  # ELFCLASS64
    with pytest.raises(FormatError):
        ElfProgram.from_bytes(data[:60])  # the program header is cut off
    with pytest.raises(FormatError):
        ElfProgram.from_bytes(b"MZ" + data[2:])


def test_arduino_3x_sketch_is_judged_as_its_loader_judges_it() -> None:
    """elf2bin stores its length and CRC inside a 3.x sketch after the XOR checksum: the
    file's checks count those words as zero, so the sketch is intact and converts."""
    image = Image.open(FIXTURES / "esp8266-arduino-core3.bin")
    result = to_elf(image)
    assert result.name == "app" and result.program.segments
    assert to_elf(image, "eboot").program.entry
