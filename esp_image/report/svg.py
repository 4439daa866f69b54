"""The flash map as SVG: one column of boxes per file, flash addresses growing downwards.

Heights are proportional to size, except that every stretch between two region boundaries
gets at least :data:`MIN_H` pixels so a 4 KB table stays visible beside a 2 MB filesystem.
Maps drawn together (``diff``) share one scale, so the same address is at the same height.

Every box is labelled with its name, flash address and size. A label goes inside its box only
when :func:`text_width`, a conservative monospace estimate, says every line fits with a margin;
otherwise it goes in the column beside the map with a leader line. Labels beside are stacked in
address order, so leaders never cross and labels never overlap. No scripts, fonts or links: the
SVG is self-contained.
"""

from __future__ import annotations

from itertools import pairwise

from ..units import format_size
from . import markup

TYPE_CHECKING = False  # typing is not imported at run time: start-up cost
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..image import Image, PartitionContent
    from ..partition_table import Partition

FONT = 12  # px, the labels' font size
CHAR_W = 0.62 * FONT  # monospace advance: DejaVu/Liberation Mono 0.60em, Menlo 0.602em
LINE = 16  # px between label lines
PAD = 6  # px margin between a label and its box's edges
MAP_H = 520  # px the address range is spread over, before small stretches are widened
MIN_H = 4  # px, the least height of a stretch between two boundaries
BOX_X, BOX_W = 26, 230  # the boxes' column; the boot marker sits left of it
LEADER = 34  # px from a box's right edge to the labels beside it
TOP = 34  # px above the map, for its title

STYLE = """
.bg{fill:#fff}
text{font:12px ui-monospace,"DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace;
fill:#1b1b1b}
.title{font-weight:bold}
.box{stroke:#3a3a3a;stroke-width:1}
.k-bootloader .box{fill:#8fd0dc}
.k-partition-table .box{fill:#d3a4e0}
.k-app .box,.k-image .box,.k-irom .box{fill:#b6e0b8}
.k-otadata .box{fill:#f1d98a}
.k-data .box,.k-nvs .box,.k-filesystem .box{fill:#a9c5ee}
.s-free .box{fill:url(#hatch)}
.s-erased .box{fill:#eeeeee}
.s-absent .box{fill:none;stroke-dasharray:4 3}
.fill{fill:#3f8f47;fill-opacity:.45}
.s-damaged .box{stroke:#c62828;stroke-width:3}
.s-damaged .label{fill:#c62828;font-weight:bold}
.changed .box{stroke:#e65100;stroke-width:3;stroke-dasharray:7 3}
.changed .label{font-weight:bold}
.boot{fill:#2e7d32}
.leader{stroke:#777;stroke-width:1;fill:none}
.hatch{stroke:#c4c4c4;stroke-width:2}
@media screen and (prefers-color-scheme:dark){
.bg{fill:#181a1b}
text{fill:#e6e6e6}
.box{stroke:#bdbdbd}
.k-bootloader .box{fill:#1f5f6b}
.k-partition-table .box{fill:#5d3a69}
.k-app .box,.k-image .box,.k-irom .box{fill:#2c5a30}
.k-otadata .box{fill:#6b5a1f}
.k-data .box,.k-nvs .box,.k-filesystem .box{fill:#2b4a73}
.s-erased .box{fill:#333}
.s-absent .box{fill:none}
.fill{fill:#66bb6a}
.s-damaged .box{stroke:#ff6659}
.s-damaged .label{fill:#ff8a80}
.changed .box{stroke:#ffb74d}
.boot{fill:#81c784}
.leader{stroke:#999}
.hatch{stroke:#4a4a4a}
}
"""


class Box:
    """One region of a map: where it is, what it holds, and how to show it.

    ``state`` is ``used``, ``erased``, ``absent`` (not in the file), ``free`` (no region
    claims it) or ``damaged`` (a failed check or unreadable contents).
    """

    __slots__ = ("boots", "changed", "end", "fill", "kind", "name", "start", "state")

    def __init__(self, name: str, start: int, end: int, kind: str, state: str, *,
                 fill: float | None = None, boots: bool = False) -> None:
        self.name, self.start, self.end, self.kind, self.state = name, start, end, kind, state
        self.fill, self.boots, self.changed = fill, boots, False

    def __repr__(self) -> str:
        return f"Box({self.name!r}, {self.start:#x}, {self.end:#x}, {self.state})"

    def lines(self) -> list[str]:
        """The label: name, then address and size, then what else a reader should know."""
        status = [f"{self.fill:.0%} full" if self.fill is not None else "",
                  "boots" if self.boots else "",
                  {"damaged": "DAMAGED", "erased": "erased", "absent": "not in file"}.get(
                      self.state, ""),
                  "changed" if self.changed else ""]
        lines = [self.name, f"{self.start:#x} {format_size(self.end - self.start)}"]
        extra = ", ".join(s for s in status if s)
        return [*lines, extra] if extra else lines


