"""The human form of a :class:`~esp_image.diff.Diff`: the table ``esp-image diff`` prints."""

from __future__ import annotations

from ..units import format_size
from .render import Block, Table

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from ..diff import Diff

_SIZE_FIELDS = ("size", "length", "bytes", "contents", "irom size", "irom contents",
                "trailing bytes")


def show(value: object, field: str = "") -> str:
    """A value as a table cell: ``-`` for absent, hex for addresses, sizes with units."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        last = field.rsplit(".", 1)[-1]
        if last in _SIZE_FIELDS or field.startswith("0x"):
            return f"{value:#x} ({format_size(value)})" if value >= 0x400 else f"{value:#x}"
        return str(value) if value < 0x100 else f"{value:#x}"
    if isinstance(value, dict):
        if {"type", "subtype", "offset", "size"} <= value.keys():
            return (f"{value['type']}/{value['subtype']} at {value['offset']:#x}, "
                    f"{value['size']:#x}")
        return ", ".join(f"{k} {show(v, str(k))}" for k, v in value.items())
    if isinstance(value, list):
        return ",".join(show(v) for v in value)
    text = str(value)
    return text if len(text) <= 40 else text[:16] + "..." + text[-8:]


def diff_blocks(d: Diff) -> list[Block]:
    """The human report: the two files, a table of changes, then the one-line summary."""
    blocks: list[Block] = [f"A: {d.a_path or '<bytes>'} ({d.a_size} bytes)",
                           f"B: {d.b_path or '<bytes>'} ({d.b_size} bytes)"]
    if not d.equal:
        table = Table("Changes", ["Section", "Field", "A", "B", "Detail"])
        for c in d.changes:
            table.rows.append([c.section, c.field, show(c.before, c.field),
                               show(c.after, c.field), c.detail.strip()])
        blocks.append(table)
        blocks.append("")
    blocks.append(f"{'equal' if d.equal else 'different'}: {d.summary}")
    return blocks
