"""An app or bootloader, bare or picked from a merged file or dump, as an ELF32 executable.

Which image: a bare image is used as it is; from an ESP32-family flash file, ``partition``
names an app partition or ``bootloader``, and without it the app the bootloader would boot
(the boot answer, :mod:`esp_image.boot`) is used; from an ESP8266 flash file, ``partition``
names a region (``user1``, ``rom0``, ``app`` ...) and without it the one app there is used.
ESP8266 code that runs from flash (irom0) is loaded at its mapped address, 0x40200000 plus its
flash offset: a v2 image's irom part where the image is flashed, and a v1 image's separate
irom0 part (NONOS ``eagle.irom0text.bin`` at 0x10000 -> 0x40210000, MicroPython's at 0x9000).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FormatError, InputError, TruncatedError, VerificationFailed
from . import TransformResult

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from ..app_image import AppImage
    from ..elf import ElfProgram
    from ..esp8266 import Esp8266Image
    from ..image import Image
    from ..spans import Region

_ARCH = {"xtensa": "Xtensa", "riscv": "RISC-V"}


@dataclass(frozen=True, kw_only=True)
class ElfConversion(TransformResult):
    """The ELF file (``data``) and what it holds.

    Attributes:
        name: what was converted: ``app``, ``bootloader``, or the partition or region name.
        program: the ELF's machine, flags, entry point and segments.
    """

    name: str
    program: ElfProgram


def to_elf(image: Image, partition: str | None = None) -> ElfConversion:
    """Convert the app or bootloader ``image`` holds (see the module docstring).

    Raises:
        InputError: no image to convert, an unknown ``partition``, or a flash file with
            several apps and no ``partition`` (the message lists the choices).
        FormatError: the image is truncated or its structure is damaged.
        VerificationFailed: the image fails an integrity check (checksum, SHA-256 ...).
    """
    from ..elf import program

    chip = image.chip
    img: AppImage | Esp8266Image
    extra: tuple[tuple[int, bytes], ...] = ()
    if image.esp8266 is not None:
        name, img, extra = _pick_esp8266(image, partition)
    else:
        name, img = _pick_esp32(image, partition)
    if chip is None:
        chip = img.chip
    if chip is None:
        raise InputError(f"{_where(image)}the {name} image names no chip (use --chip)")
    _refuse_damaged(image, img, name)
    prog = program(img, chip, extra=extra)
    skipped = sum(1 for s in img.segments if s.load_addr == 0)
    notes = [f"{chip.title} {name}: {_ARCH[prog.architecture]} ELF (e_machine "
             f"{prog.machine}, e_flags {prog.flags:#x}), entry {prog.entry:#x}, "
             f"{len(prog.segments)} segments"]
    notes += [f"{seg.section} at {seg.address:#x}, {len(seg.data):#x} bytes"
              for seg in prog.segments]
    if skipped:
        notes.append(f"{skipped} padding segment{'s' * (skipped > 1)} at address 0 left out "
                     f"(no loader loads {'them' if skipped > 1 else 'it'})")
    what = name if image.kind == "image" else f"{name!r}"
    if partition is None and image.kind == "flash":
        what += (", the app the bootloader boots," if image.esp8266 is None
                 else ", the only app in the file,")
    return ElfConversion(data=prog.to_bytes(), actions=(f"converted {what} to ELF",),
                         notes=tuple(notes), name=name, program=prog)


def default_elf_name(path: str, image: Image, name: str) -> str:
    """``app.bin`` -> ``app.elf`` for a bare image; ``firmware.bin`` -> ``firmware-NAME.elf``
    for the part ``name`` of a flash file."""
    import os

    from ..io import output_name
    from .extract import default_extract_name

    if image.kind == "image":
        return output_name(path, "", suffix=".elf")
    # Named as extract names the part (a label may hold any character), with .elf.
    return os.path.splitext(default_extract_name(path, name))[0] + ".elf"


def check_written(data: bytes, expected: ElfProgram) -> None:
    """Read a written ELF back and compare every segment's address and bytes with
    ``expected`` (what the image holds).

    Raises:
        VerificationFailed: it does not read back as the same program.
    """
    from ..elf import ElfProgram

    try:
        back = ElfProgram.from_bytes(data)
    except FormatError as exc:
        raise VerificationFailed(f"the ELF written does not read back: {exc}") from None
    if back != expected:
        raise VerificationFailed("the ELF written does not read back as the image's segments")


# ---------------------------------------------------------------------- ESP32 family
def _pick_esp32(image: Image, partition: str | None) -> tuple[str, AppImage]:
    from ..app_image import AppImage

    if image.kind == "image" and isinstance(image.firmware, AppImage):
        role = image.firmware.role
        if partition not in (None, "app", "image", role):
            raise InputError(f"{_where(image)}is a single {role} image, not a flash file; it "
                             f"has no {partition!r}")
        return (role if role != "unknown" else "image"), image.firmware
    if image.kind != "flash":
        raise InputError(f"{_where(image)}is {_kind_text(image)}; esp-image elf converts an "
                         "app or bootloader image, bare or in a merged firmware file or dump")
    if partition == "bootloader":
        if image.bootloader is None:
            raise InputError(f"{_where(image)}holds no valid bootloader; it has "
                             f"{_esp32_choices(image)}")
        return "bootloader", image.bootloader
    name = partition or _booting(image)
    for content in image.apps:
        if content.partition.name == name:
            if content.image is None:
                raise InputError(f"{_where(image)}partition {name!r} holds no app image "
                                 f"({content.state}); it has {_esp32_choices(image)}")
            return name, content.image
    raise InputError(f"{_where(image)}has no app partition {name!r}; choose one of "
                     f"{_esp32_choices(image)}")


def _booting(image: Image) -> str:
    """The partition of the app the bootloader would boot, or a refusal naming the choices."""
    boot = image.boot
    target = boot.target if boot is not None else "none"
    for content in image.apps:
        if content.partition.subtype_name == target and content.image is not None:
            return content.partition.name
    lone = [c.partition.name for c in image.apps if c.image is not None]
    if boot is None and len(lone) == 1:
        return lone[0]
    why = "no app boots" if boot is not None else "the file does not say which app boots"
    raise InputError(f"{_where(image)}{why}; name one with --partition: "
                     f"{_esp32_choices(image)}")


def _esp32_choices(image: Image) -> str:
    names = ["bootloader"] if image.bootloader is not None else []
    names += [c.partition.name for c in image.apps if c.image is not None]
    return ", ".join(names) if names else "nothing to convert"


# ---------------------------------------------------------------------- ESP8266
def _pick_esp8266(image: Image, partition: str | None
                  ) -> tuple[str, Esp8266Image, tuple[tuple[int, bytes], ...]]:
    from ..esp8266 import Esp8266Image

    if image.kind == "image" and isinstance(image.firmware, Esp8266Image):
        fw = image.firmware
        if partition not in (None, "app", "image", fw.role):
            raise InputError(f"{_where(image)}is a single ESP8266 {fw.role} image; it has no "
                             f"{partition!r}")
        return fw.role, fw, _v2_irom(image, fw, fw.role)
    if image.kind != "flash":
        raise InputError(f"{_where(image)}is {_kind_text(image)}; esp-image elf converts an "
                         "app or bootloader image, bare or in a flash file")
    images = _esp8266_images(image)
    if partition is None:
        apps = [n for n, (img, _) in images.items() if img.role == "app"]
        if len(apps) != 1:
            raise InputError(f"{_where(image)}holds {len(apps) or 'no'} app images; "
                             + (f"name one with --partition: {', '.join(images)}" if apps
                                else f"it has {', '.join(images) or 'no image at all'}"))
        partition = apps[0]
    if partition == "bootloader" and partition not in images:
        partition = next((n for n, (img, r) in images.items()
                          if img.role == "bootloader" and r.address == 0), partition)
    if partition not in images:
        raise InputError(f"{_where(image)}has no image {partition!r}; choose one of "
                         f"{', '.join(images) or 'nothing'}")
    img = images[partition][0]
    extra = _v2_irom(image, img, partition)
    irom = next((r for r in image.regions if r.name in ("irom0", f"{partition} irom0")), None)
    if img.v2_header is None and irom is not None and img.role == "app":
        extra = (_mapped(irom.address), bytes(image.data[irom.offset:irom.offset + irom.size])),
    return partition, img, extra


def _esp8266_images(image: Image) -> dict[str, tuple[Esp8266Image, Region]]:
    """The images of an ESP8266 flash file by region name (parsed at their flash address)."""
    from ..diff import _esp8266_model_image
    from ..errors import EspImageError
    from ..esp8266 import Esp8266Image

    found: dict[str, tuple[Esp8266Image, Region]] = {}
    for region in image.regions:
        if region.name.startswith("(") or image.data[region.offset] not in (0xE9, 0xEA):
            continue
        # The recognisers' model knows the role (a bootloader is told by its place); a part
        # they keep no Esp8266Image for (a yaota8266 main app) is parsed here.
        img = _esp8266_model_image(region.model)
        if img is None:
            try:
                img = Esp8266Image.from_bytes(image.data[region.offset:
                                                         region.offset + region.size],
                                              flash_offset=region.address)
            except EspImageError:
                continue
        if img.segments:
            found.setdefault(region.name, (img, region))
    return found


def _v2_irom(image: Image, img: Esp8266Image, name: str) -> tuple[tuple[int, bytes], ...]:
    """A v2 image's irom part at its run-time address (where the image is flashed)."""
    if img.v2_header is None or img.irom_offset is None or img.irom_size is None:
        return ()
    if img.irom_address is None:
        raise InputError(f"{_where(image)}the {name}'s irom0 code runs at 0x40200000 plus the "
                         "flash address the image is written to, which a bare esptool v2 "
                         "image does not state; convert it from the flash file that holds it")
    return (img.irom_address, bytes(img.data[img.irom_offset:img.irom_offset + img.irom_size])),