class FlashMap:
    """The boxes of one file from address 0 to ``end``, with the title drawn above them."""

    __slots__ = ("boxes", "end", "title")

    def __init__(self, title: str, end: int, boxes: list[Box]) -> None:
        self.title, self.end, self.boxes = title, end, boxes


def flash_map(image: Image, title: str | None = None) -> FlashMap:
    """The map of ``image``: a flash file's layout (:func:`~esp_image.spans.layout_spans`),
    else the file's own regions at file offsets, else the whole file as one box."""
    from ..spans import layout_spans

    layout = layout_spans(image)
    spans: list[tuple[str, int, int, str]]
    if layout is None:
        spans = [(r.name, r.address, r.address + r.size, r.kind) for r in image.regions
                 if r.kind not in ("erased", "gap")] or [(image.kind, 0, image.size, image.kind)]
        end = max(image.size, *(e for _, _, e, _ in spans))
    else:
        end, spans = layout
    base = image.base or 0
    failed = [base + c.offset for c in image.checks if not c.valid]
    contents = {(c.partition.offset, c.partition.name): c for c in image.partitions}
    booting = _boot_partition(image)
    boxes: list[Box] = []
    pos = 0
    for name, first, stop, kind in sorted(spans, key=lambda s: (s[1], s[2])):
        if stop <= pos:
            continue  # wholly inside an earlier region (a hostile table): nothing to draw
        if first > pos:
            boxes.append(Box("(unused)", pos, first, "free", "free"))
        start = max(first, pos)
        content = contents.get((start, name))
        state = _state(content, any(start <= a < stop for a in failed),
                       start >= base + image.size)
        part = content.partition if content is not None else None
        boxes.append(Box(name, start, stop, kind, state, fill=content.fill if content else None,
                         boots=part is not None and part is booting))
        pos = stop
    if pos < end:
        boxes.append(Box("(unused)", pos, end, "free", "free"))
    shown_title = title if title is not None else image.path or "<bytes>"
    return FlashMap(f"{shown_title}: 0x0-{end:#x} ({format_size(end)})", end, boxes)


def _state(content: PartitionContent | None, failed: bool, beyond: bool) -> str:
    if failed:
        return "damaged"
    if content is None:
        return "absent" if beyond else "used"
    if content.state == "invalid" or (content.filesystem is not None
                                      and not content.filesystem.valid) or (
            content.content is not None and not content.content.valid):
        return "damaged"
    return {"absent": "absent", "erased": "erased"}.get(content.state, "used")


def _boot_partition(image: Image) -> Partition | None:
    """The partition the boot answer names, if the file has a table."""
    if image.boot is None or image.table is None:
        return None
    target, table = image.boot.target, image.table
    if target == "factory":
        return table.factory
    if target.startswith("ota_"):
        return next((p for p in table.ota_slots if f"ota_{p.ota_index}" == target), None)
    return next((p for p in table.partitions if p.subtype_name == target), None)


def text_width(text: str) -> float:
    """A label's width in px, on the safe side for any monospace font the styles name."""
    return len(text) * CHAR_W


class _Scale:
    """Flash address to y: proportional, every stretch between boundaries at least MIN_H."""

    def __init__(self, maps: Sequence[FlashMap]) -> None:
        end = max(m.end for m in maps) or 1
        marks = sorted({0, end, *(a for m in maps for b in m.boxes for a in (b.start, b.end))})
        self.marks = marks
        self.ys = [float(TOP)]
        for lo, hi in pairwise(marks):
            self.ys.append(self.ys[-1] + max(MIN_H, (hi - lo) * MAP_H / end))

    def y(self, address: int) -> float:
        from bisect import bisect_left

        return self.ys[bisect_left(self.marks, address)]


def svg_map(maps: Sequence[FlashMap], *, standalone: bool = True) -> str:
    """The SVG of one map, or of several side by side on one address scale."""
    scale = _Scale(maps)
    columns: list[str] = []
    x, bottom = 0.0, scale.ys[-1]
    for fmap in maps:
        body, width, low = _column(fmap, scale, x)
        columns.append(body)
        x += width + 24
        bottom = max(bottom, low)
    width, height = round(x), round(bottom + 12)
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    names = ", ".join(markup(m.title) for m in maps)
    return (f'{head}<svg xmlns="http://www.w3.org/2000/svg" class="flash-map" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f"<title>Flash map of {names}</title><style>{STYLE}</style>"
            '<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect class="bg" width="8" height="8"/>'
            '<line class="hatch" x1="0" y1="0" x2="0" y2="8"/></pattern></defs>'
            f'<rect class="bg" width="{width}" height="{height}"/>{"".join(columns)}</svg>\n')


