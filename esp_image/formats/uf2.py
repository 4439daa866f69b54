"""UF2 blocks (USB Flashing Format) as ESP USB Bridge, TinyUF2 and esptool write them.

Sources:

- microsoft/uf2 ``README.md``: 512-byte blocks, two start magics, flags, target address,
  payload size, block number, block count, family id (flag 0x2000) or file size, a 476-byte
  data area and the end magic; flag 0x4000 means the data area carries an MD5 part after the
  payload (target address u32, length u32, MD5 of the payload);
- esptool 5.6 ``uf2_writer.py`` ``UF2Writer``: 452-byte chunks (476 minus the 24-byte MD5
  part), flags 0x2000|0x4000, block numbers counted per file added, data area zero-padded.

Pure declarations: no I/O, no policy.
"""

from __future__ import annotations

from construct import Bytes, Int32ul, Struct

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from typing import Any

BLOCK_SIZE = 512
DATA_AREA = 476
MD5_PART = 24
"""Target address u32, payload length u32, MD5 of the payload (flag 0x4000)."""
CHUNK = 452
"""Payload bytes per block as esptool writes them: the data area less the MD5 part."""
MAGIC_START0 = 0x0A324655
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_NOT_MAIN_FLASH = 0x00000001
FLAG_FILE_CONTAINER = 0x00001000
FLAG_FAMILY_ID = 0x00002000
FLAG_MD5 = 0x00004000
FLAG_EXTENSION_TAGS = 0x00008000

Block: Any = "one 512-byte UF2 block" * Struct(
    "magic_start0" / Int32ul,
    "magic_start1" / Int32ul,
    "flags" / Int32ul,
    "target_addr" / Int32ul,
    "payload_size" / Int32ul,
    "block_no" / Int32ul,
    "num_blocks" / Int32ul,
    "family_id" / Int32ul,
    "data" / Bytes(476),
    "magic_end" / Int32ul,
)
