"""Flash parameters (size, mode, frequency): one encoder and one transform for every chip.

Header byte 2 is the SPI mode and byte 3 the size (high nibble) and clock (low nibble), on the
ESP32 family (esp32-image.md §7.3) as on the ESP8266 v1/v2/v3 headers (esp8266.md §2.1); only
the size table differs (ESP32 family: 1MB << n; ESP8266: the NONOS flash maps). :func:`encode`
turns a request into those two bytes for one chip, and is the only place that does:
``flash-params``, ``retable`` and ``merge`` all go through it, so an impossible value gets one
refusal (:class:`~esp_image.errors.UsageError`, exit 2) with one wording.

On the ESP32 family the XOR checksum does not cover the header, the appended SHA-256 does, and
a Secure Boot signature covers both: so an edit recomputes the SHA-256 and is refused on a
signed image (esp32-image.md §9). The runtime flash size comes from the bootloader's header
(§7.3); apps are patched too so that their headers agree (they matter with
CONFIG_SPI_FLASH_SIZE_OVERRIDE and, on ESP32, for mode and clock).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import chips
from ..errors import InputError, LayoutError, UnsupportedChip, UsageError
from ..formats.compiled import esp8266 as esp8266_fmt
from ..units import format_size, parse_size
from . import TransformResult

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from ..app_image import AppImage
    from ..esp8266 import FlashMap
    from ..image import Image

MODE_CODES: dict[str, int] = {name: code for code, name in esp8266_fmt.FLASH_MODES.items()}
"""The header byte 2 values esptool writes (``cmds.FLASH_MODES``), the same on every chip."""
SIZE_TABLES = ("esp8266", "esp32")
_KEEP = ("keep", "")
# Spellings of the ESP8266 clocks that esptool 1.x and the SDK documentation use.
_FREQ_ALIASES = {"26.7m": "26m"}


def _given(value: str | None) -> str | None:
    if value is None or value.strip().lower() in _KEEP:
        return None
    return value.strip().lower()


def _size_given(size: str | int | FlashMap | None) -> int | str | FlashMap | None:
    """A size as bytes where the text is a plain size, else the text (an ESP8266 map name).

    esptool 1.x ESP8266 names such as ``32m`` count megabits (esp8266.md §2.1), so a
    lowercase ``m`` stays text for the chip's size table to read.
    """
    if not isinstance(size, str):
        return size
    text = size.strip()
    if text.lower() in _KEEP:
        return None
    if text.endswith("m"):
        return text
    try:
        return parse_size(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class FlashParams:
    """Requested header values; None leaves a field as it is.

    Attributes:
        size: bytes, or the size as text (``8MB``; on the ESP8266 also a map such as
            ``4MB-c1``): what it encodes to depends on the chip (:func:`size_code`).
        mode: ``qio``, ``qout``, ``dio`` or ``dout``.
        freq: the flash clock (``80m``); which ones exist depends on the chip.
    """

    size: int | str | FlashMap | None = None
    mode: str | None = None
    freq: str | None = None

    @classmethod
    def parse(cls, size: str | int | FlashMap | None = None, mode: str | None = None,
              freq: str | None = None) -> FlashParams:
        """CLI-style values (``8MB``, ``dio``, ``80m``); ``keep`` or empty leaves a field.

        Raises:
            UsageError: an unknown mode (sizes and clocks are checked against the chip).
        """
        params = cls(_size_given(size), _given(mode), _given(freq))
        if params.mode is not None:
            mode_code(params.mode)
        return params

    @property
    def empty(self) -> bool:
        """Whether nothing was requested."""
        return self.size is None and self.mode is None and self.freq is None

    def size_bytes(self, chip: chips.Chip) -> int | None:
        """The requested flash size in bytes on ``chip`` (None: keep the size)."""
        if self.size is None:
            return None
        if chip.chip_id is None:
            return esp8266_flash_map(self.size).size
        return chips.ESP32_FLASH_SIZES[size_code(self.size, chip)]


def mode_code(mode: str) -> int:
    """Header byte 2 for a flash mode such as ``dio``.

    Raises:
        UsageError: not one of qio, qout, dio, dout.
    """
    try:
        return MODE_CODES[mode.strip().lower()]
    except KeyError:
        raise UsageError(f"unknown flash mode {mode!r}; choose one of "
                         f"{', '.join(MODE_CODES)}") from None


def freq_code(freq: str, chip: chips.Chip) -> int:
    """Header byte 3's low nibble for a flash clock such as ``80m`` on ``chip``.

    Raises:
        UsageError: the chip has no such clock.
    """
    wanted = freq.strip().lower()
    try:
        return chip.freq_code(_FREQ_ALIASES.get(wanted, wanted))
    except UnsupportedChip as exc:
        raise UsageError(str(exc)) from None


def esp8266_flash_map(size: str | int | FlashMap) -> FlashMap:
    """The NONOS flash map a size means (``4MB-c1``, ``1MB``, legacy ``32m-c1``, bytes).

    Raises:
        UsageError: not an ESP8266 flash size, ``detect``, or a map the SDK does not support.
    """
    from ..esp8266 import FlashMap, parse_esp8266_flash_size

    if isinstance(size, FlashMap):
        fmap = size
    else:
        text = hex(size) if isinstance(size, int) else size
        if text.strip().lower() == "detect":
            raise UsageError("flash size 'detect' needs a device; give a size such as 4MB-c1")
        try:
            fmap = parse_esp8266_flash_size(text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if not fmap.supported:
        raise UsageError(f"flash size {fmap.name} ({fmap.sdk_map}) is not supported by the SDK "
                         "or current esptool; use 4MB-c1 or 4MB")
    return fmap


def _esp32_size(size: str | int | FlashMap, chip: chips.Chip) -> int:
    """Bytes of a size meant for the ESP32-family table."""
    if chip.chip_id is None:
        # An ESP8266 v3 app written with the ESP32 table: sizes are still ESP8266 names.
        fmap = esp8266_flash_map(size)
        if "-c" in fmap.name:
            raise UsageError(f"{fmap.name} is an ESP8266 map name; the ESP32 size table has "
                             "only plain sizes (1MB, 2MB, 4MB, ...)")
        return fmap.size
    if isinstance(size, int):
        return size
    if not isinstance(size, str):
        return size.size
    try:
        return parse_size(size)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_size_table(table: str) -> None:
    """Refuse a size table name other than ``esp8266`` and ``esp32``."""
    if table not in SIZE_TABLES:
        raise UsageError(f"size_table must be 'esp8266' or 'esp32', not {table!r}")


def size_code(size: str | int | FlashMap, chip: chips.Chip, *, table: str | None = None) -> int:
    """Header byte 3's high nibble for ``size`` on ``chip``.

    ``table`` picks the size table: ``esp8266`` (the NONOS maps, the default on the ESP8266)
    or ``esp32`` (1MB << n, the default elsewhere; ESP8266 RTOS SDK v3 apps use either).

    Raises:
        UsageError: the size has no code in the table, or is more than the chip addresses.
    """
    if table is not None:
        check_size_table(table)
    if (table or ("esp8266" if chip.chip_id is None else "esp32")) == "esp8266":
        return esp8266_flash_map(size).code
    nbytes = _esp32_size(size, chip)
    codes = {v: k for k, v in chips.ESP32_FLASH_SIZES.items()}
    if nbytes not in codes:
        why = "" if nbytes > 0 and nbytes & (nbytes - 1) == 0 else \
            f" ({nbytes:#x} bytes is not a power of two)"
        raise UsageError(f"flash size {format_size(nbytes)}{why} cannot be encoded in the "
                         "image header: use a power of two from 1MB to 128MB")
    if nbytes > chip.max_flash:
        raise UsageError(f"flash size {format_size(nbytes)} is larger than the "
                         f"{format_size(chip.max_flash)} the {chip.title} addresses")
    return codes[nbytes]


def encode(params: FlashParams, chip: chips.Chip, mode_byte: int, size_freq: int, *,
           table: str | None = None) -> tuple[int, int]:
    """New header bytes 2 and 3 for ``params`` on ``chip``, from the current ones.

    Raises:
        UsageError: a value the chip's header cannot hold (:func:`size_code`,
            :func:`mode_code`, :func:`freq_code`).
    """
    mode = mode_byte if params.mode is None else mode_code(params.mode)
    size = size_freq >> 4 if params.size is None else size_code(params.size, chip, table=table)
    freq = size_freq & 0xF if params.freq is None else freq_code(params.freq, chip)
    return mode, size << 4 | freq


def patch_image(app: AppImage, params: FlashParams) -> bytes:
    """The image with new header flash parameters and its SHA-256 recomputed.

    Raises:
        LayoutError: the image is signed (the edit would break the signature) or truncated.
        UnsupportedChip: the image is for an unknown chip.
        UsageError: a value cannot be encoded for the image's chip.
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
    mode, size_freq = encode(params, app.chip, header.spi_mode,
                             header.spi_size << 4 | header.spi_speed)
    header = header.replace(spi_mode=mode, spi_size=size_freq >> 4, spi_speed=size_freq & 0xF)
    return replace(app, header=header).to_bytes()