def _column(fmap: FlashMap, scale: _Scale, x0: float) -> tuple[str, float, float]:
    """One map's boxes and labels from ``x0``: the markup, its width and its lowest y."""
    out = [f'<text class="title" x="{x0 + 4:.0f}" y="{TOP - 14}">{markup(fmap.title)}</text>']
    bx, label_x = x0 + BOX_X, x0 + BOX_X + BOX_W + LEADER
    next_y, widest, low = float(TOP), 0.0, scale.ys[-1]
    for box in fmap.boxes:
        top, bottom = scale.y(box.start), scale.y(box.end)
        height, lines = bottom - top, box.lines()
        inside = (height >= len(lines) * LINE + PAD
                  and max(text_width(t) for t in lines) <= BOX_W - 2 * PAD)
        classes = f"region k-{box.kind} s-{box.state}" + (" changed" if box.changed else "")
        out.append(f'<g class="{classes}" data-name="{markup(box.name)}" '
                   f'data-start="{box.start:#x}" data-end="{box.end:#x}" '
                   f'data-label="{"inside" if inside else "beside"}">'
                   f'<rect class="box" x="{bx:.1f}" y="{top:.1f}" width="{BOX_W}" '
                   f'height="{height:.1f}"/>')
        if box.fill is not None:
            out.append(f'<rect class="fill" x="{bx + 1:.1f}" y="{top + 1:.1f}" '
                       f'width="{BOX_W - 2}" '
                       f'height="{max(0.0, min(box.fill, 1.0) * height - 2):.1f}"/>')
        middle = (top + bottom) / 2
        if box.boots:
            out.append(f'<path class="boot" d="M{bx - 18:.1f} {middle - 6:.1f}l12 6l-12 6z"/>')
        if inside:
            first = middle - (len(lines) - 1) * LINE / 2 + FONT * 0.35
            spans = "".join(f'<tspan x="{bx + PAD + 10:.1f}" y="{first + i * LINE:.1f}">'
                            f"{markup(t)}</tspan>" for i, t in enumerate(lines))
            out.append(f'<text class="label">{spans}</text></g>')
            continue
        text = "  ".join(lines)
        y = max(middle, next_y + LINE / 2)
        next_y = y + LINE / 2
        widest = max(widest, text_width(text))
        out.append(f'<path class="leader" d="M{bx + BOX_W:.1f} {middle:.1f}'
                   f'L{label_x - 4:.1f} {y:.1f}"/><text class="label" x="{label_x:.1f}" '
                   f'y="{y + FONT * 0.35:.1f}">{markup(text)}</text></g>')
        low = max(low, y + LINE / 2)
    title_w = text_width(fmap.title) + 4
    return "".join(out), max(BOX_X + BOX_W + LEADER + widest, title_w), low


def check_svg(data: bytes, regions: int) -> None:
    """Refuse an SVG that does not parse as XML or does not hold ``regions`` labelled regions
    (the written file's check before it replaces anything)."""
    from xml.etree import ElementTree

    from ..errors import VerificationFailed

    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise VerificationFailed(f"the SVG written does not parse: {exc}") from None
    ns = "{http://www.w3.org/2000/svg}"
    found = [g for g in root.iter(f"{ns}g") if "region" in g.get("class", "").split()
             and g.find(f"{ns}text") is not None]
    if len(found) != regions:
        raise VerificationFailed(f"the SVG written has {len(found)} labelled regions, "
                                 f"not {regions}")


def mark_changes(a: tuple[FlashMap, Image], b: tuple[FlashMap, Image]) -> None:
    """Mark every box whose bytes differ from the other file's at the same flash addresses
    (the other file not holding them counts as a difference)."""
    for (fmap, mine), (_, other) in ((a, b), (b, a)):
        for box in fmap.boxes:
            box.changed = _flash_bytes(mine, box.start, box.end) != \
                _flash_bytes(other, box.start, box.end)


def _flash_bytes(image: Image, start: int, end: int) -> bytes:
    """The file's bytes at flash ``[start, end)`` (file offsets where it has no base)."""
    base = image.base or 0
    return bytes(image.data[max(0, start - base):max(0, end - base)])
