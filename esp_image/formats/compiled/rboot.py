"""Generated from :mod:`esp_image.formats.rboot`: do not edit.

Change the declarations there and run ``python -m esp_image.formats._compile``.
"""

from __future__ import annotations

from struct import Struct

from .._records import Record, check_len

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_ROMS = 4
CHKSUM_INIT = 0xEF
SECTOR_SIZE = 0x1000
BOOT_CONFIG_SECTOR = 1
CONFIG_OFFSET = 0x1000
BOOT_CONFIG_MAGIC = 0xE1
BOOT_CONFIG_VERSION = 1
CONFIG_HEADER_SIZE = 8
MODE_STANDARD = 0
MODE_GPIO_ROM = 1
MODE_TEMP_ROM = 2
MODE_GPIO_ERASES_SDKCONFIG = 4
MODE_GPIO_SKIP = 8
MODE_NAMES = {1: 'gpio_rom', 2: 'temp_rom', 4: 'gpio_erases_sdkconfig', 8: 'gpio_skip'}
RBOOT_RTC_MAGIC = 0x2334AE68
RBOOT_RTC_ADDR = 0x40


def config_size(max_roms: int = MAX_ROMS, chksum: bool = False) -> int:
    """Packed size of ``rboot_config`` for a build: ``8 + 4 * max_roms (+ 1)``."""
    return CONFIG_HEADER_SIZE + 4 * max_roms + (1 if chksum else 0)


class ConfigHeader(Record):
    """The first 8 bytes of rboot_config, the same in every build; ``roms``
    (``MAX_ROMS`` u32) and, with BOOT_CONFIG_CHKSUM, ``chksum`` follow."""

    __slots__ = ('magic', 'version', 'mode', 'current_rom', 'gpio_rom', 'count', 'unused')
    FIELDS = __slots__
    NAME = 'rboot.ConfigHeader'
    SIZE = 8
    _STRUCT = Struct('<BBBBBB2s')

    magic: int
    version: int
    mode: int
    current_rom: int
    gpio_rom: int
    count: int
    unused: bytes

    def __init__(
        self,
        magic: int,
        version: int,
        mode: int,
        current_rom: int,
        gpio_rom: int,
        count: int,
        unused: bytes,
    ) -> None:
        self.magic = magic
        self.version = version
        self.mode = mode
        self.current_rom = current_rom
        self.gpio_rom = gpio_rom
        self.count = count
        self.unused = unused

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> ConfigHeader:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5], v[6])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'unused', self.unused, 2)
        return (
            self.magic,
            self.version,
            self.mode,
            self.current_rom,
            self.gpio_rom,
            self.count,
            self.unused,
        )


class rboot_config(Record):
    """rboot_config (rboot.h) as built by default: MAX_ROMS = 4, no
    BOOT_CONFIG_CHKSUM; 24 bytes. The magic stays a plain byte so that a blank or foreign sector
    can be reported rather than rejected by construct."""

    __slots__ = ('magic', 'version', 'mode', 'current_rom', 'gpio_rom', 'count', 'unused', 'roms')
    FIELDS = __slots__
    NAME = 'rboot.rboot_config'
    SIZE = 24
    _STRUCT = Struct('<BBBBBB2sLLLL')

    magic: int
    version: int
    mode: int
    current_rom: int
    gpio_rom: int
    count: int
    unused: bytes
    roms: tuple[int, ...]

    def __init__(
        self,
        magic: int,
        version: int,
        mode: int,
        current_rom: int,
        gpio_rom: int,
        count: int,
        unused: bytes,
        roms: tuple[int, ...],
    ) -> None:
        self.magic = magic
        self.version = version
        self.mode = mode
        self.current_rom = current_rom
        self.gpio_rom = gpio_rom
        self.count = count
        self.unused = unused
        self.roms = roms

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> rboot_config:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5], v[6], tuple(v[7:11]))

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'unused', self.unused, 2)
        check_len(self.NAME, 'roms', self.roms, 4)
        return (
            self.magic,
            self.version,
            self.mode,
            self.current_rom,
            self.gpio_rom,
            self.count,
            self.unused,
            *self.roms,
        )


class rboot_config_chksum(Record):
    """rboot_config (rboot.h) with BOOT_CONFIG_CHKSUM and MAX_ROMS = 4:
    25 bytes, ``chksum`` = 0xEF XOR bytes 0..23 (calc_chksum in rboot.c)."""

    __slots__ = (
        'magic',
        'version',
        'mode',
        'current_rom',
        'gpio_rom',
        'count',
        'unused',
        'roms',
        'chksum',
    )
    FIELDS = __slots__
    NAME = 'rboot.rboot_config_chksum'
    SIZE = 25
    _STRUCT = Struct('<BBBBBB2sLLLLB')

    magic: int
    version: int
    mode: int
    current_rom: int
    gpio_rom: int
    count: int
    unused: bytes
    roms: tuple[int, ...]
    chksum: int

    def __init__(
        self,
        magic: int,
        version: int,
        mode: int,
        current_rom: int,
        gpio_rom: int,
        count: int,
        unused: bytes,
        roms: tuple[int, ...],
        chksum: int,
    ) -> None:
        self.magic = magic
        self.version = version
        self.mode = mode
        self.current_rom = current_rom
        self.gpio_rom = gpio_rom
        self.count = count
        self.unused = unused
        self.roms = roms
        self.chksum = chksum

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> rboot_config_chksum:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5], v[6], tuple(v[7:11]), v[11])

    def _values(self) -> tuple[Any, ...]:
        check_len(self.NAME, 'unused', self.unused, 2)
        check_len(self.NAME, 'roms', self.roms, 4)
        return (
            self.magic,
            self.version,
            self.mode,
            self.current_rom,
            self.gpio_rom,
            self.count,
            self.unused,
            *self.roms,
            self.chksum,
        )


class rboot_rtc_data(Record):
    """rboot_rtc_data (rboot.h, BOOT_RTC_ENABLED): 9 packed bytes at RTC
    user memory block 64; ``chksum`` = 0xEF XOR bytes 0..7."""

    __slots__ = ('magic', 'next_mode', 'last_mode', 'last_rom', 'temp_rom', 'chksum')
    FIELDS = __slots__
    NAME = 'rboot.rboot_rtc_data'
    SIZE = 9
    _STRUCT = Struct('<LBBBBB')

    magic: int
    next_mode: int
    last_mode: int
    last_rom: int
    temp_rom: int
    chksum: int

    def __init__(
        self,
        magic: int,
        next_mode: int,
        last_mode: int,
        last_rom: int,
        temp_rom: int,
        chksum: int,
    ) -> None:
        self.magic = magic
        self.next_mode = next_mode
        self.last_mode = last_mode
        self.last_rom = last_rom
        self.temp_rom = temp_rom
        self.chksum = chksum

    @classmethod
    def _from_values(cls, v: tuple[Any, ...], offset: int) -> rboot_rtc_data:
        return cls(v[0], v[1], v[2], v[3], v[4], v[5])

    def _values(self) -> tuple[Any, ...]:
        return (
            self.magic,
            self.next_mode,
            self.last_mode,
            self.last_rom,
            self.temp_rom,
            self.chksum,
        )
