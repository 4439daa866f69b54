"""The ESP8266 parts of ``esp-image info``: plain blocks and tables.

:func:`esp_image.cli.render.describe` is the one description of a file; these are the blocks it
takes from here for ESP8266 files (data only: :class:`~esp_image.cli.render.Table` and strings).
"""

from __future__ import annotations

from ..esp8266 import Esp8266Image
from .render import Block, Table, hex_size

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost

if TYPE_CHECKING:
    from ..esp8266 import FlashMap
    from ..image import Image

_SHAPES = {
    "image": "image",
    "nonos-flash": "NONOS SDK flash (boot.bin + user bins + system areas)",
    "rboot-flash": "rBoot flash (rBoot + config sector + ROM slots)",
    "micropython": "MicroPython firmware (v1 image + irom at 0x9000 + MD5)",
    "noboot": "noboot combined firmware (v1 image + irom)",
    "nodemcu": "NodeMCU combined firmware (v1 image + irom at 0x10000)",
    "arduino": "Arduino-ESP8266 firmware (eboot at 0x0, sketch at 0x1000)",
    "yaota8266-bundle": "yaota8266.bin (boot8266 + ota-server)",
    "yaota8266-initial": "yaota8266 initial image (yaota8266.bin + main app at 0x3c000)",
    "yaota8266-main-app": "MicroPython firmware-ota.bin (yaota8266 main app)",
    "rtos-sdk-flash": "ESP8266 RTOS SDK flash (bootloader + partition table + apps)",
    "init-data": "esp_init_data_default (RF/PHY init data)",
    "rboot-config": "rBoot config sector",
    "irom": "raw irom0 code",
    "unknown": "unrecognised data",
}


def esp8266_title(image: Image) -> str:
    """The line naming an ESP8266 file's layout (after the path line)."""
    img = image.firmware
    if image.kind == "image" and isinstance(img, Esp8266Image):
        what = f"ESP8266 {img.role} image ({img.format}"
        what += f", {img.variant}" if img.variant else ""
        what += f", {img.bootloader_name}" if img.bootloader_name else ""
        return what + ")"
    base = f", file byte 0 = flash {image.base:#x}" if image.kind == "flash" else ""
    shape = image.shape or "unknown"
    return f"ESP8266 {_SHAPES.get(shape, shape)}{base}"


def esp8266_blocks(image: Image) -> list[Block]:
    """The ESP8266 part of ``info``: the image, the flash map, the regions, the details."""
    blocks: list[Block] = []
    if isinstance(image.firmware, Esp8266Image):
        blocks.extend(describe_image(image.firmware))
    # The NONOS map (boot, user1, user2) is not how an Arduino build uses the flash.
    if image.flash_map is not None and image.shape != "arduino":
        blocks.append(flash_map_table(image.flash_map))
    if image.regions and image.kind != "image":
        regions = Table("Regions", ["Offset", "Address", "Size", "Kind", "Name", "Detail"],
                        align="rrrlll")
        for r in image.regions:
            regions.rows.append([f"{r.offset:#x}", f"{r.address:#x}", hex_size(r.size), r.kind,
                                 r.name, r.detail])
        blocks.append(regions)
    blocks.extend(_details(image))
    return blocks


def describe_image(img: Esp8266Image, title: str = "Image") -> list[Block]:
    """Field table and segment table of one ESP8266 image."""
    kv = Table(title, ["Field", "Value"])
    rows = kv.rows
    rows.append(["Chip", "ESP8266"])
    fmt_text = img.format
    if img.variant == "gen_appbin":
        fmt_text += f" (Espressif gen_appbin, user{img.user}.bin marker in EA byte 3)"
    elif img.variant == "esptool":
        fmt_text += " (esptool: flash parameters in EA bytes 2-3)"
    rows.append(["Format", fmt_text])
    role = img.role
    if img.bootloader_name:
        role += f": {img.bootloader_name}"
        if img.bootloader_version and img.bootloader_version not in img.bootloader_name:
            role += f" ({img.bootloader_version})"
    rows.append(["Role", role])
    size = img.flash_size_name
    if img.flash_size_ambiguous:
        size += " (ambiguous: the RTOS SDK writes ESP32 size codes; see the bootloader)"
    rows.append(["Flash", f"size {size}, mode {img.flash_mode}, freq {img.flash_freq} "
                 f"(byte 3 = {img.flash_size_freq:#04x})"])
    rows.append(["Entry", f"{img.entry:#010x}"])
    rows.append(["Length", hex_size(img.length)])
    if img.v2_header is not None:
        addr = f", runs at {img.irom_address:#x}" if img.irom_address is not None else ""
        rows.append(["irom", f"{img.irom_size or 0:#x} bytes at image offset 0x10{addr}"])
        rows.append(["Inner image", f"at image offset {img.header_offset:#x}"])
    rows += _integrity_rows(img)
    rows.extend(["Problem", p] for p in img.problems)
    rows.extend(["Warning", w] for w in img.warnings)
    segs = Table(f"{title} segments", ["#", "Address", "Size", "Offset", "Region"],
                 align="rrrrl")
    for i, s in enumerate(img.segments):
        region = "/".join(_region(s.load_addr))
        segs.rows.append([str(i), f"{s.load_addr:#010x}", f"{s.data_len:#x}", f"{s.offset:#x}",
                          region])
    return [kv, segs]


