"""ESP-IDF wear levelling (``components/wear_levelling``), the layer under Arduino FFat and
ESP-IDF FATFS partitions.

Layout of a partition of ``P`` bytes (``WL_Flash::config``), flash sector = page = 4096 bytes::

    [ data pages: 1 dummy page + flash_size logical bytes ][ state 1 ][ state 2 ][ config ]

* ``state_size`` = one sector, or more when ``64 + (P / 4096) * 16`` does not fit in one;
  ``cfg_size`` = one sector; both state copies and the config sit at the end.
* ``flash_size`` (the logical size FATFS sees) = ``((P - 2*state_size - cfg_size) / 4096 - 1)
  * 4096``: one page of the data area is the moving "dummy" page.
* state header (``wl_state_t``, 64 bytes): pos, max_pos, move_count, access_count, max_count,
  block_size, version, device_id, 7 reserved words, crc; the crc is ESP ROM ``crc32_le(UINT32_MAX,
  ...)`` over the first 60 bytes, which equals ``zlib.crc32(data, 0xFFFFFFFF)``.  Version 1
  (before IDF v4.0) had only the first seven words and its crc in the eighth.
* after the header come one 16-byte record per position; the dummy page has moved past
  position ``i`` when record ``i`` holds the four words
  ``crc32_le(UINT32_MAX, device_id + 4*i + j)`` (version 2) or when its first byte is not
  0xFF (version 1).
* config (``wl_config_t``, 48 bytes): start_addr, full_mem_size, page_size, sector_size,
  updaterate, wr_size, version, temp_buff_size, crc (over the first 32 bytes), 12 bytes pad.
* a logical address ``a`` lives at ``r = (flash_size - move_count*page + a) % flash_size``,
  plus one page when ``r >= pos*page`` (``WL_Flash::calcAddr``).

:func:`wrap` writes what ESP-IDF's ``wl_fatfsgen.py`` writes: a 0xFF dummy page at 0, the logical
image from page 1, fresh state copies (pos 0, move_count 0, no records) and the config, so a
device mounts the image as a freshly initialised wear-levelling partition.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from ..errors import FormatError, LayoutError, TruncatedError

WL_SECTOR_SIZE = 4096  # SPI_FLASH_SEC_SIZE: WL page and sector size, whatever the FAT sector size
STATE_HEADER_SIZE = 64  # sizeof(wl_state_t), version 2
STATE_V1_HEADER_SIZE = 32  # version 1: 7 words + crc
RECORD_SIZE = 16  # WL_DEFAULT_WRITE_SIZE (wr_size)
CONFIG_SIZE = 48  # sizeof(wl_config_t), aligned to 16
CURRENT_VERSION = 2  # WL_CURRENT_VERSION
DEFAULT_UPDATE_RATE = 16  # WL_DEFAULT_UPDATERATE
DEFAULT_TEMP_BUFF_SIZE = 32  # WL_DEFAULT_TEMP_BUFF_SIZE
CRC_INIT = 0xFFFFFFFF  # WL_CFG_CRC_CONST

_STATE = struct.Struct("<8I28sI")
_STATE_V1 = struct.Struct("<8I")
_CONFIG = struct.Struct("<9I12s")

__all__ = [
    "WlConfig",
    "WlGeometry",
    "WlInfo",
    "WlState",
    "crc32_le",
    "geometry",
    "is_wear_levelled",
    "logical_size",
    "looks_wear_levelled",
    "parse",
    "physical_offset",
    "rewrap",
    "unwrap",
    "wrap",
]


def crc32_le(data: bytes, init: int = CRC_INIT) -> int:
    """ESP ROM ``crc32_le(init, data, len)`` (what wear levelling and wl_fatfsgen.py compute)."""
    return zlib.crc32(data, init) & 0xFFFFFFFF


@dataclass(frozen=True)
class WlGeometry:
    """Where WL_Flash puts things in a partition of ``partition_size`` bytes."""

    partition_size: int
    sector_size: int  # flash sector == WL page
    state_size: int  # bytes per state copy (whole sectors)
    config_size: int
    state1_offset: int
    state2_offset: int
    config_offset: int
    flash_size: int  # logical bytes

    @property
    def state_sectors(self) -> int:
        return self.state_size // self.sector_size

    @property
    def logical_pages(self) -> int:
        return self.flash_size // self.sector_size

    @property
    def max_pos(self) -> int:
        return self.logical_pages + 1


def geometry(partition_size: int, sector_size: int = WL_SECTOR_SIZE) -> WlGeometry:
    """Compute the layout exactly as ``WL_Flash::config`` does (page size = sector size)."""
    if sector_size != WL_SECTOR_SIZE:
        raise LayoutError(
            f"wear levelling works in {WL_SECTOR_SIZE}-byte flash sectors, not {sector_size} "
            "(a 512-byte FAT sector size still uses 4096-byte WL sectors)"
        )
    ss = sector_size
    n_sectors = partition_size // ss
    state_size = ss
    need = STATE_HEADER_SIZE + n_sectors * RECORD_SIZE
    if state_size < need:
        state_size = (need + ss - 1) // ss * ss
    config_size = (CONFIG_SIZE + ss - 1) // ss * ss
    usable = partition_size - 2 * state_size - config_size
    flash_size = (usable // ss - 1) * ss if usable > 0 else 0
    if flash_size <= 0:
        raise LayoutError(
            f"partition of {partition_size} bytes is too small for wear levelling: it needs a "
            f"dummy sector, {2 * state_size // ss} state sectors and a config sector "
            f"({(2 + 2 * state_size // ss + 1) * ss} bytes) plus at least one data sector"
        )
    return WlGeometry(
        partition_size=partition_size,
        sector_size=ss,
        state_size=state_size,
        config_size=config_size,
        state1_offset=partition_size - 2 * state_size - config_size,
        state2_offset=partition_size - state_size - config_size,
        config_offset=partition_size - config_size,
        flash_size=flash_size,
    )


def logical_size(
    partition_size: int, *, fat_sector_size: int = WL_SECTOR_SIZE, safe_mode: bool = False
) -> int:
    """Bytes FATFS sees through wear levelling (``wl_size``) for a partition.

    With 512-byte FAT sectors in *safety* mode (``WL_Ext_Safe``) two more flash sectors at the
    end of the logical space hold the transaction state and the sector dump.
    """
    size = geometry(partition_size).flash_size
    if fat_sector_size != WL_SECTOR_SIZE and safe_mode:
        size -= 2 * WL_SECTOR_SIZE
    if size <= 0:
        raise LayoutError(f"partition of {partition_size} bytes leaves no room for a filesystem")
    return size


@dataclass(frozen=True)
class WlState:
    """One copy of ``wl_state_t``."""

    offset: int
    version: int
    pos: int
    max_pos: int
    move_count: int
    access_count: int
    max_count: int
    block_size: int
    device_id: int
    crc: int
    crc_ok: bool
    blank: bool  # all 0xFF (never written)


@dataclass(frozen=True)
class WlConfig:
    """The ``wl_config_t`` copy in the last sector (informational: the device recomputes it)."""

    offset: int
    start_addr: int
    full_mem_size: int
    page_size: int
    sector_size: int
    update_rate: int
    wr_size: int
    version: int
    temp_buff_size: int
    crc: int
    crc_ok: bool
    blank: bool


@dataclass(frozen=True)
class WlInfo:
    """What :func:`unwrap` found: the state the device would mount with."""

    version: int
    sector_size: int
    page_size: int
    partition_size: int
    total_sectors: int
    state_sectors: int  # per copy
    logical_sectors: int
    logical_size: int
    max_pos: int
    pos: int  # dummy page position the device would use
    move_count: int
    access_count: int
    max_count: int
    device_id: int
    records_used: int  # position records set in the state copy the device reads
    state1_valid: bool
    state2_valid: bool
    config_valid: bool
    state1_offset: int
    state2_offset: int
    config_offset: int
    notes: tuple[str, ...] = field(default=())

    @property
    def state_copies_valid(self) -> tuple[bool, bool]:
        return (self.state1_valid, self.state2_valid)

    @property
    def fresh(self) -> bool:
        """No page has moved since the state was written (what wl_fatfsgen.py writes)."""
        return self.pos == 0 and self.move_count == 0

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "sector_size": self.sector_size,
            "page_size": self.page_size,
            "partition_size": self.partition_size,
            "total_sectors": self.total_sectors,
            "state_sectors": self.state_sectors,
            "logical_sectors": self.logical_sectors,
            "logical_size": self.logical_size,
            "max_pos": self.max_pos,
            "pos": self.pos,
            "move_count": self.move_count,
            "access_count": self.access_count,
            "max_count": self.max_count,
            "device_id": self.device_id,
            "records_used": self.records_used,
            "state1_valid": self.state1_valid,
            "state2_valid": self.state2_valid,
            "config_valid": self.config_valid,
            "state1_offset": self.state1_offset,
            "state2_offset": self.state2_offset,
            "config_offset": self.config_offset,
            "notes": list(self.notes),
        }


def _read_state(data: bytes, offset: int) -> WlState:
    raw = data[offset : offset + STATE_HEADER_SIZE]
    blank = raw == b"\xff" * STATE_HEADER_SIZE
    (pos, max_pos, move_count, access_count, max_count, block_size, version, device_id, _r, crc) = (
        _STATE.unpack(raw)
    )
    crc_ok = crc32_le(raw[:60]) == crc
    if not crc_ok and version == 1:
        # Version 1 layout: the crc sits where version 2 keeps device_id.
        v1 = _STATE_V1.unpack(raw[:STATE_V1_HEADER_SIZE])
        if crc32_le(raw[:28]) == v1[7]:
            return WlState(
                offset, 1, pos, max_pos, move_count, access_count, max_count, block_size, 0,
                v1[7], True, False,
            )  # fmt: skip
    return WlState(
        offset, version, pos, max_pos, move_count, access_count, max_count, block_size,
        device_id, crc, crc_ok, blank,
    )  # fmt: skip


def _read_config(data: bytes, offset: int) -> WlConfig:
    raw = data[offset : offset + CONFIG_SIZE]
    blank = raw == b"\xff" * CONFIG_SIZE
    f = _CONFIG.unpack(raw)
    return WlConfig(
        offset=offset,
        start_addr=f[0],
        full_mem_size=f[1],
        page_size=f[2],
        sector_size=f[3],
        update_rate=f[4],
        wr_size=f[5],
        version=f[6],
        temp_buff_size=f[7],
        crc=f[8],
        crc_ok=crc32_le(raw[:32]) == f[8],
        blank=blank,
    )


def _record_set(data: bytes, state: WlState, index: int) -> bool:
    if state.version == 1:
        start = state.offset + STATE_V1_HEADER_SIZE + index * RECORD_SIZE
        return data[start] != 0xFF
    start = state.offset + STATE_HEADER_SIZE + index * RECORD_SIZE
    words = struct.unpack_from("<4I", data, start)
    for j, word in enumerate(words):
        value = (state.device_id + index * 4 + j) & 0xFFFFFFFF
        if crc32_le(struct.pack("<I", value)) != word:
            return False
    return True


def _recover_pos(data: bytes, state: WlState, geo: WlGeometry) -> tuple[int, int]:
    """``WL_Flash::recoverPos``: the first position whose record is not set (clamped)."""
    limit = min(state.max_pos, (geo.state_size - STATE_HEADER_SIZE) // RECORD_SIZE)
    used = 0
    position = 0
    for i in range(limit):
        position = i
        if not _record_set(data, state, i):
            break
        used += 1
    if position == state.max_pos:
        position -= 1
    return position, used


def parse(data: bytes) -> tuple[WlGeometry, WlState, WlState, WlConfig]:
    """Read both state copies and the config sector of a partition (no validation)."""
    if len(data) < 4 * WL_SECTOR_SIZE:
        raise TruncatedError(
            f"{len(data)} bytes is too small for a wear-levelled partition", 0, "wear levelling"
        )
    geo = geometry(len(data))
    return (
        geo,
        _read_state(data, geo.state1_offset),
        _read_state(data, geo.state2_offset),
        _read_config(data, geo.config_offset),
    )


def is_wear_levelled(data: bytes) -> bool:
    """True when any WL structure at the end of ``data`` passes its crc."""
    try:
        _geo, s1, s2, cfg = parse(data)
    except (FormatError, LayoutError):
        return False
    return s1.crc_ok or s2.crc_ok or cfg.crc_ok


def looks_wear_levelled(data: bytes) -> bool:
    """True when the WL area at the end holds data (valid or damaged), not erased flash."""
    try:
        _geo, s1, s2, cfg = parse(data)
    except (FormatError, LayoutError):
        return False
    return s1.crc_ok or s2.crc_ok or cfg.crc_ok or not (s1.blank and s2.blank and cfg.blank)


def _check_state(state: WlState, geo: WlGeometry, which: str) -> None:
    where = f"wear-levelling {which}"
    if state.version not in (1, CURRENT_VERSION):
        raise FormatError(f"unsupported version {state.version}", state.offset, where)
    if state.max_pos != geo.max_pos:
        raise FormatError(
            f"max_pos {state.max_pos} does not fit a {geo.partition_size}-byte partition "
            f"(expected {geo.max_pos}): wrong partition size?",
            state.offset + 4,
            where,
        )
    if state.block_size != geo.sector_size:
        raise FormatError(
            f"block_size {state.block_size}, expected {geo.sector_size}", state.offset + 20, where
        )
    if state.move_count >= max(1, state.max_pos - 1):
        raise FormatError(
            f"move_count {state.move_count} out of range (< {state.max_pos - 1})",
            state.offset + 8,
            where,
        )


def unwrap(partition: bytes) -> tuple[bytes, WlInfo]:
    """Return the logical image FATFS sees through wear levelling, and the WL state.

    Follows ``WL_Flash::init``: both copies valid → copy 1 with the position recovered from its
    records; only copy 1 valid → its header as stored; only copy 2 valid → its header with
    ``pos = max_pos - 1``.  Raises :class:`FormatError` when neither copy passes its crc (the
    device would re-initialise the layer and lose the mapping) or a valid copy does not fit the
    partition.
    """
    geo, s1, s2, cfg = parse(partition)
    notes: list[str] = []
    if not s1.crc_ok and not s2.crc_ok:
        what = "erased" if s1.blank and s2.blank else "damaged"
        raise FormatError(
            f"both wear-levelling state copies are {what} (crc fails); the device would "
            "re-initialise wear levelling and the logical sector mapping is lost",
            geo.state1_offset,
            "wear-levelling state",
        )
    state, pos, used = _choose_state(partition, geo, s1, s2, notes)
    if state.version != CURRENT_VERSION:
        notes.append(f"version {state.version} state: the device upgrades it on mount")
    if not pos < state.max_pos:
        raise FormatError(
            f"dummy position {pos} out of range (max_pos {state.max_pos})",
            state.offset,
            "wear-levelling state",
        )
    config_valid = _config_valid(cfg, geo, notes)
    info = WlInfo(
        version=state.version,
        sector_size=geo.sector_size,
        page_size=geo.sector_size,
        partition_size=geo.partition_size,
        total_sectors=geo.partition_size // geo.sector_size,
        state_sectors=geo.state_sectors,
        logical_sectors=geo.logical_pages,
        logical_size=geo.flash_size,
        max_pos=state.max_pos,
        pos=pos,
        move_count=state.move_count,
        access_count=state.access_count,
        max_count=state.max_count,
        device_id=state.device_id,
        records_used=used,
        state1_valid=s1.crc_ok,
        state2_valid=s2.crc_ok,
        config_valid=config_valid,
        state1_offset=geo.state1_offset,
        state2_offset=geo.state2_offset,
        config_offset=geo.config_offset,
        notes=tuple(notes),
    )
    page = geo.sector_size
    out = bytearray()
    for i in range(geo.logical_pages):
        phys = physical_offset(info, i * page)
        out += partition[phys : phys + page]
    return bytes(out), info


def _choose_state(
    partition: bytes, geo: WlGeometry, s1: WlState, s2: WlState, notes: list[str]
) -> tuple[WlState, int, int]:
    """The state copy ``WL_Flash::init`` keeps, with the dummy position and records used;
    at least one copy passes its crc."""
    if s1.crc_ok:
        _check_state(s1, geo, "state 1")
    if s2.crc_ok:
        _check_state(s2, geo, "state 2")
    if s1.crc_ok:
        if s2.crc_ok:
            pos, used = _recover_pos(partition, s1, geo)
            if (s1.move_count, s1.pos, s1.device_id) != (s2.move_count, s2.pos, s2.device_id):
                notes.append("state copies differ; the device keeps copy 1")
        else:
            pos, used = s1.pos, _recover_pos(partition, s1, geo)[1]
            notes.append("state copy 2 is damaged; the device restores it from copy 1")
        return s1, pos, used
    notes.append(
        "state copy 1 is damaged; the device restores it from copy 2 and assumes the "
        "dummy page is at the last position"
    )
    return s2, s2.max_pos - 1, _recover_pos(partition, s2, geo)[1]


def _config_valid(cfg: WlConfig, geo: WlGeometry, notes: list[str]) -> bool:
    """Whether the config sector passes its crc and describes this partition."""
    if cfg.crc_ok and cfg.full_mem_size != geo.partition_size:
        notes.append(
            f"config says the partition is {cfg.full_mem_size} bytes, not {geo.partition_size}"
        )
    elif not cfg.crc_ok:
        notes.append("config sector crc fails (the device rewrites it; harmless)")
    return cfg.crc_ok and cfg.full_mem_size == geo.partition_size


def physical_offset(info: WlInfo, logical_address: int) -> int:
    """``WL_Flash::calcAddr``: where a logical address lives in the partition."""
    page = info.page_size
    flash_size = info.logical_size
    result = (flash_size - info.move_count * page + logical_address) % flash_size
    if result >= info.pos * page:
        result += page
    return result


def _state_header(geo: WlGeometry, device_id: int) -> bytes:
    body = _STATE.pack(
        0, geo.max_pos, 0, 0, DEFAULT_UPDATE_RATE, geo.sector_size, CURRENT_VERSION,
        device_id & 0xFFFFFFFF, b"\0" * 28, 0,
    )[:60]  # fmt: skip
    return body + struct.pack("<I", crc32_le(body))


def _config_block(geo: WlGeometry) -> bytes:
    body = struct.pack(
        "<8I", 0, geo.partition_size, geo.sector_size, geo.sector_size, DEFAULT_UPDATE_RATE,
        RECORD_SIZE, CURRENT_VERSION, DEFAULT_TEMP_BUFF_SIZE,
    )  # fmt: skip
    return body + struct.pack("<I", crc32_le(body)) + b"\0" * 12


def wrap(
    logical: bytes,
    partition_size: int,
    sector_size: int = WL_SECTOR_SIZE,
    *,
    device_id: int | None = None,
) -> bytes:
    """Build a wear-levelled partition around a logical image, as ``wl_fatfsgen.py`` does.

    ``logical`` may be shorter than the logical size (the rest reads as erased flash, 0xFF);
    longer raises :class:`LayoutError`.  ``device_id`` defaults to a crc of the logical image
    so that equal input gives equal output (wl_fatfsgen.py draws a random one; any value works).
    """
    geo = geometry(partition_size, sector_size)
    if len(logical) > geo.flash_size:
        raise LayoutError(
            f"logical image of {len(logical)} bytes does not fit: a {partition_size}-byte "
            f"wear-levelled partition holds {geo.flash_size} bytes"
        )
    if device_id is None:
        device_id = crc32_le(logical, 0)
    ss = geo.sector_size
    out = bytearray(b"\xff" * partition_size)
    out[ss : ss + len(logical)] = logical  # page 0 is the dummy page
    header = _state_header(geo, device_id)
    out[geo.state1_offset : geo.state1_offset + STATE_HEADER_SIZE] = header
    out[geo.state2_offset : geo.state2_offset + STATE_HEADER_SIZE] = header
    out[geo.config_offset : geo.config_offset + CONFIG_SIZE] = _config_block(geo)
    return bytes(out)


def rewrap(partition: bytes, logical: bytes, info: WlInfo | None = None) -> bytes:
    """Write a changed logical image back through the existing mapping.

    Pages go where the device would read them; the WL state is left as it is, so wear counts
    and the device id survive.  ``info`` defaults to :func:`unwrap` of ``partition``.
    """
    if info is None:
        info = unwrap(partition)[1]
    if len(partition) != info.partition_size:
        raise LayoutError(
            f"partition is {len(partition)} bytes, the WL state describes {info.partition_size}"
        )
    if len(logical) > info.logical_size:
        raise LayoutError(
            f"logical image of {len(logical)} bytes exceeds the {info.logical_size}-byte "
            "wear-levelled space"
        )
    page = info.page_size
    out = bytearray(partition)
    padded = logical + b"\xff" * (info.logical_size - len(logical))
    for i in range(info.logical_sectors):
        phys = physical_offset(info, i * page)
        out[phys : phys + page] = padded[i * page : (i + 1) * page]
    return bytes(out)
