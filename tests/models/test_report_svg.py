"""The SVG flash map (issue 18): valid XML, one labelled region per box of the model, labels
escaped, states drawn, labels inside a box only when the conservative width rule says so."""

from __future__ import annotations

import itertools
from pathlib import Path
from xml.etree import ElementTree

import pytest

from esp_image.errors import VerificationFailed
from esp_image.image import Image
from esp_image.report.svg import (
    BOX_W,
    PAD,
    Box,
    FlashMap,
    check_svg,
    flash_map,
    mark_changes,
    svg_map,
    text_width,
)
from esp_image.terminal import shown

from ..conftest import FIXTURES, corpus_path

NS = "{http://www.w3.org/2000/svg}"
FIRMWARE = FIXTURES / "firmware-esp32-4MB.bin"


def regions(svg: str) -> list[ElementTree.Element]:
    root = ElementTree.fromstring(svg.encode())
    return [g for g in root.iter(f"{NS}g") if "region" in g.get("class", "").split()]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.bin")), ids=lambda p: p.name)
def test_every_fixture_draws_valid_xml_with_one_labelled_region_per_box(path: Path) -> None:
    fmap = flash_map(Image.open(path))
    svg = svg_map([fmap])
    found = regions(svg)
    assert len(found) == len(fmap.boxes) > 0
    for g, box in zip(found, fmap.boxes, strict=True):
        label = "".join(g.find(f"{NS}text").itertext())  # type: ignore[union-attr]
        assert box.name in label and f"{box.start:#x}" in label
    check_svg(svg.encode(), len(fmap.boxes))


def test_a_flash_file_map_is_its_table_and_the_space_between() -> None:
    image = Image.open(FIRMWARE)
    assert image.table is not None
    fmap = flash_map(image)
    names = [b.name for b in fmap.boxes]
    # bootloader and table, every partition, and the two unclaimed stretches around the
    # bootloader (0x0-0x1000 and its end to the table)
    assert len(names) == 2 + len(image.table.partitions) + 2
    assert names.count("(unused)") == 2
    assert fmap.end == 0x400000 and fmap.boxes[-1].end == fmap.end
    assert all(a.end == b.start for a, b in zip(fmap.boxes, fmap.boxes[1:], strict=False))
    by_name = {b.name: b for b in fmap.boxes}
    assert by_name["factory"].boots and by_name["factory"].fill == pytest.approx(
        image.partitions[2].fill)
    assert by_name["nvs"].state == "erased" and by_name["vfs"].state == "absent"
    assert by_name["(unused)"].state == "free"


def test_the_micropython_firmware_map_matches_its_table() -> None:
    image = Image.open(corpus_path("esptool_ESP32_GENERIC-20240602-v1.23.0.bin"))
    fmap = flash_map(image)
    assert [b.name for b in fmap.boxes if b.kind != "free"] == [
        "bootloader", "partition-table", "nvs", "phy_init", "factory", "vfs"]
    assert len(regions(svg_map([fmap]))) == len(fmap.boxes)


def test_a_failed_check_marks_its_region_damaged(tmp_path: Path) -> None:
    data = bytearray(FIRMWARE.read_bytes())
    data[0xF000 + 0x200] ^= 0xFF  # inside the factory app (flash 0x10000, file base 0x1000)
    broken = tmp_path / "broken.bin"
    broken.write_bytes(data)
    image = Image.open(broken)
    assert not image.valid
    fmap = flash_map(image)
    states = {b.name: b.state for b in fmap.boxes}
    assert states["factory"] == "damaged" and states["bootloader"] == "used"
    g = next(g for g in regions(svg_map([fmap])) if g.get("data-name") == "factory")
    assert "s-damaged" in g.get("class", "")
    assert "DAMAGED" in "".join(g.itertext())


@pytest.mark.parametrize("label", ["<script>", "a&b", "\"'x'\"", "</svg><b>", "\x1b[2J\x00"])
def test_labels_from_the_file_are_text_never_markup(label: str) -> None:
    fmap = FlashMap(f"title {label}", 0x2000, [Box(label, 0, 0x1000, "data", "used"),
                                               Box("(unused)", 0x1000, 0x2000, "free", "free")])
    svg = svg_map([fmap])
    root = ElementTree.fromstring(svg.encode())
    assert not [e for e in root.iter() if e.tag.split("}")[-1] in ("script", "b")]
    g = regions(svg)[0]
    assert g.get("data-name") == shown(label)  # the escaped markup parses back to the text
    assert label.isprintable() == (label in "".join(g.itertext()))


def test_a_label_goes_inside_only_when_it_fits_by_the_width_rule() -> None:
    long_name = "n" * 40
    fmap = FlashMap("t", 0x400000, [Box("short", 0, 0x200000, "data", "used"),
                                    Box(long_name, 0x200000, 0x3FF000, "data", "used"),
                                    Box("tiny", 0x3FF000, 0x400000, "data", "used")])
    where = {g.get("data-name"): g.get("data-label") for g in regions(svg_map([fmap]))}
    assert text_width(long_name) > BOX_W - 2 * PAD
    assert where == {"short": "inside", long_name: "beside", "tiny": "beside"}


def test_labels_beside_never_overlap() -> None:
    boxes = [Box(f"p{i}", i * 0x1000, (i + 1) * 0x1000, "data", "used") for i in range(20)]
    boxes.append(Box("big", 20 * 0x1000, 0x400000, "app", "used"))
    root = ElementTree.fromstring(svg_map([FlashMap("t", 0x400000, boxes)]).encode())
    ys = [float(t.get("y", "0")) for t in root.iter(f"{NS}text")
          if t.get("class") == "label" and t.get("x")]
    assert len(ys) == 20 and all(b - a >= 16 - 1e-6 for a, b in itertools.pairwise(ys))
    height = float(root.get("height", "0"))
    assert max(ys) < height


def test_diff_maps_share_one_scale_and_mark_changed_bytes(tmp_path: Path) -> None:
    a = Image.open(FIXTURES / "firmware-esp32-4MB.bin")
    b = Image.open(FIXTURES / "firmware-esp32-nvs.bin")
    maps = flash_map(a), flash_map(b)
    mark_changes((maps[0], a), (maps[1], b))
    changed = [[box.name for box in m.boxes if box.changed] for m in maps]
    assert changed == [["nvs"], ["nvs"]]  # the fixtures differ only in the NVS contents
    root = ElementTree.fromstring(svg_map(maps).encode())
    tops: dict[str, list[str]] = {}
    for g in root.iter(f"{NS}g"):
        rect = g.find(f"{NS}rect")
        if rect is not None and g.get("data-name"):
            tops.setdefault(f"{g.get('data-start')}", []).append(rect.get("y", ""))
    assert all(len(set(ys)) == 1 for ys in tops.values())  # same address, same height
    assert sum("changed" in g.get("class", "") for g in root.iter(f"{NS}g")) == 2


def test_check_svg_refuses_a_broken_or_short_map() -> None:
    fmap = flash_map(Image.open(FIRMWARE))
    svg = svg_map([fmap]).encode()
    with pytest.raises(VerificationFailed):
        check_svg(svg[:-20], len(fmap.boxes))
    with pytest.raises(VerificationFailed):
        check_svg(svg, len(fmap.boxes) + 1)


def test_the_map_is_self_contained() -> None:
    svg = svg_map([flash_map(Image.open(FIRMWARE))])
    for needle in ("<script", "href", "url(http", "@import", "@font-face"):
        assert needle not in svg
    assert "prefers-color-scheme" in svg
