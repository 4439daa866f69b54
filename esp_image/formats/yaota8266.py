"""yaota8266 (pfalcon/yaota8266, ulno fork) and MicroPython's OTA main-app file: constants and
structures.

Sources (see shared/docs/formats/yaota8266.md):

- ``boot8266/boot8266.c`` (``check_main_app``, ``CONFIG_PARAM`` variables) and
  ``boot8266/boot8266.ld`` (``.param`` at ``(. & ~0xfff) + 0xf00 - 0x10``, image padded to
  4096 bytes) at 410f9d4; ulno's ``boot8266.c`` at 48f60bb (the ``"yaotaota"`` RTC request);
- ``config.h.example`` (``MAIN_APP_OFFSET``, ``GPIO_MASK``, ``GPIO_WAIT_MS``), ``merge.py``,
  ``ota-server/ota.ld``;
- ``ota-client/ota_client.py`` (datagram and ``.ota`` file);
- MicroPython ``ports/esp8266/makeimg.py`` (``SEGS_MAX_SIZE`` = 0x9000, size word, MD5).

Pure declarations: no I/O, no policy. Digests are plain fields; the model recomputes them.
"""

from __future__ import annotations

from construct import Bytes, Int16ul, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

# --- flash layout (§1) -----------------------------------------------------------------------

BOOT8266_MAX_SIZE = 0x1000
"""boot8266.bin must fit in sector 0; the ota-server image is loaded from 0x1000."""
OTA_SERVER_OFFSET = 0x1000
"""Flash address of the ota-server v1 image (``offset = 0x1000`` in boot8266.c)."""
OTA_IROM_OFFSET = 0x9000
"""Flash address the ota-server irom is linked for (``ota.ld``: 0x40209000)."""
OTA_IROM_MAX = 0x33000
"""``ota.ld`` irom length: beyond it the irom reaches the main app."""
OTA_SERVER_MIN_EXCL = 0x7000
"""merge.py puts the irom at 0x9000 only if 0x7000 < len(ota.elf-0x00000.bin) <= 0x8000."""
OTA_SERVER_MAX = 0x8000
MAIN_APP_OFFSET = 0x3C000
"""``config.h.example`` default: the size of yaota8266.bin."""
MERGE_ALIGN = 0x1000
"""merge.py pads every part (and the end) to 4 KiB with 0xFF."""

# --- boot8266 parameters (§2.3) --------------------------------------------------------------

PARAM_PAGE_OFFSET = 0xEF0
"""``.param`` address within its 4 KiB page: ``0xf00 - 0x10`` (the 16-byte image and segment
headers), i.e. file offset 0xF00 of a one-segment boot8266.bin."""
PARAM_FILE_OFFSET = 0xF00
GPIO_MASK_DEFAULT = 0xF035
GPIO_WAIT_MS_DEFAULT = 3000
MAX_APP_SIZE = 800000
"""``check_main_app``: ``if (sz > 800000)`` → "Invalid main app size"."""
RTC_REQUEST_WORDS = (0x746F6179, 0x61746F61)
"""ulno fork: ``"yaotaota"`` in RTC memory at 0x60001214 requests OTA mode."""
RTC_REQUEST_CONSUMED = 0x746F617A
"""The first word after the request is consumed (``"zaot"``)."""
IRAM_START = 0x40100000
IRAM_END = 0x40108000

Boot8266Param: Any = """The ``.param`` section of boot8266 (CONFIG_PARAM variables, boot8266.c):
u32 gpio_mask then u32 gpio_wait_ms, at file offset 0xF00 of boot8266.bin.""" * Struct(
    "gpio_mask" / Int32ul,
    "gpio_wait_ms" / Int32ul,
)

# --- main-app file (§3, makeimg.py) ----------------------------------------------------------

SEGS_MAX_SIZE = 0x9000
"""makeimg.py: the v1 image plus 0xFF padding fills 0x9000 bytes; the irom follows."""
SIZE_WORD_OFFSET = 0x8FFC
"""u32 ``total = 0x9000 + len(irom)`` (boot8266 reads it at ``MAIN_APP_OFFSET + 0x8ffc``)."""
MD5_SKIP = 4
"""The MD5 covers ``file[4:total]``: esptool may rewrite the first 4 header bytes."""
MD5_SIZE = 16
MIN_PADDING = 4
"""makeimg.py asserts at least 4 bytes of padding (the size word's room)."""

SizeWord: Any = "makeimg.py size word at +0x8FFC: 0x9000 + irom length" * Struct(
    "total" / Int32ul,
)

# --- OTA datagrams and the .ota file (§4) ----------------------------------------------------

OTA_FILE_MAGIC = b"yaota8266\x01"
BLK_SIZE = 256
"""ota_client.py data bytes per datagram."""
SIGNATURE_SIZE = 64
"""RSA-512 signature appended to every datagram."""
SHA1_SIZE = 20
BODY_ALIGN = 16
"""The signed body (op, len, offset, data) is zero-padded to a multiple of 16."""
UDP_PORT = 8266
SERVER_BUFFER = 0x1000
"""ota.c accumulates data in a 4 KiB buffer; a datagram must not cross its end."""

DatagramHeader: Any = """OTA datagram start (ota_client.py make_pkt/add_digest): u32 seq (not
signed), then the signed body's u16 op, u16 len, u32 offset (relative to MAIN_APP_OFFSET).""" * (
    Struct(
        "seq" / Int32ul,
        "op" / Int16ul,
        "len" / Int16ul,
        "offset" / Int32ul,
    )
)

RecordLength: Any = "u16 length before every .ota record; 0 terminates" * Struct(
    "n" / Int16ul,
)

Ack: Any = """ota-server's answer to a data datagram it accepted (ota.c ``confirm``): the datagram's
u32 seq, then its op, len and offset copied into a 16-byte block whose last 8 bytes the server
never sets.""" * Struct(
    "seq" / Int32ul,
    "op" / Int16ul,
    "len" / Int16ul,
    "offset" / Int32ul,
    "unset" / Bytes(8),
)
PKT_WAIT_MS = 10000
"""config.h.example: ota-server forgets a started update after this long without a datagram
and expects offset 0 again."""
END_MARKERS = 3
"""ota_client.py sends the end datagram (len 0) this many times, 0.1 s apart: the server
answers none, it writes its last buffer and reboots."""


def body_size(data_len: int) -> int:
    """Size of the signed body for ``data_len`` data bytes (8-byte header + data, padded)."""
    raw = 8 + data_len
    return raw + (-raw) % BODY_ALIGN