def _mapped(flash_address: int) -> int:
    from ..formats.compiled import esp8266 as fmt

    return fmt.IROM_MAP_START + flash_address % fmt.IROM_WINDOW


# ---------------------------------------------------------------------- shared
def _refuse_damaged(image: Image, img: AppImage | Esp8266Image, name: str) -> None:
    what = name if name in ("app", "bootloader", "image") else f"image {name!r}"
    if img.truncated:
        raise TruncatedError(f"{_where(image)}the {what} is truncated: the data ends inside "
                             "it (" + "; ".join(img.problems) + ")")
    # The file's checks over this image's bytes: they judge it as its loader does (an
    # Arduino 3.x sketch's checksum counts elf2bin's words as zero), which img.checks() alone
    # cannot; layout rules are about the table, not these bytes.
    start = img.flash_offset - (image.base or 0) if img.flash_offset is not None else 0
    failed = [c for c in image.checks if not c.valid and c.name != "layout"
              and start <= c.offset < start + max(img.end, 1)]
    if failed:
        detail = "; ".join(f"{c.name}: {c.detail}" for c in failed)
        raise VerificationFailed(f"{_where(image)}the {what} is damaged ({detail})")


def _where(image: Image) -> str:
    return f"{image.path}: " if image.path else "the input "


def _kind_text(image: Image) -> str:
    if image.kind == "image":
        return "an image without segments to load (" + (image.notes[0] if image.notes
                                                          else "no image header") + ")"
    if image.kind == "unknown":
        return "not a recognised firmware image" + (f" ({image.reason})" if image.reason
                                                    else "")
    return {"erased": "erased flash (all 0xFF)"}.get(image.kind, f"a {image.kind} file")


__all__ = ["ElfConversion", "check_written", "default_elf_name", "to_elf"]