def describe_change(app: AppImage, params: FlashParams, name: str) -> str:
    """One line saying what :func:`patch_image` changes."""
    assert app.chip is not None  # patch_image refuses an unknown chip first
    parts = []
    size = params.size_bytes(app.chip)
    if size is not None:
        parts.append(f"size {app.flash_size_name} -> {format_size(size)}")
    if params.mode is not None:
        parts.append(f"mode {app.header.flash_mode} -> {params.mode}")
    if params.freq is not None:
        parts.append(f"freq {app.flash_freq} -> {params.freq}")
    sha = ", SHA-256 recomputed" if app.header.hash_appended == 1 else ""
    return f"{name}: {', '.join(parts)}{sha}"


def set_flash_params(image: Image, params: FlashParams) -> TransformResult:
    """Apply ``params`` to a bare image or to every image in a flash file, of any chip.

    ESP8266 files go to :func:`~esp_image.transforms.esp8266.set_esp8266_flash_params` (the
    image at 0x0). In an ESP32-family flash file the bootloader is patched (it sets the flash
    size the system uses) and so is every app image found (signed apps are left as they are,
    with a note). A new size that leaves a partition past the end of flash is refused: the
    bootloader would reject the table.

    Raises:
        UsageError: nothing asked, or a value the chip's header cannot hold.
        InputError: the file holds no image whose header could take the values.
        LayoutError: the input is damaged, signed, or the table would not fit the new size.
    """
    if params.empty:
        raise UsageError("nothing to change: give --size, --mode and/or --freq")
    if image.esp8266 is not None or (image.chip is not None and image.chip.chip_id is None):
        return _set_esp8266(image, params)
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
        return TransformResult(body + bytes(image.data[app.end:]),
                               (describe_change(app, params, app.role),))
    return _set_flash_file(image, params)


