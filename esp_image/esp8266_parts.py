"""ESP8266 flash parts besides images: bootloader names, init data, system parameters.

The models of what a NONOS flash holds outside its images (esp8266.md §7, §9) and the
recognition of a v1 image as a known second-stage bootloader. Parsing is lenient, building
strict, as in :mod:`esp_image.esp8266`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import FormatError, TruncatedError
from .formats.compiled import esp8266 as fmt
from .spans import is_erased
from .units import SECTOR

_BOOT_VERSION = re.compile(rb"2nd boot version : (\d+\.\d+)")


def _bootloader_name(view: memoryview, length: int) -> tuple[str | None, str | None]:
    """Name a v1 image that is a known second-stage bootloader (strings and layout)."""
    body = bytes(view[:length])
    m = _BOOT_VERSION.search(body)
    if m:
        version = m.group(1).decode()
        full = body[m.start(1):m.start(1) + 24].split(b"\0", 1)[0].split(b"\n", 1)[0]
        return f"boot_v{version}", full.decode("ascii", "replace").strip() or version
    from .rboot import is_rboot, rboot_version

    if is_rboot(body):
        return "rboot", rboot_version(body)
    from .yaota8266 import Boot8266Params

    if Boot8266Params.from_image(body) is not None:
        return "boot8266", None
    if b"2nd stage bootloader" in body and b"ESP-IDF" in body:
        return "esp8266-rtos-sdk", None
    # Arduino eboot: elf2bin pads it with 0xAA to 4096 bytes; core 2.7.x then stores the file
    # length and CRC in the last 8 (esp_image.arduino).
    if length < 0xFF8 and len(view) >= 0x1000:
        pad = bytes(view[length:0xFF8])
        if pad == b"\xaa" * len(pad):
            return "eboot", None
    return None, None


# ====================================================================== init data
@dataclass(frozen=True)
class InitData:
    """``esp_init_data_default``: 128 bytes of RF/PHY parameters (esp8266.md §9).

    Attributes:
        raw: the 128 bytes.
        marker: byte 0 (0x05 in every SDK default).
        version: byte 1 (0x00 in v05, 0x08 in v08).
        vdd33_const: byte 107: 0xFF makes the ADC read VDD33; 18-36 give the supply voltage in
            0.1 V; any other value lets the ADC read the TOUT pin.
        rf_cal_mode: byte 114, the power-up RF calibration mode (inferred).
    """

    raw: bytes
    marker: int
    version: int
    vdd33_const: int
    rf_cal_mode: int

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, offset: int = 0) -> InitData:
        """Parse 128 bytes at ``data[offset:]``.

        Raises:
            FormatError: byte 0 is not 0x05 (not init data); TruncatedError: < 128 bytes.
        """
        c = fmt.InitData.parse(data, offset, "esp_init_data_default")
        if c.marker != fmt.INIT_DATA_MARKER:
            raise FormatError(f"byte 0 is {c.marker:#04x}, expected 0x05", offset,
                              "esp_init_data_default")
        raw = bytes(memoryview(data)[offset:offset + fmt.INIT_DATA_SIZE])
        return cls(raw, c.marker, c.version, c.vdd33_const, c.rf_cal_mode)

    @property
    def adc_mode(self) -> str:
        """What ``vdd33_const`` makes the ADC measure."""
        if self.vdd33_const == 0xFF:
            return "VDD33 (supply voltage)"
        if 18 <= self.vdd33_const <= 36:
            return f"TOUT pin; supply assumed {self.vdd33_const / 10:.1f} V"
        return "TOUT pin; supply assumed 3.3 V"

    def to_bytes(self) -> bytes:
        """Build the 128 bytes (byte 0/1/107/114 from the fields, the rest kept)."""
        kept = fmt.InitData.parse(self.raw, 0, "esp_init_data_default")
        return kept.replace(marker=self.marker, version=self.version,
                            vdd33_const=self.vdd33_const, rf_cal_mode=self.rf_cal_mode
                            ).build("esp_init_data_default")

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"marker": self.marker, "version": self.version,
                "vdd33_const": self.vdd33_const, "adc_mode": self.adc_mode,
                "rf_cal_mode": self.rf_cal_mode, "rf_cal_mode_inferred": True}


def looks_like_init_data(data: bytes | memoryview) -> bool:
    """128 bytes (or a 4 KiB sector starting with them, rest erased) beginning ``05 00..0F``."""
    view = memoryview(data)
    if len(view) == fmt.INIT_DATA_SIZE:
        pass
    elif len(view) == SECTOR:
        if not is_erased(view[fmt.INIT_DATA_SIZE:]):
            return False
    else:
        return False
    return view[0] == fmt.INIT_DATA_MARKER and view[1] <= 0x0F


# ====================================================================== system parameters
class BootHdr(fmt.BootHdr):
    """``struct boot_hdr``: the first 8 bytes of the live save sector (esp8266.md §7).

    The field layout is from Espressif's open ``port.c``; boot_v1.x itself is closed source.
    """

    __slots__ = ()
    NAME = "boot_hdr"

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, offset: int = 0) -> BootHdr:
        """Parse 8 bytes."""
        return cls.parse(data, offset)

    def to_bytes(self) -> bytes:
        """Build the 8 bytes."""
        return self.build()

    @property
    def running_user(self) -> int:
        """1 or 2: the user bin boot_v1.x runs, per port.c ``esp_get_updated_partition_table_addr``.

        usr_bin 1 + status 1 → user2; usr_bin 1 + status 0 → user1; other usr_bin + status 1 →
        user1; other usr_bin + status 0 → user1 if version == 4, else user2.
        """
        if self.usr_bin == 1:
            return 2 if self.boot_status == 1 else 1
        if self.boot_status == 1:
            return 1
        return 1 if self.version == 4 else 2

    @property
    def erased(self) -> bool:
        """Whether the record reads as erased flash."""
        return self.to_bytes() == b"\xff" * fmt.BootHdr.SIZE

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"usr_bin": self.usr_bin, "boot_status": self.boot_status,
                "to_qio": self.to_qio, "version": self.version,
                "test_pass_flag": self.test_pass_flag, "test_start_flag": self.test_start_flag,
                "enhance_boot_flag": self.enhance_boot_flag,
                "test_bin_addr": self.test_bin_addr, "user_bin_addr": self.user_bin_addr,
                "erased": self.erased}


@dataclass(frozen=True)
class SystemParams:
    """The three system-parameter sectors at the end of flash: save0, save1, flag (§7).

    Attributes:
        address: flash address of save0 (N - 0x3000), when known.
        flag: byte 0 of the flag sector: 0 selects save0, anything else (0xFF too) save1.
        live_copy: 0 or 1: the save sector that holds the current parameters.
        boot_hdr: the ``boot_hdr`` at the start of the live copy.
        flag_magic1 / flag_write_count / flag_magic2: words 1, 2 and 7 of the flag record as
            NONOS 3.x writes them (reverse-engineered; inferred).
        raw: the 0x3000 bytes.
    """

    address: int | None
    flag: int
    live_copy: int
    boot_hdr: BootHdr
    flag_magic1: int
    flag_write_count: int
    flag_magic2: int
    raw: bytes = field(repr=False)

    SIZE = fmt.SYS_PARAM_SECTORS * SECTOR

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, offset: int = 0,
                   address: int | None = None) -> SystemParams:
        """Parse the 0x3000 bytes at ``data[offset:]`` (save0, save1, flag).

        Raises:
            TruncatedError: fewer than 0x3000 bytes.
        """
        view = memoryview(data)[offset:offset + cls.SIZE]
        if len(view) < cls.SIZE:
            raise TruncatedError(f"needs {cls.SIZE:#x} bytes, only {len(view):#x} left",
                                 offset, "system parameters")
        c = fmt.SysParam.parse(view, 2 * SECTOR, "sys_param_t")
        live = 0 if c.flag == 0 else 1
        boot = BootHdr.from_bytes(view, live * SECTOR)
        return cls(address, c.flag, live, boot, c.reserved2[0], c.reserved2[1],
                   c.reserved2[6], bytes(view))

    @property
    def live_address(self) -> int | None:
        """Flash address of the live save sector."""
        return None if self.address is None else self.address + self.live_copy * SECTOR

    @property
    def next_user(self) -> int:
        """1 or 2: the user bin boot_v1.x boots next (inferred from port.c; see BootHdr)."""
        return self.boot_hdr.running_user

    @property
    def erased(self) -> bool:
        """Whether all three sectors are erased (a fresh chip or blank.bin everywhere)."""
        return is_erased(self.raw)

    def to_bytes(self) -> bytes:
        """Rebuild the three sectors (flag byte and live boot_hdr from the model)."""
        out = bytearray(self.raw)
        out[2 * SECTOR] = self.flag
        start = self.live_copy * SECTOR
        out[start:start + fmt.BootHdr.SIZE] = self.boot_hdr.to_bytes()
        return bytes(out)

    def to_dict(self) -> dict[str, object]:
        """JSON form; ``inferred`` marks semantics taken from Espressif's open port.c and
        reverse engineering rather than from the closed boot_v1.x."""
        return {
            "address": self.address,
            "flag": self.flag,
            "live_copy": f"save{self.live_copy}",
            "live_address": self.live_address,
            "erased": self.erased,
            "boot_hdr": self.boot_hdr.to_dict(),
            "next_user_bin": f"user{self.next_user}",
            "flag_record": {"magic1": self.flag_magic1, "write_count": self.flag_write_count,
                            "magic2": self.flag_magic2,
                            "valid_magics": self.flag_magic1 == fmt.FLAG_MAGIC1},
            "inferred": True,
            "inferred_note": "boot_v1.x is closed source: the boot_hdr layout and slot rule are "
                             "from ESP8266_RTOS_SDK port.c; the flag-record words after byte 0 "
                             "are reverse-engineered",
        }
