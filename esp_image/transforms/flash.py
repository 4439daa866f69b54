"""Flash parameters (size, mode, frequency) in ESP32-family image headers.

Header byte 2 is the SPI mode and byte 3 the size (high nibble) and clock (low nibble). The
XOR checksum does not cover the header, the appended SHA-256 does, and a Secure Boot signature
covers both: so an edit recomputes the SHA-256 and is refused on a signed image
(esp32-image.md §9). The runtime flash size comes from the bootloader's header (§7.3); apps are
patched too so that their headers agree (they matter with CONFIG_SPI_FLASH_SIZE_OVERRIDE and, on
ESP32, for mode and clock).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import chips
from ..errors import InputError, LayoutError, UnsupportedChip, UsageError
from ..formats.compiled import esp32_image as fmt
from ..units import format_size, parse_size

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from ..app_image import AppImage
    from ..image import Image

_MODE_CODES = {name: code for code, name in fmt.SPI_MODES.items()}


@dataclass(frozen=True)
class FlashParams:
    """Requested header values; None leaves a field as it is."""

    size: int | None = None
    mode: str | None = None
    freq: str | None = None

    @classmethod
    def parse(cls, size: str | int | None = None, mode: str | None = None,
              freq: str | None = None) -> FlashParams:
        """Parse CLI-style values (``8MB``, ``dio``, ``80m``)."""
        size_bytes = parse_size(size) if isinstance(size, str) else size
        if mode is not None and mode.lower() not in _MODE_CODES:
            raise UsageError(f"unknown flash mode {mode!r}; choose one of "
                              f"{', '.join(list(_MODE_CODES)[:4])}")
        return cls(size_bytes, mode.lower() if mode else None, freq.lower() if freq else None)

    @property
    def empty(self) -> bool:
        """Whether nothing was requested."""
        return self.size is None and self.mode is None and self.freq is None


def size_code(size: int, chip: chips.Chip) -> int:
    """The header nibble for ``size`` on ``chip``.

    Raises:
        LayoutError: the size is not a power of two from 1MB to 128MB, or exceeds the chip.
    """
    codes = {v: k for k, v in chips.ESP32_FLASH_SIZES.items()}
    if size not in codes:
        raise UsageError(f"flash size {format_size(size)} cannot be encoded in the image "
                          "header: use a power of two from 1MB to 128MB")
    if size > chip.max_flash:
        raise LayoutError(f"{chip.title} addresses at most {format_size(chip.max_flash)} of "
                          f"flash, not {format_size(size)}")
    return codes[size]


def patch_image(app: AppImage, params: FlashParams) -> bytes:
    """The image with new header flash parameters and its SHA-256 recomputed.

    Raises:
        LayoutError: the image is signed (the edit would break the signature), truncated, of
            an unknown chip, or a value cannot be encoded.
    """
    if app.chip is None:
        raise UnsupportedChip(f"unknown chip id {app.header.chip_id:#x}: cannot encode flash "
                              "parameters")
    if app.is_signed and app.signature is not None:
        raise LayoutError(f"the {app.role} is signed ({app.signature.scheme}); changing its "
                          "header would break the signature. Re-sign it after the change "
                          "instead (espsecure), or flash it unchanged")
    if app.truncated:
        raise LayoutError(f"the {app.role} image is truncated; refusing to patch it")
    header = app.header
    if params.size is not None:
        header = header.replace(spi_size=size_code(params.size, app.chip))
    if params.mode is not None:
        header = header.replace(spi_mode=_MODE_CODES[params.mode])
    if params.freq is not None:
        header = header.replace(spi_speed=app.chip.freq_code(params.freq))
    return replace(app, header=header).to_bytes()


def describe_change(app: AppImage, params: FlashParams, name: str) -> str:
    """One line saying what :func:`patch_image` changes."""
    parts = []
    if params.size is not None:
        parts.append(f"size {app.flash_size_name} -> {format_size(params.size)}")
    if params.mode is not None:
        parts.append(f"mode {app.header.flash_mode} -> {params.mode}")
    if params.freq is not None:
        parts.append(f"freq {app.flash_freq} -> {params.freq}")
    sha = ", SHA-256 recomputed" if app.header.hash_appended == 1 else ""
    return f"{name}: {', '.join(parts)}{sha}"


def set_flash_params(image: Image, params: FlashParams) -> tuple[bytes, list[str]]:
    """Apply ``params`` to a bare ESP32-family image or to every image in a flash file.

    In a flash file the bootloader is patched (it sets the flash size the system uses) and so
    is every app image found (signed apps are left as they are, with a note). A new size that
    leaves a partition past the end of flash is refused: the bootloader would reject the table.

    Returns:
        The new file bytes and one line per change.
    """
    if params.empty:
        raise UsageError("nothing to change: give --size, --mode and/or --freq")
    from ..app_image import AppImage

    is_app = image.kind == "image" and isinstance(image.firmware, AppImage)
    if not is_app and (image.kind != "flash" or image.bootloader is None or image.base is None):
        # Before the damage check: a file that is no firmware at all is not "damaged".
        raise InputError(f"{image.path or 'input'} is {image.kind}: flash-params needs an "
                         "ESP32-family image or a flash file with a bootloader")
    damaged = [c for c in image.checks if not c.valid and c.name != "layout"]
    if damaged:
        # The edit recomputes the SHA-256 (and the rebuild the checksum): writing it would
        # hide the damage under fresh, valid-looking digests.
        raise LayoutError("the input is damaged (" + "; ".join(
            f"{c.name}: {c.detail}" for c in damaged) + "); refusing to recompute its hashes "
            "over it. Fix or rebuild it first (esp-image verify)")
    if isinstance(image.firmware, AppImage) and is_app:
        app = image.firmware
        body = patch_image(app, params)
        return body + bytes(image.data[app.end:]), [describe_change(app, params, app.role)]
    boot = image.bootloader
    assert boot is not None and image.base is not None  # refused above otherwise
    out = bytearray(image.data)
    start = image.bootloader_file_offset
    out[start:start + boot.end] = patch_image(boot, params)
    actions = [describe_change(boot, params, "bootloader")]
    if params.size is not None and image.table is not None:
        late = [p for p in image.table.partitions if p.end > params.size]
        if late:
            names = ", ".join(f"{p.name} (ends {p.end:#x})" for p in late)
            raise LayoutError(f"{format_size(params.size)} is too small for the partition "
                              f"table: {names}; the bootloader would reject the whole table. "
                              "Use retable to change the table as well")
    for content in image.apps:
        found = content.image
        if found is None:
            continue
        if found.is_signed:
            actions.append(f"{content.partition.name}: signed app left unchanged")
            continue
        at = content.partition.offset - image.base
        out[at:at + found.end] = patch_image(found, params)
        actions.append(describe_change(found, params, content.partition.name))
    return bytes(out), actions