def _set_esp8266(image: Image, params: FlashParams) -> TransformResult:
    from .esp8266 import set_esp8266_flash_params

    data = set_esp8266_flash_params(bytes(image.data), size=params.size, mode=params.mode,
                                    freq=params.freq)
    size = format_size(params.size) if isinstance(params.size, int) else params.size
    asked = (("size", size), ("mode", params.mode), ("freq", params.freq))
    return TransformResult(data, ("ESP8266 header: " + ", ".join(
        f"{k} {v}" for k, v in asked if v is not None),))


def _set_flash_file(image: Image, params: FlashParams) -> TransformResult:
    boot = image.bootloader
    assert boot is not None and image.base is not None  # set_flash_params refused otherwise
    out = bytearray(image.data)
    start = image.bootloader_file_offset
    out[start:start + boot.end] = patch_image(boot, params)
    actions = [describe_change(boot, params, "bootloader")]
    assert boot.chip is not None  # patch_image refuses an unknown chip
    size = params.size_bytes(boot.chip)
    if size is not None and image.table is not None:
        late = [p for p in image.table.partitions if p.end > size]
        if late:
            names = ", ".join(f"{p.name} (ends {p.end:#x})" for p in late)
            raise LayoutError(f"{format_size(size)} is too small for the partition "
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
    return TransformResult(bytes(out), tuple(actions))