def _integrity_rows(img: Esp8266Image) -> list[list[str]]:
    """Checksum, CRC32 trailer and SHA-256: stored, and whether each matches."""
    rows = []
    if img.stored_checksum is not None:
        rows.append(["Checksum", f"{img.stored_checksum:#04x} "
                     + ("(valid)" if img.checksum_valid else
                        f"(INVALID, computed {img.computed_checksum:#04x})")])
    status = img.crc32_status
    if status == "absent":
        rows.append(["CRC32", "absent (older esptool / esp-open-rtos; the SDK OTA check needs "
                     "it, the bootloaders do not)"])
    elif status is not None:
        rows.append(["CRC32", f"{img.stored_crc32 or 0:#010x} "
                     + ("(valid)" if status == "valid" else
                        f"(INVALID, computed {img.computed_crc32 or 0:#010x})")])
    if img.stored_sha256 is not None:
        rows.append(["SHA-256", f"{img.stored_sha256.hex()} "
                     + ("(valid)" if img.sha256_valid else "(INVALID)")])
    return rows


def _region(addr: int) -> tuple[str, ...]:
    from .. import chips
    from ..formats.compiled import esp8266 as fmt

    if fmt.IROM_MAP_START <= addr < fmt.IROM_MAP_END:
        return ("IROM",)
    return chips.memory_regions("esp8266", addr)


def flash_map_table(fmap: FlashMap) -> Table:
    """The flash map the header declares: where each part goes (esptool write-flash)."""
    title = f"Flash map declared by the header: {fmap.title}, map {fmap.code} ({fmap.sdk_map})"
    if not fmap.supported:
        title += ", NOT SUPPORTED by current esptool/SDK"
    table = Table(title, ["Part", "Address", "Size", "What to write there"], align="lrrl")
    for name, addr, size, what in fmap.addresses():
        table.rows.append([name, f"{addr:#x}", hex_size(size), what])
    return table


def _details(finding: Image) -> list[Block]:
    blocks: list[Block] = []
    d = finding.details
    params = d.get("system_params")
    if isinstance(params, dict):
        boot = params.get("boot_hdr")
        t = Table("System parameters (inferred: boot_v1.x is closed source)",
                  ["Field", "Value"])
        t.rows.append(["Flag", f"{params.get('flag')} → live copy {params.get('live_copy')}"])
        if isinstance(boot, dict):
            t.rows.append(["boot_hdr", ", ".join(f"{k}={v}" for k, v in boot.items())])
        t.rows.append(["Next boot", str(params.get("next_user_bin"))])
        blocks.append(t)
    init = d.get("init_data")
    if isinstance(init, dict):
        blocks.append(f"init data: version {init.get('version')}, vdd33_const "
                      f"{init.get('vdd33_const')} (ADC reads {init.get('adc_mode')})")
    rcfg = d.get("rboot_config")
    if isinstance(rcfg, dict):
        roms = rcfg.get("roms")
        rom_text = ", ".join(hex(r) for r in roms) if isinstance(roms, list) else "?"
        blocks.append(f"rBoot config: current_rom {rcfg.get('current_rom')}, "
                      f"{rcfg.get('count')} ROMs at {rom_text}, mode {rcfg.get('mode_names')}")
    rboot_boot = d.get("rboot_boot")
    if isinstance(rboot_boot, dict):
        blocks.append(f"rBoot boots: slot {rboot_boot.get('slot')} ({rboot_boot.get('reason')})")
    b8266 = d.get("boot8266")
    if isinstance(b8266, dict):
        blocks.append("boot8266: " + ", ".join(f"{k} {v}" for k, v in b8266.items()))
    arduino = d.get("arduino")
    if isinstance(arduino, dict):
        version = arduino.get("core_version")
        release = arduino.get("core_release")
        blocks.append(f"Arduino-ESP8266: {arduino.get('generation')}"
                      + (f", core_version {version:#010x}" if isinstance(version, int) and version
                         else "") + (f" (release {release})" if release else ""))
    app = d.get("main_app")
    if isinstance(app, dict):
        blocks.append(f"yaota8266 main app: {app.get('verdict')}")
    return blocks


__all__ = ["describe_image", "esp8266_blocks", "esp8266_title", "flash_map_table"]
